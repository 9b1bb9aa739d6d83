/*
 * TEST FIXTURE ONLY: discovery test helpers on top of tests/fuzz/mikey_fixture.h
 * (a deterministic KMS and users with issued key sets; never use these keys
 * anywhere else).
 *
 *  - df_build: a test-side announcement builder that signs arbitrary,
 *    possibly wrong, field values with any signer (ngtcp2-style packet
 *    encoder), so tests can make forged, mis-periodised or stale messages;
 *  - df_world: engines wired back to back in memory with a virtual clock;
 *    every node's datagrams go to every node, itself included, as a
 *    multicast group with loopback would.
 */
#ifndef PROSE_TEST_DISCOVERY_FIXTURE_H
#define PROSE_TEST_DISCOVERY_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mikey_fixture.h"
#include "prose/discovery.h"

/* Virtual wall clock: NTP time MF_NOW at virtual millisecond 0. */
static inline uint64_t df_ntp(uint64_t ms) {
  return MF_T(MF_NOW) + ((ms << 32) / 1000u);
}

/* An announcement as `id` with typical content, not yet signed. */
static inline void df_ann(prose_disc_ann *a, const char *id, uint64_t ts, uint32_t seq,
                          uint32_t ttl_ms, uint8_t host) {
  memset(a, 0, sizeof *a);
  snprintf(a->mcptt_id, sizeof a->mcptt_id, "%s", id);
  snprintf(a->kms_uri, sizeof a->kms_uri, "%s", MF_KMS);
  a->period_no = MF_PERIOD_NO;
  a->timestamp = ts;
  a->seq = seq;
  a->ttl_ms = ttl_ms;
  a->has_ipv4 = true;
  a->ipv4[0] = 10, a->ipv4[3] = host;
  a->call_port = PROSE_DISC_CALL_PORT;
  a->caps = PROSE_DISC_CAP_GROUP_CALL | PROSE_DISC_CAP_PRIVATE_CALL;
}

/* Encode a with its fields as they are and sign the result with signer
 * (any key: the test decides whether it matches the announced identity). */
static inline size_t df_build(prose_disc_ann *a, const prose_eccsi_signer *signer, uint8_t *out) {
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, a->seq ^ 0x5eedu);
  size_t len = 0;
  memset(a->sig, 0, sizeof a->sig);
  cr_assert_eq(prose_disc_ann_encode(a, out, PROSE_DISC_MAX_LEN, &len), 0);
  size_t body = len - PROSE_ECCSI_SIG_LEN;
  cr_assert_eq(prose_eccsi_sign(signer, &rng, out, body, out + body), 0);
  memcpy(a->sig, out + body, PROSE_ECCSI_SIG_LEN);
  return len;
}

/* An ECCSI-only identity (no SAKKE key, no keyring): cheap, for the flood
 * of distinct peers in the table-bound test. */
typedef struct df_ident {
  char uri[64];
  prose_eccsi_signer *signer;
} df_ident;

static inline void df_ident_init(df_ident *u, const mf_kms *k, const char *uri, uint64_t seed) {
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, seed);
  uint8_t uid[32], ssk[32], pvt[65];
  snprintf(u->uri, sizeof u->uri, "%s", uri);
  cr_assert_eq(prose_uid(uri, MF_KMS, MF_PERIOD, 0, MF_PERIOD_NO, uid), 0);
  cr_assert_eq(prose_eccsi_issue(&rng, k->ksak, uid, 32, ssk, pvt), 0);
  cr_assert_eq(prose_eccsi_signer_new(&u->signer, k->cert.kpak, uid, 32, ssk, pvt), 0);
  prose_wipe(ssk, sizeof ssk);
}

/* ------------------------------------------------------------------------ */
/* Engines back to back                                                      */
/* ------------------------------------------------------------------------ */

#define DF_MAX_NODES 4
#define DF_MAX_OUT 16
#define DF_MAX_EVENTS 512

typedef struct df_event {
  prose_disc_event_type type;
  int reason;
  char peer[64];
  uint64_t at_ms;
} df_event;

typedef struct df_node {
  struct df_world *w;
  mf_user user;
  prose_rng_det rng_state;
  prose_rng rng;
  prose_disc *d;
  bool muted; /* its datagrams are lost (it "fell silent") */
  int send_rc; /* what the send callback returns */
  uint8_t out[DF_MAX_OUT][PROSE_DISC_MAX_LEN];
  size_t out_len[DF_MAX_OUT];
  size_t n_out;
  uint8_t last[PROSE_DISC_MAX_LEN]; /* latest announcement it sent */
  size_t last_len;
  df_event ev[DF_MAX_EVENTS];
  size_t n_ev;
} df_node;

typedef struct df_world {
  mf_kms kms;
  df_node node[DF_MAX_NODES];
  size_t n;
  uint64_t now_ms;
} df_world;

static inline int df_send(void *ud, const uint8_t *bytes, size_t len) {
  df_node *n = ud;
  cr_assert_leq(len, PROSE_DISC_MAX_LEN);
  memcpy(n->last, bytes, len);
  n->last_len = len;
  if (!n->muted && n->n_out < DF_MAX_OUT) {
    memcpy(n->out[n->n_out], bytes, len);
    n->out_len[n->n_out++] = len;
  }
  return n->send_rc;
}

static inline void df_on_event(void *ud, const prose_disc_event *ev) {
  df_node *n = ud;
  cr_assert_lt(n->n_ev, DF_MAX_EVENTS, "event log full");
  df_event *e = &n->ev[n->n_ev++];
  memset(e, 0, sizeof *e);
  e->type = ev->type;
  e->reason = ev->reason;
  e->at_ms = n->w->now_ms;
  if (ev->peer) snprintf(e->peer, sizeof e->peer, "%.63s", ev->peer->ann.mcptt_id);
  else if (ev->ann) snprintf(e->peer, sizeof e->peer, "%.63s", ev->ann->mcptt_id);
}

/* Default test settings: 1 s interval, 3 s TTL, 120 s skew. */
static inline void df_settings(prose_disc_settings *s, uint8_t host) {
  prose_disc_settings_default(s);
  s->kms_uri = MF_KMS;
  s->local.has_ipv4 = true;
  s->local.ipv4[0] = 10, s->local.ipv4[3] = host;
  s->announce_interval_ms = 1000;
  s->announce_ttl_ms = 3000;
}

static inline void df_world_init(df_world *w, size_t n, const prose_disc_settings *custom) {
  static const char *const uris[] = {MF_ALICE, MF_BOB, MF_CAROL, "sip:dave@streamwide.com"};
  static const uint64_t seeds[] = {MF_SEED_ALICE, MF_SEED_BOB, MF_SEED_CAROL, 14};
  memset(w, 0, sizeof *w);
  cr_assert_eq(mf_kms_init(&w->kms, MF_SEED_KMS), 0);
  w->n = n;
  for (size_t i = 0; i < n; i++) {
    df_node *x = &w->node[i];
    x->w = w;
    cr_assert_eq(mf_user_init(&x->user, &w->kms, uris[i], seeds[i], NULL, 1), 0);
    x->rng = prose_rng_det_init(&x->rng_state, 100 + i);
    prose_disc_settings s;
    if (custom) s = *custom;
    else df_settings(&s, (uint8_t)(i + 1));
    s.local.ipv4[3] = (uint8_t)(i + 1);
    prose_disc_callbacks cb = {df_send, df_on_event};
    cr_assert_eq(prose_disc_new(&x->d, x->user.kr, &x->rng, &s, &cb, x), 0);
  }
}

static inline void df_world_free(df_world *w) {
  for (size_t i = 0; i < w->n; i++) {
    prose_disc_free(w->node[i].d);
    mf_user_free(&w->node[i].user);
  }
}

/* Deliver every queued datagram to every node (sender included). */
static inline void df_deliver(df_world *w) {
  for (size_t i = 0; i < w->n; i++) {
    df_node *src = &w->node[i];
    prose_disc_addr from = {.family = PROSE_DISC_AF_IPV4, .ip = {10, 0, 0, (uint8_t)(i + 1)},
                            .port = 8808};
    for (size_t k = 0; k < src->n_out; k++)
      for (size_t j = 0; j < w->n; j++)
        cr_assert_eq(prose_disc_recv(w->node[j].d, w->now_ms, df_ntp(w->now_ms), src->out[k],
                                     src->out_len[k], &from),
                     0, "node %zu rejected node %zu's announcement", j, i);
    src->n_out = 0;
  }
}

/* Advance virtual time to `until`, jumping from deadline to deadline and
 * delivering datagrams after each step (a miniature of the simulator). */
static inline void df_run(df_world *w, uint64_t until) {
  for (;;) {
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < w->n; i++) {
      uint64_t t = prose_disc_next_deadline(w->node[i].d);
      if (t < next) next = t;
    }
    if (next > until) break;
    if (next > w->now_ms) w->now_ms = next;
    for (size_t i = 0; i < w->n; i++)
      if (prose_disc_next_deadline(w->node[i].d) <= w->now_ms)
        cr_assert_eq(prose_disc_on_timeout(w->node[i].d, w->now_ms, df_ntp(w->now_ms)), 0);
    df_deliver(w);
  }
  w->now_ms = until;
}

static inline size_t df_count(const df_node *n, prose_disc_event_type t, const char *peer) {
  size_t c = 0;
  for (size_t i = 0; i < n->n_ev; i++)
    if (n->ev[i].type == t && (!peer || strcmp(n->ev[i].peer, peer) == 0)) c++;
  return c;
}

#endif
