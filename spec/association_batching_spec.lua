-- Accessors send a fixed number of statements however many targets they
-- get: 2 and 2,000 targets must cost the same (STYLE.md "SQL generation").
local helpers = require("helpers")
local assoc = require("assoc")

local fx = require("association_fixture")
local STAMP, fixture, links, link, owners = fx.STAMP, fx.fixture, fx.links,
  fx.link, fx.owners
local ids, seq, count_rows, writes = fx.ids, fx.seq, fx.count_rows, fx.writes
local fails, bad_argument, errname = fx.fails, fx.bad_argument, fx.errname

local MANY = 2000

-- Statements one call sends: reset the log, call, count.
local function statements(log, fn)
  log.reset()
  fn()
  return log.count()
end

-- Project (or Task) keys first..last.
local function range(first, last)
  local out = {}
  for i = first, last do out[#out + 1] = i end
  return out
end

for _, dialect in ipairs(helpers.dialects()) do
  describe("association batching [#" .. dialect .. "]", function()
    local m, db, log, ann, bob, many

    before_each(function()
      m = fixture(dialect)
      db, log = m.db, m.log
      ann, bob = m.ann, m.bob
      local rows = {}
      for i = 1, MANY do rows[i] = { title = "p" .. i } end
      many = m.Project:bulkCreate(rows)          -- ids 5 .. MANY + 4
      log.reset()
    end)

    after_each(function() db:close() end)

    it("created the projects with bulkCreate", function()
      assert.equal(MANY, #many)
      assert.equal(MANY + 4, count_rows(db, "Projects"))
    end)

    it("sends as many statements for addProjects of 2 as of 2,000", function()
      local small = statements(log, function()
        ann:addProjects({ m.alpha, m.beta })
      end)
      local large = statements(log, function() bob:addProjects(many) end)
      assert.equal(small, large)
      assert.equal(2 + MANY, count_rows(db, "UserProjects"))
      assert.equal(MANY, bob:countProjects())
    end)

    it("sends as many statements for addProjects by key", function()
      local small = statements(log, function() ann:addProjects({ 1, 2 }) end)
      local large = statements(log, function()
        bob:addProjects(range(5, MANY + 4))
      end)
      assert.equal(small, large)
      assert.equal(MANY, bob:countProjects())
    end)

    it("sends as many statements to update re-added links", function()
      ann:addProjects({ 1, 2 })
      bob:addProjects(many)
      local small = statements(log, function()
        ann:addProjects({ 1, 2 }, { through = { role = "x" } })
      end)
      local large = statements(log, function()
        bob:addProjects(many, { through = { role = "x" } })
      end)
      assert.equal(small, large)
      local q = { through = { where = { role = "x" } } }
      assert.equal(MANY, bob:countProjects(q))
    end)

    it("sends as many statements for setProjects from nothing", function()
      local small = statements(log, function() ann:setProjects({ 1, 2 }) end)
      local large = statements(log, function() bob:setProjects(many) end)
      assert.equal(small, large)
      assert.equal(MANY, bob:countProjects())
    end)

    it("sends as many statements for a set that adds, keeps and drops",
        function()
      ann:setProjects({ 1, 2 })
      bob:setProjects(range(5, 1004))
      local small = statements(log, function() ann:setProjects({ 2, 3 }) end)
      local large = statements(log, function()
        bob:setProjects(range(505, 1504))
      end)
      assert.equal(small, large)
      assert.equal(1000, bob:countProjects())
      assert.is_true(bob:hasProjects(range(505, 1504)))
      assert.is_false(bob:hasProject(504))
    end)

    it("sends as many statements for removeProjects", function()
      ann:addProjects({ 1, 2 })
      bob:addProjects(many)
      local small = statements(log, function() ann:removeProjects({ 1, 2 }) end)
      local large = statements(log, function() bob:removeProjects(many) end)
      assert.equal(small, large)
      assert.equal(0, count_rows(db, "UserProjects"))
    end)

    it("sends as many statements for hasProjects", function()
      ann:addProjects({ 1, 2 })
      bob:addProjects(many)
      local a, b
      local small = statements(log, function()
        a = ann:hasProjects({ 1, 2 })
      end)
      local large = statements(log, function() b = bob:hasProjects(many) end)
      assert.equal(small, large)
      assert.is_true(a)
      assert.is_true(b)
    end)

    it("sends as many statements for getProjects", function()
      ann:addProjects({ 1, 2 })
      bob:addProjects(many)
      local list
      local small = statements(log, function() ann:getProjects() end)
      local large = statements(log, function() list = bob:getProjects() end)
      assert.equal(small, large)
      assert.equal(MANY, #list)
    end)
  end)

  describe("hasMany batching [#" .. dialect .. "]", function()
    local m, db, log, ann, cid, many

    before_each(function()
      m = fixture(dialect)
      db, log = m.db, m.log
      ann, cid = m.ann, m.cid
      local rows = {}
      for i = 1, MANY do rows[i] = { title = "t" .. i } end
      many = m.Task:bulkCreate(rows)             -- ids 5 .. MANY + 4
      log.reset()
    end)

    after_each(function() db:close() end)

    it("sends as many statements for addTasks of 2 as of 2,000", function()
      local small = statements(log, function()
        ann:addTasks({ m.read, m.code })
      end)
      local large = statements(log, function() cid:addTasks(many) end)
      assert.equal(small, large)
      assert.equal(MANY, cid:countTasks())
    end)

    it("sends as many statements for setTasks", function()
      local small = statements(log, function() ann:setTasks({ 3, 4 }) end)
      local large = statements(log, function() cid:setTasks(many) end)
      assert.equal(small, large)
      assert.equal(MANY, cid:countTasks())
      assert.same({ 3, 4 }, ids(ann:getTasks()))
    end)

    it("sends as many statements for removeTasks", function()
      cid:addTasks(many)
      local small = statements(log, function() ann:removeTasks({ 1, 2 }) end)
      local large = statements(log, function() cid:removeTasks(many) end)
      assert.equal(small, large)
      assert.equal(0, cid:countTasks())
    end)

    it("sends as many statements for hasTasks", function()
      cid:addTasks(many)
      local a, b
      local small = statements(log, function() a = ann:hasTasks({ 1, 2 }) end)
      local large = statements(log, function() b = cid:hasTasks(many) end)
      assert.equal(small, large)
      assert.is_true(a)
      assert.is_true(b)
    end)
  end)
end
