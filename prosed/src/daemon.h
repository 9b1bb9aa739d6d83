/*
 * The libuv driver of the node: the daemon `prosed` (DESIGN §2, STYLE 4).
 *
 * It owns every handle: one UDP socket per (kind, port) bound to the own
 * unicast address (used for sending and for unicast reception), one more per
 * multicast group the node listens on, one timer re-armed from
 * prose_node_next_deadline after every input, the control socket and the
 * signal handlers. The node itself never sees a socket or a clock.
 */
#ifndef PROSED_DAEMON_H
#define PROSED_DAEMON_H

#include <uv.h>

#include "config.h"

typedef struct prosed_daemon prosed_daemon;

/* Start a daemon on loop from a loaded configuration: open the store, load
 * the keys valid now, create the node, open the sockets and the control
 * socket, install SIGTERM/SIGINT (stop) and SIGHUP (reload keys).
 * err receives a one-line message on failure. */
int prosed_daemon_start(uv_loop_t *loop, const prosed_config *cfg, prosed_daemon **out, char *err,
                        size_t errlen);

/* Begin a clean stop (the same as SIGTERM): the node leaves, calls are
 * released, handles close; the loop then runs out. */
void prosed_daemon_stop(prosed_daemon *d);

#endif
