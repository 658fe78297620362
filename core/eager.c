/*
** eager.c: loading the targets of many sources in one statement (include),
** with per-source limits through ROW_NUMBER() OVER (PARTITION BY ...), the
** per-source counts of `count = true`, and the EXISTS filters that make a
** required include keep only parents with a match.
*/
#include <string.h>

#include "dialect.h"

#define T_ALIAS "assoc_t"   /* the target in eager and EXISTS queries */
#define J_ALIAS "assoc_j"   /* the through table */
/* EXISTS subqueries get their own names: their parent may be assoc_t. */
#define E_ALIAS "assoc_e"
#define EJ_ALIAS "assoc_ej"

typedef struct colset {
  assoc_colmap *map;
  size_t n, cap;
} colset;

static int col_push(assoc_db *db, colset *c, const assoc_model *m, int attr) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    assoc_colmap *nm = assoc__realloc(c->map, cap * sizeof *nm);
    if (!nm) return assoc__error(db, ASSOC_NOMEM, "out of memory");
    c->map = nm;
    c->cap = cap;
  }
  c->map[c->n].model = m;
  c->map[c->n].attr = attr;
  c->map[c->n].from = 0;
  c->n++;
  return ASSOC_OK;
}

/* "alias"."field" AS "cN": numbered names keep a subquery's columns
** distinct when target and join row share names (createdAt, ...). */
static int select_col(assoc_db *db, assoc_buf *b, colset *c,
                      const assoc_model *m, const char *alias, int attr) {
  if (c->n) assoc__buf_puts(b, ", ");
  assoc__buf_column(b, alias, assoc__attr_field(m, attr));
  assoc__buf_printf(b, " AS \"c%zu\"", c->n);
  return col_push(db, c, m, attr);
}

/* The index of m's attribute attr among the columns selected, or -1. */
static int find_col(const colset *c, const assoc_model *m, int attr) {
  size_t i;
  for (i = 0; i < c->n; i++)
    if (c->map[i].model == m && c->map[i].attr == attr) return (int)i;
  return -1;
}

static int select_model(assoc_db *db, assoc_buf *b, colset *c,
                        const assoc_model *m, const char *alias,
                        const char *const *names, size_t nnames, int all) {
  size_t i;
  int rc;
  if (all || !names) {
    for (i = 0; i < m->nattrs; i++) {
      rc = select_col(db, b, c, m, alias, (int)i);
      if (rc) return rc;
    }
    return ASSOC_OK;
  }
  if (m->pk >= 0) {
    for (i = 0; i < nnames; i++)
      if (names[i] && strcmp(names[i], m->attrs[m->pk].def.name) == 0) break;
    if (i == nnames && (rc = select_col(db, b, c, m, alias, m->pk)))
      return rc;
  }
  for (i = 0; i < nnames; i++) {
    int attr = assoc_model_attr_index(m, names[i]);
    if (attr < 0)
      return assoc__error(db, ASSOC_MISUSE, "unknown attribute '%s' of %s",
                          names[i] ? names[i] : "(null)", m->name);
    rc = select_col(db, b, c, m, alias, attr);
    if (rc) return rc;
  }
  return ASSOC_OK;
}

/* " AND alias.attr = ?" for each attribute of a scope over m, its values
** bound in order after those of p. */
static int pairs_sql(assoc_db *db, assoc_buf *b, assoc_params *p,
                     const assoc_model *m, const char *alias,
                     const int *attrs, const assoc_value *values, size_t n) {
  size_t ph = p->n;
  assoc__scope_where(db, b, m, alias, attrs, values, n, &ph);
  assoc__scope_params(p, values, n, 0);
  return p->oom ? assoc__error(db, ASSOC_NOMEM, "out of memory") : ASSOC_OK;
}

/* The association scope, on the target. */
static int scope_sql(assoc_db *db, assoc_buf *b, assoc_params *p,
                     const assoc_association *a, const char *alias) {
  return pairs_sql(db, b, p, a->target, alias, a->scope_attrs,
                   a->scope_values, a->nscope);
}

/* The through scope of a belongsToMany, on the join row. */
static int through_scope_sql(assoc_db *db, assoc_buf *b, assoc_params *p,
                             const assoc_association *a, const char *alias) {
  return pairs_sql(db, b, p, a->through, alias, a->through_scope_attrs,
                   a->through_scope_values, a->nthrough_scope);
}

static int where_and(assoc_db *db, assoc_buf *b, assoc_params *p,
                     const assoc_model *m, const char *alias,
                     const assoc_cond *c) {
  if (!c) return ASSOC_OK;
  assoc__buf_puts(b, " AND ");
  return assoc__where(db, b, p, m, alias, c);
}

/* ------------------------------------------------------------- EXISTS */

int assoc__exists(assoc_db *db, assoc_buf *b, assoc_params *p,
                  const assoc_model *parent, const char *parent_ref,
                  const assoc_exists *e) {
  const assoc_association *a = e->association;
  const assoc_model *t;
  int rc;
  if (!a || a->source != parent)
    return assoc__error(db, ASSOC_MISUSE, "required include: %s is not an "
                        "association of %s", a ? a->as : "(null)",
                        parent->name);
  t = a->target;
  assoc__buf_puts(b, "EXISTS (SELECT 1 FROM ");
  if (a->kind == ASSOC_BELONGS_TO_MANY) {
    assoc__buf_ident(b, a->through->table);
    assoc__buf_puts(b, " AS \"" EJ_ALIAS "\"" " INNER JOIN ");
    assoc__buf_ident(b, t->table);
    assoc__buf_puts(b, " AS \"" E_ALIAS "\"" " ON ");
    assoc__buf_column(b, E_ALIAS, assoc__attr_field(t, a->target_key_attr));
    assoc__buf_puts(b, " = ");
    assoc__buf_column(b, EJ_ALIAS, assoc__attr_field(a->through,
                                                    a->other_attr));
    assoc__buf_puts(b, " WHERE ");
    assoc__buf_column(b, EJ_ALIAS, assoc__attr_field(a->through, a->fk_attr));
    assoc__buf_puts(b, " = ");
    assoc__buf_column(b, parent_ref, assoc__attr_field(parent,
                                                      a->source_key_attr));
    rc = through_scope_sql(db, b, p, a, EJ_ALIAS);
    if (!rc) rc = where_and(db, b, p, a->through, EJ_ALIAS, e->through_where);
  } else {
    assoc__buf_ident(b, t->table);
    assoc__buf_puts(b, " AS \"" E_ALIAS "\"" " WHERE ");
    if (a->kind == ASSOC_BELONGS_TO) {
      assoc__buf_column(b, E_ALIAS, assoc__attr_field(t, a->target_key_attr));
      assoc__buf_puts(b, " = ");
      assoc__buf_column(b, parent_ref, assoc__attr_field(parent, a->fk_attr));
    } else {
      assoc__buf_column(b, E_ALIAS, assoc__attr_field(t, a->fk_attr));
      assoc__buf_puts(b, " = ");
      assoc__buf_column(b, parent_ref, assoc__attr_field(parent,
                                                        a->source_key_attr));
    }
    rc = ASSOC_OK;
  }
  if (!rc && a->kind != ASSOC_BELONGS_TO) rc = scope_sql(db, b, p, a, E_ALIAS);
  if (!rc) rc = where_and(db, b, p, t, E_ALIAS, e->where);
  assoc__buf_putc(b, ')');
  return rc;
}

int assoc__exists_list(assoc_db *db, assoc_buf *b, assoc_params *p,
                       const assoc_model *m, const char *ref,
                       const assoc_query *q, int *first) {
  size_t i;
  int rc;
  if (!q) return ASSOC_OK;
  for (i = 0; i < q->nexists; i++) {
    assoc__buf_puts(b, *first ? " WHERE " : " AND ");
    *first = 0;
    rc = assoc__exists(db, b, p, m, ref, &q->exists[i]);
    if (rc) return rc;
  }
  return ASSOC_OK;
}

int assoc__exists_and(assoc_db *db, assoc_buf *b, assoc_params *p,
                      const assoc_model *m, const char *ref,
                      const assoc_query *q) {
  int first = 0;
  return assoc__exists_list(db, b, p, m, ref, q, &first);
}

/* ------------------------------------------------------------ get_many */

/* The column that names the source a row belongs to. */
static void group_column(assoc_buf *b, const assoc_association *a) {
  if (a->kind == ASSOC_BELONGS_TO_MANY)
    assoc__buf_column(b, J_ALIAS, assoc__attr_field(a->through, a->fk_attr));
  else if (a->kind == ASSOC_BELONGS_TO)
    assoc__buf_column(b, T_ALIAS, assoc__attr_field(a->target,
                                                   a->target_key_attr));
  else
    assoc__buf_column(b, T_ALIAS, assoc__attr_field(a->target, a->fk_attr));
}

static const assoc_model *group_model(const assoc_association *a, int *attr) {
  if (a->kind == ASSOC_BELONGS_TO_MANY) {
    *attr = a->fk_attr;
    return a->through;
  }
  *attr = a->kind == ASSOC_BELONGS_TO ? a->target_key_attr : a->fk_attr;
  return a->target;
}

/* FROM ... WHERE <group> IN (keys) AND scope AND where */
static int from_where(assoc_db *db, assoc_buf *b, assoc_params *p,
                      assoc_association *a, const assoc_value *keys,
                      size_t n, const assoc_query *q) {
  const assoc_model *t = a->target, *gm;
  int gattr, rc;
  size_t i;
  assoc__buf_puts(b, " FROM ");
  assoc__buf_ident(b, t->table);
  assoc__buf_puts(b, " AS \"" T_ALIAS "\"");
  if (a->kind == ASSOC_BELONGS_TO_MANY) {
    assoc__buf_puts(b, " INNER JOIN ");
    assoc__buf_ident(b, a->through->table);
    assoc__buf_puts(b, " AS \"" J_ALIAS "\"" " ON ");
    assoc__buf_column(b, T_ALIAS, assoc__attr_field(t, a->target_key_attr));
    assoc__buf_puts(b, " = ");
    assoc__buf_column(b, J_ALIAS, assoc__attr_field(a->through,
                                                    a->other_attr));
    rc = through_scope_sql(db, b, p, a, J_ALIAS);
    if (rc) return rc;
  }
  assoc__buf_puts(b, " WHERE ");
  group_column(b, a);
  gm = group_model(a, &gattr);
  rc = assoc__push_key_list(db, p, gm, gattr, keys, n);
  if (rc) return rc;
  db->dialect->key_list(b, p->n, gm->attrs[gattr].def.type, 0);
  if (a->kind != ASSOC_BELONGS_TO) {
    rc = scope_sql(db, b, p, a, T_ALIAS);
    if (rc) return rc;
  }
  if (q && a->kind == ASSOC_BELONGS_TO_MANY) {
    rc = where_and(db, b, p, a->through, J_ALIAS, q->through_where);
    if (rc) return rc;
  }
  if (q) {
    rc = where_and(db, b, p, t, T_ALIAS, q->where);
    if (rc) return rc;
    for (i = 0; i < q->nexists; i++) {
      assoc__buf_puts(b, " AND ");
      rc = assoc__exists(db, b, p, t, T_ALIAS, &q->exists[i]);
      if (rc) return rc;
    }
  }
  return ASSOC_OK;
}

static int order_list(assoc_db *db, assoc_buf *b, const assoc_model *t,
                      const assoc_query *q, int default_pk) {
  size_t i;
  for (i = 0; q && i < q->norder; i++) {
    int attr = assoc_model_attr_index(t, q->order[i].attr);
    if (attr < 0)
      return assoc__error(db, ASSOC_MISUSE, "unknown attribute '%s' in "
                          "order of %s", q->order[i].attr ? q->order[i].attr
                          : "(null)", t->name);
    if (i) assoc__buf_puts(b, ", ");
    assoc__buf_column(b, T_ALIAS, assoc__attr_field(t, attr));
    assoc__buf_puts(b, q->order[i].desc ? " DESC" : " ASC");
  }
  if ((!q || q->norder == 0) && default_pk && t->pk >= 0)
    assoc__buf_column(b, T_ALIAS, assoc__attr_field(t, t->pk));
  return ASSOC_OK;
}

static int check_many(assoc_association *a, const assoc_value *keys,
                      size_t n, assoc_rows **out) {
  int rc;
  if (!a) return ASSOC_MISUSE;
  rc = assoc__check_open(a->source->db);
  if (rc) return rc;
  if (n && !keys)
    return assoc__error(a->source->db, ASSOC_MISUSE, "keys expected");
  if (!out)
    return assoc__error(a->source->db, ASSOC_MISUSE, "rows expected");
  return ASSOC_OK;
}

/* No sources: an empty result without a statement. */
static int empty_rows(assoc_db *db, assoc_rows **out) {
  assoc__rows_reset(&db->rows);
  *out = &db->rows;
  return ASSOC_OK;
}

int assoc_association_get_many(assoc_association *a,
                               const assoc_value *source_keys, size_t n,
                               const assoc_query *q, assoc_rows **out) {
  assoc_db *db;
  assoc_buf b;
  assoc_params p;
  colset c;
  int rc = check_many(a, source_keys, n, out), gattr;
  int tkey = -1, virtual_keys = 0;
  int64_t limit, offset;
  const assoc_model *gm;
  if (rc) return rc;
  db = a->source->db;
  if (n == 0) return empty_rows(db, out);
  limit = q ? q->limit : 0;
  offset = q ? q->offset : 0;
  if (a->kind == ASSOC_HAS_ONE || a->kind == ASSOC_BELONGS_TO) {
    limit = 1;
    offset = 0;
  }
  if (limit < 0 || offset < 0)
    return assoc__error(db, ASSOC_MISUSE, "limit and offset must not be "
                        "negative");
  memset(&c, 0, sizeof c);
  assoc__buf_init(&b);
  assoc__params_init(&p);
  gm = group_model(a, &gattr);
  assoc__buf_puts(&b, "SELECT ");
  rc = select_model(db, &b, &c, a->target, T_ALIAS, q ? q->attributes : NULL,
                    q ? q->nattributes : 0, 0);
  if (!rc && a->kind == ASSOC_BELONGS_TO_MANY &&
      !(q && q->join_attributes_set)) {
    /* Every join column but the keys, which are known: the foreign key is
    ** the group column below, the other key the target's key. */
    size_t i;
    tkey = find_col(&c, a->target, a->target_key_attr);
    for (i = 0; i < a->through->nattrs && !rc; i++)
      if ((int)i != a->fk_attr && ((int)i != a->other_attr || tkey < 0))
        rc = select_col(db, &b, &c, a->through, J_ALIAS, (int)i);
    virtual_keys = 1;
  } else if (!rc && a->kind == ASSOC_BELONGS_TO_MANY &&
             q->njoin_attributes > 0) {
    rc = select_model(db, &b, &c, a->through, J_ALIAS, q->join_attributes,
                      q->njoin_attributes, 0);
  }
  if (!rc) {
    /* The source key, last. */
    assoc__buf_puts(&b, ", ");
    group_column(&b, a);
    assoc__buf_printf(&b, " AS \"c%zu\"", c.n);
    rc = col_push(db, &c, gm, gattr);
  }
  if (!rc && (limit > 0 || offset > 0)) {
    assoc__buf_puts(&b, ", ROW_NUMBER() OVER (PARTITION BY ");
    group_column(&b, a);
    assoc__buf_puts(&b, " ORDER BY ");
    rc = order_list(db, &b, a->target, q, 1);
    assoc__buf_puts(&b, ") AS \"assoc_rn\"");
  }
  if (!rc) rc = from_where(db, &b, &p, a, source_keys, n, q);
  if (!rc && (limit > 0 || offset > 0)) {
    /* Keep ranks offset+1 .. offset+limit of each source. */
    assoc_buf outer;
    size_t i;
    assoc__buf_init(&outer);
    assoc__buf_puts(&outer, "SELECT ");
    for (i = 0; i < c.n; i++)
      assoc__buf_printf(&outer, "%s\"c%zu\"", i ? ", " : "", i);
    assoc__buf_puts(&outer, " FROM (");
    assoc__buf_putn(&outer, b.p, b.n);
    assoc__buf_puts(&outer, ") AS \"assoc_ranked\" WHERE \"assoc_rn\" > ");
    assoc__params_push_int(&p, offset);
    assoc__placeholder(db, &outer, p.n);
    if (limit > 0) {
      assoc__buf_puts(&outer, " AND \"assoc_rn\" <= ");
      assoc__params_push_int(&p, offset + limit);
      assoc__placeholder(db, &outer, p.n);
    }
    assoc__buf_printf(&outer, " ORDER BY \"c%zu\", \"assoc_rn\"", c.n - 1);
    assoc__buf_free(&b);
    b = outer;
  } else if (!rc && q && q->norder) {
    assoc__buf_puts(&b, " ORDER BY ");
    rc = order_list(db, &b, a->target, q, 0);
  }
  if (!rc && (b.oom || p.oom)) rc = assoc__error(db, ASSOC_NOMEM, "oom");
  if (!rc) rc = assoc__exec(db, b.p, p.v, p.n, NULL);
  if (!rc) rc = assoc__rows_apply_map(db, c.map, c.n);
  if (!rc && virtual_keys) {
    /* The group column (c.n - 1) is the join row's foreign key; the other
    ** key repeats the target's key; the source key stays last. */
    if (tkey >= 0)
      rc = assoc__rows_add_virtual(&db->rows, a->through, a->other_attr,
                                   tkey + 1);
    if (!rc)
      rc = assoc__rows_add_virtual(&db->rows, gm, gattr, (int)c.n);
  }
  if (!rc) *out = &db->rows;
  assoc__free(c.map);
  assoc__buf_free(&b);
  assoc__params_free(&p);
  return rc;
}

int assoc_association_count_many(assoc_association *a,
                                 const assoc_value *source_keys, size_t n,
                                 const assoc_query *q, assoc_rows **out) {
  assoc_db *db;
  assoc_buf b;
  assoc_params p;
  int rc = check_many(a, source_keys, n, out), gattr;
  const assoc_model *gm;
  if (rc) return rc;
  db = a->source->db;
  if (n == 0) return empty_rows(db, out);
  gm = group_model(a, &gattr);
  assoc__buf_init(&b);
  assoc__params_init(&p);
  assoc__buf_puts(&b, "SELECT ");
  group_column(&b, a);
  assoc__buf_puts(&b, ", COUNT(*)");
  rc = from_where(db, &b, &p, a, source_keys, n, q);
  assoc__buf_puts(&b, " GROUP BY ");
  group_column(&b, a);
  if (!rc && (b.oom || p.oom)) rc = assoc__error(db, ASSOC_NOMEM, "oom");
  if (!rc) rc = assoc__exec(db, b.p, p.v, p.n, NULL);
  if (!rc) rc = assoc__rows_map(&db->rows, 0, gm, gattr);
  if (!rc) *out = &db->rows;
  assoc__buf_free(&b);
  assoc__params_free(&p);
  return rc;
}
