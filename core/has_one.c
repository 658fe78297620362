/*
** has_one.c: the accessors of a hasOne (User has one Profile): the foreign
** key lives on the target row.  set and create keep at most one target
** linked (the previous one is unlinked first, in the same transaction).
*/
#include <string.h>

#include "association.h"

enum { SQL_GET, SQL_UNLINK_ALL, SQL_UNLINK_OTHER, SQL_LINK, SQL_SELECT_KEY };

#define DB(a) ((a)->source->db)
#define FK(a) assoc__attr_field((a)->target, (a)->fk_attr)
#define PK(a) assoc__attr_field((a)->target, (a)->target_key_attr)

static int gen_get(assoc_association *a, assoc_buf *b) {
  size_t ph = 0;
  assoc__buf_puts(b, "SELECT ");
  assoc__assoc_columns(DB(a), b, a->target, a->target->name);
  assoc__assoc_from_owned(a, b, &ph);
  assoc__buf_puts(b, " LIMIT ");
  assoc__placeholder(DB(a), b, ++ph);
  return ASSOC_OK;
}

int assoc__has_one_get(assoc_association *a, const assoc_value *src,
                       const assoc_query *q, assoc_rows **out) {
  assoc_db *db = DB(a);
  assoc_model *t = a->target;
  assoc_buf b;
  assoc_params p;
  assoc_colmap *map = NULL;
  size_t nmap = 0, capmap = 0, ph;
  const char *sql;
  int rc;
  assoc__params_init(&p);
  if (assoc__assoc_plain(q)) {
    sql = assoc__assoc_sql(a, SQL_GET, gen_get);
    if (!sql) return db->errcode;
    rc = assoc__assoc_owned_params(a, &p, src);
    if (!rc) {
      assoc__params_push_int(&p, 1);
      if (p.oom) rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
    }
    if (!rc) rc = assoc__exec(db, sql, p.v, p.n, NULL);
    if (!rc) rc = assoc__assoc_map_all(db, 0, t);
  } else {
    assoc_query one = *q;
    one.limit = 1;
    assoc__buf_init(&b);
    assoc__buf_puts(&b, "SELECT ");
    rc = assoc__select_list(db, &b, t, t->name, q->attributes,
                            q->nattributes, &map, &nmap, &capmap);
    if (!rc) {
      ph = 0;
      assoc__assoc_from_owned(a, &b, &ph);
      rc = assoc__assoc_owned_params(a, &p, src);
    }
    if (!rc && q->where) {
      assoc__buf_puts(&b, " AND (");
      rc = assoc__where(db, &b, &p, t, t->name, q->where);
      assoc__buf_putc(&b, ')');
    }
    if (!rc) rc = assoc__exists_and(db, &b, &p, t, t->name, q);
    if (!rc) rc = assoc__order_limit(db, &b, &p, t, t->name, &one);
    if (!rc && (b.oom || p.oom))
      rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
    if (!rc) rc = assoc__exec(db, b.p, p.v, p.n, NULL);
    if (!rc) rc = assoc__rows_apply_map(db, map, nmap);
    assoc__free(map);
    assoc__buf_free(&b);
  }
  if (!rc && out) *out = &db->rows;
  assoc__params_free(&p);
  return rc;
}


static int gen_unlink_all(assoc_association *a, assoc_buf *b) {
  size_t ph = 0;
  assoc__assoc_unlink_head(a, b, &ph);
  return ASSOC_OK;
}

static int gen_unlink_other(assoc_association *a, assoc_buf *b) {
  size_t ph = 0;
  assoc__assoc_unlink_head(a, b, &ph);
  assoc__buf_puts(b, " AND ");
  assoc__buf_ident(b, PK(a));
  assoc__buf_puts(b, " <> ");
  assoc__placeholder(DB(a), b, ++ph);
  return ASSOC_OK;
}

/* "UPDATE t SET fk = ?, updatedAt = ?, <scope> WHERE pk = ?" and only when
** not linked already, so setting the current target writes nothing. */
static int gen_link(assoc_association *a, assoc_buf *b) {
  assoc_model *t = a->target;
  size_t ph = 0, i;
  assoc__buf_puts(b, "UPDATE ");
  assoc__buf_ident(b, t->table);
  assoc__buf_puts(b, " SET ");
  assoc__buf_ident(b, FK(a));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(DB(a), b, ++ph);
  if (t->updated_at >= 0) {
    assoc__buf_puts(b, ", ");
    assoc__buf_ident(b, assoc__attr_field(t, t->updated_at));
    assoc__buf_puts(b, " = ");
    assoc__placeholder(DB(a), b, ++ph);
  }
  assoc__assoc_scope_set(a, b, &ph);
  assoc__buf_puts(b, " WHERE ");
  assoc__buf_ident(b, PK(a));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(DB(a), b, ++ph);
  assoc__buf_puts(b, " AND (");
  assoc__buf_ident(b, FK(a));
  assoc__buf_puts(b, " IS NULL OR ");
  assoc__buf_ident(b, FK(a));
  assoc__buf_puts(b, " <> ");
  assoc__placeholder(DB(a), b, ++ph);
  for (i = 0; i < a->nscope; i++) {
    const char *col = assoc__attr_field(t, a->scope_attrs[i]);
    assoc__buf_puts(b, " OR ");
    assoc__buf_ident(b, col);
    if (a->scope_values[i].kind == ASSOC_NULL) {
      assoc__buf_puts(b, " IS NOT NULL");
    } else {
      assoc__buf_puts(b, " IS NULL OR ");
      assoc__buf_ident(b, col);
      assoc__buf_puts(b, " <> ");
      assoc__placeholder(DB(a), b, ++ph);
    }
  }
  assoc__buf_putc(b, ')');
  return ASSOC_OK;
}

static int link_params(assoc_association *a, assoc_params *p,
                       const assoc_value *src, const assoc_value *key) {
  assoc_db *db = DB(a);
  assoc_model *t = a->target;
  int rc = assoc__push_attr_value(db, p, t, a->fk_attr, src);
  if (!rc && t->updated_at >= 0)
    rc = assoc__assoc_push_now(db, p, t, t->updated_at);
  if (rc) return rc;
  assoc__assoc_scope_params(a, p, 1);
  rc = assoc__push_attr_value(db, p, t, a->target_key_attr, key);
  if (!rc) rc = assoc__push_attr_value(db, p, t, a->fk_attr, src);
  if (rc) return rc;
  assoc__assoc_scope_params(a, p, 0);
  return p->oom ? assoc__error(db, ASSOC_NOMEM, "out of memory") : ASSOC_OK;
}

static int unlink_all(assoc_association *a, const assoc_value *src) {
  assoc_db *db = DB(a);
  assoc_params p;
  const char *sql = assoc__assoc_sql(a, SQL_UNLINK_ALL, gen_unlink_all);
  int rc;
  if (!sql) return db->errcode;
  assoc__params_init(&p);
  rc = assoc__assoc_unlink_params(a, &p, src);
  if (!rc) rc = assoc__assoc_run(db, sql, &p);
  assoc__params_free(&p);
  return rc;
}

int assoc__has_one_set(assoc_association *a, const assoc_value *src,
                       const assoc_value *key) {
  assoc_db *db = DB(a);
  assoc_params p, q;
  const char *unlink, *link = NULL;
  int rc;
  if (!key) return unlink_all(a, src);
  rc = assoc__assoc_need_pk(a);
  if (rc) return rc;
  unlink = assoc__assoc_sql(a, SQL_UNLINK_OTHER, gen_unlink_other);
  if (unlink) link = assoc__assoc_sql(a, SQL_LINK, gen_link);
  if (!link) return db->errcode;
  assoc__params_init(&p);
  assoc__params_init(&q);
  rc = assoc__assoc_unlink_params(a, &p, src);
  if (!rc)
    rc = assoc__push_attr_value(db, &p, a->target, a->target_key_attr, key);
  if (!rc) rc = link_params(a, &q, src, key);
  if (!rc) {
    rc = assoc__atomic_begin(db);
    if (!rc) {
      rc = assoc__assoc_run(db, unlink, &p);
      if (!rc) rc = assoc__assoc_run(db, link, &q);
      rc = assoc__atomic_end(db, rc);
    }
  }
  assoc__params_free(&p);
  assoc__params_free(&q);
  return rc;
}

/* Unlink the previous target (R14), INSERT the new one, and read it back
** after the COMMIT (which resets the INSERT's cursor). */
int assoc__has_one_create(assoc_association *a, const assoc_value *src,
                          const assoc_field *values, size_t n,
                          assoc_rows **out) {
  assoc_db *db = DB(a);
  assoc_field *forced;
  assoc_value key;
  char *hold = NULL;
  size_t i;
  int rc = assoc__assoc_need_pk(a);
  if (rc) return rc;
  forced = assoc__malloc((a->nscope + 1) * sizeof *forced);
  if (!forced) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  forced[0].attr = a->fk_attr;
  forced[0].value = *src;
  for (i = 0; i < a->nscope; i++) {
    forced[i + 1].attr = a->scope_attrs[i];
    forced[i + 1].value = a->scope_values[i];
  }
  if (!assoc__assoc_select_sql(a, SQL_SELECT_KEY)) rc = db->errcode;
  if (!rc) rc = assoc__atomic_begin(db);
  if (!rc) {
    rc = unlink_all(a, src);
    if (!rc)
      rc = assoc__assoc_insert(a, values, n, forced, a->nscope + 1, NULL);
    if (!rc)
      rc = assoc__assoc_inserted_value(db, a->target, a->target_key_attr,
                                       &key, &hold);
    rc = assoc__atomic_end(db, rc);
  }
  if (!rc)
    rc = assoc__assoc_select_by(a, SQL_SELECT_KEY, &key, 1, out);
  assoc__free(hold);
  assoc__free(forced);
  return rc;
}
