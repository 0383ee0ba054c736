import { badUserInput, type GatewayError } from '../errors/gateway-error.js';
import type { PhotoValue } from '../graph/photo-value.js';
import { GRAPH_MAX_PHOTO_BYTES } from '../limits/graph-photo-limits.js';

/** A picture as a `data:` URL, ready for an `<img src>`. */
export function dataUrl(picture: PhotoValue): string {
  return `data:${picture.contentType};base64,${picture.bytes.toString('base64')}`;
}

/** The length of `dataUrl(picture)`, without making it. */
export function dataUrlLength(picture: PhotoValue): number {
  return 'data:;base64,'.length + picture.contentType.length + Math.ceil(picture.bytes.length / 3) * 4;
}

/**
 * What a picture not yet read may cost: the `data:` URL of a picture at Graph's 4 MB cap, with
 * the longest media type the gateway labels pictures with (`image/jpeg` and its like, 10
 * characters). The read's own cap has 64 KiB of slack over Graph's: a picture in that slack
 * (Graph does not store one) is larger than its reservation, and so refused and the budget
 * closed, like any picture that does not fit what it reserved.
 */
export const UNREAD_PICTURE_RESERVATION = 'data:image/jpeg;base64,'.length + Math.ceil(GRAPH_MAX_PHOTO_BYTES / 3) * 4;

/**
 * Trues a reservation up to what the picture really costs (0 for none, or a failed read), once:
 * `false` when it costs more than was reserved (a last read of the budget, see DataUrlBudget), the
 * picture then not to be answered.
 */
export type Settle = (bytes: number) => boolean;

interface Waiter {
  admit: (settle: Settle) => void;
  refuse: (error: GatewayError) => void;
}

/**
 * One operation's budget for the `data:` URLs of its full-size `dataUrl` fields
 * (`PHOTO_DATAURL_BUDGET_BYTES`): the bytes of those URLs in the answer, which a request holds in
 * memory several times over (the picture, its base64 text, the JSON answer, the answer being
 * written, and what reading it left behind).
 *
 * Each picture to read reserves `UNREAD_PICTURE_RESERVATION` before it is asked of Graph, so that
 * what is read never passes the budget, then is trued up to its real length once read (a picture
 * of 50 KB gives most of its reservation back). A reservation that does not fit waits, in the
 * order asked, for the reads in flight to give theirs back. When none is in flight and less than
 * a reservation is left, one picture at a time is read against what is left (a list of small
 * pictures uses the whole budget): the first that does not fit is refused, and the budget closes,
 * so that every picture after it is refused without being read (BAD_USER_INPUT naming the
 * setting). At most one picture beyond the budget is ever read.
 */
export class DataUrlBudget {
  readonly #limit: number;
  readonly #waiting: Waiter[] = [];
  /** Bytes neither reserved nor spent. */
  #left: number;
  #inFlight = 0;
  #closed = false;

  constructor(limit: number) {
    this.#limit = limit;
    this.#left = limit;
  }

  /**
   * A reservation for a picture to read: at once when one is possible (so that the read joins
   * this tick's batch), else a promise of one once possible, refused once none is (as the mailbox
   * limiter's `acquire` answers a lease or a promise of one).
   */
  reserve(): Settle | Promise<Settle> {
    const now = this.#waiting.length > 0 ? undefined : this.next();
    if (now) return now;
    if (this.#inFlight === 0) return Promise.reject(this.exhausted());
    return new Promise((admit, refuse) => this.#waiting.push({ admit, refuse }));
  }

  /** Spends `bytes` at once, for a `data:` URL of a picture already read; refused when they do not fit. */
  spend(bytes: number): void {
    if (bytes > this.#left) throw this.exhausted();
    this.#left -= bytes;
  }

  /** The error of a picture past the budget. */
  exhausted(): GatewayError {
    return badUserInput(
      'size',
      `This operation's full-size pictures (dataUrl without size) reached PHOTO_DATAURL_BUDGET_BYTES (${this.#limit} bytes of data: URLs per operation): ` +
        'ask for this one in another operation, or for a thumbnail (dataUrl with a size).',
    );
  }

  /** The reservation possible now: a whole one, or what is left for a last read once no other is in flight. */
  private next(): Settle | undefined {
    if (this.#closed) return undefined;
    if (this.#left >= UNREAD_PICTURE_RESERVATION) return this.take(UNREAD_PICTURE_RESERVATION);
    if (this.#inFlight === 0 && this.#left > 0) return this.take(this.#left);
    return undefined;
  }

  private take(reserved: number): Settle {
    this.#left -= reserved;
    this.#inFlight++;
    let settled = false;
    return (bytes) => {
      if (settled) return true;
      settled = true;
      this.#inFlight--;
      const fits = bytes <= reserved;
      this.#left += fits ? reserved - bytes : reserved;
      if (!fits) this.#closed = true;
      this.admitWaiting();
      return fits;
    };
  }

  private admitWaiting(): void {
    let settle: Settle | undefined;
    while (this.#waiting.length > 0 && (settle = this.next())) this.#waiting.shift()!.admit(settle);
    if (this.#inFlight > 0) return;
    for (const waiter of this.#waiting.splice(0)) waiter.refuse(this.exhausted());
  }
}
