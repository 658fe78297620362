-- Association scopes (hasMany and belongsToMany target scopes, applied in
-- remove and in set's diff: R10, R11) and the target's default scope.
-- SEMANTICS.md section 7.
local helpers = require("helpers")
local assoc = require("assoc")

local fx = require("association_fixture")
local STAMP, fixture, links, link, owners = fx.STAMP, fx.fixture, fx.links,
  fx.link, fx.owners
local ids, seq, count_rows, writes = fx.ids, fx.seq, fx.count_rows, fx.writes
local fails, bad_argument, errname = fx.fails, fx.bad_argument, fx.errname

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
