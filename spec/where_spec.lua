-- Where clauses: equality, IN arrays, every operator, NULL tests, OR/AND/NOT,
-- literals, errors for unknown names, and hostile values and identifiers.
local helpers = require("helpers")
local assoc = require("assoc")

for _, dialect in ipairs(helpers.dialects()) do
describe("where [#" .. dialect .. "]", function()
  local db, User

  before_each(function()
    db = helpers.open(dialect)
    User = db:define("User", {
      name = { type = assoc.STRING, allowNull = false },
      age = assoc.INTEGER,
      active = assoc.BOOLEAN,
      deletedAt = assoc.DATE,
    })
    db:sync{ force = true }
    -- ids 1..5
    User:create{ name = "ann", age = 30, active = true }
    User:create{ name = "bob", age = 20, active = false }
    User:create{ name = "cid", age = 40, active = true,
                 deletedAt = "2026-01-01T00:00:00.000Z" }
    User:create{ name = "amy", age = 5 }
    User:create{ name = "dan" }
  end)

  after_each(function()
    db:close()
  end)

  -- The ids findAll returns for where, in id order.
  local function ids(where)
    local out = {}
    for i, u in ipairs(User:findAll{ where = where, order = { "id" } }) do
      out[i] = u.id
    end
    return out
  end

  describe("equality", function()
    it("matches an attribute equal to a value", function()
      assert.are.same({ 2 }, ids{ name = "bob" })
    end)

    it("ANDs several attributes", function()
      assert.are.same({ 1 }, ids{ age = 30, active = true })
      assert.are.same({}, ids{ age = 30, active = false })
    end)

    it("matches a boolean", function()
      assert.are.same({ 1, 3 }, ids{ active = true })
      assert.are.same({ 2 }, ids{ active = false })
    end)

    it("converts a string value for an integer attribute", function()
      assert.are.same({ 1 }, ids{ age = "30" })
    end)

    it("matches every row for an empty where", function()
      assert.are.same({ 1, 2, 3, 4, 5 }, ids{})
    end)
  end)

  describe("arrays", function()
    it("match with IN", function()
      assert.are.same({ 1, 3, 5 }, ids{ id = { 1, 3, 5 } })
    end)

    it("match nothing when empty", function()
      assert.are.same({}, ids{ id = {} })
    end)

    it("match nothing when empty in the in operator", function()
      assert.are.same({}, ids{ id = { ["in"] = {} } })
    end)
  end)

  describe("operators", function()
    it("eq matches equal values", function()
      assert.are.same({ 2 }, ids{ age = { eq = 20 } })
    end)

    it("ne matches unequal values, not NULLs", function()
      -- NULL ages are neither equal nor unequal to 20
      assert.are.same({ 1, 3, 4 }, ids{ age = { ne = 20 } })
    end)

    it("gt matches greater values", function()
      assert.are.same({ 1, 3 }, ids{ age = { gt = 20 } })
    end)

    it("gte matches greater or equal values", function()
      assert.are.same({ 1, 2, 3 }, ids{ age = { gte = 20 } })
    end)

    it("lt matches smaller values", function()
      assert.are.same({ 4 }, ids{ age = { lt = 20 } })
    end)

    it("lte matches smaller or equal values", function()
      assert.are.same({ 2, 4 }, ids{ age = { lte = 20 } })
    end)

    it("like matches a LIKE pattern", function()
      assert.are.same({ 1, 4 }, ids{ name = { like = "a%" } })
      assert.are.same({ 2 }, ids{ name = { like = "_o_" } })
    end)

    it("notLike matches what the pattern does not", function()
      assert.are.same({ 2, 3, 5 }, ids{ name = { notLike = "a%" } })
    end)

    it("in matches any value of a list", function()
      assert.are.same({ 2, 5 }, ids{ name = { ["in"] = { "bob", "dan" } } })
    end)

    it("notIn matches values outside a list", function()
      assert.are.same({ 1, 3, 4 }, ids{ name = { notIn = { "bob", "dan" } } })
    end)

    it("between matches a range inclusive at both ends", function()
      assert.are.same({ 1, 2, 3 }, ids{ age = { between = { 20, 40 } } })
    end)

    it("notBetween matches values outside a range", function()
      assert.are.same({ 4 }, ids{ age = { notBetween = { 10, 40 } } })
    end)

    it("combines several operators on one attribute with AND", function()
      assert.are.same({ 1 }, ids{ age = { gte = 21, lt = 40 } })
    end)

    it("gt compares dates", function()
      assert.are.same({ 3 },
        ids{ deletedAt = { gt = "2025-12-31T00:00:00.000Z" } })
      assert.are.same({}, ids{ deletedAt = { gt = "2026-06-01T00:00:00.000Z" } })
    end)
  end)

  describe("assoc.null", function()
    it("matches IS NULL", function()
      assert.are.same({ 5 }, ids{ age = assoc.null })
      assert.are.same({ 1, 2, 4, 5 }, ids{ deletedAt = assoc.null })
    end)

    it("matches IS NOT NULL under ne", function()
      assert.are.same({ 1, 2, 3, 4 }, ids{ age = { ne = assoc.null } })
    end)

    it("matches IS NULL under eq", function()
      assert.are.same({ 4, 5 }, ids{ active = { eq = assoc.null } })
    end)
  end)

  describe("assoc.OR", function()
    it("matches either condition in the array part", function()
      assert.are.same({ 1, 3, 4 }, ids{
        assoc.OR({ name = { like = "a%" } }, { age = { gt = 35 } }),
      })
    end)

    it("is ANDed with the named keys beside it", function()
      assert.are.same({ 1 }, ids{
        active = true,
        assoc.OR({ name = { like = "a%" } }, { age = { lt = 10 } }),
      })
    end)

    it("may be the whole where", function()
      assert.are.same({ 2, 5 },
        ids(assoc.OR({ name = "bob" }, { name = "dan" })))
    end)
  end)

  describe("assoc.AND", function()
    it("matches when every condition holds", function()
      assert.are.same({ 1 }, ids(assoc.AND({ age = { gt = 20 } },
                                           { age = { lt = 40 } })))
    end)

    it("nests inside OR", function()
      assert.are.same({ 2, 3 }, ids(assoc.OR(
        assoc.AND({ age = 20 }, { active = false }),
        assoc.AND({ age = 40 }, { active = true }))))
    end)
  end)

  describe("assoc.NOT", function()
    it("negates a condition", function()
      assert.are.same({ 2, 3, 5 }, ids(assoc.NOT({ name = { like = "a%" } })))
    end)

    it("negates a nested OR", function()
      assert.are.same({ 3, 4, 5 },
        ids(assoc.NOT(assoc.OR({ name = "ann" }, { name = "bob" }))))
    end)

    it("sits in the array part beside named keys", function()
      assert.are.same({ 1 }, ids{ active = true, assoc.NOT({ age = 40 }) })
    end)
  end)

  describe("assoc.literal", function()
    it("is SQL with a bound value", function()
      assert.are.same({ 3 }, ids(assoc.literal('"age" > ?', 35)))
    end)

    it("combines with other conditions", function()
      assert.are.same({ 1, 3 }, ids{
        active = true, assoc.literal('"age" >= ?', 30),
      })
    end)

    it("nests inside OR and NOT", function()
      assert.are.same({ 2, 4 }, ids(assoc.AND(
        assoc.NOT({ age = assoc.null }),
        assoc.OR(assoc.literal('"age" < ?', 10), { name = "bob" }))))
    end)

    it("binds its value rather than splicing it", function()
      assert.are.same({},
        ids(assoc.literal('"name" = ?', "x' OR '1'='1")))
      assert.are.equal(5, User:count())
    end)
  end)

  describe("other methods", function()
    it("apply where to count, findOne, update and destroy", function()
      local w = { name = { like = "a%" } }
      assert.are.equal(2, User:count{ where = w })
      assert.are.equal("ann", User:findOne{ where = w, order = { "id" } }.name)
      assert.are.equal(2, User:update({ age = 1 }, { where = w }))
      assert.are.equal(2, User:destroy{ where = w })
      assert.are.same({ { id = 2 }, { id = 3 }, { id = 5 } },
        db:query('SELECT "id" FROM "Users" ORDER BY "id"'))
    end)
  end)

  describe("errors", function()
    it("names an unknown attribute", function()
      local err = helpers.error_of(function()
        User:findAll{ where = { nope = 1 } }
      end)
      assert.truthy(tostring(err):find("nope", 1, true))
    end)

    it("names an unknown attribute inside OR", function()
      local err = helpers.error_of(function()
        User:findAll{ where = assoc.OR({ name = "a" }, { missing = 1 }) }
      end)
      assert.truthy(tostring(err):find("missing", 1, true))
    end)

    it("names an unknown operator", function()
      local err = helpers.error_of(function()
        User:findAll{ where = { age = { around = 3 } } }
      end)
      assert.truthy(tostring(err):find("around", 1, true))
    end)

    it("leaves the rows alone when destroy has a bad where", function()
      assert.has_error(function()
        User:destroy{ where = { nope = 1 } }
      end)
      assert.are.equal(5, db:query('SELECT COUNT(*) AS n FROM "Users"')[1].n)
    end)
  end)

  describe("hostile values", function()
    local hostile = {
      [[it's]],
      [[a "quoted" word]],
      [[x'; DROP TABLE "Users"; --]],
      [[') OR ('1'='1]],
      "back\\slash",
      "percent % and _ underscore",
    }

    for _, s in ipairs(hostile) do
      it("round-trip exactly and match only themselves: " .. s, function()
        local u = User:create{ name = s }
        assert.are.equal(s, u.name)
        local found = User:findAll{ where = { name = s } }
        assert.are.equal(1, #found)
        assert.are.equal(s, found[1].name)
        assert.are.same({ { name = s } },
          db:query('SELECT "name" FROM "Users" WHERE "id" = ?', { u.id }))
        assert.are.equal(6, User:count())
      end)
    end

    it("round-trip a NUL byte exactly or raise, never truncate", function()
      local s = "a\0b"
      local ok, u = pcall(User.create, User, { name = s })
      if dialect == "sqlite" then assert.is_true(ok) end
      if ok then
        assert.are.equal(s, u.name)
        assert.are.equal(s, User:findByPk(u.id).name)
        assert.are.equal(1, User:count{ where = { name = s } })
        assert.are.equal(0, User:count{ where = { name = "a" } })
      else
        assert.is_true(assoc.isError(u))
        assert.are.equal(5, User:count())
      end
    end)
  end)

  describe("hostile identifiers", function()
    it("work as model, table and attribute names", function()
      local W = db:define('We"ird Name', {
        ['col "x"'] = assoc.STRING,
        ["it's; --"] = assoc.INTEGER,
      }, { tableName = 'we"ird t' })
      W:sync()
      local w = W:create{ ['col "x"'] = "v", ["it's; --"] = 1 }
      W:create{ ['col "x"'] = "other", ["it's; --"] = 2 }
      assert.are.equal("v", w['col "x"'])
      assert.are.equal(1, #W:findAll{ where = { ['col "x"'] = "v" } })
      assert.are.equal(1, W:count{ where = { ["it's; --"] = { gt = 1 } } })
      assert.are.equal(1, W:update({ ['col "x"'] = "w" },
                                   { where = { ["it's; --"] = 1 } }))
      assert.are.same({ { v = "w" }, { v = "other" } },
        db:query('SELECT "col ""x""" AS v FROM "we""ird t" ORDER BY "id"'))
      assert.are.equal(1, W:destroy{ where = { ['col "x"'] = "other" } })
      assert.are.equal(1, W:count())
      local t = tostring(W:findByPk(1))
      assert.truthy(t:find('We"ird Name', 1, true))
    end)

    it("work in attributes and order", function()
      local W = db:define('We"ird Name', { ['col "x"'] = assoc.STRING },
                          { tableName = 'we"ird t' })
      W:sync()
      W:create{ ['col "x"'] = "a" }
      W:create{ ['col "x"'] = "b" }
      local list = W:findAll{ attributes = { "id", 'col "x"' },
                              order = { { 'col "x"', "DESC" } } }
      assert.are.same({ "b", "a" }, { list[1]['col "x"'], list[2]['col "x"'] })
      assert.is_nil(list[1].createdAt)
    end)

    it("cannot break out of the quotes of a column name", function()
      local Evil = db:define("Evil", {
        ['a"; DROP TABLE "Users"; --'] = assoc.STRING,
      })
      Evil:sync()
      Evil:create{ ['a"; DROP TABLE "Users"; --'] = "x" }
      assert.are.equal(1, Evil:count{
        where = { ['a"; DROP TABLE "Users"; --'] = "x" } })
      assert.are.equal(5, db:query('SELECT COUNT(*) AS n FROM "Users"')[1].n)
    end)
  end)
end)
end
