/**
 * How the simulator reads a request the way Graph does: the path and its ids, the bearer token,
 * a PATCH body, and a photo upload. Anything Graph would refuse throws a `GraphHttpError`.
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

/** A photo path's ids, and whether it names the picture's bytes (`photo/$value`) or its metadata. */
export interface PhotoPath {
  invitationId: string;
  contactId: string;
  value: boolean;
}

/**
 * The ids in `/beta/invitations/{invitationId}/invitedUser/contacts/{contactId}/photo` (or
 * `.../photo/$value`), each decoded from its own segment, or `undefined` for any other path.
 */
export function parsePhotoPath(url: string): PhotoPath | undefined {
  const path = url.split('?')[0]!;
  const segments = path.split('/');
  const value = segments.length === 9 && segments[8] === '$value';
  if (
    (segments.length !== 8 && !value) ||
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
    return { invitationId, contactId, value };
  } catch {
    return undefined;
  }
}

/** Graph's largest photo. */
export const MAX_PHOTO_BYTES = 4 * 1024 * 1024;

/** A `photo/$value` upload as Graph checks it before reading the image: a JPEG, at most 4 MB. */
export function checkPhotoUpload(contentType: string | undefined, bytes: Buffer): void {
  if (contentType?.split(';')[0]?.trim().toLowerCase() !== 'image/jpeg') {
    throw new GraphHttpError(415, 'UnsupportedMediaType', 'Content-Type must be image/jpeg.');
  }
  if (bytes.length > MAX_PHOTO_BYTES) throw new GraphHttpError(413, 'requestTooLarge', 'The photo is larger than 4 MB.');
  if (bytes.length === 0) throw new GraphHttpError(400, 'ErrorInvalidImage', 'The photo is empty.');
}

function isInt32OrNull(value: unknown): boolean {
  return value === null || (Number.isInteger(value) && Math.abs(value as number) <= INT32_MAX);
}

/** A JSON request body as Graph reads one: 415 unless declared JSON, 400 unless it parses. */
export function readJsonBody(contentType: string | undefined, body: string): unknown {
  if (!contentType?.toLowerCase().startsWith('application/json')) {
    throw new GraphHttpError(415, 'UnsupportedMediaType', 'Content-Type must be application/json.');
  }
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new GraphHttpError(400, 'BadRequest', 'Unable to read JSON request payload.');
  }
}

/** A PATCH body as Graph validates it: JSON `profilePhoto` with Int32 (or null) sizes only. */
export function parsePatch(contentType: string | undefined, body: string): { height?: number | null; width?: number | null } {
  const parsed = readJsonBody(contentType, body);
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
