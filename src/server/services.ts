import { randomBytes } from 'node:crypto';
import type { DestinationStream, Logger } from 'pino';
import type { SignIn } from '../auth/sign-in.js';
import type { GatewayConfig } from '../config/config.js';
import { GraphClient } from '../graph/graph-client.js';
import { GatewayMetrics } from '../metrics/metrics.js';
import { ContactListCache } from '../photo-cache/contact-list-cache.js';
import { PhotoCache } from '../photo-cache/photo-cache.js';
import { MemoryPhotoStore, type PhotoCacheStore } from '../photo-cache/photo-cache-store.js';
import { PhotoUrls } from '../photo-cache/photo-urls.js';
import { PhotoProcessor } from '../photos/photo-processor.js';
import type { SharedState } from '../redis/shared.js';
import { USER_AGENT } from '../version.js';
import { UploadGate } from './http/upload-admission.js';
import { createLogger } from './logger.js';

/**
 * What the gateway's routes and Apollo's plugins work with, built from the configuration: the
 * objects only, no HTTP and no GraphQL (the Fastify plugins and Apollo Server are given them).
 */
export interface GatewayServices {
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly photos: PhotoProcessor;
  readonly uploads: UploadGate;
  readonly graph: GraphClient;
  /** The per-caller photo cache (in Redis with `REDIS_URL`), and the signed picture URLs it serves. */
  readonly photoCache: PhotoCache;
  readonly photoUrls: PhotoUrls;
  /** The per-caller pages of the contact list, in the same store (`CONTACT_LIST_CACHE_TTL_S`). */
  readonly contactLists: ContactListCache;
  /** With `REDIS_URL`: the mailbox limit, persisted queries and exchanged tokens shared by replicas. */
  readonly shared: SharedState | undefined;
  /** With `AUTH_MODE=obo`: the token check and the on-behalf-of exchange. */
  readonly signIn: SignIn | undefined;
  /** Ends the built-in Graph client's calls still in flight (the shutdown's grace period is over). */
  endGraphCalls(): void;
  /** Closes them all, once nothing uses them any more. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Where log lines go (stdout by default). */
  logDestination?: DestinationStream | undefined;
  /** Replaces the Graph client built from the configuration (`endGraphCalls` does not end its calls). */
  graphClient?: GraphClient | undefined;
}

/**
 * Builds the services for `config`. Redis's and sign-in's packages (ioredis; jose and msal-node)
 * are loaded only when they are switched on: otherwise they cost no start-up time or memory.
 */
export async function buildServices(config: GatewayConfig, options: ServiceOptions = {}): Promise<GatewayServices> {
  const logger = createLogger(config.logLevel, options.logDestination, config.tracing);
  const shutdownSignal = new AbortController();
  const photos = new PhotoProcessor(config.photos);
  // The gauges read the Graph client, the upload gate and the photo cache when scraped, built just below.
  const metrics = new GatewayMetrics(
    () => graph.mailboxUsage,
    () => ({ ...photos.usage, uploadBytes: uploads.bytesAdmitted }),
    () => photoStore.bytesHeld ?? 0,
    () => graph.budgetLeft,
  );
  const shared = config.redis === undefined ? undefined : (await import('../redis/shared.js')).createShared(config.redis, config.graph.mailbox, logger, metrics, config.graph.budget);
  const photoStore: PhotoCacheStore = shared?.photoStore ?? new MemoryPhotoStore(config.photoCache.maxBytes, () => metrics.photoCacheEvicted());
  const photoCache = new PhotoCache(config.photoCache.ttlS, photoStore, metrics);
  const contactLists = new ContactListCache(config.photoCache.listTtlS, photoStore, metrics);
  const photoUrls = new PhotoUrls(urlSecret(config, logger), config.photoCache.urlTtlS, photoStore);
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
      ...(shared?.budgets && { budgets: shared.budgets }),
    });
  return {
    logger,
    metrics,
    photos,
    uploads,
    graph,
    photoCache,
    photoUrls,
    contactLists,
    shared,
    signIn,
    endGraphCalls: () => shutdownSignal.abort(),
    async close() {
      graph.close();
      signIn?.stop();
      await photos.close();
      await shared?.close();
    },
  };
}

/**
 * `PHOTO_URL_SECRET`, or one made for this process outside production (the demo, tests: one
 * process, its URLs valid as long as it runs). In production without it, picture URLs are off.
 */
function urlSecret(config: GatewayConfig, logger: Logger): Buffer | undefined {
  if (config.photoCache.urlSecret !== undefined) return Buffer.from(config.photoCache.urlSecret);
  if (!config.production) return randomBytes(32);
  logger.warn('PHOTO_URL_SECRET is not set: ProfilePhoto.url answers an error (set it, the same on every replica, to serve pictures by URL)');
  return undefined;
}
