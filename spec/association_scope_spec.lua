-- Association scopes (hasMany and belongsToMany target scopes, applied in
-- remove and in set's diff: R10, R11) and the target's default scope.
-- SEMANTICS.md section 7.
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

-- Titles of every task, in id order.
local function titles(db)
  local out = {}
  for _, r in ipairs(db:query('SELECT "title" FROM "Tasks" ORDER BY "id"')) do
    out[#out + 1] = r.title
  end
  return out
end

-- Links of archive_links as "UserId/ProjectId".
local function archived(db)
  local out = {}
  local rows = db:query('SELECT "UserId", "ProjectId" FROM "archive_links"'
    .. ' ORDER BY "UserId", "ProjectId"')
  for _, r in ipairs(rows) do
    out[#out + 1] = ("%d/%d"):format(r.UserId, r.ProjectId)
  end
  return out
end

for _, dialect in ipairs(helpers.dialects()) do
  describe("hasMany association scope [#" .. dialect .. "]", function()
    local m, db, User, Task, ann, bob, wash, read, code

    before_each(function()
      m = fixture(dialect, { extra = function(x)
        x.chores = x.User:hasMany(x.Task, { as = "Chores",
                                            scope = { title = "chore" } })
      end })
      db, User, Task = m.db, m.User, m.Task
      ann, bob, wash, read, code = m.ann, m.bob, m.wash, m.read, m.code
      Task:create{ title = "chore", UserId = ann.id }   -- 5
      Task:create{ title = "chore" }                    -- 6
      m.log.reset()
    end)

    after_each(function() db:close() end)

    it("shares the foreign key with the unscoped association", function()
      assert.equal("UserId", m.chores.foreignKey)
      assert.same({ 1, 2, 5 }, ids(ann:getTasks()))
    end)

    it("filters getChores by the scope", function()
      assert.same({ 5 }, ids(ann:getChores()))
      assert.same({}, ids(bob:getChores()))
    end)

    it("combines the scope with where", function()
      assert.same({ 5 }, ids(ann:getChores{ where = { done = false } }))
      assert.same({}, ids(ann:getChores{ where = { done = true } }))
    end)

    it("filters countChores by the scope", function()
      assert.equal(1, ann:countChores())
    end)

    it("filters hasChore by the scope", function()
      assert.is_false(ann:hasChore(wash))
      assert.is_true(ann:hasChore(5))
      assert.is_false(ann:hasChores({ 5, wash }))
    end)

    it("writes the scope on addChore", function()
      ann:addChore(code)
      assert.same({ 1, 1, 2, 1, 1, false }, owners(db))
      assert.equal("chore", titles(db)[4])
      assert.same({ 4, 5 }, ids(ann:getChores()))
    end)

    it("writes the scope on a task taken from another owner", function()
      ann:addChores({ read })
      assert.same({ 1, 1, 1, false, 1, false }, owners(db))
      assert.equal("chore", titles(db)[3])
    end)

    it("writes the scope on createChore over the given values", function()
      local t = ann:createChore{ title = "other" }
      assert.equal("chore", t.title)
      assert.equal(1, t.UserId)
      assert.equal("chore", titles(db)[7])
    end)

    it("writes the scope on createChore with empty values", function()
      local t = ann:createChore({})
      assert.equal("chore", t.title)
    end)

    it("applies the scope in removeChore", function()
      ann:removeChore(wash)
      assert.same({ 1, 1, 2, false, 1, false }, owners(db))
    end)

    it("unlinks a target inside the scope with removeChore", function()
      ann:removeChore(5)
      assert.same({ 1, 1, 2, false, false, false }, owners(db))
    end)

    it("replaces only scoped targets with setChores", function()
      ann:setChores({ 6 })
      assert.same({ 1, 1, 2, false, false, 1 }, owners(db))
    end)

    it("unlinks only scoped targets with setChores(nil)", function()
      ann:setChores(nil)
      assert.same({ 1, 1, 2, false, false, false }, owners(db))
    end)

    it("writes the scope on targets new to setChores", function()
      ann:setChores({ 5, code })
      assert.same({ 1, 1, 2, 1, 1, false }, owners(db))
      assert.equal("chore", titles(db)[4])
    end)
  end)

  describe("belongsToMany target scope [#" .. dialect .. "]", function()
    local m, db, ann, bob, alpha, beta, gamma

    before_each(function()
      m = fixture(dialect, { extra = function(x)
        x.archived = x.User:belongsToMany(x.Project, { as = "ArchivedProjects",
          through = "archive_links", scope = { status = "archived" } })
      end })
      db = m.db
      ann, bob = m.ann, m.bob
      alpha, beta, gamma = m.alpha, m.beta, m.gamma
      db:query('UPDATE "Projects" SET "status" = ? WHERE "id" IN (?, ?)',
        { "archived", 2, 3 })
      for _, p in ipairs{ 1, 2 } do
        db:query('INSERT INTO "archive_links" ("UserId", "ProjectId",'
          .. ' "createdAt", "updatedAt") VALUES (?, ?, ?, ?)',
          { 1, p, STAMP, STAMP })
      end
      m.log.reset()
    end)

    after_each(function() db:close() end)

    it("filters getArchivedProjects by the scope", function()
      assert.same({ 2 }, ids(ann:getArchivedProjects()))
    end)

    it("filters countArchivedProjects by the scope", function()
      assert.equal(1, ann:countArchivedProjects())
    end)

    it("filters hasArchivedProject by the scope", function()
      assert.is_false(ann:hasArchivedProject(alpha))
      assert.is_true(ann:hasArchivedProject(beta))
    end)

    it("links an in-scope target with add", function()
      ann:addArchivedProject(gamma)
      assert.same({ "1/1", "1/2", "1/3" }, archived(db))
      assert.same({ 2, 3 }, ids(ann:getArchivedProjects()))
    end)

    it("writes the scope on createArchivedProject", function()
      local p = ann:createArchivedProject{ title = "omega" }
      assert.equal("archived", p.status)
      assert.same({ "1/1", "1/2", "1/5" }, archived(db))
      local row = db:query('SELECT "status" FROM "Projects" WHERE "id" = ?',
        { 5 })[1]
      assert.equal("archived", row.status)
    end)

    it("diffs only targets inside the scope in set", function()
      ann:setArchivedProjects({ gamma })
      assert.same({ "1/1", "1/3" }, archived(db))
    end)

    it("keeps out-of-scope links on set(nil)", function()
      ann:setArchivedProjects(nil)
      assert.same({ "1/1" }, archived(db))
    end)

    it("applies the scope in remove", function()
      ann:removeArchivedProject(alpha)
      assert.same({ "1/1", "1/2" }, archived(db))
    end)

    it("removes an in-scope link", function()
      ann:removeArchivedProjects({ alpha, beta })
      assert.same({ "1/1" }, archived(db))
    end)

    it("leaves other sources alone", function()
      bob:setArchivedProjects({ beta })
      assert.same({ "1/1", "1/2", "2/2" }, archived(db))
    end)
  end)

  describe("default scope of the target [#" .. dialect .. "]", function()
    local m, db, ann, bob, wash, cook, read, alpha, beta

    before_each(function()
      m = fixture(dialect, {
        task = { defaultScope = { where = { done = false } },
                 scopes = { finished = { where = { done = true } } } },
        project = {
          defaultScope = { where = { status = "open" } },
          scopes = { archived = { where = { status = "archived" } } },
        },
        cook_done = true,
        beta_status = "archived",
      })
      db = m.db
      ann, bob = m.ann, m.bob
      wash, cook, read = m.wash, m.cook, m.read
      alpha, beta = m.alpha, m.beta
      link(db, 1, 1, "dev")
      link(db, 1, 2, "lead")
      m.log.reset()
    end)

    after_each(function() db:close() end)

    it("applies the default scope in getTasks", function()
      assert.same({ 1 }, ids(ann:getTasks()))
    end)

    it("drops the default scope with scope = false", function()
      assert.same({ 1, 2 }, ids(ann:getTasks{ scope = false }))
    end)

    it("uses a named scope instead of the default one", function()
      assert.same({ 2 }, ids(ann:getTasks{ scope = "finished" }))
    end)

    it("applies the default scope in countTasks", function()
      assert.equal(1, ann:countTasks())
      assert.equal(2, ann:countTasks{ scope = false })
    end)

    it("ignores the default scope in hasTask", function()
      assert.is_true(ann:hasTask(cook))
      assert.is_true(ann:hasTasks({ wash, cook }))
    end)

    it("ignores the default scope in setTasks, unlinking hidden ones",
        function()
      ann:setTasks({ wash })
      assert.same({ 1, false, 2, false }, owners(db))
    end)

    it("ignores the default scope in addTask", function()
      bob:addTask(cook)
      assert.same({ 1, 2, 2, false }, owners(db))
    end)

    it("ignores the default scope in removeTask", function()
      ann:removeTask(cook)
      assert.same({ 1, false, 2, false }, owners(db))
    end)

    it("applies the default scope in getProjects", function()
      assert.same({ 1 }, ids(ann:getProjects()))
    end)

    it("drops or replaces it with opts.scope in getProjects", function()
      assert.same({ 1, 2 }, ids(ann:getProjects{ scope = false }))
      assert.same({ 2 }, ids(ann:getProjects{ scope = "archived" }))
    end)

    it("applies the default scope in countProjects", function()
      assert.equal(1, ann:countProjects())
      assert.equal(2, ann:countProjects{ scope = false })
    end)

    it("ignores the default scope in hasProject", function()
      assert.is_true(ann:hasProject(beta))
    end)

    it("ignores the default scope in setProjects", function()
      ann:setProjects({ alpha })
      assert.same({ "1/1/dev" }, links(db))
    end)

    it("ignores the default scope in addProject", function()
      bob:addProject(beta)
      assert.same({ "1/1/dev", "1/2/lead", "2/2/-" }, links(db))
    end)

    it("ignores the default scope in removeProject", function()
      ann:removeProject(beta)
      assert.same({ "1/1/dev" }, links(db))
    end)
  end)
end
