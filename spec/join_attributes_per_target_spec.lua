-- Join attributes per target: p.Membership = { role = "lead" } before
-- addProjects / setProjects writes them for that project, over the call's
-- opts.through (SEMANTICS.md section 8 "per target", 5.2 and 5.3.3).
local helpers = require("helpers")
local assoc = require("assoc")

local fx = require("association_fixture")
local writes, fails, errname = fx.writes, fx.fails, fx.errname

-- Join rows as "UserId/ProjectId/role/status" ("-" for NULL).
local function memberships(db)
  local out = {}
  for _, r in ipairs(db:query('SELECT "UserId", "ProjectId", "role", '
      .. '"status" FROM "Memberships" ORDER BY "UserId", "ProjectId"')) do
    out[#out + 1] = ("%d/%d/%s/%s"):format(r.UserId, r.ProjectId,
      r.role or "-", r.status or "-")
  end
  return out
end

local function inserts(log) return fx.statements(log, "INSERT") end

for _, dialect in ipairs(helpers.dialects()) do
  describe("join attributes per target [#" .. dialect .. "]", function()
    local db, log, User, Project, Task, ann, bob, p1, p2, p3

    before_each(function()
      log = helpers.logger()
      db = helpers.open(dialect, { logging = log.fn })
      User = db:define("User", { name = assoc.STRING })
      Project = db:define("Project", { title = assoc.STRING })
      Task = db:define("Task", { title = assoc.STRING })
      local Membership = db:define("Membership", {
        role = { type = assoc.STRING, defaultValue = "member",
                 validate = { isIn = { { "member", "lead", "dev" } } } },
        status = assoc.STRING,
      })
      User:belongsToMany(Project, { through = Membership })
      User:hasMany(Task)
      db:sync{ force = true }
      ann, bob = User:create{ name = "ann" }, User:create{ name = "bob" }
      p1 = Project:create{ title = "one" }
      p2 = Project:create{ title = "two" }
      p3 = Project:create{ title = "three" }
      log.reset()
    end)

    after_each(function() db:close() end)

    describe("the target's join values", function()
      it("are a table kept on the instance under the through model's name",
         function()
        local own = { role = "lead" }
        p1.Membership = own
        assert.equal(own, p1.Membership)
        p1.Membership = nil
        assert.is_nil(p1.Membership)
        assert.equal(0, log.count())
      end)

      it("must be a table", function()
        local err = fails(function() p1.Membership = "lead" end)
        assert.truthy(tostring(err):find("must be a table of Membership "
          .. "attributes, got string", 1, true), tostring(err))
        assert.is_nil(p1.Membership)
      end)

      it("exist only for a model joined through that model", function()
        local t = Task:create{ title = "wash" }
        local err = fails(function() t.Membership = { role = "lead" } end)
        assert.truthy(tostring(err):find("unknown attribute 'Membership'", 1,
          true), tostring(err))
        err = fails(function() p1.Other = {} end)
        assert.truthy(tostring(err):find("unknown attribute 'Other'", 1, true))
      end)
    end)

    describe("addProjects", function()
      it("writes each target's own values over the call's", function()
        p1.Membership = { role = "lead" }
        p3.Membership = { role = "dev", status = "paused" }
        ann:addProjects({ p1, p2, p3 }, { through = { status = "active" } })
        assert.same({ "1/1/lead/active", "1/2/member/active",
                      "1/3/dev/paused" }, memberships(db))
      end)

      it("lets them win over top-level join options too", function()
        p2.Membership = { role = "dev" }
        ann:addProjects({ p1, p2 }, { role = "lead" })
        assert.same({ "1/1/lead/-", "1/2/dev/-" }, memberships(db))
      end)

      it("sends one statement for the targets without values of their own",
         function()
        p1.Membership = { role = "lead" }
        ann:addProjects({ p1, p2, p3.id })
        assert.equal(2, inserts(log))
        assert.same({ "1/1/lead/-", "1/2/member/-", "1/3/member/-" },
          memberships(db))
      end)

      it("works for addProject", function()
        p2.Membership = { status = "new" }
        ann:addProject(p2)
        assert.same({ "1/2/member/new" }, memberships(db))
      end)

      it("updates a linked target whose values differ, only that one",
         function()
        ann:addProjects({ p1, p2 })
        db:query('UPDATE "Memberships" SET "updatedAt" = ?', { fx.STAMP })
        p2.Membership = { role = "lead" }
        ann:addProjects({ p1, p2 })
        assert.same({ "1/1/member/-", "1/2/lead/-" }, memberships(db))
        local stamps = {}
        for _, r in ipairs(db:query('SELECT "ProjectId", "updatedAt" FROM '
            .. '"Memberships"')) do
          stamps[tonumber(r.ProjectId)] = r.updatedAt
        end
        assert.equal(fx.STAMP, stamps[p1.id])
        assert.are_not.equal(fx.STAMP, stamps[p2.id])
      end)

      it("leaves other sources' links alone", function()
        bob:addProject(p1, { through = { role = "dev" } })
        p1.Membership = { role = "lead" }
        ann:addProject(p1)
        assert.same({ "1/1/lead/-", "2/1/dev/-" }, memberships(db))
      end)

      it("takes nothing from a join row read through the association",
         function()
        ann:addProjects({ p1, p2 }, { through = { role = "dev" } })
        local got = ann:getProjects()
        got[1].Membership.role = "lead"  -- the join-row instance, not saved
        log.reset()
        ann:addProjects(got)
        assert.equal(1, inserts(log))      -- the plain one, changing nothing
        assert.same({ "1/1/dev/-", "1/2/dev/-" }, memberships(db))
      end)

      it("rejects an unknown attribute, naming it and the target, writing "
         .. "nothing", function()
        p2.Membership = { role = "lead", nope = 1 }
        local err = fails(function() ann:addProjects({ p1, p2 }) end)
        assert.truthy(tostring(err):find("unknown attribute 'nope' of "
          .. "Membership in the Membership of target 2", 1, true),
          tostring(err))
        assert.same({}, memberships(db))
        assert.equal(0, writes(log))
      end)

      it("refuses the join table's keys", function()
        p1.Membership = { UserId = 2 }
        local err = fails(function() ann:addProject(p1) end)
        assert.truthy(tostring(err):find("'UserId' is a key of the join "
          .. "table", 1, true), tostring(err))
        assert.same({}, memberships(db))
      end)

      it("runs the through model's validators on them", function()
        p2.Membership = { role = "boss" }
        local err = fails(function() ann:addProjects({ p1, p2 }) end)
        assert.equal("ValidationError", errname(err))
        assert.same({}, memberships(db))
        assert.equal(0, writes(log))
      end)

      it("skips the validators with validate = false", function()
        p2.Membership = { role = "boss" }
        ann:addProjects({ p1, p2 }, { validate = false })
        assert.same({ "1/1/member/-", "1/2/boss/-" }, memberships(db))
      end)

      it("is atomic: a failing target undoes the others", function()
        p2.Membership = { role = "lead" }
        db:query('DELETE FROM "Projects" WHERE "id" = ?', { p2.id })
        local err = fails(function() ann:addProjects({ p1, p2, p3 }) end)
        assert.equal("ForeignKeyConstraintError", errname(err))
        assert.same({}, memberships(db))
        -- and the connection is usable, outside any transaction
        ann:addProjects({ p1 })
        assert.same({ "1/1/member/-" }, memberships(db))
      end)

      it("joins an enclosing transaction", function()
        p1.Membership = { role = "lead" }
        local ok = pcall(db.transaction, db, function(t)
          ann:addProjects({ p1, p2 }, { transaction = t })
          assert.same({ "1/1/lead/-", "1/2/member/-" }, memberships(db))
          error("undo")
        end)
        assert.is_false(ok)
        assert.same({}, memberships(db))
      end)
    end)

    describe("setProjects", function()
      it("combines the targets' values with the call's (Sequelize's "
         .. "integration test)", function()
        ann:addProjects({ p2, p3 })
        p1.Membership = { status = "inactive" }
        ann:setProjects({ p1, p2 }, { through = { status = "active" } })
        assert.same({ "1/1/member/inactive", "1/2/member/active" },
          memberships(db))
      end)

      it("updates a kept link from its target's values alone", function()
        ann:addProjects({ p1, p2 }, { through = { role = "dev" } })
        p1.Membership = { role = "lead" }
        ann:setProjects({ p1, p2 })
        assert.same({ "1/1/lead/-", "1/2/dev/-" }, memberships(db))
      end)

      it("works with a single target", function()
        ann:addProjects({ p1, p2 })
        p2.Membership = { status = "solo" }
        ann:setProjects(p2)
        assert.same({ "1/2/member/solo" }, memberships(db))
      end)

      it("is atomic: a failing target leaves the links as they were",
         function()
        ann:addProjects({ p1, p2 }, { through = { role = "dev" } })
        p3.Membership = { role = "lead" }
        db:query('DELETE FROM "Projects" WHERE "id" = ?', { p3.id })
        log.reset()
        local err = fails(function() ann:setProjects({ p1, p3 }) end)
        assert.equal("ForeignKeyConstraintError", errname(err))
        assert.same({ "1/1/dev/-", "1/2/dev/-" }, memberships(db))
      end)

      it("rejects bad values before writing anything", function()
        ann:addProjects({ p1, p2 })
        p1.Membership = { role = "boss" }
        log.reset()
        local err = fails(function() ann:setProjects({ p1 }) end)
        assert.equal("ValidationError", errname(err))
        assert.equal(0, writes(log))
        assert.same({ "1/1/member/-", "1/2/member/-" }, memberships(db))
      end)
    end)
  end)
end
