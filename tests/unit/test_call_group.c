/*
 * Group call machines: a (state, event) table for S1-S7, the timers
 * TFG1-TFG6, TFG11 and the implicit downgrade timers TFG13/TFG14, and
 * scenarios with two or three engines wired back to back: originate after
 * TFG1, join via probe, late join, merge of two originators, suppression,
 * release and the ignore period, emergency and its END, the implicit
 * downgrade, user acknowledgement and confirm mode, broadcast, emergency
 * alerts.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "prose/call.h"
#include "prose/err.h"
#include "test_call_net.h"

#define G "sip:g1@example.org"
#define REF 10000u /* refresh interval */

static const char GSDP[] =
    "v=0\r\no=- 1 1 IN IP4 239.1.2.3\r\ns=-\r\nc=IN IP4 239.1.2.3\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0\r\nm=application 40002 udp MCPTT\r\n";

static prose_monp_msg ann(uint16_t id, uint8_t type, uint64_t start, const char *orig) {
  prose_monp_msg m;
  memset(&m, 0, sizeof m);
  m.type = PROSE_MONP_GROUP_CALL_ANNOUNCEMENT;
  m.call_id = id;
  m.call_type = type;
  m.refresh_interval = REF;
  m.call_start_time = start;
  m.last_change_time = start;
  m.group_id = prose_monp_str_of(G);
  m.sdp = prose_monp_str_of(GSDP);
  m.originating_user = prose_monp_str_of(orig);
  m.last_change_user = prose_monp_str_of(orig);
  return m;
}

static prose_monp_msg simple(prose_monp_type type, uint16_t id) {
  prose_monp_msg m;
  memset(&m, 0, sizeof m);
  m.type = type;
  m.call_id = id;
  m.call_type = PROSE_MONP_CALL_BASIC_GROUP;
  m.group_id = prose_monp_str_of(G);
  m.sending_user = prose_monp_str_of("sip:z@example.org");
  m.last_change_user = m.sending_user;
  m.originating_user = m.sending_user;
  m.organization = prose_monp_str_of("Org");
  return m;
}

static int feed(tn_node *n, const prose_monp_msg *m) {
  static uint8_t buf[PROSE_MONP_MSG_MAX];
  size_t len = tn_encode(m, buf, sizeof buf);
  return prose_call_recv(n->e, n->net->now, buf, len, "test");
}

static uint64_t wall_now(const tn_net *net) { return net->wall0 + net->now / 1000; }

static void ack_required(prose_call_settings *s, int idx) {
  (void)idx;
  s->user_ack_required = true;
}

/* ---------------------------------------------------------------------- */
/* (state, event) table                                                    */
/* ---------------------------------------------------------------------- */

enum ev {
  E_CALL,       /* user: call the group (basic) */
  E_ACCEPT,     /* user: accept */
  E_REJECT,     /* user: reject */
  E_RELEASE,    /* user: release */
  E_PROBE,      /* GROUP CALL PROBE received */
  E_ANN_SAME,   /* ANNOUNCEMENT of the reference call 0x5000 */
  E_ANN_BETTER, /* ANNOUNCEMENT of another call that wins the merge (emergency) */
  E_ANN_WORSE,  /* ANNOUNCEMENT of another call that loses (later start, basic) */
  E_GACCEPT,    /* GROUP CALL ACCEPT for 0x5000 */
  E_EEND        /* GROUP CALL EMERGENCY END for 0x5000 */
};

/* Bring node 0 to state s, with 0x5000 from sip:z as the reference call. */
static void reach(tn_net *net, prose_call_group_state s) {
  tn_node *a = &net->nodes[0];
  prose_monp_msg m = ann(0x5000, PROSE_MONP_CALL_BASIC_GROUP, wall_now(net), "sip:z@example.org");
  switch (s) {
    case PROSE_CALL_S1:
      break;
    case PROSE_CALL_S2:
      cr_assert_eq(prose_call_group_call(a->e, net->now, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
      break;
    case PROSE_CALL_S3:
    case PROSE_CALL_S4:
      cr_assert_eq(feed(a, &m), 0);
      break;
    case PROSE_CALL_S5:
      m.confirm_mode = true;
      cr_assert_eq(feed(a, &m), 0);
      break;
    case PROSE_CALL_S6:
      cr_assert_eq(feed(a, &m), 0);
      cr_assert_eq(prose_call_group_release(a->e, net->now, G), 0);
      break;
    case PROSE_CALL_S7:
      cr_assert_eq(prose_call_group_call(a->e, net->now, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
      cr_assert_eq(prose_call_group_release(a->e, net->now, G), 0);
      break;
  }
  cr_assert_eq(tn_ginfo(a, G).state, s, "could not reach S%d", (int)s);
}

static int apply(tn_net *net, enum ev ev) {
  tn_node *a = &net->nodes[0];
  uint64_t w = wall_now(net);
  prose_monp_msg m;
  switch (ev) {
    case E_CALL:
      return prose_call_group_call(a->e, net->now, G, PROSE_MONP_CALL_BASIC_GROUP);
    case E_ACCEPT:
      return prose_call_group_accept(a->e, net->now, G);
    case E_REJECT:
      return prose_call_group_reject(a->e, net->now, G);
    case E_RELEASE:
      return prose_call_group_release(a->e, net->now, G);
    case E_PROBE:
      m = simple(PROSE_MONP_GROUP_CALL_PROBE, 0);
      return feed(a, &m);
    case E_ANN_SAME:
      m = ann(0x5000, PROSE_MONP_CALL_BASIC_GROUP, w, "sip:z@example.org");
      return feed(a, &m);
    case E_ANN_BETTER:
      m = ann(0x6000, PROSE_MONP_CALL_EMERGENCY_GROUP, w + 5, "sip:y@example.org");
      return feed(a, &m);
    case E_ANN_WORSE:
      m = ann(0x0001, PROSE_MONP_CALL_BASIC_GROUP, w + 5, "sip:y@example.org");
      return feed(a, &m);
    case E_GACCEPT:
      m = simple(PROSE_MONP_GROUP_CALL_ACCEPT, 0x5000);
      return feed(a, &m);
    case E_EEND:
      m = simple(PROSE_MONP_GROUP_CALL_EMERGENCY_END, 0x5000);
      m.last_change_time = w;
      return feed(a, &m);
  }
  return -9999;
}

Test(call_group, state_event_table) {
  enum { NONE = 0 };
  static const struct {
    prose_call_group_state from;
    enum ev ev;
    prose_call_group_state to;
    int rc;
    int sent;                   /* message type sent at once, or NONE */
    prose_call_event_kind note; /* an event that must appear, or 0 */
  } T[] = {
      {PROSE_CALL_S1, E_CALL, PROSE_CALL_S2, 0, PROSE_MONP_GROUP_CALL_PROBE, 0},
      {PROSE_CALL_S1, E_ACCEPT, PROSE_CALL_S1, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S1, E_REJECT, PROSE_CALL_S1, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S1, E_RELEASE, PROSE_CALL_S1, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S1, E_PROBE, PROSE_CALL_S1, 0, NONE, 0},
      {PROSE_CALL_S1, E_ANN_SAME, PROSE_CALL_S3, 0, NONE, PROSE_CALL_EV_GROUP_JOINED},
      {PROSE_CALL_S1, E_ANN_BETTER, PROSE_CALL_S3, 0, NONE, PROSE_CALL_EV_GROUP_JOINED},
      {PROSE_CALL_S1, E_GACCEPT, PROSE_CALL_S1, 0, NONE, 0},
      {PROSE_CALL_S1, E_EEND, PROSE_CALL_S1, 0, NONE, 0},

      {PROSE_CALL_S2, E_CALL, PROSE_CALL_S2, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S2, E_ACCEPT, PROSE_CALL_S2, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S2, E_REJECT, PROSE_CALL_S2, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S2, E_RELEASE, PROSE_CALL_S7, 0, NONE, 0},
      {PROSE_CALL_S2, E_PROBE, PROSE_CALL_S2, 0, NONE, 0},
      {PROSE_CALL_S2, E_ANN_SAME, PROSE_CALL_S3, 0, NONE, PROSE_CALL_EV_GROUP_JOINED},
      {PROSE_CALL_S2, E_GACCEPT, PROSE_CALL_S2, 0, NONE, 0},
      {PROSE_CALL_S2, E_EEND, PROSE_CALL_S2, 0, NONE, 0},

      {PROSE_CALL_S3, E_CALL, PROSE_CALL_S3, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S3, E_ACCEPT, PROSE_CALL_S3, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S3, E_REJECT, PROSE_CALL_S3, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S3, E_RELEASE, PROSE_CALL_S6, 0, NONE, PROSE_CALL_EV_GROUP_RELEASED},
      {PROSE_CALL_S3, E_PROBE, PROSE_CALL_S3, 0, NONE, 0},
      {PROSE_CALL_S3, E_ANN_SAME, PROSE_CALL_S3, 0, NONE, 0},
      {PROSE_CALL_S3, E_ANN_BETTER, PROSE_CALL_S3, 0, NONE, PROSE_CALL_EV_GROUP_MERGED},
      {PROSE_CALL_S3, E_ANN_WORSE, PROSE_CALL_S3, 0, NONE, 0},
      {PROSE_CALL_S3, E_GACCEPT, PROSE_CALL_S3, 0, NONE, PROSE_CALL_EV_GROUP_ACCEPTED},
      {PROSE_CALL_S3, E_EEND, PROSE_CALL_S3, 0, NONE, 0},

      {PROSE_CALL_S6, E_CALL, PROSE_CALL_S2, 0, PROSE_MONP_GROUP_CALL_PROBE, 0},
      {PROSE_CALL_S6, E_ACCEPT, PROSE_CALL_S6, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S6, E_REJECT, PROSE_CALL_S6, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S6, E_RELEASE, PROSE_CALL_S6, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S6, E_PROBE, PROSE_CALL_S6, 0, NONE, 0},
      {PROSE_CALL_S6, E_ANN_SAME, PROSE_CALL_S6, 0, NONE, 0},
      {PROSE_CALL_S6, E_ANN_BETTER, PROSE_CALL_S3, 0, NONE, PROSE_CALL_EV_GROUP_JOINED},
      {PROSE_CALL_S6, E_GACCEPT, PROSE_CALL_S6, 0, NONE, 0},
      {PROSE_CALL_S6, E_EEND, PROSE_CALL_S6, 0, NONE, 0},

      {PROSE_CALL_S7, E_CALL, PROSE_CALL_S2, 0, PROSE_MONP_GROUP_CALL_PROBE, 0},
      {PROSE_CALL_S7, E_ACCEPT, PROSE_CALL_S7, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S7, E_REJECT, PROSE_CALL_S7, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S7, E_RELEASE, PROSE_CALL_S7, PROSE_EINVAL, NONE, 0},
      {PROSE_CALL_S7, E_PROBE, PROSE_CALL_S7, 0, NONE, 0},
      {PROSE_CALL_S7, E_ANN_SAME, PROSE_CALL_S6, 0, NONE, 0},
      {PROSE_CALL_S7, E_ANN_BETTER, PROSE_CALL_S6, 0, NONE, 0},
      {PROSE_CALL_S7, E_GACCEPT, PROSE_CALL_S7, 0, NONE, 0},
      {PROSE_CALL_S7, E_EEND, PROSE_CALL_S7, 0, NONE, 0},

      /* With user acknowledgement required (S4/S5 are reachable). */
      {PROSE_CALL_S4, E_CALL, PROSE_CALL_S3, 0, NONE, PROSE_CALL_EV_GROUP_JOINED},
      {PROSE_CALL_S4, E_ACCEPT, PROSE_CALL_S3, 0, NONE, PROSE_CALL_EV_GROUP_JOINED},
      {PROSE_CALL_S4, E_REJECT, PROSE_CALL_S6, 0, NONE, 0},
      {PROSE_CALL_S4, E_RELEASE, PROSE_CALL_S6, 0, NONE, 0},
      {PROSE_CALL_S4, E_PROBE, PROSE_CALL_S4, 0, NONE, 0},
      {PROSE_CALL_S4, E_ANN_SAME, PROSE_CALL_S4, 0, NONE, 0},
      {PROSE_CALL_S4, E_ANN_BETTER, PROSE_CALL_S4, 0, NONE, 0},
      {PROSE_CALL_S4, E_GACCEPT, PROSE_CALL_S4, 0, NONE, 0},
      {PROSE_CALL_S4, E_EEND, PROSE_CALL_S4, 0, NONE, 0},
      {PROSE_CALL_S5, E_CALL, PROSE_CALL_S3, 0, PROSE_MONP_GROUP_CALL_ACCEPT, 0},
      {PROSE_CALL_S5, E_ACCEPT, PROSE_CALL_S3, 0, PROSE_MONP_GROUP_CALL_ACCEPT, 0},
      {PROSE_CALL_S5, E_REJECT, PROSE_CALL_S6, 0, NONE, 0},
      {PROSE_CALL_S5, E_RELEASE, PROSE_CALL_S6, 0, NONE, 0},
      {PROSE_CALL_S5, E_PROBE, PROSE_CALL_S5, 0, NONE, 0},
      {PROSE_CALL_S5, E_ANN_SAME, PROSE_CALL_S5, 0, NONE, 0},
      {PROSE_CALL_S5, E_GACCEPT, PROSE_CALL_S5, 0, NONE, 0},
      {PROSE_CALL_S5, E_EEND, PROSE_CALL_S5, 0, NONE, 0},
      {PROSE_CALL_S1, E_ANN_SAME, PROSE_CALL_S4, 0, NONE, PROSE_CALL_EV_GROUP_INCOMING},
  };
  for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
    bool ack = T[i].from == PROSE_CALL_S4 || T[i].from == PROSE_CALL_S5 ||
               T[i].to == PROSE_CALL_S4;
    tn_net net;
    tn_init(&net, 1, ack ? ack_required : NULL);
    tn_group_all(&net, G);
    net.now = 1000;
    tn_node *a = &net.nodes[0];
    reach(&net, T[i].from);
    size_t sent0 = a->n_sent, ev0 = a->n_ev;
    int rc = apply(&net, T[i].ev);
    cr_assert_eq(rc, T[i].rc, "row %zu: rc %d", i, rc);
    cr_assert_eq(tn_ginfo(a, G).state, T[i].to, "row %zu: S%d", i, (int)tn_ginfo(a, G).state);
    if (T[i].sent == NONE) {
      cr_assert_eq(a->n_sent, sent0, "row %zu: unexpected send", i);
    } else {
      cr_assert_eq(a->n_sent, sent0 + 1, "row %zu", i);
      cr_assert_eq((int)a->sent[sent0].type, T[i].sent, "row %zu", i);
    }
    if (T[i].note) {
      bool seen = false;
      for (size_t k = ev0; k < a->n_ev; k++) seen |= a->ev[k].kind == T[i].note;
      cr_assert(seen, "row %zu: event %d missing", i, (int)T[i].note);
    }
    if (rc != 0) cr_assert_eq(a->n_ev, ev0, "row %zu: a refused action changed something", i);
    tn_free(&net);
  }
}

/* Every transition is reported once, with its trigger. */
Test(call_group, state_trace) {
  tn_net net;
  tn_init(&net, 1, NULL);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 200);
  cr_assert_eq(prose_call_group_release(a->e, net.now, G), 0);
  static const struct {
    int from, to;
    const char *trigger;
  } want[] = {{1, 2, "user call"}, {2, 3, "TFG1 expiry"}, {3, 6, "user release"}};
  size_t k = 0;
  for (size_t i = 0; i < a->n_ev; i++) {
    if (a->ev[i].kind != PROSE_CALL_EV_GROUP_STATE) continue;
    cr_assert_lt(k, 3u);
    cr_assert_eq(a->ev[i].old_state, want[k].from);
    cr_assert_eq(a->ev[i].new_state, want[k].to);
    cr_assert_str_eq(a->ev[i].trigger, want[k].trigger);
    k++;
  }
  cr_assert_eq(k, 3u);
  const tn_event *t = tn_last_ev(a, PROSE_CALL_EV_TYPE_STATE);
  cr_assert(t && t->old_state == PROSE_CALL_T2 && t->new_state == PROSE_CALL_T0);
  cr_assert_str_eq(prose_call_group_state_name(PROSE_CALL_S5), "S5");
  tn_free(&net);
}

/* ---------------------------------------------------------------------- */
/* Timers                                                                   */
/* ---------------------------------------------------------------------- */

static void short_max(prose_call_settings *s, int idx) {
  (void)idx;
  s->group_max_duration_s = 60;
}

Test(call_group, timers) {
  tn_net net;
  tn_init(&net, 1, short_max);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0];

  /* TFG3 repeats the probe every 40 ms until TFG1 (150 ms) expires. */
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 149);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_PROBE), 4u); /* 0, 40, 80, 120 */
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S2);
  tn_run(&net, 150);
  prose_call_group_info gi = tn_ginfo(a, G);
  cr_assert_eq(gi.state, PROSE_CALL_S3);
  cr_assert(gi.originator);
  cr_assert_eq(gi.start_time, net.wall0);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT), 1u);
  cr_assert_eq(tn_last_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT)->at, 150u);

  /* TFG2 periodic: refresh x U(2/3, 4/3) between consecutive announcements. */
  tn_run(&net, 30000);
  uint64_t prev = 150;
  size_t n = 0;
  for (size_t i = 0; i < a->n_sent; i++) {
    if (a->sent[i].type != PROSE_MONP_GROUP_CALL_ANNOUNCEMENT || a->sent[i].at == 150) continue;
    uint64_t gap = a->sent[i].at - prev;
    cr_assert(gap >= 6667 && gap <= 13333, "gap %lu", (unsigned long)gap);
    prev = a->sent[i].at;
    n++;
  }
  cr_assert(n >= 2 && n <= 4, "periodic announcements %zu", n);

  /* A probe: answered within 1/12 s, with the probe response IE, once. */
  tn_clear_logs(a);
  prose_monp_msg probe = simple(PROSE_MONP_GROUP_CALL_PROBE, 0);
  cr_assert_eq(feed(a, &probe), 0);
  cr_assert_eq(feed(a, &probe), 0); /* a repeat does not re-arm */
  uint64_t t0 = net.now;
  tn_run(&net, t0 + 83);
  const tn_sent *s = tn_last_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT);
  cr_assert_not_null(s);
  cr_assert(s->probe_response && s->at > t0 && s->at <= t0 + 83);
  tn_run(&net, t0 + 14000);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT), 2u);
  cr_assert(!tn_last_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT)->probe_response);

  /* TFG6: 60 s after the call start time the call ends (S6), then TFG5. */
  tn_run(&net, 59999);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S3);
  tn_run(&net, 60150);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S6);
  cr_assert_eq(tn_last_ev(a, PROSE_CALL_EV_GROUP_RELEASED)->err, PROSE_ETIME);
  tn_run(&net, 60150 + 29999);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S6);
  tn_run(&net, 60150 + 30000);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S1);
  cr_assert_eq(prose_call_next_deadline(a->e), UINT64_MAX);

  /* S7: TFG1 still runs after a release while probing; expiry -> S1. */
  net.now = 100000;
  cr_assert_eq(prose_call_group_call(a->e, net.now, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_step(&net, 10);
  cr_assert_eq(prose_call_group_release(a->e, net.now, G), 0);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S7);
  cr_assert_eq(prose_call_next_deadline(a->e), 100150u);
  tn_run(&net, 100150);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S1);
  tn_free(&net);
}

Test(call_group, tfg4_tfg5_and_ignored_call) {
  tn_net net;
  tn_init(&net, 1, ack_required);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0];
  prose_monp_msg m = ann(0x5000, PROSE_MONP_CALL_BASIC_GROUP, wall_now(&net), "sip:z@example.org");
  cr_assert_eq(feed(a, &m), 0);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S4);
  cr_assert_eq(tn_last_ev(a, PROSE_CALL_EV_GROUP_INCOMING)->call_id, 0x5000);
  cr_assert(tn_last_ev(a, PROSE_CALL_EV_GROUP_INCOMING)->has_sdp);
  tn_run(&net, 29999);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S4);
  tn_run(&net, 30000); /* TFG4 */
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S6);
  /* TFG5 re-armed by every announcement of the ignored call. */
  tn_run(&net, 50000);
  cr_assert_eq(feed(a, &m), 0);
  tn_run(&net, 79999);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S6);
  tn_run(&net, 80000);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S1);
  tn_free(&net);
}

/*
 * The user releases while the engine still probes (S2): the probing stops
 * at once (no PROBE after the release, no ANNOUNCEMENT when TFG1 expires),
 * S7 until TFG1, then S1. An answer that arrives in S7 is not joined: the
 * call is ignored (S6) for TFG5, and every announcement of it re-arms TFG5
 * (24.379 10.2.2, DIGEST §7.5).
 */
Test(call_group, release_while_probing_cancels_the_probe) {
  tn_net net;
  tn_init(&net, 1, NULL);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 10);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_PROBE), 1u);
  cr_assert_eq(prose_call_group_release(a->e, net.now, G), 0);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S7);
  const tn_event *e = tn_last_ev(a, PROSE_CALL_EV_GROUP_STATE);
  cr_assert(e && e->old_state == PROSE_CALL_S2 && e->new_state == PROSE_CALL_S7);
  cr_assert_str_eq(e->trigger, "user release");
  cr_assert_eq(prose_call_next_deadline(a->e), 150u, "TFG3 stopped, TFG1 runs");
  cr_assert_eq(prose_call_group_release(a->e, net.now, G), PROSE_EINVAL, "nothing left to release");
  tn_run(&net, 1000);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_PROBE), 1u);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT), 0u);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S1);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_GROUP_STARTED), 0u);
  cr_assert_eq(prose_call_next_deadline(a->e), UINT64_MAX);

  /* Again, and the answer to the probe comes after the release. */
  cr_assert_eq(prose_call_group_call(a->e, net.now, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 1010);
  cr_assert_eq(prose_call_group_release(a->e, net.now, G), 0);
  tn_run(&net, 1020);
  prose_monp_msg m = ann(0x5000, PROSE_MONP_CALL_BASIC_GROUP, wall_now(&net), "sip:z@example.org");
  m.probe_response = true;
  cr_assert_eq(feed(a, &m), 0);
  prose_call_group_info gi = tn_ginfo(a, G);
  cr_assert_eq(gi.state, PROSE_CALL_S6);
  cr_assert_eq(gi.call_id, 0x5000);
  cr_assert_eq(prose_call_next_deadline(a->e), 1020u + 30000u, "TFG5");
  /* The call goes on; its periodic announcements keep it ignored. */
  m.probe_response = false;
  for (uint64_t t = 11020; t <= 51020; t += 10000) {
    tn_run(&net, t);
    cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S6, "t=%lu", (unsigned long)t);
    cr_assert_eq(feed(a, &m), 0);
  }
  tn_run(&net, 51020 + 29999);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S6);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_GROUP_JOINED), 0u);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_GROUP_STARTED), 0u);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_PROBE), 2u);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT), 0u);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_ACCEPT), 0u);
  tn_run(&net, 51020 + 30000);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S1, "TFG5 expired: the call is forgotten");
  tn_free(&net);
}

/* ---------------------------------------------------------------------- */
/* Scenarios with several engines                                           */
/* ---------------------------------------------------------------------- */

/* Nobody answers the probe (the others have no call): TFG1 -> announce,
 * and the other two join the announced call. */
Test(call_group, originate_after_tfg1_and_others_join) {
  tn_net net;
  tn_init(&net, 3, NULL);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1], *c = &net.nodes[2];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 1000);
  prose_call_group_info ga = tn_ginfo(a, G), gb = tn_ginfo(b, G), gc = tn_ginfo(c, G);
  cr_assert(ga.state == PROSE_CALL_S3 && gb.state == PROSE_CALL_S3 && gc.state == PROSE_CALL_S3);
  cr_assert(ga.originator && !gb.originator && !gc.originator);
  cr_assert(ga.call_id == gb.call_id && gb.call_id == gc.call_id);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_PROBE), 4u);
  const tn_event *j = tn_last_ev(b, PROSE_CALL_EV_GROUP_JOINED);
  cr_assert(j && j->has_sdp && j->sdp_audio_port == 40000 && j->at == 152);
  cr_assert_str_eq(j->peer, a->id);
  cr_assert(tn_last_ev(a, PROSE_CALL_EV_GROUP_STARTED)->has_sdp);
  cr_assert_eq(b->rc_errors + c->rc_errors, 0);
  tn_free(&net);
}

/* A call is running; a member probing joins through the probe response
 * within 1/12 s and never originates. */
Test(call_group, join_via_probe) {
  tn_net net;
  tn_init(&net, 2, NULL);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  b->deaf = true; /* B is away while A starts */
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 2000);
  b->deaf = false;
  cr_assert_eq(prose_call_group_call(b->e, net.now, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  uint64_t t0 = net.now;
  tn_run(&net, t0 + 149);
  prose_call_group_info gb = tn_ginfo(b, G);
  cr_assert_eq(gb.state, PROSE_CALL_S3);
  cr_assert(!gb.originator);
  cr_assert_eq(gb.call_id, tn_ginfo(a, G).call_id);
  const tn_event *j = tn_last_ev(b, PROSE_CALL_EV_GROUP_JOINED);
  cr_assert(j->at <= t0 + 2 + 83 + 2, "joined at %lu", (unsigned long)(j->at - t0));
  cr_assert(tn_last_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT)->probe_response);
  tn_run(&net, t0 + 1000);
  cr_assert_eq(tn_count_sent(b, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT), 0u);
  tn_free(&net);
}

/* A member that was away hears a periodic announcement and joins late. */
Test(call_group, late_join_via_periodic_announcement) {
  tn_net net;
  tn_init(&net, 3, NULL);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0], *c = &net.nodes[2];
  c->deaf = true;
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 3000);
  cr_assert_eq(tn_ginfo(c, G).state, PROSE_CALL_S1);
  c->deaf = false;
  tn_run(&net, 3000 + 4 * REF / 3 + 10);
  cr_assert_eq(tn_ginfo(c, G).state, PROSE_CALL_S3);
  cr_assert_eq(tn_ginfo(c, G).call_id, tn_ginfo(a, G).call_id);
  cr_assert_eq(tn_count_sent(c, PROSE_MONP_GROUP_CALL_PROBE), 0u);
  tn_free(&net);
}

/* Both probe at once and the probes are lost: both originate, then merge
 * into one call by the rule (same type: earlier start, then lower id). */
static void merge_case(uint64_t skew_b, prose_monp_call_type ta, prose_monp_call_type tb,
                       int want_winner) {
  tn_net net;
  tn_init(&net, 3, NULL);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1], *c = &net.nodes[2];
  b->wall_skew = skew_b;
  net.drop[PROSE_MONP_GROUP_CALL_PROBE] = -1;
  cr_assert_eq(prose_call_group_call(a->e, 0, G, ta), 0);
  cr_assert_eq(prose_call_group_call(b->e, 0, G, tb), 0);
  tn_run(&net, 151); /* both TFG1 expire; announcements cross */
  cr_assert(tn_ginfo(a, G).originator && tn_ginfo(b, G).originator);
  uint16_t ida = tn_ginfo(a, G).call_id, idb = tn_ginfo(b, G).call_id;
  cr_assert_neq(ida, idb);
  tn_run(&net, 1000);
  prose_call_group_info ga = tn_ginfo(a, G), gb = tn_ginfo(b, G), gc = tn_ginfo(c, G);
  cr_assert(ga.state == PROSE_CALL_S3 && gb.state == PROSE_CALL_S3 && gc.state == PROSE_CALL_S3);
  cr_assert(ga.call_id == gb.call_id && gb.call_id == gc.call_id, "%x %x %x", ga.call_id,
            gb.call_id, gc.call_id);
  int winner = want_winner;
  if (winner < 0) winner = ida < idb ? 0 : 1; /* same type and start: lower id */
  cr_assert_eq(ga.call_id, winner == 0 ? ida : idb);
  tn_node *loser = winner == 0 ? b : a;
  cr_assert_eq(tn_count_ev(loser, PROSE_CALL_EV_GROUP_MERGED), 1u);
  cr_assert_eq(tn_count_ev(winner == 0 ? a : b, PROSE_CALL_EV_GROUP_MERGED), 0u);
  /* Still one call a minute later. */
  tn_run(&net, 60000);
  cr_assert_eq(tn_ginfo(c, G).call_id, ga.call_id);
  cr_assert_eq(tn_ginfo(loser, G).call_id, ga.call_id);
  tn_free(&net);
}

Test(call_group, merge_of_two_originators) {
  merge_case(0, PROSE_MONP_CALL_BASIC_GROUP, PROSE_MONP_CALL_BASIC_GROUP, -1); /* lower id */
  merge_case(5, PROSE_MONP_CALL_BASIC_GROUP, PROSE_MONP_CALL_BASIC_GROUP, 0);  /* A earlier */
  merge_case(5, PROSE_MONP_CALL_BASIC_GROUP, PROSE_MONP_CALL_EMERGENCY_GROUP, 1); /* type wins */
  merge_case(0, PROSE_MONP_CALL_IMMINENT_PERIL_GROUP, PROSE_MONP_CALL_BASIC_GROUP, 0);
}

/* Three members: each period one announcement goes out, not three. */
static void no_max(prose_call_settings *s, int idx) {
  (void)idx;
  s->group_max_duration_s = 0;
}

Test(call_group, periodic_announcement_suppression) {
  tn_net net;
  tn_init(&net, 3, no_max);
  tn_group_all(&net, G);
  cr_assert_eq(prose_call_group_call(net.nodes[0].e, 0, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 1000);
  for (int i = 0; i < 3; i++) tn_clear_logs(&net.nodes[i]);
  tn_run(&net, 1000 + 100 * REF);
  size_t total = 0;
  for (int i = 0; i < 3; i++)
    total += tn_count_sent(&net.nodes[i], PROSE_MONP_GROUP_CALL_ANNOUNCEMENT);
  /* Each period the earliest of three U(2/3, 4/3) x refresh timers fires
   * and the other two restart: a mean period of 5/6 refresh, 120 in 100
   * refresh intervals; without suppression there would be 300. */
  cr_assert(total >= 100 && total <= 140, "announcements %zu", total);
  for (int i = 0; i < 3; i++)
    cr_assert_gt(tn_count_sent(&net.nodes[i], PROSE_MONP_GROUP_CALL_ANNOUNCEMENT), 10u);
  tn_free(&net);
}

/* B leaves and ignores the call; when the call is gone, TFG5 returns B to
 * S1; a new call is then joined again. */
Test(call_group, release_and_ignore_period) {
  tn_net net;
  tn_init(&net, 2, NULL);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 1000);
  uint16_t id = tn_ginfo(a, G).call_id;
  cr_assert_eq(prose_call_group_release(b->e, net.now, G), 0);
  cr_assert_eq(tn_ginfo(b, G).state, PROSE_CALL_S6);
  cr_assert_eq(tn_last_ev(b, PROSE_CALL_EV_GROUP_RELEASED)->err, 0);
  tn_run(&net, 100000); /* A keeps announcing; B keeps ignoring */
  cr_assert_eq(tn_ginfo(b, G).state, PROSE_CALL_S6);
  cr_assert_eq(tn_count_sent(b, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT), 0u);
  cr_assert_eq(prose_call_group_release(a->e, net.now, G), 0);
  tn_run(&net, net.now + 30000 + 14000);
  cr_assert_eq(tn_ginfo(b, G).state, PROSE_CALL_S1);
  /* A new call (new call id) is joined again. */
  cr_assert_eq(prose_call_group_call(a->e, net.now, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_step(&net, 1000);
  cr_assert_eq(tn_ginfo(b, G).state, PROSE_CALL_S3);
  cr_assert_neq(tn_ginfo(b, G).call_id, id);
  tn_free(&net);
}

/* Emergency call: T1 everywhere; END returns it to basic, retransmitted
 * CFG11 times TFG11 apart; a basic call upgraded by a member. */
Test(call_group, emergency_call_end_and_upgrade) {
  tn_net net;
  tn_init(&net, 2, NULL);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_EMERGENCY_GROUP), 0);
  tn_run(&net, 1000);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T1);
  cr_assert_eq(tn_ginfo(b, G).type_state, PROSE_CALL_T1);
  cr_assert_eq(tn_ginfo(b, G).call_type, PROSE_MONP_CALL_EMERGENCY_GROUP);
  cr_assert_eq(prose_call_group_end_emergency(b->e, net.now, G), 0); /* any member may */
  cr_assert_eq(prose_call_group_end_emergency(b->e, net.now, G), PROSE_EINVAL);
  tn_step(&net, 10);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  cr_assert_eq(tn_ginfo(a, G).call_type, PROSE_MONP_CALL_BASIC_GROUP);
  tn_step(&net, 10000);
  cr_assert_eq(tn_count_sent(b, PROSE_MONP_GROUP_CALL_EMERGENCY_END), 5u); /* CFG11 */
  uint64_t t1 = 0, t2 = 0;
  for (size_t i = 0; i < b->n_sent; i++)
    if (b->sent[i].type == PROSE_MONP_GROUP_CALL_EMERGENCY_END) {
      t1 = t2;
      t2 = b->sent[i].at;
    }
  cr_assert_eq(t2 - t1, 1000u); /* TFG11 */
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  /* Upgrade to imminent peril by B: announced at once, A follows. */
  tn_clear_logs(b);
  cr_assert_eq(prose_call_group_call(b->e, net.now, G, PROSE_MONP_CALL_IMMINENT_PERIL_GROUP), 0);
  cr_assert_eq(b->sent[0].type, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT);
  cr_assert_eq(b->sent[0].call_type, PROSE_MONP_CALL_IMMINENT_PERIL_GROUP);
  tn_step(&net, 10);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T3);
  cr_assert_eq(prose_call_group_call(b->e, net.now, G, PROSE_MONP_CALL_BASIC_GROUP), PROSE_EINVAL);
  /* Imminent peril END by A. */
  cr_assert_eq(prose_call_group_end_emergency(a->e, net.now, G), 0);
  tn_step(&net, 10);
  cr_assert_eq(tn_ginfo(b, G).type_state, PROSE_CALL_T2);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_IMMINENT_PERIL_END), 1u);
  /* A stale announcement with the old type and change time changes nothing. */
  tn_step(&net, 60000);
  cr_assert_eq(tn_ginfo(b, G).type_state, PROSE_CALL_T2);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  tn_free(&net);
}

/* ---------------------------------------------------------------------- */
/* TFG13 / TFG14: implicit downgrade (24.379 10.2.3.4.1.1)                  */
/* ---------------------------------------------------------------------- */

#define X13 20000u /* ms: short, and different from X14 so they cannot be confused */
#define X14 30000u

static void short_downgrade(prose_call_settings *s, int idx) {
  (void)idx;
  s->tfg13 = X13;
  s->tfg14 = X14;
}

static void short_downgrade_ack(prose_call_settings *s, int idx) {
  short_downgrade(s, idx);
  s->user_ack_required = true;
}

static size_t count_type_to(const tn_node *n, prose_call_type_state t) {
  size_t c = 0;
  for (size_t i = 0; i < n->n_ev; i++)
    c += n->ev[i].kind == PROSE_CALL_EV_TYPE_STATE && n->ev[i].new_state == (int)t;
  return c;
}

static size_t count_trigger(const tn_node *n, const char *trigger) {
  size_t c = 0;
  for (size_t i = 0; i < n->n_ev; i++) c += strcmp(n->ev[i].trigger, trigger) == 0;
  return c;
}

/* A originates an emergency call when TFG1 runs out at 150 ms, so Z (the
 * last call type change time) is wall0 and TFG13 = X - (Y - Z) ends at
 * 150 + X exactly: T1 up to the millisecond before, T2 at it, by the timer,
 * with no END sent; the next announcement carries the basic type. */
Test(call_group, tfg13_implicit_downgrade_at_expiry) {
  tn_net net;
  tn_init(&net, 1, short_downgrade);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_EMERGENCY_GROUP), 0);
  tn_run(&net, 150);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T1);
  tn_run(&net, 150 + X13 - 1);
  prose_call_group_info gi = tn_ginfo(a, G);
  cr_assert_eq(gi.type_state, PROSE_CALL_T1, "downgraded 1 ms early");
  cr_assert_eq(gi.call_type, PROSE_MONP_CALL_EMERGENCY_GROUP);
  cr_assert_eq(count_type_to(a, PROSE_CALL_T2), 0u);
  tn_run(&net, 150 + X13);
  gi = tn_ginfo(a, G);
  cr_assert_eq(gi.state, PROSE_CALL_S3, "the call itself goes on");
  cr_assert_eq(gi.type_state, PROSE_CALL_T2);
  cr_assert_eq(gi.call_type, PROSE_MONP_CALL_BASIC_GROUP);
  const tn_event *ev = tn_last_ev(a, PROSE_CALL_EV_TYPE_STATE);
  cr_assert_not_null(ev);
  cr_assert_eq(ev->old_state, PROSE_CALL_T1);
  cr_assert_eq(ev->new_state, PROSE_CALL_T2);
  cr_assert_str_eq(ev->trigger, "TFG13 expiry");
  cr_assert_eq(ev->at, 150u + X13);
  cr_assert_eq(ev->call_type, PROSE_MONP_CALL_BASIC_GROUP, "the event carries the new type");
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_EMERGENCY_END), 0u);
  tn_clear_logs(a);
  tn_run(&net, 150 + X13 + 14000); /* one TFG2 period at most */
  const tn_sent *s = tn_last_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT);
  cr_assert_not_null(s);
  cr_assert_eq(s->call_type, PROSE_MONP_CALL_BASIC_GROUP);
  cr_assert_eq(s->last_change_time, net.wall0 + X13 / 1000u, "Z + X");
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_TYPE_STATE), 0u);
  tn_free(&net);
}

/* What restarts TFG13: a newer call type change of the same call (here
 * another member's announcement with the emergency type and a later change
 * time), not an announcement that repeats the stored change. After the
 * downgrade, the emergency announcement it superseded changes nothing. */
Test(call_group, tfg13_restarted_by_newer_type_change_only) {
  tn_net net;
  tn_init(&net, 1, short_downgrade);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_EMERGENCY_GROUP), 0);
  tn_run(&net, 15000);
  uint16_t id = tn_ginfo(a, G).call_id;
  prose_monp_msg same = ann(id, PROSE_MONP_CALL_EMERGENCY_GROUP, net.wall0, a->id);
  cr_assert_eq(feed(a, &same), 0); /* identical: suppression only */
  tn_run(&net, 150 + X13 - 1);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T1);
  tn_run(&net, 150 + X13);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2, "an identical announcement restarted TFG13");
  tn_free(&net);

  tn_init(&net, 1, short_downgrade);
  tn_group_all(&net, G);
  a = &net.nodes[0];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_EMERGENCY_GROUP), 0);
  tn_run(&net, 10000);
  id = tn_ginfo(a, G).call_id;
  prose_monp_msg refresh = ann(id, PROSE_MONP_CALL_EMERGENCY_GROUP, net.wall0, a->id);
  refresh.last_change_time = wall_now(&net); /* wall0 + 10 */
  refresh.last_change_user = prose_monp_str_of("sip:z@example.org");
  cr_assert_eq(feed(a, &refresh), 0);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T1);
  tn_run(&net, 150 + X13);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T1, "not restarted by the refresh");
  tn_run(&net, 10000 + X13 - 1);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T1);
  cr_assert_eq(count_type_to(a, PROSE_CALL_T2), 0u);
  tn_run(&net, 10000 + X13);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  cr_assert_str_eq(tn_last_ev(a, PROSE_CALL_EV_TYPE_STATE)->trigger, "TFG13 expiry");
  cr_assert_eq(tn_last_ev(a, PROSE_CALL_EV_TYPE_STATE)->at, 10000u + X13);
  cr_assert_eq(feed(a, &refresh), 0); /* superseded: Z + X is newer */
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  tn_free(&net);
}

/* A member joining an emergency call whose type changed 5 s before gets
 * what is left: X - (Y - Z) = X - 5 s. One joining when X has passed
 * returns to basic at once (1 ms). */
Test(call_group, tfg13_late_join_uses_the_stored_change_time) {
  tn_net net;
  tn_init(&net, 1, short_downgrade);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0];
  net.now = 7000;
  prose_monp_msg m = ann(0x5000, PROSE_MONP_CALL_EMERGENCY_GROUP, net.wall0, "sip:z@example.org");
  m.last_change_time = net.wall0 + 2;
  cr_assert_eq(feed(a, &m), 0);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T1);
  tn_run(&net, 7000 + X13 - 5000 - 1);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T1);
  tn_run(&net, 7000 + X13 - 5000);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  cr_assert_eq(tn_last_ev(a, PROSE_CALL_EV_TYPE_STATE)->at, 7000u + X13 - 5000u);
  tn_free(&net);

  tn_init(&net, 1, short_downgrade);
  tn_group_all(&net, G);
  a = &net.nodes[0];
  net.now = 30000;
  m.last_change_time = net.wall0 + 5; /* 25 s ago, X is 20 s */
  cr_assert_eq(feed(a, &m), 0);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T1);
  cr_assert_eq(prose_call_next_deadline(a->e), 30001u);
  tn_run(&net, 30001);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  tn_free(&net);
}

/* Imminent peril: TFG14 with its own X (TFG13's, shorter, is not armed in
 * T3). A originates, B joins 2 ms later; both take the same Z, fall back to
 * basic by their own timers and then agree: same call type and change time,
 * no further type changes, no IMMINENT PERIL END on the air. */
Test(call_group, tfg14_implicit_downgrade_of_imminent_peril) {
  tn_net net;
  tn_init(&net, 2, short_downgrade);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_IMMINENT_PERIL_GROUP), 0);
  tn_run(&net, 200);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T3);
  cr_assert_eq(tn_ginfo(b, G).type_state, PROSE_CALL_T3);
  tn_run(&net, 150 + X14 - 1);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T3, "TFG13 (%u ms) ran in T3", X13);
  cr_assert_eq(tn_ginfo(b, G).type_state, PROSE_CALL_T3);
  tn_run(&net, 150 + X14);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  cr_assert_eq(tn_ginfo(a, G).call_type, PROSE_MONP_CALL_BASIC_GROUP);
  const tn_event *ev = tn_last_ev(a, PROSE_CALL_EV_TYPE_STATE);
  cr_assert_eq(ev->old_state, PROSE_CALL_T3);
  cr_assert_str_eq(ev->trigger, "TFG14 expiry");
  cr_assert_eq(ev->at, 150u + X14);
  tn_run(&net, 152 + X14);
  cr_assert_eq(tn_ginfo(b, G).type_state, PROSE_CALL_T2);
  cr_assert_leq(tn_last_ev(b, PROSE_CALL_EV_TYPE_STATE)->at, 152u + X14);
  tn_clear_logs(a);
  tn_clear_logs(b);
  tn_run(&net, 150 + X14 + 60000);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_TYPE_STATE) + tn_count_ev(b, PROSE_CALL_EV_TYPE_STATE),
               0u, "no flip-flop after the downgrade");
  const tn_sent *sa = tn_last_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT);
  const tn_sent *sb = tn_last_sent(b, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT);
  cr_assert(sa && sb);
  cr_assert_eq(sa->call_type, PROSE_MONP_CALL_BASIC_GROUP);
  cr_assert_eq(sb->call_type, PROSE_MONP_CALL_BASIC_GROUP);
  cr_assert_eq(sa->last_change_time, net.wall0 + X14 / 1000u);
  cr_assert_eq(sb->last_change_time, sa->last_change_time);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_IMMINENT_PERIL_END) +
                   tn_count_sent(b, PROSE_MONP_GROUP_CALL_IMMINENT_PERIL_END),
               0u);
  tn_free(&net);
}

/* An explicit END stops TFG13 on both sides (the sender's and the
 * receiver's): nothing happens at the old expiry. A new upgrade later
 * starts it again from its own change time. */
Test(call_group, tfg13_stopped_by_end) {
  tn_net net;
  tn_init(&net, 2, short_downgrade);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_EMERGENCY_GROUP), 0);
  tn_run(&net, 5000);
  cr_assert_eq(tn_ginfo(b, G).type_state, PROSE_CALL_T1);
  cr_assert_eq(prose_call_group_end_emergency(b->e, net.now, G), 0);
  tn_step(&net, 10);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  cr_assert_eq(tn_ginfo(b, G).type_state, PROSE_CALL_T2);
  tn_run(&net, 150 + X13 + 1000);
  for (int i = 0; i < 2; i++) {
    tn_node *n = &net.nodes[i];
    cr_assert_eq(count_trigger(n, "TFG13 expiry"), 0u, "node %d", i);
    cr_assert_eq(tn_count_ev(n, PROSE_CALL_EV_TYPE_STATE), 2u, "T1 then T2 only, node %d", i);
  }
  /* A upgrades again at 30 s: TFG13 counts from this change. */
  tn_run(&net, 30000);
  cr_assert_eq(prose_call_group_call(a->e, net.now, G, PROSE_MONP_CALL_EMERGENCY_GROUP), 0);
  tn_run(&net, 30000 + X13 - 1);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T1);
  tn_run(&net, 30000 + X13);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  cr_assert_str_eq(tn_last_ev(a, PROSE_CALL_EV_TYPE_STATE)->trigger, "TFG13 expiry");
  tn_free(&net);
}

/* TFG13 runs only in T1 of an ongoing call (S3): not in T0 while the user
 * decides about an incoming emergency call (S4), not in a basic call (T2),
 * and no more once the user left an emergency call (S6, T0). */
Test(call_group, tfg13_not_armed_outside_t1) {
  tn_net net;
  tn_init(&net, 1, short_downgrade_ack);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0];
  prose_monp_msg m = ann(0x5000, PROSE_MONP_CALL_EMERGENCY_GROUP, net.wall0, "sip:z@example.org");
  cr_assert_eq(feed(a, &m), 0);
  prose_call_group_info gi = tn_ginfo(a, G);
  cr_assert_eq(gi.state, PROSE_CALL_S4);
  cr_assert_eq(gi.type_state, PROSE_CALL_T0);
  cr_assert_eq(gi.call_type, PROSE_MONP_CALL_EMERGENCY_GROUP);
  cr_assert_eq(prose_call_next_deadline(a->e), 30000u, "TFG4 only");
  tn_run(&net, 29999);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_TYPE_STATE), 0u);
  tn_free(&net);

  tn_init(&net, 1, short_downgrade);
  tn_group_all(&net, G);
  a = &net.nodes[0];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 150 + 3 * X13);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_TYPE_STATE), 1u, "T0 -> T2 only");
  tn_free(&net);

  tn_init(&net, 1, short_downgrade);
  tn_group_all(&net, G);
  a = &net.nodes[0];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_EMERGENCY_GROUP), 0);
  tn_run(&net, 1000);
  cr_assert_eq(prose_call_group_release(a->e, net.now, G), 0);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T0);
  cr_assert_eq(prose_call_next_deadline(a->e), 1000u + 30000u, "TFG5 only");
  tn_free(&net);
}

/* A asks for confirmation; B needs the user's acknowledgement (S5), accepts
 * and sends GROUP CALL ACCEPT, which A reports. */
static void confirm_and_ack(prose_call_settings *s, int idx) {
  if (idx == 0) s->confirm_mode = true;
  if (idx == 1) s->user_ack_required = true;
}

Test(call_group, confirm_mode_and_user_ack) {
  tn_net net;
  tn_init(&net, 3, confirm_and_ack);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1], *c = &net.nodes[2];
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 500);
  cr_assert(tn_last_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT)->confirm_mode);
  cr_assert_eq(tn_ginfo(b, G).state, PROSE_CALL_S5);
  cr_assert_eq(tn_ginfo(c, G).state, PROSE_CALL_S3);
  cr_assert_eq(tn_count_sent(c, PROSE_MONP_GROUP_CALL_ACCEPT), 1u); /* joined at once */
  cr_assert_eq(prose_call_group_accept(b->e, net.now, G), 0);
  cr_assert_eq(tn_count_sent(b, PROSE_MONP_GROUP_CALL_ACCEPT), 1u);
  tn_step(&net, 10);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_GROUP_ACCEPTED), 2u);
  cr_assert_str_eq(tn_last_ev(a, PROSE_CALL_EV_GROUP_ACCEPTED)->peer, b->id);
  cr_assert_eq(tn_ginfo(b, G).state, PROSE_CALL_S3);
  tn_free(&net);
}

/* Broadcast: the originator's retransmissions let a late member in; one
 * member needs acknowledgement; END returns everyone to B1; TFB1 ends it. */
static void bcast_settings(prose_call_settings *s, int idx) {
  if (idx == 2) s->user_ack_required = true;
  s->broadcast_max_duration_s = 20;
}

Test(call_group, broadcast_call) {
  tn_net net;
  tn_init(&net, 3, bcast_settings);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1], *c = &net.nodes[2];
  b->deaf = true;
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_BROADCAST_GROUP), 0);
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_BROADCAST_GROUP), PROSE_EINVAL);
  tn_run(&net, 10);
  cr_assert_eq(tn_ginfo(a, G).bcast_state, PROSE_CALL_B2);
  cr_assert_eq(tn_ginfo(c, G).bcast_state, PROSE_CALL_B3);
  cr_assert_eq(tn_last_ev(c, PROSE_CALL_EV_GROUP_INCOMING)->call_type,
               PROSE_MONP_CALL_BROADCAST_GROUP);
  b->deaf = false;
  tn_run(&net, 3100); /* TFB2 = 3 s */
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_BROADCAST), 2u);
  cr_assert_eq(tn_ginfo(b, G).bcast_state, PROSE_CALL_B2);
  cr_assert_eq(tn_ginfo(b, G).bcast_call_id, tn_ginfo(a, G).bcast_call_id);
  cr_assert_eq(prose_call_group_accept(c->e, net.now, G), 0);
  cr_assert_eq(tn_ginfo(c, G).bcast_state, PROSE_CALL_B2);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S1); /* the basic machine is untouched */
  cr_assert_eq(prose_call_group_release(a->e, net.now, G), 0);
  tn_step(&net, 10);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_BROADCAST_END), 1u);
  for (int i = 0; i < 3; i++) cr_assert_eq(tn_ginfo(&net.nodes[i], G).bcast_state, PROSE_CALL_B1);
  cr_assert_eq(tn_count_ev(b, PROSE_CALL_EV_GROUP_RELEASED), 1u);

  /* TFB1: a broadcast that runs out of time ends with END. */
  cr_assert_eq(prose_call_group_call(a->e, net.now, G, PROSE_MONP_CALL_BROADCAST_GROUP), 0);
  tn_step(&net, 10);
  cr_assert_eq(prose_call_group_release(b->e, net.now, G), 0); /* B leaves: B4 */
  cr_assert_eq(tn_ginfo(b, G).bcast_state, PROSE_CALL_B4);
  cr_assert_eq(prose_call_group_reject(c->e, net.now, G), 0);
  cr_assert_eq(tn_ginfo(c, G).bcast_state, PROSE_CALL_B4);
  tn_step(&net, 20000);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_CALL_BROADCAST_END), 2u);
  for (int i = 0; i < 3; i++) cr_assert_eq(tn_ginfo(&net.nodes[i], G).bcast_state, PROSE_CALL_B1);
  cr_assert_eq(tn_last_ev(a, PROSE_CALL_EV_GROUP_RELEASED)->err, PROSE_ETIME);
  tn_free(&net);
}

/* Emergency alert: acknowledged by each member, retransmitted every TFE2,
 * cancelled and acknowledged; a silent alerter is forgotten after TFE1. */
Test(call_group, emergency_alert) {
  tn_net net;
  tn_init(&net, 3, NULL);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1], *c = &net.nodes[2];
  cr_assert_eq(prose_call_emergency_alert(a->e, 0, G, false), PROSE_EINVAL);
  cr_assert_eq(prose_call_emergency_alert(a->e, 0, G, true), 0);
  cr_assert_eq(prose_call_emergency_alert(a->e, 0, G, true), PROSE_EINVAL);
  tn_run(&net, 10);
  cr_assert_eq(tn_ginfo(a, G).alert_state, PROSE_CALL_E2);
  cr_assert_eq(tn_ginfo(b, G).alerts, 1u);
  const tn_event *al = tn_last_ev(b, PROSE_CALL_EV_ALERT);
  cr_assert_str_eq(al->peer, a->id);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_ALERT_ACK), 2u);
  tn_run(&net, 10010);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_EMERGENCY_ALERT), 3u); /* 0, 5 s, 10 s */
  cr_assert_eq(tn_count_sent(b, PROSE_MONP_GROUP_EMERGENCY_ALERT_ACK), 1u);
  cr_assert_eq(prose_call_emergency_alert(a->e, net.now, G, false), 0);
  tn_step(&net, 10);
  cr_assert_eq(tn_ginfo(b, G).alerts, 0u);
  cr_assert_eq(tn_count_ev(c, PROSE_CALL_EV_ALERT_CANCELLED), 1u);
  cr_assert_eq(tn_last_ev(a, PROSE_CALL_EV_ALERT_ACK)->reason, 1);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_ALERT_ACK), 4u);
  /* TFE1: C alerts, then goes silent (its retransmissions are lost). */
  cr_assert_eq(prose_call_emergency_alert(c->e, net.now, G, true), 0);
  tn_step(&net, 10);
  cr_assert_eq(tn_ginfo(a, G).alerts, 1u);
  net.drop[PROSE_MONP_GROUP_EMERGENCY_ALERT] = -1;
  tn_step(&net, 29000);
  cr_assert_eq(tn_ginfo(a, G).alerts, 1u);
  tn_step(&net, 1000);
  cr_assert_eq(tn_ginfo(a, G).alerts, 0u);
  cr_assert_eq(tn_last_ev(a, PROSE_CALL_EV_ALERT_CANCELLED)->err, PROSE_ETIME);
  tn_free(&net);
}

/* Malformed input leaves the machine as it was, with a specific code. */
Test(call_group, bad_input_changes_nothing) {
  tn_net net;
  tn_init(&net, 1, NULL);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0];
  prose_monp_msg m = ann(0x5000, PROSE_MONP_CALL_BASIC_GROUP, 1, "sip:z@example.org");
  m.sdp = prose_monp_str_of("v=0\r\nbroken");
  cr_assert_eq(feed(a, &m), PROSE_ESDP_SYNTAX);
  m.sdp = prose_monp_str_of("v=0\r\n");
  cr_assert_eq(feed(a, &m), PROSE_ESDP_MISSING);
  m.sdp = prose_monp_str_of(GSDP);
  m.group_id = prose_monp_str_of("sip:other@example.org");
  cr_assert_eq(feed(a, &m), PROSE_ENOENT);
  uint8_t junk[] = {2, 0x50};
  cr_assert_eq(prose_call_recv(a->e, 0, junk, sizeof junk, "x"), PROSE_ETRUNC);
  cr_assert_eq(tn_ginfo(a, G).state, PROSE_CALL_S1);
  cr_assert_eq(a->n_ev, 0u);
  cr_assert_eq(a->n_sent, 0u);
  /* API misuse. */
  cr_assert_eq(prose_call_group_call(a->e, 0, "sip:nope", PROSE_MONP_CALL_BASIC_GROUP),
               PROSE_ENOENT);
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_PRIVATE), PROSE_EINVAL);
  cr_assert_eq(prose_call_group_add(a->e, G, "239.1.2.3", 1, 2), PROSE_EEXIST);
  cr_assert_eq(prose_call_group_add(a->e, "sip:x", "not-ip", 1, 2), PROSE_EINVAL);
  for (unsigned i = 1; i < PROSE_CALL_MAX_GROUPS; i++) {
    char id[32];
    snprintf(id, sizeof id, "sip:g%u", i + 100);
    cr_assert_eq(prose_call_group_add(a->e, id, "ff15::1", 1, 2), 0);
  }
  cr_assert_eq(prose_call_group_add(a->e, "sip:full", "239.1.2.3", 1, 2), PROSE_ERANGE);
  tn_free(&net);
}

/* Less travelled paths: an upgrade right after joining from S2, the merge
 * tie on originator, a same-second upgrade, TFB3, a new broadcast in B4 and
 * a full alert table. */
Test(call_group, edge_cases) {
  tn_net net;
  tn_init(&net, 1, NULL);
  tn_group_all(&net, G);
  tn_node *a = &net.nodes[0];
  uint64_t w = wall_now(&net);
  /* S2 asking for emergency joins a basic call and upgrades it at once. */
  cr_assert_eq(prose_call_group_call(a->e, 0, G, PROSE_MONP_CALL_EMERGENCY_GROUP), 0);
  prose_monp_msg m = ann(0x5000, PROSE_MONP_CALL_BASIC_GROUP, w, "sip:m@example.org");
  cr_assert_eq(feed(a, &m), 0);
  prose_call_group_info gi = tn_ginfo(a, G);
  cr_assert_eq(gi.call_id, 0x5000);
  cr_assert_eq(gi.type_state, PROSE_CALL_T1);
  const tn_sent *s = tn_last_sent(a, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT);
  cr_assert(s && s->call_type == PROSE_MONP_CALL_EMERGENCY_GROUP);
  /* Same type, start and id, another originator: the lower ID wins. */
  m = ann(0x5000, PROSE_MONP_CALL_EMERGENCY_GROUP, w, "sip:n@example.org");
  cr_assert_eq(feed(a, &m), 0);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_GROUP_MERGED), 0u); /* m < n: ours stays */
  m = ann(0x5000, PROSE_MONP_CALL_EMERGENCY_GROUP, w, "sip:l@example.org");
  cr_assert_eq(feed(a, &m), 0);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_GROUP_MERGED), 1u); /* l < m */
  /* Same call, same change second, a lower type: ours (the higher) stays. */
  prose_monp_msg low = ann(0x5000, PROSE_MONP_CALL_BASIC_GROUP, w, "sip:l@example.org");
  cr_assert_eq(feed(a, &low), 0);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T1);
  /* END in the same second as the call's last change: the change time
   * still moves forward, so a stale emergency announcement cannot undo it. */
  cr_assert_eq(prose_call_group_end_emergency(a->e, 0, G), 0);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  prose_monp_msg stale = ann(0x5000, PROSE_MONP_CALL_EMERGENCY_GROUP, w, "sip:l@example.org");
  cr_assert_eq(feed(a, &stale), 0);
  cr_assert_eq(tn_ginfo(a, G).type_state, PROSE_CALL_T2);
  tn_free(&net);

  /* TFB3 and a new broadcast while ignoring the old one. */
  tn_init(&net, 1, ack_required);
  tn_group_all(&net, G);
  a = &net.nodes[0];
  prose_monp_msg b = simple(PROSE_MONP_GROUP_CALL_BROADCAST, 0x0B0B);
  b.call_type = PROSE_MONP_CALL_BROADCAST_GROUP;
  b.sdp = prose_monp_str_of(GSDP);
  cr_assert_eq(feed(a, &b), 0);
  cr_assert_eq(tn_ginfo(a, G).bcast_state, PROSE_CALL_B3);
  cr_assert_eq(feed(a, &b), 0); /* a retransmission changes nothing */
  tn_run(&net, 30000);
  cr_assert_eq(tn_ginfo(a, G).bcast_state, PROSE_CALL_B4);
  cr_assert_eq(feed(a, &b), 0);
  cr_assert_eq(tn_ginfo(a, G).bcast_state, PROSE_CALL_B4);
  b.call_id = 0x0C0C;
  cr_assert_eq(feed(a, &b), 0);
  cr_assert_eq(tn_ginfo(a, G).bcast_state, PROSE_CALL_B3);
  cr_assert_eq(tn_ginfo(a, G).bcast_call_id, 0x0C0C);
  cr_assert_eq(prose_call_group_release(a->e, net.now, G), 0);
  cr_assert_eq(tn_ginfo(a, G).bcast_state, PROSE_CALL_B4);
  prose_monp_msg end = simple(PROSE_MONP_GROUP_CALL_BROADCAST_END, 0x0C0C);
  cr_assert_eq(feed(a, &end), 0);
  cr_assert_eq(tn_ginfo(a, G).bcast_state, PROSE_CALL_B1);

  /* More alerting users than the table holds: acknowledged, reported with
   * ERANGE, not remembered. */
  tn_clear_logs(a);
  for (unsigned i = 0; i <= PROSE_CALL_MAX_ALERTS; i++) {
    char who[32];
    snprintf(who, sizeof who, "sip:u%u@example.org", i);
    prose_monp_msg al = simple(PROSE_MONP_GROUP_EMERGENCY_ALERT, 0);
    al.originating_user = prose_monp_str_of(who);
    cr_assert_eq(feed(a, &al), 0);
  }
  cr_assert_eq(tn_ginfo(a, G).alerts, PROSE_CALL_MAX_ALERTS);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_GROUP_EMERGENCY_ALERT_ACK), PROSE_CALL_MAX_ALERTS + 1);
  cr_assert_eq(tn_last_ev(a, PROSE_CALL_EV_ALERT)->err, PROSE_ERANGE);
  tn_free(&net);
}

static void no_send(void *ud, const char *to, const uint8_t *msg, size_t len) {
  (void)ud, (void)to, (void)msg, (void)len;
}

/* Settings and arguments the constructor refuses. */
Test(call_group, engine_creation_errors) {
  prose_call_settings s;
  prose_call_settings_default(&s);
  s.mcptt_id = "sip:a@example.org";
  prose_call_callbacks cb;
  memset(&cb, 0, sizeof cb);
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, 1);
  prose_call_engine *e = NULL;
  cr_assert_eq(prose_call_engine_new(&e, &s, &cb, NULL, &rng), PROSE_EINVAL); /* no send */
  cb.send_group = no_send;
  cb.send_private = no_send;
  s.unicast_addr = "999.1.1.1";
  cr_assert_eq(prose_call_engine_new(&e, &s, &cb, NULL, &rng), PROSE_EINVAL);
  prose_call_settings_default(&s);
  s.mcptt_id = "sip:a@example.org";
  s.tfp4 = 0;
  cr_assert_eq(prose_call_engine_new(&e, &s, &cb, NULL, &rng), PROSE_ECONFIG);
  s.tfp4 = 40;
  s.cfg11 = 0;
  cr_assert_eq(prose_call_engine_new(&e, &s, &cb, NULL, &rng), PROSE_ECONFIG);
  s.cfg11 = 5;
  s.organization = "";
  cr_assert_eq(prose_call_engine_new(&e, &s, &cb, NULL, &rng), PROSE_ECONFIG);
  s.organization = "Org";
  s.mcptt_id = "";
  cr_assert_eq(prose_call_engine_new(&e, &s, &cb, NULL, &rng), PROSE_EINVAL);
  s.mcptt_id = "sip:a@example.org";
  cr_assert_eq(prose_call_engine_new(&e, &s, &cb, NULL, &rng), 0);
  cr_assert_eq(prose_call_next_deadline(e), UINT64_MAX);
  prose_call_engine_free(e);
  cr_assert_eq(prose_call_engine_new(NULL, &s, &cb, NULL, &rng), PROSE_EINVAL);
}
