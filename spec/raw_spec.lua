-- raw = true: finders and getters return plain tables instead of instances,
-- as Sequelize's raw: true; a belongsToMany's join row under
-- "UserProject.role", or with nest = true under "UserProject".
local helpers = require("helpers")
local assoc = require("assoc")

local keys = helpers.keys

-- Run fn, which must raise; the error as a string.
local function fails(fn) return tostring(helpers.error_of(fn)) end

for _, dialect in ipairs(helpers.dialects()) do
  describe("raw rows [#" .. dialect .. "]", function()
    local db, User, Project, Task, Profile, ann, bob, alpha, beta

    before_each(function()
      db = helpers.open(dialect)
      User = db:define("User", { name = assoc.STRING, admin = assoc.BOOLEAN,
                                 prefs = assoc.JSON }, {
        scopes = { admins = { where = { admin = true } } },
      })
      Project = db:define("Project", { title = assoc.STRING })
      Task = db:define("Task", { title = assoc.STRING })
      Profile = db:define("Profile", { bio = assoc.STRING })
      local UserProject = db:define("UserProject", { role = assoc.STRING })
      User:belongsToMany(Project, { through = UserProject })
      User:hasMany(Task)
      Task:belongsTo(User)
      User:hasOne(Profile)
      db:sync{ force = true }
      ann = User:create{ name = "ann", admin = true, prefs = { a = 1 } }
      bob = User:create{ name = "bob", admin = false }
      alpha = Project:create{ title = "alpha" }
      beta = Project:create{ title = "beta" }
      ann:addProject(alpha, { role = "lead" })
      ann:addProject(beta)
      ann:createTask{ title = "wash" }
      ann:createProfile{ bio = "hi" }
    end)

    after_each(function() db:close() end)

    describe("findAll", function()
      it("returns plain tables of every attribute, typed as instances are",
         function()
        local rows = User:findAll{ raw = true, order = { "id" } }
        assert.equal(2, #rows)
        local r = rows[1]
        assert.is_nil(getmetatable(r))
        assert.same({ "admin", "createdAt", "id", "name", "prefs",
                      "updatedAt" }, keys(r))
        assert.equal(ann.id, r.id)
        assert.equal("integer", math.type(r.id))
        assert.equal("ann", r.name)
        assert.equal(true, r.admin)
        assert.same({ a = 1 }, r.prefs)
        assert.equal(ann.createdAt, r.createdAt)
        assert.equal(false, rows[2].admin)
      end)

      it("leaves NULL columns out", function()
        local r = User:findAll{ raw = true, where = { name = "bob" } }[1]
        assert.is_nil(r.prefs)
        assert.same({ "admin", "createdAt", "id", "name", "updatedAt" },
          keys(r))
      end)

      it("takes where, attributes, order, limit and a scope", function()
        local rows = User:findAll{ raw = true, attributes = { "name" },
                                   order = { { "name", "DESC" } }, limit = 1 }
        assert.equal(1, #rows)
        assert.equal("bob", rows[1].name)
        assert.is_nil(rows[1].admin)
        rows = User:scope("admins"):findAll{ raw = true }
        assert.equal(1, #rows)
        assert.equal("ann", rows[1].name)
      end)

      it("returns an empty array when nothing matches", function()
        assert.same({}, User:findAll{ raw = true, where = { name = "zed" } })
      end)

      it("makes a copy: changing a row changes nothing stored", function()
        local r = User:findOne{ raw = true, where = { name = "ann" } }
        r.name = "changed"
        assert.equal("ann", User:findByPk(ann.id).name)
      end)
    end)

    describe("findOne and findByPk", function()
      it("return one table, or nil", function()
        local r = User:findOne{ raw = true, where = { name = "bob" } }
        assert.equal(bob.id, r.id)
        assert.equal("bob", User:findByPk(bob.id, { raw = true }).name)
        assert.is_nil(User:findByPk(999, { raw = true }))
        assert.is_nil(User:findOne{ raw = true, where = { name = "zed" } })
      end)
    end)

    describe("belongsToMany getter", function()
      it("puts the join row's columns under Model.attr", function()
        local rows = ann:getProjects{ raw = true, order = { "id" } }
        assert.equal(2, #rows)
        local r = rows[1]
        assert.same({ "UserProject.ProjectId", "UserProject.UserId",
                      "UserProject.createdAt", "UserProject.role",
                      "UserProject.updatedAt", "createdAt", "id", "title",
                      "updatedAt" }, keys(r))
        assert.equal("alpha", r.title)
        assert.equal("lead", r["UserProject.role"])
        assert.equal(ann.id, r["UserProject.UserId"])
        assert.equal(alpha.id, r["UserProject.ProjectId"])
        assert.is_nil(rows[2]["UserProject.role"])
      end)

      it("nests the join row with nest = true", function()
        local rows = ann:getProjects{ raw = true, nest = true,
                                      order = { "id" } }
        local r = rows[1]
        assert.same({ "UserProject", "createdAt", "id", "title",
                      "updatedAt" }, keys(r))
        assert.is_nil(getmetatable(r.UserProject))
        assert.equal("lead", r.UserProject.role)
        assert.equal(ann.id, r.UserProject.UserId)
        assert.equal(alpha.id, r.UserProject.ProjectId)
        assert.is_nil(rows[2].UserProject.role)
        assert.equal(beta.id, rows[2].UserProject.ProjectId)
      end)

      it("takes where, joinTableAttributes and through.where", function()
        local rows = ann:getProjects{ raw = true, where = { title = "beta" },
                                      joinTableAttributes = {} }
        assert.equal(1, #rows)
        assert.equal(beta.id, rows[1].id)
        assert.is_nil(rows[1]["UserProject.role"])
        rows = ann:getProjects{ raw = true,
                                through = { where = { role = "lead" } } }
        assert.equal(1, #rows)
        assert.equal("lead", rows[1]["UserProject.role"])
      end)
    end)

    describe("other getters", function()
      it("hasMany returns an array of tables", function()
        local rows = ann:getTasks{ raw = true }
        assert.equal(1, #rows)
        assert.is_nil(getmetatable(rows[1]))
        assert.equal("wash", rows[1].title)
        assert.equal(ann.id, rows[1].UserId)
        assert.same({}, bob:getTasks{ raw = true })
      end)

      it("belongsTo and hasOne return a table or nil", function()
        local t = Task:findOne()
        local u = t:getUser{ raw = true }
        assert.is_nil(getmetatable(u))
        assert.equal("ann", u.name)
        assert.equal("hi", ann:getProfile{ raw = true }.bio)
        assert.is_nil(bob:getProfile{ raw = true })
      end)
    end)

    describe("misuse", function()
      it("raw must be a boolean", function()
        assert.truthy(fails(function() User:findAll{ raw = 1 } end)
          :find("option 'raw' must be a boolean, got number", 1, true))
        assert.truthy(fails(function() ann:getProjects{ raw = "yes" } end)
          :find("option 'raw' must be a boolean, got string", 1, true))
      end)

      it("nest needs raw", function()
        assert.truthy(fails(function() User:findAll{ nest = true } end)
          :find("option 'nest' needs raw = true", 1, true))
      end)

      it("raw does not take include", function()
        assert.truthy(fails(function()
          User:findAll{ raw = true, include = { Project } }
        end):find("raw = true does not take include", 1, true))
      end)

      it("counts take no raw", function()
        assert.truthy(fails(function() ann:countProjects{ raw = true } end)
          :find("unknown option 'raw'", 1, true))
      end)

      it("raw = false gives instances", function()
        local u = User:findOne{ raw = false, where = { name = "ann" } }
        assert.truthy(getmetatable(u))
        assert.equal(ann.id, u.id)
      end)
    end)
  end)
end
