import { ConfigError } from './config-error.js';
import { parseUrl, raw, type Env } from './env-values.js';

/** `REDIS_URL`, when set: the Redis the replicas share the mailbox limit and caches through. */
export function redisUrl(env: Env): string | undefined {
  const value = raw(env, 'REDIS_URL');
  if (value === undefined) return undefined;
  if (!parseUrl(value, ['redis:', 'rediss:'])) {
    // The value may hold a password: it is not repeated in the message.
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL', '(hidden)');
  }
  return value;
}
