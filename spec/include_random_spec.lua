-- Eager loading against the lazy getters over generated data: for fixed
-- seeds, every tree that include loads must hold what u:getTasks(),
-- u:getProjects() and the other getters return for the same parents.
-- Issue 6 "How we will know".
local helpers = require("helpers")
local assoc = require("assoc")

local NUSERS, NPROJECTS, NTASKS = 30, 40, 60
local ROLES = { "dev", "lead", "qa", false }   -- false: a NULL role

-- A small linear congruential generator, so each seed gives one data set.
local function prng(seed)
  local state = seed % 2147483648
  return function(lo, hi)
    state = (state * 1103515245 + 12345) % 2147483648
    return lo + (state >> 8) % (hi - lo + 1)
  end
end

-- Models, associations and the generated rows.
local function generate(dialect, seed)
  local rand = prng(seed)
  local log = helpers.logger()
  local db = helpers.open(dialect, { logging = log.fn })
  local m = { db = db, log = log }
  m.User = db:define("User", { name = assoc.STRING })
  m.Project = db:define("Project", {
    title = assoc.STRING,
    status = { type = assoc.STRING, defaultValue = "open" },
  })
  m.UserProject = db:define("UserProject", { role = assoc.STRING })
  m.Task = db:define("Task", {
    title = assoc.STRING,
    done = { type = assoc.BOOLEAN, defaultValue = false },
  })
  m.User:hasMany(m.Task)
  m.Task:belongsTo(m.User)
  m.User:belongsToMany(m.Project, { through = m.UserProject })
  m.Project:belongsToMany(m.User, { through = m.UserProject })
  m.Project:hasMany(m.Task)
  m.Task:belongsTo(m.Project)
  db:sync{ force = true }

  local users, projects, tasks, links = {}, {}, {}, {}
  for i = 1, NUSERS do users[i] = { name = "user" .. i } end
  for i = 1, NPROJECTS do
    projects[i] = { title = "p" .. rand(1, 15),
                    status = rand(1, 3) == 1 and "closed" or "open" }
  end
  for i = 1, NTASKS do
    tasks[i] = {
      title = "t" .. rand(10, 30),         -- repeats, to test ties
      done = rand(1, 2) == 1,
      UserId = rand(1, 7) > 1 and rand(1, NUSERS) or assoc.null,
      ProjectId = rand(1, 5) > 1 and rand(1, NPROJECTS) or assoc.null,
    }
  end
  for u = 1, NUSERS do
    local seen = {}
    for _ = 1, rand(0, 5) do
      local p = rand(1, NPROJECTS)
      if not seen[p] then
        seen[p] = true
        local role = ROLES[rand(1, #ROLES)]
        links[#links + 1] = { UserId = u, ProjectId = p,
                              role = role or assoc.null }
      end
    end
  end
  m.User:bulkCreate(users)
  m.Project:bulkCreate(projects)
  m.Task:bulkCreate(tasks)
  m.UserProject:bulkCreate(links)
  m.nlinks = #links
  log.reset()
  return m
end

-- Sorted primary keys, and keys in the order given.
local fx = require("association_fixture")
local ids, seq = fx.ids, fx.seq

-- "id:role" strings of belongsToMany rows, sorted ("-" for a NULL role).
local function roles(list)
  local out = {}
  for i, x in ipairs(list) do
    assert.is_not_nil(x.UserProject, "join row missing on " .. tostring(x))
    out[i] = x.id .. ":" .. tostring(x.UserProject.role or "-")
  end
  table.sort(out)
  return out
end

local function id_of(inst) return inst and inst.id or false end

for _, dialect in ipairs(helpers.dialects()) do
  for _, seed in ipairs({ 1, 42, 2026 }) do
    describe("include vs getters, seed " .. seed .. " [#" .. dialect .. "]",
      function()
        local m, db, log, User, Project, Task
        local lazy = {}          -- user id -> { tasks =, projects = }

        lazy_setup(function()
          m = generate(dialect, seed)
          db, log = m.db, m.log
          User, Project, Task = m.User, m.Project, m.Task
          for _, u in ipairs(User:findAll{ order = { "id" } }) do
            lazy[u.id] = { user = u, tasks = u:getTasks(),
                           projects = u:getProjects() }
          end
        end)

        lazy_teardown(function() if db then db:close() end end)

        it("generated a data set with links and orphans", function()
          assert.equal(NUSERS, User:count())
          assert.equal(NTASKS, Task:count())
          assert.truthy(m.nlinks > NUSERS)
          assert.truthy(#db:query('SELECT "id" FROM "Tasks"'
            .. ' WHERE "UserId" IS NULL') > 0)
        end)

        it("loads every user's tasks and projects as the getters do",
          function()
            local us = User:findAll{ include = { Task, Project },
                                     order = { "id" } }
            assert.equal(NUSERS, #us)
            for _, u in ipairs(us) do
              assert.same(ids(lazy[u.id].tasks), ids(u.Tasks),
                "tasks of user " .. u.id)
              assert.same(ids(lazy[u.id].projects), ids(u.Projects),
                "projects of user " .. u.id)
            end
          end)

        it("gives the join roles the getters give", function()
          local us = User:findAll{ include = { Project }, order = { "id" } }
          for _, u in ipairs(us) do
            assert.same(roles(lazy[u.id].projects), roles(u.Projects),
              "roles of user " .. u.id)
          end
        end)

        it("costs one statement per include", function()
          log.reset()
          User:findAll{ include = { Task, Project }, order = { "id" } }
          assert.equal(3, log.count())
        end)

        it("loads a nested tree as the getters do", function()
          local us = User:findAll{ order = { "id" }, include = {
            { model = Project, include = { Task, User } } } }
          for _, u in ipairs(us) do
            for _, p in ipairs(u.Projects) do
              assert.same(ids(p:getTasks()), ids(p.Tasks),
                "tasks of project " .. p.id)
              assert.same(roles(p:getUsers()), roles(p.Users),
                "users of project " .. p.id)
            end
          end
        end)

        it("loads to depth 3 as the getters do, in 4 statements", function()
          log.reset()
          local us = User:findAll{ order = { "id" }, include = {
            { model = Project, include = {
              { model = User, include = { Task } } } } } }
          assert.equal(4, log.count())
          for _, u in ipairs(us) do
            for _, p in ipairs(u.Projects) do
              for _, v in ipairs(p.Users) do
                assert.same(ids(lazy[v.id].tasks), ids(v.Tasks),
                  "tasks of user " .. v.id .. " under project " .. p.id)
              end
            end
          end
        end)

        it("loads each task's owner and project", function()
          local ts = Task:findAll{ include = { User, Project },
                                   order = { "id" } }
          assert.equal(NTASKS, #ts)
          for _, t in ipairs(ts) do
            assert.equal(id_of(t:getUser()), id_of(t.User), "task " .. t.id)
            assert.equal(id_of(t:getProject()), id_of(t.Project),
              "task " .. t.id)
            assert.equal(t.UserId or false, id_of(t.User))
          end
        end)

        it("loads each project's users with their roles", function()
          local ps = Project:findAll{ include = { User }, order = { "id" } }
          assert.equal(NPROJECTS, #ps)
          for _, p in ipairs(ps) do
            assert.same(roles(p:getUsers()), roles(p.Users),
              "project " .. p.id)
          end
        end)

        it("counts as countTasks and countProjects do", function()
          local us = User:findAll{ order = { "id" }, include = {
            { association = "Tasks", count = true },
            { association = "Projects", count = true } } }
          for _, u in ipairs(us) do
            assert.equal(#lazy[u.id].tasks, u.TasksCount, "user " .. u.id)
            assert.equal(#lazy[u.id].projects, u.ProjectsCount,
              "user " .. u.id)
          end
        end)

        it("keeps exactly the users with tasks when required", function()
          local want = {}
          for id = 1, NUSERS do
            if #lazy[id].tasks > 0 then want[#want + 1] = id end
          end
          local us = User:findAll{ order = { "id" },
            include = { { model = Task, required = true } } }
          assert.same(want, seq(us))
        end)

        it("counts parents with limit, offset and required", function()
          local want = {}
          for id = 1, NUSERS do
            if #lazy[id].projects > 0 then want[#want + 1] = id end
          end
          local us = User:findAll{ order = { "id" }, limit = 5, offset = 2,
            include = { { model = Project, required = true } } }
          assert.same({ table.unpack(want, 3, 7) }, seq(us))
          for _, u in ipairs(us) do
            assert.same(ids(lazy[u.id].projects), ids(u.Projects))
          end
        end)

        it("drops nested rows without a required match, not the users",
          function()
            local us = User:findAll{ order = { "id" }, include = {
              { model = Project, include = {
                { model = Task, required = true } } } } }
            assert.equal(NUSERS, #us)
            for _, u in ipairs(us) do
              local want = {}
              for _, p in ipairs(lazy[u.id].projects) do
                if #p:getTasks() > 0 then want[#want + 1] = p.id end
              end
              table.sort(want)
              assert.same(want, ids(u.Projects), "user " .. u.id)
              for _, p in ipairs(u.Projects) do
                assert.same(ids(p:getTasks()), ids(p.Tasks),
                  "tasks of project " .. p.id)
              end
            end
          end)

        it("filters with where as the getter does", function()
          local open = { status = "open" }
          local us = User:findAll{ order = { "id" },
            include = { { model = Project, where = open } } }
          local want = {}
          for id = 1, NUSERS do
            if #lazy[id].user:getProjects{ where = open } > 0 then
              want[#want + 1] = id
            end
          end
          assert.same(want, seq(us))
          for _, u in ipairs(us) do
            assert.same(ids(u:getProjects{ where = open }), ids(u.Projects))
          end
        end)

        it("filters join rows with through.where as the getter does",
          function()
            local dev = { through = { where = { role = "dev" } } }
            local us = User:findAll{ order = { "id" },
              include = { { model = Project, through = dev.through } } }
            assert.equal(NUSERS, #us)
            for _, u in ipairs(us) do
              assert.same(roles(u:getProjects(dev)), roles(u.Projects),
                "user " .. u.id)
            end
          end)

        it("applies limit and order per user as the getter does", function()
          local q = { order = { { "title", "DESC" }, "id" }, limit = 2 }
          local us = User:findAll{ order = { "id" }, include = {
            { model = Task, order = q.order, limit = q.limit } } }
          for _, u in ipairs(us) do
            assert.same(seq(u:getTasks(q)), seq(u.Tasks), "user " .. u.id)
          end
        end)

        it("applies offset per user in belongsToMany as the getter does",
          function()
            local q = { order = { "title", "id" }, limit = 2, offset = 1 }
            local us = User:findAll{ order = { "id" }, include = {
              { model = Project, order = q.order, limit = q.limit,
                offset = q.offset } } }
            for _, u in ipairs(us) do
              assert.same(seq(u:getProjects(q)), seq(u.Projects),
                "user " .. u.id)
            end
          end)

        it("loads through a getter as through findAll", function()
          for id = 1, NUSERS, 7 do
            local u = lazy[id].user
            local ps = u:getProjects{ include = { Task } }
            assert.same(ids(lazy[id].projects), ids(ps))
            for _, p in ipairs(ps) do
              assert.same(ids(p:getTasks()), ids(p.Tasks))
            end
          end
        end)
      end)
  end
end
