/**
 * The requests for a contact's photo, the sizes of answer each may read, and how each answer
 * becomes its result: the one place that knows what the photo calls send and expect.
 */
import { GatewayError } from '../errors/gateway-error.js';
import { GRAPH_MAX_PHOTO_BYTES } from '../limits/graph-photo-limits.js';
import { contactPhotoPath, contactPhotoValuePath } from './contact-photo-path.js';
import { CONTACT_PHOTO_ROUTE, CONTACT_PHOTO_VALUE_ROUTE } from './contact-photo-route.js';
import { errorFromResponse } from './error-mapping.js';
import type { FinalResponse, GraphRequest } from './graph-request.js';
import { parsePhotoValue, type PhotoValue } from './photo-value.js';
import { parseProfilePhoto } from './profile-photo.js';
import type { GraphProfilePhoto, ProfilePhotoPatch } from './types.js';

/** One read of a contact's photo: its metadata (`GET .../photo`) or its picture (`GET .../photo/$value`). */
export interface PhotoRead {
  invitationId: string;
  contactId: string;
  part: 'metadata' | 'value';
}

/**
 * What a read answers: the photo's metadata or picture, `null` when the contact has none (404),
 * or the error it failed with (a `GatewayError`, or any other `Error`: a bug, masked when answered).
 */
export type PhotoReadResult = GraphProfilePhoto | PhotoValue | null | Error;

/** Largest JSON answer read; a photo's metadata is under 1 KiB, Graph's errors a few KiB. */
export const MAX_JSON_RESPONSE_BYTES = 1024 * 1024;

/** Largest photo read from `photo/$value`: Graph's 4 MB, and some slack. */
export const MAX_PHOTO_RESPONSE_BYTES = GRAPH_MAX_PHOTO_BYTES + 64 * 1024;

const ODATA_TYPE = '#microsoft.graph.profilePhoto';

/** What the JSON calls on the photo's metadata share. */
const JSON_CALL = { route: CONTACT_PHOTO_ROUTE, accept: 'application/json', maxResponseBytes: MAX_JSON_RESPONSE_BYTES, binary: false } as const;

/** The request for one read. Throws BAD_USER_INPUT for an id that cannot go into a path. */
export function readRequest(read: PhotoRead): GraphRequest {
  if (read.part === 'metadata') return { ...JSON_CALL, method: 'GET', mailbox: read.invitationId, path: contactPhotoPath(read.invitationId, read.contactId) };
  return {
    method: 'GET',
    mailbox: read.invitationId,
    path: contactPhotoValuePath(read.invitationId, read.contactId),
    route: CONTACT_PHOTO_VALUE_ROUTE,
    accept: 'image/*',
    maxResponseBytes: MAX_PHOTO_RESPONSE_BYTES,
    binary: true,
  };
}

/** `PATCH .../photo` with only the properties in `patch`. */
export function patchRequest(invitationId: string, contactId: string, patch: ProfilePhotoPatch): GraphRequest {
  const path = contactPhotoPath(invitationId, contactId);
  const body = { data: JSON.stringify({ '@odata.type': ODATA_TYPE, ...patch }), contentType: 'application/json' };
  return { ...JSON_CALL, method: 'PATCH', mailbox: invitationId, path, body, uploadBytes: Buffer.byteLength(body.data) };
}

/** `PUT .../photo/$value` with a JPEG; Graph answers it with JSON (an error) or nothing. */
export function putValueRequest(invitationId: string, contactId: string, jpeg: Buffer): GraphRequest {
  const path = contactPhotoValuePath(invitationId, contactId);
  const body = { data: jpeg, contentType: 'image/jpeg' };
  return { ...JSON_CALL, route: CONTACT_PHOTO_VALUE_ROUTE, method: 'PUT', mailbox: invitationId, path, body, uploadBytes: jpeg.length };
}

/** A read's final answer as its result: `null` for Graph's 404, the photo or picture, or the error Graph's answer means. */
export function photoReadResult(part: PhotoRead['part'], response: FinalResponse): PhotoReadResult {
  if (response.status === 404) return null;
  if (response.status < 200 || response.status > 299) return errorFromResponse(response, response.retryAfter);
  if (part === 'value') return parsePhotoValue(response);
  return parseProfilePhoto(response);
}

/** A write's answer as the photo's metadata; the error Graph's answer means is thrown. */
export function photoFromResponse(response: FinalResponse): GraphProfilePhoto {
  const photo = parseProfilePhoto(successful(response));
  if (photo instanceof GatewayError) throw photo;
  return photo;
}

/** Graph's answer when it is a success; its error (with the wait it asked for) is thrown otherwise. */
export function successful(response: FinalResponse): FinalResponse {
  if (response.status < 200 || response.status > 299) throw errorFromResponse(response, response.retryAfter);
  return response;
}
