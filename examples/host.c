/*
** host.c: a C program that embeds Lua with assoc.  It opens its own SQLite
** file, lends it to a Lua state as the global `db`, runs a model script,
** calls the script's summary(db) and reads the results back, then checks
** with its own sqlite3 calls that the rows are there and its handle is
** still its own.   usage: host [database-file [models.lua]]
*/
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include <assoc.h>
#include <assoc_lua.h>

#ifndef ASSOC_HOST_MODELS
#define ASSOC_HOST_MODELS "examples/models.lua"
#endif

static int fail(const char *what, const char *msg)
{
  fprintf(stderr, "host: %s: %s\n", what, msg);
  return EXIT_FAILURE;
}

/* The Lua part: returns 0 and prints the summary, or prints the error. */
static int run_lua(sqlite3 *conn, const char *script)
{
  assoc_db *db = NULL;
  lua_State *L;
  const char *titles;
  lua_Integer books;
  int rc = assoc_db_wrap_sqlite(conn, NULL, &db);

  if (rc != ASSOC_OK) {
    fail("assoc_db_wrap_sqlite", db ? assoc_db_errmsg(db) : "out of memory");
    assoc_db_free(db);
    return -1;
  }
  L = luaL_newstate();
  if (L == NULL) {
    assoc_db_free(db);
    fail("luaL_newstate", "out of memory");
    return -1;
  }
  luaL_openlibs(L);
  luaL_requiref(L, "assoc", luaopen_assoc, 0);   /* package.loaded.assoc */
  lua_pop(L, 1);
  /* From here the Database object owns db: closing it (or the state)
  ** frees assoc's handle and statements, never the host's connection. */
  assoc_lua_push_db(L, db);
  lua_setglobal(L, "db");

  if (luaL_dofile(L, script) != LUA_OK)
    goto lua_failed;
  lua_getglobal(L, "summary");                    /* summary */
  lua_getglobal(L, "db");                         /* summary db */
  if (lua_pcall(L, 1, 2, 0) != LUA_OK)            /* count titles */
    goto lua_failed;
  if (!lua_isinteger(L, -2) || !lua_isstring(L, -1)) {
    fail("summary()", "expected an integer and a string");
    lua_close(L);
    return -1;
  }
  books = lua_tointeger(L, -2);
  titles = lua_tostring(L, -1);
  printf("summary: %lld books; before 1970: %s\n", (long long)books, titles);
  lua_close(L);
  return 0;

lua_failed:
  fail(script, luaL_tolstring(L, -1, NULL));
  lua_close(L);
  return -1;
}

/* The host's own view of its file, after Lua is gone. */
static int check_rows(sqlite3 *conn)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(conn,
    "SELECT a.\"name\", count(b.\"id\") FROM \"Authors\" a "
    "JOIN \"Books\" b ON b.\"AuthorId\" = a.\"id\" GROUP BY a.\"id\"",
    -1, &st, NULL);
  if (rc != SQLITE_OK)
    return fail("sqlite3_prepare_v2", sqlite3_errmsg(conn));
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    printf("in the file: %s wrote %d books\n",
           (const char *)sqlite3_column_text(st, 0),
           sqlite3_column_int(st, 1));
  if (rc != SQLITE_DONE) {
    fail("sqlite3_step", sqlite3_errmsg(conn));
    sqlite3_finalize(st);
    return EXIT_FAILURE;
  }
  sqlite3_finalize(st);
  return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
  const char *path = argc > 1 ? argv[1] : "host-example.db";
  const char *script = argc > 2 ? argv[2] : ASSOC_HOST_MODELS;
  sqlite3 *conn = NULL;
  int status;

  if (sqlite3_open(path, &conn) != SQLITE_OK) {
    status = fail(path, conn ? sqlite3_errmsg(conn) : "out of memory");
    sqlite3_close(conn);
    return status;
  }
  if (run_lua(conn, script) != 0) {
    sqlite3_close(conn);
    return EXIT_FAILURE;
  }
  status = check_rows(conn);
  /* SQLITE_BUSY here would mean assoc left a statement unfinalized. */
  if (sqlite3_close(conn) != SQLITE_OK)
    return fail("sqlite3_close", "the connection still has statements");
  if (status == EXIT_SUCCESS)
    printf("host: connection was still open after Lua; closed it\n");
  return status;
}
