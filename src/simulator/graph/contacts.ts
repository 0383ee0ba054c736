/**
 * The contacts of the simulated mailboxes, and `GET /invitations/{id}/invitedUser/contacts` as
 * Graph answers it (docs/graph-behaviour.md, "Listing contacts"): `$select`, `$top` (10 when
 * absent), `$orderby=displayName`, `$skip`, and `@odata.nextLink` while more remain.
 */
import { createHash } from 'node:crypto';
import { GraphHttpError, VERSION_SEGMENT } from './graph-requests.js';

/** A contact as a test or the demo seeds it. */
export interface SimulatedContact {
  id: string;
  displayName: string;
  givenName?: string;
  surname?: string;
  emailAddresses?: { name?: string; address: string }[];
  /** A JPEG: every principal's picture of this contact until one uploads its own. */
  picture?: Buffer;
}

/** A seeded picture as an upload would have stored it: the bytes with their ETag, and the metadata. */
export interface SeededPicture {
  bytes: Buffer;
  etag: string;
  photo: { id: string; height: number; width: number };
}

/** The path of a mailbox's contact list. */
export interface ContactListPath {
  invitationId: string;
  list: true;
  contactId?: undefined;
  value?: undefined;
}

/** Graph's default page size for contacts when `$top` is absent. */
export const DEFAULT_PAGE_SIZE = 10;
/** Outlook's largest page. */
const MAX_PAGE_SIZE = 1000;
/** The properties `$select` may name (the ones the simulator keeps). */
const PROPERTIES = ['id', 'displayName', 'givenName', 'surname', 'emailAddresses'] as const;
type Property = (typeof PROPERTIES)[number];

/** `/beta/invitations/{invitationId}/invitedUser/contacts`, its id decoded, or `undefined` for any other path. */
export function parseContactListPath(url: string): ContactListPath | undefined {
  const segments = url.split('?')[0]!.split('/');
  if (segments.length !== 6 || segments[0] !== '' || segments[1] !== VERSION_SEGMENT || segments[2] !== 'invitations') return undefined;
  if (segments[4] !== 'invitedUser' || segments[5] !== 'contacts') return undefined;
  try {
    const invitationId = decodeURIComponent(segments[3]!);
    return invitationId === '' ? undefined : { invitationId, list: true };
  } catch {
    return undefined;
  }
}

/** The contacts of every mailbox: the same for every principal that asks. */
export class ContactStore {
  readonly #contacts = new Map<string, Map<string, SimulatedContact>>();
  readonly #pictures = new Map<string, SeededPicture>();

  /** Adds (or replaces, by id) contacts of a mailbox; a picture must be a JPEG with a readable size. */
  add(invitationId: string, contacts: readonly SimulatedContact[]): void {
    let mailbox = this.#contacts.get(invitationId);
    if (!mailbox) this.#contacts.set(invitationId, (mailbox = new Map()));
    for (const contact of contacts) {
      mailbox.set(contact.id, { ...contact });
      const key = pictureKey(invitationId, contact.id);
      if (contact.picture === undefined) {
        this.#pictures.delete(key);
        continue;
      }
      const size = jpegSize(contact.picture);
      if (!size) throw new Error(`The picture of contact ${contact.id} is not a JPEG whose size can be read.`);
      const etag = `"${createHash('sha256').update(contact.picture).digest('base64url').slice(0, 16)}"`;
      this.#pictures.set(key, { bytes: contact.picture, etag, photo: { id: `${size.width}X${size.height}`, ...size } });
    }
  }

  /** The seeded picture of a contact, whoever asks. */
  picture(invitationId: string, contactId: string): SeededPicture | undefined {
    return this.#pictures.get(pictureKey(invitationId, contactId));
  }

  clear(): void {
    this.#contacts.clear();
    this.#pictures.clear();
  }

  /** One page of a mailbox's contacts, as Graph's JSON answers it; a query Graph refuses throws its 400. */
  list(invitationId: string, url: string, baseUrl: string): Record<string, unknown> {
    const query = parseListQuery(url);
    const all = [...(this.#contacts.get(invitationId)?.values() ?? [])];
    if (query.orderBy) all.sort(byDisplayName);
    const page = all.slice(query.skip, query.skip + query.top);
    const path = `/invitations/${encodeURIComponent(invitationId)}/invitedUser/contacts`;
    const body: Record<string, unknown> = {
      '@odata.context': `${baseUrl}/$metadata#invitations('${invitationId}')/invitedUser/contacts(${query.select.join(',')})`,
      value: page.map((contact) => selected(contact, query.select)),
    };
    const next = query.skip + page.length;
    if (next < all.length) {
      const params = [`$select=${query.select.join(',')}`, `$top=${query.top}`, ...(query.orderBy ? ['$orderby=displayName'] : []), `$skip=${next}`];
      body['@odata.nextLink'] = `${baseUrl}${path}?${params.join('&')}`;
    }
    return body;
  }
}

interface ListQuery {
  select: Property[];
  top: number;
  skip: number;
  orderBy: boolean;
}

/** The list's query options as Graph checks them: an unknown property, a bad `$top` or `$skip`, or another order is a 400. */
function parseListQuery(url: string): ListQuery {
  const search = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  const select: Property[] = ['id'];
  for (const name of (search.get('$select') ?? PROPERTIES.join(',')).split(',').map((part) => part.trim())) {
    if (!(PROPERTIES as readonly string[]).includes(name)) {
      throw new GraphHttpError(400, 'RequestBroker--ParseUri', `Could not find a property named '${name}' on type 'microsoft.graph.contact'.`);
    }
    if (!select.includes(name as Property)) select.push(name as Property);
  }
  const top = count(search.get('$top'), '$top', DEFAULT_PAGE_SIZE);
  if (top === 0 || top > MAX_PAGE_SIZE) throw new GraphHttpError(400, 'ErrorInvalidParameter', `The value of $top must be from 1 to ${MAX_PAGE_SIZE}.`);
  const skip = count(search.get('$skip'), '$skip', 0);
  const orderBy = search.get('$orderby');
  if (orderBy !== null && orderBy !== 'displayName' && orderBy !== 'displayName asc') {
    throw new GraphHttpError(400, 'ErrorInvalidProperty', `The simulator orders contacts by displayName only, not '${orderBy}'.`);
  }
  return { select, top, skip, orderBy: orderBy !== null };
}

/** A non-negative integer query option, `fallback` when absent; anything else is Graph's 400. */
function count(text: string | null, name: string, fallback: number): number {
  if (text === null) return fallback;
  if (!/^\d{1,9}$/.test(text)) throw new GraphHttpError(400, 'BadRequest', `Invalid value '${text}' for the query option ${name}: a non-negative integer is expected.`);
  return Number(text);
}

/** Graph's order by `displayName`: case-insensitive; ties by id so that pages never overlap. */
function byDisplayName(a: SimulatedContact, b: SimulatedContact): number {
  const left = a.displayName.toLowerCase();
  const right = b.displayName.toLowerCase();
  if (left !== right) return left < right ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A contact with the selected properties, as Graph writes it (`null` for a name it lacks, `[]` for no addresses). */
function selected(contact: SimulatedContact, select: readonly Property[]): Record<string, unknown> {
  const entry: Record<string, unknown> = { '@odata.etag': `W/"${createHash('sha256').update(contact.id).digest('base64url').slice(0, 12)}"` };
  for (const name of select) {
    if (name === 'emailAddresses') entry[name] = (contact.emailAddresses ?? []).map(({ name: shown, address }) => ({ name: shown ?? address, address }));
    else entry[name] = contact[name] ?? null;
  }
  return entry;
}

function pictureKey(invitationId: string, contactId: string): string {
  return JSON.stringify([invitationId, contactId]);
}

/** A JPEG's pixel size from its first start-of-frame marker, read without decoding it. */
export function jpegSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    // SOF0..SOF15, not DHT (C4), JPG (C8) or DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const height = bytes.readUInt16BE(offset + 5);
      const width = bytes.readUInt16BE(offset + 7);
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    offset += 2 + bytes.readUInt16BE(offset + 2);
  }
  return undefined;
}
