/*
 * A small blocking client of the prosed control socket (docs/control.md),
 * shared by `prose ctl` (one request per run) and `prose demo` (many
 * requests to four daemons). One JSON object per line both ways; replies
 * carry "ok", events do not.
 *
 * Every function that can fail writes a one-line reason (no program prefix,
 * no newline) into the caller's err buffer, so each tool prefixes it its own
 * way.
 */
#ifndef PROSE_CTL_CLIENT_H
#define PROSE_CTL_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#define CTL_CLIENT_REPLY_MAX (16u << 20) /* octets of one reply line */

typedef struct ctl_client {
  int fd;     /* -1 when not connected */
  char *data; /* received octets not yet consumed */
  size_t len, cap;
} ctl_client;

/* Connect to the Unix socket at path. On error c->fd stays -1. */
int ctl_client_connect(ctl_client *c, const char *path, char *err, size_t errlen);
/* Close the socket and free the buffer; c may be reused after. */
void ctl_client_close(ctl_client *c);

/* Send all n octets. */
int ctl_client_send(ctl_client *c, const char *p, size_t n, char *err, size_t errlen);

/* Wait for the next complete line (timeout_ms < 0: for ever). On success
 * *line points into the buffer, NUL-terminated without its newline, and
 * stays valid until ctl_client_consume(c, *consumed). */
int ctl_client_read_line(ctl_client *c, int timeout_ms, char **line, size_t *consumed, char *err,
                         size_t errlen);
void ctl_client_consume(ctl_client *c, size_t n);

/* Send {"id":1,"cmd":cmd,"args":args} (args NULL = {}) and wait up to
 * timeout_ms for the reply, skipping event lines. *reply receives the parsed
 * reply object (json_decref it); *line_out, when not NULL, a malloc'd copy
 * of the reply line as received. Returns 0 when a reply arrived, whatever
 * its "ok"; -1 (with err set) when none did or it was not a JSON object. */
int ctl_client_request(ctl_client *c, const char *cmd, json_t *args, int timeout_ms, json_t **reply,
                       char **line_out, char *err, size_t errlen);

#endif
