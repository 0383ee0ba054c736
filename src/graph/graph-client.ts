import { setMaxListeners } from 'node:events';
import { GatewayError } from '../errors/gateway-error.js';
import { asError, BatchReader } from './batch-reads.js';
import type { GraphCallContext, GraphClientOptions } from './client-options.js';
import { contactListRequest, parseContactPage, type ContactPage, type ContactPageRequest } from './contact-list.js';
import {
  patchRequest,
  photoFromResponse,
  photoReadResult,
  putValueRequest,
  readRequest,
  successful,
  type PhotoRead,
  type PhotoReadResult,
} from './contact-photo-requests.js';
import { GRAPH_BATCH_LIMIT } from './graph-batch.js';
import { GraphCaller, shuttingDown } from './graph-call.js';
import type { GraphRequest } from './graph-request.js';
import { GraphTransport } from './graph-transport.js';
import type { BudgetLeft, MailboxBudget } from './mailbox-budget.js';
import { MailboxBudgets } from './mailbox-budgets.js';
import type { MailboxLimiter } from './mailbox-limiter.js';
import { MailboxScheduler } from './mailbox-scheduler.js';
import type { PhotoValue } from './photo-value.js';
import type { GraphProfilePhoto, ProfilePhotoPatch } from './types.js';

// What callers of the client name: its options and call context, the reads and their results.
export type { GraphCallContext, GraphCallStats, GraphClientOptions } from './client-options.js';
export type { ContactPage, ContactPageRequest, GraphContact, GraphEmailAddress } from './contact-list.js';
export { MAX_JSON_RESPONSE_BYTES, MAX_PHOTO_RESPONSE_BYTES, type PhotoRead, type PhotoReadResult } from './contact-photo-requests.js';

/**
 * The one way to Microsoft Graph: the contact-photo calls, each a `GraphCaller` call with Graph's
 * policy (retries, the per-mailbox limit, tracing) over a `GraphTransport` (the connection pool
 * and one exchange at a time): the caller's token is forwarded to `baseUrl` only, redirects are
 * never followed, and each failure becomes a `GatewayError` with a stable code.
 */
export class GraphClient {
  readonly #transport: GraphTransport;
  readonly #scheduler: MailboxLimiter;
  readonly #budgets: MailboxBudget | undefined;
  readonly #caller: GraphCaller;
  readonly #batches: BatchReader;
  readonly #batchMax: number;

  constructor(options: GraphClientOptions) {
    this.#batchMax = Math.min(GRAPH_BATCH_LIMIT, Math.max(1, options.batchMax ?? GRAPH_BATCH_LIMIT));
    this.#scheduler = options.limiter ?? new MailboxScheduler(options.mailbox);
    this.#transport = new GraphTransport(options.userAgent);
    this.#budgets = options.budgets ?? (options.budget && new MailboxBudgets(options.budget));
    this.#caller = new GraphCaller(options, this.#transport, this.#scheduler, this.#budgets);
    this.#batches = new BatchReader(this.#caller, this.#scheduler, {
      batchMax: this.#batchMax,
      concurrency: options.mailbox.concurrency,
      observer: options.observer,
    });
    if (options.signal) this.endAllAt(options.signal);
  }

  /**
   * `GET .../contacts/{contactId}/photo`. Answers `null` when Graph answers 404 (no photo, or
   * no such contact).
   */
  async getContactPhoto(invitationId: string, contactId: string, call: GraphCallContext): Promise<GraphProfilePhoto | null> {
    const result = photoReadResult('metadata', await this.#caller.send(readRequest({ invitationId, contactId, part: 'metadata' }), call));
    if (result instanceof GatewayError) throw result;
    return result as GraphProfilePhoto | null;
  }

  /**
   * `GET .../invitations/{invitationId}/invitedUser/contacts` with `$select`, `$top`,
   * `$orderby=displayName` and `$skip`: one page, and whether Graph has more (its
   * `@odata.nextLink`, never followed). Every failure, a 404 included, is thrown.
   */
  async listContacts(invitationId: string, page: ContactPageRequest, call: GraphCallContext): Promise<ContactPage> {
    const result = parseContactPage(successful(await this.#caller.send(contactListRequest(invitationId, page), call)), page.top);
    if (result instanceof GatewayError) throw result;
    return result;
  }

  /** `PATCH .../contacts/{contactId}/photo` with only the properties in `patch`. */
  async updateContactPhoto(invitationId: string, contactId: string, patch: ProfilePhotoPatch, call: GraphCallContext): Promise<GraphProfilePhoto> {
    return photoFromResponse(await this.#caller.send(patchRequest(invitationId, contactId, patch), call));
  }

  /**
   * `PUT .../contacts/{contactId}/photo/$value` with a JPEG: replaces the contact's picture. The
   * body is a Buffer, so a retry sends the same bytes; the call follows the same retry, deadline
   * and mailbox rules as the PATCH (it is idempotent).
   */
  async putContactPhotoValue(invitationId: string, contactId: string, jpeg: Buffer, call: GraphCallContext): Promise<void> {
    successful(await this.#caller.send(putValueRequest(invitationId, contactId, jpeg), call));
  }

  /**
   * `GET .../contacts/{contactId}/photo/$value`: the picture's bytes. Answers `null` when Graph
   * answers 404 (no photo, or no such contact).
   */
  async getContactPhotoValue(invitationId: string, contactId: string, call: GraphCallContext): Promise<PhotoValue | null> {
    const result = photoReadResult('value', await this.#caller.send(readRequest({ invitationId, contactId, part: 'value' }), call));
    if (result instanceof GatewayError) throw result;
    return result as PhotoValue | null;
  }

  /**
   * Many reads at once, answered in their order, each with its photo, `null`, or its own error
   * (never a rejection for one read's failure). Reads of one mailbox go out together in
   * `POST /$batch` requests of at most `batchMax` reads (see `BatchReader`); a lone read (or
   * `batchMax` 1) is a plain GET.
   */
  async readPhotos(reads: readonly PhotoRead[], call: GraphCallContext): Promise<PhotoReadResult[]> {
    const results = new Array<PhotoReadResult>(reads.length);
    const requests = new Array<GraphRequest | undefined>(reads.length);
    for (let index = 0; index < reads.length; index++) {
      try {
        requests[index] = readRequest(reads[index]!);
      } catch (error) {
        // An id that cannot go into a path fails its own read, not the batch it would have joined.
        results[index] = asError(error);
      }
    }
    await this.#batches.sendAll(requests, call, (index, answer) => {
      results[index] = answer instanceof Error ? answer : photoReadResult(reads[index]!.part, answer);
    });
    return results;
  }

  /** Reads sent together in one `POST /$batch` at most (`GRAPH_BATCH_MAX`). */
  get batchMax(): number {
    return this.#batchMax;
  }

  /** Mailboxes with calls in flight, waiting or paused, and the calls waiting over all of them. */
  get mailboxUsage(): { mailboxes: number; waiting: number } {
    return this.#scheduler.size;
  }

  /** The least left of each mailbox budget (for the metrics); `undefined` when none is kept. */
  get budgetLeft(): BudgetLeft | undefined {
    return this.#budgets?.left;
  }

  /** Closes the pooled connections to Graph. */
  close(): void {
    this.#transport.close();
  }

  /** At `signal` (the shutdown deadline) every call waiting for its mailbox, and every exchange in flight, ends. */
  private endAllAt(signal: AbortSignal): void {
    // Calls waiting out a retry's backoff listen to it too, any number at once.
    setMaxListeners(0, signal);
    signal.addEventListener(
      'abort',
      () => {
        this.#scheduler.rejectAll(shuttingDown);
        this.#transport.endAll(new Error('The call was ended at shutdown.'));
      },
      { once: true },
    );
  }
}
