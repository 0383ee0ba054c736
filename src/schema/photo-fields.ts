import { GatewayErrorCode } from '../errors/codes.js';
import { badUserInput, GatewayError } from '../errors/gateway-error.js';
import { assertValidId } from '../graph/contact-photo-path.js';
import type { GraphCallContext } from '../graph/graph-client.js';
import type { PhotoValue } from '../graph/photo-value.js';
import type { GraphProfilePhoto } from '../graph/types.js';
import { OUTLOOK_PHOTO_SIZES } from '../limits/graph-photo-limits.js';
import { PhotoQueueFullError, UnusableImageError } from '../photos/photo-processor.js';
import type { GatewayContext } from './context.js';
import { dataUrl } from './data-url-budget.js';
import type { PhotoReads } from './photo-reads.js';
import type { PhotoUpload } from './upload.js';

/**
 * `uploadContactPhoto`: the file made into a clean JPEG, sent with `PUT .../photo/$value`, then
 * the photo's metadata as Graph now has it. Ids are checked before any image work. When the
 * caller goes away, the image work stops and nothing is sent to Graph; once the PUT has started,
 * it is completed (a half-sent photo helps nobody) and the operation's log line says the caller left.
 */
export async function uploadContactPhoto(
  invitationId: string,
  contactId: string,
  file: PhotoUpload,
  context: GatewayContext,
  call: GraphCallContext,
): Promise<GraphProfilePhoto> {
  assertValidId('invitationId', invitationId);
  assertValidId('contactId', contactId);
  let photo;
  try {
    photo = await context.photos.normalise(file.bytes, { ...context.upload });
  } catch (error) {
    throw photoError(error, (message) => badUserInput('file', message));
  }
  context.stats.photo = { inputFormat: photo.inputFormat, bytesIn: file.bytes.length, bytesOut: photo.jpeg.length, processingSeconds: photo.seconds };
  context.observer?.photoProcessed('upload', photo.inputFormat, photo.seconds, file.bytes.length, photo.jpeg.length);
  context.upload?.signal.throwIfAborted();
  // Every caller's cached reads of the contact go stale once Graph has the picture (or may have it).
  await context.graph.putContactPhotoValue(invitationId, contactId, photo.jpeg, call).finally(() => context.photoCache?.changed(invitationId, contactId));
  // The picture changed: a `dataUrl` on this answer must read the new one.
  context.photoReads?.forget(invitationId, contactId);
  const stored = await context.graph.getContactPhoto(invitationId, contactId, call);
  if (stored === null) {
    throw new GatewayError(GatewayErrorCode.BAD_GATEWAY, 'Microsoft Graph accepted the photo but then had none for this contact.');
  }
  return stored;
}

/**
 * The answer for an image that could not be processed: `unusable` says whose fault an unusable
 * image is (the uploader's, or Graph's); a full queue is TOO_MANY_REQUESTS; anything else (the
 * caller left, a bug) goes on as it is.
 */
function photoError(error: unknown, unusable: (message: string) => GatewayError): unknown {
  if (error instanceof UnusableImageError) return unusable(error.message);
  if (error instanceof PhotoQueueFullError) {
    return new GatewayError(GatewayErrorCode.TOO_MANY_REQUESTS, error.message, { retryAfter: error.retryAfterS });
  }
  return error;
}

/**
 * `ProfilePhoto.dataUrl`: Graph's picture as a `data:` URL (within the operation's
 * `PHOTO_DATAURL_BUDGET_BYTES`), or a JPEG thumbnail of it. `size` is checked before any call;
 * Graph's bytes are read once per photo per request (with the request's other reads, see
 * PhotoReads), and each thumbnail size is made once.
 */
export async function photoDataUrl(
  photo: { invitationId: string; contactId: string },
  size: number | null | undefined,
  context: GatewayContext,
  photoReads: (context: GatewayContext) => PhotoReads,
): Promise<string | null> {
  checkSize(size);
  const reads = photoReads(context);
  if (size === null || size === undefined) return reads.fullSizeDataUrl(photo.invitationId, photo.contactId);
  const scaled = await thumbnail(photo, size, context, reads);
  return scaled && dataUrl(scaled);
}

/**
 * `ProfilePhoto.url`: the URL the gateway serves the picture (or its thumbnail) at, signed and
 * named by the bytes' hash (photo-cache/photo-urls.ts). Read as `dataUrl` reads it, without its
 * budget: the bytes are not in the answer. (A deliberate pair with `photoDataUrl`: the same
 * parameters, as both are resolvers of the same photo's picture.)
 */
export async function photoUrl(
  photo: { invitationId: string; contactId: string },
  size: number | null | undefined,
  context: GatewayContext,
  photoReads: (context: GatewayContext) => PhotoReads,
): Promise<string | null> {
  checkSize(size);
  if (!context.photoUrls) return null;
  const reads = photoReads(context);
  const picture = size === null || size === undefined ? await reads.value(photo.invitationId, photo.contactId) : await thumbnail(photo, size, context, reads);
  return picture && context.photoUrls.urlFor(photo.invitationId, picture);
}

function checkSize(size: number | null | undefined): void {
  if (size !== null && size !== undefined && !OUTLOOK_PHOTO_SIZES.includes(size)) {
    throw badUserInput('size', `size must be one of Outlook's photo sizes: ${OUTLOOK_PHOTO_SIZES.join(', ')}.`);
  }
}

/** The contact's picture scaled to `size`, `null` when it has none: made once per request (and kept by the photo cache). */
async function thumbnail(photo: { invitationId: string; contactId: string }, size: number, context: GatewayContext, reads: PhotoReads): Promise<PhotoValue | null> {
  const original = await reads.value(photo.invitationId, photo.contactId);
  if (original === null) return null;
  return reads.thumbnail(photo.invitationId, photo.contactId, size, original, () => resized(original, size, context));
}

async function resized(original: PhotoValue, size: number, context: GatewayContext): Promise<PhotoValue> {
  try {
    const photo = await context.photos.resize(original.bytes, size);
    context.observer?.photoProcessed('thumbnail', original.format, photo.seconds, original.bytes.length, photo.jpeg.length);
    return { bytes: photo.jpeg, contentType: 'image/jpeg', format: 'jpeg' };
  } catch (error) {
    // Graph's bytes looked like an image but do not decode: Graph's fault, not the caller's.
    throw photoError(
      error,
      (message) => new GatewayError(GatewayErrorCode.BAD_GATEWAY, `Microsoft Graph answered with a photo the gateway cannot read: ${message}`),
    );
  }
}
