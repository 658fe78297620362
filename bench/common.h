/*
** common.h: the benchmark workload shared by the raw C programs: the
** PRNG, the sizes, every random draw (made before any timing starts),
** the checksum, timing, memory and the report line.  README.md in this
** directory defines the same workload in words; workload.lua is its twin.
*/
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_K 50    /* projects linked to each user by W1 and each W4 */
#define BENCH_KEEP 25 /* of them kept from the current set by a W4 set */
#define BENCH_HAS 10  /* ids per hasProjects */
#define BENCH_MASK ((UINT64_C(1) << 61) - 1)

typedef struct {
  uint64_t s;
} bench_rng;

void bench_rng_seed(bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(bench_rng *r);
int bench_rng_below(bench_rng *r, int n);

/* Seeds of the independent streams: one per workload so that the draws
** of one never depend on how many another made. */
#define BENCH_SEED_SETUP UINT64_C(0x6173736f63000000)
#define BENCH_SEED(w) (BENCH_SEED_SETUP + (uint64_t)(w))

typedef struct {
  const char *target; /* database file or conninfo */
  const char *phase;  /* "main" (setup, W1..W4), "w5" or "all" */
  int nu, np, n2, n3, n4;
} bench_args;

/* Everything drawn at random, indexed from 0; ids are 1-based. */
typedef struct {
  int nu, np, n2, n3, n4;
  int *w1;      /* nu * K: the list user u links in W1 at (u-1)*K */
  int *w2_user; /* n2 */
  int *w3_user; /* n3 */
  int *w3_ids;  /* n3 * HAS */
  int *w4_user; /* n4 */
  int *w4_list; /* n4 * K: KEEP kept ids, then K - KEEP new ones */
} bench_plan;

int bench_parse_args(int argc, char **argv, bench_args *a, const char *usage);
int bench_phase_main(const bench_args *a);
int bench_phase_w5(const bench_args *a);
void bench_plan_make(bench_plan *p, const bench_args *a);
void bench_plan_free(bench_plan *p);

/* Project j's title and status: the setup stream's j-th draw decides
** both.  title must hold 64 bytes. */
void bench_project(bench_rng *r, int j, char *title, const char **status);

double bench_now(void);
void bench_iso_now(char buf[32]);
long bench_status_kb(const char *field); /* "VmRSS", "VmHWM" of /proc */

/* A row's share of the W2 and W5 checksums. */
uint64_t bench_row_sum(int64_t uid, int64_t pid, size_t title_len,
                       size_t role_len);

void bench_report(const char *impl, const char *dialect, const char *w,
                  double secs, long ops, long long rows, uint64_t checksum,
                  long rss_base_kb, long rss_peak_kb);

void *bench_xmalloc(size_t n);
void *bench_xrealloc(void *p, size_t n);

#endif
