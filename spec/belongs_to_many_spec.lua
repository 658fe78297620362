-- belongsToMany accessors (User has Projects through UserProject): join
-- rows, join attributes, through validators, argument shapes and misuse.
-- API.md "Accessors", SEMANTICS.md sections 1, 5, 8 and 13.
local helpers = require("helpers")
local assoc = require("assoc")

local fx = require("association_fixture")
local STAMP, fixture, links, link, owners = fx.STAMP, fx.fixture, fx.links,
  fx.link, fx.owners
local ids, seq, count_rows, writes = fx.ids, fx.seq, fx.count_rows, fx.writes
local fails, bad_argument, errname = fx.fails, fx.bad_argument, fx.errname

-- ann: alpha (dev), beta (lead); bob: alpha (no role); cid: nothing.
local BEFORE = { "1/1/dev", "1/2/lead", "2/1/-" }

local function with(extra)
  local out = {}
  for _, v in ipairs(BEFORE) do out[#out + 1] = v end
  for _, v in ipairs(extra) do out[#out + 1] = v end
  table.sort(out)
  return out
end

for _, dialect in ipairs(helpers.dialects()) do
  describe("belongsToMany [#" .. dialect .. "]", function()
    local m, db, log
    local User, Project, ann, bob, cid, alpha, beta, gamma, delta, wash

    before_each(function()
      m = fixture(dialect)
      db, log = m.db, m.log
      User, Project = m.User, m.Project
      ann, bob, cid = m.ann, m.bob, m.cid
      alpha, beta, gamma, delta = m.alpha, m.beta, m.gamma, m.delta
      wash = m.wash
      link(db, 1, 1, "dev")
      link(db, 1, 2, "lead")
      link(db, 2, 1)
      log.reset()
    end)

    after_each(function() db:close() end)

    describe("getProjects", function()
      it("returns the projects linked through the join table", function()
        assert.same({ 1, 2 }, ids(ann:getProjects()))
        assert.same({ 1 }, ids(bob:getProjects()))
      end)

      it("returns an empty array when nothing is linked", function()
        local list = cid:getProjects()
        assert.equal("table", type(list))
        assert.equal(0, #list)
      end)

      it("returns Project instances with their attributes", function()
        local list = ann:getProjects{ order = { "id" } }
        assert.equal("alpha", list[1].title)
        assert.equal("open", list[1].status)
        assert.is_false(list[1]:isNewRecord())
        assert.truthy(tostring(list[1]):find("Project", 1, true))
      end)

      it("hangs the join row under the through model's name", function()
        local list = ann:getProjects{ order = { "id" } }
        assert.equal("dev", list[1].UserProject.role)
        assert.equal("lead", list[2].UserProject.role)
      end)

      it("gives the join row its keys", function()
        local p = ann:getProjects{ where = { title = "beta" } }[1]
        assert.equal(1, p.UserProject.UserId)
        assert.equal(2, p.UserProject.ProjectId)
      end)

      it("gives a join row with a NULL role", function()
        local p = bob:getProjects()[1]
        assert.is_not_nil(p.UserProject)
        assert.is_nil(p.UserProject.role)
        assert.equal(2, p.UserProject.UserId)
      end)

      it("filters with where", function()
        assert.same({ 2 }, ids(ann:getProjects{ where = { title = "beta" } }))
        assert.same({}, ids(ann:getProjects{ where = { title = "gamma" } }))
      end)

      it("orders with order", function()
        local desc = ann:getProjects{ order = { { "title", "DESC" } } }
        local asc = ann:getProjects{ order = { { "title", "ASC" } } }
        assert.same({ 2, 1 }, seq(desc))
        assert.same({ 1, 2 }, seq(asc))
      end)

      it("pages with limit and offset", function()
        assert.same({ 1 }, seq(ann:getProjects{ order = { "id" }, limit = 1 }))
        assert.same({ 2 }, seq(ann:getProjects{ order = { "id" }, limit = 1,
                                                 offset = 1 }))
      end)

      it("selects only the given attributes", function()
        local p = ann:getProjects{ attributes = { "id", "title" },
                                   order = { "id" } }[1]
        assert.equal("alpha", p.title)
        assert.is_nil(p.status)
      end)

      it("exposes only the join attributes in joinTableAttributes", function()
        local p = ann:getProjects{ joinTableAttributes = { "role" },
                                   order = { "id" } }[1]
        assert.equal("dev", p.UserProject.role)
        assert.is_nil(p.UserProject.createdAt)
      end)

      it("exposes no join attribute for joinTableAttributes = {}", function()
        local p = ann:getProjects{ joinTableAttributes = {},
                                   order = { "id" } }[1]
        assert.equal("alpha", p.title)
        assert.is_nil(p.UserProject and p.UserProject.role)
      end)

      it("filters the join rows with through.where", function()
        local q = { through = { where = { role = "lead" } } }
        assert.same({ 2 }, ids(ann:getProjects(q)))
        assert.same({}, ids(bob:getProjects(q)))
      end)

      it("combines where and through.where", function()
        local q = { where = { title = "alpha" },
                    through = { where = { role = "dev" } } }
        assert.same({ 1 }, ids(ann:getProjects(q)))
        q.where.title = "beta"
        assert.same({}, ids(ann:getProjects(q)))
      end)

      it("sends one statement", function()
        ann:getProjects()
        assert.equal(1, log.count())
      end)

      it("raises an error for an unsaved source", function()
        fails(function() return User:build{ name = "x" }:getProjects() end)
      end)

      it("works from the other side of the pair", function()
        local list = alpha:getUsers{ order = { "id" } }
        assert.same({ 1, 2 }, seq(list))
        assert.equal("dev", list[1].UserProject.role)
        assert.equal(1, list[1].UserProject.ProjectId)
      end)
    end)

    describe("countProjects", function()
      it("counts the linked projects as an integer", function()
        local n = ann:countProjects()
        assert.equal(2, n)
        assert.equal("integer", math.type(n))
        assert.equal(1, bob:countProjects())
        assert.equal(0, cid:countProjects())
      end)

      it("filters with where", function()
        assert.equal(1, ann:countProjects{ where = { title = "alpha" } })
      end)

      it("filters the join rows with through.where", function()
        local q = { through = { where = { role = "dev" } } }
        assert.equal(1, ann:countProjects(q))
      end)

      it("raises an error for an unsaved source", function()
        fails(function() return User:build{ name = "x" }:countProjects() end)
      end)
    end)

    describe("hasProject", function()
      it("is true for a linked instance", function()
        assert.is_true(ann:hasProject(alpha))
      end)

      it("is false for a project that is not linked", function()
        assert.is_false(ann:hasProject(gamma))
      end)

      it("is false for a link that belongs to another source", function()
        assert.is_false(bob:hasProject(beta))
      end)

      it("takes a primary key", function()
        assert.is_true(ann:hasProject(2))
        assert.is_false(ann:hasProject(3))
      end)

      it("converts a key given as a string", function()
        assert.is_true(ann:hasProject("1"))
        assert.is_false(ann:hasProject("3"))
      end)

      it("is false for a key that names no row", function()
        assert.is_false(ann:hasProject(999))
      end)

      it("sends no write", function()
        ann:hasProject(alpha)
        assert.equal(0, writes(log))
      end)

      it("rejects nil", function()
        bad_argument(fails(function() return ann:hasProject(nil) end),
          "hasProject")
      end)

      it("rejects a boolean", function()
        bad_argument(fails(function() return ann:hasProject(true) end),
          "hasProject", "Project instance or primary key expected, got boolean")
      end)

      it("rejects an instance of another model, naming Project", function()
        bad_argument(fails(function() return ann:hasProject(wash) end),
          "hasProject", "Project")
      end)

      it("rejects an unsaved instance", function()
        bad_argument(fails(function()
          return ann:hasProject(Project:build{ title = "new" })
        end), "hasProject")
      end)
    end)

    describe("hasProjects", function()
      it("is true when every project is linked", function()
        assert.is_true(ann:hasProjects({ alpha, beta }))
      end)

      it("is false when one of them is not linked", function()
        assert.is_false(ann:hasProjects({ alpha, gamma }))
      end)

      it("takes a mix of instances, keys and string keys", function()
        assert.is_true(ann:hasProjects({ alpha, 2 }))
        assert.is_true(ann:hasProjects({ "1", beta }))
      end)

      it("counts a project listed twice once", function()
        assert.is_true(ann:hasProjects({ alpha, alpha }))
        assert.is_true(bob:hasProjects({ 1, "1", alpha }))
      end)

      it("is true for an empty list", function()
        assert.is_true(cid:hasProjects({}))
      end)

      it("rejects a list holding a wrong value", function()
        bad_argument(fails(function()
          return ann:hasProjects({ alpha, {} })
        end), "hasProjects")
      end)
    end)

    describe("addProject", function()
      it("inserts a join row and returns nothing", function()
        assert.is_nil(ann:addProject(gamma))
        assert.same(with{ "1/3/-" }, links(db))
      end)

      it("takes a primary key", function()
        ann:addProject(3)
        assert.same(with{ "1/3/-" }, links(db))
      end)

      it("converts a key given as a string", function()
        ann:addProject("3")
        assert.same(with{ "1/3/-" }, links(db))
      end)

      it("leaves a link re-added by a string key alone", function()
        ann:addProject("2")
        assert.same(BEFORE, links(db))
      end)

      it("leaves the join attributes of a link re-added without any", function()
        ann:addProject(alpha)
        assert.same(BEFORE, links(db))
      end)

      it("updates the join attributes of a link re-added with new ones",
          function()
        ann:addProject(alpha, { through = { role = "lead" } })
        assert.same({ "1/1/lead", "1/2/lead", "2/1/-" }, links(db))
      end)

      it("keeps a link re-added with the same join attributes", function()
        ann:addProject(alpha, { through = { role = "dev" } })
        assert.same(BEFORE, links(db))
      end)

      it("writes join attributes given in opts.through", function()
        ann:addProject(gamma, { through = { role = "manager" } })
        assert.same(with{ "1/3/manager" }, links(db))
      end)

      it("refuses the join table's keys as join attributes, writing nothing",
         function()
        for _, opts in ipairs{ { UserId = 2 }, { ProjectId = 4 },
                               { through = { UserId = 2 } },
                               { through = { ProjectId = 4, role = "x" } } } do
          local err = helpers.error_of(function()
            ann:addProject(gamma, opts)
          end)
          assert.truthy(tostring(err):find("key of the join table", 1, true))
          err = helpers.error_of(function()
            ann:setProjects({ gamma }, opts)
          end)
          assert.truthy(tostring(err):find("key of the join table", 1, true))
        end
        assert.same(BEFORE, links(db))
        assert.equal(0, writes(log))
      end)

      it("writes join attributes given as top-level options", function()
        ann:addProject(gamma, { role = "manager" })
        assert.same(with{ "1/3/manager" }, links(db))
      end)

      it("updates a re-added link from top-level options", function()
        bob:addProject(alpha, { role = "manager" })
        assert.same({ "1/1/dev", "1/2/lead", "2/1/manager" }, links(db))
      end)

      it("shows the new link and its attributes to getProjects", function()
        cid:addProject(gamma, { through = { role = "manager" } })
        local list = cid:getProjects()
        assert.same({ 3 }, ids(list))
        assert.equal("manager", list[1].UserProject.role)
      end)

      it("leaves other sources' links to the same project alone", function()
        cid:addProject(alpha)
        assert.same(with{ "3/1/-" }, links(db))
      end)

      it("raises ForeignKeyConstraintError for a key naming no row", function()
        local err = fails(function() return ann:addProject(999) end)
        assert.equal("ForeignKeyConstraintError", errname(err))
        assert.same(BEFORE, links(db))
      end)

      it("rejects an unknown key in opts.through and writes nothing", function()
        local err = fails(function()
          return ann:addProject(gamma, { through = { nope = 1 } })
        end)
        assert.truthy(tostring(err):find("nope", 1, true), tostring(err))
        assert.same(BEFORE, links(db))
      end)

      it("rejects nil", function()
        bad_argument(fails(function() return ann:addProject(nil) end),
          "addProject")
        assert.same(BEFORE, links(db))
      end)

      it("rejects a boolean before any SQL", function()
        bad_argument(fails(function() return ann:addProject(true) end),
          "addProject", "Project instance or primary key expected, got boolean")
        assert.equal(0, log.count())
      end)

      it("rejects a plain table", function()
        bad_argument(fails(function() return ann:addProject({ id = 3 }) end),
          "addProject")
        assert.same(BEFORE, links(db))
      end)

      it("rejects an empty table", function()
        bad_argument(fails(function() return ann:addProject({}) end),
          "addProject", "got table")
        assert.same(BEFORE, links(db))
      end)

      it("rejects an instance of another model, naming Project", function()
        bad_argument(fails(function() return ann:addProject(wash) end),
          "addProject", "Project instance")
        assert.same(BEFORE, links(db))
      end)

      it("rejects an unsaved instance", function()
        bad_argument(fails(function()
          return ann:addProject(Project:build{ title = "new" })
        end), "addProject")
        assert.same(BEFORE, links(db))
      end)

      it("raises an error naming an unsaved source, writing nothing", function()
        local err = fails(function()
          return User:build{ name = "x" }:addProject(gamma)
        end)
        assert.truthy(tostring(err):find("User", 1, true), tostring(err))
        assert.same(BEFORE, links(db))
      end)
    end)

    describe("addProjects", function()
      it("links several projects", function()
        assert.is_nil(cid:addProjects({ alpha, beta }))
        assert.same(with{ "3/1/-", "3/2/-" }, links(db))
      end)

      it("takes a mix of instances, keys and string keys", function()
        cid:addProjects({ alpha, 2, "3" })
        assert.same(with{ "3/1/-", "3/2/-", "3/3/-" }, links(db))
      end)

      it("inserts a project listed twice once", function()
        cid:addProjects({ gamma, gamma, 3, "3" })
        assert.same(with{ "3/3/-" }, links(db))
      end)

      it("is a no-op for an empty list", function()
        assert.is_nil(cid:addProjects({}))
        assert.same(BEFORE, links(db))
        assert.equal(0, writes(log))
      end)

      it("writes opts.through on every new link", function()
        cid:addProjects({ alpha, beta }, { through = { role = "dev" } })
        assert.same(with{ "3/1/dev", "3/2/dev" }, links(db))
      end)

      it("inserts the new links and updates the re-added ones", function()
        ann:addProjects({ alpha, gamma }, { through = { role = "x" } })
        assert.same({ "1/1/x", "1/2/lead", "1/3/x", "2/1/-" }, links(db))
      end)

      it("leaves re-added links alone when no attributes are given", function()
        ann:addProjects({ alpha, beta, gamma })
        assert.same(with{ "1/3/-" }, links(db))
      end)

      it("writes none of the list when one key names no row", function()
        local err = fails(function() return ann:addProjects({ gamma, 999 }) end)
        assert.equal("ForeignKeyConstraintError", errname(err))
        assert.same(BEFORE, links(db))
      end)

      it("rejects a list with a wrong value and writes none of it", function()
        bad_argument(fails(function()
          return cid:addProjects({ alpha, true })
        end), "addProjects")
        assert.same(BEFORE, links(db))
      end)

      it("rejects a boolean in place of the list", function()
        bad_argument(fails(function() return cid:addProjects(true) end),
          "addProjects", "got boolean")
        assert.same(BEFORE, links(db))
      end)

      it("rejects a list with an instance of another model", function()
        bad_argument(fails(function()
          return cid:addProjects({ alpha, wash })
        end), "addProjects", "Project")
        assert.same(BEFORE, links(db))
      end)
    end)

    describe("setProjects", function()
      it("makes exactly the list linked, keeping kept links' attributes",
          function()
        assert.is_nil(ann:setProjects({ beta, gamma }))
        assert.same({ "1/2/lead", "1/3/-", "2/1/-" }, links(db))
      end)

      it("takes keys and string keys, keeping attributes", function()
        ann:setProjects({ "2", 3 })
        assert.same({ "1/2/lead", "1/3/-", "2/1/-" }, links(db))
      end)

      it("accepts a single instance", function()
        ann:setProjects(gamma)
        assert.same({ "1/3/-", "2/1/-" }, links(db))
      end)

      it("unlinks everything of this source for nil", function()
        ann:setProjects(nil)
        assert.same({ "2/1/-" }, links(db))
      end)

      it("unlinks everything of this source for an empty list", function()
        ann:setProjects({})
        assert.same({ "2/1/-" }, links(db))
      end)

      it("keeps the project rows", function()
        ann:setProjects(nil)
        assert.equal(4, count_rows(db, "Projects"))
      end)

      it("leaves an unchanged list as it was", function()
        ann:setProjects({ alpha, beta })
        assert.same(BEFORE, links(db))
      end)

      it("inserts a project listed twice once", function()
        ann:setProjects({ gamma, gamma, "3" })
        assert.same({ "1/3/-", "2/1/-" }, links(db))
      end)

      it("writes new join attributes on new and kept links", function()
        ann:setProjects({ beta, gamma }, { through = { role = "x" } })
        assert.same({ "1/2/x", "1/3/x", "2/1/-" }, links(db))
      end)

      it("takes join attributes as top-level options", function()
        ann:setProjects({ beta, gamma }, { role = "x" })
        assert.same({ "1/2/x", "1/3/x", "2/1/-" }, links(db))
      end)

      it("links a source that had nothing", function()
        cid:setProjects({ delta })
        assert.same(with{ "3/4/-" }, links(db))
      end)

      it("changes nothing when a key names no row", function()
        local err = fails(function() return ann:setProjects({ beta, 999 }) end)
        assert.equal("ForeignKeyConstraintError", errname(err))
        assert.same(BEFORE, links(db))
      end)

      it("rejects an unknown key in opts.through, changing nothing", function()
        fails(function()
          return ann:setProjects({ gamma }, { through = { nope = 1 } })
        end)
        assert.same(BEFORE, links(db))
      end)

      it("rejects a wrong value and changes nothing", function()
        bad_argument(fails(function()
          return ann:setProjects({ gamma, true })
        end), "setProjects")
        assert.same(BEFORE, links(db))
      end)

      it("rejects an unsaved instance and changes nothing", function()
        bad_argument(fails(function()
          return ann:setProjects({ Project:build{ title = "new" } })
        end), "setProjects")
        assert.same(BEFORE, links(db))
      end)

      it("raises an error for an unsaved source and changes nothing", function()
        fails(function() return User:build{ name = "x" }:setProjects(nil) end)
        assert.same(BEFORE, links(db))
      end)
    end)

    describe("removeProject", function()
      it("deletes the join row and returns nothing", function()
        assert.is_nil(ann:removeProject(alpha))
        assert.same({ "1/2/lead", "2/1/-" }, links(db))
      end)

      it("takes a primary key and a string key", function()
        ann:removeProject(1)
        ann:removeProject("2")
        assert.same({ "2/1/-" }, links(db))
      end)

      it("keeps the project row", function()
        ann:removeProject(alpha)
        assert.equal(4, count_rows(db, "Projects"))
      end)

      it("leaves another source's link to the project", function()
        ann:removeProject(alpha)
        assert.is_true(bob:hasProject(alpha))
      end)

      it("is a no-op for a project that is not linked", function()
        ann:removeProject(gamma)
        assert.same(BEFORE, links(db))
      end)

      it("is a no-op for a key that names no row", function()
        ann:removeProject(999)
        assert.same(BEFORE, links(db))
      end)

      it("rejects nil", function()
        bad_argument(fails(function() return ann:removeProject(nil) end),
          "removeProject")
        assert.same(BEFORE, links(db))
      end)

      it("rejects a boolean", function()
        bad_argument(fails(function() return ann:removeProject(false) end),
          "removeProject", "got boolean")
      end)

      it("rejects an instance of another model, naming Project", function()
        bad_argument(fails(function() return ann:removeProject(wash) end),
          "removeProject", "Project")
        assert.same(BEFORE, links(db))
      end)

      it("rejects an unsaved instance", function()
        bad_argument(fails(function()
          return ann:removeProject(Project:build{ title = "new" })
        end), "removeProject")
      end)

      it("raises an error for an unsaved source", function()
        local ghost = User:build{ name = "x" }
        fails(function() return ghost:removeProject(alpha) end)
        assert.same(BEFORE, links(db))
      end)
    end)

    describe("removeProjects", function()
      it("deletes several join rows", function()
        assert.is_nil(ann:removeProjects({ alpha, 2 }))
        assert.same({ "2/1/-" }, links(db))
      end)

      it("accepts a project listed twice", function()
        ann:removeProjects({ alpha, alpha, "1" })
        assert.same({ "1/2/lead", "2/1/-" }, links(db))
      end)

      it("skips projects that are not linked", function()
        ann:removeProjects({ alpha, gamma, 999 })
        assert.same({ "1/2/lead", "2/1/-" }, links(db))
      end)

      it("is a no-op for an empty list", function()
        ann:removeProjects({})
        assert.same(BEFORE, links(db))
        assert.equal(0, writes(log))
      end)

      it("rejects a list with a wrong value and removes none of it", function()
        bad_argument(fails(function()
          return ann:removeProjects({ alpha, true })
        end), "removeProjects")
        assert.same(BEFORE, links(db))
      end)
    end)

    describe("createProject", function()
      it("creates a project, links it and returns it", function()
        local p = cid:createProject{ title = "omega" }
        assert.equal(5, p.id)
        assert.equal("omega", p.title)
        assert.is_false(p:isNewRecord())
        assert.equal(5, count_rows(db, "Projects"))
        assert.same(with{ "3/5/-" }, links(db))
      end)

      it("returns the stored row with defaults filled in", function()
        assert.equal("open", cid:createProject{ title = "omega" }.status)
      end)

      it("writes join attributes given in opts.through", function()
        cid:createProject({ title = "omega" }, { through = { role = "owner" } })
        assert.same(with{ "3/5/owner" }, links(db))
      end)

      it("writes join attributes given as top-level options", function()
        cid:createProject({ title = "omega" }, { role = "owner" })
        assert.same(with{ "3/5/owner" }, links(db))
      end)

      it("accepts empty values", function()
        local p = cid:createProject({})
        assert.equal(5, p.id)
        assert.same(with{ "3/5/-" }, links(db))
      end)

      it("shows the new project to getProjects", function()
        cid:createProject({ title = "omega" }, { through = { role = "owner" } })
        local list = cid:getProjects()
        assert.equal("omega", list[1].title)
        assert.equal("owner", list[1].UserProject.role)
      end)

      it("rejects an unknown key in opts.through, creating nothing", function()
        fails(function()
          return cid:createProject({ title = "omega" },
            { through = { nope = 1 } })
        end)
        assert.equal(4, count_rows(db, "Projects"))
        assert.same(BEFORE, links(db))
      end)

      it("raises an error for an unsaved source and creates nothing", function()
        local ghost = User:build{ name = "x" }
        fails(function() return ghost:createProject{ title = "o" } end)
        assert.equal(4, count_rows(db, "Projects"))
      end)
    end)

    describe("the paired side", function()
      it("links with addUser", function()
        gamma:addUser(cid, { through = { role = "dev" } })
        assert.same(with{ "3/3/dev" }, links(db))
        assert.is_true(cid:hasProject(gamma))
      end)

      it("unlinks with removeUser", function()
        alpha:removeUser(ann)
        assert.same({ "1/2/lead", "2/1/-" }, links(db))
      end)

      it("replaces the project's users with setUsers", function()
        alpha:setUsers({ cid })
        assert.same({ "1/2/lead", "3/1/-" }, links(db))
      end)

      it("counts with countUsers", function()
        assert.equal(2, alpha:countUsers())
        assert.equal(0, delta:countUsers())
      end)
    end)
  end)

  describe("belongsToMany through a string [#" .. dialect .. "]", function()
    local m, db

    local function pairs_of(d)
      local out = {}
      local rows = d:query('SELECT "UserId", "ProjectId" FROM "user_projects"'
        .. ' ORDER BY "UserId", "ProjectId"')
      for _, r in ipairs(rows) do
        out[#out + 1] = ("%d/%d"):format(r.UserId, r.ProjectId)
      end
      return out
    end

    before_each(function()
      m = fixture(dialect, { through = "user_projects" })
      db = m.db
    end)

    after_each(function() db:close() end)

    it("stores links in a table named exactly as given", function()
      m.ann:addProjects({ m.alpha, m.beta })
      assert.same({ "1/1", "1/2" }, pairs_of(db))
    end)

    it("gives the join table timestamps", function()
      m.ann:addProject(m.alpha)
      local row = db:query(
        'SELECT "createdAt", "updatedAt" FROM "user_projects"')[1]
      assert.is_not_nil(row.createdAt)
      assert.is_not_nil(row.updatedAt)
    end)

    it("hangs the join row under the table's name", function()
      m.ann:addProject(m.beta)
      local p = m.ann:getProjects()[1]
      assert.equal(1, p.user_projects.UserId)
      assert.equal(2, p.user_projects.ProjectId)
    end)

    it("shares the table with the paired side", function()
      m.ann:addProject(m.alpha)
      m.beta:addUser(m.bob)
      assert.same({ 1 }, ids(m.alpha:getUsers()))
      assert.same({ 2 }, ids(m.bob:getProjects()))
    end)

    it("rejects a join attribute the table does not have", function()
      fails(function()
        return m.ann:addProject(m.alpha, { through = { role = "x" } })
      end)
      assert.same({}, pairs_of(db))
    end)
  end)

  describe("belongsToMany through validators [#" .. dialect .. "]", function()
    local m, db

    local role = { type = assoc.STRING, validate = {
      notBad = function(v)
        if v == "bad" then error("role may not be bad") end
      end,
    } }

    before_each(function()
      m = fixture(dialect, { role = role })
      db = m.db
      link(db, 1, 1, "dev")
    end)

    after_each(function() db:close() end)

    it("accepts a valid join attribute", function()
      m.ann:addProject(m.beta, { through = { role = "lead" } })
      assert.same({ "1/1/dev", "1/2/lead" }, links(db))
    end)

    it("raises ValidationError for a new link and writes nothing", function()
      local err = fails(function()
        return m.ann:addProjects({ m.beta, m.gamma },
          { through = { role = "bad" } })
      end)
      assert.equal("ValidationError", errname(err))
      assert.same({ "1/1/dev" }, links(db))
    end)

    it("lists the failing attribute in err.errors", function()
      local err = fails(function()
        return m.ann:addProject(m.beta, { through = { role = "bad" } })
      end)
      assert.equal("ValidationError", errname(err))
      assert.equal("role", err.errors[1].path)
    end)

    it("validates join attributes given as top-level options", function()
      local err = fails(function()
        return m.ann:addProject(m.beta, { role = "bad" })
      end)
      assert.equal("ValidationError", errname(err))
      assert.same({ "1/1/dev" }, links(db))
    end)

    it("validates the update of a re-added link", function()
      local err = fails(function()
        return m.ann:addProject(m.alpha, { through = { role = "bad" } })
      end)
      assert.equal("ValidationError", errname(err))
      assert.same({ "1/1/dev" }, links(db))
    end)

    it("validates in setProjects and changes nothing", function()
      local err = fails(function()
        return m.ann:setProjects({ m.beta }, { through = { role = "bad" } })
      end)
      assert.equal("ValidationError", errname(err))
      assert.same({ "1/1/dev" }, links(db))
    end)

    it("validates in createProject and creates no project", function()
      local err = fails(function()
        return m.ann:createProject({ title = "omega" },
          { through = { role = "bad" } })
      end)
      assert.equal("ValidationError", errname(err))
      assert.equal(4, count_rows(db, "Projects"))
      assert.same({ "1/1/dev" }, links(db))
    end)

    it("skips the validators with validate = false", function()
      m.ann:addProject(m.beta, { through = { role = "bad" }, validate = false })
      assert.same({ "1/1/dev", "1/2/bad" }, links(db))
    end)

    it("skips the validators in setProjects with validate = false", function()
      m.ann:setProjects({ m.beta },
        { through = { role = "bad" }, validate = false })
      assert.same({ "1/2/bad" }, links(db))
    end)
  end)
end
