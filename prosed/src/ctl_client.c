/*
 * The control-socket client of `prose ctl` and `prose demo` (ctl_client.h).
 * A tool, not the daemon: a plain blocking socket, with poll bounding the
 * wait for a reply.
 */
#include "ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int ctl_client_connect(ctl_client *c, const char *path, char *err, size_t errlen) {
  struct sockaddr_un sa;
  c->fd = -1;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) {
    snprintf(err, errlen, "%s: socket path too long", path);
    return -1;
  }
  memcpy(sa.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, errlen, "socket: %s", strerror(errno));
    return -1;
  }
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    snprintf(err, errlen, "cannot connect to %s: %s (is prosed running?)", path, strerror(errno));
    close(fd);
    return -1;
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
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int ctl_client_read_line(ctl_client *c, int timeout_ms, char **line, size_t *consumed, char *err,
                         size_t errlen) {
  for (;;) {
    char *nl = c->len ? memchr(c->data, '\n', c->len) : NULL;
    if (nl) {
      *nl = '\0';
      *line = c->data;
      *consumed = (size_t)(nl - c->data) + 1;
      return 0;
    }
    if (c->len == CTL_CLIENT_REPLY_MAX) {
      snprintf(err, errlen, "reply longer than %u octets", CTL_CLIENT_REPLY_MAX);
      return -1;
    }
    if (c->cap - c->len < 4096) {
      size_t cap = c->cap ? c->cap * 2 : 65536;
      if (cap > CTL_CLIENT_REPLY_MAX) cap = CTL_CLIENT_REPLY_MAX;
      char *d = realloc(c->data, cap);
      if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
      }
      c->data = d;
      c->cap = cap;
    }
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      snprintf(err, errlen, "no reply from the daemon within %d ms", timeout_ms);
      return -1;
    }
    ssize_t n = r < 0 ? -1 : recv(c->fd, c->data + c->len, c->cap - c->len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      snprintf(err, errlen, "the daemon closed the connection%s%s", n < 0 ? ": " : "",
               n < 0 ? strerror(errno) : "");
      return -1;
    }
    c->len += (size_t)n;
  }
}

void ctl_client_consume(ctl_client *c, size_t n) {
  memmove(c->data, c->data + n, c->len - n);
  c->len -= n;
}

int ctl_client_request(ctl_client *c, const char *cmd, json_t *args, int timeout_ms, json_t **reply,
                       char **line_out, char *err, size_t errlen) {
  *reply = NULL;
  if (line_out) *line_out = NULL;
  json_t *req = args ? json_pack("{s:i,s:s,s:O}", "id", 1, "cmd", cmd, "args", args)
                     : json_pack("{s:i,s:s}", "id", 1, "cmd", cmd);
  char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
  json_decref(req);
  if (!text) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  /* The request is one line: its NUL becomes the newline. */
  size_t n = strlen(text);
  text[n] = '\n';
  int rc = ctl_client_send(c, text, n + 1, err, errlen);
  free(text);
  if (rc) return -1;
  for (;;) {
    char *line;
    size_t used;
    if (ctl_client_read_line(c, timeout_ms, &line, &used, err, errlen)) return -1;
    json_error_t e;
    json_t *r = json_loads(line, 0, &e);
    if (!r || !json_is_object(r)) {
      snprintf(err, errlen, "the daemon sent malformed JSON: %s", r ? "not an object" : e.text);
      json_decref(r);
      return -1;
    }
    /* Replies have an "ok"; anything else is an event, which a request
     * does not wait for. */
    if (!json_is_boolean(json_object_get(r, "ok"))) {
      json_decref(r);
      ctl_client_consume(c, used);
      continue;
    }
    if (line_out && (*line_out = strdup(line)) == NULL) {
      json_decref(r);
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    ctl_client_consume(c, used);
    *reply = r;
    return 0;
  }
}
