/*
** linclude.c: eager loading (`include`).  Each include level is one core
** statement over the keys of all the parents at that level (the core's
** get_many / count_many), whose rows become instances that are grouped by
** the key they belong to and hung under the association's name.  Required
** includes become EXISTS filters on the level above, so limits there still
** count parents.
*/
#include <string.h>

#include "lbind.h"

static const char *const include_keys[] = {
  "model", "as", "association", "where", "required", "attributes", "order",
  "limit", "offset", "separate", "through", "include", "count", "all",
  "nested", NULL
};

static const char *key_of(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx)
                                         : luaL_typename(L, idx);
}

static void check_include_keys(lua_State *L, int spec) {
  lua_pushnil(L);
  while (lua_next(L, spec)) {
    const char *const *k;
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                      : NULL;
    for (k = include_keys; name && *k; k++)
      if (strcmp(*k, name) == 0) break;
    if (!name || !*k)
      luaL_error(L, "unknown include option '%s'", key_of(L, -2));
    lua_pop(L, 1);
  }
}

static const assoc_association *assoc_of(lua_State *L, int idx) {
  lbind_assoc *ad = luaL_testudata(L, idx, LBIND_ASSOC_MT);
  return ad ? ad->a : NULL;
}

/* Push the association of the source Model at src that an include element
** names: by `as`, by an Association object, or by its target model (which
** must then be associated exactly once). */
static void resolve(lua_State *L, int src, int spec, int target) {
  const char *sname = assoc_model_name(lbind_check_model(L, src)->m);
  int assocs, as;
  lbind_model_field(L, src, "associations");
  assocs = lua_gettop(L);
  lua_getfield(L, spec, "association");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_getfield(L, spec, "as");
  }
  as = lua_gettop(L);
  if (lua_type(L, as) == LUA_TSTRING) {
    if (lua_getfield(L, assocs, lua_tostring(L, as)) == LUA_TNIL) {
      if (lbind_test_model(L, target))
        luaL_error(L, "%s has no association named '%s' (to %s)", sname,
                   lua_tostring(L, as),
                   assoc_model_name(lbind_test_model(L, target)->m));
      luaL_error(L, "%s has no association named '%s'", sname,
                 lua_tostring(L, as));
    }
  } else if (assoc_of(L, as)) {
    lua_pushvalue(L, as);
  } else if (!lua_isnil(L, as)) {
    luaL_error(L, "include: 'as' must be an association name, got %s",
               luaL_typename(L, as));
  } else {
    /* By target model: exactly one association may lead there. */
    const assoc_model *tm = lbind_check_model(L, target)->m;
    int found = 0;
    lua_pushnil(L);
    lua_pushnil(L);                          /* result key */
    while (lua_next(L, assocs)) {            /* result key value */
      const assoc_association *a = assoc_of(L, -1);
      if (a && assoc_association_target(a) == tm) {
        if (found++)
          luaL_error(L, "%s is associated to %s more than once: name the "
                     "association with 'as' (for example '%s' or '%s')",
                     assoc_model_name(tm), sname, lua_tostring(L, -2),
                     assoc_association_as(assoc_of(L, -3)));
        lua_replace(L, -3);                  /* result key */
      } else {
        lua_pop(L, 1);
      }
    }
    if (!found)
      luaL_error(L, "%s is not associated to %s", assoc_model_name(tm),
                 sname);
  }
  if (!lua_isnil(L, target)) {
    const assoc_association *a = assoc_of(L, -1);
    if (assoc_association_target(a) != lbind_check_model(L, target)->m)
      luaL_error(L, "include: association '%s' of %s leads to %s, not %s",
                 assoc_association_as(a), sname,
                 assoc_model_name(assoc_association_target(a)),
                 assoc_model_name(lbind_check_model(L, target)->m));
  }
  lua_replace(L, assocs);
  lua_settop(L, assocs);
}

/* The options of the level's query, from the include element. */
static void push_opts(lua_State *L, int spec) {
  static const char *const copied[] = {"where", "attributes", "order",
                                       "limit", "offset", NULL};
  const char *const *k;
  lua_newtable(L);
  for (k = copied; *k; k++) {
    lua_getfield(L, spec, *k);
    lua_setfield(L, -2, *k);
  }
  if (lua_getfield(L, spec, "through") != LUA_TNIL) {
    int t = lua_gettop(L);
    luaL_checktype(L, t, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, t)) {
      const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                        : "";
      if (strcmp(name, "attributes") != 0 && strcmp(name, "where") != 0)
        luaL_error(L, "unknown include option 'through.%s'",
                   key_of(L, -2));
      lua_pop(L, 1);
    }
    lua_getfield(L, t, "attributes");
    lua_setfield(L, -3, "joinTableAttributes");
    lua_newtable(L);
    lua_getfield(L, t, "where");
    lua_setfield(L, -2, "where");
    lua_setfield(L, -3, "through");
  }
  lua_pop(L, 1);
}

static void prepare_list(lua_State *L, int model_idx, int inc_idx,
                         int used);

/* used (absolute): the set of models on the path from the top, keyed by
** their assoc_model (nested `all` expansions do not go back into them). */
static void prepare_one(lua_State *L, int src, int el, int used) {
  int spec, target, entry;
  if (lbind_test_model(L, el)) {
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, el);
    lua_setfield(L, -2, "model");
  } else if (lua_type(L, el) == LUA_TTABLE) {
    check_include_keys(L, el);
    lua_pushvalue(L, el);
  } else {
    luaL_error(L, "include: a model or a table expected, got %s",
               luaL_typename(L, el));
  }
  spec = lua_gettop(L);
  lua_getfield(L, spec, "model");
  target = lua_gettop(L);
  if (!lua_isnil(L, target) && !lbind_test_model(L, target))
    luaL_error(L, "include: 'model' must be a model, got %s",
               luaL_typename(L, target));
  resolve(L, src, spec, target);               /* spec target ad */
  lua_createtable(L, 0, 8);                    /* ... ad entry */
  entry = lua_gettop(L);
  lua_pushvalue(L, -2);
  lua_setfield(L, entry, "ad");
  lua_getiuservalue(L, -2, 1);                 /* the Association's state */
  lua_getfield(L, -1, "target");
  lua_setfield(L, entry, "target");
  lua_pop(L, 1);
  lua_pushstring(L, assoc_association_as(assoc_of(L, entry - 1)));
  lua_setfield(L, entry, "as");
  push_opts(L, spec);
  lua_setfield(L, entry, "opts");
  lua_getfield(L, spec, "count");
  lua_setfield(L, entry, "count");
  lua_getfield(L, spec, "required");
  if (lua_isnil(L, -1)) {                      /* a where makes it required */
    lua_getfield(L, spec, "where");
    lua_pushboolean(L, !lua_isnil(L, -1));
    lua_replace(L, -3);
    lua_pop(L, 1);
  }
  lua_pushboolean(L, lua_toboolean(L, -1));
  lua_setfield(L, entry, "required");
  lua_pop(L, 1);
  if (lua_getfield(L, spec, "include") != LUA_TNIL) {
    lua_getfield(L, entry, "target");
    prepare_list(L, lua_gettop(L), lua_gettop(L) - 1, used);
    lua_setfield(L, entry, "nested");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_replace(L, spec);
  lua_settop(L, spec);
}

/* ------------------------------------------------------- include all */

/* The association kinds `all` names, as a bit set (1 << kind): true or
** "All" is every kind; else a type or a list of them, as Sequelize 6 takes
** (no "BelongsToMany" there: only true and "All" include those). */
static unsigned all_kinds(lua_State *L, int spec) {
  static const struct { const char *name; unsigned kinds; } types[] = {
    { "BelongsTo", 1u << ASSOC_BELONGS_TO },
    { "HasOne", 1u << ASSOC_HAS_ONE },
    { "HasMany", 1u << ASSOC_HAS_MANY },
    { "One", 1u << ASSOC_BELONGS_TO | 1u << ASSOC_HAS_ONE },
    { "Has", 1u << ASSOC_HAS_ONE | 1u << ASSOC_HAS_MANY },
    { "Many", 1u << ASSOC_HAS_MANY },
    { "All", ~0u },
  };
  unsigned kinds = 0;
  lua_Integer i, n = 1;
  int all;
  lua_getfield(L, spec, "all");
  all = lua_gettop(L);
  if (lua_toboolean(L, all) && lua_type(L, all) == LUA_TBOOLEAN) {
    lua_pop(L, 1);
    return ~0u;
  }
  if (lua_type(L, all) == LUA_TTABLE) n = (lua_Integer)lua_rawlen(L, all);
  else if (lua_type(L, all) != LUA_TSTRING) n = 0;
  if (n == 0)
    luaL_error(L, "include: 'all' must be true, an association type or a "
               "list of them, got %s", luaL_typename(L, all));
  for (i = 1; i <= n; i++) {
    size_t k;
    const char *name;
    if (lua_type(L, all) == LUA_TTABLE) lua_rawgeti(L, all, i);
    else lua_pushvalue(L, all);
    name = lua_tostring(L, -1);
    for (k = 0; name && k < sizeof types / sizeof types[0]; k++)
      if (strcmp(types[k].name, name) == 0) break;
    if (!name || k == sizeof types / sizeof types[0])
      luaL_error(L, "include all '%s' is not valid: must be BelongsTo, "
                 "HasOne, HasMany, One, Has, Many or All", key_of(L, -1));
    kinds |= types[k].kinds;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return kinds;
}

/* Is the association named as among the prepared entries of out? */
static int included(lua_State *L, int out, const char *as) {
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, out);
  int found = 0;
  for (i = 1; i <= n && !found; i++) {
    lua_rawgeti(L, out, i);
    lua_getfield(L, -1, "as");
    found = strcmp(lua_tostring(L, -1), as) == 0;
    lua_pop(L, 2);
  }
  return found;
}

/* The element {all = ..., nested = ..., <options>} at spec: an entry in
** out for every association of the Model at src of those kinds that out
** lacks, each with the options; with nested, the same for each target's
** associations in turn, except into a model on the path (used). */
static void expand_all(lua_State *L, int src, int spec, int out, int used) {
  const assoc_model *m = lbind_check_model(L, src)->m;
  unsigned kinds = all_kinds(L, spec);
  int nested, deeper;
  size_t i;
  lua_getfield(L, spec, "nested");
  nested = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_newtable(L);                             /* used + this model */
  deeper = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, used)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, deeper);
  }
  lua_pushboolean(L, 1);
  lua_rawsetp(L, deeper, m);
  for (i = 0; i < assoc_model_association_count(m); i++) {
    const assoc_association *a = assoc_model_association_at(m, i);
    const char *as = assoc_association_as(a);
    if (!(kinds & 1u << assoc_association_kind(a)) || included(L, out, as))
      continue;
    if (nested &&
        lua_rawgetp(L, used, assoc_association_target(a)) != LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    if (nested) lua_pop(L, 1);
    lua_newtable(L);                           /* el: spec's options */
    lua_pushnil(L);
    while (lua_next(L, spec)) {
      const char *k = lua_tostring(L, -2);
      if (strcmp(k, "all") == 0 || strcmp(k, "nested") == 0) {
        lua_pop(L, 1);
        continue;
      }
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -4);
    }
    lua_pushstring(L, as);
    lua_setfield(L, -2, "as");
    prepare_one(L, src, lua_gettop(L), used);  /* el entry */
    if (nested) {
      /* into the entry's own nested list when the options had one */
      int entry = lua_gettop(L), sub;
      if (lua_getfield(L, entry, "nested") == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newtable(L);
      }
      sub = lua_gettop(L);
      lua_getfield(L, entry, "target");
      expand_all(L, lua_gettop(L), spec, sub, deeper);
      lua_pop(L, 1);
      if (lua_rawlen(L, sub) > 0) lua_setfield(L, entry, "nested");
      else lua_pop(L, 1);
    }
    lua_rawseti(L, out, (lua_Integer)lua_rawlen(L, out) + 1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* ------------------------------------------------------------- prepare */

static int is_all(lua_State *L, int el) {
  int r;
  if (lua_type(L, el) != LUA_TTABLE || lbind_test_model(L, el)) return 0;
  r = lua_getfield(L, el, "all") != LUA_TNIL;
  lua_pop(L, 1);
  if (r) check_include_keys(L, el);
  return r;
}

/* Push the prepared entries of the include list at inc_idx for the Model
** at model_idx: the elements naming an association first, then what the
** `all` elements add to them. */
static void prepare_list(lua_State *L, int model_idx, int inc_idx,
                         int used) {
  lua_Integer i, n;
  int out;
  model_idx = lua_absindex(L, model_idx);
  inc_idx = lua_absindex(L, inc_idx);
  luaL_checkstack(L, 20, NULL);
  lbind_model_field(L, model_idx, "base");
  model_idx = lua_gettop(L);
  lua_newtable(L);
  out = lua_gettop(L);
  if (lbind_test_model(L, inc_idx) || lua_type(L, inc_idx) != LUA_TTABLE ||
      luaL_testudata(L, inc_idx, LBIND_ASSOC_MT)) {
    /* a single element */
    prepare_one(L, model_idx, inc_idx, used);
    lua_rawseti(L, out, 1);
  } else if ((n = (lua_Integer)lua_rawlen(L, inc_idx)) == 0) {
    /* {model = X, ...} (or {all = true}) given directly, not in a list */
    lua_pushnil(L);
    if (lua_next(L, inc_idx)) {
      lua_pop(L, 2);
      if (is_all(L, inc_idx)) {
        expand_all(L, model_idx, inc_idx, out, used);
      } else {
        prepare_one(L, model_idx, inc_idx, used);
        lua_rawseti(L, out, 1);
      }
    }
  } else {
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, inc_idx, i);
      if (!is_all(L, lua_gettop(L))) {
        prepare_one(L, model_idx, lua_gettop(L), used);
        lua_rawseti(L, out, (lua_Integer)lua_rawlen(L, out) + 1);
      }
      lua_pop(L, 1);
    }
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, inc_idx, i);
      if (is_all(L, lua_gettop(L)))
        expand_all(L, model_idx, lua_gettop(L), out, used);
      lua_pop(L, 1);
    }
  }
  lua_remove(L, model_idx);
}

void lbind_include_prepare(lua_State *L, int model_idx, int inc_idx) {
  model_idx = lua_absindex(L, model_idx);
  inc_idx = lua_absindex(L, inc_idx);
  lua_newtable(L);                             /* nothing on the path yet */
  prepare_list(L, model_idx, inc_idx, lua_gettop(L));
  lua_remove(L, -2);
}

/* The query of an entry's level, under the target's default scope. */
static void entry_query(lua_State *L, int entry, lbind_arena *A,
                        assoc_query *q, unsigned flags) {
  const assoc_association *a;
  lua_getfield(L, entry, "ad");
  a = assoc_of(L, -1);
  lua_getfield(L, entry, "target");
  lbind_model_field(L, -1, "active");
  lua_getfield(L, entry, "opts");
  lbind_query(L, lua_gettop(L), lua_gettop(L) - 1,
              assoc_association_target(a), assoc_association_through(a), A,
              q, flags);
  lua_pop(L, 4);
}

size_t lbind_include_exists(lua_State *L, int list_idx, lbind_arena *A,
                            const assoc_exists **out) {
  lua_Integer i, n;
  size_t k = 0;
  assoc_exists *e;
  list_idx = lua_absindex(L, list_idx);
  n = (lua_Integer)lua_rawlen(L, list_idx);
  *out = NULL;
  if (n == 0) return 0;
  e = lbind_arena_alloc(L, A, (size_t)n * sizeof *e);
  for (i = 1; i <= n; i++) {
    assoc_query q;
    lua_rawgeti(L, list_idx, i);
    lua_getfield(L, -1, "required");
    if (lua_toboolean(L, -1)) {
      lua_getfield(L, -2, "ad");
      e[k].association = (assoc_association *)assoc_of(L, -1);
      lua_pop(L, 1);
      /* The entry's paging options shape its own level, not the filter. */
      entry_query(L, lua_gettop(L) - 1, A, &q,
                  LBIND_Q_PAGING | LBIND_Q_THROUGH);
      e[k].where = q.where;
      e[k].through_where = q.through_where;
      k++;
    }
    lua_pop(L, 2);
  }
  *out = e;
  return k;
}

/* Push the value of attribute `name` of the instance at inst; for a join
** attribute (via set), of its join row extra[via]. */
static void push_key(lua_State *L, int inst, const char *via,
                     const char *name) {
  if (!via) {
    lbind_inst_value(L, inst, name);
    return;
  }
  /* (asking for the state's "extra" would build a state table for every
  ** child row) */
  if (lbind_inst_extra(L, inst, via)) {
    lbind_inst_value(L, lua_gettop(L), name);
    lua_remove(L, -2);
  } else {
    lua_pushnil(L);
  }
}

static void set_extra(lua_State *L, int inst, const char *name) {
  lbind_inst_field(L, inst, "extra");          /* v extra */
  lua_insert(L, -2);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

/* The parents' source keys, as one key array in A. */
static size_t parent_keys(lua_State *L, int arr, const assoc_association *a,
                          lbind_arena *A, assoc_value **out) {
  const assoc_model *sm = assoc_association_source(a);
  int attr = assoc_association_source_attr(a);
  const char *name = assoc_model_attr(sm, (size_t)attr)->name;
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, arr);
  size_t k = 0;
  assoc_value *keys = lbind_arena_array(L, A, (size_t)n, sizeof *keys);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, arr, i);
    lbind_inst_value(L, lua_gettop(L), name);
    /* The string stays in the parent's values table, which arr holds. */
    if (!lua_isnil(L, -1)) lbind_to_value(L, -1, sm, attr, A, &keys[k++], 0);
    lua_pop(L, 2);
  }
  *out = keys;
  return k;
}

static void load_counts(lua_State *L, lbind_db *o, int arr, int entry,
                        const assoc_association *a, const char *src_name) {
  lbind_arena *A = lbind_arena_new(L);
  assoc_value *keys;
  assoc_query q;
  assoc_rows *rows = NULL;
  size_t n = parent_keys(L, arr, a, A, &keys);
  lua_Integer i, np = (lua_Integer)lua_rawlen(L, arr);
  int rc, map;
  const char *as = assoc_association_as(a);
  entry_query(L, entry, A, &q, LBIND_Q_THROUGH);
  rc = assoc_association_count_many((assoc_association *)a, keys, n, &q,
                                    &rows);
  lbind_arena_release(A);
  lbind_check_rc(L, o, rc);
  lua_newtable(L);
  map = lua_gettop(L);
  while ((rc = assoc_rows_step(rows)) == ASSOC_ROW) {
    assoc_value k, c;
    const assoc_model *km;
    int kattr = assoc_rows_column_attr(rows, 0, &km);
    assoc_rows_value(rows, 0, &k);
    assoc_rows_value(rows, 1, &c);
    lbind_push_value(L, &k, km ? assoc_model_attr(km, (size_t)kattr)->type
                                 : (assoc_type)0);
    lua_pushinteger(L, c.kind == ASSOC_INT ? (lua_Integer)c.u.i : 0);
    lua_rawset(L, map);
  }
  lbind_check_rc(L, o, rc == ASSOC_DONE ? ASSOC_OK : rc);
  for (i = 1; i <= np; i++) {
    int p;
    lua_rawgeti(L, arr, i);
    p = lua_gettop(L);
    lbind_inst_value(L, p, src_name);
    if (lua_isnil(L, -1) || lua_rawget(L, map) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushinteger(L, 0);
    }
    lua_pushfstring(L, "%sCount", as);
    lua_insert(L, -2);
    set_extra(L, p, lua_tostring(L, -2));
    lua_settop(L, p - 1);
  }
  lua_pop(L, 2);
}

/* Children filed by the key that names their parent. */
typedef struct grouping {
  int map;                   /* { [key] = child or list of children } */
  const char *via, *group;   /* see push_key */
  int multi;                 /* lists (hasMany, belongsToMany) */
} grouping;

/* File the child instance on the stack top under its key in g->map. */
static void file_child(lua_State *L, void *ud) {
  const grouping *g = ud;
  int c = lua_gettop(L);
  push_key(L, c, g->via, g->group);            /* child key */
  if (g->multi) {
    lua_pushvalue(L, -1);
    if (lua_rawget(L, g->map) == LUA_TNIL) {   /* child key nil */
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -2);
      lua_pushvalue(L, -2);
      lua_rawset(L, g->map);                   /* child key list */
    }
    lua_pushvalue(L, c);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  } else if (!lua_isnil(L, -1)) {
    lua_pushvalue(L, c);
    lua_rawset(L, g->map);
  }
  lua_settop(L, c);
}

static void load_entry(lua_State *L, lbind_db *o, int arr, int entry) {
  const assoc_association *a;
  assoc_assoc_kind kind;
  const char *src_name, *as;
  lbind_arena *A;
  assoc_value *keys;
  assoc_query q;
  assoc_rows *rows = NULL;
  size_t n;
  lua_Integer i, nc, np = (lua_Integer)lua_rawlen(L, arr);
  int rc, target, children = 0, map, nested, top = lua_gettop(L);
  grouping g;
  luaL_checkstack(L, 20, NULL);
  lua_getfield(L, entry, "ad");
  a = assoc_of(L, -1);
  kind = assoc_association_kind(a);
  as = assoc_association_as(a);
  src_name = assoc_model_attr(assoc_association_source(a),
                              (size_t)assoc_association_source_attr(a))->name;
  if (np == 0) {
    lua_settop(L, top);
    return;
  }
  lua_getfield(L, entry, "count");
  if (lua_toboolean(L, -1)) {
    load_counts(L, o, arr, entry, a, src_name);
    lua_settop(L, top);
    return;
  }
  A = lbind_arena_new(L);
  n = parent_keys(L, arr, a, A, &keys);
  entry_query(L, entry, A, &q, LBIND_Q_PAGING | LBIND_Q_THROUGH);
  if (lua_getfield(L, entry, "nested") != LUA_TNIL)
    q.nexists = lbind_include_exists(L, lua_gettop(L), A, &q.exists);
  rc = assoc_association_get_many((assoc_association *)a, keys, n, &q, &rows);
  lbind_arena_release(A);
  lbind_check_rc(L, o, rc);
  /* Which value of a child names its parent. */
  g.via = NULL;
  if (kind == ASSOC_BELONGS_TO) {
    const assoc_model *tm = assoc_association_target(a);
    g.group = assoc_model_attr(tm, (size_t)assoc_association_target_attr(a))
                  ->name;
  } else {
    g.group = assoc_association_foreign_key(a);
    if (kind == ASSOC_BELONGS_TO_MANY)
      g.via = assoc_model_name(assoc_association_through(a));
  }
  g.multi = kind == ASSOC_HAS_MANY || kind == ASSOC_BELONGS_TO_MANY;
  lua_newtable(L);
  map = g.map = lua_gettop(L);
  lua_getfield(L, entry, "target");
  target = lua_gettop(L);
  lbind_model_field(L, target, "base");
  nested = lua_getfield(L, entry, "nested") != LUA_TNIL;
  lua_pop(L, 1);
  if (nested) {
    /* the next level loads for all the children at once */
    lbind_push_rows(L, o, rows, lua_gettop(L), 0);
    children = lua_gettop(L);
    nc = (lua_Integer)lua_rawlen(L, children);
    for (i = 1; i <= nc; i++) {
      lua_rawgeti(L, children, i);
      file_child(L, &g);
      lua_pop(L, 1);
    }
  } else {
    lbind_each_row(L, o, rows, lua_gettop(L), file_child, &g);
  }
  for (i = 1; i <= np; i++) {
    int p;
    lua_rawgeti(L, arr, i);
    p = lua_gettop(L);
    lbind_inst_value(L, p, src_name);
    if (lua_isnil(L, -1)) lua_pushnil(L);
    else lua_rawget(L, map);
    if (g.multi && lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_newtable(L);
    }
    set_extra(L, p, as);
    lua_settop(L, p - 1);
  }
  if (nested) {
    lua_getfield(L, entry, "nested");
    lbind_include_load(L, o, children, lua_gettop(L));
  }
  lua_settop(L, top);
}

void lbind_include_load(lua_State *L, lbind_db *o, int arr_idx,
                        int list_idx) {
  lua_Integer i, n;
  arr_idx = lua_absindex(L, arr_idx);
  list_idx = lua_absindex(L, list_idx);
  n = (lua_Integer)lua_rawlen(L, list_idx);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, list_idx, i);
    load_entry(L, o, arr_idx, lua_gettop(L));
    lua_pop(L, 1);
  }
}

