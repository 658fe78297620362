/*
** benchutil.c: what the Lua benchmarks need and plain Lua lacks: a
** monotonic wall clock (os.clock is CPU time, blind to the time a query
** waits on the server) and the process's memory figures from /proc.
*/
#define _POSIX_C_SOURCE 200809L
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int luaopen_benchutil(lua_State *L);

static int now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + ts.tv_nsec / 1e9);
  return 1;
}

/* status_kb("VmHWM") reads one kB figure of /proc/self/status, or nil. */
static int status_kb(lua_State *L) {
  size_t n;
  const char *field = luaL_checklstring(L, 1, &n);
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      fclose(f);
      lua_pushinteger(L, strtol(line + n + 1, NULL, 10));
      return 1;
    }
  fclose(f);
  return 0;
}

int luaopen_benchutil(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"now", now}, {"status_kb", status_kb}, {NULL, NULL}
  };
  luaL_newlib(L, fns);
  return 1;
}
