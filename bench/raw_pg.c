/*
** raw_pg.c: the benchmark's floor on PostgreSQL: hand-written C on libpq,
** every statement prepared once, key sets sent as one array parameter,
** rows copied into C structs.
**   raw_pg CONNINFO main|w5|all NUSERS NPROJECTS N2 N3 N4
*/
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "rows.h"

#define IMPL "raw_c"
#define DIALECT "postgres"

static PGconn *conn;

static void die(const char *what, PGresult *res) {
  fprintf(stderr, "raw_pg: %s: %s\n", what,
          res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  exit(1);
}

static void check(PGresult *res, ExecStatusType want, const char *what) {
  if (PQresultStatus(res) != want) die(what, res);
}

static void exec(const char *sql) {
  PGresult *res = PQexec(conn, sql);
  check(res, PGRES_COMMAND_OK, sql);
  PQclear(res);
}

static void prepare(const char *name, const char *sql) {
  PGresult *res = PQprepare(conn, name, sql, 0, NULL);
  check(res, PGRES_COMMAND_OK, sql);
  PQclear(res);
}

static PGresult *run(const char *name, int n, const char *const *params,
                     ExecStatusType want) {
  PGresult *res = PQexecPrepared(conn, name, n, params, NULL, NULL, 0);
  check(res, want, name);
  return res;
}

/* An int[] parameter in text form: {1,2,3}. */
static void int_array(char *buf, size_t size, const int64_t *v, int n) {
  size_t at = 0;
  int i;
  buf[at++] = '{';
  for (i = 0; i < n; i++)
    at += (size_t)snprintf(buf + at, size - at, i ? ",%lld" : "%lld",
                           (long long)v[i]);
  buf[at++] = '}';
  buf[at] = '\0';
}

static void quiet(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

static const char schema[] =
  "DROP TABLE IF EXISTS \"UserProjects\";"
  "DROP TABLE IF EXISTS \"Projects\";"
  "DROP TABLE IF EXISTS \"Users\";"
  "CREATE TABLE \"Users\" (\"id\" SERIAL NOT NULL, \"name\" VARCHAR(255),"
  " \"createdAt\" TIMESTAMP WITH TIME ZONE NOT NULL,"
  " \"updatedAt\" TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (\"id\"));"
  "CREATE TABLE \"Projects\" (\"id\" SERIAL NOT NULL,"
  " \"title\" VARCHAR(255), \"status\" VARCHAR(255),"
  " \"createdAt\" TIMESTAMP WITH TIME ZONE NOT NULL,"
  " \"updatedAt\" TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (\"id\"));"
  "CREATE TABLE \"UserProjects\" (\"role\" VARCHAR(255),"
  " \"createdAt\" TIMESTAMP WITH TIME ZONE NOT NULL,"
  " \"updatedAt\" TIMESTAMP WITH TIME ZONE NOT NULL,"
  " \"UserId\" INTEGER NOT NULL REFERENCES \"Users\" (\"id\")"
  " ON DELETE CASCADE ON UPDATE CASCADE,"
  " \"ProjectId\" INTEGER NOT NULL REFERENCES \"Projects\" (\"id\")"
  " ON DELETE CASCADE ON UPDATE CASCADE,"
  " PRIMARY KEY (\"UserId\", \"ProjectId\"));";

/* One statement links a whole key set: $4 is the int[] of project ids. */
static const char insert_links_sql[] =
  "INSERT INTO \"UserProjects\" (\"role\", \"createdAt\", \"updatedAt\","
  " \"UserId\", \"ProjectId\") SELECT $1::varchar, $2::timestamptz,"
  " $2::timestamptz, $3::int, unnest($4::int[])";

static void setup(const bench_plan *p) {
  bench_rng r;
  char ts[32], title[64], name[32];
  const char *params[4];
  int i;
  double t0 = bench_now();
  exec(schema);
  prepare("iu", "INSERT INTO \"Users\" (\"name\", \"createdAt\","
                " \"updatedAt\") VALUES ($1, $2, $2)");
  prepare("ip", "INSERT INTO \"Projects\" (\"title\", \"status\","
                " \"createdAt\", \"updatedAt\") VALUES ($1, $2, $3, $3)");
  bench_iso_now(ts);
  exec("BEGIN");
  for (i = 1; i <= p->nu; i++) {
    snprintf(name, sizeof name, "user%d", i);
    params[0] = name;
    params[1] = ts;
    PQclear(run("iu", 2, params, PGRES_COMMAND_OK));
  }
  bench_rng_seed(&r, BENCH_SEED_SETUP);
  for (i = 1; i <= p->np; i++) {
    const char *status;
    bench_project(&r, i, title, &status);
    params[0] = title;
    params[1] = status;
    params[2] = ts;
    PQclear(run("ip", 3, params, PGRES_COMMAND_OK));
  }
  exec("COMMIT");
  bench_report(IMPL, DIALECT, "setup", bench_now() - t0, 2,
               p->nu + p->np, 0, -1, -1);
}

/* The W1 and W4 checksum: what the join table holds afterwards. */
static void verify_links(long long *rows, uint64_t *sum) {
  PGresult *res = PQexec(conn,
    "SELECT count(*), coalesce(sum(\"UserId\" * 17 + \"ProjectId\" * 31"
    " + length(\"role\")), 0) FROM \"UserProjects\"");
  check(res, PGRES_TUPLES_OK, "verify");
  *rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  *sum = (uint64_t)strtoll(PQgetvalue(res, 0, 1), NULL, 10);
  PQclear(res);
}

static void prepare_all(void) {
  prepare("links", insert_links_sql);
  prepare("get",
    "SELECT \"Project\".\"id\", \"Project\".\"title\", \"Project\".\"status\","
    " \"Project\".\"createdAt\", \"Project\".\"updatedAt\","
    " \"UserProject\".\"role\""
    " FROM \"UserProjects\" AS \"UserProject\""
    " JOIN \"Projects\" AS \"Project\""
    " ON \"Project\".\"id\" = \"UserProject\".\"ProjectId\""
    " WHERE \"UserProject\".\"UserId\" = $1::int"
    " AND \"Project\".\"status\" = $2");
  prepare("count",
    "SELECT count(*) FROM \"UserProjects\" WHERE \"UserId\" = $1::int");
  prepare("has",
    "SELECT count(*) FROM \"UserProjects\" WHERE \"UserId\" = $1::int"
    " AND \"ProjectId\" = ANY($2::int[])");
  prepare("current",
    "SELECT \"ProjectId\" FROM \"UserProjects\" WHERE \"UserId\" = $1::int");
  prepare("unlink",
    "DELETE FROM \"UserProjects\" WHERE \"UserId\" = $1::int"
    " AND \"ProjectId\" = ANY($2::int[])");
}

static void w1(const bench_plan *p) {
  char ts[32], uid[24], ids[BENCH_K * 24 + 4];
  const char *params[4];
  int64_t keys[BENCH_K];
  long long rows;
  uint64_t sum;
  int u, j;
  double t0 = bench_now();
  for (u = 1; u <= p->nu; u++) {
    const int *l = p->w1 + (size_t)(u - 1) * BENCH_K;
    for (j = 0; j < BENCH_K; j++) keys[j] = l[j];
    bench_iso_now(ts);
    snprintf(uid, sizeof uid, "%d", u);
    int_array(ids, sizeof ids, keys, BENCH_K);
    params[0] = "member";
    params[1] = ts;
    params[2] = uid;
    params[3] = ids;
    exec("BEGIN");
    PQclear(run("links", 4, params, PGRES_COMMAND_OK));
    exec("COMMIT");
  }
  t0 = bench_now() - t0;
  verify_links(&rows, &sum);
  bench_report(IMPL, DIALECT, "W1", t0, p->nu, rows, sum, -1, -1);
}

static void w2(const bench_plan *p) {
  row_set rs;
  uint64_t sum = 0;
  long long rows = 0;
  char uid[24];
  const char *params[2];
  int i;
  size_t k;
  double t0;
  row_set_init(&rs);
  t0 = bench_now();
  for (i = 0; i < p->n2; i++) {
    int u = p->w2_user[i], r, nr;
    PGresult *res;
    snprintf(uid, sizeof uid, "%d", u);
    params[0] = uid;
    params[1] = "active";
    row_set_clear(&rs);
    res = run("get", 2, params, PGRES_TUPLES_OK);
    nr = PQntuples(res);
    for (r = 0; r < nr; r++) {
      const char *s[5];
      size_t n[5];
      int c;
      for (c = 0; c < 5; c++) {
        s[c] = PQgetvalue(res, r, c + 1);
        n[c] = (size_t)PQgetlength(res, r, c + 1);
      }
      row_set_add(&rs, strtoll(PQgetvalue(res, r, 0), NULL, 10), s, n);
    }
    PQclear(res);
    for (k = 0; k < rs.n; k++) {
      const project_row *pr = rs.rows[k];
      sum += bench_row_sum(u, pr->id, pr->len[PR_TITLE], pr->len[PR_ROLE]);
    }
    rows += (long long)rs.n;
  }
  bench_report(IMPL, DIALECT, "W2", bench_now() - t0, p->n2, rows, sum, -1,
               -1);
  row_set_free(&rs);
}

static void w3(const bench_plan *p) {
  char uid[24], ids[BENCH_HAS * 24 + 4];
  const char *params[2];
  int64_t keys[BENCH_HAS];
  uint64_t sum = 0;
  int i, j;
  double t0 = bench_now();
  for (i = 0; i < p->n3; i++) {
    const int *l = p->w3_ids + (size_t)i * BENCH_HAS;
    PGresult *res;
    snprintf(uid, sizeof uid, "%d", p->w3_user[i]);
    params[0] = uid;
    res = run("count", 1, params, PGRES_TUPLES_OK);
    sum += (uint64_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    for (j = 0; j < BENCH_HAS; j++) keys[j] = l[j];
    int_array(ids, sizeof ids, keys, BENCH_HAS);
    params[1] = ids;
    res = run("has", 2, params, PGRES_TUPLES_OK);
    /* The ids are distinct, so all are linked iff all are counted. */
    if (strtoll(PQgetvalue(res, 0, 0), NULL, 10) == BENCH_HAS) sum += 1000;
    PQclear(res);
  }
  bench_report(IMPL, DIALECT, "W3", bench_now() - t0, 2L * p->n3,
               2LL * p->n3, sum, -1, -1);
}

static int in_ints(const int64_t *l, int n, int64_t v) {
  int i;
  for (i = 0; i < n; i++)
    if (l[i] == v) return 1;
  return 0;
}

static void w4(const bench_plan *p) {
  char ts[32], uid[24];
  char *ids = NULL;
  size_t idscap = 0;
  const char *params[4];
  int64_t *have = NULL, *keys = NULL, want[BENCH_K];
  int cap = 0, i, j;
  long long rows;
  uint64_t sum;
  double t0 = bench_now();
  for (i = 0; i < p->n4; i++) {
    const int *l = p->w4_list + (size_t)i * BENCH_K;
    PGresult *res;
    int n, r, nk;
    for (j = 0; j < BENCH_K; j++) want[j] = l[j];
    bench_iso_now(ts);
    snprintf(uid, sizeof uid, "%d", p->w4_user[i]);
    params[0] = uid;
    exec("BEGIN");
    res = run("current", 1, params, PGRES_TUPLES_OK);
    n = PQntuples(res);
    if (n + BENCH_K > cap) {
      cap = 2 * (n + BENCH_K);
      have = bench_xrealloc(have, sizeof *have * (size_t)cap);
      keys = bench_xrealloc(keys, sizeof *keys * (size_t)cap);
    }
    if ((size_t)(n + BENCH_K) * 24 + 4 > idscap) {
      idscap = (size_t)(n + BENCH_K) * 24 + 4;
      ids = bench_xrealloc(ids, idscap);
    }
    for (r = 0; r < n; r++) have[r] = strtoll(PQgetvalue(res, r, 0), NULL, 10);
    PQclear(res);
    for (nk = 0, j = 0; j < n; j++)
      if (!in_ints(want, BENCH_K, have[j])) keys[nk++] = have[j];
    if (nk) {
      int_array(ids, idscap, keys, nk);
      params[1] = ids;
      PQclear(run("unlink", 2, params, PGRES_COMMAND_OK));
    }
    for (nk = 0, j = 0; j < BENCH_K; j++)
      if (!in_ints(have, n, want[j])) keys[nk++] = want[j];
    if (nk) {
      int_array(ids, idscap, keys, nk);
      params[0] = "member";
      params[1] = ts;
      params[2] = uid;
      params[3] = ids;
      PQclear(run("links", 4, params, PGRES_COMMAND_OK));
    }
    exec("COMMIT");
  }
  t0 = bench_now() - t0;
  verify_links(&rows, &sum);
  bench_report(IMPL, DIALECT, "W4", t0, p->n4, rows, sum, -1, -1);
  free(have);
  free(keys);
  free(ids);
}

static void w5(void) {
  user_set us;
  long base, peak;
  uint64_t sum;
  long long rows;
  double t0;
  PGresult *res;
  int r, nr;
  prepare("eager",
    "SELECT \"User\".\"id\", \"User\".\"name\", \"User\".\"createdAt\","
    " \"User\".\"updatedAt\", \"Project\".\"id\", \"Project\".\"title\","
    " \"Project\".\"status\", \"Project\".\"createdAt\","
    " \"Project\".\"updatedAt\", \"UserProject\".\"role\""
    " FROM \"Users\" AS \"User\""
    " LEFT JOIN \"UserProjects\" AS \"UserProject\""
    " ON \"UserProject\".\"UserId\" = \"User\".\"id\""
    " LEFT JOIN \"Projects\" AS \"Project\""
    " ON \"Project\".\"id\" = \"UserProject\".\"ProjectId\"");
  base = bench_status_kb("VmRSS");
  user_set_init(&us);
  t0 = bench_now();
  res = run("eager", 0, NULL, PGRES_TUPLES_OK);
  nr = PQntuples(res);
  for (r = 0; r < nr; r++) {
    const char *s[5];
    size_t n[5];
    user_row *u;
    int c;
    for (c = 0; c < 3; c++) {
      s[c] = PQgetvalue(res, r, c + 1);
      n[c] = (size_t)PQgetlength(res, r, c + 1);
    }
    u = user_set_get(&us, strtoll(PQgetvalue(res, r, 0), NULL, 10), s, n);
    if (PQgetisnull(res, r, 4)) continue;
    for (c = 0; c < 5; c++) {
      s[c] = PQgetvalue(res, r, c + 5);
      n[c] = (size_t)PQgetlength(res, r, c + 5);
    }
    row_set_add(&u->projects, strtoll(PQgetvalue(res, r, 4), NULL, 10), s, n);
  }
  PQclear(res);
  sum = user_set_checksum(&us, &rows);
  t0 = bench_now() - t0;
  peak = bench_status_kb("VmHWM");
  bench_report(IMPL, DIALECT, "W5", t0, 1, rows, sum, base, peak);
  user_set_free(&us);
}

int main(int argc, char **argv) {
  bench_args a;
  bench_plan p;
  if (!bench_parse_args(argc, argv, &a, "CONNINFO")) return 2;
  conn = PQconnectdb(a.target);
  if (PQstatus(conn) != CONNECTION_OK) die("connect", NULL);
  PQsetNoticeProcessor(conn, quiet, NULL);
  if (bench_phase_main(&a)) {
    bench_plan_make(&p, &a);
    setup(&p);
    prepare_all();
    w1(&p);
    exec("ANALYZE");
    w2(&p);
    w3(&p);
    w4(&p);
    bench_plan_free(&p);
  }
  if (bench_phase_w5(&a)) w5();
  PQfinish(conn);
  return 0;
}
