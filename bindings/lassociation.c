/*
** lassociation.c: Model:hasMany/belongsTo/hasOne/belongsToMany, the
** assoc.Association objects they return, and the accessor closures
** (getProjects, addProject, ...) installed on the source's instances.  An
** accessor's upvalues are its Association and operation; arguments become
** one canonical key array before the core is called.
*/
#include <math.h>
#include <string.h>

#include "lbind.h"

static const char *const kind_fn[] = {
  "?", "hasMany", "belongsTo", "hasOne", "belongsToMany"
};

/* Keys of Association.accessors, by assoc_accessor. */
static const char *const accessor_keys[ASSOC_ACCESSOR_COUNT] = {
  "get", "set", "add", "addMultiple", "create", "remove", "removeMultiple",
  "hasSingle", "hasAll", "count"
};

static lbind_assoc *check_assoc(lua_State *L, int idx) {
  lbind_assoc *ad = luaL_checkudata(L, idx, LBIND_ASSOC_MT);
  lbind_owner_check(L, ad->owner);
  return ad;
}

static void uv_field(lua_State *L, int idx, const char *field) {
  lua_getiuservalue(L, idx, 1);
  lua_getfield(L, -1, field);
  lua_remove(L, -2);
}

/* ------------------------------------------------------------ definition */

static const char *const assoc_keys[] = {
  "as", "foreignKey", "otherKey", "sourceKey", "targetKey", "through",
  "scope", "onDelete", "onUpdate", "constraints", "timestamps", NULL
};

static void check_assoc_keys(lua_State *L, int opts, assoc_assoc_kind kind) {
  const char *fn = kind_fn[kind];
  lua_pushnil(L);
  while (lua_next(L, opts)) {
    const char *const *p;
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                   : NULL;
    for (p = assoc_keys; k && *p; p++)
      if (strcmp(k, *p) == 0) break;
    if (!k || !*p)
      luaL_error(L, "unknown option '%s' to '%s'",
                 k ? k : luaL_typename(L, -2), fn);
    if (kind != ASSOC_BELONGS_TO_MANY && strcmp(k, "through") == 0) {
      if (kind == ASSOC_HAS_MANY)
        luaL_error(L, "N:M associations are not supported with hasMany. "
                   "Use belongsToMany instead");
      luaL_error(L, "option 'through' is only for belongsToMany");
    }
    if (kind != ASSOC_BELONGS_TO_MANY &&
        (strcmp(k, "otherKey") == 0 || strcmp(k, "timestamps") == 0))
      luaL_error(L, "option '%s' is only for belongsToMany", k);
    lua_pop(L, 1);
  }
}

/* opts[k] as a string or nil; anything else is an error. */
static const char *opt_string(lua_State *L, int opts, const char *k) {
  const char *s = NULL;
  int t = lua_getfield(L, opts, k);
  if (t == LUA_TSTRING) s = lua_tostring(L, -1);   /* held by opts */
  else if (t != LUA_TNIL)
    luaL_error(L, "option '%s' must be a string, got %s", k,
               luaL_typename(L, -1));
  lua_pop(L, 1);
  return s;
}

static void parse_as(lua_State *L, int opts, assoc_association_opts *ao) {
  int t = lua_getfield(L, opts, "as");
  if (t == LUA_TSTRING) {
    ao->as = lua_tostring(L, -1);
  } else if (t == LUA_TTABLE) {
    lua_getfield(L, -1, "singular");
    lua_getfield(L, -2, "plural");
    if (lua_type(L, -1) != LUA_TSTRING || lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "option 'as' must be a name or { singular = ..., "
                 "plural = ... }");
    ao->as_singular = lua_tostring(L, -2);
    ao->as_plural = lua_tostring(L, -1);
    lua_pop(L, 2);
  } else if (t != LUA_TNIL) {
    luaL_error(L, "option 'as' must be a string or a table, got %s",
               luaL_typename(L, -1));
  }
  lua_pop(L, 1);
}

/* foreignKey / otherKey: a name, or { name = ..., allowNull = false }. */
static const char *parse_key(lua_State *L, int opts, const char *k,
                             int *not_null) {
  const char *s = NULL;
  int t = lua_getfield(L, opts, k);
  if (t == LUA_TSTRING) {
    s = lua_tostring(L, -1);
  } else if (t == LUA_TTABLE) {
    int kt = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, kt)) {
      const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                       : "?";
      if (strcmp(key, "name") != 0 && strcmp(key, "allowNull") != 0)
        luaL_error(L, "unknown option '%s' in %s", key, k);
      lua_pop(L, 1);
    }
    if (lua_getfield(L, kt, "name") == LUA_TSTRING) s = lua_tostring(L, -1);
    else if (!lua_isnil(L, -1))
      luaL_error(L, "%s.name must be a string", k);
    lua_pop(L, 1);
    lua_getfield(L, kt, "allowNull");
    if (not_null) *not_null = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else if (t != LUA_TNIL) {
    luaL_error(L, "option '%s' must be a string or a table, got %s", k,
               luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return s;
}

/* t[key] = { attr = value }: its pairs over m, into the arena; the number
** of them (0 when t[key] is nil).  label names the option in messages.
** strict: an attribute m lacks is an error here.  Otherwise m may be NULL
** and such a value is left NULL: the core judges those names and says why
** one is refused. */
static size_t parse_pairs(lua_State *L, int t, const char *key,
                          const char *label, const assoc_model *m,
                          int strict, lbind_arena *A,
                          const char ***names_out,
                          const assoc_value **values_out) {
  size_t n = 0;
  const char **names;
  assoc_value *values;
  int sidx;
  if (lua_getfield(L, t, key) == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_type(L, -1) != LUA_TTABLE)
    luaL_error(L, "option '%s' must be a table, got %s", label,
               luaL_typename(L, -1));
  sidx = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, sidx)) {
    n++;
    lua_pop(L, 1);
  }
  names = lbind_arena_array(L, A, n, sizeof *names);
  values = lbind_arena_array(L, A, n, sizeof *values);
  n = 0;
  lua_pushnil(L);
  while (lua_next(L, sidx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                   : NULL;
    int attr = k && m ? assoc_model_attr_index(m, k) : -1;
    if (!k || (attr < 0 && strict))
      luaL_error(L, "unknown attribute '%s' in %s of %s",
                 k ? k : luaL_typename(L, -2), label,
                 m ? assoc_model_name(m) : "the join model");
    names[n] = k;
    memset(&values[n], 0, sizeof values[n]);       /* ASSOC_NULL */
    if (attr >= 0) lbind_to_value(L, -1, m, attr, A, &values[n], 0);
    n++;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  *names_out = names;
  *values_out = values;
  return n;
}

/* through.scope = { attr = value } on the join row.  j is the join model
** when it exists already (a model, or a table name that names one). */
static void parse_through_scope(lua_State *L, int tidx, const assoc_model *j,
                                lbind_arena *A, assoc_association_opts *ao) {
  const char **names = NULL;
  const assoc_value *values = NULL;
  ao->nthrough_scope = parse_pairs(L, tidx, "scope", "through.scope", j, 0,
                                   A, &names, &values);
  ao->through_scope_attrs = names;
  ao->through_scope_values = values;
}

static void parse_through(lua_State *L, int opts, assoc_db *db,
                          lbind_arena *A, assoc_association_opts *ao) {
  int top = lua_gettop(L), idx, t, tidx = 0;
  lbind_model *tm;
  t = lua_getfield(L, opts, "through");
  idx = lua_gettop(L);
  if (t == LUA_TTABLE) {
    tidx = idx;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                     : "?";
      if (strcmp(k, "model") != 0 && strcmp(k, "timestamps") != 0 &&
          strcmp(k, "scope") != 0)
        luaL_error(L, "unknown option '%s' in through", k);
      lua_pop(L, 1);
    }
    lua_getfield(L, idx, "timestamps");
    if (lua_isboolean(L, -1) && !lua_toboolean(L, -1))
      ao->through_no_timestamps = 1;
    lua_pop(L, 1);
    t = lua_getfield(L, idx, "model");
    idx = lua_gettop(L);
  }
  /* the strings stay referenced by opts */
  if (t == LUA_TSTRING) ao->through_table = lua_tostring(L, idx);
  else if ((tm = lbind_test_model(L, idx)) != NULL) ao->through = tm->m;
  else if (t != LUA_TNIL)
    luaL_error(L, "option 'through' must be a model or a table name, "
               "got %s", luaL_typename(L, idx));
  if (tidx)
    parse_through_scope(L, tidx, ao->through ? ao->through
                        : ao->through_table ? assoc_db_model(db,
                                                ao->through_table)
                        : NULL, A, ao);
  lua_settop(L, top);
}

/* scope = { attr = value } on the target. */
static void parse_scope(lua_State *L, int opts, const assoc_model *target,
                        lbind_arena *A, assoc_association_opts *ao) {
  const char **names = NULL;
  const assoc_value *values = NULL;
  ao->nscope = parse_pairs(L, opts, "scope", "scope", target, 1, A, &names,
                           &values);
  ao->scope_attrs = names;
  ao->scope_values = values;
}

static void parse_assoc_opts(lua_State *L, int opts, assoc_assoc_kind kind,
                             const assoc_model *target, lbind_arena *A,
                             assoc_association_opts *ao) {
  memset(ao, 0, sizeof *ao);
  if (!opts) return;
  check_assoc_keys(L, opts, kind);
  parse_as(L, opts, ao);
  ao->foreign_key = parse_key(L, opts, "foreignKey",
                              &ao->foreign_key_not_null);
  ao->other_key = parse_key(L, opts, "otherKey", NULL);
  ao->source_key = opt_string(L, opts, "sourceKey");
  ao->target_key = opt_string(L, opts, "targetKey");
  ao->on_delete = opt_string(L, opts, "onDelete");
  ao->on_update = opt_string(L, opts, "onUpdate");
  lua_getfield(L, opts, "constraints");
  ao->no_constraints = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
  lua_getfield(L, opts, "timestamps");
  if (lua_isboolean(L, -1) && !lua_toboolean(L, -1))
    ao->through_no_timestamps = 1;
  lua_pop(L, 2);
  if (kind == ASSOC_BELONGS_TO_MANY)
    parse_through(L, opts, assoc_model_db(target), A, ao);
  parse_scope(L, opts, target, A, ao);
}

static int accessor(lua_State *L);

/* Push the accessors table and install the closures (never replacing a
** method the instances already have). */
static void install_accessors(lua_State *L, int ad_idx, int methods,
                              const assoc_association *a) {
  int op;
  lua_newtable(L);
  for (op = 0; op < ASSOC_ACCESSOR_COUNT; op++) {
    const char *name = assoc_association_accessor(a, (assoc_accessor)op);
    if (!name) continue;
    lua_pushstring(L, name);
    lua_setfield(L, -2, accessor_keys[op]);
    if (lua_getfield(L, methods, name) == LUA_TNIL) {
      lua_pushvalue(L, ad_idx);
      lua_pushinteger(L, op);
      lua_pushcclosure(L, accessor, 2);
      lua_setfield(L, methods, name);
    }
    lua_pop(L, 1);
  }
}

int lbind_associate(lua_State *L, assoc_assoc_kind kind) {
  lbind_model *src = lbind_check_model(L, 1);
  lbind_model *tgt = lbind_test_model(L, 2);
  assoc_association_opts ao;
  assoc_association *a = NULL;
  assoc_model *through;
  lbind_assoc *ad;
  lbind_arena *A;
  int rc, opts, ad_idx, db_idx;
  if (!tgt) luaL_typeerror(L, 2, "assoc.Model");
  if (tgt->owner != src->owner)
    luaL_argerror(L, 2, "model of another database");
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  opts = lua_isnil(L, 3) ? 0 : 3;
  lbind_model_field(L, 1, "db");
  db_idx = lua_gettop(L);                       /* 4 */
  A = lbind_arena_new(L);
  parse_assoc_opts(L, opts, kind, tgt->m, A, &ao);
  rc = assoc_association_define(src->m, kind, tgt->m, &ao, &a);
  lbind_arena_release(A);
  lbind_check_rc(L, src->owner, rc);
  ad = lua_newuserdatauv(L, sizeof *ad, 1);
  ad->a = a;
  ad->owner = src->owner;
  luaL_setmetatable(L, LBIND_ASSOC_MT);
  ad_idx = lua_gettop(L);
  lua_createtable(L, 0, 5);                     /* ad uv */
  lbind_push_model(L, db_idx, assoc_association_source(a));
  lua_setfield(L, -2, "source");
  lbind_push_model(L, db_idx, assoc_association_target(a));
  lua_setfield(L, -2, "target");
  through = assoc_association_through(a);
  if (through) {
    lbind_push_model(L, db_idx, through);
    lua_setfield(L, -2, "through");
    lbind_push_model(L, db_idx, assoc_association_target(a));
    lbind_model_field(L, -1, "joins");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, assoc_model_name(through));
    lua_pop(L, 2);
  }
  if (opts) {
    lua_getfield(L, opts, "scope");
    lua_setfield(L, -2, "scope");
  }
  lbind_push_model(L, db_idx, assoc_association_source(a));
  lbind_model_field(L, -1, "methods");          /* ad uv src methods */
  install_accessors(L, ad_idx, lua_gettop(L), a);
  lua_setfield(L, -4, "accessors");             /* ad uv src methods */
  lua_pop(L, 1);
  lbind_model_field(L, -1, "associations");     /* ad uv src assocs */
  lua_pushvalue(L, ad_idx);
  lua_setfield(L, -2, assoc_association_as(a));
  lua_pop(L, 2);
  lua_setiuservalue(L, ad_idx, 1);              /* ad */
  return 1;
}

/* ------------------------------------------------------------ the object */

static int assoc_index(lua_State *L) {
  lbind_assoc *ad = luaL_checkudata(L, 1, LBIND_ASSOC_MT);
  const assoc_association *a;
  const char *k = lua_tostring(L, 2);
  assoc_assoc_kind kind;
  if (!k) return 0;
  if (strcmp(k, "source") == 0 || strcmp(k, "target") == 0 ||
      strcmp(k, "through") == 0 || strcmp(k, "accessors") == 0) {
    uv_field(L, 1, k);
    return 1;
  }
  ad = check_assoc(L, 1);
  a = ad->a;
  kind = assoc_association_kind(a);
  if (strcmp(k, "as") == 0) lua_pushstring(L, assoc_association_as(a));
  else if (strcmp(k, "foreignKey") == 0)
    lua_pushstring(L, assoc_association_foreign_key(a));
  else if (strcmp(k, "otherKey") == 0)
    lua_pushstring(L, assoc_association_other_key(a));
  else if (strcmp(k, "associationType") == 0)
    lua_pushstring(L, assoc_association_type_name(a));
  else if (strcmp(k, "singular") == 0)
    lua_pushstring(L, assoc_association_singular(a));
  else if (strcmp(k, "plural") == 0)
    lua_pushstring(L, assoc_association_plural(a));
  else if (strcmp(k, "isSingleAssociation") == 0)
    lua_pushboolean(L, kind == ASSOC_BELONGS_TO || kind == ASSOC_HAS_ONE);
  else if (strcmp(k, "isMultiAssociation") == 0)
    lua_pushboolean(L, kind == ASSOC_HAS_MANY ||
                       kind == ASSOC_BELONGS_TO_MANY);
  else if (strcmp(k, "sourceKey") == 0) {
    const assoc_model *m = assoc_association_source(a);
    int attr = assoc_association_source_attr(a);
    if (kind == ASSOC_BELONGS_TO) attr = assoc_model_pk(m);
    if (attr < 0) lua_pushnil(L);
    else lua_pushstring(L, assoc_model_attr(m, (size_t)attr)->name);
  } else if (strcmp(k, "targetKey") == 0) {
    const assoc_model *m = assoc_association_target(a);
    int attr = assoc_association_target_attr(a);
    if (attr < 0) lua_pushnil(L);
    else lua_pushstring(L, assoc_model_attr(m, (size_t)attr)->name);
  } else
    lua_pushnil(L);
  return 1;
}

static int assoc_tostring(lua_State *L) {
  lbind_assoc *ad = luaL_checkudata(L, 1, LBIND_ASSOC_MT);
  const assoc_association *a = ad->a;
  if (!ad->owner->db) {
    lua_pushliteral(L, "assoc.Association (closed)");
    return 1;
  }
  lua_pushfstring(L, "assoc.Association: %s.%s(%s) as %s",
                  assoc_model_name(assoc_association_source(a)),
                  kind_fn[assoc_association_kind(a)],
                  assoc_model_name(assoc_association_target(a)),
                  assoc_association_as(a));
  return 1;
}

void lbind_open_association(lua_State *L) {
  luaL_newmetatable(L, LBIND_ASSOC_MT);
  lua_pushcfunction(L, assoc_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, assoc_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

/* ------------------------------------------------------------- accessors */

/* The state of one accessor call. */
typedef struct call {
  lbind_assoc *ad;
  assoc_association *a;
  assoc_assoc_kind kind;
  assoc_accessor op;
  const char *name;          /* the accessor's name, for messages */
  lbind_arena *A;
  int self;                  /* 1 */
  int ad_idx;                /* the Association object */
} call;

/* A value's type name as luaL_typeerror gives it (__name first). */
static const char *type_name_of(lua_State *L, int idx) {
  int t = luaL_getmetafield(L, idx, "__name");
  if (t != LUA_TNIL) {
    const char *tn = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);        /* the metatable holds the name */
    if (tn) return tn;
  }
  if (lua_type(L, idx) == LUA_TLIGHTUSERDATA) return "light userdata";
  return luaL_typename(L, idx);
}

/* The source row's key (the source instance must be saved). */
static void source_key(lua_State *L, call *c, int attr, assoc_value *out) {
  const assoc_model *m = assoc_association_source(c->a);
  int is_new;
  lbind_inst_field(L, c->self, "isNew");
  is_new = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (attr >= 0)
    lbind_inst_value(L, c->self, assoc_model_attr(m, (size_t)attr)->name);
  else
    lua_pushnil(L);
  if (is_new || lua_isnil(L, -1))
    luaL_error(L, "%s called on an unsaved %s instance (save it first)",
               c->name, assoc_model_name(m));
  lbind_to_value(L, -1, m, attr, c->A, out, 0);
  lua_pop(L, 1);   /* the instance's values table holds any string */
}

static int target_error(lua_State *L, call *c, int arg, lua_Integer index,
                        const char *got) {
  const char *tn = assoc_model_name(assoc_association_target(c->a));
  if (index > 0)
    return luaL_argerror(L, arg, lua_pushfstring(L, "%s instance or primary "
                         "key expected at index %d, got %s", tn, (int)index,
                         got));
  return luaL_argerror(L, arg, lua_pushfstring(L, "%s instance or primary "
                       "key expected, got %s", tn, got));
}

static int integer_key(const assoc_model *m, int attr) {
  assoc_type t = assoc_model_attr(m, (size_t)attr)->type;
  return t == ASSOC_TYPE_INTEGER || t == ASSOC_TYPE_BIGINT;
}

/* One target (at idx) as a key; arg/index for messages. */
static void one_key(lua_State *L, call *c, int idx, int arg,
                    lua_Integer index, assoc_value *out) {
  const assoc_model *tm = assoc_association_target(c->a);
  int tattr = assoc_association_target_attr(c->a);
  lbind_inst *p;
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER:
    if (!lua_isinteger(L, idx) && integer_key(tm, tattr)) {
      lua_Number x = lua_tonumber(L, idx);
      lua_Integer i;
      if (x != floor(x)) target_error(L, c, arg, index, "a fraction");
      if (!lua_numbertointeger(x, &i))
        target_error(L, c, arg, index, "a number out of range");
    }
    lbind_to_value(L, idx, tm, tattr, c->A, out, arg);
    return;
  case LUA_TSTRING:
    if (integer_key(tm, tattr)) {
      /* "2" is the key 2 (R5); other strings are not keys at all. */
      int ok = lua_stringtonumber(L, lua_tostring(L, idx)) != 0 &&
               lua_isinteger(L, -1);
      if (ok) lua_pop(L, 1);
      else
        target_error(L, c, arg, index,
                     lua_pushfstring(L, "string '%s'", lua_tostring(L, idx)));
    }
    lbind_to_value(L, idx, tm, tattr, c->A, out, arg);
    return;
  case LUA_TUSERDATA:
    p = lbind_test_instance(L, idx);
    if (p && p->model->m == tm) {
      int is_new;
      lbind_inst_field(L, idx, "isNew");
      is_new = lua_toboolean(L, -1);
      lua_pop(L, 1);
      lbind_inst_value(L, idx, assoc_model_attr(tm, (size_t)tattr)->name);
      if (is_new || lua_isnil(L, -1))
        target_error(L, c, arg, index, lua_pushfstring(L, "unsaved %s",
                     assoc_model_name(tm)));
      lbind_to_value(L, -1, tm, tattr, c->A, out, arg);
      lua_pop(L, 1);
      return;
    }
    break;
  default:
    break;
  }
  target_error(L, c, arg, index, type_name_of(L, idx));
}

static int is_list(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TTABLE && !lbind_is_null(L, idx);
}

/* The targets at arg as keys: plural forms take a list (or one value),
** singular ones exactly one; nil_ok: nil means none. */
static size_t target_keys(lua_State *L, call *c, int arg, int plural,
                          int nil_ok, assoc_value **out) {
  size_t i, n;
  assoc_value *keys;
  if (lua_isnoneornil(L, arg)) {
    if (nil_ok) {
      *out = NULL;
      return 0;
    }
    if (plural)
      luaL_argerror(L, arg, lua_pushfstring(L, "list of %s instances or "
                    "primary keys expected, got %s",
                    assoc_model_name(assoc_association_target(c->a)),
                    luaL_typename(L, arg)));
    target_error(L, c, arg, 0, luaL_typename(L, arg));
  }
  if (!plural || !is_list(L, arg)) {
    keys = lbind_arena_alloc(L, c->A, sizeof *keys);
    one_key(L, c, arg, arg, 0, keys);
    *out = keys;
    return 1;
  }
  n = lua_rawlen(L, arg);
  keys = lbind_arena_array(L, c->A, (size_t)n, sizeof *keys);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, arg, (lua_Integer)i + 1);
    one_key(L, c, lua_gettop(L), arg, (lua_Integer)i + 1, &keys[i]);
    lua_pop(L, 1);   /* the list holds the value */
  }
  *out = keys;
  return n;
}

/* ------------------------------------------------------------ options */

static int is_attr_of(const assoc_model *m, lua_State *L, int kidx) {
  return m && lua_type(L, kidx) == LUA_TSTRING &&
         assoc_model_attr_index(m, lua_tostring(L, kidx)) >= 0;
}

/* A key naming the foreign key or the other key of the join table: the
** association writes those, so giving one is an error, not a join value. */
static void refuse_join_key(lua_State *L, call *c, int kidx) {
  const char *k = lua_type(L, kidx) == LUA_TSTRING ? lua_tostring(L, kidx)
                                                   : NULL;
  if (k && (strcmp(k, assoc_association_foreign_key(c->a)) == 0 ||
            strcmp(k, assoc_association_other_key(c->a)) == 0))
    luaL_error(L, "'%s' is a key of the join table, written by '%s', not a "
               "join attribute", k, c->name);
}

/* Check the option keys of a writing accessor: transaction, validate, and
** for belongsToMany through (join values) and through attribute names. */
static void check_write_opts(lua_State *L, call *c, int opts, int join) {
  const assoc_model *thm = join > 0 ? assoc_association_through(c->a)
                                    : NULL;
  if (!opts) return;
  lua_pushnil(L);
  while (lua_next(L, opts)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                   : NULL;
    int ok = k && (strcmp(k, "transaction") == 0 ||
                   (join >= 0 && strcmp(k, "validate") == 0) ||
                   (thm && strcmp(k, "through") == 0) ||
                   is_attr_of(thm, L, -2));
    if (!ok)
      luaL_error(L, "unknown option '%s' to '%s'",
                 k ? k : luaL_typename(L, -2), c->name);
    if (thm) refuse_join_key(L, c, -2);
    lua_pop(L, 1);
  }
}

static int validation_on(lua_State *L, int opts) {
  int r = 1;
  if (opts) {
    lua_getfield(L, opts, "validate");
    r = !(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_pop(L, 1);
  }
  return r;
}

/* Copy the join attributes of the table at t into the table at join
** (absolute), refusing unknown ones; where names the table in messages. */
static void copy_join_values(lua_State *L, call *c, int t, int join,
                             const char *where) {
  const assoc_model *thm = assoc_association_through(c->a);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (!is_attr_of(thm, L, -2))
      luaL_error(L, "unknown attribute '%s' of %s in %s",
                 lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                : luaL_typename(L, -2),
                 assoc_model_name(thm), where);
    refuse_join_key(L, c, -2);
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, join);
  }
}

/* Push the join values table of the call: opts.through, plus top-level
** keys naming a through attribute (opts.through wins). */
static void push_call_join(lua_State *L, call *c, int opts) {
  const assoc_model *thm = assoc_association_through(c->a);
  int join;
  lua_newtable(L);
  join = lua_gettop(L);
  if (!opts) return;
  lua_pushnil(L);
  while (lua_next(L, opts)) {
    if (is_attr_of(thm, L, -2)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, join);
    } else {
      lua_pop(L, 1);
    }
  }
  if (lua_getfield(L, opts, "through") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TTABLE)
      luaL_error(L, "option 'through' must be a table of %s attributes",
                 assoc_model_name(thm));
    copy_join_values(L, c, lua_gettop(L), join, "through");
  }
  lua_pop(L, 1);
}

/* The join values table at join as fields.  When links will be written
** (nkeys > 0) the through model's validators run, unless opts.validate is
** false.  The table must stay alive while the fields are used: it holds
** the values' strings. */
static size_t join_table_fields(lua_State *L, call *c, int opts, int join,
                                size_t nkeys, assoc_field **out) {
  join = lua_absindex(L, join);
  if (nkeys > 0 && validation_on(L, opts)) {   /* rows will be written */
    const char *skip[3];
    skip[0] = assoc_association_foreign_key(c->a);
    skip[1] = assoc_association_other_key(c->a);
    skip[2] = NULL;
    uv_field(L, c->ad_idx, "through");       /* thmodel */
    lua_newtable(L);                            /* thmodel errs */
    lbind_validate(L, -2, join, 0, -1, LBIND_V_FULL, 0, skip);
    lbind_validate_raise(L, -1);
    lua_pop(L, 2);
  }
  return lbind_fields(L, join, assoc_association_through(c->a), c->A, out,
                      0);
}

/* Push the call's join values table (see push_call_join) and return it as
** fields (join_table_fields); the table stays on the stack. */
static size_t join_fields(lua_State *L, call *c, int opts, size_t nkeys,
                          assoc_field **out) {
  *out = NULL;
  if (!assoc_association_through(c->a)) return 0;
  push_call_join(L, c, opts);
  return join_table_fields(L, c, opts, -1, nkeys, out);
}

/* Per-target join values: a target instance holding a table under the
** through model's name (p.UserProject = { role = "lead" }) is linked with
** the call's join values (at join) merged with that table's, which win;
** a join-row instance there (a row read through the association) counts
** for nothing, as in Sequelize.  targets at arg are as target_keys took
** them.  When some target has values, pushes a table holding the merged
** tables (their strings); otherwise pushes nothing and allocates nothing,
** as add and set of plain keys (the common call) need. */
static size_t target_joins(lua_State *L, call *c, int arg, int plural,
                           int opts, int join, assoc_target_join **out) {
  const assoc_model *thm = assoc_association_through(c->a);
  const char *thname = assoc_model_name(thm);
  size_t i, n, k = 0;
  int list = plural && is_list(L, arg), holder = 0;
  assoc_target_join *each = NULL;
  join = lua_absindex(L, join);
  *out = NULL;
  n = lua_isnoneornil(L, arg) ? 0 : list ? lua_rawlen(L, arg) : 1;
  for (i = 0; i < n; i++) {
    int top = lua_gettop(L), t;
    assoc_field *f;
    if (list) lua_rawgeti(L, arg, (lua_Integer)i + 1);
    else lua_pushvalue(L, arg);
    t = lua_gettop(L);
    if (lbind_test_instance(L, t) && lbind_inst_extra(L, t, thname) &&
        lua_type(L, -1) == LUA_TTABLE) {
      const char *where = list ? lua_pushfstring(L, "the %s of target %d",
                                                 thname, (int)i + 1)
                               : lua_pushfstring(L, "the target's %s",
                                                 thname);
      if (!each) {
        /* the first target with values: the holder takes its slot */
        each = lbind_arena_array(L, c->A, n, sizeof *each);
        lua_newtable(L);
        lua_replace(L, t);
        holder = t;
      }
      lua_newtable(L);                          /* holder own where merged */
      copy_join_values(L, c, join, lua_gettop(L), where);
      copy_join_values(L, c, t + 1, lua_gettop(L), where);
      each[k].key = i;
      each[k].njoin = join_table_fields(L, c, opts, -1, 1, &f);
      each[k].join = f;
      lua_rawseti(L, holder, (lua_Integer)++k);
    }
    lua_settop(L, holder ? holder : top);
  }
  if (k) *out = each;
  return k;
}

/* The scope list for get/count: opts.scope names one, false drops the
** target's default scope; otherwise the target's active (default) scope. */
static void push_scopes(lua_State *L, call *c, int opts) {
  uv_field(L, c->ad_idx, "target");          /* tmodel */
  if (opts && lua_getfield(L, opts, "scope") != LUA_TNIL) {
    if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) {
      lua_pop(L, 2);
      lua_newtable(L);
      return;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "option 'scope' must be a scope name or false");
    lbind_model_scope_list(L, -2, lua_tostring(L, -1));
    lua_remove(L, -2);
    lua_remove(L, -2);
    return;
  }
  if (opts) lua_pop(L, 1);
  lbind_model_field(L, -1, "active");
  lua_remove(L, -2);
}

static int opts_at(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  return idx;
}

/* --------------------------------------------------------- operations */

static int acc_get(lua_State *L, call *c, int count) {
  assoc_value src;
  assoc_query q;
  assoc_rows *rows = NULL;
  int64_t n = 0;
  int opts = opts_at(L, 2), scopes, rc, single, inc = 0, raw = 0, nest = 0;
  unsigned flags = LBIND_Q_SCOPE | LBIND_Q_THROUGH |
                   (count ? 0u : LBIND_Q_PAGING | LBIND_Q_INCLUDE);
  lua_settop(L, 2);
  lbind_check_txn_opt(L, opts, c->ad->owner);
  if (!count) lbind_raw_opts(L, opts, &raw, &nest);
  if (!count && opts && lua_getfield(L, opts, "include") != LUA_TNIL) {
    uv_field(L, c->ad_idx, "target");
    lbind_include_prepare(L, -1, -2);
    inc = lua_gettop(L);
  }
  push_scopes(L, c, opts);
  scopes = lua_gettop(L);
  single = c->kind == ASSOC_BELONGS_TO || c->kind == ASSOC_HAS_ONE;
  c->A = lbind_arena_new(L);
  if (c->kind == ASSOC_BELONGS_TO) {
    /* the in-memory foreign key: nil means no target, with no query */
    const assoc_model *m = assoc_association_source(c->a);
    int fk = assoc_association_source_attr(c->a);
    lbind_inst_value(L, c->self, assoc_model_attr(m, (size_t)fk)->name);
    if (lua_isnil(L, -1)) {
      lbind_query(L, opts, scopes, assoc_association_target(c->a),
                  NULL, c->A, &q, flags);
      lua_pushnil(L);
      return 1;
    }
    lbind_to_value(L, -1, m, fk, c->A, &src, 0);
    lua_pop(L, 1);
  } else {
    source_key(L, c, assoc_association_source_attr(c->a), &src);
  }
  lbind_query(L, opts, scopes, assoc_association_target(c->a),
              assoc_association_through(c->a), c->A, &q, flags);
  if (inc) q.nexists = lbind_include_exists(L, inc, c->A, &q.exists);
  if (count)
    rc = assoc_association_count(c->a, &src, &q, &n);
  else
    rc = assoc_association_get(c->a, &src, &q, &rows);
  lbind_arena_release(c->A);
  lbind_check_rc(L, c->ad->owner, rc);
  if (count) {
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
  }
  if (raw) {
    lbind_push_raw_rows(L, c->ad->owner, rows,
                        assoc_association_target(c->a), single, nest);
    return 1;
  }
  uv_field(L, c->ad_idx, "target");
  lbind_push_rows(L, c->ad->owner, rows, lua_gettop(L), single);
  if (inc) {
    if (single) {
      lua_createtable(L, 1, 0);
      if (!lua_isnil(L, -2)) {
        lua_pushvalue(L, -2);
        lua_rawseti(L, -2, 1);
      }
    }
    lbind_include_load(L, c->ad->owner, -1, inc);
    if (single) {
      lua_rawgeti(L, -1, 1);
      return 1;
    }
  }
  return 1;
}

static int acc_has(lua_State *L, call *c, int plural) {
  assoc_value src, *keys;
  size_t n;
  int opts = opts_at(L, 3), rc, yes = 1;
  lua_settop(L, 3);
  check_write_opts(L, c, opts, -1);
  lbind_check_txn_opt(L, opts, c->ad->owner);
  c->A = lbind_arena_new(L);
  source_key(L, c, assoc_association_source_attr(c->a), &src);
  n = target_keys(L, c, 2, plural, 0, &keys);
  rc = n ? assoc_association_has(c->a, &src, keys, n,
                                 &yes)
         : ASSOC_OK;
  lbind_arena_release(c->A);
  lbind_check_rc(L, c->ad->owner, rc);
  lua_pushboolean(L, yes);
  return 1;
}

static int acc_add_remove(lua_State *L, call *c, int plural, int add) {
  assoc_value src, *keys;
  assoc_field *join = NULL;
  assoc_target_join *each = NULL;
  size_t n, njoin = 0, neach = 0;
  int opts = opts_at(L, 3), rc;
  lua_settop(L, 3);
  check_write_opts(L, c, opts, add ? 1 : -1);
  lbind_check_txn_opt(L, opts, c->ad->owner);
  c->A = lbind_arena_new(L);
  source_key(L, c, assoc_association_source_attr(c->a), &src);
  n = target_keys(L, c, 2, plural, 0, &keys);
  if (add) {
    njoin = join_fields(L, c, opts, n, &join);
    if (assoc_association_through(c->a))      /* its join values on top */
      neach = target_joins(L, c, 2, plural, opts, -1, &each);
  }
  if (n == 0) {
    lbind_arena_release(c->A);
    return 0;
  }
  if (add)
    rc = assoc_association_add_each(c->a, &src, keys, n, join, njoin,
                                    each, neach);
  else
    rc = assoc_association_remove(c->a, &src, keys, n);
  lbind_arena_release(c->A);
  lbind_check_rc(L, c->ad->owner, rc);
  return 0;
}

/* A foreign key value for memory: the target instance's key, or the key
** given (a numeric string as an integer for an integer key). */
static void push_memory_key(lua_State *L, call *c, int arg) {
  const assoc_model *tm = assoc_association_target(c->a);
  int tattr = assoc_association_target_attr(c->a);
  assoc_type t = assoc_model_attr(tm, (size_t)tattr)->type;
  if (lbind_test_instance(L, arg)) {
    lbind_inst_value(L, arg, assoc_model_attr(tm, (size_t)tattr)->name);
    return;
  }
  if (lua_type(L, arg) == LUA_TSTRING &&
      (t == ASSOC_TYPE_INTEGER || t == ASSOC_TYPE_BIGINT) &&
      lua_stringtonumber(L, lua_tostring(L, arg)) != 0) {
    if (!lua_isinteger(L, -1)) {
      lua_pop(L, 1);
      lua_pushvalue(L, arg);
    }
    return;
  }
  lua_pushvalue(L, arg);
}

/* values[name] = the value on top (popped), not marked changed. */
static void set_in_memory(lua_State *L, int inst, const char *name) {
  lbind_inst_field(L, inst, "values");
  lua_insert(L, -2);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

static int acc_set(lua_State *L, call *c) {
  assoc_value src, *keys;
  assoc_field *join = NULL;
  assoc_target_join *each = NULL;
  size_t n, njoin, neach = 0;
  int opts = opts_at(L, 3), rc;
  int multi = c->kind == ASSOC_HAS_MANY || c->kind == ASSOC_BELONGS_TO_MANY;
  lua_settop(L, 3);
  check_write_opts(L, c, opts, 1);
  lbind_check_txn_opt(L, opts, c->ad->owner);
  c->A = lbind_arena_new(L);
  if (c->kind == ASSOC_BELONGS_TO)
    source_key(L, c, assoc_model_pk(assoc_association_source(c->a)), &src);
  else
    source_key(L, c, assoc_association_source_attr(c->a), &src);
  n = target_keys(L, c, 2, multi, 1, &keys);
  njoin = join_fields(L, c, opts, n, &join);
  if (assoc_association_through(c->a))        /* its join values on top */
    neach = target_joins(L, c, 2, 1, opts, -1, &each);
  rc = assoc_association_set_each(c->a, &src, keys, n, join, njoin,
                                  each, neach);
  lbind_arena_release(c->A);
  lbind_check_rc(L, c->ad->owner, rc);
  if (c->kind == ASSOC_BELONGS_TO) {
    const assoc_model *m = assoc_association_source(c->a);
    int fk = assoc_association_source_attr(c->a);
    if (n) push_memory_key(L, c, 2);
    else lua_pushnil(L);
    set_in_memory(L, c->self, assoc_model_attr(m, (size_t)fk)->name);
  } else if (c->kind == ASSOC_HAS_ONE && n && lbind_test_instance(L, 2)) {
    const assoc_model *m = assoc_association_source(c->a);
    int sattr = assoc_association_source_attr(c->a);
    lbind_inst_value(L, c->self, assoc_model_attr(m, (size_t)sattr)->name);
    set_in_memory(L, 2, assoc_association_foreign_key(c->a));
  }
  return 0;
}

/* The target attributes the core fills in on create, which validation
** must not call missing: the foreign key and the association scope's. */
static const char **create_skips(lua_State *L, call *c) {
  const char **skip;
  size_t n = 0, cap;
  int scope;
  uv_field(L, c->ad_idx, "scope");
  scope = lua_gettop(L);
  cap = lua_istable(L, scope) ? 2 : 0;
  if (cap) {
    lua_pushnil(L);
    while (lua_next(L, scope)) {
      cap++;
      lua_pop(L, 1);
    }
  }
  skip = lbind_arena_alloc(L, c->A, (cap + 2) * sizeof *skip);
  if (c->kind == ASSOC_HAS_MANY || c->kind == ASSOC_HAS_ONE)
    skip[n++] = assoc_association_foreign_key(c->a);
  if (cap) {
    lua_pushnil(L);
    while (lua_next(L, scope)) {
      if (lua_type(L, -2) == LUA_TSTRING)
        skip[n++] = lua_tostring(L, -2);   /* held by the scope table */
      lua_pop(L, 1);
    }
  }
  skip[n] = NULL;
  lua_pop(L, 1);
  return skip;
}

static int acc_create(lua_State *L, call *c) {
  assoc_value src;
  assoc_field *values, *join = NULL;
  assoc_rows *rows = NULL;
  size_t n, njoin;
  int opts = opts_at(L, 3), rc, tmodel, inst;
  const char **skip;
  if (lua_isnoneornil(L, 2)) {
    lua_settop(L, 3);
    lua_newtable(L);
    lua_replace(L, 2);
  }
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 3);
  check_write_opts(L, c, opts, 1);
  lbind_check_txn_opt(L, opts, c->ad->owner);
  c->A = lbind_arena_new(L);
  if (c->kind == ASSOC_BELONGS_TO)
    source_key(L, c, assoc_model_pk(assoc_association_source(c->a)), &src);
  else
    source_key(L, c, assoc_association_source_attr(c->a), &src);
  uv_field(L, c->ad_idx, "target");
  tmodel = lua_gettop(L);
  lbind_build_instance(L, tmodel, 2, 2);
  inst = lua_gettop(L);
  if (validation_on(L, opts)) {
    skip = create_skips(L, c);
    lbind_inst_field(L, inst, "values");
    lua_newtable(L);
    lbind_validate(L, tmodel, -2, inst, -1, LBIND_V_FULL, 0, skip);
    lbind_validate_raise(L, -1);
    lua_pop(L, 2);
  }
  lbind_inst_field(L, inst, "values");
  n = lbind_fields(L, -1, assoc_association_target(c->a), c->A, &values, 2);
  njoin = join_fields(L, c, opts, 1, &join);
  rc = assoc_association_create(c->a, &src, values, n,
                                join, njoin, &rows);
  lbind_arena_release(c->A);
  lbind_check_rc(L, c->ad->owner, rc);
  lbind_load_row(L, c->ad->owner, rows, inst);
  if (c->kind == ASSOC_BELONGS_TO) {
    const assoc_model *m = assoc_association_source(c->a);
    const assoc_model *tm = assoc_association_target(c->a);
    int fk = assoc_association_source_attr(c->a);
    int tattr = assoc_association_target_attr(c->a);
    lbind_inst_value(L, inst, assoc_model_attr(tm, (size_t)tattr)->name);
    set_in_memory(L, c->self, assoc_model_attr(m, (size_t)fk)->name);
  }
  lua_pushvalue(L, inst);
  return 1;
}

/* The closure behind every accessor; upvalues: Association, operation. */
static int accessor(lua_State *L) {
  call c;
  lbind_inst *p;
  const assoc_model *source;
  c.ad = lua_touserdata(L, lua_upvalueindex(1));
  c.op = (assoc_accessor)lua_tointeger(L, lua_upvalueindex(2));
  lbind_owner_check(L, c.ad->owner);
  c.a = c.ad->a;
  c.kind = assoc_association_kind(c.a);
  c.name = assoc_association_accessor(c.a, c.op);
  c.A = NULL;
  c.self = 1;
  c.ad_idx = lua_upvalueindex(1);
  source = assoc_association_source(c.a);
  p = lbind_test_instance(L, 1);
  if (!p || p->model->m != source)
    luaL_typeerror(L, 1, lua_pushfstring(L, "%s instance",
                                         assoc_model_name(source)));
  switch (c.op) {
  case ASSOC_ACC_GET: return acc_get(L, &c, 0);
  case ASSOC_ACC_COUNT: return acc_get(L, &c, 1);
  case ASSOC_ACC_HAS: return acc_has(L, &c, 0);
  case ASSOC_ACC_HAS_MANY: return acc_has(L, &c, 1);
  case ASSOC_ACC_ADD: return acc_add_remove(L, &c, 0, 1);
  case ASSOC_ACC_ADD_MANY: return acc_add_remove(L, &c, 1, 1);
  case ASSOC_ACC_REMOVE: return acc_add_remove(L, &c, 0, 0);
  case ASSOC_ACC_REMOVE_MANY: return acc_add_remove(L, &c, 1, 0);
  case ASSOC_ACC_SET: return acc_set(L, &c);
  case ASSOC_ACC_CREATE: return acc_create(L, &c);
  default: break;
  }
  return luaL_error(L, "unknown accessor");
}
