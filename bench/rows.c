/*
** rows.c: the raw C programs' materialised rows (see rows.h).
*/
#include "rows.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Copies n strings after the fixed part of a row of size head. */
static void *pack(size_t head, size_t n, const char *const *s,
                  const size_t *len, const char **out_s, size_t *out_len) {
  size_t i, total = head;
  char *p, *base;
  for (i = 0; i < n; i++) total += len[i] + 1;
  base = bench_xmalloc(total);
  p = base + head;
  for (i = 0; i < n; i++) {
    memcpy(p, s[i], len[i]);
    p[len[i]] = '\0';
    out_s[i] = p;
    out_len[i] = len[i];
    p += len[i] + 1;
  }
  return base;
}

void row_set_init(row_set *rs) {
  rs->rows = NULL;
  rs->n = rs->cap = 0;
}

void row_set_add(row_set *rs, int64_t id, const char *const *s,
                 const size_t *len) {
  project_row tmp, *r;
  r = pack(offsetof(project_row, data), PR_NSTR, s, len, tmp.s, tmp.len);
  memcpy(r->s, tmp.s, sizeof tmp.s);
  memcpy(r->len, tmp.len, sizeof tmp.len);
  r->id = id;
  if (rs->n == rs->cap) {
    rs->cap = rs->cap ? 2 * rs->cap : 16;
    rs->rows = bench_xrealloc(rs->rows, sizeof *rs->rows * rs->cap);
  }
  rs->rows[rs->n++] = r;
}

void row_set_clear(row_set *rs) {
  size_t i;
  for (i = 0; i < rs->n; i++) free(rs->rows[i]);
  rs->n = 0;
}

void row_set_free(row_set *rs) {
  row_set_clear(rs);
  free(rs->rows);
  row_set_init(rs);
}

void user_set_init(user_set *us) {
  memset(us, 0, sizeof *us);
}

static size_t slot_of(int64_t id, size_t nslots) {
  uint64_t h = (uint64_t)id * UINT64_C(0x9E3779B97F4A7C15);
  return (size_t)(h >> 32) & (nslots - 1);
}

static void grow(user_set *us) {
  size_t i, n = us->nslots ? 2 * us->nslots : 64;
  free(us->slots);
  us->slots = bench_xmalloc(sizeof *us->slots * n);
  memset(us->slots, 0, sizeof *us->slots * n);
  us->nslots = n;
  for (i = 0; i < us->n; i++) {
    size_t k = slot_of(us->order[i]->id, n);
    while (us->slots[k]) k = (k + 1) & (n - 1);
    us->slots[k] = us->order[i];
  }
}

user_row *user_set_get(user_set *us, int64_t id, const char *const *s,
                       const size_t *len) {
  user_row tmp, *u;
  size_t k;
  if (us->nslots) {
    k = slot_of(id, us->nslots);
    while ((u = us->slots[k]) != NULL) {
      if (u->id == id) return u;
      k = (k + 1) & (us->nslots - 1);
    }
  }
  if (2 * (us->n + 1) > us->nslots) grow(us);
  u = pack(offsetof(user_row, data), UR_NSTR, s, len, tmp.s, tmp.len);
  memcpy(u->s, tmp.s, sizeof tmp.s);
  memcpy(u->len, tmp.len, sizeof tmp.len);
  u->id = id;
  row_set_init(&u->projects);
  if (us->n == us->cap) {
    us->cap = us->cap ? 2 * us->cap : 64;
    us->order = bench_xrealloc(us->order, sizeof *us->order * us->cap);
  }
  us->order[us->n++] = u;
  k = slot_of(id, us->nslots);
  while (us->slots[k]) k = (k + 1) & (us->nslots - 1);
  us->slots[k] = u;
  return u;
}

uint64_t user_set_checksum(const user_set *us, long long *rows) {
  uint64_t sum = 0;
  size_t i, j;
  *rows = 0;
  for (i = 0; i < us->n; i++) {
    const user_row *u = us->order[i];
    for (j = 0; j < u->projects.n; j++) {
      const project_row *r = u->projects.rows[j];
      sum += bench_row_sum(u->id, r->id, r->len[PR_TITLE], r->len[PR_ROLE]);
    }
    *rows += (long long)u->projects.n;
  }
  return sum & BENCH_MASK;
}

void user_set_free(user_set *us) {
  size_t i;
  for (i = 0; i < us->n; i++) {
    row_set_free(&us->order[i]->projects);
    free(us->order[i]);
  }
  free(us->order);
  free(us->slots);
  user_set_init(us);
}
