import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessTable, run, waitFor } from '../process.ts';
import type { StackConfig } from '../stack-config.ts';

/**
 * A single-node Ceph cluster (one monitor, one memstore OSD, no auth) with radosgw on
 * loopback: the real S3 server with versioning, Object Lock and bucket notifications.
 * Each daemon runs in the foreground under the ProcessTable, so it is stopped by its pid.
 */
/** The Ceph configuration file of the stack in `stackDir`. */
export function cephConfPath(stackDir: string): string {
  return join(stackDir, 'ceph', 'ceph.conf');
}

/** Where radosgw keeps its persistent topics' queues (Pacific's default `notif_pool` of the zone). */
const NOTIF_POOL = ['-p', 'default.rgw.log', '-N', 'notif'];
/** The SSE-KMS key id of the local stack's RGW (testing backend): S3_SSE=aws:kms S3_SSE_KMS_KEY_ID=vaultmend-local. */
export const LOCAL_KMS_KEY_ID = 'vaultmend-local';

/**
 * Breaks the ownership locks of the persistent topics' queues. A radosgw owns each queue by an
 * exclusive lock that it renews every 30 s and that lapses 90 s after the last renewal; it never
 * releases it, not even when it is stopped. A new radosgw therefore delivers nothing for up to
 * 90 s after a restart, until the dead one's lock lapses. Call this only when no radosgw runs.
 * Returns the queues whose lock was broken.
 */
export async function breakNotificationQueueLocks(conf: string): Promise<string[]> {
  const rados = (args: string[]) => run('rados', ['-c', conf, ...NOTIF_POOL, ...args], { timeoutMs: 20_000 });
  let queues: string[];
  try {
    queues = (await rados(['listomapkeys', 'queues_list_object'])).stdout.split('\n').filter(Boolean);
  } catch {
    return []; // no persistent topic yet
  }
  const broken: string[] = [];
  for (const queue of queues) {
    const lock = `${queue}_lock`;
    let lockers: Array<{ name: string; cookie: string }> = [];
    try {
      lockers = (JSON.parse((await rados(['lock', 'info', queue, lock])).stdout) as { lockers?: typeof lockers }).lockers ?? [];
    } catch {
      continue; // not locked
    }
    for (const locker of lockers) {
      await rados(['lock', 'break', queue, lock, locker.name, '--lock-cookie', locker.cookie]);
      broken.push(queue);
    }
  }
  return broken;
}

export async function startRgw(config: StackConfig, processes: ProcessTable, log: (line: string) => void): Promise<void> {
  const dir = join(config.STACK_DIR, 'ceph');
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['mon.a', 'osd.0', 'rgw', 'log', 'run']) mkdirSync(join(dir, sub), { recursive: true });
  const fsid = randomUUID();
  const conf = cephConfPath(config.STACK_DIR);
  const mon = `127.0.0.1:${config.CEPH_MON_PORT}`;
  writeFileSync(
    conf,
    `[global]
fsid = ${fsid}
mon_host = v2:${mon}
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# without crc modes radosgw waits 300 s on an auth error (-13)
ms_mon_client_mode = crc
ms_client_mode = crc
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_crush_chooseleaf_type = 0
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 1
log_file = ${dir}/log/$name.log
run_dir = ${dir}/run
admin_socket = ${dir}/run/$name.asok
pid_file = ${dir}/run/$name.pid
public_addr = 127.0.0.1
ms_bind_ipv6 = false
[mon.a]
mon_data = ${dir}/mon.a
[osd.0]
osd_data = ${dir}/osd.0
osd_objectstore = memstore
memstore_device_bytes = 4294967296
[client.rgw]
rgw_frontends = beast endpoint=127.0.0.1:${config.RGW_PORT}
rgw_data = ${dir}/rgw
rgw_enable_apis = s3, admin, notifications
rgw_dns_name = localhost
# SSE-KMS with RGW's testing key backend (the key sits in this file, made for this stack alone;
# production: Vault, Barbican or KMIP). Plain http on loopback: RGW refuses SSE over http unless told.
rgw_crypt_s3_kms_backend = testing
rgw_crypt_s3_kms_encryption_keys = ${LOCAL_KMS_KEY_ID}=${randomBytes(32).toString('base64')}
rgw_crypt_require_ssl = false
`,
  );
  const c = ['-c', conf];
  const ceph = (args: string[], timeoutMs = 30_000) => run('ceph', [...c, '--connect-timeout', '10', ...args], { timeoutMs });

  log('ceph: creating monitor');
  await run('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:${mon}]`, join(dir, 'monmap')]);
  await run('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')]);
  processes.start({ name: 'ceph-mon', command: 'ceph-mon', args: [...c, '-f', '-i', 'a'] });
  await waitFor(
    'ceph monitor',
    async () => (await ceph(['mon', 'stat'], 10_000)).stdout.includes('1 mons'),
    60_000,
    `see ${join(dir, 'log')}`,
  );

  log('ceph: creating OSD');
  await ceph(['osd', 'create']);
  await run('ceph-osd', [...c, '-i', '0', '--mkfs'], { timeoutMs: 60_000 });
  await ceph(['osd', 'crush', 'add', 'osd.0', '1.0', 'root=default', 'host=localhost']);
  processes.start({ name: 'ceph-osd', command: 'ceph-osd', args: [...c, '-f', '-i', '0'] });
  await waitFor('ceph OSD', async () => /1 up/.test((await ceph(['osd', 'stat'], 10_000)).stdout), 90_000, `see ${join(dir, 'log')}`);

  log('ceph: starting radosgw');
  processes.start({ name: 'radosgw', command: 'radosgw', args: [...c, '-f', '-n', 'client.rgw'] });
  const endpoint = `http://127.0.0.1:${config.RGW_PORT}/`;
  await waitFor(
    `radosgw at ${endpoint}`,
    async () => (await fetch(endpoint, { signal: AbortSignal.timeout(2000) })).ok,
    config.STACK_READY_TIMEOUT_S * 1000,
    `see ${processes.logFile('radosgw')} and ${join(dir, 'log')}`,
  );
  await run(
    'radosgw-admin',
    [
      ...c,
      '-n',
      'client.rgw',
      'user',
      'create',
      '--uid=vaultmend',
      '--display-name=vaultmend',
      `--access-key=${config.S3_ACCESS_KEY_ID}`,
      `--secret=${config.S3_SECRET_ACCESS_KEY}`,
    ],
    { timeoutMs: 60_000 },
  );
}
