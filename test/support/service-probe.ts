import { Socket } from 'node:net';

/** True when something accepts a TCP connection at the URL's host and port within `timeoutMs`. */
export function tcpReachable(rawUrl: string, defaultPort: number, timeoutMs = 1000): Promise<boolean> {
  const url = new URL(rawUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(url.port || defaultPort);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/** The one line a test needing Redis fails with when none answers. */
export function redisMissing(url: string): string {
  return `Redis is not answering at ${url}: start one with \`redis-server --port 6379 --save "" --appendonly no --daemonize yes\` (or point TEST_REDIS_URL at one)`;
}
