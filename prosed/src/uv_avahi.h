/*
 * An AvahiPoll over a libuv loop, so that avahi-client (and with it the
 * discovery backend of prose/discovery_avahi.h) runs on the daemon's one
 * thread and loop. Built only when the build found avahi-client
 * (PROSE_HAVE_AVAHI).
 *
 * Watches: libuv allows one uv_poll_t per file descriptor and loop, but
 * D-Bus (under avahi-client) watches the same socket twice, once for
 * reading and once for writing. So the adapter keeps one uv_poll_t per
 * descriptor, started for the union of the events its AvahiWatches want,
 * and hands every watch the part of each event it asked for. Errors and
 * hang-ups (AVAHI_WATCH_ERR/HUP, UV_DISCONNECT or a failed poll) go to
 * every enabled watch, as poll(2) reports them whether asked for or not.
 *
 * Timeouts: one uv_timer_t each. avahi gives absolute times on the realtime
 * clock (gettimeofday); they are turned into a delay against that clock
 * when set, and the loop's clock is refreshed first so the timer does not
 * fire early by the loop's staleness.
 *
 * Freeing: watch_free and timeout_free may be called from inside their own
 * callbacks (avahi's contract). Handles are closed asynchronously and their
 * memory is freed in the close callbacks. prosed_uv_avahi_close closes
 * whatever is left, after the avahi objects using the poll were freed.
 *
 * Not thread-safe: everything runs on the loop's thread.
 */
#ifndef PROSED_UV_AVAHI_H
#define PROSED_UV_AVAHI_H

#include <avahi-common/watch.h>
#include <uv.h>

typedef struct prosed_uv_avahi prosed_uv_avahi;

/* Create the adapter for loop. Returns NULL when out of memory. */
prosed_uv_avahi *prosed_uv_avahi_new(uv_loop_t *loop);

/* The AvahiPoll to give avahi (valid until close). */
const AvahiPoll *prosed_uv_avahi_poll(const prosed_uv_avahi *a);

/*
 * Close every handle still open (avahi must no longer use the poll: free
 * the avahi client first) and free the adapter once all close callbacks
 * have run; then on_closed(arg) is called (may be NULL). When no handle is
 * open, that happens before close returns. After close the loop holds no
 * handle of the adapter, so uv_loop_close can succeed. NULL is a no-op.
 */
void prosed_uv_avahi_close(prosed_uv_avahi *a, void (*on_closed)(void *arg), void *arg);

#endif
