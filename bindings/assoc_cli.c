/*
** assoc_cli.c: the `assoc` command.  A Lua 5.4 interpreter with the assoc
** module preloaded and a global `db` opened on the URL given with -d; it
** runs a script, or reads chunks from stdin at a prompt like `lua -i`.
** Everything runs inside one protected call, as in lua.c, so that even an
** out-of-memory error is reported instead of aborting.
*/
#define _POSIX_C_SOURCE 200809L  /* isatty */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "assoc.h"
#include "assoc_lua.h"

#define PROGNAME "assoc"
#define INPUT_CHUNK 512

typedef struct cli_opts {
  const char *url;          /* -d */
  int interactive;          /* -i, or neither script nor -e given */
  int script;               /* argv index of the script, 0: none */
  int first_e;              /* argv index just past the options */
  int argc;
  char **argv;
} cli_opts;

static void usage(FILE *out)
{
  fprintf(out,
    "usage: " PROGNAME " [options] [script [args]]\n"
    "  -d URL     open URL as the global `db` (sqlite::memory:,\n"
    "             sqlite:app.db, postgres://user:pw@host/db, ...)\n"
    "  -e chunk   run the Lua chunk (after -d; may be repeated)\n"
    "  -i         enter the prompt after running the script\n"
    "  -v         print the version and exit\n"
    "  -h         print this help and exit\n"
    "  --         stop handling options\n"
    "  -          run the script from stdin\n"
    "With no script and no -e, " PROGNAME " reads chunks at a prompt:\n"
    "each line runs as Lua; an expression, or `=expr`, prints its value.\n");
}

static void report_message(const char *msg)
{
  fprintf(stderr, PROGNAME ": %s\n", msg);
  fflush(stderr);
}

/* Print the error at the top of the stack, then pop it. */
static int report(lua_State *L, int status)
{
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    report_message(msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}

/* Turn an error value into a string: error objects of assoc have a
** __tostring ("ValidationError: ..."), which is what a user wants. */
static int error_string(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  return 1;
}

static int msg_traceback(lua_State *L)
{
  error_string(L);
  luaL_traceback(L, L, lua_tostring(L, -1), 1);
  return 1;
}

/* Call the function below narg arguments, with a handler adding a
** traceback (scripts) or only the message (the prompt). */
static int docall(lua_State *L, int narg, int nres, int traceback)
{
  int status;
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, traceback ? msg_traceback : error_string);
  lua_insert(L, base);
  status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}

/* arg as in lua.c: arg[0] the script, arg[1..] its arguments, negative
** indexes the interpreter and its options. */
static void create_arg_table(lua_State *L, const cli_opts *o)
{
  int i, first = o->script ? o->script : o->argc;
  lua_createtable(L, o->argc - first, first + 1);
  for (i = 0; i < o->argc; i++) {
    lua_pushstring(L, o->argv[i]);
    lua_rawseti(L, -2, i - first);
  }
  lua_setglobal(L, "arg");
}

/* db = assoc.open(url); the Database belongs to Lua and is closed when
** the state is. */
static int open_db(lua_State *L, const char *url)
{
  int status;
  lua_getglobal(L, "assoc");
  lua_getfield(L, -1, "open");
  lua_remove(L, -2);
  lua_pushstring(L, url);
  status = docall(L, 1, 1, 0);
  if (status == LUA_OK)
    lua_setglobal(L, "db");
  return report(L, status);
}

static int run_chunk(lua_State *L, const char *chunk)
{
  int status = luaL_loadbuffer(L, chunk, strlen(chunk), "=(command line)");
  if (status == LUA_OK)
    status = docall(L, 0, 0, 1);
  return report(L, status);
}

static int run_script(lua_State *L, const cli_opts *o)
{
  const char *name = o->argv[o->script];
  int i, n, status;
  if (strcmp(name, "-") == 0 && strcmp(o->argv[o->script - 1], "--") != 0)
    name = NULL;              /* stdin */
  status = luaL_loadfile(L, name);
  if (status == LUA_OK) {
    n = o->argc - o->script - 1;
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (i = 1; i <= n; i++)
      lua_pushstring(L, o->argv[o->script + i]);
    status = docall(L, n, 0, 1);
  }
  return report(L, status);
}

/* ------------------------------------------------------------ the prompt */

/* Push one line of stdin without its newline; 0 at end of input.  Read in
** pieces so a line of any length arrives whole. */
static int push_line(lua_State *L, int first, int tty)
{
  char piece[INPUT_CHUNK];
  int parts = 0;
  size_t len;
  if (tty) {
    fputs(first ? "> " : ">> ", stdout);
    fflush(stdout);
  }
  for (;;) {
    if (fgets(piece, sizeof piece, stdin) == NULL) {
      if (parts == 0)
        return 0;
      break;
    }
    len = strlen(piece);
    if (len > 0 && piece[len - 1] == '\n') {
      lua_pushlstring(L, piece, len - 1);
      parts++;
      break;
    }
    lua_pushlstring(L, piece, len);
    parts++;
  }
  lua_concat(L, parts);
  if (first && lua_tostring(L, -1)[0] == '=') {
    lua_pushfstring(L, "return %s", lua_tostring(L, -1) + 1);
    lua_remove(L, -2);
  }
  return 1;
}

/* A syntax error at <eof> means the chunk goes on on the next line. */
static int incomplete(lua_State *L, int status)
{
  static const char mark[] = "<eof>";
  const size_t marklen = sizeof mark - 1;
  size_t len;
  const char *msg;
  if (status != LUA_ERRSYNTAX)
    return 0;
  msg = lua_tolstring(L, -1, &len);
  if (len >= marklen && strcmp(msg + len - marklen, mark) == 0) {
    lua_pop(L, 1);
    return 1;
  }
  return 0;
}

/* Try the line as an expression first, so `User:count()` prints. */
static int add_return(lua_State *L)
{
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK)
    lua_remove(L, -2);        /* the modified line */
  else
    lua_pop(L, 2);            /* its error and the modified line */
  return status;
}

static int multi_line(lua_State *L, int tty)
{
  for (;;) {                  /* line -- */
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, line, len, "=stdin");
    if (!incomplete(L, status))
      return status;          /* line fn-or-error -- */
    if (!push_line(L, 0, tty))  /* input ended inside a statement */
      return luaL_loadbuffer(L, line, len, "=stdin");
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);        /* line "\n" next -- */
    lua_concat(L, 3);
  }
}

/* Leave the compiled chunk of the next input on the stack; -1 at the end
** of input. */
static int load_line(lua_State *L, int tty)
{
  int status;
  lua_settop(L, 0);
  if (!push_line(L, 1, tty))
    return -1;
  if ((status = add_return(L)) != LUA_OK)
    status = multi_line(L, tty);
  lua_remove(L, 1);           /* the line */
  return status;
}

static void print_results(lua_State *L)
{
  int n = lua_gettop(L);
  if (n > 0) {
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK)
      report_message(lua_pushfstring(L, "error calling 'print' (%s)",
                                     lua_tostring(L, -1)));
  }
}

static void repl(lua_State *L)
{
  int status, tty = isatty(STDIN_FILENO);
  if (tty) {
    int has_db = lua_getglobal(L, "db") != LUA_TNIL;
    printf(PROGNAME " %s on %s; `db` is %s\n", ASSOC_VERSION, LUA_RELEASE,
           has_db ? "open" : "not set (use -d URL)");
  }
  lua_settop(L, 0);
  while ((status = load_line(L, tty)) != -1) {
    if (status == LUA_OK)
      status = docall(L, 0, LUA_MULTRET, 0);
    if (status == LUA_OK)
      print_results(L);
    else
      report(L, status);
  }
  lua_settop(L, 0);
  if (tty)
    fputc('\n', stdout);
  fflush(stdout);
}

/* ---------------------------------------------------------------- main */

static int pmain(lua_State *L)
{
  const cli_opts *o = lua_touserdata(L, 1);
  int i;
  luaL_openlibs(L);
  luaL_requiref(L, "assoc", luaopen_assoc, 1);  /* also the global */
  lua_pop(L, 1);
  create_arg_table(L, o);
  if (o->url != NULL && open_db(L, o->url) != LUA_OK)
    return 0;
  for (i = 1; i < o->first_e; i++) {
    if (strcmp(o->argv[i], "-d") == 0)
      i++;                    /* its URL */
    else if (strcmp(o->argv[i], "-e") == 0 &&
             run_chunk(L, o->argv[++i]) != LUA_OK)
      return 0;
  }
  if (o->script && run_script(L, o) != LUA_OK)
    return 0;
  if (o->interactive)
    repl(L);
  lua_pushboolean(L, 1);
  return 1;
}

/* Parse the options; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, cli_opts *o)
{
  int i, has_e = 0;
  memset(o, 0, sizeof *o);
  o->argc = argc;
  o->argv = argv;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || strcmp(a, "-") == 0) {
      o->script = i;
      break;
    }
    if (strcmp(a, "--") == 0) {
      if (i + 1 < argc)
        o->script = i + 1;
      break;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return EXIT_SUCCESS;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
      printf(PROGNAME " %s (%s)\n", ASSOC_VERSION, LUA_RELEASE);
      return EXIT_SUCCESS;
    } else if (strcmp(a, "-i") == 0) {
      o->interactive = 1;
    } else if (strcmp(a, "-d") == 0 || strcmp(a, "-e") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, PROGNAME ": '%s' needs an argument\n", a);
        usage(stderr);
        return EXIT_FAILURE;
      }
      if (a[1] == 'd')
        o->url = argv[i + 1];
      else
        has_e = 1;
      i++;
    } else {
      fprintf(stderr, PROGNAME ": unknown option '%s'\n", a);
      usage(stderr);
      return EXIT_FAILURE;
    }
  }
  o->first_e = o->script ? o->script : i;
  if (o->script && strcmp(argv[o->script - 1], "--") == 0)
    o->first_e = o->script - 1;
  if (!o->script && !has_e)
    o->interactive = 1;
  return -1;
}

int main(int argc, char **argv)
{
  cli_opts o;
  lua_State *L;
  int status, ok;
  if ((status = parse_args(argc, argv, &o)) != -1)
    return status;
  L = luaL_newstate();
  if (L == NULL) {
    report_message("cannot create a Lua state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, &o);
  status = lua_pcall(L, 1, 1, 0);
  ok = status == LUA_OK && lua_toboolean(L, -1);
  report(L, status);
  lua_close(L);
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
