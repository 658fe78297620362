-- Model:bulkCreate: instances returned, multi-row INSERTs, atomicity.
local helpers = require("helpers")
local assoc = require("assoc")

-- SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32.
local SQLITE_MAX_PARAMS = 32766

-- The number of parameters of a logged statement (NULLs may be holes).
local function param_count(params)
  local n = 0
  for k in pairs(params or {}) do
    if math.type(k) == "integer" and k > n then n = k end
  end
  return n
end

for _, dialect in ipairs(helpers.dialects()) do
describe("bulkCreate [#" .. dialect .. "]", function()
  local db, User, log

  before_each(function()
    log = { sql = {}, params = {} }
    db = helpers.open(dialect, { logging = function(sql, params)
      log.sql[#log.sql + 1] = sql
      log.params[#log.params + 1] = params
    end })
    User = db:define("User", {
      name = { type = assoc.STRING, allowNull = false, unique = true },
      age = assoc.INTEGER,
      status = { type = assoc.STRING, defaultValue = "active" },
    })
    db:sync{ force = true }
    log.sql, log.params = {}, {}
  end)

  after_each(function()
    db:close()
  end)

  -- Indexes into log of the INSERT statements on "Users".
  local function inserts()
    local out = {}
    for i, sql in ipairs(log.sql) do
      if sql:find("INSERT", 1, true) and sql:find("Users", 1, true) then
        out[#out + 1] = i
      end
    end
    return out
  end

  local function rows_of(n, prefix)
    local list = {}
    for i = 1, n do list[i] = { name = (prefix or "u") .. i, age = i } end
    return list
  end

  local function stored_count()
    return db:query('SELECT COUNT(*) AS n FROM "Users"')[1].n
  end

  describe("Model:bulkCreate", function()
    it("returns saved instances with their ids in input order", function()
      local list = User:bulkCreate{ { name = "a" }, { name = "b" },
                                    { name = "c" } }
      assert.are.equal(3, #list)
      for i, name in ipairs({ "a", "b", "c" }) do
        assert.are.equal(name, list[i].name)
        assert.are.equal(i, list[i].id)
        assert.are.equal("integer", math.type(list[i].id))
        assert.is_false(list[i]:isNewRecord())
        assert.are.equal(User, list[i].Model)
      end
      assert.are.same({ { id = 1, name = "a" }, { id = 2, name = "b" },
                        { id = 3, name = "c" } },
        db:query('SELECT "id", "name" FROM "Users" ORDER BY "id"'))
    end)

    it("fills in defaults and timestamps", function()
      local list = User:bulkCreate{ { name = "a" }, { name = "b",
                                                      status = "x" } }
      assert.are.equal("active", list[1].status)
      assert.are.equal("x", list[2].status)
      assert.is_string(list[1].createdAt)
      assert.is_string(list[2].updatedAt)
      assert.are.same({ { status = "active" }, { status = "x" } },
        db:query('SELECT "status" FROM "Users" ORDER BY "id"'))
      assert.are.equal(0, db:query('SELECT COUNT(*) AS n FROM "Users" '
        .. 'WHERE "createdAt" IS NULL OR "updatedAt" IS NULL')[1].n)
    end)

    it("accepts rows that give different attributes", function()
      local list = User:bulkCreate{ { name = "a" }, { name = "b", age = 7 } }
      assert.is_nil(list[1].age)
      assert.are.equal(7, list[2].age)
      local rows = db:query('SELECT "name", "age" FROM "Users" ORDER BY "id"')
      assert.is_nil(rows[1].age)
      assert.are.equal(7, rows[2].age)
    end)

    it("inserts 100 rows with one statement", function()
      local list = User:bulkCreate(rows_of(100))
      assert.are.equal(100, #list)
      assert.are.equal(1, #inserts())
      assert.are.equal(100, stored_count())
      assert.are.equal(100, list[100].id)
      assert.are.same({ { name = "u100", age = 100 } },
        db:query('SELECT "name", "age" FROM "Users" WHERE "id" = ?', { 100 }))
    end)

    it("inserts 5000 rows in few statements under the parameter limit",
       function()
      local list = User:bulkCreate(rows_of(5000))
      assert.are.equal(5000, #list)
      assert.are.equal(5000, stored_count())
      local ins = inserts()
      assert.is_true(#ins >= 1)
      assert.is_true(#ins <= 5000 / 100)
      if dialect == "sqlite" then
        for _, i in ipairs(ins) do
          assert.is_true(param_count(log.params[i]) <= SQLITE_MAX_PARAMS)
        end
      end
      for i = 1, 5000, 499 do
        assert.are.equal("u" .. i, list[i].name)
        assert.are.equal(i, list[i].id)
      end
      assert.are.same({ { name = "u5000" } },
        db:query('SELECT "name" FROM "Users" WHERE "id" = ?', { 5000 }))
    end)

    it("splits rows whose parameters pass the dialect's limit", function()
      local Wide = db:define("Wide", {
        a = assoc.STRING, b = assoc.STRING, c = assoc.STRING,
        d = assoc.INTEGER, e = assoc.INTEGER, f = assoc.INTEGER,
        g = assoc.INTEGER, h = assoc.INTEGER,
      })
      Wide:sync()
      log.sql, log.params = {}, {}
      local list = {}
      for i = 1, 8000 do
        list[i] = { a = "a" .. i, b = "b", c = "c", d = i, e = i, f = i,
                    g = i, h = i }
      end
      -- 8000 rows of 10 values: past SQLite's 32766 and PostgreSQL's 65535
      local made = Wide:bulkCreate(list)
      assert.are.equal(8000, #made)
      assert.are.equal(8000, made[8000].id)
      assert.are.equal(8000,
        db:query('SELECT COUNT(*) AS n FROM "Wides"')[1].n)
      local limit = dialect == "sqlite" and SQLITE_MAX_PARAMS or 65535
      local n = 0
      for i, sql in ipairs(log.sql) do
        if sql:find("INSERT", 1, true) then
          n = n + 1
          assert.is_true(param_count(log.params[i]) <= limit)
        end
      end
      assert.is_true(n >= 2)
      assert.is_true(n <= 80)
      assert.are.same({ { a = "a7999", h = 7999 } },
        db:query('SELECT "a", "h" FROM "Wides" WHERE "id" = ?', { 7999 }))
    end)

    it("returns an empty array and sends no INSERT for an empty list",
       function()
      local list = User:bulkCreate{}
      assert.are.same({}, list)
      assert.are.equal(0, #inserts())
      assert.are.equal(0, stored_count())
    end)

    it("inserts nothing when one row violates a unique constraint", function()
      User:create{ name = "taken" }
      local err = helpers.error_of(function()
        User:bulkCreate{ { name = "x" }, { name = "taken" }, { name = "y" } }
      end)
      assert.are.equal("UniqueConstraintError", err.name)
      assert.are.same({ { name = "taken" } },
        db:query('SELECT "name" FROM "Users"'))
    end)

    it("inserts nothing when a later batch fails", function()
      local list = rows_of(5000)
      list[4999] = { name = "u1" }
      assert.has_error(function() User:bulkCreate(list) end)
      assert.are.equal(0, stored_count())
    end)

    it("leaves the database usable after a failure", function()
      pcall(User.bulkCreate, User, { { name = "d" }, { name = "d" } })
      local list = User:bulkCreate{ { name = "e" } }
      assert.are.equal("e", list[1].name)
      assert.are.same({ { name = "e" } },
        db:query('SELECT "name" FROM "Users"'))
    end)

    it("raises a bad argument error for a list that is not a table",
       function()
      local err = helpers.error_of(function() User:bulkCreate("x") end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("bulkCreate", 1, true))
    end)

    it("stores hostile strings exactly", function()
      local s = [[x'); DROP TABLE "Users"; --]]
      User:bulkCreate{ { name = s }, { name = s .. "2" } }
      assert.are.same({ { name = s }, { name = s .. "2" } },
        db:query('SELECT "name" FROM "Users" ORDER BY "id"'))
    end)
  end)
end)
end
