/*
** test_pg_driver.c: the PostgreSQL driver through the public API: value
** round trips, constraint errors mapped to status codes, and a backend
** killed under an open database.  Needs ASSOC_PG_URL (skips without it).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assoc.h"
#ifdef ASSOC_WITH_PG
#include "dialect.h"
#endif

static int npass, nfail;

static void check(int ok, const char *what, const char *file, int line) {
  if (ok) {
    npass++;
  } else {
    nfail++;
    printf("FAIL %s:%d: %s\n", file, line, what);
  }
}

#define CHECK(c) check((c) != 0, #c, __FILE__, __LINE__)

#ifdef ASSOC_WITH_PG

static assoc_value v_int(int64_t i) {
  assoc_value v;
  v.kind = ASSOC_INT;
  v.u.i = i;
  return v;
}

static assoc_value v_real(double r) {
  assoc_value v;
  v.kind = ASSOC_REAL;
  v.u.r = r;
  return v;
}

static assoc_value v_bool(int b) {
  assoc_value v;
  v.kind = ASSOC_BOOL;
  v.u.b = b;
  return v;
}

static assoc_value v_bytes(assoc_kind kind, const char *p, size_t n) {
  assoc_value v;
  v.kind = kind;
  v.u.s.p = p;
  v.u.s.n = n;
  return v;
}

static assoc_value v_text(const char *s) {
  return v_bytes(ASSOC_TEXT, s, strlen(s));
}

static assoc_value v_null(void) {
  assoc_value v;
  v.kind = ASSOC_NULL;
  return v;
}

static int is_text(const assoc_value *v, const char *s) {
  return v->kind == ASSOC_TEXT && v->u.s.n == strlen(s) &&
         memcmp(v->u.s.p, s, v->u.s.n) == 0;
}

static int has_msg(assoc_db *db, const char *part) {
  const char *m = assoc_db_errmsg(db);
  return m != NULL && strstr(m, part) != NULL;
}

/* Run sql and report a failure that was not expected. */
static int run(assoc_db *db, const char *sql, const assoc_value *p, size_t n,
               assoc_rows **rows) {
  int rc = assoc_db_query(db, sql, p, n, rows);
  if (rc != ASSOC_OK)
    printf("  (%s: %s) %s\n", assoc_errname(rc), assoc_db_errmsg(db), sql);
  return rc;
}

/* Run sql expecting exactly one row, left current on *rows. */
static int one_row(assoc_db *db, const char *sql, const assoc_value *p,
                   size_t n, assoc_rows **rows) {
  int rc = run(db, sql, p, n, rows);
  if (rc != ASSOC_OK)
    return rc;
  rc = assoc_rows_step(*rows);
  if (rc != ASSOC_ROW) {
    printf("  (no row: %d) %s\n", rc, sql);
    return rc;
  }
  return ASSOC_OK;
}

static void test_open_errors(void) {
  assoc_db *db = NULL;
  int rc = assoc_db_open("postgres:host=/nonexistent/assoc port=1 "
                         "dbname=none connect_timeout=5", NULL, &db);
  CHECK(rc == ASSOC_CONNECTION);
  CHECK(db != NULL && assoc_db_errcode(db) == ASSOC_CONNECTION);
  CHECK(db != NULL && strlen(assoc_db_errmsg(db)) > 0);
  CHECK(db != NULL && assoc_db_errmsg(db)[strlen(assoc_db_errmsg(db)) - 1]
                      != '\n');
  assoc_db_free(db);
}

static void test_scalars(assoc_db *db) {
  static const char quoted[] = "it's \"quoted\" \\ back\\slash, "
                               "\xE6\x97\xA5\xE6\x9C\xAC \xE2\x9C\x93";
  static const char blob[] = "\x00\x01\xff\\x00'\"\n";
  assoc_value p[13], v;
  assoc_rows *rows = NULL;
  size_t i;

  p[0] = v_int(-42);
  p[1] = v_int(INT64_C(9007199254740993));
  p[2] = v_real(3.141592653589793);
  p[3] = v_bool(1);
  p[4] = v_bool(0);
  p[5] = v_text(quoted);
  p[6] = v_bytes(ASSOC_BLOB, blob, sizeof blob - 1);
  p[7] = v_text("2026-11-22T08:38:44.123Z");
  p[8] = v_text("{\"a\": [1, 2, \"x\"]}");
  p[9] = v_null();
  p[10] = v_text("");
  p[11] = v_bytes(ASSOC_BLOB, "", 0);
  p[12] = v_real(0.1);
  if (one_row(db, "SELECT ?::int4 AS a, ?::int8, ?::float8, ?::bool, "
              "?::bool, ?::text, ?::bytea, ?::timestamptz, ?::jsonb, "
              "?::text, ?::text, ?::bytea, ?::float8", p, 13, &rows)) {
    CHECK(!"scalar round trip ran");
    return;
  }
  CHECK(assoc_rows_column_count(rows) == 13);
  CHECK(strcmp(assoc_rows_column_name(rows, 0), "a") == 0);
  CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK);
  CHECK(v.kind == ASSOC_INT && v.u.i == -42);
  CHECK(assoc_rows_value(rows, 1, &v) == ASSOC_OK);
  CHECK(v.kind == ASSOC_INT && v.u.i == INT64_C(9007199254740993));
  CHECK(assoc_rows_value(rows, 2, &v) == ASSOC_OK);
  CHECK(v.kind == ASSOC_REAL && v.u.r == 3.141592653589793);
  CHECK(assoc_rows_value(rows, 3, &v) == ASSOC_OK);
  CHECK(v.kind == ASSOC_BOOL && v.u.b == 1);
  CHECK(assoc_rows_value(rows, 4, &v) == ASSOC_OK);
  CHECK(v.kind == ASSOC_BOOL && v.u.b == 0);
  CHECK(assoc_rows_value(rows, 5, &v) == ASSOC_OK);
  CHECK(is_text(&v, quoted));
  CHECK(assoc_rows_value(rows, 6, &v) == ASSOC_OK);
  CHECK(v.kind == ASSOC_BLOB && v.u.s.n == sizeof blob - 1 &&
        memcmp(v.u.s.p, blob, sizeof blob - 1) == 0);
  CHECK(assoc_rows_value(rows, 7, &v) == ASSOC_OK);
  CHECK(is_text(&v, "2026-11-22T08:38:44.123Z"));
  CHECK(assoc_rows_value(rows, 8, &v) == ASSOC_OK);
  CHECK(is_text(&v, "{\"a\": [1, 2, \"x\"]}"));
  CHECK(assoc_rows_value(rows, 9, &v) == ASSOC_OK);
  CHECK(v.kind == ASSOC_NULL);
  CHECK(assoc_rows_value(rows, 10, &v) == ASSOC_OK);
  CHECK(is_text(&v, ""));
  CHECK(assoc_rows_value(rows, 11, &v) == ASSOC_OK);
  CHECK(v.kind == ASSOC_BLOB && v.u.s.n == 0);
  CHECK(assoc_rows_value(rows, 12, &v) == ASSOC_OK);
  CHECK(v.kind == ASSOC_REAL && v.u.r == 0.1);
  /* a blob read twice is the same bytes (the driver caches the decode) */
  CHECK(assoc_rows_value(rows, 6, &v) == ASSOC_OK);
  CHECK(v.kind == ASSOC_BLOB && v.u.s.n == sizeof blob - 1 &&
        memcmp(v.u.s.p, blob, sizeof blob - 1) == 0);
  CHECK(assoc_rows_step(rows) == ASSOC_DONE);

  /* numeric types the server picks, not the binding */
  if (one_row(db, "SELECT 7::int2, 2.5::float4, 1.25::numeric, 26::oid, "
              "'x'::varchar, 'y'::char(2), '[1]'::json, DATE '2026-01-02'",
              NULL, 0, &rows) == ASSOC_OK) {
    CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK);
    CHECK(v.kind == ASSOC_INT && v.u.i == 7);
    CHECK(assoc_rows_value(rows, 1, &v) == ASSOC_OK);
    CHECK(v.kind == ASSOC_REAL && v.u.r == 2.5);
    CHECK(assoc_rows_value(rows, 2, &v) == ASSOC_OK);
    CHECK(v.kind == ASSOC_REAL && v.u.r == 1.25);
    CHECK(assoc_rows_value(rows, 3, &v) == ASSOC_OK);
    CHECK(v.kind == ASSOC_INT && v.u.i == 26);
    CHECK(assoc_rows_value(rows, 4, &v) == ASSOC_OK);
    CHECK(is_text(&v, "x"));
    CHECK(assoc_rows_value(rows, 5, &v) == ASSOC_OK);
    CHECK(is_text(&v, "y "));
    CHECK(assoc_rows_value(rows, 6, &v) == ASSOC_OK);
    CHECK(is_text(&v, "[1]"));
    CHECK(assoc_rows_value(rows, 7, &v) == ASSOC_OK);
    CHECK(is_text(&v, "2026-01-02"));
  } else {
    CHECK(!"server-typed values ran");
  }

  /* the same statement again (cached) with other values */
  for (i = 0; i < 3; i++) {
    assoc_value q = v_int((int64_t)i * 1000);
    if (one_row(db, "SELECT ?::int8 + 1", &q, 1, &rows) == ASSOC_OK) {
      CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK);
      CHECK(v.kind == ASSOC_INT && v.u.i == (int64_t)i * 1000 + 1);
    } else {
      CHECK(!"cached statement ran");
    }
  }

  /* a NUL inside text cannot reach the server */
  p[0] = v_bytes(ASSOC_TEXT, "a\0b", 3);
  CHECK(assoc_db_query(db, "SELECT ?::text", p, 1, &rows) == ASSOC_ERROR);
}

static void test_timestamps(assoc_db *db) {
  assoc_rows *rows = NULL;
  assoc_value v;
  int rc;

  rc = one_row(db, "SELECT '2026-11-22 08:38:44.123456+02'::timestamptz, "
               "'2026-01-02 03:04:05'::timestamp, "
               "'2026-01-02 03:04:05.5+00'::timestamptz, "
               "'2026-03-01 01:00:00+05'::timestamptz, "
               "'infinity'::timestamptz, NULL::timestamptz, "
               "'0099-12-31 23:59:59.999+00'::timestamptz",
               NULL, 0, &rows);
  if (rc != ASSOC_OK) {
    CHECK(!"timestamp query ran");
    return;
  }
  CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK);
  CHECK(is_text(&v, "2026-11-22T06:38:44.123Z"));
  CHECK(assoc_rows_value(rows, 1, &v) == ASSOC_OK);
  CHECK(is_text(&v, "2026-01-02T03:04:05.000Z"));
  CHECK(assoc_rows_value(rows, 2, &v) == ASSOC_OK);
  CHECK(is_text(&v, "2026-01-02T03:04:05.500Z"));
  CHECK(assoc_rows_value(rows, 3, &v) == ASSOC_OK);
  CHECK(is_text(&v, "2026-02-28T20:00:00.000Z"));
  CHECK(assoc_rows_value(rows, 4, &v) == ASSOC_OK);
  CHECK(is_text(&v, "infinity"));
  CHECK(assoc_rows_value(rows, 5, &v) == ASSOC_OK);
  CHECK(v.kind == ASSOC_NULL);
  CHECK(assoc_rows_value(rows, 6, &v) == ASSOC_OK);
  CHECK(is_text(&v, "0099-12-31T23:59:59.999Z"));

  /* a session in another zone still reads UTC */
  CHECK(run(db, "SET TIME ZONE 'Asia/Kolkata'", NULL, 0, &rows) == ASSOC_OK);
  if (one_row(db, "SELECT '2026-11-22 08:38:44.1Z'::timestamptz", NULL, 0,
              &rows) == ASSOC_OK) {
    CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK);
    CHECK(is_text(&v, "2026-11-22T08:38:44.100Z"));
  } else {
    CHECK(!"timestamp in Asia/Kolkata ran");
  }
  CHECK(run(db, "SET TIME ZONE 'UTC'", NULL, 0, &rows) == ASSOC_OK);
}

static int is_int(const assoc_value *v, int64_t i) {
  return v->kind == ASSOC_INT && v->u.i == i;
}

static int is_bytes(const assoc_value *v, assoc_kind kind, const char *s,
                    size_t n) {
  return v->kind == kind && v->u.s.n == n &&
         (n == 0 || memcmp(v->u.s.p, s, n) == 0);
}

/* Results of statements whose columns all have binary decoders come in
** binary format (a statement with any other type, in text): each type
** reads back as its text form does. */
static void test_binary_results(assoc_db *db) {
  static const char sql[] =
    "SELECT true, false, (-5)::int2, 2147483647::int4, "
    "(-9223372036854775807)::int8, 4000000000::oid, 1.5::float4, "
    "(-2.25e300)::float8, 'NaN'::float8, '\\x00ff41'::bytea, "
    "'h\xc3\xa9llo'::text, 'v'::varchar(9), 'ab'::char(5), 'nm'::name, "
    "'{\"a\": [1, 2]}'::json, '{\"b\":[1,2]}'::jsonb, "
    "'1969-07-20 20:17:40.999999+00'::timestamptz, "
    "'1999-12-31 23:59:59.9995+00'::timestamptz, "
    "'2026-11-22 08:38:44.123456+02'::timestamptz, "
    "'2026-01-02 03:04:05'::timestamp, 'infinity'::timestamptz, "
    "'-infinity'::timestamp, NULL::int4, NULL::timestamptz, ''::text, "
    "''::bytea";
  assoc_value v[26];
  assoc_rows *rows = NULL;
  int run_no, i;
  for (run_no = 0; run_no < 2; run_no++) {
    if (one_row(db, sql, NULL, 0, &rows) != ASSOC_OK) {
      CHECK(!"the binary-format query ran");
      return;
    }
    CHECK(assoc_rows_column_count(rows) == 26);
    for (i = 0; i < 26; i++)
      CHECK(assoc_rows_value(rows, (size_t)i, &v[i]) == ASSOC_OK);
    CHECK(v[0].kind == ASSOC_BOOL && v[0].u.b == 1);
    CHECK(v[1].kind == ASSOC_BOOL && v[1].u.b == 0);
    CHECK(is_int(&v[2], -5));
    CHECK(is_int(&v[3], 2147483647));
    CHECK(is_int(&v[4], -INT64_C(9223372036854775807)));
    CHECK(is_int(&v[5], INT64_C(4000000000)));
    CHECK(v[6].kind == ASSOC_REAL && v[6].u.r == 1.5);
    CHECK(v[7].kind == ASSOC_REAL && v[7].u.r == -2.25e300);
    CHECK(v[8].kind == ASSOC_REAL && v[8].u.r != v[8].u.r);
    CHECK(is_bytes(&v[9], ASSOC_BLOB, "\0\xff" "A", 3));
    CHECK(is_text(&v[10], "h\xc3\xa9llo"));
    CHECK(is_text(&v[11], "v"));
    CHECK(is_text(&v[12], "ab   "));
    CHECK(is_text(&v[13], "nm"));
    CHECK(is_text(&v[14], "{\"a\": [1, 2]}"));
    CHECK(is_text(&v[15], "{\"b\": [1, 2]}"));
    CHECK(is_text(&v[16], "1969-07-20T20:17:40.999Z"));
    CHECK(is_text(&v[17], "1999-12-31T23:59:59.999Z"));
    CHECK(is_text(&v[18], "2026-11-22T06:38:44.123Z"));
    CHECK(is_text(&v[19], "2026-01-02T03:04:05.000Z"));
    CHECK(is_text(&v[20], "infinity"));
    CHECK(is_text(&v[21], "-infinity"));
    CHECK(v[22].kind == ASSOC_NULL);
    CHECK(v[23].kind == ASSOC_NULL);
    CHECK(is_text(&v[24], ""));
    CHECK(is_bytes(&v[25], ASSOC_BLOB, "", 0));
  }
  /* numeric has no binary decoder: the statement stays in text */
  if (one_row(db, "SELECT 2.5::numeric, '2026-01-02 03:04:05+00'::"
              "timestamptz, '2026-11-22 08:38:44.123456+02'::timestamptz, "
              "'infinity'::timestamptz, '\\x00ff41'::bytea, 7::int8, "
              "true", NULL, 0, &rows) == ASSOC_OK) {
    for (i = 0; i < 7; i++)
      CHECK(assoc_rows_value(rows, (size_t)i, &v[i]) == ASSOC_OK);
    CHECK(v[0].kind == ASSOC_REAL && v[0].u.r == 2.5);
    CHECK(is_text(&v[1], "2026-01-02T03:04:05.000Z"));
    CHECK(is_text(&v[2], "2026-11-22T06:38:44.123Z"));
    CHECK(is_text(&v[3], "infinity"));
    CHECK(is_bytes(&v[4], ASSOC_BLOB, "\0\xff" "A", 3));
    CHECK(is_int(&v[5], 7));
    CHECK(v[6].kind == ASSOC_BOOL && v[6].u.b == 1);
  } else {
    CHECK(!"the numeric query ran");
  }
}

/* Temporary tables: private to the session, so the specs' schema resets
** running at the same time cannot touch them. */
static void test_table(assoc_db *db) {
  static const char blob[] = "\x00\x10\x80\xfe";
  assoc_value p[9], v;
  assoc_rows *rows = NULL;
  int64_t id = 0;
  int rc;

  rc = run(db, "CREATE TEMP TABLE \"pg \"\"items\"\"\" ("
           "id SERIAL PRIMARY KEY, i INTEGER, b BIGINT, r DOUBLE PRECISION,"
           " f BOOLEAN, s VARCHAR(255) UNIQUE, t TEXT NOT NULL DEFAULT '',"
           " bl BYTEA, d TIMESTAMP WITH TIME ZONE, j JSONB)", NULL, 0, &rows);
  CHECK(rc == ASSOC_OK);
  p[0] = v_int(2147483647);
  p[1] = v_int(INT64_C(-9223372036854775807) - 1);
  p[2] = v_real(-1.5e300);
  p[3] = v_bool(1);
  p[4] = v_text("O'Brien \"x\"");
  p[5] = v_text("caf\xC3\xA9 \xF0\x9F\x98\x80");
  p[6] = v_bytes(ASSOC_BLOB, blob, sizeof blob - 1);
  p[7] = v_text("2026-11-22T08:38:44.123Z");
  p[8] = v_text("{\"k\": null}");
  rc = one_row(db, "INSERT INTO \"pg \"\"items\"\"\" (i, b, r, f, s, t, bl,"
               " d, j) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id", p, 9,
               &rows);
  CHECK(rc == ASSOC_OK);
  if (rc == ASSOC_OK) {
    CHECK(assoc_rows_changes(rows) == 1);
    CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK && v.kind == ASSOC_INT);
    id = v.u.i;
    CHECK(assoc_rows_step(rows) == ASSOC_DONE);
  }
  p[0] = v_int(id);
  rc = one_row(db, "SELECT i, b, r, f, s, t, bl, d, j FROM "
               "\"pg \"\"items\"\"\" WHERE id = ?", p, 1, &rows);
  CHECK(rc == ASSOC_OK);
  if (rc == ASSOC_OK) {
    CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK);
    CHECK(v.kind == ASSOC_INT && v.u.i == 2147483647);
    CHECK(assoc_rows_value(rows, 1, &v) == ASSOC_OK);
    CHECK(v.kind == ASSOC_INT && v.u.i == INT64_C(-9223372036854775807) - 1);
    CHECK(assoc_rows_value(rows, 2, &v) == ASSOC_OK);
    CHECK(v.kind == ASSOC_REAL && v.u.r == -1.5e300);
    CHECK(assoc_rows_value(rows, 3, &v) == ASSOC_OK);
    CHECK(v.kind == ASSOC_BOOL && v.u.b == 1);
    CHECK(assoc_rows_value(rows, 4, &v) == ASSOC_OK);
    CHECK(is_text(&v, "O'Brien \"x\""));
    CHECK(assoc_rows_value(rows, 5, &v) == ASSOC_OK);
    CHECK(is_text(&v, "caf\xC3\xA9 \xF0\x9F\x98\x80"));
    CHECK(assoc_rows_value(rows, 6, &v) == ASSOC_OK);
    CHECK(v.kind == ASSOC_BLOB && v.u.s.n == sizeof blob - 1 &&
          memcmp(v.u.s.p, blob, v.u.s.n) == 0);
    CHECK(assoc_rows_value(rows, 7, &v) == ASSOC_OK);
    CHECK(is_text(&v, "2026-11-22T08:38:44.123Z"));
    CHECK(assoc_rows_value(rows, 8, &v) == ASSOC_OK);
    CHECK(is_text(&v, "{\"k\": null}"));
    CHECK(assoc_rows_step(rows) == ASSOC_DONE);
  }

  /* unique violation, with the server's detail in the message */
  p[0] = v_text("O'Brien \"x\"");
  rc = assoc_db_query(db, "INSERT INTO \"pg \"\"items\"\"\" (s) VALUES (?)",
                      p, 1, &rows);
  CHECK(rc == ASSOC_UNIQUE);
  CHECK(assoc_db_errcode(db) == ASSOC_UNIQUE);
  CHECK(has_msg(db, "duplicate key value violates unique constraint"));
  CHECK(has_msg(db, "already exists"));
  CHECK(strcmp(assoc_errname(rc), "UniqueConstraintError") == 0);

  /* NOT NULL stays a DatabaseError */
  p[0] = v_text("fresh");
  p[1] = v_null();
  rc = assoc_db_query(db, "INSERT INTO \"pg \"\"items\"\"\" (s, t) "
                      "VALUES (?, ?)", p, 2, &rows);
  CHECK(rc == ASSOC_ERROR);
  CHECK(has_msg(db, "null value"));

  /* changes of an UPDATE; rows inserted by a multi-row INSERT */
  p[0] = v_text("a");
  p[1] = v_text("b");
  p[2] = v_text("c");
  rc = run(db, "INSERT INTO \"pg \"\"items\"\"\" (s) VALUES (?), (?), (?)",
           p, 3, &rows);
  CHECK(rc == ASSOC_OK && assoc_rows_changes(rows) == 3);
  p[0] = v_int(5);
  rc = run(db, "UPDATE \"pg \"\"items\"\"\" SET i = ? WHERE s IN "
           "('a', 'b')", p, 1, &rows);
  CHECK(rc == ASSOC_OK && assoc_rows_changes(rows) == 2);
  rc = run(db, "SELECT s FROM \"pg \"\"items\"\"\" WHERE i = 5 ORDER BY s",
           NULL, 0, &rows);
  CHECK(rc == ASSOC_OK);
  if (rc == ASSOC_OK) {
    CHECK(assoc_rows_step(rows) == ASSOC_ROW);
    CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK && is_text(&v, "a"));
    CHECK(assoc_rows_step(rows) == ASSOC_ROW);
    CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK && is_text(&v, "b"));
    CHECK(assoc_rows_step(rows) == ASSOC_DONE);
    CHECK(assoc_rows_step(rows) == ASSOC_DONE);
  }
}

static void test_foreign_key(assoc_db *db) {
  assoc_value p[2];
  assoc_rows *rows = NULL;
  int rc;

  CHECK(run(db, "CREATE TEMP TABLE parents (id INTEGER PRIMARY KEY)", NULL,
            0, &rows) == ASSOC_OK);
  CHECK(run(db, "CREATE TEMP TABLE children (id SERIAL PRIMARY KEY, "
            "parent_id INTEGER REFERENCES parents (id))", NULL, 0, &rows)
        == ASSOC_OK);
  p[0] = v_int(1);
  CHECK(run(db, "INSERT INTO parents (id) VALUES (?)", p, 1, &rows)
        == ASSOC_OK);
  CHECK(run(db, "INSERT INTO children (parent_id) VALUES (?)", p, 1, &rows)
        == ASSOC_OK);
  p[0] = v_int(99);
  rc = assoc_db_query(db, "INSERT INTO children (parent_id) VALUES (?)", p,
                      1, &rows);
  CHECK(rc == ASSOC_FOREIGN_KEY);
  CHECK(has_msg(db, "violates foreign key constraint"));
  CHECK(has_msg(db, "is not present in table"));
  rc = assoc_db_query(db, "DELETE FROM parents", NULL, 0, &rows);
  CHECK(rc == ASSOC_FOREIGN_KEY);
  CHECK(strcmp(assoc_errname(rc), "ForeignKeyConstraintError") == 0);
}

static void test_other_errors(assoc_db *db) {
  assoc_rows *rows = NULL;
  assoc_value v;
  int rc;

  rc = assoc_db_query(db, "SELEC 1", NULL, 0, &rows);
  CHECK(rc == ASSOC_ERROR);
  CHECK(has_msg(db, "syntax error"));
  v = v_text("not a number");
  rc = assoc_db_query(db, "SELECT ?::int4", &v, 1, &rows);
  CHECK(rc == ASSOC_ERROR);
  CHECK(has_msg(db, "invalid input syntax"));
  /* still usable afterwards */
  rc = one_row(db, "SELECT 1", NULL, 0, &rows);
  CHECK(rc == ASSOC_OK);
  if (rc == ASSOC_OK)
    CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK && v.kind == ASSOC_INT &&
          v.u.i == 1);
}

/* The key-list encoding the core binds for "= ANY($n::text[])". */
static void test_key_lists(assoc_db *db) {
  static const char *const texts[] = {
    "plain", "b\"c", "back\\slash", "NULL", "a,b", "{}", "", " sp ",
    "\xE2\x9C\x93"
  };
  const size_t ntexts = sizeof texts / sizeof texts[0];
  assoc_value keys[9], v, p;
  assoc_rows *rows = NULL;
  assoc_buf b;
  size_t i;
  int rc;

  assoc__buf_init(&b);
  keys[0] = v_int(1);
  keys[1] = v_int(-2);
  keys[2] = v_int(INT64_C(9007199254740993));
  CHECK(assoc__dialect_pg.encode_key_list(&b, keys, 3) == ASSOC_OK);
  CHECK(strcmp(b.p, "{1,-2,9007199254740993}") == 0);
  p = v_bytes(ASSOC_TEXT, b.p, b.n);
  if (one_row(db, "SELECT sum(value)::int8, count(*) FROM "
              "unnest(?::bigint[]) AS k(value)", &p, 1, &rows) == ASSOC_OK) {
    CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK);
    CHECK(v.kind == ASSOC_INT && v.u.i == INT64_C(9007199254740992));
  } else {
    CHECK(!"bigint key list ran");
  }

  assoc__buf_reset(&b);
  CHECK(assoc__dialect_pg.encode_key_list(&b, keys, 0) == ASSOC_OK);
  CHECK(strcmp(b.p, "{}") == 0);
  {
    assoc_value two[2];
    two[0] = v_int(1);
    two[1] = v_bytes(ASSOC_TEXT, b.p, b.n);
    if (one_row(db, "SELECT ?::int8 = ANY(?::bigint[])", two, 2, &rows)
        == ASSOC_OK) {
      CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK);
      CHECK(v.kind == ASSOC_BOOL && v.u.b == 0);
    } else {
      CHECK(!"empty key list ran");
    }
  }

  assoc__buf_reset(&b);
  for (i = 0; i < ntexts; i++)
    keys[i] = v_text(texts[i]);
  CHECK(assoc__dialect_pg.encode_key_list(&b, keys, ntexts) == ASSOC_OK);
  CHECK(strncmp(b.p, "{\"plain\",\"b\\\"c\",\"back\\\\slash\",\"NULL\"", 36)
        == 0);
  p = v_bytes(ASSOC_TEXT, b.p, b.n);
  rc = run(db, "SELECT value FROM unnest(?::text[]) WITH ORDINALITY "
           "AS k(value, n) ORDER BY n", &p, 1, &rows);
  CHECK(rc == ASSOC_OK);
  for (i = 0; rc == ASSOC_OK && i < ntexts; i++) {
    CHECK(assoc_rows_step(rows) == ASSOC_ROW);
    CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK);
    CHECK(is_text(&v, texts[i]));
  }
  if (rc == ASSOC_OK)
    CHECK(assoc_rows_step(rows) == ASSOC_DONE);
  assoc__buf_free(&b);
}

/* SQL text of the dialect table, compared verbatim. */
static void test_sql_text(void) {
  const assoc_dialect *d = &assoc__dialect_pg;
  assoc_attr_def a;
  assoc_buf b;
  int inline_pk = 1;

  CHECK(d->version == ASSOC_DIALECT_VERSION);
  CHECK(strcmp(d->name, "postgres") == 0);
  assoc__buf_init(&b);
  d->placeholder(&b, 12);
  CHECK(strcmp(b.p, "$12") == 0);
  assoc__buf_reset(&b);
  d->key_list(&b, 3, ASSOC_TYPE_INTEGER, 0);
  CHECK(strcmp(b.p, " = ANY($3::bigint[])") == 0);
  assoc__buf_reset(&b);
  d->key_list(&b, 1, ASSOC_TYPE_STRING, 1);
  CHECK(strcmp(b.p, " <> ALL($1::text[])") == 0);
  assoc__buf_reset(&b);
  d->key_table(&b, 2, ASSOC_TYPE_BIGINT);
  CHECK(strcmp(b.p, "unnest($2::bigint[]) AS \"assoc_k\"(\"value\")") == 0);
  assoc__buf_reset(&b);
  memset(&a, 0, sizeof a);
  a.type = ASSOC_TYPE_INTEGER;
  d->column_type(&b, &a, 1, &inline_pk);
  CHECK(strcmp(b.p, "SERIAL") == 0 && inline_pk == 0);
  assoc__buf_reset(&b);
  a.type = ASSOC_TYPE_STRING;
  d->column_type(&b, &a, 0, &inline_pk);
  CHECK(strcmp(b.p, "VARCHAR(255)") == 0);
  assoc__buf_reset(&b);
  a.length = 12;
  d->column_type(&b, &a, 0, &inline_pk);
  CHECK(strcmp(b.p, "VARCHAR(12)") == 0);
  assoc__buf_reset(&b);
  a.type = ASSOC_TYPE_DATE;
  d->column_type(&b, &a, 0, &inline_pk);
  CHECK(strcmp(b.p, "TIMESTAMP WITH TIME ZONE") == 0);
  assoc__buf_reset(&b);
  a.type = ASSOC_TYPE_JSON;
  d->column_type(&b, &a, 0, &inline_pk);
  CHECK(strcmp(b.p, "JSONB") == 0);
  assoc__buf_free(&b);
  CHECK(strcmp(d->bool_literal(1), "true") == 0);
  CHECK(strcmp(d->bool_literal(0), "false") == 0);

  CHECK(assoc__classify_sqlstate("23505") == ASSOC_UNIQUE);
  CHECK(assoc__classify_sqlstate("23503") == ASSOC_FOREIGN_KEY);
  CHECK(assoc__classify_sqlstate("23502") == ASSOC_ERROR);
  CHECK(assoc__classify_sqlstate("08006") == ASSOC_CONNECTION);
  CHECK(assoc__classify_sqlstate("57P01") == ASSOC_CONNECTION);
  CHECK(assoc__classify_sqlstate("25P02") == ASSOC_TRANSACTION);
  CHECK(assoc__classify_sqlstate("42601") == ASSOC_ERROR);
  CHECK(assoc__classify_sqlstate(NULL) == ASSOC_ERROR);
}

static void test_aborted_transaction(assoc_db *db) {
  assoc_rows *rows = NULL;
  CHECK(run(db, "BEGIN", NULL, 0, &rows) == ASSOC_OK);
  CHECK(assoc_db_query(db, "SELECT 1/0", NULL, 0, &rows) == ASSOC_ERROR);
  CHECK(has_msg(db, "division by zero"));
  CHECK(assoc_db_query(db, "SELECT 2", NULL, 0, &rows)
        == ASSOC_TRANSACTION);
  CHECK(run(db, "ROLLBACK", NULL, 0, &rows) == ASSOC_OK);
  CHECK(one_row(db, "SELECT 3", NULL, 0, &rows) == ASSOC_OK);
}

/* A backend ended by the server (pg_terminate_backend from another
** session) is a ConnectionError on the next statement, not a crash. */
static void test_killed_backend(assoc_db *db, const char *url) {
  assoc_db *other = NULL;
  assoc_rows *rows = NULL;
  assoc_value v;
  int64_t pid = 0;
  int rc;

  if (one_row(db, "SELECT pg_backend_pid()", NULL, 0, &rows) != ASSOC_OK) {
    CHECK(!"pg_backend_pid ran");
    return;
  }
  CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK && v.kind == ASSOC_INT);
  pid = v.u.i;
  rc = assoc_db_open(url, NULL, &other);
  CHECK(rc == ASSOC_OK);
  if (rc != ASSOC_OK) {
    assoc_db_free(other);
    return;
  }
  v = v_int(pid);
  rc = one_row(other, "SELECT pg_terminate_backend(?::int4, 10000)", &v, 1,
               &rows);
  CHECK(rc == ASSOC_OK);
  if (rc == ASSOC_OK)
    CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK && v.kind == ASSOC_BOOL &&
          v.u.b == 1);

  rc = assoc_db_query(db, "SELECT 1", NULL, 0, &rows);
  CHECK(rc == ASSOC_CONNECTION);
  CHECK(assoc_db_errcode(db) == ASSOC_CONNECTION);
  CHECK(has_msg(db, "connection lost"));
  CHECK(strcmp(assoc_errname(rc), "ConnectionError") == 0);
  /* another statement neither crashes nor hangs; the core may reconnect */
  rc = assoc_db_query(db, "SELECT 1", NULL, 0, &rows);
  CHECK(rc == ASSOC_CONNECTION || rc == ASSOC_OK);
  printf("  after the kill, the next statement gave %s\n",
         assoc_errname(rc));

  CHECK(assoc_db_close(other) == ASSOC_OK);
  assoc_db_free(other);
}

/* Fail allocation 1, 2, ... until open + a parameterised query succeed:
** every failure is ASSOC_NOMEM and leaks nothing (ASan, valgrind). */
static void test_alloc_sweep(const char *url) {
  long n;
  int ok = 0, bad = 0;
  for (n = 1; n < 2000 && !ok; n++) {
    assoc_db *db = NULL;
    assoc_rows *rows = NULL;
    assoc_value p[3], v;
    int rc;
    p[0] = v_int(7);
    p[1] = v_text("seven");
    p[2] = v_bytes(ASSOC_BLOB, "a\0bc", 4);
    assoc__alloc_fail_after(n);
    rc = assoc_db_open(url, NULL, &db);
    if (rc == ASSOC_OK)
      rc = assoc_db_query(db, "SELECT ?::int8, ?::text, ?::bytea, "
                          "now()::timestamptz", p, 3, &rows);
    if (rc == ASSOC_OK) {
      rc = assoc_rows_step(rows);
      if (rc == ASSOC_ROW)
        rc = assoc_rows_value(rows, 2, &v);
      if (rc == ASSOC_OK)
        rc = assoc_rows_value(rows, 3, &v);
      if (rc == ASSOC_OK)
        ok = 1;
    }
    if (!ok && rc != ASSOC_NOMEM) {
      bad++;
      printf("  allocation %ld: %s (%s)\n", n, assoc_errname(rc),
             db ? assoc_db_errmsg(db) : "");
    }
    assoc__alloc_fail_after(0);
    assoc_db_free(db);
  }
  CHECK(ok);
  CHECK(bad == 0);
}

int main(void) {
  const char *url = getenv("ASSOC_PG_URL");
  assoc_db *db = NULL;
  int rc;

  if (url == NULL || *url == '\0') {
    printf("ASSOC_PG_URL is not set: PostgreSQL driver tests skipped\n");
    printf("0 passed, 0 failed\n");
    return 0;
  }
  test_open_errors();
  rc = assoc_db_open(url, NULL, &db);
  CHECK(rc == ASSOC_OK);
  if (rc != ASSOC_OK) {
    printf("cannot open %s: %s\n", url, db ? assoc_db_errmsg(db) : "nomem");
    assoc_db_free(db);
    printf("%d passed, %d failed\n", npass, nfail);
    return 1;
  }
  CHECK(strcmp(assoc_db_dialect(db), "postgres") == 0);
  test_sql_text();
  test_scalars(db);
  test_timestamps(db);
  test_binary_results(db);
  test_table(db);
  test_foreign_key(db);
  test_other_errors(db);
  test_key_lists(db);
  test_aborted_transaction(db);
  test_killed_backend(db, url);
  assoc_db_close(db);
  assoc_db_free(db);
  test_alloc_sweep(url);
  printf("%d passed, %d failed\n", npass, nfail);
  return nfail > 0;
}

#else

int main(void) {
  printf("built without libpq: PostgreSQL driver tests skipped\n");
  check(1, "skipped", __FILE__, __LINE__);
  printf("%d passed, %d failed\n", npass, nfail);
  return 0;
}

#endif
