import { CombinedGraphQLErrors } from '@apollo/client/errors';
import type { ContactListQuery } from '../../generated/graphql.js';
import { reasonFor } from './error-sentences.js';

/**
 * The contacts of one answered page whose picture could not be read, by contact id, with why.
 * A failed read is `photo: null` (or its `thumbnail` null) with an error at that path, while a
 * contact without a picture is `null` with none: the errors' paths tell them apart, and must be
 * read against the page they came with (their index is the edge's in that answer).
 */
export function photoFailures(page: ContactListQuery['contacts'] | null | undefined, error: unknown): Map<string, string> {
  const failures = new Map<string, string>();
  if (!page || !CombinedGraphQLErrors.is(error)) return failures;
  for (const each of error.errors) {
    const [field, edges, index, node, photo] = each.path ?? [];
    if (field !== 'contacts' || edges !== 'edges' || typeof index !== 'number' || node !== 'node' || photo !== 'photo') continue;
    const contact = page.edges[index]?.node;
    if (contact && !failures.has(contact.id)) failures.set(contact.id, reasonFor(each.extensions));
  }
  return failures;
}
