/*
** alloc.c: the core's allocator.  Every allocation goes through here so the
** unit tests can make the n-th one fail and check that each failure returns
** ASSOC_NOMEM and leaks nothing.
*/
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Allocations left before the injected failure; 0 = never fail. */
static long fail_countdown;

void assoc__alloc_fail_after(long n) { fail_countdown = n; }

static int should_fail(void) {
  if (fail_countdown <= 0) return 0;
  return --fail_countdown == 0;
}

void *assoc__malloc(size_t n) {
  if (should_fail()) return NULL;
  return malloc(n ? n : 1);
}

void *assoc__realloc(void *p, size_t n) {
  if (should_fail()) return NULL;
  return realloc(p, n ? n : 1);
}

void assoc__free(void *p) { free(p); }

char *assoc__strndup(const char *s, size_t n) {
  char *copy;
  if (!s) return NULL;
  copy = assoc__malloc(n + 1);
  if (!copy) return NULL;
  memcpy(copy, s, n);
  copy[n] = '\0';
  return copy;
}

char *assoc__strdup(const char *s) {
  return s ? assoc__strndup(s, strlen(s)) : NULL;
}
