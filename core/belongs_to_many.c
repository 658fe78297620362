/*
** belongs_to_many.c: the accessors of a belongsToMany (User has Projects
** through UserProject): links are rows of the join model.  add is one
** INSERT ... SELECT over the bound key list with ON CONFLICT on the key
** pair, so concurrent adders cannot race and a missing target fails the
** whole statement on its foreign key.  A through scope (attribute = value
** on the join row) filters every statement that reads or deletes join rows
** and is written into every new one.
*/
#include <string.h>

#include "association.h"

/* a->sql slots.  The add statements with join attributes depend on which
** attributes are given: the last shape of each is kept with its signature
** (the attribute list) in the slot before it. */
enum {
  SQL_GET, SQL_COUNT, SQL_HAS, SQL_ADD, SQL_DELETE_OTHERS, SQL_DELETE_ALL,
  SQL_REMOVE, SQL_SELECT_KEY, SQL_ADD_JOIN_SIG, SQL_ADD_JOIN,
  SQL_SET_JOIN_SIG, SQL_SET_JOIN, SQL_COUNT_LINKS
};

#define DB(a) ((a)->source->db)
#define JFK(a) assoc__attr_field((a)->through, (a)->fk_attr)
#define JOTHER(a) assoc__attr_field((a)->through, (a)->other_attr)
#define TKEY(a) assoc__attr_field((a)->target, (a)->target_key_attr)

/* An existing join row's col against excluded.col, op being " IS DISTINCT
** FROM " or " IS NOT DISTINCT FROM ": the standard operators, which SQLite
** has since 3.39 and PostgreSQL always had (NULL-safe, unlike <> and =). */
static void compare_excluded(assoc_buf *b, const char *table, const char *col,
                             const char *op) {
  assoc__buf_column(b, table, col);
  assoc__buf_puts(b, op);
  assoc__buf_column(b, "excluded", col);
}

/* " AND J.col = ?" for each attribute of the through scope (alias NULL:
** unqualified), and the values that binds. */
static void through_scope_where(assoc_association *a, assoc_buf *b,
                                const char *alias, size_t *ph) {
  assoc__scope_where(DB(a), b, a->through, alias, a->through_scope_attrs,
                     a->through_scope_values, a->nthrough_scope, ph);
}

static void through_scope_params(assoc_association *a, assoc_params *p) {
  assoc__scope_params(p, a->through_scope_values, a->nthrough_scope, 0);
}

static int check_keys_defined(assoc_association *a) {
  if (a->fk_attr >= 0 && a->other_attr >= 0) return ASSOC_OK;
  return assoc__error(DB(a), ASSOC_MISUSE, "the join model %s lost the keys "
                      "of %s.%s", a->through->name, a->source->name, a->as);
}

/* ------------------------------------------------------- get and count */

/* " FROM target AS T INNER JOIN through AS J ON T.tk = J.other AND
** J.fk = ? AND <through scope> AND <target scope>" */
static void from_joined(assoc_association *a, assoc_buf *b, size_t *ph) {
  assoc_model *t = a->target, *j = a->through;
  assoc__buf_puts(b, " FROM ");
  assoc__buf_table_as(b, t->table, t->name);
  assoc__buf_puts(b, " INNER JOIN ");
  assoc__buf_table_as(b, j->table, j->name);
  assoc__buf_puts(b, " ON ");
  assoc__buf_column(b, t->name, TKEY(a));
  assoc__buf_puts(b, " = ");
  assoc__buf_column(b, j->name, JOTHER(a));
  assoc__buf_puts(b, " AND ");
  assoc__buf_column(b, j->name, JFK(a));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(DB(a), b, ++*ph);
  through_scope_where(a, b, j->name, ph);
  assoc__assoc_scope_where(a, b, t->name, ph);
}

static int joined_params(assoc_association *a, assoc_params *p,
                         const assoc_value *src) {
  int rc = assoc__push_attr_value(DB(a), p, a->through, a->fk_attr, src);
  if (rc) return rc;
  through_scope_params(a, p);
  assoc__assoc_scope_params(a, p, 0);
  return ASSOC_OK;
}

/* Every column of the target, then the join row's but its two keys: the
** statement need not send what is known (the foreign key is the source's
** key, the other key the target's), which map_get_all fills in. */
static int gen_get(assoc_association *a, assoc_buf *b) {
  const assoc_model *j = a->through;
  size_t ph = 0;
  int i;
  assoc__buf_puts(b, "SELECT ");
  assoc__assoc_columns(DB(a), b, a->target, a->target->name);
  for (i = 0; i < (int)j->nattrs; i++) {
    if (i == a->fk_attr || i == a->other_attr) continue;
    assoc__buf_puts(b, ", ");
    assoc__buf_column(b, j->name, assoc__attr_field(j, i));
  }
  from_joined(a, b, &ph);
  return ASSOC_OK;
}

/* The columns of gen_get's statement, and the join row's keys as virtual
** columns: the foreign key reads fk (the bound source key), the other key
** repeats the target's key column. */
static int map_get_all(assoc_association *a, const assoc_value *fk) {
  assoc_db *db = DB(a);
  const assoc_model *t = a->target, *j = a->through;
  size_t col = t->nattrs;
  int i, rc = assoc__assoc_map_all(db, 0, t);
  for (i = 0; i < (int)j->nattrs && !rc; i++)
    if (i != a->fk_attr && i != a->other_attr)
      rc = assoc__rows_map(&db->rows, col++, j, i);
  if (!rc) rc = assoc__rows_set_const(&db->rows, fk);
  if (!rc)
    rc = assoc__rows_add_virtual(&db->rows, j, a->fk_attr, ASSOC_COL_CONST);
  if (!rc)
    rc = assoc__rows_add_virtual(&db->rows, j, a->other_attr,
                                 a->target_key_attr + 1);
  return rc;
}

static int gen_count(assoc_association *a, assoc_buf *b) {
  size_t ph = 0;
  assoc__buf_puts(b, "SELECT COUNT(*)");
  from_joined(a, b, &ph);
  return ASSOC_OK;
}

/* Is the key pair of a's join rows declared unique (the through model's
** primary key or its UNIQUE pair, which add's ON CONFLICT relies on)? */
static int pair_unique(const assoc_association *a) {
  const assoc_model *j = a->through;
  int f = a->fk_attr, o = a->other_attr;
  return (j->pk_pair[0] == f && j->pk_pair[1] == o) ||
         (j->pk_pair[0] == o && j->pk_pair[1] == f) ||
         (j->unique_pair[0] == f && j->unique_pair[1] == o) ||
         (j->unique_pair[0] == o && j->unique_pair[1] == f);
}

/* Can a plain count count join rows instead of joined targets?  When the
** association has no target scope and the other key is a declared foreign
** key to the target key (the database keeps every link pointing at a
** target, which is exactly one row since a foreign key references a
** unique column), the two counts agree, and the join with the target
** table costs a lookup per link. */
static int count_links(const assoc_association *a) {
  const assoc_attr *o = &a->through->attrs[a->other_attr];
  return a->nscope == 0 && o->references_table && o->references_column &&
         strcmp(o->references_table, a->target->table) == 0 &&
         strcmp(o->references_column, TKEY(a)) == 0;
}

/* "SELECT COUNT(*) FROM through AS J WHERE J.fk = ? AND <through scope>"
** (binding what joined_params does: the through scope is on the join row,
** and there is no target scope here). */
static int gen_count_links(assoc_association *a, assoc_buf *b) {
  assoc_model *j = a->through;
  size_t ph = 1;
  assoc__buf_puts(b, "SELECT COUNT(*) FROM ");
  assoc__buf_table_as(b, j->table, j->name);
  assoc__buf_puts(b, " WHERE ");
  assoc__buf_column(b, j->name, JFK(a));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(DB(a), b, 1);
  through_scope_where(a, b, j->name, &ph);
  return ASSOC_OK;
}

static int run_query(assoc_association *a, const assoc_value *src,
                     const assoc_query *q, int counting, int64_t *count,
                     assoc_rows **out) {
  static const char *const none[1] = { NULL };
  assoc_db *db = DB(a);
  assoc_model *t = a->target, *j = a->through;
  assoc_buf b;
  assoc_params p;
  assoc_colmap *map = NULL;
  size_t nmap = 0, capmap = 0, ph;
  int rc = ASSOC_OK;
  /* Every column, the common case: the plain statement's text (made
  ** once) starts this one too. */
  int all = counting || (!q->attributes && !q->join_attributes_set);
  const char *prefix = NULL;
  assoc__buf_init(&b);
  assoc__params_init(&p);
  if (all) {
    prefix = counting ? assoc__assoc_sql(a, SQL_COUNT, gen_count)
                      : assoc__assoc_sql(a, SQL_GET, gen_get);
    if (!prefix) return db->errcode;
    assoc__buf_puts(&b, prefix);
  } else {
    assoc__buf_puts(&b, "SELECT ");
    rc = assoc__select_list(db, &b, t, t->name, q->attributes,
                            q->nattributes, &map, &nmap, &capmap);
    /* The join row's columns follow the target's (select_list puts the
    ** comma, since the map is shared). */
    if (!rc) {
      const char *const *names = NULL;
      if (q->join_attributes_set)
        names = q->join_attributes ? q->join_attributes : none;
      rc = assoc__select_list(db, &b, j, j->name, names,
                              q->join_attributes_set ? q->njoin_attributes
                                                     : 0,
                              &map, &nmap, &capmap);
    }
    if (!rc) {
      ph = p.n;
      from_joined(a, &b, &ph);
    }
  }
  if (!rc) rc = joined_params(a, &p, src);
  if (!rc && q->through_where) {
    assoc__buf_puts(&b, " AND (");
    rc = assoc__where(db, &b, &p, j, j->name, q->through_where);
    assoc__buf_putc(&b, ')');
  }
  if (!rc && q->where) {
    assoc__buf_puts(&b, " WHERE (");
    rc = assoc__where(db, &b, &p, t, t->name, q->where);
    assoc__buf_putc(&b, ')');
  }
  if (!rc) {
    int first = !q->where;
    rc = assoc__exists_list(db, &b, &p, t, t->name, q, &first);
  }
  if (!rc && !counting) rc = assoc__order_limit(db, &b, &p, t, t->name, q);
  if (!rc && (b.oom || p.oom))
    rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
  if (!rc) {
    if (counting) {
      rc = assoc__assoc_scalars(db, b.p, &p, count, 1);
    } else {
      rc = assoc__exec(db, b.p, p.v, p.n, NULL);
      if (!rc && all) {
        rc = map_get_all(a, &p.v[0]);        /* p.v[0]: the source key */
      } else if (!rc) {
        rc = assoc__rows_apply_map(db, map, nmap);
      }
      if (!rc && out) *out = &db->rows;
    }
  }
  assoc__free(map);
  assoc__buf_free(&b);
  assoc__params_free(&p);
  return rc;
}

int assoc__btm_get(assoc_association *a, const assoc_value *src,
                   const assoc_query *q, assoc_rows **out) {
  assoc_db *db = DB(a);
  assoc_params p;
  const char *sql;
  int rc = check_keys_defined(a);
  if (rc) return rc;
  if (!assoc__assoc_plain(q)) return run_query(a, src, q, 0, NULL, out);
  sql = assoc__assoc_sql(a, SQL_GET, gen_get);
  if (!sql) return db->errcode;
  assoc__params_init(&p);
  rc = joined_params(a, &p, src);
  if (!rc && p.oom) rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
  if (!rc) rc = assoc__exec(db, sql, p.v, p.n, NULL);
  if (!rc) rc = map_get_all(a, &p.v[0]);     /* p.v[0]: the source key */
  if (!rc && out) *out = &db->rows;
  assoc__params_free(&p);
  return rc;
}

int assoc__btm_count(assoc_association *a, const assoc_value *src,
                     const assoc_query *q, int64_t *out) {
  assoc_db *db = DB(a);
  assoc_params p;
  const char *sql;
  int rc = check_keys_defined(a);
  if (rc) return rc;
  if (q && (q->where || q->through_where))
    return run_query(a, src, q, 1, out, NULL);
  sql = count_links(a) ? assoc__assoc_sql(a, SQL_COUNT_LINKS, gen_count_links)
                       : assoc__assoc_sql(a, SQL_COUNT, gen_count);
  if (!sql) return db->errcode;
  assoc__params_init(&p);
  rc = joined_params(a, &p, src);
  if (!rc) rc = assoc__assoc_scalars(db, sql, &p, out, 1);
  assoc__params_free(&p);
  return rc;
}

/* ----------------------------------------------------------------- has */

/* Distinct linked keys among the list; the target joins in only when the
** association has a target scope to test. */
/* SQLite: the keys drive the lookups (see keys_drive_lookups), each one
** probing the (fk, otherKey) index, with the key list bound first, then the
** source key and the through scope. */
static void gen_has_by_keys(assoc_association *a, assoc_buf *b) {
  assoc_model *j = a->through;
  assoc_db *db = DB(a);
  size_t ph = 2;
  assoc__assoc_count_by_keys(a, b, j, j->attrs[a->other_attr].def.type);
  assoc__buf_column(b, j->name, JFK(a));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(db, b, 2);
  assoc__buf_puts(b, " AND ");
  assoc__buf_column(b, j->name, JOTHER(a));
  assoc__buf_puts(b, " = \"assoc_k\".\"value\"");
  through_scope_where(a, b, j->name, &ph);
}

/* Without a target scope, and when the join table holds one row per pair
** (a through scope only narrows the join rows probed). */
static int has_by_keys(const assoc_association *a) {
  return DB(a)->dialect->keys_drive_lookups && a->nscope == 0 &&
         pair_unique(a);
}

static int gen_has(assoc_association *a, assoc_buf *b) {
  assoc_model *t = a->target, *j = a->through;
  size_t ph = 0;
  if (has_by_keys(a)) {
    gen_has_by_keys(a, b);
    return ASSOC_OK;
  }
  if (a->nscope == 0 && pair_unique(a)) {
    /* one join row per linked key: no DISTINCT (a temporary index) */
    assoc__buf_puts(b, "SELECT COUNT(*) FROM ");
  } else {
    assoc__buf_puts(b, "SELECT COUNT(DISTINCT ");
    assoc__buf_column(b, j->name, JOTHER(a));
    assoc__buf_puts(b, ") FROM ");
  }
  assoc__buf_table_as(b, j->table, j->name);
  if (a->nscope > 0) {
    assoc__buf_puts(b, " INNER JOIN ");
    assoc__buf_table_as(b, t->table, t->name);
    assoc__buf_puts(b, " ON ");
    assoc__buf_column(b, t->name, TKEY(a));
    assoc__buf_puts(b, " = ");
    assoc__buf_column(b, j->name, JOTHER(a));
    assoc__assoc_scope_where(a, b, t->name, &ph);
  }
  assoc__buf_puts(b, " WHERE ");
  assoc__buf_column(b, j->name, JFK(a));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(DB(a), b, ++ph);
  assoc__buf_puts(b, " AND ");
  assoc__key_list_sql(DB(a), b, j->name, JOTHER(a), j, a->other_attr, ++ph,
                      0);
  through_scope_where(a, b, j->name, &ph);
  return ASSOC_OK;
}

int assoc__btm_has(assoc_association *a, const assoc_value *src,
                   const assoc_value *keys, size_t n, int *out) {
  assoc_db *db = DB(a);
  assoc_params p;
  const char *sql;
  size_t nunique = 0;
  int64_t found = 0;
  int rc = check_keys_defined(a);
  if (rc) return rc;
  sql = assoc__assoc_sql(a, SQL_HAS, gen_has);
  if (!sql) return db->errcode;
  assoc__params_init(&p);
  assoc__assoc_scope_params(a, &p, 0);
  if (has_by_keys(a)) {
    rc = assoc__push_key_list_n(db, &p, a->through, a->other_attr, keys, n,
                                &nunique);
    if (!rc) rc = assoc__push_attr_value(db, &p, a->through, a->fk_attr, src);
  } else {
    rc = assoc__push_attr_value(db, &p, a->through, a->fk_attr, src);
    if (!rc)
      rc = assoc__push_key_list_n(db, &p, a->through, a->other_attr, keys, n,
                                  &nunique);
  }
  if (!rc) through_scope_params(a, &p);
  if (!rc) rc = assoc__assoc_scalars(db, sql, &p, &found, 1);
  if (!rc) *out = (size_t)found == nunique;
  assoc__params_free(&p);
  return rc;
}

/* ----------------------------------------------------------------- add */

/* The join attributes of one call, de-duplicated (the last value given for
** an attribute wins); keys, timestamps and the through scope's attributes
** are the association's to write, so values given for them are dropped (as
** Sequelize's add overrides them). */
typedef struct join_set {
  int *attrs;
  const assoc_value **vals;
  size_t n;
} join_set;

static int in_through_scope(const assoc_association *a, int attr) {
  size_t i;
  for (i = 0; i < a->nthrough_scope; i++)
    if (a->through_scope_attrs[i] == attr) return 1;
  return 0;
}

static int join_collect(assoc_association *a, const assoc_field *join,
                        size_t njoin, join_set *js) {
  assoc_model *j = a->through;
  size_t i, k;
  js->attrs = NULL;
  js->vals = NULL;
  js->n = 0;
  if (njoin == 0) return ASSOC_OK;
  js->attrs = assoc__malloc(njoin * sizeof *js->attrs);
  js->vals = assoc__malloc(njoin * sizeof *js->vals);
  if (!js->attrs || !js->vals)
    return assoc__error(DB(a), ASSOC_NOMEM, "out of memory");
  for (i = 0; i < njoin; i++) {
    int at = join[i].attr;
    if (at < 0 || (size_t)at >= j->nattrs)
      return assoc__error(DB(a), ASSOC_MISUSE, "attribute index %d out of "
                          "range for %s", at, j->name);
    if (at == a->fk_attr || at == a->other_attr || at == j->created_at ||
        at == j->updated_at || at == j->pk || in_through_scope(a, at))
      continue;
    for (k = 0; k < js->n; k++)
      if (js->attrs[k] == at) break;
    js->attrs[k] = at;
    js->vals[k] = &join[i].value;
    if (k == js->n) js->n++;
  }
  return ASSOC_OK;
}

static void join_free(join_set *js) {
  assoc__free(js->attrs);
  assoc__free(js->vals);
}

enum { ON_CONFLICT_NOTHING, ON_CONFLICT_UPDATE_CHANGED, ON_CONFLICT_UPDATE };

/* "col = excluded.col, ..." for n attributes of the join model. */
static void set_excluded(assoc_buf *b, const assoc_model *j,
                         const int *attrs, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    const char *col = assoc__attr_field(j, attrs[i]);
    if (i) assoc__buf_puts(b, ", ");
    assoc__buf_ident(b, col);
    assoc__buf_puts(b, " = ");
    assoc__buf_column(b, "excluded", col);
  }
}

/* Does an existing row differ from excluded in a join attribute? */
static void any_join_differs(assoc_buf *b, const assoc_model *j,
                             const join_set *js) {
  size_t i;
  for (i = 0; i < js->n; i++) {
    if (i) assoc__buf_puts(b, " OR ");
    compare_excluded(b, j->table, assoc__attr_field(j, js->attrs[i]),
                     " IS DISTINCT FROM ");
  }
}

/* The ON CONFLICT action.  Without a through scope: nothing, or the join
** attributes (only where one differs, for add).  With one, every conflict
** the statement takes must count as a written row, so that run_add can
** tell a pair linked under another scope value (left untouched by the
** WHERE, so the count falls short) from a pair linked in this scope: the
** update always rewrites something (the join attributes, or else the
** scope's own columns with the values they hold), and updatedAt moves
** only when add changes a join attribute, as without a scope. */
static void gen_conflict(assoc_association *a, assoc_buf *b,
                         const join_set *js, int mode) {
  assoc_model *j = a->through;
  int scoped = a->nthrough_scope > 0;
  int join = js->n > 0 && mode != ON_CONFLICT_NOTHING;
  size_t i;
  if (!scoped && !join) {
    assoc__buf_puts(b, " DO NOTHING");
    return;
  }
  assoc__buf_puts(b, " DO UPDATE SET ");
  if (!join) {
    set_excluded(b, j, a->through_scope_attrs, a->nthrough_scope);
  } else {
    set_excluded(b, j, js->attrs, js->n);
    if (j->updated_at >= 0) {
      const char *col = assoc__attr_field(j, j->updated_at);
      assoc__buf_puts(b, ", ");
      assoc__buf_ident(b, col);
      assoc__buf_puts(b, " = ");
      if (scoped && mode == ON_CONFLICT_UPDATE_CHANGED) {
        assoc__buf_puts(b, "CASE WHEN ");
        any_join_differs(b, j, js);
        assoc__buf_puts(b, " THEN ");
        assoc__buf_column(b, "excluded", col);
        assoc__buf_puts(b, " ELSE ");
        assoc__buf_column(b, j->table, col);
        assoc__buf_puts(b, " END");
      } else {
        assoc__buf_column(b, "excluded", col);
      }
    }
  }
  if (scoped) {
    assoc__buf_puts(b, " WHERE ");
    for (i = 0; i < a->nthrough_scope; i++) {
      if (i) assoc__buf_puts(b, " AND ");
      compare_excluded(b, j->table,
                       assoc__attr_field(j, a->through_scope_attrs[i]),
                       " IS NOT DISTINCT FROM ");
    }
  } else if (mode == ON_CONFLICT_UPDATE_CHANGED) {
    assoc__buf_puts(b, " WHERE ");
    any_join_differs(b, j, js);
  }
}

/* ", col" for each of n attributes of the join model. */
static void column_list(assoc_buf *b, const assoc_model *j, const int *attrs,
                        size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    assoc__buf_puts(b, ", ");
    assoc__buf_ident(b, assoc__attr_field(j, attrs[i]));
  }
}

/* ", ?" n times. */
static void placeholders(assoc_db *db, assoc_buf *b, size_t n, size_t *ph) {
  size_t i;
  for (i = 0; i < n; i++) {
    assoc__buf_puts(b, ", ");
    assoc__placeholder(db, b, ++*ph);
  }
}

/* INSERT INTO through (fk, other, <join>, <through scope>, createdAt,
**   updatedAt) SELECT ?, value, ?.., ?, ? FROM <key list> WHERE true
**   ON CONFLICT (fk, other) <gen_conflict>
** (SQLite needs the WHERE to tell the upsert's ON from a join's.) */
static void gen_add_sql(assoc_association *a, assoc_buf *b,
                        const join_set *js, int mode) {
  assoc_db *db = DB(a);
  assoc_model *j = a->through;
  size_t ph = 0;
  assoc__buf_puts(b, "INSERT INTO ");
  assoc__buf_ident(b, j->table);
  assoc__buf_puts(b, " (");
  assoc__buf_ident(b, JFK(a));
  assoc__buf_puts(b, ", ");
  assoc__buf_ident(b, JOTHER(a));
  column_list(b, j, js->attrs, js->n);
  column_list(b, j, a->through_scope_attrs, a->nthrough_scope);
  if (j->created_at >= 0) column_list(b, j, &j->created_at, 1);
  if (j->updated_at >= 0) column_list(b, j, &j->updated_at, 1);
  assoc__buf_puts(b, ") SELECT ");
  assoc__placeholder(db, b, ++ph);
  assoc__buf_puts(b, ", \"assoc_k\".\"value\"");
  placeholders(db, b, js->n + a->nthrough_scope + (j->created_at >= 0) +
               (j->updated_at >= 0), &ph);
  assoc__buf_puts(b, " FROM ");
  db->dialect->key_table(b, ++ph, j->attrs[a->other_attr].def.type);
  assoc__buf_puts(b, " WHERE true ON CONFLICT (");
  assoc__buf_ident(b, JFK(a));
  assoc__buf_puts(b, ", ");
  assoc__buf_ident(b, JOTHER(a));
  assoc__buf_putc(b, ')');
  gen_conflict(a, b, js, mode);
}

static int gen_add_plain(assoc_association *a, assoc_buf *b) {
  join_set none;
  memset(&none, 0, sizeof none);
  gen_add_sql(a, b, &none, ON_CONFLICT_NOTHING);
  return ASSOC_OK;
}

/* kl: the key list already made (set makes it once for two statements),
** or NULL to make it from keys, counting its distinct keys into *nkeys
** (which is left alone with kl: the caller counted them). */
static int add_params(assoc_association *a, assoc_params *p,
                      const assoc_value *src, const join_set *js,
                      const assoc_value *keys, size_t n,
                      const assoc_value *kl, size_t *nkeys) {
  assoc_db *db = DB(a);
  assoc_model *j = a->through;
  size_t i;
  int rc = assoc__push_attr_value(db, p, j, a->fk_attr, src);
  for (i = 0; i < js->n && !rc; i++)
    rc = assoc__push_attr_value(db, p, j, js->attrs[i], js->vals[i]);
  if (!rc)
    assoc__scope_params(p, a->through_scope_values, a->nthrough_scope, 1);
  if (!rc && j->created_at >= 0)
    rc = assoc__assoc_push_now(db, p, j, j->created_at);
  if (!rc && j->updated_at >= 0)
    rc = assoc__assoc_push_now(db, p, j, j->updated_at);
  if (!rc && kl) assoc__params_push(p, kl);
  else if (!rc)
    rc = assoc__push_key_list_n(db, p, j, a->other_attr, keys, n, nkeys);
  return rc;
}

/* Run an add statement that binds nkeys distinct keys.  With a through
** scope, a pair already linked under another scope value is neither
** inserted nor updated (gen_conflict), so fewer rows than keys are
** written: that is Sequelize's unique violation, and the caller's
** transaction rolls back whatever the statement did write. */
static int run_add(assoc_association *a, const char *sql, assoc_params *p,
                   size_t nkeys) {
  assoc_db *db = DB(a);
  int64_t written = 0;
  int rc = assoc__assoc_run_changes(db, sql, p, &written);
  if (rc || a->nthrough_scope == 0 || written >= (int64_t)nkeys) return rc;
  return assoc__error(db, ASSOC_UNIQUE, "%s.%s: %s already links this %s to "
                      "%lld of the given %s keys outside the through scope; "
                      "nothing was written", a->source->name, a->as,
                      a->through->name, a->source->name,
                      (long long)((int64_t)nkeys - written), a->target->name);
}

/* The add statement for this call (borrowed from a->sql). */
static const char *add_sql(assoc_association *a, const join_set *js,
                           int mode) {
  int slot = mode == ON_CONFLICT_UPDATE ? SQL_SET_JOIN_SIG : SQL_ADD_JOIN_SIG;
  assoc_buf sig, b;
  size_t i;
  char *text;
  if (js->n == 0) return assoc__assoc_sql(a, SQL_ADD, gen_add_plain);
  assoc__buf_init(&sig);
  for (i = 0; i < js->n; i++) assoc__buf_printf(&sig, "%d,", js->attrs[i]);
  if (sig.oom) {
    assoc__buf_free(&sig);
    assoc__error(DB(a), ASSOC_NOMEM, "out of memory");
    return NULL;
  }
  if (a->sql[slot] && a->sql[slot + 1] && strcmp(a->sql[slot], sig.p) == 0) {
    assoc__buf_free(&sig);
    return a->sql[slot + 1];
  }
  assoc__buf_init(&b);
  gen_add_sql(a, &b, js, mode);
  text = assoc__buf_take(&b);
  if (!text) {
    assoc__buf_free(&sig);
    assoc__error(DB(a), ASSOC_NOMEM, "out of memory");
    return NULL;
  }
  assoc__free(a->sql[slot]);
  assoc__free(a->sql[slot + 1]);
  a->sql[slot] = assoc__buf_take(&sig);
  a->sql[slot + 1] = text;
  return text;
}

/* One upsert of keys with join (the statement of add, and set's second). */
static int upsert(assoc_association *a, const assoc_value *src,
                  const assoc_value *keys, size_t n, const assoc_field *join,
                  size_t njoin, int mode) {
  assoc_db *db = DB(a);
  join_set js;
  assoc_params p;
  const char *sql;
  size_t nkeys = 0;
  int rc;
  assoc__params_init(&p);
  rc = join_collect(a, join, njoin, &js);
  if (!rc) {
    sql = add_sql(a, &js, mode);
    rc = sql ? add_params(a, &p, src, &js, keys, n, NULL, &nkeys)
             : db->errcode;
    if (!rc && p.oom) rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
    if (!rc) rc = run_add(a, sql, &p, nkeys);
  }
  join_free(&js);
  assoc__params_free(&p);
  return rc;
}

/* The keys no per-target join names, into *out (freed by the caller). */
static int other_keys(assoc_association *a, const assoc_value *keys,
                      size_t n, const assoc_target_join *each, size_t neach,
                      assoc_value **out, size_t *nout) {
  unsigned char *named = assoc__malloc(n);
  size_t i;
  *out = assoc__malloc(n * sizeof **out);
  *nout = 0;
  if (!named || !*out) {
    assoc__free(named);
    return assoc__error(DB(a), ASSOC_NOMEM, "out of memory");
  }
  memset(named, 0, n);
  for (i = 0; i < neach; i++) named[each[i].key] = 1;
  for (i = 0; i < n; i++)
    if (!named[i]) (*out)[(*nout)++] = keys[i];
  assoc__free(named);
  return ASSOC_OK;
}

/* The upserts of keys: those without a per-target join with join, then
** one statement per target that has one (so it wins for that target). */
static int upsert_each(assoc_association *a, const assoc_value *src,
                       const assoc_value *keys, size_t n,
                       const assoc_field *join, size_t njoin,
                       const assoc_target_join *each, size_t neach,
                       int mode) {
  assoc_value *rest = NULL;
  size_t nrest = 0, i;
  int rc = other_keys(a, keys, n, each, neach, &rest, &nrest);
  if (!rc && nrest > 0) rc = upsert(a, src, rest, nrest, join, njoin, mode);
  for (i = 0; i < neach && !rc; i++)
    rc = upsert(a, src, &keys[each[i].key], 1, each[i].join, each[i].njoin,
                mode);
  assoc__free(rest);
  return rc;
}

int assoc__btm_add(assoc_association *a, const assoc_value *src,
                   const assoc_value *keys, size_t n,
                   const assoc_field *join, size_t njoin,
                   const assoc_target_join *each, size_t neach) {
  assoc_db *db = DB(a);
  int rc = check_keys_defined(a);
  if (rc || n == 0) return rc;
  /* One statement, atomic by itself, unless a through scope may make
  ** run_add refuse what it wrote. */
  if (neach == 0 && a->nthrough_scope == 0)
    return upsert(a, src, keys, n, join, njoin, ON_CONFLICT_UPDATE_CHANGED);
  rc = assoc__atomic_begin(db);
  if (rc) return rc;
  rc = upsert_each(a, src, keys, n, join, njoin, each, neach,
                   ON_CONFLICT_UPDATE_CHANGED);
  return assoc__atomic_end(db, rc);
}

/* ------------------------------------------------------ set and remove */

/* " AND J.other IN (SELECT tk FROM target WHERE <scope>)": a target scope
** keeps set and remove away from links to targets outside it (R10, R11). */
static void in_target_scope(assoc_association *a, assoc_buf *b, size_t *ph) {
  assoc_model *t = a->target;
  size_t i;
  if (a->nscope == 0) return;
  assoc__buf_puts(b, " AND ");
  assoc__buf_ident(b, JOTHER(a));
  assoc__buf_puts(b, " IN (SELECT ");
  assoc__buf_ident(b, TKEY(a));
  assoc__buf_puts(b, " FROM ");
  assoc__buf_ident(b, t->table);
  assoc__buf_puts(b, " WHERE ");
  for (i = 0; i < a->nscope; i++) {
    if (i) assoc__buf_puts(b, " AND ");
    assoc__buf_ident(b, assoc__attr_field(t, a->scope_attrs[i]));
    if (a->scope_values[i].kind == ASSOC_NULL) {
      assoc__buf_puts(b, " IS NULL");
    } else {
      assoc__buf_puts(b, " = ");
      assoc__placeholder(DB(a), b, ++*ph);
    }
  }
  assoc__buf_putc(b, ')');
}

/* "DELETE FROM through WHERE fk = ? [AND other (NOT) IN (list)]
** <through scope> <target scope>" */
static void gen_delete(assoc_association *a, assoc_buf *b, int list,
                       int negate) {
  size_t ph = 0;
  assoc__buf_puts(b, "DELETE FROM ");
  assoc__buf_ident(b, a->through->table);
  assoc__buf_puts(b, " WHERE ");
  assoc__buf_ident(b, JFK(a));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(DB(a), b, ++ph);
  if (list) {
    assoc__buf_puts(b, " AND ");
    assoc__key_list_sql(DB(a), b, NULL, JOTHER(a), a->through, a->other_attr,
                        ++ph, negate);
  }
  through_scope_where(a, b, NULL, &ph);
  in_target_scope(a, b, &ph);
}

static int gen_delete_all(assoc_association *a, assoc_buf *b) {
  gen_delete(a, b, 0, 0);
  return ASSOC_OK;
}

static int gen_delete_others(assoc_association *a, assoc_buf *b) {
  gen_delete(a, b, 1, 1);
  return ASSOC_OK;
}

static int gen_remove(assoc_association *a, assoc_buf *b) {
  gen_delete(a, b, 1, 0);
  return ASSOC_OK;
}

static int delete_params(assoc_association *a, assoc_params *p,
                         const assoc_value *src, const assoc_value *keys,
                         size_t n) {
  assoc_db *db = DB(a);
  int rc = assoc__push_attr_value(db, p, a->through, a->fk_attr, src);
  if (!rc && n > 0)
    rc = assoc__push_key_list(db, p, a->through, a->other_attr, keys, n);
  if (rc) return rc;
  through_scope_params(a, p);
  assoc__assoc_scope_params(a, p, 0);
  return p->oom ? assoc__error(db, ASSOC_NOMEM, "out of memory") : ASSOC_OK;
}

/* delete_params for set, whose key list the add statement binds too: the
** list of *nkeys distinct keys is made once, into p, and *kl points at it
** (valid while p is). */
static int delete_params_kl(assoc_association *a, assoc_params *p,
                            const assoc_value *src, const assoc_value *keys,
                            size_t n, const assoc_value **kl, size_t *nkeys) {
  assoc_db *db = DB(a);
  size_t at;
  int rc = assoc__push_attr_value(db, p, a->through, a->fk_attr, src);
  at = p->n;
  if (!rc)
    rc = assoc__push_key_list_n(db, p, a->through, a->other_attr, keys, n,
                                nkeys);
  *kl = NULL;
  if (rc) return rc;
  through_scope_params(a, p);
  assoc__assoc_scope_params(a, p, 0);
  if (p->oom) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  *kl = &p->v[at];            /* nothing is pushed onto p after this */
  return ASSOC_OK;
}

/* set with per-target joins: the obsolete links' DELETE, then the upserts
** of upsert_each (kept links take the joins given, as in Sequelize). */
static int set_each(assoc_association *a, const assoc_value *src,
                    const assoc_value *keys, size_t n,
                    const assoc_field *join, size_t njoin,
                    const assoc_target_join *each, size_t neach) {
  assoc_db *db = DB(a);
  assoc_params p;
  const char *del = assoc__assoc_sql(a, SQL_DELETE_OTHERS, gen_delete_others);
  int rc = del ? ASSOC_OK : db->errcode;
  assoc__params_init(&p);
  if (!rc) rc = delete_params(a, &p, src, keys, n);
  if (!rc) rc = assoc__atomic_begin(db);
  if (!rc) {
    rc = assoc__assoc_run(db, del, &p);
    if (!rc)
      rc = upsert_each(a, src, keys, n, join, njoin, each, neach,
                       ON_CONFLICT_UPDATE);
    rc = assoc__atomic_end(db, rc);
  }
  assoc__params_free(&p);
  return rc;
}

int assoc__btm_set(assoc_association *a, const assoc_value *src,
                   const assoc_value *keys, size_t n,
                   const assoc_field *join, size_t njoin,
                   const assoc_target_join *each, size_t neach) {
  assoc_db *db = DB(a);
  join_set js;
  assoc_params p, q;
  const char *del, *add;
  const assoc_value *kl = NULL;
  size_t nkeys = 0;
  int rc = check_keys_defined(a);
  if (rc) return rc;
  if (n > 0 && neach > 0)
    return set_each(a, src, keys, n, join, njoin, each, neach);
  assoc__params_init(&p);
  if (n == 0) {
    /* One statement: no transaction needed. */
    del = assoc__assoc_sql(a, SQL_DELETE_ALL, gen_delete_all);
    rc = del ? delete_params(a, &p, src, NULL, 0) : db->errcode;
    if (!rc) rc = assoc__assoc_run(db, del, &p);
    assoc__params_free(&p);
    return rc;
  }
  assoc__params_init(&q);
  rc = join_collect(a, join, njoin, &js);
  if (!rc) {
    del = assoc__assoc_sql(a, SQL_DELETE_OTHERS, gen_delete_others);
    /* Kept links take the given join attributes whether or not they
    ** differ, as Sequelize's set does. */
    add = del ? add_sql(a, &js, ON_CONFLICT_UPDATE) : NULL;
    rc = add ? ASSOC_OK : db->errcode;
    /* Every value is converted before BEGIN, so bad input sends nothing. */
    if (!rc) rc = delete_params_kl(a, &p, src, keys, n, &kl, &nkeys);
    if (!rc) rc = add_params(a, &q, src, &js, keys, n, kl, NULL);
    if (!rc && q.oom) rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
    if (!rc) {
      rc = assoc__atomic_begin(db);
      if (!rc) {
        rc = assoc__assoc_run(db, del, &p);
        if (!rc) rc = run_add(a, add, &q, nkeys);
        rc = assoc__atomic_end(db, rc);
      }
    }
  }
  join_free(&js);
  assoc__params_free(&p);
  assoc__params_free(&q);
  return rc;
}

int assoc__btm_remove(assoc_association *a, const assoc_value *src,
                      const assoc_value *keys, size_t n) {
  assoc_db *db = DB(a);
  assoc_params p;
  const char *sql;
  int rc = check_keys_defined(a);
  if (rc || n == 0) return rc;
  sql = assoc__assoc_sql(a, SQL_REMOVE, gen_remove);
  if (!sql) return db->errcode;
  assoc__params_init(&p);
  rc = delete_params(a, &p, src, keys, n);
  if (!rc) rc = assoc__assoc_run(db, sql, &p);
  assoc__params_free(&p);
  return rc;
}

/* -------------------------------------------------------------- create */

/* INSERT the target (scope values forced), link it with the add statement
** (which writes the through scope), and read the new row back after the
** COMMIT (which resets the INSERT's cursor). */
int assoc__btm_create(assoc_association *a, const assoc_value *src,
                      const assoc_field *values, size_t n,
                      const assoc_field *join, size_t njoin,
                      assoc_rows **out) {
  assoc_db *db = DB(a);
  assoc_field *forced = NULL;
  assoc_value key;
  join_set js;
  assoc_params p;
  const char *add;
  char *hold = NULL;
  size_t i, nkeys = 0;
  int rc = check_keys_defined(a);
  if (rc) return rc;
  assoc__params_init(&p);
  rc = join_collect(a, join, njoin, &js);
  if (!rc && a->nscope > 0) {
    forced = assoc__malloc(a->nscope * sizeof *forced);
    if (!forced) rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
    for (i = 0; i < a->nscope && forced; i++) {
      forced[i].attr = a->scope_attrs[i];
      forced[i].value = a->scope_values[i];
    }
  }
  add = rc ? NULL : add_sql(a, &js, ON_CONFLICT_UPDATE_CHANGED);
  if (!rc && !add) rc = db->errcode;
  if (!rc && !assoc__assoc_select_sql(a, SQL_SELECT_KEY)) rc = db->errcode;
  if (!rc) rc = assoc__atomic_begin(db);
  if (!rc) {
    rc = assoc__assoc_insert(a, values, n, forced, a->nscope, NULL);
    if (!rc)
      rc = assoc__assoc_inserted_value(db, a->target, a->target_key_attr,
                                       &key, &hold);
    if (!rc) rc = add_params(a, &p, src, &js, &key, 1, NULL, &nkeys);
    if (!rc) rc = run_add(a, add, &p, nkeys);
    rc = assoc__atomic_end(db, rc);
  }
  if (!rc)
    rc = assoc__assoc_select_by(a, SQL_SELECT_KEY, &key, 1, out);
  assoc__free(hold);
  assoc__free(forced);
  join_free(&js);
  assoc__params_free(&p);
  return rc;
}
