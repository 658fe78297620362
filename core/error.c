/*
** error.c: the error state kept on a database handle.  Every failure in the
** core is recorded through assoc__error so that status, message, statement
** and validation entries always agree.
*/
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const error_names[] = {
  "OK", "DatabaseError", "OutOfMemoryError", "MisuseError",
  "ValidationError", "UniqueConstraintError", "ForeignKeyConstraintError",
  "ConnectionError", "TransactionError"
};

const char *assoc_errname(int status) {
  if (status >= 0 &&
      (size_t)status < sizeof error_names / sizeof error_names[0])
    return error_names[status];
  if (status == ASSOC_ROW) return "Row";
  if (status == ASSOC_DONE) return "Done";
  return "DatabaseError";
}

static void valerrs_clear(assoc_db *db) {
  size_t i;
  for (i = 0; i < db->nvalerrs; i++) {
    assoc__free(db->valerrs[i].path);
    assoc__free(db->valerrs[i].message);
    assoc__free(db->valerrs[i].validator);
  }
  db->nvalerrs = 0;
}

void assoc__error_clear(assoc_db *db) {
  db->errcode = ASSOC_OK;
  assoc__free(db->errmsg);
  db->errmsg = NULL;
  assoc__free(db->errsql);
  db->errsql = NULL;
  valerrs_clear(db);
}

int assoc__errorv(assoc_db *db, int code, const char *fmt, va_list ap) {
  char msg[1024];
  if (!db) return code;
  assoc__free(db->errmsg);
  assoc__free(db->errsql);
  db->errsql = NULL;
  if (code != ASSOC_VALIDATION) valerrs_clear(db);
  db->errcode = code;
  vsnprintf(msg, sizeof msg, fmt, ap);
  /* On out-of-memory the message may be lost; the code still says it. */
  db->errmsg = assoc__strdup(msg);
  return code;
}

int assoc__error(assoc_db *db, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  assoc__errorv(db, code, fmt, ap);
  va_end(ap);
  return code;
}

void assoc__error_sql(assoc_db *db, const char *sql) {
  assoc__free(db->errsql);
  db->errsql = assoc__strdup(sql);
}

int assoc__valerr_add(assoc_db *db, const char *path, const char *message,
                      const char *validator) {
  assoc_valerr *e;
  if (db->nvalerrs == db->capvalerrs) {
    size_t cap = db->capvalerrs ? db->capvalerrs * 2 : 4;
    assoc_valerr *nv = assoc__realloc(db->valerrs, cap * sizeof *nv);
    if (!nv) return ASSOC_NOMEM;
    db->valerrs = nv;
    db->capvalerrs = cap;
  }
  e = &db->valerrs[db->nvalerrs];
  e->path = assoc__strdup(path);
  e->message = assoc__strdup(message);
  e->validator = assoc__strdup(validator);
  if (!e->path || !e->message || !e->validator) {
    assoc__free(e->path);
    assoc__free(e->message);
    assoc__free(e->validator);
    return ASSOC_NOMEM;
  }
  db->nvalerrs++;
  return ASSOC_OK;
}

int assoc__check_open(assoc_db *db) {
  if (!db) return ASSOC_MISUSE;
  if (!db->open) return assoc__error(db, ASSOC_MISUSE, "database is closed");
  return ASSOC_OK;
}

int assoc_db_errcode(const assoc_db *db) {
  return db ? db->errcode : ASSOC_MISUSE;
}

const char *assoc_db_errmsg(const assoc_db *db) {
  if (!db) return "out of memory";
  if (db->errmsg) return db->errmsg;
  return db->errcode == ASSOC_NOMEM ? "out of memory" : "";
}

const char *assoc_db_errsql(const assoc_db *db) {
  return db ? db->errsql : NULL;
}

size_t assoc_db_errors_count(const assoc_db *db) {
  return db ? db->nvalerrs : 0;
}

int assoc_db_errors_item(const assoc_db *db, size_t i, const char **path,
                         const char **message, const char **validator) {
  if (!db || i >= db->nvalerrs) return ASSOC_MISUSE;
  if (path) *path = db->valerrs[i].path;
  if (message) *message = db->valerrs[i].message;
  if (validator) *validator = db->valerrs[i].validator;
  return ASSOC_OK;
}

void assoc__valerrs_free(assoc_db *db);
void assoc__valerrs_free(assoc_db *db) {
  valerrs_clear(db);
  assoc__free(db->valerrs);
  db->valerrs = NULL;
  db->capvalerrs = 0;
}
