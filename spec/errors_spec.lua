-- Error objects (names, message, sql, errors, tostring), assoc.isError, the
-- bad argument strings of misuse, and the database after each error.
local helpers = require("helpers")
local assoc = require("assoc")

for _, dialect in ipairs(helpers.dialects()) do
describe("errors [#" .. dialect .. "]", function()
  local db, User

  before_each(function()
    db = helpers.open(dialect)
    User = db:define("User", {
      name = { type = assoc.STRING, allowNull = false, unique = true },
      age = assoc.INTEGER,
    })
    db:sync{ force = true }
    User:create{ name = "ann", age = 30 }
  end)

  after_each(function()
    db:close()
  end)

  local function stored()
    return db:query('SELECT "id", "name", "age" FROM "Users" ORDER BY "id"')
  end

  -- Raw tables with a foreign key, and a model over the child table.
  local function make_fk_tables()
    db:query('CREATE TABLE "Parents" ("id" INTEGER PRIMARY KEY)')
    db:query('CREATE TABLE "Kids" ("id" INTEGER PRIMARY KEY, '
             .. '"parentId" INTEGER REFERENCES "Parents" ("id"))')
    db:query('INSERT INTO "Parents" ("id") VALUES (?)', { 1 })
    return db:define("Kid", {
      id = { type = assoc.INTEGER, primaryKey = true },
      parentId = assoc.INTEGER,
    }, { tableName = "Kids", timestamps = false })
  end

  describe("UniqueConstraintError", function()
    it("is raised for a duplicate value in a unique column", function()
      local err = helpers.error_of(function() User:create{ name = "ann" } end)
      assert.are.equal("UniqueConstraintError", err.name)
      assert.is_string(err.message)
      assert.is_string(err.sql)
    end)

    it("leaves the database usable and unchanged", function()
      local before = stored()
      pcall(User.create, User, { name = "ann" })
      assert.are.same(before, stored())
      User:create{ name = "bob" }
      assert.are.equal(2, User:count())
    end)

    it("is raised by an UPDATE that makes a duplicate", function()
      User:create{ name = "bob" }
      local err = helpers.error_of(function()
        User:update({ name = "ann" }, { where = { name = "bob" } })
      end)
      assert.are.equal("UniqueConstraintError", err.name)
      assert.are.same({ { name = "ann" }, { name = "bob" } },
        db:query('SELECT "name" FROM "Users" ORDER BY "id"'))
    end)

    it("is raised for a raw INSERT of a duplicate key", function()
      db:query('CREATE TABLE "k" ("id" INTEGER PRIMARY KEY)')
      db:query('INSERT INTO "k" ("id") VALUES (?)', { 1 })
      local err = helpers.error_of(function()
        db:query('INSERT INTO "k" ("id") VALUES (?)', { 1 })
      end)
      assert.are.equal("UniqueConstraintError", err.name)
    end)
  end)

  describe("ForeignKeyConstraintError", function()
    it("is raised by a raw insert of a missing parent", function()
      make_fk_tables()
      local err = helpers.error_of(function()
        db:query('INSERT INTO "Kids" ("id", "parentId") VALUES (?, ?)',
                 { 1, 99 })
      end)
      assert.are.equal("ForeignKeyConstraintError", err.name)
      assert.are.same({}, db:query('SELECT "id" FROM "Kids"'))
    end)

    it("is raised by a model create with a missing parent", function()
      local Kid = make_fk_tables()
      Kid:create{ id = 1, parentId = 1 }
      local err = helpers.error_of(function()
        Kid:create{ id = 2, parentId = 99 }
      end)
      assert.are.equal("ForeignKeyConstraintError", err.name)
      assert.are.same({ { id = 1 } }, db:query('SELECT "id" FROM "Kids"'))
    end)

    it("is raised when deleting a referenced parent", function()
      make_fk_tables()
      db:query('INSERT INTO "Kids" ("id", "parentId") VALUES (?, ?)', { 1, 1 })
      local err = helpers.error_of(function()
        db:query('DELETE FROM "Parents" WHERE "id" = ?', { 1 })
      end)
      assert.are.equal("ForeignKeyConstraintError", err.name)
      assert.are.same({ { id = 1 } }, db:query('SELECT "id" FROM "Parents"'))
    end)
  end)

  describe("ValidationError", function()
    it("is raised for a missing allowNull = false attribute", function()
      local err = helpers.error_of(function() User:create{ age = 1 } end)
      assert.are.equal("ValidationError", err.name)
      assert.is_string(err.message)
      assert.are.equal("table", type(err.errors))
      assert.are.equal("name", err.errors[1].path)
      assert.is_string(err.errors[1].message)
    end)

    it("is raised for assoc.null in an allowNull = false attribute",
       function()
      local err = helpers.error_of(function()
        User:create{ name = assoc.null }
      end)
      assert.are.equal("ValidationError", err.name)
      assert.are.equal("name", err.errors[1].path)
    end)

    it("is raised before any statement and writes nothing", function()
      local n = 0
      local ldb = helpers.open(dialect, { logging = function() n = n + 1 end })
      local M = ldb:define("M", { x = { type = assoc.INTEGER,
                                        allowNull = false } })
      ldb:sync{ force = true }
      n = 0
      assert.has_error(function() M:create{} end)
      assert.are.equal(0, n)
      ldb:close()
    end)

    it("is raised when saving an instance with the attribute cleared",
       function()
      local u = User:findByPk(1)
      local err = helpers.error_of(function()
        u.name = assoc.null
        u:save()
      end)
      assert.are.equal("ValidationError", err.name)
      assert.are.same({ { id = 1, name = "ann", age = 30 } }, stored())
    end)
  end)

  describe("DatabaseError", function()
    it("is raised for a bad raw query and carries its sql", function()
      local sql = 'SELECT "x" FROM "no_such_table"'
      local err = helpers.error_of(function() db:query(sql) end)
      assert.are.equal("DatabaseError", err.name)
      assert.is_string(err.message)
      assert.truthy(err.sql:find("no_such_table", 1, true))
    end)

    it("is raised for a syntax error", function()
      local err = helpers.error_of(function() db:query("SELEKT 1") end)
      assert.are.equal("DatabaseError", err.name)
    end)

    it("is not a UniqueConstraintError for a NOT NULL violation", function()
      local err = helpers.error_of(function()
        db:query('INSERT INTO "Users" ("name", "createdAt", "updatedAt") '
                 .. 'VALUES (?, ?, ?)', { assoc.null,
                   "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z" })
      end)
      assert.is_true(assoc.isError(err))
      assert.are_not.equal("UniqueConstraintError", err.name)
    end)

    it("leaves the database usable and unchanged", function()
      pcall(db.query, db, "SELEKT 1")
      assert.are.same({ { id = 1, name = "ann", age = 30 } }, stored())
      User:create{ name = "bob" }
      assert.are.equal(2, User:count())
    end)
  end)

  describe("error objects", function()
    it("print as name: message", function()
      local err = helpers.error_of(function() User:create{ name = "ann" } end)
      assert.are.equal(err.name .. ": " .. err.message, tostring(err))
    end)

    it("print as name: message for a ValidationError", function()
      local err = helpers.error_of(function() User:create{} end)
      assert.are.equal("ValidationError: " .. err.message, tostring(err))
    end)

    it("have no sql when no statement failed", function()
      local err = helpers.error_of(function() User:create{} end)
      assert.is_nil(err.sql)
    end)
  end)

  describe("assoc.isError", function()
    it("is true for an error object", function()
      local err = helpers.error_of(function() User:create{ name = "ann" } end)
      assert.is_true(assoc.isError(err))
    end)

    it("is true when the name matches", function()
      local err = helpers.error_of(function() User:create{} end)
      assert.is_true(assoc.isError(err, "ValidationError"))
    end)

    it("is false when the name differs", function()
      local err = helpers.error_of(function() User:create{} end)
      assert.is_false(assoc.isError(err, "DatabaseError"))
    end)

    it("is false for strings, nil and look-alike tables", function()
      assert.is_false(assoc.isError("x"))
      assert.is_false(assoc.isError(nil))
      assert.is_false(assoc.isError(42))
      assert.is_false(assoc.isError({ name = "ValidationError",
                                      message = "fake" }))
    end)

    it("is false for a bad argument error", function()
      local err = helpers.error_of(function() User:create(42) end)
      assert.is_false(assoc.isError(err))
    end)
  end)

  describe("after any error", function()
    it("the database is usable and unchanged", function()
      local Kid = make_fk_tables()
      local before = stored()
      local failing = {
        function() User:create{ name = "ann" } end,
        function() User:create{} end,
        function() Kid:create{ id = 1, parentId = 99 } end,
        function() db:query("SELEKT 1") end,
        function() User:create(42) end,
        function() User:findAll{ where = { nope = 1 } } end,
        function() db:transaction(function() error("x") end) end,
      }
      for i, fn in ipairs(failing) do
        assert.is_false(pcall(fn), "call " .. i .. " should fail")
        assert.are.same(before, stored())
      end
      User:create{ name = "bob" }
      Kid:create{ id = 1, parentId = 1 }
      assert.are.equal(2, User:count())
      assert.are.same({ { id = 1 } }, db:query('SELECT "id" FROM "Kids"'))
    end)
  end)

  describe("misuse", function()
    it("raises a string for create(nil)", function()
      local err = helpers.error_of(function() User:create(nil) end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("table expected, got nil", 1, true))
    end)

    it("raises a string for create(42)", function()
      local err = helpers.error_of(function() User:create(42) end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument #1", 1, true))
      assert.truthy(err:find("table expected, got number", 1, true))
    end)

    it("raises a string for findAll('x')", function()
      local err = helpers.error_of(function() User:findAll("x") end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("got string", 1, true))
    end)

    it("raises a string for findByPk(nil)", function()
      local err = helpers.error_of(function() User:findByPk(nil) end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("got nil", 1, true))
    end)

    it("raises a string for define with a non-table", function()
      local err = helpers.error_of(function() db:define("X", "nope") end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument #2", 1, true))
      assert.truthy(err:find("table expected, got string", 1, true))
    end)

    it("raises a string when a method is called with a bad self", function()
      local err = helpers.error_of(function() User.findAll(42) end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad", 1, true))
    end)

    it("leaves the database usable", function()
      pcall(User.create, User, nil)
      pcall(User.findAll, User, "x")
      assert.are.same({ { id = 1, name = "ann", age = 30 } }, stored())
      User:create{ name = "bob" }
      assert.are.equal(2, User:count())
    end)
  end)
end)
end
