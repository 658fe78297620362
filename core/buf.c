/*
** buf.c: the growable string that SQL is written into, and the vector of
** bound parameters.  Both remember an allocation failure instead of
** reporting each append, so generators check once at the end.
*/
#include <stdio.h>
#include <string.h>

#include "internal.h"

void assoc__buf_init(assoc_buf *b) { memset(b, 0, sizeof *b); }

void assoc__buf_free(assoc_buf *b) {
  assoc__free(b->p);
  assoc__buf_init(b);
}

void assoc__buf_reset(assoc_buf *b) {
  b->n = 0;
  b->oom = 0;
  if (b->p) b->p[0] = '\0';
}

static int buf_reserve(assoc_buf *b, size_t extra) {
  size_t need = b->n + extra + 1, cap;
  char *p;
  if (b->oom) return 0;
  if (need <= b->cap) return 1;
  cap = b->cap ? b->cap : 128;
  while (cap < need) cap *= 2;
  p = assoc__realloc(b->p, cap);
  if (!p) {
    b->oom = 1;
    return 0;
  }
  b->p = p;
  b->cap = cap;
  return 1;
}

void assoc__buf_putn(assoc_buf *b, const char *s, size_t n) {
  if (!buf_reserve(b, n)) return;
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

void assoc__buf_puts(assoc_buf *b, const char *s) {
  assoc__buf_putn(b, s, strlen(s));
}

void assoc__buf_putc(assoc_buf *b, char c) {
  if (!b->oom && b->n + 2 <= b->cap) {    /* the common case, inline */
    b->p[b->n++] = c;
    b->p[b->n] = '\0';
    return;
  }
  assoc__buf_putn(b, &c, 1);
}

size_t assoc__int_decimal(char out[ASSOC_INT_DECIMAL_MAX], int64_t v) {
  char tmp[ASSOC_INT_DECIMAL_MAX], *p = tmp + sizeof tmp;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  size_t n;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--p = '-';
  n = (size_t)(tmp + sizeof tmp - p);
  memcpy(out, p, n);
  return n;
}

void assoc__buf_put_int(assoc_buf *b, int64_t v) {
  char tmp[ASSOC_INT_DECIMAL_MAX];
  assoc__buf_putn(b, tmp, assoc__int_decimal(tmp, v));
}

void assoc__buf_printf(assoc_buf *b, const char *fmt, ...) {
  char small[128];
  va_list ap;
  int len;
  va_start(ap, fmt);
  len = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (len < 0) return;
  if ((size_t)len < sizeof small) {
    assoc__buf_putn(b, small, (size_t)len);
    return;
  }
  if (!buf_reserve(b, (size_t)len)) return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
  va_end(ap);
  b->n += (size_t)len;
}

void assoc__buf_ident(assoc_buf *b, const char *s) {
  const char *q;
  assoc__buf_putc(b, '"');
  /* Copied in runs up to each embedded quote, which is doubled. */
  while ((q = strchr(s, '"')) != NULL) {
    assoc__buf_putn(b, s, (size_t)(q - s) + 1);
    assoc__buf_putc(b, '"');
    s = q + 1;
  }
  assoc__buf_puts(b, s);
  assoc__buf_putc(b, '"');
}

void assoc__buf_column(assoc_buf *b, const char *alias, const char *ident) {
  if (alias) {
    assoc__buf_ident(b, alias);
    assoc__buf_putc(b, '.');
  }
  assoc__buf_ident(b, ident);
}

void assoc__buf_table_as(assoc_buf *b, const char *table, const char *alias) {
  assoc__buf_ident(b, table);
  assoc__buf_puts(b, " AS ");
  assoc__buf_ident(b, alias);
}

char *assoc__buf_take(assoc_buf *b) {
  char *p;
  if (b->oom || !buf_reserve(b, 0)) {
    assoc__buf_free(b);
    return NULL;
  }
  p = b->p;
  assoc__buf_init(b);
  return p;
}

/* ---------------------------------------------------------------- params */

void assoc__params_init(assoc_params *p) { memset(p, 0, sizeof *p); }

void assoc__params_reset(assoc_params *p) {
  size_t i;
  for (i = 0; i < p->nowned; i++) assoc__free(p->owned[i]);
  p->nowned = 0;
  p->n = 0;
  p->oom = 0;
}

void assoc__params_free(assoc_params *p) {
  assoc__params_reset(p);
  assoc__free(p->v);
  assoc__free(p->owned);
  assoc__params_init(p);
}

void assoc__params_push(assoc_params *p, const assoc_value *v) {
  if (p->oom) return;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    assoc_value *nv = assoc__realloc(p->v, cap * sizeof *nv);
    if (!nv) {
      p->oom = 1;
      return;
    }
    p->v = nv;
    p->cap = cap;
  }
  p->v[p->n++] = *v;
}

void assoc__params_push_int(assoc_params *p, int64_t i) {
  assoc_value v;
  v.kind = ASSOC_INT;
  v.u.i = i;
  assoc__params_push(p, &v);
}

void assoc__params_push_text_copy(assoc_params *p, const char *s, size_t n) {
  assoc_value v;
  char *copy;
  if (p->oom) return;
  if (p->nowned == p->capowned) {
    size_t cap = p->capowned ? p->capowned * 2 : 8;
    char **no = assoc__realloc(p->owned, cap * sizeof *no);
    if (!no) {
      p->oom = 1;
      return;
    }
    p->owned = no;
    p->capowned = cap;
  }
  copy = assoc__strndup(s, n);
  if (!copy) {
    p->oom = 1;
    return;
  }
  p->owned[p->nowned++] = copy;
  v.kind = ASSOC_TEXT;
  v.u.s.p = copy;
  v.u.s.n = n;
  assoc__params_push(p, &v);
}
