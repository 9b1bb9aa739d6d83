/*
 * Floor participant state machine (floor/src/floor.c) with a fake clock and
 * hand-built peer messages: every (state, event) pair in one table, then
 * timers and counters at their limits, call types, the queue, the
 * tie-break, settings and the receive path.
 *
 * Cast: this client A (SSRC 0xA, priority 5); B (0xB) a talker; C (0xC)
 * a higher-priority requester (9); D (0xD) a lower one (1).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "floor_testlib.h"
#include "prose/err.h"
#include "prose/floor.h"

#define A 0xAu
#define B 0xBu
#define C 0xCu
#define D 0xDu
static const char *const ID_A = "sip:a@x";
static const char *const ID_B = "sip:b@x";
static const char *const ID_C = "sip:c@x";
static const char *const ID_D = "sip:d@x";

typedef struct fx {
  ft_rec rec;
  prose_floor *f;
  uint64_t now;
  uint8_t buf[PROSE_FLOOR_MSG_MAX];
} fx;

static void fx_new_with(fx *x, const prose_floor_settings *s) {
  memset(x, 0, sizeof *x);
  ft_rec_init(&x->rec, "A");
  x->now = 1000;
  x->rec.now = x->now;
  cr_assert_eq(prose_floor_new(&x->f, s, &ft_callbacks, &x->rec), 0);
}

static void fx_new(fx *x, uint32_t call_flags) {
  prose_floor_settings s;
  ft_settings(&s, A, ID_A, 5);
  s.call_flags = call_flags;
  fx_new_with(x, &s);
}

static void fx_del(fx *x) { prose_floor_del(x->f); }

static void at(fx *x, uint64_t t) {
  x->now = t;
  x->rec.now = t;
}

static int rx(fx *x, size_t n) { return prose_floor_recv(x->f, x->now, x->buf, n); }

/* Jump to the next deadline and run it. */
static void fire_next(fx *x) {
  uint64_t d = prose_floor_next_deadline(x->f);
  if (d == UINT64_MAX) return;
  at(x, d);
  cr_assert_eq(prose_floor_on_timeout(x->f, d), 0);
}

/* Run every timer up to now + ms. */
static void advance(fx *x, uint64_t ms) {
  uint64_t end = x->now + ms;
  for (;;) {
    uint64_t d = prose_floor_next_deadline(x->f);
    if (d > end) break;
    at(x, d);
    cr_assert_eq(prose_floor_on_timeout(x->f, d), 0);
  }
  at(x, end);
}

static prose_floor_state st(const fx *x) { return prose_floor_get_state(x->f); }

/* ------------------------------------------------------------------ */
/* The (state, event) table                                           */

#define SS PROSE_FLOOR_START_STOP
#define SIL PROSE_FLOOR_O_SILENCE
#define HNP PROSE_FLOOR_O_HAS_NO_PERMISSION
#define PR PROSE_FLOOR_O_PENDING_REQUEST
#define HP PROSE_FLOOR_O_HAS_PERMISSION
#define PG PROSE_FLOOR_O_PENDING_GRANTED
#define Q PROSE_FLOOR_O_QUEUED

/* Drive a fresh engine into state s the way a call would get there. */
static void to_state(fx *x, prose_floor_state s) {
  switch (s) {
    case SS: break;
    case SIL: cr_assert_eq(prose_floor_start(x->f, x->now, PROSE_FLOOR_ROLE_TERMINATING), 0); break;
    case HNP:
      to_state(x, SIL);
      cr_assert_eq(prose_floor_rtp(x->f, x->now, B), 0);
      break;
    case PR:
      to_state(x, SIL);
      cr_assert_eq(prose_floor_ptt_press(x->f, x->now, -1), 0);
      break;
    case HP: cr_assert_eq(prose_floor_start(x->f, x->now, PROSE_FLOOR_ROLE_ORIGINATOR), 0); break;
    case PG:
      to_state(x, HP);
      cr_assert_eq(rx(x, ft_request(x->buf, C, ID_C, 9, 0)), 0);
      break;
    case Q:
      to_state(x, HNP);
      cr_assert_eq(prose_floor_ptt_press(x->f, x->now, -1), 0);
      cr_assert_eq(rx(x, ft_qpi(x->buf, B, ID_B, A, ID_A, 1)), 0);
      break;
  }
  cr_assert_eq(st(x), s, "prefix for %s ended in %s", prose_floor_state_name(s),
               prose_floor_state_name(st(x)));
}

typedef enum ev {
  E_PRESS,
  E_RELEASE,
  E_CANCEL,
  E_QPOS,
  E_RTP_B,
  E_RTP_C,
  E_REQ_LOW,
  E_REQ_HIGH,
  E_GRANTED_ME,
  E_GRANTED_C,
  E_DENY_ME,
  E_RELEASE_B,
  E_TAKEN_C,
  E_TAKEN_C_HIGH,
  E_QPR_D,
  E_QPI_ME,
  E_TIMER,
  E_STOP,
  E_MALFORMED,
  E_COUNT
} ev;

static const char *const ev_names[E_COUNT] = {
    "PTT press",  "PTT release",    "cancel",         "queue position",    "RTP from B",
    "RTP from C", "Request D (1)",  "Request C (9)",  "Granted to A",      "Granted to C",
    "Deny to A",  "Release from B", "Taken by C (1)", "Taken by C (9)",    "QPR from D",
    "QPI for A",  "next timer",     "call release",   "malformed datagram"};

static int apply(fx *x, ev e) {
  switch (e) {
    case E_PRESS: return prose_floor_ptt_press(x->f, x->now, -1);
    case E_RELEASE: return prose_floor_ptt_release(x->f, x->now);
    case E_CANCEL: return prose_floor_cancel(x->f, x->now);
    case E_QPOS: return prose_floor_queue_position(x->f, x->now);
    case E_RTP_B: return prose_floor_rtp(x->f, x->now, B);
    case E_RTP_C: return prose_floor_rtp(x->f, x->now, C);
    case E_REQ_LOW: return rx(x, ft_request(x->buf, D, ID_D, 1, 0));
    case E_REQ_HIGH: return rx(x, ft_request(x->buf, C, ID_C, 9, 0));
    case E_GRANTED_ME: return rx(x, ft_granted(x->buf, B, A, ID_A, 5, 0, NULL));
    case E_GRANTED_C: return rx(x, ft_granted(x->buf, B, C, ID_C, 1, 0, NULL));
    case E_DENY_ME: return rx(x, ft_deny(x->buf, B, ID_A, PROSE_FLOOR_CAUSE_OTHER_HAS_PERMISSION));
    case E_RELEASE_B: return rx(x, ft_release(x->buf, B, ID_B));
    case E_TAKEN_C: return rx(x, ft_taken(x->buf, C, ID_C, 1, true));
    case E_TAKEN_C_HIGH: return rx(x, ft_taken(x->buf, C, ID_C, 9, true));
    case E_QPR_D: return rx(x, ft_qpr(x->buf, D, ID_D));
    case E_QPI_ME: return rx(x, ft_qpi(x->buf, B, ID_B, A, ID_A, 2));
    case E_TIMER: fire_next(x); return 0;
    case E_STOP: return prose_floor_stop(x->f, x->now);
    case E_MALFORMED: {
      /* A valid Floor Taken followed by a packet with non-zero padding:
       * verify-then-commit drops both. */
      size_t n = ft_taken(x->buf, C, ID_C, 9, true);
      size_t m = ft_release(x->buf + n, C, ID_C);
      x->buf[n + m - 1] = 0x01; /* the User ID's last padding octet */
      return rx(x, n + m);
    }
    case E_COUNT: break;
  }
  return PROSE_EINTERNAL;
}

#define NONE 0xFF
#define REQ PROSE_FLOOR_MSG_REQUEST
#define GRA PROSE_FLOOR_MSG_GRANTED
#define TAK PROSE_FLOOR_MSG_TAKEN
#define DEN PROSE_FLOOR_MSG_DENY
#define REL PROSE_FLOOR_MSG_RELEASE
#define QPR PROSE_FLOOR_MSG_QUEUE_POS_REQUEST
#define QPI PROSE_FLOOR_MSG_QUEUE_POS_INFO
#define EI PROSE_EINVAL

/* Per event, per state in the order SS, SIL, HNP, PR, HP, PG, Q: the next
 * state, the one message sent (NONE) and the return code. */
typedef struct row {
  prose_floor_state next[7];
  uint8_t sent[7];
  int rc[7];
} row;

static const row table[E_COUNT] = {
    [E_PRESS] = {{SS, PR, PR, PR, HP, PG, Q},
                 {NONE, REQ, REQ, NONE, NONE, NONE, NONE},
                 {EI, 0, 0, 0, 0, 0, 0}},
    [E_RELEASE] = {{SS, SIL, HNP, SIL, SIL, PG, Q}, {NONE, NONE, NONE, REL, REL, NONE, NONE}, {0}},
    [E_CANCEL] = {{SS, SIL, HNP, SIL, HP, PG, HNP},
                  {NONE, NONE, NONE, REL, NONE, NONE, REL},
                  {EI, EI, EI, 0, EI, EI, 0}},
    [E_QPOS] = {{SS, SIL, HNP, PR, HP, PG, Q},
                {NONE, NONE, NONE, NONE, NONE, NONE, QPR},
                {EI, EI, EI, EI, EI, EI, 0}},
    [E_RTP_B] = {{SS, HNP, HNP, PR, HP, PG, Q}, {NONE, NONE, NONE, NONE, TAK, NONE, NONE}, {0}},
    [E_RTP_C] = {{SS, HNP, HNP, PR, HP, HNP, Q}, {NONE, NONE, NONE, NONE, TAK, NONE, NONE}, {0}},
    [E_REQ_LOW] = {{SS, SIL, HNP, PR, HP, PG, Q}, {NONE, NONE, NONE, NONE, QPI, DEN, NONE}, {0}},
    [E_REQ_HIGH] = {{SS, SIL, HNP, PR, PG, PG, Q}, {NONE, NONE, NONE, NONE, GRA, GRA, NONE}, {0}},
    [E_GRANTED_ME] = {{SS, SIL, HNP, HP, HP, PG, HP},
                      {NONE, NONE, NONE, NONE, NONE, NONE, NONE},
                      {0}},
    [E_GRANTED_C] = {{SS, HNP, HNP, PR, HP, PG, PR}, {NONE, NONE, NONE, NONE, TAK, NONE, REQ}, {0}},
    [E_DENY_ME] = {{SS, SIL, HNP, HNP, HP, PG, HNP},
                   {NONE, NONE, NONE, NONE, NONE, NONE, NONE},
                   {0}},
    [E_RELEASE_B] = {{SS, SIL, SIL, PR, HP, PG, PR},
                     {NONE, NONE, NONE, NONE, NONE, NONE, REQ},
                     {0}},
    [E_TAKEN_C] = {{SS, HNP, HNP, PR, HP, HNP, PR}, {NONE, NONE, NONE, NONE, TAK, NONE, REQ}, {0}},
    [E_TAKEN_C_HIGH] = {{SS, HNP, HNP, PR, HNP, HNP, PR},
                        {NONE, NONE, NONE, NONE, NONE, NONE, REQ},
                        {0}},
    [E_QPR_D] = {{SS, SIL, HNP, PR, HP, PG, Q}, {NONE, NONE, NONE, NONE, QPI, NONE, NONE}, {0}},
    [E_QPI_ME] = {{SS, SIL, HNP, Q, HP, PG, Q}, {NONE, NONE, NONE, NONE, NONE, NONE, NONE}, {0}},
    /* Next timer: none; T230; T203; T201 (resend); T206 (warning); T205
     * (resend); T203 (arbitrator gone, PTT held: ask again). */
    [E_TIMER] = {{SS, SS, SIL, PR, HP, PG, PR}, {NONE, NONE, NONE, REQ, NONE, GRA, REQ}, {0}},
    [E_STOP] = {{SS, SS, SS, SS, SS, SS, SS}, {NONE, NONE, NONE, NONE, REL, NONE, NONE}, {0}},
    [E_MALFORMED] = {{SS, SIL, HNP, PR, HP, PG, Q},
                     {NONE, NONE, NONE, NONE, NONE, NONE, NONE},
                     {PROSE_EFLOOR_PADDING, PROSE_EFLOOR_PADDING, PROSE_EFLOOR_PADDING,
                      PROSE_EFLOOR_PADDING, PROSE_EFLOOR_PADDING, PROSE_EFLOOR_PADDING,
                      PROSE_EFLOOR_PADDING}},
};

Test(floor_fsm, every_state_event_pair) {
  static const prose_floor_state states[7] = {SS, SIL, HNP, PR, HP, PG, Q};
  for (int e = 0; e < E_COUNT; e++) {
    for (int s = 0; s < 7; s++) {
      fx x;
      fx_new(&x, 0);
      to_state(&x, states[s]);
      size_t sent0 = x.rec.n_sent;
      uint64_t malformed0 = prose_floor_get_stats(x.f)->rx_malformed;
      at(&x, x.now + 1);
      int rc = apply(&x, (ev)e);
      const row *r = &table[e];
      const char *sn = prose_floor_state_name(states[s]);
      cr_assert_eq(rc, r->rc[s], "%s in %s: rc %s", ev_names[e], sn, prose_err_name(rc));
      cr_assert_eq(st(&x), r->next[s], "%s in %s: went to %s, want %s", ev_names[e], sn,
                   prose_floor_state_name(st(&x)), prose_floor_state_name(r->next[s]));
      size_t n_new = x.rec.n_sent - sent0;
      if (r->sent[s] == NONE) {
        cr_assert_eq(n_new, 0, "%s in %s: sent %zu messages (first %s)", ev_names[e], sn, n_new,
                     n_new ? prose_floor_msg_type_name(x.rec.sent[sent0].type) : "");
      } else {
        cr_assert_eq(n_new, 1, "%s in %s: sent %zu messages, want 1", ev_names[e], sn, n_new);
        cr_assert_eq(x.rec.sent[sent0].type, r->sent[s], "%s in %s: sent %s, want %s", ev_names[e],
                     sn, prose_floor_msg_type_name(x.rec.sent[sent0].type),
                     prose_floor_msg_type_name(r->sent[s]));
      }
      if (e == E_MALFORMED) cr_assert_eq(prose_floor_get_stats(x.f)->rx_malformed, malformed0 + 1);
      /* The trace followed every transition (checked by the recorder). */
      cr_assert_eq(x.rec.traced, st(&x));
      cr_assert_eq(prose_floor_may_send_media(x.f), st(&x) == HP);
      fx_del(&x);
    }
  }
}

/* ------------------------------------------------------------------ */
/* Timers and counters                                                */

Test(floor_fsm, c201_limit_without_arbitrator_takes_the_floor) {
  fx x;
  fx_new(&x, 0);
  to_state(&x, SIL);
  uint64_t t0 = x.now;
  cr_assert_eq(prose_floor_ptt_press(x.f, t0, -1), 0);
  cr_assert_eq(prose_floor_counter_value(x.f, PROSE_FLOOR_C201), 1);
  cr_assert_eq(prose_floor_timer_deadline(x.f, PROSE_FLOOR_T201), t0 + 40);
  cr_assert_eq(prose_floor_timer_deadline(x.f, PROSE_FLOOR_T230), UINT64_MAX, "T230 stops");
  fire_next(&x);
  cr_assert_eq(prose_floor_counter_value(x.f, PROSE_FLOOR_C201), 2);
  fire_next(&x);
  cr_assert_eq(prose_floor_counter_value(x.f, PROSE_FLOOR_C201), 3);
  cr_assert_eq(st(&x), PR);
  fire_next(&x);
  /* 3 requests at t0, +40, +80; Floor Taken at +120 = C201 x T201. */
  cr_assert_eq(st(&x), HP);
  cr_assert_eq(x.now, t0 + 120);
  cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_REQUEST, 0), 3);
  cr_assert_eq(x.rec.sent[0].at, t0);
  cr_assert_eq(x.rec.sent[1].at, t0 + 40);
  cr_assert_eq(x.rec.sent[2].at, t0 + 80);
  const ft_sent *tk = ft_last_sent(&x.rec);
  cr_assert_eq(tk->type, PROSE_FLOOR_MSG_TAKEN);
  cr_assert_str_eq(tk->user_id, ID_A);
  cr_assert_eq(tk->priority, 5);
  const ft_event *e = ft_last_event(&x.rec, PROSE_FLOOR_EV_STATE);
  cr_assert_eq(e->trigger, PROSE_FLOOR_TRIG_C201_LIMIT);
  cr_assert_eq(ft_count_events(&x.rec, PROSE_FLOOR_EV_GRANTED, 0), 1);
  const ft_event *m = ft_last_event(&x.rec, PROSE_FLOOR_EV_MEDIA);
  cr_assert(m->on);
  uint32_t talker;
  cr_assert(prose_floor_talker(x.f, &talker, NULL));
  cr_assert_eq(talker, A);
  cr_assert_eq(prose_floor_timer_deadline(x.f, PROSE_FLOOR_T206), t0 + 120 + 27000);
  fx_del(&x);
}

Test(floor_fsm, c201_limit_with_silent_arbitrator_fails) {
  fx x;
  fx_new(&x, 0);
  to_state(&x, HNP); /* B talks */
  cr_assert_eq(prose_floor_ptt_press(x.f, x.now, -1), 0);
  advance(&x, 120);
  cr_assert_eq(st(&x), HNP);
  cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_REQUEST, 0), 3);
  cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_TAKEN, 0), 0);
  cr_assert_eq(ft_count_events(&x.rec, PROSE_FLOOR_EV_REQUEST_FAILED, 0), 1);
  /* A Floor Request from a higher contender restarts C201 and T201. */
  fx_del(&x);
  fx_new(&x, 0);
  to_state(&x, PR);
  uint64_t t0 = x.now;
  advance(&x, 50); /* T201 fired at +40: C201 = 2 */
  cr_assert_eq(prose_floor_counter_value(x.f, PROSE_FLOOR_C201), 2);
  cr_assert_eq(rx(&x, ft_request(x.buf, C, ID_C, 9, 0)), 0);
  cr_assert_eq(prose_floor_counter_value(x.f, PROSE_FLOOR_C201), 1);
  cr_assert_eq(prose_floor_timer_deadline(x.f, PROSE_FLOOR_T201), t0 + 90);
  /* A lower one does not. */
  advance(&x, 40);
  cr_assert_eq(prose_floor_counter_value(x.f, PROSE_FLOOR_C201), 2);
  cr_assert_eq(rx(&x, ft_request(x.buf, D, ID_D, 1, 0)), 0);
  cr_assert_eq(prose_floor_counter_value(x.f, PROSE_FLOOR_C201), 2);
  /* T203 in pending request forgets the arbitrator learnt from RTP. */
  cr_assert_eq(prose_floor_rtp(x.f, x.now, B), 0);
  cr_assert(prose_floor_talker(x.f, NULL, NULL));
  cr_assert_eq(prose_floor_counter_value(x.f, PROSE_FLOOR_C201), 1, "new arbitrator: count afresh");
  prose_floor_settings s;
  ft_settings(&s, A, ID_A, 5);
  fx_del(&x);
  s.timer_ms[PROSE_FLOOR_T201] = 10000; /* keep the request pending past T203 */
  fx_new_with(&x, &s);
  to_state(&x, PR);
  cr_assert_eq(prose_floor_rtp(x.f, x.now, B), 0);
  advance(&x, 4000);
  cr_assert_eq(st(&x), PR);
  cr_assert(!prose_floor_talker(x.f, NULL, NULL));
  cr_assert_eq(ft_last_event(&x.rec, PROSE_FLOOR_EV_TALKER)->trigger, PROSE_FLOOR_TRIG_T203);
  fx_del(&x);
}

Test(floor_fsm, c205_limits_and_t233) {
  fx x;
  fx_new(&x, 0);
  to_state(&x, PG); /* pre-empted by C at now */
  uint64_t t0 = x.now;
  cr_assert_eq(ft_count_events(&x.rec, PROSE_FLOOR_EV_REVOKED, 0), 1);
  cr_assert_eq(ft_last_event(&x.rec, PROSE_FLOOR_EV_REVOKED)->ssrc, C);
  const ft_sent *g = ft_last_sent(&x.rec);
  cr_assert_eq(g->type, PROSE_FLOOR_MSG_GRANTED);
  cr_assert(g->has_field_ssrc);
  cr_assert_eq(g->field_ssrc, C);
  cr_assert_str_eq(g->user_id, ID_C);
  cr_assert_eq(g->priority, 9);
  advance(&x, 320);
  /* Granted at t0, +80, +160, +240 (C205 = 4), then given up at +320. */
  cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_GRANTED, 0), 4);
  cr_assert_eq(st(&x), SIL);
  cr_assert_eq(ft_last_event(&x.rec, PROSE_FLOOR_EV_STATE)->trigger, PROSE_FLOOR_TRIG_C205_LIMIT);
  cr_assert_eq(ft_last_event(&x.rec, PROSE_FLOOR_EV_STATE)->now, t0 + 320);
  fx_del(&x);

  /* A grantee from the queue gets T233 more to accept. */
  fx_new(&x, 0);
  to_state(&x, HP);
  cr_assert_eq(rx(&x, ft_request(x.buf, D, ID_D, 1, 0)), 0);
  cr_assert_eq(prose_floor_queue_len(x.f), 1);
  cr_assert_eq(prose_floor_ptt_release(x.f, x.now), 0);
  cr_assert_eq(st(&x), PG);
  t0 = x.now;
  advance(&x, 320);
  cr_assert_eq(st(&x), PG);
  cr_assert_eq(prose_floor_timer_deadline(x.f, PROSE_FLOOR_T233), t0 + 320 + 3000);
  cr_assert_eq(prose_floor_rtp(x.f, x.now, D), 0); /* D accepted and talks */
  cr_assert_eq(st(&x), HNP);
  fx_del(&x);

  fx_new(&x, 0);
  to_state(&x, HP);
  cr_assert_eq(rx(&x, ft_request(x.buf, D, ID_D, 1, 0)), 0);
  cr_assert_eq(prose_floor_ptt_release(x.f, x.now), 0);
  advance(&x, 320 + 3000);
  cr_assert_eq(st(&x), SIL);
  cr_assert_eq(ft_last_event(&x.rec, PROSE_FLOOR_EV_STATE)->trigger, PROSE_FLOOR_TRIG_T233);
  fx_del(&x);
}

Test(floor_fsm, c204_t206_t207_t230_t233) {
  fx x;
  /* C204: Queue Position Requests at 0, +80, +160 unanswered. */
  fx_new(&x, 0);
  to_state(&x, Q);
  cr_assert_eq(prose_floor_queue_position_get(x.f), 1);
  cr_assert_eq(prose_floor_queue_position(x.f, x.now), 0);
  cr_assert_eq(prose_floor_counter_value(x.f, PROSE_FLOOR_C204), 1);
  advance(&x, 240);
  cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_QUEUE_POS_REQUEST, 0), 3);
  cr_assert_eq(st(&x), HNP, "B still talks (T203)");
  cr_assert_eq(ft_count_events(&x.rec, PROSE_FLOOR_EV_REQUEST_FAILED, 0), 1);
  cr_assert_eq(ft_last_event(&x.rec, PROSE_FLOOR_EV_STATE)->trigger, PROSE_FLOOR_TRIG_C204_LIMIT);
  fx_del(&x);

  /* A Queue Position Info answers the request: T204 stops. */
  fx_new(&x, 0);
  to_state(&x, Q);
  cr_assert_eq(prose_floor_queue_position(x.f, x.now), 0);
  cr_assert_eq(rx(&x, ft_qpi(x.buf, B, ID_B, A, ID_A, 3)), 0);
  cr_assert_eq(prose_floor_timer_deadline(x.f, PROSE_FLOOR_T204), UINT64_MAX);
  cr_assert_eq(prose_floor_queue_position_get(x.f), 3);
  cr_assert_eq(ft_last_event(&x.rec, PROSE_FLOOR_EV_QUEUED)->queue_position, 3);
  /* "Not queued" means the entry is gone: ask again (PTT held). */
  cr_assert_eq(rx(&x, ft_qpi(x.buf, B, ID_B, A, ID_A, PROSE_FLOOR_QPOS_NOT_QUEUED)), 0);
  cr_assert_eq(st(&x), PR);
  fx_del(&x);

  /* T206 warns, T207 ends the talk burst; the queue gets the floor. */
  fx_new(&x, 0);
  to_state(&x, HP);
  uint64_t t0 = x.now;
  cr_assert_eq(rx(&x, ft_request(x.buf, D, ID_D, 1, 0)), 0);
  advance(&x, 27000);
  cr_assert_eq(ft_count_events(&x.rec, PROSE_FLOOR_EV_STOP_WARNING, 0), 1);
  cr_assert_eq(prose_floor_timer_deadline(x.f, PROSE_FLOOR_T207), t0 + 30000);
  advance(&x, 3000);
  cr_assert_eq(st(&x), PG);
  cr_assert_eq(ft_last_event(&x.rec, PROSE_FLOOR_EV_REVOKED)->trigger, PROSE_FLOOR_TRIG_T207);
  cr_assert_eq(ft_last_sent(&x.rec)->field_ssrc, D);
  fx_del(&x);

  /* Without a queue T207 releases; T230 then ends the session. */
  fx_new(&x, 0);
  to_state(&x, HP);
  t0 = x.now;
  advance(&x, 30000);
  cr_assert_eq(st(&x), SIL);
  cr_assert_eq(ft_last_sent(&x.rec)->type, PROSE_FLOOR_MSG_RELEASE);
  cr_assert_eq(prose_floor_timer_deadline(x.f, PROSE_FLOOR_T230), t0 + 30000 + 600000);
  advance(&x, 600000);
  cr_assert_eq(st(&x), SS);
  cr_assert_eq(prose_floor_next_deadline(x.f), UINT64_MAX);
  fx_del(&x);

  /* T233 while queued: PTT up, grant offered, not accepted -> declined. */
  fx_new(&x, 0);
  to_state(&x, Q);
  cr_assert_eq(prose_floor_ptt_release(x.f, x.now), 0);
  cr_assert_eq(st(&x), Q);
  cr_assert_eq(rx(&x, ft_granted(x.buf, B, A, ID_A, 5, 0, NULL)), 0);
  cr_assert_eq(st(&x), Q);
  cr_assert_eq(ft_count_events(&x.rec, PROSE_FLOOR_EV_GRANT_OFFERED, 0), 1);
  cr_assert_eq(rx(&x, ft_granted(x.buf, B, A, ID_A, 5, 0, NULL)), 0); /* retransmission */
  cr_assert_eq(ft_count_events(&x.rec, PROSE_FLOOR_EV_GRANT_OFFERED, 0), 1);
  size_t sent0 = x.rec.n_sent;
  advance(&x, 3000);
  cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_RELEASE, sent0), 1);
  cr_assert(st(&x) == HNP || st(&x) == SIL);
  fx_del(&x);

  /* ... or accepted with a PTT press inside T233. */
  fx_new(&x, 0);
  to_state(&x, Q);
  cr_assert_eq(prose_floor_ptt_release(x.f, x.now), 0);
  uint32_t q[1] = {D};
  cr_assert_eq(rx(&x, ft_granted(x.buf, B, A, ID_A, 5, 1, q)), 0);
  advance(&x, 2000);
  cr_assert_eq(prose_floor_ptt_press(x.f, x.now, -1), 0);
  cr_assert_eq(st(&x), HP);
  cr_assert_eq(prose_floor_queue_len(x.f), 1, "the granted queue was adopted");
  cr_assert_eq(prose_floor_queue_ssrc(x.f, 0), D);
  /* That entry came without a Queued User ID: our grant names D by SSRC
   * only (the recorder checks that the message decodes). */
  cr_assert_eq(prose_floor_ptt_release(x.f, x.now), 0);
  cr_assert_eq(st(&x), PG);
  cr_assert_eq(ft_last_sent(&x.rec)->type, PROSE_FLOOR_MSG_GRANTED);
  cr_assert_eq(ft_last_sent(&x.rec)->field_ssrc, D);
  cr_assert_str_eq(ft_last_sent(&x.rec)->user_id, "");
  fx_del(&x);

  /* Queued with PTT up and the arbitrator gone: the request fails rather
   * than take the floor for a user who is not pressing. */
  fx_new(&x, 0);
  to_state(&x, Q);
  cr_assert_eq(prose_floor_ptt_release(x.f, x.now), 0);
  advance(&x, 4000);
  cr_assert_eq(st(&x), SIL);
  cr_assert_eq(ft_count_events(&x.rec, PROSE_FLOOR_EV_REQUEST_FAILED, 0), 1);
  fx_del(&x);
}

/* ------------------------------------------------------------------ */
/* Call types                                                         */

Test(floor_fsm, private_and_broadcast_calls) {
  fx x;
  /* Private call: the callee waits for the caller's media. */
  fx_new(&x, PROSE_FLOOR_CALL_PRIVATE);
  cr_assert_eq(prose_floor_start(x.f, x.now, PROSE_FLOOR_ROLE_TERMINATING), 0);
  cr_assert_eq(st(&x), HNP);
  cr_assert_eq(prose_floor_timer_deadline(x.f, PROSE_FLOOR_T203), x.now + 4000);
  cr_assert_eq(rx(&x, ft_release(x.buf, B, ID_B)), 0);
  cr_assert_eq(st(&x), SIL);
  /* The peer asks while we are silent: grant at once. */
  cr_assert_eq(rx(&x, ft_request(x.buf, B, ID_B, 0, 0)), 0);
  cr_assert_eq(st(&x), PG);
  cr_assert_eq(ft_last_sent(&x.rec)->type, PROSE_FLOOR_MSG_GRANTED);
  cr_assert_eq(ft_last_sent(&x.rec)->field_ssrc, B);
  cr_assert_eq(prose_floor_rtp(x.f, x.now, B), 0);
  cr_assert_eq(st(&x), HNP);
  fx_del(&x);

  /* Broadcast group call: a receiver cannot ask for the floor. */
  fx_new(&x, PROSE_FLOOR_CALL_BROADCAST);
  cr_assert_eq(prose_floor_start(x.f, x.now, PROSE_FLOOR_ROLE_TERMINATING), 0);
  cr_assert_eq(st(&x), HNP);
  cr_assert_eq(prose_floor_ptt_press(x.f, x.now, -1), 0);
  cr_assert_eq(st(&x), HNP);
  cr_assert_eq(x.rec.n_sent, 0);
  cr_assert_eq(ft_last_event(&x.rec, PROSE_FLOOR_EV_DENIED)->cause, PROSE_FLOOR_CAUSE_RECEIVE_ONLY);
  fx_del(&x);

  /* The broadcast originator denies requests and forbids them in Taken. */
  fx_new(&x, PROSE_FLOOR_CALL_BROADCAST);
  cr_assert_eq(prose_floor_start(x.f, x.now, PROSE_FLOOR_ROLE_ORIGINATOR), 0);
  prose_floor_msg m;
  cr_assert_eq(prose_floor_msg_decode(x.rec.sent[0].bytes, x.rec.sent[0].len, &m), 0);
  cr_assert_eq(m.type, PROSE_FLOOR_MSG_TAKEN);
  cr_assert_eq(m.permission, 0);
  cr_assert(m.indicator & PROSE_FLOOR_IND_BROADCAST);
  cr_assert_eq(rx(&x, ft_request(x.buf, C, ID_C, 9, 0)), 0);
  cr_assert_eq(st(&x), HP, "no pre-emption in a broadcast call");
  cr_assert_eq(ft_last_sent(&x.rec)->type, PROSE_FLOOR_MSG_DENY);
  cr_assert_eq(ft_last_sent(&x.rec)->cause, PROSE_FLOOR_CAUSE_RECEIVE_ONLY);
  fx_del(&x);

  /* A group member told "no permission to request" in Floor Taken. */
  fx_new(&x, 0);
  to_state(&x, SIL);
  cr_assert_eq(rx(&x, ft_taken(x.buf, B, ID_B, 0, false)), 0);
  cr_assert_eq(prose_floor_ptt_press(x.f, x.now, -1), 0);
  cr_assert_eq(st(&x), HNP);
  cr_assert_eq(x.rec.n_sent, 0);
  fx_del(&x);

  /* Emergency call: our messages carry the emergency indicator and our
   * requests outrank a normal talker (pre-emption on the other side). */
  fx_new(&x, PROSE_FLOOR_CALL_EMERGENCY);
  to_state(&x, PR);
  cr_assert_eq(ft_last_sent(&x.rec)->indicator,
               PROSE_FLOOR_IND_EMERGENCY | PROSE_FLOOR_IND_QUEUEING);
  fx_del(&x);
  fx_new(&x, PROSE_FLOOR_CALL_IMMINENT_PERIL);
  to_state(&x, PR);
  cr_assert_eq(ft_last_sent(&x.rec)->indicator,
               PROSE_FLOOR_IND_IMMINENT_PERIL | PROSE_FLOOR_IND_QUEUEING);
  fx_del(&x);
}

/*
 * The call type changes while the call runs (a group call upgraded to
 * emergency, then ended back to basic): the requests made afterwards carry
 * the new Floor Indicator on the wire, and the arbitrator weighs requests
 * and rival holders against its new class.
 */
Test(floor_fsm, call_flags_follow_an_upgrade_and_its_end) {
  const uint16_t emerg = PROSE_FLOOR_IND_EMERGENCY | PROSE_FLOOR_IND_QUEUEING;
  fx x;
  fx_new(&x, 0);
  to_state(&x, HNP); /* B talks */
  cr_assert_eq(prose_floor_set_call_flags(x.f, PROSE_FLOOR_CALL_EMERGENCY), 0);
  cr_assert_eq(prose_floor_call_flags(x.f), PROSE_FLOOR_CALL_EMERGENCY);
  cr_assert_eq(x.rec.n_sent, 0, "the change itself sends nothing");
  cr_assert_eq(st(&x), HNP, "and changes no state");
  cr_assert_eq(prose_floor_ptt_press(x.f, x.now, -1), 0);
  cr_assert_eq(st(&x), PR);
  const ft_sent *r = ft_last_sent(&x.rec);
  cr_assert_eq(r->type, PROSE_FLOOR_MSG_REQUEST);
  cr_assert_eq(r->indicator, emerg);
  cr_assert_eq(r->priority, 5);
  /* The encoded octets, decoded independently of the recorder. */
  prose_floor_msg m;
  cr_assert_eq(prose_floor_msg_decode(r->bytes, r->len, &m), 0);
  cr_assert(m.present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_INDICATOR));
  cr_assert_eq(m.indicator & (PROSE_FLOOR_IND_EMERGENCY | PROSE_FLOOR_IND_NORMAL),
               PROSE_FLOOR_IND_EMERGENCY);
  /* Imminent peril instead: the retransmission (T201) says so. */
  cr_assert_eq(prose_floor_set_call_flags(x.f, PROSE_FLOOR_CALL_IMMINENT_PERIL), 0);
  advance(&x, 40);
  cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_REQUEST, 0), 2);
  cr_assert_eq(ft_last_sent(&x.rec)->indicator,
               PROSE_FLOOR_IND_IMMINENT_PERIL | PROSE_FLOOR_IND_QUEUEING);
  /* Back to basic (EMERGENCY END): normal again. */
  cr_assert_eq(prose_floor_set_call_flags(x.f, 0), 0);
  advance(&x, 40);
  cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_REQUEST, 0), 3);
  cr_assert_eq(ft_last_sent(&x.rec)->indicator, PROSE_FLOOR_IND_NORMAL | PROSE_FLOOR_IND_QUEUEING);
  /* A call does not change its kind: broadcast and private bits are refused. */
  cr_assert_eq(prose_floor_set_call_flags(x.f, PROSE_FLOOR_CALL_BROADCAST), PROSE_EINVAL);
  cr_assert_eq(
      prose_floor_set_call_flags(x.f, PROSE_FLOOR_CALL_PRIVATE | PROSE_FLOOR_CALL_EMERGENCY),
      PROSE_EINVAL);
  cr_assert_eq(prose_floor_call_flags(x.f), 0);
  fx_del(&x);

  /* The arbitrator. Normal, it would be pre-empted by any emergency
   * request; once its own call is an emergency call, an emergency request
   * at a lower level (1 < 5) is queued instead. */
  fx_new(&x, 0);
  to_state(&x, HP);
  cr_assert_eq(prose_floor_set_call_flags(x.f, PROSE_FLOOR_CALL_EMERGENCY), 0);
  cr_assert_eq(rx(&x, ft_request(x.buf, D, ID_D, 1, emerg)), 0);
  cr_assert_eq(st(&x), HP);
  const ft_sent *q = ft_last_sent(&x.rec);
  cr_assert_eq(q->type, PROSE_FLOOR_MSG_QUEUE_POS_INFO);
  cr_assert_eq(q->queue_position, 1);
  cr_assert_eq(q->indicator, emerg, "the arbitrator's messages say emergency too");
  cr_assert_eq(prose_floor_queue_len(x.f), 1);
  /* A higher level in the same class still pre-empts. */
  cr_assert_eq(rx(&x, ft_request(x.buf, C, ID_C, 9, emerg)), 0);
  cr_assert_eq(st(&x), PG);
  cr_assert_eq(ft_last_sent(&x.rec)->type, PROSE_FLOOR_MSG_GRANTED);
  cr_assert_eq(ft_last_sent(&x.rec)->field_ssrc, C);
  fx_del(&x);

  /* Ended back to basic: an emergency request at level 0 pre-empts again. */
  fx_new(&x, PROSE_FLOOR_CALL_EMERGENCY);
  to_state(&x, HP);
  cr_assert_eq(ft_last_sent(&x.rec)->indicator, emerg, "Floor Taken of the emergency call");
  cr_assert_eq(prose_floor_set_call_flags(x.f, 0), 0);
  cr_assert_eq(rx(&x, ft_request(x.buf, D, ID_D, 0, emerg)), 0);
  cr_assert_eq(st(&x), PG);
  cr_assert_eq(ft_last_sent(&x.rec)->type, PROSE_FLOOR_MSG_GRANTED);
  cr_assert_eq(ft_last_sent(&x.rec)->field_ssrc, D);
  cr_assert_eq(ft_last_event(&x.rec, PROSE_FLOOR_EV_REVOKED)->ssrc, D);
  fx_del(&x);

  /* The tie-break between two holders uses the new class: upgraded to
   * imminent peril, A keeps the floor against a normal holder at level 9
   * (which would win on level alone) and repeats Floor Taken. */
  fx_new(&x, 0);
  to_state(&x, HP);
  cr_assert_eq(prose_floor_set_call_flags(x.f, PROSE_FLOOR_CALL_IMMINENT_PERIL), 0);
  size_t sent0 = x.rec.n_sent;
  at(&x, x.now + 100);
  cr_assert_eq(rx(&x, ft_taken(x.buf, B, ID_B, 9, true)), 0);
  cr_assert_eq(st(&x), HP);
  cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_TAKEN, sent0), 1);
  cr_assert_eq(ft_last_sent(&x.rec)->indicator,
               PROSE_FLOOR_IND_IMMINENT_PERIL | PROSE_FLOOR_IND_QUEUEING);
  fx_del(&x);

  /* Set before the session starts (or while T230 has it in 'Start-stop'):
   * kept for the session. */
  fx_new(&x, 0);
  cr_assert_eq(prose_floor_set_call_flags(x.f, PROSE_FLOOR_CALL_EMERGENCY), 0);
  to_state(&x, HP);
  cr_assert_eq(ft_last_sent(&x.rec)->type, PROSE_FLOOR_MSG_TAKEN);
  cr_assert_eq(ft_last_sent(&x.rec)->indicator, emerg);
  fx_del(&x);
}

/* ------------------------------------------------------------------ */
/* The arbitrator's queue, pre-emption and the tie-break              */

Test(floor_fsm, queue_order_full_and_denials) {
  prose_floor_settings s;
  ft_settings(&s, A, ID_A, 5);
  s.queue_capacity = 3;
  fx x;
  fx_new_with(&x, &s);
  to_state(&x, HP);
  /* D (1), then E (3), then F emergency (0): F > E > D. */
  cr_assert_eq(rx(&x, ft_request(x.buf, D, ID_D, 1, 0)), 0);
  cr_assert_eq(ft_last_sent(&x.rec)->queue_position, 1);
  cr_assert_eq(rx(&x, ft_request(x.buf, 0xE, "sip:e@x", 3, 0)), 0);
  cr_assert_eq(ft_last_sent(&x.rec)->queue_position, 1);
  cr_assert_eq(ft_last_sent(&x.rec)->field_ssrc, 0xE);
  cr_assert_str_eq(ft_last_sent(&x.rec)->queued_user_id, "sip:e@x");
  uint16_t emerg = PROSE_FLOOR_IND_EMERGENCY | PROSE_FLOOR_IND_QUEUEING;
  /* An emergency request at level 0 still outranks our normal level 5:
   * pre-emption. Use level 0 with the class below ours to queue it instead. */
  cr_assert_eq(prose_floor_queue_len(x.f), 2);
  cr_assert_eq(prose_floor_queue_ssrc(x.f, 0), 0xE);
  cr_assert_eq(prose_floor_queue_ssrc(x.f, 1), D);
  /* A repeated request gets its position again, not a second entry. */
  cr_assert_eq(rx(&x, ft_request(x.buf, D, ID_D, 1, 0)), 0);
  cr_assert_eq(ft_last_sent(&x.rec)->type, PROSE_FLOOR_MSG_QUEUE_POS_INFO);
  cr_assert_eq(ft_last_sent(&x.rec)->queue_position, 2);
  cr_assert_eq(prose_floor_queue_len(x.f), 2);
  /* Queue Position Request: queued -> its position; unknown -> 254. */
  cr_assert_eq(rx(&x, ft_qpr(x.buf, D, ID_D)), 0);
  cr_assert_eq(ft_last_sent(&x.rec)->queue_position, 2);
  cr_assert_eq(rx(&x, ft_qpr(x.buf, 0x77, "sip:g@x")), 0);
  cr_assert_eq(ft_last_sent(&x.rec)->queue_position, PROSE_FLOOR_QPOS_NOT_QUEUED);
  /* Fill the queue, then one more: Deny cause 7. */
  cr_assert_eq(rx(&x, ft_request(x.buf, 0x10, "sip:h@x", 0, 0)), 0);
  cr_assert_eq(prose_floor_queue_len(x.f), 3);
  cr_assert_eq(rx(&x, ft_request(x.buf, 0x11, "sip:i@x", 0, 0)), 0);
  cr_assert_eq(ft_last_sent(&x.rec)->type, PROSE_FLOOR_MSG_DENY);
  cr_assert_eq(ft_last_sent(&x.rec)->cause, PROSE_FLOOR_CAUSE_QUEUE_FULL);
  cr_assert_str_eq(ft_last_sent(&x.rec)->user_id, "sip:i@x");
  /* A requester that does not support queueing: Deny cause 1. */
  cr_assert_eq(rx(&x, ft_request(x.buf, 0x12, "sip:j@x", 0, PROSE_FLOOR_IND_NORMAL)), 0);
  cr_assert_eq(ft_last_sent(&x.rec)->cause, PROSE_FLOOR_CAUSE_OTHER_HAS_PERMISSION);
  /* A queued participant withdraws. */
  cr_assert_eq(rx(&x, ft_release(x.buf, 0xE, "sip:e@x")), 0);
  cr_assert_eq(prose_floor_queue_len(x.f), 2);
  cr_assert_eq(prose_floor_queue_ssrc(x.f, 0), D);
  /* An emergency request pre-empts a normal talker whatever its level. */
  cr_assert_eq(rx(&x, ft_request(x.buf, 0x13, "sip:k@x", 0, emerg)), 0);
  cr_assert_eq(st(&x), PG);
  const ft_sent *g = ft_last_sent(&x.rec);
  cr_assert_eq(g->type, PROSE_FLOOR_MSG_GRANTED);
  cr_assert_eq(g->field_ssrc, 0x13);
  cr_assert(g->indicator & PROSE_FLOOR_IND_EMERGENCY);
  cr_assert_eq(g->n_queue, 2, "the queue goes with the grant");
  cr_assert_eq(g->queue_ssrc[0], D);
  cr_assert_eq(g->queue_ssrc[1], 0x10);
  fx_del(&x);

  /* Queueing off at the arbitrator: Deny cause 1. */
  ft_settings(&s, A, ID_A, 5);
  s.queueing = false;
  fx_new_with(&x, &s);
  to_state(&x, HP);
  cr_assert_eq(rx(&x, ft_request(x.buf, D, ID_D, 1, 0)), 0);
  cr_assert_eq(ft_last_sent(&x.rec)->type, PROSE_FLOOR_MSG_DENY);
  cr_assert_eq(ft_last_sent(&x.rec)->cause, PROSE_FLOOR_CAUSE_OTHER_HAS_PERMISSION);
  cr_assert_eq(ft_last_sent(&x.rec)->indicator, PROSE_FLOOR_IND_NORMAL);
  fx_del(&x);
}

Test(floor_fsm, tie_break_when_both_hold_the_floor) {
  /* Each row: the other holder's (indicator, level, SSRC); A has normal,
   * level 5, SSRC 0xA. Win = A keeps the floor. */
  static const struct {
    uint16_t ind;
    uint8_t level;
    uint32_t ssrc;
    bool a_wins;
  } rows[] = {
      {PROSE_FLOOR_IND_EMERGENCY, 0, 0x1, false},      /* class first */
      {PROSE_FLOOR_IND_IMMINENT_PERIL, 0, 0x1, false}, /* imminent peril > normal */
      {PROSE_FLOOR_IND_NORMAL, 6, 0x1, false},         /* then level */
      {PROSE_FLOOR_IND_NORMAL, 4, 0xFFFFFFFF, true},
      {PROSE_FLOOR_IND_NORMAL, 5, 0xB, false}, /* then SSRC */
      {PROSE_FLOOR_IND_NORMAL, 5, 0x9, true},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    fx x;
    fx_new(&x, 0);
    to_state(&x, HP);
    size_t sent0 = x.rec.n_sent;
    at(&x, x.now + 100);
    prose_floor_msg m;
    prose_floor_msg_init(&m, PROSE_FLOOR_MSG_TAKEN, rows[i].ssrc);
    m.user_id.p = (const uint8_t *)"sip:o@x";
    m.user_id.len = 7;
    m.priority = rows[i].level;
    m.indicator = rows[i].ind;
    m.present = PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_USER_ID) |
                PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_PRIORITY) |
                PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_INDICATOR);
    size_t n;
    cr_assert_eq(prose_floor_msg_encode(&m, x.buf, sizeof x.buf, &n), 0);
    cr_assert_eq(rx(&x, n), 0);
    cr_assert_eq(st(&x), rows[i].a_wins ? HP : HNP, "row %zu", i);
    uint32_t t;
    cr_assert(prose_floor_talker(x.f, &t, NULL));
    cr_assert_eq(t, rows[i].a_wins ? A : rows[i].ssrc, "row %zu talker", i);
    if (rows[i].a_wins) {
      /* The winner repeats Floor Taken, once per T201. */
      cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_TAKEN, sent0), 1, "row %zu", i);
      cr_assert_eq(rx(&x, n), 0);
      cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_TAKEN, sent0), 1, "row %zu", i);
      at(&x, x.now + 40);
      cr_assert_eq(prose_floor_rtp(x.f, x.now, rows[i].ssrc), 0);
      cr_assert_eq(ft_count_sent(&x.rec, PROSE_FLOOR_MSG_TAKEN, sent0), 2, "row %zu", i);
    } else {
      cr_assert_eq(x.rec.n_sent, sent0, "row %zu: the loser stays quiet", i);
      cr_assert_eq(ft_last_event(&x.rec, PROSE_FLOOR_EV_REVOKED)->ssrc, rows[i].ssrc);
      cr_assert(!ft_last_event(&x.rec, PROSE_FLOOR_EV_MEDIA)->on);
    }
    fx_del(&x);
  }
}

/* ------------------------------------------------------------------ */
/* Settings, API misuse, the receive path                             */

static int reject_send(void *ud, const uint8_t *b, size_t n) {
  (void)ud;
  (void)b;
  (void)n;
  return -1;
}

Test(floor_fsm, settings_and_api) {
  prose_floor_settings s;
  prose_floor *f = NULL;
  ft_rec rec;
  ft_rec_init(&rec, "cfg");
  ft_settings(&s, A, ID_A, 5);
  cr_assert_eq(s.timer_ms[PROSE_FLOOR_T201], 40);
  cr_assert_eq(s.timer_ms[PROSE_FLOOR_T203], 4000);
  cr_assert_eq(s.timer_ms[PROSE_FLOOR_T204], 80);
  cr_assert_eq(s.timer_ms[PROSE_FLOOR_T205], 80);
  cr_assert_eq(s.timer_ms[PROSE_FLOOR_T206], 27000);
  cr_assert_eq(s.timer_ms[PROSE_FLOOR_T207], 3000);
  cr_assert_eq(s.timer_ms[PROSE_FLOOR_T230], 600000);
  cr_assert_eq(s.timer_ms[PROSE_FLOOR_T233], 3000);
  cr_assert_eq(s.counter_max[PROSE_FLOOR_C201], 3);
  cr_assert_eq(s.counter_max[PROSE_FLOOR_C204], 3);
  cr_assert_eq(s.counter_max[PROSE_FLOOR_C205], 4);
  for (int t = 0; t < PROSE_FLOOR_TIMER_COUNT; t++) {
    prose_floor_settings bad = s;
    bad.timer_ms[t] = 0;
    cr_assert_eq(prose_floor_new(&f, &bad, &ft_callbacks, &rec), PROSE_ECONFIG, "timer %d", t);
  }
  for (int c = 0; c < PROSE_FLOOR_COUNTER_COUNT; c++) {
    prose_floor_settings bad = s;
    bad.counter_max[c] = 0;
    cr_assert_eq(prose_floor_new(&f, &bad, &ft_callbacks, &rec), PROSE_ECONFIG);
  }
  char id256[257];
  memset(id256, 'z', 256);
  id256[256] = 0;
  prose_floor_settings bad = s;
  bad.user_id = id256;
  cr_assert_eq(prose_floor_new(&f, &bad, &ft_callbacks, &rec), PROSE_ECONFIG);
  bad.user_id = "";
  cr_assert_eq(prose_floor_new(&f, &bad, &ft_callbacks, &rec), PROSE_ECONFIG);
  bad.user_id = NULL;
  cr_assert_eq(prose_floor_new(&f, &bad, &ft_callbacks, &rec), PROSE_ECONFIG);
  bad = s;
  bad.queue_capacity = 0;
  cr_assert_eq(prose_floor_new(&f, &bad, &ft_callbacks, &rec), PROSE_ECONFIG);
  bad.queue_capacity = PROSE_FLOOR_QUEUE_MAX + 1;
  cr_assert_eq(prose_floor_new(&f, &bad, &ft_callbacks, &rec), PROSE_ECONFIG);
  prose_floor_callbacks nosend = {NULL, NULL};
  cr_assert_eq(prose_floor_new(&f, &s, &nosend, &rec), PROSE_ECONFIG);

  /* Custom timers are the ones armed. */
  for (int t = 0; t < PROSE_FLOOR_TIMER_COUNT; t++) s.timer_ms[t] = 1000u + 111u * (uint32_t)t;
  cr_assert_eq(prose_floor_new(&f, &s, &ft_callbacks, &rec), 0);
  cr_assert_eq(prose_floor_start(f, 0, (prose_floor_role)7), PROSE_EINVAL);
  cr_assert_eq(prose_floor_start(f, 0, PROSE_FLOOR_ROLE_TERMINATING), 0);
  cr_assert_eq(prose_floor_start(f, 0, PROSE_FLOOR_ROLE_TERMINATING), PROSE_EINVAL, "started");
  cr_assert_eq(prose_floor_timer_deadline(f, PROSE_FLOOR_T230), 1000u + 111u * 6);
  cr_assert_eq(prose_floor_ptt_press(f, 0, 256), PROSE_EINVAL);
  cr_assert_eq(prose_floor_ptt_press(f, 0, -2), PROSE_EINVAL);
  cr_assert_eq(prose_floor_ptt_press(f, 0, 200), 0);
  cr_assert_eq(rec.sent[0].priority, 200);
  cr_assert_eq(prose_floor_timer_deadline(f, PROSE_FLOOR_T201), 1000u);
  cr_assert_eq(prose_floor_rtp(f, 5, B), 0);
  cr_assert_eq(prose_floor_timer_deadline(f, PROSE_FLOOR_T203), 5u + 1111u);
  /* RTP from a new arbitrator restarts T201 (the count starts afresh). */
  cr_assert_eq(prose_floor_next_deadline(f), 1005u);
  cr_assert_eq(prose_floor_timer_deadline(f, (prose_floor_timer)99), UINT64_MAX);
  cr_assert_eq(prose_floor_counter_value(f, (prose_floor_counter)99), 0);
  cr_assert_eq(prose_floor_queue_ssrc(f, 5), 0);

  /* Callbacks cannot re-enter the engine. */
  rec.reenter = f;
  rec.reenter_rc = 0;
  cr_assert_eq(prose_floor_on_timeout(f, 1005), 0); /* T201: resend -> send callback */
  cr_assert_eq(rec.reenter_rc, PROSE_EINVAL);
  rec.reenter_rc = 0;
  cr_assert_eq(prose_floor_ptt_release(f, 1006), 0); /* events */
  cr_assert_eq(rec.reenter_rc, PROSE_EINVAL);
  rec.reenter = NULL;
  prose_floor_del(f);

  /* A failing send is counted, the machine goes on. */
  prose_floor_callbacks cb = {reject_send, NULL};
  ft_settings(&s, A, ID_A, 5);
  cr_assert_eq(prose_floor_new(&f, &s, &cb, NULL), 0);
  cr_assert_eq(prose_floor_start(f, 0, PROSE_FLOOR_ROLE_ORIGINATOR), 0);
  cr_assert_eq(prose_floor_get_stats(f)->tx_failed, 1);
  cr_assert_eq(prose_floor_get_stats(f)->tx_msgs, 0);
  cr_assert_eq(prose_floor_get_state(f), HP);
  prose_floor_del(f);

  /* Names follow the specification. */
  cr_assert_str_eq(prose_floor_state_name(PR), "O: pending request");
  cr_assert_str_eq(prose_floor_state_name(SS), "Start-stop");
  cr_assert_str_eq(prose_floor_state_name((prose_floor_state)42), "unknown");
  cr_assert_str_eq(prose_floor_timer_name(PROSE_FLOOR_T233), "T233");
  cr_assert_str_eq(prose_floor_timer_name((prose_floor_timer)42), "unknown");
  cr_assert_str_eq(prose_floor_trigger_name(PROSE_FLOOR_TRIG_C205_LIMIT), "C205 limit");
  cr_assert_str_eq(prose_floor_trigger_name(PROSE_FLOOR_TRIG_RX_TAKEN), "R: Floor Taken");
  cr_assert_str_eq(prose_floor_trigger_name((prose_floor_trigger)99), "unknown");
}

Test(floor_fsm, receive_path) {
  fx x;
  fx_new(&x, 0);
  to_state(&x, SIL);
  const prose_floor_stats *stats = prose_floor_get_stats(x.f);
  /* Own messages looped back by multicast are ignored. */
  cr_assert_eq(rx(&x, ft_taken(x.buf, A, ID_A, 5, true)), 0);
  cr_assert_eq(st(&x), SIL);
  cr_assert_eq(stats->rx_ignored, 1);
  /* An RTCP RR, an APP of another name, a Floor Idle and a type-7 message
   * in one datagram: all skipped. */
  static const uint8_t skip[] = {
      0x81, 0xC9, 0x00, 0x01, 0, 0, 0, 0xB,                      /* RR */
      0x80, 0xCC, 0x00, 0x02, 0, 0, 0, 0xB, 'M', 'C', 'M', 'C',  /* APP MCMC */
      0x85, 0xCC, 0x00, 0x02, 0, 0, 0, 0xB, 'M', 'C', 'P', 'T',  /* Floor Idle */
      0x87, 0xCC, 0x00, 0x02, 0, 0, 0, 0xB, 'M', 'C', 'P', 'T'}; /* type 7 */
  cr_assert_eq(prose_floor_recv(x.f, x.now, skip, sizeof skip), 0);
  cr_assert_eq(stats->rx_ignored, 5);
  cr_assert_eq(stats->rx_msgs, 0);
  cr_assert_eq(st(&x), SIL);
  /* Two messages in one datagram act in order: Taken, then Release. */
  size_t n = ft_taken(x.buf, B, ID_B, 0, true);
  n += ft_release(x.buf + n, B, ID_B);
  cr_assert_eq(rx(&x, n), 0);
  cr_assert_eq(stats->rx_msgs, 2);
  cr_assert_eq(st(&x), SIL);
  cr_assert_eq(ft_count_events(&x.rec, PROSE_FLOOR_EV_TALKER, 0), 2);
  /* Bad datagrams: counted, nothing happens. */
  cr_assert_eq(prose_floor_recv(x.f, x.now, x.buf, 0), PROSE_ETRUNC);
  cr_assert_eq(prose_floor_recv(x.f, x.now, x.buf, 3), PROSE_ETRUNC);
  n = ft_taken(x.buf, B, ID_B, 0, true);
  cr_assert_eq(prose_floor_recv(x.f, x.now, x.buf, n - 4), PROSE_EOVERLONG);
  cr_assert_eq(stats->rx_malformed, 3);
  cr_assert_eq(st(&x), SIL);
  /* Taken from B: talker known with its MCPTT ID. */
  cr_assert_eq(rx(&x, n), 0);
  const char *id;
  uint32_t ssrc;
  cr_assert(prose_floor_talker(x.f, &ssrc, &id));
  cr_assert_eq(ssrc, B);
  cr_assert_str_eq(id, ID_B);
  /* A Release from someone other than the talker leaves the floor taken. */
  cr_assert_eq(rx(&x, ft_release(x.buf, D, ID_D)), 0);
  cr_assert_eq(st(&x), HNP);
  /* RTP of our own SSRC (loopback) changes nothing. */
  cr_assert_eq(prose_floor_rtp(x.f, x.now, A), 0);
  cr_assert(prose_floor_talker(x.f, &ssrc, NULL));
  cr_assert_eq(ssrc, B);
  fx_del(&x);
}

Test(floor_fsm, handover_failures_and_older_peers) {
  fx x;
  /* Pre-empted with two requests queued; the pre-empting grantee never
   * talks (C205 limit): the floor goes to the head of the queue instead. */
  fx_new(&x, 0);
  to_state(&x, HP);
  cr_assert_eq(rx(&x, ft_request(x.buf, D, ID_D, 1, 0)), 0);
  cr_assert_eq(rx(&x, ft_request(x.buf, 0xE, "sip:e@x", 2, 0)), 0);
  cr_assert_eq(rx(&x, ft_request(x.buf, C, ID_C, 9, 0)), 0);
  cr_assert_eq(st(&x), PG);
  cr_assert_eq(ft_last_sent(&x.rec)->n_queue, 2);
  advance(&x, 320);
  cr_assert_eq(st(&x), PG);
  const ft_sent *g = ft_last_sent(&x.rec);
  cr_assert_eq(g->type, PROSE_FLOOR_MSG_GRANTED);
  cr_assert_eq(g->field_ssrc, 0xE);
  cr_assert_eq(g->n_queue, 1);
  cr_assert_eq(prose_floor_counter_value(x.f, PROSE_FLOOR_C205), 1);
  uint32_t t;
  cr_assert(prose_floor_talker(x.f, &t, NULL));
  cr_assert_eq(t, 0xE);
  /* E declines with Floor Release: next is D. */
  cr_assert_eq(rx(&x, ft_release(x.buf, 0xE, "sip:e@x")), 0);
  cr_assert_eq(ft_last_sent(&x.rec)->field_ssrc, D);
  cr_assert_eq(ft_last_sent(&x.rec)->n_queue, 0);
  /* Another participant's Floor Taken ends the handover. */
  cr_assert_eq(rx(&x, ft_taken(x.buf, B, ID_B, 0, true)), 0);
  cr_assert_eq(st(&x), HNP);
  fx_del(&x);

  /* The arbitrator releases while our request is pending: contend afresh
   * with no arbitrator, so C201 unanswered requests take the floor. */
  fx_new(&x, 0);
  to_state(&x, HNP);
  cr_assert_eq(prose_floor_ptt_press(x.f, x.now, -1), 0);
  advance(&x, 50);
  cr_assert_eq(rx(&x, ft_release(x.buf, B, ID_B)), 0);
  cr_assert_eq(st(&x), PR);
  cr_assert(!prose_floor_talker(x.f, NULL, NULL));
  cr_assert_eq(prose_floor_counter_value(x.f, PROSE_FLOOR_C201), 1);
  cr_assert_eq(prose_floor_timer_deadline(x.f, PROSE_FLOOR_T203), UINT64_MAX);
  advance(&x, 120);
  cr_assert_eq(st(&x), HP);
  fx_del(&x);

  /* A peer without the SSRC field (before 24.380 v14) names the granted
   * user by MCPTT ID only. */
  fx_new(&x, 0);
  to_state(&x, PR);
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_GRANTED, B);
  m.user_id.p = (const uint8_t *)ID_A;
  m.user_id.len = strlen(ID_A);
  m.present = PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_USER_ID);
  size_t n;
  cr_assert_eq(prose_floor_msg_encode(&m, x.buf, sizeof x.buf, &n), 0);
  cr_assert_eq(rx(&x, n), 0);
  cr_assert_eq(st(&x), HP);
  fx_del(&x);
  fx_new(&x, 0);
  to_state(&x, PR);
  m.user_id.p = (const uint8_t *)ID_C; /* granted to C, by ID */
  m.user_id.len = strlen(ID_C);
  cr_assert_eq(prose_floor_msg_encode(&m, x.buf, sizeof x.buf, &n), 0);
  cr_assert_eq(rx(&x, n), 0);
  cr_assert_eq(st(&x), PR);
  const char *id;
  cr_assert(prose_floor_talker(x.f, &t, &id));
  cr_assert_str_eq(id, ID_C);
  fx_del(&x);

  static const struct {
    unsigned type;
    const char *name;
  } names[] = {{0, "Floor Request"},
               {1, "Floor Granted"},
               {2, "Floor Taken"},
               {3, "Floor Deny"},
               {4, "Floor Release"},
               {5, "Floor Idle"},
               {6, "Floor Revoke"},
               {8, "Floor Queue Position Request"},
               {9, "Floor Queue Position Info"},
               {10, "Floor Ack"},
               {11, "unknown"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    cr_assert_str_eq(prose_floor_msg_type_name(names[i].type), names[i].name);
}
