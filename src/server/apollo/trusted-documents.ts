import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { Kind, parse } from 'graphql';
import type { TrustedDocuments } from '../../config/trusted-documents.js';

/**
 * Apollo's persisted-query store, answered from the manifest: a hash finds its trusted document,
 * and nothing is ever stored, so automatic persisted-query registration is off.
 */
export class TrustedDocumentStore implements KeyValueCache<string> {
  constructor(private readonly trusted: TrustedDocuments) {}

  /** Apollo asks with its own prefix (`apq:`) before the hash. */
  async get(key: string): Promise<string | undefined> {
    return this.trusted.byHash.get(key.slice(key.lastIndexOf(':') + 1));
  }

  async set(): Promise<void> {}

  async delete(): Promise<boolean> {
    return false;
  }
}

/**
 * Whether every operation of `source` selects only `__schema`, `__type` or `__typename` at its
 * root (fragments may follow, as in Sandbox's introspection query).
 */
function isIntrospectionOnly(source: string): boolean {
  try {
    return parse(source).definitions.every(
      (definition) =>
        definition.kind === Kind.FRAGMENT_DEFINITION ||
        (definition.kind === Kind.OPERATION_DEFINITION &&
          definition.selectionSet.selections.every((selection) => selection.kind === Kind.FIELD && selection.name.value.startsWith('__'))),
    );
  } catch {
    return false;
  }
}

/**
 * Whether a GraphQL request (a POST body, or a GET's query string) may run: a document sent as
 * text must be one of the manifest's, byte for byte, or introspection while `allowIntrospection`.
 * A request by hash alone passes here; the `TrustedDocumentStore` then finds its document or
 * Apollo answers PERSISTED_QUERY_NOT_FOUND.
 */
export function isTrustedRequest(trusted: TrustedDocuments, allowIntrospection: boolean, request: unknown): boolean {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return true; // Apollo refuses these itself.
  const query = (request as { query?: unknown }).query;
  if (query === undefined || query === '') return true;
  if (typeof query !== 'string') return true; // Apollo answers 400 for a query that is not a string.
  return trusted.texts.has(query) || (allowIntrospection && isIntrospectionOnly(query));
}

/** The message of the 403 for a document not in the manifest. */
export const UNTRUSTED_DOCUMENT_MESSAGE =
  'Only trusted documents are accepted: send an operation from the manifest, by its hash or its exact text.';
