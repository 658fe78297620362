-- Self-associations: directional Friends through friendships, and
-- Children/Parent over one parentId key.  SEMANTICS.md section 9.
local helpers = require("helpers")
local assoc = require("assoc")

local fx = require("association_fixture")
local STAMP, fixture, links, link, owners = fx.STAMP, fx.fixture, fx.links,
  fx.link, fx.owners
local ids, seq, count_rows, writes = fx.ids, fx.seq, fx.count_rows, fx.writes
local fails, bad_argument, errname = fx.fails, fx.bad_argument, fx.errname

-- Friendships "userId/friendId", in order.
local function friendships(db)
  local out = {}
  for _, r in ipairs(db:query('SELECT "userId", "friendId" FROM "friendships"'
      .. ' ORDER BY "userId", "friendId"')) do
    out[#out + 1] = ("%d/%d"):format(r.userId, r.friendId)
  end
  return out
end

-- parentId of every user, in id order (false for none).
local function parents(db)
  local out = {}
  local rows = db:query('SELECT "parentId" FROM "Users" ORDER BY "id"')
  for _, r in ipairs(rows) do
    out[#out + 1] = r.parentId and tonumber(r.parentId) or false
  end
  return out
end

local function self_fixture(dialect, extra)
  return fixture(dialect, { extra = function(m)
    m.friends = m.User:belongsToMany(m.User, { as = "Friends",
      through = "friendships", foreignKey = "userId", otherKey = "friendId" })
    m.children = m.User:hasMany(m.User, { as = "Children",
                                          foreignKey = "parentId" })
    m.parent = m.User:belongsTo(m.User, { as = "Parent",
                                          foreignKey = "parentId" })
    if extra then extra(m) end
  end })
end

for _, dialect in ipairs(helpers.dialects()) do
  describe("self belongsToMany [#" .. dialect .. "]", function()
    local m, db, User, ann, bob, cid

    before_each(function()
      m = self_fixture(dialect)
      db, User = m.db, m.User
      ann, bob, cid = m.ann, m.bob, m.cid
    end)

    after_each(function() db:close() end)

    it("returns an Association from User to User", function()
      assert.equal(User, m.friends.source)
      assert.equal(User, m.friends.target)
      assert.equal("Friends", m.friends.as)
      assert.equal("userId", m.friends.foreignKey)
      assert.equal("BelongsToMany", m.friends.associationType)
      assert.equal(m.friends, User.associations.Friends)
    end)

    it("gives the accessors named after the alias", function()
      for _, name in ipairs{ "getFriends", "setFriends", "addFriend",
          "addFriends", "createFriend", "removeFriend", "removeFriends",
          "hasFriend", "hasFriends", "countFriends" } do
        assert.equal("function", type(ann[name]), name)
      end
    end)

    it("links in one direction only", function()
      assert.is_nil(ann:addFriends({ bob, cid }))
      assert.same({ "1/2", "1/3" }, friendships(db))
      assert.same({ 2, 3 }, ids(ann:getFriends()))
      assert.same({}, ids(bob:getFriends()))
      assert.is_true(ann:hasFriend(bob))
      assert.is_false(bob:hasFriend(ann))
    end)

    it("allows a user to befriend itself", function()
      ann:addFriend(ann)
      assert.same({ "1/1" }, friendships(db))
      assert.same({ 1 }, ids(ann:getFriends()))
    end)

    it("keeps both directions as separate links", function()
      ann:addFriend(bob)
      bob:addFriend(ann)
      assert.same({ "1/2", "2/1" }, friendships(db))
      assert.equal(1, ann:countFriends())
      assert.equal(1, bob:countFriends())
    end)

    it("hangs the join row under the through name", function()
      ann:addFriend(bob)
      local f = ann:getFriends()[1]
      assert.equal("bob", f.name)
      assert.equal(1, f.friendships.userId)
      assert.equal(2, f.friendships.friendId)
    end)

    it("removes only the source's direction", function()
      ann:addFriend(bob)
      bob:addFriend(ann)
      ann:removeFriend(bob)
      assert.same({ "2/1" }, friendships(db))
    end)

    it("sets exactly the given friends", function()
      ann:addFriends({ bob, cid })
      cid:addFriend(ann)
      ann:setFriends({ 3, ann })
      assert.same({ "1/1", "1/3", "3/1" }, friendships(db))
    end)

    it("creates a new user as a friend", function()
      local dan = ann:createFriend{ name = "dan" }
      assert.equal(4, dan.id)
      assert.same({ "1/4" }, friendships(db))
    end)

    it("deletes links in both directions when a user is destroyed", function()
      ann:addFriends({ bob, cid })
      bob:addFriend(ann)
      cid:addFriend(bob)
      bob:destroy()
      assert.same({ "1/3" }, friendships(db))
    end)

    it("makes (userId, friendId) the primary key of the join table", function()
      ann:addFriend(bob)
      local err = fails(function()
        db:query('INSERT INTO "friendships" ("userId", "friendId", "createdAt",'
          .. ' "updatedAt") VALUES (?, ?, ?, ?)', { 1, 2, STAMP, STAMP })
      end)
      assert.equal("UniqueConstraintError", errname(err))
    end)

    it("rejects an instance of another model, naming User", function()
      local err = fails(function() return ann:addFriend(m.alpha) end)
      bad_argument(err, "addFriend", "User")
      assert.same({}, friendships(db))
    end)
  end)

  describe("self hasMany and belongsTo [#" .. dialect .. "]", function()
    local m, db, User, ann, bob, cid

    before_each(function()
      m = self_fixture(dialect)
      db, User = m.db, m.User
      ann, bob, cid = m.ann, m.bob, m.cid
    end)

    after_each(function() db:close() end)

    it("shares one parentId key between both associations", function()
      assert.equal("parentId", m.children.foreignKey)
      assert.equal("parentId", m.parent.foreignKey)
      assert.same({ false, false, false }, parents(db))
    end)

    it("gives the accessors named after the aliases", function()
      for _, name in ipairs{ "getChildren", "addChild", "addChildren",
          "setChildren", "createChild", "removeChild", "hasChild",
          "countChildren", "getParent", "setParent", "createParent" } do
        assert.equal("function", type(ann[name]), name)
      end
    end)

    it("creates a child with parentId set", function()
      local kid = ann:createChild{ name = "kid" }
      assert.equal(4, kid.id)
      assert.equal(1, kid.parentId)
      assert.same({ false, false, false, 1 }, parents(db))
    end)

    it("adds children and lists them", function()
      ann:addChildren({ bob, cid })
      assert.same({ false, 1, 1 }, parents(db))
      assert.same({ 2, 3 }, ids(ann:getChildren()))
      assert.equal(2, ann:countChildren())
      assert.same({}, ids(bob:getChildren()))
    end)

    it("finds the parent from the child", function()
      ann:addChild(bob)
      assert.equal("ann", User:findByPk(2):getParent().name)
      assert.is_nil(ann:getParent())
    end)

    it("sets the parent from the child", function()
      cid:setParent(bob)
      assert.same({ false, false, 2 }, parents(db))
      assert.is_true(bob:hasChild(cid))
    end)

    it("removes a child by nulling its parentId", function()
      ann:addChildren({ bob, cid })
      ann:removeChild(bob)
      assert.same({ false, false, 1 }, parents(db))
    end)

    it("nulls the children's parentId when the parent is destroyed", function()
      ann:addChildren({ bob, cid })
      ann:destroy()
      assert.same({ false, false }, parents(db))
    end)

    it("refuses a parentId that names no user", function()
      local err = fails(function() return cid:setParent(999) end)
      assert.equal("ForeignKeyConstraintError", errname(err))
      assert.same({ false, false, false }, parents(db))
    end)
  end)

  describe("self belongsToMany defaults [#" .. dialect .. "]", function()
    local db

    after_each(function() db:close() end)

    it("names the keys UserId and the singular of as", function()
      local m = fixture(dialect, { extra = function(x)
        x.buddies = x.User:belongsToMany(x.User, { as = "Buddies",
                                                   through = "buddies" })
      end })
      db = m.db
      assert.equal("UserId", m.buddies.foreignKey)
      assert.equal("function", type(m.ann.addBuddy))
      m.ann:addBuddy(m.bob)
      local rows = db:query('SELECT "UserId", "BuddyId" FROM "buddies"')
      assert.equal(1, #rows)
      assert.equal(1, rows[1].UserId)
      assert.equal(2, rows[1].BuddyId)
    end)

    it("pairs two aliases over the same through with swapped keys", function()
      local m = self_fixture(dialect, function(x)
        x.friendOf = x.User:belongsToMany(x.User, { as = "FriendOf",
          through = "friendships", foreignKey = "friendId",
          otherKey = "userId" })
      end)
      db = m.db
      m.ann:addFriend(m.bob)
      assert.same({ "1/2" }, friendships(db))
      assert.same({ 1 }, ids(m.bob:getFriendOf()))
      assert.same({}, ids(m.ann:getFriendOf()))
      m.cid:addFriendOf(m.ann)
      assert.same({ "1/2", "1/3" }, friendships(db))
      assert.same({ 2, 3 }, ids(m.ann:getFriends()))
    end)
  end)
end
