import cors from '@fastify/cors';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import type { GatewayConfig } from '../config/config.js';
import type { GraphClient } from '../graph/graph-client.js';
import { startApolloServer } from './apollo/apollo-server.js';
import { Draining, drainingPlugin } from './http/draining.js';
import { GRAPHQL_PATH, graphqlRoutePlugin, type GraphQLRouteOptions } from './http/graphql-route.js';
import { guardsPlugin } from './http/guards.js';
import { healthPlugin } from './http/health.js';
import { createMetricsServer } from './http/metrics-server.js';
import { metricsRoutePlugin } from './http/metrics-route.js';
import { multipartPlugin } from './http/multipart.js';
import { photoRoutePlugin } from './http/photo-route.js';
import type { WebAppSignIn } from './http/web-app.js';
import { OperationLogController } from './logger.js';
import { buildServices, type GatewayServices } from './services.js';
import { shutDown } from './shutdown.js';

/** Request bodies larger than this are answered 413 before any GraphQL work. */
const BODY_LIMIT_BYTES = 100 * 1024;

export interface GatewayOptions {
  /** Where log lines go (stdout by default); tests capture them here. */
  logDestination?: DestinationStream;
  /**
   * Replaces the Graph client built from the configuration. Its calls are then not ended at the
   * end of the shutdown grace period (the built-in client's are).
   */
  graphClient?: GraphClient;
}

export interface Gateway {
  readonly logger: Logger;
  /** The metrics listener's address once listening, when `METRICS_PORT` is set. */
  readonly metricsUrl: string | undefined;
  /** Starts listening on the configured host and port; answers the GraphQL endpoint's URL. */
  listen(): Promise<string>;
  /**
   * Drains and stops: `/readyz` turns 503, new GraphQL requests are refused with 503, requests
   * in flight get up to `shutdownGraceMs` to finish; then their Graph calls are ended so that
   * each still gets an error answer. Resolves once every connection is closed.
   */
  shutdown(): Promise<void>;
}

/**
 * Builds the gateway: its services (services.ts), Apollo Server for GraphQL, and Fastify for HTTP
 * with the gateway's plugins (see `registerPlugins` for their order).
 */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const services = await buildServices(config, options);
  const app = createFastify(config, services.logger);
  const apollo = await startApolloServer(config, services);
  const draining = new Draining();
  // Metrics on their own port when METRICS_PORT is set (to keep them off the public one).
  const metricsServer = config.metricsPort === undefined ? undefined : createMetricsServer(services.metrics);
  await registerPlugins(app, config, { services, apollo, draining, metricsOnMainPort: !metricsServer && config.metricsOnMainPort });
  let stopping: Promise<void> | undefined;
  return {
    logger: services.logger,
    get metricsUrl() {
      const address = metricsServer?.address();
      return address && typeof address === 'object' ? `http://${hostForUrl(config.host)}:${address.port}/metrics` : undefined;
    },
    async listen() {
      await app.listen({ port: config.port, host: config.host });
      if (metricsServer) await new Promise<void>((resolve) => metricsServer.listen(config.metricsPort, config.host, resolve));
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      return `http://${hostForUrl(config.host)}:${port}${GRAPHQL_PATH}`;
    },
    shutdown() {
      stopping ??= shutDown({ app, apollo, metricsServer, draining, services, graceMs: config.shutdownGraceMs });
      return stopping;
    },
  };
}

/** Fastify with the gateway's limits and logging, and no plugin yet. */
function createFastify(config: GatewayConfig, logger: Logger): FastifyInstance {
  return Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new OperationLogController(),
    bodyLimit: BODY_LIMIT_BYTES,
    // A client that has not sent its whole request by then gets 408 and is disconnected (slowloris).
    requestTimeout: config.requestTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: Math.min(60_000, config.requestTimeoutMs),
      // Node checks for expired requests this often (30 s by default, which would blunt short timeouts).
      connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs / 2),
    },
    // Draining is the gateway's (http/draining.ts), so that /healthz keeps answering 200 while the process lives.
    return503OnClosing: false,
  });
}

interface GatewayParts {
  services: GatewayServices;
  apollo: GraphQLRouteOptions['apollo'];
  draining: Draining;
  /** `METRICS_ON_MAIN_PORT`, and no `METRICS_PORT`. */
  metricsOnMainPort: boolean;
}

/**
 * The gateway's plugins, in the one order that works. Fastify runs hooks in the order they were
 * added, and gives a plugin the hooks, body parsers and error handler its parent has when the
 * plugin is registered; so the plugins that add to the root come first, the routes after them.
 *
 * 1. CORS: its `onRequest` hook runs before the guards', so every answer carries its headers, a
 *    refusal too (a page can read why it was refused), and a preflight is answered at once.
 * 2. Guards (root, `onRequest`): what is refused before any parsing, every route and the 404 too.
 * 3. Draining (root, `onSend`): while draining, every answer closes its connection.
 * 4. Multipart (root): the upload body parser and the error handler that answers its refusals
 *    GraphQL-shaped, which the GraphQL route takes from the root.
 * 5. The routes, each encapsulated: `/metrics` (unless on its own port), the example page
 *    (`WEB_APP_DIR`), `/healthz` and `/readyz`, `/photos/...` (the pictures `ProfilePhoto.url`
 *    names), and `/graphql`.
 */
async function registerPlugins(app: FastifyInstance, config: GatewayConfig, { services, apollo, draining, metricsOnMainPort }: GatewayParts): Promise<void> {
  await app.register(cors, {
    origin: config.corsOrigins,
    methods: ['GET', 'POST'],
    // So that browser code can quote the id Graph's logs know the call by.
    exposedHeaders: ['client-request-id'],
    maxAge: 600,
  });
  await app.register(guardsPlugin, { draining, uploads: services.uploads });
  await app.register(drainingPlugin, { draining });
  await app.register(multipartPlugin, { maxFileBytes: config.photos.maxUploadBytes });
  if (metricsOnMainPort) await app.register(metricsRoutePlugin, { metrics: services.metrics });
  // A built web page on the gateway's own origin (the demo's example page), loaded only then.
  if (config.webAppDir) await app.register((await import('./http/web-app.js')).webAppPlugin, { root: config.webAppDir, ...webAppSignIn(config.auth) });
  await app.register(healthPlugin, { draining, services });
  await app.register(photoRoutePlugin, { urls: services.photoUrls });
  await app.register(graphqlRoutePlugin, {
    apollo,
    services,
    dataUrlBudgetBytes: config.photoDataUrlBudgetBytes,
    trusted: config.trustedDocuments,
    introspection: config.introspection,
  });
}

/** What the example page needs to sign in, when sign-in is on and the page has its own app registration. */
function webAppSignIn(auth: GatewayConfig['auth']): { signIn?: WebAppSignIn } {
  if (auth.mode !== 'obo' || auth.webAppClientId === undefined) return {};
  return { signIn: { clientId: auth.webAppClientId, authorityHost: auth.authorityHost, tenantId: auth.tenantId, scopes: [`api://${auth.clientId}/${auth.requiredScope}`] } };
}

/** The host part of a URL for a listener on `host` (a wildcard address is reached as localhost). */
function hostForUrl(host: string): string {
  const reachable = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return reachable.includes(':') ? `[${reachable}]` : reachable;
}
