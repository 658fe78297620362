/*
** lraw.c: rows as plain Lua tables, for finders and getters called with
** raw = true (Sequelize's raw: true): no instance, no change tracking, a
** table per row whose fields are read at table speed.  A belongsToMany's
** join row sits in the same table under "UserProject.role", or with
** nest = true in a table of its own under "UserProject".
*/
#include <string.h>

#include "lbind.h"

typedef struct raw_col {
  int dest;                  /* -1 skipped, 0 the row, k nested table k */
  assoc_type type;
  lbind_text_cache text;     /* in the plan's user value i + 1 */
} raw_col;

typedef struct raw_plan {
  size_t ncols;
  int nsub;                  /* nested tables (nest: other models) */
  int nmain;                 /* fields of the row table, for its size */
  raw_col cols[];
} raw_plan;

/* Push the plan, the table of each column's key (a string) at plan + 1,
** and the table of the nested tables' names (nest) at plan + 2. */
static raw_plan *make_plan(lua_State *L, assoc_rows *rows,
                           const assoc_model *m, int nest) {
  size_t i, ncols = assoc_rows_column_count(rows);
  const assoc_model *sub[16];
  raw_plan *pl = lua_newuserdatauv(L, sizeof *pl + ncols * sizeof pl->cols[0],
                                   (int)ncols);
  int keys, subs;
  pl->ncols = ncols;
  pl->nsub = 0;
  pl->nmain = 0;
  lua_createtable(L, (int)ncols, 0);           /* plan keys */
  keys = lua_gettop(L);
  lua_newtable(L);                              /* plan keys subs */
  subs = lua_gettop(L);
  for (i = 0; i < ncols; i++) {
    const assoc_model *cm = NULL;
    int attr = assoc_rows_column_attr(rows, i, &cm), k;
    raw_col *c = &pl->cols[i];
    const char *name;
    memset(c, 0, sizeof *c);
    c->dest = -1;
    if (attr < 0 || !cm) continue;
    name = assoc_model_attr(cm, (size_t)attr)->name;
    c->type = assoc_model_attr(cm, (size_t)attr)->type;
    if (cm == m) {
      c->dest = 0;
      pl->nmain++;
      lua_pushstring(L, name);
    } else if (!nest) {
      c->dest = 0;
      pl->nmain++;
      lua_pushfstring(L, "%s.%s", assoc_model_name(cm), name);
    } else {
      for (k = 0; k < pl->nsub && sub[k] != cm; k++) continue;
      if (k == pl->nsub) {
        if (k == (int)(sizeof sub / sizeof sub[0]))
          luaL_error(L, "raw rows: too many joined models");
        sub[pl->nsub++] = cm;
        pl->nmain++;
        lua_pushstring(L, assoc_model_name(cm));
        lua_rawseti(L, subs, k + 1);
      }
      c->dest = k + 1;
      lua_pushstring(L, name);
    }
    lua_rawseti(L, keys, (lua_Integer)i + 1);
  }
  return pl;
}

/* Push the current row as a table (plan at plan, keys and subs above). */
static void push_row(lua_State *L, lbind_db *o, assoc_rows *rows,
                     raw_plan *pl, int plan) {
  int keys = plan + 1, subs = plan + 2, row, k;
  size_t i;
  luaL_checkstack(L, pl->nsub + 4, NULL);
  lua_createtable(L, 0, pl->nmain);
  row = lua_gettop(L);
  for (k = 0; k < pl->nsub; k++) lua_newtable(L);
  for (i = 0; i < pl->ncols; i++) {
    raw_col *c = &pl->cols[i];
    if (c->dest < 0 ||
        !lbind_push_column(L, o, rows, i, c->type, &c->text, plan))
      continue;
    lua_rawgeti(L, keys, (lua_Integer)i + 1);
    lua_insert(L, -2);
    lua_rawset(L, row + c->dest);
  }
  for (k = pl->nsub; k >= 1; k--) {
    lua_rawgeti(L, subs, k);
    lua_insert(L, -2);
    lua_rawset(L, row);
  }
}

void lbind_push_raw_rows(lua_State *L, lbind_db *o, assoc_rows *rows,
                         const assoc_model *m, int single, int nest) {
  int top = lua_gettop(L), out = 0, plan = 0, rc;
  raw_plan *pl = NULL;
  lua_Integer n = 0;
  if (!single) {
    lua_newtable(L);
    out = lua_gettop(L);
  }
  while ((rc = rows ? assoc_rows_step(rows) : ASSOC_DONE) == ASSOC_ROW) {
    if (!pl) {
      plan = lua_gettop(L) + 1;
      pl = make_plan(L, rows, m, nest);
    }
    push_row(L, o, rows, pl, plan);
    if (single) {
      lbind_check_rc(L, o, ASSOC_OK);
      lua_replace(L, top + 1);
      lua_settop(L, top + 1);
      return;
    }
    lua_rawseti(L, out, ++n);
  }
  lbind_check_rc(L, o, rc);
  if (single) lua_pushnil(L);
  else lua_pushvalue(L, out);
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
}

static int bool_opt(lua_State *L, int opts, const char *k) {
  int t = lua_getfield(L, opts, k), r;
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    luaL_error(L, "option '%s' must be a boolean, got %s", k,
               luaL_typename(L, -1));
  r = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return r;
}

void lbind_raw_opts(lua_State *L, int opts, int *raw, int *nest) {
  *raw = *nest = 0;
  if (!opts) return;
  *raw = bool_opt(L, opts, "raw");
  *nest = bool_opt(L, opts, "nest");
  if (*nest && !*raw) luaL_error(L, "option 'nest' needs raw = true");
  if (*raw) {
    int t = lua_getfield(L, opts, "include");
    lua_pop(L, 1);
    if (t != LUA_TNIL)
      luaL_error(L, "raw = true does not take include: rows of an include "
                 "are instances");
  }
}
