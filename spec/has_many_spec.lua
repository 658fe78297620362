-- hasMany accessors (User has Tasks): every argument shape, the rows they
-- leave behind, and the misuse errors.  API.md "Accessors", SEMANTICS.md
-- sections 1, 4 and 13.
local helpers = require("helpers")
local assoc = require("assoc")

local fx = require("association_fixture")
local STAMP, fixture, links, link, owners = fx.STAMP, fx.fixture, fx.links,
  fx.link, fx.owners
local ids, seq, count_rows, writes = fx.ids, fx.seq, fx.count_rows, fx.writes
local fails, bad_argument, errname = fx.fails, fx.bad_argument, fx.errname

for _, dialect in ipairs(helpers.dialects()) do
  describe("hasMany [#" .. dialect .. "]", function()
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

    describe("getTasks", function()
      it("returns the tasks whose UserId is the source's key", function()
        assert.same({ 1, 2 }, ids(ann:getTasks()))
        assert.same({ 3 }, ids(bob:getTasks()))
      end)

      it("returns an empty array when nothing is linked", function()
        local list = cid:getTasks()
        assert.equal("table", type(list))
        assert.equal(0, #list)
      end)

      it("returns Task instances carrying the foreign key", function()
        local list = bob:getTasks()
        assert.equal(1, #list)
        assert.equal("read", list[1].title)
        assert.equal(2, list[1].UserId)
        assert.is_false(list[1]:isNewRecord())
        assert.truthy(tostring(list[1]):find("Task", 1, true))
      end)

      it("fills in default values", function()
        assert.is_false(bob:getTasks()[1].done)
      end)

      it("filters with where", function()
        assert.same({ 2 }, ids(ann:getTasks{ where = { title = "cook" } }))
      end)

      it("filters with where on a boolean attribute", function()
        cook:update{ done = true }
        assert.same({ 2 }, ids(ann:getTasks{ where = { done = true } }))
        assert.same({ 1 }, ids(ann:getTasks{ where = { done = false } }))
      end)

      it("orders with order", function()
        local desc = ann:getTasks{ order = { { "title", "DESC" } } }
        local asc = ann:getTasks{ order = { { "title", "ASC" } } }
        assert.same({ 1, 2 }, seq(desc))
        assert.same({ 2, 1 }, seq(asc))
      end)

      it("pages with limit and offset", function()
        assert.same({ 1 }, seq(ann:getTasks{ order = { "id" }, limit = 1 }))
        assert.same({ 2 }, seq(ann:getTasks{ order = { "id" }, limit = 1,
                                              offset = 1 }))
      end)

      it("selects only the given attributes", function()
        local list = bob:getTasks{ attributes = { "id", "title" } }
        assert.equal("read", list[1].title)
        assert.is_nil(list[1].done)
      end)

      it("does not see a task moved away by a raw update", function()
        db:query('UPDATE "Tasks" SET "UserId" = ? WHERE "id" = ?', { 2, 1 })
        assert.same({ 2 }, ids(ann:getTasks()))
      end)

      it("raises an error naming the source when it is unsaved", function()
        local ghost = User:build{ name = "x" }
        local err = fails(function() return ghost:getTasks() end)
        assert.truthy(tostring(err):find("User", 1, true), tostring(err))
      end)
    end)

    describe("countTasks", function()
      it("counts the linked tasks as an integer", function()
        local n = ann:countTasks()
        assert.equal(2, n)
        assert.equal("integer", math.type(n))
      end)

      it("answers 0 when nothing is linked", function()
        assert.equal(0, cid:countTasks())
      end)

      it("filters with where", function()
        assert.equal(1, ann:countTasks{ where = { title = "wash" } })
        assert.equal(0, ann:countTasks{ where = { title = "read" } })
      end)

      it("raises an error for an unsaved source", function()
        fails(function() return User:build{ name = "x" }:countTasks() end)
      end)
    end)

    describe("hasTask", function()
      it("is true for a linked instance", function()
        assert.is_true(ann:hasTask(wash))
      end)

      it("is false for a task of another owner", function()
        assert.is_false(ann:hasTask(read))
      end)

      it("is false for a task with no owner", function()
        assert.is_false(ann:hasTask(code))
      end)

      it("takes a primary key", function()
        assert.is_true(ann:hasTask(2))
        assert.is_false(ann:hasTask(3))
      end)

      it("converts a key given as a string", function()
        assert.is_true(ann:hasTask("1"))
      end)

      it("is false for a key that names no row", function()
        assert.is_false(ann:hasTask(999))
      end)

      it("sends no write", function()
        ann:hasTask(wash)
        assert.equal(0, writes(log))
      end)

      it("rejects nil", function()
        bad_argument(fails(function() return ann:hasTask(nil) end), "hasTask")
      end)

      it("rejects a boolean", function()
        bad_argument(fails(function() return ann:hasTask(true) end),
          "hasTask", "got boolean")
      end)

      it("rejects an instance of another model, naming Task", function()
        bad_argument(fails(function() return ann:hasTask(alpha) end),
          "hasTask", "Task")
      end)

      it("rejects an unsaved instance", function()
        bad_argument(fails(function()
          return ann:hasTask(Task:build{ title = "new" })
        end), "hasTask")
      end)
    end)

    describe("hasTasks", function()
      it("is true when every task is linked", function()
        assert.is_true(ann:hasTasks({ wash, cook }))
      end)

      it("is false when one of them is not linked", function()
        assert.is_false(ann:hasTasks({ wash, read }))
      end)

      it("takes a mix of instances and keys", function()
        assert.is_true(ann:hasTasks({ wash, 2 }))
        assert.is_false(ann:hasTasks({ wash, 4 }))
      end)

      it("counts a task listed twice once", function()
        assert.is_true(ann:hasTasks({ wash, wash }))
        assert.is_true(ann:hasTasks({ 1, "1" }))
      end)

      it("is true for an empty list", function()
        assert.is_true(ann:hasTasks({}))
      end)

      it("rejects a list holding a wrong value", function()
        bad_argument(fails(function() return ann:hasTasks({ wash, true }) end),
          "hasTasks")
      end)

      it("raises an error for an unsaved source", function()
        fails(function() return User:build{ name = "x" }:hasTasks({ 1 }) end)
      end)
    end)

    describe("addTask", function()
      it("links a task with no owner and returns nothing", function()
        assert.is_nil(ann:addTask(code))
        assert.same({ 1, 1, 2, 1 }, owners(db))
      end)

      it("takes a primary key", function()
        ann:addTask(4)
        assert.same({ 1, 1, 2, 1 }, owners(db))
      end)

      it("converts a key given as a string", function()
        ann:addTask("4")
        assert.same({ 1, 1, 2, 1 }, owners(db))
        assert.is_true(ann:hasTask(4))
      end)

      it("moves a task from another owner", function()
        ann:addTask(read)
        assert.same({ 1, 1, 1, false }, owners(db))
        assert.equal(0, bob:countTasks())
      end)

      it("leaves an already linked task linked", function()
        ann:addTask(wash)
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("is a no-op for a key that names no row", function()
        assert.is_nil(ann:addTask(999))
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("does not touch the task's other attributes", function()
        ann:addTask(code)
        local row = db:query('SELECT "title" FROM "Tasks" WHERE "id" = ?',
          { 4 })[1]
        assert.equal("code", row.title)
      end)

      it("rejects nil", function()
        bad_argument(fails(function() return ann:addTask(nil) end), "addTask")
      end)

      it("rejects a boolean before any SQL", function()
        bad_argument(fails(function() return ann:addTask(true) end),
          "addTask", "Task instance or primary key expected, got boolean")
        assert.equal(0, writes(log))
      end)

      it("rejects a plain table", function()
        bad_argument(fails(function() return ann:addTask({ id = 4 }) end),
          "addTask")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects an instance of another model, naming Task", function()
        bad_argument(fails(function() return ann:addTask(alpha) end),
          "addTask", "Task instance")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects an unsaved instance", function()
        bad_argument(fails(function()
          return ann:addTask(Task:build{ title = "new" })
        end), "addTask")
        assert.equal(4, count_rows(db, "Tasks"))
      end)

      it("raises an error for an unsaved source and writes nothing", function()
        local ghost = User:build{ name = "x" }
        local err = fails(function() return ghost:addTask(code) end)
        assert.truthy(tostring(err):find("User", 1, true), tostring(err))
        assert.same({ 1, 1, 2, false }, owners(db))
      end)
    end)

    describe("addTasks", function()
      it("links several tasks", function()
        assert.is_nil(cid:addTasks({ read, code }))
        assert.same({ 1, 1, 3, 3 }, owners(db))
      end)

      it("takes a mix of instances, keys and string keys", function()
        cid:addTasks({ wash, 3, "4" })
        assert.same({ 3, 1, 3, 3 }, owners(db))
      end)

      it("accepts a task listed twice", function()
        cid:addTasks({ code, code, 4, "4" })
        assert.same({ 1, 1, 2, 3 }, owners(db))
      end)

      it("is a no-op for an empty list", function()
        assert.is_nil(cid:addTasks({}))
        assert.same({ 1, 1, 2, false }, owners(db))
        assert.equal(0, writes(log))
      end)

      it("links the existing ones and ignores keys that name no row", function()
        cid:addTasks({ 4, 999 })
        assert.same({ 1, 1, 2, 3 }, owners(db))
      end)

      it("rejects a list with a wrong value and links none of it", function()
        bad_argument(fails(function() return cid:addTasks({ code, true }) end),
          "addTasks")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects a list with an unsaved instance, linking none", function()
        bad_argument(fails(function()
          return cid:addTasks({ code, Task:build{ title = "new" } })
        end), "addTasks")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)
    end)

    describe("setTasks", function()
      it("makes exactly the given tasks linked and returns nothing", function()
        assert.is_nil(ann:setTasks({ cook, code }))
        assert.same({ false, 1, 2, 1 }, owners(db))
      end)

      it("takes keys and string keys", function()
        ann:setTasks({ 2, "4" })
        assert.same({ false, 1, 2, 1 }, owners(db))
      end)

      it("accepts a single instance", function()
        ann:setTasks(code)
        assert.same({ false, false, 2, 1 }, owners(db))
      end)

      it("unlinks everything for nil", function()
        ann:setTasks(nil)
        assert.same({ false, false, 2, false }, owners(db))
      end)

      it("unlinks everything for an empty list", function()
        ann:setTasks({})
        assert.same({ false, false, 2, false }, owners(db))
      end)

      it("moves a task from another owner", function()
        ann:setTasks({ read })
        assert.same({ false, false, 1, false }, owners(db))
        assert.equal(0, bob:countTasks())
      end)

      it("leaves the same list as it was", function()
        ann:setTasks({ wash, cook })
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("accepts a task listed twice", function()
        ann:setTasks({ code, code, "4" })
        assert.same({ false, false, 2, 1 }, owners(db))
      end)

      it("ignores keys that name no row", function()
        ann:setTasks({ 1, 999 })
        assert.same({ 1, false, 2, false }, owners(db))
      end)

      it("rejects a wrong value and changes nothing", function()
        bad_argument(fails(function() return ann:setTasks({ code, true }) end),
          "setTasks")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects an instance of another model and changes nothing", function()
        bad_argument(fails(function() return ann:setTasks({ alpha }) end),
          "setTasks", "Task")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("raises an error for an unsaved source and changes nothing", function()
        fails(function() return User:build{ name = "x" }:setTasks({ code }) end)
        assert.same({ 1, 1, 2, false }, owners(db))
      end)
    end)

    describe("removeTask", function()
      it("sets the task's foreign key to NULL and returns nothing", function()
        assert.is_nil(ann:removeTask(wash))
        assert.same({ false, 1, 2, false }, owners(db))
      end)

      it("takes a primary key and a string key", function()
        ann:removeTask(1)
        ann:removeTask("2")
        assert.same({ false, false, 2, false }, owners(db))
      end)

      it("keeps the task row", function()
        ann:removeTask(wash)
        assert.equal(4, count_rows(db, "Tasks"))
      end)

      it("only unlinks tasks owned by this source", function()
        ann:removeTask(read)
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("is a no-op for a task that is not linked", function()
        ann:removeTask(code)
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("is a no-op for a key that names no row", function()
        ann:removeTask(999)
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects nil", function()
        bad_argument(fails(function() return ann:removeTask(nil) end),
          "removeTask")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects an instance of another model, naming Task", function()
        bad_argument(fails(function() return ann:removeTask(alpha) end),
          "removeTask", "Task")
      end)

      it("rejects an unsaved instance", function()
        bad_argument(fails(function()
          return ann:removeTask(Task:build{ title = "new" })
        end), "removeTask")
      end)

      it("raises an error for an unsaved source", function()
        fails(function() return User:build{ name = "x" }:removeTask(wash) end)
        assert.same({ 1, 1, 2, false }, owners(db))
      end)
    end)

    describe("removeTasks", function()
      it("unlinks several tasks", function()
        assert.is_nil(ann:removeTasks({ wash, 2 }))
        assert.same({ false, false, 2, false }, owners(db))
      end)

      it("skips the ones owned by others", function()
        ann:removeTasks({ wash, read })
        assert.same({ false, 1, 2, false }, owners(db))
      end)

      it("accepts a task listed twice", function()
        ann:removeTasks({ wash, wash, "1" })
        assert.same({ false, 1, 2, false }, owners(db))
      end)

      it("is a no-op for an empty list", function()
        ann:removeTasks({})
        assert.same({ 1, 1, 2, false }, owners(db))
        assert.equal(0, writes(log))
      end)

      it("rejects a list with a wrong value and unlinks none of it", function()
        bad_argument(fails(function()
          return ann:removeTasks({ wash, true })
        end), "removeTasks")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)
    end)

    describe("createTask", function()
      it("inserts a task linked to the source and returns it", function()
        local t = cid:createTask{ title = "new" }
        assert.equal(5, t.id)
        assert.equal("new", t.title)
        assert.equal(3, t.UserId)
        assert.is_false(t:isNewRecord())
        assert.same({ 1, 1, 2, false, 3 }, owners(db))
      end)

      it("returns the stored row with defaults filled in", function()
        local t = cid:createTask{ title = "new" }
        assert.is_false(t.done)
      end)

      it("overrides a foreign key given in the values", function()
        local t = cid:createTask{ title = "new", UserId = 1 }
        assert.equal(3, t.UserId)
        assert.same({ 1, 1, 2, false, 3 }, owners(db))
      end)

      it("accepts empty values", function()
        local t = cid:createTask({})
        assert.equal(3, t.UserId)
        assert.equal(1, cid:countTasks())
      end)

      it("raises an error for an unsaved source and inserts nothing", function()
        local ghost = User:build{ name = "x" }
        fails(function() return ghost:createTask{ title = "new" } end)
        assert.equal(4, count_rows(db, "Tasks"))
      end)

      it("makes the new task visible to getTasks", function()
        cid:createTask{ title = "new" }
        assert.same({ 5 }, ids(cid:getTasks()))
      end)
    end)
  end)
end
