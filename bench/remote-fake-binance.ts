import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { HostAddress, HostReply, HostRequest } from './fake-exchange-protocol';

type Op<R extends HostRequest = HostRequest> = R extends HostRequest ? Omit<R, 'id'> : never;

/** The fake Binance in a child process, driven over IPC. */
export class RemoteFakeBinance {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private address: HostAddress = { url: '', wsUrl: '' };

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: HostReply) => this.settle(reply));
    child.on('exit', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('fake exchange process exited'));
      this.pending.clear();
    });
  }

  static async start(): Promise<RemoteFakeBinance> {
    // execArgv [] so a --cpu-prof on the benchmark profiles the engine only.
    const child = fork(path.join(__dirname, 'fake-exchange-host.js'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const remote = new RemoteFakeBinance(child);
    remote.address = (await remote.call({ op: 'start' })) as HostAddress;
    return remote;
  }

  get url(): string {
    return this.address.url;
  }

  get wsUrl(): string {
    return this.address.wsUrl;
  }

  async addAccounts(accounts: Array<{ apiKey: string; apiSecret: string; balance: string }>): Promise<void> {
    await this.call({ op: 'addAccounts', accounts });
  }

  async setLatency(ms: number): Promise<void> {
    await this.call({ op: 'setLatency', ms });
  }

  async takeRequestCounts(): Promise<Record<string, number>> {
    return (await this.call({ op: 'takeRequestCounts' })) as Record<string, number>;
  }

  async stop(): Promise<void> {
    if (!this.child.connected) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call({ op: 'stop' }).catch(() => undefined);
    await exited;
  }

  private call(op: Op): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...op, id } as HostRequest);
    });
  }

  private settle(reply: HostReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new Error(reply.error));
  }
}
