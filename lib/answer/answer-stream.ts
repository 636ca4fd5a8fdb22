import { createHash } from 'node:crypto';
import type { SqlDatabase } from '../stores/sql';

/**
 * Answer text travels from the generating activity (any worker) to the API process holding the
 * client's SSE connection over Postgres LISTEN/NOTIFY, which PGlite also speaks in-process.
 * Events carry a sequence number, so the subscriber can order them and spot gaps, and the number
 * of the activity call that sent them (its segment): each call numbers its events from 0, and a
 * later segment supersedes an earlier one's stragglers.
 */
export type StreamEvent = { segment?: number; seq: number } & ({ type: 'delta'; text: string } | { type: 'reset'; reason: string });

export function streamChannelFor(workflowId: string): string {
  return `answer_${createHash('sha256').update(workflowId).digest('hex').slice(0, 40)}`;
}

export class StreamPublisher {
  private seq = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private failed?: Error;

  constructor(
    private readonly db: SqlDatabase,
    private readonly channel: string,
    private readonly segment = 0,
  ) {}

  delta(text: string): void {
    this.send({ segment: this.segment, seq: this.seq++, type: 'delta', text });
  }

  reset(reason: string): void {
    this.send({ segment: this.segment, seq: this.seq++, type: 'reset', reason });
  }

  /** Waits until every event is sent; a lost event fails the stream rather than corrupting it. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.failed) throw this.failed;
  }

  private send(event: StreamEvent): void {
    // Sent one after another: notifications from pooled connections could otherwise overtake.
    this.chain = this.chain.then(() =>
      this.db.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify(event)]).catch((error: Error) => (this.failed ??= error)),
    );
  }
}

/**
 * Models reply with JSON; readers want the answer's words. Fed the reply as it arrives, this
 * yields the decoded text of the top-level "answer" string as far as it is complete.
 */
export class AnswerFieldStream {
  private buffer = '';
  private emitted = 0;

  push(delta: string): string {
    this.buffer += delta;
    const start = /"answer"\s*:\s*"/.exec(this.buffer);
    if (!start) return '';
    const decoded = decodeJsonStringPrefix(this.buffer.slice(start.index + start[0].length));
    const fresh = decoded.slice(this.emitted);
    this.emitted = decoded.length;
    return fresh;
  }
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Decodes a JSON string body up to its closing quote or the last complete character. */
function decodeJsonStringPrefix(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    if (char === '"') break;
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) break;
    if (next === 'u') {
      const hex = body.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) break;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 5;
    } else {
      out += ESCAPES[next] ?? next;
      i += 1;
    }
  }
  return out;
}
