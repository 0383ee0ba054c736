import type { GraphCallContext } from '../graph/client-options.js';
import type { ContactPage, ContactPageRequest, GraphContact } from '../graph/contact-list.js';
import { callerPartition, mailboxTag } from './cache-keys.js';
import { InFlight } from './in-flight.js';
import type { PhotoCacheObserver } from './photo-cache-observer.js';
import type { PhotoCacheStore } from './photo-cache-store.js';

/** How the cache reads a page it does not hold: `GraphClient.listContacts` for this page and caller. */
export type ListFromGraph = () => Promise<ContactPage>;

/**
 * The contact list's pages, per caller (docs/contact-lists.md): kept in the photo cache's store
 * (so, with `REDIS_URL`, in Redis for every replica) for `CONTACT_LIST_CACHE_TTL_S`, under the
 * caller's partition (as the photos: never the token), the mailbox's tag, `$top` and `$skip`, so
 * that a repeat visit of a contacts screen costs no Graph call. A change made in Outlook shows
 * once the page's entry has expired. A failed list call is never kept; identical pages asked by
 * the same caller while one is read share that read.
 */
export class ContactListCache {
  readonly #ttlMs: number;
  readonly #store: PhotoCacheStore;
  readonly #observer: PhotoCacheObserver | undefined;
  readonly #inFlight = new InFlight<ContactPage>();

  constructor(ttlS: number, store: PhotoCacheStore, observer?: PhotoCacheObserver) {
    this.#ttlMs = ttlS * 1000;
    this.#store = store;
    this.#observer = observer;
  }

  /** The page, from the cache when this caller read it within the lifetime, else from `graph` (and kept). */
  async page(invitationId: string, request: ContactPageRequest, call: GraphCallContext, graph: ListFromGraph): Promise<ContactPage> {
    if (this.#ttlMs === 0) return graph();
    const tag = mailboxTag(invitationId);
    const key = `list:${callerPartition(call)}:${request.top}:${request.skip}`;
    return this.#inFlight.join(
      `${tag}:${key}`,
      () => this.cachedPage(tag, key, call, graph),
      () => this.#observer?.photoCacheRead('list', 'shared'),
    );
  }

  private async cachedPage(tag: string, key: string, call: GraphCallContext, graph: ListFromGraph): Promise<ContactPage> {
    const stored = await this.#store.get(tag, key);
    const cached = stored && decodePage(stored);
    if (cached) {
      this.#observer?.photoCacheRead('list', 'hit');
      call.stats.cachedReads = (call.stats.cachedReads ?? 0) + 1;
      return cached;
    }
    this.#observer?.photoCacheRead('list', 'miss');
    const startedAt = Date.now();
    // A failure throws past the store: an error is never kept.
    const page = await graph();
    // The page is as old as the call's start: its lifetime runs from there.
    const ttlMs = startedAt + this.#ttlMs - Date.now();
    if (ttlMs > 0) void this.#store.set(tag, key, encodePage(page), ttlMs);
    return page;
  }
}

/** A contact as stored: its properties in a fixed order, its addresses as `[name, address]`. */
type StoredContact = [string, string | null, string | null, string | null, Array<[string | null, string | null]>];

/** A page as stored: JSON of positional arrays (no property names repeated 100 times), and whether more follow. */
export function encodePage(page: ContactPage): Buffer {
  const contacts: StoredContact[] = page.contacts.map((contact) => [
    contact.id,
    contact.displayName,
    contact.givenName,
    contact.surname,
    contact.emailAddresses.map((email) => [email.name, email.address]),
  ]);
  return Buffer.from(JSON.stringify({ n: page.hasNextPage, c: contacts }));
}

/** The page, or `undefined` for anything else (a partial write, another version's format): a miss. */
export function decodePage(stored: Buffer): ContactPage | undefined {
  let body: { n?: unknown; c?: unknown };
  try {
    body = JSON.parse(stored.toString('utf8')) as typeof body;
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || typeof body.n !== 'boolean' || !Array.isArray(body.c)) return undefined;
  const contacts: GraphContact[] = [];
  for (const entry of body.c as unknown[]) {
    const contact = decodeContact(entry);
    if (contact === undefined) return undefined;
    contacts.push(contact);
  }
  return { contacts, hasNextPage: body.n };
}

function decodeContact(entry: unknown): GraphContact | undefined {
  if (!Array.isArray(entry) || entry.length !== 5 || typeof entry[0] !== 'string' || !entry.slice(1, 4).every(isNameOrNull) || !Array.isArray(entry[4])) return undefined;
  const [id, displayName, givenName, surname, emails] = entry as StoredContact;
  if (!emails.every((email) => Array.isArray(email) && email.length === 2 && email.every(isNameOrNull))) return undefined;
  return { id, displayName, givenName, surname, emailAddresses: emails.map(([name, address]) => ({ name, address })) };
}

function isNameOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}
