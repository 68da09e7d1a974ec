import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** A webhook URL that may not be called: not http(s), unresolvable, or reaching inside the network. */
export class WebhookUrlRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookUrlRejectedError';
  }
}

/**
 * Addresses a webhook must not reach unless `allowPrivate`: a URL is chosen by an API caller, and
 * without this a webhook is a request forgery into the host's own network (cloud metadata at
 * 169.254.169.254, a database on 10.x, the server itself on 127.0.0.1).
 */
const internal = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", including the unspecified address
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast and the reserved block above it
  ['240.0.0.0', 4],
] as const) {
  internal.addSubnet(network, prefix, 'ipv4');
}
internal.addAddress('::', 'ipv6');
internal.addAddress('::1', 'ipv6');
internal.addSubnet('fc00::', 7, 'ipv6'); // unique local
internal.addSubnet('fe80::', 10, 'ipv6'); // link local
internal.addSubnet('ff00::', 8, 'ipv6'); // multicast
internal.addSubnet('64:ff9b::', 96, 'ipv6'); // NAT64 can spell any IPv4 address

/** True when `address` (IPv4 or IPv6, IPv4-mapped included) is loopback, private, link-local or alike. */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return internal.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return internal.check(mapped[1], 'ipv4');
  return internal.check(address, 'ipv6');
}

/**
 * Parses and vets a webhook URL: http(s) only, and every address its host resolves to must be
 * public unless `allowPrivate`. Called when a webhook is saved and again before every send, so a
 * DNS record changed after the check cannot bypass it.
 */
export async function assertWebhookUrlAllowed(raw: string, allowPrivate: boolean): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlRejectedError('url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookUrlRejectedError('url must use http or https');
  }
  if (url.username || url.password) throw new WebhookUrlRejectedError('url must not carry credentials');
  if (allowPrivate) return url;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
  } catch (error) {
    throw new WebhookUrlRejectedError(`url host '${host}' does not resolve: ${(error as Error).message}`);
  }
  const blocked = addresses.find(isInternalAddress);
  if (addresses.length === 0 || blocked !== undefined) {
    throw new WebhookUrlRejectedError(
      `url host '${host}' resolves to ${blocked ?? 'nothing'}, a loopback, private or link-local address, which webhooks may not reach`,
    );
  }
  return url;
}
