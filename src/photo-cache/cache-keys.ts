import { createHash } from 'node:crypto';
import type { GraphCallContext } from '../graph/client-options.js';

/** 22 characters of a SHA-256 in base64url (132 bits): short keys, and no id or token in them. */
function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/**
 * Whose entries these are. With sign-in, the caller the sign-in plugin verified (`tid` and `oid`
 * of a checked token); in passthrough, a hash of the caller's token, whose claims the gateway
 * cannot verify (never a claim read from it). Never the token itself.
 */
export function callerPartition(call: GraphCallContext): string {
  return shortHash(call.user ? `oid\u0000${call.user.tid}\u0000${call.user.oid}` : `token\u0000${call.caller}`);
}

/**
 * A mailbox's tag: every key of one mailbox carries it in braces, so that they share one hash
 * slot of a Redis Cluster (the same tag as the mailbox limit's keys, redis/mailbox-scripts.ts).
 * It is in the picture URLs too: it tells nothing of the invitation id.
 */
export function mailboxTag(mailbox: string): string {
  return shortHash(mailbox);
}

/** A contact's part of its keys (ids run to 1,024 characters and may hold any character). */
export function contactPart(contactId: string): string {
  return shortHash(contactId);
}

/** The content hash that names a picture's bytes (in its URL and its ETag). */
const hashes = new WeakMap<Buffer, string>();
export function contentHash(bytes: Buffer): string {
  let hash = hashes.get(bytes);
  if (hash === undefined) hashes.set(bytes, (hash = createHash('sha256').update(bytes).digest('base64url')));
  return hash;
}
