/*
** lassoc.c: luaopen_assoc, the module table: the column types, assoc.null,
** the condition builders (OR, AND, NOT, literal), assoc.isError and
** assoc.open; and assoc_lua_push_db for embedding hosts.
*/
#include <string.h>

#include "assoc_lua.h"
#include "lbind.h"

/* ----------------------------------------------------------------- null */

void lbind_push_null(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LBIND_NULL_KEY);
}

int lbind_is_null(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TUSERDATA &&
         luaL_testudata(L, idx, LBIND_NULL_MT) != NULL;
}

static int null_tostring(lua_State *L) {
  lua_pushliteral(L, "assoc.null");
  return 1;
}

/* One null for the whole state, even if the module is opened twice. */
static void open_null(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, LBIND_NULL_KEY) != LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_newuserdatauv(L, 0, 0);
  luaL_newmetatable(L, LBIND_NULL_MT);
  lua_pushcfunction(L, null_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "assoc.null");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, LBIND_NULL_KEY);
}

/* ---------------------------------------------------------------- types */

static const struct {
  const char *name;
  assoc_type type;
} types[] = {
  {"INTEGER", ASSOC_TYPE_INTEGER}, {"BIGINT", ASSOC_TYPE_BIGINT},
  {"REAL", ASSOC_TYPE_REAL},       {"STRING", ASSOC_TYPE_STRING},
  {"TEXT", ASSOC_TYPE_TEXT},       {"BOOLEAN", ASSOC_TYPE_BOOLEAN},
  {"DATE", ASSOC_TYPE_DATE},       {"BLOB", ASSOC_TYPE_BLOB},
  {"JSON", ASSOC_TYPE_JSON},
};

#define NTYPES (sizeof types / sizeof types[0])

const char *lbind_type_name(assoc_type type) {
  size_t i;
  for (i = 0; i < NTYPES; i++)
    if (types[i].type == type) return types[i].name;
  return "?";
}

static int has_meta(lua_State *L, int idx, const char *tname) {
  int r;
  if (!lua_getmetatable(L, idx)) return 0;
  luaL_getmetatable(L, tname);
  r = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return r;
}

int lbind_test_type(lua_State *L, int idx, assoc_type *type, int *length) {
  size_t i;
  const char *name;
  int found = 0;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE || !has_meta(L, idx, LBIND_TYPE_MT))
    return 0;
  lua_getfield(L, idx, "type");
  name = lua_tostring(L, -1);
  for (i = 0; name && i < NTYPES; i++)
    if (strcmp(types[i].name, name) == 0) {
      if (type) *type = types[i].type;
      found = 1;
      break;
    }
  lua_getfield(L, idx, "length");
  if (length) *length = (int)lua_tointeger(L, -1);
  lua_pop(L, 2);
  return found;
}

static void push_type(lua_State *L, const char *name, lua_Integer length) {
  lua_createtable(L, 0, 2);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "type");
  if (length > 0) {
    lua_pushinteger(L, length);
    lua_setfield(L, -2, "length");
  }
  luaL_setmetatable(L, LBIND_TYPE_MT);
}

/* assoc.STRING(64): a sized copy. */
static int type_call(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n > 0 && n <= 0x7fffffff, 2, "length must be positive");
  lua_getfield(L, 1, "type");
  push_type(L, luaL_checkstring(L, -1), n);
  return 1;
}

static int type_tostring(lua_State *L) {
  lua_getfield(L, 1, "type");
  lua_getfield(L, 1, "length");
  if (lua_isinteger(L, -1))
    lua_pushfstring(L, "%s(%d)", lua_tostring(L, -2),
                    (int)lua_tointeger(L, -1));
  else
    lua_pushstring(L, lua_tostring(L, -2));
  return 1;
}

static void open_types(lua_State *L) {
  size_t i;
  luaL_newmetatable(L, LBIND_TYPE_MT);
  lua_pushcfunction(L, type_call);
  lua_setfield(L, -2, "__call");
  lua_pushcfunction(L, type_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  for (i = 0; i < NTYPES; i++) {               /* module */
    push_type(L, types[i].name, 0);
    lua_setfield(L, -2, types[i].name);
  }
  lua_getfield(L, -1, "REAL");
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "FLOAT");
  lua_setfield(L, -2, "DOUBLE");
}

/* ----------------------------------------------------------- conditions */

static int make_cond(lua_State *L, const char *kind) {
  int i, n = lua_gettop(L);
  lua_createtable(L, n, 1);
  for (i = 1; i <= n; i++) {
    if (lua_type(L, i) != LUA_TTABLE)
      luaL_typeerror(L, i, "condition or where table");
    lua_pushvalue(L, i);
    lua_rawseti(L, -2, i);
  }
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  luaL_setmetatable(L, LBIND_COND_MT);
  return 1;
}

static int assoc_or(lua_State *L) { return make_cond(L, "OR"); }
static int assoc_and(lua_State *L) { return make_cond(L, "AND"); }

static int assoc_not(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  return make_cond(L, "NOT");
}

/* assoc.literal("sql ?", v1, ...): SQL with bound values. */
static int assoc_literal(lua_State *L) {
  int i, n = lua_gettop(L);
  luaL_checkstring(L, 1);
  lua_createtable(L, 0, 3);
  lua_pushliteral(L, "LITERAL");
  lua_setfield(L, -2, "kind");
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "sql");
  lua_createtable(L, n > 1 ? n - 1 : 0, 1);
  for (i = 2; i <= n; i++) {
    if (lua_type(L, i) == LUA_TTABLE)
      luaL_argerror(L, i, "a value expected, got table");
    lua_pushvalue(L, i);
    lua_rawseti(L, -2, i - 1);
  }
  lua_pushinteger(L, n > 1 ? n - 1 : 0);
  lua_setfield(L, -2, "n");
  lua_setfield(L, -2, "values");
  luaL_setmetatable(L, LBIND_COND_MT);
  return 1;
}

static int cond_tostring(lua_State *L) {
  lua_getfield(L, 1, "kind");
  lua_pushfstring(L, "assoc.%s(...)", luaL_optstring(L, -1, "?"));
  return 1;
}

/* ---------------------------------------------------------------- misc */

/* assoc.isError(v [, name]) */
static int assoc_is_error(lua_State *L) {
  int yes;
  lua_settop(L, 2);
  yes = lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1);
  if (yes) {
    luaL_getmetatable(L, LBIND_ERROR_MT);
    yes = lua_rawequal(L, -1, -2);
  }
  if (yes && !lua_isnoneornil(L, 2)) {
    const char *want = luaL_checkstring(L, 2);
    lua_getfield(L, 1, "name");
    yes = lua_type(L, -1) == LUA_TSTRING &&
          strcmp(lua_tostring(L, -1), want) == 0;
  }
  lua_pushboolean(L, yes);
  return 1;
}

static void open_all(lua_State *L) {
  open_null(L);
  lbind_open_error(L);
  lbind_open_conv(L);
  lbind_open_json(L);
  lbind_open_db(L);
  lbind_open_txn(L);
  lbind_open_model(L);
  lbind_open_instance(L);
  lbind_open_association(L);
  luaL_newmetatable(L, LBIND_COND_MT);
  lua_pushcfunction(L, cond_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

static const luaL_Reg assoc_funcs[] = {
  {"open", lbind_db_open},
  {"OR", assoc_or},
  {"AND", assoc_and},
  {"NOT", assoc_not},
  {"literal", assoc_literal},
  {"isError", assoc_is_error},
  {NULL, NULL}
};

int luaopen_assoc(lua_State *L) {
  open_all(L);
  luaL_newlib(L, assoc_funcs);
  open_types(L);
  lbind_push_null(L);
  lua_setfield(L, -2, "null");
  lua_pushliteral(L, ASSOC_VERSION);
  lua_setfield(L, -2, "VERSION");
  return 1;
}

int assoc_lua_push_db(lua_State *L, assoc_db *db) {
  if (luaL_getmetatable(L, LBIND_DB_MT) == LUA_TNIL) open_all(L);
  lua_pop(L, 1);
  lbind_db_new(L, db);
  return 1;
}
