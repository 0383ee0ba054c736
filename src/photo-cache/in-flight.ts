/**
 * Reads in flight by key: an identical read asked while one is made joins it rather than making
 * another (the thumbnails' and the contact list's pages; `PhotoCache.readPhotos` joins its batched
 * reads itself). A read leaves once it settles, so a failure is met only by those who joined it.
 */
export class InFlight<T> {
  readonly #reads = new Map<string, Promise<T>>();

  /** The read in flight under `key`, joined (and `onJoined` told), or the one `start` makes. */
  join(key: string, start: () => Promise<T>, onJoined: () => void): Promise<T> {
    const flight = this.#reads.get(key);
    if (flight) {
      onJoined();
      return flight;
    }
    const read = start();
    this.#reads.set(key, read);
    return read.finally(() => this.#reads.delete(key));
  }
}
