import type { ApolloServerPlugin, BaseContext, GraphQLRequest, GraphQLRequestListener } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  getVariableValues,
  GraphQLError,
  Kind,
  type DocumentNode,
  type GraphQLFormattedError,
  type FieldNode,
  type OperationDefinitionNode,
  type ParseOptions,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { GatewayErrorCode } from '../errors/codes.js';
import { pagePhotos, selectsPagePhotos } from './contacts.js';

/**
 * The bounds every operation is held to, set for this schema: its deepest selection is a contacts
 * page's `contacts { edges { node { photo { dataUrl } } } }` (5 levels, fragments adding to it),
 * so anything far beyond these is abuse or a bug.
 * Introspection is exempt from depth and cost (Sandbox's query is deep), not from tokens.
 */
export const OPERATION_LIMITS = {
  /**
   * Root fields that write through Microsoft Graph, aliases counted (each is a Graph call of
   * its own). Photo reads are bounded by `PHOTO_LIST_MAX` instead (see `photoListLimitPlugin`).
   */
  graphCalls: 10,
  aliases: 15,
  depth: 5,
  directives: 10,
  /** Lexical tokens in the document, counted by graphql-js's parser; Sandbox's introspection query has about 300. */
  tokens: 1000,
  /**
   * armor's cost: 2 per object field, 1 per scalar, times 1.5 per level of depth, and a field's
   * whole cost times its `first` when that is written in the document. A contacts screen's page
   * (`contacts(first: 100) { edges { cursor node { id displayName emailAddresses { address }
   * photo { id dataUrl(size: 48) } } } pageInfo { ... } }`, Apollo Client's `__typename`s and two
   * more contact fields) costs 8,094; two such pages in one operation cost 10,938.
   */
  cost: 8500,
} as const;

/** The root fields whose resolvers call Graph; other root fields (`__typename`, introspection) are free. */
export const GRAPH_CALLING_FIELDS: ReadonlySet<string> = new Set(['contactPhoto', 'contactPhotos', 'contacts', 'updateContactPhoto', 'uploadContactPhoto']);

/**
 * The root fields that only read, bounded by `PHOTO_LIST_MAX` and the alias limit rather than the
 * Graph-call cap: photo reads go to Graph together (batched), and `contacts` is one list call
 * whose photos `PHOTO_LIST_MAX` counts (`first` per page that selects `photo`).
 */
export const GRAPH_READ_FIELDS: ReadonlySet<string> = new Set(['contactPhoto', 'contactPhotos', 'contacts']);

/** The Graph-calling root fields the Graph-call cap counts, one call each: the writes. */
export function isCappedGraphCall(name: string): boolean {
  return GRAPH_CALLING_FIELDS.has(name) && !GRAPH_READ_FIELDS.has(name);
}

/** Federation's root field: one Graph call per representation it is given (see subgraph.ts). */
export const ENTITIES_FIELD = '_entities';

/**
 * At most `max` Graph-writing root fields per operation, counting aliases, fragments and
 * inline fragments at the root (a cycle of fragments is counted once; GraphQL's own rule
 * rejects it). `@skip`/`@include` are not evaluated: the bound is on the document.
 */
export function maxGraphCallsRule(max: number, exposeLimits: boolean): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      const calls = sumRootFields(
        operation.selectionSet,
        (name) => context.getFragment(name),
        (field) => (isCappedGraphCall(field.name.value) ? 1 : 0),
      );
      if (calls <= max) return;
      const detail = exposeLimits ? `; an operation may make at most ${max}, this one makes ${calls}` : '';
      context.reportError(
        new GraphQLError(`Too many Microsoft Graph calls in one operation${detail}.`, { nodes: [operation] }),
      );
    },
  });
}

/**
 * `weight` summed over the fields of a root selection set, through inline fragments and the
 * fragments `fragment` finds by name (each counted once, so a cycle ends). The one walk behind
 * every count of an operation's Graph calls: the document rule here, and Federation's
 * `_entities` limit.
 */
export function sumRootFields(
  selectionSet: SelectionSetNode,
  fragment: (name: string) => FragmentDefinitionNode | null | undefined,
  weight: (field: FieldNode) => number,
  seen = new Set<string>(),
): number {
  let sum = 0;
  for (const selection of selectionSet.selections) {
    switch (selection.kind) {
      case Kind.FIELD:
        sum += weight(selection);
        break;
      case Kind.INLINE_FRAGMENT:
        sum += sumRootFields(selection.selectionSet, fragment, weight, seen);
        break;
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const definition = fragment(name);
        if (definition && !seen.has(name)) {
          seen.add(name);
          sum += sumRootFields(definition.selectionSet, fragment, weight, seen);
        }
        break;
      }
    }
  }
  return sum;
}

const rootFieldNamesByOperation = new WeakMap<OperationDefinitionNode, ReadonlySet<string>>();

/**
 * The names of an operation's root fields, through inline fragments and named ones: found once
 * per operation of a document (Apollo keeps documents parsed), so that a plugin asking whether an
 * operation selects a field pays a look-up per request.
 */
export function rootFieldNames(operation: OperationDefinitionNode, document: DocumentNode): ReadonlySet<string> {
  let names = rootFieldNamesByOperation.get(operation);
  if (names === undefined) {
    const found = new Set<string>();
    const fragments = fragmentsOf(document);
    sumRootFields(operation.selectionSet, (name) => fragments.get(name), (field) => (found.add(field.name.value), 0));
    rootFieldNamesByOperation.set(operation, (names = found));
  }
  return names;
}

/** The operation's fragments by name. */
export function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  return fragments;
}

/**
 * How many values a list argument of a field is given: a list's length (written in the document
 * or in a variable of any name), one for a lone value written in the document (list input
 * coercion), none when absent or null. `variables` are the values the resolvers get (see
 * `resolvedVariables`): coerced, a list variable holds a list (a lone value sent becomes a list
 * of one) or null.
 */
export function listLength(field: FieldNode, argumentName: string, variables: Readonly<Record<string, unknown>>): number {
  const argument = field.arguments?.find((candidate) => candidate.name.value === argumentName);
  if (!argument) return 0;
  const { value } = argument;
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const given = variables[value.name.value];
    return Array.isArray(given) ? given.length : 0;
  }
  return value.kind === Kind.NULL ? 0 : 1;
}

/**
 * The variables as the resolvers will get them: graphql-js's coercion of the values sent, with
 * the operation's default values for those not sent (`query($ids: [ID!]! = [...])` sent without
 * variables reads the default's ids). Apollo's `request.variables` are only what was sent.
 * `undefined` when they do not coerce: execution then refuses the operation before any resolver
 * runs, so there is nothing to count.
 */
export function resolvedVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  request: GraphQLRequest,
): Readonly<Record<string, unknown>> | undefined {
  const definitions = operation.variableDefinitions ?? [];
  if (definitions.length === 0) return {};
  // Kept for the request: with Federation, PHOTO_LIST_MAX and the entities' limit both count.
  if (coercedByRequest.has(request)) return coercedByRequest.get(request);
  const { coerced } = getVariableValues(schema, definitions, request.variables ?? {}, { maxErrors: 1 });
  coercedByRequest.set(request, coerced);
  return coerced;
}

const coercedByRequest = new WeakMap<GraphQLRequest, Readonly<Record<string, unknown>> | undefined>();

/** Whether a field's list argument is a variable, whose length only the request's values say. */
function isVariable(list: ListArgument): boolean {
  return list.field.arguments?.some((argument) => argument.name.value === list.argument && argument.value.kind === Kind.VARIABLE) ?? false;
}

/**
 * At most `max` contact photos read per operation (`PHOTO_LIST_MAX`): every id of every
 * `contactPhotos` field, every `contactPhoto` field, and (with Federation) every representation
 * of every `_entities` field, aliases and fragments counted. The ids may come in variables (or
 * their default values), which no document rule sees: counted once the operation is resolved,
 * before any resolver runs, and refused with BAD_USER_INPUT (HTTP 400) naming the limit.
 */
export function photoListLimitPlugin(max: number): ApolloServerPlugin {
  const requestListener: GraphQLRequestListener<BaseContext> = {
    async didResolveOperation({ request, operation, document, schema }) {
      if (!operation) return;
      const reads = photoReadsOf(operation, document);
      if (reads.lists.length === 0 && reads.fields <= max) return;
      // Coercion costs a few microseconds: only for lists whose length is in the variables.
      const variables = reads.lists.some(isVariable) ? resolvedVariables(schema, operation, request) : {};
      if (variables === undefined) return;
      let photos = reads.fields;
      for (const list of reads.lists) photos += list.argument === 'first' ? pagePhotos(list.field, variables) : listLength(list.field, list.argument, variables);
      if (photos <= max) return;
      throw new GraphQLError(
        `Too many contact photos in one operation: at most ${max} (contactPhotos ids, contactPhoto fields, contacts pages that select photo, and entities together), this one asks for ${photos}.`,
        { extensions: { code: GatewayErrorCode.BAD_USER_INPUT, http: { status: 400 } } },
      );
    },
  };
  return {
    async requestDidStart() {
      return requestListener;
    },
  };
}

/**
 * A field whose argument says how many photos it reads: `contactPhotos(contactIds:)` or
 * `_entities(representations:)` (a list's length), or `contacts(first:)` (a page's size).
 */
interface ListArgument {
  field: FieldNode;
  argument: string;
}

/** An operation's photo reads as its document has them: `contactPhoto` fields, and the list fields whose ids may be variables. */
interface PhotoReadFields {
  fields: number;
  lists: ListArgument[];
}

const photoReadsByOperation = new WeakMap<OperationDefinitionNode, PhotoReadFields>();

/** Walked once per operation of a document (Apollo keeps documents parsed): a mutation's requests pay a look-up. */
function photoReadsOf(operation: OperationDefinitionNode, document: DocumentNode): PhotoReadFields {
  let reads = photoReadsByOperation.get(operation);
  if (reads === undefined) {
    const found: PhotoReadFields = { fields: 0, lists: [] };
    let fragments: Map<string, FragmentDefinitionNode> | undefined;
    sumRootFields(
      operation.selectionSet,
      (name) => (fragments ??= fragmentsOf(document)).get(name),
      (field) => {
        const name = field.name.value;
        if (name === 'contactPhoto') found.fields++;
        else if (name === 'contactPhotos') found.lists.push({ field, argument: 'contactIds' });
        // Each representation is one photo read (ProfilePhoto is the subgraph's only entity).
        else if (name === ENTITIES_FIELD) found.lists.push({ field, argument: 'representations' });
        else if (name === 'contacts' && selectsPagePhotos(field, (fragments ??= fragmentsOf(document)))) {
          found.lists.push({ field, argument: 'first' });
        }
        return 0;
      },
    );
    photoReadsByOperation.set(operation, (reads = found));
  }
  return reads;
}

export interface OperationLimitsSetup {
  validationRules: ValidationRule[];
  parseOptions: ParseOptions;
  /** Apollo's `formatError` step that keeps a limit's value out of an answer when it must not be exposed. */
  formatError(formatted: GraphQLFormattedError): GraphQLFormattedError;
}

const TOKEN_LIMIT_MESSAGE = /^Syntax Error: Document contains more th(?:at|an) \d+ tokens\. Parsing aborted\.$/;

/**
 * graphql-armor for aliases, depth, tokens, directives and cost, plus the Graph-call bound.
 * In production the answers name the limit broken but not its value.
 */
export function operationLimits(production: boolean): OperationLimitsSetup {
  const exposeLimits = !production;
  const armor = new ApolloArmor({
    maxAliases: { n: OPERATION_LIMITS.aliases, exposeLimits, errorMessage: 'Too many aliases.' },
    maxDepth: { n: OPERATION_LIMITS.depth, exposeLimits, errorMessage: 'Query too deep.' },
    maxDirectives: { n: OPERATION_LIMITS.directives, exposeLimits, errorMessage: 'Too many directives.' },
    // graphql-js counts tokens while it parses (Apollo's `parseOptions`), and answers 400
    // GRAPHQL_PARSE_FAILED; armor's token plugin parses every new document a second time and
    // throws from a hook, which Apollo answers as a 500.
    maxTokens: { enabled: false },
    costLimit: { maxCost: OPERATION_LIMITS.cost, exposeLimits, errorMessage: 'Query too costly.' },
    // Apollo's own `hideSchemaDetailsFromClientErrors` hides suggestions instead: armor's Apollo
    // plugin leaves a dangling "?" behind the mask ("...on type \"Query\". [Suggestion hidden]?").
    blockFieldSuggestion: { enabled: false },
  }).protect();
  // armor's only Apollo plugins are for tokens and suggestions, both off: its rules are all it adds.
  return {
    validationRules: [...armor.validationRules, maxGraphCallsRule(OPERATION_LIMITS.graphCalls, exposeLimits)],
    parseOptions: { maxTokens: OPERATION_LIMITS.tokens },
    formatError(formatted) {
      if (exposeLimits || !TOKEN_LIMIT_MESSAGE.test(formatted.message)) return formatted;
      return { ...formatted, message: 'Syntax Error: Too many tokens.' };
    },
  };
}
