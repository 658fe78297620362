-- models.lua: the model script examples/host.c loads.  The host opened the
-- SQLite file itself and handed it over as the global `db`; this script
-- defines models on it and the function summary() the host calls.
local assoc = require("assoc")

local Author = db:define("Author", {
  name = { type = assoc.STRING, allowNull = false } })
local Book = db:define("Book", { title = assoc.STRING, year = assoc.INTEGER })
Author:hasMany(Book)
Book:belongsTo(Author)
db:sync{ force = true }

-- Returns the number of books stored and the titles before 1970.
function summary(d)
  local author = Author:create{ name = "Ursula K. Le Guin" }
  d:transaction(function()
    author:createBook{ title = "A Wizard of Earthsea", year = 1968 }
    author:createBook{ title = "The Left Hand of Darkness", year = 1969 }
    author:createBook{ title = "The Dispossessed", year = 1974 }
  end)
  local titles = {}
  for _, b in ipairs(author:getBooks{ where = { year = { lt = 1970 } },
                                      order = { "year" } }) do
    titles[#titles + 1] = b.title
  end
  return author:countBooks(), table.concat(titles, "; ")
end
