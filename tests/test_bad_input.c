/*
** test_bad_input.c: misuse of the C API returns a status and a message and
** never crashes: NULL handles, a closed database, an association of
** another model, unknown attribute names, wrong-typed values.
*/
#include <stdio.h>
#include <string.h>

#include "assoc.h"
#include "check.h"

static void null_handles(void) {
  assoc_value v;
  int64_t n;
  int yes;
  v.kind = ASSOC_INT;
  v.u.i = 1;
  CHECK(assoc_db_close(NULL) == ASSOC_OK);
  assoc_db_free(NULL);
  CHECK(assoc_db_query(NULL, "SELECT 1", NULL, 0, NULL) == ASSOC_MISUSE);
  CHECK(assoc_db_sync(NULL, 0) == ASSOC_MISUSE);
  CHECK(assoc_model_define(NULL, "X", NULL, 0, NULL, NULL) == ASSOC_MISUSE);
  CHECK(assoc_model_insert(NULL, NULL, 0, NULL) == ASSOC_MISUSE);
  CHECK(assoc_model_find(NULL, NULL, NULL) == ASSOC_MISUSE);
  CHECK(assoc_model_count(NULL, NULL, &n) == ASSOC_MISUSE);
  CHECK(assoc_model_sync(NULL, 0) == ASSOC_MISUSE);
  CHECK(assoc_model_drop(NULL) == ASSOC_MISUSE);
  CHECK(assoc_txn_commit(NULL) == ASSOC_MISUSE);
  CHECK(assoc_txn_rollback(NULL) == ASSOC_MISUSE);
  assoc_txn_free(NULL);
  CHECK(assoc_association_get(NULL, &v, NULL, NULL) == ASSOC_MISUSE);
  CHECK(assoc_association_count(NULL, &v, NULL, &n) == ASSOC_MISUSE);
  CHECK(assoc_association_has(NULL, &v, &v, 1, &yes) == ASSOC_MISUSE);
  CHECK(assoc_association_add(NULL, &v, &v, 1, NULL, 0) == ASSOC_MISUSE);
  CHECK(assoc_association_set(NULL, &v, &v, 1, NULL, 0) == ASSOC_MISUSE);
  CHECK(assoc_association_remove(NULL, &v, &v, 1) == ASSOC_MISUSE);
  CHECK(assoc_association_create(NULL, &v, NULL, 0, NULL, 0, NULL) ==
        ASSOC_MISUSE);
  CHECK(assoc_association_define(NULL, ASSOC_HAS_MANY, NULL, NULL, NULL) ==
        ASSOC_MISUSE);
  CHECK(assoc_association_get_many(NULL, &v, 1, NULL, NULL) ==
        ASSOC_MISUSE);
  CHECK(assoc_model_attr_index(NULL, "x") == -1);
  CHECK(assoc_db_model(NULL, "x") == NULL);
  CHECK(assoc_rows_step(NULL) == ASSOC_MISUSE);
  CHECK(strlen(assoc_db_errmsg(NULL)) > 0);
}

static void misuse_on_open_db(void) {
  assoc_db *db;
  assoc_model *user, *task, *other;
  assoc_association *tasks;
  assoc_attr_def name;
  assoc_field f;
  assoc_cond c;
  assoc_query q;
  assoc_value v, src;
  int64_t n;
  memset(&name, 0, sizeof name);
  name.name = "name";
  name.type = ASSOC_TYPE_STRING;
  CHECK(assoc_db_open("sqlite::memory:", NULL, &db) == ASSOC_OK);
  CHECK(assoc_model_define(db, "User", &name, 1, NULL, &user) == ASSOC_OK);
  CHECK(assoc_model_define(db, "User", &name, 1, NULL, &other) ==
        ASSOC_MISUSE);
  CHECK(strstr(assoc_db_errmsg(db), "User") != NULL);
  CHECK(assoc_model_define(db, "Task", &name, 1, NULL, &task) == ASSOC_OK);
  CHECK(assoc_association_define(user, ASSOC_HAS_MANY, task, NULL, &tasks) ==
        ASSOC_OK);
  CHECK(assoc_db_sync(db, 1) == ASSOC_OK);
  /* unknown attribute in a where, an order, a select list */
  memset(&c, 0, sizeof c);
  memset(&q, 0, sizeof q);
  v.kind = ASSOC_TEXT;
  v.u.s.p = "x";
  v.u.s.n = 1;
  c.kind = ASSOC_COND_CMP;
  c.attr = "nope";
  c.op = ASSOC_OP_EQ;
  c.values = &v;
  c.nvalues = 1;
  q.where = &c;
  CHECK(assoc_model_count(user, &q, &n) == ASSOC_MISUSE);
  CHECK(strstr(assoc_db_errmsg(db), "nope") != NULL);
  c.op = (assoc_op)999;
  c.attr = "name";
  CHECK(assoc_model_count(user, &q, &n) == ASSOC_MISUSE);
  /* a value of the wrong type for an integer key */
  f.attr = assoc_model_attr_index(task, "UserId");
  f.value = v;
  CHECK(f.attr >= 0);
  CHECK(assoc_model_insert(task, &f, 1, NULL) == ASSOC_MISUSE);
  CHECK(strstr(assoc_db_errmsg(db), "UserId") != NULL);
  f.attr = 99;
  CHECK(assoc_model_insert(task, &f, 1, NULL) == ASSOC_MISUSE);
  /* an unsaved source */
  src.kind = ASSOC_NULL;
  CHECK(assoc_association_count(tasks, &src, NULL, &n) == ASSOC_MISUSE);
  CHECK(assoc_association_count(tasks, NULL, NULL, &n) == ASSOC_MISUSE);
  /* the association of another model used with a foreign exists */
  {
    assoc_exists e;
    memset(&e, 0, sizeof e);
    e.association = tasks;
    memset(&q, 0, sizeof q);
    q.exists = &e;
    q.nexists = 1;
    CHECK(assoc_model_count(task, &q, &n) == ASSOC_MISUSE);
  }
  /* a closed database: every call refuses, nothing crashes */
  CHECK(assoc_db_close(db) == ASSOC_OK);
  src.kind = ASSOC_INT;
  src.u.i = 1;
  CHECK(assoc_model_count(user, NULL, &n) == ASSOC_MISUSE);
  CHECK(strstr(assoc_db_errmsg(db), "closed") != NULL);
  CHECK(assoc_association_count(tasks, &src, NULL, &n) == ASSOC_MISUSE);
  CHECK(assoc_association_add(tasks, &src, &src, 1, NULL, 0) ==
        ASSOC_MISUSE);
  CHECK(assoc_db_query(db, "SELECT 1", NULL, 0, NULL) == ASSOC_MISUSE);
  CHECK(assoc_model_define(db, "Late", &name, 1, NULL, &other) ==
        ASSOC_MISUSE);
  {
    assoc_txn *t;
    CHECK(assoc_txn_begin(db, &t) == ASSOC_MISUSE);
  }
  assoc_db_free(db);
  /* a bad URL still gives a handle with a message */
  CHECK(assoc_db_open("mysql://x", NULL, &db) == ASSOC_MISUSE);
  CHECK(strstr(assoc_db_errmsg(db), "mysql") != NULL);
  assoc_db_free(db);
  CHECK(assoc_db_open("sqlite:/nonexistent/dir/x.db", NULL, &db) ==
        ASSOC_CONNECTION);
  assoc_db_free(db);
}

int main(void) {
  null_handles();
  misuse_on_open_db();
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
