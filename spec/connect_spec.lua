-- assoc.open, the logging option, db.dialect, db:close and db:query.
local helpers = require("helpers")
local assoc = require("assoc")

-- A fresh temporary file name for an SQLite database, and its clean-up.
local function temp_db_path()
  local path = os.tmpname()
  os.remove(path)
  return path .. ".db"
end

local function remove_db(path)
  for _, suffix in ipairs({ "", "-journal", "-wal", "-shm" }) do
    os.remove(path .. suffix)
  end
end

-- The path of an absolute file name relative to the working directory.
local function relative_to_cwd(abs)
  local p = io.popen("pwd")
  local cwd = p:read("l")
  p:close()
  local up = {}
  for _ in cwd:gmatch("[^/]+") do up[#up + 1] = ".." end
  return table.concat(up, "/") .. abs
end

local function define_user(db)
  return db:define("User", {
    name = { type = assoc.STRING, allowNull = false },
    age = assoc.INTEGER,
  })
end

for _, dialect in ipairs(helpers.dialects()) do
describe("connect [#" .. dialect .. "]", function()
  local db

  before_each(function()
    db = helpers.open(dialect)
  end)

  after_each(function()
    db:close()
  end)

  describe("assoc.open", function()
    it("returns a database for the dialect's url", function()
      assert.is_not_nil(db)
      assert.are.equal(dialect, db.dialect)
    end)

    it("raises a bad argument error for a url that is not a string",
       function()
      local err = helpers.error_of(function() assoc.open(42) end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("string expected", 1, true))
    end)

    it("raises an error for a url of an unknown scheme", function()
      assert.has_error(function() assoc.open("mysql://localhost/x") end)
    end)

    it("accepts the busy_timeout option", function()
      local other = assoc.open(helpers.url(dialect), { busy_timeout = 100 })
      local rows = other:query("SELECT 1 AS one")
      assert.are.equal(1, rows[1].one)
      other:close()
    end)

    if dialect == "sqlite" then
      it("opens an in-memory database with sqlite::memory:", function()
        local mem = assoc.open("sqlite::memory:")
        assert.are.equal("sqlite", mem.dialect)
        mem:query('CREATE TABLE "t" ("x" INTEGER)')
        assert.are.equal(1, mem:query('INSERT INTO "t" ("x") VALUES (?)',
                                      { 7 }))
        assert.are.same({ { x = 7 } }, mem:query('SELECT "x" FROM "t"'))
        mem:close()
      end)

      it("gives each in-memory database its own data", function()
        local a = assoc.open("sqlite::memory:")
        local b = assoc.open("sqlite::memory:")
        a:query('CREATE TABLE "t" ("x" INTEGER)')
        local err = helpers.error_of(function()
          b:query('SELECT "x" FROM "t"')
        end)
        assert.are.equal("DatabaseError", err.name)
        a:close()
        b:close()
      end)

      it("opens a file given by an absolute path", function()
        local path = temp_db_path()
        local fdb = assoc.open("sqlite:" .. path)
        fdb:query('CREATE TABLE "t" ("x" INTEGER)')
        fdb:close()
        local f = io.open(path, "rb")
        assert.is_not_nil(f)
        f:close()
        remove_db(path)
      end)

      it("opens a file given by a path relative to the working directory",
         function()
        local path = temp_db_path()
        local fdb = assoc.open("sqlite:" .. relative_to_cwd(path))
        fdb:query('CREATE TABLE "t" ("x" INTEGER)')
        fdb:query('INSERT INTO "t" ("x") VALUES (?)', { 3 })
        fdb:close()
        local again = assoc.open("sqlite:" .. path)
        assert.are.same({ { x = 3 } }, again:query('SELECT "x" FROM "t"'))
        again:close()
        remove_db(path)
      end)

      it("sees the data of an earlier connection when a file is reopened",
         function()
        local path = temp_db_path()
        local first = assoc.open("sqlite:" .. path)
        local User = define_user(first)
        first:sync{ force = true }
        User:create{ name = "ann", age = 30 }
        first:close()

        local second = assoc.open("sqlite:" .. path)
        local User2 = define_user(second)
        local users = User2:findAll()
        assert.are.equal(1, #users)
        assert.are.equal("ann", users[1].name)
        assert.are.equal(30, users[1].age)
        assert.are.same({ { name = "ann" } },
          second:query('SELECT "name" FROM "Users"'))
        second:close()
        remove_db(path)
      end)

      it("raises a ConnectionError for a file in a missing directory",
         function()
        local err = helpers.error_of(function()
          assoc.open("sqlite:/nonexistent-dir-for-assoc/x/y.db")
        end)
        assert.are.equal("ConnectionError", err.name)
      end)
    end
  end)

  describe("opts.logging", function()
    it("is called with the sql and the params of a statement", function()
      local calls = {}
      local ldb = helpers.open(dialect, { logging = function(sql, params)
        calls[#calls + 1] = { sql = sql, params = params }
      end })
      ldb:query('CREATE TABLE "logged" ("id" INTEGER, "name" TEXT)')
      calls = {}
      ldb:query('INSERT INTO "logged" ("id", "name") VALUES (?, ?)',
                { 5, "it's" })
      assert.are.equal(1, #calls)
      assert.are.equal("string", type(calls[1].sql))
      assert.truthy(calls[1].sql:find("logged", 1, true))
      assert.are.equal(5, calls[1].params[1])
      assert.are.equal("it's", calls[1].params[2])
      ldb:close()
    end)

    it("is called once for each statement", function()
      local n = 0
      local ldb = helpers.open(dialect, { logging = function() n = n + 1 end })
      ldb:query('CREATE TABLE "logged" ("id" INTEGER)')
      n = 0
      ldb:query('INSERT INTO "logged" ("id") VALUES (?)', { 1 })
      ldb:query('INSERT INTO "logged" ("id") VALUES (?)', { 2 })
      ldb:query('SELECT "id" FROM "logged"')
      assert.are.equal(3, n)
      ldb:close()
    end)

    it("sees the statements that model methods send", function()
      local log = helpers.logger()
      local ldb = helpers.open(dialect, { logging = log.fn })
      local User = define_user(ldb)
      ldb:sync{ force = true }
      log.reset()
      User:create{ name = "ann" }
      local inserts = 0
      for _, sql in ipairs(log.sql) do
        if sql:find("INSERT", 1, true) and sql:find("Users", 1, true) then
          inserts = inserts + 1
        end
      end
      assert.are.equal(1, inserts)
      ldb:close()
    end)

    it("passes an error raised by the logger on to the caller, leaving "
       .. "the database usable", function()
      local sentinel = { "logger failed" }
      local fail = false
      local ldb = helpers.open(dialect, { logging = function()
        if fail then error(sentinel) end
      end })
      ldb:query('CREATE TABLE "logged" ("id" INTEGER)')
      fail = true
      local ok, err = pcall(ldb.query, ldb, 'SELECT "id" FROM "logged"')
      assert.is_false(ok)
      assert.are.equal(sentinel, err)
      fail = false
      assert.are.same({}, ldb:query('SELECT "id" FROM "logged"'))
      ldb:close()
    end)
  end)

  describe("opts.logging re-entry", function()
    it("refuses a query from inside the logger and stays usable", function()
      local ldb
      local inner_err
      ldb = assoc.open(helpers.url(dialect), { logging = function()
        if ldb then
          local ok, e = pcall(ldb.query, ldb, "SELECT 1 AS one")
          if not ok then inner_err = e end
        end
      end })
      local rows = ldb:query("SELECT 2 AS two")
      local handle = ldb
      ldb = nil
      assert.is_not_nil(inner_err)
      assert.are.equal(2, rows[1].two)
      assert.are.equal(3, handle:query("SELECT 3 AS three")[1].three)
      handle:close()
    end)
  end)

  describe("db.dialect", function()
    it("names the database", function()
      assert.are.equal(dialect, db.dialect)
    end)
  end)

  describe("db:close", function()
    it("may be called twice", function()
      db:close()
      assert.has_no.errors(function() db:close() end)
    end)

    it("runs when a <close> variable goes out of scope", function()
      local captured
      do
        local d <close> = assoc.open(helpers.url(dialect))
        captured = d
        assert.are.equal(1, d:query("SELECT 1 AS one")[1].one)
      end
      local err = helpers.error_of(function()
        captured:query("SELECT 1 AS one")
      end)
      assert.truthy(tostring(err):find("closed", 1, true))
    end)

    it("makes later queries raise an error saying it is closed", function()
      db:close()
      local err = helpers.error_of(function() db:query("SELECT 1 AS one") end)
      assert.truthy(tostring(err):find("closed", 1, true))
    end)

    it("makes the models of the database raise an error saying it is closed",
       function()
      local User = define_user(db)
      db:sync{ force = true }
      db:close()
      local err = helpers.error_of(function() User:findAll() end)
      assert.truthy(tostring(err):find("closed", 1, true))
    end)

    it("makes instances of the database raise an error saying it is closed",
       function()
      local User = define_user(db)
      db:sync{ force = true }
      local u = User:create{ name = "ann" }
      db:close()
      local err = helpers.error_of(function()
        u.name = "bob"
        u:save()
      end)
      assert.truthy(tostring(err):find("closed", 1, true))
    end)

    it("lets an unreferenced open database be collected", function()
      do
        local d = assoc.open(helpers.url(dialect))
        d:query("SELECT 1 AS one")
      end
      assert.has_no.errors(function()
        collectgarbage()
        collectgarbage()
      end)
    end)
  end)

  describe("db:query", function()
    before_each(function()
      db:query('CREATE TABLE "people" ("id" INTEGER PRIMARY KEY, '
               .. '"name" TEXT, "n" INTEGER)')
    end)

    it("returns the affected-row count of an INSERT", function()
      local n = db:query('INSERT INTO "people" ("id", "name", "n") '
                         .. 'VALUES (?, ?, ?)', { 1, "ann", 10 })
      assert.are.equal(1, n)
      assert.are.equal("integer", math.type(n))
    end)

    it("returns an array of row tables for a SELECT", function()
      db:query('INSERT INTO "people" ("id", "name", "n") VALUES (?, ?, ?)',
               { 1, "ann", 10 })
      db:query('INSERT INTO "people" ("id", "name", "n") VALUES (?, ?, ?)',
               { 2, "bob", 20 })
      local rows = db:query('SELECT "id", "name", "n" FROM "people" '
                            .. 'ORDER BY "id"')
      assert.are.same({ { id = 1, name = "ann", n = 10 },
                        { id = 2, name = "bob", n = 20 } }, rows)
    end)

    it("returns an empty array for a SELECT without rows", function()
      local rows = db:query('SELECT "id" FROM "people"')
      assert.are.equal("table", type(rows))
      assert.are.equal(0, #rows)
    end)

    it("returns the affected-row count of an UPDATE", function()
      for i = 1, 3 do
        db:query('INSERT INTO "people" ("id", "name", "n") VALUES (?, ?, ?)',
                 { i, "p" .. i, i })
      end
      local n = db:query('UPDATE "people" SET "n" = ? WHERE "id" >= ?',
                         { 0, 2 })
      assert.are.equal(2, n)
      assert.are.same({ { n = 1 }, { n = 0 }, { n = 0 } },
        db:query('SELECT "n" FROM "people" ORDER BY "id"'))
    end)

    it("returns the affected-row count of a DELETE", function()
      for i = 1, 3 do
        db:query('INSERT INTO "people" ("id", "name", "n") VALUES (?, ?, ?)',
                 { i, "p" .. i, i })
      end
      assert.are.equal(3, db:query('DELETE FROM "people"'))
      assert.are.same({}, db:query('SELECT "id" FROM "people"'))
    end)

    it("binds strings holding quotes exactly", function()
      local s = [[O'Brien said "hi"; DROP TABLE "people"; --]]
      db:query('INSERT INTO "people" ("id", "name") VALUES (?, ?)', { 1, s })
      local rows = db:query('SELECT "name" FROM "people" WHERE "name" = ?',
                            { s })
      assert.are.same({ { name = s } }, rows)
    end)

    it("binds assoc.null as SQL NULL and returns NULL as nil", function()
      db:query('INSERT INTO "people" ("id", "name", "n") VALUES (?, ?, ?)',
               { 1, assoc.null, assoc.null })
      local rows = db:query('SELECT "id", "name", "n" FROM "people"')
      assert.are.equal(1, #rows)
      assert.is_nil(rows[1].name)
      assert.is_nil(rows[1].n)
      assert.are.equal(1, rows[1].id)
    end)

    it("raises a DatabaseError for more params than placeholders",
       function()
      local err = helpers.error_of(function()
        db:query('SELECT "id" FROM "people" WHERE "id" = ?', { 1, 2 })
      end)
      assert.are.equal("DatabaseError", err.name)
      assert.are.same({}, db:query('SELECT "id" FROM "people"'))
    end)

    it("raises a DatabaseError for fewer params than placeholders",
       function()
      local err = helpers.error_of(function()
        db:query('SELECT "id" FROM "people" WHERE "id" = ? AND "n" = ?',
                 { 1 })
      end)
      assert.are.equal("DatabaseError", err.name)
      assert.are.same({}, db:query('SELECT "id" FROM "people"'))
    end)

    it("raises rather than ignore a second statement in the text",
       function()
      assert.has_error(function()
        db:query('SELECT "id" FROM "people"; DROP TABLE "people"')
      end)
      assert.are.same({}, db:query('SELECT "id" FROM "people"'))
    end)

    it("raises a bad argument error for params that are not a table",
       function()
      local err = helpers.error_of(function()
        db:query('SELECT "id" FROM "people" WHERE "id" = ?', 1)
      end)
      assert.are.equal("string", type(err))
      assert.truthy(err:find("bad argument", 1, true))
      assert.truthy(err:find("table expected", 1, true))
    end)

    it("raises a DatabaseError carrying the sql for a bad statement",
       function()
      local err = helpers.error_of(function()
        db:query('SELECT "nope" FROM "no_such_table"')
      end)
      assert.are.equal("DatabaseError", err.name)
      assert.truthy(err.sql:find("no_such_table", 1, true))
    end)
  end)
end)
end
