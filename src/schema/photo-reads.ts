import DataLoader from 'dataloader';
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import type { GraphCallContext, GraphClient, PhotoRead, PhotoReadResult } from '../graph/graph-client.js';
import type { PhotoValue } from '../graph/photo-value.js';
import type { GraphProfilePhoto } from '../graph/types.js';
import { OUTLOOK_PHOTO_SIZES } from '../limits/graph-photo-limits.js';
import type { PhotoCache } from '../photo-cache/photo-cache.js';
import { PhotoQueue } from '../photos/photo-queue.js';
import { DataUrlBudget, dataUrl, dataUrlLength, type Settle } from './data-url-budget.js';

/**
 * Every photo read of one GraphQL request, through one DataLoader: the reads that resolvers
 * ask for in the same tick (the entries of `contactPhotos`, aliased `contactPhoto` fields,
 * Federation's entities, and the pictures behind `dataUrl`) go to Graph together
 * (`GraphClient.readPhotos`, batched per mailbox), and each read is made once per request
 * however many fields ask for it. Thumbnails made of a picture are kept here too, one per size,
 * and the full-size pictures of `dataUrl` are held to the operation's budget
 * (`PHOTO_DATAURL_BUDGET_BYTES`, see DataUrlBudget) before they are read.
 */
export class PhotoReads {
  readonly #loader: DataLoader<PhotoRead, Exclude<PhotoReadResult, Error>, string>;
  readonly #thumbnails = new Map<string, Promise<PhotoValue>>();
  /** This request's turns at making thumbnails (each holds a place in the photo queue while made). */
  readonly #lanes: PhotoQueue;
  readonly #budget: DataUrlBudget;
  /** The full-size pictures asked for, by contact: their read within the budget, and whether a field's URL has been paid by it. */
  readonly #fullSize = new Map<string, { picture: Promise<PhotoValue | null>; paid: boolean }>();
  readonly #call: () => GraphCallContext;
  readonly #cache: PhotoCache | undefined;

  /**
   * @param thumbnailsAtOnce how many of this request's thumbnails may hold a place in the photo
   *   queue at once (`PHOTO_CONCURRENCY`): a list of 50 thumbnails waits for its own turns rather
   *   than filling the queue and being refused by it. The pictures are in memory already.
   * @param dataUrlBudgetBytes the bytes of full-size `data:` URLs this request may answer
   *   (`PHOTO_DATAURL_BUDGET_BYTES`).
   * @param cache the gateway's photo cache (photo-cache/), asked before Graph for every read and thumbnail.
   */
  constructor(graph: GraphClient, call: () => GraphCallContext, thumbnailsAtOnce: number, dataUrlBudgetBytes: number, cache?: PhotoCache) {
    this.#call = call;
    this.#cache = cache;
    const read = (reads: readonly PhotoRead[], context: GraphCallContext) => graph.readPhotos(reads, context);
    // One DataLoader batch per Graph batch: each batch's reads resolve as soon as it is answered
    // (their thumbnails are made while the next batch is in flight), not when the last one is.
    this.#loader = new DataLoader((reads) => (cache ? cache.readPhotos(reads, call(), read) : read(reads, call())), {
      cacheKeyFn: readKey,
      maxBatchSize: graph.batchMax,
    });
    this.#lanes = new PhotoQueue(Math.max(1, thumbnailsAtOnce), 0);
    this.#budget = new DataUrlBudget(dataUrlBudgetBytes);
  }

  /** The contact's photo metadata, `null` when it has none. */
  metadata(invitationId: string, contactId: string): Promise<GraphProfilePhoto | null> {
    return this.#loader.load({ invitationId, contactId, part: 'metadata' }) as Promise<GraphProfilePhoto | null>;
  }

  /** The contact's picture, `null` when it has none. */
  value(invitationId: string, contactId: string): Promise<PhotoValue | null> {
    return this.#loader.load({ invitationId, contactId, part: 'value' }) as Promise<PhotoValue | null>;
  }

  /**
   * Asks for the picture now, so that it goes to Graph in the same round as the metadata rather
   * than one round after it (when `dataUrl` resolves). A failure is answered where the picture
   * is used, if it is: a photo that turns out `null` never resolves its `dataUrl`.
   */
  prefetchValue(invitationId: string, contactId: string): void {
    this.value(invitationId, contactId).catch(() => undefined);
  }

  /**
   * The contact's full-size picture as a `data:` URL for one `dataUrl` field, `null` when it has
   * none. Its read is reserved in the budget first; each further field of the same picture puts
   * its URL in the answer again, and spends its length again. Past the budget, BAD_USER_INPUT.
   */
  async fullSizeDataUrl(invitationId: string, contactId: string): Promise<string | null> {
    const read = this.fullSizeRead(invitationId, contactId);
    const picture = await read.picture;
    if (picture === null) return null;
    if (read.paid) this.#budget.spend(dataUrlLength(picture));
    read.paid = true;
    return dataUrl(picture);
  }

  /**
   * Asks for the full-size picture now, in the same round as the metadata when the budget has
   * room for it (else as soon as it has): see `prefetchValue`.
   */
  prefetchFullSize(invitationId: string, contactId: string): void {
    this.fullSizeRead(invitationId, contactId).picture.catch(() => undefined);
  }

  private fullSizeRead(invitationId: string, contactId: string): { picture: Promise<PhotoValue | null>; paid: boolean } {
    const key = `${invitationId}\u0000${contactId}`;
    let read = this.#fullSize.get(key);
    if (read === undefined) this.#fullSize.set(key, (read = { picture: this.budgetedValue(invitationId, contactId), paid: false }));
    return read;
  }

  /** The picture, read once its reservation is made; reserved now, the read joins this tick's batch. */
  private budgetedValue(invitationId: string, contactId: string): Promise<PhotoValue | null> {
    const settle = this.#budget.reserve();
    if (!(settle instanceof Promise)) return this.settled(this.value(invitationId, contactId), settle);
    return settle.then((later) => this.settled(this.value(invitationId, contactId), later));
  }

  private settled(read: Promise<PhotoValue | null>, settle: Settle): Promise<PhotoValue | null> {
    return read.then(
      (picture) => {
        if (!settle(picture === null ? 0 : dataUrlLength(picture))) throw this.#budget.exhausted();
        return picture;
      },
      (error: unknown) => {
        settle(0);
        throw error;
      },
    );
  }

  /**
   * A thumbnail of the contact's picture (`original`, as read) at `size`, made once per request
   * by `make`, in one of the request's lanes; from the photo cache when it has it.
   */
  thumbnail(invitationId: string, contactId: string, size: number, original: PhotoValue, make: () => Promise<PhotoValue>): Promise<PhotoValue> {
    const key = `${invitationId}\u0000${contactId}\u0000${size}`;
    let thumbnail = this.#thumbnails.get(key);
    if (thumbnail === undefined) {
      const made = () => this.inLane(make);
      thumbnail = this.#cache ? this.#cache.thumbnail(this.#call(), { invitationId, contactId }, original, size, made) : made();
      this.#thumbnails.set(key, thumbnail);
    }
    return thumbnail;
  }

  private async inLane<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.#lanes.turn(undefined);
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Forgets what was read of a contact's photo, after a change to it (an upload). */
  forget(invitationId: string, contactId: string): void {
    this.#loader.clear({ invitationId, contactId, part: 'metadata' }).clear({ invitationId, contactId, part: 'value' });
    this.#fullSize.delete(`${invitationId}\u0000${contactId}`);
    for (const key of this.#thumbnails.keys()) if (key.startsWith(`${invitationId}\u0000${contactId}\u0000`)) this.#thumbnails.delete(key);
  }
}

function readKey(read: PhotoRead): string {
  return `${read.part}\u0000${read.invitationId}\u0000${read.contactId}`;
}

/** The `dataUrl` fields under a field of a document, found once per field node. */
const dataUrlFieldsOf = new WeakMap<object, readonly FieldNode[]>();

/**
 * The picture a field's `dataUrl` and `url` fields read: `fullSize` when a `dataUrl` has no
 * `size` (the budgeted read), `thumbnail` when they all have one of Outlook's sizes or are `url`s
 * (the picture read without the budget), `none` otherwise.
 */
export type PictureUse = 'none' | 'thumbnail' | 'fullSize';

/**
 * Which picture the field being resolved reads for its `dataUrl`s: directly or through
 * fragments, with no `size` (full size) or one of Outlook's (a `dataUrl` with another size is
 * refused before any Graph call, so it must not cause one here). The `dataUrl` fields are found
 * once per field of a document (the node is the document's, which Apollo keeps parsed); only
 * their `size` is read per request, as it may be a variable.
 */
export function selectsDataUrl(info: GraphQLResolveInfo): PictureUse {
  const node = info.fieldNodes[0]!;
  let fields = dataUrlFieldsOf.get(node);
  if (fields === undefined) {
    const found: FieldNode[] = [];
    for (const field of info.fieldNodes) if (field.selectionSet) collectDataUrls(field.selectionSet, info, new Set(), found);
    dataUrlFieldsOf.set(node, (fields = found));
  }
  let use: PictureUse = 'none';
  for (const field of fields) {
    const read = pictureRead(field, info.variableValues);
    if (read === 'fullSize') return read;
    if (read === 'thumbnail') use = read;
  }
  return use;
}

function pictureRead(field: FieldNode, variables: Readonly<Record<string, unknown>>): PictureUse {
  // A `url` puts no bytes in the answer: its picture, full size or not, is read without the budget.
  const unsized = field.name.value === 'url' ? 'thumbnail' : 'fullSize';
  const size = field.arguments?.find((argument) => argument.name.value === 'size')?.value;
  if (size === undefined || size.kind === Kind.NULL) return unsized;
  const value = size.kind === Kind.VARIABLE ? variables[size.name.value] : size.kind === Kind.INT ? Number(size.value) : undefined;
  if (value === null || value === undefined) return unsized;
  return typeof value === 'number' && OUTLOOK_PHOTO_SIZES.includes(value) ? 'thumbnail' : 'none';
}

function collectDataUrls(selectionSet: SelectionSetNode, info: GraphQLResolveInfo, seen: Set<string>, found: FieldNode[]): void {
  for (const selection of selectionSet.selections) {
    switch (selection.kind) {
      case Kind.FIELD:
        if (selection.name.value === 'dataUrl' || selection.name.value === 'url') found.push(selection);
        break;
      case Kind.INLINE_FRAGMENT:
        collectDataUrls(selection.selectionSet, info, seen, found);
        break;
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment = info.fragments[name];
        if (fragment && !seen.has(name)) {
          seen.add(name);
          collectDataUrls(fragment.selectionSet, info, seen, found);
        }
        break;
      }
    }
  }
}
