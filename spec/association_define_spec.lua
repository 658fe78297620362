-- Declaring associations: default and aliased names, inflected accessors,
-- key options, the Association object, definition errors, and the schema
-- sync makes (through tables, foreign-key actions).  API.md "Associations",
-- SEMANTICS.md sections 2, 3 and 13.
local helpers = require("helpers")
local assoc = require("assoc")

local fx = require("association_fixture")
local STAMP, fixture, links, link, owners = fx.STAMP, fx.fixture, fx.links,
  fx.link, fx.owners
local ids, seq, count_rows, writes = fx.ids, fx.seq, fx.count_rows, fx.writes
local fails, bad_argument, errname = fx.fails, fx.bad_argument, fx.errname

-- The fixture's models with no association; o.underscored makes every model
-- underscored, o.code gives User a unique string code.
local function bare(dialect, o)
  o = o or {}
  local log = helpers.logger()
  local db = helpers.open(dialect, { logging = log.fn })
  local b = { db = db, log = log, with_code = o.code }
  local mo = o.underscored and { underscored = true } or nil
  local user = { name = assoc.STRING }
  if o.code then user.code = { type = assoc.STRING, unique = true } end
  b.User = db:define("User", user, mo)
  b.Project = db:define("Project", {
    title = assoc.STRING,
    status = { type = assoc.STRING, defaultValue = "open" },
  }, mo)
  b.UserProject = db:define("UserProject", { role = assoc.STRING }, mo)
  b.Task = db:define("Task", {
    title = assoc.STRING,
    done = { type = assoc.BOOLEAN, defaultValue = false },
  }, mo)
  return b
end

-- Sync, then ann, bob / alpha, beta / wash, code (tasks with no owner).
local function seed(b)
  b.db:sync{ force = true }
  b.ann = b.User:create{ name = "ann", code = b.with_code and "A1" or nil }
  b.bob = b.User:create{ name = "bob", code = b.with_code and "B2" or nil }
  b.alpha = b.Project:create{ title = "alpha" }
  b.beta = b.Project:create{ title = "beta" }
  b.wash = b.Task:create{ title = "wash" }
  b.code = b.Task:create{ title = "code" }
  b.log.reset()
  return b
end

local MULTI = { "get%s", "set%s", "add%s", "add%s", "create%s", "remove%s",
                "remove%s", "has%s", "has%s", "count%s" }
local PLURAL = { true, true, false, true, false, false, true, false, true,
                 true }

-- Assert inst has the ten multi accessors for singular/plural.
local function has_multi(inst, singular, plural)
  for i, fmt in ipairs(MULTI) do
    local name = fmt:format(PLURAL[i] and plural or singular)
    assert.equal("function", type(inst[name]), name)
  end
end

local function has_methods(inst, names)
  for _, name in ipairs(names) do
    assert.equal("function", type(inst[name]), name)
  end
end

local function values_of(t)
  local out = {}
  for _, v in pairs(t) do out[#out + 1] = v end
  table.sort(out)
  return out
end

-- Columns cols (SQL text) of the row of tbl whose id is id.
local function row_of(db, tbl, cols, id)
  return db:query('SELECT ' .. cols .. ' FROM "' .. tbl
    .. '" WHERE "id" = ?', { id })[1]
end

-- Qualified, so that SQLite cannot read an unknown "col" as a string.
local function column_exists(db, tbl, col)
  return (pcall(db.query, db, 'SELECT "' .. tbl .. '"."' .. col
    .. '" FROM "' .. tbl .. '"'))
end

for _, dialect in ipairs(helpers.dialects()) do
  describe("association defaults [#" .. dialect .. "]", function()
    local m, db

    before_each(function()
      m = fixture(dialect)
      db = m.db
    end)

    after_each(function() db:close() end)

    it("adds a UserId foreign key column to the target's table", function()
      assert.is_true(column_exists(db, "Tasks", "UserId"))
      assert.same({ 1, 1, 2, false }, owners(db))
    end)

    it("gives the target instances the foreign key attribute", function()
      assert.equal(1, m.Task:findByPk(1).UserId)
      assert.is_nil(m.Task:findByPk(4).UserId)
    end)

    it("gives hasMany sources the ten accessors named after Tasks", function()
      has_multi(m.ann, "Task", "Tasks")
    end)

    it("gives belongsToMany sources the accessors named after Projects",
        function()
      has_methods(m.ann, { "getProjects", "setProjects", "addProject",
        "addProjects", "createProject", "removeProject", "removeProjects",
        "hasProject", "hasProjects", "countProjects" })
    end)

    it("gives the paired side the accessors named after Users", function()
      has_multi(m.alpha, "User", "Users")
    end)

    it("gives belongsTo sources getUser, setUser and createUser", function()
      has_methods(m.wash, { "getUser", "setUser", "createUser" })
    end)

    it("returns Associations whose source and target are the models", function()
      assert.equal(m.User, m.tasks.source)
      assert.equal(m.Task, m.tasks.target)
      assert.equal(m.Task, m.owner.source)
      assert.equal(m.User, m.owner.target)
      assert.equal(m.User, m.projects.source)
      assert.equal(m.Project, m.projects.target)
    end)

    it("names as after the target: plural for many, singular for one",
        function()
      assert.equal("Tasks", m.tasks.as)
      assert.equal("User", m.owner.as)
      assert.equal("Projects", m.projects.as)
      assert.equal("Users", m.users.as)
    end)

    it("names the foreign key after the source for many", function()
      assert.equal("UserId", m.tasks.foreignKey)
      assert.equal("UserId", m.projects.foreignKey)
      assert.equal("ProjectId", m.users.foreignKey)
    end)

    it("names the belongsTo foreign key after the target", function()
      assert.equal("UserId", m.owner.foreignKey)
    end)

    it("tells the associationType", function()
      assert.equal("HasMany", m.tasks.associationType)
      assert.equal("BelongsTo", m.owner.associationType)
      assert.equal("BelongsToMany", m.projects.associationType)
      assert.equal("BelongsToMany", m.users.associationType)
    end)

    it("lists the accessor names in .accessors", function()
      assert.same({ "addProject", "addProjects", "countProjects",
        "createProject", "getProjects", "hasProject", "hasProjects",
        "removeProject", "removeProjects", "setProjects" },
        values_of(m.projects.accessors))
      assert.same({ "createUser", "getUser", "setUser" },
        values_of(m.owner.accessors))
    end)

    it("registers each association in Model.associations under as", function()
      assert.equal(m.tasks, m.User.associations.Tasks)
      assert.equal(m.projects, m.User.associations.Projects)
      assert.equal(m.owner, m.Task.associations.User)
      assert.equal(m.users, m.Project.associations.Users)
    end)
  end)

  describe("association aliases [#" .. dialect .. "]", function()
    local b

    before_each(function() b = bare(dialect) end)
    after_each(function() b.db:close() end)

    it("takes as as the plural and singularizes it", function()
      local a = b.User:hasMany(b.Task, { as = "Chores" })
      seed(b)
      has_multi(b.ann, "Chore", "Chores")
      assert.equal("Chores", a.as)
      assert.equal(a, b.User.associations.Chores)
    end)

    it("keeps the hasMany foreign key named after the source", function()
      local a = b.User:hasMany(b.Task, { as = "Chores" })
      seed(b)
      assert.equal("UserId", a.foreignKey)
      b.ann:addChore(b.wash)
      assert.same({ 1, false }, owners(b.db))
      assert.same({ 1 }, ids(b.ann:getChores()))
    end)

    it("takes as = {singular, plural} verbatim", function()
      local a = b.User:hasMany(b.Task, { as = { singular = "Gizmo",
                                                plural = "Gadgetry" } })
      seed(b)
      has_multi(b.ann, "Gizmo", "Gadgetry")
      assert.equal("Gadgetry", a.as)
      assert.equal(a, b.User.associations.Gadgetry)
    end)

    it("names belongsTo accessors and key after a singular as", function()
      local a = b.Task:belongsTo(b.User, { as = "Owner" })
      seed(b)
      has_methods(b.wash, { "getOwner", "setOwner", "createOwner" })
      assert.equal("OwnerId", a.foreignKey)
      assert.equal(a, b.Task.associations.Owner)
      b.wash:setOwner(b.bob)
      local row = row_of(b.db, "Tasks", '"OwnerId"', 1)
      assert.equal(2, row.OwnerId)
      assert.equal("bob", b.wash:getOwner().name)
    end)

    it("keeps the belongsToMany other key named after the target", function()
      local a = b.User:belongsToMany(b.Project, { as = "Memberships",
                                                  through = b.UserProject })
      seed(b)
      has_multi(b.ann, "Membership", "Memberships")
      assert.equal("UserId", a.foreignKey)
      b.ann:addMembership(b.beta)
      assert.same({ "1/2/-" }, links(b.db))
    end)

    it("keeps two associations between the same models apart", function()
      local drafts = b.User:hasMany(b.Task, { as = "Drafts",
                                              foreignKey = "authorId" })
      local jobs = b.User:hasMany(b.Task, { as = "Assignments",
                                            foreignKey = "assigneeId" })
      seed(b)
      assert.are_not.equal(drafts, jobs)
      assert.equal(drafts, b.User.associations.Drafts)
      assert.equal(jobs, b.User.associations.Assignments)
      b.ann:addDraft(b.wash)
      b.bob:addAssignment(b.wash)
      local row = row_of(b.db, "Tasks", '"authorId", "assigneeId"', 1)
      assert.equal(1, row.authorId)
      assert.equal(2, row.assigneeId)
      assert.same({ 1 }, ids(b.ann:getDrafts()))
      assert.same({}, ids(b.ann:getAssignments()))
      assert.same({ 1 }, ids(b.bob:getAssignments()))
    end)

    it("keeps two belongsToMany between the same models apart", function()
      b.User:belongsToMany(b.Project, { as = "Favorites",
                                        through = "favorites" })
      b.User:belongsToMany(b.Project, { as = "Bookmarks",
                                        through = "bookmarks" })
      seed(b)
      b.ann:addFavorite(b.alpha)
      b.ann:addBookmark(b.beta)
      assert.same({ 1 }, ids(b.ann:getFavorites()))
      assert.same({ 2 }, ids(b.ann:getBookmarks()))
      assert.equal(1, count_rows(b.db, "favorites"))
      assert.equal(1, count_rows(b.db, "bookmarks"))
    end)
  end)

  describe("inflected names [#" .. dialect .. "]", function()
    local b

    before_each(function() b = bare(dialect) end)
    after_each(function() b.db:close() end)

    it("pluralizes Person to People", function()
      local Person = b.db:define("Person", { name = assoc.STRING })
      b.User:hasMany(Person)
      seed(b)
      has_multi(b.ann, "Person", "People")
      assert.equal(0, count_rows(b.db, "People"))
    end)

    it("singularizes as = People to addPerson", function()
      local Person = b.db:define("Person", { name = assoc.STRING })
      local a = b.User:hasMany(Person, { as = "People" })
      seed(b)
      has_multi(b.ann, "Person", "People")
      assert.equal("People", a.as)
      local p = Person:create{ name = "pat" }
      b.ann:addPerson(p)
      assert.same({ p.id }, ids(b.ann:getPeople()))
    end)

    it("pluralizes Category to Categories", function()
      local Category = b.db:define("Category", { label = assoc.STRING })
      b.User:hasMany(Category)
      seed(b)
      has_multi(b.ann, "Category", "Categories")
      assert.equal(0, count_rows(b.db, "Categories"))
      local c = b.ann:createCategory{ label = "x" }
      assert.is_true(b.ann:hasCategory(c))
    end)

    it("pluralizes Box to Boxes", function()
      local Box = b.db:define("Box", { label = assoc.STRING })
      b.User:hasMany(Box)
      seed(b)
      has_multi(b.ann, "Box", "Boxes")
      assert.equal(0, count_rows(b.db, "Boxes"))
    end)

    it("pluralizes Child to Children", function()
      local Child = b.db:define("Child", { name = assoc.STRING })
      b.User:hasMany(Child)
      seed(b)
      has_multi(b.ann, "Child", "Children")
      assert.equal(0, count_rows(b.db, "Children"))
    end)

    it("pluralizes Status to Statuses", function()
      local Status = b.db:define("Status", { label = assoc.STRING })
      b.User:belongsToMany(Status, { through = "user_statuses" })
      seed(b)
      has_multi(b.ann, "Status", "Statuses")
      assert.equal(0, count_rows(b.db, "Statuses"))
    end)

    it("singularizes as = Data to addDatum", function()
      b.User:hasMany(b.Task, { as = "Data" })
      seed(b)
      has_multi(b.ann, "Datum", "Data")
    end)

    it("singularizes as = Statuses to addStatus", function()
      b.User:hasMany(b.Task, { as = "Statuses" })
      seed(b)
      has_multi(b.ann, "Status", "Statuses")
    end)
  end)

  describe("association keys [#" .. dialect .. "]", function()
    local b

    after_each(function() b.db:close() end)

    it("takes foreignKey for hasMany", function()
      b = bare(dialect)
      local a = b.User:hasMany(b.Task, { foreignKey = "ownerId" })
      seed(b)
      assert.equal("ownerId", a.foreignKey)
      assert.is_false(column_exists(b.db, "Tasks", "UserId"))
      b.ann:addTask(b.wash)
      local row = row_of(b.db, "Tasks", '"ownerId"', 1)
      assert.equal(1, row.ownerId)
      assert.same({ 1 }, ids(b.ann:getTasks()))
    end)

    it("takes foreignKey for belongsTo", function()
      b = bare(dialect)
      local a = b.Task:belongsTo(b.User, { foreignKey = "ownerId" })
      seed(b)
      assert.equal("ownerId", a.foreignKey)
      b.wash:setUser(b.bob)
      local row = row_of(b.db, "Tasks", '"ownerId"', 1)
      assert.equal(2, row.ownerId)
      assert.equal("bob", b.wash:getUser().name)
    end)

    it("shares one column between hasMany and belongsTo on one key",
        function()
      b = bare(dialect)
      b.User:hasMany(b.Task, { foreignKey = "ownerId" })
      b.Task:belongsTo(b.User, { foreignKey = "ownerId" })
      seed(b)
      b.ann:addTask(b.wash)
      assert.equal("ann", b.Task:findByPk(1):getUser().name)
      b.code:setUser(b.bob)
      assert.same({ 2 }, ids(b.bob:getTasks()))
    end)

    it("takes foreignKey and otherKey for belongsToMany", function()
      b = bare(dialect)
      local a = b.User:belongsToMany(b.Project, { through = "memberships",
        foreignKey = "memberId", otherKey = "projectRef" })
      seed(b)
      assert.equal("memberId", a.foreignKey)
      b.ann:addProject(b.beta)
      local rows = b.db:query(
        'SELECT "memberId", "projectRef" FROM "memberships"')
      assert.equal(1, #rows)
      assert.equal(1, rows[1].memberId)
      assert.equal(2, rows[1].projectRef)
      local p = b.ann:getProjects()[1]
      assert.equal(2, p.id)
      assert.equal(1, p.memberships.memberId)
    end)

    it("pairs the two sides so their keys meet in one table", function()
      b = bare(dialect)
      b.User:belongsToMany(b.Project, { through = "members",
                                        foreignKey = "userId" })
      b.Project:belongsToMany(b.User, { through = "members",
                                        foreignKey = "projectId" })
      seed(b)
      b.ann:addProject(b.alpha)
      b.beta:addUser(b.bob)
      local rows = b.db:query('SELECT "userId", "projectId" FROM "members"'
        .. ' ORDER BY "userId"')
      assert.equal(2, #rows)
      assert.equal(1, rows[1].userId)
      assert.equal(1, rows[1].projectId)
      assert.equal(2, rows[2].userId)
      assert.equal(2, rows[2].projectId)
      assert.same({ 1 }, ids(b.alpha:getUsers()))
      assert.same({ 2 }, ids(b.bob:getProjects()))
    end)

    it("takes sourceKey for hasMany, storing the source's column", function()
      b = bare(dialect, { code = true })
      b.User:hasMany(b.Task, { foreignKey = "userCode", sourceKey = "code" })
      seed(b)
      b.ann:addTask(b.wash)
      local row = row_of(b.db, "Tasks", '"userCode"', 1)
      assert.equal("A1", row.userCode)
      assert.same({ 1 }, ids(b.ann:getTasks()))
      assert.same({}, ids(b.bob:getTasks()))
    end)

    it("takes targetKey for belongsTo, storing the target's column", function()
      b = bare(dialect, { code = true })
      b.Task:belongsTo(b.User, { foreignKey = "userCode", targetKey = "code" })
      seed(b)
      b.wash:setUser(b.bob)
      local row = row_of(b.db, "Tasks", '"userCode"', 1)
      assert.equal("B2", row.userCode)
      assert.equal("bob", b.Task:findByPk(1):getUser().name)
    end)

    it("names columns user_id when the models are underscored", function()
      b = bare(dialect, { underscored = true })
      local a = b.User:hasMany(b.Task)
      b.Task:belongsTo(b.User)
      seed(b)
      assert.equal("UserId", a.foreignKey)
      b.ann:addTask(b.wash)
      local row = row_of(b.db, "tasks", '"user_id"', 1)
      assert.equal(1, row.user_id)
      assert.equal(1, b.Task:findByPk(1).UserId)
      assert.same({ 1 }, ids(b.ann:getTasks()))
    end)

    it("names join columns user_id and project_id when underscored", function()
      b = bare(dialect, { underscored = true })
      b.User:belongsToMany(b.Project, { through = b.UserProject })
      b.Project:belongsToMany(b.User, { through = b.UserProject })
      seed(b)
      b.ann:addProject(b.beta)
      local rows = b.db:query(
        'SELECT "user_id", "project_id" FROM "user_projects"')
      assert.equal(1, #rows)
      assert.equal(1, rows[1].user_id)
      assert.equal(2, rows[1].project_id)
      assert.same({ 1 }, ids(b.beta:getUsers()))
    end)
  end)

  describe("association definition errors [#" .. dialect .. "]", function()
    local b

    before_each(function() b = bare(dialect) end)
    after_each(function() b.db:close() end)

    it("refuses belongsToMany without through and registers nothing", function()
      local err = fails(function() return b.User:belongsToMany(b.Project) end)
      assert.truthy(tostring(err):find("through", 1, true), tostring(err))
      assert.is_nil(b.User.associations.Projects)
      local a = b.User:belongsToMany(b.Project, { through = b.UserProject })
      assert.equal(a, b.User.associations.Projects)
    end)

    it("refuses a self belongsToMany without as", function()
      local err = fails(function()
        return b.User:belongsToMany(b.User, { through = "friendships" })
      end)
      assert.truthy(tostring(err):find("'as'", 1, true), tostring(err))
      assert.is_nil(b.User.associations.Users)
    end)

    it("refuses the same alias twice and keeps the first", function()
      local first = b.User:hasMany(b.Task, { as = "Jobs" })
      local err = fails(function()
        return b.User:hasMany(b.Task, { as = "Jobs", foreignKey = "bossId" })
      end)
      assert.truthy(tostring(err):find("Jobs", 1, true), tostring(err))
      assert.equal(first, b.User.associations.Jobs)
      seed(b)
      assert.is_false(column_exists(b.db, "Tasks", "bossId"))
      b.ann:addJob(b.wash)
      assert.same({ 1, false }, owners(b.db))
    end)

    it("refuses the same alias on another kind of association", function()
      b.User:hasMany(b.Task, { as = "Jobs" })
      fails(function()
        return b.User:belongsToMany(b.Project, { as = "Jobs",
                                                 through = "jobs" })
      end)
      assert.equal("HasMany", b.User.associations.Jobs.associationType)
    end)

    it("refuses a target that is not a model", function()
      local err = fails(function() return b.User:hasMany({}) end)
      assert.truthy(tostring(err):find("hasMany", 1, true), tostring(err))
      err = fails(function() return b.User:belongsTo("Task") end)
      assert.truthy(tostring(err):find("belongsTo", 1, true), tostring(err))
      err = fails(function() return b.User:hasOne(nil) end)
      assert.truthy(tostring(err):find("hasOne", 1, true), tostring(err))
      err = fails(function()
        return b.User:belongsToMany(42, { through = "x" })
      end)
      assert.truthy(tostring(err):find("belongsToMany", 1, true), tostring(err))
    end)

    it("registers nothing for a target that is not a model", function()
      pcall(function() return b.User:hasMany({}, { as = "Things" }) end)
      assert.is_nil(b.User.associations.Things)
    end)

    it("refuses an alias equal to an attribute of the source", function()
      local err = fails(function()
        return b.User:hasOne(b.Task, { as = "name" })
      end)
      assert.truthy(tostring(err):find("name", 1, true), tostring(err))
      assert.is_nil(b.User.associations.name)
    end)
  end)

  describe("association schema [#" .. dialect .. "]", function()
    local m, db

    before_each(function()
      m = fixture(dialect)
      db = m.db
    end)

    after_each(function() db:close() end)

    it("creates every table, the through table included", function()
      assert.equal(3, count_rows(db, "Users"))
      assert.equal(4, count_rows(db, "Projects"))
      assert.equal(0, count_rows(db, "UserProjects"))
      assert.equal(4, count_rows(db, "Tasks"))
    end)

    it("can force the sync again with the tables in use", function()
      link(db, 1, 1)
      db:sync{ force = true }
      assert.equal(0, count_rows(db, "Users"))
      assert.equal(0, count_rows(db, "UserProjects"))
      assert.equal(0, count_rows(db, "Tasks"))
    end)

    it("gives the through table a composite primary key", function()
      link(db, 1, 2, "dev")
      local err = fails(function() link(db, 1, 2, "lead") end)
      assert.equal("UniqueConstraintError", errname(err))
      assert.same({ "1/2/dev" }, links(db))
    end)

    it("lets the pair repeat with the keys swapped", function()
      link(db, 1, 2)
      link(db, 2, 1)
      assert.same({ "1/2/-", "2/1/-" }, links(db))
    end)

    it("gives the through table no id of its own", function()
      assert.is_false(column_exists(db, "UserProjects", "id"))
    end)

    it("makes the join keys reference their tables", function()
      local err = fails(function() link(db, 1, 99) end)
      assert.equal("ForeignKeyConstraintError", errname(err))
      err = fails(function() link(db, 99, 1) end)
      assert.equal("ForeignKeyConstraintError", errname(err))
      assert.same({}, links(db))
    end)

    it("makes the hasMany key reference the source's table", function()
      local err = fails(function()
        db:query('UPDATE "Tasks" SET "UserId" = ? WHERE "id" = ?', { 99, 4 })
      end)
      assert.equal("ForeignKeyConstraintError", errname(err))
    end)

    it("nulls the tasks' UserId when their user is destroyed", function()
      m.ann:destroy()
      assert.same({ false, false, 2, false }, owners(db))
    end)

    it("deletes the join rows of a destroyed user", function()
      link(db, 1, 1); link(db, 1, 2); link(db, 2, 1)
      m.ann:destroy()
      assert.same({ "2/1/-" }, links(db))
    end)

    it("deletes the join rows of a destroyed project", function()
      link(db, 1, 1); link(db, 1, 2); link(db, 2, 1)
      m.alpha:destroy()
      assert.same({ "1/2/-" }, links(db))
      assert.equal(3, count_rows(db, "Users"))
    end)

    it("cascades a changed user id to tasks and join rows", function()
      link(db, 1, 2)
      db:query('UPDATE "Users" SET "id" = ? WHERE "id" = ?', { 10, 1 })
      assert.same({ 10, 10, 2, false }, owners(db))
      assert.same({ "10/2/-" }, links(db))
    end)
  end)

  describe("association constraint options [#" .. dialect .. "]", function()
    local b

    before_each(function() b = bare(dialect) end)
    after_each(function() b.db:close() end)

    it("deletes the tasks of a destroyed user with onDelete = CASCADE",
        function()
      b.User:hasMany(b.Task, { onDelete = "CASCADE" })
      seed(b)
      b.ann:addTask(b.wash)
      b.ann:destroy()
      assert.equal(1, count_rows(b.db, "Tasks"))
      assert.is_nil(b.Task:findByPk(1))
    end)

    it("refuses to destroy a user with tasks with onDelete = RESTRICT",
        function()
      b.User:hasMany(b.Task, { onDelete = "RESTRICT" })
      seed(b)
      b.ann:addTask(b.wash)
      local err = fails(function() return b.ann:destroy() end)
      assert.equal("ForeignKeyConstraintError", errname(err))
      assert.equal(2, count_rows(b.db, "Users"))
    end)

    it("makes no foreign key with constraints = false", function()
      b.User:hasMany(b.Task, { constraints = false })
      seed(b)
      b.db:query('UPDATE "Tasks" SET "UserId" = ? WHERE "id" = ?', { 99, 2 })
      b.ann:addTask(b.wash)
      b.ann:destroy()
      assert.same({ 1, 99 }, owners(b.db))
    end)

    it("cascades join rows of a string through on both keys", function()
      b.User:belongsToMany(b.Project, { through = "user_projects" })
      seed(b)
      b.ann:addProjects({ b.alpha, b.beta })
      b.bob:addProject(b.alpha)
      b.alpha:destroy()
      assert.equal(1, count_rows(b.db, "user_projects"))
      b.ann:destroy()
      assert.equal(0, count_rows(b.db, "user_projects"))
    end)
  end)
end
