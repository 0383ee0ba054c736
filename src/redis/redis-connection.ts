import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** How long one Redis command may take before the gateway stops waiting for it. */
export const REDIS_COMMAND_TIMEOUT_MS = 500;

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

/** A client for `url`, whose errors are logged (at most once a second, a flapping Redis is loud enough). */
export function connectRedis(url: string, logger: Logger, role: string): Redis {
  const client = new Redis(url, { ...redisOptions(), connectionName: `contact-photo-gateway:${role}` });
  let lastLogged = 0;
  client.on('error', (error: Error) => {
    if (Date.now() - lastLogged < 1000) return;
    lastLogged = Date.now();
    // Only the message: an ioredis error can carry the command, never credentials, but stay terse.
    logger.debug({ role, err: { name: error.name, message: error.message } }, 'redis error');
  });
  return client;
}
