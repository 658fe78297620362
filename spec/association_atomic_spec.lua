-- Each set/add/create/remove is atomic (R1): a failure halfway leaves the
-- tables as they were, outside or inside an open transaction, and
-- opts.transaction carries accessors into a transaction that can roll back.
local helpers = require("helpers")
local assoc = require("assoc")

local fx = require("association_fixture")
local STAMP, fixture, links, link, owners = fx.STAMP, fx.fixture, fx.links,
  fx.link, fx.owners
local ids, seq, count_rows, writes = fx.ids, fx.seq, fx.count_rows, fx.writes
local fails, bad_argument, errname = fx.fails, fx.bad_argument, fx.errname

-- ann: alpha (dev), beta (lead); bob: alpha.
local BEFORE = { "1/1/dev", "1/2/lead", "2/1/-" }

local function seed_links(db)
  link(db, 1, 1, "dev")
  link(db, 1, 2, "lead")
  link(db, 2, 1)
end

local function user_names(db)
  local out = {}
  for _, r in ipairs(db:query('SELECT "name" FROM "Users" ORDER BY "id"')) do
    out[#out + 1] = r.name
  end
  return out
end

local bad_role = { type = assoc.STRING, validate = {
  notBad = function(v)
    if v == "bad" then error("role may not be bad") end
  end,
} }

for _, dialect in ipairs(helpers.dialects()) do
  describe("atomic accessors [#" .. dialect .. "]", function()
    local m, db, ann, bob, alpha, beta, gamma, delta

    before_each(function()
      m = fixture(dialect, { role = bad_role })
      db = m.db
      ann, bob = m.ann, m.bob
      alpha, beta, gamma, delta = m.alpha, m.beta, m.gamma, m.delta
      seed_links(db)
    end)

    after_each(function() db:close() end)

    describe("outside a transaction", function()
      it("undoes the delete of a setProjects whose insert fails", function()
        local err = fails(function()
          return ann:setProjects({ beta, gamma, 999 })
        end)
        assert.equal("ForeignKeyConstraintError", errname(err))
        assert.same(BEFORE, links(db))
      end)

      it("undoes a setProjects whose last key names no row", function()
        fails(function() return ann:setProjects({ 3, 4, 999 }) end)
        assert.same(BEFORE, links(db))
      end)

      it("undoes the updates of a setProjects whose insert fails", function()
        fails(function()
          return ann:setProjects({ alpha, beta, 999 },
            { through = { role = "x" } })
        end)
        assert.same(BEFORE, links(db))
      end)

      it("undoes an addProjects whose last key names no row", function()
        local err = fails(function()
          return ann:addProjects({ gamma, delta, 999 })
        end)
        assert.equal("ForeignKeyConstraintError", errname(err))
        assert.same(BEFORE, links(db))
      end)

      it("undoes the updates of an addProjects whose insert fails", function()
        fails(function()
          return ann:addProjects({ alpha, beta, 999 },
            { through = { role = "x" } })
        end)
        assert.same(BEFORE, links(db))
      end)

      it("undoes a setProjects whose join validation fails", function()
        local err = fails(function()
          return ann:setProjects({ gamma }, { through = { role = "bad" } })
        end)
        assert.equal("ValidationError", errname(err))
        assert.same(BEFORE, links(db))
      end)

      it("leaves no project behind when createProject cannot link it",
          function()
        local err = fails(function()
          return ann:createProject({ title = "omega" },
            { through = { role = "bad" } })
        end)
        assert.equal("ValidationError", errname(err))
        assert.equal(4, count_rows(db, "Projects"))
        assert.same(BEFORE, links(db))
      end)

      it("leaves the database usable after the failure", function()
        fails(function() return ann:setProjects({ gamma, 999 }) end)
        ann:setProjects({ gamma })
        assert.same({ "1/3/-", "2/1/-" }, links(db))
      end)

      it("undoes a setUser whose key names no row", function()
        fails(function() return m.wash:setUser(999) end)
        assert.same({ 1, 1, 2, false }, owners(db))
      end)
    end)

    describe("inside db:transaction(fn)", function()
      it("keeps the outer transaction's earlier work when the error is caught",
          function()
        db:transaction(function()
          m.User:create{ name = "dan" }
          bob:addProject(gamma)
          local ok, err = pcall(function()
            return ann:setProjects({ gamma, 999 })
          end)
          assert.is_false(ok)
          assert.equal("ForeignKeyConstraintError", errname(err))
        end)
        assert.same({ "ann", "bob", "cid", "dan" }, user_names(db))
        assert.same({ "1/1/dev", "1/2/lead", "2/1/-", "2/3/-" }, links(db))
      end)

      it("keeps the outer transaction usable after the error", function()
        db:transaction(function()
          pcall(function() return ann:addProjects({ gamma, 999 }) end)
          ann:addProject(delta, { role = "late" })
          assert.is_true(ann:hasProject(delta))
        end)
        assert.same({ "1/1/dev", "1/2/lead", "1/4/late", "2/1/-" }, links(db))
      end)

      it("undoes only the failed call inside the transaction", function()
        db:transaction(function()
          pcall(function() return ann:setProjects({ gamma, 999 }) end)
          assert.same(BEFORE, links(db))
        end)
        assert.same(BEFORE, links(db))
      end)

      it("undoes a failed createProject inside the transaction", function()
        db:transaction(function()
          pcall(function()
            return ann:createProject({ title = "omega" }, { role = "bad" })
          end)
          assert.equal(4, count_rows(db, "Projects"))
          m.Project:create{ title = "kept" }
        end)
        assert.equal(5, count_rows(db, "Projects"))
        assert.same(BEFORE, links(db))
      end)

      it("rolls everything back when the error is not caught", function()
        local ok = pcall(function()
          db:transaction(function()
            bob:addProject(gamma)
            ann:setProjects({ gamma, 999 })
          end)
        end)
        assert.is_false(ok)
        assert.same(BEFORE, links(db))
      end)
    end)

    describe("inside an explicit transaction", function()
      it("keeps earlier work and commits after a caught error", function()
        local t = db:transaction()
        bob:addProject(gamma, { transaction = t })
        local ok = pcall(function()
          return ann:setProjects({ gamma, 999 }, { transaction = t })
        end)
        assert.is_false(ok)
        m.cid:addProject(delta, { transaction = t })
        t:commit()
        assert.same({ "1/1/dev", "1/2/lead", "2/1/-", "2/3/-", "3/4/-" },
          links(db))
      end)

      it("undoes everything on rollback after a caught error", function()
        local t = db:transaction()
        bob:addProject(gamma, { transaction = t })
        pcall(function()
          return ann:addProjects({ delta, 999 }, { transaction = t })
        end)
        t:rollback()
        assert.same(BEFORE, links(db))
      end)
    end)
  end)

  describe("accessors in transactions [#" .. dialect .. "]", function()
    local m, db, ann, bob, cid, alpha, gamma

    before_each(function()
      m = fixture(dialect)
      db = m.db
      ann, bob, cid = m.ann, m.bob, m.cid
      alpha, gamma = m.alpha, m.gamma
      seed_links(db)
    end)

    after_each(function() db:close() end)

    it("undoes addProject on rollback of opts.transaction", function()
      local t = db:transaction()
      ann:addProject(gamma, { transaction = t })
      assert.is_true(ann:hasProject(gamma, { transaction = t }))
      t:rollback()
      assert.same(BEFORE, links(db))
    end)

    it("undoes setProjects on rollback", function()
      local t = db:transaction()
      ann:setProjects({ gamma }, { transaction = t })
      assert.same({ 3 }, ids(ann:getProjects{ transaction = t }))
      t:rollback()
      assert.same(BEFORE, links(db))
    end)

    it("undoes removeProjects on rollback", function()
      local t = db:transaction()
      ann:removeProjects({ 1, 2 }, { transaction = t })
      assert.equal(0, ann:countProjects{ transaction = t })
      t:rollback()
      assert.same(BEFORE, links(db))
    end)

    it("undoes createProject on rollback", function()
      local t = db:transaction()
      cid:createProject({ title = "omega" }, { transaction = t })
      t:rollback()
      assert.equal(4, count_rows(db, "Projects"))
      assert.same(BEFORE, links(db))
    end)

    it("keeps the accessors' work on commit", function()
      local t = db:transaction()
      cid:addProject(alpha, { transaction = t, role = "dev" })
      cid:createTask({ title = "new" }, { transaction = t })
      t:commit()
      assert.same({ "1/1/dev", "1/2/lead", "2/1/-", "3/1/dev" }, links(db))
      assert.same({ 1, 1, 2, false, 3 }, owners(db))
    end)

    it("undoes hasMany addTasks, setTasks and removeTasks on rollback",
        function()
      local t = db:transaction()
      cid:addTasks({ m.code }, { transaction = t })
      bob:setTasks({ m.wash }, { transaction = t })
      ann:removeTasks({ m.cook }, { transaction = t })
      assert.same({ 2, false, false, 3 }, owners(db))
      t:rollback()
      assert.same({ 1, 1, 2, false }, owners(db))
    end)

    it("undoes createTask on rollback", function()
      local t = db:transaction()
      ann:createTask({ title = "new" }, { transaction = t })
      t:rollback()
      assert.equal(4, count_rows(db, "Tasks"))
    end)

    it("undoes belongsTo setUser and createUser on rollback", function()
      local t = db:transaction()
      m.wash:setUser(bob, { transaction = t })
      m.code:createUser({ name = "dan" }, { transaction = t })
      t:rollback()
      assert.same({ 1, 1, 2, false }, owners(db))
      assert.equal(3, count_rows(db, "Users"))
    end)

    it("undoes the accessors of a db:transaction function that raises",
        function()
      local ok = pcall(db.transaction, db, function(t)
        ann:addProject(gamma, { transaction = t })
        cid:addTask(m.code, { transaction = t })
        error("boom")
      end)
      assert.is_false(ok)
      assert.same(BEFORE, links(db))
      assert.same({ 1, 1, 2, false }, owners(db))
    end)

    it("commits the accessors of a db:transaction function that returns",
        function()
      db:transaction(function(t)
        ann:addProject(gamma, { transaction = t })
        ann:removeProject(alpha, { transaction = t })
      end)
      assert.same({ "1/2/lead", "1/3/-", "2/1/-" }, links(db))
    end)

    it("refuses a finished transaction and writes nothing", function()
      local t = db:transaction()
      t:commit()
      fails(function() return ann:addProject(gamma, { transaction = t }) end)
      assert.same(BEFORE, links(db))
    end)
  end)
end
