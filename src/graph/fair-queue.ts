import { createHash } from 'node:crypto';

/**
 * The calls waiting for one mailbox, served in turn between callers rather than in one line:
 * a caller who queued a hundred calls does not make the next caller wait behind all of them,
 * only behind one of them per turn. Within a caller, first come first served.
 */
export class FairQueue<T> {
  readonly #byCaller = new Map<string, T[]>();
  /** Callers with calls waiting, in the order their turns come. */
  readonly #turns: string[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** Calls of `caller` waiting. */
  countOf(caller: string): number {
    return this.#byCaller.get(caller)?.length ?? 0;
  }

  /** Adds a call; `first` puts it (and its caller) at the head, for a call that has waited once already. */
  push(caller: string, item: T, first = false): void {
    let items = this.#byCaller.get(caller);
    if (items === undefined) {
      this.#byCaller.set(caller, (items = []));
      if (first) this.#turns.unshift(caller);
      else this.#turns.push(caller);
    } else if (first) {
      this.#turns.splice(this.#turns.indexOf(caller), 1);
      this.#turns.unshift(caller);
    }
    if (first) items.unshift(item);
    else items.push(item);
    this.#length++;
  }

  /** The call `shift` would take, left in place. */
  peek(): T | undefined {
    const caller = this.#turns[0];
    return caller === undefined ? undefined : this.#byCaller.get(caller)![0];
  }

  /** The next call: the first of the caller whose turn it is; that caller then goes to the back. */
  shift(): T | undefined {
    const caller = this.#turns.shift();
    if (caller === undefined) return undefined;
    const items = this.#byCaller.get(caller)!;
    const item = items.shift()!;
    if (items.length > 0) this.#turns.push(caller);
    else this.#byCaller.delete(caller);
    this.#length--;
    return item;
  }

  /** Takes `item` out wherever it waits (its deadline passed); `false` when it was not there. */
  remove(item: T): boolean {
    for (const [caller, items] of this.#byCaller) {
      const index = items.indexOf(item);
      if (index === -1) continue;
      items.splice(index, 1);
      if (items.length === 0) {
        this.#byCaller.delete(caller);
        this.#turns.splice(this.#turns.indexOf(caller), 1);
      }
      this.#length--;
      return true;
    }
    return false;
  }

  /** Takes every call out, in the order their turns would have come, with its caller. */
  drain(): Array<{ caller: string; item: T }> {
    const all: Array<{ caller: string; item: T }> = [];
    for (let caller = this.#turns[0]; caller !== undefined; caller = this.#turns[0]) {
      const item = this.shift()!;
      all.push({ caller, item });
    }
    return all;
  }
}

/**
 * Who a call is, for taking turns: a hash of its `Authorization` (the token never kept as such).
 * Until sign-in identifies users, every distinct token is a caller of its own.
 */
export function callerOf(authorization: string): string {
  return createHash('sha256').update(authorization).digest('base64url').slice(0, 22);
}

/**
 * Whether `caller` may take one more of a mailbox's `queueLimit` waiting places. The last quarter
 * of them is kept for callers who hold less than a quarter: a caller alone may use three
 * quarters (a burst from one page still queues), but however many calls it sends, another caller
 * still finds a place, and takes turns with it.
 */
export function mayQueue<T>(queue: FairQueue<T>, caller: string, queueLimit: number): boolean {
  const share = Math.max(1, Math.ceil(queueLimit / 4));
  return queue.countOf(caller) < share || queue.length < queueLimit - share;
}
