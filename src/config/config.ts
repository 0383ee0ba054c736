import { authConfig, type AuthConfig } from './auth-config.js';
import { ConfigError } from './config-error.js';
import type { Env } from './env-values.js';
import { graphConfig, type GraphConfig } from './graph-config.js';
import { graphQLSettings, type GraphQLSettings } from './graphql-config.js';
import { photoCacheConfig, type PhotoCacheConfig } from './photo-cache-config.js';
import { photoConfig, type PhotoConfig } from './photo-config.js';
import { redisConfig, type RedisConfig } from './redis-config.js';
import { serverSettings, type LogLevel, type ServerSettings } from './server-config.js';
import { apolloReporting, tracingEnabled, type ApolloReporting } from './telemetry-config.js';

export { ConfigError };
export type { AuthConfig, Env, GraphConfig, LogLevel, PhotoCacheConfig, PhotoConfig, RedisConfig };

/**
 * The gateway's configuration, read once from the environment at start-up. Every variable is
 * documented in docs/configuration.md; a bad value stops start-up with one line naming it.
 * Each section is read by its own module (env-values.ts reads one variable as a typed value):
 * the HTTP server (server-config.ts), GraphQL and Apollo Server (graphql-config.ts), Graph
 * (graph-config.ts), photos (photo-config.ts), the photo cache (photo-cache-config.ts), sign-in (auth-config.ts), Redis (redis-config.ts),
 * tracing and Apollo reporting (telemetry-config.ts).
 */
export interface GatewayConfig extends ServerSettings, GraphQLSettings {
  graph: GraphConfig;
  photos: PhotoConfig;
  /** The per-caller photo cache and the signed picture URLs (`PHOTO_CACHE_*`, `PHOTO_URL_*`). */
  photoCache: PhotoCacheConfig;
  /** How callers sign in (`AUTH_MODE` and the `ENTRA_*` / `AUTH_*` settings). */
  auth: AuthConfig;
  /** OpenTelemetry tracing is on (the `OTEL_*` variables ask for it): log lines then carry the trace id. */
  tracing: boolean;
  /** Apollo GraphOS usage (and schema) reporting, when `APOLLO_KEY` and `APOLLO_GRAPH_REF` are both set. */
  apollo: ApolloReporting | undefined;
  /**
   * `REDIS_URL` (or `REDIS_CLUSTER_NODES`, or `REDIS_SENTINELS`): the per-mailbox limit and
   * pauses, and the shared caches, are shared by every replica using it. Unset: each process
   * keeps its own.
   */
  redis: RedisConfig | undefined;
}

/**
 * Reads the configuration from `env`.
 *
 * @throws ConfigError for the first value that cannot be used.
 */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const server = serverSettings(env);
  return {
    ...server,
    graph: graphConfig(env),
    photos: photoConfig(env, server.requestTimeoutMs),
    photoCache: photoCacheConfig(env),
    auth: authConfig(env),
    ...graphQLSettings(env),
    tracing: tracingEnabled(env),
    apollo: apolloReporting(env),
    redis: redisConfig(env),
  };
}
