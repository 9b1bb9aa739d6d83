/*
 * The control-socket client of the tools (ctl_client.h). A tool, not the
 * daemon: a plain blocking socket, with poll bounding the wait for a reply
 * and MSG_DONTWAIT for reading only what has arrived.
 */
#include "ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CTL_CLIENT_BUF_MIN 65536u /* first buffer; it doubles up to CTL_CLIENT_REPLY_MAX */
#define CTL_CLIENT_ROOM 4096u     /* free octets wanted before a recv */

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ctl_client_init(ctl_client *c) {
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

int ctl_client_connect(ctl_client *c, const char *path, char *err, size_t errlen) {
  struct sockaddr_un sa;
  c->fd = -1;
  c->len = 0; /* nothing of an earlier connection is read as this one's */
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) {
    snprintf(err, errlen, "%s: socket path too long", path);
    return CTL_CLIENT_EFAIL;
  }
  memcpy(sa.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, errlen, "socket: %s", strerror(errno));
    return CTL_CLIENT_EFAIL;
  }
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    snprintf(err, errlen, "cannot connect to %s: %s (is prosed running?)", path, strerror(errno));
    close(fd);
    return CTL_CLIENT_EFAIL;
  }
  c->fd = fd;
  return 0;
}

void ctl_client_close(ctl_client *c) {
  if (c->fd >= 0) close(c->fd);
  free(c->data);
  c->fd = -1;
  c->data = NULL;
  c->len = c->cap = 0;
}

int ctl_client_send(ctl_client *c, const char *p, size_t n, char *err, size_t errlen) {
  while (n > 0) {
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      snprintf(err, errlen, "send: %s", strerror(errno));
      return CTL_CLIENT_ECLOSED;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* ---- the receive buffer ----------------------------------------------------- */

/* The first complete line in the buffer, NUL-terminated in place. */
static bool take_line(ctl_client *c, char **line, size_t *consumed) {
  char *nl = c->len ? memchr(c->data, '\n', c->len) : NULL;
  if (!nl) return false;
  *nl = '\0';
  *line = c->data;
  *consumed = (size_t)(nl - c->data) + 1;
  return true;
}

/* Room for the next recv. A buffer full without a newline holds a line
 * over the limit. */
static int make_room(ctl_client *c, char *err, size_t errlen) {
  if (c->len == CTL_CLIENT_REPLY_MAX) {
    snprintf(err, errlen, "reply longer than %u octets", CTL_CLIENT_REPLY_MAX);
    return CTL_CLIENT_EFAIL;
  }
  if (c->cap - c->len >= CTL_CLIENT_ROOM) return 0;
  size_t cap = c->cap ? c->cap * 2 : CTL_CLIENT_BUF_MIN;
  if (cap > CTL_CLIENT_REPLY_MAX) cap = CTL_CLIENT_REPLY_MAX;
  char *d = realloc(c->data, cap);
  if (!d) {
    snprintf(err, errlen, "out of memory");
    return CTL_CLIENT_EFAIL;
  }
  c->data = d;
  c->cap = cap;
  return 0;
}

/* One recv into the buffer (after make_room). 1: octets arrived; 0: none
 * yet (MSG_DONTWAIT only); else CTL_CLIENT_ECLOSED. */
static int recv_some(ctl_client *c, int flags, char *err, size_t errlen) {
  for (;;) {
    ssize_t n = recv(c->fd, c->data + c->len, c->cap - c->len, flags);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (flags & MSG_DONTWAIT) && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (n <= 0) {
      snprintf(err, errlen, "the daemon closed the connection%s%s", n < 0 ? ": " : "",
               n < 0 ? strerror(errno) : "");
      return CTL_CLIENT_ECLOSED;
    }
    c->len += (size_t)n;
    return 1;
  }
}

/* Wait for octets until deadline (mono_ms; < 0: for ever) and read them.
 * timeout_ms is for the message only. */
static int fill(ctl_client *c, int64_t deadline, int timeout_ms, char *err, size_t errlen) {
  int rc = make_room(c, err, errlen);
  if (rc) return rc;
  for (;;) {
    int wait_ms = -1;
    if (deadline >= 0) {
      int64_t left = deadline - mono_ms();
      wait_ms = left > 0 ? (int)left : 0;
    }
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int r = poll(&p, 1, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      snprintf(err, errlen, "no reply from the daemon within %d ms", timeout_ms);
      return CTL_CLIENT_ETIMEDOUT;
    }
    if (r < 0) {
      snprintf(err, errlen, "the daemon closed the connection: %s", strerror(errno));
      return CTL_CLIENT_ECLOSED;
    }
    rc = recv_some(c, 0, err, errlen);
    return rc < 0 ? rc : 0;
  }
}

int ctl_client_read_line(ctl_client *c, int timeout_ms, char **line, size_t *consumed, char *err,
                         size_t errlen) {
  int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
  while (!take_line(c, line, consumed)) {
    int rc = fill(c, deadline, timeout_ms, err, errlen);
    if (rc) return rc;
  }
  return 0;
}

void ctl_client_consume(ctl_client *c, size_t n) {
  memmove(c->data, c->data + n, c->len - n);
  c->len -= n;
}

/* ---- lines: replies and events ------------------------------------------------ */

/*
 * One line from the daemon. Replies have a boolean "ok"; anything else is
 * an event, for on_event. A reply answers request `want` (0: none waits)
 * when its id is want, or when it has none: the daemon could not read a
 * request's id, or refused the connection. It is then left in *reply;
 * other replies are stale and dropped.
 */
static int dispatch(ctl_client *c, const char *line, json_int_t want, json_t **reply, char *err,
                    size_t errlen) {
  json_error_t e;
  json_t *r = json_loads(line, 0, &e);
  if (!r || !json_is_object(r)) {
    snprintf(err, errlen, "the daemon sent malformed JSON: %s", r ? "not an object" : e.text);
    json_decref(r);
    return CTL_CLIENT_EFAIL;
  }
  if (json_is_boolean(json_object_get(r, "ok"))) {
    json_t *id = json_object_get(r, "id");
    bool ours = !id || json_is_null(id) || (json_is_integer(id) && json_integer_value(id) == want);
    if (want > 0 && ours) {
      *reply = r;
      return 0;
    }
  } else if (c->on_event) {
    c->on_event(c->user_data, r);
  }
  json_decref(r);
  return 0;
}

int ctl_client_request(ctl_client *c, const char *cmd, json_t *args, int timeout_ms, json_t **reply,
                       char **line_out, char *err, size_t errlen) {
  *reply = NULL;
  if (line_out) *line_out = NULL;
  json_int_t id = ++c->last_id;
  json_t *req = args ? json_pack("{s:I,s:s,s:O}", "id", id, "cmd", cmd, "args", args)
                     : json_pack("{s:I,s:s}", "id", id, "cmd", cmd);
  char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
  json_decref(req);
  if (!text) {
    snprintf(err, errlen, "out of memory");
    return CTL_CLIENT_EFAIL;
  }
  /* The request is one line: its NUL becomes the newline. */
  size_t n = strlen(text);
  text[n] = '\n';
  int rc = ctl_client_send(c, text, n + 1, err, errlen);
  free(text);
  if (rc) return rc;
  int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
  for (;;) {
    char *line;
    size_t used;
    if (!take_line(c, &line, &used)) {
      rc = fill(c, deadline, timeout_ms, err, errlen);
      if (rc) return rc;
      continue;
    }
    json_t *r = NULL;
    rc = dispatch(c, line, id, &r, err, errlen);
    if (r && line_out && (*line_out = strdup(line)) == NULL) {
      json_decref(r);
      r = NULL;
      snprintf(err, errlen, "out of memory");
      rc = CTL_CLIENT_EFAIL;
    }
    ctl_client_consume(c, used);
    if (rc || r) {
      *reply = r;
      return rc;
    }
  }
}

int ctl_client_pump(ctl_client *c, char *err, size_t errlen) {
  for (;;) {
    /* Every complete line first, then one compaction of the buffer. */
    size_t start = 0;
    int rc = 0;
    char *nl;
    while (rc == 0 && start < c->len && (nl = memchr(c->data + start, '\n', c->len - start))) {
      *nl = '\0';
      json_t *unused = NULL;
      rc = dispatch(c, c->data + start, 0, &unused, err, errlen);
      start = (size_t)(nl - c->data) + 1;
    }
    if (start) ctl_client_consume(c, start);
    if (rc == 0) rc = make_room(c, err, errlen);
    if (rc == 0) rc = recv_some(c, MSG_DONTWAIT, err, errlen);
    if (rc <= 0) return rc;
  }
}
