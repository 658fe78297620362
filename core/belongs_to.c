/*
** belongs_to.c: the accessors of a belongsTo (Task belongs to User): the
** foreign key lives on the source row, so get reads one target by that
** key and set/create write the source's column.
*/
#include <string.h>

#include "association.h"

enum { SQL_GET, SQL_SET };

#define DB(a) ((a)->source->db)

int assoc__belongs_to_get(assoc_association *a, const assoc_value *fk,
                          const assoc_query *q, assoc_rows **out) {
  assoc_db *db = DB(a);
  assoc_model *t = a->target;
  assoc_buf b;
  assoc_params p;
  assoc_colmap *map = NULL;
  size_t nmap = 0, capmap = 0;
  int rc;
  if (assoc__assoc_plain(q))
    return assoc__assoc_select_by(a, SQL_GET, fk, 0, out);
  assoc__buf_init(&b);
  assoc__params_init(&p);
  assoc__buf_puts(&b, "SELECT ");
  rc = assoc__select_list(db, &b, t, t->name, q->attributes, q->nattributes,
                          &map, &nmap, &capmap);
  if (!rc) {
    assoc__buf_puts(&b, " FROM ");
    assoc__buf_table_as(&b, t->table, t->name);
    assoc__buf_puts(&b, " WHERE ");
    assoc__buf_column(&b, t->name, assoc__attr_field(t, a->target_key_attr));
    assoc__buf_puts(&b, " = ");
    rc = assoc__push_attr_value(db, &p, t, a->target_key_attr, fk);
    assoc__placeholder(db, &b, p.n);
  }
  if (!rc && q->where) {
    assoc__buf_puts(&b, " AND (");
    rc = assoc__where(db, &b, &p, t, t->name, q->where);
    assoc__buf_putc(&b, ')');
  }
  if (!rc) rc = assoc__exists_and(db, &b, &p, t, t->name, q);
  if (!rc) rc = assoc__order_limit(db, &b, &p, t, t->name, q);
  if (!rc && (b.oom || p.oom))
    rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
  if (!rc) rc = assoc__exec(db, b.p, p.v, p.n, NULL);
  if (!rc) rc = assoc__rows_apply_map(db, map, nmap);
  if (!rc && out) *out = &db->rows;
  assoc__free(map);
  assoc__buf_free(&b);
  assoc__params_free(&p);
  return rc;
}

/* "UPDATE source SET fk = ?, updatedAt = ? WHERE pk = ?" */
static int gen_set(assoc_association *a, assoc_buf *b) {
  assoc_model *s = a->source;
  size_t ph = 0;
  assoc__buf_puts(b, "UPDATE ");
  assoc__buf_ident(b, s->table);
  assoc__buf_puts(b, " SET ");
  assoc__buf_ident(b, assoc__attr_field(s, a->fk_attr));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(DB(a), b, ++ph);
  if (s->updated_at >= 0) {
    assoc__buf_puts(b, ", ");
    assoc__buf_ident(b, assoc__attr_field(s, s->updated_at));
    assoc__buf_puts(b, " = ");
    assoc__placeholder(DB(a), b, ++ph);
  }
  assoc__buf_puts(b, " WHERE ");
  assoc__buf_ident(b, assoc__attr_field(s, a->source_key_attr));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(DB(a), b, ++ph);
  return ASSOC_OK;
}

static int check_source_pk(assoc_association *a) {
  if (a->source_key_attr >= 0) return ASSOC_OK;
  return assoc__error(DB(a), ASSOC_MISUSE, "%s has no single-column primary "
                      "key to save %s.%s on", a->source->name,
                      a->source->name, a->foreign_key);
}

/* The one UPDATE of set; key NULL unlinks. */
static int run_set(assoc_association *a, const assoc_value *src_pk,
                   const assoc_value *key) {
  assoc_db *db = DB(a);
  assoc_model *s = a->source;
  assoc_value null;
  assoc_params p;
  const char *sql = assoc__assoc_sql(a, SQL_SET, gen_set);
  int rc;
  if (!sql) return db->errcode;
  null.kind = ASSOC_NULL;
  assoc__params_init(&p);
  rc = assoc__push_attr_value(db, &p, s, a->fk_attr, key ? key : &null);
  if (!rc && s->updated_at >= 0)
    rc = assoc__assoc_push_now(db, &p, s, s->updated_at);
  if (!rc) rc = assoc__push_attr_value(db, &p, s, a->source_key_attr, src_pk);
  if (!rc) rc = assoc__assoc_run(db, sql, &p);
  assoc__params_free(&p);
  return rc;
}

int assoc__belongs_to_set(assoc_association *a, const assoc_value *src_pk,
                          const assoc_value *key) {
  int rc = check_source_pk(a);
  return rc ? rc : run_set(a, src_pk, key);
}

/* INSERT the target, point the source at it, then read the new row back:
** the COMMIT that ends the transaction resets the INSERT's cursor.  Both
** statements' SQL is made before BEGIN. */
int assoc__belongs_to_create(assoc_association *a, const assoc_value *src_pk,
                             const assoc_field *values, size_t n,
                             assoc_rows **out) {
  assoc_db *db = DB(a);
  assoc_value key;
  char *hold = NULL;
  int rc = check_source_pk(a);
  if (rc) return rc;
  if (!assoc__assoc_sql(a, SQL_SET, gen_set) ||
      !assoc__assoc_select_sql(a, SQL_GET))
    return db->errcode;
  rc = assoc__atomic_begin(db);
  if (rc) return rc;
  rc = assoc__assoc_insert(a, values, n, NULL, 0, NULL);
  if (!rc)
    rc = assoc__assoc_inserted_value(db, a->target, a->target_key_attr, &key,
                                     &hold);
  if (!rc) rc = run_set(a, src_pk, &key);
  rc = assoc__atomic_end(db, rc);
  if (!rc) rc = assoc__assoc_select_by(a, SQL_GET, &key, 1, out);
  assoc__free(hold);
  return rc;
}
