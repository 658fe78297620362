-- Instances: attribute access, get/set, save (only changed columns), update,
-- destroy, reload, toTable, changed, isNewRecord, .Model and tostring.
local helpers = require("helpers")
local assoc = require("assoc")

-- changed() as a sorted list (Sequelize answers false for "nothing").
local function changed_names(inst)
  local c = inst:changed()
  if c == false or c == nil then return {} end
  local out = {}
  for i, name in ipairs(c) do out[i] = name end
  table.sort(out)
  return out
end

-- The SET list of the UPDATE statements in a log, one string per UPDATE.
local function update_sets(sqls)
  local out = {}
  for _, sql in ipairs(sqls) do
    if sql:match("^%s*UPDATE") then
      out[#out + 1] = sql:match("SET(.-)WHERE") or sql
    end
  end
  return out
end

for _, dialect in ipairs(helpers.dialects()) do
describe("instance [#" .. dialect .. "]", function()
  local db, User, log

  before_each(function()
    log = helpers.logger()
    db = helpers.open(dialect, { logging = log.fn })
    User = db:define("User", {
      name = { type = assoc.STRING, allowNull = false },
      age = assoc.INTEGER,
      bio = assoc.TEXT,
    })
    db:sync{ force = true }
    log.reset()
  end)

  after_each(function()
    db:close()
  end)

  local function row(id)
    return db:query('SELECT "name", "age", "bio" FROM "Users" WHERE "id" = ?',
                    { id })[1]
  end

  describe("attribute access", function()
    it("reads attributes as fields", function()
      local u = User:create{ name = "ann", age = 30 }
      assert.are.equal("ann", u.name)
      assert.are.equal(30, u.age)
      assert.are.equal(1, u.id)
    end)

    it("reads an attribute named like a method as the attribute", function()
      -- as a Sequelize attribute's property hides the prototype's method
      local Doc = db:define("Doc", { update = assoc.STRING })
      Doc:sync()
      local d = Doc:create{ update = "v2" }
      assert.are.equal("v2", db:query('SELECT "update" FROM "Docs"')[1].update)
      assert.are.equal("v2", d.update)
      assert.are.equal("v2", d:get("update"))
      assert.is_function(d.save)
      local e = Doc:create{}
      assert.is_nil(e.update)
    end)

    it("writes attributes as fields without saving", function()
      local u = User:create{ name = "ann", age = 30 }
      u.name = "bob"
      assert.are.equal("bob", u.name)
      assert.are.equal("ann", row(1).name)
    end)

    it("raises when writing an unknown attribute", function()
      local u = User:create{ name = "ann" }
      local err = helpers.error_of(function() u.nope = 1 end)
      assert.truthy(tostring(err):find("nope", 1, true))
    end)

    it("reads nil for a NULL attribute", function()
      local u = User:create{ name = "ann" }
      assert.is_nil(u.age)
      assert.is_nil(u.bio)
    end)
  end)

  describe("inst:get", function()
    it("returns the value of an attribute", function()
      local u = User:create{ name = "ann", age = 30 }
      assert.are.equal("ann", u:get("name"))
      assert.are.equal(30, u:get("age"))
    end)

    it("sees values written but not saved", function()
      local u = User:create{ name = "ann" }
      u.age = 5
      assert.are.equal(5, u:get("age"))
    end)
  end)

  describe("inst:set", function()
    it("writes several attributes without saving", function()
      local u = User:create{ name = "ann", age = 30 }
      u:set{ name = "bob", age = 31 }
      assert.are.equal("bob", u.name)
      assert.are.equal(31, u.age)
      assert.are.same({ "age", "name" }, changed_names(u))
      assert.are.same({ name = "ann", age = 30 }, row(1))
    end)

    it("raises for an unknown attribute", function()
      local u = User:create{ name = "ann" }
      local err = helpers.error_of(function() u:set{ nope = 1 } end)
      assert.truthy(tostring(err):find("nope", 1, true))
    end)

    it("writes assoc.null as nil", function()
      local u = User:create{ name = "ann", age = 30 }
      u:set{ age = assoc.null }
      assert.is_nil(u.age)
      u:save()
      assert.is_nil(row(1).age)
    end)
  end)

  describe("inst:save", function()
    it("writes changed attributes and returns the instance", function()
      local u = User:create{ name = "ann", age = 30 }
      u.age = 31
      assert.are.equal(u, u:save())
      assert.are.same({ name = "ann", age = 31 }, row(1))
    end)

    it("names only the changed columns in its UPDATE", function()
      local u = User:create{ name = "ann", age = 30, bio = "x" }
      log.reset()
      u.name = "bob"
      u:save()
      local sets = update_sets(log.sql)
      assert.are.equal(1, #sets)
      assert.truthy(sets[1]:find('"name"', 1, true))
      assert.falsy(sets[1]:find('"age"', 1, true))
      assert.falsy(sets[1]:find('"bio"', 1, true))
      assert.truthy(sets[1]:find('"updatedAt"', 1, true))
    end)

    it("sends no statement when nothing changed", function()
      local u = User:create{ name = "ann" }
      log.reset()
      u:save()
      assert.are.equal(0, #update_sets(log.sql))
    end)

    it("updates updatedAt but not createdAt", function()
      local u = User:create{ name = "ann" }
      local created = u.createdAt
      u.age = 1
      u:save()
      assert.are.equal(created, u.createdAt)
      assert.is_true(u.updatedAt >= created)
      local stored = db:query('SELECT "createdAt" FROM "Users"')[1]
      assert.is_not_nil(stored.createdAt)
    end)

    it("clears the changed list", function()
      local u = User:create{ name = "ann" }
      u.age = 2
      u:save()
      assert.are.same({}, changed_names(u))
    end)

    it("raises an error naming an attribute whose value cannot be stored",
       function()
      local u = User:create{ name = "ann", age = 30 }
      local err = helpers.error_of(function()
        u.age = "not a number"
        u:save()
      end)
      assert.truthy(tostring(err):find("age", 1, true))
      assert.are.same({ name = "ann", age = 30 }, row(1))
    end)
  end)

  describe("inst:update", function()
    it("sets and saves in one call", function()
      local u = User:create{ name = "ann", age = 30 }
      local r = u:update{ age = 40, bio = "hi" }
      assert.are.equal(u, r)
      assert.are.equal(40, u.age)
      assert.are.same({ name = "ann", age = 40, bio = "hi" }, row(1))
    end)

    it("writes only the given columns", function()
      local u = User:create{ name = "ann", age = 30, bio = "x" }
      log.reset()
      u:update{ bio = "y" }
      local sets = update_sets(log.sql)
      assert.are.equal(1, #sets)
      assert.truthy(sets[1]:find('"bio"', 1, true))
      assert.falsy(sets[1]:find('"name"', 1, true))
      assert.falsy(sets[1]:find('"age"', 1, true))
    end)

    it("raises for an unknown attribute and writes nothing", function()
      local u = User:create{ name = "ann", age = 30 }
      assert.has_error(function() u:update{ nope = 1 } end)
      assert.are.same({ name = "ann", age = 30 }, row(1))
    end)
  end)

  describe("inst:destroy", function()
    it("deletes the row", function()
      local a = User:create{ name = "ann" }
      User:create{ name = "bob" }
      a:destroy()
      assert.are.same({ { name = "bob" } },
        db:query('SELECT "name" FROM "Users" ORDER BY "id"'))
      assert.is_nil(User:findByPk(1))
    end)
  end)

  describe("inst:reload", function()
    it("reads the stored row again", function()
      local u = User:create{ name = "ann", age = 30 }
      db:query('UPDATE "Users" SET "age" = ? WHERE "id" = ?', { 99, 1 })
      assert.are.equal(30, u.age)
      assert.are.equal(u, u:reload())
      assert.are.equal(99, u.age)
    end)

    it("discards unsaved changes", function()
      local u = User:create{ name = "ann", age = 30 }
      u.name = "bob"
      u:reload()
      assert.are.equal("ann", u.name)
      assert.are.same({}, changed_names(u))
    end)
  end)

  describe("inst:toTable", function()
    it("returns a plain table of the attributes", function()
      local u = User:create{ name = "ann", age = 30 }
      local t = u:toTable()
      assert.is_nil(getmetatable(t))
      assert.are.equal(1, t.id)
      assert.are.equal("ann", t.name)
      assert.are.equal(30, t.age)
      assert.is_nil(t.bio)
      assert.is_string(t.createdAt)
      assert.is_string(t.updatedAt)
    end)

    it("returns a copy that does not change the instance", function()
      local u = User:create{ name = "ann" }
      local t = u:toTable()
      t.name = "changed"
      assert.are.equal("ann", u.name)
    end)

    it("holds the values written but not saved", function()
      local u = User:create{ name = "ann" }
      u.age = 7
      assert.are.equal(7, u:toTable().age)
    end)
  end)

  describe("inst:changed", function()
    it("lists nothing for a freshly fetched instance", function()
      User:create{ name = "ann" }
      assert.are.same({}, changed_names(User:findByPk(1)))
    end)

    it("lists the attributes written since the last save", function()
      local u = User:findByPk(User:create{ name = "ann" }.id)
      u.age = 3
      assert.are.same({ "age" }, changed_names(u))
      u.bio = "b"
      assert.are.same({ "age", "bio" }, changed_names(u))
    end)

    it("does not list an attribute set to the value it has", function()
      local u = User:create{ name = "ann", age = 30 }
      u.age = 30
      assert.are.same({}, changed_names(u))
    end)
  end)

  describe("inst:isNewRecord", function()
    it("is true for a built instance and false once saved", function()
      local u = User:build{ name = "ann" }
      assert.is_true(u:isNewRecord())
      u:save()
      assert.is_false(u:isNewRecord())
    end)

    it("is false for created and fetched instances", function()
      local u = User:create{ name = "ann" }
      assert.is_false(u:isNewRecord())
      assert.is_false(User:findByPk(1):isNewRecord())
    end)
  end)

  describe("inst.Model", function()
    it("is the model of the instance", function()
      local Other = db:define("Other", { x = assoc.INTEGER })
      Other:sync()
      assert.are.equal(User, User:create{ name = "ann" }.Model)
      assert.are.equal(Other, Other:create{ x = 1 }.Model)
      assert.are.equal(User, User:build{ name = "b" }.Model)
    end)
  end)

  describe("tostring", function()
    it("shows the model name and the primary key", function()
      User:create{ name = "ann" }
      local u = User:create{ name = "bob" }
      local s = tostring(u)
      assert.truthy(s:find("User", 1, true))
      assert.truthy(s:find("2", 1, true))
    end)
  end)
end)
end
