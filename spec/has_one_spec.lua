-- hasOne accessors (User has one Profile): set replaces, create unlinks the
-- previous target first (R14).  SEMANTICS.md sections 2.3, 6 and 13.
local helpers = require("helpers")
local assoc = require("assoc")

local fx = require("association_fixture")
local STAMP, fixture, links, link, owners = fx.STAMP, fx.fixture, fx.links,
  fx.link, fx.owners
local ids, seq, count_rows, writes = fx.ids, fx.seq, fx.count_rows, fx.writes
local fails, bad_argument, errname = fx.fails, fx.bad_argument, fx.errname

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
