/**
 * Why a Redis command or connection failed, in one word, as `/readyz` says it
 * (`mailboxLimitReason`) and the fall-back's warning logs it.
 */
export type RedisFailure =
  /** Not connected (never yet, or the connection closed): ioredis refuses commands at once. */
  | 'disconnected'
  /** The command took longer than its bound (a frozen or overloaded Redis). */
  | 'timeout'
  /** A cluster node answered MOVED or ASK: a single-node client on a cluster, or slots moving. */
  | 'moved'
  /** The cluster has slots no master serves (a master down, no replica to take over). */
  | 'clusterdown'
  /** The script is not in Redis's cache (ioredis sends it again itself: seen only if that fails too). */
  | 'noscript'
  /** The user or password was refused, or the user may not run the command (ACL). */
  | 'auth'
  /** A replica answered: writes go to the primary (a failover in progress). */
  | 'readonly'
  /** Redis is full (`maxmemory` under `noeviction`). */
  | 'oom'
  /** Redis is loading its data set after a restart. */
  | 'loading'
  /** The TLS handshake failed: most often a certificate not trusted (`REDIS_TLS_CA_FILE`) or not for that host. */
  | 'tls'
  | 'error';

const BY_PREFIX: ReadonlyArray<[RegExp, RedisFailure]> = [
  [/^(MOVED|ASK)\b/, 'moved'],
  [/^(CLUSTERDOWN|TRYAGAIN)\b|Failed to refresh slots cache|None of startup nodes is available/, 'clusterdown'],
  [/^NOSCRIPT\b/, 'noscript'],
  [/^(WRONGPASS|NOAUTH|NOPERM)\b|invalid username-password|Authentication required/i, 'auth'],
  [/^READONLY\b/, 'readonly'],
  [/^OOM\b/, 'oom'],
  [/^LOADING\b/, 'loading'],
  [/certificate|\bSSL\b|\bTLS\b|ERR_TLS|altnames/i, 'tls'],
  [/timed? ?out/i, 'timeout'],
  [/enableOfflineQueue|Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|EHOSTUNREACH|ENOTFOUND|not connected|All sentinels are unreachable/i, 'disconnected'],
];

/** The word for `error` (an ioredis error, a Redis error reply, or a socket's error). */
export function failureOf(error: unknown): RedisFailure {
  const message = error instanceof Error ? error.message : String(error);
  for (const [pattern, failure] of BY_PREFIX) if (pattern.test(message)) return failure;
  return 'error';
}
