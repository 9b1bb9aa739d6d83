/*
 * Tests of the control socket server (prosed/src/ctl_server.c).
 *
 * Each test runs a private libuv loop with the server on a socket in a fresh
 * temporary directory and a fake ops table. Clients are plain blocking
 * sockets in a second thread running a script; the script records the first
 * failed check (Criterion's asserts are for the main thread) and, when done,
 * wakes the loop through a uv_async so the server closes. The main thread
 * then asserts that every handle closed (uv_loop_close == 0) and that the
 * script passed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "ctl_server.h"
#include "prose/err.h"

typedef struct fx fx;
struct fx {
  uv_loop_t loop;
  uv_async_t done;
  uv_timer_t watchdog;
  prosed_ctl *ctl;
  prosed_ctl_settings s;
  char dir[64], path[100];
  pthread_t thread;
  void (*script)(fx *);
  bool closed, ctl_closed, watchdog_fired;
  prosed_ctl_stats stats; /* taken just before the close */
  /* What the fake handler saw last (loop thread; read after the join). */
  int n_handled;
  prosed_ctl_cmd cmd;
  char group[256], uri[256], call[256];
  int type, commencement, priority;
  bool emergency;
  int emit_rc;
  unsigned flood; /* events "counters" emits */
  /* The script's verdict (client thread). */
  bool failed;
  char why[2048];
};

/* ------------------------------------------------------------------------ */
/* The fake daemon                                                           */
/* ------------------------------------------------------------------------ */

static void copy(char *dst, const char *src) { snprintf(dst, 256, "%s", src ? src : ""); }

static int fake_handle(void *ud, const prosed_ctl_req *req, json_t **result, char *msg,
                       size_t msglen) {
  fx *f = ud;
  f->n_handled++;
  f->cmd = req->cmd;
  copy(f->group, req->group);
  copy(f->uri, req->uri);
  copy(f->call, req->call);
  f->type = (int)req->type;
  f->commencement = req->commencement;
  f->priority = req->priority;
  f->emergency = req->emergency;
  switch (req->cmd) {
    case PROSED_CTL_STATUS:
      *result = json_pack("{s:s,s:s,s:i}", "uri", "sip:alice@example.org", "state", "idle",
                          "client", (int)req->client);
      return 0;
    case PROSED_CTL_PEERS:
      *result = json_pack("{s:[{s:s,s:s}]}", "peers", "uri", "sip:bob@example.org", "address",
                          "198.18.0.2");
      return 0;
    case PROSED_CTL_CALL_GROUP: {
      json_t *ev = json_pack("{s:s}", "group", req->group);
      f->emit_rc = prosed_ctl_emit(f->ctl, "call", ev);
      json_decref(ev);
      *result = json_pack("{s:s,s:s}", "call", "g1", "type", prosed_call_type_name(req->type));
      return 0;
    }
    case PROSED_CTL_CALL_PRIVATE:
      if (strcmp(req->uri, "sip:nobody@example.org") == 0) {
        snprintf(msg, msglen, "no peer %s", req->uri);
        return PROSE_ENOENT;
      }
      return 0; /* result left NULL: the reply carries {} */
    case PROSED_CTL_PTT_PRESS: {
      json_t *ev = json_pack("{s:s,s:i}", "state", "pending_request", "priority", req->priority);
      f->emit_rc = prosed_ctl_emit(f->ctl, "floor", ev);
      json_decref(ev);
      return 0;
    }
    case PROSED_CTL_COUNTERS: {
      char pad[1024];
      memset(pad, 'x', sizeof pad - 1);
      pad[sizeof pad - 1] = '\0';
      json_t *ev = json_pack("{s:s}", "pad", pad);
      for (unsigned i = 0; i < f->flood; i++) prosed_ctl_emit(f->ctl, "floor", ev);
      json_decref(ev);
      *result = json_pack("{s:i}", "flooded", (int)f->flood);
      return 0;
    }
    case PROSED_CTL_KEYS:
      *result = json_array(); /* not an object: the server must refuse it */
      return 0;
    case PROSED_CTL_REJECT:
      /* Closing the server from inside a request must be safe. */
      prosed_ctl_get_stats(f->ctl, &f->stats);
      prosed_ctl_close(f->ctl, NULL, NULL);
      f->ctl_closed = true;
      return 0;
    case PROSED_CTL_HANGUP:
      return PROSE_EINVAL; /* no message: prose_strerror is used */
    case PROSED_CTL_GROUPS:
    case PROSED_CTL_CALLS:
    case PROSED_CTL_PTT_RELEASE:
    case PROSED_CTL_ACCEPT:
    case PROSED_CTL_N_CMDS:
      break;
  }
  return 0;
}

static const prosed_ctl_ops fake_ops = {fake_handle, NULL};

/* ------------------------------------------------------------------------ */
/* Harness                                                                   */
/* ------------------------------------------------------------------------ */

static void stop_all(fx *f) {
  if (f->closed) return;
  f->closed = true;
  if (!f->ctl_closed) {
    prosed_ctl_get_stats(f->ctl, &f->stats);
    prosed_ctl_close(f->ctl, NULL, NULL);
    f->ctl_closed = true;
  }
  uv_close((uv_handle_t *)&f->done, NULL);
  uv_close((uv_handle_t *)&f->watchdog, NULL);
}

static void on_done(uv_async_t *a) { stop_all(a->data); }

static void on_watchdog(uv_timer_t *t) {
  fx *f = t->data;
  f->watchdog_fired = true;
  stop_all(f);
}

static void *script_main(void *arg) {
  fx *f = arg;
  f->script(f);
  uv_async_send(&f->done);
  return NULL;
}

static void fx_init(fx *f) {
  memset(f, 0, sizeof *f);
  cr_assert_eq(uv_loop_init(&f->loop), 0);
  snprintf(f->dir, sizeof f->dir, "/tmp/prose-ctl-XXXXXX");
  cr_assert_not_null(mkdtemp(f->dir));
  snprintf(f->path, sizeof f->path, "%s/ctl.sock", f->dir);
  prosed_ctl_settings_default(&f->s);
  f->s.path = f->path;
}

static void fx_start(fx *f) {
  char err[256];
  int rc = prosed_ctl_start(&f->loop, &f->s, &fake_ops, f, &f->ctl, err, sizeof err);
  cr_assert_eq(rc, 0, "start: %s", err);
}

/* Run script in a client thread against the running server, then close
 * everything and check the loop is clean. */
static void fx_run(fx *f, void (*script)(fx *)) {
  f->script = script;
  cr_assert_eq(uv_async_init(&f->loop, &f->done, on_done), 0);
  f->done.data = f;
  cr_assert_eq(uv_timer_init(&f->loop, &f->watchdog), 0);
  f->watchdog.data = f;
  cr_assert_eq(uv_timer_start(&f->watchdog, on_watchdog, 20000, 0), 0);
  cr_assert_eq(pthread_create(&f->thread, NULL, script_main, f), 0);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  pthread_join(f->thread, NULL);
  cr_assert(!f->watchdog_fired, "the script did not finish in time");
  cr_assert_eq(uv_loop_close(&f->loop), 0, "a handle was left open");
  cr_assert(!f->failed, "%s", f->why);
  struct stat st;
  cr_assert_neq(lstat(f->path, &st), 0, "the socket file was left behind");
  rmdir(f->dir);
}

__attribute__((format(printf, 3, 4))) static void check_fail(fx *f, int line, const char *fmt,
                                                             ...) {
  if (f->failed) return;
  f->failed = true;
  int n = snprintf(f->why, sizeof f->why, "test_ctl.c:%d: ", line);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->why + n, sizeof f->why - (size_t)n, fmt, ap);
  va_end(ap);
}
#define CHECK(f, cond, ...)                              \
  do {                                                   \
    if (!(cond)) check_fail((f), __LINE__, __VA_ARGS__); \
  } while (0)

static void msleep(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A blocking client connection with a line reader. */
typedef struct conn {
  int fd;
  char buf[1 << 17];
  size_t len;
  char line[1 << 17];
} conn;

static conn *conn_open(fx *f) {
  conn *c = calloc(1, sizeof *c);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->path);
  c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct timeval tv = {.tv_sec = 5};
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
    check_fail(f, __LINE__, "connect: %s", strerror(errno));
  return c;
}

static void conn_close(conn *c) {
  close(c->fd);
  free(c);
}

static void conn_send(conn *c, const char *s) {
  size_t n = strlen(s), off = 0;
  while (off < n) {
    ssize_t w = send(c->fd, s + off, n - off, MSG_NOSIGNAL);
    if (w <= 0) return;
    off += (size_t)w;
  }
}

/* The next line without its newline, or NULL at EOF or after 5 s. */
static const char *conn_line(conn *c) {
  for (;;) {
    char *nl = memchr(c->buf, '\n', c->len);
    if (nl) {
      size_t n = (size_t)(nl - c->buf);
      memcpy(c->line, c->buf, n);
      c->line[n] = '\0';
      memmove(c->buf, nl + 1, c->len - n - 1);
      c->len -= n + 1;
      return c->line;
    }
    if (c->len == sizeof c->buf) return NULL;
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (r <= 0) return NULL;
    c->len += (size_t)r;
  }
}

/* Read one line as JSON (the caller decrefs). */
static json_t *conn_json(fx *f, conn *c) {
  const char *l = conn_line(c);
  if (!l) {
    check_fail(f, __LINE__, "no line from the server");
    return NULL;
  }
  json_error_t e;
  json_t *j = json_loads(l, 0, &e);
  if (!j) check_fail(f, __LINE__, "server sent bad JSON: %s", l);
  return j;
}

/* Expect a reply {"id": id, "ok": true, ...}; returns it (decref it). id < 0:
 * expect "id": null. */
static json_t *expect_ok(fx *f, conn *c, int line, json_int_t id) {
  json_t *j = conn_json(f, c);
  if (!j) return json_object();
  json_t *jid = json_object_get(j, "id");
  bool id_ok = id < 0 ? json_is_null(jid) : json_integer_value(jid) == id;
  if (!id_ok || !json_is_true(json_object_get(j, "ok")) ||
      !json_is_object(json_object_get(j, "result"))) {
    char *s = json_dumps(j, 0);
    check_fail(f, line, "want ok reply to id %lld, got %s", (long long)id, s);
    free(s);
  }
  return j;
}

/* Expect an error reply with this code; the message must contain `part`. */
static void expect_err(fx *f, conn *c, int line, json_int_t id, const char *code,
                       const char *part) {
  json_t *j = conn_json(f, c);
  if (!j) return;
  json_t *jid = json_object_get(j, "id");
  bool id_ok = id < 0 ? json_is_null(jid) : json_integer_value(jid) == id;
  const char *got = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
  const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
  json_int_t num = json_integer_value(json_object_get(json_object_get(j, "error"), "number"));
  if (!id_ok || !json_is_false(json_object_get(j, "ok")) || !got || strcmp(got, code) != 0 || !m ||
      !strstr(m, part) || num >= 0) {
    char *s = json_dumps(j, 0);
    check_fail(f, line, "want %s error (\"%s\") to id %lld, got %s", code, part, (long long)id, s);
    free(s);
  }
  json_decref(j);
}

/* A reply with "ok": true, without recording a failure (for retries). */
static bool try_ok(conn *c) {
  const char *l = conn_line(c);
  json_t *r = l ? json_loads(l, 0, NULL) : NULL;
  bool ok = r && json_is_true(json_object_get(r, "ok"));
  json_decref(r);
  return ok;
}

static void expect_eof(fx *f, conn *c, int line) {
  const char *l = conn_line(c);
  if (l) check_fail(f, line, "want EOF, got %s", l);
}

#define OK(c, id) expect_ok(f, c, __LINE__, id)
#define ERR(c, id, code, part) expect_err(f, c, __LINE__, id, code, part)

/* ------------------------------------------------------------------------ */
/* Requests, replies and errors                                              */
/* ------------------------------------------------------------------------ */

static void script_requests(fx *f) {
  conn *a = conn_open(f);
  conn *b = conn_open(f);

  conn_send(a, "{\"id\": 1, \"cmd\": \"status\"}\n");
  json_t *r = OK(a, 1);
  CHECK(f,
        strcmp(json_string_value(json_object_get(json_object_get(r, "result"), "uri")),
               "sip:alice@example.org") == 0,
        "status result");
  json_decref(r);

  /* Two requests in one write, a CRLF line end and a blank line between:
   * answered in order. */
  conn_send(a, "{\"id\": 2, \"cmd\": \"peers\"}\r\n\n   \n{\"id\": 3, \"cmd\": \"status\"}\n");
  r = OK(a, 2);
  json_t *peers = json_object_get(json_object_get(r, "result"), "peers");
  CHECK(f, json_array_size(peers) == 1, "peers result");
  json_decref(r);
  json_decref(OK(a, 3));

  /* A request split over several writes. */
  conn_send(a, "{\"id\": 4, \"cmd\": \"call_g");
  msleep(20);
  conn_send(a, "roup\", \"args\": {\"group\": \"fire\", \"type\": \"emergency\"}}\n");
  r = OK(a, 4);
  CHECK(f,
        strcmp(json_string_value(json_object_get(json_object_get(r, "result"), "type")),
               "emergency") == 0,
        "call_group result");
  json_decref(r);

  /* String ids are echoed; a missing id is answered with null. */
  conn_send(a,
            "{\"id\": \"x-1\", \"cmd\": \"call_private\", \"args\": {\"uri\": "
            "\"sip:bob@example.org\", \"commencement\": \"manual\", \"emergency\": true}}\n");
  r = conn_json(f, a);
  CHECK(f,
        r && strcmp(json_string_value(json_object_get(r, "id")), "x-1") == 0 &&
            json_object_size(json_object_get(r, "result")) == 0,
        "string id / empty result");
  json_decref(r);
  conn_send(b, "{\"cmd\": \"ptt_press\", \"args\": {\"priority\": 200, \"group\": \"fire\"}}\n");
  json_decref(OK(b, -1));

  /* Malformed input: each gets an error and the connection stays up. */
  conn_send(a, "{\"id\": 5, \"cmd\": \n");
  ERR(a, -1, "EJSON", "malformed JSON");
  conn_send(a, "[1, 2]\n");
  ERR(a, -1, "EUSAGE", "JSON object");
  conn_send(a, "{\"id\": 6, \"cmd\": \"status\", \"cmd\": \"peers\"}\n");
  ERR(a, -1, "EJSON", "duplicate");
  conn_send(a, "{\"id\": 1.5, \"cmd\": \"status\"}\n");
  ERR(a, -1, "EUSAGE", "'id'");
  conn_send(a, "{\"id\": 7, \"cmd\": \"status\", \"verbose\": true}\n");
  ERR(a, 7, "EUSAGE", "unknown request member 'verbose'");
  conn_send(a, "{\"id\": 8}\n");
  ERR(a, 8, "EUSAGE", "'cmd'");
  conn_send(a, "{\"id\": 9, \"cmd\": \"teleport\"}\n");
  ERR(a, 9, "EUNKNOWN_CMD", "unknown command 'teleport'");
  conn_send(a, "{\"id\": 10, \"cmd\": \"status\", \"args\": [1]}\n");
  ERR(a, 10, "EUSAGE", "'args' must be an object");
  conn_send(a, "{\"id\": 11, \"cmd\": \"call_group\", \"args\": {}}\n");
  ERR(a, 11, "EUSAGE", "call_group: missing argument 'group'");
  conn_send(a,
            "{\"id\": 12, \"cmd\": \"call_group\", \"args\": {\"group\": \"fire\", "
            "\"type\": \"loud\"}}\n");
  ERR(a, 12, "EUSAGE", "'type' must be basic, emergency, imminent-peril or broadcast");
  conn_send(a, "{\"id\": 13, \"cmd\": \"call_private\", \"args\": {\"uri\": 5}}\n");
  ERR(a, 13, "EUSAGE", "'uri' must be a string");
  conn_send(a, "{\"id\": 14, \"cmd\": \"call_private\", \"args\": {\"uri\": \"a\\nb\"}}\n");
  ERR(a, 14, "EUSAGE", "without control characters");
  conn_send(a, "{\"id\": 15, \"cmd\": \"ptt_press\", \"args\": {\"priority\": 256}}\n");
  ERR(a, 15, "EUSAGE", "'priority' must be an integer from 0 to 255");
  conn_send(a, "{\"id\": 16, \"cmd\": \"ptt_press\", \"args\": {\"priorty\": 1}}\n");
  ERR(a, 16, "EUSAGE", "ptt_press: unknown argument 'priorty'");
  conn_send(a,
            "{\"id\": 17, \"cmd\": \"call_private\", \"args\": {\"uri\": \"u\", "
            "\"emergency\": \"yes\"}}\n");
  ERR(a, 17, "EUSAGE", "'emergency' must be true or false");
  conn_send(a, "{\"id\": 18, \"cmd\": \"status\", \"args\": {\"x\": 1}}\n");
  ERR(a, 18, "EUSAGE", "status: unknown argument 'x'");

  /* Errors from the daemon: with its message, or the standard one. */
  conn_send(a,
            "{\"id\": 19, \"cmd\": \"call_private\", \"args\": {\"uri\": "
            "\"sip:nobody@example.org\"}}\n");
  ERR(a, 19, "ENOENT", "no peer sip:nobody@example.org");
  conn_send(a, "{\"id\": 20, \"cmd\": \"hangup\"}\n");
  ERR(a, 20, "EINVAL", "invalid argument");
  conn_send(a, "{\"id\": 21, \"cmd\": \"keys\"}\n");
  ERR(a, 21, "EINTERNAL", "not an object");

  /* Still up after all that. */
  conn_send(a, "{\"id\": 22, \"cmd\": \"status\", \"args\": null}\n");
  json_decref(OK(a, 22));
  conn_close(a);
  conn_close(b);
}

Test(ctl, requests_replies_and_errors) {
  fx *f = calloc(1, sizeof *f);
  fx_init(f);
  fx_start(f);
  /* The socket is private to the daemon's user. */
  struct stat st;
  cr_assert_eq(lstat(f->path, &st), 0);
  cr_assert(S_ISSOCK(st.st_mode));
  cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", (unsigned)(st.st_mode & 0777));
  /* No subscriber: emitting is a no-op; bad arguments are refused. */
  cr_assert_eq(prosed_ctl_emit(f->ctl, "floor", NULL), 0);
  cr_assert_eq(prosed_ctl_emit(f->ctl, "", NULL), PROSE_EINVAL);
  json_t *arr = json_array();
  cr_assert_eq(prosed_ctl_emit(f->ctl, "floor", arr), PROSE_EINVAL);
  json_decref(arr);
  fx_run(f, script_requests);
  /* Argument errors never reach the daemon. */
  cr_assert_eq(f->n_handled, 10);
  cr_assert_eq(f->cmd, PROSED_CTL_STATUS);
  cr_assert_eq(f->stats.requests, 26);
  cr_assert_eq(f->stats.errors, 19);
  cr_assert_eq(f->stats.accepted, 2);
  free(f);
}

/* The typed view of arguments, one command at a time. */
static void script_typed(fx *f) {
  conn *a = conn_open(f);
  conn_send(a, "{\"id\": 1, \"cmd\": \"call_group\", \"args\": {\"group\": \"sip:fire@x\"}}\n");
  json_decref(OK(a, 1));
  CHECK(f,
        f->cmd == PROSED_CTL_CALL_GROUP && strcmp(f->group, "sip:fire@x") == 0 &&
            f->type == PROSED_CALL_BASIC,
        "call_group defaults");
  conn_send(a,
            "{\"id\": 2, \"cmd\": \"call_private\", \"args\": {\"uri\": \"sip:bob@x\", "
            "\"commencement\": \"manual\", \"emergency\": true}}\n");
  json_decref(OK(a, 2));
  CHECK(f,
        f->cmd == PROSED_CTL_CALL_PRIVATE && strcmp(f->uri, "sip:bob@x") == 0 &&
            f->commencement == PROSED_COMMENCE_MANUAL && f->emergency,
        "call_private typed");
  conn_send(a, "{\"id\": 3, \"cmd\": \"call_private\", \"args\": {\"uri\": \"sip:bob@x\"}}\n");
  json_decref(OK(a, 3));
  CHECK(f, f->commencement == -1 && !f->emergency, "call_private defaults");
  conn_send(a, "{\"id\": 4, \"cmd\": \"ptt_press\"}\n");
  json_decref(OK(a, 4));
  CHECK(f, f->cmd == PROSED_CTL_PTT_PRESS && f->priority == -1 && f->group[0] == '\0',
        "ptt_press defaults");
  conn_send(a,
            "{\"id\": 5, \"cmd\": \"ptt_press\", \"args\": {\"priority\": 0, \"call\": "
            "\"p7\"}}\n");
  json_decref(OK(a, 5));
  CHECK(f, f->priority == 0 && strcmp(f->call, "p7") == 0, "ptt_press typed");
  static const char *const which[] = {"ptt_release", "accept", "calls", "groups"};
  for (int i = 0; i < 4; i++) {
    char req[160];
    snprintf(req, sizeof req, "{\"id\": %d, \"cmd\": \"%s\"%s}\n", 10 + i, which[i],
             i < 2 ? ", \"args\": {\"group\": \"g\", \"call\": \"c\"}" : "");
    conn_send(a, req);
    json_decref(OK(a, 10 + i));
    CHECK(f, strcmp(prosed_ctl_cmd_name(f->cmd), which[i]) == 0, "%s dispatched", which[i]);
  }
  CHECK(f, strcmp(f->group, "") == 0, "no stale args");
  /* The last command closes the server from inside the handler: the client
   * sees the connection end without a reply. */
  conn_send(a, "{\"id\": 99, \"cmd\": \"reject\"}\n");
  expect_eof(f, a, __LINE__);
  conn_close(a);
}

Test(ctl, typed_arguments_and_close_from_handler) {
  fx *f = calloc(1, sizeof *f);
  fx_init(f);
  fx_start(f);
  fx_run(f, script_typed);
  cr_assert_eq(f->cmd, PROSED_CTL_REJECT);
  cr_assert_eq(prosed_ctl_cmd_name(PROSED_CTL_N_CMDS), NULL);
  free(f);
}

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

static void script_events(fx *f) {
  conn *a = conn_open(f); /* floor events only */
  conn *b = conn_open(f); /* everything */
  conn *c = conn_open(f); /* not subscribed */
  conn_send(a, "{\"id\": 1, \"cmd\": \"subscribe\", \"args\": {\"events\": [\"floor\"]}}\n");
  json_decref(OK(a, 1));
  conn_send(b, "{\"id\": 1, \"cmd\": \"subscribe\"}\n");
  json_decref(OK(b, 1));
  conn_send(a, "{\"id\": 2, \"cmd\": \"subscribe\", \"args\": {\"events\": []}}\n");
  ERR(a, 2, "EUSAGE", "'events' must be an array");
  conn_send(a, "{\"id\": 3, \"cmd\": \"subscribe\", \"args\": {\"events\": [\"floor\", 1]}}\n");
  ERR(a, 3, "EUSAGE", "'events' must be an array");
  conn_send(a, "{\"id\": 4, \"cmd\": \"subscribe\", \"args\": {\"all\": true}}\n");
  ERR(a, 4, "EUSAGE", "subscribe: unknown argument 'all'");

  /* C presses PTT: the floor event reaches A and B, C only gets its reply. */
  conn_send(c, "{\"id\": 1, \"cmd\": \"ptt_press\", \"args\": {\"priority\": 7}}\n");
  json_decref(OK(c, 1));
  CHECK(f, f->emit_rc == 2, "floor event went to %d clients", f->emit_rc);
  for (int i = 0; i < 2; i++) {
    conn *x = i ? b : a;
    json_t *ev = conn_json(f, x);
    CHECK(f,
          ev && strcmp(json_string_value(json_object_get(ev, "event")), "floor") == 0 &&
              json_integer_value(json_object_get(ev, "priority")) == 7 &&
              !json_object_get(ev, "id"),
          "floor event to %c", i ? 'B' : 'A');
    json_decref(ev);
  }
  /* A call event passes B's filter but not A's. */
  conn_send(c, "{\"id\": 2, \"cmd\": \"call_group\", \"args\": {\"group\": \"fire\"}}\n");
  json_decref(OK(c, 2));
  CHECK(f, f->emit_rc == 1, "call event went to %d clients", f->emit_rc);
  json_t *ev = conn_json(f, b);
  CHECK(f,
        ev && strcmp(json_string_value(json_object_get(ev, "event")), "call") == 0 &&
            strcmp(json_string_value(json_object_get(ev, "group")), "fire") == 0,
        "call event to B");
  json_decref(ev);
  /* A's next line is the reply to its own request, not the call event;
   * its own PTT press brings the event first, then the reply. */
  conn_send(a, "{\"id\": 5, \"cmd\": \"status\"}\n");
  json_decref(OK(a, 5));
  conn_send(a, "{\"id\": 6, \"cmd\": \"ptt_press\"}\n");
  ev = conn_json(f, a);
  CHECK(f, ev && json_object_get(ev, "event") && !json_object_get(ev, "ok"), "event first");
  json_decref(ev);
  json_decref(OK(a, 6));
  json_decref(conn_json(f, b)); /* B's copy */

  /* After unsubscribing, B gets nothing more. */
  conn_send(b, "{\"id\": 2, \"cmd\": \"unsubscribe\"}\n");
  json_decref(OK(b, 2));
  conn_send(b, "{\"id\": 3, \"cmd\": \"unsubscribe\", \"args\": {\"x\": 1}}\n");
  ERR(b, 3, "EUSAGE", "takes no arguments");
  conn_send(c, "{\"id\": 3, \"cmd\": \"ptt_press\"}\n");
  json_decref(OK(c, 3));
  CHECK(f, f->emit_rc == 1, "after unsubscribe: %d clients", f->emit_rc);
  conn_send(b, "{\"id\": 4, \"cmd\": \"status\"}\n");
  json_decref(OK(b, 4));
  json_decref(conn_json(f, a));
  conn_close(a);
  conn_close(b);
  conn_close(c);
}

Test(ctl, subscribe_and_events) {
  fx *f = calloc(1, sizeof *f);
  fx_init(f);
  fx_start(f);
  fx_run(f, script_events);
  cr_assert_eq(f->stats.events, 6);
  free(f);
}

/* ------------------------------------------------------------------------ */
/* Limits: line length, clients, slow readers                                */
/* ------------------------------------------------------------------------ */

static void script_limits(fx *f) {
  /* A line of exactly max_line octets is served... */
  char line[2100];
  int n = snprintf(line, sizeof line, "{\"id\": 1, \"cmd\": \"status\"}");
  memset(line + n, ' ', 1024 - (size_t)n);
  line[1024] = '\n';
  line[1025] = '\0';
  conn *a = conn_open(f);
  conn_send(a, line);
  json_decref(OK(a, 1));
  /* ...one octet more gets ELIMIT and the connection is closed. */
  memset(line, 'x', 2000);
  line[2000] = '\0';
  conn_send(a, line);
  ERR(a, -1, "ELIMIT", "longer than 1024 octets");
  expect_eof(f, a, __LINE__);
  conn_close(a);

  /* max_clients = 2: a third connection is told why, then closed. */
  conn *b = conn_open(f);
  conn *c = conn_open(f);
  conn_send(b, "{\"id\": 1, \"cmd\": \"status\"}\n");
  json_decref(OK(b, 1));
  conn_send(c, "{\"id\": 1, \"cmd\": \"status\"}\n");
  json_decref(OK(c, 1));
  conn *d = conn_open(f);
  ERR(d, -1, "ELIMIT", "too many control clients (at most 2)");
  expect_eof(f, d, __LINE__);
  conn_close(d);
  /* Once one leaves, a newcomer is served (the server notices the
   * departure asynchronously, so try for a while). */
  conn_close(c);
  bool served = false;
  for (int i = 0; i < 100 && !served; i++) {
    d = conn_open(f);
    conn_send(d, "{\"id\": 2, \"cmd\": \"status\"}\n");
    served = try_ok(d);
    if (!served) {
      conn_close(d); /* refused while the server catches up */
      msleep(10);
    }
  }
  CHECK(f, served, "a newcomer was never served");
  conn_close(d);

  /* A subscriber that never reads is dropped once its queue passes
   * max_queue; the daemon and the other client carry on. */
  conn *slow = b;
  conn_send(slow, "{\"id\": 2, \"cmd\": \"subscribe\"}\n");
  json_decref(OK(slow, 2));
  conn *e = NULL;
  for (int i = 0; i < 100; i++) {
    e = conn_open(f);
    conn_send(e, "{\"id\": 1, \"cmd\": \"counters\"}\n");
    if (try_ok(e)) break;
    conn_close(e);
    e = NULL;
    msleep(10);
  }
  CHECK(f, e != NULL, "counters never answered");
  /* The slow client can read what was queued before the drop, then EOF. */
  size_t events = 0;
  while (conn_line(slow)) events++;
  CHECK(f, events > 10 && events < 2000, "slow client got %zu events before the drop", events);
  if (e) conn_close(e);
  conn_close(slow);
}

Test(ctl, line_client_and_queue_limits) {
  fx *f = calloc(1, sizeof *f);
  fx_init(f);
  f->s.max_line = 1024;
  f->s.max_clients = 2;
  f->s.max_queue = 64 * 1024;
  f->flood = 2000;
  fx_start(f);
  fx_run(f, script_limits);
  cr_assert_eq(f->stats.overlong, 1);
  cr_assert_geq(f->stats.refused, 1);
  cr_assert_eq(f->stats.dropped_slow, 1);
  cr_assert_eq(f->stats.subscribers, 0);
  free(f);
}

/* ------------------------------------------------------------------------ */
/* The socket file                                                           */
/* ------------------------------------------------------------------------ */

static void on_closed_count(void *arg) { (*(int *)arg)++; }

Test(ctl, socket_file_stale_live_and_foreign) {
  fx *f = calloc(1, sizeof *f);
  fx_init(f);
  char err[256];
  prosed_ctl *other = NULL;

  /* A socket left by a dead daemon (bound, never unlinked) is replaced. */
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->path);
  cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  close(fd);
  fx_start(f);

  /* A second server on the same path finds the first one listening. */
  cr_assert_eq(prosed_ctl_start(&f->loop, &f->s, &fake_ops, f, &other, err, sizeof err),
               PROSE_EEXIST);
  cr_assert(strstr(err, "another daemon is listening"), "%s", err);
  cr_assert_null(other);

  /* Closing removes the socket and reports through the callback. */
  int closed = 0;
  prosed_ctl_close(f->ctl, on_closed_count, &closed);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  cr_assert_eq(closed, 1);
  struct stat st;
  cr_assert_neq(lstat(f->path, &st), 0);

  /* Something that is not a socket is never removed. */
  FILE *x = fopen(f->path, "w");
  fputs("precious", x);
  fclose(x);
  cr_assert_eq(prosed_ctl_start(&f->loop, &f->s, &fake_ops, f, &other, err, sizeof err),
               PROSE_EEXIST);
  cr_assert(strstr(err, "not a socket"), "%s", err);
  cr_assert_eq(lstat(f->path, &st), 0);
  cr_assert_eq(st.st_size, 8);
  unlink(f->path);

  /* Bad settings. */
  prosed_ctl_settings s = f->s;
  char longp[200];
  memset(longp, 'a', sizeof longp - 1);
  longp[sizeof longp - 1] = '\0';
  s.path = longp;
  cr_assert_eq(prosed_ctl_start(&f->loop, &s, &fake_ops, f, &other, err, sizeof err), PROSE_EINVAL);
  s = f->s;
  s.max_line = 0;
  cr_assert_eq(prosed_ctl_start(&f->loop, &s, &fake_ops, f, &other, err, sizeof err), PROSE_EINVAL);
  prosed_ctl_ops no_handle = {NULL, NULL};
  cr_assert_eq(prosed_ctl_start(&f->loop, &f->s, &no_handle, f, &other, err, sizeof err),
               PROSE_EINVAL);
  s = f->s;
  char nodir[160];
  snprintf(nodir, sizeof nodir, "%s/missing/ctl.sock", f->dir);
  s.path = nodir;
  cr_assert_eq(prosed_ctl_start(&f->loop, &s, &fake_ops, f, &other, err, sizeof err), PROSE_EIO);
  cr_assert(strstr(err, "bind"), "%s", err);

  /* Failures left nothing on the loop. */
  cr_assert_eq(uv_loop_close(&f->loop), 0);
  rmdir(f->dir);
  free(f);
}
