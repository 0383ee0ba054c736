import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { boolean, integer, oneOf, parseUrl, raw, type Env } from './env-values.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The HTTP server: where it listens, its time limits, who may call it from a browser, what it serves beside GraphQL. */
export interface ServerSettings {
  port: number;
  host: string;
  /** `NODE_ENV=production`: no Sandbox landing page, introspection off by default. */
  production: boolean;
  shutdownGraceMs: number;
  /** Time a client has to send a whole request, headers and body (`HTTP_REQUEST_TIMEOUT_MS`). */
  requestTimeoutMs: number;
  /** Origins allowed by CORS. */
  corsOrigins: string[];
  logLevel: LogLevel;
  /** A built web page to serve at `/app/` (`WEB_APP_DIR`; the demo's example page). */
  webAppDir: string | undefined;
  /** Port of a separate listener for `GET /metrics` (`METRICS_PORT`). */
  metricsPort: number | undefined;
  /**
   * Without `METRICS_PORT`, whether `GET /metrics` is served on the main (public) port
   * (`METRICS_ON_MAIN_PORT`; by default not in production, where it would tell anyone the traffic).
   */
  metricsOnMainPort: boolean;
}

/** `NODE_ENV=production`, which other settings' defaults follow. */
export function isProduction(env: Env): boolean {
  return raw(env, 'NODE_ENV') === 'production';
}

export function serverSettings(env: Env): ServerSettings {
  const production = isProduction(env);
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: raw(env, 'HOST') ?? '0.0.0.0',
    production,
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 25_000, 0, 600_000),
    requestTimeoutMs: integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    corsOrigins: corsOrigins(env),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    webAppDir: webAppDir(env),
    metricsPort: raw(env, 'METRICS_PORT') === undefined ? undefined : integer(env, 'METRICS_PORT', 0, 0, 65535),
    metricsOnMainPort: boolean(env, 'METRICS_ON_MAIN_PORT', !production),
  };
}

function corsOrigins(env: Env): string[] {
  const name = 'CORS_ORIGINS';
  const value = raw(env, name) ?? 'https://studio.apollographql.com';
  return value.split(',').map((entry) => {
    const origin = entry.trim();
    if (parseUrl(origin)?.origin !== origin) {
      throw new ConfigError(name, 'must be a comma-separated list of origins such as https://studio.apollographql.com', value);
    }
    return origin;
  });
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
