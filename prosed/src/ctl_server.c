/*
 * prosed control socket server (libuv). See ctl_server.h for the contract
 * and docs/control.md for the protocol.
 *
 * Lifetimes follow libuv's rules: a client's memory is freed only in its
 * close callback, and the server's only when the listener and every client
 * have been closed. Output buffers are reference counted so one event line
 * serialised once can sit in the write queues of many clients.
 */
#include "ctl_server.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "prose/err.h"
#include "prose/util.h"

#define READ_CHUNK 65536u /* one read(2) at most */
#define ARG_STR_MAX 255u  /* octets of a string argument */
#define FILTER_MAX 32u    /* event names in one subscription */
#define MSG_MAX 256u      /* handler message buffer */

/* ------------------------------------------------------------------------ */
/* Command table                                                             */
/* ------------------------------------------------------------------------ */

typedef enum arg_type { ARG_STR, ARG_INT, ARG_BOOL, ARG_CALL_TYPE, ARG_COMMENCEMENT } arg_type;

typedef struct arg_def {
  const char *name;
  arg_type type;
  bool required;
  int min, max; /* ARG_INT */
  size_t off;   /* field of prosed_ctl_req */
} arg_def;

#define RQ(field) offsetof(prosed_ctl_req, field)
static const arg_def a_call_group[] = {{"group", ARG_STR, true, 0, 0, RQ(group)},
                                       {"type", ARG_CALL_TYPE, false, 0, 0, RQ(type)}};
static const arg_def a_call_private[] = {
    {"uri", ARG_STR, true, 0, 0, RQ(uri)},
    {"commencement", ARG_COMMENCEMENT, false, 0, 0, RQ(commencement)},
    {"emergency", ARG_BOOL, false, 0, 0, RQ(emergency)}};
static const arg_def a_ptt_press[] = {{"priority", ARG_INT, false, 0, 255, RQ(priority)},
                                      {"group", ARG_STR, false, 0, 0, RQ(group)},
                                      {"call", ARG_STR, false, 0, 0, RQ(call)}};
/* ptt_release, accept, reject and hangup name the call they act on, or
 * leave it to the node when there is only one candidate. */
static const arg_def a_which_call[] = {{"group", ARG_STR, false, 0, 0, RQ(group)},
                                       {"call", ARG_STR, false, 0, 0, RQ(call)}};

typedef struct cmd_def {
  const char *name;
  const arg_def *args;
  size_t n_args;
} cmd_def;

/* Indexed by prosed_ctl_cmd. */
static const cmd_def cmds[PROSED_CTL_N_CMDS] = {
    [PROSED_CTL_STATUS] = {"status", NULL, 0},
    [PROSED_CTL_PEERS] = {"peers", NULL, 0},
    [PROSED_CTL_GROUPS] = {"groups", NULL, 0},
    [PROSED_CTL_CALLS] = {"calls", NULL, 0},
    [PROSED_CTL_KEYS] = {"keys", NULL, 0},
    [PROSED_CTL_COUNTERS] = {"counters", NULL, 0},
    [PROSED_CTL_CALL_GROUP] = {"call_group", a_call_group, PROSE_ARRAY_LEN(a_call_group)},
    [PROSED_CTL_CALL_PRIVATE] = {"call_private", a_call_private, PROSE_ARRAY_LEN(a_call_private)},
    [PROSED_CTL_PTT_PRESS] = {"ptt_press", a_ptt_press, PROSE_ARRAY_LEN(a_ptt_press)},
    [PROSED_CTL_PTT_RELEASE] = {"ptt_release", a_which_call, PROSE_ARRAY_LEN(a_which_call)},
    [PROSED_CTL_ACCEPT] = {"accept", a_which_call, PROSE_ARRAY_LEN(a_which_call)},
    [PROSED_CTL_REJECT] = {"reject", a_which_call, PROSE_ARRAY_LEN(a_which_call)},
    [PROSED_CTL_HANGUP] = {"hangup", a_which_call, PROSE_ARRAY_LEN(a_which_call)},
};

const char *prosed_ctl_cmd_name(prosed_ctl_cmd cmd) {
  return (unsigned)cmd < PROSED_CTL_N_CMDS ? cmds[cmd].name : NULL;
}

/* ------------------------------------------------------------------------ */
/* Types                                                                     */
/* ------------------------------------------------------------------------ */

/* One serialised line, shared by the write requests that carry it. */
typedef struct outbuf {
  size_t refs;
  size_t len;
  char data[];
} outbuf;

typedef struct write_req {
  uv_write_t req;
  outbuf *buf;
} write_req;

typedef struct client {
  uv_pipe_t pipe; /* first: the handle's address is the client's */
  prosed_ctl *srv;
  struct client *prev, *next;
  uint64_t id;
  char *line; /* the request line read so far */
  size_t len, cap;
  bool subscribed;
  json_t *filter; /* array of event names, or NULL for all */
  bool draining;  /* no more input or output: a shutdown or close is under way */
  uv_shutdown_t shutdown;
} client;

struct prosed_ctl {
  uv_loop_t *loop;
  uv_pipe_t listener;
  prosed_ctl_settings s;
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  dev_t dev; /* identity of the socket file we created, so that */
  ino_t ino; /* close never removes another daemon's socket */
  prosed_ctl_ops ops;
  void *ud;
  client *clients;
  size_t n_active; /* clients not draining */
  size_t open_handles;
  uint64_t next_client;
  bool closing;
  void (*on_closed)(void *arg);
  void *on_closed_arg;
  char *readbuf; /* shared: libuv reads one stream at a time */
  prosed_ctl_stats stats;
};

void prosed_ctl_settings_default(prosed_ctl_settings *s) {
  s->path = "/run/prose/prosed.sock";
  s->max_clients = 16;
  s->max_line = 65536;
  s->max_queue = 1u << 20;
  s->backlog = 16;
}

__attribute__((format(printf, 3, 4))) static void ctl_log(prosed_ctl *c, prosed_log_level lvl,
                                                          const char *fmt, ...) {
  if (!c->ops.log) return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  c->ops.log(c->ud, lvl, msg);
}

/* ------------------------------------------------------------------------ */
/* Closing                                                                   */
/* ------------------------------------------------------------------------ */

/* Once the listener and every client are closed: remove the socket file if
 * it is still the one we created, tell the owner, free. */
static void maybe_finish(prosed_ctl *c) {
  if (!c->closing || c->open_handles > 0) return;
  struct stat st;
  if (c->path[0] && lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
    unlink(c->path);
  void (*cb)(void *) = c->on_closed;
  void *arg = c->on_closed_arg;
  free(c->readbuf);
  free(c);
  if (cb) cb(arg);
}

static void on_client_closed(uv_handle_t *h) {
  client *cl = h->data;
  prosed_ctl *c = cl->srv;
  if (cl->prev)
    cl->prev->next = cl->next;
  else
    c->clients = cl->next;
  if (cl->next) cl->next->prev = cl->prev;
  if (cl->subscribed) c->stats.subscribers--;
  c->stats.clients--;
  free(cl->line);
  json_decref(cl->filter);
  free(cl);
  c->open_handles--;
  maybe_finish(c);
}

static void drop_client(client *cl) {
  if (!cl->draining) cl->srv->n_active--;
  cl->draining = true;
  if (!uv_is_closing((uv_handle_t *)&cl->pipe))
    uv_close((uv_handle_t *)&cl->pipe, on_client_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)status; /* closed either way */
  drop_client(req->data);
}

/* Close after what is queued has been written: used after a final error
 * reply, so the client learns why it is being disconnected. */
static void drain_client(client *cl) {
  if (cl->draining) return;
  cl->draining = true;
  cl->srv->n_active--;
  uv_read_stop((uv_stream_t *)&cl->pipe);
  cl->shutdown.data = cl;
  if (uv_shutdown(&cl->shutdown, (uv_stream_t *)&cl->pipe, on_shutdown) != 0) drop_client(cl);
}

static void on_listener_closed(uv_handle_t *h) {
  prosed_ctl *c = h->data;
  c->open_handles--;
  maybe_finish(c);
}

void prosed_ctl_close(prosed_ctl *c, void (*on_closed)(void *arg), void *arg) {
  if (!c || c->closing) return;
  c->closing = true;
  c->on_closed = on_closed;
  c->on_closed_arg = arg;
  uv_close((uv_handle_t *)&c->listener, on_listener_closed);
  for (client *cl = c->clients; cl; cl = cl->next) drop_client(cl);
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

static void outbuf_unref(outbuf *b) {
  if (b && --b->refs == 0) free(b);
}

/* Serialise j as one compact line with its newline. NULL on failure. */
static outbuf *outbuf_json(const json_t *j) {
  size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT);
  if (n == 0) return NULL;
  outbuf *b = malloc(sizeof *b + n + 1);
  if (!b) return NULL;
  if (json_dumpb(j, b->data, n, JSON_COMPACT) != n) {
    free(b);
    return NULL;
  }
  b->data[n] = '\n';
  b->len = n + 1;
  b->refs = 1;
  return b;
}

static void on_write(uv_write_t *req, int status) {
  write_req *w = (write_req *)req;
  client *cl = req->data;
  outbuf_unref(w->buf);
  free(w);
  /* UV_ECANCELED means the handle is being closed already. */
  if (status < 0 && status != UV_ECANCELED) drop_client(cl);
}

/* Queue b on cl (taking a reference). A client that already has more than
 * max_queue octets waiting is dropped instead: it is not reading, and holding
 * more for it would let one stuck tool exhaust the daemon's memory. Checking
 * before queuing (not after) lets one large reply through to a client that
 * keeps up, so the bound is max_queue plus one line. */
static void send_buf(client *cl, outbuf *b) {
  prosed_ctl *c = cl->srv;
  if (cl->draining) return;
  if (uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) > c->s.max_queue) {
    c->stats.dropped_slow++;
    ctl_log(c, PROSED_LOG_WARN, "control client %llu does not read: dropped",
            (unsigned long long)cl->id);
    drop_client(cl);
    return;
  }
  write_req *w = malloc(sizeof *w);
  if (!w) {
    drop_client(cl);
    return;
  }
  w->buf = b;
  w->req.data = cl;
  b->refs++;
  uv_buf_t ub = uv_buf_init(b->data, (unsigned)b->len);
  if (uv_write(&w->req, (uv_stream_t *)&cl->pipe, &ub, 1, on_write) != 0) {
    outbuf_unref(b);
    free(w);
    drop_client(cl);
  }
}

static void send_json(client *cl, json_t *j) {
  outbuf *b = outbuf_json(j);
  if (!b) {
    drop_client(cl);
    return;
  }
  send_buf(cl, b);
  outbuf_unref(b);
}

/* id: the request's id (borrowed; NULL = none known). */
__attribute__((format(printf, 4, 5))) static void reply_error(client *cl, json_t *id, int code,
                                                              const char *fmt, ...) {
  char msg[MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cl->srv->stats.requests++;
  cl->srv->stats.errors++;
  json_t *r = json_pack("{s:O?,s:b,s:{s:s,s:i,s:s}}", "id", id, "ok", 0, "error", "code",
                        prose_err_name(code), "number", code, "message", msg);
  if (!r) {
    drop_client(cl);
    return;
  }
  send_json(cl, r);
  json_decref(r);
}

/* result: stolen (NULL = {}). */
static void reply_ok(client *cl, json_t *id, json_t *result) {
  cl->srv->stats.requests++;
  json_t *r =
      json_pack("{s:O?,s:b,s:o}", "id", id, "ok", 1, "result", result ? result : json_object());
  if (!r) {
    drop_client(cl);
    return;
  }
  send_json(cl, r);
  json_decref(r);
}

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

static bool filter_admits(const client *cl, const char *event) {
  if (!cl->filter) return true;
  size_t i;
  json_t *v;
  json_array_foreach(cl->filter, i, v) {
    if (strcmp(json_string_value(v), event) == 0) return true;
  }
  return false;
}

int prosed_ctl_emit(prosed_ctl *c, const char *event, json_t *fields) {
  if (!c || !event || !event[0] || (fields && !json_is_object(fields))) return PROSE_EINVAL;
  if (c->closing || c->stats.subscribers == 0) return 0;
  /* "event" goes first so a person reading the stream sees the name at the
   * start of the line; setting it again after the update keeps that place
   * and wins over an "event" member of fields. */
  json_t *o = json_object();
  if (!o || json_object_set_new(o, "event", json_string(event)) != 0 ||
      (fields && json_object_update(o, fields) != 0) ||
      json_object_set_new(o, "event", json_string(event)) != 0) {
    json_decref(o);
    return PROSE_ENOMEM;
  }
  outbuf *b = outbuf_json(o);
  json_decref(o);
  if (!b) return PROSE_ENOMEM;
  int n = 0;
  /* Dropping a slow client only schedules its close, so the list stays
   * intact while we walk it. */
  for (client *cl = c->clients; cl; cl = cl->next) {
    if (!cl->subscribed || cl->draining || !filter_admits(cl, event)) continue;
    send_buf(cl, b);
    if (cl->draining) continue; /* dropped instead */
    c->stats.events++;
    n++;
  }
  outbuf_unref(b);
  return n;
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                  */
/* ------------------------------------------------------------------------ */

static bool valid_arg_string(const char *s, size_t n) {
  if (n == 0 || n > ARG_STR_MAX || strlen(s) != n) return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
  return true;
}

/* Convert one present argument into its typed field of req; false if the
 * value has the wrong type or range. */
static bool bind_one(const arg_def *a, json_t *v, prosed_ctl_req *req) {
  char *field = (char *)req + a->off;
  const char *s = json_string_value(v);
  switch (a->type) {
    case ARG_STR:
      if (!s || !valid_arg_string(s, json_string_length(v))) return false;
      memcpy(field, &s, sizeof s);
      return true;
    case ARG_INT: {
      json_int_t x = json_integer_value(v);
      if (!json_is_integer(v) || x < a->min || x > a->max) return false;
      int iv = (int)x;
      memcpy(field, &iv, sizeof iv);
      return true;
    }
    case ARG_BOOL: {
      bool b = json_is_true(v);
      if (!json_is_boolean(v)) return false;
      memcpy(field, &b, sizeof b);
      return true;
    }
    case ARG_CALL_TYPE: {
      prosed_call_type t;
      if (!s || prosed_call_type_parse(s, &t) != 0) return false;
      memcpy(field, &t, sizeof t);
      return true;
    }
    case ARG_COMMENCEMENT: {
      int cm = PROSED_COMMENCE_AUTOMATIC;
      if (s && strcmp(s, "manual") == 0)
        cm = PROSED_COMMENCE_MANUAL;
      else if (!s || strcmp(s, "automatic") != 0)
        return false;
      memcpy(field, &cm, sizeof cm);
      return true;
    }
  }
  return false;
}

/* What an argument accepts, for the error message. */
static void arg_expect(const cmd_def *d, const arg_def *a, char *msg, size_t cap) {
  switch (a->type) {
    case ARG_STR:
      snprintf(msg, cap, "%s: '%s' must be a string of 1 to %u octets without control characters",
               d->name, a->name, ARG_STR_MAX);
      return;
    case ARG_INT:
      snprintf(msg, cap, "%s: '%s' must be an integer from %d to %d", d->name, a->name, a->min,
               a->max);
      return;
    case ARG_BOOL:
      snprintf(msg, cap, "%s: '%s' must be true or false", d->name, a->name);
      return;
    case ARG_CALL_TYPE:
      snprintf(msg, cap, "%s: '%s' must be basic, emergency, imminent-peril or broadcast", d->name,
               a->name);
      return;
    case ARG_COMMENCEMENT:
      snprintf(msg, cap, "%s: '%s' must be automatic or manual", d->name, a->name);
      return;
  }
}

/* Check args against the command's table and fill the typed view of req.
 * Unknown arguments are refused rather than ignored, so a typo in a script
 * ("priorty") fails loudly instead of silently using the default. */
static int bind_args(const cmd_def *d, json_t *args, prosed_ctl_req *req, char *msg, size_t cap) {
  const char *key;
  json_t *v;
  json_object_foreach(args, key, v) {
    size_t i = 0;
    while (i < d->n_args && strcmp(d->args[i].name, key) != 0) i++;
    if (i == d->n_args) {
      snprintf(msg, cap, "%s: unknown argument '%.64s'", d->name, key);
      return PROSE_EUSAGE;
    }
  }
  for (size_t i = 0; i < d->n_args; i++) {
    const arg_def *a = &d->args[i];
    v = json_object_get(args, a->name);
    if (!v || json_is_null(v)) {
      if (!a->required) continue;
      snprintf(msg, cap, "%s: missing argument '%s'", d->name, a->name);
      return PROSE_EUSAGE;
    }
    if (!bind_one(a, v, req)) {
      arg_expect(d, a, msg, cap);
      return PROSE_EUSAGE;
    }
  }
  return 0;
}

static int do_subscribe(client *cl, json_t *args, char *msg, size_t cap) {
  json_t *events = json_object_get(args, "events");
  const char *key;
  json_t *v;
  json_object_foreach(args, key, v) {
    if (strcmp(key, "events") != 0) {
      snprintf(msg, cap, "subscribe: unknown argument '%.64s'", key);
      return PROSE_EUSAGE;
    }
  }
  json_t *filter = NULL;
  if (events && !json_is_null(events)) {
    size_t i, n = json_array_size(events);
    if (!json_is_array(events) || n == 0 || n > FILTER_MAX) goto bad;
    json_array_foreach(events, i, v) {
      if (!json_is_string(v) || !valid_arg_string(json_string_value(v), json_string_length(v)))
        goto bad;
    }
    filter = json_deep_copy(events);
    if (!filter) return PROSE_ENOMEM;
  }
  json_decref(cl->filter);
  cl->filter = filter;
  if (!cl->subscribed) cl->srv->stats.subscribers++;
  cl->subscribed = true;
  return 0;
bad:
  snprintf(msg, cap, "subscribe: 'events' must be an array of 1 to %u event names", FILTER_MAX);
  return PROSE_EUSAGE;
}

/* subscribe and unsubscribe concern the connection, not the daemon. */
static void dispatch_builtin(client *cl, json_t *id, const char *name, json_t *args) {
  char msg[MSG_MAX] = "";
  int rc;
  if (strcmp(name, "subscribe") == 0) {
    rc = do_subscribe(cl, args, msg, sizeof msg);
  } else {
    rc = json_object_size(args) ? PROSE_EUSAGE : 0;
    if (rc) snprintf(msg, sizeof msg, "unsubscribe: takes no arguments");
    if (rc == 0 && cl->subscribed) cl->srv->stats.subscribers--;
    if (rc == 0) cl->subscribed = false;
  }
  if (rc)
    reply_error(cl, id, rc, "%s", msg);
  else
    reply_ok(cl, id, NULL);
}

/* Hand a validated request to the daemon and reply with what it says. */
static void dispatch_ops(client *cl, json_t *id, prosed_ctl_req *req) {
  prosed_ctl *c = cl->srv;
  char msg[MSG_MAX] = "";
  json_t *result = NULL;
  int rc = c->ops.handle(c->ud, req, &result, msg, sizeof msg);
  msg[sizeof msg - 1] = '\0';
  if (rc == 0 && result && !json_is_object(result)) {
    rc = PROSE_EINTERNAL;
    snprintf(msg, sizeof msg, "%s: the daemon produced a result that is not an object", req->name);
  }
  if (rc > 0) rc = PROSE_EINTERNAL;
  if (rc) {
    json_decref(result);
    reply_error(cl, id, rc, "%s", msg[0] ? msg : prose_strerror(rc));
  } else {
    reply_ok(cl, id, result);
  }
}

/* Find the command, validate its arguments, carry it out. */
static void dispatch(client *cl, json_t *id, const char *name, json_t *args) {
  if (strcmp(name, "subscribe") == 0 || strcmp(name, "unsubscribe") == 0) {
    dispatch_builtin(cl, id, name, args);
    return;
  }
  size_t k = 0;
  while (k < PROSED_CTL_N_CMDS && strcmp(cmds[k].name, name) != 0) k++;
  if (k == PROSED_CTL_N_CMDS) {
    reply_error(cl, id, PROSE_EUNKNOWN_CMD, "unknown command '%.64s'", name);
    return;
  }
  prosed_ctl_req req;
  memset(&req, 0, sizeof req);
  req.cmd = (prosed_ctl_cmd)k;
  req.name = cmds[k].name;
  req.args = args;
  req.client = cl->id;
  req.type = PROSED_CALL_BASIC;
  req.commencement = -1;
  req.priority = -1;
  char msg[MSG_MAX] = "";
  int rc = bind_args(&cmds[k], args, &req, msg, sizeof msg);
  if (rc)
    reply_error(cl, id, rc, "%s", msg);
  else
    dispatch_ops(cl, id, &req);
}

/* One request line (without its newline). */
static void handle_line(client *cl, char *line, size_t len) {
  while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')) len--;
  size_t lead = 0;
  while (lead < len && (line[lead] == ' ' || line[lead] == '\t')) lead++;
  if (lead == len) return; /* blank lines are keep-alives, not requests */
  json_error_t jerr;
  json_t *root = json_loadb(line + lead, len - lead, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    reply_error(cl, NULL, PROSE_EJSON, "malformed JSON at column %d: %s", jerr.column, jerr.text);
    return;
  }
  json_t *id = NULL, *cmd = NULL, *args = NULL, *v;
  const char *key;
  if (!json_is_object(root)) {
    reply_error(cl, NULL, PROSE_EUSAGE, "a request is a JSON object");
    goto out;
  }
  id = json_object_get(root, "id");
  if (id && !json_is_integer(id) && !json_is_string(id) && !json_is_null(id)) {
    reply_error(cl, NULL, PROSE_EUSAGE, "'id' must be an integer or a string");
    goto out;
  }
  json_object_foreach(root, key, v) {
    if (strcmp(key, "id") != 0 && strcmp(key, "cmd") != 0 && strcmp(key, "args") != 0) {
      reply_error(cl, id, PROSE_EUSAGE, "unknown request member '%.64s' (expected id, cmd, args)",
                  key);
      goto out;
    }
  }
  cmd = json_object_get(root, "cmd");
  if (!json_is_string(cmd) || !valid_arg_string(json_string_value(cmd), json_string_length(cmd))) {
    reply_error(cl, id, PROSE_EUSAGE, "'cmd' must be a command name");
    goto out;
  }
  args = json_object_get(root, "args");
  if (args && !json_is_object(args) && !json_is_null(args)) {
    reply_error(cl, id, PROSE_EUSAGE, "'args' must be an object");
    goto out;
  }
  if (!args || json_is_null(args)) {
    args = json_object();
    if (!args || json_object_set_new(root, "args", args) != 0) {
      reply_error(cl, id, PROSE_ENOMEM, "out of memory");
      goto out;
    }
  }
  dispatch(cl, id, json_string_value(cmd), args);
out:
  json_decref(root);
}

/* ------------------------------------------------------------------------ */
/* Input                                                                     */
/* ------------------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  client *cl = h->data;
  *buf = uv_buf_init(cl->srv->readbuf, READ_CHUNK);
}

static int line_append(client *cl, const char *p, size_t n) {
  if (cl->len + n > cl->cap) {
    size_t cap = cl->cap ? cl->cap : 1024;
    while (cap < cl->len + n) cap *= 2;
    if (cap > cl->srv->s.max_line) cap = cl->srv->s.max_line;
    char *nl = realloc(cl->line, cap);
    if (!nl) return PROSE_ENOMEM;
    cl->line = nl;
    cl->cap = cap;
  }
  memcpy(cl->line + cl->len, p, n);
  cl->len += n;
  return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  client *cl = s->data;
  prosed_ctl *c = cl->srv;
  if (nread < 0) {
    drop_client(cl); /* UV_EOF or a read error: either way this client is done */
    return;
  }
  const char *p = buf->base;
  size_t n = (size_t)nread;
  /* A handler may close the server or drop this client (a slow reader of
   * its own events): stop at once when it does. */
  while (n > 0 && !cl->draining && !c->closing) {
    const char *nl = memchr(p, '\n', n);
    size_t seg = nl ? (size_t)(nl - p) : n;
    if (cl->len + seg > c->s.max_line) {
      c->stats.overlong++;
      ctl_log(c, PROSED_LOG_WARN, "control client %llu: request line too long: closing",
              (unsigned long long)cl->id);
      reply_error(cl, NULL, PROSE_ELIMIT, "request line longer than %zu octets; closing",
                  c->s.max_line);
      drain_client(cl);
      return;
    }
    if (line_append(cl, p, seg) != 0) {
      drop_client(cl);
      return;
    }
    p += seg;
    n -= seg;
    if (nl) {
      p++;
      n--;
      size_t len = cl->len;
      cl->len = 0; /* before the handler, which may queue more on this client */
      handle_line(cl, cl->line, len);
    }
  }
}

static void on_connection(uv_stream_t *server, int status) {
  prosed_ctl *c = server->data;
  if (status < 0 || c->closing) return;
  client *cl = calloc(1, sizeof *cl);
  if (!cl) return; /* the connection waits in the backlog until memory returns */
  if (uv_pipe_init(c->loop, &cl->pipe, 0) != 0) {
    free(cl);
    return;
  }
  cl->pipe.data = cl;
  cl->srv = c;
  cl->id = ++c->next_client;
  cl->next = c->clients;
  if (c->clients) c->clients->prev = cl;
  c->clients = cl;
  c->open_handles++;
  c->n_active++;
  c->stats.clients++;
  if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0) {
    drop_client(cl);
    return;
  }
  c->stats.accepted++;
  if (c->n_active > c->s.max_clients) {
    c->stats.refused++;
    ctl_log(c, PROSED_LOG_WARN, "control: too many clients (%zu): refusing one", c->s.max_clients);
    reply_error(cl, NULL, PROSE_ELIMIT, "too many control clients (at most %zu)", c->s.max_clients);
    drain_client(cl);
    return;
  }
  if (uv_read_start((uv_stream_t *)&cl->pipe, on_alloc, on_read) != 0) drop_client(cl);
}

/* ------------------------------------------------------------------------ */
/* Start                                                                     */
/* ------------------------------------------------------------------------ */

__attribute__((format(printf, 4, 5))) static int start_fail(char *err, size_t errlen, int rc,
                                                            const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* A socket file left by a daemon that died is removed; a live one, or a
 * file of another kind, is never touched. */
static int clear_stale(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    if (errno == ENOENT) return 0;
    return start_fail(err, errlen, PROSE_EPERM, "%s: %s", path, strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode))
    return start_fail(err, errlen, PROSE_EEXIST, "%s: exists and is not a socket", path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return start_fail(err, errlen, PROSE_EIO, "socket: %s", strerror(errno));
  int r = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
  int e = errno;
  close(fd);
  /* EAGAIN: a listener whose backlog is full is still a listener. */
  if (r == 0 || e == EAGAIN || e == EINPROGRESS)
    return start_fail(err, errlen, PROSE_EEXIST, "%s: another daemon is listening", path);
  if (e != ECONNREFUSED) return start_fail(err, errlen, PROSE_EPERM, "%s: %s", path, strerror(e));
  if (unlink(path) != 0 && errno != ENOENT)
    return start_fail(err, errlen, PROSE_EPERM, "%s: cannot remove stale socket: %s", path,
                      strerror(errno));
  return 0;
}

/* socket, bind with mode 0600, listen: all the steps that can fail before
 * any libuv handle exists, so a failure leaves the loop untouched. */
static int bind_socket(prosed_ctl *c, char *err, size_t errlen, int *out_fd) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
  int rc = clear_stale(c->path, &sa, err, errlen);
  if (rc) return rc;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return start_fail(err, errlen, PROSE_EIO, "socket: %s", strerror(errno));
  /* bind creates the file with 0777 & ~umask: a umask of 0177 makes it
   * 0600 from the first instant, where a chmod after bind would leave a
   * window in which anyone could connect. */
  mode_t old = umask(0177);
  int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  int e = errno;
  umask(old);
  if (r != 0) {
    close(fd);
    return start_fail(err, errlen, e == EACCES ? PROSE_EPERM : PROSE_EIO, "%s: bind: %s", c->path,
                      strerror(e));
  }
  struct stat st;
  if (lstat(c->path, &st) != 0 || listen(fd, c->s.backlog) != 0) {
    e = errno;
    close(fd);
    unlink(c->path);
    return start_fail(err, errlen, PROSE_EIO, "%s: listen: %s", c->path, strerror(e));
  }
  c->dev = st.st_dev;
  c->ino = st.st_ino;
  *out_fd = fd;
  return 0;
}

int prosed_ctl_start(uv_loop_t *loop, const prosed_ctl_settings *s, const prosed_ctl_ops *ops,
                     void *ud, prosed_ctl **out, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!loop || !s || !ops || !ops->handle || !out || !s->path)
    return start_fail(err, errlen, PROSE_EINVAL, "control: missing argument");
  size_t plen = strlen(s->path);
  if (plen == 0 || plen >= sizeof(((struct sockaddr_un *)0)->sun_path))
    return start_fail(err, errlen, PROSE_EINVAL, "control: socket path empty or longer than %zu",
                      sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
  if (s->max_clients == 0 || s->max_line == 0 || s->max_queue == 0 || s->backlog <= 0)
    return start_fail(err, errlen, PROSE_EINVAL, "control: zero limit");
  prosed_ctl *c = calloc(1, sizeof *c);
  char *rb = malloc(READ_CHUNK);
  if (!c || !rb) {
    free(c);
    free(rb);
    return start_fail(err, errlen, PROSE_ENOMEM, "control: out of memory");
  }
  c->loop = loop;
  c->s = *s;
  memcpy(c->path, s->path, plen + 1);
  c->s.path = c->path;
  c->ops = *ops;
  c->ud = ud;
  c->readbuf = rb;
  /* A write to a client that has gone away raises SIGPIPE, whose default
   * action would kill the daemon; the error code is all we need. */
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
  }
  int fd = -1;
  int rc = bind_socket(c, err, errlen, &fd);
  if (rc) {
    free(rb);
    free(c);
    return rc;
  }
  /* From here the listener handle exists; a failure must close it through
   * the loop, which frees c in the close callback. */
  uv_pipe_init(loop, &c->listener, 0);
  c->listener.data = c;
  c->open_handles = 1;
  int ur = uv_pipe_open(&c->listener, fd);
  if (ur == 0) ur = uv_listen((uv_stream_t *)&c->listener, s->backlog, on_connection);
  if (ur != 0) {
    if (uv_fileno((uv_handle_t *)&c->listener, &(uv_os_fd_t){0}) != 0) close(fd);
    prosed_ctl_close(c, NULL, NULL);
    return start_fail(err, errlen, PROSE_EIO, "%s: %s", s->path, uv_strerror(ur));
  }
  *out = c;
  return 0;
}

void prosed_ctl_get_stats(const prosed_ctl *c, prosed_ctl_stats *st) { *st = c->stats; }
