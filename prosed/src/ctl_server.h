/*
 * prosed control socket: a Unix stream socket speaking JSON lines
 * (docs/control.md is the protocol reference).
 *
 * A client sends one request per line:
 *   {"id": 7, "cmd": "call_group", "args": {"group": "fire", "type": "emergency"}}
 * and gets one reply per request, in order:
 *   {"id": 7, "ok": true, "result": {...}}
 *   {"id": 7, "ok": false, "error": {"code": "EUSAGE", "number": -7, "message": "..."}}
 * A client that sent {"cmd": "subscribe"} also receives events, one per line,
 * interleaved with replies:
 *   {"event": "floor", "group": "fire", "state": "has_permission", ...}
 *
 * This file is the libuv glue (DESIGN §2: only the driver touches sockets).
 * It owns framing, JSON parsing, argument validation against a fixed table
 * of commands, per-client buffering and the limits that keep one client from
 * hurting the daemon: a bounded request line (an overlong line gets an error
 * reply and the connection is closed), a bounded number of clients, and a
 * bounded write queue (a client that does not read its replies or events is
 * disconnected; the daemon never blocks on it). Malformed JSON, an unknown
 * command or bad arguments get an error reply and the connection stays up.
 *
 * What the commands do is not known here: every valid request is handed to
 * prosed_ctl_ops.handle, which the node's driver implements.
 *
 * Threading: everything runs on the loop's thread; no function here may be
 * called from another thread.
 */
#ifndef PROSED_CTL_SERVER_H
#define PROSED_CTL_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"

typedef struct prosed_ctl prosed_ctl;

/* The commands the daemon implements (wire names in quotes). */
typedef enum prosed_ctl_cmd {
  PROSED_CTL_STATUS,       /* "status": identity, uptime, state overview */
  PROSED_CTL_PEERS,        /* "peers": discovered peers */
  PROSED_CTL_GROUPS,       /* "groups": configured groups and their calls */
  PROSED_CTL_CALLS,        /* "calls": ongoing and pending calls */
  PROSED_CTL_KEYS,         /* "keys": key material summary (never key bytes) */
  PROSED_CTL_COUNTERS,     /* "counters": error and traffic counters */
  PROSED_CTL_CALL_GROUP,   /* "call_group": group (req.), type */
  PROSED_CTL_CALL_PRIVATE, /* "call_private": uri (req.), commencement, emergency */
  PROSED_CTL_PTT_PRESS,    /* "ptt_press": priority, group, call */
  PROSED_CTL_PTT_RELEASE,  /* "ptt_release": group, call */
  PROSED_CTL_ACCEPT,       /* "accept": group, call */
  PROSED_CTL_REJECT,       /* "reject": group, call */
  PROSED_CTL_HANGUP,       /* "hangup": group, call */
  PROSED_CTL_N_CMDS
} prosed_ctl_cmd;

/*
 * A validated request, as handed to prosed_ctl_ops.handle. Every string is
 * borrowed from the parsed request and valid only during the call. Strings
 * are UTF-8, 1..255 octets, without control characters.
 */
typedef struct prosed_ctl_req {
  prosed_ctl_cmd cmd;
  const char *name;   /* the wire name, e.g. "call_group" */
  const json_t *args; /* the validated "args" object ({} when none was sent) */
  uint64_t client;    /* number of the connection, for logs (1, 2, ...) */
  /* Typed view of args. Absent optional arguments are NULL, -1 or false. */
  const char *group;     /* call_group (required); ptt_*, accept, reject, hangup */
  const char *uri;       /* call_private (required): the callee's MCPTT ID */
  const char *call;      /* ptt_*, accept, reject, hangup: a call "id" from "calls" */
  prosed_call_type type; /* call_group: PROSED_CALL_BASIC unless given */
  int commencement;      /* call_private: -1 (configured default) or prosed_commencement */
  bool emergency;        /* call_private: an emergency private call */
  int priority;          /* ptt_press: -1 (configured default) or 0..255 */
} prosed_ctl_req;

/* Implemented by the daemon (the node's driver). */
typedef struct prosed_ctl_ops {
  /*
   * Carry out one request. On success return 0 and set *result to a JSON
   * object (a new reference: the server takes it) or leave it NULL for {}.
   * On failure return a negative prose error code (its name becomes the
   * reply's "code") and optionally write a one-line message into msg (at
   * most msglen octets with the NUL; left empty, prose_strerror is used);
   * *result is then ignored (and released if set).
   * It may call prosed_ctl_emit (the event is sent before the reply) and
   * prosed_ctl_close. Required.
   */
  int (*handle)(void *ud, const prosed_ctl_req *req, json_t **result, char *msg, size_t msglen);
  /* Diagnostics (a client dropped, a bad request...). Optional. */
  void (*log)(void *ud, prosed_log_level level, const char *msg);
} prosed_ctl_ops;

typedef struct prosed_ctl_settings {
  const char *path;   /* socket path (copied); at most 107 octets */
  size_t max_clients; /* connections served at once; more get ELIMIT and are closed */
  size_t max_line;    /* octets of one request line, without its newline */
  size_t max_queue;   /* a client with more unread octets queued is dropped at the next line */
  int backlog;        /* listen(2) backlog */
} prosed_ctl_settings;

/* Defaults: path "/run/prose/prosed.sock", max_clients 16, max_line 65536,
 * max_queue 1 MiB, backlog 16. */
void prosed_ctl_settings_default(prosed_ctl_settings *s);

typedef struct prosed_ctl_stats {
  uint64_t accepted; /* connections accepted */
  uint64_t refused;  /* connections closed at once: too many clients */
  /* Replies sent (counting the error sent before closing a refused or
   * overlong connection), and how many of them were errors. */
  uint64_t requests;
  uint64_t errors;
  uint64_t events;       /* event lines queued (one per receiving client) */
  uint64_t dropped_slow; /* clients dropped for a full write queue */
  uint64_t overlong;     /* clients closed for an overlong line */
  size_t clients;        /* connected now */
  size_t subscribers;    /* of which subscribed to events */
} prosed_ctl_stats;

/*
 * Create the socket and start accepting on loop.
 *
 * If `path` exists: a socket nobody listens on (left by a crashed daemon) is
 * removed; a socket somebody listens on, or anything that is not a socket,
 * is left alone and the call fails with PROSE_EEXIST. The socket is created
 * with mode 0600 (the umask is set around bind: call this before starting
 * threads). Its parent directory must exist.
 *
 * ops is copied; ud is passed to every callback. err (optional) receives a
 * one-line message on failure.
 *
 * SIGPIPE is set to ignored if it has its default action: a client that
 * disconnects while we write to it must cost an error code, not the daemon.
 *
 * Errors: PROSE_EINVAL (NULL argument, no handle op, a path that is empty or
 * too long, zero limits), PROSE_EEXIST, PROSE_EPERM (no access to the path),
 * PROSE_EIO (socket, bind or listen failed), PROSE_ENOMEM. On failure
 * nothing is left open on the loop, except after PROSE_EIO from libuv
 * adopting the bound socket (it does not happen in practice): the listener
 * is then closing and the loop must run once more to release it.
 */
int prosed_ctl_start(uv_loop_t *loop, const prosed_ctl_settings *s, const prosed_ctl_ops *ops,
                     void *ud, prosed_ctl **out, char *err, size_t errlen);

/*
 * Stop: close the listening socket and every client (pending output is
 * dropped), remove the socket file if it is still ours, and free the server
 * once libuv has closed every handle; then call on_closed(arg) (may be NULL).
 * After this call `c` must not be used. Safe to call from ops.handle.
 */
void prosed_ctl_close(prosed_ctl *c, void (*on_closed)(void *arg), void *arg);

/*
 * Send an event to every subscribed client whose filter admits `event`.
 * The line is {"event": event} plus the members of `fields` (an object or
 * NULL; borrowed; an "event" member in it is overwritten). Returns the number
 * of clients it was queued for, PROSE_EINVAL (empty event name, fields not an
 * object) or PROSE_ENOMEM. Clients that fall too far behind are dropped here.
 */
int prosed_ctl_emit(prosed_ctl *c, const char *event, json_t *fields);

void prosed_ctl_get_stats(const prosed_ctl *c, prosed_ctl_stats *st);

/* The wire name of a command ("call_group"), or NULL. */
const char *prosed_ctl_cmd_name(prosed_ctl_cmd cmd);

#endif
