/*
** raw_sqlite.c: the benchmark's floor on SQLite: hand-written C on the
** sqlite3 API, every statement prepared once, rows copied into C structs.
**   raw_sqlite DBFILE main|w5|all NUSERS NPROJECTS N2 N3 N4
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "rows.h"

#define IMPL "raw_c"
#define DIALECT "sqlite"

static sqlite3 *db;

static void die(const char *what) {
  fprintf(stderr, "raw_sqlite: %s: %s\n", what, sqlite3_errmsg(db));
  exit(1);
}

static void exec(const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "raw_sqlite: %s\n  in: %s\n", err ? err : "?", sql);
    exit(1);
  }
}

static sqlite3_stmt *prepare(const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
      SQLITE_OK)
    die(sql);
  return st;
}

static void step_done(sqlite3_stmt *st) {
  if (sqlite3_step(st) != SQLITE_DONE) die("step");
  sqlite3_reset(st);
}

static const char *text(sqlite3_stmt *st, int col, size_t *len) {
  const char *s = (const char *)sqlite3_column_text(st, col);
  *len = (size_t)sqlite3_column_bytes(st, col);
  return s ? s : "";
}

static const char schema[] =
  "DROP TABLE IF EXISTS \"UserProjects\";"
  "DROP TABLE IF EXISTS \"Projects\";"
  "DROP TABLE IF EXISTS \"Users\";"
  "CREATE TABLE \"Users\" ("
  " \"id\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,"
  " \"name\" VARCHAR(255), \"createdAt\" DATETIME NOT NULL,"
  " \"updatedAt\" DATETIME NOT NULL);"
  "CREATE TABLE \"Projects\" ("
  " \"id\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,"
  " \"title\" VARCHAR(255), \"status\" VARCHAR(255),"
  " \"createdAt\" DATETIME NOT NULL, \"updatedAt\" DATETIME NOT NULL);"
  "CREATE TABLE \"UserProjects\" (\"role\" VARCHAR(255),"
  " \"createdAt\" DATETIME NOT NULL, \"updatedAt\" DATETIME NOT NULL,"
  " \"UserId\" INTEGER NOT NULL REFERENCES \"Users\" (\"id\")"
  " ON DELETE CASCADE ON UPDATE CASCADE,"
  " \"ProjectId\" INTEGER NOT NULL REFERENCES \"Projects\" (\"id\")"
  " ON DELETE CASCADE ON UPDATE CASCADE,"
  " PRIMARY KEY (\"UserId\", \"ProjectId\"));";

static const char insert_link_sql[] =
  "INSERT INTO \"UserProjects\" (\"role\", \"createdAt\", \"updatedAt\","
  " \"UserId\", \"ProjectId\") VALUES (?1, ?2, ?2, ?3, ?4)";

static void setup(const bench_plan *p) {
  sqlite3_stmt *iu, *ip;
  bench_rng r;
  char ts[32], title[64], name[32];
  const char *status;
  int i;
  double t0 = bench_now();
  exec(schema);
  iu = prepare("INSERT INTO \"Users\" (\"name\", \"createdAt\", \"updatedAt\")"
               " VALUES (?1, ?2, ?2)");
  ip = prepare("INSERT INTO \"Projects\" (\"title\", \"status\","
               " \"createdAt\", \"updatedAt\") VALUES (?1, ?2, ?3, ?3)");
  bench_iso_now(ts);
  exec("BEGIN");
  for (i = 1; i <= p->nu; i++) {
    snprintf(name, sizeof name, "user%d", i);
    sqlite3_bind_text(iu, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(iu, 2, ts, -1, SQLITE_STATIC);
    step_done(iu);
  }
  bench_rng_seed(&r, BENCH_SEED_SETUP);
  for (i = 1; i <= p->np; i++) {
    bench_project(&r, i, title, &status);
    sqlite3_bind_text(ip, 1, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(ip, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(ip, 3, ts, -1, SQLITE_STATIC);
    step_done(ip);
  }
  exec("COMMIT");
  sqlite3_finalize(iu);
  sqlite3_finalize(ip);
  bench_report(IMPL, DIALECT, "setup", bench_now() - t0, 2,
               p->nu + p->np, 0, -1, -1);
}

/* The W1 and W4 checksum: what the join table holds afterwards. */
static void verify_links(long long *rows, uint64_t *sum) {
  sqlite3_stmt *st = prepare(
    "SELECT count(*), coalesce(sum(\"UserId\" * 17 + \"ProjectId\" * 31"
    " + length(\"role\")), 0) FROM \"UserProjects\"");
  if (sqlite3_step(st) != SQLITE_ROW) die("verify");
  *rows = sqlite3_column_int64(st, 0);
  *sum = (uint64_t)sqlite3_column_int64(st, 1);
  sqlite3_finalize(st);
}

static void w1(const bench_plan *p) {
  sqlite3_stmt *begin = prepare("BEGIN"), *commit = prepare("COMMIT");
  sqlite3_stmt *ins = prepare(insert_link_sql);
  char ts[32];
  long long rows;
  uint64_t sum;
  int u, j;
  double t0 = bench_now();
  for (u = 1; u <= p->nu; u++) {
    const int *l = p->w1 + (size_t)(u - 1) * BENCH_K;
    bench_iso_now(ts);
    step_done(begin);
    sqlite3_bind_text(ins, 1, "member", 6, SQLITE_STATIC);
    sqlite3_bind_text(ins, 2, ts, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 3, u);
    for (j = 0; j < BENCH_K; j++) {
      sqlite3_bind_int64(ins, 4, l[j]);
      step_done(ins);
    }
    step_done(commit);
  }
  t0 = bench_now() - t0;
  verify_links(&rows, &sum);
  bench_report(IMPL, DIALECT, "W1", t0, p->nu, rows, sum, -1, -1);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  sqlite3_finalize(ins);
}

static void w2(const bench_plan *p) {
  sqlite3_stmt *st = prepare(
    "SELECT \"Project\".\"id\", \"Project\".\"title\", \"Project\".\"status\","
    " \"Project\".\"createdAt\", \"Project\".\"updatedAt\","
    " \"UserProject\".\"role\""
    " FROM \"UserProjects\" AS \"UserProject\""
    " JOIN \"Projects\" AS \"Project\""
    " ON \"Project\".\"id\" = \"UserProject\".\"ProjectId\""
    " WHERE \"UserProject\".\"UserId\" = ?1 AND \"Project\".\"status\" = ?2");
  row_set rs;
  uint64_t sum = 0;
  long long rows = 0;
  int i;
  size_t k;
  double t0;
  row_set_init(&rs);
  t0 = bench_now();
  for (i = 0; i < p->n2; i++) {
    int u = p->w2_user[i];
    row_set_clear(&rs);
    sqlite3_bind_int64(st, 1, u);
    sqlite3_bind_text(st, 2, "active", 6, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
      size_t n[5];
      const char *s[5];
      s[0] = text(st, 1, &n[0]);
      s[1] = text(st, 2, &n[1]);
      s[2] = text(st, 3, &n[2]);
      s[3] = text(st, 4, &n[3]);
      s[4] = text(st, 5, &n[4]);
      row_set_add(&rs, sqlite3_column_int64(st, 0), s, n);
    }
    if (sqlite3_reset(st) != SQLITE_OK) die("W2");
    for (k = 0; k < rs.n; k++) {
      const project_row *r = rs.rows[k];
      sum += bench_row_sum(u, r->id, r->len[PR_TITLE], r->len[PR_ROLE]);
    }
    rows += (long long)rs.n;
  }
  bench_report(IMPL, DIALECT, "W2", bench_now() - t0, p->n2, rows, sum, -1,
               -1);
  row_set_free(&rs);
  sqlite3_finalize(st);
}

static void w3(const bench_plan *p) {
  sqlite3_stmt *count = prepare(
    "SELECT count(*) FROM \"UserProjects\" WHERE \"UserId\" = ?1");
  sqlite3_stmt *has = prepare(
    "SELECT count(*) FROM \"UserProjects\" WHERE \"UserId\" = ?1"
    " AND \"ProjectId\" IN (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  uint64_t sum = 0;
  int i, j;
  double t0 = bench_now();
  for (i = 0; i < p->n3; i++) {
    const int *ids = p->w3_ids + (size_t)i * BENCH_HAS;
    int u = p->w3_user[i];
    sqlite3_bind_int64(count, 1, u);
    if (sqlite3_step(count) != SQLITE_ROW) die("W3 count");
    sum += (uint64_t)sqlite3_column_int64(count, 0);
    sqlite3_reset(count);
    sqlite3_bind_int64(has, 1, u);
    for (j = 0; j < BENCH_HAS; j++) sqlite3_bind_int64(has, j + 2, ids[j]);
    if (sqlite3_step(has) != SQLITE_ROW) die("W3 has");
    /* The ids are distinct, so all are linked iff all are counted. */
    if (sqlite3_column_int64(has, 0) == BENCH_HAS) sum += 1000;
    sqlite3_reset(has);
  }
  bench_report(IMPL, DIALECT, "W3", bench_now() - t0, 2L * p->n3,
               2LL * p->n3, sum, -1, -1);
  sqlite3_finalize(count);
  sqlite3_finalize(has);
}

static int in_ints(const int64_t *l, int n, int64_t v) {
  int i;
  for (i = 0; i < n; i++)
    if (l[i] == v) return 1;
  return 0;
}

static void w4(const bench_plan *p) {
  sqlite3_stmt *begin = prepare("BEGIN"), *commit = prepare("COMMIT");
  sqlite3_stmt *cur = prepare(
    "SELECT \"ProjectId\" FROM \"UserProjects\" WHERE \"UserId\" = ?1");
  sqlite3_stmt *del = prepare(
    "DELETE FROM \"UserProjects\" WHERE \"UserId\" = ?1"
    " AND \"ProjectId\" = ?2");
  sqlite3_stmt *ins = prepare(insert_link_sql);
  int64_t *have = NULL, want[BENCH_K];
  int cap = 0, i, j;
  char ts[32];
  long long rows;
  uint64_t sum;
  double t0 = bench_now();
  for (i = 0; i < p->n4; i++) {
    const int *l = p->w4_list + (size_t)i * BENCH_K;
    int u = p->w4_user[i], n = 0;
    for (j = 0; j < BENCH_K; j++) want[j] = l[j];
    bench_iso_now(ts);
    step_done(begin);
    sqlite3_bind_int64(cur, 1, u);
    while (sqlite3_step(cur) == SQLITE_ROW) {
      if (n == cap) {
        cap = cap ? 2 * cap : 64;
        have = bench_xrealloc(have, sizeof *have * (size_t)cap);
      }
      have[n++] = sqlite3_column_int64(cur, 0);
    }
    sqlite3_reset(cur);
    sqlite3_bind_int64(del, 1, u);
    for (j = 0; j < n; j++)
      if (!in_ints(want, BENCH_K, have[j])) {
        sqlite3_bind_int64(del, 2, have[j]);
        step_done(del);
      }
    sqlite3_bind_text(ins, 1, "member", 6, SQLITE_STATIC);
    sqlite3_bind_text(ins, 2, ts, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 3, u);
    for (j = 0; j < BENCH_K; j++)
      if (!in_ints(have, n, want[j])) {
        sqlite3_bind_int64(ins, 4, want[j]);
        step_done(ins);
      }
    step_done(commit);
  }
  t0 = bench_now() - t0;
  verify_links(&rows, &sum);
  bench_report(IMPL, DIALECT, "W4", t0, p->n4, rows, sum, -1, -1);
  free(have);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  sqlite3_finalize(cur);
  sqlite3_finalize(del);
  sqlite3_finalize(ins);
}

static void w5(void) {
  sqlite3_stmt *st = prepare(
    "SELECT \"User\".\"id\", \"User\".\"name\", \"User\".\"createdAt\","
    " \"User\".\"updatedAt\", \"Project\".\"id\", \"Project\".\"title\","
    " \"Project\".\"status\", \"Project\".\"createdAt\","
    " \"Project\".\"updatedAt\", \"UserProject\".\"role\""
    " FROM \"Users\" AS \"User\""
    " LEFT JOIN \"UserProjects\" AS \"UserProject\""
    " ON \"UserProject\".\"UserId\" = \"User\".\"id\""
    " LEFT JOIN \"Projects\" AS \"Project\""
    " ON \"Project\".\"id\" = \"UserProject\".\"ProjectId\"");
  user_set us;
  long base = bench_status_kb("VmRSS"), peak;
  uint64_t sum;
  long long rows;
  double t0;
  user_set_init(&us);
  t0 = bench_now();
  while (sqlite3_step(st) == SQLITE_ROW) {
    size_t n[5];
    const char *s[5];
    user_row *u;
    s[0] = text(st, 1, &n[0]);
    s[1] = text(st, 2, &n[1]);
    s[2] = text(st, 3, &n[2]);
    u = user_set_get(&us, sqlite3_column_int64(st, 0), s, n);
    if (sqlite3_column_type(st, 4) == SQLITE_NULL) continue;
    s[0] = text(st, 5, &n[0]);
    s[1] = text(st, 6, &n[1]);
    s[2] = text(st, 7, &n[2]);
    s[3] = text(st, 8, &n[3]);
    s[4] = text(st, 9, &n[4]);
    row_set_add(&u->projects, sqlite3_column_int64(st, 4), s, n);
  }
  if (sqlite3_reset(st) != SQLITE_OK) die("W5");
  sum = user_set_checksum(&us, &rows);
  t0 = bench_now() - t0;
  peak = bench_status_kb("VmHWM");
  bench_report(IMPL, DIALECT, "W5", t0, 1, rows, sum, base, peak);
  user_set_free(&us);
  sqlite3_finalize(st);
}

int main(int argc, char **argv) {
  bench_args a;
  bench_plan p;
  if (!bench_parse_args(argc, argv, &a, "DBFILE")) return 2;
  if (sqlite3_open(a.target, &db) != SQLITE_OK) die("open");
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
       " PRAGMA foreign_keys=ON");
  sqlite3_busy_timeout(db, 5000);
  if (bench_phase_main(&a)) {
    bench_plan_make(&p, &a);
    setup(&p);
    w1(&p);
    exec("ANALYZE");
    w2(&p);
    w3(&p);
    w4(&p);
    bench_plan_free(&p);
  }
  if (bench_phase_w5(&a)) w5();
  if (sqlite3_close(db) != SQLITE_OK) die("close");
  return 0;
}
