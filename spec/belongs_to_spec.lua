-- belongsTo accessors (Task belongs to User): get trusts the in-memory key,
-- set saves only the key, create returns the new target.  SEMANTICS.md 6.
local helpers = require("helpers")
local assoc = require("assoc")

local fx = require("association_fixture")
local STAMP, fixture, links, link, owners = fx.STAMP, fx.fixture, fx.links,
  fx.link, fx.owners
local ids, seq, count_rows, writes = fx.ids, fx.seq, fx.count_rows, fx.writes
local fails, bad_argument, errname = fx.fails, fx.bad_argument, fx.errname

for _, dialect in ipairs(helpers.dialects()) do
  describe("belongsTo [#" .. dialect .. "]", function()
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

    describe("getUser", function()
      it("returns the user the foreign key names", function()
        local u = wash:getUser()
        assert.equal(1, u.id)
        assert.equal("ann", u.name)
      end)

      it("returns a User instance", function()
        local u = read:getUser()
        assert.equal("bob", u.name)
        assert.is_false(u:isNewRecord())
        assert.truthy(tostring(u):find("User", 1, true))
      end)

      it("returns nil when the foreign key is nil", function()
        assert.is_nil(code:getUser())
      end)

      it("sends no statement when the foreign key is nil", function()
        log.reset()
        code:getUser()
        assert.equal(0, log.count())
      end)

      it("reads the in-memory key, saved or not", function()
        wash.UserId = 2
        assert.equal("bob", wash:getUser().name)
      end)

      it("trusts the in-memory key over a raw change in the table", function()
        db:query('UPDATE "Tasks" SET "UserId" = ? WHERE "id" = ?', { 3, 1 })
        assert.equal("ann", wash:getUser().name)
        assert.equal("cid", Task:findByPk(1):getUser().name)
      end)

      it("works on a task fetched with findAll", function()
        local t = Task:findAll{ where = { title = "read" } }[1]
        assert.equal("bob", t:getUser().name)
      end)
    end)

    describe("setUser", function()
      it("stores the user's key in the source row", function()
        wash:setUser(bob)
        assert.same({ 2, 1, 2, false }, owners(db))
      end)

      it("updates the key on the instance", function()
        wash:setUser(bob)
        assert.equal(2, wash.UserId)
        assert.equal("bob", wash:getUser().name)
      end)

      it("links a task that had no owner", function()
        code:setUser(cid)
        assert.same({ 1, 1, 2, 3 }, owners(db))
      end)

      it("takes a primary key", function()
        wash:setUser(3)
        assert.same({ 3, 1, 2, false }, owners(db))
      end)

      it("converts a key given as a string", function()
        wash:setUser("2")
        assert.same({ 2, 1, 2, false }, owners(db))
        assert.equal(2, wash.UserId)
        assert.equal("integer", math.type(wash.UserId))
      end)

      it("unlinks for nil", function()
        wash:setUser(nil)
        assert.same({ false, 1, 2, false }, owners(db))
        assert.is_nil(wash.UserId)
        assert.is_nil(wash:getUser())
      end)

      it("saves only the foreign key", function()
        wash.title = "dirty"
        wash:setUser(bob)
        local row = db:query(
          'SELECT "title", "UserId" FROM "Tasks" WHERE "id" = ?', { 1 })[1]
        assert.equal("wash", row.title)
        assert.equal(2, row.UserId)
      end)

      it("makes the task visible to the new owner's hasMany", function()
        wash:setUser(cid)
        assert.is_true(cid:hasTask(wash))
        assert.is_false(ann:hasTask(wash))
      end)

      it("raises ForeignKeyConstraintError for a key naming no user", function()
        local err = fails(function() return wash:setUser(999) end)
        assert.equal("ForeignKeyConstraintError", errname(err))
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects a boolean", function()
        bad_argument(fails(function() return wash:setUser(true) end),
          "setUser", "got boolean")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects an instance of another model, naming User", function()
        bad_argument(fails(function() return wash:setUser(alpha) end),
          "setUser", "User")
        assert.same({ 1, 1, 2, false }, owners(db))
      end)

      it("rejects an unsaved user", function()
        bad_argument(fails(function()
          return wash:setUser(User:build{ name = "dan" })
        end), "setUser")
        assert.equal(3, count_rows(db, "Users"))
      end)

      it("raises an error for an unsaved source", function()
        fails(function() return Task:build{ title = "new" }:setUser(ann) end)
        assert.equal(4, count_rows(db, "Tasks"))
      end)
    end)

    describe("createUser", function()
      it("creates the user and returns it", function()
        local u = code:createUser{ name = "dan" }
        assert.equal(4, u.id)
        assert.equal("dan", u.name)
        assert.is_false(u:isNewRecord())
        assert.equal(4, count_rows(db, "Users"))
      end)

      it("links the source to the new user", function()
        code:createUser{ name = "dan" }
        assert.same({ 1, 1, 2, 4 }, owners(db))
        assert.equal(4, code.UserId)
      end)

      it("replaces an existing owner", function()
        wash:createUser{ name = "dan" }
        assert.same({ 4, 1, 2, false }, owners(db))
        assert.equal("dan", wash:getUser().name)
      end)

      it("raises an error for an unsaved source and creates no user", function()
        local ghost = Task:build{ title = "new" }
        fails(function() return ghost:createUser{ name = "dan" } end)
        assert.equal(3, count_rows(db, "Users"))
      end)
    end)
  end)
end
