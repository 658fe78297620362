/*
** dialect.h: the table of what differs between databases.  A driver fills
** one `assoc_dialect`; nothing outside dialect_*.c tests which database it
** talks to.  Bump ASSOC_DIALECT_VERSION when the table changes shape.
*/
#ifndef ASSOC_DIALECT_H
#define ASSOC_DIALECT_H

#include "internal.h"

#define ASSOC_DIALECT_VERSION 2

typedef struct assoc_dialect {
  int version;
  const char *name;                       /* "sqlite" / "postgres" */

  /* --- connection ------------------------------------------------------ */
  /* Open from what follows the URL scheme (a path, ":memory:", or a libpq
  ** conninfo/URI), setting db->conn.  Error message set on db. */
  int (*connect)(assoc_db *db, const char *target);
  void (*disconnect)(assoc_db *db);       /* only when db->owns_conn */
  /* Session set-up after connect or wrap: foreign keys, busy timeout,
  ** time zone. */
  int (*setup)(assoc_db *db);
  /* Is the connection usable?  (PostgreSQL: CONNECTION_OK.) */
  int (*alive)(assoc_db *db);
  /* Re-establish a lost connection (PostgreSQL: PQreset); ASSOC_OK or
  ** ASSOC_CONNECTION. */
  int (*reconnect)(assoc_db *db);

  /* --- statements ------------------------------------------------------ */
  /* Prepare sql for nparams parameters; *stmt is the driver's handle. */
  int (*prepare)(assoc_db *db, const char *sql, size_t nparams, void **stmt);
  void (*finalize)(assoc_db *db, void *stmt);
  /* Bind params and run.  Fills rows->ncols, rows->changes and leaves the
  ** cursor before the first row (rows->pending set when the first row was
  ** already fetched).  Errors mapped to status codes with message on db. */
  int (*execute)(assoc_db *db, void *stmt, const assoc_value *params,
                 size_t nparams, assoc_rows *rows);
  /* Advance: ASSOC_ROW, ASSOC_DONE, or an error status. */
  int (*step)(assoc_rows *rows);
  const char *(*column_name)(assoc_rows *rows, size_t i);
  /* The raw value of column i of the current row (INT, REAL, TEXT, BLOB or
  ** NULL; PostgreSQL decodes by column type).  Borrowed until the next
  ** step. */
  int (*column)(assoc_rows *rows, size_t i, assoc_value *out);
  /* Finish the current result (sqlite3_reset / PQclear). */
  void (*reset)(assoc_rows *rows);
  /* Run SQL with no parameters and no result (DDL, BEGIN, SAVEPOINT). */
  int (*exec_simple)(assoc_db *db, const char *sql);

  /* --- SQL text --------------------------------------------------------- */
  /* Append the n-th (1-based) placeholder: "?" or "$n". */
  void (*placeholder)(assoc_buf *b, size_t n);
  /* Append the column type of attribute a for CREATE TABLE; `serial` is
  ** set for an auto-increment primary key (SQLite: "INTEGER PRIMARY KEY
  ** AUTOINCREMENT" and `*inline_pk` set, PostgreSQL: "SERIAL"). */
  void (*column_type)(assoc_buf *b, const assoc_attr_def *a, int serial,
                      int *inline_pk);
  /* Append a test that column (already written) is in the key list bound
  ** as placeholder n, e.g. " IN (SELECT value FROM json_each(?))" or
  ** " = ANY($3::bigint[])"; negate gives NOT IN / <> ALL. */
  void (*key_list)(assoc_buf *b, size_t n, assoc_type key_type, int negate);
  /* Append a FROM source that yields the bound key list n as rows of one
  ** column, "assoc_k"."value": `json_each(?) AS "assoc_k"` or
  ** `unnest($1::bigint[]) AS "assoc_k"("value")`. */
  void (*key_table)(assoc_buf *b, size_t n, assoc_type key_type);
  /* Encode keys (already coerced to key_type) as the one value a key list
  ** binds: a JSON array on SQLite, an array literal on PostgreSQL. */
  int (*encode_key_list)(assoc_buf *out, const assoc_value *keys, size_t n);
  /* Nonzero when a short lookup by a key list is cheaper written as the
  ** key table CROSS JOIN the table than as key_list's test: SQLite builds
  ** a temporary b-tree for every `IN (SELECT ...)` it runs, while
  ** PostgreSQL's `= ANY` probes the index directly.  hasX uses it. */
  int keys_drive_lookups;
  /* Literal SQL for a boolean value ("1"/"0" or "true"/"false"). */
  const char *(*bool_literal)(int b);
} assoc_dialect;

extern const assoc_dialect assoc__dialect_sqlite;
extern const assoc_dialect assoc__dialect_pg;   /* when built with libpq */

/* Map a failure to a status code: shared by both drivers so messages agree.
** sqlstate may be NULL (SQLite passes its extended result code instead). */
int assoc__classify_sqlite(int extended_code);
int assoc__classify_sqlstate(const char *sqlstate);

#endif
