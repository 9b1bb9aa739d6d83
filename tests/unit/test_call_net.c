/* In-memory network for call engine tests; see test_call_net.h. */
#include "test_call_net.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"

static void copy_text(char *dst, const char *src) {
  snprintf(dst, TN_TEXT, "%s", src ? src : "");
}

static void on_event(void *ud, const prose_call_event *ev) {
  tn_node *n = ud;
  cr_assert_lt(n->n_ev, TN_MAX_EVENTS, "event log full on %s", n->id);
  tn_event *t = &n->ev[n->n_ev++];
  memset(t, 0, sizeof *t);
  t->kind = ev->kind;
  copy_text(t->group, ev->group);
  copy_text(t->peer, ev->peer);
  copy_text(t->trigger, ev->trigger);
  t->call_id = ev->call_id;
  t->call_type = ev->call_type;
  t->old_state = ev->old_state;
  t->new_state = ev->new_state;
  t->reason = ev->reason;
  t->err = ev->err;
  t->has_sdp = ev->sdp != NULL;
  t->sdp_audio_port = ev->sdp ? ev->sdp->audio_port : 0;
  copy_text(t->sdp_addr, ev->sdp ? ev->sdp->addr : NULL);
  t->sdp_ipv6 = ev->sdp ? ev->sdp->ipv6 : false;
  t->at = n->net->now;
}

static void log_sent(tn_node *n, const uint8_t *msg, size_t len, const char *to) {
  prose_monp_msg m;
  int rc = prose_monp_decode(msg, len, &m);
  cr_assert_eq(rc, 0, "%s sent an undecodable message (%d)", n->id, rc);
  cr_assert_lt(n->n_sent, TN_MAX_SENT, "sent log full on %s", n->id);
  tn_sent *s = &n->sent[n->n_sent++];
  memset(s, 0, sizeof *s);
  s->type = m.type;
  s->call_id = m.call_id;
  s->call_type = m.call_type;
  s->reason = m.reason;
  s->probe_response = m.probe_response;
  s->confirm_mode = m.confirm_mode;
  s->start_time = m.call_start_time;
  s->last_change_time = m.last_change_time;
  s->at = n->net->now;
  copy_text(s->to, to);
}

static bool should_drop(tn_net *net, const uint8_t *msg) {
  int *d = &net->drop[msg[0] & 31];
  if (*d == 0) return false;
  if (*d > 0) (*d)--;
  return true;
}

static void enqueue(tn_net *net, int to, const uint8_t *msg, size_t len) {
  if (net->nodes[to].deaf) return;
  for (size_t i = 0; i < TN_MAX_QUEUE; i++) {
    if (net->used[i]) continue;
    net->used[i] = true;
    net->q[i].to = to;
    net->q[i].at = net->now + net->latency;
    net->q[i].len = len;
    memcpy(net->q[i].buf, msg, len);
    return;
  }
  cr_assert_fail("network queue full");
}

static void send_group(void *ud, const char *group, const uint8_t *msg, size_t len) {
  tn_node *n = ud;
  log_sent(n, msg, len, group);
  if (should_drop(n->net, msg)) return;
  for (int i = 0; i < n->net->n; i++)
    if (i != n->idx) enqueue(n->net, i, msg, len);
}

static void send_private(void *ud, const char *peer, const uint8_t *msg, size_t len) {
  tn_node *n = ud;
  log_sent(n, msg, len, peer);
  if (should_drop(n->net, msg)) return;
  for (int i = 0; i < n->net->n; i++)
    if (strcmp(n->net->nodes[i].id, peer) == 0) enqueue(n->net, i, msg, len);
}

/* A stand-in I_MESSAGE: "IMSG:<callee>" so the callee can check it. */
static int make_key(void *ud, const char *peer, uint8_t *buf, size_t cap, size_t *len) {
  tn_node *n = ud;
  if (n->make_fail) return n->make_fail;
  int k = snprintf((char *)buf, cap, "IMSG:%s", peer);
  *len = (size_t)k;
  return 0;
}

static int check_key(void *ud, const char *peer, const uint8_t *msg, size_t len) {
  tn_node *n = ud;
  (void)peer;
  memcpy(n->last_key, msg, len < sizeof n->last_key ? len : sizeof n->last_key);
  n->last_key_len = len;
  if (n->key_fail) return n->key_fail;
  char want[TN_TEXT + 8];
  snprintf(want, sizeof want, "IMSG:%s", n->id);
  return len == strlen(want) && memcmp(msg, want, len) == 0 ? 0 : PROSE_ESIG;
}

static uint64_t wall(void *ud, uint64_t now) {
  tn_node *n = ud;
  return n->net->wall0 + n->wall_skew + now / 1000;
}

void tn_init(tn_net *net, int n, tn_settings_fn fn) {
  memset(net, 0, sizeof *net);
  net->q = calloc(TN_MAX_QUEUE, sizeof *net->q);
  cr_assert_not_null(net->q);
  net->n = n;
  net->latency = 2;
  net->wall0 = 1750000000;
  for (int i = 0; i < n; i++) {
    tn_node *t = &net->nodes[i];
    t->net = net;
    t->idx = i;
    snprintf(t->id, sizeof t->id, "sip:%c@example.org", 'a' + i);
    prose_call_settings_default(&t->set);
    t->set.mcptt_id = t->id;
    static const char *const addrs[TN_MAX_NODES] = {"198.18.0.1", "198.18.0.2", "198.18.0.3",
                                                    "fd77::4"};
    t->set.unicast_addr = addrs[i];
    t->set.audio_port = (uint16_t)(30000 + 10 * i);
    t->set.floor_port = (uint16_t)(30002 + 10 * i);
    if (fn) fn(&t->set, i);
  }
  for (int i = 0; i < n; i++) {
    tn_node *t = &net->nodes[i];
    prose_call_callbacks cb = {send_group, send_private, on_event,
                               make_key, check_key, wall};
    prose_rng rng = prose_rng_det_init(&t->rs, 1000u + (uint64_t)i);
    int rc = prose_call_engine_new(&t->e, &t->set, &cb, t, &rng);
    cr_assert_eq(rc, 0, "engine %d: %d", i, rc);
  }
}

void tn_free(tn_net *net) {
  for (int i = 0; i < net->n; i++) prose_call_engine_free(net->nodes[i].e);
  free(net->q);
  net->q = NULL;
}

void tn_group_all(tn_net *net, const char *group) {
  for (int i = 0; i < net->n; i++)
    cr_assert_eq(prose_call_group_add(net->nodes[i].e, group, "239.1.2.3", 40000, 40002), 0);
}

/* The earliest pending action at or before until: a packet or a deadline. */
static uint64_t next_time(tn_net *net) {
  uint64_t t = UINT64_MAX;
  for (size_t i = 0; i < TN_MAX_QUEUE; i++)
    if (net->used[i] && net->q[i].at < t) t = net->q[i].at;
  for (int i = 0; i < net->n; i++) {
    uint64_t d = prose_call_next_deadline(net->nodes[i].e);
    if (d < t) t = d;
  }
  return t;
}

static bool deliver_one(tn_net *net) {
  size_t best = TN_MAX_QUEUE;
  for (size_t i = 0; i < TN_MAX_QUEUE; i++)
    if (net->used[i] && net->q[i].at <= net->now &&
        (best == TN_MAX_QUEUE || net->q[i].at < net->q[best].at))
      best = i;
  if (best == TN_MAX_QUEUE) return false;
  net->used[best] = false;
  tn_node *t = &net->nodes[net->q[best].to];
  t->last_rc = prose_call_recv(t->e, net->now, net->q[best].buf, net->q[best].len, "net");
  if (t->last_rc != 0) t->rc_errors++;
  return true;
}

void tn_run(tn_net *net, uint64_t until) {
  for (unsigned guard = 0; guard < 1000000; guard++) {
    uint64_t t = next_time(net);
    if (t > until) break;
    if (t > net->now) net->now = t;
    while (deliver_one(net)) {
    }
    for (int i = 0; i < net->n; i++)
      if (prose_call_next_deadline(net->nodes[i].e) <= net->now)
        prose_call_on_timeout(net->nodes[i].e, net->now);
  }
  if (until > net->now) net->now = until;
}

void tn_step(tn_net *net, uint64_t ms) { tn_run(net, net->now + ms); }

size_t tn_count_sent(const tn_node *n, prose_monp_type type) {
  size_t c = 0;
  for (size_t i = 0; i < n->n_sent; i++) c += n->sent[i].type == type;
  return c;
}

size_t tn_count_ev(const tn_node *n, prose_call_event_kind kind) {
  size_t c = 0;
  for (size_t i = 0; i < n->n_ev; i++) c += n->ev[i].kind == kind;
  return c;
}

const tn_event *tn_last_ev(const tn_node *n, prose_call_event_kind kind) {
  for (size_t i = n->n_ev; i-- > 0;)
    if (n->ev[i].kind == kind) return &n->ev[i];
  return NULL;
}

const tn_sent *tn_last_sent(const tn_node *n, prose_monp_type type) {
  for (size_t i = n->n_sent; i-- > 0;)
    if (n->sent[i].type == type) return &n->sent[i];
  return NULL;
}

prose_call_group_info tn_ginfo(const tn_node *n, const char *group) {
  prose_call_group_info gi;
  cr_assert_eq(prose_call_group_get(n->e, group, &gi), 0);
  return gi;
}

prose_call_private_state tn_pstate(const tn_node *n, const char *peer) {
  prose_call_private_info pi;
  int rc = prose_call_private_get(n->e, peer, &pi);
  if (rc == PROSE_ENOENT) return PROSE_CALL_P0;
  cr_assert_eq(rc, 0);
  return pi.state;
}

void tn_clear_logs(tn_node *n) {
  n->n_ev = 0;
  n->n_sent = 0;
}

size_t tn_encode(const prose_monp_msg *m, uint8_t *buf, size_t cap) {
  size_t len = 0;
  int rc = prose_monp_encode(m, buf, cap, &len);
  cr_assert_eq(rc, 0, "encode %d", rc);
  return len;
}
