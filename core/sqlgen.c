/*
** sqlgen.c: SQL for the model layer: select lists that record which
** attribute each column holds, ORDER/LIMIT with bound values, INSERT ...
** RETURNING (single and multi-row), UPDATE, DELETE, SELECT and COUNT.
** Dialect differences go through db->dialect; nothing here tests which
** database it runs on.
*/
#include <stdio.h>
#include <string.h>

#include "dialect.h"

/* Both dialects bind at least this many parameters in one statement
** (SQLite 3.32+: 32766, PostgreSQL: 65535). */
#define MAX_PARAMS 32000

void assoc__placeholder(assoc_db *db, assoc_buf *b, size_t n) {
  db->dialect->placeholder(b, n);
}

void assoc__key_list_sql(assoc_db *db, assoc_buf *b, const char *alias,
                         const char *column, const assoc_model *m, int attr,
                         size_t param_index, int negate) {
  assoc__buf_column(b, alias, column);
  db->dialect->key_list(b, param_index, m->attrs[attr].def.type, negate);
}

static int map_push(assoc_db *db, assoc_colmap **map, size_t *nmap,
                    size_t *capmap, const assoc_model *m, int attr) {
  if (*nmap == *capmap) {
    size_t cap = *capmap ? *capmap * 2 : 16;
    assoc_colmap *nm = assoc__realloc(*map, cap * sizeof *nm);
    if (!nm) return assoc__error(db, ASSOC_NOMEM, "out of memory");
    *map = nm;
    *capmap = cap;
  }
  (*map)[*nmap].model = m;
  (*map)[*nmap].attr = attr;
  (*map)[*nmap].from = 0;
  (*nmap)++;
  return ASSOC_OK;
}

static int select_one(assoc_db *db, assoc_buf *b, const assoc_model *m,
                      const char *alias, int attr, assoc_colmap **map,
                      size_t *nmap, size_t *capmap) {
  if (*nmap) assoc__buf_puts(b, ", ");
  assoc__buf_column(b, alias, assoc__attr_field(m, attr));
  return map_push(db, map, nmap, capmap, m, attr);
}

int assoc__select_list(assoc_db *db, assoc_buf *b, const assoc_model *m,
                       const char *alias, const char *const *names,
                       size_t nnames, assoc_colmap **map, size_t *nmap,
                       size_t *capmap) {
  size_t i;
  int rc;
  if (!names) {
    for (i = 0; i < m->nattrs; i++) {
      rc = select_one(db, b, m, alias, (int)i, map, nmap, capmap);
      if (rc) return rc;
    }
    return ASSOC_OK;
  }
  /* The primary key always comes along: an instance needs it to save. */
  if (m->pk >= 0) {
    for (i = 0; i < nnames; i++)
      if (names[i] && strcmp(names[i], m->attrs[m->pk].def.name) == 0) break;
    if (i == nnames) {
      rc = select_one(db, b, m, alias, m->pk, map, nmap, capmap);
      if (rc) return rc;
    }
  }
  for (i = 0; i < nnames; i++) {
    int attr = assoc_model_attr_index(m, names[i]);
    if (attr < 0)
      return assoc__error(db, ASSOC_MISUSE, "unknown attribute '%s' of %s",
                          names[i] ? names[i] : "(null)", m->name);
    rc = select_one(db, b, m, alias, attr, map, nmap, capmap);
    if (rc) return rc;
  }
  return ASSOC_OK;
}

int assoc__order_limit(assoc_db *db, assoc_buf *b, assoc_params *p,
                       const assoc_model *m, const char *alias,
                       const assoc_query *q) {
  size_t i;
  if (!q) return ASSOC_OK;
  for (i = 0; i < q->norder; i++) {
    int attr = assoc_model_attr_index(m, q->order[i].attr);
    if (attr < 0)
      return assoc__error(db, ASSOC_MISUSE, "unknown attribute '%s' in "
                          "order of %s", q->order[i].attr ? q->order[i].attr
                          : "(null)", m->name);
    assoc__buf_puts(b, i ? ", " : " ORDER BY ");
    assoc__buf_column(b, alias, assoc__attr_field(m, attr));
    assoc__buf_puts(b, q->order[i].desc ? " DESC" : " ASC");
  }
  if (q->limit > 0 || q->offset > 0) {
    if (q->limit < 0 || q->offset < 0)
      return assoc__error(db, ASSOC_MISUSE, "limit and offset must not be "
                          "negative");
    /* No limit with an offset: the largest integer means "all". */
    assoc__params_push_int(p, q->limit > 0 ? q->limit : INT64_MAX);
    assoc__buf_puts(b, " LIMIT ");
    assoc__placeholder(db, b, p->n);
    if (q->offset > 0) {
      assoc__params_push_int(p, q->offset);
      assoc__buf_puts(b, " OFFSET ");
      assoc__placeholder(db, b, p->n);
    }
  }
  return p->oom ? assoc__error(db, ASSOC_NOMEM, "out of memory") : ASSOC_OK;
}

/* --------------------------------------------------------------- values */

static int not_null_error(assoc_db *db, const assoc_model *m, int attr) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s.%s cannot be null", m->name,
           m->attrs[attr].def.name);
  assoc__error(db, ASSOC_VALIDATION, "notNull Violation: %s", msg);
  assoc__valerr_add(db, m->attrs[attr].def.name, msg, "notNull");
  return ASSOC_VALIDATION;
}

/* The values of one row to write: given fields, then defaults and
** timestamps for attributes not given.  vals and set have nattrs slots. */
static int fill_row(assoc_db *db, const assoc_model *m,
                    const assoc_field *fields, size_t n, int inserting,
                    const assoc_value *now, const assoc_value **vals,
                    unsigned char *set) {
  size_t i;
  memset(set, 0, m->nattrs);
  for (i = 0; i < n; i++) {
    int a = fields[i].attr;
    if (a < 0 || (size_t)a >= m->nattrs)
      return assoc__error(db, ASSOC_MISUSE, "attribute index %d out of "
                          "range for %s", a, m->name);
    vals[a] = &fields[i].value;
    set[a] = 1;
  }
  for (i = 0; i < m->nattrs; i++) {
    const assoc_attr *at = &m->attrs[i];
    if (!set[i]) {
      if ((int)i == m->updated_at || (inserting && (int)i == m->created_at)) {
        vals[i] = now;
        set[i] = 1;
      } else if (inserting && at->has_default) {
        vals[i] = &at->default_value;
        set[i] = 1;
      }
    }
    if (set[i] && vals[i]->kind == ASSOC_NULL && at->def.not_null &&
        !(at->def.auto_increment && inserting))
      return not_null_error(db, m, (int)i);
    if (inserting && !set[i] && at->def.not_null && !at->def.auto_increment)
      return not_null_error(db, m, (int)i);
  }
  return ASSOC_OK;
}

static int returning_all(assoc_db *db, assoc_buf *b, const assoc_model *m) {
  size_t i;
  assoc__buf_puts(b, " RETURNING ");
  for (i = 0; i < m->nattrs; i++) {
    if (i) assoc__buf_puts(b, ", ");
    assoc__buf_ident(b, assoc__attr_field(m, (int)i));
  }
  (void)db;
  return ASSOC_OK;
}

static int map_all(assoc_db *db, const assoc_model *m) {
  size_t i;
  for (i = 0; i < m->nattrs; i++) {
    int rc = assoc__rows_map(&db->rows, i, m, (int)i);
    if (rc) return rc;
  }
  return ASSOC_OK;
}

static int run_mapped(assoc_db *db, assoc_buf *b, assoc_params *p,
                      const assoc_model *m, assoc_rows **out) {
  int rc;
  if (b->oom || p->oom) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  rc = assoc__exec(db, b->p, p->v, p->n, NULL);
  if (rc) return rc;
  rc = map_all(db, m);
  if (rc) return rc;
  if (out) *out = &db->rows;
  return ASSOC_OK;
}

typedef struct scratch {
  const assoc_value **vals;
  unsigned char *set;
  assoc_value now;
  char now_text[32];
} scratch;

static int scratch_init(assoc_db *db, scratch *s, const assoc_model *m) {
  s->vals = assoc__malloc((m->nattrs + 1) * sizeof *s->vals);
  s->set = assoc__malloc(m->nattrs + 1);
  if (!s->vals || !s->set) {
    assoc__free(s->vals);
    assoc__free(s->set);
    return assoc__error(db, ASSOC_NOMEM, "out of memory");
  }
  assoc__now_iso(s->now_text);
  s->now.kind = ASSOC_TEXT;
  s->now.u.s.p = s->now_text;
  s->now.u.s.n = strlen(s->now_text);
  return ASSOC_OK;
}

static void scratch_free(scratch *s) {
  assoc__free(s->vals);
  assoc__free(s->set);
}

static int check_model(assoc_model *m) {
  if (!m) return ASSOC_MISUSE;
  return assoc__check_open(m->db);
}

/* --------------------------------------------------------------- insert */

static int insert_rows(assoc_model *m, scratch *s, size_t nrows,
                       const int *attrs, size_t nattrs,
                       const assoc_value *values, assoc_buf *b,
                       assoc_params *p) {
  assoc_db *db = m->db;
  size_t r, i, col;
  int rc, first = 1;
  assoc__buf_puts(b, "INSERT INTO ");
  assoc__buf_ident(b, m->table);
  for (r = 0; r < nrows; r++) {
    assoc_field fields[256];
    size_t nf = nattrs < 256 ? nattrs : 256;
    for (i = 0; i < nf; i++) {
      fields[i].attr = attrs[i];
      fields[i].value = values[r * nattrs + i];
    }
    rc = fill_row(db, m, fields, nf, 1, &s->now, s->vals, s->set);
    if (rc) return rc;
    if (first) {
      int any = 0;
      assoc__buf_puts(b, " (");
      for (i = 0; i < m->nattrs; i++) {
        if (!s->set[i]) continue;
        if (any++) assoc__buf_puts(b, ", ");
        assoc__buf_ident(b, assoc__attr_field(m, (int)i));
      }
      if (!any) {
        /* Every column defaulted. */
        b->n -= 2;
        b->p[b->n] = '\0';
        assoc__buf_puts(b, " DEFAULT VALUES");
        break;
      }
      assoc__buf_puts(b, ") VALUES ");
      first = 0;
    }
    assoc__buf_puts(b, r ? ", (" : "(");
    for (i = 0, col = 0; i < m->nattrs; i++) {
      if (!s->set[i]) continue;
      if (col++) assoc__buf_puts(b, ", ");
      rc = assoc__push_attr_value(db, p, m, (int)i, s->vals[i]);
      if (rc) return rc;
      assoc__placeholder(db, b, p->n);
    }
    assoc__buf_putc(b, ')');
  }
  return returning_all(db, b, m);
}

int assoc_model_insert(assoc_model *m, const assoc_field *fields, size_t n,
                       assoc_rows **out) {
  assoc_db *db;
  scratch s;
  assoc_buf b;
  assoc_params p;
  int rc = check_model(m), attrs[256];
  assoc_value values[256];
  size_t i;
  if (rc) return rc;
  db = m->db;
  if (n > 256 || m->nattrs > 255)
    return assoc__error(db, ASSOC_MISUSE, "too many attributes");
  for (i = 0; i < n; i++) {
    attrs[i] = fields[i].attr;
    values[i] = fields[i].value;
  }
  rc = scratch_init(db, &s, m);
  if (rc) return rc;
  assoc__buf_init(&b);
  assoc__params_init(&p);
  rc = insert_rows(m, &s, 1, attrs, n, values, &b, &p);
  if (!rc) rc = run_mapped(db, &b, &p, m, out);
  assoc__buf_free(&b);
  assoc__params_free(&p);
  scratch_free(&s);
  return rc;
}

/* Copy the primary keys of the rows a chunk returned, for re-reading. */
static int collect_keys(assoc_db *db, const assoc_model *m,
                        assoc_params *keys) {
  int step;
  while ((step = assoc_rows_step(&db->rows)) == ASSOC_ROW) {
    assoc_value v;
    int rc = assoc_rows_value(&db->rows, (size_t)m->pk, &v);
    if (rc) return rc;
    if (v.kind == ASSOC_TEXT || v.kind == ASSOC_BLOB)
      assoc__params_push_text_copy(keys, v.u.s.p, v.u.s.n);
    else
      assoc__params_push(keys, &v);
    if (keys->oom) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  }
  return step == ASSOC_DONE ? ASSOC_OK : step;
}

int assoc_model_insert_many(assoc_model *m, const int *attrs, size_t nattrs,
                            const assoc_value *values, size_t nrows,
                            assoc_rows **out) {
  assoc_db *db;
  scratch s;
  assoc_buf b;
  assoc_params p, keys;
  size_t per_chunk, done = 0;
  int rc = check_model(m), chunked;
  if (rc) return rc;
  db = m->db;
  if (nattrs > 255 || m->nattrs > 255)
    return assoc__error(db, ASSOC_MISUSE, "too many attributes");
  if (nrows == 0) {
    assoc__rows_reset(&db->rows);
    if (out) *out = &db->rows;
    return ASSOC_OK;
  }
  per_chunk = MAX_PARAMS / (m->nattrs ? m->nattrs : 1);
  if (per_chunk == 0) per_chunk = 1;
  chunked = nrows > per_chunk;
  rc = scratch_init(db, &s, m);
  if (rc) return rc;
  assoc__buf_init(&b);
  assoc__params_init(&p);
  assoc__params_init(&keys);
  if (chunked) rc = assoc__atomic_begin(db);
  while (!rc && done < nrows) {
    size_t n = nrows - done < per_chunk ? nrows - done : per_chunk;
    assoc__buf_reset(&b);
    assoc__params_reset(&p);
    rc = insert_rows(m, &s, n, attrs, nattrs, values + done * nattrs, &b,
                     &p);
    if (!rc) rc = run_mapped(db, &b, &p, m, out);
    if (!rc && chunked && out && m->pk >= 0) rc = collect_keys(db, m, &keys);
    done += n;
  }
  if (chunked) rc = assoc__atomic_end(db, rc);
  if (!rc && chunked && out && m->pk >= 0) {
    /* The rows of every chunk, in key order (= insertion order for
    ** generated keys). */
    assoc__buf_reset(&b);
    assoc__params_reset(&p);
    assoc__buf_puts(&b, "SELECT ");
    {
      size_t i;
      for (i = 0; i < m->nattrs; i++) {
        if (i) assoc__buf_puts(&b, ", ");
        assoc__buf_ident(&b, assoc__attr_field(m, (int)i));
      }
    }
    assoc__buf_puts(&b, " FROM ");
    assoc__buf_ident(&b, m->table);
    assoc__buf_puts(&b, " WHERE ");
    rc = assoc__push_key_list(db, &p, m, m->pk, keys.v, keys.n);
    if (!rc) {
      assoc__key_list_sql(db, &b, NULL, assoc__attr_field(m, m->pk), m,
                          m->pk, p.n, 0);
      assoc__buf_puts(&b, " ORDER BY ");
      assoc__buf_ident(&b, assoc__attr_field(m, m->pk));
      rc = run_mapped(db, &b, &p, m, out);
    }
  }
  assoc__buf_free(&b);
  assoc__params_free(&p);
  assoc__params_free(&keys);
  scratch_free(&s);
  return rc;
}

/* --------------------------------------------------------------- update */

static int set_clause(assoc_model *m, scratch *s, const assoc_field *fields,
                      size_t n, assoc_buf *b, assoc_params *p) {
  assoc_db *db = m->db;
  size_t i, col = 0;
  int rc = fill_row(db, m, fields, n, 0, &s->now, s->vals, s->set);
  if (rc) return rc;
  assoc__buf_puts(b, "UPDATE ");
  assoc__buf_ident(b, m->table);
  assoc__buf_puts(b, " SET ");
  for (i = 0; i < m->nattrs; i++) {
    if (!s->set[i]) continue;
    if (col++) assoc__buf_puts(b, ", ");
    assoc__buf_ident(b, assoc__attr_field(m, (int)i));
    assoc__buf_puts(b, " = ");
    rc = assoc__push_attr_value(db, p, m, (int)i, s->vals[i]);
    if (rc) return rc;
    assoc__placeholder(db, b, p->n);
  }
  if (col == 0)
    return assoc__error(db, ASSOC_MISUSE, "nothing to update on %s",
                        m->name);
  return ASSOC_OK;
}

int assoc_model_update_pk(assoc_model *m, const assoc_value *pk,
                          const assoc_field *fields, size_t n,
                          assoc_rows **out) {
  assoc_db *db;
  scratch s;
  assoc_buf b;
  assoc_params p;
  int rc = check_model(m);
  if (rc) return rc;
  db = m->db;
  if (m->pk < 0)
    return assoc__error(db, ASSOC_MISUSE, "%s has no single primary key",
                        m->name);
  if (!pk || pk->kind == ASSOC_NULL)
    return assoc__error(db, ASSOC_MISUSE, "%s instance is not saved",
                        m->name);
  rc = scratch_init(db, &s, m);
  if (rc) return rc;
  assoc__buf_init(&b);
  assoc__params_init(&p);
  rc = set_clause(m, &s, fields, n, &b, &p);
  if (!rc) {
    assoc__buf_puts(&b, " WHERE ");
    assoc__buf_ident(&b, assoc__attr_field(m, m->pk));
    assoc__buf_puts(&b, " = ");
    rc = assoc__push_attr_value(db, &p, m, m->pk, pk);
    assoc__placeholder(db, &b, p.n);
  }
  if (!rc) rc = returning_all(db, &b, m);
  if (!rc) rc = run_mapped(db, &b, &p, m, out);
  assoc__buf_free(&b);
  assoc__params_free(&p);
  scratch_free(&s);
  return rc;
}

static int where_clause(assoc_model *m, const assoc_query *q, assoc_buf *b,
                        assoc_params *p) {
  int first = 1, rc;
  if (!q) return ASSOC_OK;
  if (q->where) {
    assoc__buf_puts(b, " WHERE ");
    rc = assoc__where(m->db, b, p, m, NULL, q->where);
    if (rc) return rc;
    first = 0;
  }
  /* EXISTS filters refer to the parent by its table name. */
  return assoc__exists_list(m->db, b, p, m, m->table, q, &first);
}

int assoc_model_update(assoc_model *m, const assoc_field *fields, size_t n,
                       const assoc_query *q, int64_t *changed) {
  assoc_db *db;
  scratch s;
  assoc_buf b;
  assoc_params p;
  int rc = check_model(m);
  if (rc) return rc;
  db = m->db;
  rc = scratch_init(db, &s, m);
  if (rc) return rc;
  assoc__buf_init(&b);
  assoc__params_init(&p);
  rc = set_clause(m, &s, fields, n, &b, &p);
  if (!rc) rc = where_clause(m, q, &b, &p);
  if (!rc && (b.oom || p.oom)) rc = assoc__error(db, ASSOC_NOMEM, "oom");
  if (!rc) rc = assoc__exec(db, b.p, p.v, p.n, NULL);
  if (!rc && changed) *changed = db->rows.changes;
  assoc__buf_free(&b);
  assoc__params_free(&p);
  scratch_free(&s);
  return rc;
}

int assoc_model_destroy(assoc_model *m, const assoc_query *q,
                        int64_t *deleted) {
  assoc_db *db;
  assoc_buf b;
  assoc_params p;
  int rc = check_model(m);
  if (rc) return rc;
  db = m->db;
  assoc__buf_init(&b);
  assoc__params_init(&p);
  assoc__buf_puts(&b, "DELETE FROM ");
  assoc__buf_ident(&b, m->table);
  rc = where_clause(m, q, &b, &p);
  if (!rc && (b.oom || p.oom)) rc = assoc__error(db, ASSOC_NOMEM, "oom");
  if (!rc) rc = assoc__exec(db, b.p, p.v, p.n, NULL);
  if (!rc && deleted) *deleted = db->rows.changes;
  assoc__buf_free(&b);
  assoc__params_free(&p);
  return rc;
}

/* ----------------------------------------------------------------- read */

int assoc_model_find(assoc_model *m, const assoc_query *q, assoc_rows **out) {
  assoc_db *db;
  assoc_buf b;
  assoc_params p;
  assoc_colmap *map = NULL;
  size_t nmap = 0, capmap = 0;
  int rc = check_model(m);
  if (rc) return rc;
  db = m->db;
  assoc__buf_init(&b);
  assoc__params_init(&p);
  assoc__buf_puts(&b, "SELECT ");
  rc = assoc__select_list(db, &b, m, NULL, q ? q->attributes : NULL,
                          q ? q->nattributes : 0, &map, &nmap, &capmap);
  if (!rc) {
    assoc__buf_puts(&b, " FROM ");
    assoc__buf_ident(&b, m->table);
    rc = where_clause(m, q, &b, &p);
  }
  if (!rc) rc = assoc__order_limit(db, &b, &p, m, NULL, q);
  if (!rc && (b.oom || p.oom)) rc = assoc__error(db, ASSOC_NOMEM, "oom");
  if (!rc) rc = assoc__exec(db, b.p, p.v, p.n, NULL);
  if (!rc) rc = assoc__rows_apply_map(db, map, nmap);
  if (!rc && out) *out = &db->rows;
  assoc__free(map);
  assoc__buf_free(&b);
  assoc__params_free(&p);
  return rc;
}

int assoc_model_count(assoc_model *m, const assoc_query *q, int64_t *out) {
  assoc_db *db;
  assoc_buf b;
  assoc_params p;
  int rc = check_model(m);
  if (rc) return rc;
  db = m->db;
  assoc__buf_init(&b);
  assoc__params_init(&p);
  assoc__buf_puts(&b, "SELECT COUNT(*) FROM ");
  assoc__buf_ident(&b, m->table);
  rc = where_clause(m, q, &b, &p);
  if (!rc && (b.oom || p.oom)) rc = assoc__error(db, ASSOC_NOMEM, "oom");
  if (!rc) rc = assoc__exec(db, b.p, p.v, p.n, NULL);
  if (!rc) {
    assoc_value v;
    int step = assoc_rows_step(&db->rows);
    if (step != ASSOC_ROW) {
      rc = step == ASSOC_DONE ? ASSOC_ERROR : step;
    } else {
      assoc_rows_value(&db->rows, 0, &v);
      *out = v.kind == ASSOC_INT ? v.u.i : 0;
    }
    assoc__rows_reset(&db->rows);
  }
  assoc__buf_free(&b);
  assoc__params_free(&p);
  return rc;
}
