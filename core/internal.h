/*
** internal.h: the core's private structs and the helpers its files share
** (prefix assoc__).  Nothing here is public; assoc.h is the API.
*/
#ifndef ASSOC_INTERNAL_H
#define ASSOC_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "assoc.h"

struct assoc_dialect;

/* ------------------------------------------------------------ allocation */

/* Every allocation of the core goes through these, so tests can make the
** n-th one fail (assoc__alloc_fail_after(n); 0 disables). */
void *assoc__malloc(size_t n);
void *assoc__realloc(void *p, size_t n);
void assoc__free(void *p);
char *assoc__strdup(const char *s);            /* NULL in, NULL out */
char *assoc__strndup(const char *s, size_t n);
void assoc__alloc_fail_after(long n);

/* --------------------------------------------------------- string buffer */

/* A growable NUL-terminated string.  On allocation failure it sets oom and
** ignores further appends, so callers check once at the end. */
typedef struct assoc_buf {
  char *p;
  size_t n, cap;
  int oom;
} assoc_buf;

void assoc__buf_init(assoc_buf *b);
void assoc__buf_free(assoc_buf *b);
void assoc__buf_reset(assoc_buf *b);          /* n = 0, keeps memory */
void assoc__buf_putn(assoc_buf *b, const char *s, size_t n);
void assoc__buf_puts(assoc_buf *b, const char *s);
#define ASSOC_INT_DECIMAL_MAX 20   /* "-9223372036854775808" */
void assoc__buf_putc(assoc_buf *b, char c);
/* v in decimal (as "%lld" writes it; printf costs more than the rest of a
** key list or a statement's parameters): into out, without a NUL, giving
** the length; or appended to b. */
size_t assoc__int_decimal(char out[ASSOC_INT_DECIMAL_MAX], int64_t v);
void assoc__buf_put_int(assoc_buf *b, int64_t v);
void assoc__buf_printf(assoc_buf *b, const char *fmt, ...);
/* Append s as a quoted identifier: "s" with embedded " doubled. */
void assoc__buf_ident(assoc_buf *b, const char *s);
/* Append alias.ident ("alias"."ident"); alias NULL: just the ident. */
void assoc__buf_column(assoc_buf *b, const char *alias, const char *ident);
/* "table" AS "alias" */
void assoc__buf_table_as(assoc_buf *b, const char *table, const char *alias);
/* Take ownership of the string (buffer is left empty); NULL on oom. */
char *assoc__buf_take(assoc_buf *b);

/* --------------------------------------------------------------- params */

/* Bound values of one statement.  Values are borrowed unless created with
** assoc__params_text_copy, whose bytes the params own. */
typedef struct assoc_params {
  assoc_value *v;
  size_t n, cap;
  char **owned;              /* copies made for coerced values */
  size_t nowned, capowned;
  int oom;
} assoc_params;

void assoc__params_init(assoc_params *p);
void assoc__params_free(assoc_params *p);
void assoc__params_reset(assoc_params *p);
void assoc__params_push(assoc_params *p, const assoc_value *v);
void assoc__params_push_int(assoc_params *p, int64_t i);
/* Copy the bytes, so the value outlives the caller's buffer. */
void assoc__params_push_text_copy(assoc_params *p, const char *s, size_t n);

/* ---------------------------------------------------------------- models */

typedef struct assoc_attr {
  assoc_attr_def def;        /* strings below are owned copies */
  assoc_value default_value; /* valid when has_default */
  int has_default;
  char *default_text;        /* owned bytes of a text default */
  const struct assoc_association *fk_of;  /* set on foreign-key attributes */
  char *references_table;    /* foreign key: REFERENCES table(column) */
  char *references_column;
  char *on_delete, *on_update;
} assoc_attr;

struct assoc_model {
  assoc_db *db;
  char *name;
  char *singular, *plural;   /* inflected model name */
  char *table;
  assoc_attr *attrs;
  size_t nattrs, capattrs;
  int pk;                    /* single-column primary key, or -1 */
  int pk_pair[2];            /* through model with composite key, else -1 */
  int unique_pair[2];        /* UNIQUE(a, b) on a through model, else -1 */
  int created_at, updated_at;
  int underscored;
  int timestamps;
  int is_join;               /* made for a string through */
  struct assoc_association **assocs;
  size_t nassocs, capassocs;
};

/* Add an attribute (copies def); returns its index or -1 (error set on the
** model's db). */
int assoc__model_add_attr(assoc_model *m, const assoc_attr_def *def);
const char *assoc__attr_field(const assoc_model *m, int attr);
/* Free every model (and its associations) of db. */
void assoc__models_free(assoc_db *db);
/* Remove attribute attr from a model that has no rows yet (a join model's
** implicit id); indexes above it shift down. */
void assoc__model_remove_attr(assoc_model *m, int attr);
/* Free one association (used by the models' destructor). */
void assoc__association_free(struct assoc_association *a);

/* ---------------------------------------------------------- associations */

struct assoc_association {
  assoc_assoc_kind kind;
  assoc_model *source, *target, *through;
  char *as, *singular, *plural;
  char *foreign_key, *other_key;
  /* Attribute indexes.  fk: on target (hasMany, hasOne), on source
  ** (belongsTo), on through (belongsToMany).  other: on through. */
  int fk_attr, other_attr;
  int source_key_attr;       /* on source */
  int target_key_attr;       /* on target */
  char *accessors[ASSOC_ACCESSOR_COUNT];
  /* association scope: target attribute = value */
  int *scope_attrs;
  assoc_value *scope_values; /* text bytes owned by scope_text */
  char **scope_text;
  size_t nscope;
  /* belongsToMany through scope: join-row attribute = value */
  int *through_scope_attrs;
  assoc_value *through_scope_values; /* bytes owned by through_scope_text */
  char **through_scope_text;
  size_t nthrough_scope;
  /* SQL of the fixed-shape statements, made on first use (see sqlgen) */
  char *sql[16];
};

/* Kind-specific accessor implementations, one file per kind. */
int assoc__has_many_get(assoc_association *a, const assoc_value *src,
                        const assoc_query *q, assoc_rows **out);
int assoc__has_many_count(assoc_association *a, const assoc_value *src,
                          const assoc_query *q, int64_t *out);
int assoc__has_many_has(assoc_association *a, const assoc_value *src,
                        const assoc_value *keys, size_t n, int *out);
int assoc__has_many_add(assoc_association *a, const assoc_value *src,
                        const assoc_value *keys, size_t n);
int assoc__has_many_set(assoc_association *a, const assoc_value *src,
                        const assoc_value *keys, size_t n);
int assoc__has_many_remove(assoc_association *a, const assoc_value *src,
                           const assoc_value *keys, size_t n);
int assoc__has_many_create(assoc_association *a, const assoc_value *src,
                           const assoc_field *values, size_t n,
                           assoc_rows **out);

int assoc__belongs_to_get(assoc_association *a, const assoc_value *fk,
                          const assoc_query *q, assoc_rows **out);
int assoc__belongs_to_set(assoc_association *a, const assoc_value *src_pk,
                          const assoc_value *key);   /* key NULL: unlink */
int assoc__belongs_to_create(assoc_association *a, const assoc_value *src_pk,
                             const assoc_field *values, size_t n,
                             assoc_rows **out);

int assoc__has_one_get(assoc_association *a, const assoc_value *src,
                       const assoc_query *q, assoc_rows **out);
int assoc__has_one_set(assoc_association *a, const assoc_value *src,
                       const assoc_value *key);      /* key NULL: unlink */
int assoc__has_one_create(assoc_association *a, const assoc_value *src,
                          const assoc_field *values, size_t n,
                          assoc_rows **out);

int assoc__btm_get(assoc_association *a, const assoc_value *src,
                   const assoc_query *q, assoc_rows **out);
int assoc__btm_count(assoc_association *a, const assoc_value *src,
                     const assoc_query *q, int64_t *out);
int assoc__btm_has(assoc_association *a, const assoc_value *src,
                   const assoc_value *keys, size_t n, int *out);
int assoc__btm_add(assoc_association *a, const assoc_value *src,
                   const assoc_value *keys, size_t n,
                   const assoc_field *join, size_t njoin,
                   const assoc_target_join *each, size_t neach);
int assoc__btm_set(assoc_association *a, const assoc_value *src,
                   const assoc_value *keys, size_t n,
                   const assoc_field *join, size_t njoin,
                   const assoc_target_join *each, size_t neach);
int assoc__btm_remove(assoc_association *a, const assoc_value *src,
                      const assoc_value *keys, size_t n);
int assoc__btm_create(assoc_association *a, const assoc_value *src,
                      const assoc_field *values, size_t n,
                      const assoc_field *join, size_t njoin,
                      assoc_rows **out);

/* --------------------------------------------------------------- naming */

/* Each returns a new string (assoc__free it) or NULL when memory ran out. */
char *assoc__pluralize(const char *word);      /* "Person" -> "People" */
char *assoc__singularize(const char *word);    /* "Categories" -> "Category" */
char *assoc__camelize(const char *s);          /* "User_id" -> "UserId" */
char *assoc__underscore(const char *s);        /* "UserId" -> "user_id" */
char *assoc__upper_first(const char *s);       /* "projects" -> "Projects" */

/* ------------------------------------------------------------------ rows */

/* Where a result column comes from. */
typedef struct assoc_colmap {
  const assoc_model *model;  /* NULL: raw */
  int attr;
  /* 0: the driver's column at this index.  A column the statement need not
  ** send because its value is known (a join row's keys) is virtual, after
  ** the driver's columns: from > 0 repeats driver column from - 1, and
  ** ASSOC_COL_CONST is the cursor's constant (assoc__rows_set_const). */
  int from;
} assoc_colmap;

#define ASSOC_COL_CONST (-1)

struct assoc_rows {
  assoc_db *db;
  void *stmt;                /* the driver's statement (cached, not owned) */
  void *result;              /* driver result state (PGresult *, ...) */
  int64_t row;               /* driver cursor position */
  int state;                 /* 0 idle, ASSOC_ROW, ASSOC_DONE */
  int pending;               /* first row already fetched by execute */
  int64_t changes;
  assoc_colmap *map;         /* column count entries, or NULL (all raw) */
  size_t ncols, capmap;
  assoc_value vconst;        /* what ASSOC_COL_CONST columns read */
  char *vconst_buf;          /* its text, owned */
  size_t capvconst;
  char *scratch;             /* conversion buffer for the current value */
  size_t capscratch;
};

/* Reset the cursor: finish the driver's statement, forget the mapping. */
void assoc__rows_reset(assoc_rows *rows);
/* Map result column i to model attribute attr (after assoc__exec). */
int assoc__rows_map(assoc_rows *rows, size_t i, const assoc_model *m,
                    int attr);
/* Add a virtual column (after every driver column and any virtual one
** before): attribute attr of m, reading driver column `from` - 1 or, for
** ASSOC_COL_CONST, the constant set by assoc__rows_set_const. */
int assoc__rows_add_virtual(assoc_rows *rows, const assoc_model *m, int attr,
                            int from);
/* The value ASSOC_COL_CONST columns read until the next reset (copied). */
int assoc__rows_set_const(assoc_rows *rows, const assoc_value *v);

/* ------------------------------------------------------------- databases */

typedef struct assoc_stmt_entry {
  char *sql;
  void *stmt;
  uint64_t hash;
  int busy;                  /* the live cursor uses it */
} assoc_stmt_entry;

typedef struct assoc_valerr {
  char *path, *message, *validator;
} assoc_valerr;

struct assoc_db {
  const struct assoc_dialect *dialect;
  void *conn;                /* sqlite3 * or PGconn * */
  int owns_conn;
  int open;
  char *url_rest;            /* what follows "sqlite:" / the conninfo, for
                                reconnecting */
  int busy_timeout_ms;
  assoc_log_fn log;
  void *log_udata;
  void *udata;
  /* last error */
  int errcode;
  char *errmsg;
  char *errsql;
  assoc_valerr *valerrs;
  size_t nvalerrs, capvalerrs;
  /* models */
  assoc_model **models;
  size_t nmodels, capmodels;
  /* statement cache: open addressing on the SQL text */
  assoc_stmt_entry *cache;
  size_t ncache, capcache;
  /* the one result cursor */
  assoc_rows rows;
  /* transactions */
  int depth;                 /* open transactions/savepoints */
  int broken;                /* the connection died inside a transaction */
  uint64_t txn_serial;       /* increases on every begin */
  uint64_t level_serial[65]; /* serial of the transaction at each level */
  /* Levels an accessor opened for its own atomicity (assoc__atomic_begin):
  ** a failed statement there always rolls the whole level back, so no
  ** statement inside one needs a guard of its own (dialect_pg.c). */
  unsigned char level_atomic[65];
  /* scratch for SQL generation on the hot paths */
  assoc_buf sqlbuf;
  assoc_params params;
};

/* ---------------------------------------------------------------- errors */

/* Set the database's error (returns code, for `return assoc__error(...)`). */
int assoc__error(assoc_db *db, int code, const char *fmt, ...);
int assoc__errorv(assoc_db *db, int code, const char *fmt, va_list ap);
/* Attach the failing statement to the current error. */
void assoc__error_sql(assoc_db *db, const char *sql);
void assoc__error_clear(assoc_db *db);
int assoc__valerr_add(assoc_db *db, const char *path, const char *message,
                      const char *validator);
void assoc__valerrs_free(assoc_db *db);
/* ASSOC_MISUSE "database is closed" unless the database can run a statement. */
int assoc__check_open(assoc_db *db);

/* ------------------------------------------------------------ statements */

/* Run sql (already in the dialect's placeholder form) with params, reusing
** the cached prepared statement for the same text.  Logs first.  *out (may
** be NULL) is db->rows, ready for assoc_rows_step().  Maps driver errors to
** status codes with message and SQL set on db. */
int assoc__exec(assoc_db *db, const char *sql, const assoc_value *params,
                size_t nparams, assoc_rows **out);
/* Run a statement without parameters and without caching (DDL, BEGIN). */
int assoc__exec_simple(assoc_db *db, const char *sql);
/* The same for a statement that undoes work (ROLLBACK, ROLLBACK TO): it is
** logged but never refused by the logging callback. */
int assoc__exec_rollback(assoc_db *db, const char *sql);
/* Finalize every cached statement. */
void assoc__cache_clear(assoc_db *db);

/* ---------------------------------------------------------- transactions */

/* Make a multi-statement operation atomic: BEGIN, or SAVEPOINT inside an
** open transaction.  assoc__atomic_end commits (rc == ASSOC_OK) or rolls
** back, keeps the first error, and returns rc or the commit's failure. */
int assoc__atomic_begin(assoc_db *db);
int assoc__atomic_end(assoc_db *db, int rc);

/* ---------------------------------------------------------- values, types */

/* Convert v to what attribute `attr` of m stores (integers from "2", dates
** from Unix seconds, booleans); text results are copied into params.
** Pushes the converted value onto p.  ASSOC_MISUSE with a message naming the
** attribute when the value cannot be converted. */
int assoc__push_attr_value(assoc_db *db, assoc_params *p,
                           const assoc_model *m, int attr,
                           const assoc_value *v);
/* Push a list of keys of attribute attr as one bound value (see the
** dialect's key_list); keys are coerced and de-duplicated. */
int assoc__push_key_list(assoc_db *db, assoc_params *p, const assoc_model *m,
                         int attr, const assoc_value *keys, size_t n);
/* The same, also telling how many distinct keys the list holds. */
int assoc__push_key_list_n(assoc_db *db, assoc_params *p,
                           const assoc_model *m, int attr,
                           const assoc_value *keys, size_t n,
                           size_t *nunique);
/* Coerce keys to attribute attr and de-duplicate them (sorted) into a new
** array *out (assoc__free it); text made by conversion is kept in hold. */
int assoc__coerce_keys(assoc_db *db, const assoc_model *m, int attr,
                       const assoc_value *keys, size_t n,
                       assoc_value **out, size_t *nout, assoc_params *hold);
/* Current time as ISO 8601 UTC text with milliseconds into buf[32]. */
void assoc__now_iso(char buf[32]);
int assoc__value_equal(const assoc_value *a, const assoc_value *b);

/* ---------------------------------------------------------------- where */

/* Append the SQL of cond over model m (columns qualified with alias, which
** may be NULL) to b and its values to p.  ASSOC_MISUSE naming an unknown
** attribute or operator. */
int assoc__where(assoc_db *db, assoc_buf *b, assoc_params *p,
                 const assoc_model *m, const char *alias,
                 const assoc_cond *cond);

/* ---------------------------------------------------------------- scopes */

/* Append " AND alias.col = ?" for each of the n attributes of a scope over
** m (" IS NULL" for a NULL value, which binds nothing); *ph counts the
** placeholders.  assoc__scope_params pushes the values they bind, or with
** with_nulls every value (for an INSERT's VALUES). */
void assoc__scope_where(assoc_db *db, assoc_buf *b, const assoc_model *m,
                        const char *alias, const int *attrs,
                        const assoc_value *values, size_t n, size_t *ph);
void assoc__scope_params(assoc_params *p, const assoc_value *values,
                         size_t n, int with_nulls);

/* ---------------------------------------------------------------- eager */

/* Append EXISTS (...) for e over parent rows referred to as parent_ref
** (an alias or the parent's table name). */
int assoc__exists(assoc_db *db, assoc_buf *b, assoc_params *p,
                  const assoc_model *parent, const char *parent_ref,
                  const assoc_exists *e);
/* Append " WHERE "/" AND " EXISTS (...) for each of q->exists; *first says
** whether a WHERE was written yet (and is cleared). */
int assoc__exists_list(assoc_db *db, assoc_buf *b, assoc_params *p,
                       const assoc_model *m, const char *ref,
                       const assoc_query *q, int *first);
/* The same after a WHERE clause: " AND EXISTS (...)" for each of them. */
int assoc__exists_and(assoc_db *db, assoc_buf *b, assoc_params *p,
                      const assoc_model *m, const char *ref,
                      const assoc_query *q);

/* --------------------------------------------------------------- sqlgen */

/* Append the dialect's n-th placeholder (1-based): "?" or "$n". */
void assoc__placeholder(assoc_db *db, assoc_buf *b, size_t n);
/* Append "<alias>.<col> IN (<one bound key list>)" for the p->n-th param. */
void assoc__key_list_sql(assoc_db *db, assoc_buf *b, const char *alias,
                         const char *column, const assoc_model *m, int attr,
                         size_t param_index, int negate);
/* Append the select list of m's attributes (all, or names in q) qualified
** with alias; records the column mapping for rows starting at column
** *col.  ASSOC_MISUSE for an unknown attribute name. */
int assoc__select_list(assoc_db *db, assoc_buf *b, const assoc_model *m,
                       const char *alias, const char *const *names,
                       size_t nnames, assoc_colmap **map, size_t *nmap,
                       size_t *capmap);
/* Append " ORDER BY ... LIMIT ... OFFSET ..." for q over m (alias). */
int assoc__order_limit(assoc_db *db, assoc_buf *b, assoc_params *p,
                       const assoc_model *m, const char *alias,
                       const assoc_query *q);
/* Apply a column map built by assoc__select_list to db->rows. */
int assoc__rows_apply_map(assoc_db *db, const assoc_colmap *map, size_t n);
/* Is a one of the referential actions CREATE TABLE writes (CASCADE, SET
** NULL, SET DEFAULT, RESTRICT, NO ACTION; any case)? */
int assoc__valid_action(const char *a);
/* CREATE TABLE statement of m. */
char *assoc__create_table_sql(assoc_db *db, const assoc_model *m);

#endif
