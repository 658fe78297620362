-- db:sync, Model:sync and Model:drop.
local helpers = require("helpers")
local assoc = require("assoc")

local function count(db, tbl)
  return db:query('SELECT COUNT(*) AS n FROM "' .. tbl .. '"')[1].n
end

for _, dialect in ipairs(helpers.dialects()) do
describe("sync [#" .. dialect .. "]", function()
  local db, User, Tag

  before_each(function()
    db = helpers.open(dialect)
    User = db:define("User", {
      name = { type = assoc.STRING, allowNull = false },
      status = { type = assoc.STRING, defaultValue = "active" },
    })
    Tag = db:define("Tag", { label = assoc.STRING }, { timestamps = false })
    db:sync{ force = true }
  end)

  after_each(function()
    db:close()
  end)

  describe("db:sync", function()
    it("creates a table for every model", function()
      assert.are.equal(0, count(db, "Users"))
      assert.are.equal(0, count(db, "Tags"))
    end)

    it("drops and recreates the tables with force = true", function()
      User:create{ name = "ann" }
      Tag:create{ label = "x" }
      db:sync{ force = true }
      assert.are.equal(0, count(db, "Users"))
      assert.are.equal(0, count(db, "Tags"))
      local u = User:create{ name = "bob" }
      assert.are.equal(1, u.id)
    end)

    it("keeps existing tables and rows without force", function()
      User:create{ name = "ann" }
      db:sync()
      assert.are.equal(1, count(db, "Users"))
      assert.are.same({ { name = "ann" } },
        db:query('SELECT "name" FROM "Users"'))
    end)

    it("creates the tables of models defined after an earlier sync",
       function()
      local Late = db:define("Late", { x = assoc.INTEGER })
      db:sync()
      Late:create{ x = 1 }
      assert.are.equal(1, count(db, "Lates"))
    end)

    it("writes the column default into the table", function()
      db:query('INSERT INTO "Users" ("name", "createdAt", "updatedAt") '
               .. 'VALUES (?, ?, ?)',
               { "raw", "2026-01-01T00:00:00.000Z",
                 "2026-01-01T00:00:00.000Z" })
      assert.are.same({ { status = "active" } },
        db:query('SELECT "status" FROM "Users"'))
    end)

    it("makes the primary key generate ids starting at 1", function()
      db:query('INSERT INTO "Tags" ("label") VALUES (?)', { "a" })
      db:query('INSERT INTO "Tags" ("label") VALUES (?)', { "b" })
      assert.are.same({ { id = 1, label = "a" }, { id = 2, label = "b" } },
        db:query('SELECT "id", "label" FROM "Tags" ORDER BY "id"'))
    end)
  end)

  describe("Model:sync", function()
    it("creates the model's table", function()
      Tag:drop()
      Tag:sync()
      Tag:create{ label = "x" }
      assert.are.equal(1, count(db, "Tags"))
    end)

    it("leaves other tables alone", function()
      User:create{ name = "ann" }
      Tag:drop()
      Tag:sync()
      assert.are.equal(1, count(db, "Users"))
    end)

    it("keeps the rows of an existing table", function()
      Tag:create{ label = "x" }
      Tag:sync()
      assert.are.equal(1, count(db, "Tags"))
    end)

    it("empties the table with force = true", function()
      Tag:create{ label = "x" }
      Tag:sync{ force = true }
      assert.are.equal(0, count(db, "Tags"))
    end)
  end)

  describe("Model:drop", function()
    it("drops the model's table", function()
      Tag:drop()
      local err = helpers.error_of(function() count(db, "Tags") end)
      assert.are.equal("DatabaseError", err.name)
    end)

    it("makes queries on the model raise a DatabaseError", function()
      Tag:drop()
      local err = helpers.error_of(function() Tag:findAll() end)
      assert.are.equal("DatabaseError", err.name)
      assert.is_string(err.sql)
    end)

    it("leaves other tables alone", function()
      User:create{ name = "ann" }
      Tag:drop()
      assert.are.equal(1, count(db, "Users"))
      assert.are.equal(1, User:count())
    end)
  end)
end)
end
