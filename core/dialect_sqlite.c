/*
** dialect_sqlite.c: the SQLite3 driver.  Statements are prepared once with
** SQLITE_PREPARE_PERSISTENT and reused from the cache; a list of keys is
** bound as one JSON array and unpacked with json_each(), so one statement
** serves any list length and no list can reach SQLite's parameter limit.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dialect.h"

/* ON DELETE RESTRICT reports SQLITE_CONSTRAINT_TRIGGER with SQLite's
** "FOREIGN KEY constraint failed": classify it by that message. */
static int classify(int ext, const char *msg) {
  if (ext == SQLITE_CONSTRAINT_TRIGGER && msg &&
      strstr(msg, "FOREIGN KEY constraint failed"))
    return ASSOC_FOREIGN_KEY;
  return assoc__classify_sqlite(ext);
}

static int sqlite_error(assoc_db *db, int rc) {
  sqlite3 *conn = db->conn;
  int ext = conn ? sqlite3_extended_errcode(conn) : rc;
  const char *msg = conn ? sqlite3_errmsg(conn) : sqlite3_errstr(rc);
  return assoc__error(db, classify(ext, msg), "%s", msg);
}

int assoc__classify_sqlite(int ext) {
  switch (ext) {
  case SQLITE_CONSTRAINT_UNIQUE:
  case SQLITE_CONSTRAINT_PRIMARYKEY:
    return ASSOC_UNIQUE;
  case SQLITE_CONSTRAINT_FOREIGNKEY:
    return ASSOC_FOREIGN_KEY;
  case SQLITE_NOMEM:
    return ASSOC_NOMEM;
  case SQLITE_CANTOPEN:
  case SQLITE_NOTADB:
    return ASSOC_CONNECTION;
  default:
    return ASSOC_ERROR;
  }
}

static int sq_connect(assoc_db *db, const char *target) {
  sqlite3 *conn = NULL;
  /* NOMUTEX: an assoc_db is one cursor and one error state, never used by
  ** two threads at once, so SQLite's own per-call locking of the
  ** connection (two mutex calls in every bind, step and column read)
  ** would buy nothing. */
  int rc = sqlite3_open_v2(target, &conn,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                           SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    int code = conn ? assoc__classify_sqlite(sqlite3_extended_errcode(conn))
                    : ASSOC_NOMEM;
    if (code == ASSOC_ERROR) code = ASSOC_CONNECTION;
    assoc__error(db, code, "cannot open database '%s': %s", target,
                 conn ? sqlite3_errmsg(conn) : "out of memory");
    sqlite3_close_v2(conn);
    return code;
  }
  db->conn = conn;
  return ASSOC_OK;
}

static void sq_disconnect(assoc_db *db) {
  sqlite3_close_v2(db->conn);
  db->conn = NULL;
}

static int sq_exec_simple(assoc_db *db, const char *sql);

static int sq_setup(assoc_db *db) {
  sqlite3_extended_result_codes(db->conn, 1);
  sqlite3_busy_timeout(db->conn, db->busy_timeout_ms);
  return sq_exec_simple(db, "PRAGMA foreign_keys = ON");
}

static int sq_alive(assoc_db *db) { return db->conn != NULL; }

static int sq_reconnect(assoc_db *db) {
  return db->conn ? ASSOC_OK
                  : assoc__error(db, ASSOC_CONNECTION, "database is closed");
}

static int sq_prepare(assoc_db *db, const char *sql, size_t nparams,
                      void **stmt) {
  sqlite3_stmt *s = NULL;
  const char *tail = NULL;
  int rc = sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT,
                              &s, &tail);
  (void)nparams;
  if (rc != SQLITE_OK) return sqlite_error(db, rc);
  /* SQLite would silently ignore what follows the first statement. */
  while (tail && (*tail == ' ' || *tail == '\t' || *tail == '\n' ||
                  *tail == '\r' || *tail == ';'))
    tail++;
  if (tail && *tail) {
    sqlite3_finalize(s);
    return assoc__error(db, ASSOC_ERROR, "one statement expected, the text "
                        "goes on after it: '%.40s'", tail);
  }
  *stmt = s;
  return ASSOC_OK;
}

static void sq_finalize(assoc_db *db, void *stmt) {
  (void)db;
  sqlite3_finalize(stmt);
}

static int bind_one(sqlite3_stmt *s, int i, const assoc_value *v) {
  switch (v->kind) {
  case ASSOC_NULL: return sqlite3_bind_null(s, i);
  case ASSOC_INT: return sqlite3_bind_int64(s, i, v->u.i);
  case ASSOC_REAL: return sqlite3_bind_double(s, i, v->u.r);
  case ASSOC_BOOL: return sqlite3_bind_int(s, i, v->u.b ? 1 : 0);
  case ASSOC_TEXT:
    return sqlite3_bind_text64(s, i, v->u.s.p, v->u.s.n, SQLITE_STATIC,
                               SQLITE_UTF8);
  case ASSOC_BLOB:
    return sqlite3_bind_blob64(s, i, v->u.s.p, v->u.s.n, SQLITE_STATIC);
  }
  return SQLITE_MISUSE;
}

static int sq_execute(assoc_db *db, void *stmt, const assoc_value *params,
                      size_t nparams, assoc_rows *rows) {
  sqlite3_stmt *s = stmt;
  size_t i;
  int rc;
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  for (i = 0; i < nparams; i++) {
    rc = bind_one(s, (int)i + 1, &params[i]);
    if (rc != SQLITE_OK) return sqlite_error(db, rc);
  }
  rows->stmt = s;
  rows->ncols = (size_t)sqlite3_column_count(s);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    rows->pending = 1;
    rows->state = ASSOC_ROW;
    rows->changes = 0;
    return ASSOC_OK;
  }
  if (rc == SQLITE_DONE) {
    rows->pending = 0;
    rows->state = ASSOC_DONE;
    rows->changes = sqlite3_changes64(db->conn);
    return ASSOC_OK;
  }
  rc = sqlite_error(db, rc);
  sqlite3_reset(s);
  rows->stmt = NULL;
  return rc;
}

static int sq_step(assoc_rows *rows) {
  int rc;
  if (rows->pending) {
    rows->pending = 0;
    return ASSOC_ROW;
  }
  if (!rows->stmt || rows->state == ASSOC_DONE) return ASSOC_DONE;
  rc = sqlite3_step(rows->stmt);
  if (rc == SQLITE_ROW) return ASSOC_ROW;
  if (rc == SQLITE_DONE) {
    rows->state = ASSOC_DONE;
    return ASSOC_DONE;
  }
  return sqlite_error(rows->db, rc);
}

static const char *sq_column_name(assoc_rows *rows, size_t i) {
  return sqlite3_column_name(rows->stmt, (int)i);
}

/* One sqlite3_column_value per column, then the value's accessors, which
** skip the statement-level bookkeeping each sqlite3_column_* call repeats.
** (SQLite calls such a value unprotected: only other threads could race
** on it, and the connection is NOMUTEX, used by one thread at a time.) */
static int sq_column(assoc_rows *rows, size_t i, assoc_value *out) {
  sqlite3_value *v = sqlite3_column_value(rows->stmt, (int)i);
  switch (sqlite3_value_type(v)) {
  case SQLITE_INTEGER:
    out->kind = ASSOC_INT;
    out->u.i = sqlite3_value_int64(v);
    break;
  case SQLITE_FLOAT:
    out->kind = ASSOC_REAL;
    out->u.r = sqlite3_value_double(v);
    break;
  case SQLITE_TEXT:
    out->kind = ASSOC_TEXT;
    out->u.s.p = (const char *)sqlite3_value_text(v);
    out->u.s.n = (size_t)sqlite3_value_bytes(v);
    if (!out->u.s.p) {         /* out of memory converting the text */
      out->kind = ASSOC_NULL;
      return assoc__error(rows->db, ASSOC_NOMEM, "out of memory");
    }
    break;
  case SQLITE_BLOB:
    out->kind = ASSOC_BLOB;
    out->u.s.p = sqlite3_value_blob(v);
    out->u.s.n = (size_t)sqlite3_value_bytes(v);
    if (!out->u.s.p) out->u.s.p = "";
    break;
  default:
    out->kind = ASSOC_NULL;
  }
  return ASSOC_OK;
}

static void sq_reset(assoc_rows *rows) {
  if (rows->stmt) sqlite3_reset(rows->stmt);
}

static int sq_exec_simple(assoc_db *db, const char *sql) {
  char *err = NULL;
  int rc = sqlite3_exec(db->conn, sql, NULL, NULL, &err);
  if (rc != SQLITE_OK) {
    const char *msg = err ? err : sqlite3_errstr(rc);
    int code = classify(sqlite3_extended_errcode(db->conn), msg);
    assoc__error(db, code, "%s", msg);
    assoc__error_sql(db, sql);
    sqlite3_free(err);
    return code;
  }
  return ASSOC_OK;
}

static void sq_placeholder(assoc_buf *b, size_t n) {
  (void)n;
  assoc__buf_putc(b, '?');
}

static void sq_column_type(assoc_buf *b, const assoc_attr_def *a, int serial,
                           int *inline_pk) {
  *inline_pk = 0;
  if (serial) {
    assoc__buf_puts(b, "INTEGER PRIMARY KEY AUTOINCREMENT");
    *inline_pk = 1;
    return;
  }
  switch (a->type) {
  case ASSOC_TYPE_INTEGER: assoc__buf_puts(b, "INTEGER"); break;
  case ASSOC_TYPE_BIGINT: assoc__buf_puts(b, "BIGINT"); break;
  case ASSOC_TYPE_REAL: assoc__buf_puts(b, "REAL"); break;
  case ASSOC_TYPE_STRING:
    assoc__buf_printf(b, "VARCHAR(%d)", a->length > 0 ? a->length : 255);
    break;
  case ASSOC_TYPE_TEXT: assoc__buf_puts(b, "TEXT"); break;
  case ASSOC_TYPE_BOOLEAN: assoc__buf_puts(b, "TINYINT(1)"); break;
  case ASSOC_TYPE_DATE: assoc__buf_puts(b, "DATETIME"); break;
  case ASSOC_TYPE_BLOB: assoc__buf_puts(b, "BLOB"); break;
  case ASSOC_TYPE_JSON: assoc__buf_puts(b, "JSON"); break;
  }
}

static void sq_key_list(assoc_buf *b, size_t n, assoc_type key_type,
                        int negate) {
  (void)n;
  (void)key_type;
  assoc__buf_puts(b, negate ? " NOT IN (SELECT value FROM json_each(?))"
                            : " IN (SELECT value FROM json_each(?))");
}

static void sq_key_table(assoc_buf *b, size_t n, assoc_type key_type) {
  (void)n;
  (void)key_type;
  assoc__buf_puts(b, "json_each(?) AS \"assoc_k\"");
}

/* Integers are written directly; text goes through jansson so escaping is
** the JSON library's, not ours. */
static int sq_encode_key_list(assoc_buf *out, const assoc_value *keys,
                              size_t n) {
  size_t i;
  assoc__buf_putc(out, '[');
  for (i = 0; i < n; i++) {
    if (i) assoc__buf_putc(out, ',');
    if (keys[i].kind == ASSOC_INT) {
      assoc__buf_put_int(out, keys[i].u.i);
    } else if (keys[i].kind == ASSOC_TEXT) {
      json_t *s = json_stringn(keys[i].u.s.p, keys[i].u.s.n);
      char *enc;
      /* jansson refuses text that is not UTF-8: a bad key, not OOM. */
      if (!s) return ASSOC_ERROR;
      enc = json_dumps(s, JSON_ENCODE_ANY);
      json_decref(s);
      if (!enc) return ASSOC_NOMEM;
      assoc__buf_puts(out, enc);
      free(enc);
    } else if (keys[i].kind == ASSOC_REAL) {
      assoc__buf_printf(out, "%.17g", keys[i].u.r);
    } else if (keys[i].kind == ASSOC_BOOL) {
      assoc__buf_puts(out, keys[i].u.b ? "1" : "0");
    } else {
      /* A blob cannot be a JSON array element: refuse the key list. */
      return ASSOC_ERROR;
    }
  }
  assoc__buf_putc(out, ']');
  return out->oom ? ASSOC_NOMEM : ASSOC_OK;
}

static const char *sq_bool_literal(int b) { return b ? "1" : "0"; }

const assoc_dialect assoc__dialect_sqlite = {
  ASSOC_DIALECT_VERSION,
  "sqlite",
  sq_connect, sq_disconnect, sq_setup, sq_alive, sq_reconnect,
  sq_prepare, sq_finalize, sq_execute, sq_step, sq_column_name, sq_column,
  sq_reset, sq_exec_simple,
  sq_placeholder, sq_column_type, sq_key_list, sq_key_table,
  sq_encode_key_list, 1, sq_bool_literal
};
