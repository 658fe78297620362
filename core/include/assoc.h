/*
** assoc.h: the public C API of libassoc, a Sequelize-style association
** engine over SQLite3 and PostgreSQL.  Opaque handles, int status codes,
** and the message of the last failure kept on the database handle.
**
** Ownership rules, for every function below unless its comment says more:
** - Arguments are borrowed for the duration of the call; the core copies
**   whatever it keeps.
** - A database owns its models, associations and cached statements; they
**   stay valid (but refuse work with ASSOC_MISUSE) after assoc_db_close()
**   and are freed by assoc_db_free().
** - Strings returned by the core are borrowed: names live as long as their
**   handle, messages until the next call on the same database.
*/
#ifndef ASSOC_H
#define ASSOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ASSOC_VERSION "0.1.0"

/* ---------------------------------------------------------------- status */

enum assoc_status {
  ASSOC_OK = 0,
  ASSOC_ERROR,        /* any other database failure: DatabaseError        */
  ASSOC_NOMEM,        /* out of memory; nothing was changed                */
  ASSOC_MISUSE,       /* bad argument, unknown name, closed database       */
  ASSOC_VALIDATION,   /* a value broke allowNull or a validator            */
  ASSOC_UNIQUE,       /* UNIQUE / PRIMARY KEY violation                    */
  ASSOC_FOREIGN_KEY,  /* FOREIGN KEY violation                             */
  ASSOC_CONNECTION,   /* cannot connect, or the connection was lost        */
  ASSOC_TRANSACTION,  /* finished or foreign transaction, bad nesting      */
  ASSOC_ROW = 100,    /* assoc_rows_step(): a row is ready                 */
  ASSOC_DONE = 101    /* assoc_rows_step(): no more rows                   */
};

/* The error class name of a status: "ValidationError", "DatabaseError",
** ... (static string; "OK" for ASSOC_OK). */
const char *assoc_errname(int status);

/* ---------------------------------------------------------------- values */

typedef enum assoc_kind {
  ASSOC_NULL = 0,
  ASSOC_INT,     /* u.i */
  ASSOC_REAL,    /* u.r */
  ASSOC_BOOL,    /* u.b (0 or 1) */
  ASSOC_TEXT,    /* u.s: UTF-8, not necessarily NUL-terminated, may hold NUL */
  ASSOC_BLOB     /* u.s */
} assoc_kind;

/* A value passed in or read out.  Text and blob bytes are borrowed: input
** values for the call, output values until the next step of their rows. */
typedef struct assoc_value {
  assoc_kind kind;
  union {
    int64_t i;
    double r;
    int b;
    struct { const char *p; size_t n; } s;
  } u;
} assoc_value;

/* Column types of model attributes.  JSON is carried as JSON text in an
** ASSOC_TEXT value; DATE as an ISO 8601 UTC text ("2026-11-22T08:38:44.123Z")
** on output, and a text of that form or an integer of Unix seconds on input. */
typedef enum assoc_type {
  ASSOC_TYPE_INTEGER = 1,
  ASSOC_TYPE_BIGINT,
  ASSOC_TYPE_REAL,
  ASSOC_TYPE_STRING,   /* varchar(length), 255 when length is 0 */
  ASSOC_TYPE_TEXT,
  ASSOC_TYPE_BOOLEAN,
  ASSOC_TYPE_DATE,
  ASSOC_TYPE_BLOB,
  ASSOC_TYPE_JSON
} assoc_type;

/* ------------------------------------------------------------- databases */

typedef struct assoc_db assoc_db;
typedef struct assoc_model assoc_model;
typedef struct assoc_association assoc_association;
typedef struct assoc_rows assoc_rows;
typedef struct assoc_txn assoc_txn;

/* Called before every statement is sent.  params are borrowed for the call.
** The callback must not call back into the same database.  A nonzero
** return refuses the statement: the call fails with ASSOC_ERROR and what
** it began is rolled back (rollbacks themselves are never refused). */
typedef int (*assoc_log_fn)(void *udata, const char *sql,
                            const assoc_value *params, size_t nparams);

typedef struct assoc_open_opts {
  int busy_timeout_ms;        /* SQLite; 0 means the default, 5000 */
  assoc_log_fn log;           /* NULL: no logging */
  void *log_udata;
} assoc_open_opts;

/* Open "sqlite::memory:", "sqlite:path.db", "postgres://user:pw@host:port/db
** ?k=v", "postgresql://...", or "postgres:" followed by a libpq conninfo.
** *out is set even on failure (read assoc_db_errmsg(), then assoc_db_free());
** it is NULL only when memory ran out.  opts may be NULL. */
int assoc_db_open(const char *url, const assoc_open_opts *opts, assoc_db **out);

/* Wrap a connection the host opened (a sqlite3 * or a PGconn *).  The host
** keeps ownership: assoc_db_close() finalizes assoc's statements but leaves
** the connection open. */
int assoc_db_wrap_sqlite(void *sqlite3_handle, const assoc_open_opts *opts,
                         assoc_db **out);
int assoc_db_wrap_pg(void *pgconn, const assoc_open_opts *opts,
                     assoc_db **out);

/* End the connection and finalize statements.  Idempotent.  The handle, its
** models and associations stay valid until assoc_db_free(). */
int assoc_db_close(assoc_db *db);
/* Close if open, then free the handle and everything it owns.  NULL: no-op. */
void assoc_db_free(assoc_db *db);
int assoc_db_is_open(const assoc_db *db);

/* "sqlite" or "postgres" (static string). */
const char *assoc_db_dialect(const assoc_db *db);

/* The last failure on db: status, message, and the statement that failed
** (NULL when no statement was involved).  Borrowed until the next call. */
int assoc_db_errcode(const assoc_db *db);
const char *assoc_db_errmsg(const assoc_db *db);
const char *assoc_db_errsql(const assoc_db *db);
/* Validation failures of the last ASSOC_VALIDATION: one per value. */
size_t assoc_db_errors_count(const assoc_db *db);
int assoc_db_errors_item(const assoc_db *db, size_t i, const char **path,
                         const char **message, const char **validator);

void *assoc_db_udata(const assoc_db *db);
void assoc_db_set_udata(assoc_db *db, void *udata);
/* Replace the logging callback (NULL turns logging off). */
void assoc_db_set_log(assoc_db *db, assoc_log_fn log, void *udata);

/* Run a raw statement with '?' placeholders (translated to $n on
** PostgreSQL).  *out is the database's result cursor (see assoc_rows). */
int assoc_db_query(assoc_db *db, const char *sql, const assoc_value *params,
                   size_t nparams, assoc_rows **out);

/* ------------------------------------------------------------------ rows */

/* A result cursor.  Each database has one: a call that runs a statement
** resets it, so rows stay readable until the next such call on the same
** database.  Never freed by the caller. */
int assoc_rows_step(assoc_rows *rows);       /* ASSOC_ROW, ASSOC_DONE, error */
size_t assoc_rows_column_count(const assoc_rows *rows);
const char *assoc_rows_column_name(const assoc_rows *rows, size_t i);
/* The model attribute a column holds: its index in *model's attributes, or
** -1 (and *model NULL) for a column of a raw query. */
int assoc_rows_column_attr(const assoc_rows *rows, size_t i,
                           const assoc_model **model);
/* The value of column i of the current row, converted to the attribute's
** type (BOOLEAN as ASSOC_BOOL, DATE as ISO text).  Borrowed until the next
** step. */
int assoc_rows_value(assoc_rows *rows, size_t i, assoc_value *out);
/* Rows changed by the statement, for INSERT/UPDATE/DELETE. */
int64_t assoc_rows_changes(const assoc_rows *rows);

/* ---------------------------------------------------------------- models */

/* One attribute.  Zero-initialise, then set what you need. */
typedef struct assoc_attr_def {
  const char *name;
  assoc_type type;
  int length;                 /* STRING(n); 0 = 255 */
  int primary_key;
  int auto_increment;
  int not_null;               /* allowNull = false */
  int unique;
  const assoc_value *default_value;   /* NULL: no default */
  const char *field;          /* column name; NULL: name (underscored if set) */
} assoc_attr_def;

typedef struct assoc_model_opts {
  const char *table_name;     /* NULL: plural of the model name */
  int no_timestamps;          /* timestamps = false */
  int underscored;
} assoc_model_opts;

/* Define a model.  Adds an "id" INTEGER auto-increment primary key when no
** attribute is a primary key, and createdAt/updatedAt unless no_timestamps.
** Fails with ASSOC_MISUSE for a duplicate model or attribute name. */
int assoc_model_define(assoc_db *db, const char *name,
                       const assoc_attr_def *attrs, size_t nattrs,
                       const assoc_model_opts *opts, assoc_model **out);
assoc_model *assoc_db_model(const assoc_db *db, const char *name);
assoc_db *assoc_model_db(const assoc_model *m);
const char *assoc_model_name(const assoc_model *m);
const char *assoc_model_table(const assoc_model *m);
size_t assoc_model_attr_count(const assoc_model *m);
/* The attribute's index, or -1. */
int assoc_model_attr_index(const assoc_model *m, const char *name);
/* The attribute's definition as the core completed it (field, type, ...);
** lives as long as the model.  NULL for an index out of range. */
const assoc_attr_def *assoc_model_attr(const assoc_model *m, size_t i);
/* Index of the single-column primary key, or -1 (a composite through key). */
int assoc_model_pk(const assoc_model *m);
/* The attribute indexes of createdAt / updatedAt, or -1. */
int assoc_model_created_at(const assoc_model *m);
int assoc_model_updated_at(const assoc_model *m);

/* CREATE TABLE (after DROP TABLE with force).  assoc_db_sync() creates every
** table in foreign-key order, through tables included. */
int assoc_db_sync(assoc_db *db, int force);
int assoc_model_sync(assoc_model *m, int force);
int assoc_model_drop(assoc_model *m);

/* ---------------------------------------------------------------- queries */

typedef enum assoc_cond_kind {
  ASSOC_COND_AND = 1,   /* children */
  ASSOC_COND_OR,        /* children */
  ASSOC_COND_NOT,       /* children[0] */
  ASSOC_COND_CMP,       /* attr op values */
  ASSOC_COND_LITERAL    /* sql with '?' and values */
} assoc_cond_kind;

typedef enum assoc_op {
  ASSOC_OP_EQ = 1,      /* a NULL value: IS NULL */
  ASSOC_OP_NE,          /* a NULL value: IS NOT NULL */
  ASSOC_OP_GT, ASSOC_OP_GTE, ASSOC_OP_LT, ASSOC_OP_LTE,
  ASSOC_OP_LIKE, ASSOC_OP_NOT_LIKE,
  ASSOC_OP_IN, ASSOC_OP_NOT_IN,           /* nvalues values (0 allowed) */
  ASSOC_OP_BETWEEN, ASSOC_OP_NOT_BETWEEN  /* exactly 2 values */
} assoc_op;

typedef struct assoc_cond {
  assoc_cond_kind kind;
  const char *attr;                     /* CMP: attribute name */
  assoc_op op;                          /* CMP */
  const assoc_value *values;            /* CMP, LITERAL */
  size_t nvalues;
  const char *sql;                      /* LITERAL */
  const struct assoc_cond *children;    /* AND, OR, NOT */
  size_t nchildren;
} assoc_cond;

typedef struct assoc_order {
  const char *attr;
  int desc;
} assoc_order;

/* Keep only the rows that have an associated row through `association`
** (matching where / through_where): eager loading's `required`. */
typedef struct assoc_exists {
  assoc_association *association;
  const struct assoc_cond *where;
  const struct assoc_cond *through_where;
} assoc_exists;

/* Everything optional; zero-initialise.  limit 0 means no limit. */
typedef struct assoc_query {
  const assoc_cond *where;
  const char *const *attributes;        /* NULL: every attribute */
  size_t nattributes;
  const assoc_order *order;
  size_t norder;
  int64_t limit;
  int64_t offset;
  /* belongsToMany getters only */
  const assoc_cond *through_where;      /* conditions on the join row */
  const char *const *join_attributes;   /* with join_attributes_set */
  size_t njoin_attributes;
  int join_attributes_set;              /* 0: every join attribute */
  /* model finds and counts, association getters: EXISTS filters on the
  ** rows (for getters, on the targets), AND-ed with where */
  const assoc_exists *exists;
  size_t nexists;
} assoc_query;

/* An attribute and its value, for inserts and updates. */
typedef struct assoc_field {
  int attr;                             /* attribute index */
  assoc_value value;
} assoc_field;

/* INSERT one row; defaults and timestamps are filled in.  *out (may be
** NULL) yields the stored row: step it once to read it. */
int assoc_model_insert(assoc_model *m, const assoc_field *fields, size_t n,
                       assoc_rows **out);
/* INSERT nrows rows of the same nattrs attributes (values row-major), in as
** few multi-row statements as the dialect allows, in one transaction. *out
** (may be NULL) yields the stored rows in input order. */
int assoc_model_insert_many(assoc_model *m, const int *attrs, size_t nattrs,
                            const assoc_value *values, size_t nrows,
                            assoc_rows **out);
/* UPDATE the row whose primary key is pk; updatedAt is set.  *out (may be
** NULL) is the stored row; ASSOC_DONE at once when no row has that key. */
int assoc_model_update_pk(assoc_model *m, const assoc_value *pk,
                          const assoc_field *fields, size_t n,
                          assoc_rows **out);
/* UPDATE / DELETE every row matching q->where. */
int assoc_model_update(assoc_model *m, const assoc_field *fields, size_t n,
                       const assoc_query *q, int64_t *changed);
int assoc_model_destroy(assoc_model *m, const assoc_query *q,
                        int64_t *deleted);
int assoc_model_find(assoc_model *m, const assoc_query *q, assoc_rows **out);
int assoc_model_count(assoc_model *m, const assoc_query *q, int64_t *out);

/* ----------------------------------------------------------- transactions */

/* Begin a transaction, or a savepoint when one is open.  Transactions nest
** as a stack: only the innermost open one may be committed or rolled back.
** The caller owns *out and frees it with assoc_txn_free() (which rolls back
** one still open). */
int assoc_txn_begin(assoc_db *db, assoc_txn **out);
int assoc_txn_commit(assoc_txn *t);
int assoc_txn_rollback(assoc_txn *t);
int assoc_txn_is_open(const assoc_txn *t);
assoc_db *assoc_txn_db(const assoc_txn *t);
void assoc_txn_free(assoc_txn *t);
/* Depth of open transactions on db (0: autocommit). */
int assoc_db_txn_depth(const assoc_db *db);

/* ----------------------------------------------------------- associations */

typedef enum assoc_assoc_kind {
  ASSOC_HAS_MANY = 1,
  ASSOC_BELONGS_TO,
  ASSOC_HAS_ONE,
  ASSOC_BELONGS_TO_MANY
} assoc_assoc_kind;

typedef struct assoc_association_opts {
  const char *as;             /* plural (multi) or singular (single) name */
  const char *as_singular;    /* with as_plural: both names verbatim */
  const char *as_plural;
  const char *foreign_key;
  int foreign_key_not_null;   /* foreignKey = { allowNull = false } */
  const char *other_key;      /* belongsToMany */
  const char *source_key;
  const char *target_key;
  assoc_model *through;       /* belongsToMany: a through model, or */
  const char *through_table;  /*   a table name for a join model made here */
  int through_no_timestamps;
  const char *on_delete;      /* "CASCADE", "SET NULL", "RESTRICT", ... */
  const char *on_update;
  int no_constraints;         /* constraints = false */
  /* association scope: attribute = value pairs on the target */
  const char *const *scope_attrs;
  const assoc_value *scope_values;
  size_t nscope;
  /* belongsToMany through scope: attribute = value pairs on the join row,
  ** which get/count/has/set/remove filter by and add/set/create write (a
  ** NULL value means IS NULL).  Neither join key may be one of them. */
  const char *const *through_scope_attrs;
  const assoc_value *through_scope_values;
  size_t nthrough_scope;
} assoc_association_opts;

/* The accessors an association has.  assoc_association_accessor() gives the
** method name ("getProjects"), or NULL when the kind lacks the operation. */
typedef enum assoc_accessor {
  ASSOC_ACC_GET = 0,     /* getProjects / getUser */
  ASSOC_ACC_SET,         /* setProjects / setUser */
  ASSOC_ACC_ADD,         /* addProject */
  ASSOC_ACC_ADD_MANY,    /* addProjects */
  ASSOC_ACC_CREATE,      /* createProject / createUser */
  ASSOC_ACC_REMOVE,      /* removeProject */
  ASSOC_ACC_REMOVE_MANY, /* removeProjects */
  ASSOC_ACC_HAS,         /* hasProject */
  ASSOC_ACC_HAS_MANY,    /* hasProjects */
  ASSOC_ACC_COUNT,       /* countProjects */
  ASSOC_ACCESSOR_COUNT
} assoc_accessor;

/* Declare an association.  Names follow Sequelize: foreign key "UserId"
** (column user_id when underscored), accessors from the target's or the
** alias' singular and plural.  Adds the foreign-key attribute to the model
** that carries it.  On failure nothing is registered. */
int assoc_association_define(assoc_model *source, assoc_assoc_kind kind,
                             assoc_model *target,
                             const assoc_association_opts *opts,
                             assoc_association **out);
assoc_assoc_kind assoc_association_kind(const assoc_association *a);
/* "HasMany", "BelongsTo", "HasOne", "BelongsToMany" */
const char *assoc_association_type_name(const assoc_association *a);
assoc_model *assoc_association_source(const assoc_association *a);
assoc_model *assoc_association_target(const assoc_association *a);
/* The join model of a belongsToMany, else NULL. */
assoc_model *assoc_association_through(const assoc_association *a);
const char *assoc_association_as(const assoc_association *a);
const char *assoc_association_singular(const assoc_association *a);
const char *assoc_association_plural(const assoc_association *a);
const char *assoc_association_foreign_key(const assoc_association *a);
const char *assoc_association_other_key(const assoc_association *a);
const char *assoc_association_accessor(const assoc_association *a,
                                       assoc_accessor op);
/* The source attribute whose value the accessors take as source_key: the
** sourceKey (hasMany, hasOne, belongsToMany) or the foreign key (belongsTo
** get; belongsTo set and create take the source's primary key). */
int assoc_association_source_attr(const assoc_association *a);
/* The target attribute the accessors take keys of (its primary key, or
** targetKey for belongsTo). */
int assoc_association_target_attr(const assoc_association *a);
size_t assoc_model_association_count(const assoc_model *m);
assoc_association *assoc_model_association_at(const assoc_model *m,
                                              size_t i);
assoc_association *assoc_model_association(const assoc_model *m,
                                           const char *as);

/* The accessors.  source_key identifies the source row (see
** assoc_association_source_attr); keys are target keys, coerced to the key's
** type and de-duplicated.  join are attributes of the through model written
** on new links and on re-added ones (belongsToMany).  Every multi-statement
** accessor runs in its own transaction, or a savepoint in an open one. */

/* hasMany/belongsToMany: the associated rows (with the join row's columns
** after the target's for belongsToMany).  belongsTo/hasOne: at most one. */
int assoc_association_get(assoc_association *a, const assoc_value *source_key,
                          const assoc_query *q, assoc_rows **out);
int assoc_association_count(assoc_association *a,
                            const assoc_value *source_key,
                            const assoc_query *q, int64_t *out);
/* *out = every key is associated (1 for n == 0). */
int assoc_association_has(assoc_association *a, const assoc_value *source_key,
                          const assoc_value *keys, size_t n, int *out);
int assoc_association_add(assoc_association *a, const assoc_value *source_key,
                          const assoc_value *keys, size_t n,
                          const assoc_field *join, size_t njoin);
/* hasMany/belongsToMany: exactly keys associated.  belongsTo: source_key is
** the source's primary key, n is 0 (unlink) or 1.  hasOne: n is 0 or 1. */
int assoc_association_set(assoc_association *a, const assoc_value *source_key,
                          const assoc_value *keys, size_t n,
                          const assoc_field *join, size_t njoin);

/* The join attributes of one target of a belongsToMany add or set, written
** for keys[key] in place of the call's join (Sequelize's per-target
** target[ThroughModel.name]; the Lua binding merges the two). */
typedef struct assoc_target_join {
  size_t key;                           /* index into keys */
  const assoc_field *join;
  size_t njoin;
} assoc_target_join;

/* add and set with per-target join attributes (each may be NULL when
** neach is 0: then they are assoc_association_add / _set).  The targets
** without one take join; with any, the call is one transaction. */
int assoc_association_add_each(assoc_association *a,
                               const assoc_value *source_key,
                               const assoc_value *keys, size_t n,
                               const assoc_field *join, size_t njoin,
                               const assoc_target_join *each, size_t neach);
int assoc_association_set_each(assoc_association *a,
                               const assoc_value *source_key,
                               const assoc_value *keys, size_t n,
                               const assoc_field *join, size_t njoin,
                               const assoc_target_join *each, size_t neach);
int assoc_association_remove(assoc_association *a,
                             const assoc_value *source_key,
                             const assoc_value *keys, size_t n);
/* INSERT a target with values (plus the key and scope) and link it.  *out
** is the new target row. */
int assoc_association_create(assoc_association *a,
                             const assoc_value *source_key,
                             const assoc_field *values, size_t n,
                             const assoc_field *join, size_t njoin,
                             assoc_rows **out);

/* --------------------------------------------------------- eager loading */

/* The targets of many sources in one statement.  source_keys are what get
** takes as source_key, one per source (for belongsTo: the sources' foreign
** key values).  Each row holds the target's columns (and the join row's for
** belongsToMany, as get does), then as its LAST column the source key it
** belongs to.  q->where, attributes, order and through_where apply as in
** get; q->limit and q->offset apply per source (ROW_NUMBER() OVER
** (PARTITION BY ...)).  hasOne gives at most one row per source. */
int assoc_association_get_many(assoc_association *a,
                               const assoc_value *source_keys, size_t n,
                               const assoc_query *q, assoc_rows **out);
/* One row (source key, count) per source that has associated rows; the
** others have none.  q->where and q->through_where apply. */
int assoc_association_count_many(assoc_association *a,
                                 const assoc_value *source_keys, size_t n,
                                 const assoc_query *q, assoc_rows **out);

#ifdef __cplusplus
}
#endif
#endif
