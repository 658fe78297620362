/*
** common.c: the workload of the raw C benchmarks (see common.h).  Every
** draw here has a twin in workload.lua; change both or neither, or the
** checksums of the implementations stop agreeing.
*/
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void bench_rng_seed(bench_rng *r, uint64_t seed) { r->s = seed; }

/* splitmix64: tiny, and exact in Lua 5.4's wrapping 64-bit integers. */
uint64_t bench_rng_next(bench_rng *r) {
  uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* The top 63 bits keep the value non-negative in Lua as well. */
int bench_rng_below(bench_rng *r, int n) {
  return (int)((bench_rng_next(r) >> 1) % (uint64_t)n);
}

void *bench_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "bench: out of memory\n");
    exit(2);
  }
  return p;
}

void *bench_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fprintf(stderr, "bench: out of memory\n");
    exit(2);
  }
  return q;
}

static int parse_int(const char *s, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v <= 0 || v > 100000000) return 0;
  *out = (int)v;
  return 1;
}

int bench_parse_args(int argc, char **argv, bench_args *a, const char *usage) {
  if (argc != 8 || (strcmp(argv[2], "main") != 0 &&
                    strcmp(argv[2], "w5") != 0 && strcmp(argv[2], "all") != 0))
    goto bad;
  a->target = argv[1];
  a->phase = argv[2];
  if (!parse_int(argv[3], &a->nu) || !parse_int(argv[4], &a->np) ||
      !parse_int(argv[5], &a->n2) || !parse_int(argv[6], &a->n3) ||
      !parse_int(argv[7], &a->n4))
    goto bad;
  /* W4 draws K - KEEP projects outside a set of K, W1 K distinct ones. */
  if (a->np < 2 * BENCH_K) {
    fprintf(stderr, "bench: need at least %d projects\n", 2 * BENCH_K);
    return 0;
  }
  return 1;
bad:
  fprintf(stderr, "usage: %s %s main|w5|all NUSERS NPROJECTS N2 N3 N4\n",
          argv[0], usage);
  return 0;
}

int bench_phase_main(const bench_args *a) {
  return strcmp(a->phase, "w5") != 0;
}

int bench_phase_w5(const bench_args *a) {
  return strcmp(a->phase, "main") != 0;
}

static int in_list(const int *l, int n, int v) {
  int i;
  for (i = 0; i < n; i++)
    if (l[i] == v) return 1;
  return 0;
}

/* n distinct indices below k, in the order drawn. */
static void distinct_indices(bench_rng *r, int *out, int n, int k) {
  int got = 0;
  while (got < n) {
    int i = bench_rng_below(r, k);
    if (!in_list(out, got, i)) out[got++] = i;
  }
}

void bench_plan_make(bench_plan *p, const bench_args *a) {
  bench_rng r;
  int *cur, i, u;
  p->nu = a->nu;
  p->np = a->np;
  p->n2 = a->n2;
  p->n3 = a->n3;
  p->n4 = a->n4;
  p->w1 = bench_xmalloc(sizeof(int) * (size_t)a->nu * BENCH_K);
  p->w2_user = bench_xmalloc(sizeof(int) * (size_t)a->n2);
  p->w3_user = bench_xmalloc(sizeof(int) * (size_t)a->n3);
  p->w3_ids = bench_xmalloc(sizeof(int) * (size_t)a->n3 * BENCH_HAS);
  p->w4_user = bench_xmalloc(sizeof(int) * (size_t)a->n4);
  p->w4_list = bench_xmalloc(sizeof(int) * (size_t)a->n4 * BENCH_K);

  /* W1: per user, K distinct projects in the order drawn. */
  bench_rng_seed(&r, BENCH_SEED(1));
  for (u = 0; u < a->nu; u++) {
    int *l = p->w1 + (size_t)u * BENCH_K, got = 0;
    while (got < BENCH_K) {
      int pid = bench_rng_below(&r, a->np) + 1;
      if (!in_list(l, got, pid)) l[got++] = pid;
    }
  }

  bench_rng_seed(&r, BENCH_SEED(2));
  for (i = 0; i < a->n2; i++) p->w2_user[i] = bench_rng_below(&r, a->nu) + 1;

  /* W3: a coin decides between HAS ids of the user's W1 set (true) and
  ** HAS - 1 of them plus one other project (nearly always false). */
  bench_rng_seed(&r, BENCH_SEED(3));
  for (i = 0; i < a->n3; i++) {
    int idx[BENCH_HAS], *ids = p->w3_ids + (size_t)i * BENCH_HAS, j, n;
    const int *l;
    u = bench_rng_below(&r, a->nu) + 1;
    p->w3_user[i] = u;
    l = p->w1 + (size_t)(u - 1) * BENCH_K;
    n = bench_rng_below(&r, 2) == 0 ? BENCH_HAS : BENCH_HAS - 1;
    distinct_indices(&r, idx, n, BENCH_K);
    for (j = 0; j < n; j++) ids[j] = l[idx[j]];
    while (n < BENCH_HAS) {
      int pid = bench_rng_below(&r, a->np) + 1;
      if (!in_list(ids, n, pid)) ids[n++] = pid;
    }
  }

  /* W4: each set keeps KEEP of the user's current K (as left by W1 and
  ** earlier sets) and adds K - KEEP projects outside it. */
  cur = bench_xmalloc(sizeof(int) * (size_t)a->nu * BENCH_K);
  memcpy(cur, p->w1, sizeof(int) * (size_t)a->nu * BENCH_K);
  bench_rng_seed(&r, BENCH_SEED(4));
  for (i = 0; i < a->n4; i++) {
    int idx[BENCH_KEEP], *l = p->w4_list + (size_t)i * BENCH_K, *c, j, n;
    u = bench_rng_below(&r, a->nu) + 1;
    p->w4_user[i] = u;
    c = cur + (size_t)(u - 1) * BENCH_K;
    distinct_indices(&r, idx, BENCH_KEEP, BENCH_K);
    for (j = 0; j < BENCH_KEEP; j++) l[j] = c[idx[j]];
    n = BENCH_KEEP;
    while (n < BENCH_K) {
      int pid = bench_rng_below(&r, a->np) + 1;
      if (!in_list(c, BENCH_K, pid) && !in_list(l + BENCH_KEEP,
                                                n - BENCH_KEEP, pid))
        l[n++] = pid;
    }
    memcpy(c, l, sizeof(int) * BENCH_K);
  }
  free(cur);
}

void bench_plan_free(bench_plan *p) {
  free(p->w1);
  free(p->w2_user);
  free(p->w3_user);
  free(p->w3_ids);
  free(p->w4_user);
  free(p->w4_list);
}

void bench_project(bench_rng *r, int j, char *title, const char **status) {
  uint64_t x = bench_rng_next(r);
  int pad = (int)((x >> 1) % 24), n;
  *status = (x & 1) == 0 ? "active" : "archived";
  n = snprintf(title, 64, "Project %d ", j);
  memset(title + n, 'x', (size_t)pad);
  title[n + pad] = '\0';
}

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The same text assoc writes for a DATE: ISO 8601 UTC with milliseconds. */
void bench_iso_now(char buf[32]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
           (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
           tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
           tm.tm_sec % 100, (int)(ts.tv_nsec / 1000000) % 1000);
}

long bench_status_kb(const char *field) {
  char line[256];
  size_t n = strlen(field);
  long kb = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      kb = strtol(line + n + 1, NULL, 10);
      break;
    }
  fclose(f);
  return kb;
}

uint64_t bench_row_sum(int64_t uid, int64_t pid, size_t title_len,
                       size_t role_len) {
  return (uint64_t)uid * 17 + (uint64_t)pid * 31 + title_len + role_len;
}

void bench_report(const char *impl, const char *dialect, const char *w,
                  double secs, long ops, long long rows, uint64_t checksum,
                  long rss_base_kb, long rss_peak_kb) {
  printf("RESULT impl=%s dialect=%s w=%s seconds=%.6f ops=%ld rows=%lld "
         "checksum=%llu",
         impl, dialect, w, secs, ops, rows,
         (unsigned long long)(checksum & BENCH_MASK));
  if (rss_peak_kb >= 0)
    printf(" rss_base_kb=%ld rss_peak_kb=%ld", rss_base_kb, rss_peak_kb);
  putchar('\n');
  fflush(stdout);
}
