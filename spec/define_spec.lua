-- db:define: attribute types and options, model options, implicit keys and
-- table names.
local helpers = require("helpers")
local assoc = require("assoc")

local keys_of = helpers.keys

for _, dialect in ipairs(helpers.dialects()) do
describe("define [#" .. dialect .. "]", function()
  local db

  before_each(function()
    db = helpers.open(dialect)
  end)

  after_each(function()
    db:close()
  end)

  describe("db:define", function()
    it("returns a model whose instances know it", function()
      local User = db:define("User", { name = assoc.STRING })
      db:sync{ force = true }
      local u = User:create{ name = "ann" }
      assert.are.equal(User, u.Model)
    end)

    it("accepts every column type", function()
      local Thing = db:define("Thing", {
        i = assoc.INTEGER,
        big = assoc.BIGINT,
        r = assoc.REAL,
        f = assoc.FLOAT,
        d = assoc.DOUBLE,
        s = assoc.STRING,
        s10 = assoc.STRING(10),
        t = assoc.TEXT,
        b = assoc.BOOLEAN,
        at = assoc.DATE,
        bin = assoc.BLOB,
        j = assoc.JSON,
      })
      db:sync{ force = true }
      local t = Thing:create{
        i = 1, big = 2, r = 1.5, f = 2.5, d = 3.5, s = "s", s10 = "ten chars!",
        t = "text", b = true, at = "2026-11-22T08:38:44.123Z",
        bin = "\0\1", j = { k = "v" },
      }
      local row = Thing:findByPk(t.id)
      assert.are.equal(1, row.i)
      assert.are.equal(2, row.big)
      assert.are.equal(1.5, row.r)
      assert.are.equal(2.5, row.f)
      assert.are.equal(3.5, row.d)
      assert.are.equal("s", row.s)
      assert.are.equal("ten chars!", row.s10)
      assert.are.equal("text", row.t)
      assert.are.equal(true, row.b)
      assert.are.equal("2026-11-22T08:38:44.123Z", row.at)
      assert.are.equal("\0\1", row.bin)
      assert.are.same({ k = "v" }, row.j)
    end)

    it("accepts a type given alone or as { type = ... }", function()
      local Thing = db:define("Thing", {
        a = assoc.INTEGER,
        b = { type = assoc.INTEGER },
      })
      db:sync{ force = true }
      Thing:create{ a = 1, b = 2 }
      assert.are.same({ { a = 1, b = 2 } },
        db:query('SELECT "a", "b" FROM "Things"'))
    end)

    it("adds an auto-increment id primary key when none is given", function()
      local User = db:define("User", { name = assoc.STRING })
      db:sync{ force = true }
      local a = User:create{ name = "a" }
      local b = User:create{ name = "b" }
      assert.are.equal(1, a.id)
      assert.are.equal(2, b.id)
      assert.are.same({ { id = 1, name = "a" }, { id = 2, name = "b" } },
        db:query('SELECT "id", "name" FROM "Users" ORDER BY "id"'))
    end)

    it("uses a declared primary key instead of an id", function()
      local Item = db:define("Item", {
        code = { type = assoc.STRING, primaryKey = true },
        label = assoc.STRING,
      })
      db:sync{ force = true }
      local item = Item:create{ code = "abc", label = "x" }
      assert.is_nil(item.id)
      assert.are.equal("abc", Item:findByPk("abc").code)
      local row = db:query('SELECT * FROM "Items"')[1]
      assert.is_nil(row.id)
      assert.are.equal("abc", row.code)
    end)

    it("honours primaryKey with autoIncrement on a named column", function()
      local Item = db:define("Item", {
        itemNo = { type = assoc.INTEGER, primaryKey = true,
                   autoIncrement = true },
        label = assoc.STRING,
      })
      db:sync{ force = true }
      local a = Item:create{ label = "a" }
      local b = Item:create{ label = "b" }
      assert.are.equal(1, a.itemNo)
      assert.are.equal(2, b.itemNo)
      assert.are.equal(2, Item:findByPk(2).itemNo)
      assert.are.same({ { itemNo = 1 }, { itemNo = 2 } },
        db:query('SELECT "itemNo" FROM "Items" ORDER BY "itemNo"'))
    end)

    it("makes allowNull = false a NOT NULL column", function()
      db:define("User", { name = { type = assoc.STRING, allowNull = false } })
      db:sync{ force = true }
      local err = helpers.error_of(function()
        db:query('INSERT INTO "Users" ("name", "createdAt", "updatedAt") '
                 .. 'VALUES (?, ?, ?)',
                 { assoc.null, "2026-01-01T00:00:00.000Z",
                   "2026-01-01T00:00:00.000Z" })
      end)
      assert.is_true(assoc.isError(err))
      assert.are.equal(0, db:query('SELECT COUNT(*) AS n FROM "Users"')[1].n)
    end)

    it("makes unique = true a UNIQUE column", function()
      local User = db:define("User", {
        name = { type = assoc.STRING, unique = true },
      })
      db:sync{ force = true }
      User:create{ name = "ann" }
      local err = helpers.error_of(function() User:create{ name = "ann" } end)
      assert.are.equal("UniqueConstraintError", err.name)
      assert.are.equal(1, db:query('SELECT COUNT(*) AS n FROM "Users"')[1].n)
    end)

    it("fills in defaultValue for an attribute not given", function()
      local User = db:define("User", {
        name = assoc.STRING,
        status = { type = assoc.STRING, defaultValue = "active" },
        score = { type = assoc.INTEGER, defaultValue = 7 },
        flag = { type = assoc.BOOLEAN, defaultValue = false },
      })
      db:sync{ force = true }
      local u = User:create{ name = "ann" }
      assert.are.equal("active", u.status)
      assert.are.equal(7, u.score)
      assert.are.equal(false, u.flag)
      local row = db:query('SELECT "status", "score" FROM "Users"')[1]
      assert.are.same({ status = "active", score = 7 }, row)
    end)

    it("lets a given value win over defaultValue", function()
      local User = db:define("User", {
        status = { type = assoc.STRING, defaultValue = "active" },
      })
      db:sync{ force = true }
      local u = User:create{ status = "banned" }
      assert.are.equal("banned", u.status)
      assert.are.same({ { status = "banned" } },
        db:query('SELECT "status" FROM "Users"'))
    end)

    it("shows defaultValue on a built instance before it is saved", function()
      local User = db:define("User", {
        status = { type = assoc.STRING, defaultValue = "active" },
      })
      db:sync{ force = true }
      local u = User:build{}
      assert.are.equal("active", u.status)
    end)

    it("raises for an attribute without a valid type", function()
      assert.has_error(function()
        db:define("Bad", { x = { type = "weird" } })
      end)
      assert.has_error(function()
        db:define("Bad2", { x = { allowNull = false } })
      end)
    end)

    it("raises a bad argument error for attributes that are not a table",
       function()
      local err = helpers.error_of(function() db:define("User", 42) end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("table expected", 1, true))
      assert.truthy(err:find("number", 1, true))
    end)

    it("raises a bad argument error for a name that is not a string",
       function()
      local err = helpers.error_of(function() db:define(42, {}) end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("string expected", 1, true))
    end)

    it("raises when a model name is defined twice", function()
      db:define("User", { name = assoc.STRING })
      assert.has_error(function()
        db:define("User", { name = assoc.STRING })
      end)
    end)
  end)

  describe("table names", function()
    it("defaults to the plural of the model name", function()
      local User = db:define("User", { name = assoc.STRING })
      local Category = db:define("Category", { name = assoc.STRING })
      local Person = db:define("Person", { name = assoc.STRING })
      db:sync{ force = true }
      User:create{ name = "u" }
      Category:create{ name = "c" }
      Person:create{ name = "p" }
      assert.are.same({ { name = "u" } }, db:query('SELECT "name" FROM "Users"'))
      assert.are.same({ { name = "c" } },
        db:query('SELECT "name" FROM "Categories"'))
      assert.are.same({ { name = "p" } },
        db:query('SELECT "name" FROM "People"'))
    end)

    it("uses opts.tableName verbatim", function()
      local User = db:define("User", { name = assoc.STRING },
                             { tableName = "members" })
      db:sync{ force = true }
      User:create{ name = "ann" }
      assert.are.same({ { name = "ann" } },
        db:query('SELECT "name" FROM "members"'))
    end)
  end)

  describe("opts.timestamps", function()
    it("adds createdAt and updatedAt columns by default", function()
      local User = db:define("User", { name = assoc.STRING })
      db:sync{ force = true }
      local u = User:create{ name = "ann" }
      assert.is_string(u.createdAt)
      assert.is_string(u.updatedAt)
      local row = db:query('SELECT "createdAt", "updatedAt" FROM "Users"')[1]
      assert.is_not_nil(row.createdAt)
      assert.is_not_nil(row.updatedAt)
    end)

    it("adds no timestamp columns with timestamps = false", function()
      local Tag = db:define("Tag", { name = assoc.STRING },
                            { timestamps = false })
      db:sync{ force = true }
      local t = Tag:create{ name = "x" }
      assert.is_nil(t.createdAt)
      assert.is_nil(t.updatedAt)
      assert.are.same({ "id", "name" },
        keys_of(db:query('SELECT * FROM "Tags"')[1]))
    end)
  end)

  describe("opts.underscored", function()
    it("names the timestamp columns created_at and updated_at", function()
      local User = db:define("User", { name = assoc.STRING },
                             { underscored = true })
      db:sync{ force = true }
      local u = User:create{ name = "ann" }
      assert.is_string(u.createdAt)
      assert.is_string(u.updatedAt)
      local row = db:query('SELECT * FROM "users"')[1]
      assert.is_not_nil(row.created_at)
      assert.is_not_nil(row.updated_at)
      assert.is_nil(row.createdAt)
    end)

    it("stores camelCase attributes in snake_case columns", function()
      local User = db:define("User", {
        firstName = assoc.STRING,
        userId = assoc.INTEGER,
      }, { underscored = true, timestamps = false })
      db:sync{ force = true }
      local u = User:create{ firstName = "Ann", userId = 9 }
      assert.are.equal("Ann", u.firstName)
      assert.are.equal(9, u.userId)
      assert.are.same({ { first_name = "Ann", user_id = 9 } },
        db:query('SELECT "first_name", "user_id" FROM "users"'))
      local found = User:findOne{ where = { userId = 9 } }
      assert.are.equal("Ann", found.firstName)
    end)

    it("snake-cases the default table name", function()
      local Profile = db:define("UserProfile", { bio = assoc.STRING },
                                { underscored = true })
      db:sync{ force = true }
      Profile:create{ bio = "hi" }
      assert.are.same({ { bio = "hi" } },
        db:query('SELECT "bio" FROM "user_profiles"'))
    end)
  end)

  describe("opts.scopes and opts.defaultScope", function()
    it("are accepted and applied", function()
      local User = db:define("User", {
        name = assoc.STRING,
        age = assoc.INTEGER,
        status = { type = assoc.STRING, defaultValue = "active" },
      }, {
        scopes = { adults = { where = { age = { gte = 18 } } } },
        defaultScope = { where = { status = "active" } },
      })
      db:sync{ force = true }
      User:create{ name = "kid", age = 5 }
      User:create{ name = "old", age = 50, status = "gone" }
      User:create{ name = "adult", age = 30 }
      assert.are.equal(2, User:count())
      assert.are.equal(2, #User:scope("adults"):findAll())
      assert.are.equal(3, User:unscoped():count())
    end)
  end)
end)
end
