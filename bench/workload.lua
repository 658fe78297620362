-- workload.lua: the benchmark workload for the Lua implementations, the
-- twin of common.c (the same PRNG, sizes, draws and checksum), plus the
-- timing, reporting and argument handling luasql.lua and assoc.lua share.
-- Change it and common.c together, or the checksums stop agreeing.

local M = {}

M.K = 50     -- projects linked to each user by W1 and each W4
M.KEEP = 25  -- of them kept from the current set by a W4 set
M.HAS = 10   -- ids per hasProjects
M.MASK = (1 << 61) - 1
M.SEED_SETUP = 0x6173736f63000000
function M.seed(w) return M.SEED_SETUP + w end

-- splitmix64: Lua 5.4 integers wrap and >> is a logical shift, so this is
-- bit for bit the C version.
local Rng = {}
Rng.__index = Rng
function M.rng(seed) return setmetatable({ s = seed }, Rng) end
function Rng:next()
  local z = self.s + 0x9E3779B97F4A7C15
  self.s = z
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return z ~ (z >> 31)
end
function Rng:below(n) return (self:next() >> 1) % n end

local function in_list(l, n, v)
  for i = 1, n do if l[i] == v then return true end end
  return false
end

local function distinct_indices(r, n, k)
  local out = {}
  while #out < n do
    local i = r:below(k)
    if not in_list(out, #out, i) then out[#out + 1] = i end
  end
  return out
end

-- Project j's title and status, from the setup stream's j-th draw.
function M.project(r, j)
  local x = r:next()
  local pad = (x >> 1) % 24
  return string.format("Project %d ", j) .. string.rep("x", pad),
         (x & 1) == 0 and "active" or "archived"
end

function M.user_name(i) return "user" .. i end

-- Every random draw, before any timing.  Arrays are 1-based, ids too.
function M.plan(a)
  local K, nu, np = M.K, a.nu, a.np
  local p = { w1 = {}, w2_user = {}, w3_user = {}, w3_ids = {},
              w4_user = {}, w4_list = {} }
  local r = M.rng(M.seed(1))
  for u = 1, nu do
    local l = {}
    while #l < K do
      local pid = r:below(np) + 1
      if not in_list(l, #l, pid) then l[#l + 1] = pid end
    end
    p.w1[u] = l
  end

  r = M.rng(M.seed(2))
  for i = 1, a.n2 do p.w2_user[i] = r:below(nu) + 1 end

  -- W3: a coin picks HAS ids of the user's W1 set (true) or HAS - 1 of
  -- them and one other project (nearly always false).
  r = M.rng(M.seed(3))
  for i = 1, a.n3 do
    local u = r:below(nu) + 1
    local l = p.w1[u]
    local n = r:below(2) == 0 and M.HAS or M.HAS - 1
    local ids = {}
    for j, idx in ipairs(distinct_indices(r, n, K)) do ids[j] = l[idx + 1] end
    while #ids < M.HAS do
      local pid = r:below(np) + 1
      if not in_list(ids, #ids, pid) then ids[#ids + 1] = pid end
    end
    p.w3_user[i], p.w3_ids[i] = u, ids
  end

  -- W4: keep KEEP of the user's current K, add K - KEEP from outside it.
  local cur = {}
  for u = 1, nu do cur[u] = p.w1[u] end
  r = M.rng(M.seed(4))
  for i = 1, a.n4 do
    local u = r:below(nu) + 1
    local c, l = cur[u], {}
    for j, idx in ipairs(distinct_indices(r, M.KEEP, K)) do
      l[j] = c[idx + 1]
    end
    local new = {}
    while #new < K - M.KEEP do
      local pid = r:below(np) + 1
      if not in_list(c, K, pid) and not in_list(new, #new, pid) then
        new[#new + 1] = pid
      end
    end
    for j = 1, #new do l[M.KEEP + j] = new[j] end
    p.w4_user[i], p.w4_list[i] = u, l
    cur[u] = l
  end
  return p
end

function M.row_sum(uid, pid, title, role)
  return uid * 17 + pid * 31 + #title + #(role or "")
end

-- The same text assoc writes for a DATE (ISO 8601 UTC, milliseconds).
function M.iso_now(now)
  local t = os.time()
  local ms = math.floor((now() % 1) * 1000)
  return os.date("!%Y-%m-%dT%H:%M:%S", t) .. string.format(".%03dZ", ms)
end

-- A wall clock: benchutil if built, else os.clock (CPU time only, which
-- misses time spent waiting on a server; flagged on stderr).
local ok, bu = pcall(require, "benchutil")
if ok then
  M.now = bu.now
  M.status_kb = bu.status_kb
else
  io.stderr:write("bench: benchutil not found, timing with os.clock\n")
  M.now = os.clock
  M.status_kb = function(field)
    local f = io.open("/proc/self/status")
    if not f then return nil end
    for line in f:lines() do
      local v = line:match("^" .. field .. ":%s*(%d+)")
      if v then f:close() return math.tointeger(v) end
    end
    f:close()
  end
end

function M.report(impl, dialect, w, secs, ops, rows, checksum, extra)
  local line = string.format(
    "RESULT impl=%s dialect=%s w=%s seconds=%.6f ops=%d rows=%d checksum=%d",
    impl, dialect, w, secs, ops, rows, checksum & M.MASK)
  if extra then line = line .. " " .. extra end
  io.stdout:write(line, "\n")
  io.stdout:flush()
end

function M.report_error(impl, dialect, w, err)
  local msg = tostring(err):gsub("%s+", " ")
  io.stdout:write(string.format("RESULT impl=%s dialect=%s w=%s error=%s\n",
                                impl, dialect, w, msg))
  io.stdout:flush()
  io.stderr:write(impl, " ", dialect, " ", w, ": ", tostring(err), "\n")
end

-- lua5.4 SCRIPT DIALECT TARGET main|w5|all NUSERS NPROJECTS N2 N3 N4
function M.args(argv, script)
  local function int(s)
    local v = math.tointeger(tonumber(s))
    if not v or v <= 0 then return nil end
    return v
  end
  local a = { dialect = argv[1], target = argv[2], phase = argv[3],
              nu = int(argv[4]), np = int(argv[5]), n2 = int(argv[6]),
              n3 = int(argv[7]), n4 = int(argv[8]) }
  if (a.dialect ~= "sqlite" and a.dialect ~= "postgres") or not a.target or
     (a.phase ~= "main" and a.phase ~= "w5" and a.phase ~= "all") or
     not (a.nu and a.np and a.n2 and a.n3 and a.n4) then
    io.stderr:write("usage: lua5.4 ", script,
                    " sqlite|postgres DBFILE|CONNINFO",
                    " main|w5|all NUSERS NPROJECTS N2 N3 N4\n")
    os.exit(2)
  end
  if a.np < 2 * M.K then
    io.stderr:write("bench: need at least ", 2 * M.K, " projects\n")
    os.exit(2)
  end
  a.main = a.phase ~= "w5"
  a.w5 = a.phase ~= "main"
  return a
end

-- Timed run of fn with a full collection first, so that garbage left by
-- setup or an earlier workload is not charged to this one.
function M.timed(fn)
  collectgarbage("collect")
  local t0 = M.now()
  local a, b, c, d = fn()
  return M.now() - t0, a, b, c, d
end

return M
