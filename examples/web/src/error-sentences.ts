import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';

/** What went wrong, for a person: the gateway's error code turned into a sentence. */
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
 * The gateway's `extensions.code` (and `retryAfter`) of an error from Apollo Client: GraphQL
 * errors in an answer, or an HTTP error (413, 429, 401) whose body carries them.
 */
function codeOf(error: unknown): { code: string | undefined; retryAfter: number | undefined } {
  let extensions: Record<string, unknown> | undefined;
  if (CombinedGraphQLErrors.is(error)) extensions = error.errors[0]?.extensions;
  else if (ServerError.is(error)) {
    try {
      extensions = (JSON.parse(error.bodyText) as { errors?: Array<{ extensions?: Record<string, unknown> }> }).errors?.[0]?.extensions;
    } catch {
      extensions = undefined;
    }
  }
  const code = extensions?.['code'];
  const retryAfter = extensions?.['retryAfter'];
  return { code: typeof code === 'string' ? code : undefined, retryAfter: typeof retryAfter === 'number' ? retryAfter : undefined };
}
