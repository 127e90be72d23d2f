import type { Redis } from "ioredis";

/**
 * The Lua scripts of the Redis stream log (redis-stream-log.ts), one atomic
 * step each, registered on a client with `defineCommand` (EVALSHA, EVAL on
 * NOSCRIPT). Every script takes the log's two keys: KEYS[1] the Redis
 * Stream of events, KEYS[2] the meta hash (see {@link RedisLogKeys}).
 *
 * Sizes: an entry holds the event's Protobuf binary without stream_id,
 * epoch and seq (the key, the meta hash and the entry id hold them). The
 * size a limit counts is the size of the positioned event, which the
 * scripts compute as `#payload + x + field(epoch) + field(seq)`, where `x`
 * (an argument) is the stream id's field, so `bytes` in the meta hash is
 * exactly the sum of `toBinary(StreamEventSchema, e).length` over the
 * retained events, as in the memory log.
 *
 * Lost history: the meta hash missing, the stream holding another number of
 * entries than `[first, top]`, or a `top` below the caller's (acknowledged
 * writes gone: a failover to a replica that lagged, a restore). The append
 * and recover scripts then start a new incarnation under the caller's fresh
 * candidate epoch (never an old one), with seqs continuing above the
 * highest known, so a cursor of the old epoch is EPOCH_CHANGED, never an
 * exact resume into other events.
 */

/** Lua helpers shared by the scripts. */
const common = `
local function vlen(n)
  local l = 1
  while n >= 128 do n = math.floor(n / 128); l = l + 1 end
  return l
end
local function sfield(len)
  if len == 0 then return 0 end
  return 1 + vlen(len) + len
end
local function esize(payload, x, epoch, seq)
  return #payload + x + sfield(#epoch) + 1 + vlen(seq)
end
local function entry(stream, seq)
  local r = redis.call('XRANGE', stream, seq .. '-0', seq .. '-0')
  return r[1] and r[1][2][2] or ''
end
local function lost(stream, m, floor)
  if not m[1] then return true end
  local top, first = tonumber(m[2]), tonumber(m[3])
  return top < floor or redis.call('XLEN', stream) ~= top - first + 1
end
`;

/**
 * append: KEYS stream, meta; ARGV[1] batch id (unique per call, and the
 * candidate epoch), [2] floor (the caller's top), [3] x, [4] maxEvents
 * (-1: none), [5] maxBytes (-1: none), [6] running TTL ms (0: none;
 * negative: not due, set only on keys this call creates), [7] TTL ms
 * after the end, [8] live channel, [9] 1 when the last payload
 * is the terminal event, [10..] the payloads.
 *
 * Refuses after the terminal event; a resend of the batch applied last
 * (same batch id) changes nothing. Appends with seqs top+1.., trims the
 * oldest entries (never the newest) to the limits, sets the TTL, publishes
 * `"<top> <ended>"` on the live channel. Returns {status, epoch, top, first,
 * bytes} with status `ok`, `dup` or `ended`.
 */
const append = `${common}
local stream, meta = KEYS[1], KEYS[2]
local id, floor, x = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local maxE, maxB = tonumber(ARGV[4]), tonumber(ARGV[5])
local m = redis.call('HMGET', meta, 'e', 't', 'f', 'b', 'd', 'c')
if m[1] and m[6] == id then return {'dup', m[1], m[2], m[3], m[4]} end
if m[1] and m[5] == '1' then return {'ended', m[1], m[2], m[3], m[4]} end
local epoch, top, first, bytes
local fresh = lost(stream, m, floor)
if fresh then
  if m[1] and tonumber(m[2]) > floor then floor = tonumber(m[2]) end
  redis.call('DEL', stream, meta)
  epoch, top, first, bytes = id, floor, floor + 1, 0
else
  epoch, top, first, bytes = m[1], tonumber(m[2]), tonumber(m[3]), tonumber(m[4])
end
for i = 10, #ARGV do
  top = top + 1
  redis.call('XADD', stream, top .. '-0', 'd', ARGV[i])
  bytes = bytes + esize(ARGV[i], x, epoch, top)
end
local trimmed = false
while top - first + 1 > 1 and ((maxE >= 0 and top - first + 1 > maxE) or (maxB >= 0 and bytes > maxB)) do
  bytes = bytes - esize(entry(stream, first), x, epoch, first)
  first = first + 1
  trimmed = true
end
if trimmed then redis.call('XTRIM', stream, 'MINID', first .. '-0') end
redis.call('HSET', meta, 'e', epoch, 't', top, 'f', first, 'b', bytes, 'c', id)
local ended = ARGV[9] == '1'
local ttl = tonumber(ended and ARGV[7] or ARGV[6])
if fresh then ttl = math.abs(ttl) end
if ended then redis.call('HSET', meta, 'd', '1') end
if ttl > 0 then
  redis.call('PEXPIRE', stream, ttl)
  redis.call('PEXPIRE', meta, ttl)
end
redis.call('PUBLISH', ARGV[8], top .. (ended and ' 1' or ' 0'))
return {'ok', epoch, tostring(top), tostring(first), tostring(bytes)}
`;

/**
 * read: KEYS stream, meta; ARGV[1] after, [2] maxEvents, [3] maxBytes
 * (-1: none), [4] x. Returns {status, epoch, top, first, bytes, ended,
 * expired, from, payload…}: status `ok`, or `lost` (then nothing else) when
 * the history is gone (see the module's TSDoc; the caller's top is not
 * known here, it compares). The payloads are the retained entries from
 * seq `from` = max(after + 1, first), at most maxEvents and maxBytes (at
 * least one).
 */
const read = `${common}
local stream, meta = KEYS[1], KEYS[2]
local after, maxE, maxB, x = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local m = redis.call('HMGET', meta, 'e', 't', 'f', 'b', 'd', 'z')
if lost(stream, m, 0) then return {'lost'} end
local top, first = tonumber(m[2]), tonumber(m[3])
local from = math.max(after + 1, first)
local out = {'ok', m[1], m[2], m[3], m[4], m[5] or '0', m[6] or '0', tostring(from)}
if from <= top and maxE > 0 then
  local es = redis.call('XRANGE', stream, from .. '-0', '+', 'COUNT', maxE)
  local total = 0
  for i, e in ipairs(es) do
    local size = esize(e[2][2], x, m[1], from + i - 1)
    if i > 1 and maxB >= 0 and total + size > maxB then break end
    total = total + size
    out[#out + 1] = e[2][2]
  end
end
return out
`;

/**
 * trim: KEYS stream, meta; ARGV[1] bytes to free (-1: all but the newest),
 * [2] x. Drops the oldest entries until that many bytes are freed, never
 * the newest. Returns {status, epoch, top, first, bytes, freed}; `lost`
 * alone when the history is gone.
 */
const trim = `${common}
local stream, meta = KEYS[1], KEYS[2]
local need, x = tonumber(ARGV[1]), tonumber(ARGV[2])
local m = redis.call('HMGET', meta, 'e', 't', 'f', 'b')
if lost(stream, m, 0) then return {'lost'} end
local epoch, top, first, bytes = m[1], tonumber(m[2]), tonumber(m[3]), tonumber(m[4])
local freed = 0
while top - first + 1 > 1 and (need < 0 or freed < need) do
  freed = freed + esize(entry(stream, first), x, epoch, first)
  first = first + 1
end
if freed > 0 then
  redis.call('XTRIM', stream, 'MINID', first .. '-0')
  redis.call('HSET', meta, 'f', first, 'b', bytes - freed)
end
return {'ok', epoch, tostring(top), tostring(first), tostring(bytes - freed), tostring(freed)}
`;

/**
 * expire: KEYS stream, meta; ARGV[1] x. For an ended log: drops every entry
 * but the terminal one and marks the log expired. Returns {status, epoch,
 * top, first, bytes}; `lost` alone when the history is gone.
 */
const expire = `${common}
local stream, meta = KEYS[1], KEYS[2]
local x = tonumber(ARGV[1])
local m = redis.call('HMGET', meta, 'e', 't', 'f', 'b', 'd')
if lost(stream, m, 0) then return {'lost'} end
local top = tonumber(m[2])
if m[5] == '1' and tonumber(m[3]) < top then
  redis.call('XTRIM', stream, 'MINID', top .. '-0')
  local bytes = esize(entry(stream, top), x, m[1], top)
  redis.call('HSET', meta, 'f', top, 'b', bytes, 'z', '1')
  return {'ok', m[1], m[2], tostring(top), tostring(bytes)}
end
if m[5] == '1' then redis.call('HSET', meta, 'z', '1') end
return {'ok', m[1], m[2], m[3], m[4]}
`;

/**
 * recover: KEYS stream, meta; ARGV[1] candidate epoch, [2] floor (the
 * caller's top), [3] x, [4] running TTL ms, [5] TTL ms after the end,
 * [6] live channel, [7] 1 when the log expired, [8] the terminal event's
 * payload (optional). When the history is lost: a new incarnation under the
 * candidate epoch, empty after seq `floor`, or holding the terminal event
 * at seq `floor` when given (an ended log keeps its terminal event).
 * Otherwise no change. Returns {status, epoch, top, first, bytes}.
 */
const recover = `${common}
local stream, meta = KEYS[1], KEYS[2]
local floor, x = tonumber(ARGV[2]), tonumber(ARGV[3])
local m = redis.call('HMGET', meta, 'e', 't', 'f', 'b')
if not lost(stream, m, floor) then return {'ok', m[1], m[2], m[3], m[4]} end
if m[1] and tonumber(m[2]) > floor then floor = tonumber(m[2]) end
redis.call('DEL', stream, meta)
local epoch = ARGV[1]
local first, bytes, ttl = floor + 1, 0, tonumber(ARGV[4])
if ARGV[8] then
  redis.call('XADD', stream, floor .. '-0', 'd', ARGV[8])
  first, bytes, ttl = floor, esize(ARGV[8], x, epoch, floor), tonumber(ARGV[5])
  redis.call('HSET', meta, 'd', '1', 'z', ARGV[7])
end
redis.call('HSET', meta, 'e', epoch, 't', floor, 'f', first, 'b', bytes, 'c', epoch)
if ttl > 0 then
  redis.call('PEXPIRE', meta, ttl)
  if ARGV[8] then redis.call('PEXPIRE', stream, ttl) end
end
redis.call('PUBLISH', ARGV[6], floor .. (ARGV[8] and ' 1' or ' 0'))
return {'ok', epoch, tostring(floor), tostring(first), tostring(bytes)}
`;

type Arg = string | number | Buffer;

/** The scripts as the client's commands (after {@link defineLogScripts}). */
export interface LogScripts {
  airwaveLogAppend(stream: string, meta: string, ...args: Arg[]): Promise<string[]>;
  airwaveLogReadBuffer(stream: string, meta: string, ...args: Arg[]): Promise<Buffer[]>;
  airwaveLogTrim(stream: string, meta: string, ...args: Arg[]): Promise<string[]>;
  airwaveLogExpire(stream: string, meta: string, ...args: Arg[]): Promise<string[]>;
  airwaveLogRecover(stream: string, meta: string, ...args: Arg[]): Promise<string[]>;
}

/** Registers the log's scripts on `redis` (idempotent) and returns it typed with them. */
export function defineLogScripts(redis: Redis): Redis & LogScripts {
  const r = redis as Redis & Partial<LogScripts>;
  if (!r.airwaveLogAppend) {
    redis.defineCommand("airwaveLogAppend", { numberOfKeys: 2, lua: append });
    redis.defineCommand("airwaveLogRead", { numberOfKeys: 2, lua: read, readOnly: true });
    redis.defineCommand("airwaveLogTrim", { numberOfKeys: 2, lua: trim });
    redis.defineCommand("airwaveLogExpire", { numberOfKeys: 2, lua: expire });
    redis.defineCommand("airwaveLogRecover", { numberOfKeys: 2, lua: recover });
  }
  return r as Redis & LogScripts;
}
