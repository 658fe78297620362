/*
** lmodel.c: assoc.Model objects: db:define (attribute specs, model options,
** scopes), the model's fields and methods (create, bulkCreate, finders,
** update, destroy, scope views, sync, drop) and the Model registry of each
** database.  Scopes live here: the core has none.
*/
#include <stdlib.h>
#include <string.h>

#include "lbind.h"

lbind_model *lbind_test_model(lua_State *L, int idx) {
  return luaL_testudata(L, idx, LBIND_MODEL_MT);
}

lbind_model *lbind_check_model(lua_State *L, int idx) {
  lbind_model *mo = luaL_checkudata(L, idx, LBIND_MODEL_MT);
  lbind_owner_check(L, mo->owner);
  return mo;
}

void lbind_model_field(lua_State *L, int idx, const char *field) {
  lua_getiuservalue(L, idx, 1);
  lua_getfield(L, -1, field);
  lua_remove(L, -2);
}

/* ------------------------------------------------------------- registry */

void lbind_model_new(lua_State *L, int db_idx, assoc_model *m, int vidx,
                     int sidx, int didx) {
  lbind_model *mo;
  int ud;
  db_idx = lua_absindex(L, db_idx);
  mo = lua_newuserdatauv(L, sizeof *mo, 1);
  mo->m = m;
  mo->owner = lua_touserdata(L, db_idx);
  luaL_setmetatable(L, LBIND_MODEL_MT);
  ud = lua_gettop(L);
  lua_createtable(L, 0, 10);                    /* ud uv */
  lua_pushvalue(L, db_idx);
  lua_setfield(L, -2, "db");
  lbind_instance_meta(L, m);                    /* ud uv imt methods */
  lua_setfield(L, -3, "methods");
  lua_setfield(L, -2, "imt");
  if (sidx) lua_pushvalue(L, sidx);
  else lua_newtable(L);
  lua_setfield(L, -2, "scopes");
  lua_newtable(L);                              /* ud uv active */
  if (didx) {
    lua_pushvalue(L, didx);
    lua_setfield(L, -3, "defaultScope");
    lua_pushvalue(L, didx);
    lua_rawseti(L, -2, 1);
  }
  lua_setfield(L, -2, "active");
  if (vidx) lua_pushvalue(L, vidx);
  else lua_newtable(L);
  lua_setfield(L, -2, "validators");
  lua_newtable(L);
  lua_setfield(L, -2, "associations");
  /* { [through model name] = true } of the belongsToMany associations that
  ** target this model: the names its instances take join values under. */
  lua_newtable(L);
  lua_setfield(L, -2, "joins");
  lua_pushvalue(L, ud);
  lua_setfield(L, -2, "base");
  lua_setiuservalue(L, ud, 1);                  /* ud */
  lbind_db_table(L, db_idx, "models");
  lua_pushvalue(L, ud);
  lua_setfield(L, -2, assoc_model_name(m));
  lua_pop(L, 1);
  lbind_db_table(L, db_idx, "byptr");
  lua_pushlightuserdata(L, m);
  lua_pushvalue(L, ud);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

void lbind_push_model(lua_State *L, int db_idx, const assoc_model *m) {
  db_idx = lua_absindex(L, db_idx);
  lbind_db_table(L, db_idx, "byptr");
  lua_pushlightuserdata(L, (void *)m);
  if (lua_rawget(L, -2) != LUA_TNIL) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 2);
  lbind_model_new(L, db_idx, (assoc_model *)m, 0, 0, 0);
}

/* --------------------------------------------------------------- define */

typedef struct attr_src {
  const char *name;
  size_t n;
  int pk;
} attr_src;

/* Lua tables are unordered: primary keys first, then names by bytes. */
static int attr_cmp(const void *a, const void *b) {
  const attr_src *x = a, *y = b;
  size_t n = x->n < y->n ? x->n : y->n;
  int c;
  if (x->pk != y->pk) return y->pk - x->pk;
  c = memcmp(x->name, y->name, n);
  if (c) return c;
  return x->n < y->n ? -1 : x->n > y->n;
}

static void check_keys(lua_State *L, int idx, const char *const *known,
                       const char *what, const char *name) {
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *const *p;
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                   : NULL;
    for (p = known; k && *p; p++)
      if (strcmp(k, *p) == 0) break;
    if (!k || !*p) {
      luaL_error(L, "unknown option '%s' %s '%s'",
                 k ? k : luaL_typename(L, -2), what, name);
    }
    lua_pop(L, 1);
  }
}

static const char *const attr_keys[] = {
  "type", "primaryKey", "autoIncrement", "allowNull", "unique",
  "defaultValue", "validate", "field", NULL
};

static int field_true(lua_State *L, int idx, const char *k) {
  int r;
  lua_getfield(L, idx, k);
  r = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return r;
}

/* One attribute spec (a type, or a table) at spec into d. */
static void parse_attr(lua_State *L, int spec, const char *model,
                       assoc_attr_def *d, lbind_arena *A, int vtab) {
  assoc_type type;
  int length;
  if (lbind_test_type(L, spec, &type, &length)) {
    d->type = type;
    d->length = length;
    return;
  }
  if (lua_type(L, spec) != LUA_TTABLE)
    luaL_error(L, "attribute '%s' of %s: a type or a table expected, got %s",
               d->name, model, luaL_typename(L, spec));
  check_keys(L, spec, attr_keys, "of attribute", d->name);
  lua_getfield(L, spec, "type");
  if (!lbind_test_type(L, -1, &type, &length))
    luaL_error(L, "attribute '%s' of %s: type must be an assoc type "
               "(assoc.STRING, ...), got %s", d->name, model,
               luaL_typename(L, -1));
  lua_pop(L, 1);
  d->type = type;
  d->length = length;
  d->primary_key = field_true(L, spec, "primaryKey");
  d->auto_increment = field_true(L, spec, "autoIncrement");
  d->unique = field_true(L, spec, "unique");
  lua_getfield(L, spec, "allowNull");
  d->not_null = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (lua_getfield(L, spec, "field") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "attribute '%s' of %s: field must be a string",
                 d->name, model);
    d->field = lua_tostring(L, -1);   /* held by the spec table */
  }
  lua_pop(L, 1);
  if (lua_getfield(L, spec, "defaultValue") != LUA_TNIL &&
      !lbind_is_null(L, -1)) {
    assoc_value *v = lbind_arena_alloc(L, A, sizeof *v);
    lbind_to_value_def(L, -1, d, model, A, v, 0);
    d->default_value = v;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, spec, "validate") != LUA_TNIL) {
    lbind_validate_check_spec(L, lua_gettop(L), d->name);
    lua_setfield(L, vtab, d->name);
  } else {
    lua_pop(L, 1);
  }
}

static size_t parse_attrs(lua_State *L, int idx, const char *model,
                          lbind_arena *A, int vtab, assoc_attr_def **out) {
  size_t n = 0, i, cap = 0;
  attr_src *src;
  assoc_attr_def *defs;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    cap++;
    lua_pop(L, 1);
  }
  src = lbind_arena_array(L, A, (size_t)cap, sizeof *src);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "attribute names of %s must be strings, got %s", model,
                 luaL_typename(L, -2));
    src[n].name = lua_tolstring(L, -2, &src[n].n);
    if (strlen(src[n].name) != src[n].n)
      luaL_error(L, "attribute names of %s cannot hold a NUL byte", model);
    src[n].pk = lua_type(L, -1) == LUA_TTABLE && !lbind_test_type(L, -1,
                NULL, NULL) && field_true(L, lua_gettop(L), "primaryKey");
    n++;
    lua_pop(L, 1);
  }
  qsort(src, n, sizeof *src, attr_cmp);
  defs = lbind_arena_array(L, A, (size_t)n, sizeof *defs);
  for (i = 0; i < n; i++) {
    defs[i].name = src[i].name;
    lua_pushlstring(L, src[i].name, src[i].n);
    lua_rawget(L, idx);
    parse_attr(L, lua_gettop(L), model, &defs[i], A, vtab);
    lua_pop(L, 1);
  }
  *out = defs;
  return n;
}

static const char *const scope_keys[] = {
  "where", "attributes", "order", "limit", "offset", NULL
};

static void check_scopes(lua_State *L, int idx) {
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE)
      luaL_error(L, "scopes must map names to tables");
    check_keys(L, lua_gettop(L), scope_keys, "in scope",
               lua_tostring(L, -2));
    lua_pop(L, 1);
  }
}

static const char *const model_keys[] = {
  "tableName", "timestamps", "underscored", "freezeTableName", "scopes",
  "defaultScope", NULL
};

/* Model options at idx; the scopes and defaultScope tables are left on the
** stack at *sidx and *didx (0 when absent). */
static void parse_model_opts(lua_State *L, int idx, const char *name,
                             assoc_model_opts *mo, int *sidx, int *didx) {
  *sidx = *didx = 0;
  if (!idx) return;
  check_keys(L, idx, model_keys, "to define", name);
  if (lua_getfield(L, idx, "tableName") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "tableName of %s must be a string", name);
    mo->table_name = lua_tostring(L, -1);
  } else if (field_true(L, idx, "freezeTableName")) {
    mo->table_name = name;
  }
  lua_pop(L, 1);
  lua_getfield(L, idx, "timestamps");
  mo->no_timestamps = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
  lua_pop(L, 1);
  mo->underscored = field_true(L, idx, "underscored");
  if (lua_getfield(L, idx, "scopes") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TTABLE)
      luaL_error(L, "scopes of %s must be a table", name);
    check_scopes(L, lua_gettop(L));
    *sidx = lua_gettop(L);
  } else {
    lua_pop(L, 1);
  }
  if (lua_getfield(L, idx, "defaultScope") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TTABLE)
      luaL_error(L, "defaultScope of %s must be a table", name);
    check_keys(L, lua_gettop(L), scope_keys, "in scope", "defaultScope");
    *didx = lua_gettop(L);
  } else {
    lua_pop(L, 1);
  }
}

int lbind_db_define(lua_State *L) {
  lbind_db *o = lbind_check_db(L, 1);
  const char *name;
  assoc_model_opts mopts;
  assoc_attr_def *defs;
  assoc_model *m = NULL;
  lbind_arena *A;
  size_t n;
  int vtab, sidx, didx, rc;
  if (lua_type(L, 2) != LUA_TSTRING) luaL_typeerror(L, 2, "string");
  name = lua_tostring(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TTABLE);
  lua_settop(L, 4);
  memset(&mopts, 0, sizeof mopts);
  lua_newtable(L);
  vtab = lua_gettop(L);                         /* validators by attribute */
  parse_model_opts(L, lua_isnil(L, 4) ? 0 : 4, name, &mopts, &sidx, &didx);
  A = lbind_arena_new(L);
  n = parse_attrs(L, 3, name, A, vtab, &defs);
  rc = assoc_model_define(o->db, name, defs, n, &mopts, &m);
  lbind_arena_release(A);
  lbind_check_rc(L, o, rc);
  lbind_model_new(L, 1, m, vtab, sidx, didx);
  return 1;
}

/* ---------------------------------------------------------------- fields */

static void push_raw_attributes(lua_State *L, const assoc_model *m) {
  size_t i, n = assoc_model_attr_count(m);
  lua_createtable(L, 0, (int)n);
  for (i = 0; i < n; i++) {
    const assoc_attr_def *d = assoc_model_attr(m, i);
    lua_createtable(L, 0, 8);
    lua_pushstring(L, lbind_type_name(d->type));
    lua_setfield(L, -2, "type");
    if (d->length) {
      lua_pushinteger(L, d->length);
      lua_setfield(L, -2, "length");
    }
    lua_pushboolean(L, d->primary_key);
    lua_setfield(L, -2, "primaryKey");
    lua_pushboolean(L, d->auto_increment);
    lua_setfield(L, -2, "autoIncrement");
    lua_pushboolean(L, !d->not_null);
    lua_setfield(L, -2, "allowNull");
    lua_pushboolean(L, d->unique);
    lua_setfield(L, -2, "unique");
    if (d->field) {
      lua_pushstring(L, d->field);
      lua_setfield(L, -2, "field");
    }
    if (d->default_value) {
      lbind_push_value(L, d->default_value, d->type);
      lua_setfield(L, -2, "defaultValue");
    }
    lua_setfield(L, -2, d->name);
  }
}

static int model_index(lua_State *L) {
  lbind_model *mo = luaL_checkudata(L, 1, LBIND_MODEL_MT);
  const char *k;
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  if (lua_type(L, 2) != LUA_TSTRING) return 1;
  k = lua_tostring(L, 2);
  if (strcmp(k, "associations") == 0 || strcmp(k, "db") == 0) {
    lbind_model_field(L, 1, k);
    return 1;
  }
  if (strcmp(k, "name") && strcmp(k, "tableName") &&
      strcmp(k, "rawAttributes") && strcmp(k, "primaryKeyAttribute"))
    return 1;
  lbind_owner_check(L, mo->owner);
  if (strcmp(k, "name") == 0) lua_pushstring(L, assoc_model_name(mo->m));
  else if (strcmp(k, "tableName") == 0)
    lua_pushstring(L, assoc_model_table(mo->m));
  else if (strcmp(k, "rawAttributes") == 0)
    push_raw_attributes(L, mo->m);
  else if (assoc_model_pk(mo->m) >= 0)
    lua_pushstring(L,
        assoc_model_attr(mo->m, (size_t)assoc_model_pk(mo->m))->name);
  else
    lua_pushnil(L);
  return 1;
}

static int model_tostring(lua_State *L) {
  lbind_model *mo = luaL_checkudata(L, 1, LBIND_MODEL_MT);
  if (!mo->owner->db) lua_pushliteral(L, "assoc.Model (closed)");
  else lua_pushfstring(L, "assoc.Model: %s", assoc_model_name(mo->m));
  return 1;
}

/* --------------------------------------------------------------- finders */

static void opt_table(lua_State *L, int idx) {
  if (!lua_isnoneornil(L, idx)) luaL_checktype(L, idx, LUA_TTABLE);
}

/* Load the prepared include list at inc for the result on top: an array,
** or (single) one instance or nil. */
static void load_includes(lua_State *L, lbind_db *o, int inc, int single) {
  if (!single) {
    lbind_include_load(L, o, -1, inc);
    return;
  }
  if (lua_isnil(L, -1)) return;
  lua_createtable(L, 1, 0);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, 1);
  lbind_include_load(L, o, -1, inc);
  lua_pop(L, 1);
}

/* Run a find with the options at opts (0: none) under the view's scopes;
** pk_idx (0: none) adds primary key = that value. */
static int run_find(lua_State *L, lbind_model *mo, int opts, int pk_idx,
                    int single) {
  assoc_query q;
  assoc_rows *rows = NULL;
  lbind_arena *A;
  int scopes, rc, inc = 0, raw, nest;
  lbind_check_txn_opt(L, opts, mo->owner);
  lbind_raw_opts(L, opts, &raw, &nest);
  lbind_model_field(L, 1, "active");
  scopes = lua_gettop(L);
  if (opts && lua_getfield(L, opts, "include") != LUA_TNIL) {
    lbind_include_prepare(L, 1, -1);
    inc = lua_gettop(L);
  }
  A = lbind_arena_new(L);
  lbind_query(L, opts, scopes, mo->m, NULL, A, &q,
              LBIND_Q_PAGING | LBIND_Q_INCLUDE);
  if (inc) q.nexists = lbind_include_exists(L, inc, A, &q.exists);
  if (pk_idx) {
    int pk = assoc_model_pk(mo->m);
    assoc_value v;
    if (pk < 0)
      luaL_error(L, "%s has no single-column primary key",
                 assoc_model_name(mo->m));
    lbind_to_value(L, pk_idx, mo->m, pk, A, &v, pk_idx);
    q.where = lbind_cond_and(L, A, q.where,
                             lbind_cond_eq(L, A, mo->m, pk, &v));
  }
  if (single) q.limit = 1;
  rc = assoc_model_find(mo->m, &q, &rows);
  lbind_arena_release(A);
  lbind_check_rc(L, mo->owner, rc);
  if (raw) {
    lbind_push_raw_rows(L, mo->owner, rows, mo->m, single, nest);
    return 1;
  }
  lbind_model_field(L, 1, "base");
  lbind_push_rows(L, mo->owner, rows, lua_gettop(L), single);
  if (inc) load_includes(L, mo->owner, inc, single);
  return 1;
}

static int model_find_all(lua_State *L) {
  lbind_model *mo = lbind_check_model(L, 1);
  opt_table(L, 2);
  lua_settop(L, 2);
  return run_find(L, mo, lua_isnil(L, 2) ? 0 : 2, 0, 0);
}

static int model_find_one(lua_State *L) {
  lbind_model *mo = lbind_check_model(L, 1);
  opt_table(L, 2);
  lua_settop(L, 2);
  return run_find(L, mo, lua_isnil(L, 2) ? 0 : 2, 0, 1);
}

static int model_find_by_pk(lua_State *L) {
  lbind_model *mo = lbind_check_model(L, 1);
  if (lua_isnoneornil(L, 2))
    luaL_argerror(L, 2, lua_pushfstring(L, "primary key expected, got %s",
                                        luaL_typename(L, 2)));
  opt_table(L, 3);
  lua_settop(L, 3);
  return run_find(L, mo, lua_isnil(L, 3) ? 0 : 3, 2, 1);
}

static int model_count(lua_State *L) {
  lbind_model *mo = lbind_check_model(L, 1);
  assoc_query q;
  lbind_arena *A;
  int64_t n = 0;
  int rc, opts;
  opt_table(L, 2);
  lua_settop(L, 2);
  opts = lua_isnil(L, 2) ? 0 : 2;
  lbind_check_txn_opt(L, opts, mo->owner);
  lbind_model_field(L, 1, "active");            /* 3 */
  A = lbind_arena_new(L);
  lbind_query(L, opts, 3, mo->m, NULL, A, &q, 0);
  rc = assoc_model_count(mo->m, &q, &n);
  lbind_arena_release(A);
  lbind_check_rc(L, mo->owner, rc);
  lua_pushinteger(L, (lua_Integer)n);
  return 1;
}

/* ---------------------------------------------------------------- writes */

static void check_write_opts(lua_State *L, int idx, int need_where) {
  static const char *const keys[] = {"where", "transaction", "validate",
                                     NULL};
  const char *const *p;
  if (need_where) {
    luaL_checktype(L, idx, LUA_TTABLE);
    if (lua_getfield(L, idx, "where") == LUA_TNIL)
      luaL_argerror(L, idx, "options with a where expected");
    lua_pop(L, 1);
  }
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                   : "?";
    for (p = keys; *p; p++)
      if (strcmp(k, *p) == 0) break;
    if (!*p || (!need_where && strcmp(k, "where") == 0))
      luaL_error(L, "unknown option '%s'", k);
    lua_pop(L, 1);
  }
}

static int skip_validation(lua_State *L, int opts) {
  int r;
  if (!opts || lua_type(L, opts) != LUA_TTABLE) return 0;
  lua_getfield(L, opts, "validate");
  r = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
  lua_pop(L, 1);
  return r;
}

static int model_create(lua_State *L) {
  lbind_model *mo = lbind_check_model(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  check_write_opts(L, 3, 0);
  lua_settop(L, 3);
  lbind_check_txn_opt(L, 3, mo->owner);
  lbind_model_field(L, 1, "base");              /* 4 */
  lbind_build_instance(L, 4, 2, 2);             /* 5 */
  lbind_inst_save(L, 5, lua_isnil(L, 3) ? 0 : 3);
  lua_settop(L, 5);
  return 1;
}

static int model_build(lua_State *L) {
  lbind_check_model(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lbind_model_field(L, 1, "base");              /* 3 */
  lbind_build_instance(L, 3, 2, 2);
  return 1;
}

static int model_update(lua_State *L) {
  lbind_model *mo = lbind_check_model(L, 1);
  assoc_query q;
  assoc_field *f;
  lbind_arena *A;
  int64_t changed = 0;
  size_t n;
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  check_write_opts(L, 3, 1);
  lua_settop(L, 3);
  lbind_check_txn_opt(L, 3, mo->owner);
  lbind_check_attr_keys(L, 2, mo->m, "");
  lbind_model_field(L, 1, "base");              /* 4 */
  if (!skip_validation(L, 3)) {
    lua_newtable(L);                            /* 5 */
    lbind_validate(L, 4, 2, 0, 5, 0, 0, NULL);
    lbind_validate_raise(L, 5);
  }
  lbind_model_field(L, 1, "active");
  A = lbind_arena_new(L);
  lbind_query(L, 3, lua_gettop(L) - 1, mo->m, NULL, A, &q, LBIND_Q_KEYS);
  n = lbind_fields(L, 2, mo->m, A, &f, 2);
  rc = n ? assoc_model_update(mo->m, f, n, &q, &changed) : ASSOC_OK;
  lbind_arena_release(A);
  lbind_check_rc(L, mo->owner, rc);
  lua_pushinteger(L, (lua_Integer)changed);
  return 1;
}

static int model_destroy(lua_State *L) {
  lbind_model *mo = lbind_check_model(L, 1);
  assoc_query q;
  lbind_arena *A;
  int64_t deleted = 0;
  int rc;
  check_write_opts(L, 2, 1);
  lua_settop(L, 2);
  lbind_check_txn_opt(L, 2, mo->owner);
  lbind_model_field(L, 1, "active");            /* 3 */
  A = lbind_arena_new(L);
  lbind_query(L, 2, 3, mo->m, NULL, A, &q, LBIND_Q_KEYS);
  rc = assoc_model_destroy(mo->m, &q, &deleted);
  lbind_arena_release(A);
  lbind_check_rc(L, mo->owner, rc);
  lua_pushinteger(L, (lua_Integer)deleted);
  return 1;
}

/* ------------------------------------------------------------ bulkCreate */

/* The attributes an instance's values table holds, as a signature key. */
static void push_signature(lua_State *L, const assoc_model *m, int vals) {
  size_t i, n = assoc_model_attr_count(m);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (i = 0; i < n; i++) {
    lua_getfield(L, vals, assoc_model_attr(m, i)->name);
    if (!lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushfstring(L, "%d,", (int)i);
      luaL_addvalue(&b);
    } else {
      lua_pop(L, 1);
    }
  }
  luaL_pushresult(&b);
}

/* Groups of instance positions with the same attributes, in the order
** they first appear: each group is one multi-row INSERT. */
static void group_rows(lua_State *L, const assoc_model *m, int list,
                       lua_Integer n) {
  lua_Integer i;
  int groups, bysig;
  lua_newtable(L);
  groups = lua_gettop(L);
  lua_newtable(L);
  bysig = lua_gettop(L);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    lbind_inst_field(L, -1, "values");
    push_signature(L, m, lua_gettop(L));        /* inst vals sig */
    lua_pushvalue(L, -1);
    if (lua_rawget(L, bysig) == LUA_TNIL) {     /* inst vals sig group */
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -2);
      lua_pushvalue(L, -2);
      lua_rawset(L, bysig);
      lua_pushvalue(L, -1);
      lua_rawseti(L, groups, (lua_Integer)lua_rawlen(L, groups) + 1);
    }
    lua_pushinteger(L, i);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 4);
  }
  lua_pop(L, 1);                                /* groups */
}

/* One INSERT for the group at g of the instances at list. */
static void insert_group(lua_State *L, lbind_model *mo, int list, int g) {
  lua_Integer i, nrows = (lua_Integer)lua_rawlen(L, g);
  size_t a, nattrs = 0, total = assoc_model_attr_count(mo->m);
  int *attrs, rc;
  assoc_value *values;
  assoc_rows *rows = NULL;
  lbind_arena *A = lbind_arena_new(L);
  int base = lua_gettop(L);
  attrs = lbind_arena_array(L, A, (size_t)total, sizeof *attrs);
  lua_rawgeti(L, g, 1);
  lua_rawget(L, list);
  lbind_inst_field(L, -1, "values");
  for (a = 0; a < total; a++) {
    if (lua_getfield(L, -1, assoc_model_attr(mo->m, a)->name) != LUA_TNIL)
      attrs[nattrs++] = (int)a;
    lua_pop(L, 1);
  }
  lua_settop(L, base);
  values = lbind_arena_alloc(L, A, (size_t)(nrows ? nrows : 1) *
                             (nattrs ? nattrs : 1) * sizeof *values);
  for (i = 0; i < nrows; i++) {
    lua_rawgeti(L, g, i + 1);
    lua_rawget(L, list);
    lbind_inst_field(L, -1, "values");
    for (a = 0; a < nattrs; a++) {
      lua_getfield(L, -1, assoc_model_attr(mo->m, (size_t)attrs[a])->name);
      lbind_to_value(L, -1, mo->m, attrs[a], A,
                     &values[(size_t)i * nattrs + a], 0);
      lua_pop(L, 1);
    }
    lua_pop(L, 2);   /* the instance still holds the values' strings */
  }
  rc = assoc_model_insert_many(mo->m, attrs, nattrs, values, (size_t)nrows,
                               &rows);
  lbind_arena_release(A);
  lua_settop(L, base);
  lbind_check_rc(L, mo->owner, rc);
  for (i = 0; i < nrows; i++) {
    lua_rawgeti(L, g, i + 1);
    lua_rawget(L, list);
    lbind_load_row(L, mo->owner, rows, lua_gettop(L));
    lua_pop(L, 1);
  }
}

/* (model, list, groups): insert every group. */
static int insert_groups(lua_State *L) {
  lbind_model *mo = lua_touserdata(L, 1);
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, 3);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 3, i);
    insert_group(L, mo, 2, lua_gettop(L));
    lua_pop(L, 1);
  }
  return 0;
}

static int model_bulk_create(lua_State *L) {
  lbind_model *mo = lbind_check_model(L, 1);
  lua_Integer i, n;
  luaL_checktype(L, 2, LUA_TTABLE);
  check_write_opts(L, 3, 0);
  lua_settop(L, 3);
  lbind_check_txn_opt(L, 3, mo->owner);
  lbind_model_field(L, 1, "base");              /* 4 */
  n = (lua_Integer)lua_rawlen(L, 2);
  lua_createtable(L, (int)n, 0);                /* 5: the instances */
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 2, i) != LUA_TTABLE)
      luaL_argerror(L, 2, lua_pushfstring(L, "a list of value tables "
                    "expected, got %s at index %d", luaL_typename(L, -1),
                    (int)i));
    lbind_build_instance(L, 4, lua_gettop(L), 2);
    lua_rawseti(L, 5, i);
    lua_pop(L, 1);
  }
  if (!skip_validation(L, 3)) {
    lua_newtable(L);                            /* 6 */
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, 5, i);
      lbind_inst_field(L, -1, "values");
      lbind_validate(L, 4, lua_gettop(L), lua_gettop(L) - 1, 6,
                     LBIND_V_FULL, 0, NULL);
      lua_pop(L, 2);
    }
    lbind_validate_raise(L, 6);
    lua_settop(L, 5);
  }
  if (n == 0) return 1;
  lua_pushvalue(L, 4);
  lua_pushvalue(L, 5);
  group_rows(L, mo->m, 5, n);                   /* ... model list groups */
  if (lua_rawlen(L, -1) > 1) {
    lbind_atomic(L, mo->owner, insert_groups, 3, 0);
  } else {
    lua_pushcfunction(L, insert_groups);
    lua_insert(L, -4);
    lua_call(L, 3, 0);
  }
  lua_settop(L, 5);
  return 1;
}

/* ---------------------------------------------------------------- scopes */

/* Push a view of the model at 1 whose active scope list is at list. */
static void push_view(lua_State *L, int list) {
  lbind_model *mo = lua_touserdata(L, 1);
  lbind_model *v = lua_newuserdatauv(L, sizeof *v, 1);
  *v = *mo;
  luaL_setmetatable(L, LBIND_MODEL_MT);
  lua_newtable(L);                              /* view uv */
  lua_getiuservalue(L, 1, 1);                   /* view uv base_uv */
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -5);
  }
  lua_pop(L, 1);
  lua_pushvalue(L, list);
  lua_setfield(L, -2, "active");
  lua_setiuservalue(L, -2, 1);
}

/* Push the scope table called name of the model at idx. */
static void push_named_scope(lua_State *L, int idx, const char *name) {
  lbind_model *mo = lua_touserdata(L, idx);
  if (strcmp(name, "defaultScope") == 0) {
    lbind_model_field(L, idx, "defaultScope");
    return;
  }
  lbind_model_field(L, idx, "scopes");
  if (lua_getfield(L, -1, name) == LUA_TNIL)
    luaL_error(L, "unknown scope '%s' of %s", name,
               assoc_model_name(mo->m));
  lua_remove(L, -2);
}

void lbind_model_scope_list(lua_State *L, int model_idx, const char *name) {
  model_idx = lua_absindex(L, model_idx);
  lua_newtable(L);
  push_named_scope(L, model_idx, name);
  if (lua_isnil(L, -1)) lua_pop(L, 1);
  else lua_rawseti(L, -2, 1);
}

static int model_scope(lua_State *L) {
  int i, n = lua_gettop(L);
  lbind_check_model(L, 1);
  lua_newtable(L);                              /* list */
  for (i = 2; i <= n; i++) {
    push_named_scope(L, 1, luaL_checkstring(L, i));
    if (lua_isnil(L, -1)) lua_pop(L, 1);
    else lua_rawseti(L, n + 1, (lua_Integer)lua_rawlen(L, n + 1) + 1);
  }
  push_view(L, n + 1);
  return 1;
}

static int model_unscoped(lua_State *L) {
  lbind_check_model(L, 1);
  lua_settop(L, 1);
  lua_newtable(L);
  push_view(L, 2);
  return 1;
}

/* ------------------------------------------------------------ sync, drop */

static int model_sync(lua_State *L) {
  lbind_model *mo = lbind_check_model(L, 1);
  int force = 0;
  opt_table(L, 2);
  if (lua_istable(L, 2)) {
    static const char *const known[] = {"force", NULL};
    check_keys(L, 2, known, "to sync of", assoc_model_name(mo->m));
    lua_getfield(L, 2, "force");
    force = lua_toboolean(L, -1);
  }
  lbind_check_rc(L, mo->owner, assoc_model_sync(mo->m, force));
  lua_settop(L, 1);
  return 1;
}

static int model_drop(lua_State *L) {
  lbind_model *mo = lbind_check_model(L, 1);
  luaL_argcheck(L, lua_isnoneornil(L, 2), 2, "no options expected");
  lbind_check_rc(L, mo->owner, assoc_model_drop(mo->m));
  return 0;
}

static int model_has_many(lua_State *L) {
  return lbind_associate(L, ASSOC_HAS_MANY);
}

static int model_belongs_to(lua_State *L) {
  return lbind_associate(L, ASSOC_BELONGS_TO);
}

static int model_has_one(lua_State *L) {
  return lbind_associate(L, ASSOC_HAS_ONE);
}

static int model_belongs_to_many(lua_State *L) {
  return lbind_associate(L, ASSOC_BELONGS_TO_MANY);
}

static const luaL_Reg model_methods[] = {
  {"create", model_create},
  {"build", model_build},
  {"bulkCreate", model_bulk_create},
  {"findAll", model_find_all},
  {"findOne", model_find_one},
  {"findByPk", model_find_by_pk},
  {"count", model_count},
  {"update", model_update},
  {"destroy", model_destroy},
  {"scope", model_scope},
  {"unscoped", model_unscoped},
  {"sync", model_sync},
  {"drop", model_drop},
  {"hasMany", model_has_many},
  {"belongsTo", model_belongs_to},
  {"hasOne", model_has_one},
  {"belongsToMany", model_belongs_to_many},
  {NULL, NULL}
};

void lbind_open_model(lua_State *L) {
  luaL_newmetatable(L, LBIND_MODEL_MT);
  lua_pushcfunction(L, model_tostring);
  lua_setfield(L, -2, "__tostring");
  luaL_newlib(L, model_methods);
  lua_pushcclosure(L, model_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
