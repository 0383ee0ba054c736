import { ODATA_TYPE } from './graph-requests.js';

/**
 * What the simulator can be told to do instead of answering normally. Each fault answers the
 * next `times` matching requests, in the order faults were added.
 */
export interface Fault {
  /** Only requests with this method (any method when absent). */
  method?: 'GET' | 'PATCH' | 'PUT';
  /** Only requests for the picture's bytes (`photo/$value`, true) or for the metadata (false); both when absent. */
  value?: boolean;
  /**
   * Only the `POST /$batch` envelope itself (`true`), answered as a whole; without it a fault
   * answers photo requests, direct ones and items of a batch alike, and never an envelope.
   */
  batch?: boolean;
  /**
   * Only contact lists (`GET .../invitedUser/contacts`, direct or an item of a batch): `true`.
   * Without it a fault never answers a list, so faults written for photos keep their meaning.
   */
  list?: boolean;
  /** Only requests for this mailbox (`invitationId`). */
  invitationId?: string;
  /** Only requests for this contact (`contactId`): one entry of a list. */
  contactId?: string;
  /** How many matching requests this fault answers; default 1, `Infinity` for all. */
  times?: number;
  /**
   * Wait this long before acting (a slow Graph). A fault with nothing else to do (no status,
   * body, redirect, reset or hang) then answers normally: a slow success. So does one with
   * only `holdUntil`.
   */
  delayMs?: number;
  /**
   * Hold the answer (after `delayMs`) until this promise settles: a test keeps requests in
   * flight for as long as it needs them there, rather than guessing how long that takes.
   */
  holdUntil?: Promise<unknown>;
  /** The status to answer; default 500 (or 302 with `redirectTo`). */
  status?: number;
  /** The OData error code and message of the error body; defaults follow the status. */
  code?: string;
  message?: string;
  /** A `Retry-After` header, sent as given (seconds, a date, or garbage). */
  retryAfter?: string;
  /**
   * The body instead of Graph's OData error: an HTML proxy page, an empty body, text that is not
   * JSON, a photo without `id`, a photo whose `height` is not a number, or exactly this text.
   * `huge` streams a 2 MiB JSON photo in chunks, without `Content-Length`.
   */
  body?: 'html' | 'empty' | 'not-json' | 'no-id' | 'bad-height' | 'huge' | { raw: string | Buffer; contentType: string };
  /** Answer a redirect to this URL (status 302 unless `status` says otherwise). */
  redirectTo?: string;
  /** Destroy the connection before any answer, or after the headers and part of the body. */
  reset?: 'before-headers' | 'mid-body';
  /** Never answer; the connection stays open until the client gives up or the simulator closes. */
  hang?: boolean;
  /** Send a 200's headers, then one byte of body every 50 ms, never finishing. */
  drip?: boolean;
}

/** The OData error code Graph sends for each status (from docs/graph-behaviour.md). */
export function defaultErrorCode(status: number): string {
  switch (status) {
    case 400:
      return 'invalidRequest';
    case 401:
      return 'InvalidAuthenticationToken';
    case 403:
      return 'ErrorAccessDenied';
    case 404:
      return 'ErrorItemNotFound';
    case 409:
      return 'conflict';
    case 412:
      return 'PreconditionFailed';
    case 413:
      return 'requestTooLarge';
    case 422:
      return 'unprocessableEntity';
    case 429:
      return 'TooManyRequests';
    case 503:
      return 'serviceNotAvailable';
    case 504:
      return 'gatewayTimeout';
    default:
      return 'generalException';
  }
}

/** The keys that say which requests a fault answers and when, rather than what it answers. */
const SELECTION_AND_TIMING: ReadonlySet<string> = new Set(['batch', 'list', 'method', 'value', 'invitationId', 'contactId', 'times', 'delayMs', 'holdUntil']);

/**
 * Whether a fault changes the answer, rather than only delaying a normal one: any key beyond
 * selection and timing does, so a new kind of fault cannot be forgotten here.
 */
export function changesAnswer(fault: Fault): boolean {
  return Object.entries(fault).some(([key, value]) => value !== undefined && value !== false && !SELECTION_AND_TIMING.has(key));
}

/** Size of the `huge` body. */
export const HUGE_BODY_BYTES = 2 * 1024 * 1024;

/** The content type and text of a fault's `body` (`huge` is streamed, not built here). */
export function faultBody(body: Exclude<NonNullable<Fault['body']>, 'huge'>): [string | undefined, string | Buffer] {
  if (typeof body === 'object') return [body.contentType, body.raw];
  switch (body) {
    case 'html':
      return ['text/html', '<html><body><h1>502 Bad Gateway</h1><p>upstream proxy error</p></body></html>'];
    case 'empty':
      return [undefined, ''];
    case 'not-json':
      return ['application/json', 'this is not json'];
    case 'no-id':
      return ['application/json', JSON.stringify({ '@odata.type': ODATA_TYPE, height: 1, width: 1 })];
    case 'bad-height':
      return ['application/json', JSON.stringify({ '@odata.type': ODATA_TYPE, id: '1x1', height: 'abc', width: 1 })];
  }
}
