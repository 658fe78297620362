/*
** value.c: converting values to what an attribute stores.  Keys given as
** strings become integers ("2" is 2), Unix seconds become ISO dates, and a
** list of keys becomes one bound value, de-duplicated, so statements never
** depend on list length.
*/
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dialect.h"

static const char *kind_name(assoc_kind k) {
  switch (k) {
  case ASSOC_NULL: return "null";
  case ASSOC_INT: return "integer";
  case ASSOC_REAL: return "number";
  case ASSOC_BOOL: return "boolean";
  case ASSOC_TEXT: return "string";
  case ASSOC_BLOB: return "blob";
  }
  return "value";
}

static int bad_value(assoc_db *db, const assoc_model *m, int attr,
                     const assoc_value *v, const char *want) {
  return assoc__error(db, ASSOC_MISUSE, "%s expected for %s.%s, got %s",
                      want, m->name, m->attrs[attr].def.name,
                      kind_name(v->kind));
}

/* Parse the whole of (p, n) as a decimal integer. */
static int parse_int(const char *p, size_t n, int64_t *out) {
  char tmp[32], *end;
  long long x;
  if (n == 0 || n >= sizeof tmp) return 0;
  memcpy(tmp, p, n);
  tmp[n] = '\0';
  errno = 0;
  x = strtoll(tmp, &end, 10);
  if (errno || *end || end == tmp) return 0;
  *out = x;
  return 1;
}

static int parse_real(const char *p, size_t n, double *out) {
  char tmp[64], *end;
  if (n == 0 || n >= sizeof tmp) return 0;
  memcpy(tmp, p, n);
  tmp[n] = '\0';
  *out = strtod(tmp, &end);
  return *end == '\0' && end != tmp;
}

static void iso_from_seconds(double secs, char buf[32]) {
  time_t t = (time_t)floor(secs);
  int ms = (int)((secs - floor(secs)) * 1000.0 + 0.5);
  struct tm tm;
  if (ms >= 1000) {
    t += 1;
    ms -= 1000;
  }
  char wide[96];
  gmtime_r(&t, &tm);
  snprintf(wide, sizeof wide, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, ms);
  memcpy(buf, wide, 31);
  buf[31] = '\0';
}

/* Read n digits at *s into *out. */
static int read_digits(const char **s, const char *end, int n, int *out) {
  int v = 0;
  while (n-- > 0) {
    if (*s >= end || **s < '0' || **s > '9') return 0;
    v = v * 10 + (*(*s)++ - '0');
  }
  *out = v;
  return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* Parse ISO 8601 "YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[:]MM]" (no
** zone means UTC) into Unix seconds.  Both databases then store the one
** normal form, so dates compare and sort as text on SQLite. */
static int parse_iso(const char *s, size_t n, double *secs) {
  const char *end = s + n;
  int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
  double frac = 0;
  if (!read_digits(&s, end, 4, &y) || s >= end || *s++ != '-' ||
      !read_digits(&s, end, 2, &mo) || s >= end || *s++ != '-' ||
      !read_digits(&s, end, 2, &d))
    return 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return 0;
  if (s < end && (*s == 'T' || *s == ' ')) {
    s++;
    if (!read_digits(&s, end, 2, &h) || s >= end || *s++ != ':' ||
        !read_digits(&s, end, 2, &mi))
      return 0;
    if (s < end && *s == ':') {
      s++;
      if (!read_digits(&s, end, 2, &sec)) return 0;
      if (s < end && *s == '.') {
        double scale = 0.1;
        s++;
        if (s >= end || *s < '0' || *s > '9') return 0;
        while (s < end && *s >= '0' && *s <= '9') {
          frac += (*s++ - '0') * scale;
          scale /= 10;
        }
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return 0;
    if (s < end && (*s == 'Z' || *s == 'z')) {
      s++;
    } else if (s < end && (*s == '+' || *s == '-')) {
      sign = *s++ == '-' ? -1 : 1;
      if (!read_digits(&s, end, 2, &oh)) return 0;
      if (s < end && *s == ':') s++;
      if (s < end && !read_digits(&s, end, 2, &om)) return 0;
      if (oh > 23 || om > 59) return 0;
    }
  }
  if (s != end) return 0;
  *secs = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600 + mi * 60 +
          sec + frac - sign * (oh * 3600 + om * 60);
  return 1;
}

void assoc__now_iso(char buf[32]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  iso_from_seconds((double)ts.tv_sec + ts.tv_nsec / 1e9, buf);
}

/* Convert v for attribute attr into *out; text made here goes to tmp. */
static int coerce(assoc_db *db, const assoc_model *m, int attr,
                  const assoc_value *v, assoc_value *out, char tmp[64]) {
  assoc_type type = m->attrs[attr].def.type;
  *out = *v;
  if (v->kind == ASSOC_NULL) return ASSOC_OK;
  switch (type) {
  case ASSOC_TYPE_INTEGER:
  case ASSOC_TYPE_BIGINT:
    if (v->kind == ASSOC_INT) return ASSOC_OK;
    out->kind = ASSOC_INT;
    if (v->kind == ASSOC_REAL && v->u.r == floor(v->u.r) &&
        fabs(v->u.r) < 9.2e18) {
      out->u.i = (int64_t)v->u.r;
      return ASSOC_OK;
    }
    if (v->kind == ASSOC_TEXT && parse_int(v->u.s.p, v->u.s.n, &out->u.i))
      return ASSOC_OK;
    return bad_value(db, m, attr, v, "integer");
  case ASSOC_TYPE_REAL:
    if (v->kind == ASSOC_REAL) return ASSOC_OK;
    out->kind = ASSOC_REAL;
    if (v->kind == ASSOC_INT) {
      out->u.r = (double)v->u.i;
      return ASSOC_OK;
    }
    if (v->kind == ASSOC_TEXT && parse_real(v->u.s.p, v->u.s.n, &out->u.r))
      return ASSOC_OK;
    return bad_value(db, m, attr, v, "number");
  case ASSOC_TYPE_BOOLEAN:
    if (v->kind == ASSOC_BOOL) return ASSOC_OK;
    if (v->kind == ASSOC_INT && (v->u.i == 0 || v->u.i == 1)) {
      out->kind = ASSOC_BOOL;
      out->u.b = (int)v->u.i;
      return ASSOC_OK;
    }
    return bad_value(db, m, attr, v, "boolean");
  case ASSOC_TYPE_DATE:
    if (v->kind == ASSOC_INT || v->kind == ASSOC_REAL ||
        v->kind == ASSOC_TEXT) {
      double secs;
      if (v->kind == ASSOC_TEXT) {
        if (!parse_iso(v->u.s.p, v->u.s.n, &secs))
          return assoc__error(db, ASSOC_MISUSE, "ISO 8601 date expected for "
                              "%s.%s, got '%.*s'", m->name,
                              m->attrs[attr].def.name,
                              (int)(v->u.s.n > 64 ? 64 : v->u.s.n),
                              v->u.s.p);
      } else {
        secs = v->kind == ASSOC_INT ? (double)v->u.i : v->u.r;
      }
      iso_from_seconds(secs, tmp);
      out->kind = ASSOC_TEXT;
      out->u.s.p = tmp;
      out->u.s.n = strlen(tmp);
      return ASSOC_OK;
    }
    return bad_value(db, m, attr, v, "date string or number");
  case ASSOC_TYPE_STRING:
  case ASSOC_TYPE_TEXT:
    if (v->kind == ASSOC_TEXT) return ASSOC_OK;
    if (v->kind == ASSOC_INT || v->kind == ASSOC_REAL) {
      if (v->kind == ASSOC_INT)
        snprintf(tmp, 64, "%lld", (long long)v->u.i);
      else
        snprintf(tmp, 64, "%.17g", v->u.r);
      out->kind = ASSOC_TEXT;
      out->u.s.p = tmp;
      out->u.s.n = strlen(tmp);
      return ASSOC_OK;
    }
    return bad_value(db, m, attr, v, "string");
  case ASSOC_TYPE_BLOB:
    if (v->kind == ASSOC_TEXT || v->kind == ASSOC_BLOB) {
      out->kind = ASSOC_BLOB;
      return ASSOC_OK;
    }
    return bad_value(db, m, attr, v, "string");
  case ASSOC_TYPE_JSON:
    if (v->kind == ASSOC_TEXT) return ASSOC_OK;
    return bad_value(db, m, attr, v, "JSON text");
  }
  return ASSOC_OK;
}

int assoc__push_attr_value(assoc_db *db, assoc_params *p,
                           const assoc_model *m, int attr,
                           const assoc_value *v) {
  char tmp[64];
  assoc_value out;
  int rc = coerce(db, m, attr, v, &out, tmp);
  if (rc != ASSOC_OK) return rc;
  if (out.kind == ASSOC_TEXT && out.u.s.p == tmp)
    assoc__params_push_text_copy(p, out.u.s.p, out.u.s.n);
  else
    assoc__params_push(p, &out);
  return p->oom ? assoc__error(db, ASSOC_NOMEM, "out of memory") : ASSOC_OK;
}

static int key_cmp(const void *pa, const void *pb) {
  const assoc_value *a = pa, *b = pb;
  size_t n;
  int c;
  if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
  if (a->kind == ASSOC_INT)
    return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
  if (a->kind == ASSOC_REAL)
    return a->u.r < b->u.r ? -1 : a->u.r > b->u.r;
  if (a->kind == ASSOC_BOOL) return !a->u.b - !b->u.b;
  if (a->kind == ASSOC_NULL) return 0;
  n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
  c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
  if (c) return c;
  return a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n;
}

int assoc__value_equal(const assoc_value *a, const assoc_value *b) {
  if (a->kind == ASSOC_NULL || b->kind == ASSOC_NULL)
    return a->kind == b->kind;
  if (a->kind == ASSOC_BOOL || b->kind == ASSOC_BOOL)
    return a->kind == b->kind && !a->u.b == !b->u.b;
  return key_cmp(a, b) == 0;
}

/* Sort keys by key_cmp: a merge sort through tmp (n entries), with
** integer keys, the usual kind, compared inline.  qsort's indirect calls
** cost more than the comparisons here. */
static int key_before(const assoc_value *a, const assoc_value *b) {
  if (a->kind == ASSOC_INT && b->kind == ASSOC_INT) return a->u.i < b->u.i;
  return key_cmp(a, b) < 0;
}

static void sort_keys(assoc_value *v, assoc_value *tmp, size_t n) {
  size_t width, i;
  assoc_value *src = v, *dst = tmp, *t;
  /* runs of 8 by insertion, then merged pairwise */
  for (i = 0; i < n; i += 8) {
    size_t end = i + 8 < n ? i + 8 : n, j, k;
    for (j = i + 1; j < end; j++) {
      assoc_value x = v[j];
      for (k = j; k > i && key_before(&x, &v[k - 1]); k--) v[k] = v[k - 1];
      v[k] = x;
    }
  }
  for (width = 8; width < n; width *= 2) {
    for (i = 0; i < n; i += 2 * width) {
      size_t a = i, mid = i + width < n ? i + width : n;
      size_t b = mid, end = i + 2 * width < n ? i + 2 * width : n, k = i;
      while (a < mid && b < end)
        dst[k++] = key_before(&src[b], &src[a]) ? src[b++] : src[a++];
      while (a < mid) dst[k++] = src[a++];
      while (b < end) dst[k++] = src[b++];
    }
    t = src;
    src = dst;
    dst = t;
  }
  if (src != v) memcpy(v, src, n * sizeof *v);
}

int assoc__coerce_keys(assoc_db *db, const assoc_model *m, int attr,
                       const assoc_value *keys, size_t n,
                       assoc_value **out, size_t *nout, assoc_params *hold) {
  assoc_value *copy;
  size_t i, j;
  char tmp[64];
  int rc;
  *out = NULL;
  *nout = 0;
  if (n == 0) return ASSOC_OK;
  /* twice: the second half is the sort's scratch */
  copy = assoc__malloc(2 * n * sizeof *copy);
  if (!copy) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  for (i = 0; i < n; i++) {
    if (keys[i].kind == ASSOC_NULL) {
      assoc__free(copy);
      return assoc__error(db, ASSOC_MISUSE, "%s.%s key expected, got null",
                          m->name, m->attrs[attr].def.name);
    }
    rc = coerce(db, m, attr, &keys[i], &copy[i], tmp);
    if (rc != ASSOC_OK) {
      assoc__free(copy);
      return rc;
    }
    if (copy[i].kind == ASSOC_TEXT && copy[i].u.s.p == tmp) {
      /* A converted text key must outlive tmp: park it in hold. */
      assoc__params_push_text_copy(hold, tmp, copy[i].u.s.n);
      if (hold->oom) {
        assoc__free(copy);
        return assoc__error(db, ASSOC_NOMEM, "out of memory");
      }
      copy[i] = hold->v[hold->n - 1];
    }
  }
  sort_keys(copy, copy + n, n);
  for (i = 1, j = 1; i < n; i++)
    if (key_cmp(&copy[i], &copy[j - 1]) != 0) copy[j++] = copy[i];
  *out = copy;
  *nout = j;
  return ASSOC_OK;
}

int assoc__push_key_list_n(assoc_db *db, assoc_params *p,
                           const assoc_model *m, int attr,
                           const assoc_value *keys, size_t n,
                           size_t *nunique) {
  assoc_params hold;
  assoc_value *uniq;
  size_t nu;
  assoc_buf enc;
  int rc;
  assoc__params_init(&hold);
  rc = assoc__coerce_keys(db, m, attr, keys, n, &uniq, &nu, &hold);
  if (rc != ASSOC_OK) {
    assoc__params_free(&hold);
    return rc;
  }
  assoc__buf_init(&enc);
  rc = db->dialect->encode_key_list(&enc, uniq, nu);
  if (rc == ASSOC_OK && enc.oom) rc = ASSOC_NOMEM;
  if (rc == ASSOC_OK) {
    assoc__params_push_text_copy(p, enc.p ? enc.p : "", enc.n);
    if (p->oom) rc = ASSOC_NOMEM;
  }
  assoc__buf_free(&enc);
  assoc__free(uniq);
  assoc__params_free(&hold);
  if (nunique) *nunique = nu;
  if (rc == ASSOC_NOMEM) return assoc__error(db, rc, "out of memory");
  if (rc)
    return assoc__error(db, rc, "keys of %s.%s cannot be sent as a list "
                        "(a text key that is not UTF-8, or a blob key)",
                        m->name, m->attrs[attr].def.name);
  return rc;
}

int assoc__push_key_list(assoc_db *db, assoc_params *p, const assoc_model *m,
                         int attr, const assoc_value *keys, size_t n) {
  return assoc__push_key_list_n(db, p, m, attr, keys, n, NULL);
}
