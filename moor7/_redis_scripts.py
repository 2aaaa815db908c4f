"""The Lua scripts of :class:`~moor7.RedisLimiter`: the shared window, one atomic step each.

Per account, every key carries the account as its hash tag, so that they share one
Redis Cluster slot and a script may touch them all::

    moor7:quota:{2000103}:done     ZSET  calls that hold a slot, scored by when it frees
    moor7:quota:{2000103}:flight   ZSET  calls in flight, scored by when their lease ends
    moor7:quota:{2000103}:orphans  ZSET  the calls of ``done`` whose lease ran out in flight
    moor7:quota:{2000103}:pause    STRING  pause-until, after an over-quota answer
    moor7:quota:{2000103}:epoch    HASH  the window's identity, birth and any recovery
    moor7:quota:{2000103}:waiters  ZSET  queues with a call waiting, scored by expiry
    moor7:quota:{2000103}:waiting  HASH  how many calls each of those queues holds

Times are microseconds of Redis's clock (``TIME``), exact in Lua's doubles, so clock
differences between hosts do not matter. The scripts use no command of ``@dangerous``
but ``INFO``, and do without it where the ACL denies it (then a window that survived
onto another server is trusted without a merge, and ``after_restart="wait"`` is refused):
docs/quota.md lists the ACL.

**A call in flight** holds its slot until its lease ends: the longest its attempt can
last (the client's timeout, learned per call). Past it, the call never said it finished:
its process died, or stalled longer than its timeout allows. The gateway counted it by
then at the latest, so the call becomes an *orphan*: done, freeing a period after its
lease ended. A waiter is told that time exactly, so it is woken when the slot frees.

**The epoch** says which window the processes share. It outlives the window's calls
(their last slot plus ``period + lease`` and a margin), so a process whose grants are
still live by its own clock always finds it. A missing epoch is one of:

- a new server, a new account, or one idle for longer than its keys live: nothing
  counts any more, and no running process holds a call of it;
- a window lost (a restart without persistence, a flush, an eviction) with calls that
  still count at the gateway.

A process that holds live grants of the old epoch *vouches* for it (ARGV[3]): a window
it knew is gone, so the loss was witnessed, and the new epoch **recovers**. By default
(``after_restart="serve"``) the recovery lasts the grace: the processes that touch Redis
in that time re-seed their grants, and the window then stands as re-seeded (what idle
processes held may go over once, as after a loss nobody witnessed, rather than a quiet
account waiting a period for slots it cannot prove). With ``after_restart="wait"`` it grants
only the room that the re-seeded calls of the lost window prove (``seeded``: since the
lost window never held more than ``max_calls``, the unknown calls are at most
``max_calls - seeded``), until ``period + lease`` after the loss or until every slot is
accounted for. The vouching processes re-seed their grants (``_SEED``), merged by member,
never counted twice. The same holds when a process that did not know the old window
created the new epoch first: the first witness starts the recovery from the epoch's birth.

Nobody vouching, the loss cannot be told from a new server. A new epoch first waits a
moment (:data:`GRACE`: a tenth of the period, half a second at most) for the processes
that knew the old window: one waiting for a slot looks at least twice in that time, and
one that calls or releases does at once, so they claim it before a newcomer can burst on
top of their calls. An idle process that knew the window does not look (it would cost a
poll per account and process): the loss is then one nobody witnessed in time. Then, by
default, the window starts empty (at most one burst over what the gateway still counts,
which moor7 meets with a pause and safe retries); with ``after_restart="wait"`` a
server that started less than ``period + lease`` ago recovers with nothing proven, i.e.
waits that long.

An epoch that survived (a restart from AOF or RDB, a promoted replica) is trusted as it
stands. Where the ACL allows ``INFO``, the epoch records the server's ``run_id``; found
on another instance, it takes a new id, so that the running processes re-seed their
grants into it (merged, never counted twice, never a cap: the last writes before a
failover may be missing). Without ``INFO`` the window is trusted without that.
"""

from __future__ import annotations

__all__ = [
    "ACQUIRE",
    "CANCEL",
    "EPOCH_LIFE",
    "GRACE",
    "KEY_SUFFIXES",
    "PAUSE",
    "RELEASE",
    "SEED",
    "USAGE",
    "WITHDRAW",
    "grace",
]

#: The keys of an account, in the order every script takes them.
KEY_SUFFIXES = ("done", "flight", "orphans", "pause", "epoch", "waiters", "waiting")

#: The longest a new window waits for processes that knew an old one (seconds).
GRACE = 0.5

#: How long an epoch outlives the last call of its account (seconds): a day, so that only
#: a new account or server, or a lost window, starts a new one (and waits its grace).
EPOCH_LIFE = 86_400.0


def grace(period: float) -> float:
    """The grace of a new window, for a quota of *period* seconds."""
    return min(GRACE, period / 10)


# Every script starts here. ARGV: period_us, lease_us (of this call, or this process's
# longest), vouch (the epoch this process's live grants belong to, '' if none, 'local'
# after the local fallback), max_calls, '1' to wait after a recent restart, a token of
# this process (for a new epoch's id), 'w' (or 'r': make no epoch), then the script's own
# from ARGV[8].
_PRELUDE = """
local done, flight, orphans, pause = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local epoch, waiters, waiting = KEYS[5], KEYS[6], KEYS[7]
local period, lease, vouch = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local max_calls = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
-- Numbers reach Redis as text: whole, never in Lua's rounded '%.14g' form.
local function n(x) return string.format('%.0f', x) end

-- Calls whose lease ran out in flight become orphans, freeing a period after it. Not
-- when reading (usage): the reader's period may not be the account's (moor7 quota takes
-- it from its flags), and an orphan freed a period too early is a call over the quota.
local expired = redis.call('ZRANGEBYSCORE', flight, '-inf', now, 'WITHSCORES')
if ARGV[7] == 'w' then
  for i = 1, #expired, 2 do
    local frees = n(tonumber(expired[i + 1]) + period)
    redis.call('ZADD', done, frees, expired[i])
    redis.call('ZADD', orphans, frees, expired[i])
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', flight, '-inf', now) end
end
redis.call('ZREMRANGEBYSCORE', done, '-inf', now)
redis.call('ZREMRANGEBYSCORE', orphans, '-inf', now)
local gone = redis.call('ZRANGEBYSCORE', waiters, '-inf', now)
if #gone > 0 then
  redis.call('HDEL', waiting, unpack(gone))
  redis.call('ZREMRANGEBYSCORE', waiters, '-inf', now)
end

-- Which server instance runs this script, if the ACL allows INFO (run_id changes with a
-- restart and differs on a promoted replica).
local info = redis.pcall('INFO', 'server')
local run_id = nil
if type(info) == 'string' then run_id = string.match(info, 'run_id:(%w+)') end
if ARGV[5] == '1' and type(info) ~= 'string' then
  -- Refused at every step, not only where a new window needs it: a setting that cannot
  -- work must not wait for an outage to show.
  return redis.error_reply("moor7: after_restart='wait' needs the INFO command (ACL +info)")
end

local e = redis.call('HMGET', epoch, 'id', 'born', 'until', 'seeded', 'pending', 'run')
local id, born = e[1], tonumber(e[2] or '0')
local until_us, seeded = tonumber(e[3] or '0'), tonumber(e[4] or '0')
local pending = tonumber(e[5] or '0')
local witness = vouch ~= '' and vouch ~= 'local'
-- When a recovery from *start* ends. after_restart='wait': once every call the lost
-- window may have held left the gateway's window too (period + lease). 'serve': after
-- the grace, the window stands as the running processes re-seeded it (a busy one looks
-- twice in that time); what idle ones held may go over once, as after a loss nobody
-- witnessed, rather than a quiet account waiting a period for calls it cannot prove.
local function recovery_end(start)
  if ARGV[5] == '1' then return start + period + lease end
  return start + math.min({GRACE_US}, period / 10)
end
local function recover_from(start)
  until_us = recovery_end(start)
  seeded = 0
  pending = 0
  redis.call('HSET', epoch, 'until', n(until_us), 'seeded', 0, 'recovered', 1, 'pending', 0)
  redis.call('HSET', epoch, 'cause', 'lost')
end
if ARGV[7] ~= 'w' then
  -- Read only (usage): as it stands.
elseif not id then
  id = n(now) .. '-' .. ARGV[6]
  born = now
  until_us, seeded = 0, 0
  -- A moment for the processes that knew a lost window to claim it (GRACE).
  pending = now + math.min({GRACE_US}, period / 10)
  redis.call('HSET', epoch, 'id', id, 'born', n(now), 'until', 0, 'seeded', 0)
  redis.call('HSET', epoch, 'pending', n(pending), 'run', run_id or '', 'cause', 'new')
  if witness then
    -- This process knew the window, and it is gone: lost, with calls that count.
    recover_from(now)
  elseif ARGV[5] == '1' then
    -- Asked to wait after a restart: calls granted before the start may still count.
    -- uptime_in_seconds counts whole seconds of the clock (now's minus the start's),
    -- so it may read 1 a millisecond after the start: take the start a second later.
    local reported = tonumber(string.match(info, 'uptime_in_seconds:(%d+)'))
    local start = now - math.max(0, reported - 1) * 1000000
    if recovery_end(start) > now then recover_from(start) end
  end
elseif run_id and e[6] and e[6] ~= '' and e[6] ~= run_id then
  -- The window survived onto another server instance (a restart from AOF or RDB, a
  -- promoted replica): trusted as it stands. A new id has the running processes merge
  -- their grants into it (the last writes may not have survived), with no cap.
  -- The grace lets busy processes merge before a newcomer takes a slot they hold.
  id = n(now) .. '-' .. ARGV[6]
  until_us, pending = 0, now + math.min({GRACE_US}, period / 10)
  redis.call('HSET', epoch, 'id', id, 'run', run_id, 'until', 0, 'recovered', 1)
  redis.call('HSET', epoch, 'pending', n(pending), 'cause', 'moved')
elseif witness and vouch ~= id and redis.call('HGET', epoch, 'recovered') ~= '1' then
  -- Made after a loss by a process that did not know the old window: the first
  -- witness starts the recovery, from when the epoch was born.
  if recovery_end(born) > now then recover_from(born) end
end
local recovering = until_us > now and seeded < max_calls

-- Every key lives until its last slot frees; the epoch a day longer (EPOCH_LIFE), so that
-- a process whose grants are live by its own clock never finds it gone, and only a new
-- or lost window starts a new one.
local function keep()
  local last = math.max(now, until_us)
  local d = redis.call('ZRANGE', done, -1, -1, 'WITHSCORES')
  if d[2] then last = math.max(last, tonumber(d[2])) end
  local f = redis.call('ZRANGE', flight, -1, -1, 'WITHSCORES')
  if f[2] then last = math.max(last, tonumber(f[2]) + period) end
  local at = math.ceil(last / 1000) + 1000
  redis.call('PEXPIREAT', done, at)
  redis.call('PEXPIREAT', flight, at)
  redis.call('PEXPIREAT', orphans, at)
  redis.call('PEXPIREAT', epoch, at + {EPOCH_LIFE_MS})
end

-- The slots batch calls hold (their members start 'b:'): how many, and when the done
-- ones free, earliest first.
local function batch_slots()
  local frees = {}
  local d = redis.call('ZRANGE', done, 0, -1, 'WITHSCORES')
  for i = 1, #d, 2 do
    if string.sub(d[i], 1, 2) == 'b:' then frees[#frees + 1] = tonumber(d[i + 1]) end
  end
  local held = #frees
  for _, m in ipairs(redis.call('ZRANGE', flight, 0, -1)) do
    if string.sub(m, 1, 2) == 'b:' then held = held + 1 end
  end
  return held, frees
end

-- The registry of waiting queues lives until its last registration expires.
local function keep_waiters()
  local w = redis.call('ZRANGE', waiters, -1, -1, 'WITHSCORES')
  if w[2] then
    local at = math.ceil(tonumber(w[2]) / 1000) + 1000
    redis.call('PEXPIREAT', waiters, at)
    redis.call('PEXPIREAT', waiting, at)
  end
end
"""

_PRELUDE = _PRELUDE.replace("{GRACE_US}", str(round(GRACE * 1_000_000))).replace(
    "{EPOCH_LIFE_MS}", str(round(EPOCH_LIFE * 1000))
)

# ARGV[8]: member; ARGV[9]: 'i'nteractive or 'b'atch; ARGV[10]: slots reserved for
# interactive calls; ARGV[11]: this process's queue; ARGV[12]: calls waiting in it.
# Returns {1, 0, epoch, '', recovery left} when granted; {0, us to wait, epoch, why,
# recovery left} when not; {2, 0, epoch, why the epoch changed, recovery left} when this
# process must re-seed its grants first.
ACQUIRE = (
    _PRELUDE
    + """
local member, priority, reserve = ARGV[8], ARGV[9], tonumber(ARGV[10])
local registered, queued = ARGV[9] .. ':' .. ARGV[11], tonumber(ARGV[12])
local left = 0
if recovering then left = until_us - now end
if vouch ~= '' and vouch ~= id then
  -- Why the epoch changed: 'lost', 'moved' (to another server) or 'new'.
  keep()
  return {2, 0, id, redis.call('HGET', epoch, 'cause') or 'new', left}
end

local function wait(us, why)
  -- Registered, so that other processes see this queue waiting (usage), and batch
  -- calls let interactive ones go first. It expires unless renewed: the queue's head
  -- polls again when the wait is over.
  redis.call('ZADD', waiters, n(now + us + 2000000), registered)
  redis.call('HSET', waiting, registered, queued)
  keep_waiters()
  keep()
  return {0, math.max(1, math.ceil(us)), id, why, left}
end

local paused = tonumber(redis.call('GET', pause) or '0') - now
if paused <= 0 and pending > now then return wait(pending - now, 'new') end

local live = redis.call('ZCARD', done) + redis.call('ZCARD', flight)
local cap = max_calls
if recovering then cap = seeded end
local ahead, batch_held, batch_frees = 0, 0, {}
if priority == 'b' then
  -- Interactive calls waiting in any process take the next slots first, and batch
  -- calls hold max_calls - reserve slots at most, whatever interactive ones hold.
  for _, q in ipairs(redis.call('ZRANGE', waiters, 0, -1)) do
    if string.sub(q, 1, 2) == 'i:' then
      ahead = ahead + tonumber(redis.call('HGET', waiting, q) or '1')
    end
  end
  batch_held, batch_frees = batch_slots()
end
local room = live + ahead < cap and (priority ~= 'b' or batch_held < cap - reserve)
if room and paused <= 0 then
  redis.call('ZADD', flight, n(now + lease), member)
  if queued > 1 and redis.call('ZSCORE', waiters, registered) then
    -- The rest of the queue still waits: its next head polls at once. (Not registered,
    -- it registers if it must wait: a count without a registration would never expire.)
    redis.call('HSET', waiting, registered, queued - 1)
  else
    redis.call('ZREM', waiters, registered)
    redis.call('HDEL', waiting, registered)
  end
  keep()
  return {1, 0, id, '', left}
end

-- The slots that must free before this call's: the earliest of them, in order. One
-- held in flight frees no sooner than a period from now (then it is polled again).
local k = live + ahead - cap
local us, why = 0, 'quota'
if k >= 0 then
  us = period
  local d = redis.call('ZRANGE', done, k, k, 'WITHSCORES')
  if d[2] and tonumber(d[2]) - now < us then
    us = tonumber(d[2]) - now
    if redis.call('ZSCORE', orphans, d[1]) then why = 'orphan' end
  end
  if recovering then
    why = 'recovery'
    if left < us then us = left end
  end
end
local kb = batch_held - (cap - reserve)
if priority == 'b' and kb >= 0 then
  -- A batch slot of its own must free too.
  local ub = period
  if batch_frees[kb + 1] and batch_frees[kb + 1] - now < ub then ub = batch_frees[kb + 1] - now end
  if ub > us then us, why = ub, 'reserved' end
end
-- Paused after an over-quota answer: whichever ends last.
if paused >= us then us, why = paused, 'pause' end
return wait(us, why)
"""
)

# ARGV[8]: this process's queue; ARGV[9]: its priority. A queue whose last waiter left
# (cancelled, failed) stops counting at once, not when its registration expires.
WITHDRAW = (
    _PRELUDE
    + """
redis.call('ZREM', waiters, ARGV[9] .. ':' .. ARGV[8])
redis.call('HDEL', waiting, ARGV[9] .. ':' .. ARGV[8])
keep()
return 1
"""
)

# ARGV[8]: member. A grant whose caller was cancelled before it heard of it: the call was
# never sent, so its slot is given back (not counted as done).
CANCEL = (
    _PRELUDE
    + """
redis.call('ZREM', flight, ARGV[8])
redis.call('ZREM', done, ARGV[8])
redis.call('ZREM', orphans, ARGV[8])
keep()
return 1
"""
)

# ARGV[8]: member; ARGV[3]: the epoch it was granted in.
RELEASE = (
    _PRELUDE
    + """
local member = ARGV[8]
local known = redis.call('ZREM', flight, member) == 1 or redis.call('ZSCORE', done, member)
redis.call('ZADD', done, n(now + period), member)
redis.call('ZREM', orphans, member)
if not known and until_us > now and vouch ~= id then
  -- A call of the lost window, now known: it counts towards the proven room.
  redis.call('HINCRBY', epoch, 'seeded', 1)
end
keep()
return 1
"""
)

# ARGV[8]: the epoch to seed; then per grant: member, 'd'one or 'f'light, us its slot (or
# lease) still holds, '1' if it was in the lost window (granted in another epoch).
# Returns {1, epoch} when seeded, {0, epoch} when the epoch changed meanwhile.
SEED = (
    _PRELUDE
    + """
if ARGV[8] ~= id then
  return {0, id}
end
local added = 0
for i = 9, #ARGV, 4 do
  local m = ARGV[i]
  if not redis.call('ZSCORE', done, m) and not redis.call('ZSCORE', flight, m) then
    local key = flight
    if ARGV[i + 1] == 'd' then key = done end
    redis.call('ZADD', key, n(now + tonumber(ARGV[i + 2])), m)
    if ARGV[i + 3] == '1' then added = added + 1 end
  end
end
if added > 0 and until_us > now then
  redis.call('HINCRBY', epoch, 'seeded', added)
end
keep()
return {1, id}
"""
)

# ARGV[8]: us to pause. Extends a pause, never shortens one.
PAUSE = (
    _PRELUDE
    + """
local until_pause = now + tonumber(ARGV[8])
local current = tonumber(redis.call('GET', pause) or '0')
if until_pause > current then
  redis.call('SET', pause, n(until_pause), 'PX', math.ceil(tonumber(ARGV[8]) / 1000) + 1000)
end
keep()
return 1
"""
)

# ARGV[7] is 'r': the prelude makes no epoch and turns no call into an orphan; the calls
# whose lease ran out show as the orphans they become (freeing a period after it, by
# this reader's period; none once that passed). Returns {done, in flight, orphans, us of
# pause left, us of recovery left, interactive waiting, batch waiting, the recovery's cap
# (-1: none), us until each held slot frees (the done ones, earliest first; 'o' after an
# orphan's), the slots batch calls hold, us until each of their done ones frees}.
USAGE = (
    _PRELUDE
    + """
local paused = tonumber(redis.call('GET', pause) or '0') - now
local left = 0
if recovering then left = until_us - now end
local counts = {i = 0, b = 0}
for _, q in ipairs(redis.call('ZRANGE', waiters, 0, -1)) do
  local p = string.sub(q, 1, 1)
  counts[p] = (counts[p] or 0) + tonumber(redis.call('HGET', waiting, q) or '1')
end
-- The calls whose lease ran out, as the orphans a write step makes of them: those
-- whose slot freed already (a period after the lease) hold nothing, as a write finds.
local lapsed, lapsed_batch_gone = {}, 0
for i = 1, #expired, 2 do
  local frees = tonumber(expired[i + 1]) + period
  local batch = string.sub(expired[i], 1, 2) == 'b:'
  if frees > now then
    lapsed[#lapsed + 1] = {frees, batch}
  elseif batch then
    lapsed_batch_gone = lapsed_batch_gone + 1
  end
end
-- Each held slot that frees at a known time: {when, orphan's}.
local held = {}
local d = redis.call('ZRANGE', done, 0, max_calls - 1, 'WITHSCORES')
for i = 1, #d, 2 do
  held[#held + 1] = {tonumber(d[i + 1]), redis.call('ZSCORE', orphans, d[i]) ~= false}
end
for _, slot in ipairs(lapsed) do held[#held + 1] = {slot[1], true} end
table.sort(held, function(a, b) return a[1] < b[1] end)
local frees = {}
for i, slot in ipairs(held) do
  if i > max_calls then break end
  local us = n(slot[1] - now)
  if slot[2] then us = us .. 'o' end
  frees[#frees + 1] = us
end
local recovery_cap = -1
if recovering then recovery_cap = seeded end
local batch_held, batch_done = batch_slots()
batch_held = batch_held - lapsed_batch_gone
for _, slot in ipairs(lapsed) do
  if slot[2] then batch_done[#batch_done + 1] = slot[1] end
end
table.sort(batch_done)
local batch_frees = {}
for i, at in ipairs(batch_done) do
  if i > max_calls then break end
  batch_frees[#batch_frees + 1] = n(at - now)
end
return {
  redis.call('ZCARD', done) + #lapsed, redis.call('ZCARD', flight) - #expired / 2,
  redis.call('ZCARD', orphans) + #lapsed, n(math.max(0, paused)), n(left), counts['i'],
  counts['b'], recovery_cap, frees, batch_held, batch_frees
}
"""
)
