import { maskPii } from './pii';
import type { PiiEntity } from '../gateway/tenant-settings';

/**
 * Masks personal data in streamed text. A number or address can arrive split over several
 * deltas, so text is held back until a sentence or line ends, masked, then passed on.
 */
export class MaskingStream {
  private held = '';

  constructor(
    private readonly entities: readonly PiiEntity[],
    private readonly emit: (text: string) => void,
  ) {}

  push(delta: string): void {
    this.held += delta;
    // A boundary is a sentence end followed by white space, or a newline: never inside "a.b@c.com".
    const boundary = Math.max(this.held.lastIndexOf('\n'), ...[...this.held.matchAll(/[.!?]\s/g)].map((m) => m.index + 1));
    if (boundary <= 0) return;
    this.send(this.held.slice(0, boundary + 1));
    this.held = this.held.slice(boundary + 1);
  }

  /** The text so far is being replaced: what was held must not come out later. */
  discard(): void {
    this.held = '';
  }

  flush(): void {
    this.send(this.held);
    this.held = '';
  }

  private send(text: string): void {
    if (text !== '') this.emit(maskPii(text, this.entities).text);
  }
}
