import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  Kind,
  type GraphQLFormattedError,
  type FieldNode,
  type ParseOptions,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/**
 * The bounds every operation is held to, set for this schema: its deepest useful selection is
 * `updateContactPhoto { id height width }`, so anything far beyond these is abuse or a bug.
 * Introspection is exempt from depth and cost (Sandbox's query is deep), not from tokens.
 */
export const OPERATION_LIMITS = {
  /** Root fields that call Microsoft Graph, aliases counted (each is one Graph call). */
  graphCalls: 10,
  aliases: 15,
  depth: 5,
  directives: 10,
  /** Lexical tokens in the document, counted by graphql-js's parser; Sandbox's introspection query has about 300. */
  tokens: 1000,
  /** armor's cost: 2 per object field, 1 per scalar, times 1.5 per level of depth. */
  cost: 250,
} as const;

/** The root fields whose resolvers call Graph, once each; other root fields (`__typename`, introspection) are free. */
export const GRAPH_CALLING_FIELDS: ReadonlySet<string> = new Set(['contactPhoto', 'updateContactPhoto', 'uploadContactPhoto']);

/** Federation's root field: one Graph call per representation it is given (see subgraph.ts). */
export const ENTITIES_FIELD = '_entities';

/**
 * At most `max` Graph-calling root fields per operation, counting aliases, fragments and
 * inline fragments at the root (a cycle of fragments is counted once; GraphQL's own rule
 * rejects it). `@skip`/`@include` are not evaluated: the bound is on the document.
 */
export function maxGraphCallsRule(max: number, exposeLimits: boolean): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      const calls = sumRootFields(
        operation.selectionSet,
        (name) => context.getFragment(name),
        (field) => (GRAPH_CALLING_FIELDS.has(field.name.value) ? 1 : 0),
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
