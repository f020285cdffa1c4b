import { BlockList, isIP } from 'node:net';
import { EgressRefusedError } from '../errors.ts';

/**
 * The perimeter check for every outbound connection (the model server first): PII must never
 * leave it. Checked on the URL before any connection is opened, so a refused host sees no
 * packet. Allowed: loopback, private ranges (RFC 1918, IPv6 unique-local), `localhost`, and
 * hosts the operator names in an allow-list. Refused: any other address, and any other host
 * name — a name's address can change between this check and the connection (DNS rebinding),
 * so a name is trusted only when it is allow-listed. Link-local (169.254/16, where cloud
 * metadata services answer) is not private here.
 */
const PERIMETER = new BlockList();
PERIMETER.addSubnet('127.0.0.0', 8, 'ipv4');
PERIMETER.addSubnet('10.0.0.0', 8, 'ipv4');
PERIMETER.addSubnet('172.16.0.0', 12, 'ipv4');
PERIMETER.addSubnet('192.168.0.0', 16, 'ipv4');
PERIMETER.addAddress('::1', 'ipv6');
PERIMETER.addSubnet('fc00::', 7, 'ipv6');

/** The host part of a URL as an address or a lower-case name (IPv6 without brackets). */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

export function checkEgress(target: string | URL, allowList: readonly string[] = []): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new EgressRefusedError(String(target), 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new EgressRefusedError(url.href, `protocol ${url.protocol} is not http(s)`);
  if (url.username || url.password) throw new EgressRefusedError(url.host, 'credentials in the URL');
  const host = hostOf(url);
  if (allowList.some((allowed) => allowed.toLowerCase() === host)) return url;
  if (host === 'localhost') return url;
  const family = isIP(host);
  if (family === 0) throw new EgressRefusedError(host, 'a host name that is not in the allow-list');
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged by its IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  const inside = mapped ? PERIMETER.check(mapped[1]!, 'ipv4') : PERIMETER.check(host, family === 4 ? 'ipv4' : 'ipv6');
  if (!inside) throw new EgressRefusedError(host, 'not a loopback or private address');
  return url;
}
