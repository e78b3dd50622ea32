/**
 * The Lua scripts behind RedisRateBudget. Each runs atomically in Redis, on Redis's clock
 * (TIME), so processes on machines whose clocks differ still share one exact count.
 *
 * Keys of one credential (KEYS in every script, in this order):
 *   1 slots  sorted set: permit id -> when its hold expires (a killed holder's slot frees itself)
 *   2 log    sorted set: permit id -> start, for the rate of the leases (configured, declared, adaptive)
 *   3 rlog   sorted set: permit id -> start, for the window the destination reports
 *   4 state  hash: pausedUntil, streak, observedAt, rLimit, rInterval, dLimit, dRemaining, dUsed
 *   5 adaptive  stream: the answers the adaptive search learns from (shared-adaptive-rate.ts)
 *
 * A window entry whose permit is still held counts as arriving now (up to OPEN_CAP_MS): the
 * request may not have reached the destination yet. Release moves an entry forward to when
 * the request was taken to arrive (see RedisRateBudget.late).
 */

/** Shared helpers: `now` in ms from Redis's clock, and the wait a sliding window imposes. */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function windowWait(key, count, window, openCap)
  local old = redis.call('ZRANGEBYSCORE', key, '-inf', now - window)
  for _, m in ipairs(old) do
    local held = redis.call('ZSCORE', KEYS[1], m)
    local score = tonumber(redis.call('ZSCORE', key, m))
    if (not held) or score < now - window - openCap then redis.call('ZREM', key, m) end
  end
  if redis.call('ZCARD', key) < count then return 0 end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 1 then wait = 5 end
  return wait
end
`;

/**
 * ARGV: permit id, concurrency, rate count (0: none), rate window ms, hold ttl ms, finishing (1/0),
 * daily reserve (-1: share of the limit), reserve share, window margin ms, open cap ms.
 * Answers {0, now, rLimit, rInterval, inFlight} when granted; {1, wait} paused; {2, wait} no slot
 * or no rate yet; {3, limit, remaining, used, reserve} at the daily reserve.
 */
export const ACQUIRE = `${PRELUDE}
local id = ARGV[1]
local concurrency = tonumber(ARGV[2])
local rateCount = tonumber(ARGV[3])
local rateWindow = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local finishing = ARGV[6] == '1'
local reserveArg = tonumber(ARGV[7])
local share = tonumber(ARGV[8])
local margin = tonumber(ARGV[9])
local openCap = tonumber(ARGV[10])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local s = redis.call('HMGET', KEYS[4], 'pausedUntil', 'dLimit', 'dRemaining', 'dUsed', 'rLimit', 'rInterval')
local paused = tonumber(s[1] or '0')
if paused > now then return {1, paused - now} end
if s[3] and not finishing then
  local limit = tonumber(s[2] or '-1')
  local remaining = tonumber(s[3])
  local used = tonumber(s[4] or '0')
  local reserve = reserveArg
  if reserve < 0 then
    if limit >= 0 then reserve = math.ceil(limit * share) else reserve = 0 end
  end
  if remaining - used <= reserve then return {3, limit, remaining, used, reserve} end
end
if redis.call('ZCARD', KEYS[1]) >= concurrency then return {2, 10} end
local wait = 0
if rateCount > 0 then wait = windowWait(KEYS[2], rateCount, rateWindow, openCap) end
local rLimit = tonumber(s[5] or '0')
local rInterval = tonumber(s[6] or '0')
if wait == 0 and rLimit > 0 then wait = windowWait(KEYS[3], rLimit, rInterval + margin, openCap) end
if wait > 0 then return {2, wait} end
redis.call('ZADD', KEYS[1], now + ttl, id)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
if rateCount > 0 then
  redis.call('ZADD', KEYS[2], now, id)
  redis.call('PEXPIRE', KEYS[2], rateWindow + ttl + openCap)
end
if rLimit > 0 then
  redis.call('ZADD', KEYS[3], now, id)
  redis.call('PEXPIRE', KEYS[3], rInterval + margin + ttl + openCap)
end
if s[3] then redis.call('HINCRBY', KEYS[4], 'dUsed', 1) end
return {0, now, rLimit, rInterval, redis.call('ZCARD', KEYS[1])}
`;

/** ARGV: permit id, shift ms (how far past its start the request is taken to have arrived). */
export const RELEASE = `${PRELUDE}
local id = ARGV[1]
local shift = tonumber(ARGV[2])
redis.call('ZREM', KEYS[1], id)
for _, key in ipairs({KEYS[2], KEYS[3]}) do
  local at = redis.call('ZSCORE', key, id)
  if at then redis.call('ZADD', key, 'XX', math.min(now, tonumber(at) + shift), id) end
end
return redis.call('ZCARD', KEYS[1])
`;

/** ARGV: hold ttl ms, then the ids of the permits this process holds: their holds go on. */
export const RENEW = `${PRELUDE}
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i]) end
return 0
`;

/** ARGV: wait ms. Nobody on the credential starts a request before now + wait. Answers the pause left. */
export const THROTTLE = `${PRELUDE}
local wait = tonumber(ARGV[1])
local paused = tonumber(redis.call('HGET', KEYS[4], 'pausedUntil') or '0')
if now + wait > paused then
  paused = now + wait
  redis.call('HSET', KEYS[4], 'pausedUntil', paused)
end
redis.call('PEXPIRE', KEYS[4], 2 * 86400000)
return paused - now
`;

/**
 * ARGV: at (ms, the observer's clock), limit, remaining, interval ms, daily limit, daily remaining
 * ('' where not known), window margin ms. An observation older than the last one changes nothing.
 */
export const OBSERVE = `${PRELUDE}
local at = tonumber(ARGV[1])
local last = tonumber(redis.call('HGET', KEYS[4], 'observedAt') or '-1')
if at < last then return 0 end
redis.call('HSET', KEYS[4], 'observedAt', at)
local limit = tonumber(ARGV[2])
local remaining = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
if limit and limit > 0 and interval and interval > 0 then
  redis.call('HSET', KEYS[4], 'rLimit', limit, 'rInterval', interval)
  if remaining then
    -- what others used of the window: counted as used now, the cautious reading
    local window = interval + tonumber(ARGV[7])
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
    local missing = math.min(limit, limit - remaining) - redis.call('ZCARD', KEYS[3])
    for i = 1, missing do
      redis.call('ZADD', KEYS[3], now, 'used:' .. redis.call('HINCRBY', KEYS[4], 'usedSeq', 1))
    end
    redis.call('PEXPIRE', KEYS[3], window * 2)
  end
end
local dailyRemaining = tonumber(ARGV[6])
if dailyRemaining then
  redis.call('HSET', KEYS[4], 'dRemaining', dailyRemaining, 'dUsed', 0)
  if tonumber(ARGV[5]) then redis.call('HSET', KEYS[4], 'dLimit', tonumber(ARGV[5])) end
end
redis.call('PEXPIRE', KEYS[4], 2 * 86400000)
return 1
`;

/** ARGV: none. What the destination reported, for a handle that has not seen it yet: {rLimit, rInterval, inFlight}. */
export const READ = `${PRELUDE}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local s = redis.call('HMGET', KEYS[4], 'rLimit', 'rInterval')
return {tonumber(s[1] or '0'), tonumber(s[2] or '0'), redis.call('ZCARD', KEYS[1])}
`;

/**
 * ARGV: kind ('s' success, 'f' served otherwise, 't' 429), its argument (rate-bound 1/0, the
 * pause ms), events kept. One answer of the adaptive search, stamped by Redis (the stream id),
 * for every process to replay (shared-adaptive-rate.ts).
 */
export const ADAPTIVE_EVENT = `
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[3], '*', 'k', ARGV[1], 'a', ARGV[2])
redis.call('PEXPIRE', KEYS[5], 2 * 86400000)
return 1
`;
