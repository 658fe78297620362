-- Eager loading (include): the loaded tree for all four association kinds,
-- required / where / per-parent limits, count = true, nesting, scopes,
-- errors, and one statement per include level however many parents.
-- Issue 6, API.md "Eager loading", SEMANTICS.md sections 7 and 10.
local helpers = require("helpers")
local assoc = require("assoc")

-- Local helpers (spec/helpers.lua is shared and not ours to extend).
local STAMP = "2026-01-01T00:00:00.000Z"

-- A logger that keeps each statement's parameters as well.
local function logger()
  local log = { sql = {}, params = {} }
  log.fn = function(sql, params)
    log.sql[#log.sql + 1] = sql
    log.params[#log.params + 1] = params
  end
  function log.reset() log.sql, log.params = {}, {} end
  function log.count() return #log.sql end
  return log
end

-- The SEMANTICS.md fixture grown for eager loading, on a fresh database that
-- logs every statement.  o.user/o.project/o.task are model options,
-- o.extra(m) declares more before the sync, o.cook_done and o.beta_status
-- change seed values.
--   users:    ann(1) bob(2) cid(3)
--   projects: alpha(1) beta(2) gamma(3) delta(4)
--   tasks:    wash(1, ann, alpha) cook(2, ann, beta) dust(3, ann, -)
--             read(4, bob, alpha) code(5, -, gamma)
--   links:    ann-alpha dev, ann-beta lead, bob-alpha (no role)
--   profiles: ann has "ann's", bob and cid none
local function fixture(dialect, o)
  o = o or {}
  local log = logger()
  local db = helpers.open(dialect, { logging = log.fn })
  local m = { db = db, log = log }
  m.User = db:define("User", { name = assoc.STRING }, o.user)
  m.Project = db:define("Project", {
    title = assoc.STRING,
    status = { type = assoc.STRING, defaultValue = "open" },
  }, o.project)
  m.UserProject = db:define("UserProject", { role = assoc.STRING })
  m.Task = db:define("Task", {
    title = assoc.STRING,
    done = { type = assoc.BOOLEAN, defaultValue = false },
  }, o.task)
  m.Profile = db:define("Profile", { bio = assoc.STRING })
  m.tasks = m.User:hasMany(m.Task)
  m.owner = m.Task:belongsTo(m.User)
  m.projects = m.User:belongsToMany(m.Project, { through = m.UserProject })
  m.users = m.Project:belongsToMany(m.User, { through = m.UserProject })
  m.ptasks = m.Project:hasMany(m.Task)
  m.project = m.Task:belongsTo(m.Project)
  m.profile = m.User:hasOne(m.Profile)
  m.puser = m.Profile:belongsTo(m.User)
  if o.extra then o.extra(m) end
  db:sync{ force = true }
  m.ann = m.User:create{ name = "ann" }
  m.bob = m.User:create{ name = "bob" }
  m.cid = m.User:create{ name = "cid" }
  m.alpha = m.Project:create{ title = "alpha" }
  m.beta = m.Project:create{ title = "beta", status = o.beta_status }
  m.gamma = m.Project:create{ title = "gamma" }
  m.delta = m.Project:create{ title = "delta" }
  m.wash = m.Task:create{ title = "wash", UserId = 1, ProjectId = 1 }
  m.cook = m.Task:create{ title = "cook", UserId = 1, ProjectId = 2,
                          done = o.cook_done }
  m.dust = m.Task:create{ title = "dust", UserId = 1 }
  m.read = m.Task:create{ title = "read", UserId = 2, ProjectId = 1 }
  m.code = m.Task:create{ title = "code", ProjectId = 3 }
  m.bio = m.Profile:create{ bio = "ann's", UserId = 1 }
  for _, l in ipairs({ { 1, 1, "dev" }, { 1, 2, "lead" }, { 2, 1 } }) do
    db:query('INSERT INTO "UserProjects" ("UserId", "ProjectId", "role",'
      .. ' "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?)',
      { l[1], l[2], l[3] == nil and assoc.null or l[3], STAMP, STAMP })
  end
  log.reset()
  return m
end

-- Primary keys of instances: sorted, or in the order given.
local fx = require("association_fixture")
local ids, seq = fx.ids, fx.seq

-- Values of one attribute, in the order given.
local function pluck(list, attr)
  local out = {}
  for i, x in ipairs(list) do out[i] = x[attr] end
  return out
end

-- The element of list with the given id.
local function by_id(list, id)
  for _, x in ipairs(list) do if x.id == id then return x end end
  return nil
end

-- Run fn, which must raise a misuse error (a string); returns it.
local function misuse(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  assert.equal("string", type(err),
    "expected an error string, got " .. tostring(err))
  return err
end

local function mentions(err, ...)
  for _, word in ipairs({ ... }) do
    assert.truthy(tostring(err):find(word, 1, true),
      "'" .. word .. "' not in: " .. tostring(err))
  end
end

-- Add n users u1..un, each with one task t<i> and a link to a project.
local function grow(m, n)
  local users, base = {}, m.User:count()
  for i = 1, n do users[i] = { name = "u" .. i } end
  m.User:bulkCreate(users)
  local tasks, links = {}, {}
  for i = 1, n do
    tasks[i] = { title = "t" .. i, UserId = base + i }
    links[i] = { UserId = base + i, ProjectId = i % 4 + 1, role = "r" }
  end
  m.Task:bulkCreate(tasks)
  m.UserProject:bulkCreate(links)
end

for _, dialect in ipairs(helpers.dialects()) do
  describe("include [#" .. dialect .. "]", function()
    local m, db, log
    local User, Project, Task, Profile, ann, bob, cid

    -- Statements sent while fn runs, and its result.
    local function counted(fn)
      log.reset()
      local r = fn()
      return log.count(), r
    end

    before_each(function()
      m = fixture(dialect)
      db, log = m.db, m.log
      User, Project, Task, Profile = m.User, m.Project, m.Task, m.Profile
      ann, bob, cid = m.ann, m.bob, m.cid
    end)

    after_each(function() if db then db:close() end end)

    describe("hasMany", function()
      it("hangs each user's tasks under Tasks", function()
        local us = User:findAll{ include = { Task }, order = { "id" } }
        assert.same({ 1, 2, 3 }, seq(us))
        assert.same({ 1, 2, 3 }, ids(us[1].Tasks))
        assert.same({ 4 }, ids(us[2].Tasks))
      end)

      it("gives an empty array to a user without tasks", function()
        local us = User:findAll{ include = { Task }, order = { "id" } }
        assert.equal("table", type(us[3].Tasks))
        assert.equal(0, #us[3].Tasks)
      end)

      it("loads Task instances with every attribute", function()
        local u = User:findAll{ include = { Task }, order = { "id" } }[2]
        local t = u.Tasks[1]
        assert.equal("read", t.title)
        assert.is_false(t.done)
        assert.equal(2, t.UserId)
        assert.equal(Task, t.Model)
        assert.is_false(t:isNewRecord())
      end)

      it("loads instances that can be saved", function()
        local u = User:findAll{ include = { Task }, order = { "id" } }[2]
        u.Tasks[1]:update{ title = "reread" }
        assert.equal("reread",
          db:query('SELECT "title" FROM "Tasks" WHERE "id" = 4')[1].title)
      end)

      it("takes the {model =} form", function()
        local us = User:findAll{ include = { { model = Task } },
                                 order = { "id" } }
        assert.same({ 1, 2, 3 }, ids(us[1].Tasks))
      end)

      it("takes the {model =, as =} form", function()
        local us = User:findAll{ include = { { model = Task, as = "Tasks" } },
                                 order = { "id" } }
        assert.same({ 4 }, ids(us[2].Tasks))
      end)

      it("takes the {association =} form", function()
        local us = User:findAll{ include = { { association = "Tasks" } },
                                 order = { "id" } }
        assert.same({ 1, 2, 3 }, ids(us[1].Tasks))
      end)

      it("keeps the parents' order", function()
        local us = User:findAll{ include = { Task },
                                 order = { { "id", "DESC" } } }
        assert.same({ 3, 2, 1 }, seq(us))
        assert.same({ 4 }, ids(us[2].Tasks))
      end)

      it("loads the keys it needs when attributes leave them out", function()
        local us = User:findAll{ attributes = { "name" }, include = { Task },
                                 order = { "id" } }
        assert.equal("ann", us[1].name)
        assert.same({ 1, 2, 3 }, ids(us[1].Tasks))
        assert.same({ 4 }, ids(us[2].Tasks))
      end)

      it("limits the included attributes", function()
        local u = User:findAll{ order = { "id" },
          include = { { model = Task, attributes = { "title" } } } }[2]
        assert.equal("read", u.Tasks[1].title)
        assert.is_nil(u.Tasks[1].done)
      end)

      it("sends no extra statement for an empty include", function()
        local n, us = counted(function()
          return User:findAll{ include = {}, order = { "id" } }
        end)
        assert.equal(1, n)
        assert.equal(3, #us)
      end)

      it("returns an empty array when no parent matches", function()
        local n, us = counted(function()
          return User:findAll{ where = { id = 99 }, include = { Task } }
        end)
        assert.same({}, us)
        assert.truthy(n <= 2)
      end)

      it("takes an include where built with assoc.OR", function()
        local us = User:findAll{ order = { "id" }, include = {
          { model = Task, where = assoc.OR({ title = "read" },
                                            { title = "dust" }) } } }
        assert.same({ 1, 2 }, seq(us))
        assert.same({ 3 }, ids(us[1].Tasks))
      end)

      it("takes separate = true with the same result", function()
        local us = User:findAll{ order = { "id" },
          include = { { model = Task, separate = true } } }
        assert.same({ 1, 2, 3 }, ids(us[1].Tasks))
        assert.same({}, ids(us[3].Tasks))
      end)
    end)

    describe("belongsTo", function()
      it("hangs each task's owner under User", function()
        local ts = Task:findAll{ include = { User }, order = { "id" } }
        assert.equal(5, #ts)
        assert.equal("ann", ts[1].User.name)
        assert.equal(1, ts[3].User.id)
        assert.equal("bob", ts[4].User.name)
        assert.equal(User, ts[4].User.Model)
      end)

      it("gives nil to a task without an owner", function()
        local ts = Task:findAll{ include = { User }, order = { "id" } }
        assert.is_nil(ts[5].User)
      end)

      it("loads two belongsTo at once", function()
        local ts = Task:findAll{ include = { User, Project },
                                 order = { "id" } }
        assert.equal("alpha", ts[1].Project.title)
        assert.equal("beta", ts[2].Project.title)
        assert.is_nil(ts[3].Project)
        assert.equal("ann", ts[3].User.name)
        assert.equal("gamma", ts[5].Project.title)
      end)
    end)

    describe("hasOne", function()
      it("hangs each user's profile under Profile, nil when none", function()
        local us = User:findAll{ include = { Profile }, order = { "id" } }
        assert.equal("ann's", us[1].Profile.bio)
        assert.equal(Profile, us[1].Profile.Model)
        assert.is_nil(us[2].Profile)
        assert.is_nil(us[3].Profile)
      end)

      it("loads the profile's user back through belongsTo", function()
        local ps = Profile:findAll{ include = { User } }
        assert.equal(1, #ps)
        assert.equal("ann", ps[1].User.name)
      end)
    end)

    describe("belongsToMany", function()
      it("hangs each user's projects under Projects", function()
        local us = User:findAll{ include = { Project }, order = { "id" } }
        assert.same({ 1, 2 }, ids(us[1].Projects))
        assert.same({ 1 }, ids(us[2].Projects))
        assert.equal("table", type(us[3].Projects))
        assert.equal(0, #us[3].Projects)
      end)

      it("gives each project its join row", function()
        local u = User:findAll{ include = { Project }, order = { "id" } }[1]
        assert.equal("dev", by_id(u.Projects, 1).UserProject.role)
        assert.equal("lead", by_id(u.Projects, 2).UserProject.role)
        assert.equal(1, by_id(u.Projects, 2).UserProject.UserId)
        assert.equal(2, by_id(u.Projects, 2).UserProject.ProjectId)
      end)

      it("gives a join row with a NULL role", function()
        local u = User:findAll{ include = { Project }, order = { "id" } }[2]
        assert.is_not_nil(u.Projects[1].UserProject)
        assert.is_nil(u.Projects[1].UserProject.role)
      end)

      it("gives each join row to its own parent", function()
        local ps = Project:findAll{ include = { User }, order = { "id" } }
        local alpha = ps[1]
        assert.same({ 1, 2 }, ids(alpha.Users))
        assert.equal("dev", by_id(alpha.Users, 1).UserProject.role)
        assert.is_nil(by_id(alpha.Users, 2).UserProject.role)
        assert.same({}, ids(ps[3].Users))
      end)

      it("limits the join row with through.attributes", function()
        local u = User:findAll{ order = { "id" }, include = {
          { model = Project, through = { attributes = { "role" } } } } }[1]
        local jr = by_id(u.Projects, 1).UserProject
        assert.equal("dev", jr.role)
        assert.is_nil(jr.createdAt)
        assert.is_nil(jr.updatedAt)
      end)

      it("filters join rows with through.where and keeps users", function()
        local us = User:findAll{ order = { "id" }, include = {
          { model = Project, through = { where = { role = "lead" } } } } }
        assert.same({ 1, 2, 3 }, seq(us))
        assert.same({ 2 }, ids(us[1].Projects))
        assert.same({}, ids(us[2].Projects))
      end)

      it("limits the target's attributes", function()
        local u = User:findAll{ order = { "id" }, include = {
          { model = Project, attributes = { "title" } } } }[2]
        assert.equal("alpha", u.Projects[1].title)
        assert.is_nil(u.Projects[1].status)
      end)
    end)

    describe("findOne, findByPk and getters", function()
      it("takes include in findByPk", function()
        local u = User:findByPk(1, { include = { Task, Project } })
        assert.same({ 1, 2, 3 }, ids(u.Tasks))
        assert.same({ 1, 2 }, ids(u.Projects))
      end)

      it("returns nil from findByPk with include for a missing key",
        function()
          assert.is_nil(User:findByPk(99, { include = { Task } }))
        end)

      it("takes include in findOne", function()
        local u = User:findOne{ where = { name = "bob" },
                                include = { Task, Profile } }
        assert.same({ 4 }, ids(u.Tasks))
        assert.is_nil(u.Profile)
      end)

      it("takes include in a belongsToMany getter", function()
        local ps = ann:getProjects{ include = { Task }, order = { "id" } }
        assert.same({ 1, 2 }, seq(ps))
        assert.same({ 1, 4 }, ids(ps[1].Tasks))
        assert.same({ 2 }, ids(ps[2].Tasks))
        assert.equal("dev", ps[1].UserProject.role)
      end)

      it("takes include in a hasMany getter", function()
        local ts = ann:getTasks{ include = { Project }, order = { "id" } }
        assert.same({ 1, 2, 3 }, seq(ts))
        assert.equal("alpha", ts[1].Project.title)
        assert.is_nil(ts[3].Project)
      end)

      it("takes include in a belongsTo getter", function()
        local u = m.read:getUser{ include = { Project } }
        assert.equal("bob", u.name)
        assert.same({ 1 }, ids(u.Projects))
      end)

      it("takes include in a hasOne getter", function()
        local p = ann:getProfile{ include = { User } }
        assert.equal("ann's", p.bio)
        assert.equal("ann", p.User.name)
      end)

      it("costs one statement more in a getter", function()
        local n = counted(function()
          return ann:getProjects{ include = { Task } }
        end)
        assert.equal(2, n)
      end)
    end)

    describe("required and where", function()
      it("keeps only users with tasks when required", function()
        local us = User:findAll{ order = { "id" },
          include = { { model = Task, required = true } } }
        assert.same({ 1, 2 }, seq(us))
        assert.same({ 1, 2, 3 }, ids(us[1].Tasks))
      end)

      it("takes attributes and order in a required include", function()
        local us = User:findAll{ order = { "id" }, include = { {
          model = Task, required = true, attributes = { "title" },
          order = { { "id", "DESC" } } } } }
        assert.same({ 1, 2 }, seq(us))
        assert.same({ 3, 2, 1 }, seq(us[1].Tasks))
        assert.is_nil(us[1].Tasks[1].createdAt)
      end)

      it("makes an include with where required", function()
        local us = User:findAll{ order = { "id" },
          include = { { model = Task, where = { title = "read" } } } }
        assert.same({ 2 }, seq(us))
        assert.same({ 4 }, ids(us[1].Tasks))
      end)

      it("filters the rows but keeps every user with required = false",
        function()
          local us = User:findAll{ order = { "id" }, include = {
            { model = Task, where = { title = "wash" }, required = false } } }
          assert.same({ 1, 2, 3 }, seq(us))
          assert.same({ 1 }, ids(us[1].Tasks))
          assert.same({}, ids(us[2].Tasks))
          assert.same({}, ids(us[3].Tasks))
        end)

      it("counts parents, not rows, with limit and required", function()
        local us = User:findAll{ limit = 2, order = { { "id", "DESC" } },
          include = { { model = Task, required = true } } }
        assert.same({ 2, 1 }, seq(us))
        assert.same({ 1, 2, 3 }, ids(us[2].Tasks))
      end)

      it("counts parents with limit and offset and required", function()
        local us = User:findAll{ limit = 1, offset = 1,
          order = { { "id", "DESC" } },
          include = { { model = Task, required = true } } }
        assert.same({ 1 }, seq(us))
      end)

      it("gives the first 2 users that have tasks", function()
        m.Task:update({ UserId = 3 }, { where = { id = 4 } })
        local us = User:findAll{ limit = 2, order = { "id" },
          include = { { model = Task, required = true } } }
        assert.same({ 1, 3 }, seq(us))
        assert.same({ 4 }, ids(us[2].Tasks))
      end)

      it("keeps only users in a matching project", function()
        local us = User:findAll{ order = { "id" },
          include = { { model = Project, where = { title = "beta" } } } }
        assert.same({ 1 }, seq(us))
        assert.same({ 2 }, ids(us[1].Projects))
      end)

      it("requires a join row matching through.where", function()
        local us = User:findAll{ order = { "id" }, include = {
          { model = Project, required = true,
            through = { where = { role = "lead" } } } } }
        assert.same({ 1 }, seq(us))
        assert.same({ 2 }, ids(us[1].Projects))
      end)

      it("keeps only tasks with an owner when belongsTo is required",
        function()
          local ts = Task:findAll{ order = { "id" },
            include = { { model = User, required = true } } }
          assert.same({ 1, 2, 3, 4 }, seq(ts))
        end)

      it("keeps only tasks whose owner matches", function()
        local ts = Task:findAll{ order = { "id" },
          include = { { model = User, where = { name = "bob" } } } }
        assert.same({ 4 }, seq(ts))
        assert.equal("bob", ts[1].User.name)
      end)

      it("keeps only users with a profile when hasOne is required",
        function()
          local us = User:findAll{ include = { { model = Profile,
                                                 required = true } } }
          assert.same({ 1 }, seq(us))
        end)

      it("takes required in findOne", function()
        local u = User:findOne{ order = { { "id", "DESC" } },
          include = { { model = Task, required = true } } }
        assert.equal(2, u.id)
      end)

      it("drops the nested rows without a match, not the parents",
        function()
          local us = User:findAll{ order = { "id" }, include = {
            { model = Project, include = {
              { model = Task, where = { title = "cook" } } } } } }
          assert.same({ 1, 2, 3 }, seq(us))
          assert.same({ 2 }, ids(us[1].Projects))
          assert.same({ 2 }, ids(us[1].Projects[1].Tasks))
          assert.same({}, ids(us[2].Projects))
        end)

      it("drops a nested belongsTo row without a required match",
        function()
          local ts = Task:findAll{ order = { "id" }, include = {
            { model = User, include = {
              { model = Project, where = { title = "beta" } } } } } }
          assert.same({ 1, 2, 3, 4, 5 }, seq(ts))
          assert.is_not_nil(ts[1].User, "wash lost its owner ann")
          assert.equal("ann", ts[1].User.name)
          assert.same({ 2 }, ids(ts[1].User.Projects))
          assert.is_nil(ts[4].User)
        end)

      it("takes required in a getter's include", function()
        local ps = ann:getProjects{ order = { "id" },
          include = { { model = Task, where = { title = "cook" } } } }
        assert.same({ 2 }, seq(ps))
        assert.same({ 2 }, ids(ps[1].Tasks))
        assert.equal("lead", ps[1].UserProject.role)
      end)

      it("filters a getter's own statement, before its limit", function()
        local ps = ann:getProjects{ order = { "id" }, limit = 1,
          include = { { model = Task, where = { title = "cook" } } } }
        assert.same({ 2 }, seq(ps))
        local n = counted(function()
          return ann:getProjects{ limit = 1, include = {
            { model = Task, required = true } } }
        end)
        assert.equal(2, n)
      end)

      it("gives nil from a single getter whose target lacks a required "
         .. "include", function()
        local t = m.Task:findOne{ where = { title = "read" } }
        assert.equal("bob", t:getUser{ include = { Project } }.name)
        assert.is_nil(t:getUser{ include = { { model = Project,
                                               where = { title = "beta" } } } })
      end)

      it("costs no extra statement for required", function()
        local n = counted(function()
          return User:findAll{ include = { { model = Task, required = true },
                                           Project } }
        end)
        assert.equal(3, n)
      end)
    end)

    describe("per-parent limit and order", function()
      it("gives each user their 2 last-titled tasks in order", function()
        local us = User:findAll{ order = { "id" }, include = {
          { model = Task, limit = 2, order = { { "title", "DESC" } } } } }
        assert.same({ "wash", "dust" }, pluck(us[1].Tasks, "title"))
        assert.same({ "read" }, pluck(us[2].Tasks, "title"))
        assert.same({}, pluck(us[3].Tasks, "title"))
      end)

      it("orders each user's tasks without a limit", function()
        local us = User:findAll{ order = { "id" },
          include = { { model = Task, order = { "title" } } } }
        assert.same({ "cook", "dust", "wash" }, pluck(us[1].Tasks, "title"))
      end)

      it("applies offset per parent", function()
        local us = User:findAll{ order = { "id" }, include = {
          { model = Task, order = { "title" }, offset = 1 } } }
        assert.same({ "dust", "wash" }, pluck(us[1].Tasks, "title"))
        assert.same({}, pluck(us[2].Tasks, "title"))
      end)

      it("applies limit and offset per parent", function()
        local us = User:findAll{ order = { "id" }, include = {
          { model = Task, order = { "title" }, limit = 1, offset = 1 } } }
        assert.same({ "dust" }, pluck(us[1].Tasks, "title"))
      end)

      it("orders belongsToMany rows per parent", function()
        local us = User:findAll{ order = { "id" }, include = {
          { model = Project, order = { { "title", "DESC" } } } } }
        assert.same({ "beta", "alpha" }, pluck(us[1].Projects, "title"))
      end)

      it("orders the rows of a nested level", function()
        local us = User:findAll{ order = { "id" }, include = {
          { model = Project, include = {
            { model = Task, order = { { "title", "DESC" } } } } } } }
        local alpha = by_id(us[1].Projects, 1)
        assert.same({ "wash", "read" }, pluck(alpha.Tasks, "title"))
      end)

      it("limits belongsToMany rows per parent", function()
        local ps = Project:findAll{ order = { "id" }, include = {
          { model = User, limit = 1, order = { { "name", "DESC" } } } } }
        assert.same({ "bob" }, pluck(ps[1].Users, "name"))
        assert.same({ "ann" }, pluck(ps[2].Users, "name"))
      end)

      it("keeps the join row of a limited belongsToMany", function()
        local us = User:findAll{ order = { "id" }, include = {
          { model = Project, limit = 1, order = { { "title", "DESC" } } } } }
        assert.same({ "beta" }, pluck(us[1].Projects, "title"))
        assert.equal("lead", us[1].Projects[1].UserProject.role)
        assert.same({ "alpha" }, pluck(us[2].Projects, "title"))
      end)

      it("costs one statement with a per-parent limit", function()
        local n = counted(function()
          return User:findAll{ include = { { model = Task, limit = 1 } } }
        end)
        assert.equal(2, n)
      end)
    end)

    describe("count = true", function()
      it("sets ProjectsCount on each user", function()
        local us = User:findAll{ order = { "id" },
          include = { { association = "Projects", count = true } } }
        assert.same({ 2, 1, 0 }, pluck(us, "ProjectsCount"))
        assert.equal("integer", math.type(us[1].ProjectsCount))
        assert.equal("integer", math.type(us[3].ProjectsCount))
      end)

      it("does not load the rows", function()
        local us = User:findAll{ order = { "id" },
          include = { { association = "Projects", count = true } } }
        assert.is_nil(us[1].Projects)
      end)

      it("counts hasMany rows with the model form", function()
        local us = User:findAll{ order = { "id" },
          include = { { model = Task, count = true } } }
        assert.same({ 3, 1, 0 }, pluck(us, "TasksCount"))
      end)

      it("counts only rows matching where", function()
        local us = User:findAll{ order = { "id" }, include = {
          { association = "Tasks", count = true, required = false,
            where = { title = { ne = "wash" } } } } }
        assert.same({ 2, 1, 0 }, pluck(us, "TasksCount"))
      end)

      it("costs one statement", function()
        local n = counted(function()
          return User:findAll{
            include = { { association = "Projects", count = true } } }
        end)
        assert.equal(2, n)
        assert.truthy(log.sql[2]:upper():find("GROUP BY", 1, true),
          log.sql[2])
      end)

      it("goes along with loading another association", function()
        local us = User:findAll{ order = { "id" }, include = {
          { association = "Projects", count = true }, Task } }
        assert.same({ 2, 1, 0 }, pluck(us, "ProjectsCount"))
        assert.same({ 4 }, ids(us[2].Tasks))
      end)
    end)

    describe("nesting", function()
      it("loads the tasks of each user's projects", function()
        local us = User:findAll{ order = { "id" },
          include = { { model = Project, include = { Task } } } }
        local alpha = by_id(us[1].Projects, 1)
        assert.same({ 1, 4 }, ids(alpha.Tasks))
        assert.same({ 2 }, ids(by_id(us[1].Projects, 2).Tasks))
        assert.same({ 1, 4 }, ids(us[2].Projects[1].Tasks))
      end)

      it("costs one statement per level", function()
        local n = counted(function()
          return User:findAll{
            include = { { model = Project, include = { Task } } } }
        end)
        assert.equal(3, n)
      end)

      it("loads to depth 3", function()
        local us = User:findAll{ order = { "id" }, include = {
          { model = Project, include = {
            { model = User, include = { Task } } } } } }
        local alpha = by_id(us[2].Projects, 1)
        assert.same({ 1, 2 }, ids(alpha.Users))
        assert.same({ 1, 2, 3 }, ids(by_id(alpha.Users, 1).Tasks))
        assert.same({ 4 }, ids(by_id(alpha.Users, 2).Tasks))
        assert.equal("dev", by_id(alpha.Users, 1).UserProject.role)
      end)

      it("costs four statements at depth 3", function()
        local n = counted(function()
          return User:findAll{ include = { { model = Project, include = {
            { model = User, include = { Task } } } } } }
        end)
        assert.equal(4, n)
      end)

      it("nests through belongsTo and hasOne", function()
        local ts = Task:findAll{ order = { "id" }, include = {
          { model = User, include = { Profile,
            { model = Project, include = { Task } } } } } }
        assert.equal("ann's", ts[1].User.Profile.bio)
        assert.same({ 1, 2 }, ids(ts[1].User.Projects))
        assert.same({ 2 }, ids(by_id(ts[1].User.Projects, 2).Tasks))
        assert.is_nil(ts[4].User.Profile)
        assert.is_nil(ts[5].User)
      end)

      it("gives empty nested arrays under an empty level", function()
        local us = User:findAll{ order = { "id" },
          include = { { model = Project, include = { Task } } } }
        assert.same({}, ids(us[3].Projects))
        local only_cid = User:findAll{ where = { id = 3 },
          include = { { model = Project, include = { Task } } } }
        assert.same({ 3 }, seq(only_cid))
        assert.same({}, ids(only_cid[1].Projects))
      end)

      it("takes a nested count", function()
        local us = User:findAll{ order = { "id" }, include = {
          { model = Project, include = {
            { association = "Tasks", count = true } } } } }
        assert.equal(2, by_id(us[1].Projects, 1).TasksCount)
        assert.equal(1, by_id(us[1].Projects, 2).TasksCount)
      end)
    end)

    describe("statements for 3 and 3,000 parents", function()
      local function same_cost(q, expected)
        local small = counted(function() return User:findAll(q) end)
        grow(m, 2997)
        local big, us = counted(function() return User:findAll(q) end)
        assert.equal(3000, #us)
        assert.equal(expected, small)
        assert.equal(small, big)
        return us
      end

      it("costs the same for hasMany", function()
        local us = same_cost({ include = { Task }, order = { "id" } }, 2)
        assert.same({ 1, 2, 3 }, ids(us[1].Tasks))
        for i = 4, 3000, 499 do
          assert.same({ "t" .. (i - 3) }, pluck(us[i].Tasks, "title"))
        end
      end)

      it("costs the same for belongsToMany", function()
        local us = same_cost({ include = { Project }, order = { "id" } }, 2)
        assert.same({ 1, 2 }, ids(us[1].Projects))
        for i = 4, 3000, 499 do
          assert.same({ (i - 3) % 4 + 1 }, ids(us[i].Projects))
          assert.equal("r", us[i].Projects[1].UserProject.role)
        end
      end)

      it("costs the same for belongsTo", function()
        local small = counted(function()
          return Task:findAll{ include = { User } }
        end)
        grow(m, 2997)
        local big, ts = counted(function()
          return Task:findAll{ include = { User }, order = { "id" } }
        end)
        assert.equal(2, small)
        assert.equal(2, big)
        assert.equal(3002, #ts)
        assert.equal("u1", ts[6].User.name)
        assert.equal("u2997", ts[3002].User.name)
      end)

      it("costs the same for count = true", function()
        local us = same_cost({ order = { "id" },
          include = { { association = "Projects", count = true } } }, 2)
        assert.equal(2, us[1].ProjectsCount)
        assert.equal(0, us[3].ProjectsCount)
        assert.equal(1, us[3000].ProjectsCount)
      end)

      it("costs the same for a per-parent limit", function()
        local us = same_cost({ order = { "id" }, include = {
          { model = Task, limit = 1, order = { { "title", "DESC" } } } } }, 2)
        assert.same({ "wash" }, pluck(us[1].Tasks, "title"))
        assert.same({ "t2997" }, pluck(us[3000].Tasks, "title"))
      end)

      it("costs the same for nested includes", function()
        same_cost({ include = { Profile,
          { model = Project, include = { Task, User } } } }, 5)
      end)

      it("binds the keys of 3,000 parents as few values", function()
        grow(m, 2997)
        log.reset()
        User:findAll{ include = { Task } }
        assert.equal(2, log.count())
        local params = log.params[2]
        assert.equal("table", type(params), "logging gave no parameters")
        local n = 0
        for _ in pairs(params) do n = n + 1 end
        assert.truthy(n < 10, n .. " parameters in " .. log.sql[2])
      end)
    end)

    describe("errors", function()
      it("rejects a model that is not associated", function()
        local Tag = db:define("Tag", { label = assoc.STRING })
        mentions(misuse(function()
          User:findAll{ include = { Tag } }
        end), "Tag", "User")
      end)

      it("rejects a model not associated at a nested level", function()
        local Tag = db:define("Tag", { label = assoc.STRING })
        mentions(misuse(function()
          User:findAll{ include = { { model = Project, include = { Tag } } } }
        end), "Tag", "Project")
      end)

      it("rejects an unknown as", function()
        mentions(misuse(function()
          User:findAll{ include = { { model = Task, as = "Chores" } } }
        end), "Task", "User")
      end)

      it("rejects an unknown association name", function()
        mentions(misuse(function()
          User:findAll{ include = { { association = "Chores" } } }
        end), "Chores", "User")
      end)

      it("rejects an element that is neither a model nor a table",
        function()
          mentions(misuse(function()
            User:findAll{ include = { 42 } }
          end), "number")
          misuse(function() User:findAll{ include = { true } } end)
        end)

      it("rejects a table without model or association", function()
        misuse(function()
          User:findAll{ include = { { where = { title = "x" } } } }
        end)
      end)

      it("rejects an unknown attribute in an include's where", function()
        local ok = pcall(function()
          User:findAll{ include = { { model = Task,
                                      where = { nope = 1 } } } }
        end)
        assert.is_false(ok)
      end)

      it("rejects include in findByPk of a non-associated model",
        function()
          local Tag = db:define("Tag", { label = assoc.STRING })
          mentions(misuse(function()
            Task:findByPk(1, { include = { Tag } })
          end), "Tag", "Task")
        end)

      it("leaves the database usable after an error", function()
        pcall(function()
          User:findAll{ include = { { association = "X" } } }
        end)
        local us = User:findAll{ include = { Task }, order = { "id" } }
        assert.same({ 4 }, ids(us[2].Tasks))
      end)
    end)
  end)

  describe("include with two associations to one model [#" .. dialect .. "]",
    function()
      local db, User, Doc, ann, bob

      before_each(function()
        db = helpers.open(dialect)
        User = db:define("User", { name = assoc.STRING })
        Doc = db:define("Doc", { title = assoc.STRING })
        Doc:belongsTo(User, { as = "Author", foreignKey = "authorId" })
        Doc:belongsTo(User, { as = "Editor", foreignKey = "editorId" })
        User:hasMany(Doc, { as = "Written", foreignKey = "authorId" })
        User:belongsToMany(User, { as = "Friends", through = "friendships",
                                   foreignKey = "userId",
                                   otherKey = "friendId" })
        db:sync{ force = true }
        ann = User:create{ name = "ann" }
        bob = User:create{ name = "bob" }
        Doc:create{ title = "d1", authorId = 1, editorId = 2 }
        Doc:create{ title = "d2", authorId = 2 }
        ann:addFriends({ bob })
      end)

      after_each(function() if db then db:close() end end)

      it("rejects an include without as", function()
        mentions(misuse(function() Doc:findAll{ include = { User } } end),
          "User", "Doc")
      end)

      it("loads each alias under its own name", function()
        local ds = Doc:findAll{ order = { "id" }, include = {
          { model = User, as = "Author" }, { association = "Editor" } } }
        assert.equal("ann", ds[1].Author.name)
        assert.equal("bob", ds[1].Editor.name)
        assert.equal("bob", ds[2].Author.name)
        assert.is_nil(ds[2].Editor)
      end)

      it("loads a self belongsToMany by its alias", function()
        local us = User:findAll{ order = { "id" },
          include = { { model = User, as = "Friends" } } }
        assert.same({ 2 }, ids(us[1].Friends))
        assert.same({}, ids(us[2].Friends))
      end)

      it("loads an aliased hasMany with a nested alias", function()
        local us = User:findAll{ order = { "id" }, include = {
          { association = "Written", include = {
            { association = "Editor" } } } } }
        assert.same({ 1 }, ids(us[1].Written))
        assert.equal("bob", us[1].Written[1].Editor.name)
        assert.is_nil(us[2].Written[1].Editor)
      end)
    end)

  describe("include and scopes [#" .. dialect .. "]", function()
    local m, db, User, Task, Project

    before_each(function()
      m = fixture(dialect, {
        task = { defaultScope = { where = { done = false } } },
        project = { defaultScope = { where = { status = "open" } } },
        cook_done = true,
        beta_status = "archived",
        extra = function(f)
          f.User:hasMany(f.Task, { as = "Chores", scope = { title = "dust" } })
        end,
      })
      db, User, Task, Project = m.db, m.User, m.Task, m.Project
    end)

    after_each(function() if db then db:close() end end)

    it("applies the hasMany target's default scope", function()
      local us = User:findAll{ order = { "id" },
        include = { { association = "Tasks" } } }
      assert.same({ 1, 3 }, ids(us[1].Tasks))
    end)

    it("applies the belongsToMany target's default scope", function()
      local us = User:findAll{ order = { "id" },
        include = { { association = "Projects" } } }
      assert.same({ 1 }, ids(us[1].Projects))
    end)

    it("applies the belongsTo target's default scope", function()
      local ts = Task:unscoped():findAll{ order = { "id" },
        include = { { association = "Project" } } }
      assert.equal("alpha", ts[1].Project.title)
      assert.is_nil(ts[2].Project)
    end)

    it("applies the default scope in count = true", function()
      local us = User:findAll{ order = { "id" }, include = {
        { association = "Tasks", count = true },
        { association = "Projects", count = true } } }
      assert.same({ 2, 1, 0 }, pluck(us, "TasksCount"))
      assert.same({ 1, 1, 0 }, pluck(us, "ProjectsCount"))
    end)

    it("filters by the association scope and keeps every user", function()
      local us = User:findAll{ order = { "id" },
        include = { { association = "Chores" } } }
      assert.same({ 1, 2, 3 }, seq(us))
      assert.same({ 3 }, ids(us[1].Chores))
      assert.same({}, ids(us[2].Chores))
    end)

    it("finds the scoped association by model and as", function()
      local us = User:findAll{ order = { "id" },
        include = { { model = Task, as = "Chores", required = true } } }
      assert.same({ 1 }, seq(us))
      assert.same({ 3 }, ids(us[1].Chores))
    end)

    it("ignores default-scoped rows in required", function()
      m.Task:unscoped():update({ done = true }, { where = { id = 4 } })
      local us = User:findAll{ order = { "id" },
        include = { { association = "Tasks", required = true } } }
      assert.same({ 1 }, seq(us))
    end)
  end)
end
