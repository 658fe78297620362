-- Column types: what Lua values come back for each, on both databases.
local helpers = require("helpers")
local assoc = require("assoc")

local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"
-- 2026-11-22T08:38:44Z
local T0 = 1795336724

for _, dialect in ipairs(helpers.dialects()) do
describe("types [#" .. dialect .. "]", function()
  local db, V

  before_each(function()
    db = helpers.open(dialect)
    V = db:define("Value", {
      i = assoc.INTEGER,
      big = assoc.BIGINT,
      r = assoc.REAL,
      f = assoc.FLOAT,
      d = assoc.DOUBLE,
      s = assoc.STRING,
      s8 = assoc.STRING(8),
      t = assoc.TEXT,
      b = assoc.BOOLEAN,
      at = assoc.DATE,
      bin = assoc.BLOB,
      j = assoc.JSON,
    })
    db:sync{ force = true }
  end)

  after_each(function()
    db:close()
  end)

  -- Create a row with values, and return it as created and as read back.
  local function roundtrip(values)
    local created = V:create(values)
    return created, V:findByPk(created.id)
  end

  describe("INTEGER", function()
    it("comes back as a Lua integer", function()
      local c, r = roundtrip{ i = 42 }
      assert.are.equal(42, r.i)
      assert.are.equal("integer", math.type(r.i))
      assert.are.equal("integer", math.type(c.i))
    end)

    it("keeps negative values and zero", function()
      local _, r = roundtrip{ i = -7 }
      assert.are.equal(-7, r.i)
      local _, z = roundtrip{ i = 0 }
      assert.are.equal(0, z.i)
      assert.are.equal("integer", math.type(z.i))
    end)

    it("is an integer in raw query results", function()
      V:create{ i = 5 }
      local v = db:query('SELECT "i" FROM "Values"')[1].i
      assert.are.equal(5, v)
      assert.are.equal("integer", math.type(v))
    end)

    it("makes ids integers", function()
      local c = V:create{}
      assert.are.equal("integer", math.type(c.id))
    end)
  end)

  describe("BIGINT", function()
    it("keeps 64-bit values exactly as integers", function()
      local big = 9007199254740993          -- 2^53 + 1
      local _, r = roundtrip{ big = big }
      assert.are.equal(big, r.big)
      assert.are.equal("integer", math.type(r.big))
      local _, m = roundtrip{ big = math.maxinteger }
      assert.are.equal(math.maxinteger, m.big)
      local _, n = roundtrip{ big = math.mininteger }
      assert.are.equal(math.mininteger, n.big)
    end)

    it("is stored exactly", function()
      V:create{ big = 9007199254740993 }
      assert.are.equal(1, db:query('SELECT COUNT(*) AS n FROM "Values" '
        .. 'WHERE "big" = ?', { 9007199254740993 })[1].n)
    end)
  end)

  describe("REAL", function()
    it("comes back as a float", function()
      local c, r = roundtrip{ r = 1.5 }
      assert.are.equal(1.5, r.r)
      assert.are.equal("float", math.type(r.r))
      assert.are.equal("float", math.type(c.r))
    end)

    it("comes back as a float when given an integer", function()
      local _, r = roundtrip{ r = 3 }
      assert.are.equal(3.0, r.r)
      assert.are.equal("float", math.type(r.r))
    end)

    it("keeps double precision", function()
      local _, r = roundtrip{ r = 0.1 + 0.2, d = 1 / 3 }
      assert.are.equal(0.1 + 0.2, r.r)
      assert.are.equal(1 / 3, r.d)
    end)

    it("has the aliases FLOAT and DOUBLE", function()
      local _, r = roundtrip{ f = 0.25, d = -2.5 }
      assert.are.equal(0.25, r.f)
      assert.are.equal(-2.5, r.d)
      assert.are.equal("float", math.type(r.f))
      assert.are.equal("float", math.type(r.d))
    end)
  end)

  describe("STRING and TEXT", function()
    it("come back as strings", function()
      local _, r = roundtrip{ s = "hello", t = "world" }
      assert.are.equal("hello", r.s)
      assert.are.equal("world", r.t)
    end)

    it("keep UTF-8 text", function()
      local _, r = roundtrip{ s = "héllo wörld ☃", t = "日本語" }
      assert.are.equal("héllo wörld ☃", r.s)
      assert.are.equal("日本語", r.t)
    end)

    it("keep the empty string apart from NULL", function()
      local _, r = roundtrip{ s = "" }
      assert.are.equal("", r.s)
      assert.are.equal("", db:query('SELECT "s" FROM "Values"')[1].s)
    end)

    it("store a string of the length given to STRING(n)", function()
      local _, r = roundtrip{ s8 = "12345678" }
      assert.are.equal("12345678", r.s8)
    end)

    it("keep a long TEXT", function()
      local long = string.rep("abcdefghij", 10000)
      local _, r = roundtrip{ t = long }
      assert.are.equal(long, r.t)
    end)

    it("keep a string that looks like a number as a string", function()
      local _, r = roundtrip{ s = "0042", t = "1e3" }
      assert.are.equal("0042", r.s)
      assert.are.equal("1e3", r.t)
    end)
  end)

  describe("BOOLEAN", function()
    it("comes back as true and false", function()
      local c1, r1 = roundtrip{ b = true }
      local c2, r2 = roundtrip{ b = false }
      assert.are.equal(true, r1.b)
      assert.are.equal(false, r2.b)
      assert.are.equal(true, c1.b)
      assert.are.equal(false, c2.b)
    end)

    it("is stored as a truth value", function()
      V:create{ b = true }
      V:create{ b = false }
      assert.are.same({ { t = 1 }, { t = 0 } },
        db:query('SELECT CASE WHEN "b" THEN 1 ELSE 0 END AS t '
                 .. 'FROM "Values" ORDER BY "id"'))
    end)

    it("comes back as a boolean from findAll", function()
      V:create{ b = true }
      assert.are.equal(true, V:findAll()[1].b)
    end)
  end)

  describe("DATE", function()
    it("comes back as an ISO 8601 UTC string with milliseconds", function()
      local c, r = roundtrip{ at = "2026-11-22T08:38:44.123Z" }
      assert.are.equal("2026-11-22T08:38:44.123Z", r.at)
      assert.are.equal("2026-11-22T08:38:44.123Z", c.at)
    end)

    it("accepts Unix seconds as from os.time()", function()
      local _, r = roundtrip{ at = T0 }
      assert.are.equal("2026-11-22T08:38:44.000Z", r.at)
    end)

    it("accepts os.time() for now", function()
      local now = os.time()
      local _, r = roundtrip{ at = now }
      assert.matches(ISO, r.at)
      assert.are.equal(os.date("!%Y-%m-%dT%H:%M:%S", now) .. ".000Z", r.at)
    end)

    it("gives createdAt and updatedAt in the same form", function()
      local c = V:create{}
      assert.matches(ISO, c.createdAt)
      assert.matches(ISO, c.updatedAt)
      assert.matches(ISO, V:findByPk(c.id).createdAt)
    end)

    it("normalises an ISO 8601 string without milliseconds, or refuses it",
       function()
      local ok, c = pcall(V.create, V, { at = "2026-11-22T08:38:44Z" })
      if ok then
        assert.are.equal("2026-11-22T08:38:44.000Z", c.at)
        assert.are.equal("2026-11-22T08:38:44.000Z", V:findByPk(c.id).at)
      else
        assert.are.equal(0, V:count())
      end
    end)

    it("converts an ISO 8601 string with an offset to UTC, or refuses it",
       function()
      local ok, c = pcall(V.create, V, { at = "2026-11-22T10:38:44.000+02:00" })
      if ok then
        assert.are.equal("2026-11-22T08:38:44.000Z", V:findByPk(c.id).at)
      else
        assert.are.equal(0, V:count())
      end
    end)

    it("raises for a string that is not a date and writes nothing",
       function()
      assert.has_error(function() V:create{ at = "not a date" } end)
      assert.are.equal(0, db:query('SELECT COUNT(*) AS n FROM "Values"')[1].n)
    end)

    it("orders chronologically", function()
      V:create{ i = 2, at = "2026-01-02T00:00:00.000Z" }
      V:create{ i = 1, at = "2025-12-31T23:59:59.999Z" }
      V:create{ i = 3, at = T0 }
      local list = V:findAll{ order = { "at" } }
      assert.are.same({ 1, 2, 3 }, { list[1].i, list[2].i, list[3].i })
    end)
  end)

  describe("BLOB", function()
    it("keeps bytes with NULs and high bytes", function()
      local bytes = "\0\1\2\255\0abc\0"
      local c, r = roundtrip{ bin = bytes }
      assert.are.equal(bytes, r.bin)
      assert.are.equal(bytes, c.bin)
      assert.are.equal(#bytes, #r.bin)
    end)

    it("keeps every byte value", function()
      local all = {}
      for i = 0, 255 do all[#all + 1] = string.char(i) end
      local bytes = table.concat(all)
      local _, r = roundtrip{ bin = bytes }
      assert.are.equal(bytes, r.bin)
    end)

    it("keeps an empty blob apart from NULL", function()
      local _, r = roundtrip{ bin = "" }
      assert.are.equal("", r.bin)
    end)
  end)

  describe("JSON", function()
    it("comes back as a table", function()
      local c, r = roundtrip{ j = { a = 1, b = "two", c = true } }
      assert.are.same({ a = 1, b = "two", c = true }, r.j)
      assert.are.same({ a = 1, b = "two", c = true }, c.j)
    end)

    it("keeps nested tables and arrays", function()
      local value = {
        list = { 1, 2, 3 },
        nested = { deep = { deeper = { "x", "y" } } },
        words = { "it's", 'a "q"' },
        pi = 3.25,
      }
      local _, r = roundtrip{ j = value }
      assert.are.same(value, r.j)
    end)

    it("keeps an array at the top level", function()
      local _, r = roundtrip{ j = { 10, 20, { k = "v" } } }
      assert.are.same({ 10, 20, { k = "v" } }, r.j)
    end)

    it("gives back a fresh table, not the one given", function()
      local value = { a = 1 }
      local c = V:create{ j = value }
      value.a = 2
      assert.are.equal(1, V:findByPk(c.id).j.a)
    end)

    it("is stored as JSON text", function()
      V:create{ j = { k = "v" } }
      local row = db:query('SELECT "j" FROM "Values"')[1]
      local text = type(row.j) == "table" and "k" or row.j
      assert.truthy(tostring(text):find("k", 1, true))
    end)
  end)

  describe("NULL", function()
    it("comes back as nil for every type", function()
      local c, r = roundtrip{}
      for _, name in ipairs({ "i", "big", "r", "f", "d", "s", "s8", "t", "b",
                              "at", "bin", "j" }) do
        assert.is_nil(r[name], name)
        assert.is_nil(c[name], name)
      end
    end)

    it("is stored for assoc.null", function()
      V:create{ i = assoc.null, s = assoc.null, j = assoc.null }
      local row = db:query('SELECT "i", "s", "j" FROM "Values"')[1]
      assert.is_nil(row.i)
      assert.is_nil(row.s)
      assert.is_nil(row.j)
    end)

    it("comes back as nil in raw query results", function()
      V:create{}
      local row = db:query('SELECT "i", "s", "b", "at" FROM "Values"')[1]
      assert.are.same({}, row)
    end)
  end)
end)
end
