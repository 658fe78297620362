-- Model:update and Model:destroy: results, what they touch, timestamps.
local helpers = require("helpers")
local assoc = require("assoc")

for _, dialect in ipairs(helpers.dialects()) do
describe("update and destroy [#" .. dialect .. "]", function()
  local db, User

  before_each(function()
    db = helpers.open(dialect)
    User = db:define("User", {
      name = { type = assoc.STRING, allowNull = false },
      age = assoc.INTEGER,
    })
    db:sync{ force = true }
    User:create{ name = "ann", age = 30 }
    User:create{ name = "bob", age = 20 }
    User:create{ name = "cid", age = 20 }
  end)

  after_each(function()
    db:close()
  end)

  local function ages()
    local out = {}
    for i, r in ipairs(db:query('SELECT "age" FROM "Users" ORDER BY "id"')) do
      out[i] = r.age == nil and "nil" or r.age
    end
    return out
  end

  local function stored_names()
    local out = {}
    for i, r in ipairs(db:query('SELECT "name" FROM "Users" ORDER BY "id"')) do
      out[i] = r.name
    end
    return out
  end

  describe("Model:update", function()
    it("returns the number of rows changed", function()
      local n = User:update({ age = 21 }, { where = { age = 20 } })
      assert.are.equal(2, n)
      assert.are.equal("integer", math.type(n))
    end)

    it("changes only the matching rows", function()
      User:update({ age = 21 }, { where = { age = 20 } })
      assert.are.same({ 30, 21, 21 }, ages())
    end)

    it("returns 0 when nothing matches and changes nothing", function()
      assert.are.equal(0, User:update({ age = 1 }, { where = { name = "zed" } }))
      assert.are.same({ 30, 20, 20 }, ages())
    end)

    it("writes several attributes", function()
      User:update({ name = "ANN", age = 31 }, { where = { id = 1 } })
      assert.are.same({ "ANN", "bob", "cid" }, stored_names())
      assert.are.same({ 31, 20, 20 }, ages())
    end)

    it("writes assoc.null as NULL", function()
      User:update({ age = assoc.null }, { where = { name = "bob" } })
      assert.are.same({ 30, "nil", 20 }, ages())
    end)

    it("sets updatedAt on the changed rows", function()
      db:query('UPDATE "Users" SET "updatedAt" = ?',
               { "2000-01-01T00:00:00.000Z" })
      User:update({ age = 5 }, { where = { id = 2 } })
      local u1, u2 = User:findByPk(1), User:findByPk(2)
      assert.are.equal("2000-01-01T00:00:00.000Z", u1.updatedAt)
      assert.is_true(u2.updatedAt > "2001")
    end)

    it("updates every row for an empty where", function()
      assert.are.equal(3, User:update({ age = 0 }, { where = {} }))
      assert.are.same({ 0, 0, 0 }, ages())
    end)

    it("raises without a where and changes nothing", function()
      assert.has_error(function() User:update({ age = 0 }) end)
      assert.are.same({ 30, 20, 20 }, ages())
    end)

    it("raises a ValidationError for a NULL in a NOT NULL attribute",
       function()
      local err = helpers.error_of(function()
        User:update({ name = assoc.null }, { where = { id = 1 } })
      end)
      assert.are.equal("ValidationError", err.name)
      assert.are.same({ "ann", "bob", "cid" }, stored_names())
    end)

    it("does not change instances already in memory", function()
      local u = User:findByPk(1)
      User:update({ age = 99 }, { where = { id = 1 } })
      assert.are.equal(30, u.age)
      u:reload()
      assert.are.equal(99, u.age)
    end)
  end)

  describe("Model:destroy", function()
    it("returns the number of rows deleted", function()
      local n = User:destroy{ where = { age = 20 } }
      assert.are.equal(2, n)
      assert.are.equal("integer", math.type(n))
    end)

    it("deletes only the matching rows", function()
      User:destroy{ where = { age = 20 } }
      assert.are.same({ "ann" }, stored_names())
    end)

    it("returns 0 when nothing matches and deletes nothing", function()
      assert.are.equal(0, User:destroy{ where = { name = "zed" } })
      assert.are.same({ "ann", "bob", "cid" }, stored_names())
    end)

    it("takes operators in where", function()
      assert.are.equal(1, User:destroy{ where = { age = { gt = 25 } } })
      assert.are.same({ "bob", "cid" }, stored_names())
    end)

    it("deletes every row for an empty where", function()
      assert.are.equal(3, User:destroy{ where = {} })
      assert.are.same({}, stored_names())
    end)

    it("raises without a where and deletes nothing", function()
      assert.has_error(function() User:destroy() end)
      assert.has_error(function() User:destroy{} end)
      assert.are.same({ "ann", "bob", "cid" }, stored_names())
    end)
  end)
end)
end
