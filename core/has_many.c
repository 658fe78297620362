/*
** has_many.c: the accessors of a hasMany (User has Tasks): the foreign key
** lives on the target rows.  Every accessor sends a fixed number of
** statements whatever the number of keys, and the fixed-shape ones are
** generated once per association (a->sql).
*/
#include <string.h>

#include "association.h"

enum {
  SQL_GET, SQL_COUNT, SQL_HAS, SQL_ADD, SQL_UNLINK_OTHERS, SQL_UNLINK_ALL,
  SQL_REMOVE, SQL_LINK_NEW
};

#define DB(a) ((a)->source->db)
#define FK(a) assoc__attr_field((a)->target, (a)->fk_attr)
#define PK(a) assoc__attr_field((a)->target, (a)->target_key_attr)

static int gen_get(assoc_association *a, assoc_buf *b) {
  size_t ph = 0;
  assoc__buf_puts(b, "SELECT ");
  assoc__assoc_columns(DB(a), b, a->target, a->target->name);
  assoc__assoc_from_owned(a, b, &ph);
  return ASSOC_OK;
}

static int gen_count(assoc_association *a, assoc_buf *b) {
  size_t ph = 0;
  assoc__buf_puts(b, "SELECT COUNT(*)");
  assoc__assoc_from_owned(a, b, &ph);
  return ASSOC_OK;
}

/* get and count with a query: built per call (where, order, columns). */
static int run_query(assoc_association *a, const assoc_value *src,
                     const assoc_query *q, int counting, int64_t *count,
                     assoc_rows **out) {
  assoc_db *db = DB(a);
  assoc_model *t = a->target;
  assoc_buf b;
  assoc_params p;
  assoc_colmap *map = NULL;
  size_t nmap = 0, capmap = 0, ph;
  int rc = ASSOC_OK;
  /* Every column, the common case: the plain statement's text (made
  ** once) starts this one too. */
  int all = counting || !q->attributes;
  assoc__buf_init(&b);
  assoc__params_init(&p);
  if (all) {
    const char *prefix = counting ? assoc__assoc_sql(a, SQL_COUNT, gen_count)
                                  : assoc__assoc_sql(a, SQL_GET, gen_get);
    if (!prefix) return db->errcode;
    assoc__buf_puts(&b, prefix);
  } else {
    assoc__buf_puts(&b, "SELECT ");
    rc = assoc__select_list(db, &b, t, t->name, q->attributes,
                            q->nattributes, &map, &nmap, &capmap);
    if (!rc) {
      ph = p.n;
      assoc__assoc_from_owned(a, &b, &ph);
    }
  }
  if (!rc) rc = assoc__assoc_owned_params(a, &p, src);
  if (!rc && q->where) {
    assoc__buf_puts(&b, " AND (");
    rc = assoc__where(db, &b, &p, t, t->name, q->where);
    assoc__buf_putc(&b, ')');
  }
  if (!rc) rc = assoc__exists_and(db, &b, &p, t, t->name, q);
  if (!rc && !counting) rc = assoc__order_limit(db, &b, &p, t, t->name, q);
  if (!rc && (b.oom || p.oom))
    rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
  if (!rc) {
    if (counting) {
      rc = assoc__assoc_scalars(db, b.p, &p, count, 1);
    } else {
      rc = assoc__exec(db, b.p, p.v, p.n, NULL);
      if (!rc && all) rc = assoc__assoc_map_all(db, 0, t);
      else if (!rc) rc = assoc__rows_apply_map(db, map, nmap);
      if (!rc && out) *out = &db->rows;
    }
  }
  assoc__free(map);
  assoc__buf_free(&b);
  assoc__params_free(&p);
  return rc;
}

int assoc__has_many_get(assoc_association *a, const assoc_value *src,
                        const assoc_query *q, assoc_rows **out) {
  assoc_db *db = DB(a);
  assoc_params p;
  const char *sql;
  int rc;
  if (!assoc__assoc_plain(q)) return run_query(a, src, q, 0, NULL, out);
  sql = assoc__assoc_sql(a, SQL_GET, gen_get);
  if (!sql) return db->errcode;
  assoc__params_init(&p);
  rc = assoc__assoc_owned_params(a, &p, src);
  if (!rc && p.oom) rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
  if (!rc) rc = assoc__exec(db, sql, p.v, p.n, NULL);
  if (!rc) rc = assoc__assoc_map_all(db, 0, a->target);
  if (!rc && out) *out = &db->rows;
  assoc__params_free(&p);
  return rc;
}

int assoc__has_many_count(assoc_association *a, const assoc_value *src,
                          const assoc_query *q, int64_t *out) {
  assoc_db *db = DB(a);
  assoc_params p;
  const char *sql;
  int rc;
  if (q && q->where) return run_query(a, src, q, 1, out, NULL);
  sql = assoc__assoc_sql(a, SQL_COUNT, gen_count);
  if (!sql) return db->errcode;
  assoc__params_init(&p);
  rc = assoc__assoc_owned_params(a, &p, src);
  if (!rc) rc = assoc__assoc_scalars(db, sql, &p, out, 1);
  assoc__params_free(&p);
  return rc;
}

static int gen_has(assoc_association *a, assoc_buf *b) {
  assoc_db *db = DB(a);
  assoc_model *t = a->target;
  size_t ph = 0;
  if (db->dialect->keys_drive_lookups) {
    /* SQLite: each key probes the target's primary key (bound first). */
    assoc__assoc_count_by_keys(a, b, t, t->attrs[a->target_key_attr].def.type);
    ph = 1;
    assoc__buf_column(b, t->name, PK(a));
    assoc__buf_puts(b, " = \"assoc_k\".\"value\" AND ");
    assoc__buf_column(b, t->name, assoc__attr_field(t, a->fk_attr));
    assoc__buf_puts(b, " = ");
    assoc__placeholder(db, b, ++ph);
    assoc__assoc_scope_where(a, b, t->name, &ph);
    return ASSOC_OK;
  }
  assoc__buf_puts(b, "SELECT COUNT(*)");
  assoc__assoc_from_owned(a, b, &ph);
  assoc__buf_puts(b, " AND ");
  assoc__key_list_sql(db, b, t->name, PK(a), t, a->target_key_attr, ph + 1,
                      0);
  return ASSOC_OK;
}

int assoc__has_many_has(assoc_association *a, const assoc_value *src,
                        const assoc_value *keys, size_t n, int *out) {
  assoc_db *db = DB(a);
  assoc_params p;
  const char *sql;
  size_t nunique = 0;
  int64_t found = 0;
  int keys_first = db->dialect->keys_drive_lookups;
  int rc = assoc__assoc_need_pk(a);
  if (rc) return rc;
  sql = assoc__assoc_sql(a, SQL_HAS, gen_has);
  if (!sql) return db->errcode;
  assoc__params_init(&p);
  if (keys_first)
    rc = assoc__push_key_list_n(db, &p, a->target, a->target_key_attr, keys,
                                n, &nunique);
  if (!rc) rc = assoc__assoc_owned_params(a, &p, src);
  if (!rc && !keys_first)
    rc = assoc__push_key_list_n(db, &p, a->target, a->target_key_attr, keys,
                                n, &nunique);
  if (!rc) rc = assoc__assoc_scalars(db, sql, &p, &found, 1);
  /* Keys are unique, so the rows found are the distinct keys linked. */
  if (!rc) *out = (size_t)found == nunique;
  assoc__params_free(&p);
  return rc;
}

/* "UPDATE t SET fk = ?, updatedAt = ?, <scope> WHERE pk IN (list)" */
static void link_head(assoc_association *a, assoc_buf *b, size_t *ph) {
  assoc_model *t = a->target;
  assoc__buf_puts(b, "UPDATE ");
  assoc__buf_ident(b, t->table);
  assoc__buf_puts(b, " SET ");
  assoc__buf_ident(b, FK(a));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(DB(a), b, ++*ph);
  if (t->updated_at >= 0) {
    assoc__buf_puts(b, ", ");
    assoc__buf_ident(b, assoc__attr_field(t, t->updated_at));
    assoc__buf_puts(b, " = ");
    assoc__placeholder(DB(a), b, ++*ph);
  }
  assoc__assoc_scope_set(a, b, ph);
  assoc__buf_puts(b, " WHERE ");
  assoc__key_list_sql(DB(a), b, NULL, PK(a), t, a->target_key_attr, ++*ph,
                      0);
}

static int link_params(assoc_association *a, assoc_params *p,
                       const assoc_value *src, const assoc_value *keys,
                       size_t n) {
  assoc_db *db = DB(a);
  int rc = assoc__push_attr_value(db, p, a->target, a->fk_attr, src);
  if (!rc && a->target->updated_at >= 0)
    rc = assoc__assoc_push_now(db, p, a->target, a->target->updated_at);
  if (rc) return rc;
  assoc__assoc_scope_params(a, p, 1);
  return assoc__push_key_list(db, p, a->target, a->target_key_attr, keys, n);
}

static int gen_add(assoc_association *a, assoc_buf *b) {
  size_t ph = 0;
  link_head(a, b, &ph);
  return ASSOC_OK;
}

/* set links only rows not already linked, so kept rows keep updatedAt. */
static int gen_link_new(assoc_association *a, assoc_buf *b) {
  size_t ph = 0, i;
  link_head(a, b, &ph);
  assoc__buf_puts(b, " AND (");
  assoc__buf_ident(b, FK(a));
  assoc__buf_puts(b, " IS NULL OR ");
  assoc__buf_ident(b, FK(a));
  assoc__buf_puts(b, " <> ");
  assoc__placeholder(DB(a), b, ++ph);
  for (i = 0; i < a->nscope; i++) {
    const char *col = assoc__attr_field(a->target, a->scope_attrs[i]);
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

int assoc__has_many_add(assoc_association *a, const assoc_value *src,
                        const assoc_value *keys, size_t n) {
  assoc_db *db = DB(a);
  assoc_params p;
  const char *sql;
  int rc;
  if (n == 0) return ASSOC_OK;
  rc = assoc__assoc_need_pk(a);
  if (rc) return rc;
  sql = assoc__assoc_sql(a, SQL_ADD, gen_add);
  if (!sql) return db->errcode;
  assoc__params_init(&p);
  rc = link_params(a, &p, src, keys, n);
  if (!rc) rc = assoc__assoc_run(db, sql, &p);
  assoc__params_free(&p);
  return rc;
}


static int gen_unlink_all(assoc_association *a, assoc_buf *b) {
  size_t ph = 0;
  assoc__assoc_unlink_head(a, b, &ph);
  return ASSOC_OK;
}

static int gen_unlink_list(assoc_association *a, assoc_buf *b, int negate) {
  size_t ph = 0;
  assoc__assoc_unlink_head(a, b, &ph);
  assoc__buf_puts(b, " AND ");
  assoc__key_list_sql(DB(a), b, NULL, PK(a), a->target, a->target_key_attr,
                      ph + 1, negate);
  return ASSOC_OK;
}

static int gen_unlink_others(assoc_association *a, assoc_buf *b) {
  return gen_unlink_list(a, b, 1);
}

static int gen_remove(assoc_association *a, assoc_buf *b) {
  return gen_unlink_list(a, b, 0);
}

int assoc__has_many_set(assoc_association *a, const assoc_value *src,
                        const assoc_value *keys, size_t n) {
  assoc_db *db = DB(a);
  assoc_params p, q;
  const char *unlink, *link = NULL;
  int rc;
  if (n == 0) {
    /* One statement: no transaction needed. */
    unlink = assoc__assoc_sql(a, SQL_UNLINK_ALL, gen_unlink_all);
    if (!unlink) return db->errcode;
    assoc__params_init(&p);
    rc = assoc__assoc_unlink_params(a, &p, src);
    if (!rc) rc = assoc__assoc_run(db, unlink, &p);
    assoc__params_free(&p);
    return rc;
  }
  rc = assoc__assoc_need_pk(a);
  if (rc) return rc;
  unlink = assoc__assoc_sql(a, SQL_UNLINK_OTHERS, gen_unlink_others);
  if (unlink) link = assoc__assoc_sql(a, SQL_LINK_NEW, gen_link_new);
  if (!link) return db->errcode;
  assoc__params_init(&p);
  assoc__params_init(&q);
  /* Every value is converted before BEGIN, so bad input sends nothing. */
  rc = assoc__assoc_unlink_params(a, &p, src);
  if (!rc)
    rc = assoc__push_key_list(db, &p, a->target, a->target_key_attr, keys,
                              n);
  if (!rc) rc = link_params(a, &q, src, keys, n);
  if (!rc) rc = assoc__push_attr_value(db, &q, a->target, a->fk_attr, src);
  if (!rc) assoc__assoc_scope_params(a, &q, 0);
  if (!rc && (p.oom || q.oom))
    rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
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

int assoc__has_many_remove(assoc_association *a, const assoc_value *src,
                           const assoc_value *keys, size_t n) {
  assoc_db *db = DB(a);
  assoc_params p;
  const char *sql;
  int rc;
  if (n == 0) return ASSOC_OK;
  rc = assoc__assoc_need_pk(a);
  if (rc) return rc;
  sql = assoc__assoc_sql(a, SQL_REMOVE, gen_remove);
  if (!sql) return db->errcode;
  assoc__params_init(&p);
  rc = assoc__assoc_unlink_params(a, &p, src);
  if (!rc)
    rc = assoc__push_key_list(db, &p, a->target, a->target_key_attr, keys,
                              n);
  if (!rc) rc = assoc__assoc_run(db, sql, &p);
  assoc__params_free(&p);
  return rc;
}

int assoc__has_many_create(assoc_association *a, const assoc_value *src,
                           const assoc_field *values, size_t n,
                           assoc_rows **out) {
  assoc_db *db = DB(a);
  assoc_field *forced;
  size_t i;
  int rc;
  forced = assoc__malloc((a->nscope + 1) * sizeof *forced);
  if (!forced) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  forced[0].attr = a->fk_attr;
  forced[0].value = *src;
  for (i = 0; i < a->nscope; i++) {
    forced[i + 1].attr = a->scope_attrs[i];
    forced[i + 1].value = a->scope_values[i];
  }
  /* One INSERT: atomic by itself. */
  rc = assoc__assoc_insert(a, values, n, forced, a->nscope + 1, out);
  assoc__free(forced);
  return rc;
}
