/*
** stmt_cache.c: runs statements.  Each distinct SQL text is prepared once
** and its handle reused (an open-addressing table keyed by the text), so a
** hot path pays only bind + step.  Also where logging and lost connections
** are handled, in one place for every statement the core sends.
*/
#include <string.h>

#include "dialect.h"

/* Bounded so that ad-hoc statement shapes cannot grow memory forever. */
#define CACHE_MAX 1024

/* Eight bytes a step (every lookup hashes the whole text, often some
** hundred bytes): xor-multiply, then a final mix. */
static uint64_t hash_text(const char *s) {
  size_t n = strlen(s), i;
  uint64_t h = 1469598103934665603ULL ^ n, w;
  for (i = 0; i + 8 <= n; i += 8) {
    memcpy(&w, s + i, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
  }
  for (; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  h ^= h >> 32;
  return h;
}

void assoc__cache_clear(assoc_db *db) {
  size_t i;
  assoc__rows_reset(&db->rows);
  for (i = 0; i < db->capcache; i++) {
    assoc_stmt_entry *e = &db->cache[i];
    if (!e->sql) continue;
    if (db->conn) db->dialect->finalize(db, e->stmt);
    assoc__free(e->sql);
    memset(e, 0, sizeof *e);
  }
  db->ncache = 0;
}

static assoc_stmt_entry *cache_find(assoc_db *db, const char *sql,
                                    uint64_t h) {
  size_t i, mask;
  if (!db->capcache) return NULL;
  mask = db->capcache - 1;
  for (i = h & mask;; i = (i + 1) & mask) {
    assoc_stmt_entry *e = &db->cache[i];
    if (!e->sql) return e;
    if (e->hash == h && strcmp(e->sql, sql) == 0) return e;
  }
}

static int cache_grow(assoc_db *db) {
  size_t cap = db->capcache ? db->capcache * 2 : 64, i;
  assoc_stmt_entry *old = db->cache, *fresh;
  size_t oldcap = db->capcache;
  fresh = assoc__malloc(cap * sizeof *fresh);
  if (!fresh) return ASSOC_NOMEM;
  memset(fresh, 0, cap * sizeof *fresh);
  db->cache = fresh;
  db->capcache = cap;
  for (i = 0; i < oldcap; i++) {
    if (old[i].sql) *cache_find(db, old[i].sql, old[i].hash) = old[i];
  }
  assoc__free(old);
  return ASSOC_OK;
}

/* The prepared statement for sql, preparing and caching it on a miss. */
static int statement_for(assoc_db *db, const char *sql, size_t nparams,
                         void **stmt) {
  uint64_t h = hash_text(sql);
  assoc_stmt_entry *e = cache_find(db, sql, h);
  char *copy;
  int rc;
  if (e && e->sql) {
    *stmt = e->stmt;
    return ASSOC_OK;
  }
  if (db->ncache >= CACHE_MAX) assoc__cache_clear(db);
  if ((db->ncache + 1) * 2 > db->capcache) {
    if (cache_grow(db)) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  }
  copy = assoc__strdup(sql);
  if (!copy) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  rc = db->dialect->prepare(db, sql, nparams, stmt);
  if (rc) {
    assoc__free(copy);
    return rc;
  }
  e = cache_find(db, sql, h);
  e->sql = copy;
  e->hash = h;
  e->stmt = *stmt;
  db->ncache++;
  return ASSOC_OK;
}

/* A dead connection: outside a transaction, try once to reconnect; inside
** one, the transaction is gone and says so. */
static int ensure_connection(assoc_db *db) {
  if (db->dialect->alive(db)) return ASSOC_OK;
  if (db->depth > 0) {
    db->broken = 1;
    return assoc__error(db, ASSOC_CONNECTION,
                        "connection lost inside a transaction");
  }
  assoc__cache_clear(db);
  return db->dialect->reconnect(db);
}

static int after_failure(assoc_db *db, int rc, const char *sql) {
  assoc__error_sql(db, sql);
  if (rc == ASSOC_CONNECTION || !db->dialect->alive(db)) {
    /* Prepared statements died with the session. */
    if (db->depth > 0) db->broken = 1;
    assoc__cache_clear(db);
    if (rc != ASSOC_CONNECTION) {
      char *msg = assoc__strdup(db->errmsg);
      assoc__error(db, ASSOC_CONNECTION, "connection lost: %s",
                   msg ? msg : "");
      assoc__error_sql(db, sql);
      assoc__free(msg);
      rc = ASSOC_CONNECTION;
    }
  }
  return rc;
}

static int refused(assoc_db *db, const char *sql) {
  assoc__error(db, ASSOC_ERROR, "the logging callback failed; the "
               "statement was not sent");
  assoc__error_sql(db, sql);
  return ASSOC_ERROR;
}

int assoc__exec(assoc_db *db, const char *sql, const assoc_value *params,
                size_t nparams, assoc_rows **out) {
  void *stmt;
  int rc = assoc__check_open(db);
  if (rc) return rc;
  if (db->broken)
    return assoc__error(db, ASSOC_CONNECTION,
                        "connection lost inside a transaction");
  rc = ensure_connection(db);
  if (rc) return rc;
  assoc__rows_reset(&db->rows);
  if (db->log && db->log(db->log_udata, sql, params, nparams))
    return refused(db, sql);
  rc = statement_for(db, sql, nparams, &stmt);
  if (rc) return after_failure(db, rc, sql);
  rc = db->dialect->execute(db, stmt, params, nparams, &db->rows);
  if (rc) return after_failure(db, rc, sql);
  if (out) *out = &db->rows;
  return ASSOC_OK;
}

static int exec_simple(assoc_db *db, const char *sql, int refusable) {
  int rc = assoc__check_open(db);
  if (rc) return rc;
  if (db->broken)
    return assoc__error(db, ASSOC_CONNECTION,
                        "connection lost inside a transaction");
  rc = ensure_connection(db);
  if (rc) return rc;
  assoc__rows_reset(&db->rows);
  if (db->log && db->log(db->log_udata, sql, NULL, 0) && refusable)
    return refused(db, sql);
  rc = db->dialect->exec_simple(db, sql);
  if (rc) return after_failure(db, rc, sql);
  return ASSOC_OK;
}

int assoc__exec_simple(assoc_db *db, const char *sql) {
  return exec_simple(db, sql, 1);
}

int assoc__exec_rollback(assoc_db *db, const char *sql) {
  return exec_simple(db, sql, 0);
}
