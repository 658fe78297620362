-- db:transaction: the callback form, savepoints, the explicit form with
-- commit/rollback/<close>, and opts.transaction checks.
local helpers = require("helpers")
local assoc = require("assoc")

for _, dialect in ipairs(helpers.dialects()) do
describe("transaction [#" .. dialect .. "]", function()
  local db, User

  before_each(function()
    db = helpers.open(dialect)
    User = db:define("User", {
      name = { type = assoc.STRING, allowNull = false, unique = true },
    })
    db:sync{ force = true }
  end)

  after_each(function()
    db:close()
  end)

  local function stored()
    local out = {}
    for i, r in ipairs(db:query('SELECT "name" FROM "Users" ORDER BY "id"')) do
      out[i] = r.name
    end
    return out
  end

  describe("db:transaction(fn)", function()
    it("commits when the function returns", function()
      db:transaction(function(t)
        User:create({ name = "a" }, { transaction = t })
        User:create({ name = "b" }, { transaction = t })
      end)
      assert.are.same({ "a", "b" }, stored())
    end)

    it("returns the function's results", function()
      local a, b, c = db:transaction(function() return 1, "two", nil end)
      assert.are.equal(1, a)
      assert.are.equal("two", b)
      assert.is_nil(c)
      local u = db:transaction(function(t)
        return User:create({ name = "x" }, { transaction = t })
      end)
      assert.are.equal("x", u.name)
    end)

    it("rolls back and re-raises the same error", function()
      local sentinel = { "boom" }
      local ok, err = pcall(db.transaction, db, function(t)
        User:create({ name = "a" }, { transaction = t })
        error(sentinel)
      end)
      assert.is_false(ok)
      assert.are.equal(sentinel, err)
      assert.are.same({}, stored())
    end)

    it("re-raises a string error unchanged", function()
      local ok, err = pcall(db.transaction, db, function()
        User:create{ name = "a" }
        error("plain failure", 0)
      end)
      assert.is_false(ok)
      assert.are.equal("plain failure", err)
      assert.are.same({}, stored())
    end)

    it("rolls back on a database error inside it", function()
      local err = helpers.error_of(function()
        db:transaction(function(t)
          User:create({ name = "a" }, { transaction = t })
          User:create({ name = "a" }, { transaction = t })
        end)
      end)
      assert.are.equal("UniqueConstraintError", err.name)
      assert.are.same({}, stored())
    end)

    it("runs calls without opts.transaction inside it too", function()
      pcall(db.transaction, db, function()
        User:create{ name = "a" }
        db:query('INSERT INTO "Users" ("name", "createdAt", "updatedAt") '
                 .. 'VALUES (?, ?, ?)', { "raw", "2026-01-01T00:00:00.000Z",
                                          "2026-01-01T00:00:00.000Z" })
        error("undo")
      end)
      assert.are.same({}, stored())
    end)

    it("sees its own uncommitted writes", function()
      db:transaction(function(t)
        User:create({ name = "a" }, { transaction = t })
        assert.are.equal(1, User:count{ transaction = t })
        assert.are.equal("a", User:findOne{ where = { name = "a" },
                                            transaction = t }.name)
      end)
    end)

    it("leaves the database usable after a rollback", function()
      pcall(db.transaction, db, function() error("x") end)
      User:create{ name = "after" }
      assert.are.same({ "after" }, stored())
    end)

    -- On PostgreSQL a failed statement aborts the transaction; assoc undoes
    -- only the statement, whether it was the transaction's first (nothing
    -- to keep: ROLLBACK and begin again) or came after other work (a
    -- savepoint around it).
    it("stays usable when its first statement fails and is caught",
       function()
      User:create{ name = "taken" }
      db:transaction(function()
        local ok, err = pcall(User.create, User, { name = "taken" })
        assert.is_false(ok)
        assert.are.equal("UniqueConstraintError", err.name)
        User:create{ name = "a" }
        local ok2 = pcall(User.create, User, { name = "a" })
        assert.is_false(ok2)
        User:create{ name = "b" }
      end)
      assert.are.same({ "taken", "a", "b" }, stored())
    end)

    it("still rolls back everything after a caught first failure",
       function()
      User:create{ name = "taken" }
      local ok = pcall(db.transaction, db, function()
        assert.is_false(pcall(User.create, User, { name = "taken" }))
        User:create{ name = "a" }
        error("then fails")
      end)
      assert.is_false(ok)
      assert.are.same({ "taken" }, stored())
    end)

    it("keeps earlier work when a later statement fails and is caught",
       function()
      db:transaction(function()
        User:create{ name = "a" }
        assert.is_false(pcall(User.create, User, { name = "a" }))
        assert.are.same({ "a" }, stored())
        User:create{ name = "b" }
      end)
      assert.are.same({ "a", "b" }, stored())
    end)
  end)

  describe("nested db:transaction(fn)", function()
    it("commits inner and outer work together", function()
      db:transaction(function()
        User:create{ name = "outer" }
        db:transaction(function() User:create{ name = "inner" } end)
      end)
      assert.are.same({ "outer", "inner" }, stored())
    end)

    it("keeps the outer work when an inner failure is caught", function()
      db:transaction(function()
        User:create{ name = "outer" }
        local ok = pcall(db.transaction, db, function()
          User:create{ name = "inner" }
          error("inner fails")
        end)
        assert.is_false(ok)
        User:create{ name = "after" }
      end)
      assert.are.same({ "outer", "after" }, stored())
    end)

    it("keeps the outer transaction usable after an inner database error",
       function()
      db:transaction(function()
        User:create{ name = "a" }
        local ok, err = pcall(db.transaction, db, function()
          User:create{ name = "a" }
        end)
        assert.is_false(ok)
        assert.are.equal("UniqueConstraintError", err.name)
        User:create{ name = "b" }
      end)
      assert.are.same({ "a", "b" }, stored())
    end)

    it("keeps the outer work when an inner one's first statement fails",
       function()
      db:transaction(function()
        User:create{ name = "a" }
        db:transaction(function()
          assert.is_false(pcall(User.create, User, { name = "a" }))
          User:create{ name = "b" }
        end)
      end)
      assert.are.same({ "a", "b" }, stored())
    end)

    it("rolls back the inner work with the outer", function()
      pcall(db.transaction, db, function()
        db:transaction(function() User:create{ name = "inner" } end)
        error("outer fails")
      end)
      assert.are.same({}, stored())
    end)
  end)

  describe("explicit transactions", function()
    it("commits with t:commit()", function()
      local t <close> = db:transaction()
      User:create({ name = "a" }, { transaction = t })
      t:commit()
      assert.are.same({ "a" }, stored())
    end)

    it("undoes the work with t:rollback()", function()
      local t <close> = db:transaction()
      User:create({ name = "a" }, { transaction = t })
      t:rollback()
      assert.are.same({}, stored())
      User:create{ name = "b" }
      assert.are.same({ "b" }, stored())
    end)

    it("rolls back when closed while open", function()
      do
        local t <close> = db:transaction()
        User:create({ name = "a" }, { transaction = t })
      end
      assert.are.same({}, stored())
    end)

    it("keeps committed work when closed after commit", function()
      do
        local t <close> = db:transaction()
        User:create({ name = "a" }, { transaction = t })
        t:commit()
      end
      assert.are.same({ "a" }, stored())
    end)

    it("rolls back when an error unwinds past its <close> variable",
       function()
      pcall(function()
        local t <close> = db:transaction()
        User:create({ name = "a" }, { transaction = t })
        error("unwind")
      end)
      assert.are.same({}, stored())
      User:create{ name = "b" }
      assert.are.same({ "b" }, stored())
    end)

    it("nests as a savepoint inside an open one", function()
      local outer <close> = db:transaction()
      User:create{ name = "outer" }
      local inner = db:transaction()
      User:create{ name = "inner" }
      inner:rollback()
      outer:commit()
      assert.are.same({ "outer" }, stored())
    end)

    it("refuses to commit an outer one while an inner one is open",
       function()
      local outer <close> = db:transaction()
      local inner <close> = db:transaction()
      local err = helpers.error_of(function() outer:commit() end)
      assert.are.equal("TransactionError", err.name)
      inner:rollback()
      outer:commit()
    end)

    it("rolls back when an open one is garbage collected", function()
      do
        local t = db:transaction()
        User:create({ name = "a" }, { transaction = t })
      end
      collectgarbage()
      collectgarbage()
      assert.are.same({}, stored())
      User:create{ name = "b" }
      assert.are.same({ "b" }, stored())
    end)

    it("raises an error saying closed when used after db:close", function()
      local t = db:transaction()
      User:create({ name = "a" }, { transaction = t })
      db:close()
      local err = helpers.error_of(function() t:rollback() end)
      assert.truthy(tostring(err):find("closed", 1, true))
    end)

    it("raises a TransactionError when committed twice", function()
      local t <close> = db:transaction()
      t:commit()
      local err = helpers.error_of(function() t:commit() end)
      assert.are.equal("TransactionError", err.name)
    end)
  end)

  describe("opts.transaction", function()
    it("raises a TransactionError for a committed transaction", function()
      local t <close> = db:transaction()
      t:commit()
      local err = helpers.error_of(function()
        User:create({ name = "late" }, { transaction = t })
      end)
      assert.are.equal("TransactionError", err.name)
      assert.is_true(assoc.isError(err, "TransactionError"))
      assert.are.same({}, stored())
    end)

    it("raises a TransactionError for a rolled-back transaction", function()
      local t <close> = db:transaction()
      t:rollback()
      local err = helpers.error_of(function()
        User:findAll{ transaction = t }
      end)
      assert.are.equal("TransactionError", err.name)
    end)

    it("raises for a transaction of another database", function()
      local other = assoc.open(helpers.url(dialect))
      local t = other:transaction()
      local err = helpers.error_of(function()
        User:create({ name = "x" }, { transaction = t })
      end)
      assert.is_not_nil(err)
      t:rollback()
      other:close()
      assert.are.same({}, stored())
    end)

    it("is taken by every model method", function()
      User:create{ name = "a" }
      db:transaction(function(t)
        local o = { transaction = t }
        local b = User:create({ name = "b" }, o)
        User:bulkCreate({ { name = "c" }, { name = "d" } }, o)
        assert.are.equal(4, User:count(o))
        assert.are.equal(4, #User:findAll(o))
        assert.are.equal("b", User:findByPk(b.id, o).name)
        assert.are.equal(1, User:update({ name = "B" },
          { where = { name = "b" }, transaction = t }))
        assert.are.equal(1, User:destroy{ where = { name = "d" },
                                          transaction = t })
        b:update({ name = "BB" }, o)
        b:reload(o)
        assert.are.equal("BB", b.name)
      end)
      assert.are.same({ "a", "BB", "c" }, stored())
    end)

    it("undoes every model method's work on rollback", function()
      User:create{ name = "a" }
      local t = db:transaction()
      local o = { transaction = t }
      User:create({ name = "b" }, o)
      User:update({ name = "A" }, { where = { name = "a" }, transaction = t })
      User:bulkCreate({ { name = "c" } }, o)
      t:rollback()
      assert.are.same({ "a" }, stored())
    end)
  end)
end)
end
