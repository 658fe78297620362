/*
** linstance.c: model instances.  Each is a userdata whose metatable is its
** model's instance metatable (a member of the registry's instance group)
** and whose user value is the state { values, changed, model, isNew,
** extra }.  Rows from the core become instances here, join rows included.
*/
#include <string.h>

#include "lbind.h"

/* --------------------------------------------------------------- helpers */

lbind_inst *lbind_test_instance(lua_State *L, int idx) {
  void *p = lua_touserdata(L, idx);
  int member;
  if (!p || !lua_getmetatable(L, idx)) return NULL;
  lua_getfield(L, LUA_REGISTRYINDEX, LBIND_INSTANCES_KEY);
  lua_pushvalue(L, -2);
  member = lua_rawget(L, -2) != LUA_TNIL;
  lua_pop(L, 3);
  return member ? p : NULL;
}

lbind_inst *lbind_check_instance(lua_State *L, int idx) {
  lbind_inst *p = lbind_test_instance(L, idx);
  if (!p) luaL_typeerror(L, idx, "model instance");
  lbind_owner_check(L, p->model->owner);
  return p;
}

void lbind_inst_field(lua_State *L, int idx, const char *field) {
  lua_getiuservalue(L, idx, 1);
  lua_getfield(L, -1, field);
  lua_remove(L, -2);
}

void lbind_inst_value(lua_State *L, int idx, const char *name) {
  lbind_inst_field(L, idx, "values");
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  if (lbind_is_null(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
}

lbind_inst *lbind_push_instance(lua_State *L, int model_idx, int is_new) {
  lbind_inst *p;
  model_idx = lua_absindex(L, model_idx);
  p = lua_newuserdatauv(L, sizeof *p, 1);
  p->model = lua_touserdata(L, model_idx);
  lbind_model_field(L, model_idx, "imt");
  lua_setmetatable(L, -2);
  lua_createtable(L, 0, 5);                     /* inst state */
  lua_newtable(L);
  lua_setfield(L, -2, "values");
  lua_newtable(L);
  lua_setfield(L, -2, "changed");
  lua_pushvalue(L, model_idx);
  lua_setfield(L, -2, "model");
  lua_pushboolean(L, is_new);
  lua_setfield(L, -2, "isNew");
  lua_newtable(L);
  lua_setfield(L, -2, "extra");
  lua_setiuservalue(L, -2, 1);                  /* inst */
  return p;
}

/* The model name of the instance at idx, from its metatable (valid after
** the database closed). */
static const char *inst_model_name(lua_State *L, int idx) {
  const char *name;
  luaL_getmetafield(L, idx, "__name");
  name = lua_tostring(L, -1);
  lua_pop(L, 1);   /* the metatable keeps the string */
  return name ? name : "?";
}

static int usable(const lbind_inst *p) {
  return p->model->owner->db != NULL;
}

/* A Lua value that could be stored in attribute d (tables only in JSON). */
static void check_value_type(lua_State *L, int idx, const assoc_model *m,
                             const assoc_attr_def *d, int argn) {
  int t = lua_type(L, idx);
  if (t == LUA_TNIL || t == LUA_TNUMBER || t == LUA_TSTRING ||
      t == LUA_TBOOLEAN || lbind_is_null(L, idx) ||
      (t == LUA_TTABLE && d->type == ASSOC_TYPE_JSON))
    return;
  {
    const char *msg = lua_pushfstring(L, "cannot store a %s in attribute "
                                      "'%s' of %s", luaL_typename(L, idx),
                                      d->name, assoc_model_name(m));
    if (argn > 0) luaL_argerror(L, argn, msg);
    luaL_error(L, "%s", msg);
  }
}

/* values[k] = v at kidx/vidx of the instance at idx, marking it changed
** when it differs (nil is stored as assoc.null: an explicit NULL). */
static void set_value(lua_State *L, int idx, int kidx, int vidx) {
  int same;
  lbind_inst_field(L, idx, "values");           /* vals */
  lua_pushvalue(L, kidx);
  lua_rawget(L, -2);                            /* vals cur */
  same = lua_rawequal(L, -1, vidx) ||
         ((lua_isnil(L, -1) || lbind_is_null(L, -1)) &&
          (lua_isnil(L, vidx) || lbind_is_null(L, vidx)));
  lua_pop(L, 1);
  if (!same) {
    lua_pushvalue(L, kidx);
    if (lua_isnil(L, vidx)) lbind_push_null(L);
    else lua_pushvalue(L, vidx);
    lua_rawset(L, -3);
    lbind_inst_field(L, idx, "changed");
    lua_pushvalue(L, kidx);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* Check that k (at kidx) names an attribute and v (at vidx) fits it. */
static void check_set(lua_State *L, lbind_inst *p, int kidx, int vidx,
                      int argn) {
  const assoc_model *m = p->model->m;
  const char *k = lua_type(L, kidx) == LUA_TSTRING ? lua_tostring(L, kidx)
                                                   : NULL;
  int attr;
  if (!usable(p)) return;     /* nothing to check against; save raises */
  attr = k ? assoc_model_attr_index(m, k) : -1;
  if (attr < 0)
    luaL_error(L, "unknown attribute '%s' of %s",
               k ? k : luaL_tolstring(L, kidx, NULL), assoc_model_name(m));
  check_value_type(L, vidx, m, assoc_model_attr(m, (size_t)attr), argn);
}

/* ------------------------------------------------------------ build, rows */

void lbind_build_instance(lua_State *L, int model_idx, int vidx, int argn) {
  lbind_model *mo;
  size_t i, n;
  int inst, vals, changed;
  model_idx = lua_absindex(L, model_idx);
  vidx = lua_absindex(L, vidx);
  mo = lua_touserdata(L, model_idx);
  lbind_check_attr_keys(L, vidx, mo->m, "");
  lbind_push_instance(L, model_idx, 1);
  inst = lua_gettop(L);
  lbind_inst_field(L, inst, "values");
  vals = lua_gettop(L);
  lbind_inst_field(L, inst, "changed");
  changed = lua_gettop(L);
  n = assoc_model_attr_count(mo->m);
  for (i = 0; i < n; i++) {
    const assoc_attr_def *d = assoc_model_attr(mo->m, i);
    lua_pushstring(L, d->name);                 /* name */
    lua_pushvalue(L, -1);
    if (lua_rawget(L, vidx) != LUA_TNIL) {      /* name v */
      check_value_type(L, -1, mo->m, d, argn);
      lua_pushvalue(L, -2);
      lua_pushboolean(L, 1);
      lua_rawset(L, changed);
    } else if (d->default_value && !d->auto_increment) {
      lua_pop(L, 1);
      lbind_push_value(L, d->default_value, d->type);
    }
    if (lua_isnil(L, -1)) lua_pop(L, 2);
    else lua_rawset(L, vals);
  }
  lua_settop(L, inst);
}

/* Load the current row's columns into the instance at inst (whose model is
** m); columns of another model (a join row) make an instance of that
** model under extra[<its name>]. */
static void fill_row(lua_State *L, lbind_db *o, assoc_rows *rows, int inst,
                     const assoc_model *m, int db_idx) {
  size_t i, ncols = assoc_rows_column_count(rows);
  const assoc_model *jm = NULL;
  int vals, jvals = 0;
  lbind_inst_field(L, inst, "values");
  vals = lua_gettop(L);
  for (i = 0; i < ncols; i++) {
    const assoc_model *cm = NULL;
    int attr = assoc_rows_column_attr(rows, i, &cm), target, rc;
    assoc_value v;
    const assoc_attr_def *d;
    if (attr < 0 || !cm) continue;
    if (cm == m) target = vals;
    else {
      if (cm != jm) {
        luaL_checkstack(L, 8, NULL);
        jm = cm;
        lbind_inst_field(L, inst, "extra");     /* extra */
        lbind_push_model(L, db_idx, cm);        /* extra jmodel */
        lbind_push_instance(L, -1, 0);          /* extra jmodel jinst */
        lua_pushvalue(L, -1);
        lua_setfield(L, -4, assoc_model_name(cm));
        lbind_inst_field(L, -1, "values");      /* extra jmodel jinst jv */
        jvals = lua_gettop(L);
      }
      target = jvals;
    }
    rc = assoc_rows_value(rows, i, &v);
    if (rc != ASSOC_OK) lbind_check_rc(L, o, rc);
    if (v.kind == ASSOC_NULL) continue;
    d = assoc_model_attr(cm, (size_t)attr);
    lbind_push_value(L, &v, d->type);
    lua_setfield(L, target, d->name);
  }
  lua_settop(L, vals - 1);
}

void lbind_push_rows(lua_State *L, lbind_db *o, assoc_rows *rows,
                     int model_idx, int single) {
  lbind_model *mo;
  lua_Integer n = 0;
  int db_idx, out = 0, rc;
  model_idx = lua_absindex(L, model_idx);
  mo = lua_touserdata(L, model_idx);
  lbind_model_field(L, model_idx, "db");
  db_idx = lua_gettop(L);
  if (!single) {
    lua_newtable(L);
    out = lua_gettop(L);
  }
  while ((rc = rows ? assoc_rows_step(rows) : ASSOC_DONE) == ASSOC_ROW) {
    lbind_push_instance(L, model_idx, 0);
    fill_row(L, o, rows, lua_gettop(L), mo->m, db_idx);
    if (single) {
      lbind_check_rc(L, o, ASSOC_OK);
      lua_remove(L, db_idx);
      return;
    }
    lua_rawseti(L, out, ++n);
  }
  lbind_check_rc(L, o, rc);
  if (single) lua_pushnil(L);
  lua_remove(L, db_idx);
}

int lbind_load_row(lua_State *L, lbind_db *o, assoc_rows *rows,
                   int inst_idx) {
  lbind_inst *p;
  int rc, top = lua_gettop(L);
  inst_idx = lua_absindex(L, inst_idx);
  p = lua_touserdata(L, inst_idx);
  rc = rows ? assoc_rows_step(rows) : ASSOC_DONE;
  lbind_check_rc(L, o, rc);
  lua_getiuservalue(L, inst_idx, 1);            /* state */
  lua_newtable(L);
  lua_setfield(L, -2, "changed");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "isNew");
  if (rc != ASSOC_ROW) {
    lua_settop(L, top);
    return 0;
  }
  lua_newtable(L);
  lua_setfield(L, -2, "values");
  lua_getfield(L, -1, "model");                 /* state model */
  lbind_model_field(L, -1, "db");               /* state model db */
  fill_row(L, o, rows, inst_idx, p->model->m, lua_gettop(L));
  lbind_check_rc(L, o, ASSOC_OK);
  lua_settop(L, top);
  return 1;
}

/* --------------------------------------------------------------- writing */

/* The condition "primary key(s) = the instance's values". */
static const assoc_cond *pk_where(lua_State *L, int vals,
                                  const assoc_model *m, lbind_arena *A) {
  const assoc_cond *w = NULL;
  size_t i, n = assoc_model_attr_count(m);
  for (i = 0; i < n; i++) {
    const assoc_attr_def *d = assoc_model_attr(m, i);
    assoc_value v;
    if (!d->primary_key) continue;
    lua_getfield(L, vals, d->name);
    if (lua_isnil(L, -1) || lbind_is_null(L, -1))
      luaL_error(L, "%s instance has no value for its primary key '%s'",
                 assoc_model_name(m), d->name);
    lbind_to_value(L, -1, m, (int)i, A, &v, 0);
    w = lbind_cond_and(L, A, w, lbind_cond_eq(L, A, m, (int)i, &v));
    lua_pop(L, 1);   /* the values table holds the string */
  }
  if (!w)
    luaL_error(L, "%s has no primary key", assoc_model_name(m));
  return w;
}

static int wants_validation(lua_State *L, int opts) {
  int r = 1;
  if (opts && lua_type(L, opts) == LUA_TTABLE) {
    lua_getfield(L, opts, "validate");
    r = !(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_pop(L, 1);
  }
  return r;
}

static void inst_insert(lua_State *L, lbind_inst *p, int idx, int model,
                        int vals, int validate) {
  lbind_db *o = p->model->owner;
  assoc_field *f;
  assoc_rows *rows = NULL;
  lbind_arena *A;
  size_t n;
  int rc;
  if (validate) {
    lua_newtable(L);
    lbind_validate(L, model, vals, idx, lua_gettop(L), LBIND_V_FULL, 0,
                   NULL);
    lbind_validate_raise(L, lua_gettop(L));
  }
  A = lbind_arena_new(L);
  n = lbind_fields(L, vals, p->model->m, A, &f, 0);
  rc = assoc_model_insert(p->model->m, f, n, &rows);
  lbind_arena_release(A);
  lbind_check_rc(L, o, rc);
  lbind_load_row(L, o, rows, idx);
}

static void inst_update(lua_State *L, lbind_inst *p, int idx, int model,
                        int vals, int validate) {
  lbind_db *o = p->model->owner;
  const assoc_model *m = p->model->m;
  size_t i, n = 0, nattrs = assoc_model_attr_count(m);
  assoc_field *f;
  lbind_arena *A;
  int changed, rc, pk = assoc_model_pk(m);
  lbind_inst_field(L, idx, "changed");
  changed = lua_gettop(L);
  lua_pushnil(L);
  if (!lua_next(L, changed)) return;            /* nothing to write */
  lua_pop(L, 2);
  if (validate) {
    lua_newtable(L);
    lbind_validate(L, model, vals, idx, lua_gettop(L), 0, changed, NULL);
    lbind_validate_raise(L, lua_gettop(L));
  }
  A = lbind_arena_new(L);
  f = lbind_arena_alloc(L, A, (nattrs ? nattrs : 1) * sizeof *f);
  for (i = 0; i < nattrs; i++) {
    const char *name = assoc_model_attr(m, i)->name;
    if (lua_getfield(L, changed, name) != LUA_TNIL) {
      lua_getfield(L, vals, name);
      f[n].attr = (int)i;
      lbind_to_value(L, -1, m, (int)i, A, &f[n].value, 0);
      n++;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  if (pk >= 0) {
    assoc_value key;
    assoc_rows *rows = NULL;
    lua_getfield(L, vals, assoc_model_attr(m, (size_t)pk)->name);
    if (lua_isnil(L, -1) || lbind_is_null(L, -1))
      luaL_error(L, "cannot save %s: its primary key is nil",
                 assoc_model_name(m));
    lbind_to_value(L, -1, m, pk, A, &key, 0);
    rc = assoc_model_update_pk(p->model->m, &key, f, n, &rows);
    lbind_arena_release(A);
    lbind_check_rc(L, o, rc);
    if (lbind_load_row(L, o, rows, idx)) return;
  } else {
    assoc_query q;
    int64_t count = 0;
    memset(&q, 0, sizeof q);
    q.where = pk_where(L, vals, m, A);
    rc = assoc_model_update(p->model->m, f, n, &q, &count);
    lbind_arena_release(A);
    lbind_check_rc(L, o, rc);
  }
  lua_getiuservalue(L, idx, 1);
  lua_newtable(L);
  lua_setfield(L, -2, "changed");
  lua_pop(L, 1);
}

void lbind_inst_save(lua_State *L, int idx, int opts_idx) {
  lbind_inst *p = lbind_check_instance(L, idx);
  int top = lua_gettop(L), model, vals, is_new, validate;
  idx = lua_absindex(L, idx);
  if (opts_idx) opts_idx = lua_absindex(L, opts_idx);
  lbind_check_txn_opt(L, opts_idx, p->model->owner);
  validate = wants_validation(L, opts_idx);
  lbind_inst_field(L, idx, "model");
  model = lua_gettop(L);
  lbind_inst_field(L, idx, "values");
  vals = lua_gettop(L);
  lbind_inst_field(L, idx, "isNew");
  is_new = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (is_new) inst_insert(L, p, idx, model, vals, validate);
  else inst_update(L, p, idx, model, vals, validate);
  lua_settop(L, top);
}

/* --------------------------------------------------------------- methods */

static void check_opts(lua_State *L, int idx) {
  static const char *const keys[] = {"transaction", "validate", NULL};
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *const *p;
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                   : "?";
    for (p = keys; *p; p++)
      if (strcmp(k, *p) == 0) break;
    if (!*p) luaL_error(L, "unknown option '%s'", k);
    lua_pop(L, 1);
  }
}

static lbind_inst *self_instance(lua_State *L) {
  lbind_inst *p = lbind_test_instance(L, 1);
  if (!p) luaL_typeerror(L, 1, "model instance");
  return p;
}

static int inst_get(lua_State *L);

static int inst_to_table(lua_State *L) {
  self_instance(L);
  lua_newtable(L);
  lbind_inst_field(L, 1, "values");
  lua_pushnil(L);
  while (lua_next(L, -2)) {                     /* t vals k v */
    if (lbind_is_null(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -5);
  }
  lua_pop(L, 1);
  return 1;
}

static int inst_get(lua_State *L) {
  self_instance(L);
  if (lua_isnoneornil(L, 2) || lua_istable(L, 2)) return inst_to_table(L);
  luaL_checkstring(L, 2);
  lbind_inst_value(L, 1, lua_tostring(L, 2));
  return 1;
}

static int inst_set(lua_State *L) {
  lbind_inst *p = self_instance(L);
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_settop(L, 2);
    lua_pushnil(L);
    while (lua_next(L, 2)) {                    /* check all, then write */
      check_set(L, p, 3, 4, 0);
      lua_pop(L, 1);
    }
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      set_value(L, 1, 3, 4);
      lua_pop(L, 1);
    }
  } else {
    luaL_checkstring(L, 2);
    lua_settop(L, 3);
    check_set(L, p, 2, 3, 2);
    set_value(L, 1, 2, 3);
  }
  lua_settop(L, 1);
  return 1;
}

static int inst_save(lua_State *L) {
  lbind_check_instance(L, 1);
  check_opts(L, 2);
  lua_settop(L, 2);
  lbind_inst_save(L, 1, lua_isnil(L, 2) ? 0 : 2);
  lua_settop(L, 1);
  return 1;
}

static int inst_update_m(lua_State *L) {
  lbind_check_instance(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  check_opts(L, 3);
  lua_settop(L, 3);
  lua_pushcfunction(L, inst_set);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_call(L, 2, 0);
  lbind_inst_save(L, 1, lua_isnil(L, 3) ? 0 : 3);
  lua_settop(L, 1);
  return 1;
}

static int inst_destroy(lua_State *L) {
  lbind_inst *p = lbind_check_instance(L, 1);
  lbind_db *o = p->model->owner;
  assoc_query q;
  lbind_arena *A;
  int64_t deleted = 0;
  int rc;
  check_opts(L, 2);
  lua_settop(L, 2);
  lbind_check_txn_opt(L, 2, o);
  lbind_inst_field(L, 1, "isNew");
  if (lua_toboolean(L, -1))
    luaL_error(L, "cannot destroy an unsaved %s", inst_model_name(L, 1));
  lbind_inst_field(L, 1, "values");             /* 4 */
  A = lbind_arena_new(L);
  memset(&q, 0, sizeof q);
  q.where = pk_where(L, 4, p->model->m, A);
  rc = assoc_model_destroy(p->model->m, &q, &deleted);
  lbind_arena_release(A);
  lbind_check_rc(L, o, rc);
  return 0;
}

static int inst_reload(lua_State *L) {
  lbind_inst *p = lbind_check_instance(L, 1);
  lbind_db *o = p->model->owner;
  assoc_query q;
  assoc_rows *rows = NULL;
  lbind_arena *A;
  int rc;
  check_opts(L, 2);
  lua_settop(L, 2);
  lbind_check_txn_opt(L, 2, o);
  lbind_inst_field(L, 1, "values");             /* 3 */
  A = lbind_arena_new(L);
  memset(&q, 0, sizeof q);
  q.where = pk_where(L, 3, p->model->m, A);
  rc = assoc_model_find(p->model->m, &q, &rows);
  lbind_arena_release(A);
  lbind_check_rc(L, o, rc);
  if (!lbind_load_row(L, o, rows, 1))
    lbind_error(L, "DatabaseError", "%s could not be reloaded: its row "
                "does not exist", inst_model_name(L, 1));
  lua_settop(L, 1);
  return 1;
}

/* Insertion sort of the array at idx (short lists of names). */
static void sort_names(lua_State *L, int idx) {
  lua_Integer i, j, n = (lua_Integer)lua_rawlen(L, idx);
  for (i = 2; i <= n; i++) {
    lua_rawgeti(L, idx, i);                     /* x */
    for (j = i - 1; j >= 1; j--) {
      lua_rawgeti(L, idx, j);                   /* x y */
      if (!lua_compare(L, -2, -1, LUA_OPLT)) {
        lua_pop(L, 1);
        break;
      }
      lua_rawseti(L, idx, j + 1);               /* x */
    }
    lua_rawseti(L, idx, j + 1);
  }
}

/* changed() lists the names; changed(name) tells one; changed(name, flag)
** marks or clears one (for a JSON table changed in place). */
static int inst_changed(lua_State *L) {
  int nargs = lua_gettop(L);
  self_instance(L);
  lbind_inst_field(L, 1, "changed");            /* ... c */
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    if (nargs >= 3) {
      if (lua_toboolean(L, 3)) lua_pushboolean(L, 1);
      else lua_pushnil(L);
      lua_rawset(L, -3);
      return 0;
    }
    lua_pushboolean(L, lua_rawget(L, -2) != LUA_TNIL);
    return 1;
  }
  lua_newtable(L);                              /* c list */
  lua_pushnil(L);
  while (lua_next(L, -3)) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (lua_Integer)lua_rawlen(L, -3) + 1);
  }
  sort_names(L, lua_gettop(L));
  return 1;
}

static int inst_is_new_record(lua_State *L) {
  self_instance(L);
  lbind_inst_field(L, 1, "isNew");
  lua_pushboolean(L, lua_toboolean(L, -1));
  return 1;
}

/* ----------------------------------------------------------- metamethods */

static int inst_index(lua_State *L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_getiuservalue(L, 1, 1);                   /* nil state */
  lua_getfield(L, -1, "values");
  lua_pushvalue(L, 2);
  if (lua_rawget(L, -2) != LUA_TNIL) {
    if (lbind_is_null(L, -1)) lua_pushnil(L);
    return 1;
  }
  lua_pop(L, 2);
  lua_getfield(L, -1, "extra");
  lua_pushvalue(L, 2);
  if (lua_rawget(L, -2) != LUA_TNIL) return 1;
  lua_pop(L, 2);
  if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "Model")
      == 0) {
    lua_getfield(L, -1, "model");
    return 1;
  }
  lua_pushnil(L);
  return 1;
}

static int inst_newindex(lua_State *L) {
  lbind_inst *p = lua_touserdata(L, 1);
  check_set(L, p, 2, 3, 0);
  set_value(L, 1, 2, 3);
  return 0;
}

/* Push the list of names tostring shows: the primary key(s) as the core
** has them now (a through model loses its id), else every attribute;
** after close, the list saved when the model was made. */
static void push_key_names(lua_State *L, lbind_inst *p) {
  const assoc_model *m = p->model->m;
  size_t i, n;
  lua_Integer k = 0;
  if (!usable(p)) {
    if (luaL_getmetafield(L, 1, "__pk") == LUA_TNIL) lua_newtable(L);
    return;
  }
  n = assoc_model_attr_count(m);
  lua_newtable(L);
  for (i = 0; i < n; i++)
    if (assoc_model_attr(m, i)->primary_key) {
      lua_pushstring(L, assoc_model_attr(m, i)->name);
      lua_rawseti(L, -2, ++k);
    }
  for (i = 0; k == 0 && i < n; i++) {
    lua_pushstring(L, assoc_model_attr(m, i)->name);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int inst_tostring(lua_State *L) {
  lbind_inst *p = self_instance(L);
  luaL_Buffer b;
  lua_Integer i, n;
  int sep = 0;
  lua_settop(L, 1);
  push_key_names(L, p);                         /* names */
  luaL_buffinit(L, &b);
  lua_pushstring(L, inst_model_name(L, 1));
  luaL_addvalue(&b);
  luaL_addchar(&b, '{');
  n = (lua_Integer)lua_rawlen(L, 2);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);                       /* name */
    lbind_inst_value(L, 1, lua_tostring(L, -1)); /* name v */
    if (lua_isnil(L, -1) && n > 1) {
      lua_pop(L, 2);
      continue;
    }
    luaL_tolstring(L, -1, NULL);                /* name v s */
    lua_remove(L, -2);                          /* name s */
    lua_pushstring(L, sep++ ? "," : "");
    lua_insert(L, -3);
    lua_pushliteral(L, "=");
    lua_insert(L, -2);
    lua_concat(L, 4);                           /* ",name=s" */
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
  return 1;
}

static const luaL_Reg inst_methods[] = {
  {"get", inst_get},
  {"set", inst_set},
  {"save", inst_save},
  {"update", inst_update_m},
  {"destroy", inst_destroy},
  {"reload", inst_reload},
  {"toTable", inst_to_table},
  {"changed", inst_changed},
  {"isNewRecord", inst_is_new_record},
  {NULL, NULL}
};

static void push_pk_names(lua_State *L, const assoc_model *m) {
  size_t i, n = assoc_model_attr_count(m);
  lua_Integer k = 0;
  lua_newtable(L);
  for (i = 0; i < n; i++)
    if (assoc_model_attr(m, i)->primary_key) {
      lua_pushstring(L, assoc_model_attr(m, i)->name);
      lua_rawseti(L, -2, ++k);
    }
}

void lbind_instance_meta(lua_State *L, const assoc_model *m) {
  lua_createtable(L, 0, 6);                     /* imt */
  lua_pushstring(L, assoc_model_name(m));
  lua_setfield(L, -2, "__name");
  lua_newtable(L);                              /* imt methods */
  luaL_setfuncs(L, inst_methods, 0);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, inst_index, 1);
  lua_setfield(L, -3, "__index");
  lua_pushcfunction(L, inst_newindex);
  lua_setfield(L, -3, "__newindex");
  lua_pushcfunction(L, inst_tostring);
  lua_setfield(L, -3, "__tostring");
  push_pk_names(L, m);
  lua_setfield(L, -3, "__pk");
  lua_getfield(L, LUA_REGISTRYINDEX, LBIND_INSTANCES_KEY);
  lua_pushvalue(L, -3);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);                                /* imt methods */
}

void lbind_open_instance(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LBIND_INSTANCES_KEY);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);                            /* weak-keyed set */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, LBIND_INSTANCES_KEY);
  } else {
    lua_pop(L, 1);
  }
}
