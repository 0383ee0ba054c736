/**
 * The simulator's fault API over HTTP, for `npm run demo` only (the `controlApi` option): a
 * person trying the example page, or a browser test, makes Graph fail while watching, with the
 * same faults tests give `GraphSimulator.fail`. `npm start` never runs a simulator, and a
 * simulator without the option treats these paths as any path Graph does not have.
 *
 * - `POST /_simulator/faults` with a JSON fault (`Content-Type: application/json`): queued, 201.
 * - `GET /_simulator/faults`: the faults still queued.
 * - `DELETE /_simulator/faults`: forgets them, 204.
 * - `POST /_simulator/reset`: forgets faults and the request log (stored contacts and photos stay), 204.
 */
import type http from 'node:http';
import type { Fault } from './faults.js';

/** The path prefix of the fault API; Graph's own paths all start with the version segment. */
export const CONTROL_PREFIX = '/_simulator/';

/** A fault as JSON carries it: everything but `holdUntil` (a promise), `times` as a number or `"always"`. */
export type JsonFault = Omit<Fault, 'holdUntil' | 'times' | 'body'> & {
  times?: number | 'always';
  body?: Exclude<Fault['body'], { raw: Buffer | string; contentType: string }> | { raw: string; contentType: string };
};

/** What the fault API asks of the simulator. */
export interface ControlTarget {
  fail(fault: Fault): unknown;
  clearFaults(): void;
  readonly pendingFaults: readonly Fault[];
  forgetRequests(): void;
}

/** A JSON body larger than this is refused: a fault is a few hundred bytes. */
const MAX_BODY_BYTES = 64 * 1024;

type Check = (value: unknown) => string | undefined;

const isString: Check = (value) => (typeof value === 'string' ? undefined : 'a string');
const isBoolean: Check = (value) => (typeof value === 'boolean' ? undefined : 'true or false');
const oneOf =
  (...allowed: string[]): Check =>
  (value) =>
    typeof value === 'string' && allowed.includes(value) ? undefined : `one of ${allowed.map((each) => JSON.stringify(each)).join(', ')}`;
const wholeNumber =
  (min: number, max: number): Check =>
  (value) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max ? undefined : `a whole number from ${min} to ${max}`;
const BODIES = ['html', 'empty', 'not-json', 'no-id', 'bad-height', 'huge'];

/**
 * Each field a JSON fault may have, and its check (an answer names what was expected). Keyed by
 * `Fault`'s own fields, so that a field added there fails to compile until it is handled here.
 */
const FIELDS: Record<Exclude<keyof Fault, 'holdUntil'>, Check> = {
  method: oneOf('GET', 'PATCH', 'PUT'),
  value: isBoolean,
  batch: isBoolean,
  list: isBoolean,
  invitationId: isString,
  contactId: isString,
  times: (value) => (value === 'always' ? undefined : wholeNumber(1, 1_000_000)(value) && 'a whole number from 1 to 1000000, or "always"'),
  delayMs: wholeNumber(0, 600_000),
  status: wholeNumber(100, 599),
  code: isString,
  message: isString,
  retryAfter: isString,
  body: (value) => {
    if (typeof value === 'string') return oneOf(...BODIES)(value) && `${oneOf(...BODIES)(value)}, or {"raw": "...", "contentType": "..."}`;
    const raw = value as Record<string, unknown> | null;
    const exact = typeof raw === 'object' && raw !== null && Object.keys(raw).sort().join() === 'contentType,raw';
    return exact && typeof raw.raw === 'string' && typeof raw.contentType === 'string' ? undefined : `one of ${BODIES.map((each) => JSON.stringify(each)).join(', ')}, or {"raw": "...", "contentType": "..."}`;
  },
  redirectTo: isString,
  reset: oneOf('before-headers', 'mid-body'),
  hang: isBoolean,
  drip: isBoolean,
};

/** Thrown for a request the fault API refuses: answered with this status and message, nothing done. */
class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A fault from a request's JSON text, every field checked; throws a `ControlError` (400) naming the first bad one. */
export function parseFault(text: string): Fault {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ControlError(400, 'The body is not JSON: send a fault as a JSON object, e.g. {"contactId":"c1","status":503}.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ControlError(400, 'The body must be a JSON object (a fault).');
  const fault: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!Object.hasOwn(FIELDS, key)) throw new ControlError(400, `Unknown fault field ${JSON.stringify(key)}; the fields are ${Object.keys(FIELDS).join(', ')}.`);
    const expected = FIELDS[key as keyof typeof FIELDS](value);
    if (expected !== undefined) throw new ControlError(400, `The fault field ${JSON.stringify(key)} must be ${expected} (got ${JSON.stringify(value)}).`);
    fault[key] = key === 'times' && value === 'always' ? Infinity : value;
  }
  return fault as Fault;
}

/** A queued fault as JSON: `times` of `Infinity` as `"always"`, a `holdUntil` (tests only) left out. */
export function faultToJson(fault: Fault): JsonFault {
  const { holdUntil: _promise, times, body, ...rest } = fault;
  return {
    ...rest,
    ...(times !== undefined && { times: times === Infinity ? 'always' : times }),
    ...(body !== undefined && { body: typeof body === 'object' ? { raw: body.raw.toString(), contentType: body.contentType } : body }),
  };
}

/** Answers one request to the fault API (its body already read). */
export function answerControl(target: ControlTarget, request: http.IncomingMessage, bytes: Buffer, response: http.ServerResponse): void {
  try {
    const { status, body } = route(target, request, bytes);
    send(response, status, body);
  } catch (error) {
    if (!(error instanceof ControlError)) throw error;
    send(response, error.status, { error: error.message });
  }
}

function route(target: ControlTarget, request: http.IncomingMessage, bytes: Buffer): { status: number; body?: unknown } {
  const path = (request.url ?? '/').split('?')[0];
  const method = request.method ?? '';
  if (path === `${CONTROL_PREFIX}faults`) {
    if (method === 'GET') return { status: 200, body: { faults: target.pendingFaults.map(faultToJson) } };
    if (method === 'DELETE') {
      target.clearFaults();
      return { status: 204 };
    }
    if (method === 'POST') {
      if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) throw new ControlError(415, 'Send the fault with Content-Type: application/json.');
      if (bytes.length > MAX_BODY_BYTES) throw new ControlError(413, `A fault is at most ${MAX_BODY_BYTES} bytes of JSON.`);
      const fault = parseFault(bytes.toString('utf8'));
      target.fail(fault);
      return { status: 201, body: { queued: faultToJson(fault) } };
    }
    throw new ControlError(405, `${path} takes GET, POST and DELETE.`);
  }
  if (path === `${CONTROL_PREFIX}reset`) {
    if (method !== 'POST') throw new ControlError(405, `${path} takes POST.`);
    target.clearFaults();
    target.forgetRequests();
    return { status: 204 };
  }
  throw new ControlError(404, `No such path: the fault API has ${CONTROL_PREFIX}faults and ${CONTROL_PREFIX}reset.`);
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, { ...(text && { 'content-type': 'application/json' }), 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
