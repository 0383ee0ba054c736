import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { tracingEnabled } from '../telemetry/tracing-enabled.js';
import { loadTrustedDocuments, type TrustedDocuments } from './trusted-documents.js';

export { ConfigError };

/**
 * The gateway's configuration, read once from the environment at start-up. Every variable is
 * documented in docs/configuration.md; a bad value stops start-up with one line naming it.
 */

export interface GraphConfig {
  /** Graph's base URL, without a trailing slash. */
  baseUrl: string;
  maxRetries: number;
  maxRetryAfterS: number;
  timeoutMs: number;
  deadlineMs: number;
  /** Reads sent together in one `POST /$batch` at most (`GRAPH_BATCH_MAX`, 1 to 20; 1 turns batching off). */
  batchMax: number;
  /** Outlook's per-mailbox limit, kept by the gateway (per process, or shared through `REDIS_URL`). */
  mailbox: {
    /** Calls in flight per mailbox (`GRAPH_MAILBOX_CONCURRENCY`). */
    concurrency: number;
    /** Calls waiting per mailbox before TOO_MANY_REQUESTS (`GRAPH_MAILBOX_QUEUE`). */
    queueLimit: number;
    /** With Redis: how long a slot is held without a refresh (`GRAPH_MAILBOX_LEASE_MS`). */
    leaseMs: number;
  };
}

/** Uploaded photos: what is accepted, and how they are made into Outlook's JPEG. */
export interface PhotoConfig {
  /** Largest uploaded file, in bytes (`PHOTO_MAX_UPLOAD_BYTES`); past it HTTP 413, PAYLOAD_TOO_LARGE. */
  maxUploadBytes: number;
  /** Largest image, in pixels, read from its header before decoding (`PHOTO_MAX_PIXELS`). */
  maxPixels: number;
  /** Longest side of the JPEG sent to Graph (`PHOTO_MAX_SIDE`). */
  maxSide: number;
  /** Images processed at once (`PHOTO_CONCURRENCY`); below libuv's thread pool size. */
  concurrency: number;
  /** Images admitted beyond those, waiting for a turn (`PHOTO_QUEUE`); past it, TOO_MANY_REQUESTS. */
  queue: number;
  /** Wall time one image may take once its turn has come (`PHOTO_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Announced bytes of the uploads admitted at once, at most (`PHOTO_UPLOAD_BUDGET_BYTES`); past it, 503. */
  uploadBudgetBytes: number;
  /** Time an admitted upload has to send its whole body (`PHOTO_UPLOAD_TIMEOUT_MS`), at most the request timeout. */
  uploadTimeoutMs: number;
}

/**
 * How callers sign in. `passthrough`: the caller sends a Graph token, forwarded as it is.
 * `obo`: the caller sends a token for the gateway's own API, checked here, then exchanged
 * on-behalf-of for a Graph token that never leaves the server.
 */
export type AuthConfig =
  | { mode: 'passthrough' }
  | {
      mode: 'obo';
      /** `ENTRA_TENANT_ID`. */
      tenantId: string;
      /** `ENTRA_CLIENT_ID`: the gateway's app registration. */
      clientId: string;
      /** `ENTRA_CLIENT_SECRET`: never printed. */
      clientSecret: string;
      /** `ENTRA_AUTHORITY_HOST`, an https origin without a trailing slash. */
      authorityHost: string;
      /** `AUTH_AUDIENCES`: the audiences a caller's token may carry. */
      audiences: string[];
      /** `AUTH_REQUIRED_SCOPE`: the delegated scope a caller's token must carry in `scp`. */
      requiredScope: string;
      /** `GRAPH_SCOPES`: what the exchange asks Graph's permissions for. */
      graphScopes: string[];
      /** `AUTH_JWKS_COOLDOWN_MS`: after a key fetch, how long until an unknown `kid` may fetch again. */
      jwksCooldownMs: number;
      /** `AUTH_JWKS_REFRESH_MS`: after a key fetch, how long until the keys are fetched again in the background. */
      jwksRefreshMs: number;
      /** `ENTRA_TIMEOUT_MS`: one request to Entra ID (discovery, keys, token endpoint). */
      timeoutMs: number;
    };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface GatewayConfig {
  port: number;
  host: string;
  graph: GraphConfig;
  photos: PhotoConfig;
  /** A built web page to serve at `/app/` (`WEB_APP_DIR`; the demo's example page). */
  webAppDir: string | undefined;
  /** How callers sign in (`AUTH_MODE` and the `ENTRA_*` / `AUTH_*` settings). */
  auth: AuthConfig;
  /** Contacts whose photo one operation may read (`PHOTO_LIST_MAX`): `contactPhotos` ids and `contactPhoto` fields together. */
  photoListMax: number;
  /**
   * Bytes of full-size `data:` URLs one operation may answer (`PHOTO_DATAURL_BUDGET_BYTES`): past
   * them, its further full-size `dataUrl` fields are refused (BAD_USER_INPUT), not read.
   */
  photoDataUrlBudgetBytes: number;
  /** Origins allowed by CORS. */
  corsOrigins: string[];
  logLevel: LogLevel;
  introspection: boolean;
  /** Stack traces in error answers (`GRAPHQL_DEBUG`). */
  debug: boolean;
  /** `NODE_ENV=production`: no Sandbox landing page, introspection off by default. */
  production: boolean;
  shutdownGraceMs: number;
  /** Time a client has to send a whole request, headers and body (`HTTP_REQUEST_TIMEOUT_MS`). */
  requestTimeoutMs: number;
  /** OpenTelemetry tracing is on (the `OTEL_*` variables ask for it): log lines then carry the trace id. */
  tracing: boolean;
  /** Serve the schema as an Apollo Federation 2 subgraph (`FEDERATION`). */
  federation: boolean;
  /**
   * Federation's `{ _service { sdl } }` answers without a token (`FEDERATION_SDL_PUBLIC`; by
   * default only where introspection is on): it is the whole schema, which production keeps to callers.
   */
  federationSdlPublic: boolean;
  /** Apollo GraphOS usage (and schema) reporting, when `APOLLO_KEY` and `APOLLO_GRAPH_REF` are both set. */
  apollo:
    | {
        key: string;
        graphRef: string;
        /** Where usage and schema reports go; Apollo's own endpoints when unset (a proxy, or a test). */
        usageReportingUrl: string | undefined;
        schemaReportingUrl: string | undefined;
      }
    | undefined;
  /** Automatic persisted queries: how long an entry lives (`APQ_TTL_S`), and the largest document kept (`APQ_MAX_BYTES`). */
  persistedQueries: { ttlSeconds: number; maxBytes: number };
  /** Port of a separate listener for `GET /metrics` (`METRICS_PORT`). */
  metricsPort: number | undefined;
  /**
   * Without `METRICS_PORT`, whether `GET /metrics` is served on the main (public) port
   * (`METRICS_ON_MAIN_PORT`; by default not in production, where it would tell anyone the traffic).
   */
  metricsOnMainPort: boolean;
  /** From the manifest `TRUSTED_DOCUMENTS` names: when set, only its documents are accepted. */
  trustedDocuments: TrustedDocuments | undefined;
  /**
   * `REDIS_URL`: the per-mailbox limit and pauses, and the persisted-query cache, are shared by
   * every replica using it. Unset: each process keeps its own.
   */
  redisUrl: string | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads the environment's value, treating an empty string as unset. */
function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`, value);
  }
  return Number(value);
}

function decimal(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `must be a number from ${min} to ${max}`, value);
  }
  return Number(value);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  switch (value.toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      throw new ConfigError(name, 'must be true or false', value);
  }
}

/** libuv's thread pool: 4 threads unless `UV_THREADPOOL_SIZE` (which `src/threadpool.cjs` sets) says otherwise. */
function threadPoolSize(env: Env): number {
  const value = Number(raw(env, 'UV_THREADPOOL_SIZE') ?? 4);
  return Number.isInteger(value) && value > 0 ? Math.min(value, 1024) : 4;
}

/**
 * sharp takes one thread of libuv's pool per image at work, and dns.lookup needs one for every
 * Graph call's host name: images may never take them all. The default leaves two free; an explicit
 * value must leave one.
 */
function photoConcurrency(env: Env): number {
  const pool = threadPoolSize(env);
  const concurrency = integer(env, 'PHOTO_CONCURRENCY', Math.max(1, Math.min(availableParallelism(), pool - 2)), 1, 64);
  if (concurrency >= pool) {
    throw new ConfigError(
      'PHOTO_CONCURRENCY',
      `must be below libuv's thread pool size (${pool}), so that image work leaves threads for DNS look-ups; ` +
        'start the gateway with npm start (which sizes the pool) or set UV_THREADPOOL_SIZE',
      String(concurrency),
    );
  }
  return concurrency;
}

function graphBaseUrl(env: Env): string {
  const name = 'GRAPH_BASE_URL';
  const value = raw(env, name) ?? 'https://graph.microsoft.com/beta';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, 'must be an absolute http(s) URL', value);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(name, 'must be an absolute http(s) URL', value);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(name, 'must not contain credentials, a query or a fragment', value);
  }
  return url.href.replace(/\/+$/, '');
}

function corsOrigins(env: Env): string[] {
  const name = 'CORS_ORIGINS';
  const value = raw(env, name) ?? 'https://studio.apollographql.com';
  return value.split(',').map((entry) => {
    const origin = entry.trim();
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== origin) {
      throw new ConfigError(name, 'must be a comma-separated list of origins such as https://studio.apollographql.com', value);
    }
    return origin;
  });
}

function logLevel(env: Env): LogLevel {
  const value = raw(env, 'LOG_LEVEL') ?? 'info';
  const level = LOG_LEVELS.find((candidate) => candidate === value.toLowerCase());
  if (!level) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`, value);
  return level;
}

function apolloReporting(env: Env): GatewayConfig['apollo'] {
  const key = raw(env, 'APOLLO_KEY');
  const graphRef = raw(env, 'APOLLO_GRAPH_REF');
  if (key === undefined && graphRef === undefined) return undefined;
  if (key === undefined || graphRef === undefined) {
    const missing = key === undefined ? 'APOLLO_KEY' : 'APOLLO_GRAPH_REF';
    throw new ConfigError(missing, 'must be set together with APOLLO_KEY and APOLLO_GRAPH_REF for Apollo usage reporting', '');
  }
  return {
    key,
    graphRef,
    usageReportingUrl: raw(env, 'APOLLO_USAGE_REPORTING_URL'),
    schemaReportingUrl: raw(env, 'APOLLO_SCHEMA_REPORTING_URL'),
  };
}

function redisUrl(env: Env): string | undefined {
  const value = raw(env, 'REDIS_URL');
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
    // The value may hold a password: it is not repeated in the message.
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL', '(hidden)');
  }
  return value;
}

/** A setting without a default. Nothing checks its form, so no error ever repeats it (a secret's neither). */
function required(env: Env, name: string, requiredBecause: string): string {
  const value = raw(env, name);
  if (value === undefined) throw new ConfigError(name, `must be set ${requiredBecause}`, '');
  return value;
}

function authorityHost(env: Env): string {
  const name = 'ENTRA_AUTHORITY_HOST';
  const value = raw(env, name) ?? 'https://login.microsoftonline.com';
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // MSAL takes only an https authority; a path would be taken for the tenant.
  if (!url || url.protocol !== 'https:' || url.origin !== value.replace(/\/+$/, '')) {
    throw new ConfigError(name, 'must be an https origin such as https://login.microsoftonline.com', value);
  }
  return url.origin;
}

function list(env: Env, name: string, fallback: string[], separator: RegExp): string[] {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const entries = value.split(separator).map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw new ConfigError(name, 'must name at least one value', value);
  return entries;
}

function auth(env: Env): AuthConfig {
  const mode = raw(env, 'AUTH_MODE') ?? 'passthrough';
  if (mode === 'passthrough') return { mode };
  if (mode !== 'obo') throw new ConfigError('AUTH_MODE', 'must be passthrough or obo', mode);
  const because = 'when AUTH_MODE is obo';
  const tenantId = required(env, 'ENTRA_TENANT_ID', because);
  const clientId = required(env, 'ENTRA_CLIENT_ID', because);
  const clientSecret = required(env, 'ENTRA_CLIENT_SECRET', because);
  return {
    mode,
    tenantId,
    clientId,
    clientSecret,
    authorityHost: authorityHost(env),
    audiences: list(env, 'AUTH_AUDIENCES', [clientId, `api://${clientId}`], /,/),
    requiredScope: raw(env, 'AUTH_REQUIRED_SCOPE') ?? 'access_as_user',
    graphScopes: list(env, 'GRAPH_SCOPES', ['https://graph.microsoft.com/.default'], /[\s,]+/),
    jwksCooldownMs: integer(env, 'AUTH_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000),
    jwksRefreshMs: integer(env, 'AUTH_JWKS_REFRESH_MS', 600_000, 1000, 86_400_000),
    timeoutMs: integer(env, 'ENTRA_TIMEOUT_MS', 10_000, 1, 600_000),
  };
}

function webAppDir(env: Env): string | undefined {
  const value = raw(env, 'WEB_APP_DIR');
  if (value === undefined) return undefined;
  const dir = resolve(value);
  if (!existsSync(join(dir, 'index.html'))) {
    throw new ConfigError('WEB_APP_DIR', 'must name a folder with an index.html (the example page: npm run build:web)', value);
  }
  return dir;
}

function trustedDocuments(env: Env): TrustedDocuments | undefined {
  const path = raw(env, 'TRUSTED_DOCUMENTS');
  return path === undefined ? undefined : loadTrustedDocuments(path);
}

/**
 * Reads the configuration from `env`.
 *
 * @throws ConfigError for the first value that cannot be used.
 */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const production = raw(env, 'NODE_ENV') === 'production';
  const introspection = boolean(env, 'GRAPHQL_INTROSPECTION', !production);
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: raw(env, 'HOST') ?? '0.0.0.0',
    graph: {
      baseUrl: graphBaseUrl(env),
      maxRetries: integer(env, 'GRAPH_MAX_RETRIES', 3, 0, 10),
      maxRetryAfterS: decimal(env, 'GRAPH_MAX_RETRY_AFTER_S', 30, 0, 3600),
      timeoutMs: integer(env, 'GRAPH_TIMEOUT_MS', 10_000, 1, 600_000),
      deadlineMs: integer(env, 'GRAPH_DEADLINE_MS', 30_000, 1, 3_600_000),
      batchMax: integer(env, 'GRAPH_BATCH_MAX', 20, 1, 20),
      mailbox: {
        concurrency: integer(env, 'GRAPH_MAILBOX_CONCURRENCY', 4, 1, 1000),
        queueLimit: integer(env, 'GRAPH_MAILBOX_QUEUE', 100, 0, 100_000),
        leaseMs: integer(env, 'GRAPH_MAILBOX_LEASE_MS', 5000, 100, 600_000),
      },
    },
    photos: {
      maxUploadBytes: integer(env, 'PHOTO_MAX_UPLOAD_BYTES', 20 * 1024 * 1024, 1, 1024 * 1024 * 1024),
      maxPixels: integer(env, 'PHOTO_MAX_PIXELS', 50_000_000, 1, 268_402_689),
      maxSide: integer(env, 'PHOTO_MAX_SIDE', 648, 1, 16_384),
      concurrency: photoConcurrency(env),
      queue: integer(env, 'PHOTO_QUEUE', 8, 0, 10_000),
      timeoutMs: integer(env, 'PHOTO_TIMEOUT_MS', 10_000, 100, 600_000),
      uploadBudgetBytes: integer(env, 'PHOTO_UPLOAD_BUDGET_BYTES', 256 * 1024 * 1024, 1, 64 * 1024 * 1024 * 1024),
      uploadTimeoutMs: Math.min(
        integer(env, 'PHOTO_UPLOAD_TIMEOUT_MS', 20_000, 100, 600_000),
        integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
      ),
    },
    webAppDir: webAppDir(env),
    auth: auth(env),
    photoListMax: integer(env, 'PHOTO_LIST_MAX', 100, 1, 1000),
    // A byte of data: URL answered took 9 to 11 bytes of peak RSS, measured (the picture, the batch
    // answer it came in, its text and its decoding, the URL, the JSON answer and its copies while
    // written: bench/data-url-memory.ts): 8 MiB keeps a request's pictures near 64 MiB. At least
    // 6 MiB: one picture at Graph's 4 MB cap is a 5.6 MB data: URL.
    photoDataUrlBudgetBytes: integer(env, 'PHOTO_DATAURL_BUDGET_BYTES', 8 * 1024 * 1024, 6 * 1024 * 1024, 256 * 1024 * 1024),
    corsOrigins: corsOrigins(env),
    logLevel: logLevel(env),
    introspection,
    debug: boolean(env, 'GRAPHQL_DEBUG', false),
    production,
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 25_000, 0, 600_000),
    requestTimeoutMs: integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    tracing: tracingEnabled(env),
    federation: boolean(env, 'FEDERATION', false),
    federationSdlPublic: boolean(env, 'FEDERATION_SDL_PUBLIC', introspection),
    apollo: apolloReporting(env),
    metricsPort: raw(env, 'METRICS_PORT') === undefined ? undefined : integer(env, 'METRICS_PORT', 0, 0, 65535),
    metricsOnMainPort: boolean(env, 'METRICS_ON_MAIN_PORT', !production),
    persistedQueries: {
      ttlSeconds: integer(env, 'APQ_TTL_S', 3600, 1, 7 * 24 * 3600),
      maxBytes: integer(env, 'APQ_MAX_BYTES', 16 * 1024, 1, 100 * 1024),
    },
    trustedDocuments: trustedDocuments(env),
    redisUrl: redisUrl(env),
  };
}
