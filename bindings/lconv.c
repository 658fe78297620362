/*
** lconv.c: Lua values <-> assoc_value, values tables -> assoc_field arrays,
** where tables -> assoc_cond trees and query options -> assoc_query.  All
** C memory of a conversion lives in an arena owned by a userdata on the
** stack, so an error halfway leaks nothing.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lbind.h"

/* ----------------------------------------------------------------- arena */

typedef union arena_align {
  long double ld;
  void *p;
  int64_t i;
  double d;
} arena_align;

typedef struct arena_block {
  struct arena_block *next;
  size_t used, cap;          /* in units of arena_align */
  arena_align data[];
} arena_block;

struct lbind_arena {
  arena_block *head;
};

/* The first block is small enough for malloc's per-thread cache (a usual
** call needs a key or a where table); later ones are about 8 KB.  The
** userdata itself stays tiny: its size is what the collector is paid in. */
#define ARENA_FIRST_UNITS 40
#define ARENA_UNITS 480

void lbind_arena_release(lbind_arena *a) {
  while (a->head) {
    arena_block *b = a->head;
    a->head = b->next;
    free(b);
  }
}

static int arena_gc(lua_State *L) {
  lbind_arena_release((lbind_arena *)luaL_checkudata(L, 1, LBIND_ARENA_MT));
  return 0;
}

lbind_arena *lbind_arena_new(lua_State *L) {
  lbind_arena *a = lua_newuserdatauv(L, sizeof *a, 0);
  a->head = NULL;
  luaL_setmetatable(L, LBIND_ARENA_MT);
  return a;
}

void *lbind_arena_alloc(lua_State *L, lbind_arena *a, size_t n) {
  size_t units;
  arena_block *b = a->head;
  void *p;
  if (n > (SIZE_MAX - sizeof *b) / 2) luaL_error(L, "not enough memory");
  units = (n + sizeof(arena_align) - 1) / sizeof(arena_align);
  if (units == 0) units = 1;
  if (!b || b->cap - b->used < units) {
    size_t cap = b ? ARENA_UNITS : ARENA_FIRST_UNITS;
    if (cap < units) cap = units;
    b = malloc(sizeof *b + cap * sizeof(arena_align));
    if (!b) luaL_error(L, "not enough memory");
    b->used = 0;
    b->cap = cap;
    b->next = a->head;
    a->head = b;
  }
  p = b->data + b->used;
  b->used += units;
  memset(p, 0, units * sizeof(arena_align));
  return p;
}

void *lbind_arena_array(lua_State *L, lbind_arena *a, size_t count,
                        size_t size) {
  if (count == 0) count = 1;
  /* A count taken from user data must not wrap the multiplication. */
  if (count > (SIZE_MAX / 2) / size) luaL_error(L, "too many values");
  return lbind_arena_alloc(L, a, count * size);
}

char *lbind_arena_strdup(lua_State *L, lbind_arena *a, const char *s,
                         size_t n) {
  char *p = lbind_arena_alloc(L, a, n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void lbind_open_conv(lua_State *L) {
  luaL_newmetatable(L, LBIND_ARENA_MT);
  lua_pushcfunction(L, arena_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, arena_gc);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}

/* ---------------------------------------------------------------- values */

void lbind_push_value(lua_State *L, const assoc_value *v, assoc_type type) {
  switch (v->kind) {
  case ASSOC_NULL: lua_pushnil(L); break;
  case ASSOC_INT: lua_pushinteger(L, (lua_Integer)v->u.i); break;
  case ASSOC_REAL: lua_pushnumber(L, (lua_Number)v->u.r); break;
  case ASSOC_BOOL: lua_pushboolean(L, v->u.b); break;
  case ASSOC_TEXT:
    if (type == ASSOC_TYPE_JSON)
      lbind_json_decode(L, v->u.s.p, v->u.s.n);
    else
      lua_pushlstring(L, v->u.s.p, v->u.s.n);
    break;
  case ASSOC_BLOB: lua_pushlstring(L, v->u.s.p, v->u.s.n); break;
  default: lua_pushnil(L); break;
  }
}

/* Push the text value v, kept in user value uv of the userdata at holder
** (absolute) for the next row. */
static void push_text_cached(lua_State *L, lbind_text_cache *c, int holder,
                             int uv, const assoc_value *v) {
  size_t n = v->u.s.n;
  if (c->state < 0 || n > sizeof c->last) {
    lua_pushlstring(L, v->u.s.p, n);
    return;
  }
  if (c->state > 0 && c->lastn == n && memcmp(c->last, v->u.s.p, n) == 0) {
    lua_getiuservalue(L, holder, uv);
    c->hits++;
    return;
  }
  lua_pushlstring(L, v->u.s.p, n);
  /* Mostly distinct (titles, names): stop keeping them. */
  if (++c->misses >= 8 && c->misses > 2 * c->hits) {
    c->state = -1;
    lua_pushnil(L);
    lua_setiuservalue(L, holder, uv);
    return;
  }
  memcpy(c->last, v->u.s.p, n);
  c->lastn = n;
  c->state = 1;
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, holder, uv);
}

int lbind_push_column(lua_State *L, lbind_db *o, assoc_rows *rows, size_t i,
                      assoc_type type, lbind_text_cache *cache, int holder) {
  assoc_value v;
  int rc = assoc_rows_value(rows, i, &v);
  if (rc != ASSOC_OK) lbind_check_rc(L, o, rc);
  if (v.kind == ASSOC_NULL) return 0;
  if (v.kind == ASSOC_TEXT && type != ASSOC_TYPE_JSON)
    push_text_cached(L, cache, holder, (int)i + 1, &v);
  else
    lbind_push_value(L, &v, type);
  return 1;
}

static int value_error(lua_State *L, int idx, const char *model,
                       const char *attr, int argn) {
  const char *msg;
  if (attr)
    msg = lua_pushfstring(L, "cannot store a %s in attribute '%s' of %s",
                          luaL_typename(L, idx), attr, model);
  else
    msg = lua_pushfstring(L, "cannot bind a %s as a value",
                          luaL_typename(L, idx));
  if (argn > 0) return luaL_argerror(L, argn, msg);
  return luaL_error(L, "%s", msg);
}

static int is_integer_type(assoc_type t) {
  return t == ASSOC_TYPE_INTEGER || t == ASSOC_TYPE_BIGINT ||
         t == ASSOC_TYPE_DATE;
}

void lbind_to_value(lua_State *L, int idx, const assoc_model *m, int attr,
                    lbind_arena *A, assoc_value *out, int argn) {
  const assoc_attr_def *d = attr >= 0 ? assoc_model_attr(m, (size_t)attr)
                                      : NULL;
  lbind_to_value_def(L, idx, d, m ? assoc_model_name(m) : "?", A, out,
                     argn);
}

void lbind_to_value_def(lua_State *L, int idx, const assoc_attr_def *d,
                        const char *model, lbind_arena *A, assoc_value *out,
                        int argn) {
  int t = lua_type(L, idx);
  memset(out, 0, sizeof *out);
  if (t == LUA_TNIL || lbind_is_null(L, idx)) {
    out->kind = ASSOC_NULL;
    return;
  }
  if (d && d->type == ASSOC_TYPE_JSON) {
    size_t n;
    const char *s;
    lbind_json_encode(L, idx);
    s = lua_tolstring(L, -1, &n);
    out->kind = ASSOC_TEXT;
    out->u.s.p = lbind_arena_strdup(L, A, s, n);
    out->u.s.n = n;
    lua_pop(L, 1);
    return;
  }
  switch (t) {
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      out->kind = ASSOC_INT;
      out->u.i = (int64_t)lua_tointeger(L, idx);
    } else {
      double r = (double)lua_tonumber(L, idx);
      if (d && is_integer_type(d->type) && r == floor(r) &&
          r >= -9223372036854775808.0 && r < 9223372036854775808.0) {
        out->kind = ASSOC_INT;
        out->u.i = (int64_t)r;
      } else {
        out->kind = ASSOC_REAL;
        out->u.r = r;
      }
    }
    return;
  case LUA_TSTRING:
    /* the string stays referenced by the table or stack slot it came from */
    out->kind = d && d->type == ASSOC_TYPE_BLOB ? ASSOC_BLOB : ASSOC_TEXT;
    out->u.s.p = lua_tolstring(L, idx, &out->u.s.n);
    return;
  case LUA_TBOOLEAN:
    out->kind = ASSOC_BOOL;
    out->u.b = lua_toboolean(L, idx);
    return;
  default:
    value_error(L, idx, model, d ? d->name : NULL, argn);
  }
}

/* Push a key for messages: strings as they are, other values by tostring. */
static const char *key_name(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    lua_pushvalue(L, idx);
    return lua_tostring(L, -1);
  }
  return luaL_tolstring(L, idx, NULL);
}

void lbind_check_attr_keys(lua_State *L, int idx, const assoc_model *m,
                           const char *what) {
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING ||
        assoc_model_attr_index(m, lua_tostring(L, -2)) < 0)
      luaL_error(L, "unknown attribute '%s'%s of %s", key_name(L, -2), what,
                 assoc_model_name(m));
    lua_pop(L, 1);
  }
}

size_t lbind_fields(lua_State *L, int idx, const assoc_model *m,
                    lbind_arena *A, assoc_field **out, int argn) {
  size_t i, n = 0, nattrs = assoc_model_attr_count(m);
  assoc_field *f;
  idx = lua_absindex(L, idx);
  f = lbind_arena_array(L, A, (size_t)nattrs, sizeof *f);
  for (i = 0; i < nattrs; i++) {
    const assoc_attr_def *d = assoc_model_attr(m, i);
    lua_pushstring(L, d->name);
    if (lua_rawget(L, idx) != LUA_TNIL) {
      f[n].attr = (int)i;
      lbind_to_value(L, -1, m, (int)i, A, &f[n].value, argn);
      n++;
    }
    lua_pop(L, 1);
  }
  *out = f;
  return n;
}

/* ----------------------------------------------------------------- where */

static const struct {
  const char *name;
  assoc_op op;
  int arity;                /* 1 scalar, -1 list, 2 pair */
} ops[] = {
  {"eq", ASSOC_OP_EQ, 1},         {"ne", ASSOC_OP_NE, 1},
  {"gt", ASSOC_OP_GT, 1},         {"gte", ASSOC_OP_GTE, 1},
  {"lt", ASSOC_OP_LT, 1},         {"lte", ASSOC_OP_LTE, 1},
  {"like", ASSOC_OP_LIKE, 1},     {"notLike", ASSOC_OP_NOT_LIKE, 1},
  {"in", ASSOC_OP_IN, -1},        {"notIn", ASSOC_OP_NOT_IN, -1},
  {"between", ASSOC_OP_BETWEEN, 2},
  {"notBetween", ASSOC_OP_NOT_BETWEEN, 2},
};

enum { OP_EQ = 0, OP_IN = 8 };   /* indexes into ops[] */

#define MAX_DEPTH 100

typedef struct skey {
  const char *s;
  size_t n;
} skey;

static int skey_cmp(const void *a, const void *b) {
  const skey *x = a, *y = b;
  size_t n = x->n < y->n ? x->n : y->n;
  int c = memcmp(x->s, y->s, n);
  if (c) return c;
  return x->n < y->n ? -1 : x->n > y->n;
}

/* The string keys of the table at idx, sorted by bytes, so that equal
** wheres make equal SQL (and hit the statement cache). */
static skey *sorted_keys(lua_State *L, int idx, lbind_arena *A, size_t *nk,
                         size_t *narray) {
  size_t n = 0, cap = 8, len = lua_rawlen(L, idx);
  skey *k = lbind_arena_alloc(L, A, cap * sizeof *k);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      if (n == cap) {
        skey *nkeys = lbind_arena_alloc(L, A, 2 * cap * sizeof *k);
        memcpy(nkeys, k, cap * sizeof *k);
        k = nkeys;
        cap *= 2;
      }
      k[n].s = lua_tolstring(L, -1, &k[n].n);
      n++;
    } else if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
               (size_t)lua_tointeger(L, -1) > len) {
      luaL_error(L, "invalid key '%s' in where", key_name(L, -1));
    }
  }
  qsort(k, n, sizeof *k, skey_cmp);
  *nk = n;
  *narray = len;
  return k;
}

static int is_cond(lua_State *L, int idx) {
  int r;
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
  luaL_getmetatable(L, LBIND_COND_MT);
  r = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return r;
}

static void build(lua_State *L, int idx, const assoc_model *m,
                  lbind_arena *A, assoc_cond *out, int depth);

/* The values of a list table at idx for attribute attr. */
static assoc_value *list_values(lua_State *L, int idx, const assoc_model *m,
                                int attr, lbind_arena *A, size_t *n) {
  size_t i, len;
  assoc_value *v;
  if (lua_type(L, idx) != LUA_TTABLE || lbind_is_null(L, idx))
    luaL_error(L, "a list of values expected for attribute '%s' of %s, "
               "got %s", assoc_model_attr(m, (size_t)attr)->name,
               assoc_model_name(m), luaL_typename(L, idx));
  len = lua_rawlen(L, idx);
  v = lbind_arena_array(L, A, (size_t)len, sizeof *v);
  for (i = 0; i < len; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    lbind_to_value(L, -1, m, attr, A, &v[i], 0);
    lua_pop(L, 1);
  }
  *n = len;
  return v;
}

static void cmp_node(lua_State *L, int idx, const assoc_model *m, int attr,
                     int op, lbind_arena *A, assoc_cond *out) {
  const char *name = assoc_model_attr(m, (size_t)attr)->name;
  out->kind = ASSOC_COND_CMP;
  out->attr = name;
  out->op = ops[op].op;
  if (ops[op].arity == 1) {
    assoc_value *v = lbind_arena_alloc(L, A, sizeof *v);
    if (lua_type(L, idx) == LUA_TTABLE && !lbind_is_null(L, idx) &&
        assoc_model_attr(m, (size_t)attr)->type != ASSOC_TYPE_JSON)
      luaL_error(L, "a single value expected for operator '%s' on "
                 "attribute '%s' of %s", ops[op].name, name,
                 assoc_model_name(m));
    lbind_to_value(L, idx, m, attr, A, v, 0);
    out->values = v;
    out->nvalues = 1;
    return;
  }
  out->values = list_values(L, idx, m, attr, A, &out->nvalues);
  if (ops[op].arity == 2 && out->nvalues != 2)
    luaL_error(L, "operator '%s' on attribute '%s' of %s expects 2 values",
               ops[op].name, name, assoc_model_name(m));
}

static int find_op(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strlen(ops[i].name) == n && memcmp(ops[i].name, s, n) == 0)
      return (int)i;
  return -1;
}

/* attr = { gte = 1, lt = 9 }: one CMP per operator, ANDed. */
static void ops_node(lua_State *L, int idx, const assoc_model *m, int attr,
                     lbind_arena *A, assoc_cond *out) {
  size_t i, nk, narray;
  skey *k = sorted_keys(L, idx, A, &nk, &narray);
  assoc_cond *c;
  for (i = 0; i < nk; i++)
    if (find_op(k[i].s, k[i].n) < 0)
      luaL_error(L, "unknown operator '%s' on attribute '%s' of %s", k[i].s,
                 assoc_model_attr(m, (size_t)attr)->name,
                 assoc_model_name(m));
  if (nk == 1) c = out;
  else {
    c = lbind_arena_alloc(L, A, nk * sizeof *c);
    out->kind = ASSOC_COND_AND;
    out->children = c;
    out->nchildren = nk;
  }
  for (i = 0; i < nk; i++) {
    lua_pushlstring(L, k[i].s, k[i].n);
    lua_rawget(L, idx);
    cmp_node(L, lua_gettop(L), m, attr, find_op(k[i].s, k[i].n), A, &c[i]);
    lua_pop(L, 1);
  }
}

/* The condition of one attribute key of a where table. */
static void attr_node(lua_State *L, const skey *k, int vidx,
                      const assoc_model *m, lbind_arena *A,
                      assoc_cond *out) {
  int attr = assoc_model_attr_index(m, k->s);
  if (attr < 0 || strlen(k->s) != k->n)
    luaL_error(L, "unknown attribute '%s' in where of %s", k->s,
               assoc_model_name(m));
  if (lua_type(L, vidx) != LUA_TTABLE || lbind_is_null(L, vidx) ||
      is_cond(L, vidx)) {
    if (is_cond(L, vidx))
      luaL_error(L, "a condition cannot be the value of attribute '%s'",
                 k->s);
    cmp_node(L, vidx, m, attr, OP_EQ, A, out);
    return;
  }
  {
    size_t nk, narray;
    (void)sorted_keys(L, vidx, A, &nk, &narray);
    if (narray > 0 && nk > 0)
      luaL_error(L, "attribute '%s' of %s mixes a list and operators", k->s,
                 assoc_model_name(m));
    if (nk > 0) ops_node(L, vidx, m, attr, A, out);
    else cmp_node(L, vidx, m, attr, OP_IN, A, out);
  }
}

static void cond_object(lua_State *L, int idx, const assoc_model *m,
                        lbind_arena *A, assoc_cond *out, int depth) {
  const char *kind;
  size_t i, n;
  lua_getfield(L, idx, "kind");
  kind = lua_tostring(L, -1);
  if (!kind) luaL_error(L, "invalid condition object");
  if (strcmp(kind, "LITERAL") == 0) {
    assoc_value *v;
    out->kind = ASSOC_COND_LITERAL;
    if (lua_getfield(L, idx, "sql") != LUA_TSTRING ||
        lua_getfield(L, idx, "values") != LUA_TTABLE)
      luaL_error(L, "invalid literal condition");
    out->sql = lua_tostring(L, -2);
    lua_getfield(L, -1, "n");
    n = (size_t)luaL_optinteger(L, -1, 0);
    lua_pop(L, 1);
    v = lbind_arena_array(L, A, (size_t)n, sizeof *v);
    for (i = 0; i < n; i++) {
      lua_rawgeti(L, -1, (lua_Integer)i + 1);
      lbind_to_value(L, -1, m, -1, A, &v[i], 0);
      lua_pop(L, 1);
    }
    out->values = v;
    out->nvalues = n;
    lua_pop(L, 3);
    return;
  }
  if (strcmp(kind, "AND") == 0) out->kind = ASSOC_COND_AND;
  else if (strcmp(kind, "OR") == 0) out->kind = ASSOC_COND_OR;
  else if (strcmp(kind, "NOT") == 0) out->kind = ASSOC_COND_NOT;
  else luaL_error(L, "invalid condition kind '%s'", kind);
  lua_pop(L, 1);
  n = lua_rawlen(L, idx);
  if (out->kind == ASSOC_COND_NOT && n != 1)
    luaL_error(L, "assoc.NOT takes one condition");
  {
    assoc_cond *c = lbind_arena_array(L, A, (size_t)n, sizeof *c);
    for (i = 0; i < n; i++) {
      lua_rawgeti(L, idx, (lua_Integer)i + 1);
      if (lua_type(L, -1) != LUA_TTABLE)
        luaL_error(L, "a condition or where table expected in assoc.%s, "
                   "got %s", kind, luaL_typename(L, -1));
      build(L, lua_gettop(L), m, A, &c[i], depth + 1);
      lua_pop(L, 1);
    }
    out->children = c;
    out->nchildren = n;
  }
}

static void build(lua_State *L, int idx, const assoc_model *m,
                  lbind_arena *A, assoc_cond *out, int depth) {
  size_t i, nk, narray, n;
  skey *k;
  assoc_cond *c;
  if (depth > MAX_DEPTH) luaL_error(L, "where is nested too deeply");
  luaL_checkstack(L, 8, "where is nested too deeply");
  if (is_cond(L, idx)) {
    cond_object(L, idx, m, A, out, depth);
    return;
  }
  k = sorted_keys(L, idx, A, &nk, &narray);
  n = nk + narray;
  if (n == 1) c = out;
  else {
    c = lbind_arena_array(L, A, (size_t)n, sizeof *c);
    out->kind = ASSOC_COND_AND;
    out->children = c;
    out->nchildren = n;
  }
  for (i = 0; i < nk; i++) {
    lua_pushlstring(L, k[i].s, k[i].n);
    lua_rawget(L, idx);
    attr_node(L, &k[i], lua_gettop(L), m, A, &c[i]);
    lua_pop(L, 1);
  }
  for (i = 0; i < narray; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    if (lua_type(L, -1) != LUA_TTABLE || lbind_is_null(L, -1))
      luaL_error(L, "a condition expected at index %d of where, got %s",
                 (int)i + 1, luaL_typename(L, -1));
    build(L, lua_gettop(L), m, A, &c[nk + i], depth + 1);
    lua_pop(L, 1);
  }
}

const assoc_cond *lbind_where(lua_State *L, int idx, const assoc_model *m,
                              lbind_arena *A) {
  assoc_cond *c;
  idx = lua_absindex(L, idx);
  if (lua_isnil(L, idx)) return NULL;
  if (lua_type(L, idx) != LUA_TTABLE || lbind_is_null(L, idx))
    luaL_error(L, "where must be a table, got %s", luaL_typename(L, idx));
  c = lbind_arena_alloc(L, A, sizeof *c);
  build(L, idx, m, A, c, 0);
  if (c->kind == ASSOC_COND_AND && c->nchildren == 0) return NULL;
  return c;
}

const assoc_cond *lbind_cond_and(lua_State *L, lbind_arena *A,
                                 const assoc_cond *a, const assoc_cond *b) {
  assoc_cond *c, *kids;
  if (!a) return b;
  if (!b) return a;
  c = lbind_arena_alloc(L, A, sizeof *c);
  kids = lbind_arena_alloc(L, A, 2 * sizeof *kids);
  kids[0] = *a;
  kids[1] = *b;
  c->kind = ASSOC_COND_AND;
  c->children = kids;
  c->nchildren = 2;
  return c;
}

const assoc_cond *lbind_cond_eq(lua_State *L, lbind_arena *A,
                                const assoc_model *m, int attr,
                                const assoc_value *v) {
  assoc_cond *c = lbind_arena_alloc(L, A, sizeof *c);
  assoc_value *copy = lbind_arena_alloc(L, A, sizeof *copy);
  *copy = *v;
  c->kind = ASSOC_COND_CMP;
  c->attr = assoc_model_attr(m, (size_t)attr)->name;
  c->op = ASSOC_OP_EQ;
  c->values = copy;
  c->nvalues = 1;
  return c;
}

/* --------------------------------------------------------------- queries */

static int is_opt(const char *k, unsigned flags) {
  static const char *const base[] = {"where", "transaction", NULL};
  static const char *const paging[] = {"attributes", "order", "limit",
                                       "offset", "raw", "nest", NULL};
  static const char *const through[] = {"joinTableAttributes", "through",
                                        NULL};
  const char *const *p;
  for (p = base; *p; p++) if (strcmp(k, *p) == 0) return 1;
  if (flags & LBIND_Q_PAGING)
    for (p = paging; *p; p++) if (strcmp(k, *p) == 0) return 1;
  if (flags & LBIND_Q_THROUGH)
    for (p = through; *p; p++) if (strcmp(k, *p) == 0) return 1;
  if ((flags & LBIND_Q_SCOPE) && strcmp(k, "scope") == 0) return 1;
  return 0;
}

static void check_opt_keys(lua_State *L, int opts, unsigned flags) {
  lua_pushnil(L);
  while (lua_next(L, opts)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                   : NULL;
    if (k && strcmp(k, "include") == 0 && !(flags & LBIND_Q_INCLUDE))
      luaL_error(L, "include is not supported here");
    if (!k || !(is_opt(k, flags) ||
                (strcmp(k, "include") == 0 && (flags & LBIND_Q_INCLUDE)))) {
      if (!(flags & LBIND_Q_KEYS))
        luaL_error(L, "unknown option '%s'", key_name(L, -2));
    }
    lua_pop(L, 1);
  }
}

/* Push opts[key], or else the key of the last scope that has it. */
static int get_opt(lua_State *L, int opts, int scopes, const char *key) {
  lua_Integer i;
  if (opts && lua_getfield(L, opts, key) != LUA_TNIL) return 1;
  if (opts) lua_pop(L, 1);
  if (scopes)
    for (i = (lua_Integer)lua_rawlen(L, scopes); i >= 1; i--) {
      lua_rawgeti(L, scopes, i);
      if (lua_type(L, -1) == LUA_TTABLE &&
          lua_getfield(L, -1, key) != LUA_TNIL) {
        lua_remove(L, -2);
        return 1;
      }
      lua_pop(L, lua_type(L, -1) == LUA_TTABLE ? 2 : 1);
    }
  lua_pushnil(L);
  return 0;
}

static const char *const *name_list(lua_State *L, int idx, lbind_arena *A,
                                    size_t *n, const char *what) {
  size_t i, len;
  const char **names;
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L, "%s must be a list of attribute names, got %s", what,
               luaL_typename(L, idx));
  len = lua_rawlen(L, idx);
  names = lbind_arena_array(L, A, (size_t)len, sizeof *names);
  for (i = 0; i < len; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "%s must be a list of attribute names (got a %s)", what,
                 luaL_typename(L, -1));
    names[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  *n = len;
  return names;
}

static int is_word(const char *s, const char *w) {
  for (; *s && *w; s++, w++) {
    char c = *s;
    if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    if (c != *w) return 0;
  }
  return *s == '\0' && *w == '\0';
}

static void order_item(lua_State *L, int idx, assoc_order *o) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    o->attr = lua_tostring(L, idx);
    return;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L, "order entries must be names or { name, direction }, "
               "got %s", luaL_typename(L, idx));
  lua_rawgeti(L, idx, 1);
  lua_rawgeti(L, idx, 2);
  if (lua_type(L, -2) != LUA_TSTRING)
    luaL_error(L, "order entries must start with an attribute name");
  o->attr = lua_tostring(L, -2);
  if (!lua_isnil(L, -1)) {
    const char *dir = lua_tostring(L, -1);
    if (dir && is_word(dir, "DESC")) o->desc = 1;
    else if (!dir || !is_word(dir, "ASC"))
      luaL_error(L, "order direction must be 'ASC' or 'DESC', got %s",
                 dir ? dir : luaL_typename(L, -1));
  }
  lua_pop(L, 2);
}

static void order_list(lua_State *L, int idx, lbind_arena *A,
                       assoc_query *q) {
  size_t i, len;
  assoc_order *o;
  if (lua_type(L, idx) == LUA_TSTRING) {
    o = lbind_arena_alloc(L, A, sizeof *o);
    order_item(L, idx, o);
    q->order = o;
    q->norder = 1;
    return;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L, "order must be a list, got %s", luaL_typename(L, idx));
  len = lua_rawlen(L, idx);
  o = lbind_arena_array(L, A, (size_t)len, sizeof *o);
  for (i = 0; i < len; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    order_item(L, lua_gettop(L), &o[i]);
    lua_pop(L, 1);
  }
  q->order = o;
  q->norder = len;
}

static int64_t count_opt(lua_State *L, int idx, const char *what) {
  int ok = 0;
  lua_Integer n = 0;
  /* a number only: "5" is a mistake, not a count */
  if (lua_type(L, idx) == LUA_TNUMBER) n = lua_tointegerx(L, idx, &ok);
  if (!ok || n < 0) {
    if (lua_type(L, idx) == LUA_TNUMBER)
      luaL_error(L, "%s must be a non-negative integer, got %s", what,
                 luaL_tolstring(L, idx, NULL));
    luaL_error(L, "%s must be a non-negative integer, got %s", what,
               luaL_typename(L, idx));
  }
  return (int64_t)n;
}

static void through_opts(lua_State *L, int idx, const assoc_model *through,
                         lbind_arena *A, assoc_query *q) {
  if (!through) luaL_error(L, "option 'through' is only for belongsToMany");
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L, "through must be a table, got %s", luaL_typename(L, idx));
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING ||
        strcmp(lua_tostring(L, -2), "where") != 0)
      luaL_error(L, "unknown option '%s' in through", key_name(L, -2));
    lua_pop(L, 1);
  }
  lua_getfield(L, idx, "where");
  q->through_where = lbind_where(L, -1, through, A);
  lua_pop(L, 1);
}

/* The scopes' wheres ANDed with opts.where. */
static const assoc_cond *merged_where(lua_State *L, int opts, int scopes,
                                      const assoc_model *m, lbind_arena *A) {
  const assoc_cond *w = NULL;
  lua_Integer i, n = scopes ? (lua_Integer)lua_rawlen(L, scopes) : 0;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, scopes, i);
    if (lua_type(L, -1) == LUA_TTABLE) {
      lua_getfield(L, -1, "where");
      w = lbind_cond_and(L, A, w, lbind_where(L, -1, m, A));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  if (opts) {
    lua_getfield(L, opts, "where");
    w = lbind_cond_and(L, A, w, lbind_where(L, -1, m, A));
    lua_pop(L, 1);
  }
  return w;
}

void lbind_query(lua_State *L, int opts, int scopes, const assoc_model *m,
                 const assoc_model *through, lbind_arena *A, assoc_query *q,
                 unsigned flags) {
  memset(q, 0, sizeof *q);
  if (opts) opts = lua_absindex(L, opts);
  if (scopes) scopes = lua_absindex(L, scopes);
  if (opts && lua_isnil(L, opts)) opts = 0;
  if (opts) check_opt_keys(L, opts, flags);
  q->where = merged_where(L, opts, scopes, m, A);
  if (flags & LBIND_Q_PAGING) {
    if (get_opt(L, opts, scopes, "attributes"))
      q->attributes = name_list(L, lua_gettop(L), A, &q->nattributes,
                                "attributes");
    if (get_opt(L, opts, scopes, "order"))
      order_list(L, lua_gettop(L), A, q);
    if (get_opt(L, opts, scopes, "limit"))
      q->limit = count_opt(L, -1, "limit");
    if (get_opt(L, opts, scopes, "offset"))
      q->offset = count_opt(L, -1, "offset");
    lua_pop(L, 4);
  }
  if ((flags & LBIND_Q_THROUGH) && opts) {
    if (lua_getfield(L, opts, "joinTableAttributes") != LUA_TNIL) {
      if (!through)
        luaL_error(L, "joinTableAttributes is only for belongsToMany");
      q->join_attributes = name_list(L, lua_gettop(L), A,
                                     &q->njoin_attributes,
                                     "joinTableAttributes");
      q->join_attributes_set = 1;
    }
    if (lua_getfield(L, opts, "through") != LUA_TNIL)
      through_opts(L, lua_gettop(L), through, A, q);
    lua_pop(L, 2);
  }
}
