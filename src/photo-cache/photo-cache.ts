import type { GraphCallContext } from '../graph/client-options.js';
import type { PhotoRead, PhotoReadResult } from '../graph/contact-photo-requests.js';
import type { PhotoValue } from '../graph/photo-value.js';
import type { GraphProfilePhoto } from '../graph/types.js';
import { MEDIA_TYPES } from '../photos/image-format.js';
import { callerPartition, contactPart, contentHash, mailboxTag } from './cache-keys.js';
import { decodeEntry, encodeEntry, type CacheEntry } from './entry-codec.js';
import { InFlight } from './in-flight.js';
import type { PhotoCacheObserver } from './photo-cache-observer.js';
import type { PhotoCacheStore } from './photo-cache-store.js';

/** How the cache reads what it does not hold: `GraphClient.readPhotos` (batched per mailbox). */
export type ReadFromGraph = (reads: readonly PhotoRead[], call: GraphCallContext) => Promise<PhotoReadResult[]>;

/** One read's place in the cache: its mailbox's tag and its key, which name the caller, the contact, its version and the part. */
interface Slot {
  read: PhotoRead;
  tag: string;
  key: string;
}

/** A read this call makes (or answers from the cache) for every request that asks for it meanwhile. */
interface Owned {
  slot: Slot;
  settle(result: PhotoReadResult): void;
}

/** A stale picture whose version the metadata read tells. */
interface Revalidation {
  owned: Owned;
  cached: PhotoValue;
}

/**
 * The photo cache (docs/photos.md): per caller, mailbox, contact and part (metadata, picture, a
 * thumbnail's size), consulted before Graph by each request's `PhotoReads`. An entry answers
 * for `PHOTO_CACHE_TTL_S`; a stale picture with a version (the `ETag` of `photo/$value`) is
 * checked, before the answer, by the metadata read alone (its `@odata.mediaEtag`), and keeps its
 * bytes when unchanged. "No photo" is kept as well. A read already in flight for the same
 * caller and key is joined, whichever request made it. The gateway's own changes to a contact's
 * photo give the contact a new version, which is part of every key: every caller's entries of it
 * go at once.
 */
export class PhotoCache {
  readonly #ttlMs: number;
  readonly #store: PhotoCacheStore;
  readonly #observer: PhotoCacheObserver | undefined;
  readonly #inFlight = new Map<string, Promise<PhotoReadResult>>();
  readonly #thumbnailsInFlight = new InFlight<PhotoValue>();

  constructor(ttlS: number, store: PhotoCacheStore, observer?: PhotoCacheObserver) {
    this.#ttlMs = ttlS * 1000;
    this.#store = store;
    this.#observer = observer;
  }

  /** The store's bytes held, when it knows them (in process). */
  get bytesHeld(): number {
    return this.#store.bytesHeld ?? 0;
  }

  /** The reads answered in order, from the cache where it can, from Graph (in one round, plus one for changed pictures) otherwise. */
  async readPhotos(reads: readonly PhotoRead[], call: GraphCallContext, graph: ReadFromGraph): Promise<PhotoReadResult[]> {
    if (this.#ttlMs === 0) return graph(reads, call);
    const slots = await this.slotsOf(reads, call);
    const owned: Owned[] = [];
    const answers = slots.map((slot) => {
      const flight = this.#inFlight.get(flightKey(slot));
      if (flight) {
        this.#observer?.photoCacheRead(slot.read.part, 'shared');
        return flight;
      }
      let settle!: (result: PhotoReadResult) => void;
      const answer = new Promise<PhotoReadResult>((resolve) => (settle = resolve));
      this.#inFlight.set(flightKey(slot), answer);
      owned.push({ slot, settle });
      return answer;
    });
    try {
      await this.answer(owned, call, graph);
    } catch (error) {
      // A bug or Graph's client failing as a whole: every read this call owns fails with it (a settled one keeps its answer).
      for (const read of owned) read.settle(error instanceof Error ? error : new Error(String(error)));
    } finally {
      for (const read of owned) this.#inFlight.delete(flightKey(read.slot));
    }
    return Promise.all(answers);
  }

  /** Each read's key, the contact's version looked up once per contact. */
  private async slotsOf(reads: readonly PhotoRead[], call: GraphCallContext): Promise<Slot[]> {
    const caller = callerPartition(call);
    const versions = new Map<string, Promise<string>>();
    return Promise.all(
      reads.map(async (read) => {
        const tag = mailboxTag(read.invitationId);
        const contact = contactPart(read.contactId);
        let version = versions.get(`${tag}:${contact}`);
        if (version === undefined) versions.set(`${tag}:${contact}`, (version = this.#store.version(tag, contact)));
        return { read, tag, key: partKey(caller, contact, await version, read.part) };
      }),
    );
  }

  /** Answers the reads this call owns: fresh entries at once, the rest from Graph. */
  private async answer(owned: readonly Owned[], call: GraphCallContext, graph: ReadFromGraph): Promise<void> {
    const entries = await Promise.all(owned.map((read) => this.entryOf(read.slot)));
    const now = Date.now();
    const round: Owned[] = [];
    const revalidations: Revalidation[] = [];
    let fromCache = 0;
    owned.forEach((read, index) => {
      const entry = entries[index];
      if (entry && entry.kind !== 'bytes' && entry.freshUntil > now) {
        this.#observer?.photoCacheRead(read.slot.read.part, 'hit');
        fromCache++;
        read.settle(entry.kind === 'metadata' ? entry.photo : entry.value);
      } else if (entry?.kind === 'value' && entry.value?.etag !== undefined) {
        revalidations.push({ owned: read, cached: entry.value });
      } else {
        this.#observer?.photoCacheRead(read.slot.read.part, 'miss');
        round.push(read);
      }
    });
    if (round.length + revalidations.length > 0) fromCache += await this.fromGraph(round, revalidations, call, graph);
    if (fromCache > 0) call.stats.cachedReads = (call.stats.cachedReads ?? 0) + fromCache;
  }

  /**
   * One Graph round: the reads missed, and the metadata each stale picture is checked by (unless
   * the round reads it already); then the pictures that changed. Answers how many pictures kept their bytes.
   */
  private async fromGraph(round: Owned[], revalidations: readonly Revalidation[], call: GraphCallContext, graph: ReadFromGraph): Promise<number> {
    const metadataAt = new Map<string, number>();
    round.forEach((read, index) => read.slot.read.part === 'metadata' && metadataAt.set(contactOf(read.slot), index));
    for (const { owned } of revalidations) {
      const contact = contactOf(owned.slot);
      if (metadataAt.has(contact)) continue;
      metadataAt.set(contact, round.length);
      const read: PhotoRead = { ...owned.slot.read, part: 'metadata' };
      round.push({ slot: { read, tag: owned.slot.tag, key: owned.slot.key.replace(/:v$/, ':m') }, settle: () => undefined });
    }
    const startedAt = Date.now();
    const results = await graph(
      round.map((read) => read.slot.read),
      call,
    );
    round.forEach((read, index) => this.keep(read, results[index]!, startedAt));
    const changed: Owned[] = [];
    let unchanged = 0;
    for (const { owned, cached } of revalidations) {
      const metadata = results[metadataAt.get(contactOf(owned.slot))!] as GraphProfilePhoto | null | Error;
      if (metadata !== null && !(metadata instanceof Error) && metadata.mediaEtag === cached.etag) {
        this.#observer?.photoCacheRevalidated('unchanged');
        this.keep(owned, cached, startedAt);
        unchanged++;
      } else if (metadata === null || metadata instanceof Error) {
        // No photo any more (kept as such), or the check failed: never the stale bytes.
        this.keep(owned, metadata, startedAt);
      } else {
        this.#observer?.photoCacheRevalidated('changed');
        changed.push(owned);
      }
    }
    if (changed.length > 0) {
      const again = await graph(
        changed.map((read) => read.slot.read),
        call,
      );
      changed.forEach((read, index) => this.keep(read, again[index]!, startedAt));
    }
    return unchanged;
  }

  /** Answers the read, and keeps what Graph answered (a photo, or `null` for none; never an error). */
  private keep(read: Owned, result: PhotoReadResult, startedAt: number): void {
    read.settle(result);
    if (result instanceof Error) return;
    const freshUntil = startedAt + this.#ttlMs;
    const entry: CacheEntry =
      read.slot.read.part === 'metadata' ? { kind: 'metadata', freshUntil, photo: result as GraphProfilePhoto | null } : { kind: 'value', freshUntil, value: result as PhotoValue | null };
    // A picture with a version is kept a lifetime more, to be checked by its metadata rather than read again.
    const revalidatable = entry.kind === 'value' && entry.value?.etag !== undefined;
    void this.#store.set(read.slot.tag, read.slot.key, encodeEntry(entry), revalidatable ? 2 * this.#ttlMs : this.#ttlMs);
  }

  private async entryOf(slot: Slot): Promise<CacheEntry | undefined> {
    const stored = await this.#store.get(slot.tag, slot.key);
    return stored === undefined ? undefined : decodeEntry(stored);
  }

  /**
   * A thumbnail of `source` (the contact's picture as read for this caller) at `size`: from the
   * cache, joined when being made, or made by `make` and kept. Named by the source's content
   * hash, it can never be of another picture.
   */
  async thumbnail(call: GraphCallContext, read: Omit<PhotoRead, 'part'>, source: PhotoValue, size: number, make: () => Promise<PhotoValue>): Promise<PhotoValue> {
    if (this.#ttlMs === 0) return make();
    const tag = mailboxTag(read.invitationId);
    const key = `thumb:${callerPartition(call)}:${contactPart(read.contactId)}:${size}:${contentHash(source.bytes)}`;
    return this.#thumbnailsInFlight.join(
      `${tag}:${key}`,
      () => this.cachedThumbnail(call, tag, key, make),
      () => this.#observer?.photoCacheRead('thumbnail', 'shared'),
    );
  }

  private async cachedThumbnail(call: GraphCallContext, tag: string, key: string, make: () => Promise<PhotoValue>): Promise<PhotoValue> {
    const stored = await this.#store.get(tag, key);
    const entry = stored && decodeEntry(stored);
    if (entry?.kind === 'bytes') {
      this.#observer?.photoCacheRead('thumbnail', 'hit');
      call.stats.cachedReads = (call.stats.cachedReads ?? 0) + 1;
      return { bytes: entry.bytes, contentType: MEDIA_TYPES[entry.format], format: entry.format };
    }
    this.#observer?.photoCacheRead('thumbnail', 'miss');
    const thumbnail = await make();
    void this.#store.set(tag, key, encodeEntry({ kind: 'bytes', freshUntil: Date.now() + this.#ttlMs, bytes: thumbnail.bytes, format: thumbnail.format }), 2 * this.#ttlMs);
    return thumbnail;
  }

  /**
   * The gateway changed the contact's photo (`updateContactPhoto`, `uploadContactPhoto`): every
   * caller's entries of it are left behind. The version outlives every entry it could name.
   */
  async changed(invitationId: string, contactId: string): Promise<void> {
    if (this.#ttlMs === 0) return;
    await this.#store.bump(mailboxTag(invitationId), contactPart(contactId), 2 * this.#ttlMs + 60_000);
  }
}

function partKey(caller: string, contact: string, version: string, part: PhotoRead['part']): string {
  return `photo:${caller}:${contact}:${version}:${part === 'metadata' ? 'm' : 'v'}`;
}

function flightKey(slot: Slot): string {
  return `${slot.tag}:${slot.key}`;
}

/** The slot's key without its part: the same for a contact's metadata and picture. */
function contactOf(slot: Slot): string {
  return `${slot.tag}:${slot.key.slice(0, -2)}`;
}

