/*
** schema.c: CREATE TABLE for a model (columns, keys, foreign keys with
** their actions), and sync/drop in foreign-key order so that every
** REFERENCES names a table that already exists.
*/
#include <string.h>
#include <strings.h>

#include "dialect.h"

static const char *const actions[] = {
  "CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION"
};

/* Referential actions come from user options: only the five SQL names
** may reach the statement. */
static const char *action_sql(const char *a) {
  size_t i;
  if (!a) return NULL;
  for (i = 0; i < sizeof actions / sizeof actions[0]; i++)
    if (strcasecmp(a, actions[i]) == 0) return actions[i];
  return NULL;
}

int assoc__valid_action(const char *a) { return action_sql(a) != NULL; }

/* DEFAULT clauses are the one place a value cannot be a bound parameter
** (DDL takes none), so a default is written as a literal: numbers in C's
** own format, text with quotes doubled (the standard escaping, right on
** SQLite and on PostgreSQL with standard_conforming_strings).  Text with
** a NUL byte, blobs and JSON get no DDL default; inserts through assoc
** still bind them. */
static void default_sql(assoc_db *db, assoc_buf *b, const assoc_attr *a) {
  const assoc_value *v = &a->default_value;
  size_t i;
  if (a->has_default != 1) return;
  switch (v->kind) {
  case ASSOC_NULL:
    return;
  case ASSOC_INT:
    if (a->def.type == ASSOC_TYPE_BOOLEAN)
      assoc__buf_printf(b, " DEFAULT %s",
                        db->dialect->bool_literal(v->u.i != 0));
    else if (a->def.type != ASSOC_TYPE_DATE)
      assoc__buf_printf(b, " DEFAULT %lld", (long long)v->u.i);
    return;
  case ASSOC_REAL:
    if (v->u.r == v->u.r && a->def.type == ASSOC_TYPE_REAL)
      assoc__buf_printf(b, " DEFAULT %.17g", v->u.r);
    return;
  case ASSOC_BOOL:
    if (a->def.type == ASSOC_TYPE_BOOLEAN)
      assoc__buf_printf(b, " DEFAULT %s", db->dialect->bool_literal(v->u.b));
    return;
  case ASSOC_TEXT:
    if (a->def.type != ASSOC_TYPE_STRING && a->def.type != ASSOC_TYPE_TEXT &&
        a->def.type != ASSOC_TYPE_DATE)
      return;
    if (memchr(v->u.s.p, '\0', v->u.s.n)) return;
    assoc__buf_puts(b, " DEFAULT '");
    for (i = 0; i < v->u.s.n; i++) {
      if (v->u.s.p[i] == '\'') assoc__buf_putc(b, '\'');
      assoc__buf_putc(b, v->u.s.p[i]);
    }
    assoc__buf_putc(b, '\'');
    return;
  case ASSOC_BLOB:
    return;
  }
}

char *assoc__create_table_sql(assoc_db *db, const assoc_model *m) {
  assoc_buf b;
  size_t i;
  int inline_pk = 0;
  assoc__buf_init(&b);
  assoc__buf_puts(&b, "CREATE TABLE IF NOT EXISTS ");
  assoc__buf_ident(&b, m->table);
  assoc__buf_puts(&b, " (");
  for (i = 0; i < m->nattrs; i++) {
    const assoc_attr *a = &m->attrs[i];
    int serial = (int)i == m->pk && a->def.auto_increment, in_pk = 0;
    if (i) assoc__buf_puts(&b, ", ");
    assoc__buf_ident(&b, a->def.field);
    assoc__buf_putc(&b, ' ');
    db->dialect->column_type(&b, &a->def, serial, &in_pk);
    if (in_pk) inline_pk = 1;
    if (a->def.not_null || (int)i == m->pk || (int)i == m->pk_pair[0] ||
        (int)i == m->pk_pair[1])
      assoc__buf_puts(&b, " NOT NULL");
    if (a->def.unique && (int)i != m->pk) assoc__buf_puts(&b, " UNIQUE");
    default_sql(db, &b, a);
    if (a->references_table) {
      const char *del = action_sql(a->on_delete);
      const char *upd = action_sql(a->on_update);
      assoc__buf_puts(&b, " REFERENCES ");
      assoc__buf_ident(&b, a->references_table);
      assoc__buf_puts(&b, " (");
      assoc__buf_ident(&b, a->references_column ? a->references_column
                                                : "id");
      assoc__buf_putc(&b, ')');
      if (del) assoc__buf_printf(&b, " ON DELETE %s", del);
      if (upd) assoc__buf_printf(&b, " ON UPDATE %s", upd);
    }
  }
  if (m->pk >= 0 && !inline_pk) {
    assoc__buf_puts(&b, ", PRIMARY KEY (");
    assoc__buf_ident(&b, m->attrs[m->pk].def.field);
    assoc__buf_putc(&b, ')');
  } else if (m->pk < 0 && m->pk_pair[0] >= 0 && m->pk_pair[1] >= 0) {
    assoc__buf_puts(&b, ", PRIMARY KEY (");
    assoc__buf_ident(&b, m->attrs[m->pk_pair[0]].def.field);
    assoc__buf_puts(&b, ", ");
    assoc__buf_ident(&b, m->attrs[m->pk_pair[1]].def.field);
    assoc__buf_putc(&b, ')');
  }
  if (m->unique_pair[0] >= 0 && m->unique_pair[1] >= 0) {
    assoc__buf_puts(&b, ", UNIQUE (");
    assoc__buf_ident(&b, m->attrs[m->unique_pair[0]].def.field);
    assoc__buf_puts(&b, ", ");
    assoc__buf_ident(&b, m->attrs[m->unique_pair[1]].def.field);
    assoc__buf_putc(&b, ')');
  }
  assoc__buf_putc(&b, ')');
  return assoc__buf_take(&b);
}

static int drop_one(assoc_model *m) {
  assoc_buf b;
  int rc;
  assoc__buf_init(&b);
  assoc__buf_puts(&b, "DROP TABLE IF EXISTS ");
  assoc__buf_ident(&b, m->table);
  rc = b.oom ? assoc__error(m->db, ASSOC_NOMEM, "out of memory")
             : assoc__exec_simple(m->db, b.p);
  assoc__buf_free(&b);
  return rc;
}

static int create_one(assoc_model *m) {
  char *sql = assoc__create_table_sql(m->db, m);
  int rc;
  if (!sql) return assoc__error(m->db, ASSOC_NOMEM, "out of memory");
  rc = assoc__exec_simple(m->db, sql);
  assoc__free(sql);
  return rc;
}

int assoc_model_drop(assoc_model *m) {
  int rc;
  if (!m) return ASSOC_MISUSE;
  rc = assoc__check_open(m->db);
  return rc ? rc : drop_one(m);
}

int assoc_model_sync(assoc_model *m, int force) {
  int rc;
  if (!m) return ASSOC_MISUSE;
  rc = assoc__check_open(m->db);
  if (!rc && force) rc = drop_one(m);
  return rc ? rc : create_one(m);
}

/* Does m reference a table of a model not yet placed?  (Self references
** do not count.) */
static int depends_on_unplaced(const assoc_db *db, const assoc_model *m,
                               const unsigned char *placed) {
  size_t i, j;
  for (i = 0; i < m->nattrs; i++) {
    const char *t = m->attrs[i].references_table;
    if (!t || strcmp(t, m->table) == 0) continue;
    for (j = 0; j < db->nmodels; j++)
      if (!placed[j] && strcmp(db->models[j]->table, t) == 0) return 1;
  }
  return 0;
}

/* Models in an order where each comes after the tables it references;
** a cycle falls back to definition order for what is left. */
static int fk_order(assoc_db *db, size_t *order) {
  unsigned char *placed = assoc__malloc(db->nmodels + 1);
  size_t n = 0, i;
  if (!placed) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  memset(placed, 0, db->nmodels + 1);
  while (n < db->nmodels) {
    int progress = 0;
    for (i = 0; i < db->nmodels; i++) {
      if (placed[i] || depends_on_unplaced(db, db->models[i], placed))
        continue;
      placed[i] = 1;
      order[n++] = i;
      progress = 1;
    }
    if (!progress) {
      for (i = 0; i < db->nmodels; i++)
        if (!placed[i]) {
          placed[i] = 1;
          order[n++] = i;
          break;
        }
    }
  }
  assoc__free(placed);
  return ASSOC_OK;
}

int assoc_db_sync(assoc_db *db, int force) {
  size_t *order, i;
  int rc = assoc__check_open(db);
  if (rc) return rc;
  if (db->nmodels == 0) return ASSOC_OK;
  order = assoc__malloc(db->nmodels * sizeof *order);
  if (!order) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  rc = fk_order(db, order);
  for (i = db->nmodels; !rc && force && i-- > 0;)
    rc = drop_one(db->models[order[i]]);
  for (i = 0; !rc && i < db->nmodels; i++)
    rc = create_one(db->models[order[i]]);
  assoc__free(order);
  return rc;
}
