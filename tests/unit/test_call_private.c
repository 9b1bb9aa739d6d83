/*
 * Private call machine: a (state, event) table for P0-P5, and scenarios
 * with two or three engines: automatic and manual commencement, accept /
 * accept-ack, reject, key validation failure (reason 3, callee in P1),
 * release / release-ack, retransmission until CFP1, CFP3 and CFP4, maximum
 * duration, busy, the emergency call cancel and the P1 ignore period.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "prose/call.h"
#include "prose/err.h"
#include "test_call_net.h"

#define A_ID "sip:a@example.org"
#define B_ID "sip:b@example.org"
#define C_ID "sip:c@example.org"

static const char PSDP[] =
    "v=0\r\no=- 7 1 IN IP4 198.18.0.9\r\ns=-\r\nc=IN IP4 198.18.0.9\r\nt=0 0\r\n"
    "m=audio 5000 RTP/AVP 0\r\nm=application 5002 udp MCPTT\r\n";

static int feed(tn_node *n, const prose_monp_msg *m) {
  static uint8_t buf[PROSE_MONP_MSG_MAX];
  size_t len = tn_encode(m, buf, sizeof buf);
  return prose_call_recv(n->e, n->net->now, buf, len, "test");
}

/* A message of call id between caller and callee. */
static prose_monp_msg pm(prose_monp_type type, uint16_t id, const char *caller,
                         const char *callee) {
  prose_monp_msg m;
  memset(&m, 0, sizeof m);
  m.type = type;
  m.call_id = id;
  m.caller = prose_monp_str_of(caller);
  m.callee = prose_monp_str_of(callee);
  m.call_type = PROSE_MONP_CALL_PRIVATE;
  m.sdp = prose_monp_str_of(PSDP);
  return m;
}

static const char *const KEY_FOR_B = "a=key-mgmt:mikey SU1TRzpzaXA6YkBleGFtcGxlLm9yZw==\r\n";

/* A SETUP from C to B with the key B's test hook accepts ("IMSG:<B>"). */
static prose_monp_msg setup_from_c(uint16_t id, prose_monp_commencement mode, char *buf,
                                   size_t cap) {
  snprintf(buf, cap,
           "v=0\r\no=- 7 1 IN IP4 198.18.0.9\r\ns=-\r\nc=IN IP4 198.18.0.9\r\nt=0 0\r\n%s"
           "m=audio 5000 RTP/AVP 0\r\nm=application 5002 udp MCPTT\r\n",
           KEY_FOR_B);
  prose_monp_msg m = pm(PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, id, C_ID, B_ID);
  m.commencement = (uint8_t)mode;
  m.sdp = prose_monp_str_of(buf);
  return m;
}

/* ---------------------------------------------------------------------- */
/* (state, event) table, on node B with a scripted peer C                  */
/* ---------------------------------------------------------------------- */

enum pev {
  PE_CALL,       /* user: call C */
  PE_ACCEPT,     /* user: accept */
  PE_REJECT,     /* user: reject */
  PE_RELEASE,    /* user: release */
  PE_SETUP_SAME, /* SETUP of the current call id (retransmission) */
  PE_SETUP_NEW,  /* SETUP with another call id */
  PE_RINGING,
  PE_PACCEPT,    /* PRIVATE CALL ACCEPT */
  PE_PREJECT,    /* PRIVATE CALL REJECT */
  PE_ACCEPT_ACK,
  PE_PRELEASE,   /* PRIVATE CALL RELEASE */
  PE_RELEASE_ACK
};

typedef enum reach_kind {
  R_P0,
  R_P1,          /* after C rejected our call */
  R_P2,          /* we call C (automatic) */
  R_P3,          /* we released our call */
  R_P4_CALLER,   /* C accepted our call */
  R_P5_RINGING,  /* C calls us, manual: we ring */
  R_P5_ANSWERED, /* C calls us, automatic: we answered, no ack yet */
  R_P4_CALLEE    /* answered and acked */
} reach_kind;

static uint16_t g_id; /* the call id of the reached state */

/* Node 1 is B (sip:b); C is scripted: what B sends to C is only logged. */
static void reach(tn_net *net, reach_kind r) {
  tn_node *b = &net->nodes[1];
  static char sbuf[1024];
  prose_monp_msg m;
  prose_call_private_info pi;
  switch (r) {
    case R_P0:
      g_id = 0x1111;
      return;
    case R_P1:
    case R_P2:
    case R_P3:
    case R_P4_CALLER:
      cr_assert_eq(prose_call_private_call(b->e, net->now, C_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC,
                                           false),
                   0);
      cr_assert_eq(prose_call_private_get(b->e, C_ID, &pi), 0);
      g_id = pi.call_id;
      if (r == R_P1) {
        m = pm(PROSE_MONP_PRIVATE_CALL_REJECT, g_id, B_ID, C_ID);
        cr_assert_eq(feed(b, &m), 0);
      } else if (r == R_P3) {
        cr_assert_eq(prose_call_private_release(b->e, net->now, C_ID), 0);
      } else if (r == R_P4_CALLER) {
        m = pm(PROSE_MONP_PRIVATE_CALL_ACCEPT, g_id, B_ID, C_ID);
        cr_assert_eq(feed(b, &m), 0);
      }
      return;
    case R_P5_RINGING:
    case R_P5_ANSWERED:
    case R_P4_CALLEE:
      g_id = 0x2222;
      m = setup_from_c(g_id,
                       r == R_P5_RINGING ? PROSE_MONP_COMMENCEMENT_MANUAL
                                         : PROSE_MONP_COMMENCEMENT_AUTOMATIC,
                       sbuf, sizeof sbuf);
      cr_assert_eq(feed(b, &m), 0);
      if (r == R_P4_CALLEE) {
        m = pm(PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK, g_id, C_ID, B_ID);
        cr_assert_eq(feed(b, &m), 0);
      }
      return;
  }
}

static bool caller_side(reach_kind r) { return r >= R_P1 && r <= R_P4_CALLER; }

static int apply(tn_net *net, reach_kind r, enum pev ev) {
  tn_node *b = &net->nodes[1];
  static char sbuf[1024];
  /* Messages from C travel in the direction of the call. */
  const char *caller = caller_side(r) ? B_ID : C_ID, *callee = caller_side(r) ? C_ID : B_ID;
  prose_monp_msg m;
  switch (ev) {
    case PE_CALL:
      return prose_call_private_call(b->e, net->now, C_ID, PROSE_MONP_COMMENCEMENT_MANUAL, false);
    case PE_ACCEPT:
      return prose_call_private_accept(b->e, net->now, C_ID);
    case PE_REJECT:
      return prose_call_private_reject(b->e, net->now, C_ID);
    case PE_RELEASE:
      return prose_call_private_release(b->e, net->now, C_ID);
    case PE_SETUP_SAME:
    case PE_SETUP_NEW:
      m = setup_from_c(ev == PE_SETUP_SAME ? g_id : (uint16_t)(g_id + 7),
                       PROSE_MONP_COMMENCEMENT_MANUAL, sbuf, sizeof sbuf);
      return feed(b, &m);
    case PE_RINGING:
      m = pm(PROSE_MONP_PRIVATE_CALL_RINGING, g_id, caller, callee);
      return feed(b, &m);
    case PE_PACCEPT:
      m = pm(PROSE_MONP_PRIVATE_CALL_ACCEPT, g_id, caller, callee);
      return feed(b, &m);
    case PE_PREJECT:
      m = pm(PROSE_MONP_PRIVATE_CALL_REJECT, g_id, caller, callee);
      return feed(b, &m);
    case PE_ACCEPT_ACK:
      m = pm(PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK, g_id, caller, callee);
      return feed(b, &m);
    case PE_PRELEASE:
      m = pm(PROSE_MONP_PRIVATE_CALL_RELEASE, g_id, caller, callee);
      return feed(b, &m);
    case PE_RELEASE_ACK:
      m = pm(PROSE_MONP_PRIVATE_CALL_RELEASE_ACK, g_id, caller, callee);
      return feed(b, &m);
  }
  return -9999;
}

Test(call_private, state_event_table) {
  enum { NONE = 0 };
  static const struct {
    reach_kind from;
    enum pev ev;
    prose_call_private_state to;
    int rc;
    int sent; /* message sent at once, or NONE */
  } T[] = {
      {R_P0, PE_CALL, PROSE_CALL_P2, 0, PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST},
      {R_P0, PE_ACCEPT, PROSE_CALL_P0, PROSE_ENOENT, NONE},
      {R_P0, PE_REJECT, PROSE_CALL_P0, PROSE_ENOENT, NONE},
      {R_P0, PE_RELEASE, PROSE_CALL_P0, PROSE_ENOENT, NONE},
      {R_P0, PE_SETUP_SAME, PROSE_CALL_P5, 0, PROSE_MONP_PRIVATE_CALL_RINGING},
      {R_P0, PE_RINGING, PROSE_CALL_P0, 0, NONE},
      {R_P0, PE_PRELEASE, PROSE_CALL_P0, 0, NONE},

      {R_P1, PE_CALL, PROSE_CALL_P2, 0, PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST},
      {R_P1, PE_ACCEPT, PROSE_CALL_P1, PROSE_EINVAL, NONE},
      {R_P1, PE_RELEASE, PROSE_CALL_P1, PROSE_EINVAL, NONE},
      {R_P1, PE_PACCEPT, PROSE_CALL_P1, 0, NONE},  /* old call id: ignored */
      {R_P1, PE_PREJECT, PROSE_CALL_P1, 0, NONE},
      {R_P1, PE_PRELEASE, PROSE_CALL_P1, 0, PROSE_MONP_PRIVATE_CALL_RELEASE_ACK},

      {R_P2, PE_CALL, PROSE_CALL_P2, PROSE_EINVAL, NONE},
      {R_P2, PE_ACCEPT, PROSE_CALL_P2, PROSE_EINVAL, NONE},
      {R_P2, PE_REJECT, PROSE_CALL_P2, PROSE_EINVAL, NONE},
      {R_P2, PE_RELEASE, PROSE_CALL_P3, 0, PROSE_MONP_PRIVATE_CALL_RELEASE},
      {R_P2, PE_SETUP_NEW, PROSE_CALL_P2, 0, PROSE_MONP_PRIVATE_CALL_REJECT}, /* busy */
      {R_P2, PE_RINGING, PROSE_CALL_P2, 0, NONE},
      {R_P2, PE_PACCEPT, PROSE_CALL_P4, 0, PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK},
      {R_P2, PE_PREJECT, PROSE_CALL_P1, 0, NONE},
      {R_P2, PE_ACCEPT_ACK, PROSE_CALL_P2, 0, NONE}, /* wrong direction */
      {R_P2, PE_PRELEASE, PROSE_CALL_P1, 0, PROSE_MONP_PRIVATE_CALL_RELEASE_ACK},
      {R_P2, PE_RELEASE_ACK, PROSE_CALL_P2, 0, NONE},

      {R_P3, PE_CALL, PROSE_CALL_P3, PROSE_EINVAL, NONE},
      {R_P3, PE_RELEASE, PROSE_CALL_P3, PROSE_EINVAL, NONE},
      {R_P3, PE_PACCEPT, PROSE_CALL_P3, 0, NONE},
      {R_P3, PE_PRELEASE, PROSE_CALL_P1, 0, PROSE_MONP_PRIVATE_CALL_RELEASE_ACK},
      {R_P3, PE_RELEASE_ACK, PROSE_CALL_P1, 0, NONE},

      {R_P4_CALLER, PE_CALL, PROSE_CALL_P4, PROSE_EINVAL, NONE},
      {R_P4_CALLER, PE_ACCEPT, PROSE_CALL_P4, PROSE_EINVAL, NONE},
      {R_P4_CALLER, PE_RELEASE, PROSE_CALL_P3, 0, PROSE_MONP_PRIVATE_CALL_RELEASE},
      {R_P4_CALLER, PE_SETUP_NEW, PROSE_CALL_P4, 0, PROSE_MONP_PRIVATE_CALL_REJECT},
      {R_P4_CALLER, PE_PACCEPT, PROSE_CALL_P4, 0, PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK},
      {R_P4_CALLER, PE_PREJECT, PROSE_CALL_P4, 0, NONE},
      {R_P4_CALLER, PE_PRELEASE, PROSE_CALL_P1, 0, PROSE_MONP_PRIVATE_CALL_RELEASE_ACK},
      {R_P4_CALLER, PE_RELEASE_ACK, PROSE_CALL_P4, 0, NONE},

      {R_P5_RINGING, PE_CALL, PROSE_CALL_P5, PROSE_EINVAL, NONE},
      {R_P5_RINGING, PE_ACCEPT, PROSE_CALL_P5, 0, PROSE_MONP_PRIVATE_CALL_ACCEPT},
      {R_P5_RINGING, PE_REJECT, PROSE_CALL_P1, 0, PROSE_MONP_PRIVATE_CALL_REJECT},
      {R_P5_RINGING, PE_RELEASE, PROSE_CALL_P1, 0, PROSE_MONP_PRIVATE_CALL_REJECT},
      {R_P5_RINGING, PE_SETUP_SAME, PROSE_CALL_P5, 0, PROSE_MONP_PRIVATE_CALL_RINGING},
      {R_P5_RINGING, PE_SETUP_NEW, PROSE_CALL_P5, 0, PROSE_MONP_PRIVATE_CALL_REJECT},
      {R_P5_RINGING, PE_ACCEPT_ACK, PROSE_CALL_P5, 0, NONE}, /* not answered yet */
      {R_P5_RINGING, PE_PRELEASE, PROSE_CALL_P1, 0, PROSE_MONP_PRIVATE_CALL_RELEASE_ACK},

      {R_P5_ANSWERED, PE_ACCEPT, PROSE_CALL_P5, PROSE_EINVAL, NONE},
      {R_P5_ANSWERED, PE_REJECT, PROSE_CALL_P5, PROSE_EINVAL, NONE},
      {R_P5_ANSWERED, PE_RELEASE, PROSE_CALL_P3, 0, PROSE_MONP_PRIVATE_CALL_RELEASE},
      {R_P5_ANSWERED, PE_SETUP_SAME, PROSE_CALL_P5, 0, PROSE_MONP_PRIVATE_CALL_ACCEPT},
      {R_P5_ANSWERED, PE_ACCEPT_ACK, PROSE_CALL_P4, 0, NONE},
      {R_P5_ANSWERED, PE_PACCEPT, PROSE_CALL_P5, 0, NONE}, /* wrong direction */
      {R_P5_ANSWERED, PE_PRELEASE, PROSE_CALL_P1, 0, PROSE_MONP_PRIVATE_CALL_RELEASE_ACK},

      {R_P4_CALLEE, PE_SETUP_SAME, PROSE_CALL_P4, 0, NONE},
      {R_P4_CALLEE, PE_ACCEPT_ACK, PROSE_CALL_P4, 0, NONE},
      {R_P4_CALLEE, PE_RELEASE, PROSE_CALL_P3, 0, PROSE_MONP_PRIVATE_CALL_RELEASE},
      {R_P4_CALLEE, PE_PRELEASE, PROSE_CALL_P1, 0, PROSE_MONP_PRIVATE_CALL_RELEASE_ACK},
  };
  for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
    tn_net net;
    tn_init(&net, 2, NULL);
    tn_node *b = &net.nodes[1];
    net.now = 5000;
    reach(&net, T[i].from);
    size_t sent0 = b->n_sent;
    int rc = apply(&net, T[i].from, T[i].ev);
    cr_assert_eq(rc, T[i].rc, "row %zu: rc %d", i, rc);
    cr_assert_eq(tn_pstate(b, C_ID), T[i].to, "row %zu: P%d", i, (int)tn_pstate(b, C_ID));
    if (T[i].sent == NONE) {
      cr_assert_eq(b->n_sent, sent0, "row %zu: unexpected %s", i,
                   b->n_sent > sent0 ? prose_monp_type_name((int)b->sent[sent0].type) : "");
    } else {
      cr_assert_eq(b->n_sent, sent0 + 1, "row %zu: %zu sent", i, b->n_sent - sent0);
      cr_assert_eq((int)b->sent[sent0].type, T[i].sent, "row %zu: sent %s", i,
                   prose_monp_type_name((int)b->sent[sent0].type));
    }
    tn_free(&net);
  }
}

/* ---------------------------------------------------------------------- */
/* Two or three engines                                                     */
/* ---------------------------------------------------------------------- */

/* Automatic commencement: setup, immediate accept, accept-ack; the PCK
 * I_MESSAGE reaches the callee's hook octet for octet. */
Test(call_private, automatic_commencement) {
  tn_net net;
  tn_init(&net, 2, NULL);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  cr_assert_eq(prose_call_private_call(a->e, 0, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false), 0);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P2);
  tn_run(&net, 100);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P4);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P4);
  cr_assert_eq(b->last_key_len, strlen("IMSG:" B_ID));
  cr_assert_arr_eq(b->last_key, "IMSG:" B_ID, b->last_key_len);
  const tn_event *ca = tn_last_ev(a, PROSE_CALL_EV_PRIVATE_CONNECTED);
  const tn_event *cb = tn_last_ev(b, PROSE_CALL_EV_PRIVATE_CONNECTED);
  cr_assert(ca && ca->has_sdp && ca->sdp_audio_port == b->set.audio_port);
  cr_assert(cb && cb->has_sdp && cb->sdp_audio_port == a->set.audio_port);
  cr_assert_eq(ca->call_id, cb->call_id);
  cr_assert_eq(ca->at, 4u);  /* one round trip */
  cr_assert_eq(cb->at, 6u);  /* after the ACCEPT ACK */
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST), 1u);
  cr_assert_eq(tn_count_sent(b, PROSE_MONP_PRIVATE_CALL_ACCEPT), 1u);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK), 1u);
  cr_assert_eq(tn_last_ev(b, PROSE_CALL_EV_PRIVATE_INCOMING)->call_type, PROSE_MONP_CALL_PRIVATE);
  prose_call_private_info pi;
  cr_assert_eq(prose_call_private_get(b->e, A_ID, &pi), 0);
  cr_assert(!pi.caller && pi.commencement == PROSE_MONP_COMMENCEMENT_AUTOMATIC);

  /* Release / release-ack; both in P1, then P0 after TFP7. */
  cr_assert_eq(prose_call_private_release(a->e, net.now, B_ID), 0);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P3);
  tn_step(&net, 10);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P1);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P1);
  cr_assert_eq(tn_count_ev(b, PROSE_CALL_EV_PRIVATE_RELEASED), 1u);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_PRIVATE_CALL_RELEASE), 1u);
  tn_step(&net, 1000);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P0);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P0);
  cr_assert_eq(prose_call_next_deadline(a->e), UINT64_MAX);
  cr_assert_str_eq(prose_call_private_state_name(PROSE_CALL_P3), "P3");
  tn_free(&net);
}

/* Manual commencement: ringing, the user answers; and a user reject. */
Test(call_private, manual_commencement_accept_and_reject) {
  tn_net net;
  tn_init(&net, 2, NULL);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  cr_assert_eq(prose_call_private_call(a->e, 0, B_ID, PROSE_MONP_COMMENCEMENT_MANUAL, true), 0);
  tn_run(&net, 5000);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P2);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P5);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_PRIVATE_RINGING), 1u);
  /* RINGING stops TFP1. */
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST), 1u);
  const tn_event *in = tn_last_ev(b, PROSE_CALL_EV_PRIVATE_INCOMING);
  cr_assert(in && in->has_sdp && in->call_type == PROSE_MONP_CALL_EMERGENCY_PRIVATE);
  cr_assert_eq(prose_call_private_accept(b->e, net.now, A_ID), 0);
  tn_step(&net, 10);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P4);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P4);

  /* Emergency cancel by the caller, acknowledged (TFP6 stops). */
  cr_assert_eq(prose_call_private_emergency_cancel(b->e, net.now, A_ID), PROSE_EINVAL);
  /* The first two acks are lost: TFP6 repeats the cancel until one lands. */
  net.drop[PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL_ACK] = 2;
  cr_assert_eq(prose_call_private_emergency_cancel(a->e, net.now, B_ID), 0);
  tn_step(&net, 200);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL), 3u); /* CFP6 */
  cr_assert_eq(tn_count_sent(b, PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL_ACK), 3u);
  cr_assert_eq(tn_count_ev(b, PROSE_CALL_EV_PRIVATE_EMERGENCY_CANCELLED), 1u);
  prose_call_private_info pi;
  cr_assert_eq(prose_call_private_get(b->e, A_ID, &pi), 0);
  cr_assert_eq(pi.call_type, PROSE_MONP_CALL_PRIVATE);
  cr_assert_eq(prose_call_private_emergency_cancel(a->e, net.now, B_ID), PROSE_EINVAL);
  cr_assert_eq(prose_call_private_release(b->e, net.now, A_ID), 0); /* the callee hangs up */
  tn_step(&net, 2000);

  /* A second call is rejected by B's user. */
  cr_assert_eq(prose_call_private_call(a->e, net.now, B_ID, PROSE_MONP_COMMENCEMENT_MANUAL, false),
               0);
  tn_step(&net, 10);
  cr_assert_eq(prose_call_private_reject(b->e, net.now, A_ID), 0);
  tn_step(&net, 10);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P1);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P1);
  const tn_event *rj = tn_last_ev(a, PROSE_CALL_EV_PRIVATE_REJECTED);
  cr_assert(rj && rj->reason == PROSE_MONP_REASON_REJECT);
  tn_free(&net);
}

/* The callee's key check fails: REJECT reason 3, callee in P1 ignoring the
 * call id (the caller's retransmissions get no second answer). */
Test(call_private, key_validation_failure_rejects_with_reason_3) {
  tn_net net;
  tn_init(&net, 2, NULL);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  b->key_fail = PROSE_ESIG;
  net.drop[PROSE_MONP_PRIVATE_CALL_REJECT] = 1; /* the first REJECT is lost */
  cr_assert_eq(prose_call_private_call(a->e, 0, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false), 0);
  tn_run(&net, 3);
  cr_assert_eq(b->last_rc, PROSE_ESIG);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P1);
  const tn_event *rj = tn_last_ev(b, PROSE_CALL_EV_PRIVATE_REJECTED);
  cr_assert(rj && rj->reason == PROSE_MONP_REASON_E2E_SECURITY && rj->err == PROSE_ESIG);
  cr_assert_eq(tn_count_ev(b, PROSE_CALL_EV_PRIVATE_INCOMING), 0u);
  tn_run(&net, 500);
  /* A retransmitted (CFP1 = 3 setups) and gave up; B answered only once. */
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST), 3u);
  cr_assert_eq(tn_count_sent(b, PROSE_MONP_PRIVATE_CALL_REJECT), 1u);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P1);
  cr_assert_eq(tn_last_ev(a, PROSE_CALL_EV_PRIVATE_FAILED)->err, PROSE_ETIME);

  /* This time the REJECT arrives: A reports reason 3. */
  tn_run(&net, 3000);
  cr_assert_eq(prose_call_private_call(a->e, net.now, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC,
                                       false),
               0);
  tn_step(&net, 10);
  rj = tn_last_ev(a, PROSE_CALL_EV_PRIVATE_REJECTED);
  cr_assert(rj && rj->reason == PROSE_MONP_REASON_E2E_SECURITY);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P1);

  /* A setup without a=key-mgmt is refused when keys are required. */
  tn_node *bb = b;
  prose_monp_msg m = pm(PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, 0x7777, "sip:c@example.org", B_ID);
  cr_assert_eq(feed(bb, &m), PROSE_ENOKEY);
  cr_assert_eq(tn_pstate(b, C_ID), PROSE_CALL_P1);
  cr_assert_eq(tn_last_sent(b, PROSE_MONP_PRIVATE_CALL_REJECT)->reason,
               PROSE_MONP_REASON_E2E_SECURITY);
  /* Bad SDP: reason 1 (media failure). */
  m = pm(PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, 0x7778, "sip:d@example.org", B_ID);
  m.sdp = prose_monp_str_of("v=0\r\n");
  cr_assert_eq(feed(bb, &m), PROSE_ESDP_MISSING);
  cr_assert_eq(tn_last_sent(b, PROSE_MONP_PRIVATE_CALL_REJECT)->reason,
               PROSE_MONP_REASON_MEDIA_FAILURE);
  /* Not for us at all. */
  m = pm(PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, 1, "sip:x@example.org", "sip:y@example.org");
  cr_assert_eq(feed(bb, &m), PROSE_EWRONG_RECIPIENT);
  m = pm(PROSE_MONP_PRIVATE_CALL_RINGING, 1, B_ID, B_ID);
  cr_assert_eq(feed(bb, &m), PROSE_EWRONG_RECIPIENT);
  tn_free(&net);
}

/* The key hook of the caller can refuse: no call starts. */
Test(call_private, caller_key_hook_failure) {
  tn_net net;
  tn_init(&net, 2, NULL);
  tn_node *a = &net.nodes[0];
  a->make_fail = PROSE_ENOKEY;
  cr_assert_eq(prose_call_private_call(a->e, 0, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false),
               PROSE_ENOKEY);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P0);
  cr_assert_eq(a->n_sent, 0u);
  cr_assert_eq(a->n_ev, 0u);
  cr_assert_eq(prose_call_private_call(a->e, 0, A_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false),
               PROSE_EINVAL); /* ourselves */
  cr_assert_eq(prose_call_private_call(a->e, 0, B_ID, (prose_monp_commencement)2, false),
               PROSE_EINVAL);
  tn_free(&net);
}

/* Retransmission: an unreachable callee gets CFP1 setups TFP1 apart; manual
 * commencement then waits TFP2 and releases. */
Test(call_private, setup_retransmission_until_cfp1) {
  tn_net net;
  tn_init(&net, 2, NULL);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  b->deaf = true;
  cr_assert_eq(prose_call_private_call(a->e, 0, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false), 0);
  tn_run(&net, 119);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST), 3u);
  cr_assert_eq(a->sent[1].at, 40u);
  cr_assert_eq(a->sent[2].at, 80u);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P2);
  tn_run(&net, 120);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P1);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_PRIVATE_FAILED), 1u);

  /* Manual: after CFP1 the caller keeps waiting for TFP2 (30 s). */
  tn_run(&net, 5000);
  tn_clear_logs(a);
  cr_assert_eq(prose_call_private_call(a->e, net.now, B_ID, PROSE_MONP_COMMENCEMENT_MANUAL, false),
               0);
  uint64_t t0 = net.now;
  /* CFP1 is reached at t0 + 120 (3 setups); TFP2 runs from there. */
  tn_run(&net, t0 + 120 + 29999);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P2);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST), 3u);
  tn_run(&net, t0 + 120 + 30000);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P3);
  cr_assert_eq(tn_last_ev(a, PROSE_CALL_EV_PRIVATE_FAILED)->err, PROSE_ETIME);
  /* No RELEASE ACK either: CFP3 releases TFP3 apart, then P1. */
  tn_run(&net, t0 + 120 + 30000 + 200);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_PRIVATE_CALL_RELEASE), 3u);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P1);
  tn_free(&net);
}

/* The callee's answer and acks get lost. */
Test(call_private, accept_retransmission_and_lost_acks) {
  tn_net net;
  tn_init(&net, 2, NULL);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  /* One ACCEPT ACK lost: B repeats ACCEPT after TFP4, A re-acks. */
  net.drop[PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK] = 1;
  cr_assert_eq(prose_call_private_call(a->e, 0, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false), 0);
  tn_run(&net, 100);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P4);
  cr_assert_eq(tn_count_sent(b, PROSE_MONP_PRIVATE_CALL_ACCEPT), 2u);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK), 2u);
  cr_assert_eq(tn_count_ev(a, PROSE_CALL_EV_PRIVATE_CONNECTED), 1u);
  /* The RELEASE ACK is lost once: A repeats RELEASE, B (in P1) re-acks. */
  net.drop[PROSE_MONP_PRIVATE_CALL_RELEASE_ACK] = 1;
  cr_assert_eq(prose_call_private_release(a->e, net.now, B_ID), 0);
  tn_step(&net, 100);
  cr_assert_eq(tn_count_sent(a, PROSE_MONP_PRIVATE_CALL_RELEASE), 2u);
  cr_assert_eq(tn_count_sent(b, PROSE_MONP_PRIVATE_CALL_RELEASE_ACK), 2u);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P1);
  cr_assert_eq(tn_count_ev(b, PROSE_CALL_EV_PRIVATE_RELEASED), 1u);
  tn_step(&net, 2000);

  /* Every ACCEPT lost: B gives up after CFP4 accepts. */
  tn_clear_logs(b);
  net.drop[PROSE_MONP_PRIVATE_CALL_ACCEPT] = -1;
  cr_assert_eq(prose_call_private_call(a->e, net.now, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC,
                                       false),
               0);
  tn_step(&net, 500);
  /* CFP4 timer-driven accepts, plus one answer to each repeated setup. */
  size_t accepts = tn_count_sent(b, PROSE_MONP_PRIVATE_CALL_ACCEPT);
  cr_assert(accepts >= 3 && accepts <= 5, "accepts %zu", accepts);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P1);
  cr_assert_eq(tn_last_ev(b, PROSE_CALL_EV_PRIVATE_FAILED)->err, PROSE_ETIME);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P1); /* A gave up after CFP1 setups */
  tn_free(&net);
}

/* TFP5: the call ends at its maximum duration; TFP2 at the callee. */
static void short_private(prose_call_settings *s, int idx) {
  (void)idx;
  s->private_max_duration_s = 30;
}

Test(call_private, max_duration_and_unanswered) {
  tn_net net;
  tn_init(&net, 2, short_private);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  cr_assert_eq(prose_call_private_call(a->e, 0, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false), 0);
  tn_run(&net, 29000);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P4);
  tn_run(&net, 30010);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P1);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P1);
  cr_assert_eq(tn_last_ev(a, PROSE_CALL_EV_PRIVATE_RELEASED)->err, PROSE_ETIME);
  tn_run(&net, 32000);
  /* Manual call nobody answers: the callee rejects after TFP2 (reason 1). */
  cr_assert_eq(prose_call_private_call(a->e, net.now, B_ID, PROSE_MONP_COMMENCEMENT_MANUAL, false),
               0);
  tn_step(&net, 30100);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P1);
  cr_assert_eq(tn_last_sent(b, PROSE_MONP_PRIVATE_CALL_REJECT)->reason,
               PROSE_MONP_REASON_MEDIA_FAILURE);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P1);
  tn_free(&net);
}

/* B talks with A; C's call gets busy. A full table is busy too. */
Test(call_private, busy_and_full) {
  tn_net net;
  tn_init(&net, 3, NULL);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1], *c = &net.nodes[2];
  cr_assert_eq(prose_call_private_call(a->e, 0, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false), 0);
  tn_run(&net, 100);
  /* C and B are independent peers: B takes C's call too (one call per peer). */
  cr_assert_eq(prose_call_private_call(c->e, net.now, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC,
                                       false),
               0);
  tn_step(&net, 100);
  cr_assert_eq(tn_pstate(b, C_ID), PROSE_CALL_P4);
  /* A calls B again while their call runs: the new call id is busy. */
  static char sbuf[1024];
  prose_monp_msg m = setup_from_c(0x4242, PROSE_MONP_COMMENCEMENT_MANUAL, sbuf, sizeof sbuf);
  m.caller = prose_monp_str_of(A_ID);
  prose_call_private_info pi;
  cr_assert_eq(prose_call_private_get(b->e, A_ID, &pi), 0);
  m.call_id = (uint16_t)(pi.call_id + 1);
  cr_assert_eq(feed(b, &m), 0);
  cr_assert_eq(tn_last_sent(b, PROSE_MONP_PRIVATE_CALL_REJECT)->reason, PROSE_MONP_REASON_BUSY);
  cr_assert_eq(tn_pstate(b, A_ID), PROSE_CALL_P4);
  /* Fill B's table with scripted callers; the next one is busy. */
  for (unsigned i = 2; i < PROSE_CALL_MAX_PRIVATE; i++) {
    char who[64];
    snprintf(who, sizeof who, "sip:x%u@example.org", i);
    m = setup_from_c((uint16_t)i, PROSE_MONP_COMMENCEMENT_MANUAL, sbuf, sizeof sbuf);
    m.caller = prose_monp_str_of(who);
    cr_assert_eq(feed(b, &m), 0);
    cr_assert_eq(tn_pstate(b, who), PROSE_CALL_P5);
  }
  m = setup_from_c(99, PROSE_MONP_COMMENCEMENT_MANUAL, sbuf, sizeof sbuf);
  m.caller = prose_monp_str_of("sip:late@example.org");
  cr_assert_eq(feed(b, &m), 0);
  cr_assert_eq(tn_last_sent(b, PROSE_MONP_PRIVATE_CALL_REJECT)->reason, PROSE_MONP_REASON_BUSY);
  cr_assert_eq(tn_pstate(b, "sip:late@example.org"), PROSE_CALL_P0);
  cr_assert_eq(prose_call_private_call(b->e, net.now, "sip:more@example.org",
                                       PROSE_MONP_COMMENCEMENT_MANUAL, false),
               PROSE_ERANGE);
  tn_free(&net);
}

/* An answer whose SDP does not parse ends the attempt (RELEASE, P3). */
Test(call_private, accept_with_bad_sdp) {
  tn_net net;
  tn_init(&net, 2, NULL);
  tn_node *b = &net.nodes[1];
  cr_assert_eq(prose_call_private_call(b->e, 0, C_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false), 0);
  prose_call_private_info pi;
  cr_assert_eq(prose_call_private_get(b->e, C_ID, &pi), 0);
  prose_monp_msg m = pm(PROSE_MONP_PRIVATE_CALL_ACCEPT, pi.call_id, B_ID, C_ID);
  m.sdp = prose_monp_str_of("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n");
  cr_assert_eq(feed(b, &m), PROSE_ESDP_MISSING);
  cr_assert_eq(tn_pstate(b, C_ID), PROSE_CALL_P3);
  cr_assert_eq(tn_last_ev(b, PROSE_CALL_EV_PRIVATE_FAILED)->err, PROSE_ESDP_MISSING);
  cr_assert_eq(tn_last_sent(b, PROSE_MONP_PRIVATE_CALL_RELEASE)->call_id, pi.call_id);
  tn_free(&net);
}

/* ---------------------------------------------------------------------- */
/* Address families                                                        */
/* ---------------------------------------------------------------------- */

/* a has both families (IPv4 first), b only IPv6. */
static void a_dual_b_v6(prose_call_settings *s, int idx) {
  if (idx == 0) s->unicast_addr_alt = "fd77::1";
  if (idx == 1) s->unicast_addr = "fd77::2";
}

/*
 * A dual-stack caller that reaches its IPv6-only peer over IPv6 offers its
 * IPv6 address; the IPv6-only callee answers with its own. The other way
 * round the dual-stack callee answers on the family of the offer (IPv6),
 * although its first address is IPv4. Without the hint the offer carries
 * unicast_addr as before.
 */
Test(call_private, sdp_address_family_follows_the_peer) {
  tn_net net;
  tn_init(&net, 2, a_dual_b_v6);
  tn_node *a = &net.nodes[0], *b = &net.nodes[1];
  cr_assert_str_eq(a->set.unicast_addr_alt, "fd77::1");

  /* a -> b (peer on IPv6). */
  cr_assert_eq(prose_call_private_call_af(a->e, 0, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false,
                                          true),
               0);
  tn_run(&net, 100);
  const tn_event *cb = tn_last_ev(b, PROSE_CALL_EV_PRIVATE_CONNECTED);
  const tn_event *ca = tn_last_ev(a, PROSE_CALL_EV_PRIVATE_CONNECTED);
  cr_assert(cb && cb->has_sdp && ca && ca->has_sdp);
  cr_assert_str_eq(cb->sdp_addr, "fd77::1", "the offer: %s", cb->sdp_addr);
  cr_assert(cb->sdp_ipv6);
  cr_assert_str_eq(ca->sdp_addr, "fd77::2");
  cr_assert(ca->sdp_ipv6);
  cr_assert_eq(prose_call_private_release(a->e, net.now, B_ID), 0);
  tn_run(&net, 2000);
  cr_assert_eq(tn_pstate(a, B_ID), PROSE_CALL_P0);

  /* b -> a: the IPv6 offer gets an IPv6 answer from the dual-stack a. */
  tn_clear_logs(a);
  tn_clear_logs(b);
  cr_assert_eq(
      prose_call_private_call(b->e, net.now, A_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false), 0);
  tn_run(&net, net.now + 100);
  cb = tn_last_ev(b, PROSE_CALL_EV_PRIVATE_CONNECTED);
  ca = tn_last_ev(a, PROSE_CALL_EV_PRIVATE_CONNECTED);
  cr_assert(cb && cb->has_sdp && ca && ca->has_sdp);
  cr_assert_str_eq(ca->sdp_addr, "fd77::2");
  cr_assert_str_eq(cb->sdp_addr, "fd77::1", "the answer: %s", cb->sdp_addr);
  cr_assert(cb->sdp_ipv6);
  cr_assert_eq(prose_call_private_release(b->e, net.now, A_ID), 0);
  tn_run(&net, net.now + 2000);
  tn_free(&net);

  /* Without the family hint the offer carries unicast_addr (IPv4 here),
   * as before there was a second address. */
  tn_init(&net, 2, a_dual_b_v6);
  a = &net.nodes[0];
  b = &net.nodes[1];
  cr_assert_eq(prose_call_private_call(a->e, 0, B_ID, PROSE_MONP_COMMENCEMENT_AUTOMATIC, false), 0);
  tn_run(&net, 100);
  cb = tn_last_ev(b, PROSE_CALL_EV_PRIVATE_CONNECTED);
  cr_assert(cb && cb->has_sdp);
  cr_assert_str_eq(cb->sdp_addr, "198.18.0.1");
  cr_assert(!cb->sdp_ipv6);
  tn_free(&net);
}

/* The second address must be an address, of the other family. */
static void drop_group(void *ud, const char *g, const uint8_t *m, size_t n) {
  (void)ud, (void)g, (void)m, (void)n;
}
static void drop_private(void *ud, const char *p, const uint8_t *m, size_t n) {
  (void)ud, (void)p, (void)m, (void)n;
}

Test(call_private, alternate_address_is_checked) {
  prose_call_settings s;
  prose_call_settings_default(&s);
  s.mcptt_id = A_ID;
  s.unicast_addr = "198.18.0.1";
  prose_call_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.send_group = drop_group;
  cb.send_private = drop_private;
  prose_rng_det rs;
  prose_rng rng = prose_rng_det_init(&rs, 7);
  static const struct {
    const char *addr, *alt;
    int rc;
  } rows[] = {{"198.18.0.1", "198.18.0.2", PROSE_EINVAL}, /* same family */
              {"fd77::1", "fd77::2", PROSE_EINVAL},
              {"198.18.0.1", "not-an-address", PROSE_EINVAL},
              {"198.18.0.1", "", 0}, /* none */
              {"198.18.0.1", NULL, 0},
              {"198.18.0.1", "fd77::1", 0},
              {"fd77::1", "198.18.0.1", 0}};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    prose_call_engine *e = NULL;
    s.unicast_addr = rows[i].addr;
    s.unicast_addr_alt = rows[i].alt;
    cr_assert_eq(prose_call_engine_new(&e, &s, &cb, NULL, &rng), rows[i].rc, "row %zu", i);
    cr_assert_eq(e == NULL, rows[i].rc != 0, "row %zu", i);
    prose_call_engine_free(e);
  }
}
