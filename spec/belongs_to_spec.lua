-- belongsTo accessors (Task belongs to User): get trusts the in-memory key,
-- set saves only the key, create returns the new target.  SEMANTICS.md 6.
local helpers = require("helpers")
local assoc = require("assoc")

-- Local helpers (spec/helpers.lua is shared and not ours to extend).
local STAMP = "2026-01-01T00:00:00.000Z"

-- The SEMANTICS.md fixture on a fresh database that logs every statement.
-- o.role replaces the role attribute of UserProject, o.user/o.project/o.task
-- are model options, o.through the belongsToMany through, o.hasMany the
-- options of User:hasMany(Task), o.extra(m) declares more before the sync;
-- o.cook_done and o.beta_status change seed values.
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
  m.UserProject = db:define("UserProject", { role = o.role or assoc.STRING })
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

for _, dialect in ipairs(helpers.dialects()) do
  describe("belongsTo [#" .. dialect .. "]", function()
    local m, db, log
    local User, Task, ann, bob, cid, wash, cook, read, code, alpha

    before_each(function()
      m = fixture(dialect)
      db, log = m.db, m.log
      User, Task = m.User, m.Task
      ann, bob, cid = m.ann, m.bob, m.cid
      wash, cook, read, code = m.wash, m.cook, m.read, m.code
      alpha = m.alpha
    end)

    after_each(function() db:close() end)

    describe("getUser", function()
      it("returns the user the foreign key names", function()
        local u = wash:getUser()
        assert.equal(1, u.id)
        assert.equal("ann", u.name)
      end)

      it("returns a User instance", function()
        local u = read:getUser()
        assert.equal("bob", u.name)
        assert.is_false(u:isNewRecord())
        assert.truthy(tostring(u):find("User", 1, true))
      end)

      it("returns nil when the foreign key is nil", function()
        assert.is_nil(code:getUser())
      end)

      it("sends no statement when the foreign key is nil", function()
        log.reset()
        code:getUser()
        assert.equal(0, log.count())
      end)

      it("reads the in-memory key, saved or not", function()
        wash.UserId = 2
        assert.equal("bob", wash:getUser().name)
      end)

      it("trusts the in-memory key over a raw change in the table", function()
        db:query('UPDATE "Tasks" SET "UserId" = ? WHERE "id" = ?', { 3, 1 })
        assert.equal("ann", wash:getUser().name)
        assert.equal("cid", Task:findByPk(1):getUser().name)
      end)

      it("works on a task fetched with findAll", function()
        local t = Task:findAll{ where = { title = "read" } }[1]
        assert.equal("bob", t:getUser().name)
      end)
    end)

    describe("setUser", function()
      it("stores the user's key in the source row", function()
        wash:setUser(bob)
        assert.same({ 2, 1, 2, false }, owners(db))
      end)

      it("updates the key on the instance", function()
        wash:setUser(bob)
        assert.equal(2, wash.UserId)
        assert.equal("bob", wash:getUser().name)
      end)

      it("links a task that had no owner", function()
        code:setUser(cid)
        assert.same({ 1, 1, 2, 3 }, owners(db))
      end)

      it("takes a primary key", function()
        wash:setUser(3)
        assert.same({ 3, 1, 2, false }, owners(db))
      end)

      it("converts a key given as a string", function()
        wash:setUser("2")
        assert.same({ 2, 1, 2, false }, owners(db))
        assert.equal(2, wash.UserId)
        assert.equal("integer", math.type(wash.UserId))
      end)

      it("unlinks for nil", function()
        wash:setUser(nil)
        assert.same({ false, 1, 2, false }, owners(db))
        assert.is_nil(wash.UserId)
        assert.is_nil(wash:getUser())
      end)

      it("saves only the foreign key", function()
        wash.title = "dirty"
        wash:setUser(bob)
        local row = db:query(
          'SELECT "title", "UserId" FROM "Tasks" WHERE "id" = ?', { 1 })[1]
        assert.equal("wash", row.title)
        assert.equal(2, row.UserId)
      end)

      it("makes the task visible to the new owner's hasMany", function()
        wash:setUser(cid)
        assert.is_true(cid:hasTask(wash))
        assert.is_false(ann:hasTask(wash))
      end)

      it("raises ForeignKeyConstraintError for a key naming no user", function()
        local err = fails(function() return wash:setUser(999) end)
        assert.equal("ForeignKeyConstraintError", errname(err))
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects a boolean", function()
        bad_argument(fails(function() return wash:setUser(true) end),
          "setUser", "got boolean")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects an instance of another model, naming User", function()
        bad_argument(fails(function() return wash:setUser(alpha) end),
          "setUser", "User")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects an unsaved user", function()
        bad_argument(fails(function()
          return wash:setUser(User:build{ name = "dan" })
        end), "setUser")
        assert.equal(3, count_rows(db, "Users"))
      end)

      it("raises an error for an unsaved source", function()
        fails(function() return Task:build{ title = "new" }:setUser(ann) end)
        assert.equal(4, count_rows(db, "Tasks"))
      end)
    end)

    describe("createUser", function()
      it("creates the user and returns it", function()
        local u = code:createUser{ name = "dan" }
        assert.equal(4, u.id)
        assert.equal("dan", u.name)
        assert.is_false(u:isNewRecord())
        assert.equal(4, count_rows(db, "Users"))
      end)

      it("links the source to the new user", function()
        code:createUser{ name = "dan" }
        assert.same({ 1, 1, 2, 4 }, owners(db))
        assert.equal(4, code.UserId)
      end)

      it("replaces an existing owner", function()
        wash:createUser{ name = "dan" }
        assert.same({ 4, 1, 2, false }, owners(db))
        assert.equal("dan", wash:getUser().name)
      end)

      it("raises an error for an unsaved source and creates no user", function()
        local ghost = Task:build{ title = "new" }
        fails(function() return ghost:createUser{ name = "dan" } end)
        assert.equal(3, count_rows(db, "Users"))
      end)
    end)
  end)
end
