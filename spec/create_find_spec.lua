-- Model:create, build + save, and the finders findAll, findOne, findByPk
-- and count with where, attributes, order, limit and offset.
local helpers = require("helpers")
local assoc = require("assoc")

local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"

local function names(list)
  local out = {}
  for i, inst in ipairs(list) do out[i] = inst.name end
  return out
end

for _, dialect in ipairs(helpers.dialects()) do
describe("create and find [#" .. dialect .. "]", function()
  local db, User

  before_each(function()
    db = helpers.open(dialect)
    User = db:define("User", {
      name = { type = assoc.STRING, allowNull = false },
      age = assoc.INTEGER,
      status = { type = assoc.STRING, defaultValue = "active" },
    })
    db:sync{ force = true }
  end)

  after_each(function()
    db:close()
  end)

  -- ann 30, bob 20, cid 40, dan 20 (ids 1..4)
  local function seed()
    User:create{ name = "ann", age = 30 }
    User:create{ name = "bob", age = 20 }
    User:create{ name = "cid", age = 40 }
    User:create{ name = "dan", age = 20 }
  end

  describe("Model:create", function()
    it("returns a saved instance with its generated id", function()
      local u = User:create{ name = "ann", age = 30 }
      assert.are.equal(1, u.id)
      assert.are.equal("integer", math.type(u.id))
      assert.are.equal("ann", u.name)
      assert.are.equal(30, u.age)
      assert.is_false(u:isNewRecord())
      assert.are.same({ { id = 1, name = "ann", age = 30 } },
        db:query('SELECT "id", "name", "age" FROM "Users"'))
    end)

    it("numbers successive rows 1, 2, 3", function()
      local a = User:create{ name = "a" }
      local b = User:create{ name = "b" }
      local c = User:create{ name = "c" }
      assert.are.same({ 1, 2, 3 }, { a.id, b.id, c.id })
      assert.are.same({ { id = 1 }, { id = 2 }, { id = 3 } },
        db:query('SELECT "id" FROM "Users" ORDER BY "id"'))
    end)

    it("returns the stored row, defaults included", function()
      local u = User:create{ name = "ann" }
      assert.are.equal("active", u.status)
      assert.is_nil(u.age)
      assert.are.same({ { status = "active" } },
        db:query('SELECT "status" FROM "Users"'))
    end)

    it("sets createdAt and updatedAt to the current time", function()
      local before = os.date("!%Y-%m-%dT%H:%M:%S", os.time() - 1)
      local u = User:create{ name = "ann" }
      local after = os.date("!%Y-%m-%dT%H:%M:%S", os.time() + 1)
      assert.matches(ISO, u.createdAt)
      assert.matches(ISO, u.updatedAt)
      assert.is_true(u.createdAt >= before and u.createdAt <= after .. "Z")
      assert.are.equal(1, db:query('SELECT COUNT(*) AS n FROM "Users" '
        .. 'WHERE "createdAt" IS NOT NULL AND "updatedAt" IS NOT NULL')[1].n)
    end)

    it("stores an explicitly given primary key", function()
      local u = User:create{ id = 10, name = "ten" }
      assert.are.equal(10, u.id)
      assert.are.same({ { id = 10 } }, db:query('SELECT "id" FROM "Users"'))
    end)

    it("stores assoc.null as NULL", function()
      local u = User:create{ name = "ann", age = assoc.null }
      assert.is_nil(u.age)
      assert.is_nil(db:query('SELECT "age" FROM "Users"')[1].age)
    end)

    it("raises a bad argument error for nil values", function()
      local err = helpers.error_of(function() User:create(nil) end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("create", 1, true))
      assert.truthy(err:find("table expected, got nil", 1, true))
    end)

    it("raises a bad argument error for a number", function()
      local err = helpers.error_of(function() User:create(42) end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("table expected, got number", 1, true))
      assert.are.equal(0, db:query('SELECT COUNT(*) AS n FROM "Users"')[1].n)
    end)
  end)

  describe("Model:build", function()
    it("returns an unsaved instance and writes nothing", function()
      local u = User:build{ name = "ann" }
      assert.is_true(u:isNewRecord())
      assert.are.equal("ann", u.name)
      assert.is_nil(u.id)
      assert.are.equal(0, db:query('SELECT COUNT(*) AS n FROM "Users"')[1].n)
    end)

    it("inserts the row on save", function()
      local u = User:build{ name = "ann", age = 3 }
      local saved = u:save()
      assert.are.equal(u, saved)
      assert.is_false(u:isNewRecord())
      assert.are.equal(1, u.id)
      assert.are.equal("active", u.status)
      assert.are.same({ { id = 1, name = "ann", age = 3 } },
        db:query('SELECT "id", "name", "age" FROM "Users"'))
    end)

    it("inserts values assigned after build", function()
      local u = User:build{ name = "ann" }
      u.age = 44
      u:save()
      assert.are.same({ { age = 44 } }, db:query('SELECT "age" FROM "Users"'))
    end)
  end)

  describe("Model:findAll", function()
    it("returns every row without a query", function()
      seed()
      local all = User:findAll()
      assert.are.equal(4, #all)
      table.sort(all, function(a, b) return a.id < b.id end)
      assert.are.same({ "ann", "bob", "cid", "dan" }, names(all))
    end)

    it("returns an empty array when no row matches", function()
      seed()
      local none = User:findAll{ where = { name = "zed" } }
      assert.are.equal("table", type(none))
      assert.are.equal(0, #none)
    end)

    it("filters by where", function()
      seed()
      local found = User:findAll{ where = { age = 20 }, order = { "id" } }
      assert.are.same({ "bob", "dan" }, names(found))
    end)

    it("returns instances that are not new records", function()
      seed()
      local u = User:findAll{ where = { name = "ann" } }[1]
      assert.is_false(u:isNewRecord())
      assert.are.equal(User, u.Model)
    end)

    it("selects only the listed attributes", function()
      seed()
      local u = User:findAll{ attributes = { "id", "name" },
                              where = { name = "ann" } }[1]
      assert.are.equal(1, u.id)
      assert.are.equal("ann", u.name)
      assert.is_nil(u.age)
      assert.is_nil(u.status)
    end)

    it("orders by a plain attribute name ascending", function()
      seed()
      assert.are.same({ "bob", "dan", "ann", "cid" },
        names(User:findAll{ order = { "age", "id" } }))
    end)

    it("orders by { attribute, 'DESC' } pairs", function()
      seed()
      assert.are.same({ "cid", "ann", "dan", "bob" },
        names(User:findAll{ order = { { "age", "DESC" }, { "name", "DESC" } } }))
    end)

    it("mixes pairs and names in order", function()
      seed()
      assert.are.same({ "cid", "ann", "bob", "dan" },
        names(User:findAll{ order = { { "age", "DESC" }, "id" } }))
    end)

    it("limits the number of rows", function()
      seed()
      assert.are.same({ "ann", "bob" },
        names(User:findAll{ order = { "id" }, limit = 2 }))
    end)

    it("skips rows with offset", function()
      seed()
      assert.are.same({ "cid" },
        names(User:findAll{ order = { "id" }, limit = 1, offset = 2 }))
    end)

    it("skips rows with offset and no limit", function()
      seed()
      assert.are.same({ "cid", "dan" },
        names(User:findAll{ order = { "id" }, offset = 2 }))
    end)

    it("raises for an order on an unknown attribute", function()
      seed()
      local err = helpers.error_of(function()
        User:findAll{ order = { "nope" } }
      end)
      assert.truthy(tostring(err):find("nope", 1, true))
    end)

    it("raises for an order direction other than ASC or DESC", function()
      seed()
      local err = helpers.error_of(function()
        User:findAll{ order = { { "id", "; DROP TABLE \"Users\"" } } }
      end)
      assert.truthy(tostring(err):find("DESC", 1, true))
      assert.are.equal(4, User:count())
    end)

    it("raises for a limit that is not a non-negative integer", function()
      seed()
      assert.has_error(function() User:findAll{ limit = "1; DELETE" } end)
      assert.has_error(function() User:findAll{ limit = -1 } end)
      assert.has_error(function() User:findAll{ offset = 1.5 } end)
      -- a numeric string is a type mistake too, not a count
      local err = helpers.error_of(function() User:findAll{ limit = "2" } end)
      assert.truthy(tostring(err):find("got string", 1, true))
      assert.has_error(function() User:findAll{ offset = "1" } end)
      assert.are.equal(4, User:count())
    end)

    it("raises for an unknown attribute in attributes", function()
      local err = helpers.error_of(function()
        User:findAll{ attributes = { "id", "nope" } }
      end)
      assert.truthy(tostring(err):find("nope", 1, true))
    end)

    it("raises a bad argument error for a string query", function()
      local err = helpers.error_of(function() User:findAll("x") end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("findAll", 1, true))
      assert.truthy(err:find("table expected, got string", 1, true))
    end)
  end)

  describe("Model:findOne", function()
    it("returns the first matching instance", function()
      seed()
      local u = User:findOne{ where = { age = 20 }, order = { { "id", "DESC" } } }
      assert.are.equal("dan", u.name)
      assert.are.equal(4, u.id)
    end)

    it("returns nil when nothing matches", function()
      seed()
      assert.is_nil(User:findOne{ where = { name = "zed" } })
    end)

    it("works without a query", function()
      User:create{ name = "only" }
      assert.are.equal("only", User:findOne().name)
    end)
  end)

  describe("Model:findByPk", function()
    it("returns the instance with that key", function()
      seed()
      local u = User:findByPk(3)
      assert.are.equal("cid", u.name)
      assert.are.equal(3, u.id)
    end)

    it("returns nil for a missing key", function()
      seed()
      assert.is_nil(User:findByPk(99))
    end)

    it("converts a key given as a string", function()
      seed()
      assert.are.equal("bob", User:findByPk("2").name)
    end)

    it("takes a query with attributes", function()
      seed()
      local u = User:findByPk(1, { attributes = { "id", "age" } })
      assert.are.equal(30, u.age)
      assert.is_nil(u.name)
    end)

    it("raises a bad argument error for a nil key", function()
      local err = helpers.error_of(function() User:findByPk(nil) end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("findByPk", 1, true))
      assert.truthy(err:find("nil", 1, true))
    end)
  end)

  describe("Model:count", function()
    it("counts every row as an integer", function()
      seed()
      local n = User:count()
      assert.are.equal(4, n)
      assert.are.equal("integer", math.type(n))
    end)

    it("counts the rows matching where", function()
      seed()
      assert.are.equal(2, User:count{ where = { age = 20 } })
      assert.are.equal(0, User:count{ where = { name = "zed" } })
    end)

    it("counts 0 in an empty table", function()
      local n = User:count()
      assert.are.equal(0, n)
      assert.are.equal("integer", math.type(n))
    end)
  end)
end)
end
