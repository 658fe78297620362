/*
** association.h: what the association files share: the declaring code in
** association.c and one file per kind (has_many.c, belongs_to.c,
** has_one.c, belongs_to_many.c).  Private to the core.
*/
#ifndef ASSOC_ASSOCIATION_H
#define ASSOC_ASSOCIATION_H

#include "dialect.h"

typedef int (*assoc__assoc_gen)(assoc_association *a, assoc_buf *b);
const char *assoc__assoc_sql(assoc_association *a, int slot,
                             assoc__assoc_gen gen);
int assoc__assoc_plain(const assoc_query *q);
void assoc__assoc_scope_where(assoc_association *a, assoc_buf *b,
                              const char *alias, size_t *ph);
void assoc__assoc_scope_set(assoc_association *a, assoc_buf *b, size_t *ph);
void assoc__assoc_scope_params(assoc_association *a, assoc_params *p,
                               int with_nulls);
int assoc__assoc_push_now(assoc_db *db, assoc_params *p,
                          const assoc_model *m, int attr);
int assoc__assoc_run(assoc_db *db, const char *sql, assoc_params *p);
/* The same, giving the number of rows the statement wrote. */
int assoc__assoc_run_changes(assoc_db *db, const char *sql, assoc_params *p,
                             int64_t *changes);
int assoc__assoc_scalars(assoc_db *db, const char *sql, assoc_params *p,
                         int64_t *out, size_t n);
void assoc__assoc_columns(assoc_db *db, assoc_buf *b, const assoc_model *m,
                          const char *alias);
int assoc__assoc_map_all(assoc_db *db, size_t first, const assoc_model *m);
int assoc__assoc_inserted_value(assoc_db *db, const assoc_model *m,
                                int attr, assoc_value *out, char **hold);
const char *assoc__assoc_select_sql(assoc_association *a, int slot);
int assoc__assoc_select_by(assoc_association *a, int slot,
                           const assoc_value *key, int stored,
                           assoc_rows **out);
int assoc__assoc_insert(assoc_association *a, const assoc_field *values,
                        size_t n, const assoc_field *forced, size_t nforced,
                        assoc_rows **out);
int assoc__assoc_need_pk(assoc_association *a);
/* hasMany/hasOne: " FROM t AS T WHERE T.fk = ? AND <scope>", and the
** values it binds. */
/* "SELECT COUNT(*) FROM <key list 1> CROSS JOIN <m's table> AS <m> WHERE "
** for a hasX whose key list drives the lookups (keys_drive_lookups); the
** keys are "assoc_k"."value", of key_type. */
void assoc__assoc_count_by_keys(assoc_association *a, assoc_buf *b,
                                const assoc_model *m, assoc_type key_type);
void assoc__assoc_from_owned(assoc_association *a, assoc_buf *b,
                             size_t *ph);
int assoc__assoc_owned_params(assoc_association *a, assoc_params *p,
                              const assoc_value *src);
/* hasMany/hasOne: "UPDATE t SET fk = NULL, updatedAt = ? WHERE fk = ?
** AND <scope>", and the values it binds. */
void assoc__assoc_unlink_head(assoc_association *a, assoc_buf *b,
                              size_t *ph);
int assoc__assoc_unlink_params(assoc_association *a, assoc_params *p,
                               const assoc_value *src);

#endif
