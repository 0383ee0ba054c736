import DataLoader from 'dataloader';
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import type { GraphCallContext, GraphClient, PhotoRead, PhotoReadResult } from '../graph/graph-client.js';
import type { PhotoValue } from '../graph/photo-value.js';
import type { GraphProfilePhoto } from '../graph/types.js';
import { PhotoQueue } from '../photos/photo-queue.js';
import { OUTLOOK_PHOTO_SIZES } from './photo-fields.js';

/**
 * Every photo read of one GraphQL request, through one DataLoader: the reads that resolvers
 * ask for in the same tick (the entries of `contactPhotos`, aliased `contactPhoto` fields,
 * Federation's entities, and the pictures behind `dataUrl`) go to Graph together
 * (`GraphClient.readPhotos`, batched per mailbox), and each read is made once per request
 * however many fields ask for it. Thumbnails made of a picture are kept here too, one per size.
 */
export class PhotoReads {
  readonly #loader: DataLoader<PhotoRead, Exclude<PhotoReadResult, Error>, string>;
  readonly #thumbnails = new Map<string, Promise<PhotoValue>>();
  /** This request's turns at making thumbnails (each holds a place in the photo queue while made). */
  readonly #lanes: PhotoQueue;

  /**
   * @param thumbnailsAtOnce how many of this request's thumbnails may hold a place in the photo
   *   queue at once (`PHOTO_CONCURRENCY`): a list of 50 thumbnails waits for its own turns rather
   *   than filling the queue and being refused by it. The pictures are in memory already.
   */
  constructor(graph: GraphClient, call: () => GraphCallContext, thumbnailsAtOnce: number) {
    // One DataLoader batch per Graph batch: each batch's reads resolve as soon as it is answered
    // (their thumbnails are made while the next batch is in flight), not when the last one is.
    this.#loader = new DataLoader((reads) => graph.readPhotos(reads, call()), { cacheKeyFn: readKey, maxBatchSize: graph.batchMax });
    this.#lanes = new PhotoQueue(Math.max(1, thumbnailsAtOnce), 0);
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

  /** A thumbnail of the contact's picture at `size`, made once per request by `make`, in one of the request's lanes. */
  thumbnail(invitationId: string, contactId: string, size: number, make: () => Promise<PhotoValue>): Promise<PhotoValue> {
    const key = `${invitationId}\u0000${contactId}\u0000${size}`;
    let thumbnail = this.#thumbnails.get(key);
    if (thumbnail === undefined) this.#thumbnails.set(key, (thumbnail = this.inLane(make)));
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
    for (const key of this.#thumbnails.keys()) if (key.startsWith(`${invitationId}\u0000${contactId}\u0000`)) this.#thumbnails.delete(key);
  }
}

function readKey(read: PhotoRead): string {
  return `${read.part}\u0000${read.invitationId}\u0000${read.contactId}`;
}

/** The `dataUrl` fields under a field of a document, found once per field node. */
const dataUrlFieldsOf = new WeakMap<object, readonly FieldNode[]>();

/**
 * Whether the field being resolved selects a `dataUrl` that will read the picture: directly or
 * through fragments, with no `size` or one of Outlook's (a `dataUrl` with another size is
 * refused before any Graph call, so it must not cause one here). The `dataUrl` fields are found
 * once per field of a document (the node is the document's, which Apollo keeps parsed); only
 * their `size` is read per request, as it may be a variable.
 */
export function selectsDataUrl(info: GraphQLResolveInfo): boolean {
  const node = info.fieldNodes[0]!;
  let fields = dataUrlFieldsOf.get(node);
  if (fields === undefined) {
    const found: FieldNode[] = [];
    for (const field of info.fieldNodes) if (field.selectionSet) collectDataUrls(field.selectionSet, info, new Set(), found);
    dataUrlFieldsOf.set(node, (fields = found));
  }
  return fields.some((field) => readsPicture(field, info.variableValues));
}

function readsPicture(field: FieldNode, variables: Readonly<Record<string, unknown>>): boolean {
  const size = field.arguments?.find((argument) => argument.name.value === 'size')?.value;
  if (size === undefined || size.kind === Kind.NULL) return true;
  const value = size.kind === Kind.VARIABLE ? variables[size.name.value] : size.kind === Kind.INT ? Number(size.value) : undefined;
  return value === null || value === undefined || (typeof value === 'number' && OUTLOOK_PHOTO_SIZES.includes(value));
}

function collectDataUrls(selectionSet: SelectionSetNode, info: GraphQLResolveInfo, seen: Set<string>, found: FieldNode[]): void {
  for (const selection of selectionSet.selections) {
    switch (selection.kind) {
      case Kind.FIELD:
        if (selection.name.value === 'dataUrl') found.push(selection);
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
