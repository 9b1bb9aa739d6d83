/*
 * prose ctl: talk to a running prosed over its control socket
 * (docs/control.md). One request, one reply, printed for people or, with
 * --json, as the raw reply line for scripts; `events` prints the event
 * stream. Exit status: 0 when the daemon said ok, 1 when it reported an error
 * or could not be reached, 2 for a usage error.
 *
 * This is a tool, not the daemon: it uses a plain blocking socket with poll
 * for the reply timeout (ctl_client.c, shared with `prose demo`, `prose sim
 * --netns` and `prose-bench daemon`), and may read the clock.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "config.h"
#include "ctl_client.h"
#include "prose/err.h"
#include "prose/util.h"

#define PROG "prose ctl"
#define DEFAULT_SOCKET "/run/prose/prosed.sock"

static void usage(FILE *f) {
  fputs(
      "usage: prose ctl [--socket PATH | --config FILE] [--json] [--timeout MS] COMMAND\n"
      "\n"
      "commands:\n"
      "  status | peers | groups | calls | keys | counters\n"
      "  call group GROUP [--type basic|emergency|imminent-peril|broadcast]\n"
      "  call private URI [--manual] [--emergency]\n"
      "  ptt press [--priority N] [--group GROUP] [--call ID]\n"
      "  ptt release [--group GROUP] [--call ID]\n"
      "  accept | reject | hangup [--group GROUP] [--call ID]\n"
      "  events [--count N] [--filter NAME[,NAME...]]\n"
      "\n"
      "The socket is --socket, else [control] socket of --config, else $PROSE_SOCKET,\n"
      "else " DEFAULT_SOCKET
      ". --json prints the daemon's reply (or events) as JSON lines.\n"
      "Exit status: 0 ok, 1 error reported by the daemon or no daemon, 2 usage error.\n",
      f);
}

/* ------------------------------------------------------------------------ */
/* Command table                                                             */
/* ------------------------------------------------------------------------ */

/* One row per command line form: the words that select it, the wire command,
 * the positional argument it takes (its wire name), and the options allowed
 * with it (space-separated). */
typedef struct ctl_form {
  const char *word1, *word2;
  const char *cmd;
  const char *positional;
  const char *options;
} ctl_form;

static const ctl_form forms[] = {
    {"status", NULL, "status", NULL, ""},
    {"peers", NULL, "peers", NULL, ""},
    {"groups", NULL, "groups", NULL, ""},
    {"calls", NULL, "calls", NULL, ""},
    {"keys", NULL, "keys", NULL, ""},
    {"counters", NULL, "counters", NULL, ""},
    {"call", "group", "call_group", "group", "type"},
    {"call", "private", "call_private", "uri", "manual emergency"},
    {"ptt", "press", "ptt_press", NULL, "priority group call"},
    {"ptt", "release", "ptt_release", NULL, "group call"},
    {"accept", NULL, "accept", NULL, "group call"},
    {"reject", NULL, "reject", NULL, "group call"},
    {"hangup", NULL, "hangup", NULL, "group call"},
    {"events", NULL, "subscribe", NULL, "count filter"},
};

/* Options that belong to the connection rather than to a command. */
static const char *const global_options[] = {"socket", "config", "json", "timeout", "help"};

static bool word_in(const char *list, const char *w) {
  size_t n = strlen(w);
  for (const char *p = list; *p;) {
    size_t k = strcspn(p, " ");
    if (k == n && strncmp(p, w, n) == 0) return true;
    p += k;
    while (*p == ' ') p++;
  }
  return false;
}

static const ctl_form *find_form(const char **pos, size_t npos, size_t *used) {
  for (size_t i = 0; i < PROSE_ARRAY_LEN(forms); i++) {
    const ctl_form *f = &forms[i];
    if (npos < 1 || strcmp(pos[0], f->word1) != 0) continue;
    if (f->word2 && (npos < 2 || strcmp(pos[1], f->word2) != 0)) continue;
    *used = f->word2 ? 2 : 1;
    return f;
  }
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Building the request                                                      */
/* ------------------------------------------------------------------------ */

static int opt_uint(const char *name, const char *v, uint64_t max, json_int_t *out) {
  uint64_t x;
  if (cli_u64(PROG, name, v, &x)) return PROSE_EUSAGE;
  if (x > max) {
    fprintf(stderr, PROG ": --%s: at most %llu\n", name, (unsigned long long)max);
    return PROSE_EUSAGE;
  }
  *out = (json_int_t)x;
  return 0;
}

/* Fill args from the options of form f. */
static int build_args(const ctl_form *f, const cli_opt *opts, size_t n_opts, const char *posval,
                      json_t *args) {
  const char *v;
  json_int_t n;
  if (f->positional) json_object_set_new(args, f->positional, json_string(posval));
  if ((v = cli_get(opts, n_opts, "type"))) {
    prosed_call_type t;
    if (prosed_call_type_parse(v, &t) != 0) {
      fprintf(stderr, PROG ": --type: expected basic, emergency, imminent-peril or broadcast\n");
      return PROSE_EUSAGE;
    }
    json_object_set_new(args, "type", json_string(v));
  }
  if (cli_get(opts, n_opts, "manual"))
    json_object_set_new(args, "commencement", json_string("manual"));
  if (cli_get(opts, n_opts, "emergency")) json_object_set_new(args, "emergency", json_true());
  if ((v = cli_get(opts, n_opts, "priority"))) {
    if (opt_uint("priority", v, 255, &n)) return PROSE_EUSAGE;
    json_object_set_new(args, "priority", json_integer(n));
  }
  if ((v = cli_get(opts, n_opts, "group"))) json_object_set_new(args, "group", json_string(v));
  if ((v = cli_get(opts, n_opts, "call"))) json_object_set_new(args, "call", json_string(v));
  if ((v = cli_get(opts, n_opts, "filter"))) {
    json_t *list = json_array();
    char *copy = strdup(v), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
      json_array_append_new(list, json_string(t));
    free(copy);
    if (json_array_size(list) == 0) {
      json_decref(list);
      fprintf(stderr, PROG ": --filter: expected event names separated by commas\n");
      return PROSE_EUSAGE;
    }
    json_object_set_new(args, "events", list);
  }
  /* A value that is not UTF-8 makes json_string return NULL, which
   * json_object_set_new refuses: catch it here rather than send less. */
  size_t expected = (f->positional ? 1u : 0u);
  for (size_t i = 0; i < n_opts; i++)
    if (opts[i].value && word_in(f->options, opts[i].name) && strcmp(opts[i].name, "count") != 0)
      expected++;
  if (json_object_size(args) != expected) {
    fprintf(stderr, PROG ": arguments must be UTF-8 text\n");
    return PROSE_EUSAGE;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Printing for people                                                       */
/* ------------------------------------------------------------------------ */

/* A scalar as text; other values as compact JSON. Caller frees. */
static char *scalar_text(const json_t *v) {
  char buf[64];
  switch (json_typeof(v)) {
    case JSON_STRING:
      return strdup(json_string_value(v));
    case JSON_INTEGER:
      snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
      return strdup(buf);
    case JSON_REAL:
      snprintf(buf, sizeof buf, "%g", json_real_value(v));
      return strdup(buf);
    case JSON_TRUE:
      return strdup("yes");
    case JSON_FALSE:
      return strdup("no");
    case JSON_NULL:
      return strdup("-");
    case JSON_OBJECT:
    case JSON_ARRAY:
      break;
  }
  return json_dumps(v, JSON_COMPACT);
}

/* "k=v k=v" of an object's members, values quoted when they hold blanks. */
static void print_pairs(const json_t *o, const char *skip) {
  const char *k;
  json_t *v;
  bool first = true;
  json_object_foreach((json_t *)o, k, v) {
    if (skip && strcmp(k, skip) == 0) continue;
    char *t = scalar_text(v);
    bool q = t && strpbrk(t, " \t") != NULL;
    printf("%s%s=%s%s%s", first ? "" : " ", k, q ? "\"" : "", t ? t : "?", q ? "\"" : "");
    free(t);
    first = false;
  }
}

static void print_value(const char *key, const json_t *v, int indent) {
  if (json_is_object(v)) {
    printf("%*s%s:\n", indent, "", key);
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)v, k, m) print_value(k, m, indent + 2);
    return;
  }
  if (json_is_array(v)) {
    size_t i;
    json_t *item;
    if (json_array_size(v) == 0) {
      printf("%*s%s: (none)\n", indent, "", key);
      return;
    }
    printf("%*s%s:\n", indent, "", key);
    json_array_foreach(v, i, item) {
      printf("%*s- ", indent + 2, "");
      if (json_is_object(item)) {
        print_pairs(item, NULL);
      } else {
        char *t = scalar_text(item);
        fputs(t ? t : "?", stdout);
        free(t);
      }
      putchar('\n');
    }
    return;
  }
  char *t = scalar_text(v);
  printf("%*s%s: %s\n", indent, "", key, t ? t : "?");
  free(t);
}

static void print_result(const json_t *result) {
  if (!json_is_object(result) || json_object_size(result) == 0) {
    puts("ok");
    return;
  }
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)result, k, v) print_value(k, v, 0);
}

static void print_event(const json_t *ev) {
  printf("%s", json_string_value(json_object_get(ev, "event")));
  if (json_object_size(ev) > 1) putchar(' ');
  print_pairs(ev, "event");
  putchar('\n');
}

/* ------------------------------------------------------------------------ */
/* One exchange                                                              */
/* ------------------------------------------------------------------------ */

typedef struct session {
  ctl_client c;
  bool json;
  int timeout_ms;
} session;

/* Send the request and handle its reply. Returns the exit status. quiet:
 * print nothing for a successful reply (events prints only events). */
static int exchange(session *s, const char *cmd, json_t *args, bool quiet) {
  char err[512];
  json_t *r = NULL;
  char *line = NULL;
  if (ctl_client_request(&s->c, cmd, args, s->timeout_ms, &r, &line, err, sizeof err)) {
    fprintf(stderr, PROG ": %s\n", err);
    return 1;
  }
  int status = json_is_true(json_object_get(r, "ok")) ? 0 : 1;
  if (s->json && !(quiet && status == 0)) puts(line);
  if (status == 0) {
    if (!s->json && !quiet) print_result(json_object_get(r, "result"));
  } else {
    /* Also with --json: every failure is explained in one line on stderr. */
    json_t *e = json_object_get(r, "error");
    fprintf(stderr, PROG ": %s: %s\n", json_string_value(json_object_get(e, "code")),
            json_string_value(json_object_get(e, "message")));
  }
  json_decref(r);
  free(line);
  return status;
}

/* After a successful subscribe: print events until `count` (0: for ever). */
static int stream_events(session *s, json_int_t count) {
  char err[512];
  for (json_int_t seen = 0; count == 0 || seen < count;) {
    char *line;
    size_t used;
    if (ctl_client_read_line(&s->c, -1, &line, &used, err, sizeof err)) {
      fprintf(stderr, PROG ": %s\n", err);
      return 1;
    }
    json_t *ev = json_loads(line, 0, NULL);
    if (ev && json_is_string(json_object_get(ev, "event"))) {
      if (s->json)
        puts(line);
      else
        print_event(ev);
      fflush(stdout);
      seen++;
    }
    json_decref(ev);
    ctl_client_consume(&s->c, used);
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Entry                                                                     */
/* ------------------------------------------------------------------------ */

/* Which socket: --socket, else the config's, else $PROSE_SOCKET, else the
 * default. cfg is scratch space for the config. */
static const char *socket_path(const char *sock, const char *conf, prosed_config *cfg) {
  if (sock) return sock;
  if (conf) {
    char err[PROSED_CONFIG_ERR_MAX];
    if (prosed_config_load(conf, cfg, err, sizeof err) != 0) {
      fprintf(stderr, PROG ": %s\n", err);
      return NULL;
    }
    return cfg->control.socket;
  }
  const char *env = getenv("PROSE_SOCKET");
  return env && *env ? env : DEFAULT_SOCKET;
}

static int check_options(const ctl_form *f, const cli_opt *opts, size_t n_opts) {
  for (size_t i = 0; i < n_opts; i++) {
    if (!opts[i].value) continue;
    bool global = false;
    for (size_t g = 0; g < PROSE_ARRAY_LEN(global_options); g++)
      if (strcmp(opts[i].name, global_options[g]) == 0) global = true;
    if (global || word_in(f->options, opts[i].name)) continue;
    fprintf(stderr, PROG ": --%s is not an option of '%s%s%s'\n", opts[i].name, f->word1,
            f->word2 ? " " : "", f->word2 ? f->word2 : "");
    return PROSE_EUSAGE;
  }
  return 0;
}

/* Pick the command form from the positional words and check its argument
 * count and options. Returns the form, or NULL after printing why. */
static const ctl_form *select_form(const char **pos, size_t npos, const cli_opt *opts,
                                   size_t n_opts, size_t *used) {
  if (npos == 0) {
    fprintf(stderr, PROG ": missing command (see 'prose ctl --help')\n");
    return NULL;
  }
  const ctl_form *f = find_form(pos, npos, used);
  if (!f) {
    fprintf(stderr, PROG ": unknown command '%s%s%s' (see 'prose ctl --help')\n", pos[0],
            npos > 1 ? " " : "", npos > 1 ? pos[1] : "");
    return NULL;
  }
  size_t want = *used + (f->positional ? 1 : 0);
  if (npos < want) {
    fprintf(stderr, PROG ": '%s %s' needs a %s\n", f->word1, f->word2,
            strcmp(f->positional, "uri") == 0 ? "URI" : "GROUP");
    return NULL;
  }
  if (npos > want) {
    fprintf(stderr, PROG ": unexpected argument '%s'\n", pos[want]);
    return NULL;
  }
  return check_options(f, opts, n_opts) ? NULL : f;
}

/* Connect, send the request, print the reply (and events). */
static int run(const ctl_form *f, json_t *args, const char *sock, const char *conf, bool json,
               int timeout_ms, json_int_t count) {
  prosed_config *cfg = malloc(sizeof *cfg);
  const char *path = cfg ? socket_path(sock, conf, cfg) : NULL;
  session s = {.c = {.fd = -1}, .json = json, .timeout_ms = timeout_ms};
  int status = 1;
  char err[512];
  if (path && ctl_client_connect(&s.c, path, err, sizeof err) != 0)
    fprintf(stderr, PROG ": %s\n", err);
  if (s.c.fd >= 0) {
    bool events = strcmp(f->cmd, "subscribe") == 0;
    status = exchange(&s, f->cmd, args, events);
    if (status == 0 && events) status = stream_events(&s, count);
  }
  ctl_client_close(&s.c);
  free(cfg);
  return status;
}

int prose_cli_ctl(int argc, char **argv) {
  OPTS({"socket", true, false, NULL}, {"config", true, false, NULL}, {"json", false, false, NULL},
       {"timeout", true, false, NULL}, {"help", false, false, NULL}, {"type", true, false, NULL},
       {"manual", false, false, NULL}, {"emergency", false, false, NULL},
       {"priority", true, false, NULL}, {"group", true, false, NULL}, {"call", true, false, NULL},
       {"count", true, false, NULL}, {"filter", true, false, NULL});
  const char *pos[4];
  size_t npos = 0, used = 0;
  if (cli_parse(PROG, argc, argv, 1, opts, n_opts, pos, PROSE_ARRAY_LEN(pos), &npos)) return 2;
  if (GET("help")) {
    usage(stdout);
    return 0;
  }
  const ctl_form *f = select_form(pos, npos, opts, n_opts, &used);
  if (!f) return 2;
  if (GET("socket") && GET("config")) {
    fprintf(stderr, PROG ": give --socket or --config, not both\n");
    return 2;
  }
  json_int_t timeout = 10000, count = 0;
  if (GET("timeout") && opt_uint("timeout", GET("timeout"), 3600000, &timeout)) return 2;
  if (GET("count") && opt_uint("count", GET("count"), UINT32_MAX, &count)) return 2;
  if (timeout == 0) {
    fprintf(stderr, PROG ": --timeout: at least 1 ms\n");
    return 2;
  }
  json_t *args = json_object();
  if (!args || build_args(f, opts, n_opts, f->positional ? pos[used] : NULL, args)) {
    json_decref(args);
    return 2;
  }
  int status = run(f, args, GET("socket"), GET("config"), GET("json") != NULL, (int)timeout, count);
  json_decref(args);
  return status;
}
