/*
** dialect_pg.c: the PostgreSQL driver over libpq.  Server-side prepared
** statements with text-format parameters (binary for blobs), results in
** text decoded by column type, SQLSTATEs mapped to assoc's status codes.
*/
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect.h"

/* Shared with the SQLite driver's messages (dialect.h), so it exists even
** in a build without libpq. */
int assoc__classify_sqlstate(const char *sqlstate) {
  if (sqlstate == NULL || strlen(sqlstate) != 5)
    return ASSOC_ERROR;
  if (strcmp(sqlstate, "23505") == 0)
    return ASSOC_UNIQUE;
  if (strcmp(sqlstate, "23503") == 0)
    return ASSOC_FOREIGN_KEY;
  /* NOT NULL (23502) stays a DatabaseError, as Sequelize reports it on the
  ** join table; falls through to the default below. */
  if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
      strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0)
    return ASSOC_CONNECTION;
  if (strcmp(sqlstate, "25P02") == 0)
    return ASSOC_TRANSACTION;
  return ASSOC_ERROR;
}

#ifdef ASSOC_WITH_PG

#include <libpq-events.h>
#include <libpq-fe.h>

/* Type OIDs from pg_type.h (stable across server versions). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_OID 26
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_TIMESTAMP 1114
#define OID_TIMESTAMPTZ 1184
#define OID_NUMERIC 1700
#define OID_NAME 19
#define OID_TEXT 25
#define OID_JSON 114
#define OID_BPCHAR 1042
#define OID_VARCHAR 1043
#define OID_JSONB 3802

/* A prepared statement: the server knows it by name. */
typedef struct pg_stmt {
  char name[32];
  int nparams;
  int binary;                /* results in binary format: 1, 0, -1 unknown */
} pg_stmt;

/* A decoded value kept until its column is decoded for another row or the
** result is reset, so every column of the current row stays readable at
** once ("borrowed until the next step"). */
typedef struct pg_cell {
  unsigned char *bytes;      /* unescaped bytea (PQfreemem) */
  size_t n;
  int64_t row;               /* row `bytes` belongs to, -1 none */
  char text[48];             /* normalized timestamp */
  size_t textn;
  char raw[40];              /* the server's text that `text` came from */
  size_t rawn;               /* 0: none */
} pg_cell;

/* What rows->result points to while a result is open: the PGresult and
** the driver-owned buffers of decoded values (rows->scratch is left to the
** core's conversions).  Freed by reset. */
typedef struct pg_result {
  PGresult *res;
  int binary;                /* PQfformat of every column */
  int ntuples;
  size_t ncells;
  pg_cell cells[];           /* ncells of them */
} pg_result;

/* Statement names only have to be unique within a session.  The counter
** only grows, so a name is never reused even when a DEALLOCATE could not
** run (aborted transaction); prepare retries on a clash with a name the
** host chose. */
static unsigned long stmt_counter;

static unsigned long next_stmt_id(void) {
#if defined(__GNUC__)
  return __atomic_add_fetch(&stmt_counter, 1, __ATOMIC_RELAXED);
#else
  return ++stmt_counter;
#endif
}

static void swallow_notice(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

/* libpq messages end with a newline; a status message reads better
** without it. */
static void trim_right(char *s) {
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
}

/* The connection-level message, first line only, trimmed (NULL-safe). */
static void conn_message(PGconn *conn, char *buf, size_t size) {
  const char *m = conn ? PQerrorMessage(conn) : NULL;
  size_t n;
  if (m == NULL || *m == '\0')
    m = "no connection to the server";
  n = strcspn(m, "\n");
  if (n >= size)
    n = size - 1;
  memcpy(buf, m, n);
  buf[n] = '\0';
  trim_right(buf);
  /* libpq prefixes server messages with their severity */
  if (strncmp(buf, "FATAL:  ", 8) == 0 || strncmp(buf, "ERROR:  ", 8) == 0)
    memmove(buf, buf + 8, strlen(buf + 8) + 1);
}

/* Set the error of a failed command.  res may be NULL (libpq could not
** even send it).  A dead connection wins over the SQLSTATE: the server may
** have sent 57P01 or nothing at all before closing. */
static int result_error(assoc_db *db, const PGresult *res) {
  PGconn *conn = db->conn;
  const char *state = NULL, *primary = NULL, *detail = NULL;
  char line[512];
  int code;

  if (res != NULL) {
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
  }
  if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
    if (primary == NULL) {
      conn_message(conn, line, sizeof line);
      primary = line;
    }
    return assoc__error(db, ASSOC_CONNECTION, "connection lost: %s", primary);
  }
  if (res == NULL) {
    conn_message(conn, line, sizeof line);
    code = strstr(line, "out of memory") ? ASSOC_NOMEM : ASSOC_ERROR;
    return assoc__error(db, code, "%s", line);
  }
  code = assoc__classify_sqlstate(state);
  if (primary == NULL) {
    const char *m = PQresultErrorMessage(res);
    if (m == NULL || *m == '\0') {
      conn_message(conn, line, sizeof line);
    } else {
      snprintf(line, sizeof line, "%s", m);
      trim_right(line);
    }
    primary = line;
  }
  if (detail != NULL && *detail != '\0')
    return assoc__error(db, code, "%s: %s", primary, detail);
  return assoc__error(db, code, "%s", primary);
}

static int command_ok(const PGresult *res) {
  ExecStatusType s = PQresultStatus(res);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ||
         s == PGRES_EMPTY_QUERY;
}

/* ------------------------------------------------- deferred statements */

/* BEGIN, and the savepoints that transactions and atomic accessors open
** and release, cannot fail on a working session, and nothing needs their
** answer: they wait here for the next statement and travel with it in
** one pipeline.  A transaction of one accessor call is then two round
** trips (BEGIN + the statement, COMMIT), not three, and a setProjects
** inside it adds no round trip for its savepoint.  The list belongs to
** the connection (libpq instance data), for connections assoc opened. */
#define PENDING_MAX 8

typedef struct pg_conn_state {
  int npending;
  char pending[PENDING_MAX][48];
} pg_conn_state;

static int pg_event(PGEventId id, void *info, void *pass) {
  (void)pass;
  if (id == PGEVT_CONNRESET) {            /* a new session: nothing owed */
    pg_conn_state *cs = PQinstanceData(((PGEventConnReset *)info)->conn,
                                       pg_event);
    if (cs != NULL)
      cs->npending = 0;
  } else if (id == PGEVT_CONNDESTROY) {
    assoc__free(PQinstanceData(((PGEventConnDestroy *)info)->conn,
                               pg_event));
  }
  return 1;
}

static pg_conn_state *conn_state(assoc_db *db) {
  return db->owns_conn && db->conn != NULL ? PQinstanceData(db->conn,
                                                            pg_event)
                                           : NULL;
}

/* Without the state (out of memory, a host's connection) every statement
** simply goes at once. */
static void attach_state(assoc_db *db) {
  pg_conn_state *cs;
  if (!db->owns_conn || PQinstanceData(db->conn, pg_event) != NULL)
    return;
  cs = assoc__malloc(sizeof *cs);
  if (cs == NULL)
    return;
  cs->npending = 0;
  if (!PQregisterEventProc(db->conn, pg_event, "assoc", NULL) ||
      !PQsetInstanceData(db->conn, pg_event, cs))
    assoc__free(cs);
}

static int deferrable(const char *sql) {
  return strcmp(sql, "BEGIN") == 0 ||
         strncmp(sql, "SAVEPOINT assoc_sp_", 19) == 0 ||
         strncmp(sql, "RELEASE SAVEPOINT assoc_sp_", 27) == 0;
}

/* Queue sql if it can wait; 1 if it was queued. */
static int defer(assoc_db *db, const char *sql) {
  pg_conn_state *cs = conn_state(db);
  if (cs == NULL || !deferrable(sql) || cs->npending == PENDING_MAX ||
      strlen(sql) >= sizeof cs->pending[0])
    return 0;
  strcpy(cs->pending[cs->npending++], sql);
  return 1;
}

/* Send the n deferred statements (their results are read back by
** read_pending); 0 if sending failed. */
static int send_pending(PGconn *conn, const pg_conn_state *cs, int n) {
  int i;
  for (i = 0; i < n; i++)
    if (!PQsendQueryParams(conn, cs->pending[i], 0, NULL, NULL, NULL, NULL,
                           0))
      return 0;
  return 1;
}

/* Drain the results of one pipelined command; keep the first. */
static PGresult *take_result(PGconn *conn) {
  PGresult *first = NULL, *r;
  while ((r = PQgetResult(conn)) != NULL) {
    if (first == NULL) first = r;
    else PQclear(r);
  }
  return first;
}

/* Read the results of n deferred statements: NULL if all went well, else
** the first failure (PQclear it). */
static PGresult *read_pending(PGconn *conn, int n, int *failed) {
  PGresult *fail = NULL;
  int i;
  for (i = 0; i < n; i++) {
    PGresult *r = take_result(conn);
    if (fail == NULL && !*failed && (r == NULL || !command_ok(r))) {
      fail = r;
      *failed = 1;
    } else {
      PQclear(r);
    }
  }
  return fail;
}

static void read_sync(PGconn *conn) {
  PGresult *r;
  while ((r = PQgetResult(conn)) != NULL) {
    int sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (sync) break;
  }
}

/* Run the deferred statements and then sql (one statement, or NULL), in
** one round trip when the connection can pipeline.  The first failure is
** the result. */
static int run_pending(assoc_db *db, const char *sql) {
  PGconn *conn = db->conn;
  pg_conn_state *cs = conn_state(db);
  PGresult *fail = NULL, *last;
  int i, n = cs ? cs->npending : 0, failed = 0, rc = ASSOC_OK;
  if (cs != NULL)
    cs->npending = 0;
  if (!PQenterPipelineMode(conn)) {
    /* one at a time, then */
    for (i = 0; i <= n && !failed; i++) {
      const char *q = i < n ? cs->pending[i] : sql;
      PGresult *r;
      if (q == NULL)
        break;
      r = PQexec(conn, q);
      if (r == NULL || !command_ok(r)) {
        rc = result_error(db, r);
        failed = 1;
      }
      PQclear(r);
    }
    return rc;
  }
  if ((cs != NULL && !send_pending(conn, cs, n)) ||
      (sql != NULL &&
       !PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0)) ||
      !PQpipelineSync(conn)) {
    PQexitPipelineMode(conn);
    return result_error(db, NULL);
  }
  fail = read_pending(conn, n, &failed);
  if (sql != NULL) {
    last = take_result(conn);
    if (!failed && (last == NULL || !command_ok(last))) {
      fail = last;
      failed = 1;
    } else {
      PQclear(last);
    }
  }
  read_sync(conn);
  PQexitPipelineMode(conn);
  if (failed) {
    rc = result_error(db, fail);
    PQclear(fail);
  }
  return rc;
}

/* ------------------------------------------------------------ connection */

static int pg_exec_simple(assoc_db *db, const char *sql) {
  PGresult *res;
  pg_conn_state *cs;
  int rc = ASSOC_OK;
  if (db->conn == NULL)
    return assoc__error(db, ASSOC_CONNECTION, "connection lost: %s",
                        "no connection to the server");
  if (defer(db, sql))
    return ASSOC_OK;
  cs = conn_state(db);
  if (cs != NULL && cs->npending > 0) {
    /* One statement (COMMIT, ROLLBACK...) goes along with what waits;
    ** a script (no extended protocol for those) goes after it. */
    if (strchr(sql, ';') == NULL)
      return run_pending(db, sql);
    rc = run_pending(db, NULL);
    if (rc != ASSOC_OK)
      return rc;
  }
  res = PQexec(db->conn, sql);
  if (res == NULL || !command_ok(res))
    rc = result_error(db, res);
  PQclear(res);
  return rc;
}

static int pg_connect(assoc_db *db, const char *target) {
  PGconn *conn = PQconnectdb(target);
  char msg[1024];
  if (conn == NULL)
    return assoc__error(db, ASSOC_NOMEM, "out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
    trim_right(msg);
    PQfinish(conn);
    return assoc__error(db, ASSOC_CONNECTION, "%s", msg);
  }
  db->conn = conn;
  return ASSOC_OK;
}

static void pg_disconnect(assoc_db *db) {
  if (db->conn != NULL)
    PQfinish(db->conn);
  db->conn = NULL;
}

/* ISO dates in UTC are what the timestamp decoder expects; a host's own
** connection keeps its notice processor. */
static int pg_setup(assoc_db *db) {
  if (db->conn == NULL)
    return assoc__error(db, ASSOC_CONNECTION, "connection lost: %s",
                        "no connection to the server");
  if (db->owns_conn) {
    PQsetNoticeProcessor(db->conn, swallow_notice, NULL);
    attach_state(db);
  }
  return pg_exec_simple(db,
                        "SET client_min_messages TO WARNING; "
                        "SET TIME ZONE 'UTC'; "
                        "SET datestyle TO ISO; "
                        "SET client_encoding TO 'UTF8'; "
                        "SET extra_float_digits TO 3");
}

static int pg_alive(assoc_db *db) {
  return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK;
}

static int pg_reconnect(assoc_db *db) {
  char msg[512];
  if (db->conn == NULL)
    return assoc__error(db, ASSOC_CONNECTION, "connection lost: %s",
                        "no connection to the server");
  PQreset(db->conn);
  if (PQstatus(db->conn) != CONNECTION_OK) {
    conn_message(db->conn, msg, sizeof msg);
    return assoc__error(db, ASSOC_CONNECTION, "could not reconnect: %s",
                        msg);
  }
  return pg_setup(db);
}

/* ------------------------------------------------------------ statements */

/* Results in binary format spare the server formatting every value as
** text (timestamps above all) and us parsing it back.  Only when every column
** is of a type pg_column decodes in binary; anything else (numeric, uuid,
** a user's type) keeps the whole statement in text. */
static int binary_decodable(Oid type) {
  switch (type) {
  case OID_BOOL: case OID_BYTEA: case OID_INT2: case OID_INT4: case OID_INT8:
  case OID_OID: case OID_FLOAT4: case OID_FLOAT8: case OID_NAME:
  case OID_TEXT: case OID_JSON: case OID_BPCHAR: case OID_VARCHAR:
  case OID_JSONB: case OID_TIMESTAMP: case OID_TIMESTAMPTZ:
    return 1;
  default:
    return 0;
  }
}

/* From a described statement, or a first result. */
static int binary_result_types(const PGresult *res) {
  int i, n = PQnfields(res), ok = n > 0;
  for (i = 0; i < n && ok; i++) ok = binary_decodable(PQftype(res, i));
  return ok;
}

/* libpq refuses a ParameterDescription message over 30000 bytes (it takes
** it for lost synchronisation and drops the connection): statements with
** more parameters (bulk inserts) are not described, and learn their
** format from their first result instead. */
#define DESCRIBE_MAX_PARAMS 4096

/* PREPARE, and DESCRIBE in the same round trip (pipeline mode), so that
** even the first execution comes in binary.  The PREPARE's result. */
static PGresult *prepare_described(PGconn *conn, pg_stmt *st,
                                   const char *sql) {
  PGresult *res, *desc;
  st->binary = -1;           /* known after the first execution */
  if (st->nparams > DESCRIBE_MAX_PARAMS || !PQenterPipelineMode(conn))
    return PQprepare(conn, st->name, sql, st->nparams, NULL);
  if (!PQsendPrepare(conn, st->name, sql, st->nparams, NULL) ||
      !PQsendDescribePrepared(conn, st->name) || !PQpipelineSync(conn)) {
    PQexitPipelineMode(conn);
    return NULL;
  }
  res = take_result(conn);
  desc = take_result(conn);
  if (desc != NULL && PQresultStatus(desc) == PGRES_COMMAND_OK)
    st->binary = binary_result_types(desc);
  PQclear(desc);
  read_sync(conn);
  PQexitPipelineMode(conn);
  return res;
}

static int pg_prepare(assoc_db *db, const char *sql, size_t nparams,
                      void **stmt) {
  pg_stmt *st;
  PGresult *res = NULL;
  int tries, rc = ASSOC_OK;

  *stmt = NULL;
  if (nparams > INT_MAX)
    return assoc__error(db, ASSOC_MISUSE, "too many parameters (%zu)",
                        nparams);
  if (db->conn == NULL)
    return assoc__error(db, ASSOC_CONNECTION, "connection lost: %s",
                        "no connection to the server");
  st = assoc__malloc(sizeof *st);
  if (st == NULL)
    return assoc__error(db, ASSOC_NOMEM, "out of memory");
  st->nparams = (int)nparams;
  for (tries = 0; tries < 8; tries++) {
    const char *state;
    snprintf(st->name, sizeof st->name, "assoc_%lu", next_stmt_id());
    PQclear(res);
    res = prepare_described(db->conn, st, sql);
    if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK)
      break;
    state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state == NULL || strcmp(state, "42P05") != 0)
      break;                 /* anything but "already exists" is final */
  }
  if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
    rc = result_error(db, res);
  PQclear(res);
  if (rc != ASSOC_OK) {
    assoc__free(st);
    return rc;
  }
  *stmt = st;
  return ASSOC_OK;
}

/* A new session (after PQreset) no longer knows the statement, and an
** aborted transaction refuses DEALLOCATE: both are fine to ignore, the
** name is never reused. */
static void pg_finalize(assoc_db *db, void *stmt) {
  pg_stmt *st = stmt;
  PGTransactionStatusType ts;
  if (st == NULL)
    return;
  ts = db->conn != NULL ? PQtransactionStatus(db->conn) : PQTRANS_UNKNOWN;
  if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK &&
      (ts == PQTRANS_IDLE || ts == PQTRANS_INTRANS)) {
    char sql[64];
    snprintf(sql, sizeof sql, "DEALLOCATE \"%s\"", st->name);
    PQclear(PQexec(db->conn, sql));
  }
  assoc__free(st);
}

static void pg_reset(assoc_rows *rows) {
  pg_result *r = rows->result;
  size_t i;
  if (r != NULL) {
    for (i = 0; i < r->ncells; i++)
      if (r->cells[i].bytes != NULL)
        PQfreemem(r->cells[i].bytes);
    PQclear(r->res);
    assoc__free(r);
  }
  rows->result = NULL;
  rows->row = -1;
  rows->state = 0;
}

/* Text-format parameter storage: 32 bytes hold any int64 or %.17g. */
#define NUMBUF 32

/* v in decimal, NUL-terminated, into p[NUMBUF] (snprintf costs more than
** the rest of binding a statement). */
static void fmt_int(char *p, int64_t v) {
  p[assoc__int_decimal(p, v)] = '\0';
}

/* Inside a transaction a failed statement would abort the whole
** transaction on PostgreSQL, and the promise is that a failed call changes
** nothing.  How each statement keeps it:
**   GUARD_NONE       outside a transaction, or inside a level an accessor
**                    opened for its own atomicity (a failure rolls that
**                    whole level back anyway);
**   GUARD_REBEGIN    the transaction has run nothing yet (its BEGIN still
**                    waits to be sent): a failure is undone by ROLLBACK,
**                    and the BEGIN and savepoints wait again, as before;
**   GUARD_SAVEPOINT  otherwise: the statement runs between SAVEPOINT and
**                    RELEASE, sent with it in one pipeline (one round
**                    trip, as without), and a failure rolls back only it.
** So W1's BEGIN; INSERT; COMMIT costs what the hand-written one does. */
enum { GUARD_NONE, GUARD_REBEGIN, GUARD_SAVEPOINT };
static const char GUARD_BEGIN[] = "SAVEPOINT assoc_stmt";
static const char GUARD_END[] = "RELEASE SAVEPOINT assoc_stmt";

static int guard_mode(assoc_db *db) {
  const pg_conn_state *cs;
  if (db->depth == 0 || db->level_atomic[db->depth]) return GUARD_NONE;
  cs = conn_state(db);
  if (cs != NULL && cs->npending > 0 && strcmp(cs->pending[0], "BEGIN") == 0)
    return GUARD_REBEGIN;
  return GUARD_SAVEPOINT;
}

/* The statement (between SAVEPOINT and RELEASE when guard is
** GUARD_SAVEPOINT), after whatever was deferred, in one pipeline.  A
** deferred statement that failed is the result (and the rest was not
** run); *pending_failed says so. */
static PGresult *exec_pipelined(assoc_db *db, pg_stmt *st,
                                const char **values, const int *lengths,
                                const int *formats, int guard,
                                int *pending_failed) {
  PGconn *conn = db->conn;
  pg_conn_state *cs = conn_state(db);
  PGresult *res, *fail;
  int n = cs ? cs->npending : 0, failed = 0;
  int savepoint = guard == GUARD_SAVEPOINT;
  *pending_failed = 0;
  if (n == 0 && !savepoint)
    return PQexecPrepared(conn, st->name, st->nparams, values, lengths,
                          formats, st->binary > 0);
  if (!PQenterPipelineMode(conn)) {
    if (n > 0 && run_pending(db, NULL) != ASSOC_OK) {
      *pending_failed = 1;
      return NULL;
    }
    return PQexecPrepared(conn, st->name, st->nparams, values, lengths,
                          formats, st->binary > 0);
  }
  if (cs != NULL)
    cs->npending = 0;
  if ((cs != NULL && n > 0 && !send_pending(conn, cs, n)) ||
      (savepoint &&
       !PQsendQueryParams(conn, GUARD_BEGIN, 0, NULL, NULL, NULL, NULL, 0)) ||
      !PQsendQueryPrepared(conn, st->name, st->nparams, values, lengths,
                           formats, st->binary > 0) ||
      (savepoint &&
       !PQsendQueryParams(conn, GUARD_END, 0, NULL, NULL, NULL, NULL, 0)) ||
      !PQpipelineSync(conn)) {
    PQexitPipelineMode(conn);
    return NULL;
  }
  fail = read_pending(conn, n, &failed);
  if (savepoint) PQclear(take_result(conn));   /* SAVEPOINT */
  res = take_result(conn);                     /* the statement */
  if (savepoint) PQclear(take_result(conn));   /* RELEASE, or aborted */
  read_sync(conn);
  PQexitPipelineMode(conn);
  if (failed) {
    PQclear(res);
    *pending_failed = 1;
    return fail;
  }
  return res;
}

/* After a statement failed inside a transaction: back to the state before
** it.  saved holds what waited to be sent before it (GUARD_REBEGIN). */
static void undo_statement(assoc_db *db, int guard,
                           const pg_conn_state *saved) {
  pg_conn_state *cs;
  if (guard == GUARD_NONE || PQstatus(db->conn) != CONNECTION_OK) return;
  if (PQtransactionStatus(db->conn) != PQTRANS_INERROR) return;
  if (guard == GUARD_SAVEPOINT) {
    PQclear(PQexec(db->conn, "ROLLBACK TO SAVEPOINT assoc_stmt; "
                             "RELEASE SAVEPOINT assoc_stmt"));
    return;
  }
  PQclear(PQexec(db->conn, "ROLLBACK"));
  cs = conn_state(db);
  if (cs != NULL && PQtransactionStatus(db->conn) == PQTRANS_IDLE)
    *cs = *saved;                  /* BEGIN and savepoints wait again */
}

static int pg_execute(assoc_db *db, void *stmt, const assoc_value *params,
                      size_t nparams, assoc_rows *rows) {
  pg_stmt *st = stmt;
  const char **values = NULL;
  int *lengths = NULL, *formats = NULL;
  char *text = NULL, *p;
  size_t i, need = 0, size;
  PGresult *res;
  pg_result *r;
  int ncols, rc = ASSOC_OK, guard, pending_failed;
  pg_conn_state saved;
  const char *tuples;
  /* The arrays and the text of a usual statement fit here: no malloc. */
  union {
    char c[1024];
    const char *align;
  } small;
  void *block = NULL;

  pg_reset(rows);
  rows->ncols = 0;
  rows->changes = 0;
  rows->pending = 0;
  if (st == NULL || db->conn == NULL)
    return assoc__error(db, ASSOC_CONNECTION, "connection lost: %s",
                        "no connection to the server");
  if (nparams != (size_t)st->nparams)
    return assoc__error(db, ASSOC_MISUSE,
                        "statement takes %d parameters, %zu given",
                        st->nparams, nparams);

  /* One block for the converted values; text is copied to add the NUL
  ** that libpq's text format needs. */
  for (i = 0; i < nparams; i++) {
    switch (params[i].kind) {
    case ASSOC_INT: case ASSOC_REAL: need += NUMBUF; break;
    case ASSOC_BOOL: need += 2; break;
    case ASSOC_TEXT:
      if (params[i].u.s.n > 0 &&
          memchr(params[i].u.s.p, '\0', params[i].u.s.n) != NULL)
        return assoc__error(db, ASSOC_ERROR,
                            "invalid byte sequence for encoding \"UTF8\": "
                            "0x00 (parameter $%zu)", i + 1);
      need += params[i].u.s.n + 1;
      break;
    default: break;
    }
  }
  if (nparams > 0) {
    /* values, lengths, formats and the text in one block */
    size = nparams * (sizeof *values + 2 * sizeof *lengths) + need + 1;
    block = size <= sizeof small.c ? small.c : assoc__malloc(size);
    if (block == NULL) {
      rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
      goto done;
    }
    values = block;
    lengths = (int *)(void *)(values + nparams);
    formats = lengths + nparams;
    text = (char *)(formats + nparams);
  }
  p = text;
  for (i = 0; i < nparams; i++) {
    const assoc_value *v = &params[i];
    lengths[i] = 0;
    formats[i] = 0;
    switch (v->kind) {
    case ASSOC_INT:
      fmt_int(p, v->u.i);
      values[i] = p;
      p += NUMBUF;
      break;
    case ASSOC_REAL:
      if (isnan(v->u.r))
        strcpy(p, "NaN");
      else if (isinf(v->u.r))
        strcpy(p, v->u.r > 0 ? "Infinity" : "-Infinity");
      else
        snprintf(p, NUMBUF, "%.17g", v->u.r);
      values[i] = p;
      p += NUMBUF;
      break;
    case ASSOC_BOOL:
      p[0] = v->u.b ? 't' : 'f';
      p[1] = '\0';
      values[i] = p;
      p += 2;
      break;
    case ASSOC_TEXT:
      if (v->u.s.n > 0)
        memcpy(p, v->u.s.p, v->u.s.n);
      p[v->u.s.n] = '\0';
      values[i] = p;
      p += v->u.s.n + 1;
      break;
    case ASSOC_BLOB:
      if (v->u.s.n > INT_MAX) {
        rc = assoc__error(db, ASSOC_MISUSE, "blob parameter $%zu too large",
                          i + 1);
        goto done;
      }
      /* a NULL pointer would mean SQL NULL */
      values[i] = v->u.s.p != NULL ? v->u.s.p : "";
      lengths[i] = (int)v->u.s.n;
      formats[i] = 1;
      break;
    default:
      values[i] = NULL;
      break;
    }
  }

  guard = guard_mode(db);
  if (guard == GUARD_REBEGIN) saved = *conn_state(db);
  res = exec_pipelined(db, st, values, lengths, formats, guard,
                       &pending_failed);
  if (res == NULL && pending_failed) {   /* run_pending set the error */
    rc = db->errcode;
    goto done;
  }
  if (res == NULL || !command_ok(res)) {
    rc = result_error(db, res);
    PQclear(res);
    if (!pending_failed) undo_statement(db, guard, &saved);
    goto done;
  }
  ncols = PQnfields(res);
  r = assoc__malloc(sizeof *r + (size_t)ncols * sizeof r->cells[0]);
  if (r == NULL) {
    PQclear(res);
    rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
    goto done;
  }
  r->res = res;
  r->binary = ncols > 0 && PQfformat(res, 0) == 1;
  if (st->binary < 0) st->binary = binary_result_types(res);
  r->ntuples = PQntuples(res);
  r->ncells = (size_t)ncols;
  for (i = 0; i < r->ncells; i++) {
    r->cells[i].bytes = NULL;
    r->cells[i].n = 0;
    r->cells[i].row = -1;
    r->cells[i].text[0] = '\0';
    r->cells[i].textn = 0;
    r->cells[i].rawn = 0;
  }
  rows->result = r;
  rows->row = -1;
  rows->ncols = (size_t)ncols;
  tuples = PQcmdTuples(res);
  rows->changes = (tuples != NULL && *tuples != '\0') ? atoll(tuples) : 0;
  rows->state = r->ntuples > 0 ? ASSOC_ROW : ASSOC_DONE;

done:
  if (block != small.c) assoc__free(block);
  return rc;
}

static int pg_step(assoc_rows *rows) {
  pg_result *r = rows->result;
  if (r == NULL) {
    rows->state = ASSOC_DONE;
    return ASSOC_DONE;
  }
  if (rows->row < r->ntuples)
    rows->row++;
  rows->state = rows->row < r->ntuples ? ASSOC_ROW : ASSOC_DONE;
  return rows->state;
}

static const char *pg_column_name(assoc_rows *rows, size_t i) {
  pg_result *r = rows->result;
  if (r == NULL || i >= r->ncells)
    return NULL;
  return PQfname(r->res, (int)i);
}

/* -------------------------------------------------------- timestamps */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era;
  int64_t yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  int64_t era, doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int digits(const char **s, int min, int max, int64_t *out) {
  int n = 0;
  int64_t v = 0;
  while (n < max && isdigit((unsigned char)**s)) {
    v = v * 10 + (**s - '0');
    (*s)++;
    n++;
  }
  *out = v;
  return n >= min;
}

/* The n low decimal digits of v (0 <= v), zero-padded. */
static void put_digits(char *p, int64_t v, int n) {
  while (n-- > 0) {
    p[n] = (char)('0' + v % 10);
    v /= 10;
  }
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" into out. */
static void format_iso(char out[48], int64_t y, int mo, int d, int h, int mi,
                       int sec, int ms) {
  if (y < 0 || y > 9999) {
    snprintf(out, 48, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y,
             mo, d, h, mi, sec, ms);
    return;
  }
  /* By hand: snprintf costs more than everything else in a row. */
  put_digits(out, y, 4);
  out[4] = '-';
  put_digits(out + 5, mo, 2);
  out[7] = '-';
  put_digits(out + 8, d, 2);
  out[10] = 'T';
  put_digits(out + 11, h, 2);
  out[13] = ':';
  put_digits(out + 14, mi, 2);
  out[16] = ':';
  put_digits(out + 17, sec, 2);
  out[19] = '.';
  put_digits(out + 20, ms, 3);
  out[23] = 'Z';
  out[24] = '\0';
}

/* "2026-11-22 08:38:44.123456+05:30" (ISO DateStyle; offset absent for
** timestamp without time zone) to "2026-11-22T03:08:44.123Z".  Returns 0
** for what it does not parse (infinity, BC dates): passed on as is. */
static int iso_utc(const char *s, char out[48]) {
  int64_t y, mo, d, h, mi, sec, v, off = 0;
  int ms = 0, nfrac = 0, m2, d2;

  if (!digits(&s, 4, 9, &y) || *s++ != '-' || !digits(&s, 2, 2, &mo) ||
      *s++ != '-' || !digits(&s, 2, 2, &d) || (*s != ' ' && *s != 'T'))
    return 0;
  s++;
  if (!digits(&s, 2, 2, &h) || *s++ != ':' || !digits(&s, 2, 2, &mi) ||
      *s++ != ':' || !digits(&s, 2, 2, &sec))
    return 0;
  if (*s == '.') {
    s++;
    while (isdigit((unsigned char)*s)) {
      if (nfrac < 3) {
        ms = ms * 10 + (*s - '0');
        nfrac++;
      }
      s++;
    }
  }
  for (; nfrac < 3; nfrac++)
    ms *= 10;
  if (*s == '+' || *s == '-') {
    int sign = *s++ == '-' ? -1 : 1;
    if (!digits(&s, 2, 2, &v))
      return 0;
    off = v * 3600;
    if (*s == ':') {
      s++;
      if (!digits(&s, 2, 2, &v))
        return 0;
      off += v * 60;
      if (*s == ':') {
        s++;
        if (!digits(&s, 2, 2, &v))
          return 0;
        off += v;
      }
    }
    off *= sign;
  } else if (*s == 'Z') {
    s++;
  }
  if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31)
    return 0;
  if (off != 0 || h > 23) {
    int64_t t = days_from_civil(y, (int)mo, (int)d) * 86400 + h * 3600 +
                mi * 60 + sec - off;
    int64_t days = (t >= 0 ? t : t - 86399) / 86400;
    int64_t rem = t - days * 86400;
    civil_from_days(days, &y, &m2, &d2);
    mo = m2;
    d = d2;
    h = rem / 3600;
    mi = rem / 60 % 60;
    sec = rem % 60;
  }
  format_iso(out, y, (int)mo, (int)d, (int)h, (int)mi, (int)sec, ms);
  return 1;
}

/* A binary timestamp (microseconds since 2000-01-01 00:00 UTC) as
** iso_utc writes it; the server's infinities as their text. */
static void iso_from_pg_micros(int64_t us, char out[48]) {
  int64_t ms, secs, days, rem, y;
  int mo, d;
  if (us == INT64_MAX || us == INT64_MIN) {
    strcpy(out, us > 0 ? "infinity" : "-infinity");
    return;
  }
  ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);    /* floor */
  secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  ms -= secs * 1000;
  days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  rem = secs - days * 86400;
  civil_from_days(days + 10957, &y, &mo, &d);         /* 1970 + 10957 */
  format_iso(out, y, mo, d, (int)(rem / 3600), (int)(rem / 60 % 60),
             (int)(rem % 60), (int)ms);
}

/* The server's text of an integer column ("-42"): strtoll, minus the
** locale and base handling it does not need. */
static int64_t parse_int8(const char *s) {
  uint64_t u = 0;
  int neg = *s == '-';
  if (neg || *s == '+') s++;
  while (*s >= '0' && *s <= '9') u = u * 10 + (uint64_t)(*s++ - '0');
  return neg ? (int64_t)((uint64_t)0 - u) : (int64_t)u;
}

/* Big-endian integers of the binary format. */
static uint64_t be_uint(const char *s, int n) {
  const unsigned char *p = (const unsigned char *)s;
  uint64_t v = 0;
  int k;
  for (k = 0; k < n; k++) v = v << 8 | p[k];
  return v;
}

/* Column i of the current row, from a binary result: the types
** binary_decodable accepts, read as pg_column reads their text. */
static int binary_column(pg_result *r, int row, size_t i, assoc_value *out) {
  const char *s = PQgetvalue(r->res, row, (int)i);
  size_t n = (size_t)PQgetlength(r->res, row, (int)i);
  pg_cell *c = &r->cells[i];
  switch (PQftype(r->res, (int)i)) {
  case OID_BOOL:
    out->kind = ASSOC_BOOL;
    out->u.b = n > 0 && s[0] != 0;
    break;
  case OID_INT2:
    out->kind = ASSOC_INT;
    out->u.i = (int16_t)be_uint(s, 2);
    break;
  case OID_INT4:
    out->kind = ASSOC_INT;
    out->u.i = (int32_t)be_uint(s, 4);
    break;
  case OID_OID:
    out->kind = ASSOC_INT;
    out->u.i = (int64_t)be_uint(s, 4);
    break;
  case OID_INT8:
    out->kind = ASSOC_INT;
    out->u.i = (int64_t)be_uint(s, 8);
    break;
  case OID_FLOAT4: {
    uint32_t bits = (uint32_t)be_uint(s, 4);
    float f;
    memcpy(&f, &bits, sizeof f);
    out->kind = ASSOC_REAL;
    out->u.r = f;
    break;
  }
  case OID_FLOAT8: {
    uint64_t bits = be_uint(s, 8);
    memcpy(&out->u.r, &bits, sizeof out->u.r);
    out->kind = ASSOC_REAL;
    break;
  }
  case OID_BYTEA:
    out->kind = ASSOC_BLOB;
    out->u.s.p = s;                      /* the raw bytes */
    out->u.s.n = n;
    break;
  case OID_JSONB:                        /* a version byte, then text */
    out->kind = ASSOC_TEXT;
    out->u.s.p = n > 0 ? s + 1 : s;
    out->u.s.n = n > 0 ? n - 1 : 0;
    break;
  case OID_TIMESTAMP: case OID_TIMESTAMPTZ:
    /* Rows often repeat a time (written together): format it once. */
    if (c->rawn != 8 || memcmp(c->raw, s, 8) != 0) {
      iso_from_pg_micros((int64_t)be_uint(s, 8), c->text);
      c->textn = strlen(c->text);
      memcpy(c->raw, s, 8);
      c->rawn = 8;
    }
    out->kind = ASSOC_TEXT;
    out->u.s.p = c->text;
    out->u.s.n = c->textn;
    break;
  default:                               /* text, varchar, json, ... */
    out->kind = ASSOC_TEXT;
    out->u.s.p = s;
    out->u.s.n = n;
    break;
  }
  return ASSOC_OK;
}

static int pg_column(assoc_rows *rows, size_t i, assoc_value *out) {
  pg_result *r = rows->result;
  pg_cell *c;
  const char *s;
  int row;

  out->kind = ASSOC_NULL;
  if (r == NULL || rows->row < 0 || rows->row >= r->ntuples ||
      i >= r->ncells)
    return assoc__error(rows->db, ASSOC_MISUSE, "no such column or row");
  row = (int)rows->row;
  if (PQgetisnull(r->res, row, (int)i))
    return ASSOC_OK;
  if (r->binary)
    return binary_column(r, row, i, out);
  s = PQgetvalue(r->res, row, (int)i);
  c = &r->cells[i];
  switch (PQftype(r->res, (int)i)) {
  case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID:
    out->kind = ASSOC_INT;
    out->u.i = parse_int8(s);
    break;
  case OID_FLOAT4: case OID_FLOAT8: case OID_NUMERIC:
    out->kind = ASSOC_REAL;
    out->u.r = strtod(s, NULL);
    break;
  case OID_BOOL:
    out->kind = ASSOC_BOOL;
    out->u.b = s[0] == 't';
    break;
  case OID_BYTEA:
    if (c->row != rows->row) {
      size_t n = 0;
      unsigned char *b = PQunescapeBytea((const unsigned char *)s, &n);
      if (b == NULL)
        return assoc__error(rows->db, ASSOC_NOMEM, "out of memory");
      if (c->bytes != NULL)
        PQfreemem(c->bytes);
      c->bytes = b;
      c->n = n;
      c->row = rows->row;
    }
    out->kind = ASSOC_BLOB;
    out->u.s.p = (const char *)c->bytes;
    out->u.s.n = c->n;
    break;
  case OID_TIMESTAMP: case OID_TIMESTAMPTZ: {
    size_t n = (size_t)PQgetlength(r->res, row, (int)i);
    out->kind = ASSOC_TEXT;
    /* Rows often repeat a time (written together): convert it once. */
    if (c->rawn > 0 && c->rawn == n && memcmp(c->raw, s, n) == 0) {
      out->u.s.p = c->text;
      out->u.s.n = c->textn;
    } else if (iso_utc(s, c->text)) {
      c->textn = strlen(c->text);
      c->rawn = 0;
      if (n < sizeof c->raw) {
        memcpy(c->raw, s, n);
        c->rawn = n;
      }
      out->u.s.p = c->text;
      out->u.s.n = c->textn;
    } else {
      out->u.s.p = s;
      out->u.s.n = n;
    }
    break;
  }
  default:                   /* text, varchar, json, jsonb, date, ... */
    out->kind = ASSOC_TEXT;
    out->u.s.p = s;
    out->u.s.n = (size_t)PQgetlength(r->res, row, (int)i);
    break;
  }
  return ASSOC_OK;
}

/* -------------------------------------------------------------- SQL text */

static void pg_placeholder(assoc_buf *b, size_t n) {
  assoc__buf_putc(b, '$');
  assoc__buf_put_int(b, (int64_t)n);
}

static void pg_column_type(assoc_buf *b, const assoc_attr_def *a, int serial,
                           int *inline_pk) {
  if (inline_pk != NULL)
    *inline_pk = 0;
  switch (a->type) {
  case ASSOC_TYPE_INTEGER:
    assoc__buf_puts(b, serial ? "SERIAL" : "INTEGER");
    break;
  case ASSOC_TYPE_BIGINT:
    assoc__buf_puts(b, serial ? "BIGSERIAL" : "BIGINT");
    break;
  case ASSOC_TYPE_REAL: assoc__buf_puts(b, "DOUBLE PRECISION"); break;
  case ASSOC_TYPE_STRING:
    assoc__buf_printf(b, "VARCHAR(%d)", a->length > 0 ? a->length : 255);
    break;
  case ASSOC_TYPE_BOOLEAN: assoc__buf_puts(b, "BOOLEAN"); break;
  case ASSOC_TYPE_DATE: assoc__buf_puts(b, "TIMESTAMP WITH TIME ZONE"); break;
  case ASSOC_TYPE_BLOB: assoc__buf_puts(b, "BYTEA"); break;
  case ASSOC_TYPE_JSON: assoc__buf_puts(b, "JSONB"); break;
  case ASSOC_TYPE_TEXT:
  default: assoc__buf_puts(b, "TEXT"); break;
  }
}

/* The array type a key list (or an IN list of where.c) of key_type is
** bound as: each column type needs an array its `=` operator accepts.
** Integer columns of either width compare with bigint[]. */
static const char *array_type(assoc_type t) {
  switch (t) {
  case ASSOC_TYPE_INTEGER: case ASSOC_TYPE_BIGINT: return "bigint[]";
  case ASSOC_TYPE_REAL: return "float8[]";
  case ASSOC_TYPE_BOOLEAN: return "boolean[]";
  case ASSOC_TYPE_DATE: return "timestamptz[]";
  case ASSOC_TYPE_BLOB: return "bytea[]";
  case ASSOC_TYPE_JSON: return "jsonb[]";     /* jsonb = text has no operator */
  default: return "text[]";
  }
}

static void pg_key_list(assoc_buf *b, size_t n, assoc_type key_type,
                        int negate) {
  assoc__buf_printf(b, negate ? " <> ALL($%zu::%s)" : " = ANY($%zu::%s)", n,
                    array_type(key_type));
}

static void pg_key_table(assoc_buf *b, size_t n, assoc_type key_type) {
  assoc__buf_printf(b, "unnest($%zu::%s) AS \"assoc_k\"(\"value\")", n,
                    array_type(key_type));
}

/* Array literal element: always quoted, \ and " escaped, so any text
** (commas, braces, "NULL") stays one element. */
static void put_quoted(assoc_buf *b, const char *s, size_t n) {
  size_t i;
  assoc__buf_putc(b, '"');
  for (i = 0; i < n; i++) {
    if (s[i] == '"' || s[i] == '\\')
      assoc__buf_putc(b, '\\');
    assoc__buf_putc(b, s[i]);
  }
  assoc__buf_putc(b, '"');
}

static int pg_encode_key_list(assoc_buf *out, const assoc_value *keys,
                              size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i, j;
  assoc__buf_putc(out, '{');
  for (i = 0; i < n; i++) {
    const assoc_value *k = &keys[i];
    if (i > 0)
      assoc__buf_putc(out, ',');
    switch (k->kind) {
    case ASSOC_INT:
      assoc__buf_put_int(out, k->u.i);
      break;
    case ASSOC_REAL:
      if (isnan(k->u.r))
        assoc__buf_puts(out, "NaN");
      else if (isinf(k->u.r))
        assoc__buf_puts(out, k->u.r > 0 ? "Infinity" : "-Infinity");
      else
        assoc__buf_printf(out, "%.17g", k->u.r);
      break;
    case ASSOC_BOOL:
      assoc__buf_puts(out, k->u.b ? "t" : "f");
      break;
    case ASSOC_TEXT:
      put_quoted(out, k->u.s.p, k->u.s.n);
      break;
    case ASSOC_BLOB:
      /* bytea hex input, its backslash escaped for the array parser */
      assoc__buf_puts(out, "\"\\\\x");
      for (j = 0; j < k->u.s.n; j++) {
        unsigned char c = (unsigned char)k->u.s.p[j];
        assoc__buf_putc(out, hex[c >> 4]);
        assoc__buf_putc(out, hex[c & 15]);
      }
      assoc__buf_putc(out, '"');
      break;
    default:
      assoc__buf_puts(out, "NULL");
      break;
    }
  }
  assoc__buf_putc(out, '}');
  return out->oom ? ASSOC_NOMEM : ASSOC_OK;
}

static const char *pg_bool_literal(int b) {
  return b ? "true" : "false";
}

const assoc_dialect assoc__dialect_pg = {
  ASSOC_DIALECT_VERSION,
  "postgres",
  pg_connect,
  pg_disconnect,
  pg_setup,
  pg_alive,
  pg_reconnect,
  pg_prepare,
  pg_finalize,
  pg_execute,
  pg_step,
  pg_column_name,
  pg_column,
  pg_reset,
  pg_exec_simple,
  pg_placeholder,
  pg_column_type,
  pg_key_list,
  pg_key_table,
  pg_encode_key_list,
  0,                            /* keys_drive_lookups: = ANY probes */
  pg_bool_literal
};

#endif /* ASSOC_WITH_PG */
