import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: '0.0.0.0',
      graph: {
        baseUrl: 'https://graph.microsoft.com/beta',
        maxRetries: 3,
        maxRetryAfterS: 30,
        timeoutMs: 10_000,
        deadlineMs: 30_000,
        batchMax: 20,
        mailbox: { concurrency: 4, queueLimit: 100, leaseMs: 5000 },
        budget: { requests: 10_000, requestWindowS: 600, uploadBytes: 150_000_000, uploadWindowS: 300 },
      },
      photos: {
        maxUploadBytes: 20 * 1024 * 1024,
        maxPixels: 50_000_000,
        maxSide: 648,
        // The cores, leaving two of libuv's 4 default threads free.
        concurrency: Math.min(availableParallelism(), 2),
        queue: 8,
        timeoutMs: 10_000,
        uploadBudgetBytes: 256 * 1024 * 1024,
        uploadTimeoutMs: 20_000,
      },
      photoCache: { ttlS: 600, listTtlS: 60, maxBytes: 256 * 1024 * 1024, urlSecret: undefined, urlTtlS: 3600 },
      webAppDir: undefined,
      auth: { mode: 'passthrough' },
      photoListMax: 100,
      photoDataUrlBudgetBytes: 8 * 1024 * 1024,
      corsOrigins: ['https://studio.apollographql.com'],
      logLevel: 'info',
      introspection: true,
      debug: false,
      production: false,
      shutdownGraceMs: 25_000,
      requestTimeoutMs: 30_000,
      tracing: false,
      federation: false,
      federationSdlPublic: true,
      apollo: undefined,
      metricsPort: undefined,
      metricsOnMainPort: true,
      persistedQueries: { ttlSeconds: 3600, maxBytes: 16 * 1024 },
      trustedDocuments: undefined,
      redis: undefined,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      GRAPH_BASE_URL: 'http://127.0.0.1:9000/beta/',
      GRAPH_MAX_RETRIES: '0',
      GRAPH_MAX_RETRY_AFTER_S: '2.5',
      GRAPH_TIMEOUT_MS: '100',
      GRAPH_DEADLINE_MS: '200',
      GRAPH_BATCH_MAX: '1',
      PHOTO_LIST_MAX: '7',
      PHOTO_DATAURL_BUDGET_BYTES: '7000000',
      CORS_ORIGINS: 'https://a.example, http://localhost:3000',
      LOG_LEVEL: 'WARN',
      GRAPHQL_INTROSPECTION: 'false',
      GRAPHQL_DEBUG: 'true',
      SHUTDOWN_GRACE_MS: '0',
      HTTP_REQUEST_TIMEOUT_MS: '500',
      GRAPH_MAILBOX_CONCURRENCY: '2',
      GRAPH_MAILBOX_QUEUE: '0',
      PHOTO_MAX_UPLOAD_BYTES: '1000',
      PHOTO_MAX_PIXELS: '4000000',
      PHOTO_MAX_SIDE: '96',
      PHOTO_CONCURRENCY: '3',
      PHOTO_QUEUE: '0',
      PHOTO_TIMEOUT_MS: '2500',
      PHOTO_UPLOAD_BUDGET_BYTES: '5000',
      // Above HTTP_REQUEST_TIMEOUT_MS (500): the request's own timeout is the bound then.
      PHOTO_UPLOAD_TIMEOUT_MS: '900',
      GRAPH_MAILBOX_LEASE_MS: '1000',
      GRAPH_MAILBOX_REQUEST_BUDGET: '30',
      GRAPH_MAILBOX_REQUEST_WINDOW_S: '5',
      GRAPH_MAILBOX_UPLOAD_BUDGET_BYTES: '8000000',
      GRAPH_MAILBOX_UPLOAD_WINDOW_S: '7',
      REDIS_URL: 'redis://:secret@127.0.0.1:6380/2',
      PHOTO_CACHE_TTL_S: '1',
      CONTACT_LIST_CACHE_TTL_S: '1',
      PHOTO_CACHE_MAX_BYTES: '2000000',
      PHOTO_URL_SECRET: 'a-secret-of-at-least-thirty-two-characters',
      PHOTO_URL_TTL_S: '1',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      graph: {
        baseUrl: 'http://127.0.0.1:9000/beta',
        maxRetries: 0,
        maxRetryAfterS: 2.5,
        timeoutMs: 100,
        deadlineMs: 200,
        batchMax: 1,
        mailbox: { concurrency: 2, queueLimit: 0, leaseMs: 1000 },
        budget: { requests: 30, requestWindowS: 5, uploadBytes: 8_000_000, uploadWindowS: 7 },
      },
      photos: { maxUploadBytes: 1000, maxPixels: 4_000_000, maxSide: 96, concurrency: 3, queue: 0, timeoutMs: 2500, uploadBudgetBytes: 5000, uploadTimeoutMs: 500 },
      redis: { url: 'redis://:secret@127.0.0.1:6380/2', clusterNodes: undefined, sentinel: undefined, tlsCa: undefined },
      photoCache: { ttlS: 1, listTtlS: 1, maxBytes: 2_000_000, urlSecret: 'a-secret-of-at-least-thirty-two-characters', urlTtlS: 1 },
      photoListMax: 7,
      photoDataUrlBudgetBytes: 7_000_000,
      corsOrigins: ['https://a.example', 'http://localhost:3000'],
      logLevel: 'warn',
      introspection: false,
      debug: true,
      shutdownGraceMs: 0,
      requestTimeoutMs: 500,
    });
  });

  it('reads sign-in (AUTH_MODE=obo) with its defaults, and every setting of it', () => {
    const obo = { AUTH_MODE: 'obo', ENTRA_TENANT_ID: 'tenant', ENTRA_CLIENT_ID: 'client', ENTRA_CLIENT_SECRET: 's3cret' };

    expect(loadConfig(obo).auth).toEqual({
      mode: 'obo',
      tenantId: 'tenant',
      clientId: 'client',
      clientSecret: 's3cret',
      authorityHost: 'https://login.microsoftonline.com',
      audiences: ['client', 'api://client'],
      requiredScope: 'access_as_user',
      graphScopes: ['https://graph.microsoft.com/.default'],
      jwksCooldownMs: 30_000,
      jwksRefreshMs: 600_000,
      timeoutMs: 10_000,
      webAppClientId: undefined,
    });
    expect(
      loadConfig({
        ...obo,
        ENTRA_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
        AUTH_AUDIENCES: 'api://gateway, client',
        AUTH_REQUIRED_SCOPE: 'Photos.Write',
        GRAPH_SCOPES: 'https://graph.microsoft.us/.default',
        AUTH_JWKS_COOLDOWN_MS: '1000',
        AUTH_JWKS_REFRESH_MS: '60000',
        ENTRA_TIMEOUT_MS: '2000',
        WEB_APP_CLIENT_ID: 'spa-client',
      }).auth,
    ).toMatchObject({
      webAppClientId: 'spa-client',
      authorityHost: 'https://login.microsoftonline.us',
      audiences: ['api://gateway', 'client'],
      requiredScope: 'Photos.Write',
      graphScopes: ['https://graph.microsoft.us/.default'],
      jwksCooldownMs: 1000,
      jwksRefreshMs: 60_000,
      timeoutMs: 2000,
    });
  });

  it.each([
    [{ AUTH_MODE: 'oauth' }, 'Invalid configuration: AUTH_MODE must be passthrough or obo (got "oauth").'],
    [{ AUTH_MODE: 'obo', ENTRA_CLIENT_ID: 'c', ENTRA_CLIENT_SECRET: 's' }, 'Invalid configuration: ENTRA_TENANT_ID must be set when AUTH_MODE is obo (got "").'],
    [{ AUTH_MODE: 'obo', ENTRA_TENANT_ID: 't', ENTRA_CLIENT_ID: 'c' }, 'Invalid configuration: ENTRA_CLIENT_SECRET must be set when AUTH_MODE is obo (got "").'],
    [
      { AUTH_MODE: 'obo', ENTRA_TENANT_ID: 't', ENTRA_CLIENT_ID: 'c', ENTRA_CLIENT_SECRET: 's', ENTRA_AUTHORITY_HOST: 'http://login.example.com' },
      'Invalid configuration: ENTRA_AUTHORITY_HOST must be an https origin such as https://login.microsoftonline.com (got "http://login.example.com").',
    ],
    [
      { AUTH_MODE: 'obo', ENTRA_TENANT_ID: 't', ENTRA_CLIENT_ID: 'c', ENTRA_CLIENT_SECRET: 's', AUTH_JWKS_REFRESH_MS: '0' },
      'Invalid configuration: AUTH_JWKS_REFRESH_MS must be a whole number from 1000 to 86400000 (got "0").',
    ],
    [{ WEB_APP_CLIENT_ID: 'spa-client' }, 'Invalid configuration: WEB_APP_CLIENT_ID is for sign-in: set AUTH_MODE=obo too, or leave it out (got "spa-client").'],
  ])('refuses sign-in settings it cannot use, naming the setting: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('turns introspection off by default in production, and lets it be turned back on', () => {
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ production: true, introspection: false });
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: '1' }).introspection).toBe(true);
  });

  it('keeps Federation’s _service { sdl } to callers with a token where introspection is off, unless FEDERATION_SDL_PUBLIC says otherwise', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).federationSdlPublic).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' }).federationSdlPublic).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', FEDERATION_SDL_PUBLIC: 'true' }).federationSdlPublic).toBe(true);
    expect(loadConfig({ GRAPHQL_INTROSPECTION: 'false' }).federationSdlPublic).toBe(false);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', GRAPH_MAX_RETRIES: ' ' }).port).toBe(4000);
  });

  it.each([
    ['PORT', '70000'],
    ['PORT', 'abc'],
    ['GRAPH_BASE_URL', 'graph.microsoft.com'],
    ['GRAPH_BASE_URL', 'ftp://graph.microsoft.com'],
    ['GRAPH_BASE_URL', 'https://user:pass@graph.microsoft.com'],
    ['GRAPH_BASE_URL', 'https://graph.microsoft.com/beta?x=1'],
    ['GRAPH_MAX_RETRIES', '-1'],
    ['GRAPH_MAX_RETRIES', '1.5'],
    ['GRAPH_MAX_RETRY_AFTER_S', 'ten'],
    ['GRAPH_TIMEOUT_MS', '0'],
    ['GRAPH_DEADLINE_MS', '5s'],
    // Graph takes at most 20 requests in a batch.
    ['GRAPH_BATCH_MAX', '21'],
    ['GRAPH_BATCH_MAX', '0'],
    ['PHOTO_LIST_MAX', '0'],
    // Below one picture at Graph's 4 MB cap (a 5.6 MB data: URL), no full-size dataUrl could be answered.
    ['PHOTO_DATAURL_BUDGET_BYTES', '6291455'],
    ['PHOTO_DATAURL_BUDGET_BYTES', '268435457'],
    ['PHOTO_DATAURL_BUDGET_BYTES', '16MiB'],
    ['CORS_ORIGINS', 'https://a.example/path'],
    ['CORS_ORIGINS', '*'],
    ['LOG_LEVEL', 'verbose'],
    ['PHOTO_MAX_UPLOAD_BYTES', '0'],
    ['PHOTO_MAX_UPLOAD_BYTES', '20MiB'],
    ['PHOTO_MAX_PIXELS', '0'],
    ['PHOTO_MAX_SIDE', '0'],
    ['PHOTO_CONCURRENCY', '0'],
    ['PHOTO_CONCURRENCY', '65'],
    // libuv's pool has 4 threads unless UV_THREADPOOL_SIZE says more: images may not take them all.
    ['PHOTO_CONCURRENCY', '4'],
    ['PHOTO_QUEUE', '-1'],
    ['PHOTO_TIMEOUT_MS', '99'],
    ['GRAPH_MAILBOX_LEASE_MS', '10'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_CLUSTER_NODES', '127.0.0.1'],
    ['REDIS_CLUSTER_NODES', '127.0.0.1:70000'],
    ['REDIS_SENTINELS', 'sentinel:26379'],
    ['REDIS_SENTINEL_NAME', 'mymaster'],
    ['REDIS_TLS_CA_FILE', '/etc/ssl/redis-ca.pem'],
    ['GRAPHQL_INTROSPECTION', 'yes'],
    ['GRAPHQL_DEBUG', 'on'],
    ['SHUTDOWN_GRACE_MS', '-5'],
    ['GRAPH_MAILBOX_CONCURRENCY', '0'],
    // Below a full batch of 20, which could then never be sent.
    ['GRAPH_MAILBOX_REQUEST_BUDGET', '19'],
    ['GRAPH_MAILBOX_REQUEST_BUDGET', '10k'],
    ['GRAPH_MAILBOX_REQUEST_WINDOW_S', '0'],
    ['GRAPH_MAILBOX_REQUEST_WINDOW_S', '86401'],
    // Below one photo at Graph's 4 MB cap, which could then never be uploaded.
    ['GRAPH_MAILBOX_UPLOAD_BUDGET_BYTES', '4194303'],
    ['GRAPH_MAILBOX_UPLOAD_BUDGET_BYTES', '150MB'],
    ['GRAPH_MAILBOX_UPLOAD_WINDOW_S', '0'],
    ['FEDERATION', 'maybe'],
    ['FEDERATION_SDL_PUBLIC', 'sure'],
    ['METRICS_PORT', '99999'],
    ['PHOTO_CACHE_TTL_S', '-1'],
    ['PHOTO_CACHE_TTL_S', '1.5'],
    ['PHOTO_CACHE_TTL_S', '604801'],
    ['PHOTO_CACHE_MAX_BYTES', '1048575'],
    ['CONTACT_LIST_CACHE_TTL_S', '-1'],
    ['CONTACT_LIST_CACHE_TTL_S', '604801'],
    // Above PHOTO_CACHE_TTL_S's default (600).
    ['CONTACT_LIST_CACHE_TTL_S', '601'],
    ['PHOTO_URL_TTL_S', '0'],
    ['PHOTO_URL_TTL_S', '604801'],
  ])('refuses %s=%j with one line naming it', (name, value) => {
    let thrown: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.variable).toBe(name);
    expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${name} .*\\(got ".*"\\)\\.$`));
    expect(error.message).not.toContain('\n');
  });

  it('sizes image work by libuv\'s thread pool: below it, and by default two threads under it', () => {
    expect(loadConfig({ UV_THREADPOOL_SIZE: '12', PHOTO_CONCURRENCY: '11' }).photos.concurrency).toBe(11);
    expect(() => loadConfig({ UV_THREADPOOL_SIZE: '12', PHOTO_CONCURRENCY: '12' })).toThrow(
      /^Invalid configuration: PHOTO_CONCURRENCY must be below libuv's thread pool size \(12\)/,
    );
    expect(loadConfig({ UV_THREADPOOL_SIZE: '3' }).photos.concurrency).toBe(1);
    expect(loadConfig({ UV_THREADPOOL_SIZE: '64' }).photos.concurrency).toBe(availableParallelism());
  });

  it('turns the photo cache off with PHOTO_CACHE_TTL_S=0, and takes any lifetime from 1 s', () => {
    expect(loadConfig({ PHOTO_CACHE_TTL_S: '0' }).photoCache.ttlS).toBe(0);
    expect(loadConfig({ PHOTO_CACHE_TTL_S: '1' }).photoCache.ttlS).toBe(1);
    expect(loadConfig({ PHOTO_URL_TTL_S: '1' }).photoCache.urlTtlS).toBe(1);
  });

  it('keeps contact-list pages a minute by default, never longer than photos, and not at all with either lifetime 0', () => {
    expect(loadConfig({ CONTACT_LIST_CACHE_TTL_S: '0' }).photoCache.listTtlS).toBe(0);
    expect(loadConfig({ CONTACT_LIST_CACHE_TTL_S: '600' }).photoCache.listTtlS).toBe(600);
    // The default follows a shorter photo lifetime down; PHOTO_CACHE_TTL_S=0 (the test stacks') turns both off.
    expect(loadConfig({ PHOTO_CACHE_TTL_S: '30' }).photoCache.listTtlS).toBe(30);
    expect(loadConfig({ PHOTO_CACHE_TTL_S: '0' }).photoCache.listTtlS).toBe(0);
    expect(loadConfig({ PHOTO_CACHE_TTL_S: '0', CONTACT_LIST_CACHE_TTL_S: '60' }).photoCache.listTtlS).toBe(0);
    expect(() => loadConfig({ PHOTO_CACHE_TTL_S: '30', CONTACT_LIST_CACHE_TTL_S: '31' })).toThrow(
      'Invalid configuration: CONTACT_LIST_CACHE_TTL_S must be at most PHOTO_CACHE_TTL_S (30) (got "31").',
    );
  });

  it('refuses a PHOTO_URL_SECRET under 32 characters without repeating it', () => {
    expect(() => loadConfig({ PHOTO_URL_SECRET: 'short-secret' })).toThrow('Invalid configuration: PHOTO_URL_SECRET must be at least 32 characters (got "(hidden)").');
  });

  it('starts in production without PHOTO_URL_SECRET (ProfilePhoto.url then answers an error), and takes one given', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).photoCache.urlSecret).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'production', PHOTO_URL_SECRET: 'x'.repeat(32) }).photoCache.urlSecret).toBe('x'.repeat(32));
  });

  it('never repeats a REDIS_URL it refuses, which may hold a password', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://:hunter2@redis.internal:6379' })).toThrow(
      'Invalid configuration: REDIS_URL must be a redis:// or rediss:// URL (got "(hidden)").',
    );
  });

  it('reads a Redis Cluster, Sentinel and a private CA for TLS', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis-0:6379, [::1]:7000' }).redis).toEqual({
      url: undefined,
      clusterNodes: [
        { host: 'redis-0', port: 6379 },
        { host: '::1', port: 7000 },
      ],
      sentinel: undefined,
      tlsCa: undefined,
    });
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'gateway', REDIS_URL: 'redis://gateway:pw@ignored/1' }).redis).toEqual({
      url: 'redis://gateway:pw@ignored/1',
      clusterNodes: undefined,
      sentinel: { sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'gateway' },
      tlsCa: undefined,
    });
    const dir = mkdtempSync(join(tmpdir(), 'redis-ca-'));
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n');
    expect(loadConfig({ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: join(dir, 'ca.pem') }).redis?.tlsCa).toBe('-----BEGIN CERTIFICATE-----\n');
    expect(() => loadConfig({ REDIS_URL: 'redis://redis:6379', REDIS_TLS_CA_FILE: join(dir, 'ca.pem') })).toThrow(/^Invalid configuration: REDIS_TLS_CA_FILE needs a rediss:\/\/ REDIS_URL/);
    expect(() => loadConfig({ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: join(dir, 'missing.pem') })).toThrow(/^Invalid configuration: REDIS_TLS_CA_FILE must name a readable PEM file \(ENOENT\)/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_NAME: 'c' })).toThrow(/^Invalid configuration: REDIS_SENTINELS cannot be set together with REDIS_CLUSTER_NODES/);
    rmSync(dir, { recursive: true });
  });

  it('needs APOLLO_KEY and APOLLO_GRAPH_REF together', () => {
    expect(() => loadConfig({ APOLLO_KEY: 'service:x:y' })).toThrow(/^Invalid configuration: APOLLO_GRAPH_REF must be set together/);
    expect(() => loadConfig({ APOLLO_GRAPH_REF: 'x@current' })).toThrow(/^Invalid configuration: APOLLO_KEY must be set together/);
    expect(loadConfig({ APOLLO_KEY: 'service:x:y', APOLLO_GRAPH_REF: 'x@current' }).apollo).toEqual({
      key: 'service:x:y',
      graphRef: 'x@current',
      usageReportingUrl: undefined,
      schemaReportingUrl: undefined,
    });
  });
});
