/*
** lbind.h: the private header of the Lua bindings.  The structs behind each
** userdata, the metatable names, and the lbind_ helpers the binding files
** share.  The bindings reach the core through assoc.h only.
*/
#ifndef LBIND_H
#define LBIND_H

#include <stddef.h>

#include <lua.h>
#include <lauxlib.h>

#include "assoc.h"

#define LBIND_DB_MT "assoc.Database"
#define LBIND_MODEL_MT "assoc.Model"
#define LBIND_ASSOC_MT "assoc.Association"
#define LBIND_TXN_MT "assoc.Transaction"
#define LBIND_ERROR_MT "assoc.Error"
#define LBIND_COND_MT "assoc.Condition"
#define LBIND_TYPE_MT "assoc.Type"
#define LBIND_NULL_MT "assoc.null"
#define LBIND_ARENA_MT "assoc.Arena"
#define LBIND_JSONBOX_MT "assoc.JSONBox"
/* Registry keys: the assoc.null value, and the set of every model's
** instance metatable (the instance "type group"). */
#define LBIND_NULL_KEY "assoc.null.value"
#define LBIND_INSTANCES_KEY "assoc.InstanceGroup"

typedef struct lbind_txn lbind_txn;
typedef struct lbind_orphan lbind_orphan;

/* A Database userdata.  db is NULL once closed; every child object reaches
** the core through this struct, so a closed database makes them raise. */
typedef struct lbind_db {
  assoc_db *db;
  lua_State *L;             /* thread of the method call now running */
  int log_ref;              /* registry: the logging function */
  int pending_error_ref;    /* registry slot keeping a logger's error */
  int has_pending;          /* that slot holds an error to re-raise */
  int in_log;               /* the logger runs: calls back are refused */
  lbind_txn *txns;          /* live Transaction objects, freed on close */
  lbind_orphan *orphans;    /* collected open transactions to roll back */
  const char *dialect;      /* static string, kept past close */
} lbind_db;

/* An open transaction whose object was collected.  Rolling back runs SQL,
** which a finalizer must not do in the middle of a core call, so the
** handle waits here for the next method call (or close). */
struct lbind_orphan {
  assoc_txn *t;
  lbind_orphan *next;
};

/* A Transaction userdata; linked into its database so that closing the
** database frees the handle before the core frees what it points to. */
struct lbind_txn {
  assoc_txn *t;
  lbind_db *owner;
  lbind_txn *prev, *next;
  int linked;               /* in owner->txns */
};

/* A Model userdata (a view: scoped views share the assoc_model). */
typedef struct lbind_model {
  assoc_model *m;
  lbind_db *owner;
} lbind_model;

/* An Association userdata. */
typedef struct lbind_assoc {
  assoc_association *a;
  lbind_db *owner;
} lbind_assoc;

/* An instance userdata.  Its values sit in its own user value slots (see
** linstance.c); the state table { values, changed, model, isNew, extra }
** is made on demand: reach both only through lbind_inst_field and
** lbind_inst_value. */
typedef struct lbind_inst {
  lbind_model *model;       /* the canonical model, kept alive by "model" */
} lbind_inst;

/* ------------------------------------------------------------- lassoc.c */
void lbind_push_null(lua_State *L);
int lbind_is_null(lua_State *L, int idx);
/* A "type" table of assoc.STRING etc.: its assoc_type and length. */
int lbind_test_type(lua_State *L, int idx, assoc_type *type, int *length);
const char *lbind_type_name(assoc_type type);   /* "STRING", ... */

/* ------------------------------------------------------------- lerror.c */
void lbind_open_error(lua_State *L);
/* Push a new error object (sql may be NULL) with an empty errors list. */
void lbind_push_error(lua_State *L, const char *name, const char *message,
                      const char *sql);
/* Push the error object (or, for ASSOC_MISUSE, the plain message) of the
** last failure on o; a pending logger error wins (and is cleared). */
void lbind_push_core_error(lua_State *L, lbind_db *o, int rc);
/* Push it and raise it. */
int lbind_raise_core(lua_State *L, lbind_db *o, int rc);
/* After a core call: raise a pending logger error, then any failure. */
void lbind_check_rc(lua_State *L, lbind_db *o, int rc);
int lbind_raise_pending(lua_State *L, lbind_db *o);
/* Drop a pending logger error (a rollback's, while another error wins). */
void lbind_clear_pending(lua_State *L, lbind_db *o);
/* Raise a binding-made error object of class name. */
int lbind_error(lua_State *L, const char *name, const char *fmt, ...);

/* -------------------------------------------------------------- lconv.c */
typedef struct lbind_arena lbind_arena;

/* Scratch memory owned by a userdata pushed on the stack, so an error
** anywhere frees it at collection; lbind_arena_release frees it early. */
lbind_arena *lbind_arena_new(lua_State *L);
void *lbind_arena_alloc(lua_State *L, lbind_arena *a, size_t n);
/* count elements of size bytes (at least one), zeroed; raises instead of
** wrapping on a huge count. */
void *lbind_arena_array(lua_State *L, lbind_arena *a, size_t count,
                        size_t size);
char *lbind_arena_strdup(lua_State *L, lbind_arena *a, const char *s,
                         size_t n);
void lbind_arena_release(lbind_arena *a);
void lbind_open_conv(lua_State *L);

/* Push a value read from the core; type 0 means a raw column. */
void lbind_push_value(lua_State *L, const assoc_value *v, assoc_type type);

/* The last text of a result column, whose Lua string a user value of the
** row builder's plan holds: a run of equal values (timestamps, a status)
** becomes one string.  Zeroed: nothing kept yet. */
typedef struct lbind_text_cache {
  int state;                 /* 1 keeping, 0 nothing kept yet, -1 off */
  unsigned hits, misses;
  size_t lastn;
  char last[40];
} lbind_text_cache;
/* Push column i of the current row as a value of type, its text through
** cache (kept in user value i + 1 of the userdata at holder); returns 0
** and pushes nothing for NULL.  Both row builders' inner loop. */
int lbind_push_column(lua_State *L, lbind_db *o, assoc_rows *rows, size_t i,
                      assoc_type type, lbind_text_cache *cache, int holder);
/* Convert the Lua value at idx for attribute attr of m (attr -1: no
** attribute).  Text is borrowed from the Lua value or copied into A.
** A bad value raises a bad argument error for argument argn (0: plain). */
void lbind_to_value(lua_State *L, int idx, const assoc_model *m, int attr,
                    lbind_arena *A, assoc_value *out, int argn);
/* The same for an attribute definition (d NULL: no attribute); model names
** the model in messages. */
void lbind_to_value_def(lua_State *L, int idx, const assoc_attr_def *d,
                        const char *model, lbind_arena *A, assoc_value *out,
                        int argn);
/* Raise "unknown attribute 'k' of Model" for a key of the table at idx
** that is not an attribute of m.  what: "" or " in where" etc. */
void lbind_check_attr_keys(lua_State *L, int idx, const assoc_model *m,
                           const char *what);
/* The fields of a values table (attribute -> value), in attribute order. */
size_t lbind_fields(lua_State *L, int idx, const assoc_model *m,
                    lbind_arena *A, assoc_field **out, int argn);
/* A where table or condition object as a condition tree; NULL if empty. */
const assoc_cond *lbind_where(lua_State *L, int idx, const assoc_model *m,
                              lbind_arena *A);
/* Conditions a1 AND a2 (either may be NULL). */
const assoc_cond *lbind_cond_and(lua_State *L, lbind_arena *A,
                                 const assoc_cond *a, const assoc_cond *b);
/* Key = value condition for attribute attr. */
const assoc_cond *lbind_cond_eq(lua_State *L, lbind_arena *A,
                                const assoc_model *m, int attr,
                                const assoc_value *v);

#define LBIND_Q_PAGING 1u   /* attributes, order, limit, offset */
#define LBIND_Q_SCOPE 2u    /* accessors: opts.scope (resolved by caller) */
#define LBIND_Q_THROUGH 4u  /* joinTableAttributes, through = { where } */
#define LBIND_Q_KEYS 8u     /* accept other keys: the caller checks them */
#define LBIND_Q_INCLUDE 16u /* accept `include` (the caller loads it) */
/* Build q from the options table at opts (0 or nil: none) and the scope
** list at scopes (0: none; an array of scope tables merged under the
** query: wheres ANDed, other keys as defaults). */
void lbind_query(lua_State *L, int opts, int scopes, const assoc_model *m,
                 const assoc_model *through, lbind_arena *A, assoc_query *q,
                 unsigned flags);

/* -------------------------------------------------------------- ljson.c */
void lbind_open_json(lua_State *L);
/* Push the JSON text of the Lua value at idx. */
void lbind_json_encode(lua_State *L, int idx);
/* Push the Lua value of JSON text (the text itself if it is not JSON). */
void lbind_json_decode(lua_State *L, const char *s, size_t n);

/* ---------------------------------------------------------------- ldb.c */
void lbind_open_db(lua_State *L);
lbind_db *lbind_check_db(lua_State *L, int idx);
/* Raise "attempt to use a closed database" unless o is usable; records
** L as the thread the logger runs on, and rolls back collected open
** transactions (a safe point: no core call is running). */
void lbind_owner_check(lua_State *L, lbind_db *o);
/* Push a new Database object owning db (which may be NULL); db is stored
** last, so if this raises the caller still owns it. */
lbind_db *lbind_db_new(lua_State *L, assoc_db *db);
int lbind_db_open(lua_State *L);              /* assoc.open */
/* Push a table of the models kept in the user value of the Database at
** db_idx: "models" (name -> Model) or "byptr" (light userdata -> Model). */
void lbind_db_table(lua_State *L, int db_idx, const char *which);

/* --------------------------------------------------------------- ltxn.c */
void lbind_open_txn(lua_State *L);
int lbind_db_transaction(lua_State *L);
/* Check opts.transaction of the options table at idx (0 or nil: none). */
void lbind_check_txn_opt(lua_State *L, int idx, lbind_db *o);
/* Free every live transaction handle of o (before its database goes). */
void lbind_txn_close_all(lbind_db *o);
/* Call f with the nargs values on top in a transaction of its own (a
** savepoint inside an open one): committed if f returns, rolled back and
** the error re-raised if it raises.  Leaves f's nresults results. */
void lbind_atomic(lua_State *L, lbind_db *o, lua_CFunction f, int nargs,
                  int nresults);

/* ------------------------------------------------------------- lmodel.c */
void lbind_open_model(lua_State *L);
int lbind_db_define(lua_State *L);            /* db:define */
lbind_model *lbind_test_model(lua_State *L, int idx);
lbind_model *lbind_check_model(lua_State *L, int idx);
/* Push field of the user value of the Model at idx. */
void lbind_model_field(lua_State *L, int idx, const char *field);
/* Push the canonical Model object of m, making one for a model the core
** created (a string through); db_idx is the Database object. */
void lbind_push_model(lua_State *L, int db_idx, const assoc_model *m);
/* Push a new canonical Model object for m (validators at vidx, scopes
** table at sidx, defaultScope at didx; 0 for none). */
void lbind_model_new(lua_State *L, int db_idx, assoc_model *m, int vidx,
                     int sidx, int didx);
/* Push the scope list for name on the model at idx (a named scope). */
void lbind_model_scope_list(lua_State *L, int model_idx, const char *name);

/* ---------------------------------------------------------- linstance.c */
void lbind_open_instance(lua_State *L);
/* Create the instance metatable of m (__name = the model name) and push
** it and its method table (the accessors go there too). */
void lbind_instance_meta(lua_State *L, const assoc_model *m);
lbind_inst *lbind_test_instance(lua_State *L, int idx);
lbind_inst *lbind_check_instance(lua_State *L, int idx);
/* Push a new instance of the canonical Model at model_idx. */
lbind_inst *lbind_push_instance(lua_State *L, int model_idx, int is_new);
/* Push field of the state table of the instance at idx. */
void lbind_inst_field(lua_State *L, int idx, const char *field);
/* Push the value of attribute name of the instance at idx (nil for
** NULL). */
void lbind_inst_value(lua_State *L, int idx, const char *name);
/* Push the extra `name` of the instance at idx (a join row, an include)
** and return 1, or push nothing and return 0: no metamethod, no state
** table made. */
int lbind_inst_extra(lua_State *L, int idx, const char *name);
/* Push a new unsaved instance of the canonical Model at model_idx with the
** values table at vidx (checked against the attributes; defaults filled). */
void lbind_build_instance(lua_State *L, int model_idx, int vidx, int argn);
/* inst:save(opts) for the instance at idx; opts at opts_idx (0: none). */
void lbind_inst_save(lua_State *L, int idx, int opts_idx);
/* Step through rows, making instances of the Model at model_idx: pushes an
** array, or (single) the first instance or nil. */
void lbind_push_rows(lua_State *L, lbind_db *o, assoc_rows *rows,
                     int model_idx, int single);
/* The same, handing each instance (on the stack top, to leave there) to
** each(L, ud) instead of collecting them: nothing pushed.  Eager loading
** files children under their parents without an array of them all. */
void lbind_each_row(lua_State *L, lbind_db *o, assoc_rows *rows,
                    int model_idx, void (*each)(lua_State *L, void *ud),
                    void *ud);
/* Step once and load the row into the instance at inst_idx (values of the
** model replaced, isNew false, changed cleared).  Returns 0 when there was
** no row. */
int lbind_load_row(lua_State *L, lbind_db *o, assoc_rows *rows,
                   int inst_idx);

/* ---------------------------------------------------------------- lraw.c */
/* Rows as plain tables (raw = true): the row model's attributes by name,
** another model's (a belongsToMany's join row) under "Model.attr", or with
** nest in a table under the model's name.  Pushes an array, or (single)
** the first row or nil.  m is the rows' model. */
void lbind_push_raw_rows(lua_State *L, lbind_db *o, assoc_rows *rows,
                         const assoc_model *m, int single, int nest);
/* opts.raw / opts.nest of the query options at opts (0: none) into *raw and
** *nest, raising for values that are not booleans or for include with raw. */
void lbind_raw_opts(lua_State *L, int opts, int *raw, int *nest);

/* ---------------------------------------------------------- lvalidate.c */
#define LBIND_V_FULL 1u     /* every attribute: allowNull for absent ones */
/* Validate the values table at vidx for the Model at model_idx; entries
** go to the list at errs.  inst_idx (or 0) is passed to custom
** validators; only_idx (or 0) is a set limiting the attributes checked;
** skip: attribute names the core fills in (NULL-ended, or NULL).  Custom
** validators run Lua code, so it ends by checking the database is usable. */
void lbind_validate(lua_State *L, int model_idx, int vidx, int inst_idx,
                    int errs, unsigned flags, int only_idx,
                    const char *const *skip);
/* Check a validate = { ... } table at idx of attribute attr at define. */
void lbind_validate_check_spec(lua_State *L, int idx, const char *attr);
/* Raise a ValidationError for the entries at errs, if any. */
void lbind_validate_raise(lua_State *L, int errs);

/* ---------------------------------------------------------- linclude.c */
/* Check and resolve the include list at inc_idx (a model, an element
** table, or a list of them) for the Model at model_idx; pushes the
** prepared list. */
void lbind_include_prepare(lua_State *L, int model_idx, int inc_idx);
/* EXISTS filters for the required entries of the prepared list. */
size_t lbind_include_exists(lua_State *L, int list_idx, lbind_arena *A,
                            const assoc_exists **out);
/* Load the prepared list for the instances in the array at arr_idx:
** one statement per entry and level. */
void lbind_include_load(lua_State *L, lbind_db *o, int arr_idx,
                        int list_idx);

/* ------------------------------------------------------- lassociation.c */
void lbind_open_association(lua_State *L);
/* Model:hasMany(Target, opts) and its siblings (self at 1). */
int lbind_associate(lua_State *L, assoc_assoc_kind kind);

#endif
