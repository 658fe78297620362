-- LuaRocks: `luarocks make` in a checkout (or `luarocks install` with this
-- file) builds the C core into the module with CMake and installs assoc.so
-- into the rock tree's C module directory, and nothing else (the C
-- library, headers and the `assoc` command come with `cmake --install`).
-- PostgreSQL support is built when CMake finds libpq (libpq-dev); a rockspec
-- cannot express an optional external dependency, so it is not listed
-- below.  Without libpq, assoc.open("postgres://...") fails with "assoc
-- was built without PostgreSQL support".  CMake finds SQLite3 and Jansson
-- (and libpq) with pkg-config; external_dependencies only has LuaRocks
-- check that they are installed.  source.url is a placeholder for where
-- the project will be published: `luarocks make` in a checkout builds the
-- checkout and never fetches it.
rockspec_format = "3.0"
package = "assoc"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/assoc/assoc.git",
  tag = "v0.1.0",
}
description = {
  summary = "Sequelize-style models and associations for Lua, in C",
  detailed = [[
assoc defines models and their associations (hasMany, belongsTo, hasOne,
belongsToMany with through models) over SQLite3 and PostgreSQL, with the
accessors Sequelize users know (getProjects, addProject, setProjects, ...).
The engine is a C library; this rock installs its Lua 5.4 module.
]],
  -- The project has not chosen a license yet (there is no LICENSE file);
  -- replace this with its SPDX name when it does.
  license = "not yet chosen",
}
dependencies = {
  "lua >= 5.4",
}
external_dependencies = {
  SQLITE3 = { header = "sqlite3.h", library = "sqlite3" },
  JANSSON = { header = "jansson.h", library = "jansson" },
}
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    ASSOC_LUA_CMOD_DIR = "$(LIBDIR)",
    ASSOC_INSTALL_MODULE_ONLY = "ON",
    ASSOC_BUILD_TESTS = "OFF",
    ASSOC_BUILD_BENCH = "OFF",
  },
}
