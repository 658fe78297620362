-- Named scopes, the default scope, and Model:unscoped.
local helpers = require("helpers")
local assoc = require("assoc")

local function names(list)
  local out = {}
  for i, inst in ipairs(list) do out[i] = inst.name end
  table.sort(out)
  return out
end

for _, dialect in ipairs(helpers.dialects()) do
describe("scopes [#" .. dialect .. "]", function()
  local db, User

  before_each(function()
    db = helpers.open(dialect)
    User = db:define("User", {
      name = { type = assoc.STRING, allowNull = false },
      age = assoc.INTEGER,
      status = { type = assoc.STRING, defaultValue = "active" },
    }, {
      scopes = {
        adults = { where = { age = { gte = 18 } } },
        named_a = { where = { name = { like = "a%" } } },
      },
      defaultScope = { where = { status = "active" } },
    })
    db:sync{ force = true }
    -- ann 30 active, amy 10 active, bob 40 banned, cid 20 active
    User:create{ name = "ann", age = 30 }
    User:create{ name = "amy", age = 10 }
    User:create{ name = "bob", age = 40, status = "banned" }
    User:create{ name = "cid", age = 20 }
  end)

  after_each(function()
    db:close()
  end)

  describe("defaultScope", function()
    it("filters findAll", function()
      assert.are.same({ "amy", "ann", "cid" }, names(User:findAll()))
    end)

    it("filters count", function()
      assert.are.equal(3, User:count())
    end)

    it("filters findOne", function()
      assert.is_nil(User:findOne{ where = { name = "bob" } })
    end)

    it("filters findByPk", function()
      assert.is_nil(User:findByPk(3))
      assert.are.equal("ann", User:findByPk(1).name)
    end)

    it("is ANDed with the query's where", function()
      assert.are.same({ "ann", "cid" },
        names(User:findAll{ where = { age = { gte = 18 } } }))
    end)

    it("does not stop create from storing other values", function()
      User:create{ name = "dee", status = "banned" }
      assert.are.equal(2, db:query('SELECT COUNT(*) AS n FROM "Users" '
        .. 'WHERE "status" = ?', { "banned" })[1].n)
    end)
  end)

  describe("Model:unscoped", function()
    it("drops the default scope for findAll and count", function()
      local all = User:unscoped()
      assert.are.same({ "amy", "ann", "bob", "cid" }, names(all:findAll()))
      assert.are.equal(4, all:count())
    end)

    it("finds rows the default scope hides", function()
      assert.are.equal("bob", User:unscoped():findByPk(3).name)
      assert.are.equal("bob",
        User:unscoped():findOne{ where = { name = "bob" } }.name)
    end)

    it("leaves the model itself scoped", function()
      User:unscoped()
      assert.are.equal(3, User:count())
    end)

    it("returns instances of the model", function()
      local u = User:unscoped():findByPk(3)
      assert.are.equal(User, u.Model)
      u.age = 41
      u:save()
      assert.are.same({ { age = 41 } },
        db:query('SELECT "age" FROM "Users" WHERE "id" = ?', { 3 }))
    end)

    it("updates rows the default scope hides", function()
      assert.are.equal(4, User:unscoped():update({ age = 1 }, { where = {} }))
      assert.are.same({ { n = 4 } },
        db:query('SELECT COUNT(*) AS n FROM "Users" WHERE "age" = ?', { 1 }))
    end)
  end)

  describe("Model:scope", function()
    it("applies a named scope instead of the default scope", function()
      assert.are.same({ "ann", "bob", "cid" },
        names(User:scope("adults"):findAll()))
    end)

    it("applies a named scope to count", function()
      assert.are.equal(3, User:scope("adults"):count())
    end)

    it("ANDs the scope with the query's where", function()
      assert.are.same({ "bob" },
        names(User:scope("adults"):findAll{ where = { age = { gt = 35 } } }))
    end)

    it("merges several scopes", function()
      assert.are.same({ "ann" },
        names(User:scope("adults", "named_a"):findAll()))
    end)

    it("includes the default scope when asked for by name", function()
      assert.are.same({ "ann", "cid" },
        names(User:scope("defaultScope", "adults"):findAll()))
    end)

    it("applies the scope to destroy", function()
      assert.are.equal(2, User:scope("named_a"):destroy{ where = {} })
      assert.are.same({ { name = "bob" }, { name = "cid" } },
        db:query('SELECT "name" FROM "Users" ORDER BY "id"'))
    end)

    it("applies the scope to update", function()
      assert.are.equal(1, User:scope("adults"):update({ status = "x" },
        { where = { age = { lt = 25 } } }))
      assert.are.same({ { name = "cid" } },
        db:query('SELECT "name" FROM "Users" WHERE "status" = ?', { "x" }))
    end)

    it("leaves the model itself unchanged", function()
      User:scope("adults")
      assert.are.same({ "amy", "ann", "cid" }, names(User:findAll()))
    end)

    it("raises for an unknown scope name", function()
      local err = helpers.error_of(function() User:scope("nope") end)
      assert.truthy(tostring(err):find("nope", 1, true))
    end)

    it("gives a view that can create instances of the model", function()
      local u = User:scope("adults"):create{ name = "eve", age = 50 }
      assert.are.equal(User, u.Model)
      assert.are.equal(5, u.id)
      assert.are.equal(5, db:query('SELECT COUNT(*) AS n FROM "Users"')[1].n)
    end)
  end)

  describe("the default scope on update and destroy", function()
    it("keeps Model:update from touching hidden rows", function()
      assert.are.equal(3, User:update({ age = 0 }, { where = {} }))
      assert.are.same({ { age = 40 } },
        db:query('SELECT "age" FROM "Users" WHERE "name" = ?', { "bob" }))
    end)

    it("keeps Model:destroy from deleting hidden rows", function()
      assert.are.equal(3, User:destroy{ where = {} })
      assert.are.same({ { name = "bob" } },
        db:query('SELECT "name" FROM "Users"'))
    end)
  end)
end)
end
