/*
** test_core.c: the model layer through the public C API on SQLite:
** open, define, sync, insert/find/update/destroy/count, where trees,
** transactions, errors, and allocation-failure sweeps of the constructors.
*/
#include <stdio.h>
#include <string.h>

#include "assoc.h"
#include "check.h"
#include "internal.h"

static assoc_value text(const char *s) {
  assoc_value v;
  v.kind = ASSOC_TEXT;
  v.u.s.p = s;
  v.u.s.n = strlen(s);
  return v;
}

static assoc_value integer(int64_t i) {
  assoc_value v;
  v.kind = ASSOC_INT;
  v.u.i = i;
  return v;
}

static assoc_model *define_user(assoc_db *db) {
  assoc_attr_def attrs[2];
  assoc_model *m = NULL;
  memset(attrs, 0, sizeof attrs);
  attrs[0].name = "name";
  attrs[0].type = ASSOC_TYPE_STRING;
  attrs[0].not_null = 1;
  attrs[1].name = "age";
  attrs[1].type = ASSOC_TYPE_INTEGER;
  assoc_model_define(db, "User", attrs, 2, NULL, &m);
  return m;
}

static int64_t scalar(assoc_db *db, const char *sql) {
  assoc_rows *rows;
  assoc_value v;
  if (assoc_db_query(db, sql, NULL, 0, &rows)) return -1;
  if (assoc_rows_step(rows) != ASSOC_ROW) return -1;
  assoc_rows_value(rows, 0, &v);
  return v.kind == ASSOC_INT ? v.u.i : -1;
}

static void test_crud(void) {
  assoc_db *db;
  assoc_model *user;
  assoc_field f[2];
  assoc_rows *rows;
  assoc_value v;
  int64_t n = 0;
  CHECK(assoc_db_open("sqlite::memory:", NULL, &db) == ASSOC_OK);
  user = define_user(db);
  CHECK(user != NULL);
  CHECK(strcmp(assoc_model_table(user), "Users") == 0);
  CHECK(assoc_model_pk(user) == 0);
  CHECK(assoc_db_sync(db, 1) == ASSOC_OK);
  f[0].attr = assoc_model_attr_index(user, "name");
  f[0].value = text("ann \"the\" 'first'");
  f[1].attr = assoc_model_attr_index(user, "age");
  f[1].value = text("41");
  CHECK(assoc_model_insert(user, f, 2, &rows) == ASSOC_OK);
  CHECK(assoc_rows_step(rows) == ASSOC_ROW);
  CHECK(assoc_rows_value(rows, 0, &v) == ASSOC_OK && v.kind == ASSOC_INT &&
        v.u.i == 1);
  f[0].value = text("bob");
  f[1].value = integer(17);
  CHECK(assoc_model_insert(user, f, 2, NULL) == ASSOC_OK);
  CHECK(scalar(db, "SELECT COUNT(*) FROM \"Users\"") == 2);
  CHECK(scalar(db, "SELECT age FROM \"Users\" WHERE id = 1") == 41);
  {
    assoc_cond c;
    assoc_query q;
    assoc_value age = integer(18);
    memset(&c, 0, sizeof c);
    memset(&q, 0, sizeof q);
    c.kind = ASSOC_COND_CMP;
    c.attr = "age";
    c.op = ASSOC_OP_GTE;
    c.values = &age;
    c.nvalues = 1;
    q.where = &c;
    CHECK(assoc_model_count(user, &q, &n) == ASSOC_OK && n == 1);
    c.attr = "nope";
    CHECK(assoc_model_count(user, &q, &n) == ASSOC_MISUSE);
    CHECK(strstr(assoc_db_errmsg(db), "nope") != NULL);
  }
  {
    assoc_cond c;
    assoc_query q;
    assoc_value ids[3];
    int count = 0;
    ids[0] = integer(1);
    ids[1] = text("2");
    ids[2] = integer(1);
    memset(&c, 0, sizeof c);
    memset(&q, 0, sizeof q);
    c.kind = ASSOC_COND_CMP;
    c.attr = "id";
    c.op = ASSOC_OP_IN;
    c.values = ids;
    c.nvalues = 3;
    q.where = &c;
    CHECK(assoc_model_find(user, &q, &rows) == ASSOC_OK);
    while (assoc_rows_step(rows) == ASSOC_ROW) count++;
    CHECK(count == 2);
  }
  {
    assoc_value pk = integer(2);
    f[0].value = text("robert");
    CHECK(assoc_model_update_pk(user, &pk, f, 1, &rows) == ASSOC_OK);
    CHECK(assoc_rows_step(rows) == ASSOC_ROW);
    CHECK(assoc_rows_value(rows, 1, &v) == ASSOC_OK &&
          v.kind == ASSOC_TEXT && memcmp(v.u.s.p, "robert", 6) == 0);
  }
  f[0].value.kind = ASSOC_NULL;
  CHECK(assoc_model_insert(user, f, 1, NULL) == ASSOC_VALIDATION);
  CHECK(assoc_db_errors_count(db) == 1);
  CHECK(assoc_model_destroy(user, NULL, &n) == ASSOC_OK && n == 2);
  CHECK(assoc_db_close(db) == ASSOC_OK);
  CHECK(assoc_db_close(db) == ASSOC_OK);
  CHECK(assoc_model_count(user, NULL, &n) == ASSOC_MISUSE);
  assoc_db_free(db);
}

static void test_transactions(void) {
  assoc_db *db;
  assoc_model *user;
  assoc_txn *outer, *inner;
  assoc_field f;
  CHECK(assoc_db_open("sqlite::memory:", NULL, &db) == ASSOC_OK);
  user = define_user(db);
  CHECK(assoc_db_sync(db, 1) == ASSOC_OK);
  f.attr = assoc_model_attr_index(user, "name");
  f.value = text("a");
  CHECK(assoc_txn_begin(db, &outer) == ASSOC_OK);
  CHECK(assoc_model_insert(user, &f, 1, NULL) == ASSOC_OK);
  CHECK(assoc_txn_begin(db, &inner) == ASSOC_OK);
  CHECK(assoc_db_txn_depth(db) == 2);
  CHECK(assoc_txn_commit(outer) == ASSOC_TRANSACTION);
  CHECK(assoc_model_insert(user, &f, 1, NULL) == ASSOC_OK);
  CHECK(assoc_txn_rollback(inner) == ASSOC_OK);
  CHECK(!assoc_txn_is_open(inner));
  CHECK(assoc_txn_commit(inner) == ASSOC_TRANSACTION);
  CHECK(assoc_txn_commit(outer) == ASSOC_OK);
  CHECK(scalar(db, "SELECT COUNT(*) FROM \"Users\"") == 1);
  assoc_txn_free(inner);
  assoc_txn_free(outer);
  assoc_db_free(db);
}

static void test_unique_error(void) {
  assoc_db *db;
  assoc_rows *rows;
  assoc_value v = integer(1);
  CHECK(assoc_db_open("sqlite::memory:", NULL, &db) == ASSOC_OK);
  CHECK(assoc_db_query(db, "CREATE TABLE t (x INTEGER UNIQUE)", NULL, 0,
                       NULL) == ASSOC_OK);
  CHECK(assoc_db_query(db, "INSERT INTO t VALUES (?)", &v, 1, &rows) ==
        ASSOC_OK);
  CHECK(assoc_rows_changes(rows) == 1);
  CHECK(assoc_db_query(db, "INSERT INTO t VALUES (?)", &v, 1, NULL) ==
        ASSOC_UNIQUE);
  CHECK(assoc_db_errsql(db) != NULL);
  CHECK(strcmp(assoc_errname(ASSOC_UNIQUE), "UniqueConstraintError") == 0);
  assoc_db_free(db);
}

/* Fail allocation 1, 2, ... until the operation succeeds. */
static void test_alloc_sweep(void) {
  long n;
  int ok = 0;
  for (n = 1; n < 500 && !ok; n++) {
    assoc_db *db = NULL;
    int rc;
    assoc__alloc_fail_after(n);
    rc = assoc_db_open("sqlite::memory:", NULL, &db);
    if (rc == ASSOC_OK) {
      assoc_model *m;
      assoc_attr_def a;
      memset(&a, 0, sizeof a);
      a.name = "name";
      a.type = ASSOC_TYPE_STRING;
      rc = assoc_model_define(db, "Person", &a, 1, NULL, &m);
      if (rc == ASSOC_OK) rc = assoc_db_sync(db, 1);
      if (rc == ASSOC_OK) ok = 1;
    }
    if (!ok) CHECK(rc == ASSOC_NOMEM || rc == ASSOC_CONNECTION);
    assoc__alloc_fail_after(0);
    assoc_db_free(db);
  }
  CHECK(ok);
}

int main(void) {
  test_crud();
  test_transactions();
  test_unique_error();
  test_alloc_sweep();
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
