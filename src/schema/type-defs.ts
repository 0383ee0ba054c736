import { readFileSync } from 'node:fs';

/**
 * The schema's SDL, read from `schema.graphql` at the project root, the one source of truth
 * shared with codegen. The path holds from `src/` (tests) and from `dist/` (the build) alike.
 */
export const typeDefs = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
