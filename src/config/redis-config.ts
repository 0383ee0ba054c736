import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';
import { list, parseUrl, raw, type Env } from './env-values.js';

/** A node of a cluster or a Sentinel, as `host:port`. */
export interface RedisAddress {
  host: string;
  port: number;
}

/**
 * The Redis the replicas share the mailbox limit and caches through: a single node, a cluster
 * (found by asking the node `REDIS_URL` names, or from `REDIS_CLUSTER_NODES`), or a primary
 * found through Sentinel.
 */
export interface RedisConfig {
  /**
   * `REDIS_URL`. A single node or any node of a cluster; with `REDIS_CLUSTER_NODES` or
   * Sentinel, only its scheme (`rediss:` for TLS), user, password and database are used.
   */
  url: string | undefined;
  /** `REDIS_CLUSTER_NODES`: the cluster's nodes to start from (the client learns the rest). */
  clusterNodes: RedisAddress[] | undefined;
  /** `REDIS_SENTINELS` and `REDIS_SENTINEL_NAME`: the Sentinels to ask and the primary's name there. */
  sentinel: { sentinels: RedisAddress[]; name: string } | undefined;
  /** `REDIS_TLS_CA_FILE`'s certificates (PEM): the private CA a `rediss://` Redis is verified against. */
  tlsCa: string | undefined;
}

/** The Redis settings, or `undefined` when none of `REDIS_URL`, `REDIS_CLUSTER_NODES` and `REDIS_SENTINELS` is set. */
export function redisConfig(env: Env): RedisConfig | undefined {
  const url = redisUrl(env);
  const clusterNodes = addresses(env, 'REDIS_CLUSTER_NODES');
  const sentinel = sentinelSettings(env);
  if (clusterNodes && sentinel) throw new ConfigError('REDIS_SENTINELS', 'cannot be set together with REDIS_CLUSTER_NODES', raw(env, 'REDIS_SENTINELS')!);
  const caFile = raw(env, 'REDIS_TLS_CA_FILE');
  if (url === undefined && clusterNodes === undefined && sentinel === undefined) {
    if (caFile !== undefined) throw new ConfigError('REDIS_TLS_CA_FILE', 'needs a rediss:// REDIS_URL', caFile);
    return undefined;
  }
  return { url, clusterNodes, sentinel, tlsCa: caFile === undefined ? undefined : readCa(caFile, url) };
}

function redisUrl(env: Env): string | undefined {
  const value = raw(env, 'REDIS_URL');
  if (value === undefined) return undefined;
  if (!parseUrl(value, ['redis:', 'rediss:'])) {
    // The value may hold a password: it is not repeated in the message.
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL', '(hidden)');
  }
  return value;
}

/** A comma list of `host:port`, or `undefined` when unset. */
function addresses(env: Env, name: string): RedisAddress[] | undefined {
  if (raw(env, name) === undefined) return undefined;
  return list(env, name, [], /,/).map((entry) => {
    const match = /^(.+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) throw new ConfigError(name, 'must be a comma list of host:port', entry);
    // `[::1]:6379`: the brackets are the URL's, not the host's.
    return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  });
}

function sentinelSettings(env: Env): RedisConfig['sentinel'] {
  const sentinels = addresses(env, 'REDIS_SENTINELS');
  const name = raw(env, 'REDIS_SENTINEL_NAME');
  if (sentinels === undefined && name === undefined) return undefined;
  // The error names the variable that was set, the one a reader will look for.
  if (sentinels === undefined) throw new ConfigError('REDIS_SENTINEL_NAME', 'must be set together with REDIS_SENTINELS', name!);
  if (name === undefined) throw new ConfigError('REDIS_SENTINELS', 'must be set together with REDIS_SENTINEL_NAME', raw(env, 'REDIS_SENTINELS')!);
  return { sentinels, name };
}

function readCa(path: string, url: string | undefined): string {
  if (url === undefined || !url.startsWith('rediss:')) throw new ConfigError('REDIS_TLS_CA_FILE', 'needs a rediss:// REDIS_URL', path);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('REDIS_TLS_CA_FILE', `must name a readable PEM file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, path);
  }
}
