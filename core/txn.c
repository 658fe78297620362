/*
** txn.c: transactions as a stack on the one connection: the outermost is
** BEGIN/COMMIT, inner ones are savepoints.  A handle knows it is finished
** when its level's serial no longer matches, so rolling back an outer
** transaction finishes every inner handle too.
*/
#include <stdio.h>
#include <string.h>

#include "dialect.h"

#define MAX_DEPTH 64

struct assoc_txn {
  assoc_db *db;
  int level;                 /* 1 = outermost */
  uint64_t serial;
  int finished;
};

static int level_sql(assoc_db *db, int level, const char *what) {
  char sql[64];
  int undo = strcmp(what, "ROLLBACK") == 0;
  if (level == 1)
    return undo ? assoc__exec_rollback(db, what)
                : assoc__exec_simple(db, what);
  if (strcmp(what, "BEGIN") == 0)
    snprintf(sql, sizeof sql, "SAVEPOINT assoc_sp_%d", level);
  else if (strcmp(what, "COMMIT") == 0)
    snprintf(sql, sizeof sql, "RELEASE SAVEPOINT assoc_sp_%d", level);
  else
    snprintf(sql, sizeof sql, "ROLLBACK TO SAVEPOINT assoc_sp_%d", level);
  return undo ? assoc__exec_rollback(db, sql) : assoc__exec_simple(db, sql);
}

static int push_level(assoc_db *db, int atomic) {
  int rc;
  if (db->depth >= MAX_DEPTH)
    return assoc__error(db, ASSOC_TRANSACTION,
                        "transactions nested deeper than %d", MAX_DEPTH);
  rc = level_sql(db, db->depth + 1, "BEGIN");
  if (rc) return rc;
  db->depth++;
  db->level_serial[db->depth] = ++db->txn_serial;
  db->level_atomic[db->depth] = (unsigned char)atomic;
  return ASSOC_OK;
}

/* Roll back one level: ROLLBACK, or ROLLBACK TO and RELEASE a savepoint.
** The first failure wins; the caller's error, if any, is kept. */
static int undo_level(assoc_db *db, int level) {
  int code = db->errcode, rc;
  char *msg = db->errmsg, *errsql = db->errsql;
  db->errmsg = NULL;
  db->errsql = NULL;
  rc = level_sql(db, level, "ROLLBACK");
  if (!rc && level > 1) {
    char sql[64];
    snprintf(sql, sizeof sql, "RELEASE SAVEPOINT assoc_sp_%d", level);
    rc = assoc__exec_rollback(db, sql);
  }
  if (code != ASSOC_OK) {
    assoc__free(db->errmsg);
    assoc__free(db->errsql);
    db->errcode = code;
    db->errmsg = msg;
    db->errsql = errsql;
  } else {
    assoc__free(msg);
    assoc__free(errsql);
  }
  return rc;
}

/* Finish the innermost level.  A rollback keeps the error that caused it. */
static int pop_level(assoc_db *db, int commit) {
  int level = db->depth, rc;
  if (db->broken || !db->open) {
    db->depth = 0;
    db->broken = 0;
    return assoc__error(db, ASSOC_CONNECTION,
                        "the transaction's connection was lost; it was "
                        "rolled back by the server");
  }
  if (commit) {
    rc = level_sql(db, level, "COMMIT");
    /* A failed COMMIT or RELEASE (a deferred constraint, a refusing
    ** logger) must not leave the level's work half-kept: undo it. */
    if (rc) undo_level(db, level);
  } else {
    rc = undo_level(db, level);
  }
  db->depth = level - 1;
  if (db->broken) {
    db->depth = 0;
    db->broken = 0;
  }
  return rc;
}

int assoc_txn_begin(assoc_db *db, assoc_txn **out) {
  assoc_txn *t;
  int rc;
  *out = NULL;
  rc = assoc__check_open(db);
  if (rc) return rc;
  t = assoc__malloc(sizeof *t);
  if (!t) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  rc = push_level(db, 0);
  if (rc) {
    assoc__free(t);
    return rc;
  }
  t->db = db;
  t->level = db->depth;
  t->serial = db->level_serial[db->depth];
  t->finished = 0;
  *out = t;
  return ASSOC_OK;
}

int assoc_txn_is_open(const assoc_txn *t) {
  return t && !t->finished && t->db->open && t->level <= t->db->depth &&
         t->db->level_serial[t->level] == t->serial;
}

static int check_txn(assoc_txn *t, const char *verb) {
  if (!t) return ASSOC_MISUSE;
  if (!assoc_txn_is_open(t))
    return assoc__error(t->db, ASSOC_TRANSACTION,
                        "cannot %s: the transaction is finished", verb);
  return ASSOC_OK;
}

int assoc_txn_commit(assoc_txn *t) {
  int rc = check_txn(t, "commit");
  if (rc) return rc;
  if (t->level != t->db->depth)
    return assoc__error(t->db, ASSOC_TRANSACTION,
                        "cannot commit: a nested transaction is still open");
  t->finished = 1;
  return pop_level(t->db, 1);
}

int assoc_txn_rollback(assoc_txn *t) {
  int rc = check_txn(t, "roll back");
  if (rc) return rc;
  /* Rolling back an outer level rolls back everything inside it. */
  while (t->db->depth > t->level) {
    rc = pop_level(t->db, 0);
    if (rc) break;
  }
  t->finished = 1;
  if (t->db->depth < t->level) return rc;
  return pop_level(t->db, 0);
}

assoc_db *assoc_txn_db(const assoc_txn *t) { return t ? t->db : NULL; }

void assoc_txn_free(assoc_txn *t) {
  if (!t) return;
  if (assoc_txn_is_open(t)) assoc_txn_rollback(t);
  assoc__free(t);
}

int assoc_db_txn_depth(const assoc_db *db) { return db ? db->depth : 0; }

/* ------------------------------------------------- atomic multi-statement */

int assoc__atomic_begin(assoc_db *db) {
  int rc = assoc__check_open(db);
  if (rc) return rc;
  return push_level(db, 1);
}

int assoc__atomic_end(assoc_db *db, int rc) {
  int code, end;
  char *msg, *sql;
  if (rc == ASSOC_OK) {
    end = pop_level(db, 1);
    return end;
  }
  /* Keep the failure that made us roll back, not the rollback's result. */
  code = db->errcode;
  msg = db->errmsg;
  sql = db->errsql;
  db->errmsg = NULL;
  db->errsql = NULL;
  pop_level(db, 0);
  assoc__free(db->errmsg);
  assoc__free(db->errsql);
  db->errcode = code;
  db->errmsg = msg;
  db->errsql = sql;
  return rc;
}
