-- hasOne accessors (User has one Profile): set replaces, create unlinks the
-- previous target first (R14).  SEMANTICS.md sections 2.3, 6 and 13.
local helpers = require("helpers")
local assoc = require("assoc")

-- Local helpers (spec/helpers.lua is shared and not ours to extend).
local STAMP = "2026-01-01T00:00:00.000Z"

-- The SEMANTICS.md fixture on a fresh database that logs every statement.
-- o.role replaces the role attribute of UserProject, o.user/o.project/o.task
-- are model options, o.through the belongsToMany through, o.hasMany the
-- options of User:hasMany(Task), o.extra(m) declares more before the sync;
-- o.cook_done and o.beta_status change seed values.
local function fixture(dialect, o)
  o = o or {}
  local log = helpers.logger()
  local db = helpers.open(dialect, { logging = log.fn })
  local m = { db = db, log = log }
  m.User = db:define("User", { name = assoc.STRING }, o.user)
  m.Project = db:define("Project", {
    title = assoc.STRING,
    status = { type = assoc.STRING, defaultValue = "open" },
  }, o.project)
  m.UserProject = db:define("UserProject", { role = o.role or assoc.STRING })
  m.Task = db:define("Task", {
    title = assoc.STRING,
    done = { type = assoc.BOOLEAN, defaultValue = false },
  }, o.task)
  local through = o.through or m.UserProject
  m.tasks = m.User:hasMany(m.Task, o.hasMany)
  m.owner = m.Task:belongsTo(m.User)
  m.projects = m.User:belongsToMany(m.Project, { through = through })
  m.users = m.Project:belongsToMany(m.User, { through = through })
  if o.extra then o.extra(m) end
  db:sync{ force = true }
  m.ann = m.User:create{ name = "ann" }
  m.bob = m.User:create{ name = "bob" }
  m.cid = m.User:create{ name = "cid" }
  m.alpha = m.Project:create{ title = "alpha" }
  m.beta = m.Project:create{ title = "beta", status = o.beta_status }
  m.gamma = m.Project:create{ title = "gamma" }
  m.delta = m.Project:create{ title = "delta" }
  m.wash = m.Task:create{ title = "wash", UserId = m.ann.id }
  m.cook = m.Task:create{ title = "cook", UserId = m.ann.id,
                          done = o.cook_done }
  m.read = m.Task:create{ title = "read", UserId = m.bob.id }
  m.code = m.Task:create{ title = "code" }
  log.reset()
  return m
end

-- Join rows as "UserId/ProjectId/role" strings ("-" for a NULL role).
local function links(db, tbl)
  local out = {}
  local rows = db:query('SELECT "UserId", "ProjectId", "role" FROM "'
    .. (tbl or "UserProjects") .. '" ORDER BY "UserId", "ProjectId"')
  for _, r in ipairs(rows) do
    out[#out + 1] = ("%d/%d/%s"):format(r.UserId, r.ProjectId, r.role or "-")
  end
  return out
end

-- Insert a join row behind the accessors' back.
local function link(db, user, project, role, tbl)
  db:query('INSERT INTO "' .. (tbl or "UserProjects")
    .. '" ("UserId", "ProjectId", "role", "createdAt", "updatedAt")'
    .. ' VALUES (?, ?, ?, ?, ?)',
    { user, project, role == nil and assoc.null or role, STAMP, STAMP })
end

-- The owner of each task (or row of tbl), in id order (false for none).
local function owners(db, tbl)
  local out = {}
  for _, r in ipairs(db:query('SELECT "id", "UserId" FROM "'
      .. (tbl or "Tasks") .. '" ORDER BY "id"')) do
    out[#out + 1] = r.UserId and tonumber(r.UserId) or false
  end
  return out
end

-- Primary keys of instances: sorted, or in the order given.
local function ids(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = x.id end
  table.sort(out)
  return out
end
local function seq(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = x.id end
  return out
end

local function count_rows(db, tbl)
  return tonumber(db:query('SELECT COUNT(*) AS "n" FROM "' .. tbl .. '"')[1].n)
end

-- Statements of the log that write (INSERT, UPDATE, DELETE).
local function writes(log)
  local n = 0
  for _, sql in ipairs(log.sql) do
    local verb = sql:match("^%s*(%a+)")
    verb = verb and verb:upper()
    if verb == "INSERT" or verb == "UPDATE" or verb == "DELETE" then
      n = n + 1
    end
  end
  return n
end

-- Run fn, which must raise; returns the error.
local function fails(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  return err
end

-- A misuse error: "bad argument #1 to 'fname' (... what ...)".
local function bad_argument(err, fname, what)
  assert.equal("string", type(err),
    "expected a bad argument string, got " .. tostring(err))
  local head = "bad argument #1 to '" .. fname .. "'"
  assert.truthy(err:find(head, 1, true), err)
  if what then assert.truthy(err:find(what, 1, true), err) end
end

-- The class of an error object (the message itself for a string).
local function errname(err)
  if type(err) == "string" then return err end
  return err.name
end

-- Profile{bio} with User:hasOne(Profile); ann has p1, bob p2, p3 is spare.
local function profiles(dialect, hasone_opts)
  return fixture(dialect, { extra = function(m)
    m.Profile = m.db:define("Profile", { bio = assoc.STRING })
    m.profile = m.User:hasOne(m.Profile, hasone_opts)
  end })
end

for _, dialect in ipairs(helpers.dialects()) do
  describe("hasOne [#" .. dialect .. "]", function()
    local m, db, log
    local User, Profile, ann, bob, cid, p1, p2, p3, alpha

    before_each(function()
      m = profiles(dialect)
      db, log = m.db, m.log
      User, Profile = m.User, m.Profile
      ann, bob, cid, alpha = m.ann, m.bob, m.cid, m.alpha
      p1 = Profile:create{ bio = "ann's", UserId = ann.id }
      p2 = Profile:create{ bio = "bob's", UserId = bob.id }
      p3 = Profile:create{ bio = "spare" }
      log.reset()
    end)

    after_each(function() db:close() end)

    describe("declaring", function()
      it("gives the source getProfile, setProfile and createProfile", function()
        for _, name in ipairs{ "getProfile", "setProfile", "createProfile" } do
          assert.equal("function", type(ann[name]), name)
        end
      end)

      it("returns a HasOne association keyed UserId", function()
        assert.equal("HasOne", m.profile.associationType)
        assert.equal("Profile", m.profile.as)
        assert.equal("UserId", m.profile.foreignKey)
        assert.equal(m.profile, User.associations.Profile)
      end)

      it("adds the UserId column to the target's table", function()
        assert.same({ 1, 2, false }, owners(db, "Profiles"))
      end)

      it("nulls the key when the user is destroyed", function()
        ann:destroy()
        assert.same({ false, 2, false }, owners(db, "Profiles"))
      end)
    end)

    describe("getProfile", function()
      it("returns the linked target", function()
        local p = ann:getProfile()
        assert.equal(1, p.id)
        assert.equal("ann's", p.bio)
        assert.truthy(tostring(p):find("Profile", 1, true))
      end)

      it("returns nil when nothing is linked", function()
        assert.is_nil(cid:getProfile())
      end)

      it("raises an error for an unsaved source", function()
        fails(function() return User:build{ name = "x" }:getProfile() end)
      end)
    end)

    describe("setProfile", function()
      it("replaces the linked target, nulling the old one's key", function()
        ann:setProfile(p3)
        assert.same({ false, 2, 1 }, owners(db, "Profiles"))
        assert.equal(3, ann:getProfile().id)
      end)

      it("takes a primary key", function()
        ann:setProfile(3)
        assert.same({ false, 2, 1 }, owners(db, "Profiles"))
      end)

      it("converts a key given as a string", function()
        ann:setProfile("3")
        assert.same({ false, 2, 1 }, owners(db, "Profiles"))
      end)

      it("links a target for a source that had none", function()
        cid:setProfile(p3)
        assert.same({ 1, 2, 3 }, owners(db, "Profiles"))
      end)

      it("leaves the same target linked", function()
        ann:setProfile(p1)
        assert.same({ 1, 2, false }, owners(db, "Profiles"))
      end)

      it("unlinks for nil", function()
        ann:setProfile(nil)
        assert.same({ false, 2, false }, owners(db, "Profiles"))
        assert.is_nil(ann:getProfile())
      end)

      it("takes the target from another source", function()
        ann:setProfile(p2)
        assert.same({ false, 1, false }, owners(db, "Profiles"))
        assert.is_nil(bob:getProfile())
      end)

      it("keeps the target's other attributes", function()
        ann:setProfile(p3)
        assert.equal("spare", ann:getProfile().bio)
      end)

      it("rejects a boolean and changes nothing", function()
        bad_argument(fails(function() return ann:setProfile(true) end),
          "setProfile", "got boolean")
        assert.same({ 1, 2, false }, owners(db, "Profiles"))
      end)

      it("rejects an instance of another model, naming Profile", function()
        bad_argument(fails(function() return ann:setProfile(alpha) end),
          "setProfile", "Profile")
        assert.same({ 1, 2, false }, owners(db, "Profiles"))
      end)

      it("rejects an unsaved target", function()
        bad_argument(fails(function()
          return ann:setProfile(Profile:build{ bio = "new" })
        end), "setProfile")
        assert.same({ 1, 2, false }, owners(db, "Profiles"))
      end)

      it("raises an error for an unsaved source", function()
        fails(function() return User:build{ name = "x" }:setProfile(p3) end)
        assert.same({ 1, 2, false }, owners(db, "Profiles"))
      end)
    end)

    describe("createProfile", function()
      it("creates a linked target and returns it", function()
        local p = cid:createProfile{ bio = "new" }
        assert.equal(4, p.id)
        assert.equal("new", p.bio)
        assert.equal(3, p.UserId)
        assert.same({ 1, 2, false, 3 }, owners(db, "Profiles"))
      end)

      it("unlinks the previous target first", function()
        ann:createProfile{ bio = "newer" }
        assert.same({ false, 2, false, 1 }, owners(db, "Profiles"))
        assert.equal(4, ann:getProfile().id)
      end)

      it("overrides a foreign key given in the values", function()
        local p = cid:createProfile{ bio = "new", UserId = 2 }
        assert.equal(3, p.UserId)
        assert.same({ 1, 2, false, 3 }, owners(db, "Profiles"))
      end)

      it("raises an error for an unsaved source and inserts nothing", function()
        local ghost = User:build{ name = "x" }
        fails(function() return ghost:createProfile{ bio = "n" } end)
        assert.equal(3, count_rows(db, "Profiles"))
      end)
    end)
  end)

  describe("hasOne with as [#" .. dialect .. "]", function()
    local m, db

    before_each(function()
      m = profiles(dialect, { as = "Favorite" })
      db = m.db
    end)

    after_each(function() db:close() end)

    it("names the accessors after the alias", function()
      for _, name in ipairs{ "getFavorite", "setFavorite", "createFavorite" } do
        assert.equal("function", type(m.ann[name]), name)
      end
      assert.equal(m.profile, m.User.associations.Favorite)
    end)

    it("names the foreign key after the alias, as Sequelize 6 does", function()
      assert.equal("FavoriteId", m.profile.foreignKey)
      local p = m.ann:createFavorite{ bio = "fav" }
      local row = db:query(
        'SELECT "FavoriteId" FROM "Profiles" WHERE "id" = ?', { p.id })[1]
      assert.equal(1, row.FavoriteId)
      assert.equal(p.id, m.ann:getFavorite().id)
    end)
  end)
end
