/*
** linstance.c: model instances: userdata whose metatable is the model's
** instance metatable (of the registry's instance group).  A row's values
** sit in the userdata's own user values, one per attribute, so an instance
** is one allocation; the state { values, changed, isNew, extra } other
** files ask for (lbind_inst_field) is made only when they ask.
*/
#include <string.h>

#include "lbind.h"

/* ---------------------------------------------------------------- layout */

/* User value UV_STATE of an instance is one of
**   nil       nothing but the values, which sit in the slots;
**   userdata  the same, and one extra: a join-row instance under its own
**             model's name (what a belongsToMany getter hangs on each row);
**   table     the state { values, changed, isNew, extra }, each optional.
**             Once it has a values table, that table holds the values and
**             the slots stay empty.
** Slot UV_FIRST + i holds attribute i of the instance's layout. */
#define UV_STATE 1
#define UV_FIRST 2

typedef struct lay_name {
  const char *s;             /* an interned Lua string the layout holds */
  size_t n;
} lay_name;

/* A model's attribute names when instances were made (associations can
** add attributes later, so each instance keeps its own).  A userdata kept
** by the instance metatable; its user value holds the Model object and
** the name strings. */
typedef struct layout {
  lbind_model *model;
  lay_name mname;            /* the model's name */
  size_t n;
  lay_name names[];
} layout;

typedef struct inst_priv {
  lbind_inst pub;            /* first, so lbind_inst * points here */
  layout *lay;
} inst_priv;

/* Keys in the instance metatable: light userdata cannot clash with a
** metamethod name. */
static const char key_current = 'c';  /* the layout of new instances */
static const char key_layouts = 'l';  /* { [layout *] = the userdata } */

static int names_current(const layout *lay, const assoc_model *m) {
  size_t i;
  if (assoc_model_attr_count(m) != lay->n) return 0;
  for (i = 0; i < lay->n; i++)
    if (strcmp(lay->names[i].s, assoc_model_attr(m, i)->name) != 0)
      return 0;
  return 1;
}

/* The layout of an instance of the Model at model_idx made now; imt
** (absolute) is the model's instance metatable. */
static layout *model_layout(lua_State *L, int imt, int model_idx) {
  lbind_model *mo = lua_touserdata(L, model_idx);
  int open = mo->owner->db != NULL;
  layout *lay;
  size_t i, n;
  lua_rawgetp(L, imt, &key_current);
  lay = lua_touserdata(L, -1);
  lua_pop(L, 1);
  /* A closed database has no names to compare: keep what there is. */
  if (lay && lay->model == mo && (!open || names_current(lay, mo->m)))
    return lay;
  n = open ? assoc_model_attr_count(mo->m) : 0;
  lay = lua_newuserdatauv(L, sizeof *lay + n * sizeof lay->names[0], 1);
  lay->model = mo;
  lay->n = n;
  lua_createtable(L, (int)n, 2);                /* lay uv */
  lua_pushvalue(L, model_idx);
  lua_setfield(L, -2, "model");
  if (lua_getfield(L, imt, "__name") != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushliteral(L, "?");
  }
  lay->mname.s = lua_tolstring(L, -1, &lay->mname.n);
  lua_setfield(L, -2, "name");
  for (i = 0; i < n; i++) {
    lay->names[i].s = lua_pushstring(L, assoc_model_attr(mo->m, i)->name);
    lay->names[i].n = strlen(lay->names[i].s);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setiuservalue(L, -2, 1);                  /* lay */
  if (lua_rawgetp(L, imt, &key_layouts) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, imt, &key_layouts);
  }
  lua_pushvalue(L, -2);
  lua_rawsetp(L, -2, lay);                      /* lay layouts */
  lua_pop(L, 1);
  lua_rawsetp(L, imt, &key_current);
  return lay;
}

/* The slot of attribute k of lay, or 0. */
static int slot_of(const layout *lay, const char *k, size_t n) {
  size_t i;
  for (i = 0; i < lay->n; i++)     /* a short Lua string is interned */
    if (lay->names[i].s == k) return UV_FIRST + (int)i;
  for (i = 0; i < lay->n; i++)
    if (lay->names[i].n == n && memcmp(lay->names[i].s, k, n) == 0)
      return UV_FIRST + (int)i;
  return 0;
}

static int slot_at(const layout *lay, lua_State *L, int kidx) {
  const char *k;
  size_t n;
  if (lua_type(L, kidx) != LUA_TSTRING) return 0;
  k = lua_tolstring(L, kidx, &n);
  return slot_of(lay, k, n);
}

static inst_priv *new_instance(lua_State *L, int imt, layout *lay) {
  inst_priv *p = lua_newuserdatauv(L, sizeof *p,
                                   (int)lay->n + UV_FIRST - 1);
  p->pub.model = lay->model;
  p->lay = lay;
  lua_pushvalue(L, imt);
  lua_setmetatable(L, -2);
  return p;
}

/* Push the state table of the instance at idx (absolute), making it. */
static void push_state(lua_State *L, int idx) {
  int t = lua_getiuservalue(L, idx, UV_STATE);
  if (t == LUA_TTABLE) return;
  lua_createtable(L, 0, 4);                     /* old state */
  if (t == LUA_TUSERDATA) {                     /* a lone join instance */
    const inst_priv *j = lua_touserdata(L, -2);
    lua_createtable(L, 0, 1);                   /* old state extra */
    lua_pushlstring(L, j->lay->mname.s, j->lay->mname.n);
    lua_pushvalue(L, -4);
    lua_rawset(L, -3);
    lua_setfield(L, -2, "extra");
  }
  lua_remove(L, -2);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, idx, UV_STATE);
}

/* Push the values table of the instance at idx if it has one. */
static int push_values_table(lua_State *L, int idx) {
  if (lua_getiuservalue(L, idx, UV_STATE) == LUA_TTABLE) {
    if (lua_getfield(L, -1, "values") == LUA_TTABLE) {
      lua_remove(L, -2);
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 0;
}

/* Push the values table of the instance at idx (absolute), moving the
** values out of the slots into a new one the first time. */
static void push_values(lua_State *L, int idx) {
  const inst_priv *p = lua_touserdata(L, idx);
  size_t i;
  if (push_values_table(L, idx)) return;
  push_state(L, idx);                           /* state */
  lua_createtable(L, 0, (int)p->lay->n);        /* state vals */
  for (i = 0; i < p->lay->n; i++) {
    int slot = UV_FIRST + (int)i;
    if (lua_getiuservalue(L, idx, slot) == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    lua_setfield(L, -2, p->lay->names[i].s);
    lua_pushnil(L);
    lua_setiuservalue(L, idx, slot);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "values");
  lua_remove(L, -2);
}

/* Push the canonical Model of the instance at idx (absolute). */
static void push_model(lua_State *L, int idx) {
  const inst_priv *p = lua_touserdata(L, idx);
  int top = lua_gettop(L);
  if (lua_getmetatable(L, idx) &&
      lua_rawgetp(L, -1, &key_layouts) == LUA_TTABLE &&
      lua_rawgetp(L, -1, p->lay) == LUA_TUSERDATA &&
      lua_getiuservalue(L, -1, 1) == LUA_TTABLE) {
    lua_getfield(L, -1, "model");
    lua_replace(L, top + 1);
  } else {
    lua_pushnil(L);
    lua_replace(L, top + 1);
  }
  lua_settop(L, top + 1);
}

/* After a row was loaded: not new, nothing changed. */
static void clear_state(lua_State *L, int idx) {
  if (lua_getiuservalue(L, idx, UV_STATE) == LUA_TTABLE) {
    lua_pushnil(L);
    lua_setfield(L, -2, "changed");
    lua_pushnil(L);
    lua_setfield(L, -2, "isNew");
  }
  lua_pop(L, 1);
}

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
  idx = lua_absindex(L, idx);
  if (strcmp(field, "values") == 0) {
    push_values(L, idx);
    return;
  }
  if (strcmp(field, "model") == 0) {
    push_model(L, idx);
    return;
  }
  if (strcmp(field, "isNew") == 0) {
    int is_new = 0;
    if (lua_getiuservalue(L, idx, UV_STATE) == LUA_TTABLE) {
      lua_getfield(L, -1, "isNew");
      is_new = lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushboolean(L, is_new);
    return;
  }
  push_state(L, idx);                           /* state */
  if (lua_getfield(L, -1, field) == LUA_TNIL &&
      (strcmp(field, "changed") == 0 || strcmp(field, "extra") == 0)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, field);
  }
  lua_remove(L, -2);
}

void lbind_inst_value(lua_State *L, int idx, const char *name) {
  idx = lua_absindex(L, idx);
  if (push_values_table(L, idx)) {
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
  } else {
    const inst_priv *p = lua_touserdata(L, idx);
    int slot = slot_of(p->lay, name, strlen(name));
    if (slot) lua_getiuservalue(L, idx, slot);
    else lua_pushnil(L);
  }
  if (lbind_is_null(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
}

int lbind_inst_extra(lua_State *L, int idx, const char *name) {
  int top = lua_gettop(L), t;
  idx = lua_absindex(L, idx);
  t = lua_getiuservalue(L, idx, UV_STATE);
  if (t == LUA_TUSERDATA) {                     /* the lone extra */
    const inst_priv *j = lua_touserdata(L, -1);
    if (strcmp(j->lay->mname.s, name) == 0) return 1;
  } else if (t == LUA_TTABLE && lua_getfield(L, -1, "extra") == LUA_TTABLE &&
             lua_getfield(L, -1, name) != LUA_TNIL) {
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 1;
  }
  lua_settop(L, top);
  return 0;
}

lbind_inst *lbind_push_instance(lua_State *L, int model_idx, int is_new) {
  inst_priv *p;
  int imt;
  model_idx = lua_absindex(L, model_idx);
  lbind_model_field(L, model_idx, "imt");
  imt = lua_gettop(L);
  p = new_instance(L, imt, model_layout(L, imt, model_idx));
  lua_remove(L, imt);
  if (is_new) {
    lua_createtable(L, 0, 4);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "isNew");
    lua_setiuservalue(L, -2, UV_STATE);
  }
  return &p->pub;
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

static int same_value(lua_State *L, int cur, int v) {
  return lua_rawequal(L, cur, v) ||
         ((lua_isnil(L, cur) || lbind_is_null(L, cur)) &&
          (lua_isnil(L, v) || lbind_is_null(L, v)));
}

static void mark_changed(lua_State *L, int idx, int kidx) {
  lbind_inst_field(L, idx, "changed");
  lua_pushvalue(L, kidx);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* values[k] = v at kidx/vidx of the instance at idx, marking it changed
** when it differs (nil is stored as assoc.null: an explicit NULL). */
static void set_value(lua_State *L, int idx, int kidx, int vidx) {
  const inst_priv *p = lua_touserdata(L, idx);
  int same;
  idx = lua_absindex(L, idx);
  kidx = lua_absindex(L, kidx);
  vidx = lua_absindex(L, vidx);
  if (!push_values_table(L, idx)) {
    int slot = slot_at(p->lay, L, kidx);
    if (slot) {
      lua_getiuservalue(L, idx, slot);
      same = same_value(L, -1, vidx);
      lua_pop(L, 1);
      if (!same) {
        if (lua_isnil(L, vidx)) lbind_push_null(L);
        else lua_pushvalue(L, vidx);
        lua_setiuservalue(L, idx, slot);
        mark_changed(L, idx, kidx);
      }
      return;
    }
    /* not in the layout (an attribute added since): the table has it */
    push_values(L, idx);
  }
  lua_pushvalue(L, kidx);
  lua_rawget(L, -2);                            /* vals cur */
  same = same_value(L, -1, vidx);
  lua_pop(L, 1);
  if (!same) {
    lua_pushvalue(L, kidx);
    if (lua_isnil(L, vidx)) lbind_push_null(L);
    else lua_pushvalue(L, vidx);
    lua_rawset(L, -3);
    mark_changed(L, idx, kidx);
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

/* How the columns of a result fill instances: worked out once per
** result, used for every row. */
typedef struct col_plan {
  int dest;                  /* -1 none, 0 the row's instance, k join k */
  int slot;                  /* user value; 0: by name in a values table */
  const char *name;
  assoc_type type;
  lbind_text_cache text;      /* in the plan's user value i + 1 */
} col_plan;

typedef struct join_plan {
  const assoc_model *m;
  layout *lay;
  int imt;                   /* stack index of its instance metatable */
} join_plan;

typedef struct row_plan {
  size_t ncols, njoin;
  col_plan *cols;
  join_plan *joins;
} row_plan;

/* Push the plan for rows of m (into the slots of lay, or by name when lay
** is NULL); columns of another model (a join row) go to an instance of
** that model, whose Model and metatable it leaves on the stack above the
** plan. */
static row_plan *make_plan(lua_State *L, assoc_rows *rows,
                                 const assoc_model *m, const layout *lay,
                                 int db_idx) {
  size_t i, k, ncols = assoc_rows_column_count(rows);
  row_plan *pl = lua_newuserdatauv(L, sizeof *pl + ncols *
                                   (sizeof(col_plan) + sizeof(join_plan)),
                                   (int)ncols);
  pl->ncols = ncols;
  pl->njoin = 0;
  pl->cols = (col_plan *)(void *)(pl + 1);
  pl->joins = (join_plan *)(void *)(pl->cols + ncols);
  for (i = 0; i < ncols; i++) {
    const assoc_model *cm = NULL;
    int attr = assoc_rows_column_attr(rows, i, &cm);
    col_plan *c = &pl->cols[i];
    c->dest = -1;
    memset(&c->text, 0, sizeof c->text);
    if (attr < 0 || !cm) continue;
    c->name = assoc_model_attr(cm, (size_t)attr)->name;
    c->type = assoc_model_attr(cm, (size_t)attr)->type;
    c->slot = UV_FIRST + attr;
    if (cm == m) {
      c->dest = 0;
      if (!lay) c->slot = 0;
      continue;
    }
    for (k = 0; k < pl->njoin; k++)
      if (pl->joins[k].m == cm) break;
    if (k == pl->njoin) {
      int model;
      luaL_checkstack(L, 4, NULL);
      lbind_push_model(L, db_idx, cm);
      model = lua_gettop(L);
      lbind_model_field(L, model, "imt");
      pl->joins[k].m = cm;
      pl->joins[k].imt = lua_gettop(L);
      pl->joins[k].lay = model_layout(L, lua_gettop(L), model);
      pl->njoin++;
    }
    c->dest = (int)k + 1;
  }
  return pl;
}

/* extra[<its model's name>] = the join instance at j (absolute). */
static void attach_extra(lua_State *L, int inst, int j) {
  const inst_priv *jp = lua_touserdata(L, j);
  int t = lua_getiuservalue(L, inst, UV_STATE);
  if (t == LUA_TUSERDATA) {                     /* replace the same one */
    const inst_priv *old = lua_touserdata(L, -1);
    if (old->lay->mname.n == jp->lay->mname.n &&
        memcmp(old->lay->mname.s, jp->lay->mname.s, jp->lay->mname.n) == 0)
      t = LUA_TNIL;
  }
  lua_pop(L, 1);
  if (t == LUA_TNIL) {
    lua_pushvalue(L, j);
    lua_setiuservalue(L, inst, UV_STATE);
    return;
  }
  lbind_inst_field(L, inst, "extra");
  lua_pushlstring(L, jp->lay->mname.s, jp->lay->mname.n);
  lua_pushvalue(L, j);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* Load the current row into the instance at inst: into its values table
** at vals, or its slots when vals is 0.  The plan is at plan_idx. */
static void fill_row(lua_State *L, lbind_db *o, assoc_rows *rows,
                     int plan_idx, int inst, int vals) {
  row_plan *pl = lua_touserdata(L, plan_idx);
  int base = lua_gettop(L);
  size_t i, k;
  luaL_checkstack(L, (int)pl->njoin + 4, NULL);
  for (k = 0; k < pl->njoin; k++)
    new_instance(L, pl->joins[k].imt, pl->joins[k].lay);
  for (i = 0; i < pl->ncols; i++) {
    col_plan *c = &pl->cols[i];
    if (c->dest < 0 ||
        !lbind_push_column(L, o, rows, i, c->type, &c->text, plan_idx))
      continue;
    if (c->dest > 0) lua_setiuservalue(L, base + c->dest, c->slot);
    else if (vals) lua_setfield(L, vals, c->name);
    else lua_setiuservalue(L, inst, c->slot);
  }
  for (k = 0; k < pl->njoin; k++) attach_extra(L, inst, base + 1 + (int)k);
  lua_settop(L, base);
}

/* Make an instance of every row; each one goes to each(L, ud), or into
** the array at out, or (single) is the result. */
static void make_rows(lua_State *L, lbind_db *o, assoc_rows *rows,
                      int model_idx, int single,
                      void (*each)(lua_State *L, void *ud), void *ud) {
  int plan = 0;
  layout *lay;
  lua_Integer n = 0;
  int top, db_idx, imt, out = 0, rc;
  model_idx = lua_absindex(L, model_idx);
  top = lua_gettop(L);
  lbind_model_field(L, model_idx, "db");
  db_idx = lua_gettop(L);
  lbind_model_field(L, model_idx, "imt");
  imt = lua_gettop(L);
  lay = model_layout(L, imt, model_idx);
  if (!single && !each) {
    lua_newtable(L);
    out = lua_gettop(L);
  }
  while ((rc = rows ? assoc_rows_step(rows) : ASSOC_DONE) == ASSOC_ROW) {
    if (!plan) {
      plan = lua_gettop(L) + 1;
      make_plan(L, rows, ((lbind_model *)lua_touserdata(L, model_idx))->m,
                lay, db_idx);
    }
    new_instance(L, imt, lay);
    fill_row(L, o, rows, plan, lua_gettop(L), 0);
    if (single) {
      lbind_check_rc(L, o, ASSOC_OK);
      lua_replace(L, top + 1);
      lua_settop(L, top + 1);
      return;
    }
    if (each) {
      int inst = lua_gettop(L);
      each(L, ud);
      lua_settop(L, inst - 1);
    } else {
      lua_rawseti(L, out, ++n);
    }
  }
  lbind_check_rc(L, o, rc);
  if (each) {
    lua_settop(L, top);
    return;
  }
  if (single) lua_pushnil(L);
  else lua_pushvalue(L, out);
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
}

void lbind_push_rows(lua_State *L, lbind_db *o, assoc_rows *rows,
                     int model_idx, int single) {
  make_rows(L, o, rows, model_idx, single, NULL, NULL);
}

void lbind_each_row(lua_State *L, lbind_db *o, assoc_rows *rows,
                    int model_idx, void (*each)(lua_State *L, void *ud),
                    void *ud) {
  make_rows(L, o, rows, model_idx, 0, each, ud);
}

int lbind_load_row(lua_State *L, lbind_db *o, assoc_rows *rows,
                   int inst_idx) {
  const inst_priv *p;
  layout *lay;
  size_t i;
  int rc, top = lua_gettop(L), vals = 0, model;
  inst_idx = lua_absindex(L, inst_idx);
  p = lua_touserdata(L, inst_idx);
  rc = rows ? assoc_rows_step(rows) : ASSOC_DONE;
  lbind_check_rc(L, o, rc);
  clear_state(L, inst_idx);
  if (rc != ASSOC_ROW) {
    lua_settop(L, top);
    return 0;
  }
  push_model(L, inst_idx);
  model = lua_gettop(L);
  lbind_model_field(L, model, "db");            /* model db */
  lbind_model_field(L, model, "imt");           /* model db imt */
  lay = model_layout(L, model + 2, model);
  if (lay == p->lay) {
    /* The values go back into the slots, emptied first. */
    if (lua_getiuservalue(L, inst_idx, UV_STATE) == LUA_TTABLE) {
      lua_pushnil(L);
      lua_setfield(L, -2, "values");
    }
    lua_pop(L, 1);
    for (i = 0; i < lay->n; i++) {
      lua_pushnil(L);
      lua_setiuservalue(L, inst_idx, UV_FIRST + (int)i);
    }
  } else {
    /* The model has other attributes now: a table holds them. */
    push_state(L, inst_idx);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "values");
    vals = lua_gettop(L);
    lay = NULL;
  }
  make_plan(L, rows, p->pub.model->m, lay, model + 1);
  fill_row(L, o, rows, vals ? vals + 1 : model + 3, inst_idx, vals);
  lbind_check_rc(L, o, ASSOC_OK);
  lua_settop(L, top);
  return 1;
}

/* --------------------------------------------------------------- writing */

/* The condition "primary key(s) = the instance's values". */
static const assoc_cond *pk_where(lua_State *L, int inst,
                                  const assoc_model *m, lbind_arena *A) {
  const assoc_cond *w = NULL;
  size_t i, n = assoc_model_attr_count(m);
  for (i = 0; i < n; i++) {
    const assoc_attr_def *d = assoc_model_attr(m, i);
    assoc_value v;
    if (!d->primary_key) continue;
    lbind_inst_value(L, inst, d->name);
    if (lua_isnil(L, -1))
      luaL_error(L, "%s instance has no value for its primary key '%s'",
                 assoc_model_name(m), d->name);
    lbind_to_value(L, -1, m, (int)i, A, &v, 0);
    w = lbind_cond_and(L, A, w, lbind_cond_eq(L, A, m, (int)i, &v));
    lua_pop(L, 1);   /* the instance holds the string */
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
    q.where = pk_where(L, idx, m, A);
    rc = assoc_model_update(p->model->m, f, n, &q, &count);
    lbind_arena_release(A);
    lbind_check_rc(L, o, rc);
  }
  clear_state(L, idx);
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
  const inst_priv *p = (const inst_priv *)self_instance(L);
  size_t i;
  lua_newtable(L);
  if (!push_values_table(L, 1)) {
    for (i = 0; i < p->lay->n; i++) {
      lua_getiuservalue(L, 1, UV_FIRST + (int)i);
      if (lua_isnil(L, -1) || lbind_is_null(L, -1)) lua_pop(L, 1);
      else lua_setfield(L, -2, p->lay->names[i].s);
    }
    return 1;
  }
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
  A = lbind_arena_new(L);
  memset(&q, 0, sizeof q);
  q.where = pk_where(L, 1, p->model->m, A);
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
  A = lbind_arena_new(L);
  memset(&q, 0, sizeof q);
  q.where = pk_where(L, 1, p->model->m, A);
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
  /* Only a write makes the table; reading an instance that has none
  ** reads an empty one. */
  if (nargs >= 3 && lua_type(L, 2) == LUA_TSTRING) {
    lbind_inst_field(L, 1, "changed");
  } else if (lua_getiuservalue(L, 1, UV_STATE) != LUA_TTABLE ||
             lua_getfield(L, -1, "changed") != LUA_TTABLE) {
    lua_newtable(L);
  }                                             /* ... c */
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

/* The instance a metamethod got: the metatable must be this model's
** (upvalue up), since Lua code can reach the metamethods themselves. */
static inst_priv *meta_self(lua_State *L, int up) {
  /* (comparing pointers is much cheaper than lua_rawequal) */
  if (!lua_getmetatable(L, 1) ||
      lua_topointer(L, -1) != lua_topointer(L, lua_upvalueindex(up)))
    luaL_typeerror(L, 1, "model instance");
  lua_pop(L, 1);
  /* A table handed an instance metatable has the metatable, no userdata. */
  if (!lua_isuserdata(L, 1)) luaL_typeerror(L, 1, "model instance");
  return lua_touserdata(L, 1);
}

/* meta_self for __index, called with exactly (inst, key, nil) on the
** stack, which it leaves with the metatable pushed: the caller's indexes
** stay fixed and nothing is popped. */
static inst_priv *meta_check(lua_State *L) {
  if (lua_gettop(L) != 3) lua_settop(L, 3);   /* called by hand */
  if (!lua_getmetatable(L, 1) ||
      lua_topointer(L, 4) != lua_topointer(L, lua_upvalueindex(2)) ||
      !lua_isuserdata(L, 1))
    luaL_typeerror(L, 1, "model instance");
  return lua_touserdata(L, 1);
}

/* Attributes, then the join row, methods, other extras (includes): an
** attribute named like a method hides it, as a Sequelize attribute's
** property hides the prototype's method.  The hot path of every attribute
** read: few API calls, and nothing popped. */
static int inst_index(lua_State *L) {
  const inst_priv *p = meta_check(L);           /* inst key nil imt */
  int t = lua_getiuservalue(L, 1, UV_STATE);    /* ... state */
  int vt = LUA_TNIL;
  size_t n = 0;
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &n)
                                                : NULL;
  if (t == LUA_TTABLE &&
      lua_getfield(L, 5, "values") == LUA_TTABLE) {     /* ... state vals */
    lua_pushvalue(L, 2);
    if ((vt = lua_rawget(L, -2)) == LUA_TNIL && k &&
        slot_of(p->lay, k, n) != 0)
      return 1;                                 /* an attribute, nil */
  } else if (k) {
    int slot = slot_of(p->lay, k, n);
    if (slot) {
      if (lua_getiuservalue(L, 1, slot) == LUA_TUSERDATA &&
          lbind_is_null(L, -1))
        lua_pushnil(L);
      return 1;
    }
  }
  if (vt != LUA_TNIL) {
    if (vt == LUA_TUSERDATA && lbind_is_null(L, -1)) lua_pushnil(L);
    return 1;
  }
  lua_settop(L, 5);
  if (t == LUA_TUSERDATA && k) {
    /* the lone extra: a join-row instance under its model's name */
    const inst_priv *j = lua_touserdata(L, 5);
    if (n == j->lay->mname.n && memcmp(k, j->lay->mname.s, n) == 0)
      return 1;
  }
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_settop(L, 5);
  if (t == LUA_TTABLE && lua_getfield(L, 5, "extra") == LUA_TTABLE) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, -2) != LUA_TNIL) return 1;
  }
  if (k && strcmp(k, "Model") == 0) {
    push_model(L, 1);
    return 1;
  }
  lua_pushnil(L);
  return 1;
}

/* inst[k] = v for k the name of a through model joining inst's model
** (p.UserProject = { role = "lead" }): join values the next add or set of
** that association writes for this target.  Returns 0 when k is not one. */
static int set_join_values(lua_State *L, const lbind_inst *p) {
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  int t = lua_type(L, 3), is_join;
  if (!k || !usable(p) || assoc_model_attr_index(p->model->m, k) >= 0)
    return 0;
  push_model(L, 1);
  lbind_model_field(L, -1, "base");
  lbind_model_field(L, -1, "joins");
  lua_pushvalue(L, 2);
  is_join = lua_rawget(L, -2) != LUA_TNIL;
  lua_settop(L, 3);
  if (!is_join) return 0;
  if (t != LUA_TNIL && t != LUA_TTABLE && !lbind_test_instance(L, 3))
    luaL_error(L, "%s of %s must be a table of %s attributes, got %s", k,
               inst_model_name(L, 1), k, luaL_typename(L, 3));
  lbind_inst_field(L, 1, "extra");
  lua_insert(L, 2);                             /* inst extra k v */
  lua_rawset(L, 2);
  return 1;
}

static int inst_newindex(lua_State *L) {
  inst_priv *p = meta_self(L, 1);
  lua_settop(L, 3);
  if (set_join_values(L, &p->pub)) return 0;
  check_set(L, &p->pub, 2, 3, 0);
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
  lua_pushvalue(L, -3);
  lua_pushcclosure(L, inst_index, 2);
  lua_setfield(L, -3, "__index");
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, inst_newindex, 1);
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
