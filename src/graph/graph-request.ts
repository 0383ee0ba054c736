import type { Method } from 'got';
import type { GraphResponse } from './types.js';

/** One request to Graph, as the client's modules hand it to `GraphCaller.send`. */
export interface GraphRequest {
  method: Method;
  /** The `invitationId`: whose mailbox the call uses, for the per-mailbox limit. */
  mailbox: string;
  path: string;
  /** The path's template, for traces (never the ids). */
  route: string;
  body?: { data: string | Buffer; contentType: string };
  /** The `Accept` header. */
  accept: string;
  /** Largest answer read. */
  maxResponseBytes: number;
  /** Keep a 2xx answer's body as bytes. */
  binary: boolean;
  /** Requests Outlook counts against the mailbox's request budget per attempt: 1, or a batch's items (its envelope is none). */
  outlookRequests?: number;
  /** Bytes Outlook counts against the mailbox's upload budget per attempt (a PUT or PATCH's body); 0 when absent. */
  uploadBytes?: number;
  /** Mailbox slots the request holds while in flight: 1, or more for a batch. */
  slots?: number;
  /**
   * Told of each answer that will not be retried, while the request still holds its mailbox
   * slots (a batch reads its items here, to pause the mailbox for a throttled one before the
   * slots are given back).
   */
  settle?: (response: GraphResponse) => void;
}

/** Graph's final answer to a call; for a retryable status, the wait it asked for (or ours). */
export type FinalResponse = GraphResponse & { retryAfter?: number };

/** How far a call has got: its deadline, and the attempts made (a batch's rounds share them). */
export interface CallProgress {
  deadline: number;
  attempts: number;
}
