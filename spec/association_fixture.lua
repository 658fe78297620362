-- The association specs' shared fixture (SEMANTICS.md's User, Project,
-- UserProject and Task) and the helpers that read their rows back.
local helpers = require("helpers")
local assoc = require("assoc")
-- busted gives spec files their assert; a module takes luassert itself.
local assert = require("luassert")

local STAMP = "2026-01-01T00:00:00.000Z"

-- The SEMANTICS.md fixture on a fresh database that logs every statement.
-- o.role replaces the role attribute of UserProject (o.join_attrs all of
-- its attributes), o.user/o.project/o.task are model options, o.through the
-- belongsToMany through, o.hasMany the options of User:hasMany(Task),
-- o.extra(m) declares more before the sync; o.cook_done and o.beta_status
-- change seed values.
local function fixture(dialect, o)
  o = o or {}
  local log = helpers.logger()
  local db = helpers.open(dialect, { logging = log.fn })
  local m = { db = db, log = log }
  m.User = db:define("User", { name = assoc.STRING }, o.user)
  m.Project = db:define("Project", {
    title = assoc.STRING,
    status = { type = assoc.STRING, defaultValue = "open" },
  }, o.project)
  m.UserProject = db:define("UserProject",
    o.join_attrs or { role = o.role or assoc.STRING })
  m.Task = db:define("Task", {
    title = assoc.STRING,
    done = { type = assoc.BOOLEAN, defaultValue = false },
  }, o.task)
  local through = o.through or m.UserProject
  m.tasks = m.User:hasMany(m.Task, o.hasMany)
  m.owner = m.Task:belongsTo(m.User)
  m.projects = m.User:belongsToMany(m.Project, { through = through })
  m.users = m.Project:belongsToMany(m.User, { through = through })
  if o.extra then o.extra(m) end
  db:sync{ force = true }
  m.ann = m.User:create{ name = "ann" }
  m.bob = m.User:create{ name = "bob" }
  m.cid = m.User:create{ name = "cid" }
  m.alpha = m.Project:create{ title = "alpha" }
  m.beta = m.Project:create{ title = "beta", status = o.beta_status }
  m.gamma = m.Project:create{ title = "gamma" }
  m.delta = m.Project:create{ title = "delta" }
  m.wash = m.Task:create{ title = "wash", UserId = m.ann.id }
  m.cook = m.Task:create{ title = "cook", UserId = m.ann.id,
                          done = o.cook_done }
  m.read = m.Task:create{ title = "read", UserId = m.bob.id }
  m.code = m.Task:create{ title = "code" }
  log.reset()
  return m
end

-- Join rows as "UserId/ProjectId/role" strings ("-" for a NULL role).
local function links(db, tbl)
  local out = {}
  local rows = db:query('SELECT "UserId", "ProjectId", "role" FROM "'
    .. (tbl or "UserProjects") .. '" ORDER BY "UserId", "ProjectId"')
  for _, r in ipairs(rows) do
    out[#out + 1] = ("%d/%d/%s"):format(r.UserId, r.ProjectId, r.role or "-")
  end
  return out
end

-- Insert a join row behind the accessors' back.
local function link(db, user, project, role, tbl)
  db:query('INSERT INTO "' .. (tbl or "UserProjects")
    .. '" ("UserId", "ProjectId", "role", "createdAt", "updatedAt")'
    .. ' VALUES (?, ?, ?, ?, ?)',
    { user, project, role == nil and assoc.null or role, STAMP, STAMP })
end

-- The owner of each task (or row of tbl), in id order (false for none).
local function owners(db, tbl)
  local out = {}
  for _, r in ipairs(db:query('SELECT "id", "UserId" FROM "'
      .. (tbl or "Tasks") .. '" ORDER BY "id"')) do
    out[#out + 1] = r.UserId and tonumber(r.UserId) or false
  end
  return out
end

-- Primary keys of instances: sorted, or in the order given.
local function ids(list)
  assert.equal("table", type(list), "expected an array of instances")
  local out = {}
  for i, x in ipairs(list) do out[i] = x.id end
  table.sort(out)
  return out
end
local function seq(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = x.id end
  return out
end

local function count_rows(db, tbl)
  return tonumber(db:query('SELECT COUNT(*) AS "n" FROM "' .. tbl .. '"')[1].n)
end

-- Statements of the log that write (INSERT, UPDATE, DELETE).
local function writes(log)
  local n = 0
  for _, sql in ipairs(log.sql) do
    local verb = sql:match("^%s*(%a+)")
    verb = verb and verb:upper()
    if verb == "INSERT" or verb == "UPDATE" or verb == "DELETE" then
      n = n + 1
    end
  end
  return n
end

-- How many statements of the log start with verb ("INSERT", "SELECT").
local function statements(log, verb)
  local n = 0
  for _, sql in ipairs(log.sql) do
    local first = sql:match("^%s*(%a+)")
    if first and first:upper() == verb then n = n + 1 end
  end
  return n
end

-- Run fn, which must raise; returns the error.
local function fails(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  return err
end

-- A misuse error: "bad argument #1 to 'fname' (... what ...)".
local function bad_argument(err, fname, what)
  assert.equal("string", type(err),
    "expected a bad argument string, got " .. tostring(err))
  local head = "bad argument #1 to '" .. fname .. "'"
  assert.truthy(err:find(head, 1, true), err)
  if what then assert.truthy(err:find(what, 1, true), err) end
end

-- The class of an error object (the message itself for a string).
local function errname(err)
  if type(err) == "string" then return err end
  return err.name
end

return {
  STAMP = STAMP,
  fixture = fixture,
  links = links,
  link = link,
  owners = owners,
  ids = ids,
  seq = seq,
  count_rows = count_rows,
  writes = writes,
  statements = statements,
  fails = fails,
  bad_argument = bad_argument,
  errname = errname,
}
