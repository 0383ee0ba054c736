import type { CallerIdentity } from '../auth/access-token-verifier.js';
import type { OnBehalfOfExchange } from '../auth/token-exchange.js';
import type { GraphCallStats, GraphClient } from '../graph/graph-client.js';
import type { ContactListCache } from '../photo-cache/contact-list-cache.js';
import type { PhotoCache } from '../photo-cache/photo-cache.js';
import type { PhotoUrls } from '../photo-cache/photo-urls.js';
import type { PhotoObserver } from '../photos/photo-observer.js';
import type { PhotoProcessor, PhotoTicket } from '../photos/photo-processor.js';
import type { PhotoReads } from './photo-reads.js';

/** What every resolver gets: the Graph client and what is known of the caller. */
export interface GatewayContext {
  graph: GraphClient;
  /** The caller's `Authorization` header when it holds a bearer token, else `undefined`. */
  authorization: string | undefined;
  /**
   * With sign-in (`AUTH_MODE=obo`): the on-behalf-of exchange, and, once the sign-in plugin has
   * checked the caller's token (for an operation that calls Graph), who the caller is.
   */
  signIn?: { exchange: OnBehalfOfExchange; identity?: CallerIdentity };
  /** Sent to Graph as `client-request-id`, and logged with the operation. */
  clientRequestId: string;
  /** Filled in by the Graph client for the operation's log line. */
  stats: GraphCallStats;
  /** Fastify's id of the HTTP request, logged with the operation as `reqId`. */
  requestId: string;
  /** Makes uploads into Outlook's JPEG, and thumbnails. */
  photos: PhotoProcessor;
  /** The bytes of full-size `data:` URLs one operation may answer (`PHOTO_DATAURL_BUDGET_BYTES`). */
  dataUrlBudgetBytes: number;
  /**
   * This request's photo reads (metadata, pictures, thumbnails), batched and each made once per
   * request: see `photoReads`, which makes it on first use.
   */
  photoReads?: PhotoReads;
  /** The gateway's photo cache, per caller (`PHOTO_CACHE_TTL_S`); absent, every read goes to Graph. */
  photoCache?: PhotoCache;
  /** The pages of the contact list, per caller (`CONTACT_LIST_CACHE_TTL_S`); absent, every page is read from Graph. */
  contactLists?: ContactListCache;
  /** Makes `ProfilePhoto.url`; absent, the field is `null`. */
  photoUrls?: PhotoUrls;
  /**
   * For a multipart request, what its admission from the headers gave it (server/http/upload-admission.ts):
   * its place in the photo queue, held until the answer is sent, and a signal aborted when the
   * caller goes away before that.
   */
  upload?: { ticket: PhotoTicket; signal: AbortSignal };
  /** Told of each image processed (the gateway's metrics). */
  observer?: PhotoObserver;
  /**
   * The HTTP answer the operation is given in (Node's `ServerResponse`), opaque here: the
   * operation's log line is written once it has gone, with the status sent
   * (server/apollo/operation-log-plugin.ts). Absent for an operation run in-process.
   */
  exchange?: object;
}
