import type { GraphCallStats, GraphClient } from '../graph/graph-client.js';

/** What every resolver gets: the Graph client and what is known of the caller. */
export interface GatewayContext {
  graph: GraphClient;
  /** The caller's `Authorization` header when it holds a bearer token, else `undefined`. */
  authorization: string | undefined;
  /** Sent to Graph as `client-request-id`, and logged with the operation. */
  clientRequestId: string;
  /** Filled in by the Graph client for the operation's log line. */
  stats: GraphCallStats;
  /** Fastify's id of the HTTP request, logged with the operation as `reqId`. */
  requestId: string;
}
