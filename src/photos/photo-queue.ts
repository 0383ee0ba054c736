/**
 * A place in the photo queue, taken before an upload's bytes are read (or before a thumbnail is
 * made) and given back once its image is done with: while the ticket is held, its bytes may be in
 * memory. Releasing twice is harmless.
 */
export interface PhotoTicket {
  release(): void;
}

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * The two bounds of image work. At most `concurrency` images are worked on at once (decoded
 * pixels are what take memory and CPU); at most `concurrency + queue` images are admitted at once
 * (read, waiting or worked on), so that waiting uploads are bounded too, by
 * `(concurrency + queue) x` the largest file. An image is refused, not queued, past that.
 */
export class PhotoQueue {
  readonly #concurrency: number;
  readonly #capacity: number;
  readonly #waiting: Waiter[] = [];
  #admitted = 0;
  #active = 0;

  constructor(concurrency: number, queue: number) {
    this.#concurrency = concurrency;
    this.#capacity = concurrency + queue;
  }

  /** Images admitted (read, waiting or worked on), waiting for a turn, and being worked on. */
  get usage(): { admitted: number; waiting: number; active: number } {
    return { admitted: this.#admitted, waiting: this.#waiting.length, active: this.#active };
  }

  /** A place in the queue, or `undefined` when it is full. */
  tryAdmit(): PhotoTicket | undefined {
    if (this.#admitted >= this.#capacity) return undefined;
    this.#admitted++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.#admitted--;
      },
    };
  }

  /**
   * One of the `concurrency` turns, in the order of arrival: resolves with the function that
   * gives it back (once the work has really stopped). An abort while waiting gives the place up
   * at once and rejects with the signal's reason.
   */
  async turn(signal: AbortSignal | undefined): Promise<() => void> {
    await this.#turn(signal);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#active--;
      this.#next();
    };
  }

  #turn(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.#active < this.#concurrency && this.#waiting.length === 0) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.#waiting.indexOf(waiter);
          if (index !== -1) this.#waiting.splice(index, 1);
          reject(signal!.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #next(): void {
    const waiter = this.#waiting.shift();
    if (!waiter) return;
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    this.#active++;
    waiter.resolve();
  }
}
