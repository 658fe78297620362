-- Attribute validators: the built-in ones, custom functions, the error they
-- raise, and that a failed validation writes nothing.
local helpers = require("helpers")
local assoc = require("assoc")

for _, dialect in ipairs(helpers.dialects()) do
describe("validators [#" .. dialect .. "]", function()
  local db, log

  before_each(function()
    log = helpers.logger()
    db = helpers.open(dialect, { logging = log.fn })
  end)

  after_each(function()
    db:close()
  end)

  -- A model with one STRING (or typ) attribute "v" carrying validate.
  local function model(validate, typ)
    local M = db:define("Item", {
      v = { type = typ or assoc.STRING, validate = validate },
      other = assoc.STRING,
    })
    db:sync{ force = true }
    log.reset()
    return M
  end

  local function stored_count()
    return db:query('SELECT COUNT(*) AS n FROM "Items"')[1].n
  end

  -- Assert creating with value v fails validation on "v" by validator name.
  local function assert_rejects(M, v, validator)
    local err = helpers.error_of(function() M:create{ v = v } end)
    assert.are.equal("ValidationError", err.name)
    assert.are.equal("v", err.errors[1].path)
    if validator then
      assert.are.equal(validator, err.errors[1].validator)
    end
    assert.are.equal(0, stored_count())
    return err
  end

  local function assert_accepts(M, v)
    local inst = M:create{ v = v }
    assert.are.equal(v, inst.v)
    assert.are.equal(1, db:query('SELECT COUNT(*) AS n FROM "Items" '
      .. 'WHERE "id" = ?', { inst.id })[1].n)
  end

  describe("notEmpty", function()
    it("rejects the empty string", function()
      assert_rejects(model{ notEmpty = true }, "", "notEmpty")
    end)

    it("accepts a non-empty string", function()
      assert_accepts(model{ notEmpty = true }, "x")
    end)
  end)

  describe("len", function()
    it("rejects a string shorter than the minimum", function()
      assert_rejects(model{ len = { 2, 4 } }, "a", "len")
    end)

    it("rejects a string longer than the maximum", function()
      assert_rejects(model{ len = { 2, 4 } }, "abcde", "len")
    end)

    it("accepts lengths at both bounds", function()
      local M = model{ len = { 2, 4 } }
      assert_accepts(M, "ab")
      assert_accepts(M, "abcd")
    end)

    it("accepts 64 characters under { 1, 64 } and rejects 65", function()
      local M = model{ len = { 1, 64 } }
      assert_accepts(M, string.rep("x", 64))
      local err = helpers.error_of(function()
        M:create{ v = string.rep("x", 65) }
      end)
      assert.are.equal("ValidationError", err.name)
      assert.are.equal(1, stored_count())
    end)
  end)

  describe("min and max", function()
    it("reject a number below min", function()
      assert_rejects(model({ min = 0, max = 150 }, assoc.INTEGER), -1, "min")
    end)

    it("reject a number above max", function()
      assert_rejects(model({ min = 0, max = 150 }, assoc.INTEGER), 151, "max")
    end)

    it("accept the bounds themselves", function()
      local M = model({ min = 0, max = 150 }, assoc.INTEGER)
      assert_accepts(M, 0)
      assert_accepts(M, 150)
    end)
  end)

  describe("isIn", function()
    it("rejects a value outside a flat list", function()
      assert_rejects(model{ isIn = { "a", "b" } }, "c", "isIn")
    end)

    it("accepts a value of a flat list", function()
      assert_accepts(model{ isIn = { "a", "b" } }, "b")
    end)

    it("takes Sequelize's nested form too", function()
      local M = model{ isIn = { { "a", "b" } } }
      assert_rejects(M, "z", "isIn")
      assert_accepts(M, "a")
    end)
  end)

  describe("isEmail", function()
    it("accepts an address", function()
      assert_accepts(model{ isEmail = true }, "ann@example.com")
    end)

    it("rejects a string that is not an address", function()
      local M = model{ isEmail = true }
      assert_rejects(M, "not an email", "isEmail")
      assert_rejects(M, "a@", "isEmail")
    end)
  end)

  describe("isInt", function()
    it("accepts an integer in a string", function()
      assert_accepts(model{ isInt = true }, "-12")
    end)

    it("rejects a decimal or a word", function()
      local M = model{ isInt = true }
      assert_rejects(M, "1.5", "isInt")
      assert_rejects(M, "twelve", "isInt")
    end)
  end)

  describe("is", function()
    it("accepts a value matching the Lua pattern", function()
      assert_accepts(model{ is = "^%a+$" }, "abc")
    end)

    it("rejects a value not matching the Lua pattern", function()
      assert_rejects(model{ is = "^%a+$" }, "ab1", "is")
    end)
  end)

  describe("custom functions", function()
    local function starts_with_a(value)
      if value:sub(1, 1) ~= "A" then error("must start with A", 0) end
    end

    it("accept a value when they return", function()
      assert_accepts(model{ startsWithA = starts_with_a }, "Ann")
    end)

    it("turn error() into a ValidationError naming path and validator",
       function()
      local err = assert_rejects(model{ startsWithA = starts_with_a }, "bob",
                                 "startsWithA")
      assert.truthy(err.errors[1].message:find("must start with A", 1, true))
    end)

    it("receive the value and the instance", function()
      local seen_value, seen_inst
      local M = model{ check = function(value, inst)
        seen_value, seen_inst = value, inst
      end }
      local created = M:create{ v = "x", other = "o" }
      assert.are.equal("x", seen_value)
      assert.are.equal("o", seen_inst.other)
      assert.are.equal(M, seen_inst.Model)
      assert.are.equal("x", created.v)
    end)

    it("may look at other attributes of the instance", function()
      local M = model{ differs = function(value, inst)
        if value == inst.other then error("same as other", 0) end
      end }
      M:create{ v = "a", other = "b" }
      local err = helpers.error_of(function() M:create{ v = "b", other = "b" } end)
      assert.are.equal("ValidationError", err.name)
      assert.are.equal(1, stored_count())
    end)
  end)

  describe("a failed validation", function()
    it("sends no statement", function()
      local M = model{ notEmpty = true }
      assert.has_error(function() M:create{ v = "" } end)
      assert.are.equal(0, log.count())
    end)

    it("reports every failing attribute", function()
      local M = db:define("Pair", {
        a = { type = assoc.STRING, validate = { notEmpty = true } },
        b = { type = assoc.INTEGER, validate = { min = 10 } },
      })
      db:sync{ force = true }
      local err = helpers.error_of(function() M:create{ a = "", b = 1 } end)
      assert.are.equal("ValidationError", err.name)
      local paths = {}
      for i, e in ipairs(err.errors) do paths[i] = e.path end
      table.sort(paths)
      assert.are.same({ "a", "b" }, paths)
      assert.are.equal(0, db:query('SELECT COUNT(*) AS n FROM "Pairs"')[1].n)
    end)

    it("keeps save from writing changed values", function()
      local M = model{ notEmpty = true }
      local inst = M:create{ v = "ok" }
      local err = helpers.error_of(function()
        inst.v = ""
        inst:save()
      end)
      assert.are.equal("ValidationError", err.name)
      assert.are.same({ { v = "ok" } }, db:query('SELECT "v" FROM "Items"'))
    end)

    it("keeps inst:update from writing", function()
      local M = model{ len = { 1, 3 } }
      local inst = M:create{ v = "ok" }
      assert.has_error(function() inst:update{ v = "toolong" } end)
      assert.are.same({ { v = "ok" } }, db:query('SELECT "v" FROM "Items"'))
    end)

    it("leaves the database usable", function()
      local M = model{ notEmpty = true }
      pcall(M.create, M, { v = "" })
      assert_accepts(M, "fine")
    end)
  end)

  describe("nil values", function()
    it("still run custom validators of a nullable attribute", function()
      local calls = 0
      local M = model{ counted = function() calls = calls + 1 end }
      M:create{ other = "x" }
      assert.are.equal(1, calls)
    end)

    it("skip the built-in validators of a nullable attribute", function()
      local M = model{ notEmpty = true, len = { 2, 4 }, isEmail = true }
      local inst = M:create{ other = "x" }
      assert.is_nil(inst.v)
      assert.are.equal(1, stored_count())
    end)
  end)
end)
end
