/*
** lerror.c: assoc.Error objects.  Core failures other than ASSOC_MISUSE
** become tables { name, message, sql, errors } raised with lua_error; misuse
** is a plain string in Lua's own style.  A logger's error kept during a core
** call is raised first.
*/
#include <stdarg.h>

#include "lbind.h"

static int error_tostring(lua_State *L) {
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "message");
  lua_pushfstring(L, "%s: %s", luaL_optstring(L, -2, "Error"),
                  luaL_optstring(L, -1, ""));
  return 1;
}

void lbind_open_error(lua_State *L) {
  luaL_newmetatable(L, LBIND_ERROR_MT);
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

void lbind_push_error(lua_State *L, const char *name, const char *message,
                      const char *sql) {
  lua_createtable(L, 0, 4);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, message ? message : "");
  lua_setfield(L, -2, "message");
  if (sql) {
    lua_pushstring(L, sql);
    lua_setfield(L, -2, "sql");
  }
  lua_newtable(L);
  lua_setfield(L, -2, "errors");
  luaL_setmetatable(L, LBIND_ERROR_MT);
}

static void push_pending(lua_State *L, lbind_db *o) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, o->pending_error_ref);
  lua_pushboolean(L, 0);
  lua_rawseti(L, LUA_REGISTRYINDEX, o->pending_error_ref);
  o->has_pending = 0;
}

void lbind_clear_pending(lua_State *L, lbind_db *o) {
  if (!o->has_pending) return;
  push_pending(L, o);
  lua_pop(L, 1);
}

int lbind_raise_pending(lua_State *L, lbind_db *o) {
  push_pending(L, o);
  return lua_error(L);
}

/* The validation entries of the last failure into the errors list of the
** error object on top. */
static void copy_valerrs(lua_State *L, assoc_db *db) {
  size_t i, n = assoc_db_errors_count(db);
  lua_getfield(L, -1, "errors");
  for (i = 0; i < n; i++) {
    const char *path = NULL, *message = NULL, *validator = NULL;
    if (assoc_db_errors_item(db, i, &path, &message, &validator) != ASSOC_OK)
      break;
    lua_createtable(L, 0, 3);
    lua_pushstring(L, path ? path : "");
    lua_setfield(L, -2, "path");
    lua_pushstring(L, message ? message : "");
    lua_setfield(L, -2, "message");
    lua_pushstring(L, validator ? validator : "");
    lua_setfield(L, -2, "validator");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_pop(L, 1);
}

void lbind_push_core_error(lua_State *L, lbind_db *o, int rc) {
  const char *msg;
  if (o->has_pending) {
    push_pending(L, o);
    return;
  }
  msg = o->db ? assoc_db_errmsg(o->db) : NULL;
  if (!msg || !*msg) msg = o->db ? assoc_errname(rc) : "database is closed";
  if (rc == ASSOC_MISUSE || !o->db) {
    luaL_where(L, 1);
    lua_pushstring(L, msg);
    lua_concat(L, 2);
    return;
  }
  lbind_push_error(L, assoc_errname(rc), msg, assoc_db_errsql(o->db));
  if (rc == ASSOC_VALIDATION) copy_valerrs(L, o->db);
}

int lbind_raise_core(lua_State *L, lbind_db *o, int rc) {
  lbind_push_core_error(L, o, rc);
  return lua_error(L);
}

void lbind_check_rc(lua_State *L, lbind_db *o, int rc) {
  if (o->has_pending) lbind_raise_pending(L, o);
  if (rc != ASSOC_OK && rc != ASSOC_ROW && rc != ASSOC_DONE)
    lbind_raise_core(L, o, rc);
}

int lbind_error(lua_State *L, const char *name, const char *fmt, ...) {
  va_list ap;
  const char *msg;
  va_start(ap, fmt);
  msg = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lbind_push_error(L, name, msg, NULL);
  return lua_error(L);
}
