/*
 * A small client of the prosed control socket (docs/control.md), shared by
 * `prose ctl` (one request per run), `prose demo` and `prose-bench daemon`
 * (many requests to several daemons) and `prose sim --netns` (requests and
 * the event stream of several daemons). One JSON object per line both ways;
 * replies carry "ok", events do not.
 *
 * The socket is blocking: a request waits (bounded by poll) for its reply,
 * and ctl_client_pump reads what has arrived without waiting, for a caller
 * that polls c->fd among its other descriptors.
 *
 * Every function that can fail returns a negative CTL_CLIENT_E* and writes
 * a one-line reason (no program prefix, no newline) into the caller's err
 * buffer, so each tool prefixes it its own way.
 */
#ifndef PROSE_CTL_CLIENT_H
#define PROSE_CTL_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#define CTL_CLIENT_REPLY_MAX (16u << 20) /* octets of one line from the daemon */

/* What went wrong; every failure also writes err. */
enum {
  CTL_CLIENT_EFAIL = -1,     /* anything not below: memory, a malformed or overlong line */
  CTL_CLIENT_ETIMEDOUT = -2, /* nothing within the timeout (the connection stays usable) */
  CTL_CLIENT_ECLOSED = -3,   /* the daemon closed the connection, or the socket failed */
};

/* An event line, parsed (borrowed: json_incref it to keep it). */
typedef void ctl_client_event_fn(void *user_data, json_t *event);

typedef struct ctl_client {
  int fd;     /* -1 when not connected */
  char *data; /* received octets not yet consumed */
  size_t len, cap;
  json_int_t last_id; /* the id of the last request: each request takes the next */
  /* Set by the caller: every event line that ctl_client_request or
   * ctl_client_pump reads goes here. NULL: they are dropped. */
  ctl_client_event_fn *on_event;
  void *user_data;
} ctl_client;

/* Not connected, no callback. */
void ctl_client_init(ctl_client *c);

/* Connect to the Unix socket at path. On error c->fd stays -1. */
int ctl_client_connect(ctl_client *c, const char *path, char *err, size_t errlen);
/* Close the socket and free the buffer; c may be connected again after
 * (request ids and the callback are kept). */
void ctl_client_close(ctl_client *c);

/* Send all n octets. */
int ctl_client_send(ctl_client *c, const char *p, size_t n, char *err, size_t errlen);

/* Wait for the next complete line (timeout_ms < 0: for ever), whatever it
 * is. On success *line points into the buffer, NUL-terminated without its
 * newline, and stays valid until ctl_client_consume(c, *consumed). */
int ctl_client_read_line(ctl_client *c, int timeout_ms, char **line, size_t *consumed, char *err,
                         size_t errlen);
void ctl_client_consume(ctl_client *c, size_t n);

/*
 * Send {"id":N,"cmd":cmd,"args":args} (args NULL = none; borrowed), N one
 * more than the last request's, and wait up to timeout_ms in all for its
 * reply: the reply line whose id is N, or one without an id (the daemon's
 * answer to what it could not read as a request, such as "too many
 * clients"). Replies to earlier requests (that timed out) are skipped;
 * event lines go to c->on_event. Lines after the reply stay buffered for
 * the next read. *reply receives the parsed reply object (json_decref it);
 * *line_out, when not NULL, a malloc'd copy of the reply line as received.
 * Returns 0 when a reply arrived, whatever its "ok".
 */
int ctl_client_request(ctl_client *c, const char *cmd, json_t *args, int timeout_ms, json_t **reply,
                       char **line_out, char *err, size_t errlen);

/*
 * Without waiting: read what the daemon has sent and dispatch every complete
 * line (buffered ones too): events to c->on_event; replies, awaited by no
 * request, are dropped. Returns 0 (the connection is open; a partial line
 * stays buffered), CTL_CLIENT_ECLOSED once every complete line before the
 * end was dispatched, or CTL_CLIENT_EFAIL (a malformed line, skipped, or
 * an overlong one). After a failure the caller closes the client.
 */
int ctl_client_pump(ctl_client *c, char *err, size_t errlen);

#endif
