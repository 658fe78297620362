-- assoc.lua: the benchmark through assoc's Lua API, written the way a user
-- writes it (/work/shared/API.md): models, belongsToMany, accessors.  The
-- workload and its checksums are workload.lua's.
--   lua5.4 assoc.lua sqlite|postgres DBFILE|CONNINFO main|w5|all \
--          NUSERS NPROJECTS N2 N3 N4

-- workload.lua sits next to this script; loaded by path, since a
-- package.path entry for this directory would make require "assoc" find
-- this very file.
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local W = dofile(here .. "/workload.lua")
package.path = package.path:gsub("%./[^;]*;?", "") -- nor ./assoc.lua
local assoc = require "assoc"

local a = W.args(arg, "assoc.lua")
-- BENCH_ASSOC_RAW=1: W2 reads plain tables (getProjects{raw = true}), the
-- other workloads are not reported (their code is assoc's own).
local RAW = os.getenv("BENCH_ASSOC_RAW") == "1"
local IMPL, DIALECT = RAW and "assoc_raw" or "assoc", a.dialect

local db = assoc.open((DIALECT == "postgres" and "postgres:" or "sqlite:")
                      .. a.target)
if DIALECT == "sqlite" then
  db:query("PRAGMA journal_mode=WAL")
  db:query("PRAGMA synchronous=NORMAL")
  db:query("PRAGMA foreign_keys=ON")
end

local User = db:define("User", { name = assoc.STRING })
local Project = db:define("Project", {
  title = assoc.STRING,
  status = assoc.STRING,
})
-- W4's sets give no join attributes (given ones would rewrite every kept
-- link, as in Sequelize), so new links take their role from the default.
local UserProject = db:define("UserProject", {
  role = { type = assoc.STRING, defaultValue = "member" },
})
User:belongsToMany(Project, { through = UserProject })

-- Runs one workload; an error (a part of the API not written yet) is
-- reported on its line and the run goes on.
local function workload(name, fn)
  local ok, err = pcall(fn)
  if not ok then W.report_error(IMPL, DIALECT, name, err) end
end

local function verify_links()
  local r = db:query('SELECT count(*) AS "n", coalesce(sum("UserId" * 17 +'
    .. ' "ProjectId" * 31 + length("role")), 0) AS "s" FROM "UserProjects"')[1]
  return math.tointeger(tonumber(r.n)), math.tointeger(tonumber(r.s))
end

local function setup()
  local t0 = W.now()
  db:sync{ force = true }
  local users, projects = {}, {}
  for i = 1, a.nu do users[i] = { name = W.user_name(i) } end
  local r = W.rng(W.SEED_SETUP)
  for j = 1, a.np do
    local title, status = W.project(r, j)
    projects[j] = { title = title, status = status }
  end
  db:transaction(function()
    User:bulkCreate(users)
    Project:bulkCreate(projects)
  end)
  W.report(IMPL, DIALECT, "setup", W.now() - t0, 2, a.nu + a.np, 0)
end

-- The users as instances, found once and indexed by id.
local function load_users()
  local byId = {}
  for _, u in ipairs(User:findAll{ order = { "id" } }) do byId[u.id] = u end
  for i = 1, a.nu do
    if not byId[i] then error("user " .. i .. " is missing") end
  end
  return byId
end

local function w1(p, users, quiet)
  local lists = p.w1
  local secs = W.timed(function()
    for u = 1, a.nu do
      local user, list = users[u], lists[u]
      db:transaction(function()
        user:addProjects(list, { through = { role = "member" } })
      end)
    end
  end)
  if quiet then return end
  local rows, sum = verify_links()
  W.report(IMPL, DIALECT, "W1", secs, a.nu, rows, sum)
end

-- W2 on plain tables; a loop of its own, so that neither this one nor
-- w2's pays a branch or a call per row for the other's way to read.
local function w2_raw(p, users)
  local row_sum, which = W.row_sum, p.w2_user
  local secs, rows, sum = W.timed(function()
    local rows, sum = 0, 0
    for i = 1, a.n2 do
      local u = which[i]
      local projects = users[u]:getProjects{ where = { status = "active" },
                                             raw = true }
      for j = 1, #projects do
        local q = projects[j]
        local _s, _c, _u = q.status, q.createdAt, q.updatedAt
        sum = sum + row_sum(u, q.id, q.title, q["UserProject.role"])
      end
      rows = rows + #projects
    end
    return rows, sum
  end)
  W.report(IMPL, DIALECT, "W2", secs, a.n2, rows, sum)
end

local function w2(p, users)
  local row_sum, which = W.row_sum, p.w2_user
  local secs, rows, sum = W.timed(function()
    local rows, sum = 0, 0
    for i = 1, a.n2 do
      local u = which[i]
      local projects = users[u]:getProjects{ where = { status = "active" } }
      for j = 1, #projects do
        local q = projects[j]
        local _s, _c, _u = q.status, q.createdAt, q.updatedAt
        sum = sum + row_sum(u, q.id, q.title, q.UserProject.role)
      end
      rows = rows + #projects
    end
    return rows, sum
  end)
  W.report(IMPL, DIALECT, "W2", secs, a.n2, rows, sum)
end

local function w3(p, users)
  local which, idss = p.w3_user, p.w3_ids
  local secs, sum = W.timed(function()
    local sum = 0
    for i = 1, a.n3 do
      local user = users[which[i]]
      sum = sum + user:countProjects()
      if user:hasProjects(idss[i]) then sum = sum + 1000 end
    end
    return sum
  end)
  W.report(IMPL, DIALECT, "W3", secs, 2 * a.n3, 2 * a.n3, sum)
end

local function w4(p, users)
  local which, lists = p.w4_user, p.w4_list
  local secs = W.timed(function()
    for i = 1, a.n4 do
      local user, list = users[which[i]], lists[i]
      db:transaction(function() user:setProjects(list) end)
    end
  end)
  local rows, sum = verify_links()
  W.report(IMPL, DIALECT, "W4", secs, a.n4, rows, sum)
end

-- Every column of every row is read, so that nothing left to convert
-- lazily escapes the clock or the memory figure.
local function w5_sum(users, list_of)
  local rows, sum, row_sum = 0, 0, W.row_sum
  for i = 1, #users do
    local u = users[i]
    local _n, _uc, _uu = u.name, u.createdAt, u.updatedAt
    local ps = list_of(u)
    for j = 1, #ps do
      local q = ps[j]
      local _s, _c, _u = q.status, q.createdAt, q.updatedAt
      sum = sum + row_sum(u.id, q.id, q.title, q.UserProject.role)
    end
    rows = rows + #ps
  end
  return rows, sum
end

local function w5()
  collectgarbage("collect")
  local base = W.status_kb("VmRSS") or -1
  local users
  local secs, rows, sum = W.timed(function()
    users = User:findAll{ include = { Project } }
    return w5_sum(users, function(u) return u.Projects end)
  end)
  local peak = W.status_kb("VmHWM") or -1
  W.report(IMPL, DIALECT, "W5", secs, 1, rows, sum,
           string.format("rss_base_kb=%d rss_peak_kb=%d", base, peak))
  users = nil
end

if a.main and RAW then
  local p = W.plan(a)
  setup()
  local users = load_users()
  workload("W1", function() w1(p, users, true) end)  -- the links, unreported
  db:query("ANALYZE")
  workload("W2", function() w2_raw(p, users) end)
elseif a.main then
  local p = W.plan(a)
  setup()
  local users = load_users()
  workload("W1", function() w1(p, users) end)
  db:query("ANALYZE")
  workload("W2", function() w2(p, users) end)
  workload("W3", function() w3(p, users) end)
  workload("W4", function() w4(p, users) end)
end
if a.w5 and not RAW then workload("W5", w5) end
db:close()
