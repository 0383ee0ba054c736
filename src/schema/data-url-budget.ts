import { badUserInput, type GatewayError } from '../errors/gateway-error.js';
import { GRAPH_MAX_PHOTO_BYTES, type PhotoValue } from '../graph/photo-value.js';

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
 * characters). The read's own cap has 64 KiB of slack over Graph's; a picture in it is counted
 * at its real length once read.
 */
export const UNREAD_PICTURE_RESERVATION = 'data:image/jpeg;base64,'.length + Math.ceil(GRAPH_MAX_PHOTO_BYTES / 3) * 4;

/** Trues a reservation up to what the picture really costs (0 for none, or a failed read); once. */
export type Settle = (bytes: number) => void;

interface Waiter {
  admit: (settle: Settle) => void;
  refuse: (error: GatewayError) => void;
}

/**
 * One operation's budget for the `data:` URLs of its full-size `dataUrl` fields
 * (`PHOTO_DATAURL_BUDGET_BYTES`): the bytes of those URLs in the answer, which is what a request
 * holds in memory several times over (the picture, its base64 text, the JSON answer, the answer
 * being written).
 *
 * Each picture to read reserves `UNREAD_PICTURE_RESERVATION` before it is asked of Graph, so that
 * what is read never passes the budget, then is trued up to its real length once read (a picture
 * of 50 KB gives most of its reservation back). A reservation that does not fit waits, in the
 * order asked, for the reads in flight to give theirs back; once none is in flight and it still
 * does not fit, it never will: it is refused (BAD_USER_INPUT naming the setting), and so is
 * every one after it.
 */
export class DataUrlBudget {
  readonly #limit: number;
  readonly #waiting: Waiter[] = [];
  /** Bytes neither reserved nor spent. */
  #left: number;
  #inFlight = 0;

  constructor(limit: number) {
    this.#limit = limit;
    this.#left = limit;
  }

  /** A reservation for a picture to read, now: `undefined` when it must wait (see `reserve`). */
  tryReserve(): Settle | undefined {
    if (this.#waiting.length > 0 || this.#left < UNREAD_PICTURE_RESERVATION) return undefined;
    return this.take();
  }

  /** A reservation for a picture to read, once one fits; refused once none can. */
  reserve(): Promise<Settle> {
    const now = this.tryReserve();
    if (now) return Promise.resolve(now);
    if (this.#inFlight === 0) return Promise.reject(this.exhausted());
    return new Promise((admit, refuse) => this.#waiting.push({ admit, refuse }));
  }

  /** Spends `bytes` at once, for a `data:` URL of a picture already read; refused when they do not fit. */
  spend(bytes: number): void {
    if (bytes > this.#left) throw this.exhausted();
    this.#left -= bytes;
  }

  private take(): Settle {
    this.#left -= UNREAD_PICTURE_RESERVATION;
    this.#inFlight++;
    let settled = false;
    return (bytes) => {
      if (settled) return;
      settled = true;
      this.#left += UNREAD_PICTURE_RESERVATION - bytes;
      this.#inFlight--;
      this.admitWaiting();
    };
  }

  private admitWaiting(): void {
    while (this.#waiting.length > 0 && this.#left >= UNREAD_PICTURE_RESERVATION) this.#waiting.shift()!.admit(this.take());
    if (this.#inFlight > 0) return;
    for (const waiter of this.#waiting.splice(0)) waiter.refuse(this.exhausted());
  }

  private exhausted(): GatewayError {
    return badUserInput(
      'size',
      `This operation's full-size pictures (dataUrl without size) reached PHOTO_DATAURL_BUDGET_BYTES (${this.#limit} bytes of data: URLs per operation): ` +
        'ask for this one in another operation, or for a thumbnail (dataUrl with a size).',
    );
  }
}
