/*
** db.c: database handles: opening by URL, wrapping a host's connection,
** closing (idempotent; the handle outlives the connection so that models
** and Lua finalizers can run in any order), and raw queries.
*/
#include <string.h>

#include "dialect.h"

void assoc__valerrs_free(assoc_db *db);
void assoc__models_free(assoc_db *db);

static int db_new(const assoc_dialect *d, const assoc_open_opts *opts,
                  assoc_db **out) {
  assoc_db *db = assoc__malloc(sizeof *db);
  *out = db;
  if (!db) return ASSOC_NOMEM;
  memset(db, 0, sizeof *db);
  db->dialect = d;
  db->busy_timeout_ms = 5000;
  if (opts) {
    if (opts->busy_timeout_ms > 0) db->busy_timeout_ms = opts->busy_timeout_ms;
    db->log = opts->log;
    db->log_udata = opts->log_udata;
  }
  db->rows.db = db;
  assoc__buf_init(&db->sqlbuf);
  assoc__params_init(&db->params);
  return ASSOC_OK;
}

static const assoc_dialect *pg_dialect(void) {
#ifdef ASSOC_WITH_PG
  return &assoc__dialect_pg;
#else
  return NULL;
#endif
}

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

int assoc_db_open(const char *url, const assoc_open_opts *opts,
                  assoc_db **out) {
  const assoc_dialect *d;
  const char *target;
  assoc_db *db;
  int rc;
  if (!url) url = "";
  if (starts_with(url, "sqlite:")) {
    d = &assoc__dialect_sqlite;
    target = url + strlen("sqlite:");
    if (starts_with(target, "//")) target += 2;
  } else if (starts_with(url, "postgres://") ||
             starts_with(url, "postgresql://")) {
    d = pg_dialect();
    target = url;
  } else if (starts_with(url, "postgres:")) {
    d = pg_dialect();
    target = url + strlen("postgres:");
  } else {
    d = &assoc__dialect_sqlite;
    rc = db_new(d, opts, out);
    if (rc) return rc;
    return assoc__error(*out, ASSOC_MISUSE,
                        "unsupported database URL '%s' (expected sqlite:, "
                        "postgres:// or postgres:<conninfo>)", url);
  }
  if (!d) {
    rc = db_new(&assoc__dialect_sqlite, opts, out);
    if (rc) return rc;
    return assoc__error(*out, ASSOC_MISUSE,
                        "assoc was built without PostgreSQL support");
  }
  rc = db_new(d, opts, out);
  if (rc) return rc;
  db = *out;
  if (*target == '\0')
    return assoc__error(db, ASSOC_MISUSE, "database URL '%s' names no "
                        "database", url);
  db->url_rest = assoc__strdup(target);
  if (!db->url_rest) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  rc = d->connect(db, target);
  if (rc) return rc;
  db->owns_conn = 1;
  db->open = 1;
  rc = d->setup(db);
  if (rc) {
    int keep = rc;
    char *msg = assoc__strdup(db->errmsg);
    assoc_db_close(db);
    assoc__error(db, keep, "%s", msg ? msg : "cannot set up the connection");
    assoc__free(msg);
    return keep;
  }
  return ASSOC_OK;
}

static int db_wrap(const assoc_dialect *d, void *conn,
                   const assoc_open_opts *opts, assoc_db **out) {
  int rc = db_new(d, opts, out);
  if (rc) return rc;
  if (!d) return assoc__error(*out, ASSOC_MISUSE, "no such driver");
  if (!conn) return assoc__error(*out, ASSOC_MISUSE, "connection is NULL");
  (*out)->conn = conn;
  (*out)->owns_conn = 0;
  (*out)->open = 1;
  return d->setup(*out);
}

int assoc_db_wrap_sqlite(void *sqlite3_handle, const assoc_open_opts *opts,
                         assoc_db **out) {
  return db_wrap(&assoc__dialect_sqlite, sqlite3_handle, opts, out);
}

int assoc_db_wrap_pg(void *pgconn, const assoc_open_opts *opts,
                     assoc_db **out) {
  const assoc_dialect *d = pg_dialect();
  if (!d) {
    int rc = db_new(&assoc__dialect_sqlite, opts, out);
    if (rc) return rc;
    return assoc__error(*out, ASSOC_MISUSE,
                        "assoc was built without PostgreSQL support");
  }
  return db_wrap(d, pgconn, opts, out);
}

int assoc_db_close(assoc_db *db) {
  if (!db || !db->open) return ASSOC_OK;
  assoc__rows_reset(&db->rows);
  assoc__cache_clear(db);
  if (db->depth > 0 && db->dialect->alive(db))
    db->dialect->exec_simple(db, "ROLLBACK");
  db->depth = 0;
  if (db->owns_conn) db->dialect->disconnect(db);
  db->conn = NULL;
  db->open = 0;
  return ASSOC_OK;
}

void assoc_db_free(assoc_db *db) {
  if (!db) return;
  assoc_db_close(db);
  assoc__models_free(db);
  assoc__free(db->cache);
  assoc__free(db->rows.map);
  assoc__free(db->rows.scratch);
  assoc__free(db->rows.vconst_buf);
  assoc__buf_free(&db->sqlbuf);
  assoc__params_free(&db->params);
  assoc__error_clear(db);
  assoc__valerrs_free(db);
  assoc__free(db->url_rest);
  assoc__free(db);
}

int assoc_db_is_open(const assoc_db *db) { return db && db->open; }

const char *assoc_db_dialect(const assoc_db *db) {
  return db && db->dialect ? db->dialect->name : "sqlite";
}

void *assoc_db_udata(const assoc_db *db) { return db ? db->udata : NULL; }
void assoc_db_set_udata(assoc_db *db, void *udata) {
  if (db) db->udata = udata;
}

void assoc_db_set_log(assoc_db *db, assoc_log_fn log, void *udata) {
  if (!db) return;
  db->log = log;
  db->log_udata = udata;
}

/* Rewrite '?' placeholders to the dialect's form, outside quoted text. */
static int translate_placeholders(assoc_db *db, const char *sql,
                                  assoc_buf *b, size_t *count) {
  size_t n = 0;
  char quote = 0;
  for (; *sql; sql++) {
    char c = *sql;
    if (quote) {
      if (c == quote) quote = 0;
      assoc__buf_putc(b, c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      assoc__buf_putc(b, c);
    } else if (c == '?') {
      db->dialect->placeholder(b, ++n);
    } else {
      assoc__buf_putc(b, c);
    }
  }
  *count = n;
  return b->oom ? ASSOC_NOMEM : ASSOC_OK;
}

int assoc_db_query(assoc_db *db, const char *sql, const assoc_value *params,
                   size_t nparams, assoc_rows **out) {
  assoc_buf b;
  size_t nplaceholders = 0;
  int rc = assoc__check_open(db);
  if (rc) return rc;
  if (!sql) return assoc__error(db, ASSOC_MISUSE, "SQL text expected");
  assoc__buf_init(&b);
  rc = translate_placeholders(db, sql, &b, &nplaceholders);
  if (rc != ASSOC_OK) {
    rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
  } else if (nplaceholders != nparams) {
    /* Both drivers would bind NULL or fail obscurely: say it plainly. */
    rc = assoc__error(db, ASSOC_ERROR, "the statement has %zu placeholder(s)"
                      " but %zu value(s) were given", nplaceholders, nparams);
    assoc__error_sql(db, sql);
  } else {
    rc = assoc__exec(db, b.p, params, nparams, out);
  }
  assoc__buf_free(&b);
  return rc;
}
