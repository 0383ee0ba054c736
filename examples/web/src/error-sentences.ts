import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';

/** What went wrong with an upload, for a person: the gateway's error code turned into a sentence. */
export function sentenceFor(error: unknown): string {
  const { code, retryAfter } = codeOf(error);
  switch (code) {
    case 'PAYLOAD_TOO_LARGE':
      return 'That picture is too large. Choose one under 20 MB.';
    case 'BAD_USER_INPUT':
      return 'That file is not a picture we can use. Choose a JPEG, PNG, GIF, WebP, AVIF or HEIC photo.';
    case 'TOO_MANY_REQUESTS':
      return retryAfter === undefined ? 'Too many pictures are being changed right now. Try again in a moment.' : `Too many pictures are being changed right now. Try again in ${Math.ceil(retryAfter)} seconds.`;
    case 'UNAUTHENTICATED':
      return 'Your sign-in has expired. Sign in again.';
    case 'FORBIDDEN':
      return 'You may not change this contact’s picture.';
    default:
      return 'Something went wrong. Try again.';
  }
}

/**
 * Why a read failed (a contact's picture, or the list), for a person, with the gateway's code
 * for whoever reports it: "Microsoft Graph refused access (FORBIDDEN)".
 */
export function reasonFor(extensions: Record<string, unknown> | undefined): string {
  const { code, retryAfter } = fromExtensions(extensions);
  const reason = (() => {
    switch (code) {
      case 'FORBIDDEN':
        return 'Microsoft Graph refused access';
      case 'NOT_FOUND':
        return 'Microsoft Graph does not know this invitation or contact';
      case 'UNAUTHENTICATED':
        return 'your sign-in has expired; sign in again';
      case 'TOO_MANY_REQUESTS':
        return retryAfter === undefined ? 'Microsoft Graph is busy; try again in a moment' : `Microsoft Graph is busy; try again in ${Math.ceil(retryAfter)} seconds`;
      case 'UPSTREAM_UNAVAILABLE':
        return 'Microsoft Graph is unavailable right now';
      case 'GATEWAY_TIMEOUT':
        return 'Microsoft Graph took too long to answer';
      case 'BAD_GATEWAY':
        return 'Microsoft Graph answered with an error';
      case undefined:
        return 'the gateway could not be reached';
      default:
        return 'something went wrong';
    }
  })();
  return code === undefined ? reason : `${reason} (${code})`;
}

/** `reasonFor` an error from Apollo Client: its first GraphQL error's code, or the HTTP error's body's. */
export function reasonForError(error: unknown): string {
  return reasonFor(extensionsOf(error));
}

/**
 * The gateway's `extensions.code` (and `retryAfter`) of an error from Apollo Client: GraphQL
 * errors in an answer, or an HTTP error (413, 429, 401) whose body carries them.
 */
function codeOf(error: unknown): { code: string | undefined; retryAfter: number | undefined } {
  return fromExtensions(extensionsOf(error));
}

function extensionsOf(error: unknown): Record<string, unknown> | undefined {
  if (CombinedGraphQLErrors.is(error)) return error.errors[0]?.extensions;
  if (!ServerError.is(error)) return undefined;
  try {
    return (JSON.parse(error.bodyText) as { errors?: Array<{ extensions?: Record<string, unknown> }> }).errors?.[0]?.extensions;
  } catch {
    return undefined;
  }
}

function fromExtensions(extensions: Record<string, unknown> | undefined): { code: string | undefined; retryAfter: number | undefined } {
  const code = extensions?.['code'];
  const retryAfter = extensions?.['retryAfter'];
  return { code: typeof code === 'string' ? code : undefined, retryAfter: typeof retryAfter === 'number' ? retryAfter : undefined };
}
