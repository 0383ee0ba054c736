import { BUDGET_BUCKETS, type BudgetCost, type MailboxBudgetOptions } from '../graph/mailbox-budget.js';
import { mailboxKeys } from './mailbox-scripts.js';
import type { RedisClient } from './redis-connection.js';

/**
 * Outlook's request and upload budgets of one mailbox, shared by every replica, as one Lua
 * script over two hashes (bucket number to count, a fiftieth of the window each), in Redis's own
 * clock (`TIME`). It checks both budgets and counts the cost in both, or in neither, in one round
 * trip. graph/mailbox-budgets.ts does the same in a process: a bucket is forgotten once all of it
 * is older than the window. The keys carry the mailbox limit's hash tag, so they share its slot
 * on Redis Cluster.
 *
 * KEYS: the request buckets, the upload buckets. ARGV: the request budget, its window (ms), the
 * requests of this attempt; the same three for uploads; buckets per window. Answers
 * {allowed (1/0), the budget that refused (1 requests, 2 upload), ms until it allows, requests
 * left, upload bytes left}.
 */
const CHARGE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per = tonumber(ARGV[7])
local function look(key, limit, window, cost)
  local size = math.max(1, math.floor(window / per))
  local fields = redis.call('HGETALL', key)
  local used, live, stale = 0, {}, {}
  for i = 1, #fields, 2 do
    local bucket, count = tonumber(fields[i]), tonumber(fields[i + 1])
    if (bucket + 1) * size <= now - window then
      stale[#stale + 1] = fields[i]
    else
      used = used + count
      live[#live + 1] = {bucket, count}
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  local wait = 0
  if cost > 0 and used + cost > limit then
    wait = window
    if cost <= limit then
      table.sort(live, function(a, b) return a[1] < b[1] end)
      local needed, freed = used + cost - limit, 0
      for _, entry in ipairs(live) do
        freed = freed + entry[2]
        if freed >= needed then
          wait = math.max(1, (entry[1] + 1) * size + window - now)
          break
        end
      end
    end
  end
  return {used = used, wait = wait, size = size, limit = limit, window = window, cost = cost}
end
local r = look(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
local u = look(KEYS[2], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
if r.wait > 0 or u.wait > 0 then
  local which = 2
  if r.wait >= u.wait then which = 1 end
  return {0, which, math.max(r.wait, u.wait), r.limit - r.used, u.limit - u.used}
end
for i, b in ipairs({r, u}) do
  if b.cost > 0 then
    redis.call('HINCRBY', KEYS[i], string.format('%d', math.floor(now / b.size)), b.cost)
    redis.call('PEXPIRE', KEYS[i], b.window + b.size)
  end
end
return {1, 0, 0, r.limit - r.used - r.cost, u.limit - u.used - u.cost}
`;

/** The script's answer: allowed (1/0), the budget that refused (1 requests, 2 upload), ms until it allows, what is left of each. */
export type BudgetAnswer = [allowed: number, budget: number, waitMs: number, requestsLeft: number, uploadBytesLeft: number];

/** The Redis keys of a mailbox's budgets, in the slot of its mailbox limit's keys. */
export function budgetKeys(mailbox: string): { requests: string; uploads: string } {
  const prefix = `contact-photo-gateway:{${mailboxKeys(mailbox).tag}}:budget`;
  return { requests: `${prefix}:requests`, uploads: `${prefix}:uploads` };
}

interface Scripted {
  mailboxBudgetCharge(requests: string, uploads: string, ...args: number[]): Promise<BudgetAnswer>;
}

/** The script's call, typed: one EVALSHA (ioredis falls back to EVAL once). */
export function budgetScript(redis: RedisClient, options: MailboxBudgetOptions): (mailbox: string, cost: BudgetCost) => Promise<BudgetAnswer> {
  redis.defineCommand('mailboxBudgetCharge', { numberOfKeys: 2, lua: CHARGE });
  const scripted = redis as unknown as Scripted;
  const requestWindowMs = options.requestWindowS * 1000;
  const uploadWindowMs = options.uploadWindowS * 1000;
  return (mailbox, cost) => {
    const keys = budgetKeys(mailbox);
    return scripted.mailboxBudgetCharge(
      keys.requests,
      keys.uploads,
      options.requests,
      requestWindowMs,
      cost.requests,
      options.uploadBytes,
      uploadWindowMs,
      cost.uploadBytes,
      BUDGET_BUCKETS,
    );
  };
}
