/*
** ljson.c: Lua values <-> JSON text for JSON attributes, with jansson.  The
** json_t tree being built or read hangs in a userdata box with __gc, so a
** Lua error (bad value, out of memory) halfway frees it.
*/
#include <math.h>

#include <jansson.h>

#include "lbind.h"

#define JSON_MAX_DEPTH 200

typedef struct json_box {
  json_t *j;
} json_box;

static int box_gc(lua_State *L) {
  json_box *b = luaL_checkudata(L, 1, LBIND_JSONBOX_MT);
  if (b->j) json_decref(b->j);
  b->j = NULL;
  return 0;
}

static json_box *new_box(lua_State *L) {
  json_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->j = NULL;
  luaL_setmetatable(L, LBIND_JSONBOX_MT);
  return b;
}

void lbind_open_json(lua_State *L) {
  luaL_newmetatable(L, LBIND_JSONBOX_MT);
  lua_pushcfunction(L, box_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}

/* ------------------------------------------------------------- encoding */

static void oom(lua_State *L) {
  luaL_error(L, "not enough memory");
}

/* A table is a JSON array when its keys are exactly 1..n with n > 0. */
static int is_array(lua_State *L, int idx, size_t *len) {
  size_t n = lua_rawlen(L, idx), count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    count++;
    lua_pop(L, 1);
  }
  *len = n;
  return n > 0 && count == n;
}

/* A new node for the value at idx; tables give an empty container that
** the caller attaches and then fills. */
static json_t *new_node(lua_State *L, int idx, int *container) {
  json_t *j = NULL;
  size_t n;
  *container = 0;
  switch (lua_type(L, idx)) {
  case LUA_TBOOLEAN: j = json_boolean(lua_toboolean(L, idx)); break;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx))
      j = json_integer((json_int_t)lua_tointeger(L, idx));
    else {
      double r = (double)lua_tonumber(L, idx);
      if (!isfinite(r)) luaL_error(L, "cannot encode %f as JSON", r);
      j = json_real(r);
    }
    break;
  case LUA_TSTRING: {
    const char *s = lua_tolstring(L, idx, &n);
    j = json_stringn(s, n);
    if (!j) luaL_error(L, "cannot encode a string that is not UTF-8 as JSON");
    return j;
  }
  case LUA_TTABLE:
    *container = 1;
    j = is_array(L, idx, &n) ? json_array() : json_object();
    break;
  default:
    if (lbind_is_null(L, idx)) j = json_null();
    else
      luaL_error(L, "cannot encode a %s as JSON", luaL_typename(L, idx));
  }
  if (!j) oom(L);
  return j;
}

static void fill(lua_State *L, int idx, json_t *node, int depth);

/* Attach child (stolen) under key (NULL: append), then fill it. */
static void attach(lua_State *L, json_t *parent, const char *key, size_t kn,
                   int vidx, int depth) {
  int container;
  json_t *child = new_node(L, vidx, &container);
  int rc = key ? json_object_setn_new(parent, key, kn, child)
               : json_array_append_new(parent, child);
  if (rc != 0) {
    if (key) luaL_error(L, "cannot encode the key '%s' as JSON", key);
    oom(L);
  }
  if (container) fill(L, vidx, child, depth + 1);
}

static void fill(lua_State *L, int idx, json_t *node, int depth) {
  if (depth > JSON_MAX_DEPTH)
    luaL_error(L, "cannot encode a table nested this deeply (a cycle?)");
  luaL_checkstack(L, 4, "JSON nested too deeply");
  if (json_is_array(node)) {
    size_t i, n = lua_rawlen(L, idx);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, idx, (lua_Integer)i);
      attach(L, node, NULL, 0, lua_gettop(L), depth);
      lua_pop(L, 1);
    }
    return;
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t kn;
    const char *k;
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "cannot encode a table with %s keys as a JSON object",
                 luaL_typename(L, -2));
    k = lua_tolstring(L, -2, &kn);
    attach(L, node, k, kn, lua_gettop(L), depth);
    lua_pop(L, 1);
  }
}

void lbind_json_encode(lua_State *L, int idx) {
  const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS;
  json_box *b;
  int container;
  size_t n;
  luaL_Buffer buf;
  char *p;
  idx = lua_absindex(L, idx);
  b = new_box(L);                                   /* box */
  b->j = new_node(L, idx, &container);
  if (container) fill(L, idx, b->j, 0);
  n = json_dumpb(b->j, NULL, 0, flags);
  if (n == 0) luaL_error(L, "cannot encode the value as JSON");
  p = luaL_buffinitsize(L, &buf, n);
  if (json_dumpb(b->j, p, n, flags) != n)
    luaL_error(L, "cannot encode the value as JSON");
  luaL_pushresultsize(&buf, n);                     /* box text */
  json_decref(b->j);
  b->j = NULL;
  lua_remove(L, -2);                                /* text */
}

/* ------------------------------------------------------------- decoding */

static void push_json(lua_State *L, json_t *j, int depth) {
  if (depth > JSON_MAX_DEPTH) luaL_error(L, "JSON nested too deeply");
  luaL_checkstack(L, 4, "JSON nested too deeply");
  switch (json_typeof(j)) {
  case JSON_OBJECT: {
    const char *k;
    size_t kn;
    json_t *v;
    lua_createtable(L, 0, (int)json_object_size(j));
    json_object_keylen_foreach(j, k, kn, v) {
      lua_pushlstring(L, k, kn);
      push_json(L, v, depth + 1);
      lua_rawset(L, -3);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t i, n = json_array_size(j);
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
      push_json(L, json_array_get(j, i), depth + 1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    break;
  }
  case JSON_STRING:
    lua_pushlstring(L, json_string_value(j), json_string_length(j));
    break;
  case JSON_INTEGER:
    lua_pushinteger(L, (lua_Integer)json_integer_value(j));
    break;
  case JSON_REAL: lua_pushnumber(L, (lua_Number)json_real_value(j)); break;
  case JSON_TRUE: lua_pushboolean(L, 1); break;
  case JSON_FALSE: lua_pushboolean(L, 0); break;
  default: lbind_push_null(L); break;
  }
}

void lbind_json_decode(lua_State *L, const char *s, size_t n) {
  json_box *b = new_box(L);                         /* box */
  json_error_t err;
  b->j = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
  if (!b->j) {
    lua_pop(L, 1);
    lua_pushlstring(L, s, n);
    return;
  }
  push_json(L, b->j, 0);                            /* box value */
  json_decref(b->j);
  b->j = NULL;
  lua_remove(L, -2);                                /* value */
}
