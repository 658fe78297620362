-- belongsToMany through scopes: through = { model = ..., scope = {...} }
-- filters the join rows every accessor reads or deletes (remove too: R10)
-- and is written into every join row add, set and create make.
-- SEMANTICS.md sections 5, 7.2 and 13.
local helpers = require("helpers")
local assoc = require("assoc")

local fx = require("association_fixture")
local STAMP, ids, fails, errname = fx.STAMP, fx.ids, fx.fails, fx.errname

-- Join rows as "UserId/ProjectId/role/hours" ("-" for NULL).
local function rows(db, tbl)
  local out = {}
  local list = db:query('SELECT "UserId", "ProjectId", "role", "hours" FROM "'
    .. (tbl or "UserProjects") .. '" ORDER BY "UserId", "ProjectId"')
  for _, r in ipairs(list) do
    out[#out + 1] = ("%d/%d/%s/%s"):format(r.UserId, r.ProjectId,
      r.role or "-", r.hours and tostring(r.hours) or "-")
  end
  return out
end

local function link(db, user, project, role, hours, tbl)
  db:query('INSERT INTO "' .. (tbl or "UserProjects") .. '" ("UserId",'
    .. ' "ProjectId", "role", "hours", "createdAt", "updatedAt")'
    .. ' VALUES (?, ?, ?, ?, ?, ?)',
    { user, project, role == nil and assoc.null or role,
      hours == nil and assoc.null or hours, STAMP, STAMP })
end

local function updated_at(db, user, project)
  local r = db:query('SELECT "updatedAt" FROM "UserProjects" WHERE'
    .. ' "UserId" = ? AND "ProjectId" = ?', { user, project })[1]
  return r and r.updatedAt
end

-- The last logged statement that contains pattern (plain text).
local function logged(log, pattern)
  for i = #log.sql, 1, -1 do
    if log.sql[i]:find(pattern, 1, true) then return log.sql[i] end
  end
end

-- A misuse error (a string) that contains every one of the texts.
local function misuse(err, ...)
  assert.equal("string", type(err), tostring(err))
  for _, text in ipairs{ ... } do
    assert.truthy(err:find(text, 1, true), err)
  end
end

-- A refused add: UniqueConstraintError naming the association.
local function other_scope(err)
  assert.equal("UniqueConstraintError", errname(err), tostring(err))
  assert.truthy(err.message:find("User.LedProjects", 1, true), err.message)
  assert.truthy(err.message:find("outside the through scope", 1, true),
    err.message)
end

-- The association fixture with hours on UserProject and two scoped
-- associations over it, LedProjects (role = "lead") and LooseProjects
-- (role IS NULL), and LedBetas (lead links to projects titled beta);
-- links ann-alpha dev/1, ann-beta lead/2, ann-gamma NULL,
-- bob-beta lead.
local function scoped_fixture(dialect)
  local m = fx.fixture(dialect, {
    join_attrs = { role = assoc.STRING, hours = assoc.INTEGER },
    extra = function(x)
      x.led = x.User:belongsToMany(x.Project, { as = "LedProjects",
        through = { model = x.UserProject, scope = { role = "lead" } } })
      x.loose = x.User:belongsToMany(x.Project, { as = "LooseProjects",
        through = { model = x.UserProject, scope = { role = assoc.null } } })
      x.led_betas = x.User:belongsToMany(x.Project, { as = "LedBetas",
        scope = { title = "beta" },
        through = { model = x.UserProject, scope = { role = "lead" } } })
    end,
  })
  link(m.db, 1, 1, "dev", 1)
  link(m.db, 1, 2, "lead", 2)
  link(m.db, 1, 3, nil, nil)
  link(m.db, 2, 2, "lead", nil)
  m.log.reset()
  return m
end

local SEED = { "1/1/dev/1", "1/2/lead/2", "1/3/-/-", "2/2/lead/-" }

for _, dialect in ipairs(helpers.dialects()) do
  describe("belongsToMany through.scope [#" .. dialect .. "]", function()
    local m, db, User, Project, ann, bob, cid, alpha, beta, gamma, delta

    before_each(function()
      m = scoped_fixture(dialect)
      db, User, Project = m.db, m.User, m.Project
      ann, bob, cid = m.ann, m.bob, m.cid
      alpha, beta, gamma, delta = m.alpha, m.beta, m.gamma, m.delta
    end)

    after_each(function() db:close() end)

    describe("definition", function()
      it("defines an association over the same join table", function()
        assert.equal("BelongsToMany", m.led.associationType)
        assert.equal("UserId", m.led.foreignKey)
        assert.equal("ProjectId", m.led.otherKey)
        assert.equal(m.UserProject, m.led.through)
        assert.equal("getLedProjects", m.led.accessors.get)
      end)

      it("names an unknown attribute and the join model", function()
        local err = fails(function()
          User:belongsToMany(Project, { as = "Bad",
            through = { model = m.UserProject, scope = { rank = 1 } } })
        end)
        misuse(err, "unknown attribute 'rank'", "UserProject",
          "through scope of User.Bad")
        assert.is_nil(User.associations.Bad)
        assert.is_nil(ann.getBad)
      end)

      it("refuses an attribute of a join model made for a table name",
          function()
        local err = fails(function()
          User:belongsToMany(Project, { as = "Bad",
            through = { model = "bad_links", scope = { role = "x" } } })
        end)
        misuse(err, "unknown attribute 'role'", "bad_links")
        assert.is_nil(User.associations.Bad)
        db:sync{ force = true }
        local err2 = fails(function()
          db:query('SELECT * FROM "bad_links"')
        end)
        assert.equal("DatabaseError", errname(err2))
      end)

      it("refuses the join keys", function()
        for _, key in ipairs{ "UserId", "ProjectId" } do
          local err = fails(function()
            User:belongsToMany(Project, { as = "Bad",
              through = { model = m.UserProject, scope = { [key] = 1 } } })
          end)
          misuse(err, "'" .. key .. "' is a join key of UserProject",
            "through scope of User.Bad")
          assert.is_nil(User.associations.Bad)
        end
      end)

      it("refuses a key given by name that is not declared yet", function()
        local err = fails(function()
          User:belongsToMany(Project, { as = "Bad", foreignKey = "role",
            otherKey = "hours", through = { model = m.UserProject,
                                            scope = { hours = 1 } } })
        end)
        misuse(err, "'hours' is a join key of UserProject")
        local err2 = fails(function()
          User:belongsToMany(Project, { as = "Bad", foreignKey = "leadId",
            through = { model = "made_links", scope = { leadId = 1 } } })
        end)
        misuse(err2, "'leadId' is a join key of made_links")
      end)

      it("refuses the timestamps, which assoc writes", function()
        local err = fails(function()
          User:belongsToMany(Project, { as = "Bad",
            through = { model = m.UserProject,
                        scope = { createdAt = STAMP } } })
        end)
        misuse(err, "'createdAt' of UserProject is written by assoc")
      end)

      it("wants a table", function()
        local err = fails(function()
          User:belongsToMany(Project, { as = "Bad",
            through = { model = m.UserProject, scope = "lead" } })
        end)
        misuse(err, "through.scope' must be a table")
        local err2 = fails(function()
          User:belongsToMany(Project, { as = "Bad",
            through = { model = m.UserProject, unique = false } })
        end)
        misuse(err2, "unknown option 'unique' in through")
      end)

      it("leaves the schema as it was after a refused definition",
          function()
        pcall(User.belongsToMany, User, Project, { as = "Bad",
          through = { model = m.UserProject, scope = { UserId = 1 } } })
        db:sync{ force = true }
        User:create{ name = "ann" }
        Project:create{ title = "alpha" }
        User:findByPk(1):addLedProject(1)
        assert.same({ "1/1/lead/-" }, rows(db))
      end)
    end)

    describe("getLedProjects", function()
      it("returns only the targets linked in the scope", function()
        local ps = ann:getLedProjects()
        assert.same({ 2 }, ids(ps))
        assert.equal("lead", ps[1].UserProject.role)
        assert.equal(2, ps[1].UserProject.hours)
        assert.same({ 2 }, ids(bob:getLedProjects()))
        assert.same({}, ids(cid:getLedProjects()))
        assert.same({ 1, 2, 3 }, ids(ann:getProjects()))
      end)

      it("puts the scope in the join's ON, as a bound value", function()
        ann:getLedProjects()
        local sql = logged(m.log, "INNER JOIN")
        assert.truthy(sql:find('"UserProject"."role" = ', 1, true), sql)
        assert.falsy(sql:find("lead", 1, true), sql)
        assert.falsy(sql:find("WHERE", 1, true), sql)
      end)

      it("matches NULL with IS NULL", function()
        assert.same({ 3 }, ids(ann:getLooseProjects()))
        local sql = logged(m.log, "INNER JOIN")
        assert.truthy(sql:find('"UserProject"."role" IS NULL', 1, true), sql)
      end)

      it("combines with where, through.where and attributes", function()
        assert.same({ 2 }, ids(ann:getLedProjects{
          where = { title = "beta" } }))
        assert.same({}, ids(ann:getLedProjects{
          where = { title = "alpha" } }))
        assert.same({ 2 }, ids(ann:getLedProjects{
          through = { where = { hours = 2 } } }))
        assert.same({}, ids(ann:getLedProjects{
          through = { where = { hours = 1 } } }))
        local ps = ann:getLedProjects{ attributes = { "title" },
                                       joinTableAttributes = { "hours" } }
        assert.equal("beta", ps[1].title)
        assert.equal(2, ps[1].UserProject.hours)
      end)
    end)

    describe("countLedProjects", function()
      it("counts only the links in the scope", function()
        assert.equal(1, ann:countLedProjects())
        assert.equal(1, ann:countLooseProjects())
        assert.equal(3, ann:countProjects())
        assert.equal(1, bob:countLedProjects())
        assert.equal(0, cid:countLedProjects())
      end)

      it("counts with where and through.where", function()
        assert.equal(0, ann:countLedProjects{ where = { title = "alpha" } })
        assert.equal(1, ann:countLedProjects{ where = { title = "beta" } })
        assert.equal(0, ann:countLedProjects{
          through = { where = { hours = 1 } } })
      end)
    end)

    describe("hasLedProject", function()
      it("finds only the links in the scope", function()
        assert.is_true(ann:hasLedProject(beta))
        assert.is_false(ann:hasLedProject(alpha))
        assert.is_false(ann:hasLedProject(gamma))
        assert.is_true(ann:hasLedProjects({ beta, 2 }))
        assert.is_false(ann:hasLedProjects({ beta, alpha }))
        assert.is_true(ann:hasLooseProject(gamma))
        assert.is_false(ann:hasLooseProject(alpha))
        assert.is_true(ann:hasProjects({ alpha, beta, gamma }))
      end)
    end)

    describe("addLedProject", function()
      it("writes the scope into the new join row", function()
        ann:addLedProject(delta)
        assert.same({ "1/1/dev/1", "1/2/lead/2", "1/3/-/-", "1/4/lead/-",
                      "2/2/lead/-" }, rows(db))
        assert.same({ 2, 4 }, ids(ann:getLedProjects()))
      end)

      it("writes a NULL scope value", function()
        bob:addLooseProjects({ alpha, delta })
        assert.same({ "1/1/dev/1", "1/2/lead/2", "1/3/-/-", "2/1/-/-",
                      "2/2/lead/-", "2/4/-/-" }, rows(db))
      end)

      it("overrides a value given for a scope attribute", function()
        ann:addLedProject(delta, { through = { role = "dev", hours = 3 } })
        bob:addLedProject(alpha, { role = "dev", hours = 4 })
        assert.same({ "1/1/dev/1", "1/2/lead/2", "1/3/-/-", "1/4/lead/3",
                      "2/1/lead/4", "2/2/lead/-" }, rows(db))
      end)

      it("overrides a target's own value for a scope attribute too",
         function()
        delta.UserProject = { role = "dev", hours = 6 }
        bob:addLedProjects({ delta, alpha.id }, { through = { hours = 7 } })
        assert.same({ "1/1/dev/1", "1/2/lead/2", "1/3/-/-", "2/1/lead/7",
                      "2/2/lead/-", "2/4/lead/6" }, rows(db))
      end)

      it("refuses a target with values of its own linked outside the "
         .. "scope, writing nothing", function()
        alpha.UserProject = { hours = 9 }
        other_scope(fails(function()
          ann:addLedProjects({ delta, alpha })
        end))
        assert.same(SEED, rows(db))
      end)

      it("leaves a link in the scope alone when nothing changes", function()
        ann:addLedProject(beta)
        ann:addLedProject(beta, { through = { hours = 2 } })
        assert.same(SEED, rows(db))
        assert.equal(STAMP, updated_at(db, 1, 2))
      end)

      it("updates the join attributes of a link in the scope", function()
        ann:addLedProject(beta, { through = { hours = 5 } })
        assert.same({ "1/1/dev/1", "1/2/lead/5", "1/3/-/-", "2/2/lead/-" },
          rows(db))
        assert.not_equal(STAMP, updated_at(db, 1, 2))
      end)

      it("refuses a pair linked under another scope value", function()
        other_scope(fails(function() ann:addLedProject(alpha) end))
        assert.same(SEED, rows(db))
        assert.equal(STAMP, updated_at(db, 1, 1))
      end)

      it("refuses it with join attributes too, changing nothing",
          function()
        other_scope(fails(function()
          ann:addLedProject(alpha, { through = { hours = 9 } })
        end))
        assert.same(SEED, rows(db))
        assert.equal(STAMP, updated_at(db, 1, 1))
      end)

      it("writes none of the pairs when one is refused", function()
        local err = fails(function()
          ann:addLedProjects({ delta, gamma, alpha },
            { through = { hours = 7 } })
        end)
        other_scope(err)
        assert.truthy(err.message:find("2 of the given Project keys", 1,
          true), err.message)
        assert.same(SEED, rows(db))
      end)

      it("refuses a NULL-scoped pair from another scope and back",
          function()
        other_scope(fails(function() ann:addLedProject(gamma) end))
        local err = fails(function() ann:addLooseProject(beta) end)
        assert.equal("UniqueConstraintError", errname(err))
        assert.same(SEED, rows(db))
      end)

      it("keeps an open transaction usable after a refusal", function()
        db:transaction(function()
          ann:addLedProject(delta)
          assert.is_false(pcall(ann.addLedProject, ann, alpha))
          bob:addLedProject(delta)
        end)
        assert.same({ "1/1/dev/1", "1/2/lead/2", "1/3/-/-", "1/4/lead/-",
                      "2/2/lead/-", "2/4/lead/-" }, rows(db))
      end)
    end)

    describe("setLedProjects", function()
      it("replaces only the links in the scope", function()
        ann:setLedProjects({ delta })
        assert.same({ "1/1/dev/1", "1/3/-/-", "1/4/lead/-", "2/2/lead/-" },
          rows(db))
      end)

      it("filters the DELETE by the scope, as a bound value", function()
        ann:setLedProjects({ delta })
        local sql = logged(m.log, "DELETE")
        assert.truthy(sql:find('"role" = ', 1, true), sql)
        assert.falsy(sql:find("lead", 1, true), sql)
      end)

      it("unlinks only the scope's links on set(nil) and set({})",
          function()
        ann:setLedProjects(nil)
        assert.same({ "1/1/dev/1", "1/3/-/-", "2/2/lead/-" }, rows(db))
        ann:setLooseProjects({})
        assert.same({ "1/1/dev/1", "2/2/lead/-" }, rows(db))
      end)

      it("keeps a link in the scope untouched", function()
        ann:setLedProjects({ beta })
        assert.same(SEED, rows(db))
        assert.equal(STAMP, updated_at(db, 1, 2))
      end)

      it("writes join attributes on kept and new links", function()
        ann:setLedProjects({ beta, delta }, { through = { hours = 8,
                                                          role = "dev" } })
        assert.same({ "1/1/dev/1", "1/2/lead/8", "1/3/-/-", "1/4/lead/8",
                      "2/2/lead/-" }, rows(db))
      end)

      it("refuses a pair linked under another scope value", function()
        other_scope(fails(function()
          ann:setLedProjects({ delta, alpha })
        end))
        assert.same(SEED, rows(db))
      end)

      it("leaves other sources alone", function()
        bob:setLedProjects({ gamma })
        assert.same({ "1/1/dev/1", "1/2/lead/2", "1/3/-/-", "2/3/lead/-" },
          rows(db))
      end)
    end)

    describe("removeLedProject", function()
      it("keeps another scope's link (R10)", function()
        ann:removeLedProject(alpha)
        ann:removeLedProject(gamma)
        assert.same(SEED, rows(db))
      end)

      it("removes the link in the scope", function()
        ann:removeLedProjects({ alpha, beta })
        assert.same({ "1/1/dev/1", "1/3/-/-", "2/2/lead/-" }, rows(db))
      end)

      it("removes only NULL-scoped links for a NULL scope", function()
        ann:removeLooseProjects({ alpha, beta, gamma })
        assert.same({ "1/1/dev/1", "1/2/lead/2", "2/2/lead/-" }, rows(db))
      end)
    end)

    describe("createLedProject", function()
      it("writes the scope into the new join row", function()
        local p = ann:createLedProject({ title = "omega" },
          { through = { role = "dev", hours = 6 } })
        assert.equal(5, p.id)
        assert.equal("omega", p.title)
        assert.same({ "1/1/dev/1", "1/2/lead/2", "1/3/-/-", "1/5/lead/6",
                      "2/2/lead/-" }, rows(db))
        assert.same({ 2, 5 }, ids(ann:getLedProjects()))
      end)

      it("writes a NULL scope value", function()
        ann:createLooseProject{ title = "omega" }
        assert.equal("1/5/-/-", rows(db)[4])
      end)
    end)

    describe("with a target scope too", function()
      it("applies both scopes in every accessor", function()
        link(db, 1, 4, "lead", nil)
        assert.same({ 2 }, ids(ann:getLedBetas()))
        assert.equal(1, ann:countLedBetas())
        assert.is_true(ann:hasLedBeta(beta))
        assert.is_false(ann:hasLedBetas({ beta, delta }))
        ann:removeLedBetas({ alpha, delta })
        ann:setLedBetas({})
        assert.same({ "1/1/dev/1", "1/3/-/-", "1/4/lead/-", "2/2/lead/-" },
          rows(db))
        bob:setLedBetas({ beta, gamma })
        assert.same({ "1/1/dev/1", "1/3/-/-", "1/4/lead/-", "2/2/lead/-",
                      "2/3/lead/-" }, rows(db))
        assert.same({ 2 }, ids(bob:getLedBetas()))
      end)
    end)

    describe("include", function()
      before_each(function() link(db, 3, 1, "dev", nil) end)

      it("loads only the links in the scope", function()
        local us = User:findAll{ order = { "id" },
          include = { { model = Project, as = "LedProjects" } } }
        assert.same({ 2 }, ids(us[1].LedProjects))
        assert.equal("lead", us[1].LedProjects[1].UserProject.role)
        assert.same({ 2 }, ids(us[2].LedProjects))
        assert.same({}, ids(us[3].LedProjects))
        local loose = User:findAll{ order = { "id" },
          include = { { association = "LooseProjects" } } }
        assert.same({ 3 }, ids(loose[1].LooseProjects))
      end)

      it("keeps only parents with a link in the scope when required",
          function()
        assert.same({ 1, 2 }, ids(User:findAll{
          include = { { model = Project, as = "LedProjects",
                        required = true } } }))
        assert.same({ 1 }, ids(User:findAll{
          include = { { association = "LooseProjects", required = true } } }))
      end)

      it("combines with where, through.where, limit and count", function()
        local us = User:findAll{ order = { "id" },
          include = { { model = Project, as = "LedProjects",
                        through = { where = { hours = 2 } } } } }
        assert.same({ 2 }, ids(us[1].LedProjects))
        assert.same({}, ids(us[2].LedProjects))
        assert.same({ 1, 2 }, ids(User:findAll{
          include = { { model = Project, as = "LedProjects",
                        where = { title = "beta" } } } }))
        us = User:findAll{ order = { "id" },
          include = { { model = Project, as = "LedProjects", limit = 1,
                        order = { "title" } } } }
        assert.same({ 2 }, ids(us[1].LedProjects))
        assert.same({}, ids(us[3].LedProjects))
        us = User:findAll{ order = { "id" },
          include = { { association = "LedProjects", count = true } } }
        assert.same({ 1, 1, 0 }, { us[1].LedProjectsCount,
                                    us[2].LedProjectsCount,
                                    us[3].LedProjectsCount })
      end)
    end)
  end)

  describe("through.scope with a table name [#" .. dialect .. "]", function()
    local db, User, Project, ann

    before_each(function()
      db = helpers.open(dialect)
      User = db:define("User", { name = assoc.STRING })
      Project = db:define("Project", { title = assoc.STRING })
      db:define("user_projects", { role = assoc.STRING,
                                   hours = assoc.INTEGER },
        { tableName = "user_projects" })
      User:belongsToMany(Project, { as = "LedProjects",
        through = { model = "user_projects", scope = { role = "lead" } } })
      User:belongsToMany(Project, { through = "user_projects" })
      db:sync{ force = true }
      ann = User:create{ name = "ann" }
      Project:create{ title = "alpha" }
      Project:create{ title = "beta" }
      link(db, 1, 1, "dev", nil, "user_projects")
    end)

    after_each(function() db:close() end)

    it("uses the model the name names", function()
      ann:addLedProject(2)
      assert.same({ "1/1/dev/-", "1/2/lead/-" }, rows(db, "user_projects"))
      local ps = ann:getLedProjects()
      assert.same({ 2 }, ids(ps))
      assert.equal("lead", ps[1].user_projects.role)
      assert.same({ 1, 2 }, ids(ann:getProjects()))
    end)

    it("keeps another scope's link on remove", function()
      ann:removeLedProject(1)
      assert.same({ "1/1/dev/-" }, rows(db, "user_projects"))
    end)

    it("refuses to add a pair linked under another scope", function()
      local err = fails(function() ann:addLedProject(1) end)
      assert.equal("UniqueConstraintError", errname(err))
      assert.same({ "1/1/dev/-" }, rows(db, "user_projects"))
    end)
  end)

  describe("through.scope quoting [#" .. dialect .. "]", function()
    local db, ann

    before_each(function()
      db = helpers.open(dialect)
      local User = db:define("User", { name = assoc.STRING })
      local Project = db:define("Project", { title = assoc.STRING })
      local Link = db:define('Li"nk', { ['ro"le x'] = assoc.STRING },
        { tableName = 'li"nks' })
      User:belongsToMany(Project, { as = "Odd", through = { model = Link,
        scope = { ['ro"le x'] = [[x' OR 1=1; --"]] } } })
      db:sync{ force = true }
      ann = User:create{ name = "ann" }
      Project:create{ title = "alpha" }
      Project:create{ title = "beta" }
      db:query([[INSERT INTO "li""nks" ("UserId", "ProjectId", "ro""le x",
        "createdAt", "updatedAt") VALUES (1, 1, 'other', ?, ?)]],
        { STAMP, STAMP })
    end)

    after_each(function() db:close() end)

    it("quotes the attribute and binds the value", function()
      assert.same({}, ids(ann:getOdd()))
      ann:addOdd(2)
      assert.same({ 2 }, ids(ann:getOdd()))
      assert.equal(1, ann:countOdd())
      assert.is_false(ann:hasOdd(1))
      local r = db:query([[SELECT "ro""le x" AS "r" FROM "li""nks"
        WHERE "ProjectId" = 2]])[1]
      assert.equal([[x' OR 1=1; --"]], r.r)
      ann:setOdd({})
      assert.equal(1, #db:query([[SELECT * FROM "li""nks"]]))
    end)
  end)
end
