/*
** assoc_lua.h: embedding the assoc Lua module in a C host.  Link libassoc
** and Lua 5.4; the module's own Lua surface is described in API.md.
*/
#ifndef ASSOC_LUA_H
#define ASSOC_LUA_H

#include <lua.h>

#include "assoc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Open the module: pushes the `assoc` table (what require("assoc")
** returns).  Use with luaL_requiref(L, "assoc", luaopen_assoc, 0) to make
** it requirable in a state that cannot load the shared module. */
int luaopen_assoc(lua_State *L);

/* Push a Database object for a handle the host made, for example with
** assoc_db_wrap_sqlite() over its own sqlite3 * or assoc_db_wrap_pg() over
** its own PGconn *.  Returns 1 (values pushed).
**
** Ownership: on return the Lua object owns db and frees it (with
** assoc_db_free) when it is closed or collected; the host must not use or
** free db afterwards.  A wrapped handle leaves the host's connection open:
** the host still closes its sqlite3 * or PGconn *, after the Lua object is
** closed.  If this function raises (out of memory), ownership did not pass
** and the host still owns db.  Works whether or not luaopen_assoc ran
** first. */
int assoc_lua_push_db(lua_State *L, assoc_db *db);

#ifdef __cplusplus
}
#endif
#endif
