/**
 * How the simulator reads a request the way Graph does: the path and its ids, the bearer token,
 * and a PATCH body. Anything Graph would refuse throws a `GraphHttpError`.
 */

/** The path prefix of the simulated API version, as in `https://graph.microsoft.com/beta`. */
export const VERSION_SEGMENT = 'beta';
export const ODATA_TYPE = '#microsoft.graph.profilePhoto';
const INT32_MAX = 2 ** 31 - 1;

/** An error Graph would answer, with its status and OData code. */
export class GraphHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The token of a `Bearer` Authorization header, as Graph requires one. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer +(\S+)$/i.exec(header);
  return match?.[1];
}

/**
 * The ids in `/beta/invitations/{invitationId}/invitedUser/contacts/{contactId}/photo`, each
 * decoded from its own segment, or `undefined` for any other path.
 */
export function parsePhotoPath(url: string): { invitationId: string; contactId: string } | undefined {
  const path = url.split('?')[0]!;
  const segments = path.split('/');
  if (
    segments.length !== 8 ||
    segments[0] !== '' ||
    segments[1] !== VERSION_SEGMENT ||
    segments[2] !== 'invitations' ||
    segments[4] !== 'invitedUser' ||
    segments[5] !== 'contacts' ||
    segments[7] !== 'photo'
  ) {
    return undefined;
  }
  try {
    const invitationId = decodeURIComponent(segments[3]!);
    const contactId = decodeURIComponent(segments[6]!);
    if (invitationId === '' || contactId === '') return undefined;
    return { invitationId, contactId };
  } catch {
    return undefined;
  }
}

function isInt32OrNull(value: unknown): boolean {
  return value === null || (Number.isInteger(value) && Math.abs(value as number) <= INT32_MAX);
}

/** A PATCH body as Graph validates it: JSON `profilePhoto` with Int32 (or null) sizes only. */
export function parsePatch(contentType: string | undefined, body: string): { height?: number | null; width?: number | null } {
  if (!contentType?.toLowerCase().startsWith('application/json')) {
    throw new GraphHttpError(415, 'UnsupportedMediaType', 'Content-Type must be application/json.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new GraphHttpError(400, 'BadRequest', 'Unable to read JSON request payload.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new GraphHttpError(400, 'BadRequest', 'The request payload must be a profilePhoto object.');
  }
  const patch: { height?: number | null; width?: number | null } = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === '@odata.type') {
      if (value !== ODATA_TYPE) throw new GraphHttpError(400, 'BadRequest', `Invalid @odata.type '${String(value)}'.`);
    } else if (key === 'height' || key === 'width') {
      if (!isInt32OrNull(value)) throw new GraphHttpError(400, 'BadRequest', `Property '${key}' must be an Int32.`);
      patch[key] = value as number | null;
    } else {
      throw new GraphHttpError(400, 'BadRequest', `Property '${key}' does not exist or is read-only on profilePhoto.`);
    }
  }
  return patch;
}
