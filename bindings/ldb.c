/*
** ldb.c: assoc.Database objects: assoc.open, the logging bridge, db:sync,
** db:query, db:close (also __close and __gc) and db.dialect.  Models live
** in the database's user value; every child reaches the core through the
** lbind_db struct, so closing it makes them all raise.
*/
#include <stdlib.h>
#include <string.h>

#include "lbind.h"

/* --------------------------------------------------------------- logging */

typedef struct log_call {
  lbind_db *o;
  const char *sql;
  const assoc_value *params;
  size_t n;
} log_call;

static int log_protected(lua_State *L) {
  log_call *c = lua_touserdata(L, 1);
  size_t i;
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->o->log_ref);  /* fn */
  lua_pushstring(L, c->sql);                          /* fn sql */
  lua_createtable(L, (int)c->n, 1);                   /* fn sql params */
  for (i = 0; i < c->n; i++) {
    if (c->params[i].kind == ASSOC_NULL) lbind_push_null(L);
    else lbind_push_value(L, &c->params[i], (assoc_type)0);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_pushinteger(L, (lua_Integer)c->n);
  lua_setfield(L, -2, "n");
  lua_call(L, 2, 0);
  return 0;
}

/* The core's log callback.  A Lua error must not unwind through the core,
** so the logger runs under lua_pcall and its error waits in a registry
** slot made at open (storing into it allocates nothing).  Returning 1
** refuses the statement: a logger that raised stops the call, whose work
** the core then rolls back, and the error is re-raised after it. */
static int log_fn(void *udata, const char *sql, const assoc_value *params,
                  size_t n) {
  lbind_db *o = udata;
  lua_State *L = o->L;
  log_call c;
  if (o->has_pending) return 1;
  if (!L || o->in_log || o->log_ref == LUA_NOREF) return 0;
  if (!lua_checkstack(L, 4)) return 1;
  c.o = o;
  c.sql = sql;
  c.params = params;
  c.n = n;
  o->in_log = 1;
  lua_pushcfunction(L, log_protected);
  lua_pushlightuserdata(L, &c);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    lua_rawseti(L, LUA_REGISTRYINDEX, o->pending_error_ref);
    o->has_pending = 1;
  }
  o->in_log = 0;
  return o->has_pending;
}

/* --------------------------------------------------------------- objects */

lbind_db *lbind_check_db(lua_State *L, int idx) {
  lbind_db *o = luaL_checkudata(L, idx, LBIND_DB_MT);
  lbind_owner_check(L, o);
  return o;
}

static void drain_orphans(lbind_db *o) {
  while (o->orphans) {
    lbind_orphan *p = o->orphans;
    o->orphans = p->next;
    assoc_txn_free(p->t);
    free(p);
  }
}

void lbind_owner_check(lua_State *L, lbind_db *o) {
  if (!o->db || !assoc_db_is_open(o->db))
    luaL_error(L, "attempt to use a closed database");
  if (o->in_log)
    luaL_error(L, "cannot use the database from its logging function");
  o->L = L;
  if (o->orphans) drain_orphans(o);
}

lbind_db *lbind_db_new(lua_State *L, assoc_db *db) {
  lbind_db *o = lua_newuserdatauv(L, sizeof *o, 1);
  memset(o, 0, sizeof *o);
  o->log_ref = LUA_NOREF;
  o->pending_error_ref = LUA_NOREF;
  luaL_setmetatable(L, LBIND_DB_MT);
  lua_createtable(L, 0, 2);                 /* db uv */
  lua_newtable(L);
  lua_setfield(L, -2, "models");
  lua_newtable(L);
  lua_setfield(L, -2, "byptr");
  lua_setiuservalue(L, -2, 1);              /* db */
  lua_pushboolean(L, 0);
  o->pending_error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  o->L = L;
  o->db = db;
  if (db) o->dialect = assoc_db_dialect(db);
  return o;
}

void lbind_db_table(lua_State *L, int db_idx, const char *which) {
  lua_getiuservalue(L, db_idx, 1);
  lua_getfield(L, -1, which);
  lua_remove(L, -2);
}

static void check_open_opts(lua_State *L, int idx) {
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                   : "?";
    if (strcmp(k, "logging") != 0 && strcmp(k, "busy_timeout") != 0)
      luaL_error(L, "unknown option '%s' to 'open'", k);
    lua_pop(L, 1);
  }
}

int lbind_db_open(lua_State *L) {
  const char *url;
  assoc_open_opts oo;
  lbind_db *o;
  int rc;
  if (lua_type(L, 1) != LUA_TSTRING) luaL_typeerror(L, 1, "string");
  url = lua_tostring(L, 1);
  memset(&oo, 0, sizeof oo);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    check_open_opts(L, 2);
    lua_getfield(L, 2, "logging");
    if (!lua_isnil(L, -1) && !lua_isfunction(L, -1) &&
        !(lua_isboolean(L, -1) && !lua_toboolean(L, -1)))
      luaL_argerror(L, 2, "logging must be a function");
    lua_getfield(L, 2, "busy_timeout");
    if (!lua_isnil(L, -1)) {
      int ok;
      lua_Integer ms = lua_tointegerx(L, -1, &ok);
      if (!ok || ms < 0 || ms > 0x7fffffff)
        luaL_argerror(L, 2, "busy_timeout must be a non-negative integer");
      oo.busy_timeout_ms = (int)ms;
    }
    lua_pop(L, 1);                          /* url opts logging */
  } else {
    lua_settop(L, 1);
    lua_pushnil(L);
    lua_pushnil(L);
  }
  o = lbind_db_new(L, NULL);                /* url opts logging db */
  if (lua_isfunction(L, 3)) {
    lua_pushvalue(L, 3);
    o->log_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    oo.log = log_fn;
    oo.log_udata = o;
  }
  rc = assoc_db_open(url, &oo, &o->db);
  if (!o->db) return luaL_error(L, "not enough memory");
  o->dialect = assoc_db_dialect(o->db);
  if (rc != ASSOC_OK || o->has_pending) {
    /* the object owns the failed handle until the error value is made */
    lbind_push_core_error(L, o, rc != ASSOC_OK ? rc : ASSOC_ERROR);
    assoc_db_free(o->db);
    o->db = NULL;
    return lua_error(L);
  }
  return 1;
}

/* db:close(), __close and __gc: idempotent. */
static int db_close(lua_State *L) {
  lbind_db *o = luaL_checkudata(L, 1, LBIND_DB_MT);
  if (o->in_log)
    return luaL_error(L, "cannot close the database from its logging "
                         "function");
  if (o->db) {
    o->L = L;
    assoc_db_set_log(o->db, NULL, NULL);
    drain_orphans(o);
    lbind_txn_close_all(o);
    assoc_db_free(o->db);
    o->db = NULL;
  }
  if (o->log_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, o->log_ref);
  if (o->pending_error_ref != LUA_NOREF)
    luaL_unref(L, LUA_REGISTRYINDEX, o->pending_error_ref);
  o->log_ref = o->pending_error_ref = LUA_NOREF;
  o->has_pending = 0;
  return 0;
}

/* ----------------------------------------------------------------- query */

static assoc_value *query_params(lua_State *L, int idx, lbind_arena *A,
                                 size_t *n) {
  size_t i, len;
  assoc_value *v;
  if (lua_isnoneornil(L, idx)) {
    *n = 0;
    return NULL;
  }
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "n");
  len = lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0
            ? (size_t)lua_tointeger(L, -1) : lua_rawlen(L, idx);
  lua_pop(L, 1);
  v = lbind_arena_array(L, A, (size_t)len, sizeof *v);
  for (i = 0; i < len; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    if (lua_type(L, -1) == LUA_TTABLE)
      luaL_argerror(L, idx, lua_pushfstring(L, "cannot bind a table as "
                    "parameter %d", (int)i + 1));
    lbind_to_value(L, -1, NULL, -1, A, &v[i], idx);
    lua_pop(L, 1);
  }
  *n = len;
  return v;
}

static void push_raw_rows(lua_State *L, lbind_db *o, assoc_rows *rows) {
  size_t i, ncols = assoc_rows_column_count(rows);
  lua_Integer r = 0;
  int rc;
  lua_newtable(L);
  while ((rc = assoc_rows_step(rows)) == ASSOC_ROW) {
    lua_createtable(L, 0, (int)ncols);
    for (i = 0; i < ncols; i++) {
      assoc_value v;
      const assoc_model *m = NULL;
      int attr = assoc_rows_column_attr(rows, i, &m);
      assoc_type type = (assoc_type)0;
      rc = assoc_rows_value(rows, i, &v);
      if (rc != ASSOC_OK) lbind_check_rc(L, o, rc);
      if (v.kind == ASSOC_NULL) continue;
      if (m && attr >= 0) type = assoc_model_attr(m, (size_t)attr)->type;
      lbind_push_value(L, &v, type);
      lua_setfield(L, -2, assoc_rows_column_name(rows, i));
    }
    lua_rawseti(L, -2, ++r);
  }
  lbind_check_rc(L, o, rc);
}

static int db_query(lua_State *L) {
  lbind_db *o = lbind_check_db(L, 1);
  const char *sql = luaL_checkstring(L, 2);
  lbind_arena *A;
  assoc_rows *rows = NULL;
  assoc_value *params;
  size_t n;
  int rc;
  lua_settop(L, 3);
  A = lbind_arena_new(L);
  params = query_params(L, 3, A, &n);
  rc = assoc_db_query(o->db, sql, params, n, &rows);
  lbind_arena_release(A);
  lbind_check_rc(L, o, rc);
  if (rows && assoc_rows_column_count(rows) > 0) push_raw_rows(L, o, rows);
  else lua_pushinteger(L, rows ? (lua_Integer)assoc_rows_changes(rows) : 0);
  return 1;
}

static int db_sync(lua_State *L) {
  lbind_db *o = lbind_check_db(L, 1);
  int force = 0, rc;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      if (lua_type(L, -2) != LUA_TSTRING ||
          strcmp(lua_tostring(L, -2), "force") != 0)
        luaL_argerror(L, 2, "only the option 'force' is known");
      lua_pop(L, 1);
    }
    lua_getfield(L, 2, "force");
    force = lua_toboolean(L, -1);
  }
  rc = assoc_db_sync(o->db, force);
  lbind_check_rc(L, o, rc);
  lua_settop(L, 1);
  return 1;
}

static int db_index(lua_State *L) {
  lbind_db *o = luaL_checkudata(L, 1, LBIND_DB_MT);
  const char *k = lua_tostring(L, 2);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  if (!k) return 1;
  if (strcmp(k, "dialect") == 0) {
    lua_pushstring(L, o->dialect);
    return 1;
  }
  if (strcmp(k, "models") == 0) {
    lbind_db_table(L, 1, "models");
    return 1;
  }
  lua_pushnil(L);
  return 1;
}

static int db_tostring(lua_State *L) {
  lbind_db *o = luaL_checkudata(L, 1, LBIND_DB_MT);
  lua_pushfstring(L, "assoc.Database (%s%s)", o->dialect ? o->dialect : "?",
                  o->db ? "" : ", closed");
  return 1;
}

static const luaL_Reg db_methods[] = {
  {"define", lbind_db_define},
  {"sync", db_sync},
  {"query", db_query},
  {"transaction", lbind_db_transaction},
  {"close", db_close},
  {NULL, NULL}
};

static const luaL_Reg db_meta[] = {
  {"__gc", db_close},
  {"__close", db_close},
  {"__tostring", db_tostring},
  {NULL, NULL}
};

void lbind_open_db(lua_State *L) {
  luaL_newmetatable(L, LBIND_DB_MT);
  luaL_setfuncs(L, db_meta, 0);
  luaL_newlib(L, db_methods);
  lua_pushcclosure(L, db_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
