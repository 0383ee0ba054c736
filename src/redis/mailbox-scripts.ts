import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection.js';

/**
 * The shared per-mailbox limit as four Lua scripts over two keys per mailbox: a sorted set of
 * leases (members are lease tokens, scores their expiry) and a pause key. Time is Redis's own
 * (`TIME`), never a replica's clock. Both keys share a hash tag, so this works on Redis Cluster.
 */

/**
 * Acquire: the time left when paused; else drop expired leases and take one per token (ARGV[3]
 * on: a call needing several slots at once gets all of them or none) if they fit under the
 * limit; else mark that a replica waits (KEYS[3], for a lease) and answer the time until the
 * oldest lease expires.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then
  redis.call('SET', KEYS[3], '1', 'PX', lease)
  return {0, paused}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) + (#ARGV - 2) <= tonumber(ARGV[1]) then
  for i = 3, #ARGV do redis.call('ZADD', KEYS[1], now + lease, ARGV[i]) end
  redis.call('PEXPIRE', KEYS[1], lease * 2)
  return {1, 0}
end
redis.call('SET', KEYS[3], '1', 'PX', lease)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(1, tonumber(oldest[2]) - now)}
`;

/**
 * Release: remove the lease and, when a replica was refused one lately, say that a slot is free
 * (an uncontended mailbox publishes nothing: with 1,000 busy mailboxes every replica would
 * otherwise read a message per call).
 */
const RELEASE = `
local removed = redis.call('ZREM', KEYS[1], unpack(ARGV, 3))
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return removed
`;

/** Pause after a 429: extend the pause, never shorten it. */
const PAUSE = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
`;

/** Refresh this replica's leases on one mailbox; answers how many were lost (expired or gone). */
const REFRESH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local lost = 0
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) > now then
    redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[i])
  else
    redis.call('ZREM', KEYS[1], ARGV[i])
    lost = lost + 1
  end
end
redis.call('PEXPIRE', KEYS[1], lease * 2)
return lost
`;

/** The channel on which a freed slot is announced (the message is the mailbox's key tag). */
export const SLOT_FREED_CHANNEL = 'contact-photo-gateway:mailbox-slot-freed';

/**
 * Subscribes, and tries again every 200 ms until it is done or the connection is closed for good:
 * a cluster's subscription goes over a connection of its own, which may not be up yet when the
 * cluster is ready, and a lost subscription would leave waiters to sleep until the time Redis named.
 */
export function subscribeToFreedSlots(subscriber: RedisClient): void {
  subscriber.subscribe(SLOT_FREED_CHANNEL).catch(() => {
    if (subscriber.status !== 'end') setTimeout(() => subscribeToFreedSlots(subscriber), 200).unref();
  });
}

/** The Redis keys of a mailbox: its id hashed (ids run to 1,024 characters and may hold `{`). */
export function mailboxKeys(mailbox: string): { tag: string; leases: string; pause: string; waiting: string } {
  const tag = createHash('sha256').update(mailbox).digest('base64url').slice(0, 22);
  const prefix = `contact-photo-gateway:{${tag}}`;
  return { tag, leases: `${prefix}:leases`, pause: `${prefix}:pause`, waiting: `${prefix}:waiting` };
}

/** The scripts' calls, typed. ioredis sends EVALSHA and falls back to EVAL once per script. */
export interface MailboxScripts {
  /** One lease per token, all or none. */
  acquire(keys: MailboxKeys, tokens: string[], limit: number, leaseMs: number): Promise<[number, number]>;
  release(keys: MailboxKeys, tokens: string[]): Promise<number>;
  pause(pause: string, ms: number): Promise<number>;
  refresh(leases: string, leaseMs: number, tokens: string[]): Promise<number>;
}

export type MailboxKeys = ReturnType<typeof mailboxKeys>;

interface Scripted {
  mailboxAcquire(leases: string, pause: string, waiting: string, limit: number, leaseMs: number, ...tokens: string[]): Promise<[number, number]>;
  mailboxRelease(leases: string, waiting: string, channel: string, tag: string, ...tokens: string[]): Promise<number>;
  mailboxPause(pause: string, ms: number): Promise<number>;
  mailboxRefresh(leases: string, leaseMs: number, ...tokens: string[]): Promise<number>;
}

export function mailboxScripts(redis: RedisClient): MailboxScripts {
  redis.defineCommand('mailboxAcquire', { numberOfKeys: 3, lua: ACQUIRE });
  redis.defineCommand('mailboxRelease', { numberOfKeys: 2, lua: RELEASE });
  redis.defineCommand('mailboxPause', { numberOfKeys: 1, lua: PAUSE });
  redis.defineCommand('mailboxRefresh', { numberOfKeys: 1, lua: REFRESH });
  const scripted = redis as unknown as Scripted;
  return {
    acquire: (keys, tokens, limit, leaseMs) => scripted.mailboxAcquire(keys.leases, keys.pause, keys.waiting, limit, leaseMs, ...tokens),
    release: (keys, tokens) => scripted.mailboxRelease(keys.leases, keys.waiting, SLOT_FREED_CHANNEL, keys.tag, ...tokens),
    pause: (pause, ms) => scripted.mailboxPause(pause, Math.max(1, Math.ceil(ms))),
    refresh: (leases, leaseMs, tokens) => scripted.mailboxRefresh(leases, leaseMs, ...tokens),
  };
}
