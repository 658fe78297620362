/*
** rows.h: how the raw C programs materialise what they read: each row
** one allocation holding its strings, users found by id through a small
** hash table, as hand-written C would keep them.
*/
#ifndef BENCH_ROWS_H
#define BENCH_ROWS_H

#include <stddef.h>
#include <stdint.h>

enum { PR_TITLE, PR_STATUS, PR_CREATED, PR_UPDATED, PR_ROLE, PR_NSTR };

typedef struct {
  int64_t id;
  const char *s[PR_NSTR];
  size_t len[PR_NSTR];
  char data[]; /* the strings, each NUL-terminated */
} project_row;

typedef struct {
  project_row **rows;
  size_t n, cap;
} row_set;

void row_set_init(row_set *rs);
void row_set_add(row_set *rs, int64_t id, const char *const *s,
                 const size_t *len);
void row_set_clear(row_set *rs);
void row_set_free(row_set *rs);

enum { UR_NAME, UR_CREATED, UR_UPDATED, UR_NSTR };

typedef struct {
  int64_t id;
  const char *s[UR_NSTR];
  size_t len[UR_NSTR];
  row_set projects;
  char data[];
} user_row;

typedef struct {
  user_row **order; /* in the order first seen */
  size_t n, cap;
  user_row **slots; /* open addressing on id, power-of-two size */
  size_t nslots;
} user_set;

void user_set_init(user_set *us);
user_row *user_set_get(user_set *us, int64_t id, const char *const *s,
                       const size_t *len);
/* The W5 checksum of what was materialised; *rows gets the row count. */
uint64_t user_set_checksum(const user_set *us, long long *rows);
void user_set_free(user_set *us);

#endif
