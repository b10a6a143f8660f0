import { Writable } from 'node:stream';

/** A pino destination that keeps every line, so tests can assert what reached the log (and what never did). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }

  text(): string {
    return this.lines.join('\n');
  }
}
