import { GatewayError } from '../errors/gateway-error.js';
import type { GraphCallContext } from './client-options.js';
import { errorFromResponse, errorFromUnusableBody } from './error-mapping.js';
import { BATCH_PATH, batchRequestBody, parseBatchAnswer, type BatchItemRequest } from './graph-batch.js';
import type { GraphCallObserver } from './graph-call-observer.js';
import { shuttingDown, type GraphCaller } from './graph-call.js';
import type { CallProgress, FinalResponse, GraphRequest } from './graph-request.js';
import type { MailboxLimiter } from './mailbox-limiter.js';
import type { GraphResponse } from './types.js';

/** How a `BatchReader` groups requests, and whom it tells of batches. */
export interface BatchReaderOptions {
  /** Requests in one `POST /$batch` at most. */
  batchMax: number;
  /** The mailbox's slots at most (Outlook's per-mailbox limit): a batch holds as many as it carries, up to this. */
  concurrency: number;
  /** Told of each batch's answer and of its items. */
  observer?: GraphCallObserver | undefined;
}

/** A request's final answer, or the error it failed with. */
export type BatchedAnswer = FinalResponse | Error;

/** The requests of one mailbox sent together, over the rounds their items ask for. */
interface Batch {
  mailbox: string;
  requests: readonly GraphRequest[];
  call: GraphCallContext;
  /** The attempts and the deadline, shared by all rounds. */
  progress: CallProgress;
  results: BatchedAnswer[];
}

/** One `POST /$batch`: the requests it carries, and what its answer decided for them. */
interface BatchRound {
  /** The indexes (in `Batch.requests`) of the requests sent, in the batch's order. */
  pending: number[];
  items: BatchItemRequest[];
  /** The requests to send again in the next round, and the wait each asked for. */
  retries: { index: number; waitMs: number }[];
  /** Graph's 200 was no batch answer at all. */
  unusable: GatewayError | undefined;
}

/**
 * Reads sent together: requests grouped by mailbox into `POST /$batch` requests of at most
 * `batchMax` (a lone one, or `batchMax` 1, goes as a plain call). A batch is a Graph call like any
 * other (`GraphCaller.send`: the token on the batch only, its own retries, the mailbox's slots
 * held while it is in flight, as many as Outlook runs of it at once). Items answered 429/503/504
 * inside its 200 are sent again, only they, in a later batch after the longest `Retry-After`
 * among them, within the deadline.
 */
export class BatchReader {
  readonly #caller: GraphCaller;
  readonly #scheduler: MailboxLimiter;
  readonly #options: BatchReaderOptions;

  constructor(caller: GraphCaller, scheduler: MailboxLimiter, options: BatchReaderOptions) {
    this.#caller = caller;
    this.#scheduler = scheduler;
    this.#options = options;
  }

  /**
   * Sends every request (`undefined` ones are skipped) and tells `answered` each one's final
   * answer, or the error it failed with (never a rejection for one request's failure).
   */
  async sendAll(requests: readonly (GraphRequest | undefined)[], call: GraphCallContext, answered: (index: number, answer: BatchedAnswer) => void): Promise<void> {
    const byMailbox = new Map<string, number[]>();
    for (let index = 0; index < requests.length; index++) {
      const request = requests[index];
      if (request === undefined) continue;
      const indexes = byMailbox.get(request.mailbox);
      if (indexes) indexes.push(index);
      else byMailbox.set(request.mailbox, [index]);
    }
    const { batchMax } = this.#options;
    const rounds: Promise<void>[] = [];
    for (const [mailbox, indexes] of byMailbox) {
      for (let start = 0; start < indexes.length; start += batchMax) {
        const chunk = indexes.slice(start, start + batchMax);
        rounds.push(
          this.sendTogether(mailbox, chunk.map((index) => requests[index]!), call).then((answers) => {
            chunk.forEach((index, position) => answered(index, answers[position]!));
          }),
        );
      }
    }
    await Promise.all(rounds);
  }

  /** Requests to one mailbox: a plain call for one, a batch for more. */
  private async sendTogether(mailbox: string, requests: readonly GraphRequest[], call: GraphCallContext): Promise<BatchedAnswer[]> {
    if (requests.length > 1) return this.sendBatch({ mailbox, requests, call, progress: this.#caller.start(), results: new Array<BatchedAnswer>(requests.length) });
    try {
      return [await this.#caller.send(requests[0]!, call)];
    } catch (error) {
      return [asError(error)];
    }
  }

  /** Sends a batch's rounds, as long as some of its items are to be sent again, and answers each request's result. */
  private async sendBatch(batch: Batch): Promise<BatchedAnswer[]> {
    const { results } = batch;
    const maxResponseBytes = batchAnswerLimit(batch.requests);
    let pending = batch.requests.map((_request, index) => index);
    while (pending.length > 0) {
      const round: BatchRound = { pending, items: itemsOf(batch.requests, pending), retries: [], unusable: undefined };
      // Read while the batch holds its slots: a throttled item pauses the mailbox before they are given back.
      const envelope = this.envelope(batch.mailbox, round, maxResponseBytes, (response) => this.settle(batch, round, response));
      let answer: FinalResponse;
      try {
        answer = await this.#caller.send(envelope, batch.call, batch.progress);
      } catch (error) {
        // No answer came for the batch: each of its requests failed as one call would have.
        const failure = asError(error);
        for (const index of pending) results[index] = failure;
        break;
      }
      if (answer.status < 200 || answer.status > 299 || round.unusable) {
        // Graph refused or garbled the batch as a whole: every request in it gets that answer.
        const failure = round.unusable ?? errorFromResponse(answer, answer.retryAfter);
        for (const index of pending) results[index] = failure;
        break;
      }
      if (round.retries.length === 0 || !(await this.waitForRetries(batch, round.retries))) break;
      pending = round.retries.map((retry) => retry.index);
    }
    return results;
  }

  /** The `POST /$batch` of a round, holding as many of the mailbox's slots as Outlook runs of it at once. */
  private envelope(mailbox: string, round: BatchRound, maxResponseBytes: number, settle: (response: GraphResponse) => void): GraphRequest {
    return {
      method: 'POST',
      mailbox,
      path: BATCH_PATH,
      route: BATCH_PATH,
      body: { data: batchRequestBody(round.items), contentType: 'application/json' },
      accept: 'application/json',
      maxResponseBytes,
      binary: false,
      slots: Math.min(round.items.length, this.#options.concurrency),
      // Outlook counts each item as a request of its own, and the envelope as none.
      outlookRequests: round.items.length,
      settle,
    };
  }

  /** Reads a round's final answer, each item's result or retry, and pauses the mailbox for its throttled items. */
  private settle(batch: Batch, round: BatchRound, response: GraphResponse): void {
    const { call } = batch;
    call.stats.batches = (call.stats.batches ?? 0) + 1;
    call.stats.batchItems = (call.stats.batchItems ?? 0) + round.items.length;
    this.#options.observer?.batch(round.items.length, response.status);
    if (response.status < 200 || response.status > 299) return;
    const answers = parseBatchAnswer(response, round.items);
    if (answers instanceof GatewayError) {
      round.unusable = answers;
      return;
    }
    const nowMs = Date.now();
    let pauseMs = 0;
    for (let position = 0; position < round.items.length; position++) {
      const answer = answers.get(round.items[position]!.id);
      const index = round.pending[position]!;
      if (answer === undefined) batch.results[index] = errorFromUnusableBody(response, 'a batch answer that has no response for one of its requests');
      else pauseMs = Math.max(pauseMs, this.settleItem(batch, round, index, answer, nowMs));
    }
    // One pause for the mailbox, as long as the longest its throttled items asked for.
    if (pauseMs > 0) this.#scheduler.pause(batch.mailbox, pauseMs);
  }

  /** An item's answer: its result, or a retry in the next round. Answers the mailbox pause it asks for, 0 for none. */
  private settleItem(batch: Batch, round: BatchRound, index: number, answer: GraphResponse, nowMs: number): number {
    const { observer } = this.#options;
    observer?.batchItem(answer.status);
    const decision = this.#caller.decide(answer, batch.progress.attempts, batch.progress.deadline, nowMs);
    if (decision.kind === 'retry') {
      round.retries.push({ index, waitMs: decision.waitMs });
      observer?.batchItemRetried(answer.status);
    }
    batch.results[index] = decision.kind === 'give-up' ? { ...answer, retryAfter: decision.retryAfterS } : answer;
    return decision.kind === 'final' ? 0 : (decision.pauseMs ?? 0);
  }

  /** Waits the longest wait the retried items asked for; at shutdown they fail instead, and `false` is answered. */
  private async waitForRetries(batch: Batch, retries: BatchRound['retries']): Promise<boolean> {
    try {
      await this.#caller.waitToRetry(Math.max(...retries.map((retry) => retry.waitMs)));
      return true;
    } catch {
      for (const { index } of retries) batch.results[index] = shuttingDown();
      return false;
    }
  }
}

/** Anything thrown, as the error a read answers with. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A round's items, numbered from 1 by their request's index. */
function itemsOf(requests: readonly GraphRequest[], pending: readonly number[]): BatchItemRequest[] {
  return pending.map((index) => ({ id: String(index + 1), method: requests[index]!.method, path: requests[index]!.path, binary: requests[index]!.binary }));
}

/**
 * Largest batch answer read: each item's own limit, a binary item's as base64 (4/3 of its bytes)
 * with room for the item's JSON around it.
 */
function batchAnswerLimit(requests: readonly GraphRequest[]): number {
  let bytes = 0;
  for (const request of requests) bytes += request.binary ? Math.ceil(request.maxResponseBytes / 3) * 4 + 16 * 1024 : request.maxResponseBytes;
  return bytes;
}
