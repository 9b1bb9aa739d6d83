/*
 * A control socket server with canned answers, for tests/cli/test_ctl.sh:
 * `ctl_testserver SOCKET` serves the real prosed_ctl server with a fake
 * daemon behind it, prints "ready" once it listens, emits a "tick" event
 * every 50 ms, and exits 0 on SIGTERM or SIGINT after closing every handle.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "ctl_server.h"
#include "prose/err.h"

typedef struct server {
  uv_loop_t loop;
  uv_signal_t term, intr;
  uv_timer_t tick;
  prosed_ctl *ctl;
  int ticks;
} server;

static int handle(void *ud, const prosed_ctl_req *req, json_t **result, char *msg, size_t msglen) {
  server *s = ud;
  switch (req->cmd) {
    case PROSED_CTL_STATUS:
      *result = json_pack("{s:s,s:s,s:i,s:b}", "uri", "sip:alice@example.org", "state", "idle",
                          "peers", 1, "ipv6", 0);
      return 0;
    case PROSED_CTL_PEERS:
      *result =
          json_pack("{s:[{s:s,s:s},{s:s,s:s}]}", "peers", "uri", "sip:bob@example.org", "address",
                    "198.18.0.2", "uri", "sip:carol@example.org", "address", "198.18.0.3");
      return 0;
    case PROSED_CTL_CALLS:
      *result = json_pack("{s:[]}", "calls");
      return 0;
    case PROSED_CTL_PTT_PRESS: {
      json_t *ev = json_pack("{s:s,s:s}", "state", "pending_request", "group",
                             req->group ? req->group : "fire");
      prosed_ctl_emit(s->ctl, "floor", ev);
      json_decref(ev);
      *result = json_pack("{s:i}", "priority", req->priority);
      return 0;
    }
    case PROSED_CTL_CALL_PRIVATE:
      if (strcmp(req->uri, "sip:nobody@example.org") == 0) {
        snprintf(msg, msglen, "no peer %s", req->uri);
        return PROSE_ENOENT;
      }
      break;
    case PROSED_CTL_GROUPS:
    case PROSED_CTL_KEYS:
    case PROSED_CTL_COUNTERS:
    case PROSED_CTL_CALL_GROUP:
    case PROSED_CTL_PTT_RELEASE:
    case PROSED_CTL_ACCEPT:
    case PROSED_CTL_REJECT:
    case PROSED_CTL_HANGUP:
    case PROSED_CTL_N_CMDS:
      break;
  }
  /* Everything else echoes what it was asked, so the script can check the
   * CLI's translation of its arguments. */
  *result = json_pack("{s:s,s:O}", "cmd", req->name, "args", (json_t *)req->args);
  return 0;
}

static void on_tick(uv_timer_t *t) {
  server *s = t->data;
  json_t *ev = json_pack("{s:i,s:s}", "n", ++s->ticks, "note", "two words");
  prosed_ctl_emit(s->ctl, "tick", ev);
  json_decref(ev);
}

static void on_signal(uv_signal_t *sig, int signum) {
  (void)signum;
  server *s = sig->data;
  prosed_ctl_close(s->ctl, NULL, NULL);
  uv_close((uv_handle_t *)&s->term, NULL);
  uv_close((uv_handle_t *)&s->intr, NULL);
  uv_close((uv_handle_t *)&s->tick, NULL);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: ctl_testserver SOCKET\n");
    return 2;
  }
  static server s;
  uv_loop_init(&s.loop);
  prosed_ctl_settings cs;
  prosed_ctl_settings_default(&cs);
  cs.path = argv[1];
  prosed_ctl_ops ops = {handle, NULL};
  char err[256];
  if (prosed_ctl_start(&s.loop, &cs, &ops, &s, &s.ctl, err, sizeof err) != 0) {
    fprintf(stderr, "ctl_testserver: %s\n", err);
    return 1;
  }
  s.term.data = s.intr.data = s.tick.data = &s;
  uv_signal_init(&s.loop, &s.term);
  uv_signal_start(&s.term, on_signal, SIGTERM);
  uv_signal_init(&s.loop, &s.intr);
  uv_signal_start(&s.intr, on_signal, SIGINT);
  uv_timer_init(&s.loop, &s.tick);
  uv_timer_start(&s.tick, on_tick, 50, 50);
  printf("ready\n");
  fflush(stdout);
  uv_run(&s.loop, UV_RUN_DEFAULT);
  return uv_loop_close(&s.loop) == 0 ? 0 : 1;
}
