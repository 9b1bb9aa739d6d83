/*
 * The discovery engine with real KMS keys: nodes discovering each other in
 * memory, expiry and goodbyes, every rejection leaving the table as it was,
 * the table bound, and the own announcement schedule. Also writes the fuzz
 * seed corpus on request.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/discovery.h"
#include "prose/err.h"
#include "test_discovery_fixture.h"

#define SKEW_NTP(ms) ((((uint64_t)(ms)) << 32) / 1000u)

Test(disc_engine, three_nodes_discover_each_other) {
  df_world w;
  df_world_init(&w, 3, NULL);
  for (size_t i = 0; i < 3; i++) cr_assert_eq(prose_disc_next_deadline(w.node[i].d), 0);
  df_run(&w, 2500);

  const char *ids[] = {MF_ALICE, MF_BOB, MF_CAROL};
  for (size_t i = 0; i < 3; i++) {
    df_node *n = &w.node[i];
    const prose_disc_stats *st = prose_disc_get_stats(n->d);
    cr_assert_eq(prose_disc_peer_count(n->d), 2, "node %zu", i);
    cr_assert_null(prose_disc_find(n->d, ids[i]), "a node is never its own peer");
    cr_assert_geq(st->sent, 3);
    cr_assert_eq(st->own, st->sent, "every own announcement looped back and was ignored");
    cr_assert_eq(st->accepted + st->own, st->rx);
    cr_assert_eq(st->rej_malformed + st->rej_sig + st->rej_replay + st->rej_time +
                     st->rej_period + st->rej_unknown_kms,
                 0);
    cr_assert_eq(st->src_mismatch, 0);
    for (size_t j = 0; j < 3; j++) {
      if (j == i) continue;
      cr_assert_eq(df_count(n, PROSE_DISC_EV_PEER_ADDED, ids[j]), 1, "%zu sees %zu", i, j);
      const prose_disc_peer *p = prose_disc_find(n->d, ids[j]);
      cr_assert_not_null(p);
      cr_assert_eq(p->ann.ipv4[3], (uint8_t)(j + 1));
      cr_assert_eq(p->ann.period_no, MF_PERIOD_NO);
      cr_assert_eq(p->last_src.ip[3], (uint8_t)(j + 1));
      cr_assert_eq(p->expires_ms, p->last_seen_ms + 3000);
    }
    cr_assert_eq(df_count(n, PROSE_DISC_EV_REJECTED, NULL), 0);
  }

  /* A private call from alice to bob finds bob's call-control address. */
  prose_disc_addr to;
  cr_assert_eq(prose_disc_call_addr(w.node[0].d, MF_BOB, true, &to), 0);
  cr_assert_eq(to.family, PROSE_DISC_AF_IPV4, "no IPv6 announced: IPv4 even when preferred");
  cr_assert_arr_eq(to.ip, ((uint8_t[]){10, 0, 0, 2}), 4);
  cr_assert_eq(to.port, PROSE_DISC_CALL_PORT);
  cr_assert_eq(prose_disc_call_addr(w.node[0].d, "sip:nobody@streamwide.com", false, &to),
               PROSE_ENOENT);

  /* Iteration sees exactly the two others. */
  size_t it = 0, seen = 0;
  for (const prose_disc_peer *p; (p = prose_disc_next_peer(w.node[0].d, &it));) {
    cr_assert(strcmp(p->ann.mcptt_id, MF_BOB) == 0 || strcmp(p->ann.mcptt_id, MF_CAROL) == 0);
    seen++;
  }
  cr_assert_eq(seen, 2);

  /* Carol adds an IPv6 address and a floor port: the others get one
   * UPDATED; refreshes without changes give none. */
  uint64_t first_seen = prose_disc_find(w.node[0].d, MF_CAROL)->first_seen_ms;
  prose_disc_local l = {.has_ipv4 = true, .ipv4 = {10, 0, 0, 3}, .has_ipv6 = true,
                        .ipv6 = {0xfd, 0x77, [15] = 3}, .call_port = 8809, .n_ports = 1,
                        .ports = {{PROSE_DISC_PORT_FLOOR, 9001}}, .caps = 0x1f};
  cr_assert_eq(prose_disc_set_local(w.node[2].d, &l), 0);
  cr_assert_eq(prose_disc_announce_now(w.node[2].d, w.now_ms, df_ntp(w.now_ms)), 0);
  df_deliver(&w);
  df_run(&w, 5000);
  for (size_t i = 0; i < 2; i++) {
    cr_assert_eq(df_count(&w.node[i], PROSE_DISC_EV_PEER_UPDATED, MF_CAROL), 1, "node %zu", i);
    cr_assert_eq(df_count(&w.node[i], PROSE_DISC_EV_PEER_UPDATED, NULL), 1);
  }
  const prose_disc_peer *c = prose_disc_find(w.node[0].d, MF_CAROL);
  cr_assert_eq(c->first_seen_ms, first_seen);
  cr_assert_gt(c->last_seen_ms, 4000);
  cr_assert_eq(c->ann.caps, 0x1f);
  cr_assert_eq(c->ann.ports[0].port, 9001);
  cr_assert_eq(prose_disc_call_addr(w.node[0].d, MF_CAROL, true, &to), 0);
  cr_assert_eq(to.family, PROSE_DISC_AF_IPV6);
  cr_assert_eq(to.ip[0], 0xfd);
  cr_assert_eq(prose_disc_call_addr(w.node[0].d, MF_CAROL, false, &to), 0);
  cr_assert_eq(to.family, PROSE_DISC_AF_IPV4);
  df_world_free(&w);
}

Test(disc_engine, expiry_goodbye_and_tombstones) {
  df_world w;
  df_world_init(&w, 3, NULL);
  df_node *alice = &w.node[0], *bob = &w.node[1], *carol = &w.node[2];
  df_run(&w, 1500);
  cr_assert_eq(prose_disc_peer_count(alice->d), 2);

  /* Carol falls silent. Alice drops her exactly one TTL after the last
   * announcement heard, and says so at that moment. */
  uint8_t carol_old[PROSE_DISC_MAX_LEN];
  size_t carol_old_len = carol->last_len;
  memcpy(carol_old, carol->last, carol_old_len);
  uint64_t expiry = prose_disc_find(alice->d, MF_CAROL)->expires_ms;
  carol->muted = true;
  df_run(&w, expiry - 1);
  cr_assert_not_null(prose_disc_find(alice->d, MF_CAROL));
  cr_assert_eq(df_count(alice, PROSE_DISC_EV_PEER_EXPIRED, NULL), 0);
  df_run(&w, expiry);
  cr_assert_null(prose_disc_find(alice->d, MF_CAROL));
  cr_assert_eq(df_count(alice, PROSE_DISC_EV_PEER_EXPIRED, MF_CAROL), 1);
  cr_assert_eq(alice->ev[alice->n_ev - 1].at_ms, expiry);
  cr_assert_eq(prose_disc_peer_count(alice->d), 1);
  cr_assert_eq(prose_disc_get_stats(alice->d)->expired, 1);

  /* A replay of her last announcement (still inside the skew window) does
   * not bring her back: the tombstone remembers its (timestamp, seq). */
  cr_assert_eq(prose_disc_recv(alice->d, w.now_ms, df_ntp(w.now_ms), carol_old, carol_old_len,
                               NULL),
               PROSE_EREPLAY);
  cr_assert_null(prose_disc_find(alice->d, MF_CAROL));

  /* She speaks again: added again. */
  carol->muted = false;
  df_run(&w, w.now_ms + 1500);
  cr_assert_not_null(prose_disc_find(alice->d, MF_CAROL));
  cr_assert_eq(df_count(alice, PROSE_DISC_EV_PEER_ADDED, MF_CAROL), 2);

  /* Bob says goodbye: gone at once everywhere, and stops announcing. */
  uint8_t bob_old[PROSE_DISC_MAX_LEN];
  size_t bob_old_len = bob->last_len;
  memcpy(bob_old, bob->last, bob_old_len);
  cr_assert_eq(prose_disc_leave(bob->d, w.now_ms, df_ntp(w.now_ms)), 0);
  df_deliver(&w);
  cr_assert_eq(df_count(alice, PROSE_DISC_EV_PEER_LEFT, MF_BOB), 1);
  cr_assert_eq(df_count(carol, PROSE_DISC_EV_PEER_LEFT, MF_BOB), 1);
  cr_assert_null(prose_disc_find(alice->d, MF_BOB));
  cr_assert_eq(prose_disc_recv(alice->d, w.now_ms, df_ntp(w.now_ms), bob_old, bob_old_len, NULL),
               PROSE_EREPLAY);
  uint64_t sent = prose_disc_get_stats(bob->d)->sent;
  df_run(&w, w.now_ms + 3000);
  cr_assert_eq(prose_disc_get_stats(bob->d)->sent, sent, "no announcements after leaving");

  /* A TTL above max_peer_ttl_ms is capped. */
  prose_disc_ann a;
  uint8_t buf[PROSE_DISC_MAX_LEN];
  df_ann(&a, MF_CAROL, df_ntp(w.now_ms) + 1, 0xfffffff0u, 0xffffffffu, 3);
  size_t len = df_build(&a, carol->user.signer, buf);
  cr_assert_eq(prose_disc_recv(alice->d, w.now_ms, df_ntp(w.now_ms), buf, len, NULL), 0);
  cr_assert_eq(prose_disc_find(alice->d, MF_CAROL)->expires_ms, w.now_ms + 600000u);

  /* Everyone falls silent. After 2 x skew the tombstones are forgotten
   * and an old announcement fails the time window instead. */
  for (size_t i = 0; i < 3; i++) w.node[i].muted = true;
  df_run(&w, w.now_ms + 2u * 120000u + 1000u);
  cr_assert_eq(prose_disc_peer_count(alice->d), 1, "carol still has her 600 s TTL");
  cr_assert_eq(prose_disc_recv(alice->d, w.now_ms, df_ntp(w.now_ms), bob_old, bob_old_len, NULL),
               PROSE_ETIME);
  df_run(&w, w.now_ms + 600000u);
  cr_assert_eq(prose_disc_peer_count(alice->d), 0);
  /* Only alice's own announcement timer is left. */
  cr_assert_leq(prose_disc_next_deadline(alice->d), w.now_ms + 1000u);
  df_world_free(&w);
}

/* ------------------------------------------------------------------------ */

typedef struct snapshot {
  prose_disc_peer bob;
  size_t count;
  size_t n_ev;
  uint64_t accepted;
} snapshot;

static void take(snapshot *s, const df_node *n) {
  const prose_disc_peer *p = prose_disc_find(n->d, MF_BOB);
  cr_assert_not_null(p);
  memcpy(&s->bob, p, sizeof *p); /* with its padding, for the memcmp below */
  s->count = prose_disc_peer_count(n->d);
  s->n_ev = n->n_ev;
  s->accepted = prose_disc_get_stats(n->d)->accepted;
}

/* A rejection returns its code, emits exactly one REJECTED event with it,
 * and leaves bob's entry, the peer count and the accepted count as they
 * were. */
static void expect_reject(df_node *n, snapshot *s, const uint8_t *m, size_t len, int code,
                          const char *what) {
  uint64_t now = n->w->now_ms;
  prose_disc_addr from = {.family = PROSE_DISC_AF_IPV4, .ip = {10, 0, 0, 66}};
  int rc = prose_disc_recv(n->d, now, df_ntp(now), m, len, &from);
  cr_assert_eq(rc, code, "%s: got %s", what, prose_err_name(rc));
  s->n_ev++;
  cr_assert_eq(n->n_ev, s->n_ev, "%s", what);
  cr_assert_eq(n->ev[n->n_ev - 1].type, PROSE_DISC_EV_REJECTED, "%s", what);
  cr_assert_eq(n->ev[n->n_ev - 1].reason, code, "%s", what);
  const prose_disc_peer *p = prose_disc_find(n->d, MF_BOB);
  cr_assert_not_null(p, "%s", what);
  cr_assert(memcmp(p, &s->bob, sizeof *p) == 0, "%s: bob's entry changed", what);
  cr_assert_eq(prose_disc_peer_count(n->d), s->count, "%s", what);
  cr_assert_eq(prose_disc_get_stats(n->d)->accepted, s->accepted, "%s", what);
}

Test(disc_engine, every_rejection_changes_nothing) {
  df_world w;
  prose_disc_settings s;
  df_settings(&s, 1);
  s.announce_interval_ms = 0; /* a listener: only what the test sends */
  df_world_init(&w, 1, &s);
  df_node *alice = &w.node[0];
  df_ident bob, carol;
  df_ident_init(&bob, &w.kms, MF_BOB, 21);
  df_ident_init(&carol, &w.kms, MF_CAROL, 22);
  w.now_ms = 10000;
  const uint64_t now = df_ntp(w.now_ms), skew = SKEW_NTP(120000);
  prose_disc_ann a;
  uint8_t m[PROSE_DISC_MAX_LEN + 1], ok11[PROSE_DISC_MAX_LEN], ok30[PROSE_DISC_MAX_LEN];
  size_t len, len11, len30;

  /* Bob is known: seq 10 at now. */
  df_ann(&a, MF_BOB, now, 10, 3000, 2);
  uint8_t first[PROSE_DISC_MAX_LEN];
  size_t first_len = df_build(&a, bob.signer, first);
  cr_assert_eq(prose_disc_recv(alice->d, w.now_ms, now, first, first_len, NULL), 0);
  df_ann(&a, MF_BOB, now, 11, 3000, 2);
  len11 = df_build(&a, bob.signer, ok11);
  df_ann(&a, MF_BOB, now + 1, 30, 3000, 2);
  len30 = df_build(&a, bob.signer, ok30);
  snapshot snap;
  take(&snap, alice);

  /* Forged: a valid seq-11 announcement with one bit of s flipped. */
  memcpy(m, ok11, len11);
  m[len11 - PROSE_ECCSI_SIG_LEN + 40] ^= 0x04;
  expect_reject(alice, &snap, m, len11, PROSE_ESIG, "forged s");
  memcpy(m, ok11, len11);
  m[len11 - PROSE_ECCSI_SIG_LEN - 3] ^= 0x01; /* a capability bit after signing */
  expect_reject(alice, &snap, m, len11, PROSE_ESIG, "signed field changed");
  /* Signed with carol's (valid) key while claiming to be bob. */
  df_ann(&a, MF_BOB, now, 12, 3000, 66);
  len = df_build(&a, carol.signer, m);
  expect_reject(alice, &snap, m, len, PROSE_ESIG, "another user's key");

  /* Replays: the same announcement, an older seq, an older timestamp. */
  expect_reject(alice, &snap, first, first_len, PROSE_EREPLAY, "same seq");
  df_ann(&a, MF_BOB, now, 9, 3000, 2);
  len = df_build(&a, bob.signer, m);
  expect_reject(alice, &snap, m, len, PROSE_EREPLAY, "older seq");
  df_ann(&a, MF_BOB, now - 1, 1000, 3000, 2);
  len = df_build(&a, bob.signer, m);
  expect_reject(alice, &snap, m, len, PROSE_EREPLAY, "older timestamp, higher seq");

  /* Timestamps outside the window, genuinely signed: the future for bob,
   * the past for carol (unknown, so no replay state applies); the exact
   * edge is accepted. */
  df_ann(&a, MF_BOB, now + skew + 1, 40, 3000, 2);
  len = df_build(&a, bob.signer, m);
  expect_reject(alice, &snap, m, len, PROSE_ETIME, "too far ahead");
  df_ann(&a, MF_CAROL, now - skew - 1, 1, 3000, 3);
  len = df_build(&a, carol.signer, m);
  expect_reject(alice, &snap, m, len, PROSE_ETIME, "too old");

  /* An unknown KMS, and a claimed key period that is not the timestamp's. */
  df_ann(&a, MF_BOB, now, 50, 3000, 2);
  snprintf(a.kms_uri, sizeof a.kms_uri, "kms.unknown.example");
  len = df_build(&a, bob.signer, m);
  expect_reject(alice, &snap, m, len, PROSE_EUNKNOWN_KMS, "unknown KMS");
  df_ann(&a, MF_BOB, now, 51, 3000, 2);
  a.period_no = MF_PERIOD_NO + 1;
  len = df_build(&a, bob.signer, m);
  expect_reject(alice, &snap, m, len, PROSE_EPERIOD, "period mismatch");

  /* Malformed: truncation at every offset, a trailing octet, an overlong
   * port list, a wrong magic and version. */
  for (size_t n = 0; n < len30; n++) {
    char what[32];
    snprintf(what, sizeof what, "cut at %zu", n);
    expect_reject(alice, &snap, ok30, n, PROSE_ETRUNC, what);
  }
  memcpy(m, ok30, len30);
  m[len30] = 0;
  expect_reject(alice, &snap, m, len30 + 1, PROSE_ETRAILING, "trailing octet");
  size_t nports_off = 5 + 1 + strlen(MF_BOB) + 1 + strlen(MF_KMS) + 20 + 1 + 4 + 2;
  memcpy(m, ok30, len30);
  m[nports_off] = PROSE_DISC_MAX_PORTS + 1;
  expect_reject(alice, &snap, m, len30, PROSE_EDISC_FIELD, "five extra ports");
  memcpy(m, ok30, len30);
  m[0] = 'X';
  expect_reject(alice, &snap, m, len30, PROSE_EDISC_MAGIC, "magic");
  m[0] = 'P', m[4] = 2;
  expect_reject(alice, &snap, m, len30, PROSE_EDISC_VERSION, "version");

  /* Nothing above advanced bob's replay state: the genuine seq 11 and the
   * exact window edge for carol are still accepted. */
  const prose_disc_stats *st = prose_disc_get_stats(alice->d);
  cr_assert_eq(st->rej_sig, 3);
  cr_assert_eq(st->rej_replay, 3);
  cr_assert_eq(st->rej_time, 2);
  cr_assert_eq(st->rej_unknown_kms, 1);
  cr_assert_eq(st->rej_period, 1);
  cr_assert_eq(st->rej_malformed, len30 + 4);
  cr_assert_eq(prose_disc_recv(alice->d, w.now_ms, now, ok11, len11, NULL), 0);
  df_ann(&a, MF_CAROL, now - skew, 1, 3000, 3);
  len = df_build(&a, carol.signer, m);
  cr_assert_eq(prose_disc_recv(alice->d, w.now_ms, now, m, len, NULL), 0);

  /* Source-address policy: accepted from anywhere, mismatches counted. */
  prose_disc_addr mapped = {.family = PROSE_DISC_AF_IPV6,
                            .ip = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 2}};
  prose_disc_addr other = {.family = PROSE_DISC_AF_IPV4, .ip = {192, 0, 2, 1}};
  cr_assert_eq(prose_disc_recv(alice->d, w.now_ms, now, ok30, len30, &mapped), 0);
  cr_assert_eq(st->src_mismatch, 0);
  df_ann(&a, MF_BOB, now + 2, 31, 3000, 2);
  len = df_build(&a, bob.signer, m);
  cr_assert_eq(prose_disc_recv(alice->d, w.now_ms, now, m, len, &other), 0);
  cr_assert_eq(st->src_mismatch, 1);
  cr_assert_eq(prose_disc_find(alice->d, MF_BOB)->last_src.ip[0], 192);
  cr_assert_eq(prose_disc_find(alice->d, MF_BOB)->ann.ipv4[3], 2, "the signed address stays");

  prose_eccsi_signer_free(bob.signer);
  prose_eccsi_signer_free(carol.signer);
  df_world_free(&w);
}

/* ------------------------------------------------------------------------ */

static void feed(df_world *w, df_ident *u, uint32_t seq, uint32_t ttl) {
  prose_disc_ann a;
  uint8_t m[PROSE_DISC_MAX_LEN];
  w->now_ms++;
  df_ann(&a, u->uri, df_ntp(w->now_ms), seq, ttl, 9);
  size_t len = df_build(&a, u->signer, m);
  cr_assert_eq(prose_disc_recv(w->node[0].d, w->now_ms, df_ntp(w->now_ms), m, len, NULL), 0,
               "%s seq %u", u->uri, seq);
}

Test(disc_engine, table_bound_evicts_the_stalest) {
  df_world w;
  prose_disc_settings s;
  df_settings(&s, 1);
  s.announce_interval_ms = 0;
  s.max_peers = 4;
  df_world_init(&w, 1, &s);
  df_node *alice = &w.node[0];
  df_ident u[6];
  for (int i = 0; i < 6; i++) {
    char uri[64];
    snprintf(uri, sizeof uri, "sip:u%d@streamwide.com", i);
    df_ident_init(&u[i], &w.kms, uri, 40u + (uint64_t)i);
  }
  for (int i = 0; i < 4; i++) feed(&w, &u[i], 1, 3000);
  cr_assert_eq(prose_disc_peer_count(alice->d), 4);

  /* Full: u4 evicts u0, the least recently heard. */
  feed(&w, &u[4], 1, 3000);
  cr_assert_eq(prose_disc_peer_count(alice->d), 4);
  cr_assert_eq(df_count(alice, PROSE_DISC_EV_PEER_EVICTED, u[0].uri), 1);
  cr_assert_null(prose_disc_find(alice->d, u[0].uri));
  /* u1 refreshes, so u2 is now the stalest and goes for u5. */
  feed(&w, &u[1], 2, 3000);
  feed(&w, &u[5], 1, 3000);
  cr_assert_eq(df_count(alice, PROSE_DISC_EV_PEER_EVICTED, u[2].uri), 1);
  cr_assert_not_null(prose_disc_find(alice->d, u[1].uri));

  /* u3 leaves: its tombstone is the slot the next newcomer takes, with no
   * live peer evicted. */
  feed(&w, &u[3], 2, 0);
  cr_assert_eq(prose_disc_peer_count(alice->d), 3);
  feed(&w, &u[0], 5, 3000);
  cr_assert_eq(prose_disc_peer_count(alice->d), 4);
  cr_assert_eq(prose_disc_get_stats(alice->d)->evicted, 2);
  /* A goodbye from a stranger when every slot is live takes nothing. */
  feed(&w, &u[2], 9, 0);
  cr_assert_eq(prose_disc_peer_count(alice->d), 4);
  cr_assert_eq(prose_disc_get_stats(alice->d)->evicted, 2);

  /* A long run of many peers never holds more than four. */
  for (uint32_t round = 0; round < 5; round++)
    for (int i = 0; i < 6; i++) {
      feed(&w, &u[i], 100 + round, 3000);
      cr_assert_leq(prose_disc_peer_count(alice->d), 4);
    }
  size_t it = 0, n = 0;
  while (prose_disc_next_peer(alice->d, &it)) n++;
  cr_assert_eq(n, 4);
  cr_assert_eq(df_count(alice, PROSE_DISC_EV_REJECTED, NULL), 0);
  for (int i = 0; i < 6; i++) prose_eccsi_signer_free(u[i].signer);
  df_world_free(&w);
}

/* ------------------------------------------------------------------------ */

Test(disc_engine, own_announcements_and_settings) {
  df_world w;
  df_world_init(&w, 1, NULL);
  df_node *alice = &w.node[0];
  prose_disc *d = alice->d;
  prose_disc_ann a;

  /* Due at once; then every interval minus at most a tenth. */
  cr_assert_eq(prose_disc_next_deadline(d), 0);
  cr_assert_eq(prose_disc_on_timeout(d, 0, df_ntp(0)), 0);
  cr_assert_eq(alice->n_out, 1);
  uint64_t next = prose_disc_next_deadline(d);
  cr_assert(next >= 900 && next <= 1000, "next %llu", (unsigned long long)next);
  cr_assert_eq(prose_disc_ann_decode(alice->out[0], alice->out_len[0], &a), 0);
  cr_assert_str_eq(a.mcptt_id, MF_ALICE);
  cr_assert_str_eq(a.kms_uri, MF_KMS);
  cr_assert_eq(a.period_no, MF_PERIOD_NO);
  cr_assert_eq(a.timestamp, df_ntp(0));
  cr_assert_eq(a.ttl_ms, 3000);
  cr_assert_eq(a.caps, PROSE_DISC_CAP_GROUP_CALL | PROSE_DISC_CAP_PRIVATE_CALL);
  cr_assert_eq(a.call_port, 8809);
  uint32_t seq0 = a.seq;

  /* Our own announcement coming back is ignored before any crypto. */
  cr_assert_eq(prose_disc_recv(d, 1, df_ntp(1), alice->out[0], alice->out_len[0], NULL), 0);
  cr_assert_eq(prose_disc_get_stats(d)->own, 1);
  cr_assert_eq(prose_disc_peer_count(d), 0);

  /* The clock steps back: the timestamp is held and seq still grows. */
  cr_assert_eq(prose_disc_on_timeout(d, next, df_ntp(0) - SKEW_NTP(5000)), 0);
  cr_assert_eq(prose_disc_ann_decode(alice->out[1], alice->out_len[1], &a), 0);
  cr_assert_eq(a.timestamp, df_ntp(0));
  cr_assert_eq(a.seq, seq0 + 1);

  /* A failing send is counted; the engine carries on. */
  alice->send_rc = -1;
  cr_assert_eq(prose_disc_announce_now(d, 2000, df_ntp(2000)), 0);
  cr_assert_eq(prose_disc_get_stats(d)->send_failed, 1);
  alice->send_rc = 0;

  /* No own key set for the period of the clock: ANNOUNCE_FAILED, retried
   * at the next interval. */
  uint64_t t237 = MF_T((uint64_t)MF_PERIOD * (MF_PERIOD_NO + 1) + 10);
  cr_assert_eq(prose_disc_announce_now(d, 3000, t237), PROSE_EPERIOD);
  cr_assert_eq(alice->ev[alice->n_ev - 1].type, PROSE_DISC_EV_ANNOUNCE_FAILED);
  cr_assert_eq(alice->ev[alice->n_ev - 1].reason, PROSE_EPERIOD);
  cr_assert_eq(prose_disc_get_stats(d)->announce_failed, 1);
  cr_assert_leq(prose_disc_next_deadline(d), 4000);

  /* New local data shows in the next announcement; bad data is refused. */
  prose_disc_local l = {.has_ipv6 = true, .ipv6 = {0xfd, 0x77, [15] = 1}, .call_port = 18809};
  prose_disc_local bad = l;
  bad.call_port = 0;
  cr_assert_eq(prose_disc_set_local(d, &bad), PROSE_ECONFIG);
  bad = l;
  bad.has_ipv6 = false;
  cr_assert_eq(prose_disc_set_local(d, &bad), PROSE_ECONFIG);
  cr_assert_eq(prose_disc_set_local(d, &l), 0);
  alice->n_out = 0;
  cr_assert_eq(prose_disc_announce_now(d, 4000, df_ntp(4000)), 0);
  cr_assert_eq(prose_disc_ann_decode(alice->out[0], alice->out_len[0], &a), 0);
  cr_assert(!a.has_ipv4 && a.has_ipv6 && a.call_port == 18809);

  /* Leaving sends TTL 0 and stops the timer. */
  alice->n_out = 0;
  cr_assert_eq(prose_disc_leave(d, 5000, df_ntp(5000)), 0);
  cr_assert_eq(prose_disc_ann_decode(alice->out[0], alice->out_len[0], &a), 0);
  cr_assert_eq(a.ttl_ms, 0);
  cr_assert_eq(prose_disc_next_deadline(d), UINT64_MAX);

  /* Settings the engine refuses. */
  prose_disc_settings s;
  prose_disc_callbacks cb = {df_send, df_on_event};
  prose_disc *x = NULL;
  for (int c = 0; c < 8; c++) {
    df_settings(&s, 1);
    int want = PROSE_ECONFIG;
    switch (c) {
      case 0: s.kms_uri = NULL; break;
      case 1: s.kms_uri = "kms.unknown.example", want = PROSE_EUNKNOWN_KMS; break;
      case 2: s.max_peers = 0; break;
      case 3: s.max_peers = 5000; break;
      case 4: s.announce_ttl_ms = 999; break;
      case 5: s.max_skew_ms = 0; break;
      case 6: s.local.has_ipv4 = false; break;
      default: s.local.n_ports = PROSE_DISC_MAX_PORTS + 1; break;
    }
    cr_assert_eq(prose_disc_new(&x, alice->user.kr, &alice->rng, &s, &cb, alice), want, "case %d",
                 c);
  }
  df_settings(&s, 1);
  cb.send = NULL;
  cr_assert_eq(prose_disc_new(&x, alice->user.kr, &alice->rng, &s, &cb, alice), PROSE_EINVAL);

  /* Listen only: no timer until told to announce, and then just once. */
  cb.send = df_send;
  s.announce_interval_ms = 0;
  cr_assert_eq(prose_disc_new(&x, alice->user.kr, &alice->rng, &s, &cb, alice), 0);
  cr_assert_eq(prose_disc_next_deadline(x), UINT64_MAX);
  cr_assert_eq(prose_disc_announce_now(x, 0, df_ntp(0)), 0);
  cr_assert_eq(prose_disc_next_deadline(x), UINT64_MAX);
  prose_disc_free(x);
  df_world_free(&w);
}

/* ------------------------------------------------------------------------ */
/* Seed corpus for tests/fuzz (written only when asked)                    */
/* ------------------------------------------------------------------------ */

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot write %s", path);
  cr_assert_eq(fwrite(p, 1, n, f), n);
  fclose(f);
}

/* PROSE_DISC_CORPUS_DIR=tests/fuzz/corpus/discovery build/tests/test_discovery_engine
 *   --filter 'disc_engine/write_corpus' regenerates the seed corpus. The
 * announcements are from bob and carol at MF_NOW, which the fuzzer's engine
 * (alice's keyring at MF_NOW) verifies all the way through. */
Test(disc_engine, write_corpus) {
  const char *dir = getenv("PROSE_DISC_CORPUS_DIR");
  if (!dir) return;
  mf_kms k;
  cr_assert_eq(mf_kms_init(&k, MF_SEED_KMS), 0);
  df_ident bob, carol;
  df_ident_init(&bob, &k, MF_BOB, 21);
  df_ident_init(&carol, &k, MF_CAROL, 22);
  prose_disc_ann a;
  uint8_t m[PROSE_DISC_MAX_LEN];
  size_t len;

  df_ann(&a, MF_BOB, MF_T(MF_NOW), 1, 15000, 2);
  len = df_build(&a, bob.signer, m);
  write_file(dir, "bob_v4.bin", m, len);
  write_file(dir, "bad_truncated.bin", m, len / 2);
  m[len - 1] ^= 1;
  write_file(dir, "bad_sig.bin", m, len);

  df_ann(&a, MF_CAROL, MF_T(MF_NOW) + 5, 2, 15000, 3);
  a.has_ipv6 = true;
  a.ipv6[0] = 0xfd, a.ipv6[1] = 0x77, a.ipv6[15] = 3;
  a.n_ports = 2;
  a.ports[0] = (prose_disc_port){PROSE_DISC_PORT_MEDIA, 40000};
  a.ports[1] = (prose_disc_port){PROSE_DISC_PORT_FLOOR, 40001};
  a.caps = 0x1f;
  a.ext_len = 4;
  memcpy(a.ext, "\x01\x02\xab\xcd", 4);
  len = df_build(&a, carol.signer, m);
  write_file(dir, "carol_v4v6_ports_ext.bin", m, len);

  df_ann(&a, MF_BOB, MF_T(MF_NOW) + 9, 3, 0, 2);
  len = df_build(&a, bob.signer, m);
  write_file(dir, "bob_goodbye.bin", m, len);
  prose_eccsi_signer_free(bob.signer);
  prose_eccsi_signer_free(carol.signer);
}
