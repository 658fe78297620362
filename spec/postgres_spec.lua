-- PostgreSQL-only behaviour: URL forms, a backend killed under a live
-- connection, reconnecting, a transaction that lost its connection, type
-- round trips and SQLSTATE-mapped errors.  Runs only for the postgres
-- dialect.
local helpers = require("helpers")
local assoc = require("assoc")

local function has_postgres()
  for _, d in ipairs(helpers.dialects()) do
    if d == "postgres" then return true end
  end
  return false
end

if not has_postgres() then return end

-- The conninfo of ASSOC_PG_URL as key = value pairs.
local function conninfo()
  local url = helpers.url("postgres")
  local info = {}
  for k, v in url:gsub("^postgres:", ""):gmatch("(%w+)=(%S+)") do
    info[k] = v
  end
  return info
end

local function backend_pid(db)
  return db:query("SELECT pg_backend_pid() AS pid")[1].pid
end

local function kill(pid)
  local other = assoc.open(helpers.url("postgres"))
  other:query("SELECT pg_terminate_backend(?)", { pid })
  other:close()
end

describe("postgres [#postgres]", function()
  local db

  before_each(function()
    db = helpers.open("postgres")
  end)

  after_each(function() db:close() end)

  describe("assoc.open", function()
    it("says its dialect is postgres", function()
      assert.equal("postgres", db.dialect)
    end)

    it("takes a postgresql:// URL with the socket directory as host",
       function()
      local c = conninfo()
      if not c.host or c.host:sub(1, 1) ~= "/" then return end
      local url = ("postgresql://%s@/%s?host=%s&port=%s"):format(
        c.user or "postgres", c.dbname or "postgres", c.host, c.port or 5432)
      local other = assoc.open(url)
      assert.equal(1, other:query("SELECT 1 AS one")[1].one)
      other:close()
    end)

    it("passes URL query parameters on to libpq", function()
      local c = conninfo()
      if not c.host or c.host:sub(1, 1) ~= "/" then return end
      local url = ("postgres://%s@/%s?host=%s&port=%s"
                   .. "&application_name=assoc_spec"):format(
        c.user or "postgres", c.dbname or "postgres", c.host, c.port or 5432)
      local other = assoc.open(url)
      assert.equal("assoc_spec",
        other:query("SELECT current_setting('application_name') AS a")[1].a)
      other:close()
    end)

    it("raises a ConnectionError for a server that is not there", function()
      local ok, err = pcall(assoc.open,
                            "postgres:host=/nonexistent port=1 dbname=x")
      assert.is_false(ok)
      assert.equal("ConnectionError", err.name)
    end)
  end)

  describe("a killed backend", function()
    it("gives a ConnectionError, then the next call reconnects", function()
      local User = db:define("User", { name = assoc.STRING })
      db:sync{ force = true }
      User:create{ name = "ann" }
      kill(backend_pid(db))
      local ok, err = pcall(User.count, User)
      assert.is_false(ok)
      assert.equal("ConnectionError", err.name)
      assert.equal(1, User:count())
      assert.equal("ann", User:findByPk(1).name)
    end)

    it("ends a transaction that lost its connection, saying so", function()
      local User = db:define("User", { name = assoc.STRING })
      db:sync{ force = true }
      local t = db:transaction()
      User:create({ name = "lost" }, { transaction = t })
      kill(backend_pid(db))
      local ok, err = pcall(User.create, User, { name = "after" },
                            { transaction = t })
      assert.is_false(ok)
      assert.equal("ConnectionError", err.name)
      ok, err = pcall(t.commit, t)
      assert.is_false(ok)
      assert.truthy(assoc.isError(err))
      -- the server rolled it back: nothing of it was stored
      assert.equal(0, User:count())
      User:create{ name = "fresh" }
      assert.equal(1, User:count())
    end)
  end)

  describe("types", function()
    it("round-trips every type with PostgreSQL's column types", function()
      local V = db:define("Value", {
        i = assoc.INTEGER, b = assoc.BIGINT, r = assoc.REAL,
        s = assoc.STRING(10), t = assoc.TEXT, ok = assoc.BOOLEAN,
        at = assoc.DATE, blob = assoc.BLOB, j = assoc.JSON,
      })
      db:sync{ force = true }
      local v = V:create{ i = 7, b = 9007199254740993, r = 0.5, s = "x'y",
                          t = "long", ok = true,
                          at = "2026-11-22T08:38:44.123Z",
                          blob = "a\0b", j = { list = { 1, 2 } } }
      local got = V:findByPk(v.id)
      assert.equal(7, got.i)
      assert.equal(9007199254740993, got.b)
      assert.equal("integer", math.type(got.b))
      assert.equal(0.5, got.r)
      assert.equal("x'y", got.s)
      assert.is_true(got.ok)
      assert.equal("2026-11-22T08:38:44.123Z", got.at)
      assert.equal("a\0b", got.blob)
      assert.same({ list = { 1, 2 } }, got.j)
      local types = {}
      for _, r in ipairs(db:query([[SELECT column_name AS c, data_type AS d
          FROM information_schema.columns WHERE table_name = 'Values']])) do
        types[r.c] = r.d
      end
      assert.equal("integer", types.id)
      assert.equal("bigint", types.b)
      assert.equal("double precision", types.r)
      assert.equal("character varying", types.s)
      assert.equal("boolean", types.ok)
      assert.equal("timestamp with time zone", types.at)
      assert.equal("bytea", types.blob)
      assert.equal("jsonb", types.j)
    end)
  end)

  describe("errors", function()
    it("maps SQLSTATE 23505 to UniqueConstraintError", function()
      db:query('CREATE TABLE "u" ("x" INTEGER UNIQUE)')
      db:query('INSERT INTO "u" VALUES (1)')
      local ok, err = pcall(db.query, db, 'INSERT INTO "u" VALUES (1)')
      assert.is_false(ok)
      assert.equal("UniqueConstraintError", err.name)
      assert.truthy(err.sql:find('INSERT INTO "u"', 1, true))
    end)

    it("maps SQLSTATE 23503 to ForeignKeyConstraintError", function()
      db:query('CREATE TABLE "p" ("id" INTEGER PRIMARY KEY)')
      db:query('CREATE TABLE "c" ("p" INTEGER REFERENCES "p" ("id"))')
      local ok, err = pcall(db.query, db, 'INSERT INTO "c" VALUES (5)')
      assert.is_false(ok)
      assert.equal("ForeignKeyConstraintError", err.name)
    end)

    it("gives other failures as a DatabaseError with the server's message",
       function()
      local ok, err = pcall(db.query, db, "SELECT * FROM nowhere")
      assert.is_false(ok)
      assert.equal("DatabaseError", err.name)
      assert.truthy(err.message:find("nowhere", 1, true))
    end)

    it("keeps a transaction usable after a failed statement", function()
      db:query('CREATE TABLE "u" ("x" INTEGER UNIQUE)')
      db:transaction(function()
        db:query('INSERT INTO "u" VALUES (1)')
        assert.is_false(pcall(db.query, db, 'INSERT INTO "u" VALUES (1)'))
        db:query('INSERT INTO "u" VALUES (2)')
      end)
      assert.equal(2, db:query('SELECT COUNT(*) AS n FROM "u"')[1].n)
    end)
  end)
end)
