/**
 * The contact list call: `GET .../invitations/{id}/invitedUser/contacts` with the query options
 * the gateway sends, and its answer read defensively (a body that is not a page of contacts is
 * Graph's fault, BAD_GATEWAY). `@odata.nextLink` is only looked at to say whether more follow:
 * the gateway never requests a URL Graph (or anyone between) put in an answer.
 */
import type { GatewayError } from '../errors/gateway-error.js';
import { assertValidId } from './contact-photo-path.js';
import { CONTACT_LIST_ROUTE } from './contact-photo-route.js';
import { MAX_JSON_RESPONSE_BYTES } from './contact-photo-requests.js';
import { errorFromUnusableBody } from './error-mapping.js';
import type { GraphRequest } from './graph-request.js';
import type { GraphResponse } from './types.js';

/** An email address of a contact (Graph's `microsoft.graph.emailAddress`). */
export interface GraphEmailAddress {
  name: string | null;
  address: string | null;
}

/** A contact as the gateway reads it (Graph's `microsoft.graph.contact`, the properties it selects). */
export interface GraphContact {
  id: string;
  displayName: string | null;
  givenName: string | null;
  surname: string | null;
  emailAddresses: GraphEmailAddress[];
}

/** One page of a mailbox's contacts, and whether Graph has more after it. */
export interface ContactPage {
  contacts: GraphContact[];
  hasNextPage: boolean;
}

/** Which page to ask for: Graph's `$top` and `$skip`. */
export interface ContactPageRequest {
  top: number;
  skip: number;
}

/** The contact properties the gateway's `Contact` fields are made of: Graph's `$select`. */
export const CONTACT_PROPERTIES = ['id', 'displayName', 'givenName', 'surname', 'emailAddresses'] as const;

/** The request for one page. Throws BAD_USER_INPUT for an invitation id that cannot go into a path. */
export function contactListRequest(invitationId: string, page: ContactPageRequest): GraphRequest {
  assertValidId('invitationId', invitationId);
  const query = `$select=${CONTACT_PROPERTIES.join(',')}&$top=${page.top}&$orderby=displayName${page.skip > 0 ? `&$skip=${page.skip}` : ''}`;
  return {
    method: 'GET',
    mailbox: invitationId,
    path: `/invitations/${encodeURIComponent(invitationId)}/invitedUser/contacts?${query}`,
    route: CONTACT_LIST_ROUTE,
    accept: 'application/json',
    // 100 contacts of the selected properties are tens of KiB; a page is bounded as every JSON answer is.
    maxResponseBytes: MAX_JSON_RESPONSE_BYTES,
    binary: false,
  };
}

/**
 * Reads a successful answer as a page of at most `top` contacts: a JSON object whose `value` is
 * an array of contacts with a string `id`, names that are strings (or null, or absent), and
 * `emailAddresses` an array of `{ name, address }`; `@odata.nextLink`, when present, a string.
 * Anything else is answered as BAD_GATEWAY.
 */
export function parseContactPage(response: GraphResponse, top: number): ContactPage | GatewayError {
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return errorFromUnusableBody(response, response.body.length === 0 ? 'an empty body' : 'a body that is not JSON');
  }
  if (!isObject(body) || !Array.isArray(body['value'])) return errorFromUnusableBody(response, 'a contact list without a "value" array');
  const value: unknown[] = body['value'];
  if (value.length > top) return errorFromUnusableBody(response, `a page of ${value.length} contacts, more than the ${top} asked for`);
  const next = body['@odata.nextLink'];
  if (next !== undefined && next !== null && typeof next !== 'string') return errorFromUnusableBody(response, 'an @odata.nextLink that is not a string');
  const contacts: GraphContact[] = [];
  for (const entry of value) {
    const contact = readContact(entry);
    if (contact === undefined) return errorFromUnusableBody(response, 'a contact without a string id, or with properties of the wrong type');
    contacts.push(contact);
  }
  return { contacts, hasNextPage: typeof next === 'string' };
}

function readContact(entry: unknown): GraphContact | undefined {
  if (!isObject(entry)) return undefined;
  const { id } = entry;
  if (typeof id !== 'string' || id.length === 0) return undefined;
  const displayName = optionalString(entry['displayName']);
  const givenName = optionalString(entry['givenName']);
  const surname = optionalString(entry['surname']);
  const emailAddresses = readEmailAddresses(entry['emailAddresses']);
  if (displayName === undefined || givenName === undefined || surname === undefined || emailAddresses === undefined) return undefined;
  return { id, displayName, givenName, surname, emailAddresses };
}

function readEmailAddresses(value: unknown): GraphEmailAddress[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return undefined;
  const addresses: GraphEmailAddress[] = [];
  for (const entry of value as unknown[]) {
    if (!isObject(entry)) return undefined;
    const name = optionalString(entry['name']);
    const address = optionalString(entry['address']);
    if (name === undefined || address === undefined) return undefined;
    addresses.push({ name, address });
  }
  return addresses;
}

/** A string property as it is, `null` when absent or null, `undefined` (unusable) for any other type. */
function optionalString(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
