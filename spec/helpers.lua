-- Shared spec helpers: which dialects to run, and a fresh database for each.
-- ASSOC_TEST_DIALECTS="sqlite,postgres" picks dialects (default: sqlite, plus
-- postgres when ASSOC_PG_URL is set).  ASSOC_PG_URL is the server to use,
-- e.g. "postgres:host=/tmp/pg port=5432 dbname=postgres user=postgres".
local assoc = require("assoc")

local helpers = {}

function helpers.dialects()
  local list = {}
  local wanted = os.getenv("ASSOC_TEST_DIALECTS")
  if wanted and wanted ~= "" then
    for name in wanted:gmatch("[^,%s]+") do list[#list + 1] = name end
  else
    list[1] = "sqlite"
    if os.getenv("ASSOC_PG_URL") then list[2] = "postgres" end
  end
  return list
end

function helpers.url(dialect)
  if dialect == "sqlite" then return "sqlite::memory:" end
  local url = os.getenv("ASSOC_PG_URL")
  assert(url and url ~= "", "ASSOC_PG_URL must name a PostgreSQL server "
    .. "to run the postgres specs (the test script starts one)")
  return url
end

-- A fresh, empty database.  On PostgreSQL the public schema is dropped and
-- made anew so that no table of an earlier spec is left.
function helpers.open(dialect, opts)
  local db = assoc.open(helpers.url(dialect), opts)
  if dialect == "postgres" then
    db:query("DROP SCHEMA IF EXISTS public CASCADE")
    db:query("CREATE SCHEMA public")
  end
  return db
end

-- Rows of a raw query, for asserting what is stored.
function helpers.rows(db, sql, params)
  return db:query(sql, params)
end

-- The keys of a table, sorted.
function helpers.keys(t)
  local list = {}
  for k in pairs(t) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- Run fn, which must raise; returns the error value.
function helpers.error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, got success")
  return err
end

-- Collect statements sent while fn runs, through the logging option's
-- callback installed by helpers.open(dialect, {logging = helpers.logger()}).
function helpers.logger()
  local log = { sql = {} }
  log.fn = function(sql) log.sql[#log.sql + 1] = sql end
  function log.reset() log.sql = {} end
  function log.count() return #log.sql end
  return log
end

return helpers
