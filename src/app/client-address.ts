import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * TRUST_PROXY (ENV.md): `false` trusts no proxy (X-Forwarded-For ignored),
 * `true` trusts every hop, a number trusts that many hops in front of us, a
 * list of addresses/CIDRs trusts proxies at those addresses.
 */
export function compileTrustProxy(setting: string): TrustProxy {
  if (setting === 'false') return () => false;
  if (setting === 'true') return () => true;
  if (/^\d+$/.test(setting)) {
    const hops = Number(setting);
    return (_address, hop) => hop < hops;
  }
  return proxyAddr.compile(setting.split(',').map((s) => s.trim()));
}

/** The client's address for audit rows and rate limits: X-Forwarded-For counts only through trusted proxies. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string | null {
  if (!req.socket?.remoteAddress) return null;
  const address = proxyAddr(req, trust);
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** CORS_ORIGINS (ENV.md): unset means any origin in development and none in production. */
export function originPolicy(origins: string[] | undefined, production: boolean): (origin: string) => boolean {
  if (origins) {
    const allowed = new Set(origins);
    return (origin) => allowed.has(origin);
  }
  return () => !production;
}
