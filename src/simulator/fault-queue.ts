/**
 * Faults a simulator was told to act out, in the order given, each for its number of requests
 * (`times`, 1 by default; `Infinity` for all): shared by the Graph and Entra simulators.
 */
export class FaultQueue<F extends { times?: number }> {
  readonly #faults: F[] = [];

  /** Queues a copy of `fault` (its `times` counts down in the copy). */
  add(fault: F): void {
    this.#faults.push({ ...fault });
  }

  /** The first fault that `matches` the request, counted once; `undefined` when none does. */
  take(matches: (fault: F) => boolean): F | undefined {
    const index = this.#faults.findIndex(matches);
    if (index === -1) return undefined;
    const fault = this.#faults[index]!;
    const times = (fault.times ?? 1) - 1;
    if (times <= 0) this.#faults.splice(index, 1);
    else fault.times = times;
    return fault;
  }

  /** The faults still queued, in order (their `times` as left). */
  get pending(): readonly F[] {
    return this.#faults;
  }

  clear(): void {
    this.#faults.length = 0;
  }
}
