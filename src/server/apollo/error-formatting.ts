import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';
import { GatewayErrorCode } from '../../errors/codes.js';
import { defaultMessage } from '../../errors/gateway-error.js';

/**
 * graphql-js's "Did you mean ...?" for a misspelt field of an input variable. Apollo's
 * `hideSchemaDetailsFromClientErrors` removes suggestions from validation errors only; a
 * variable is coerced later, and its error would still map the schema for a guesser.
 */
const SUGGESTION = / Did you mean [^?]*\?$/;

function withoutSuggestion(formatted: GraphQLFormattedError): GraphQLFormattedError {
  return SUGGESTION.test(formatted.message) ? { ...formatted, message: formatted.message.replace(SUGGESTION, '') } : formatted;
}

/**
 * Apollo's `formatError`. Errors the gateway answers on purpose (`GatewayError`) and Apollo's
 * own request errors are `GraphQLError`s and pass unchanged. Anything else thrown while
 * executing is a bug: it is logged and masked, so that no internal detail reaches a caller.
 * With `debug` on, it is left as Apollo formats it (with its stack trace). `hideLimits` takes
 * the value of an operation limit out of a message where it must not be exposed.
 */
export function createFormatError(
  logger: Logger,
  debug: boolean,
  hideLimits: (formatted: GraphQLFormattedError) => GraphQLFormattedError,
  hideSuggestions = false,
) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof GraphQLError) return hideLimits(hideSuggestions ? withoutSuggestion(formatted) : formatted);
    const summary =
      original instanceof Error
        ? { name: original.name, message: original.message, stack: original.stack }
        : { name: typeof original, message: String(original) };
    logger.error({ err: summary, path: formatted.path }, 'unexpected error while executing an operation');
    if (debug) return formatted;
    return {
      message: defaultMessage(GatewayErrorCode.INTERNAL_SERVER_ERROR),
      ...(formatted.locations && { locations: formatted.locations }),
      ...(formatted.path && { path: formatted.path }),
      extensions: { code: GatewayErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
