import type { Socket } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo from '@as-integrations/fastify';
import cors from '@fastify/cors';
import Fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import type { GatewayConfig } from '../config/config.js';
import { GatewayErrorCode } from '../errors/codes.js';
import { defaultMessage } from '../errors/gateway-error.js';
import { GraphClient } from '../graph/graph-client.js';
import { GatewayMetrics } from '../metrics/metrics.js';
import { PhotoProcessor } from '../photos/photo-processor.js';
import type { GatewayContext } from '../schema/context.js';
import { operationLimits, photoListLimitPlugin } from '../schema/operation-limits.js';
import { resolvers } from '../schema/resolvers.js';
import { typeDefs } from '../schema/type-defs.js';
import { USER_AGENT } from '../version.js';
import { authorizationHeaderCount, bearerAuthorization, clientRequestId } from './caller.js';
import { createFormatError } from './error-formatting.js';
import { sendError } from './http-errors.js';
import { landingPagePlugin } from './landing-page.js';
import { createLogger, OperationLogController, operationLogger } from './logger.js';
import { createMetricsServer } from './metrics-server.js';
import { addMultipartParser, answerMultipartError } from './multipart.js';
import { OperationLog } from './operation-log-plugin.js';
import { apolloReportingPlugins, loadFederation } from './optional-plugins.js';
import { persistedQueries } from './persisted-queries.js';
import { isTrustedRequest, TrustedDocumentStore, UNTRUSTED_DOCUMENT_MESSAGE } from './trusted-documents.js';
import { UploadGate, uploadAdmission } from './upload-admission.js';

/** Request bodies larger than this are answered 413 before any GraphQL work. */
const BODY_LIMIT_BYTES = 100 * 1024;

const GRAPHQL_PATH = '/graphql';

/** After the grace period, how long answers still being written get before sockets are closed. */
const FINAL_CLOSE_MS = 5000;

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

/** Builds the gateway: Fastify for HTTP, Apollo Server for GraphQL, one Graph client. */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = createLogger(config.logLevel, options.logDestination, config.tracing);
  const shutdownSignal = new AbortController();
  const photos = new PhotoProcessor(config.photos);
  const metrics = new GatewayMetrics(() => graph.mailboxUsage, () => ({ ...photos.usage, uploadBytes: uploads.bytesAdmitted }));
  // With REDIS_URL, replicas share the per-mailbox limit and the persisted-query cache.
  // (ioredis is loaded only then.)
  const shared =
    config.redisUrl === undefined
      ? undefined
      : (await import('../redis/shared.js')).createShared(config.redisUrl, config.graph.mailbox, logger, metrics);
  // With AUTH_MODE=obo: callers' tokens checked here, exchanged on-behalf-of for Graph's. (jose
  // and msal-node are loaded only then, as Federation's and Redis's packages are.)
  const signIn =
    config.auth.mode === 'obo' ? (await import('../auth/sign-in.js')).startSignIn(config.auth, logger, shared?.tokenCache) : undefined;
  const uploads: UploadGate = new UploadGate({
    photos,
    maxFileBytes: config.photos.maxUploadBytes,
    budgetBytes: config.photos.uploadBudgetBytes,
    bodyTimeoutMs: config.photos.uploadTimeoutMs,
    ...(signIn && { authenticate: signIn.authenticate }),
  });
  const graph: GraphClient =
    options.graphClient ??
    new GraphClient({
      ...config.graph,
      userAgent: USER_AGENT,
      signal: shutdownSignal.signal,
      observer: metrics,
      traced: config.tracing,
      ...(shared && { limiter: shared.limiter }),
    });
  let draining = false;
  const operationLog = new OperationLog(metrics, operationLogger(logger));

  const app = Fastify({
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
    // Draining is handled below, so that /healthz keeps answering 200 while the process lives.
    return503OnClosing: false,
  });

  const limits = operationLimits(config.production);
  const trusted = config.trustedDocuments;
  // Optional parts are loaded only when switched on: otherwise they cost no start-up time or memory.
  const federation = config.federation ? await loadFederation() : undefined;
  const apollo = new ApolloServer<GatewayContext>({
    // The same schema, served as a Federation 2 subgraph with FEDERATION=true.
    ...(federation ? { schema: federation.schema } : { typeDefs, resolvers }),
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    introspection: config.introspection,
    // In production, no "Did you mean ...?" in validation errors: the schema is not to be mapped by guessing.
    hideSchemaDetailsFromClientErrors: config.production,
    includeStacktraceInErrorResponses: config.debug,
    formatError: createFormatError(logger, config.debug, limits.formatError, config.production),
    csrfPrevention: true,
    // With trusted documents, persisted queries are answered from the manifest and never registered.
    ...(trusted
      ? { persistedQueries: { cache: new TrustedDocumentStore(trusted) } }
      : { persistedQueries: persistedQueries(config.persistedQueries, shared?.persistedQueries) }),
    allowBatchedHttpRequests: false,
    // Shutdown is the gateway's (see shutdown()), not Apollo's own signal handlers'.
    stopOnTerminationSignals: false,
    logger,
    plugins: [
      ...(signIn ? [signIn.plugin] : []),
      landingPagePlugin(config.production),
      operationLog.plugin(),
      photoListLimitPlugin(config.photoListMax),
      // Answers are never HTTP-cached (each is one caller's Graph data); the cache-control plugin
      // Apollo installs by default would wrap every field resolver for nothing.
      ApolloServerPluginCacheControlDisabled(),
      ...(federation?.plugins ?? []),
      ...(federation && !config.federationSdlPublic ? [(await import('./service-sdl-guard.js')).serviceSdlGuardPlugin(signIn?.authenticate)] : []),
      ...(await apolloReportingPlugins(config)),
    ],
    // GraphOS reporting is configured from the gateway's configuration only, never guessed by
    // Apollo from the process environment (see apolloReportingPlugins).
    apollo: config.apollo ? { key: config.apollo.key, graphRef: config.apollo.graphRef } : {},
  });
  await apollo.start();

  await app.register(cors, {
    origin: config.corsOrigins,
    methods: ['GET', 'POST'],
    // So that browser code can quote the id Graph's logs know the call by.
    exposedHeaders: ['client-request-id'],
    maxAge: 600,
  });

  // One hook for what is refused before any parsing: it runs on every request, so it stays cheap.
  // Callback-style hooks: an async hook costs a promise per request for what is a flag check.
  app.addHook('onRequest', (request, reply, done) => {
    // The matched route, not the raw URL: /%67raphql is routed to GraphQL too.
    const graphql = request.routeOptions.url === GRAPHQL_PATH;
    if (!validHost(request.headers.host)) {
      sendError(reply, 400, GatewayErrorCode.BAD_REQUEST, 'The Host header is not a valid host.');
    } else if (draining && graphql) {
      void reply.header('connection', 'close');
      sendError(reply, 503, GatewayErrorCode.SHUTTING_DOWN, defaultMessage(GatewayErrorCode.SHUTTING_DOWN));
    } else if (authorizationHeaderCount(request.raw.rawHeaders) > 1) {
      sendError(reply, 400, GatewayErrorCode.BAD_REQUEST, 'Send at most one Authorization header.');
    } else if (graphql && uploads.isUpload(request)) {
      // Decided before its body is read: with sign-in, that waits for the token's check.
      uploads.admit(request, reply).then((refused) => {
        if (!refused) carryOn(request, reply, done);
      }, done);
    } else {
      carryOn(request, reply, done);
    }
  });
  /** Lets a request through to its body and handler: Node leaves "100 Continue" to us (see checkContinue below), asked for only now. */
  function carryOn(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    if (request.headers.expect?.toLowerCase() === '100-continue') reply.raw.writeContinue();
    done();
  }
  // A client that sends `Expect: 100-continue` waits for leave to send its body. Without this
  // listener Node grants it before any hook runs; with it, the hook above decides first, so an
  // upload that is too large or finds the photo queue full is refused before its body is sent.
  app.server.on('checkContinue', (request, response) => app.server.emit('request', request, response));
  // While draining, every answer closes its connection, so that keep-alive clients move on.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) void reply.header('connection', 'close');
    done(null, payload);
  });

  // Uploads: GraphQL multipart requests, their file read into memory within the limit. What the
  // parser refuses is answered GraphQL-shaped; every other error as Fastify answers it.
  addMultipartParser(app, { maxFileBytes: config.photos.maxUploadBytes });
  app.setErrorHandler((error, _request, reply) => {
    if (!answerMultipartError(error, reply)) throw error;
  });

  // Trusted documents: a document sent as text must be the manifest's; checked once the body is
  // parsed and before any GraphQL work, so that an untrusted document is never parsed or run.
  if (trusted) {
    app.addHook('preHandler', (request, reply, done) => {
      if (request.routeOptions.url !== GRAPHQL_PATH) return done();
      const graphqlRequest = request.method === 'GET' ? request.query : request.body;
      if (isTrustedRequest(trusted, config.introspection, graphqlRequest)) return done();
      sendError(reply, 403, GatewayErrorCode.FORBIDDEN, UNTRUSTED_DOCUMENT_MESSAGE);
    });
  }

  // Metrics on their own port when METRICS_PORT is set (to keep them off the public one).
  const metricsServer = config.metricsPort === undefined ? undefined : createMetricsServer(metrics);
  if (!metricsServer && config.metricsOnMainPort) {
    app.get('/metrics', async (_request, reply) => {
      void reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  }

  // A built web page on the gateway's own origin (the demo's example page): no CORS, no other host.
  if (config.webAppDir) {
    await app.register((await import('./web-app.js')).webAppPlugin, { root: config.webAppDir });
  }

  app.get('/healthz', async () => ({ status: 'ok' }));
  // With Redis, the body says whether the mailbox limit is shared right now or kept per process.
  const mailboxLimit = (): Record<string, string> => (shared ? { mailboxLimit: shared.limiter.shared ? 'shared' : 'local' } : {});
  // With sign-in, not ready while the identity provider's keys cannot be read (before the first
  // read, or since a read failed: a token of a new key could not be checked).
  app.get('/readyz', async (_request, reply) => {
    if (draining) return reply.code(503).send({ status: 'draining', ...mailboxLimit() });
    const signInProblem = signIn?.verifier.notReady;
    if (signInProblem) return reply.code(503).send({ status: signInProblem.status, signIn: signInProblem.reason, ...mailboxLimit() });
    return { status: 'ready', ...mailboxLimit() };
  });

  await app.register(fastifyApollo(apollo), {
    path: GRAPHQL_PATH,
    method: ['GET', 'POST'],
    context: async (request, reply): Promise<GatewayContext> => {
      const id = clientRequestId(request.headers['client-request-id']);
      const admission = uploadAdmission(request.raw);
      void reply.header('client-request-id', id);
      return {
        graph,
        authorization: bearerAuthorization(request.headers.authorization),
        clientRequestId: id,
        stats: { attempts: 0, upstreamStatus: null },
        requestId: request.id,
        photos,
        dataUrlBudgetBytes: config.photoDataUrlBudgetBytes,
        observer: metrics,
        ...(signIn && { signIn: { exchange: signIn.exchange } }),
        ...(admission && { upload: admission }),
        // The operation's line is written once this answer has gone, with the status sent.
        exchange: reply.raw,
      };
    },
  });

  // Connections that have not sent a byte yet: Node's server.close() leaves them open (they are
  // not "idle" to it) until their headers time out, which held shutdown for up to the grace period.
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    draining = true;
    for (const socket of connections) if (socket.bytesRead === 0) socket.destroy();
    const grace = setTimeout(() => {
      logger.warn({ graceMs: config.shutdownGraceMs }, 'grace period over: ending the Graph calls still in flight');
      shutdownSignal.abort();
      setTimeout(() => app.server.closeAllConnections(), FINAL_CLOSE_MS).unref();
    }, config.shutdownGraceMs);
    grace.unref();
    try {
      await app.close();
      await apollo.stop();
      if (metricsServer?.listening) await new Promise((resolve) => metricsServer.close(resolve));
    } finally {
      clearTimeout(grace);
      graph.close();
      signIn?.stop();
      await photos.close();
      await shared?.close();
    }
  }

  return {
    logger,
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
      stopping ??= stop();
      return stopping;
    },
  };
}

/** What may stand in a Host header (a name, IPv4, or bracketed IPv6, and a port); the common case is tested by one regular expression. */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;

/**
 * Whether `host` can be the authority of a URL. A malformed one (`Host: a b`) made the Apollo
 * integration's URL parsing throw, which Fastify answered with a 500 and a stack in the log.
 */
function validHost(host: string | undefined): boolean {
  if (host === undefined || PLAIN_HOST.test(host)) return true;
  return URL.canParse(`http://${host}/`) && !/[\s/?#@\\]/.test(host);
}

/** The host part of a URL for a listener on `host` (a wildcard address is reached as localhost). */
function hostForUrl(host: string): string {
  const reachable = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return reachable.includes(':') ? `[${reachable}]` : reachable;
}
