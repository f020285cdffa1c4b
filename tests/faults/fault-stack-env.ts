import { resolve } from 'node:path';

/**
 * The fault suite's stack: ports and a state folder of its own (it never shares a stack with the
 * integration tests), short leases so a killed holder is taken over in seconds, the kill points
 * armed through VAULTMEND_FAULTS_DIR, and the supervisor restarting what a fault killed.
 */
export const FAULTS_DIR = resolve('.stack/faults/points');
export const FAULT_STACK_ENV: Record<string, string> = {
  STACK_DIR: resolve('.stack/faults'),
  RGW_PORT: '37480',
  CEPH_MON_PORT: '33300',
  BRIDGE_PORT: '38787',
  OFFLINE_LAMBDA_PORT: '33002',
  OFFLINE_HTTP_PORT: '33000',
  STAGE: 'local',
  VAULT_BUCKET: 'vaultmend-faults',
  STACK_MAX_LIFETIME_S: '5400',
  AUDIT_RETENTION_DAYS: '1',
  OPERATOR_TOKEN: 'fault-operator-token-0123456789abcdef',
  CLAIM_LEASE_S: '8',
  VAULTMEND_FAULTS_DIR: FAULTS_DIR,
  BRIDGE_RETRY_DELAYS_S: '3,6',
  SUPERVISOR_INTERVAL_S: '2',
  // The suite kills serverless-offline once per point: the supervisor must never give up on it.
  SUPERVISOR_MAX_RESTARTS: '1000',
  SUPERVISOR_BACKOFF_S: '0',
};

/** The environment of the fault suite's stack and of the tests that talk to it. */
export function faultStackEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...FAULT_STACK_ENV };
}
