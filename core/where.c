/*
** where.c: compiles a condition tree into SQL over one model.  Names are
** checked against the model's attributes, every value becomes a bound
** parameter, and IN lists bind as one value so the text depends only on
** the tree's shape.
*/
#include <string.h>

#include "dialect.h"

static const char *op_sql(assoc_op op) {
  switch (op) {
  case ASSOC_OP_EQ: return " = ";
  case ASSOC_OP_NE: return " <> ";
  case ASSOC_OP_GT: return " > ";
  case ASSOC_OP_GTE: return " >= ";
  case ASSOC_OP_LT: return " < ";
  case ASSOC_OP_LTE: return " <= ";
  case ASSOC_OP_LIKE: return " LIKE ";
  case ASSOC_OP_NOT_LIKE: return " NOT LIKE ";
  default: return NULL;
  }
}

static int push_raw(assoc_db *db, assoc_buf *b, assoc_params *p,
                    const assoc_value *v) {
  assoc__params_push(p, v);
  if (p->oom) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  assoc__placeholder(db, b, p->n);
  return ASSOC_OK;
}

static int push_for(assoc_db *db, assoc_buf *b, assoc_params *p,
                    const assoc_model *m, int attr, const assoc_value *v) {
  int rc = assoc__push_attr_value(db, p, m, attr, v);
  if (rc) return rc;
  assoc__placeholder(db, b, p->n);
  return ASSOC_OK;
}

/* Keys of integer and text columns bind as one list; other types (REAL,
** DATE, ...) fall back to one placeholder per value. */
static int list_binds_as_one(assoc_type t) {
  return t == ASSOC_TYPE_INTEGER || t == ASSOC_TYPE_BIGINT ||
         t == ASSOC_TYPE_STRING || t == ASSOC_TYPE_TEXT;
}

static int compile_in(assoc_db *db, assoc_buf *b, assoc_params *p,
                      const assoc_model *m, int attr, const char *alias,
                      const assoc_cond *c) {
  int negate = c->op == ASSOC_OP_NOT_IN;
  assoc_type type = m->attrs[attr].def.type;
  size_t i;
  int rc;
  if (c->nvalues == 0) {
    assoc__buf_puts(b, negate ? "1 = 1" : "1 = 0");
    return ASSOC_OK;
  }
  for (i = 0; i < c->nvalues; i++)
    if (c->values[i].kind == ASSOC_NULL)
      return assoc__error(db, ASSOC_MISUSE, "null inside an IN list of "
                          "%s.%s", m->name, m->attrs[attr].def.name);
  assoc__buf_column(b, alias, assoc__attr_field(m, attr));
  if (list_binds_as_one(type)) {
    rc = assoc__push_key_list(db, p, m, attr, c->values, c->nvalues);
    if (rc) return rc;
    db->dialect->key_list(b, p->n, type, negate);
    return ASSOC_OK;
  }
  assoc__buf_puts(b, negate ? " NOT IN (" : " IN (");
  for (i = 0; i < c->nvalues; i++) {
    if (i) assoc__buf_puts(b, ", ");
    rc = push_for(db, b, p, m, attr, &c->values[i]);
    if (rc) return rc;
  }
  assoc__buf_putc(b, ')');
  return ASSOC_OK;
}

static int compile_cmp(assoc_db *db, assoc_buf *b, assoc_params *p,
                       const assoc_model *m, const char *alias,
                       const assoc_cond *c) {
  int attr = assoc_model_attr_index(m, c->attr);
  const char *op;
  int rc;
  if (attr < 0)
    return assoc__error(db, ASSOC_MISUSE, "unknown attribute '%s' of %s",
                        c->attr ? c->attr : "(null)", m->name);
  if (c->op == ASSOC_OP_IN || c->op == ASSOC_OP_NOT_IN)
    return compile_in(db, b, p, m, attr, alias, c);
  if (c->op == ASSOC_OP_BETWEEN || c->op == ASSOC_OP_NOT_BETWEEN) {
    if (c->nvalues != 2)
      return assoc__error(db, ASSOC_MISUSE, "between on %s.%s needs two "
                          "values", m->name, c->attr);
    assoc__buf_column(b, alias, assoc__attr_field(m, attr));
    assoc__buf_puts(b, c->op == ASSOC_OP_BETWEEN ? " BETWEEN "
                                                 : " NOT BETWEEN ");
    rc = push_for(db, b, p, m, attr, &c->values[0]);
    if (rc) return rc;
    assoc__buf_puts(b, " AND ");
    return push_for(db, b, p, m, attr, &c->values[1]);
  }
  op = op_sql(c->op);
  if (!op)
    return assoc__error(db, ASSOC_MISUSE, "unknown operator %d on %s.%s",
                        (int)c->op, m->name, c->attr);
  if (c->nvalues != 1)
    return assoc__error(db, ASSOC_MISUSE, "one value expected for %s.%s",
                        m->name, c->attr);
  assoc__buf_column(b, alias, assoc__attr_field(m, attr));
  if (c->values[0].kind == ASSOC_NULL &&
      (c->op == ASSOC_OP_EQ || c->op == ASSOC_OP_NE)) {
    assoc__buf_puts(b, c->op == ASSOC_OP_EQ ? " IS NULL" : " IS NOT NULL");
    return ASSOC_OK;
  }
  assoc__buf_puts(b, op);
  /* A LIKE pattern is text whatever the column's type. */
  if (c->op == ASSOC_OP_LIKE || c->op == ASSOC_OP_NOT_LIKE)
    return push_raw(db, b, p, &c->values[0]);
  return push_for(db, b, p, m, attr, &c->values[0]);
}

/* Copy the literal's text, turning each '?' outside quotes into the next
** placeholder. */
static int compile_literal(assoc_db *db, assoc_buf *b, assoc_params *p,
                           const assoc_cond *c) {
  const char *s = c->sql;
  size_t used = 0;
  char quote = 0;
  int rc;
  if (!s) return assoc__error(db, ASSOC_MISUSE, "literal SQL expected");
  assoc__buf_putc(b, '(');
  for (; *s; s++) {
    if (quote) {
      if (*s == quote) quote = 0;
      assoc__buf_putc(b, *s);
    } else if (*s == '\'' || *s == '"') {
      quote = *s;
      assoc__buf_putc(b, *s);
    } else if (*s == '?') {
      if (used == c->nvalues)
        return assoc__error(db, ASSOC_MISUSE, "literal '%s' has more '?' "
                            "than values", c->sql);
      rc = push_raw(db, b, p, &c->values[used++]);
      if (rc) return rc;
    } else {
      assoc__buf_putc(b, *s);
    }
  }
  assoc__buf_putc(b, ')');
  if (used != c->nvalues)
    return assoc__error(db, ASSOC_MISUSE, "literal '%s' has %zu value(s) "
                        "for %zu '?'", c->sql, c->nvalues, used);
  return ASSOC_OK;
}

int assoc__where(assoc_db *db, assoc_buf *b, assoc_params *p,
                 const assoc_model *m, const char *alias,
                 const assoc_cond *c) {
  size_t i;
  int rc;
  if (!c) {
    assoc__buf_puts(b, "1 = 1");
    return ASSOC_OK;
  }
  switch (c->kind) {
  case ASSOC_COND_CMP:
    return compile_cmp(db, b, p, m, alias, c);
  case ASSOC_COND_LITERAL:
    return compile_literal(db, b, p, c);
  case ASSOC_COND_NOT:
    if (c->nchildren != 1)
      return assoc__error(db, ASSOC_MISUSE, "NOT takes one condition");
    assoc__buf_puts(b, "NOT (");
    rc = assoc__where(db, b, p, m, alias, &c->children[0]);
    assoc__buf_putc(b, ')');
    return rc;
  case ASSOC_COND_AND:
  case ASSOC_COND_OR:
    if (c->nchildren == 0) {
      assoc__buf_puts(b, c->kind == ASSOC_COND_AND ? "1 = 1" : "1 = 0");
      return ASSOC_OK;
    }
    assoc__buf_putc(b, '(');
    for (i = 0; i < c->nchildren; i++) {
      if (i) assoc__buf_puts(b, c->kind == ASSOC_COND_AND ? " AND " : " OR ");
      rc = assoc__where(db, b, p, m, alias, &c->children[i]);
      if (rc) return rc;
    }
    assoc__buf_putc(b, ')');
    return ASSOC_OK;
  }
  return assoc__error(db, ASSOC_MISUSE, "unknown condition kind %d",
                      (int)c->kind);
}
