import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GqlResult<T = Record<string, any>> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; [k: string]: unknown }; path?: unknown[] }>;
  status: number;
}

/** GraphQL over HTTP exactly as a browser client would send it. */
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string | null,
): Promise<GqlResult<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GqlResult<T>, 'status'>;
  return { ...body, status: res.status };
}

export const codeOf = (r: GqlResult) => r.errors?.[0]?.extensions?.code;

export interface SocketClient {
  client: Client;
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves once the server acknowledged the connection (it has authenticated the socket). */
  connected: Promise<void>;
  /** Collects events of one subscription; `next()` waits for the next one. */
  subscribe<T = any>(query: string, variables?: Record<string, unknown>): Subscription<T>;
  dispose(): Promise<void>;
}

export interface Subscription<T> {
  events: T[];
  errors: unknown[];
  next(timeoutMs?: number): Promise<T>;
  completed: Promise<void>;
  unsubscribe(): void;
}

export function wsUrlOf(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws');
}

export function connectSocket(httpUrl: string, token?: string | null): SocketClient {
  let resolveClosed!: (v: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));
  let resolveConnected!: () => void;
  const connected = new Promise<void>((r) => (resolveConnected = r));
  const client = createClient({
    url: wsUrlOf(httpUrl),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    on: { connected: () => resolveConnected(), closed: (e) => resolveClosed({ code: (e as { code: number }).code, reason: (e as { reason: string }).reason }) },
    onNonLazyError: () => undefined,
  });
  return {
    client,
    closed,
    connected,
    subscribe<T>(query: string, variables: Record<string, unknown> = {}) {
      const events: T[] = [];
      const errors: unknown[] = [];
      const waiting: Array<(v: T) => void> = [];
      let consumed = 0;
      let resolveCompleted!: () => void;
      const completed = new Promise<void>((r) => (resolveCompleted = r));
      const unsubscribe = client.subscribe<T>(
        { query, variables },
        {
          next: (value) => {
            const item = (value.data ?? value) as T;
            if (value.errors) errors.push(...value.errors);
            events.push(item);
            waiting.splice(0).forEach((w) => w(item));
          },
          error: (err) => {
            errors.push(err);
            resolveCompleted();
          },
          complete: () => resolveCompleted(),
        },
      );
      return {
        events,
        errors,
        completed,
        unsubscribe,
        next(timeoutMs = 10000) {
          if (events.length > consumed) return Promise.resolve(events[consumed++]);
          return new Promise<T>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error('no event within timeout')), timeoutMs);
            waiting.push(() => {
              clearTimeout(t);
              resolve(events[consumed++]);
            });
          });
        },
      };
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}
