/*
** check.h: the C tests' one assertion: counts passes and failures (each
** failure printed with its line) for the closing "N passed, N failed".
*/
#ifndef ASSOC_TEST_CHECK_H
#define ASSOC_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (cond) passed++;                                                  \
    else {                                                               \
      failed++;                                                          \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);             \
    }                                                                    \
  } while (0)

#endif
