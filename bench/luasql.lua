-- luasql.lua: the benchmark as a Lua programmer writes it today: LuaSQL,
-- SQL built by hand (values through conn:escape or %d), rows as plain Lua
-- tables.  The workload and its checksums are workload.lua's.
--   lua5.4 luasql.lua sqlite|postgres DBFILE|CONNINFO main|w5|all \
--          NUSERS NPROJECTS N2 N3 N4

-- workload.lua sits next to this script; loaded by path, since a
-- package.path entry for this directory would make require "assoc" find
-- this very file.
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local W = dofile(here .. "/workload.lua")

local a = W.args(arg, "luasql.lua")
local IMPL, DIALECT = "luasql", a.dialect
local pg = DIALECT == "postgres"

local env, conn
if pg then
  env = require("luasql.postgres").postgres()
  conn = assert(env:connect(a.target))
else
  env = require("luasql.sqlite3").sqlite3()
  conn = assert(env:connect(a.target))
end

local function exec(sql)
  local res, err = conn:execute(sql)
  if not res then error(err .. "\n  in: " .. sql, 2) end
  if type(res) == "userdata" then res:close() end
end

local function query_one(sql)
  local cur = assert(conn:execute(sql))
  local a1, a2 = cur:fetch()
  cur:close()
  return a1, a2
end

local function quote(s) return "'" .. conn:escape(s) .. "'" end

if not pg then
  exec("PRAGMA journal_mode=WAL")
  exec("PRAGMA synchronous=NORMAL")
  exec("PRAGMA foreign_keys=ON")
end

local serial = pg and '"id" SERIAL NOT NULL' or
                      '"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL'
local date = pg and "TIMESTAMP WITH TIME ZONE" or "DATETIME"
local pkey = pg and ', PRIMARY KEY ("id")' or ""
local schema = {
  'DROP TABLE IF EXISTS "UserProjects"',
  'DROP TABLE IF EXISTS "Projects"',
  'DROP TABLE IF EXISTS "Users"',
  'CREATE TABLE "Users" (' .. serial .. ', "name" VARCHAR(255), "createdAt" '
    .. date .. ' NOT NULL, "updatedAt" ' .. date .. ' NOT NULL' .. pkey .. ')',
  'CREATE TABLE "Projects" (' .. serial .. ', "title" VARCHAR(255),'
    .. ' "status" VARCHAR(255), "createdAt" ' .. date .. ' NOT NULL,'
    .. ' "updatedAt" ' .. date .. ' NOT NULL' .. pkey .. ')',
  'CREATE TABLE "UserProjects" ("role" VARCHAR(255), "createdAt" ' .. date
    .. ' NOT NULL, "updatedAt" ' .. date .. ' NOT NULL,'
    .. ' "UserId" INTEGER NOT NULL REFERENCES "Users" ("id")'
    .. ' ON DELETE CASCADE ON UPDATE CASCADE,'
    .. ' "ProjectId" INTEGER NOT NULL REFERENCES "Projects" ("id")'
    .. ' ON DELETE CASCADE ON UPDATE CASCADE,'
    .. ' PRIMARY KEY ("UserId", "ProjectId"))',
}

local INSERT_LINKS = 'INSERT INTO "UserProjects" ("role", "createdAt",'
  .. ' "updatedAt", "UserId", "ProjectId") VALUES '

-- Inserts rows (already formatted value tuples) a batch at a time.
local function insert_batched(prefix, tuples)
  for i = 1, #tuples, 500 do
    exec(prefix .. table.concat(tuples, ", ", i, math.min(i + 499, #tuples)))
  end
end

local function setup(p)
  local t0 = W.now()
  for _, sql in ipairs(schema) do exec(sql) end
  local ts = quote(W.iso_now(W.now))
  local users, projects = {}, {}
  for i = 1, a.nu do
    users[i] = "(" .. quote(W.user_name(i)) .. ", " .. ts .. ", " .. ts .. ")"
  end
  local r = W.rng(W.SEED_SETUP)
  for j = 1, a.np do
    local title, status = W.project(r, j)
    projects[j] = "(" .. quote(title) .. ", " .. quote(status) .. ", " .. ts
      .. ", " .. ts .. ")"
  end
  exec("BEGIN")
  insert_batched('INSERT INTO "Users" ("name", "createdAt", "updatedAt")'
                 .. ' VALUES ', users)
  insert_batched('INSERT INTO "Projects" ("title", "status", "createdAt",'
                 .. ' "updatedAt") VALUES ', projects)
  exec("COMMIT")
  W.report(IMPL, DIALECT, "setup", W.now() - t0, 2, a.nu + a.np, 0)
end

local function verify_links()
  local n, s = query_one('SELECT count(*), coalesce(sum("UserId" * 17 +'
    .. ' "ProjectId" * 31 + length("role")), 0) FROM "UserProjects"')
  return math.tointeger(tonumber(n)), math.tointeger(tonumber(s))
end

local function w1(p)
  local K, lists = W.K, p.w1
  local secs = W.timed(function()
    for u = 1, a.nu do
      local l, ts, role = lists[u], quote(W.iso_now(W.now)), quote("member")
      local values = {}
      for j = 1, K do
        values[j] = string.format("(%s, %s, %s, %d, %d)", role, ts, ts, u, l[j])
      end
      exec("BEGIN")
      exec(INSERT_LINKS .. table.concat(values, ", "))
      exec("COMMIT")
    end
  end)
  local rows, sum = verify_links()
  W.report(IMPL, DIALECT, "W1", secs, a.nu, rows, sum)
end

local W2_SQL = 'SELECT "Project"."id", "Project"."title", "Project"."status",'
  .. ' "Project"."createdAt", "Project"."updatedAt", "UserProject"."role"'
  .. ' FROM "UserProjects" AS "UserProject" JOIN "Projects" AS "Project"'
  .. ' ON "Project"."id" = "UserProject"."ProjectId"'
  .. ' WHERE "UserProject"."UserId" = %d AND "Project"."status" = %s'

local function w2(p)
  local row_sum, users = W.row_sum, p.w2_user
  local secs, rows, sum = W.timed(function()
    local rows, sum = 0, 0
    for i = 1, a.n2 do
      local u = users[i]
      local sql = string.format(W2_SQL, u, quote("active"))
      local cur = assert(conn:execute(sql))
      local list = {}
      local row = cur:fetch({}, "a")
      while row do
        list[#list + 1] = row
        row = cur:fetch({}, "a")
      end
      cur:close()
      for j = 1, #list do
        local r = list[j]
        local _s, _c, _u = r.status, r.createdAt, r.updatedAt
        sum = sum + row_sum(u, tonumber(r.id), r.title, r.role)
      end
      rows = rows + #list
    end
    return rows, sum
  end)
  W.report(IMPL, DIALECT, "W2", secs, a.n2, rows, sum)
end

local function w3(p)
  local users, idss, HAS = p.w3_user, p.w3_ids, W.HAS
  local secs, sum = W.timed(function()
    local sum = 0
    for i = 1, a.n3 do
      local u = users[i]
      local n = query_one(string.format(
        'SELECT count(*) FROM "UserProjects" WHERE "UserId" = %d', u))
      sum = sum + tonumber(n)
      n = query_one(string.format('SELECT count(*) FROM "UserProjects"'
        .. ' WHERE "UserId" = %d AND "ProjectId" IN (%s)', u,
        table.concat(idss[i], ", ")))
      -- the ids are distinct: all are linked iff all are counted
      if tonumber(n) == HAS then sum = sum + 1000 end
    end
    return sum
  end)
  W.report(IMPL, DIALECT, "W3", secs, 2 * a.n3, 2 * a.n3, sum)
end

local function w4(p)
  local users, lists = p.w4_user, p.w4_list
  local secs = W.timed(function()
    for i = 1, a.n4 do
      local u, want = users[i], lists[i]
      local ts, role = quote(W.iso_now(W.now)), quote("member")
      exec("BEGIN")
      local cur = assert(conn:execute(string.format(
        'SELECT "ProjectId" FROM "UserProjects" WHERE "UserId" = %d', u)))
      local have = {}
      local pid = cur:fetch()
      while pid do
        have[tonumber(pid)] = true
        pid = cur:fetch()
      end
      cur:close()
      local wanted, values = {}, {}
      for j = 1, #want do
        local id = want[j]
        wanted[id] = true
        if not have[id] then
          values[#values + 1] = string.format("(%s, %s, %s, %d, %d)", role, ts,
                                              ts, u, id)
        end
      end
      local obsolete = {}
      for id in pairs(have) do
        if not wanted[id] then obsolete[#obsolete + 1] = id end
      end
      if #obsolete > 0 then
        exec(string.format('DELETE FROM "UserProjects" WHERE "UserId" = %d'
          .. ' AND "ProjectId" IN (%s)', u, table.concat(obsolete, ", ")))
      end
      if #values > 0 then exec(INSERT_LINKS .. table.concat(values, ", ")) end
      exec("COMMIT")
    end
  end)
  local rows, sum = verify_links()
  W.report(IMPL, DIALECT, "W4", secs, a.n4, rows, sum)
end

local W5_SQL = 'SELECT "User"."id" AS "userId", "User"."name" AS "name",'
  .. ' "User"."createdAt" AS "userCreatedAt",'
  .. ' "User"."updatedAt" AS "userUpdatedAt",'
  .. ' "Project"."id" AS "projectId", "Project"."title" AS "title",'
  .. ' "Project"."status" AS "status",'
  .. ' "Project"."createdAt" AS "projectCreatedAt",'
  .. ' "Project"."updatedAt" AS "projectUpdatedAt",'
  .. ' "UserProject"."role" AS "role"'
  .. ' FROM "Users" AS "User"'
  .. ' LEFT JOIN "UserProjects" AS "UserProject"'
  .. ' ON "UserProject"."UserId" = "User"."id"'
  .. ' LEFT JOIN "Projects" AS "Project"'
  .. ' ON "Project"."id" = "UserProject"."ProjectId"'

local function w5()
  collectgarbage("collect")
  local base = W.status_kb("VmRSS") or -1
  local users
  local secs, rows, sum = W.timed(function()
    local byId, row = {}, {}
    users = {}
    local cur = assert(conn:execute(W5_SQL))
    while cur:fetch(row, "a") do
      local uid = tonumber(row.userId)
      local u = byId[uid]
      if not u then
        u = { id = uid, name = row.name, createdAt = row.userCreatedAt,
              updatedAt = row.userUpdatedAt, Projects = {} }
        byId[uid] = u
        users[#users + 1] = u
      end
      if row.projectId then
        local ps = u.Projects
        ps[#ps + 1] = { id = tonumber(row.projectId), title = row.title,
                        status = row.status, createdAt = row.projectCreatedAt,
                        updatedAt = row.projectUpdatedAt, role = row.role }
      end
    end
    cur:close()
    local rows, sum, row_sum = 0, 0, W.row_sum
    for i = 1, #users do
      local u = users[i]
      local ps = u.Projects
      for j = 1, #ps do
        local q = ps[j]
        sum = sum + row_sum(u.id, q.id, q.title, q.role)
      end
      rows = rows + #ps
    end
    return rows, sum
  end)
  local peak = W.status_kb("VmHWM") or -1
  W.report(IMPL, DIALECT, "W5", secs, 1, rows, sum,
           string.format("rss_base_kb=%d rss_peak_kb=%d", base, peak))
  users = nil
end

if a.main then
  local p = W.plan(a)
  setup(p)
  w1(p)
  exec("ANALYZE")
  w2(p)
  w3(p)
  w4(p)
end
if a.w5 then w5() end
conn:close()
env:close()
