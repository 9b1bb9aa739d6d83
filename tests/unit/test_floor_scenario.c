/*
 * Two or three floor participants wired back to back through an in-memory
 * "network" in virtual time: every sent datagram reaches the other live
 * participants after a fixed latency unless a drop rule removes it, and a
 * participant with permission sends RTP every 20 ms (reported to the
 * others through prose_floor_rtp). The loop jumps to the next event:
 * delivery, timer, or RTP tick.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "floor_testlib.h"
#include "prose/err.h"
#include "prose/floor.h"

#define MAXN 3
#define LATENCY 5
#define RTP_PERIOD 20
#define ANY (-1)
#define RTP_PKT 0xFEu
#define ANY_TYPE 0xFFu

typedef struct net net;

typedef struct node {
  ft_rec rec;
  prose_floor *f;
  net *owner;
  int index;
  uint32_t ssrc;
  char id[16];
  bool alive;
  bool talking;
  uint64_t next_rtp;
} node;

typedef struct pkt {
  uint64_t at;
  uint64_t seq;
  int from, to;
  uint8_t type; /* floor message type or RTP_PKT */
  size_t len;
  uint8_t b[1024];
} pkt;

typedef struct drop_rule {
  int from, to;
  uint8_t type;
  int remaining; /* -1: for ever */
} drop_rule;

struct net {
  node n[MAXN];
  int count;
  uint64_t now;
  uint64_t seq;
  size_t nq;
  pkt q[256];
  drop_rule rules[8];
  size_t n_rules;
  size_t dropped;
  bool check_single_talker; /* assert at most one talker after every step */
};

static bool dropped(net *w, int from, int to, uint8_t type) {
  for (size_t i = 0; i < w->n_rules; i++) {
    drop_rule *r = &w->rules[i];
    if (r->remaining == 0) continue;
    if ((r->from == ANY || r->from == from) && (r->to == ANY || r->to == to) &&
        (r->type == ANY_TYPE || r->type == type)) {
      if (r->remaining > 0) r->remaining--;
      w->dropped++;
      return true;
    }
  }
  return false;
}

static void enqueue(net *w, int from, uint8_t type, const uint8_t *b, size_t n) {
  for (int to = 0; to < w->count; to++) {
    if (to == from || !w->n[to].alive || dropped(w, from, to, type)) continue;
    cr_assert_lt(w->nq, sizeof w->q / sizeof w->q[0], "network queue full");
    pkt *p = &w->q[w->nq++];
    p->at = w->now + LATENCY;
    p->seq = w->seq++;
    p->from = from;
    p->to = to;
    p->type = type;
    p->len = n;
    cr_assert_leq(n, sizeof p->b);
    if (n) memcpy(p->b, b, n);
  }
}

static void on_send(void *ctx, const uint8_t *b, size_t n) {
  node *nd = ctx;
  if (!nd->alive) return;
  enqueue(nd->owner, nd->index, (uint8_t)(b[0] & 0x0Fu), b, n);
}

static void net_add(net *w, uint32_t ssrc, const char *id, uint8_t prio, uint32_t flags,
                    bool queueing) {
  node *nd = &w->n[w->count];
  nd->index = w->count++;
  nd->owner = w;
  nd->ssrc = ssrc;
  snprintf(nd->id, sizeof nd->id, "%s", id);
  nd->alive = true;
  ft_rec_init(&nd->rec, nd->id);
  nd->rec.on_send = on_send;
  nd->rec.ctx = nd;
  prose_floor_settings s;
  ft_settings(&s, ssrc, nd->id, prio);
  s.call_flags = flags;
  s.queueing = queueing;
  cr_assert_eq(prose_floor_new(&nd->f, &s, &ft_callbacks, &nd->rec), 0);
}

static void net_free(net *w) {
  for (int i = 0; i < w->count; i++) prose_floor_del(w->n[i].f);
}

static void set_now(net *w, uint64_t t) {
  w->now = t;
  for (int i = 0; i < w->count; i++) w->n[i].rec.now = t;
}

static int talkers(const net *w, int *who) {
  int k = 0;
  for (int i = 0; i < w->count; i++)
    if (w->n[i].alive && prose_floor_may_send_media(w->n[i].f)) {
      k++;
      if (who) *who = i;
    }
  return k;
}

/* Start media for nodes that just got permission; stop it for the others. */
static void update_media(net *w) {
  for (int i = 0; i < w->count; i++) {
    node *nd = &w->n[i];
    bool may = nd->alive && prose_floor_may_send_media(nd->f);
    if (may && !nd->talking) nd->next_rtp = w->now;
    nd->talking = may;
  }
}

static uint64_t next_event(const net *w) {
  uint64_t t = UINT64_MAX;
  for (size_t i = 0; i < w->nq; i++)
    if (w->q[i].at < t) t = w->q[i].at;
  for (int i = 0; i < w->count; i++) {
    const node *nd = &w->n[i];
    if (!nd->alive) continue;
    uint64_t d = prose_floor_next_deadline(nd->f);
    if (d < t) t = d;
    if (nd->talking && nd->next_rtp < t) t = nd->next_rtp;
  }
  return t;
}

/* Deliver, in send order, every packet due at `now`. */
static void deliver_due(net *w) {
  for (;;) {
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < w->nq; i++)
      if (w->q[i].at <= w->now && (best == SIZE_MAX || w->q[i].seq < w->q[best].seq)) best = i;
    if (best == SIZE_MAX) return;
    pkt p = w->q[best];
    w->q[best] = w->q[--w->nq];
    node *to = &w->n[p.to];
    if (!to->alive) continue;
    if (p.type == RTP_PKT)
      cr_assert_eq(prose_floor_rtp(to->f, w->now, w->n[p.from].ssrc), 0);
    else
      cr_assert_eq(prose_floor_recv(to->f, w->now, p.b, p.len), 0, "%s rejected a datagram",
                   to->id);
  }
}

static void step(net *w) {
  deliver_due(w);
  for (int i = 0; i < w->count; i++)
    if (w->n[i].alive && prose_floor_next_deadline(w->n[i].f) <= w->now)
      cr_assert_eq(prose_floor_on_timeout(w->n[i].f, w->now), 0);
  update_media(w);
  for (int i = 0; i < w->count; i++) {
    node *nd = &w->n[i];
    if (!nd->talking || nd->next_rtp > w->now) continue;
    enqueue(w, i, RTP_PKT, NULL, 0);
    nd->next_rtp = w->now + RTP_PERIOD;
  }
  if (w->check_single_talker)
    cr_assert_leq(talkers(w, NULL), 1, "two talkers at t=%llu", (unsigned long long)w->now);
}

static void run_until(net *w, uint64_t end) {
  for (int guard = 0; guard < 100000; guard++) {
    uint64_t t = next_event(w);
    if (t > end) break;
    set_now(w, t > w->now ? t : w->now);
    step(w);
  }
  set_now(w, end);
}

/* User actions happen at w->now, then media state is refreshed. */
static void press(net *w, int i, int prio) {
  cr_assert_eq(prose_floor_ptt_press(w->n[i].f, w->now, prio), 0);
  update_media(w);
}
static void release(net *w, int i) {
  cr_assert_eq(prose_floor_ptt_release(w->n[i].f, w->now), 0);
  update_media(w);
}

static prose_floor_state st(const net *w, int i) { return prose_floor_get_state(w->n[i].f); }

static uint32_t talker_of(const net *w, int i) {
  uint32_t s = 0;
  prose_floor_talker(w->n[i].f, &s, NULL);
  return s;
}

/* Time the node entered 'O: has permission' last (UINT64_MAX: never). */
static uint64_t granted_at(const net *w, int i) {
  const ft_event *e = ft_last_event(&w->n[i].rec, PROSE_FLOOR_EV_GRANTED);
  return e ? e->now : UINT64_MAX;
}

static void start_group(net *w, int originator) {
  for (int i = 0; i < w->count; i++) {
    prose_floor_role role =
        i == originator ? PROSE_FLOOR_ROLE_ORIGINATOR : PROSE_FLOOR_ROLE_TERMINATING;
    cr_assert_eq(prose_floor_start(w->n[i].f, w->now, role), 0);
  }
  update_media(w);
}

static void three(net *w, bool queueing) {
  memset(w, 0, sizeof *w);
  net_add(w, 0x100, "sip:a@x", 5, 0, queueing);
  net_add(w, 0x200, "sip:b@x", 5, 0, queueing);
  net_add(w, 0x300, "sip:c@x", 5, 0, queueing);
  w->check_single_talker = true;
}

#define SIL PROSE_FLOOR_O_SILENCE
#define HNP PROSE_FLOOR_O_HAS_NO_PERMISSION
#define HP PROSE_FLOOR_O_HAS_PERMISSION
#define QD PROSE_FLOOR_O_QUEUED

/* ------------------------------------------------------------------ */

Test(floor_scenario, idle_request_no_arbitrator_then_release) {
  net w;
  three(&w, true);
  start_group(&w, -1);
  set_now(&w, 1000);
  press(&w, 0, -1);
  run_until(&w, 1300);
  /* Nobody answers: Floor Taken after C201 x T201 = 120 ms. */
  cr_assert_eq(granted_at(&w, 0), 1120);
  cr_assert_eq(st(&w, 0), HP);
  for (int i = 1; i < 3; i++) {
    cr_assert_eq(st(&w, i), HNP, "node %d", i);
    cr_assert_eq(talker_of(&w, i), 0x100);
  }
  cr_assert_eq(ft_count_sent(&w.n[0].rec, PROSE_FLOOR_MSG_REQUEST, 0), 3);
  /* Release without a queue: everyone falls silent. */
  release(&w, 0);
  run_until(&w, 1400);
  for (int i = 0; i < 3; i++) cr_assert_eq(st(&w, i), SIL, "node %d", i);
  cr_assert_eq(talkers(&w, NULL), 0);
  net_free(&w);
}

Test(floor_scenario, request_while_talking_is_denied_without_queueing) {
  net w;
  three(&w, false);
  start_group(&w, 0); /* A originates and talks */
  run_until(&w, 100);
  cr_assert_eq(st(&w, 1), HNP);
  press(&w, 1, -1);
  run_until(&w, 200);
  cr_assert_eq(st(&w, 1), HNP);
  const ft_event *d = ft_last_event(&w.n[1].rec, PROSE_FLOOR_EV_DENIED);
  cr_assert_not_null(d);
  cr_assert_eq(d->cause, PROSE_FLOOR_CAUSE_OTHER_HAS_PERMISSION);
  cr_assert_eq(d->now, 110, "one round trip");
  cr_assert_eq(st(&w, 0), HP);
  cr_assert_eq(ft_count_sent(&w.n[1].rec, PROSE_FLOOR_MSG_REQUEST, 0), 1);
  net_free(&w);
}

Test(floor_scenario, queued_then_granted_on_release) {
  net w;
  three(&w, true);
  start_group(&w, 0);
  run_until(&w, 100);
  press(&w, 1, -1);
  run_until(&w, 150);
  press(&w, 2, -1);
  run_until(&w, 500);
  cr_assert_eq(st(&w, 1), QD);
  cr_assert_eq(st(&w, 2), QD);
  cr_assert_eq(prose_floor_queue_position_get(w.n[1].f), 1);
  cr_assert_eq(prose_floor_queue_position_get(w.n[2].f), 2);
  cr_assert_eq(prose_floor_queue_len(w.n[0].f), 2);
  /* A releases: the head (B) gets the floor and the queue moves with it. */
  release(&w, 0);
  run_until(&w, 700);
  cr_assert_eq(st(&w, 1), HP);
  cr_assert_eq(granted_at(&w, 1), 505);
  cr_assert_eq(st(&w, 0), HNP);
  cr_assert_eq(talker_of(&w, 0), 0x200);
  cr_assert_eq(st(&w, 2), QD);
  cr_assert_eq(prose_floor_queue_position_get(w.n[2].f), 1);
  cr_assert_eq(prose_floor_queue_len(w.n[1].f), 1);
  /* B releases: C gets the floor. */
  release(&w, 1);
  run_until(&w, 900);
  cr_assert_eq(st(&w, 2), HP);
  cr_assert_eq(st(&w, 0), HNP);
  cr_assert_eq(st(&w, 1), HNP);
  cr_assert_eq(talker_of(&w, 0), 0x300);
  cr_assert_eq(talker_of(&w, 1), 0x300);
  net_free(&w);
}

Test(floor_scenario, pre_emption_by_higher_priority) {
  net w;
  three(&w, true);
  start_group(&w, 0);
  run_until(&w, 100);
  press(&w, 1, 9);
  run_until(&w, 300);
  cr_assert_eq(st(&w, 1), HP);
  cr_assert_eq(granted_at(&w, 1), 110);
  const ft_event *r = ft_last_event(&w.n[0].rec, PROSE_FLOOR_EV_REVOKED);
  cr_assert_not_null(r);
  cr_assert_eq(r->ssrc, 0x200);
  cr_assert_eq(r->now, 105);
  cr_assert_eq(st(&w, 0), HNP);
  cr_assert_eq(talker_of(&w, 0), 0x200);
  cr_assert_eq(talker_of(&w, 2), 0x200);
  /* C at the same level as A is queued at B, not pre-empting. */
  press(&w, 2, 5);
  run_until(&w, 400);
  cr_assert_eq(st(&w, 2), QD);
  cr_assert_eq(st(&w, 1), HP);
  net_free(&w);
}

Test(floor_scenario, lost_floor_taken) {
  net w;
  three(&w, true);
  start_group(&w, -1);
  /* Every Floor Taken from A to B is lost. */
  w.rules[w.n_rules++] = (drop_rule){0, 1, PROSE_FLOOR_MSG_TAKEN, -1};
  press(&w, 0, -1);
  run_until(&w, 300);
  cr_assert_eq(st(&w, 0), HP);
  /* B learns the talker from its media instead. */
  cr_assert_eq(st(&w, 1), HNP);
  cr_assert_eq(talker_of(&w, 1), 0x100);
  cr_assert_eq(ft_last_event(&w.n[1].rec, PROSE_FLOOR_EV_STATE)->trigger, PROSE_FLOOR_TRIG_RTP);
  cr_assert_eq(ft_last_event(&w.n[2].rec, PROSE_FLOOR_EV_STATE)->trigger,
               PROSE_FLOOR_TRIG_RX_TAKEN);
  net_free(&w);

  /* Now B contends at the same time as A, which has the higher priority:
   * B backs off on A's requests, misses A's Floor Taken, learns the new
   * arbitrator from A's media, asks A and is queued. */
  three(&w, true);
  prose_floor_del(w.n[0].f);
  prose_floor_settings s;
  ft_settings(&s, 0x100, w.n[0].id, 7);
  cr_assert_eq(prose_floor_new(&w.n[0].f, &s, &ft_callbacks, &w.n[0].rec), 0);
  start_group(&w, -1);
  w.rules[w.n_rules++] = (drop_rule){0, 1, PROSE_FLOOR_MSG_TAKEN, -1};
  press(&w, 0, -1);
  press(&w, 1, -1);
  run_until(&w, 400);
  cr_assert_eq(st(&w, 0), HP);
  cr_assert_eq(st(&w, 1), QD);
  cr_assert_eq(talkers(&w, NULL), 1);
  net_free(&w);
}

Test(floor_scenario, arbitrator_disappears) {
  net w;
  three(&w, true);
  start_group(&w, 0);
  run_until(&w, 1000);
  cr_assert_eq(st(&w, 1), HNP);
  w.n[0].alive = false; /* A's radio dies: no Floor Release, no more media */
  run_until(&w, 6000);
  /* T203 (4 s after the last RTP) ends the talk burst for the listeners. */
  for (int i = 1; i < 3; i++) {
    cr_assert_eq(st(&w, i), SIL, "node %d", i);
    const ft_event *e = ft_last_event(&w.n[i].rec, PROSE_FLOOR_EV_STATE);
    cr_assert_eq(e->trigger, PROSE_FLOOR_TRIG_T203);
    cr_assert_geq(e->now, 4000);
    cr_assert_leq(e->now, 5010);
  }
  press(&w, 1, -1);
  run_until(&w, 6200);
  cr_assert_eq(st(&w, 1), HP);
  cr_assert_eq(granted_at(&w, 1), 6120);
  cr_assert_eq(talker_of(&w, 2), 0x200);
  net_free(&w);
}

Test(floor_scenario, private_call_floor) {
  net w;
  memset(&w, 0, sizeof w);
  net_add(&w, 0x100, "sip:a@x", 5, PROSE_FLOOR_CALL_PRIVATE, true);
  net_add(&w, 0x200, "sip:b@x", 5, PROSE_FLOOR_CALL_PRIVATE, true);
  w.check_single_talker = true;
  start_group(&w, 0);
  cr_assert_eq(st(&w, 1), HNP, "the callee waits for the caller's media");
  run_until(&w, 300);
  cr_assert_eq(talker_of(&w, 1), 0x100);
  release(&w, 0);
  run_until(&w, 400);
  cr_assert_eq(st(&w, 0), SIL);
  cr_assert_eq(st(&w, 1), SIL);
  /* The peer in 'O: silence' grants at once: one round trip, not 120 ms. */
  press(&w, 1, -1);
  run_until(&w, 600);
  cr_assert_eq(st(&w, 1), HP);
  cr_assert_eq(granted_at(&w, 1), 410);
  cr_assert_eq(st(&w, 0), HNP);
  cr_assert_eq(talker_of(&w, 0), 0x200);
  net_free(&w);
}

Test(floor_scenario, simultaneous_requests_resolve_to_one_talker) {
  /* Equal priorities: the higher SSRC (B) wins; A backs off and is queued. */
  net w;
  three(&w, true);
  start_group(&w, -1);
  press(&w, 0, -1);
  press(&w, 1, -1);
  run_until(&w, 500);
  cr_assert_eq(st(&w, 1), HP);
  cr_assert_eq(granted_at(&w, 1), 120);
  cr_assert_eq(st(&w, 0), QD);
  cr_assert_eq(st(&w, 2), HNP);
  cr_assert_eq(talker_of(&w, 2), 0x200);
  cr_assert_eq(ft_count_events(&w.n[0].rec, PROSE_FLOOR_EV_GRANTED, 0), 0);
  net_free(&w);

  /* A higher priority beats the SSRC. */
  three(&w, true);
  start_group(&w, -1);
  press(&w, 0, 8);
  press(&w, 1, 6);
  run_until(&w, 500);
  cr_assert_eq(st(&w, 0), HP);
  cr_assert_eq(st(&w, 1), QD);
  net_free(&w);
}

Test(floor_scenario, both_take_the_floor_and_the_tie_break_settles_it) {
  /* The two contenders never hear each other's requests, so both take the
   * floor at 120 ms; their Floor Taken messages cross and the tie-break
   * leaves B (higher SSRC). */
  net w;
  three(&w, true);
  w.check_single_talker = false;
  start_group(&w, -1);
  w.rules[w.n_rules++] = (drop_rule){0, 1, PROSE_FLOOR_MSG_REQUEST, -1};
  w.rules[w.n_rules++] = (drop_rule){1, 0, PROSE_FLOOR_MSG_REQUEST, -1};
  press(&w, 0, -1);
  press(&w, 1, -1);
  run_until(&w, 121);
  cr_assert_eq(talkers(&w, NULL), 2, "the race happened");
  run_until(&w, 200);
  int who = -1;
  cr_assert_eq(talkers(&w, &who), 1);
  cr_assert_eq(who, 1);
  cr_assert_eq(st(&w, 0), HNP);
  const ft_event *r = ft_last_event(&w.n[0].rec, PROSE_FLOOR_EV_REVOKED);
  cr_assert_not_null(r);
  cr_assert_eq(r->trigger, PROSE_FLOOR_TRIG_RX_TAKEN);
  cr_assert_eq(r->now, 125);
  for (int i = 0; i < 3; i++)
    if (i != 1) cr_assert_eq(talker_of(&w, i), 0x200, "node %d", i);
  /* C saw both Floor Taken messages; it follows the winner's media too. */
  run_until(&w, 1000);
  cr_assert_eq(talkers(&w, &who), 1);
  cr_assert_eq(talker_of(&w, 2), 0x200);
  net_free(&w);

  /* Same race but B's Floor Taken to A is lost as well: A learns from B's
   * media, B repeats its Floor Taken (rate-limited) and A yields. */
  three(&w, true);
  w.check_single_talker = false;
  start_group(&w, -1);
  w.rules[w.n_rules++] = (drop_rule){0, 1, PROSE_FLOOR_MSG_REQUEST, -1};
  w.rules[w.n_rules++] = (drop_rule){1, 0, PROSE_FLOOR_MSG_REQUEST, -1};
  w.rules[w.n_rules++] = (drop_rule){1, 0, PROSE_FLOOR_MSG_TAKEN, 1};
  press(&w, 0, -1);
  press(&w, 1, -1);
  run_until(&w, 400);
  cr_assert_eq(talkers(&w, &who), 1);
  cr_assert_eq(who, 1);
  cr_assert_eq(st(&w, 0), HNP);
  cr_assert_eq(w.dropped > 0, true);
  net_free(&w);
}
