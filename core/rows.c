/*
** rows.c: the result cursor.  Values come back converted to the type of the
** attribute a column holds (SQLite's 0/1 as booleans, numbers stored in
** text columns as text), so both databases read back alike.
*/
#include <stdio.h>
#include <string.h>

#include "dialect.h"

void assoc__rows_reset(assoc_rows *rows) {
  if (rows->db && rows->db->dialect && rows->state != 0 && rows->db->conn)
    rows->db->dialect->reset(rows);
  rows->stmt = NULL;
  rows->state = 0;
  rows->pending = 0;
  rows->changes = 0;
  rows->ncols = 0;
  rows->vconst.kind = ASSOC_NULL;
  rows->row = 0;
  if (rows->map) memset(rows->map, 0, rows->capmap * sizeof *rows->map);
}

static int ensure_map(assoc_rows *rows, size_t n) {
  if (n <= rows->capmap) return ASSOC_OK;
  {
    size_t cap = rows->capmap ? rows->capmap : 16;
    assoc_colmap *m;
    while (cap < n) cap *= 2;
    m = assoc__realloc(rows->map, cap * sizeof *m);
    if (!m) return ASSOC_NOMEM;
    memset(m + rows->capmap, 0, (cap - rows->capmap) * sizeof *m);
    rows->map = m;
    rows->capmap = cap;
  }
  return ASSOC_OK;
}

int assoc__rows_map(assoc_rows *rows, size_t i, const assoc_model *m,
                    int attr) {
  if (ensure_map(rows, i + 1))
    return assoc__error(rows->db, ASSOC_NOMEM, "out of memory");
  rows->map[i].model = m;
  rows->map[i].attr = attr;
  rows->map[i].from = 0;
  return ASSOC_OK;
}

int assoc__rows_add_virtual(assoc_rows *rows, const assoc_model *m, int attr,
                            int from) {
  size_t i = rows->ncols;
  /* a repeat names a driver column: one before, not itself virtual */
  if (from > 0 && ((size_t)from > i || (rows->map && (size_t)from <=
                   rows->capmap && rows->map[from - 1].from != 0)))
    return assoc__error(rows->db, ASSOC_MISUSE, "no column %d to repeat",
                        from);
  if (ensure_map(rows, i + 1))
    return assoc__error(rows->db, ASSOC_NOMEM, "out of memory");
  rows->map[i].model = m;
  rows->map[i].attr = attr;
  rows->map[i].from = from;
  rows->ncols = i + 1;
  return ASSOC_OK;
}

int assoc__rows_set_const(assoc_rows *rows, const assoc_value *v) {
  rows->vconst = *v;
  if (v->kind == ASSOC_TEXT || v->kind == ASSOC_BLOB) {
    if (rows->capvconst < v->u.s.n + 1) {
      char *buf = assoc__realloc(rows->vconst_buf, v->u.s.n + 1);
      if (!buf) {
        rows->vconst.kind = ASSOC_NULL;
        return assoc__error(rows->db, ASSOC_NOMEM, "out of memory");
      }
      rows->vconst_buf = buf;
      rows->capvconst = v->u.s.n + 1;
    }
    if (v->u.s.n > 0) memcpy(rows->vconst_buf, v->u.s.p, v->u.s.n);
    rows->vconst_buf[v->u.s.n] = '\0';
    rows->vconst.u.s.p = rows->vconst_buf;
  }
  return ASSOC_OK;
}

int assoc__rows_apply_map(assoc_db *db, const assoc_colmap *map, size_t n) {
  assoc_rows *rows = &db->rows;
  if (ensure_map(rows, n))
    return assoc__error(db, ASSOC_NOMEM, "out of memory");
  memcpy(rows->map, map, n * sizeof *map);
  return ASSOC_OK;
}

int assoc_rows_step(assoc_rows *rows) {
  int rc;
  if (!rows || !rows->db) return ASSOC_MISUSE;
  if (!rows->db->open) return assoc__check_open(rows->db);
  if (rows->state == 0) return ASSOC_DONE;
  rc = rows->db->dialect->step(rows);
  if (rc != ASSOC_ROW) rows->state = ASSOC_DONE;
  return rc;
}

size_t assoc_rows_column_count(const assoc_rows *rows) {
  return rows && rows->state ? rows->ncols : 0;
}

const char *assoc_rows_column_name(const assoc_rows *rows, size_t i) {
  if (!rows || !rows->state || i >= rows->ncols) return NULL;
  if (i < rows->capmap && rows->map[i].from != 0)  /* virtual: its field */
    return assoc__attr_field(rows->map[i].model, rows->map[i].attr);
  return rows->db->dialect->column_name((assoc_rows *)rows, i);
}

int assoc_rows_column_attr(const assoc_rows *rows, size_t i,
                           const assoc_model **model) {
  if (model) *model = NULL;
  if (!rows || i >= rows->ncols || i >= rows->capmap || !rows->map[i].model)
    return -1;
  if (model) *model = rows->map[i].model;
  return rows->map[i].attr;
}

static int scratch_text(assoc_rows *rows, const char *fmt, assoc_value *v) {
  char tmp[64];
  size_t n;
  if (v->kind == ASSOC_INT)
    snprintf(tmp, sizeof tmp, fmt, (long long)v->u.i);
  else
    snprintf(tmp, sizeof tmp, "%.17g", v->u.r);
  n = strlen(tmp);
  if (rows->capscratch < n + 1) {
    char *s = assoc__realloc(rows->scratch, 64);
    if (!s) return ASSOC_NOMEM;
    rows->scratch = s;
    rows->capscratch = 64;
  }
  memcpy(rows->scratch, tmp, n + 1);
  v->kind = ASSOC_TEXT;
  v->u.s.p = rows->scratch;
  v->u.s.n = n;
  return ASSOC_OK;
}

/* Convert a raw driver value to what the attribute's type reads as. */
static int convert(assoc_rows *rows, const assoc_attr_def *def,
                   assoc_value *v) {
  if (v->kind == ASSOC_NULL) return ASSOC_OK;
  switch (def->type) {
  case ASSOC_TYPE_BOOLEAN:
    if (v->kind == ASSOC_INT) {
      v->kind = ASSOC_BOOL;
      v->u.b = v->u.i != 0;
    } else if (v->kind == ASSOC_TEXT) {
      v->kind = ASSOC_BOOL;
      v->u.b = v->u.s.n > 0 && (v->u.s.p[0] == 't' || v->u.s.p[0] == '1');
    }
    break;
  case ASSOC_TYPE_INTEGER:
  case ASSOC_TYPE_BIGINT:
    if (v->kind == ASSOC_REAL && v->u.r == (double)(int64_t)v->u.r) {
      v->kind = ASSOC_INT;
      v->u.i = (int64_t)v->u.r;
    }
    break;
  case ASSOC_TYPE_REAL:
    if (v->kind == ASSOC_INT) {
      v->kind = ASSOC_REAL;
      v->u.r = (double)v->u.i;
    }
    break;
  case ASSOC_TYPE_STRING:
  case ASSOC_TYPE_TEXT:
  case ASSOC_TYPE_JSON:
  case ASSOC_TYPE_DATE:
    if (v->kind == ASSOC_INT || v->kind == ASSOC_REAL)
      return scratch_text(rows, "%lld", v);
    if (v->kind == ASSOC_BLOB) v->kind = ASSOC_TEXT;
    break;
  case ASSOC_TYPE_BLOB:
    if (v->kind == ASSOC_TEXT) v->kind = ASSOC_BLOB;
    break;
  }
  return ASSOC_OK;
}

int assoc_rows_value(assoc_rows *rows, size_t i, assoc_value *out) {
  const assoc_model *m;
  int attr, rc = ASSOC_OK;
  if (!rows || rows->state != ASSOC_ROW || i >= rows->ncols) {
    out->kind = ASSOC_NULL;
    return ASSOC_MISUSE;
  }
  if (i < rows->capmap && rows->map[i].from != 0) {
    if (rows->map[i].from == ASSOC_COL_CONST) *out = rows->vconst;
    else rc = rows->db->dialect->column(rows, (size_t)rows->map[i].from - 1,
                                        out);
  } else {
    rc = rows->db->dialect->column(rows, i, out);
  }
  if (rc) return rc;
  attr = assoc_rows_column_attr(rows, i, &m);
  if (attr < 0) return ASSOC_OK;
  rc = convert(rows, &m->attrs[attr].def, out);
  return rc ? assoc__error(rows->db, rc, "out of memory") : ASSOC_OK;
}

int64_t assoc_rows_changes(const assoc_rows *rows) {
  return rows ? rows->changes : 0;
}
