-- include = { all = true }: every association of the model (or those of
-- the kinds named), with nested = true their targets' in turn, never going
-- back into a model on the path from the top (Sequelize 6's
-- _expandIncludeAll).
local helpers = require("helpers")
local assoc = require("assoc")
local fx = require("association_fixture")

-- Run fn, which must raise; the error as a string.
local function fails(fn) return tostring(helpers.error_of(fn)) end

local function titles(list, field)
  local out = {}
  for i, x in ipairs(list) do out[i] = x[field] end
  table.sort(out)
  return out
end

local function selects(log) return fx.statements(log, "SELECT") end

for _, dialect in ipairs(helpers.dialects()) do
  describe("include all [#" .. dialect .. "]", function()
    local db, log, User, Project, Task, Profile, ann, bob

    before_each(function()
      log = helpers.logger()
      db = helpers.open(dialect, { logging = log.fn })
      User = db:define("User", { name = assoc.STRING })
      Project = db:define("Project", { title = assoc.STRING })
      Task = db:define("Task", { title = assoc.STRING })
      Profile = db:define("Profile", { bio = assoc.STRING })
      local UserProject = db:define("UserProject", { role = assoc.STRING })
      User:belongsToMany(Project, { through = UserProject })
      Project:belongsToMany(User, { through = UserProject })
      User:hasMany(Task)
      Task:belongsTo(User)
      User:hasOne(Profile)
      User:belongsToMany(User, { as = "Friends", through = "friendships",
                                 foreignKey = "userId",
                                 otherKey = "friendId" })
      db:sync{ force = true }
      ann = User:create{ name = "ann" }
      bob = User:create{ name = "bob" }
      ann:addProject(Project:create{ title = "apollo" }, { role = "lead" })
      ann:createTask{ title = "wash" }
      ann:createTask{ title = "cook" }
      ann:createProfile{ bio = "hi" }
      ann:addFriend(bob)
      bob:createTask{ title = "read" }
      log.reset()
    end)

    after_each(function() db:close() end)

    local function ann_with(include)
      return User:findOne{ where = { name = "ann" }, include = include }
    end

    it("loads every association of the model, one statement each",
       function()
      local u = ann_with{ { all = true } }
      assert.equal(5, selects(log))   -- the users, then 4 associations
      assert.same({ "apollo" }, titles(u.Projects, "title"))
      assert.equal("lead", u.Projects[1].UserProject.role)
      assert.same({ "cook", "wash" }, titles(u.Tasks, "title"))
      assert.equal("hi", u.Profile.bio)
      assert.same({ "bob" }, titles(u.Friends, "name"))
    end)

    it("is taken as the include itself, not in a list", function()
      local u = ann_with{ all = true }
      assert.same({ "cook", "wash" }, titles(u.Tasks, "title"))
      assert.equal("hi", u.Profile.bio)
    end)

    it("does not go further without nested", function()
      local u = ann_with{ { all = true } }
      assert.is_nil(u.Friends[1].Tasks)
      assert.is_nil(u.Tasks[1].User)
    end)

    it("leaves out what the list names itself, which keeps its options",
       function()
      local u = ann_with{ { all = true },
                          { model = Task, where = { title = "wash" } } }
      assert.same({ "wash" }, titles(u.Tasks, "title"))
      assert.equal(5, selects(log))
    end)

    it("takes association types", function()
      local u = ann_with{ { all = "HasOne" } }
      assert.equal("hi", u.Profile.bio)
      assert.is_nil(u.Tasks)
      assert.is_nil(u.Projects)
      u = ann_with{ { all = { "HasMany", "HasOne" } } }
      assert.same({ "cook", "wash" }, titles(u.Tasks, "title"))
      assert.equal("hi", u.Profile.bio)
      assert.is_nil(u.Friends)
      u = ann_with{ { all = "Many" } }           -- Sequelize's: HasMany only
      assert.equal(2, #u.Tasks)
      assert.is_nil(u.Projects)
      local t = Task:findOne{ where = { title = "read" },
                              include = { { all = "One" } } }
      assert.equal("bob", t.User.name)
    end)

    it("gives each association the element's other options", function()
      local u = ann_with{ { all = "HasMany", required = true,
                            attributes = { "title" } } }
      assert.same({ "cook", "wash" }, titles(u.Tasks, "title"))
      assert.is_nil(u.Tasks[1].createdAt)
      assert.is_nil(User:findOne{ where = { name = "bob" },
                                  include = { { all = "HasOne",
                                                required = true } } })
    end)

    describe("with nested", function()
      it("follows each target's associations, not back into the path",
         function()
        local u = ann_with{ { all = true, nested = true } }
        -- Friends lead to User again: its Friends are not loaded, but its
        -- other associations are.
        local friend = u.Friends[1]
        assert.equal("bob", friend.name)
        assert.same({ "read" }, titles(friend.Tasks, "title"))
        assert.same({}, friend.Projects)
        assert.is_nil(friend.Friends)
        -- Project's Users and Task's User lead back to User: left out.
        assert.is_nil(u.Projects[1].Users)
        assert.is_nil(u.Tasks[1].User)
      end)

      it("nests from an association's target that is not on the path",
         function()
        local t = Task:findOne{ where = { title = "wash" },
                                include = { { all = true, nested = true } } }
        assert.equal("ann", t.User.name)
        assert.same({ "apollo" }, titles(t.User.Projects, "title"))
        assert.same({ "bob" }, titles(t.User.Friends, "name"))
        assert.is_nil(t.User.Tasks)       -- back into Task
      end)
    end)

    describe("misuse", function()
      it("refuses a type Sequelize does not know", function()
        assert.truthy(fails(function() ann_with{ { all = "BelongsToMany" } } end)
          :find("include all 'BelongsToMany' is not valid: must be "
                .. "BelongsTo, HasOne, HasMany, One, Has, Many or All", 1,
                true))
        assert.truthy(fails(function() ann_with{ { all = { "HasOne", 3 } } } end)
          :find("include all '3' is not valid", 1, true))
      end)

      it("refuses all = false and other values", function()
        assert.truthy(fails(function() ann_with{ { all = false } } end)
          :find("'all' must be true, an association type or a list of them, "
                .. "got boolean", 1, true))
        assert.truthy(fails(function() ann_with{ { all = {} } } end)
          :find("'all' must be true", 1, true))
      end)

      it("refuses unknown options", function()
        assert.truthy(fails(function() ann_with{ { all = true, nope = 1 } } end)
          :find("unknown include option 'nope'", 1, true))
      end)
    end)
  end)
end
