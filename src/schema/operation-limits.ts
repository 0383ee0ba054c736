import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  Kind,
  type GraphQLFormattedError,
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

/** The root fields whose resolvers call Graph; other root fields (`__typename`, introspection) are free. */
const GRAPH_CALLING_FIELDS: ReadonlySet<string> = new Set(['contactPhoto', 'updateContactPhoto', 'uploadContactPhoto']);

/**
 * At most `max` Graph-calling root fields per operation, counting aliases, fragments and
 * inline fragments at the root (a cycle of fragments is counted once; GraphQL's own rule
 * rejects it). `@skip`/`@include` are not evaluated: the bound is on the document.
 */
export function maxGraphCallsRule(max: number, exposeLimits: boolean): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      const calls = countGraphCalls(operation.selectionSet, context, new Set());
      if (calls <= max) return;
      const detail = exposeLimits ? `; an operation may make at most ${max}, this one makes ${calls}` : '';
      context.reportError(
        new GraphQLError(`Too many Microsoft Graph calls in one operation${detail}.`, { nodes: [operation] }),
      );
    },
  });
}

function countGraphCalls(selectionSet: SelectionSetNode, context: ValidationContext, seen: Set<string>): number {
  let calls = 0;
  for (const selection of selectionSet.selections) {
    switch (selection.kind) {
      case Kind.FIELD:
        if (GRAPH_CALLING_FIELDS.has(selection.name.value)) calls++;
        break;
      case Kind.INLINE_FRAGMENT:
        calls += countGraphCalls(selection.selectionSet, context, seen);
        break;
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment: FragmentDefinitionNode | null | undefined = context.getFragment(name);
        if (fragment && !seen.has(name)) {
          seen.add(name);
          calls += countGraphCalls(fragment.selectionSet, context, seen);
        }
        break;
      }
    }
  }
  return calls;
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
