import { randomInt } from 'node:crypto';
import { request } from 'node:http';
import type { GqlResult } from './graphql-client';

/**
 * A random loopback address (127.x.y.z). Linux answers on all of 127.0.0.0/8,
 * so a test can be many distinct clients, each its own network to the
 * server, and a fresh one each run even where counters live in a shared Redis.
 */
export const randomLoopback = () => `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;

/** GraphQL over HTTP from a chosen source address, the way a client on that network would reach the server. */
export function gqlFrom<T = Record<string, any>>(
  url: string,
  from: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string | null,
): Promise<GqlResult<T>> {
  const target = new URL(url);
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<GqlResult<T>, 'status'>), status: res.statusCode ?? 0 });
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const AUTH_FIELDS = 'accessToken refreshToken user { id email status }';

export const loginFrom = (url: string, from: string, email: string, password: string) =>
  gqlFrom(url, from, `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ${AUTH_FIELDS} } }`, { e: email, p: password });
