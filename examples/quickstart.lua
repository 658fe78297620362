-- quickstart.lua: a first tour of assoc on an in-memory SQLite database.
-- From the build tree:
--   LUA_CPATH="$PWD/build/lua/?.so;;" lua5.4 examples/quickstart.lua
local assoc = require("assoc")
local db <close> = assoc.open("sqlite::memory:")

local User = db:define("User", {
  name  = { type = assoc.STRING, allowNull = false,
            validate = { notEmpty = true } },
  email = { type = assoc.STRING, unique = true, validate = { isEmail = true } },
})
local Project = db:define("Project", { title = assoc.STRING })
local Task = db:define("Task", {
  title = assoc.STRING, done = { type = assoc.BOOLEAN, defaultValue = false } })
local UserProject = db:define("UserProject", { role = assoc.STRING })

User:hasMany(Task)                                -- Task.UserId
Task:belongsTo(User)
User:belongsToMany(Project, { through = UserProject })
Project:belongsToMany(User, { through = UserProject })
db:sync{ force = true }                           -- creates every table

local ada = User:create{ name = "Ada", email = "ada@example.com" }
local apollo = Project:create{ title = "Apollo" }
ada:addProject(apollo, { through = { role = "lead" } })
ada:addProject(Project:create{ title = "Gemini" }, { role = "reviewer" })
for _, p in ipairs(ada:getProjects{ order = { "title" } }) do
  print(("%s is %s on %s"):format(ada.name, p.UserProject.role, p.title))
end
local a = ada:getProjects{ where = { title = { like = "A%" } } }
print("projects starting with A:", #a, a[1].title)
print("projects of Ada:", ada:countProjects())

db:transaction(function()                         -- both rows or neither
  ada:createTask{ title = "write the docs" }
  ada:createTask{ title = "ship it", done = true }
end)
pcall(function()                                  -- an error rolls it back
  db:transaction(function()
    ada:createTask{ title = "never stored" }
    error("changed my mind")
  end)
end)
print("tasks:", ada:countTasks(),
      "open:", ada:countTasks{ where = { done = false } })
local first = Task:findOne{ order = { "id" } }
print("first task:", first.title, "owner:", first:getUser().name)

local ok, err = pcall(User.create, User, { name = "", email = "nope" })
print("bad user refused:", not ok, tostring(err.name))
for _, e in ipairs(err.errors) do print("  " .. e.path .. ": " .. e.message) end
