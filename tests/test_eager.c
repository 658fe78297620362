/*
** test_eager.c: eager loading through the C API: the targets of many
** sources in one statement for every association kind, per-source limits,
** per-source counts, and EXISTS filters for required includes.  Runs on
** SQLite, and on PostgreSQL too when ASSOC_PG_URL is set.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assoc.h"
#include "check.h"

static int statements;

static int count_statement(void *ud, const char *sql,
                           const assoc_value *params, size_t n) {
  (void)ud;
  (void)sql;
  (void)params;
  (void)n;
  statements++;
  return 0;
}

static assoc_value integer(int64_t i) {
  assoc_value v;
  v.kind = ASSOC_INT;
  v.u.i = i;
  return v;
}

static assoc_value text(const char *s) {
  assoc_value v;
  v.kind = ASSOC_TEXT;
  v.u.s.p = s;
  v.u.s.n = strlen(s);
  return v;
}

static void exec(assoc_db *db, const char *sql) {
  if (assoc_db_query(db, sql, NULL, 0, NULL) != ASSOC_OK)
    printf("query failed: %s: %s\n", sql, assoc_db_errmsg(db));
}

typedef struct fixture {
  assoc_db *db;
  assoc_model *user, *task, *project, *up;
  assoc_association *tasks, *owner, *projects, *profile;
  assoc_model *prof;
} fixture;

static int setup(fixture *f, const char *url) {
  assoc_attr_def name, title, role;
  assoc_association_opts o;
  assoc_open_opts oo;
  memset(f, 0, sizeof *f);
  memset(&oo, 0, sizeof oo);
  oo.log = count_statement;
  if (assoc_db_open(url, &oo, &f->db) != ASSOC_OK) {
    printf("cannot open %s: %s\n", url, assoc_db_errmsg(f->db));
    return 0;
  }
  if (strcmp(assoc_db_dialect(f->db), "postgres") == 0) {
    exec(f->db, "DROP SCHEMA IF EXISTS public CASCADE");
    exec(f->db, "CREATE SCHEMA public");
  }
  memset(&name, 0, sizeof name);
  name.name = "name";
  name.type = ASSOC_TYPE_STRING;
  title = name;
  title.name = "title";
  role = name;
  role.name = "role";
  assoc_model_define(f->db, "User", &name, 1, NULL, &f->user);
  assoc_model_define(f->db, "Task", &title, 1, NULL, &f->task);
  assoc_model_define(f->db, "Project", &title, 1, NULL, &f->project);
  assoc_model_define(f->db, "UserProject", &role, 1, NULL, &f->up);
  assoc_model_define(f->db, "Profile", &title, 1, NULL, &f->prof);
  memset(&o, 0, sizeof o);
  CHECK(assoc_association_define(f->user, ASSOC_HAS_MANY, f->task, &o,
                                 &f->tasks) == ASSOC_OK);
  CHECK(assoc_association_define(f->task, ASSOC_BELONGS_TO, f->user, &o,
                                 &f->owner) == ASSOC_OK);
  CHECK(assoc_association_define(f->user, ASSOC_HAS_ONE, f->prof, &o,
                                 &f->profile) == ASSOC_OK);
  o.through = f->up;
  CHECK(assoc_association_define(f->user, ASSOC_BELONGS_TO_MANY, f->project,
                                 &o, &f->projects) == ASSOC_OK);
  CHECK(assoc_db_sync(f->db, 1) == ASSOC_OK);
  exec(f->db, "INSERT INTO \"Users\" (name, \"createdAt\", \"updatedAt\") "
              "VALUES ('ann', '2026-01-01', '2026-01-01'), "
              "('bob', '2026-01-01', '2026-01-01'), "
              "('cid', '2026-01-01', '2026-01-01')");
  exec(f->db, "INSERT INTO \"Tasks\" (title, \"UserId\", \"createdAt\", "
              "\"updatedAt\") VALUES ('t1', 1, '2026-01-01', '2026-01-01'), "
              "('t2', 1, '2026-01-01', '2026-01-01'), "
              "('t3', 1, '2026-01-01', '2026-01-01'), "
              "('t4', 2, '2026-01-01', '2026-01-01')");
  exec(f->db, "INSERT INTO \"Projects\" (title, \"createdAt\", "
              "\"updatedAt\") VALUES ('alpha', '2026-01-01', '2026-01-01'), "
              "('beta', '2026-01-01', '2026-01-01')");
  exec(f->db, "INSERT INTO \"UserProjects\" (role, \"UserId\", "
              "\"ProjectId\", \"createdAt\", \"updatedAt\") VALUES "
              "('lead', 1, 1, '2026-01-01', '2026-01-01'), "
              "('dev', 1, 2, '2026-01-01', '2026-01-01'), "
              "('dev', 3, 2, '2026-01-01', '2026-01-01')");
  exec(f->db, "INSERT INTO \"Profiles\" (title, \"UserId\", \"createdAt\", "
              "\"updatedAt\") VALUES ('p2', 2, '2026-01-01', '2026-01-01')");
  return 1;
}

/* Rows of the cursor as "source:column0" pairs, joined by spaces. */
static void collect(assoc_rows *rows, size_t col, char *out, size_t cap) {
  size_t used = 0;
  out[0] = '\0';
  while (assoc_rows_step(rows) == ASSOC_ROW) {
    size_t last = assoc_rows_column_count(rows) - 1;
    assoc_value src, v;
    char cell[64];
    assoc_rows_value(rows, last, &src);
    assoc_rows_value(rows, col, &v);
    if (v.kind == ASSOC_TEXT)
      snprintf(cell, sizeof cell, "%s%lld:%.*s", used ? " " : "",
               (long long)src.u.i, (int)v.u.s.n, v.u.s.p);
    else
      snprintf(cell, sizeof cell, "%s%lld:%lld", used ? " " : "",
               (long long)src.u.i, (long long)v.u.i);
    if (used + strlen(cell) + 1 < cap) {
      strcpy(out + used, cell);
      used += strlen(cell);
    }
  }
}

static void run(const char *url) {
  fixture f;
  assoc_rows *rows;
  assoc_value keys[3];
  assoc_query q;
  assoc_order ord;
  char got[512];
  int title_col;
  if (!setup(&f, url)) {
    failed++;
    return;
  }
  keys[0] = integer(1);
  keys[1] = integer(2);
  keys[2] = integer(3);
  memset(&q, 0, sizeof q);
  ord.attr = "title";
  ord.desc = 0;
  q.order = &ord;
  q.norder = 1;
  title_col = assoc_model_attr_index(f.task, "title");

  statements = 0;
  CHECK(assoc_association_get_many(f.tasks, keys, 3, &q, &rows) == ASSOC_OK);
  collect(rows, (size_t)title_col, got, sizeof got);
  CHECK(strcmp(got, "1:t1 1:t2 1:t3 2:t4") == 0);
  CHECK(statements == 1);

  ord.desc = 1;
  q.limit = 2;
  CHECK(assoc_association_get_many(f.tasks, keys, 3, &q, &rows) == ASSOC_OK);
  collect(rows, (size_t)title_col, got, sizeof got);
  CHECK(strcmp(got, "1:t3 1:t2 2:t4") == 0);
  q.offset = 1;
  CHECK(assoc_association_get_many(f.tasks, keys, 3, &q, &rows) == ASSOC_OK);
  collect(rows, (size_t)title_col, got, sizeof got);
  CHECK(strcmp(got, "1:t2 1:t1") == 0);

  memset(&q, 0, sizeof q);
  CHECK(assoc_association_get_many(f.projects, keys, 3, &q, &rows) ==
        ASSOC_OK);
  {
    const assoc_model *m;
    int n = 0, join_cols = 0;
    size_t i;
    while (assoc_rows_step(rows) == ASSOC_ROW) n++;
    for (i = 0; i + 1 < assoc_rows_column_count(rows); i++) {
      assoc_rows_column_attr(rows, i, &m);
      if (m == f.up) join_cols++;
    }
    CHECK(n == 3);
    CHECK(join_cols == (int)assoc_model_attr_count(f.up));
  }

  /* belongsTo: the keys are the tasks' UserId values. */
  keys[0] = integer(1);
  keys[1] = text("2");
  CHECK(assoc_association_get_many(f.owner, keys, 2, &q, &rows) == ASSOC_OK);
  collect(rows, (size_t)assoc_model_attr_index(f.user, "name"), got,
          sizeof got);
  CHECK(strstr(got, "1:ann") && strstr(got, "2:bob"));

  keys[1] = integer(2);
  CHECK(assoc_association_get_many(f.profile, keys, 3, &q, &rows) ==
        ASSOC_OK);
  collect(rows, (size_t)assoc_model_attr_index(f.prof, "title"), got,
          sizeof got);
  CHECK(strcmp(got, "2:p2") == 0);

  CHECK(assoc_association_count_many(f.tasks, keys, 3, &q, &rows) ==
        ASSOC_OK);
  {
    int64_t counts[4] = {0, 0, 0, 0};
    while (assoc_rows_step(rows) == ASSOC_ROW) {
      assoc_value k, c;
      assoc_rows_value(rows, 0, &k);
      assoc_rows_value(rows, 1, &c);
      if (k.u.i >= 1 && k.u.i <= 3) counts[k.u.i] = c.u.i;
    }
    CHECK(counts[1] == 3 && counts[2] == 1 && counts[3] == 0);
  }

  /* Required: only users with a task titled t4. */
  {
    assoc_exists e;
    assoc_cond c;
    assoc_value t4 = text("t4");
    int64_t n = -1;
    memset(&e, 0, sizeof e);
    memset(&c, 0, sizeof c);
    c.kind = ASSOC_COND_CMP;
    c.attr = "title";
    c.op = ASSOC_OP_EQ;
    c.values = &t4;
    c.nvalues = 1;
    e.association = f.tasks;
    e.where = &c;
    q.exists = &e;
    q.nexists = 1;
    CHECK(assoc_model_count(f.user, &q, &n) == ASSOC_OK && n == 1);
    e.association = f.projects;
    e.where = NULL;
    CHECK(assoc_model_count(f.user, &q, &n) == ASSOC_OK && n == 2);
    e.association = f.owner;
    CHECK(assoc_model_count(f.user, &q, &n) == ASSOC_MISUSE);
    q.nexists = 0;
  }

  CHECK(assoc_association_get_many(f.tasks, NULL, 0, &q, &rows) ==
        ASSOC_OK);
  CHECK(assoc_rows_step(rows) == ASSOC_DONE);
  assoc_db_free(f.db);
}

int main(void) {
  const char *pg = getenv("ASSOC_PG_URL");
  run("sqlite::memory:");
  if (pg && *pg) run(pg);
  else printf("ASSOC_PG_URL not set: PostgreSQL pass skipped\n");
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
