import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisAddress, RedisConfig } from '../config/redis-config.js';
import { failureOf, type RedisFailure } from './redis-failure.js';

/** How long one Redis command may take before the gateway stops waiting for it. */
export const REDIS_COMMAND_TIMEOUT_MS = 500;

/**
 * `command`, failed as a timeout past twice the command bound: ioredis's own timeout ends a
 * command on a live connection; a cluster's retries (a failover, slots moving) may add to it.
 */
export function boundedCommand<T>(command: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('Command timed out (the gateway stopped waiting)')), 2 * REDIS_COMMAND_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([command, timeout]).finally(() => clearTimeout(timer));
}

/** A connection to a single node (found directly or through Sentinel) or to a cluster. */
export type RedisClient = Redis | Cluster;

/**
 * ioredis set up so that Redis can never hang a call or take the gateway down: no offline queue
 * (a command while disconnected fails at once), short connect and command timeouts, one retry
 * per command, reconnection every 100 ms to 2 s for ever, and an `error` listener (without one,
 * ioredis's errors would be unhandled). Start-up does not wait for the connection.
 */
export function redisOptions(): RedisOptions {
  return {
    enableOfflineQueue: false,
    connectTimeout: REDIS_COMMAND_TIMEOUT_MS,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    // The subscriber resubscribes itself on reconnect; commands are never queued for a reconnect.
    autoResubscribe: true,
    enableReadyCheck: true,
    lazyConnect: false,
    // Commands issued in the same tick go out in one write (and their answers come back in one
    // read): under load, the acquires and releases of many calls share their system calls.
    enableAutoPipelining: true,
  };
}

/**
 * What `REDIS_URL` says of every node: the user and password (ACL), the database, and TLS for
 * `rediss:` (verified against `REDIS_TLS_CA_FILE`'s CA when given, else Node's trust store).
 */
export function credentialsOf(config: Pick<RedisConfig, 'url' | 'tlsCa'>): RedisOptions {
  if (config.url === undefined) return {};
  const url = new URL(config.url);
  const database = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
  return {
    ...(url.username !== '' && { username: decodeURIComponent(url.username) }),
    ...(url.password !== '' && { password: decodeURIComponent(url.password) }),
    ...(database !== undefined && Number.isInteger(database) && { db: database }),
    ...(url.protocol === 'rediss:' && { tls: config.tlsCa === undefined ? {} : { ca: config.tlsCa } }),
  };
}

/** The node `REDIS_URL` names. */
export function addressOf(url: string): RedisAddress {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: Number(parsed.port || 6379) };
}

/** A client of one node: the one `REDIS_URL` names, or Sentinel's primary when Sentinel is configured. */
export function connectNode(config: RedisConfig, errors: RedisErrorLog, role: string): Redis {
  const options: RedisOptions = { ...redisOptions(), ...credentialsOf(config), connectionName: `contact-photo-gateway:${role}` };
  const client = config.sentinel
    ? new Redis({ ...options, sentinels: config.sentinel.sentinels, name: config.sentinel.name, sentinelRetryStrategy: (attempt) => Math.min(100 * attempt, 2000) })
    : new Redis({ ...options, ...addressOf(config.url!) });
  errors.watch(client, role);
  return client;
}

/**
 * A cluster client started from `nodes`, with the same bounds as a single node's: no offline
 * queue, and a command waits for a failover or a slot move at most a few short retries (each
 * command's own timeout still bounds it), so that a call falls back rather than waits.
 */
export function connectCluster(config: RedisConfig, nodes: RedisAddress[], errors: RedisErrorLog, role: string): Cluster {
  const { retryStrategy: _perNode, enableOfflineQueue: _queue, ...nodeOptions } = redisOptions();
  const options: ClusterOptions = {
    enableOfflineQueue: false,
    enableReadyCheck: true,
    enableAutoPipelining: true,
    scaleReads: 'master',
    maxRedirections: 4,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 1000,
    clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    redisOptions: { ...nodeOptions, ...credentialsOf(config), connectionName: `contact-photo-gateway:${role}` },
  };
  const client = new Cluster(nodes, options);
  errors.watch(client, role);
  // A node's own errors (one master unreachable, a refused password) are the cluster's to log.
  client.on('node error', (error: Error) => client.emit('error', error));
  return client;
}

/**
 * Logs the errors of one gateway's Redis connections: at most once a second each at debug level
 * (a flapping Redis is loud enough), and one warning for a refused user or password, which
 * retrying will not mend, however many connections meet it.
 */
export class RedisErrorLog {
  #refusedCredentialsLogged = false;

  /** `failed` hears every error's reason (the limit says why it is local). */
  constructor(
    private readonly logger: Logger,
    private readonly failed: (failure: RedisFailure) => void = () => undefined,
  ) {}

  watch(client: RedisClient, role: string): void {
    let lastLogged = 0;
    client.on('error', (error: Error) => {
      const failure = failureOf(error);
      this.failed(failure);
      if (failure === 'auth') {
        if (this.#refusedCredentialsLogged) return;
        this.#refusedCredentialsLogged = true;
        this.logger.warn({ role, reason: 'auth' }, 'redis: the user or password of REDIS_URL was refused; each replica keeps its own mailbox limit until Redis accepts them');
        return;
      }
      if (Date.now() - lastLogged < 1000) return;
      lastLogged = Date.now();
      // Only the message: an ioredis error can carry the command, never credentials, but stay terse.
      this.logger.debug({ role, err: { name: error.name, message: error.message } }, 'redis error');
    });
  }
}
