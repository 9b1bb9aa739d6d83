/*
 * AvahiPoll over libuv (see uv_avahi.h for the design).
 */
#include "uv_avahi.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef struct pfd pfd;

struct AvahiWatch {
  pfd *f;
  unsigned want; /* AVAHI_WATCH_* bits the watch waits for (0: disabled) */
  unsigned last; /* the events handed to its callback last time */
  AvahiWatchCallback cb;
  void *ud;
  bool dead;     /* freed by avahi during a dispatch: unlinked after it */
  AvahiWatch *next;
};

/* One uv_poll_t per file descriptor, shared by the watches on it. */
struct pfd {
  uv_poll_t h;
  prosed_uv_avahi *a;
  int fd;
  int uv_events;       /* the events h is started for; 0 while stopped */
  bool dispatching;    /* inside the callbacks of this descriptor's watches */
  AvahiWatch *watches;
  pfd *next;           /* in a->fds while not closing */
};

struct AvahiTimeout {
  uv_timer_t h;
  prosed_uv_avahi *a;
  AvahiTimeoutCallback cb;
  void *ud;
  AvahiTimeout *next; /* in a->timeouts while not closing */
};

struct prosed_uv_avahi {
  AvahiPoll api;
  uv_loop_t *loop;
  pfd *fds;
  AvahiTimeout *timeouts;
  size_t open; /* handles initialised and not yet through their close callback */
  bool closing;
  void (*on_closed)(void *arg);
  void *arg;
};

/* ---- closing ---------------------------------------------------------------- */

static void finish(prosed_uv_avahi *a) {
  void (*cb)(void *) = a->on_closed;
  void *arg = a->arg;
  free(a);
  if (cb) cb(arg);
}

/* Every handle of the adapter closes here: its memory can only go once
 * libuv is done with it. The adapter itself goes with the last one after
 * prosed_uv_avahi_close. */
static void handle_closed(uv_handle_t *h) {
  prosed_uv_avahi *a;
  if (h->type == UV_POLL) {
    pfd *f = h->data;
    a = f->a;
    free(f);
  } else {
    AvahiTimeout *t = h->data;
    a = t->a;
    free(t);
  }
  a->open--;
  if (a->closing && a->open == 0) finish(a);
}

/* Take f out of the adapter's list and close its handle. The watches must
 * already be gone. */
static void fd_close(pfd *f) {
  prosed_uv_avahi *a = f->a;
  for (pfd **p = &a->fds; *p; p = &(*p)->next)
    if (*p == f) {
      *p = f->next;
      break;
    }
  uv_close((uv_handle_t *)&f->h, handle_closed);
}

/* ---- watches ---------------------------------------------------------------- */

static int to_uv(unsigned ev) {
  int r = 0;
  if (ev & AVAHI_WATCH_IN) r |= UV_READABLE;
  if (ev & AVAHI_WATCH_OUT) r |= UV_WRITABLE;
  if (ev & (AVAHI_WATCH_ERR | AVAHI_WATCH_HUP)) r |= UV_DISCONNECT;
  return r;
}

static unsigned from_uv(int status, int events) {
  unsigned r = 0;
  if (status < 0) r |= AVAHI_WATCH_ERR;
  if (events & UV_READABLE) r |= AVAHI_WATCH_IN;
  if (events & UV_WRITABLE) r |= AVAHI_WATCH_OUT;
  if (events & UV_DISCONNECT) r |= AVAHI_WATCH_HUP;
  return r;
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Start, change or stop the descriptor's poll for the union of what its
 * watches want; close it when no watch is left. Hang-ups are always asked
 * for while anything is: poll(2), which AvahiPoll mimics, reports them
 * unasked. */
static void fd_refresh(pfd *f) {
  if (f->dispatching) return; /* on_poll refreshes after its callbacks */
  if (!f->watches) {
    fd_close(f);
    return;
  }
  int mask = 0;
  for (const AvahiWatch *w = f->watches; w; w = w->next) mask |= to_uv(w->want);
  if (mask) mask |= UV_DISCONNECT;
  if (mask == f->uv_events) return;
  if (mask == 0) {
    uv_poll_stop(&f->h);
    f->uv_events = 0;
  } else {
    /* A failure (the descriptor is gone) leaves the poll stopped; D-Bus
     * notices the dead connection itself and avahi reconnects. */
    f->uv_events = uv_poll_start(&f->h, mask, on_poll) == 0 ? mask : 0;
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  pfd *f = h->data;
  /* On an error libuv has stopped the handle already. */
  if (status < 0) f->uv_events = 0;
  unsigned ev = from_uv(status, events);
  f->dispatching = true;
  /* A callback may free any watch (only marked dead here, so the walk
   * stays valid) or add one (at the head, behind the walk). */
  for (AvahiWatch *w = f->watches; w; w = w->next) {
    if (w->dead || !w->want) continue;
    unsigned got = ev & (w->want | AVAHI_WATCH_ERR | AVAHI_WATCH_HUP);
    if (!got) continue;
    w->last = got;
    w->cb(w, f->fd, (AvahiWatchEvent)got, w->ud);
  }
  f->dispatching = false;
  for (AvahiWatch **p = &f->watches; *p;) {
    AvahiWatch *w = *p;
    if (w->dead) {
      *p = w->next;
      free(w);
    } else {
      p = &w->next;
    }
  }
  fd_refresh(f);
}

static AvahiWatch *watch_new(const AvahiPoll *api, int fd, AvahiWatchEvent event,
                             AvahiWatchCallback cb, void *ud) {
  prosed_uv_avahi *a = api->userdata;
  if (a->closing || fd < 0 || !cb) return NULL;
  AvahiWatch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  pfd *f = a->fds;
  while (f && f->fd != fd) f = f->next;
  if (!f) {
    f = calloc(1, sizeof *f);
    if (!f || uv_poll_init(a->loop, &f->h, fd) != 0) {
      free(f);
      free(w);
      return NULL;
    }
    f->h.data = f;
    f->a = a;
    f->fd = fd;
    f->next = a->fds;
    a->fds = f;
    a->open++;
  }
  w->f = f;
  w->want = (unsigned)event;
  w->cb = cb;
  w->ud = ud;
  w->next = f->watches;
  f->watches = w;
  fd_refresh(f);
  return w;
}

static void watch_update(AvahiWatch *w, AvahiWatchEvent event) {
  w->want = (unsigned)event;
  fd_refresh(w->f);
}

static AvahiWatchEvent watch_get_events(AvahiWatch *w) { return (AvahiWatchEvent)w->last; }

static void watch_free(AvahiWatch *w) {
  pfd *f = w->f;
  if (f->dispatching) {
    w->dead = true;
    w->want = 0;
    return;
  }
  for (AvahiWatch **p = &f->watches; *p; p = &(*p)->next)
    if (*p == w) {
      *p = w->next;
      break;
    }
  free(w);
  fd_refresh(f);
}

/* ---- timeouts --------------------------------------------------------------- */

/* Milliseconds from now (realtime, as avahi's absolute times are) to tv,
 * rounded up so the callback never runs before its time; 0 when past. */
static uint64_t delay_ms(const struct timeval *tv) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t us = ((int64_t)tv->tv_sec - (int64_t)now.tv_sec) * 1000000 +
               ((int64_t)tv->tv_usec - (int64_t)(now.tv_nsec / 1000));
  return us <= 0 ? 0 : (uint64_t)((us + 999) / 1000);
}

static void on_timer(uv_timer_t *h) {
  AvahiTimeout *t = h->data;
  /* One-shot, like avahi's own polls: the callback re-arms it if it wants. */
  t->cb(t, t->ud);
}

static void timeout_arm(AvahiTimeout *t, const struct timeval *tv) {
  if (!tv) {
    uv_timer_stop(&t->h);
    return;
  }
  /* Timers count from the loop's cached time: refresh it, or a timer set
   * late in a long iteration would fire early by that much. */
  uv_update_time(t->a->loop);
  uv_timer_start(&t->h, on_timer, delay_ms(tv), 0);
}

static AvahiTimeout *timeout_new(const AvahiPoll *api, const struct timeval *tv,
                                 AvahiTimeoutCallback cb, void *ud) {
  prosed_uv_avahi *a = api->userdata;
  if (a->closing || !cb) return NULL;
  AvahiTimeout *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  uv_timer_init(a->loop, &t->h);
  t->h.data = t;
  t->a = a;
  t->cb = cb;
  t->ud = ud;
  t->next = a->timeouts;
  a->timeouts = t;
  a->open++;
  timeout_arm(t, tv);
  return t;
}

static void timeout_update(AvahiTimeout *t, const struct timeval *tv) { timeout_arm(t, tv); }

static void timeout_free(AvahiTimeout *t) {
  prosed_uv_avahi *a = t->a;
  for (AvahiTimeout **p = &a->timeouts; *p; p = &(*p)->next)
    if (*p == t) {
      *p = t->next;
      break;
    }
  uv_close((uv_handle_t *)&t->h, handle_closed);
}

/* ---- the adapter ------------------------------------------------------------- */

prosed_uv_avahi *prosed_uv_avahi_new(uv_loop_t *loop) {
  if (!loop) return NULL;
  prosed_uv_avahi *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->loop = loop;
  a->api.userdata = a;
  a->api.watch_new = watch_new;
  a->api.watch_update = watch_update;
  a->api.watch_get_events = watch_get_events;
  a->api.watch_free = watch_free;
  a->api.timeout_new = timeout_new;
  a->api.timeout_update = timeout_update;
  a->api.timeout_free = timeout_free;
  return a;
}

const AvahiPoll *prosed_uv_avahi_poll(const prosed_uv_avahi *a) { return a ? &a->api : NULL; }

void prosed_uv_avahi_close(prosed_uv_avahi *a, void (*on_closed)(void *arg), void *arg) {
  if (!a || a->closing) return;
  a->closing = true;
  a->on_closed = on_closed;
  a->arg = arg;
  /* Normally avahi has freed everything by now; whatever it left (a leak
   * in a client library must not keep the loop alive) is closed here. */
  while (a->timeouts) {
    AvahiTimeout *t = a->timeouts;
    a->timeouts = t->next;
    uv_close((uv_handle_t *)&t->h, handle_closed);
  }
  while (a->fds) {
    pfd *f = a->fds;
    while (f->watches) {
      AvahiWatch *w = f->watches;
      f->watches = w->next;
      free(w);
    }
    fd_close(f);
  }
  if (a->open == 0) finish(a);
}
