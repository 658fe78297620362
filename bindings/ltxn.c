/*
** ltxn.c: assoc.Transaction objects and db:transaction.  With a function
** it commits on return and rolls back (re-raising the same error) on
** failure; without one it returns the object, which rolls back when closed
** or collected while open.  Nesting is the core's (savepoints).
*/
#include <stdlib.h>

#include "lbind.h"

static void txn_link(lbind_db *o, lbind_txn *x) {
  x->prev = NULL;
  x->next = o->txns;
  if (o->txns) o->txns->prev = x;
  o->txns = x;
  x->linked = 1;
}

static void txn_unlink(lbind_txn *x) {
  if (!x->linked) return;
  if (x->prev) x->prev->next = x->next;
  else x->owner->txns = x->next;
  if (x->next) x->next->prev = x->prev;
  x->prev = x->next = NULL;
  x->linked = 0;
}

/* Free the handle now (rolling back one still open). */
static void txn_release(lbind_txn *x) {
  txn_unlink(x);
  if (x->t) assoc_txn_free(x->t);
  x->t = NULL;
}

void lbind_txn_close_all(lbind_db *o) {
  while (o->txns) {
    lbind_txn *x = o->txns;
    txn_unlink(x);
    if (x->t) assoc_txn_free(x->t);
    x->t = NULL;
  }
}

/* Push a closed Transaction object whose user value is the db at db_idx. */
static lbind_txn *txn_new(lua_State *L, int db_idx, lbind_db *o) {
  lbind_txn *x = lua_newuserdatauv(L, sizeof *x, 1);
  x->t = NULL;
  x->owner = o;
  x->prev = x->next = NULL;
  x->linked = 0;
  luaL_setmetatable(L, LBIND_TXN_MT);
  lua_pushvalue(L, db_idx);
  lua_setiuservalue(L, -2, 1);
  txn_link(o, x);
  return x;
}

int lbind_db_transaction(lua_State *L) {
  lbind_db *o = lbind_check_db(L, 1);
  int has_fn = !lua_isnoneornil(L, 2), status, rc;
  lbind_txn *x;
  if (has_fn) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  x = txn_new(L, 1, o);                     /* db fn t */
  rc = assoc_txn_begin(o->db, &x->t);
  if (rc != ASSOC_OK || o->has_pending) {
    lbind_push_core_error(L, o, rc);        /* a logger's error wins */
    txn_release(x);
    lbind_clear_pending(L, o);
    return lua_error(L);
  }
  if (!has_fn) return 1;
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);                      /* db fn t fn t */
  status = lua_pcall(L, 1, LUA_MULTRET, 0); /* db fn t results... */
  o->L = L;
  if (status != LUA_OK) {
    if (o->db && x->t && assoc_txn_is_open(x->t)) {
      assoc_txn_rollback(x->t);
      lbind_clear_pending(L, o);
    }
    txn_release(x);
    return lua_error(L);
  }
  if (o->db && x->t && assoc_txn_is_open(x->t)) {
    rc = assoc_txn_commit(x->t);
    if (rc != ASSOC_OK) {
      lbind_push_core_error(L, o, rc);
      txn_release(x);
      return lua_error(L);
    }
  }
  txn_release(x);
  lbind_check_rc(L, o, ASSOC_OK);
  return lua_gettop(L) - 3;
}

/* The transaction at idx, open, of a usable database. */
static lbind_txn *check_txn(lua_State *L, int idx) {
  lbind_txn *x = luaL_checkudata(L, idx, LBIND_TXN_MT);
  lbind_owner_check(L, x->owner);
  if (!x->t || !assoc_txn_is_open(x->t))
    lbind_error(L, "TransactionError", "transaction is finished");
  return x;
}

static int txn_finish(lua_State *L, int commit) {
  lbind_txn *x = check_txn(L, 1);
  int rc = commit ? assoc_txn_commit(x->t) : assoc_txn_rollback(x->t);
  if (rc != ASSOC_OK) {
    lbind_push_core_error(L, x->owner, rc);
    if (!assoc_txn_is_open(x->t)) txn_release(x);
    return lua_error(L);
  }
  txn_release(x);
  lbind_check_rc(L, x->owner, ASSOC_OK);
  return 0;
}

static int txn_commit(lua_State *L) { return txn_finish(L, 1); }
static int txn_rollback(lua_State *L) { return txn_finish(L, 0); }

/* __close: a <close> variable leaving scope, normally or by an error,
** rolls back a transaction still open. */
static int txn_close(lua_State *L) {
  lbind_txn *x = luaL_checkudata(L, 1, LBIND_TXN_MT);
  lbind_db *o = x->owner;
  if (x->t && o->db && !o->in_log) {
    o->L = L;
    if (assoc_txn_is_open(x->t)) assoc_txn_rollback(x->t);
    lbind_clear_pending(L, o);
  }
  txn_release(x);
  return 0;
}

/* __gc may run in the middle of a core call (any allocation can collect),
** so an open handle is only queued; the next method call rolls it back. */
static int txn_gc(lua_State *L) {
  lbind_txn *x = luaL_checkudata(L, 1, LBIND_TXN_MT);
  txn_unlink(x);
  if (x->t && x->owner->db && assoc_txn_is_open(x->t)) {
    lbind_orphan *p = malloc(sizeof *p);
    if (p) {
      p->t = x->t;
      p->next = x->owner->orphans;
      x->owner->orphans = p;
      x->t = NULL;
      return 0;
    }
  }
  if (x->t) assoc_txn_free(x->t);
  x->t = NULL;
  return 0;
}

static int txn_is_open(lua_State *L) {
  lbind_txn *x = luaL_checkudata(L, 1, LBIND_TXN_MT);
  lua_pushboolean(L, x->t && x->owner->db && assoc_txn_is_open(x->t));
  return 1;
}

static int txn_tostring(lua_State *L) {
  lbind_txn *x = luaL_checkudata(L, 1, LBIND_TXN_MT);
  int open = x->t && x->owner->db && assoc_txn_is_open(x->t);
  lua_pushfstring(L, "assoc.Transaction (%s)", open ? "open" : "finished");
  return 1;
}

void lbind_check_txn_opt(lua_State *L, int idx, lbind_db *o) {
  lbind_txn *x;
  if (!idx || lua_type(L, idx) != LUA_TTABLE) return;
  if (lua_getfield(L, idx, "transaction") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  x = luaL_testudata(L, -1, LBIND_TXN_MT);
  if (!x)
    luaL_error(L, "option 'transaction' must be an assoc.Transaction, "
               "got %s", luaL_typename(L, -1));
  if (x->owner != o)
    lbind_error(L, "TransactionError",
                "transaction belongs to another database");
  if (!x->t || !o->db || !assoc_txn_is_open(x->t))
    lbind_error(L, "TransactionError", "transaction is finished");
  lua_pop(L, 1);
}

static const luaL_Reg txn_methods[] = {
  {"commit", txn_commit},
  {"rollback", txn_rollback},
  {"isOpen", txn_is_open},
  {NULL, NULL}
};

static const luaL_Reg txn_meta[] = {
  {"__close", txn_close},
  {"__gc", txn_gc},
  {"__tostring", txn_tostring},
  {NULL, NULL}
};

void lbind_open_txn(lua_State *L) {
  luaL_newmetatable(L, LBIND_TXN_MT);
  luaL_setfuncs(L, txn_meta, 0);
  luaL_newlib(L, txn_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void lbind_atomic(lua_State *L, lbind_db *o, lua_CFunction f, int nargs,
                  int nresults) {
  assoc_txn *t = NULL;
  int status, rc;
  luaL_checkstack(L, 2, NULL);
  lua_pushcfunction(L, f);
  lua_insert(L, -(nargs + 1));              /* f args */
  /* nothing below may raise while t is held, except inside the pcall */
  rc = assoc_txn_begin(o->db, &t);
  if (rc != ASSOC_OK || o->has_pending) {
    lbind_push_core_error(L, o, rc);        /* a logger's error wins */
    if (t) {
      if (assoc_txn_is_open(t)) assoc_txn_rollback(t);
      lbind_clear_pending(L, o);
      assoc_txn_free(t);
    }
    lua_error(L);
  }
  status = lua_pcall(L, nargs, nresults, 0);
  o->L = L;
  if (status != LUA_OK) {
    if (assoc_txn_is_open(t)) assoc_txn_rollback(t);
    lbind_clear_pending(L, o);
    assoc_txn_free(t);
    lua_error(L);
  }
  rc = assoc_txn_commit(t);
  if (rc != ASSOC_OK) {
    lbind_push_core_error(L, o, rc);
    assoc_txn_free(t);
    lua_error(L);
  }
  assoc_txn_free(t);
  lbind_check_rc(L, o, ASSOC_OK);
}
