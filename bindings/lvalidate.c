/*
** lvalidate.c: attribute validators, run in the binding before any write
** (allowNull, notEmpty, len, min, max, isIn, isEmail, isInt, is, and
** custom functions).  Failures are collected as { path, message,
** validator } entries and raised together as one ValidationError.
*/
#include <stdlib.h>
#include <string.h>

#include "lbind.h"

static const char *const builtins[] = {
  "notEmpty", "len", "min", "max", "isIn", "notIn", "isEmail", "isInt",
  "is", NULL
};

static int is_builtin(const char *k) {
  const char *const *p;
  for (p = builtins; *p; p++)
    if (strcmp(k, *p) == 0) return 1;
  return 0;
}

void lbind_validate_check_spec(lua_State *L, int idx, const char *attr) {
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L, "validate of attribute '%s' must be a table, got %s", attr,
               luaL_typename(L, idx));
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                   : NULL;
    if (!k || (!is_builtin(k) && !lua_isfunction(L, -1)))
      luaL_error(L, "unknown validator '%s' of attribute '%s'",
                 k ? k : luaL_typename(L, -2), attr);
    lua_pop(L, 1);
  }
}

/* ---------------------------------------------------------------- checks */

static size_t utf8_len(const char *s, size_t n) {
  size_t i, count = 0;
  for (i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) count++;
  return count;
}

static int blank(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (!strchr(" \t\r\n\f\v", s[i]) || s[i] == '\0') return 0;
  return 1;
}

static int email(const char *s, size_t n) {
  const char *at = memchr(s, '@', n), *dot;
  size_t i, local, dom;
  if (!at) return 0;
  local = (size_t)(at - s);
  dom = n - local - 1;
  if (local == 0 || dom < 3 || memchr(at + 1, '@', dom)) return 0;
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) return 0;
  dot = memchr(at + 1, '.', dom);
  return dot && dot != at + 1 && at[dom] != '.' && strstr(at, "..") == NULL;
}

static int integer_text(const char *s, size_t n) {
  size_t i = 0;
  if (n > 0 && (s[0] == '+' || s[0] == '-')) i = 1;
  if (i == n) return 0;
  for (; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

/* Is the value at v among the list at list (compared as strings)? */
static int in_list(lua_State *L, int v, int list) {
  int top = lua_gettop(L), found = 0;
  size_t i, n, vn;
  const char *vs = luaL_tolstring(L, v, &vn);
  n = lua_rawlen(L, list);
  if (n == 1) {
    if (lua_rawgeti(L, list, 1) == LUA_TTABLE) {  /* isIn = { { ... } } */
      list = lua_gettop(L);
      n = lua_rawlen(L, list);
    } else {
      lua_pop(L, 1);
    }
  }
  for (i = 1; i <= n && !found; i++) {
    size_t en;
    const char *es;
    lua_rawgeti(L, list, (lua_Integer)i);
    es = luaL_tolstring(L, -1, &en);
    found = en == vn && memcmp(es, vs, vn) == 0;
    lua_pop(L, 2);
  }
  lua_settop(L, top);
  return found;
}

static int string_find(lua_State *L, int v, int pattern, int *ok) {
  int found;
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "string");
  lua_getfield(L, -1, "find");
  lua_remove(L, -2);
  lua_remove(L, -2);                            /* find */
  luaL_tolstring(L, v, NULL);
  lua_pushvalue(L, pattern);
  *ok = lua_pcall(L, 2, 1, 0) == LUA_OK;
  found = *ok && !lua_isnil(L, -1);
  lua_pop(L, 1);
  return found;
}

/* Run built-in validator k with argument at arg on the value at v:
** returns 1 when it passes. */
static int run_builtin(lua_State *L, const char *k, int arg, int v) {
  size_t n;
  const char *s;
  if (strcmp(k, "notEmpty") == 0) {
    if (lua_type(L, v) != LUA_TSTRING) return 1;
    s = lua_tolstring(L, v, &n);
    return !blank(s, n);
  }
  if (strcmp(k, "len") == 0) {
    lua_Integer lo = 0, hi = -1;
    s = luaL_tolstring(L, v, &n);
    n = utf8_len(s, n);
    lua_pop(L, 1);
    if (lua_type(L, arg) == LUA_TTABLE) {
      lua_rawgeti(L, arg, 1);
      lua_rawgeti(L, arg, 2);
      lo = luaL_optinteger(L, -2, 0);
      hi = luaL_optinteger(L, -1, -1);
      lua_pop(L, 2);
    } else {
      lo = luaL_checkinteger(L, arg);
    }
    return (lua_Integer)n >= lo && (hi < 0 || (lua_Integer)n <= hi);
  }
  if (strcmp(k, "min") == 0 || strcmp(k, "max") == 0) {
    int isnum;
    lua_Number x = lua_tonumberx(L, v, &isnum);
    lua_Number bound = luaL_checknumber(L, arg);
    if (!isnum) return 0;
    return k[1] == 'i' ? x >= bound : x <= bound;
  }
  if (strcmp(k, "isIn") == 0 || strcmp(k, "notIn") == 0) {
    int in;
    luaL_checktype(L, arg, LUA_TTABLE);
    in = in_list(L, v, arg);
    return k[0] == 'i' ? in : !in;
  }
  if (strcmp(k, "isEmail") == 0) {
    if (lua_type(L, v) != LUA_TSTRING) return 0;
    s = lua_tolstring(L, v, &n);
    return email(s, n);
  }
  if (strcmp(k, "isInt") == 0) {
    if (lua_isinteger(L, v)) return 1;
    if (lua_type(L, v) != LUA_TSTRING) return 0;
    s = lua_tolstring(L, v, &n);
    return integer_text(s, n);
  }
  if (strcmp(k, "is") == 0) {
    int ok, found;
    if (lua_type(L, arg) == LUA_TTABLE) {
      lua_rawgeti(L, arg, 1);
      lua_replace(L, arg);
    }
    found = string_find(L, v, arg, &ok);
    if (!ok) luaL_error(L, "validator 'is' has a bad pattern");
    return found;
  }
  return 1;
}

/* ------------------------------------------------------------- entries */

static void add_entry(lua_State *L, int errs, const char *path,
                      const char *message, const char *validator, int v) {
  lua_createtable(L, 0, 4);
  lua_pushstring(L, path);
  lua_setfield(L, -2, "path");
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
  lua_pushstring(L, validator);
  lua_setfield(L, -2, "validator");
  if (v) {
    lua_pushvalue(L, v);
    lua_setfield(L, -2, "value");
  }
  lua_rawseti(L, errs, (lua_Integer)lua_rawlen(L, errs) + 1);
}

/* The message of a custom validator's error, without "file:line: ". */
static const char *error_message(lua_State *L, int idx) {
  const char *s = luaL_tolstring(L, idx, NULL), *p = s;
  while (*p && *p != ':' && *p != '\n') p++;
  if (*p == ':' && p[1] >= '0' && p[1] <= '9') {
    const char *q = p + 1;
    while (*q >= '0' && *q <= '9') q++;
    if (q[0] == ':' && q[1] == ' ') return q + 2;
  }
  return s;
}

/* Validator k (value at spec top) of attribute name on the value at v. */
static void run_one(lua_State *L, int errs, const char *name, const char *k,
                    int v, int inst) {
  int arg = lua_gettop(L), msg = 0, ok;
  if (lua_isfunction(L, arg)) {
    lua_pushvalue(L, arg);
    lua_pushvalue(L, v);
    if (inst) lua_pushvalue(L, inst);
    else lua_pushnil(L);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK)
      add_entry(L, errs, name, error_message(L, -1), k, v);
    return;                         /* the caller resets the stack */
  }
  if (lua_isboolean(L, arg) && !lua_toboolean(L, arg)) return;
  if (lua_type(L, arg) == LUA_TTABLE) {
    lua_getfield(L, arg, "msg");
    if (lua_type(L, -1) == LUA_TSTRING) msg = lua_gettop(L);
    else lua_pop(L, 1);
    if (lua_getfield(L, arg, "args") != LUA_TNIL || msg) {
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
      }
      arg = lua_gettop(L);
    } else {
      lua_pop(L, 1);
    }
  }
  ok = run_builtin(L, k, arg, v);
  if (!ok) {
    if (msg) add_entry(L, errs, name, lua_tostring(L, msg), k, v);
    else {
      lua_pushfstring(L, "Validation %s on %s failed", k, name);
      add_entry(L, errs, name, lua_tostring(L, -1), k, v);
      lua_pop(L, 1);
    }
  }
}

/* Every validator of the table at spec, in name order, on the value
** (only the custom functions when funcs_only: a NULL value). */
static void run_validators(lua_State *L, int errs, const char *name,
                           int spec, int v, int inst, int funcs_only) {
  int keys, top = lua_gettop(L);
  lua_Integer i, j, n = 0;
  lua_newtable(L);
  keys = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, spec)) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, keys, ++n);
  }
  for (i = 2; i <= n; i++)                      /* sort the names */
    for (j = i; j > 1; j--) {
      lua_rawgeti(L, keys, j);
      lua_rawgeti(L, keys, j - 1);
      if (!lua_compare(L, -2, -1, LUA_OPLT)) {
        lua_pop(L, 2);
        break;
      }
      lua_rawseti(L, keys, j);
      lua_rawseti(L, keys, j - 1);
    }
  for (i = 1; i <= n; i++) {
    const char *k;
    lua_rawgeti(L, keys, i);
    k = lua_tostring(L, -1);
    lua_rawget(L, spec);
    if (!funcs_only || lua_isfunction(L, -1))
      run_one(L, errs, name, k, v, inst);
    lua_settop(L, keys);
  }
  lua_settop(L, top);
}

static int skipped(const char *name, const char *const *skip) {
  for (; skip && *skip; skip++)
    if (strcmp(name, *skip) == 0) return 1;
  return 0;
}

void lbind_validate(lua_State *L, int model_idx, int vidx, int inst_idx,
                    int errs, unsigned flags, int only_idx,
                    const char *const *skip) {
  lbind_model *mo;
  const assoc_model *m;
  size_t i, n;
  int vtab, top = lua_gettop(L);
  model_idx = lua_absindex(L, model_idx);
  vidx = lua_absindex(L, vidx);
  errs = lua_absindex(L, errs);
  if (inst_idx) inst_idx = lua_absindex(L, inst_idx);
  if (only_idx) only_idx = lua_absindex(L, only_idx);
  mo = lua_touserdata(L, model_idx);
  m = mo->m;
  n = assoc_model_attr_count(m);
  lbind_model_field(L, model_idx, "validators");
  vtab = lua_gettop(L);
  for (i = 0; i < n; i++) {
    const assoc_attr_def *d = assoc_model_attr(m, i);
    int v, present, isnull;
    if (skipped(d->name, skip)) continue;
    if (only_idx && lua_getfield(L, only_idx, d->name) == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    lua_getfield(L, vidx, d->name);
    v = lua_gettop(L);
    present = !lua_isnil(L, v);
    isnull = !present || lbind_is_null(L, v);
    if (!present && !(flags & LBIND_V_FULL)) {
      lua_settop(L, vtab);
      continue;
    }
    if (isnull) {
      int filled = (int)i == assoc_model_created_at(m) ||
                   (int)i == assoc_model_updated_at(m) ||
                   (d->auto_increment && d->primary_key) ||
                   (!present && d->default_value);
      if (d->not_null && !filled) {
        lua_pushfstring(L, "%s.%s cannot be null", assoc_model_name(m),
                        d->name);
        add_entry(L, errs, d->name, lua_tostring(L, -1), "notNull", 0);
      } else if (!d->not_null &&
                 lua_getfield(L, vtab, d->name) == LUA_TTABLE) {
        /* Sequelize: a nullable NULL skips the built-in validators but
        ** still runs the custom ones (with nil) */
        int spec = lua_gettop(L);
        const char *name;
        lua_pushnil(L);
        name = lua_pushstring(L, d->name);  /* a validator may close the db */
        run_validators(L, errs, name, spec, spec + 1, inst_idx, 1);
      }
    } else if (lua_getfield(L, vtab, d->name) == LUA_TTABLE) {
      int spec = lua_gettop(L);
      const char *name = lua_pushstring(L, d->name);
      run_validators(L, errs, name, spec, v, inst_idx, 0);
    }
    lua_settop(L, vtab);
    if (!mo->owner->db) break;
  }
  lua_settop(L, top);
  /* a custom validator may have closed the database under us */
  lbind_owner_check(L, mo->owner);
}

void lbind_validate_raise(lua_State *L, int errs) {
  lua_Integer i, n;
  luaL_Buffer b;
  errs = lua_absindex(L, errs);
  n = (lua_Integer)lua_rawlen(L, errs);
  if (n == 0) return;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "Validation error: ");
  for (i = 1; i <= n; i++) {
    if (i > 1) luaL_addstring(&b, "; ");
    lua_rawgeti(L, errs, i);
    lua_getfield(L, -1, "message");
    lua_remove(L, -2);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lbind_push_error(L, "ValidationError", lua_tostring(L, -1), NULL);
  lua_pushvalue(L, errs);
  lua_setfield(L, -2, "errors");
  lua_error(L);
}
