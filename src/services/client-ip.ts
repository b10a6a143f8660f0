import ipaddr from 'ipaddr.js';

/**
 * The network a client address stands for, as counters and the known-address
 * list see it: an IPv4 address as is (an IPv4-mapped IPv6 address too), an
 * IPv6 address as its /64. One subscriber line usually holds a whole IPv6
 * /64, so counting single IPv6 addresses would let one attacker rotate
 * through 2^64 of them, and would treat a user's changing privacy address as
 * a stranger.
 */
export function networkOf(ip: string | null | undefined): string {
  if (!ip || !ipaddr.isValid(ip)) return 'unknown';
  const parsed = ipaddr.process(ip);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const groups = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${groups.join(':')}::/64`;
}
