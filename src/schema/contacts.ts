/**
 * `contacts`: one page of an invited user's contacts as a Relay connection over Graph's contact
 * list, and each contact's `photo` read through the request's `PhotoReads` with only what its
 * selection needs.
 */
import { Kind, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { badUserInput } from '../errors/gateway-error.js';
import { assertValidId } from '../graph/contact-photo-path.js';
import type { GraphCallContext, GraphClient } from '../graph/graph-client.js';
import type { ContactConnection, QueryContactsArgs } from '../generated/graphql.js';
import type { ContactListCache } from '../photo-cache/contact-list-cache.js';
import { decodeCursor, encodeCursor } from './contact-cursor.js';
import type { PhotoReads } from './photo-reads.js';

/** The most contacts one page answers: `first` is from 1 to this. */
export const MAX_CONTACTS_PAGE = 100;

/** `first` when the operation does not give it (the schema's default). */
export const DEFAULT_CONTACTS_PAGE = 50;

/**
 * Whether `first` as the resolver gets it is one it answers: from 1 to 100. `null` (given
 * explicitly) is refused as well: a page has a size.
 */
export function validPageSize(first: number | null | undefined): first is number {
  return typeof first === 'number' && Number.isInteger(first) && first >= 1 && first <= MAX_CONTACTS_PAGE;
}

/**
 * One page: the arguments checked before any Graph call (the id, `first`, the cursor), then one
 * list call asking Graph for `first` contacts after the cursor's offset (answered by the caller's
 * cached page when there is one). Each edge's cursor is the offset after it, so that `after:` any
 * edge's cursor continues from there.
 */
export async function contactsPage(args: QueryContactsArgs, graph: GraphClient, call: GraphCallContext, lists?: ContactListCache): Promise<ContactConnection> {
  const { invitationId, after } = args;
  const first = args.first === undefined ? DEFAULT_CONTACTS_PAGE : args.first;
  assertValidId('invitationId', invitationId);
  if (!validPageSize(first)) throw badUserInput('first', `first must be from 1 to ${MAX_CONTACTS_PAGE}.`);
  let skip = 0;
  if (after !== null && after !== undefined) {
    const offset = decodeCursor(invitationId, after);
    if (typeof offset !== 'number') throw offset;
    skip = offset;
  }
  const request = { top: first, skip };
  const read = () => graph.listContacts(invitationId, request, call);
  const page = await (lists ? lists.page(invitationId, request, call, read) : read());
  const edges = page.contacts.map((contact, index) => ({ cursor: encodeCursor(invitationId, skip + index + 1), node: { ...contact, invitationId } }));
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}

/**
 * A photo selection's fields that need no metadata: with `dataUrl` or `url` (thumbnails), the
 * photo is read from its picture alone (`GET .../photo/$value`, `null` on 404).
 */
const PICTURE_ONLY_FIELDS: ReadonlySet<string> = new Set(['dataUrl', 'url', 'invitationId', 'contactId', '__typename']);

const pictureOnlyByNode = new WeakMap<object, boolean>();

/**
 * Whether the `photo` field being resolved selects nothing the metadata answers (`id`, `height`,
 * `width`), through fragments too: then the picture alone says whether there is a photo. Found
 * once per field of a document (Apollo keeps documents parsed).
 */
export function selectsPictureOnly(info: GraphQLResolveInfo): boolean {
  const node = info.fieldNodes[0]!;
  let only = pictureOnlyByNode.get(node);
  if (only === undefined) {
    only = info.fieldNodes.every((field) => field.selectionSet === undefined || onlyFields(field.selectionSet, info, new Set()));
    pictureOnlyByNode.set(node, only);
  }
  return only;
}

function onlyFields(selectionSet: SelectionSetNode, info: GraphQLResolveInfo, seen: Set<string>): boolean {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD && !PICTURE_ONLY_FIELDS.has(selection.name.value)) return false;
    if (selection.kind === Kind.INLINE_FRAGMENT && !onlyFields(selection.selectionSet, info, seen)) return false;
    if (selection.kind === Kind.FRAGMENT_SPREAD && !seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = info.fragments[selection.name.value];
      if (fragment && !onlyFields(fragment.selectionSet, info, seen)) return false;
    }
  }
  return true;
}

/** A contact's photo known from its picture alone: `null` when Graph has none (404). */
export async function photoFromPicture(reads: PhotoReads, invitationId: string, contactId: string): Promise<{ invitationId: string; contactId: string } | null> {
  const picture = await reads.value(invitationId, contactId);
  return picture && { invitationId, contactId };
}

/**
 * Whether a `contacts` field selects its contacts' `photo` (`edges { node { photo } } }`, through
 * fragments): then its page counts towards `PHOTO_LIST_MAX`.
 */
export function selectsPagePhotos(field: FieldNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): boolean {
  return selectsAlong(field.selectionSet, ['edges', 'node', 'photo'], fragments);
}

/**
 * The photos a `contacts` page that selects `photo` reads: its `first` as the resolver gets it
 * (the schema's default when absent, or given by a variable that was not sent), none when the
 * resolver refuses it (outside 1..100, or null: BAD_USER_INPUT naming `first`, no Graph call).
 */
export function pagePhotos(field: FieldNode, variables: Readonly<Record<string, unknown>>): number {
  const value = field.arguments?.find((argument) => argument.name.value === 'first')?.value;
  let first: unknown = DEFAULT_CONTACTS_PAGE;
  if (value?.kind === Kind.INT) first = Number(value.value);
  else if (value?.kind === Kind.NULL) first = null;
  else if (value?.kind === Kind.VARIABLE && value.name.value in variables) first = variables[value.name.value];
  return validPageSize(first as number | null) ? (first as number) : 0;
}

/** Whether a selection reaches the fields of `path` one level each, through inline fragments and named ones (each followed once per level). */
function selectsAlong(selectionSet: SelectionSetNode | undefined, path: readonly string[], fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen = new Set<string>()): boolean {
  if (path.length === 0) return true;
  if (selectionSet === undefined) return false;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === path[0] && selectsAlong(selection.selectionSet, path.slice(1), fragments)) return true;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selectsAlong(selection.selectionSet, path, fragments, seen)) return true;
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      if (selectsAlong(fragments.get(selection.name.value)?.selectionSet, path, fragments, seen)) return true;
    }
  }
  return false;
}
