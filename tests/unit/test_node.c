/*
 * The node end to end: real keys from a throwaway domain, nodes wired back
 * to back through the in-memory network of test_node_net.c, virtual time.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "prose/err.h"
#include "prose/mikey.h"
#include "prose/util.h"
#include "prose/node.h"
#include "test_node_net.h"

enum { ALICE = 0, BOB = 1, CAROL = 2, DAVE = 3 };

#define PAYLOAD_LEN 40u

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static prose_node *node(tn_net *net, size_t i) { return net->nodes[i].node; }
static const prose_node_counters *ctr(tn_net *net, size_t i) {
  return prose_node_get_counters(node(net, i));
}

/* Provision users[0..n), start a node for each and let discovery run. */
static void start(tn_domain *d, tn_net *net, const char *const *users, const bool *gmk, size_t n) {
  tn_domain_setup(d, users, gmk, n);
  tn_net_init(net, d);
  for (size_t i = 0; i < n; i++) tn_node_start(net, i, NULL);
  tn_run(net, 100);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(prose_disc_peer_count(prose_node_discovery(node(net, i))), n - 1,
                 "node %zu knows %zu peers", i, prose_disc_peer_count(prose_node_discovery(node(net, i))));
}

static void finish(tn_domain *d, tn_net *net) {
  tn_net_free(net);
  tn_domain_teardown(d);
}

static void payload(char out[PAYLOAD_LEN], const char *who, unsigned k) {
  memset(out, 0, PAYLOAD_LEN);
  snprintf(out, PAYLOAD_LEN, "%s-talks-%03u-plaintext-marker", who, k);
}

/* Node i's application sends count packets of `who`, 20 ms apart. */
static void talk(tn_net *net, size_t i, uint16_t app_port, const char *who, unsigned first,
                 unsigned count) {
  char p[PAYLOAD_LEN];
  for (unsigned k = first; k < first + count; k++) {
    payload(p, who, k);
    tn_app_send(net, i, app_port, (uint16_t)(7 + k), 160u * k, 0xABCD0000u + (uint32_t)i, p,
                PAYLOAD_LEN);
    tn_run(net, 20);
  }
}

/* Node i's application received exactly the payloads first..first+count of
 * `who`, from index `from` of its app log, on one stream with sequence
 * numbers that grow by one. */
static void expect_heard(tn_net *net, size_t i, size_t from, const char *who, unsigned first,
                         unsigned count, uint16_t app_port) {
  tn_node *nd = &net->nodes[i];
  char p[PAYLOAD_LEN];
  cr_assert_eq(nd->n_app - from, count, "node %zu heard %zu packets, not %u", i, nd->n_app - from,
               count);
  for (unsigned k = 0; k < count; k++) {
    const tn_app *a = &nd->app[from + k];
    payload(p, who, first + k);
    cr_assert_eq(a->len, 12u + PAYLOAD_LEN);
    cr_assert_eq(memcmp(a->data + 12, p, PAYLOAD_LEN), 0, "node %zu packet %u differs", i, k);
    cr_assert_eq(a->node_port, app_port);
    cr_assert_eq(a->to.port, app_port + 1u);
    if (k > 0) {
      const tn_app *b = &nd->app[from + k - 1];
      cr_assert_eq(be32(a->data + 8), be32(b->data + 8), "one SSRC");
      cr_assert_eq((uint16_t)(((a->data[2] << 8) | a->data[3]) - ((b->data[2] << 8) | b->data[3])),
                   1u);
    }
  }
}

static bool contains(const uint8_t *hay, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(hay + i, needle, k) == 0) return true;
  return false;
}

/* No media or floor datagram ever carried the application's plaintext. */
static void expect_no_plaintext(tn_net *net) {
  for (size_t k = 0; k < net->n_wire; k++) {
    const tn_dgram *w = &net->wire[k];
    if (w->sock != PROSE_SOCK_MEDIA && w->sock != PROSE_SOCK_FLOOR) continue;
    cr_assert(!contains(w->data, w->len, "plaintext-marker"), "plaintext on the wire");
    cr_assert(!contains(w->data, w->len, "sip:"), "floor control in the clear");
  }
}

static uint32_t own_guk(tn_domain *d, size_t i, uint32_t gmk_id) {
  prose_store_gmk k;
  cr_assert_eq(prose_store_gmk_rx(d->dev[i].store, gmk_id, TN_GROUP, TN_T0, &k), 0);
  uint32_t guk = k.guk_id;
  prose_store_gmk_wipe(&k);
  return guk;
}

static size_t count_pcks_cb_n;
static int count_pcks_cb(void *ud, const prose_store_item *it) {
  (void)ud;
  if (it->kind == PROSE_ITEM_PCK) count_pcks_cb_n++;
  return 0;
}
static size_t count_pcks(prose_store *st) {
  count_pcks_cb_n = 0;
  cr_assert_eq(prose_store_list(st, TN_T0, count_pcks_cb, NULL), 0);
  return count_pcks_cb_n;
}

/* ---------------------------------------------------------------------- */

/*
 * Discovery, a secure group call of three, floor handover: alice calls, bob
 * and carol join; alice (the originator) holds the floor and her
 * application's packets reach both others decrypted and intact; every media
 * and floor datagram on the wire is encrypted and carries GMK-ID || GUK-ID of
 * its sender; bob asks for the floor while alice talks, is queued, and gets
 * it when she releases; carol's application cannot send without the floor.
 */
Test(node, group_call_secure_with_handover) {
  const char *users[] = {TN_ALICE, TN_BOB, TN_CAROL};
  const bool gmk[] = {true, true, true};
  tn_domain d;
  tn_net net;
  start(&d, &net, users, gmk, 3);
  for (size_t i = 0; i < 3; i++)
    cr_assert_geq(tn_count_events(&net.nodes[i], PROSE_NODE_EV_PEER), 2);

  cr_assert_eq(prose_node_call_group(node(&net, ALICE), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_BASIC_GROUP),
               0);
  tn_run(&net, 400);
  prose_node_call_info ci;
  for (size_t i = 0; i < 3; i++) {
    cr_assert(tn_call(&net, i, &ci), "node %zu in the call", i);
    cr_assert_str_eq(ci.call_state, "S3");
    cr_assert_str_eq(ci.group, TN_GROUP);
    cr_assert_eq(tn_count_events(&net.nodes[i], PROSE_NODE_EV_CALL_STARTED), 1);
  }
  cr_assert(tn_call(&net, ALICE, &ci));
  cr_assert_str_eq(ci.floor_state, "O: has permission");
  cr_assert(ci.may_send_media);
  cr_assert(tn_call(&net, BOB, &ci));
  cr_assert(!ci.may_send_media);

  /* Alice talks. */
  talk(&net, ALICE, TN_APP_PORT, "alice", 0, 20);
  tn_run(&net, 50);
  expect_heard(&net, BOB, 0, "alice", 0, 20, TN_APP_PORT);
  expect_heard(&net, CAROL, 0, "alice", 0, 20, TN_APP_PORT);
  cr_assert_neq(be32(net.nodes[BOB].app[0].data + 8), 0xABCD0000u, "the SSRC is the node's");
  cr_assert(tn_call(&net, CAROL, &ci));
  cr_assert_str_eq(ci.talker, TN_ALICE);
  cr_assert_str_eq(ci.floor_state, "O: has no permission");

  /* The wire: encrypted, and each packet names the sender's key. */
  expect_no_plaintext(&net);
  uint32_t guk[3];
  for (size_t i = 0; i < 3; i++) guk[i] = own_guk(&d, i, d.gmk_id);
  size_t media = 0, floor = 0;
  for (size_t k = 0; k < net.n_wire; k++) {
    const tn_dgram *w = &net.wire[k];
    if (w->sock == PROSE_SOCK_MEDIA) {
      /* hdr 12 || payload || tag 16 || MKI 8 || ROC 4 */
      cr_assert_eq(w->len, 12u + PAYLOAD_LEN + 16u + 8u + 4u);
      cr_assert_eq(be32(w->data + w->len - 12), d.gmk_id);
      cr_assert_eq(be32(w->data + w->len - 8), guk[w->src]);
      media++;
    } else if (w->sock == PROSE_SOCK_FLOOR) {
      cr_assert_eq(be32(w->data + w->len - 8), d.gmk_id);
      cr_assert_eq(be32(w->data + w->len - 4), guk[w->src]);
      cr_assert(w->data[w->len - 12] & 0x80, "SRTCP E flag");
      floor++;
    }
  }
  cr_assert_eq(media, 20);
  cr_assert_geq(floor, 1);

  /* Bob asks while alice talks: queued; alice releases: bob is granted. */
  cr_assert_eq(prose_node_ptt_press(node(&net, BOB), net.now, NULL, -1), 0);
  tn_run(&net, 200);
  cr_assert_eq(tn_count_events(&net.nodes[BOB], PROSE_NODE_EV_QUEUED), 1);
  cr_assert(tn_call(&net, BOB, &ci));
  cr_assert(!ci.may_send_media);
  cr_assert_eq(prose_node_ptt_release(node(&net, ALICE), net.now, TN_GROUP), 0);
  tn_run(&net, 300);
  cr_assert_geq(tn_count_events(&net.nodes[BOB], PROSE_NODE_EV_GRANTED), 1);
  cr_assert(tn_call(&net, BOB, &ci));
  cr_assert(ci.may_send_media);
  cr_assert_str_eq(ci.floor_state, "O: has permission");

  size_t a0 = net.nodes[ALICE].n_app, c0 = net.nodes[CAROL].n_app;
  talk(&net, BOB, TN_APP_PORT, "bob", 0, 5);
  tn_run(&net, 50);
  expect_heard(&net, ALICE, a0, "bob", 0, 5, TN_APP_PORT);
  expect_heard(&net, CAROL, c0, "bob", 0, 5, TN_APP_PORT);
  cr_assert(tn_call(&net, CAROL, &ci));
  cr_assert_str_eq(ci.talker, TN_BOB);

  /* Carol has no floor: her application is not heard. */
  size_t b0 = net.nodes[BOB].n_app;
  talk(&net, CAROL, TN_APP_PORT, "carol", 0, 3);
  cr_assert_eq(ctr(&net, CAROL)->app_dropped_no_floor, 3);
  cr_assert_eq(net.nodes[BOB].n_app, b0);
  expect_no_plaintext(&net);

  for (size_t i = 0; i < 3; i++) {
    const prose_node_counters *c = ctr(&net, i);
    cr_assert_eq(c->media.drop_auth + c->media.drop_unknown_mki + c->media.drop_no_key, 0);
    cr_assert_eq(c->call_rx_errors + c->floor_rx_errors + c->no_gmk + c->rx_bad_sock, 0);
  }
  cr_assert_eq(ctr(&net, ALICE)->media_tx, 20);
  cr_assert_eq(ctr(&net, BOB)->media_rx, 20);

  /* Alice leaves; bob and carol go on. */
  cr_assert_eq(prose_node_hangup(node(&net, ALICE), net.now), 0);
  tn_run(&net, 100);
  cr_assert(!tn_call(&net, ALICE, &ci));
  cr_assert_eq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_CALL_ENDED), 1);
  cr_assert(tn_call(&net, BOB, &ci));
  finish(&d, &net);
}

/*
 * Dave is in the group's configuration but was never given its GMK: he
 * joins the call, decrypts nothing (neither media nor floor control), counts
 * unknown-MKI drops and cannot ask for the floor or start a call; the others
 * are not disturbed.
 */
Test(node, member_without_gmk_decrypts_nothing) {
  const char *users[] = {TN_ALICE, TN_BOB, TN_DAVE};
  const bool gmk[] = {true, true, false};
  tn_domain d;
  tn_net net;
  start(&d, &net, users, gmk, 3);
  cr_assert_eq(prose_node_call_group(node(&net, 2), net.now, TN_GROUP, PROSE_MONP_CALL_BASIC_GROUP),
               PROSE_ENOKEY);
  cr_assert_eq(prose_node_call_group(node(&net, ALICE), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_BASIC_GROUP),
               0);
  tn_run(&net, 400);
  prose_node_call_info ci;
  cr_assert(tn_call(&net, 2, &ci), "dave joins the call");
  cr_assert(!ci.may_send_media);
  cr_assert_geq(ctr(&net, 2)->no_gmk, 1);
  cr_assert_eq(prose_node_ptt_press(node(&net, 2), net.now, NULL, -1), PROSE_ENOKEY);

  talk(&net, ALICE, TN_APP_PORT, "alice", 0, 10);
  tn_run(&net, 50);
  expect_heard(&net, BOB, 0, "alice", 0, 10, TN_APP_PORT);
  cr_assert_eq(net.nodes[2].n_app, 0);
  const prose_node_counters *c = ctr(&net, 2);
  cr_assert_eq(c->media_rx, 0);
  cr_assert_geq(c->media.drop_unknown_mki, 10, "%llu", (unsigned long long)c->media.drop_unknown_mki);
  cr_assert_eq(c->media.rx_rtp + c->media.rx_rtcp, 0);
  /* Without floor control dave does not even know who talks. */
  cr_assert(tn_call(&net, 2, &ci));
  cr_assert_str_eq(ci.talker, "");
  cr_assert_eq(ctr(&net, BOB)->media.drop_unknown_mki, 0);
  finish(&d, &net);
}

/*
 * A private call alice -> bob keyed with a fresh PCK: the I_MESSAGE goes in
 * the SDP offer, both derive their SRTP keys, media flows both ways with the
 * PCK-ID as MKI and nothing in the clear; the PCK sits in both stores during
 * the call and is gone from both after the hangup. A second call, manual
 * this time, rings until bob accepts.
 */
Test(node, private_call_both_ways_and_hangup_wipes) {
  const char *users[] = {TN_ALICE, TN_BOB};
  const bool gmk[] = {true, true};
  tn_domain d;
  tn_net net;
  start(&d, &net, users, gmk, 2);
  uint16_t papp = net.nodes[ALICE].set.private_app_port;

  cr_assert_eq(prose_node_call_private(node(&net, ALICE), net.now, TN_BOB, false, false), 0);
  cr_assert_eq(prose_node_call_private(node(&net, ALICE), net.now, TN_BOB, false, false),
               PROSE_EINVAL, "one private call at a time");
  tn_run(&net, 300);
  prose_node_call_info ci;
  for (size_t i = 0; i < 2; i++) {
    cr_assert(tn_call(&net, i, &ci), "node %zu connected", i);
    cr_assert(ci.private_call);
    cr_assert_str_eq(ci.call_state, "P4");
    cr_assert_str_eq(ci.peer, i == ALICE ? TN_BOB : TN_ALICE);
  }
  cr_assert(tn_call(&net, ALICE, &ci));
  cr_assert(ci.may_send_media, "the caller starts with the floor");

  talk(&net, ALICE, papp, "alice", 0, 10);
  tn_run(&net, 50);
  expect_heard(&net, BOB, 0, "alice", 0, 10, papp);

  /* Bob takes his turn. */
  cr_assert_eq(prose_node_ptt_release(node(&net, ALICE), net.now, NULL), 0);
  tn_run(&net, 100);
  cr_assert_eq(prose_node_ptt_press(node(&net, BOB), net.now, NULL, -1), 0);
  tn_run(&net, 400);
  cr_assert(tn_call(&net, BOB, &ci));
  cr_assert(ci.may_send_media, "bob has the floor (%s)", ci.floor_state);
  talk(&net, BOB, papp, "bob", 0, 10);
  tn_run(&net, 50);
  expect_heard(&net, ALICE, 0, "bob", 0, 10, papp);

  /* The wire: encrypted, MKI = the PCK-ID (purpose tag 1) both ways. */
  expect_no_plaintext(&net);
  uint32_t pck_id = 0;
  size_t media = 0;
  for (size_t k = 0; k < net.n_wire; k++) {
    const tn_dgram *w = &net.wire[k];
    if (w->sock != PROSE_SOCK_MEDIA) continue;
    cr_assert_eq(w->len, 12u + PAYLOAD_LEN + 16u + 4u);
    uint32_t mki = be32(w->data + w->len - 4);
    if (pck_id == 0) pck_id = mki;
    cr_assert_eq(mki, pck_id);
    media++;
  }
  cr_assert_eq(media, 20);
  cr_assert_eq(pck_id >> 28, 1u, "PCK purpose tag");
  prose_store_pck sp;
  for (size_t i = 0; i < 2; i++) {
    cr_assert_eq(prose_store_pck_get(d.dev[i].store, pck_id, TN_T0, &sp), 0);
    prose_store_pck_wipe(&sp);
  }

  /* Hangup: both ends end, the keys are gone. */
  cr_assert_eq(prose_node_hangup(node(&net, ALICE), net.now), 0);
  tn_run(&net, 300);
  for (size_t i = 0; i < 2; i++) {
    cr_assert(!tn_call(&net, i, &ci), "node %zu still in a call", i);
    cr_assert_eq(tn_count_events(&net.nodes[i], PROSE_NODE_EV_CALL_ENDED), 1);
    cr_assert_eq(prose_store_pck_get(d.dev[i].store, pck_id, TN_T0, &sp), PROSE_ENOKEY);
    cr_assert_eq(count_pcks(d.dev[i].store), 0);
  }
  size_t heard = net.nodes[ALICE].n_app;
  talk(&net, BOB, papp, "bob", 10, 2);
  cr_assert_eq(net.nodes[ALICE].n_app, heard, "no media after the call");

  /* The captured setup replayed once bob forgot its call id (TFP7): the
   * I_MESSAGE is a replay, so bob rejects with reason 3 and keeps nothing. */
  const tn_dgram *setup = NULL;
  for (size_t k = 0; k < net.n_wire && setup == NULL; k++)
    if (net.wire[k].src == ALICE && net.wire[k].sock == PROSE_SOCK_CALL &&
        net.wire[k].data[0] == PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST)
      setup = &net.wire[k];
  cr_assert_not_null(setup);
  tn_run(&net, 1500);
  prose_node_addr from = tn_ipv4(10, 0, 0, 1, 8809);
  cr_assert_eq(tn_inject(&net, BOB, PROSE_SOCK_CALL, 8809, &from, setup->data, setup->len), 0);
  tn_run(&net, 100);
  cr_assert_eq(ctr(&net, BOB)->key_mgmt_failed, 1);
  cr_assert_eq(tn_last_event(&net.nodes[BOB], PROSE_NODE_EV_ERROR)->err, PROSE_EREPLAY);
  cr_assert_eq(tn_last_event(&net.nodes[BOB], PROSE_NODE_EV_CALL_ENDED)->reason,
               PROSE_MONP_REASON_E2E_SECURITY);
  cr_assert(!tn_call(&net, BOB, &ci));
  cr_assert_eq(count_pcks(d.dev[BOB].store), 0);

  /* A manual call rings until the user accepts. */
  cr_assert_eq(prose_node_call_private(node(&net, BOB), net.now, TN_ALICE, true, false), 0);
  tn_run(&net, 200);
  cr_assert_eq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_INCOMING), 1);
  cr_assert(!tn_call(&net, ALICE, &ci));
  cr_assert_eq(prose_node_accept(node(&net, ALICE), net.now), 0);
  tn_run(&net, 200);
  cr_assert(tn_call(&net, ALICE, &ci));
  cr_assert_str_eq(ci.call_state, "P4");
  talk(&net, BOB, papp, "bob", 20, 3);
  tn_run(&net, 50);
  expect_heard(&net, ALICE, heard, "bob", 20, 3, papp);
  cr_assert_eq(prose_node_hangup(node(&net, BOB), net.now), 0);
  tn_run(&net, 300);
  cr_assert(!tn_call(&net, ALICE, &ci));
  cr_assert_eq(count_pcks(d.dev[ALICE].store), 0);
  cr_assert_eq(count_pcks(d.dev[BOB].store), 0);
  finish(&d, &net);
}

/* ---------------------------------------------------------------------- */
/* Bad key messages                                                         */
/* ---------------------------------------------------------------------- */

/* Flip one octet of the ECCSI signature's s inside the I_MESSAGE of every
 * PRIVATE CALL SETUP REQUEST alice sends. */
static bool tamper_setup(tn_net *net, int src, tn_pkt *p, void *ud) {
  (void)net;
  int *done = ud;
  if (src != ALICE || p->sock != PROSE_SOCK_CALL) return true;
  prose_monp_msg m;
  if (prose_monp_decode(p->data, p->len, &m) != 0 || m.type != PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST)
    return true;
  static prose_sdp sdp;
  static char text[PROSE_SDP_MAX + 1];
  static uint8_t out[PROSE_MONP_MSG_MAX];
  size_t tlen = 0, olen = 0;
  cr_assert_eq(prose_sdp_parse(m.sdp.p, m.sdp.len, &sdp), 0);
  cr_assert(sdp.has_key_mgmt);
  sdp.key_mgmt[sdp.key_mgmt_len - 129 + 40] ^= 0x01;
  cr_assert_eq(prose_sdp_build(&sdp, text, sizeof text, &tlen), 0);
  m.sdp.p = text;
  m.sdp.len = tlen;
  cr_assert_eq(prose_monp_encode(&m, out, sizeof out, &olen), 0);
  uint8_t *q = realloc(p->data, olen);
  cr_assert_not_null(q);
  memcpy(q, out, olen);
  p->data = q;
  p->len = olen;
  (*done)++;
  return true;
}

/*
 * A tampered I_MESSAGE: bob refuses it (signature), answers PRIVATE CALL
 * REJECT with reason 3, keeps no key and stays idle; alice's call ends with
 * reason 3. Then a forged setup: carol's genuine I_MESSAGE for bob in a
 * setup that claims alice as caller is refused as unauthorised.
 */
Test(node, bad_key_message_rejected_with_reason_3) {
  const char *users[] = {TN_ALICE, TN_BOB, TN_CAROL};
  const bool gmk[] = {true, true, true};
  tn_domain d;
  tn_net net;
  start(&d, &net, users, gmk, 3);
  int tampered = 0;
  net.filter = tamper_setup;
  net.filter_ud = &tampered;
  cr_assert_eq(prose_node_call_private(node(&net, ALICE), net.now, TN_BOB, false, false), 0);
  tn_run(&net, 500);
  cr_assert_geq(tampered, 1);
  prose_node_call_info ci;
  cr_assert(!tn_call(&net, BOB, &ci));
  cr_assert(!tn_call(&net, ALICE, &ci));
  cr_assert_eq(ctr(&net, BOB)->key_mgmt_failed, 1);
  const tn_event *e = tn_last_event(&net.nodes[BOB], PROSE_NODE_EV_ERROR);
  cr_assert_not_null(e);
  cr_assert_eq(e->err, PROSE_ESIG, "%s", prose_err_name(e->err));
  e = tn_last_event(&net.nodes[ALICE], PROSE_NODE_EV_CALL_ENDED);
  cr_assert_not_null(e);
  cr_assert_eq(e->reason, PROSE_MONP_REASON_E2E_SECURITY);
  cr_assert_str_eq(e->text, "rejected");
  e = tn_last_event(&net.nodes[BOB], PROSE_NODE_EV_CALL_ENDED);
  cr_assert_not_null(e);
  cr_assert_eq(e->reason, PROSE_MONP_REASON_E2E_SECURITY);
  cr_assert_eq(tn_count_events(&net.nodes[BOB], PROSE_NODE_EV_CALL_STARTED), 0);
  cr_assert_eq(count_pcks(d.dev[BOB].store), 0);
  cr_assert_eq(count_pcks(d.dev[ALICE].store), 0);
  net.filter = NULL;

  /* Carol makes a genuine I_MESSAGE for bob ... */
  static uint8_t imsg[2048];
  size_t ilen = 0;
  const uint8_t pck[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  prose_mikey_create_params cp;
  prose_mikey_create_default(&cp);
  cp.kind = PROSE_MIKEY_PCK;
  cp.key_id = 0x10000042u;
  cp.key = pck;
  cp.responder_uri = TN_BOB;
  cp.responder_kms = TN_KMS;
  cp.t = (uint64_t)(TN_T0 + net.now / 1000u) << 32;
  cr_assert_eq(prose_mikey_create(d.dev[CAROL].kr, &cp, &net.nodes[CAROL].rng, imsg, sizeof imsg,
                                  &ilen),
               0);
  /* ... and puts it in a setup that says alice calls. */
  prose_sdp sdp;
  memset(&sdp, 0, sizeof sdp);
  snprintf(sdp.addr, sizeof sdp.addr, "10.0.0.3");
  sdp.audio_port = 20000;
  sdp.has_floor = true;
  sdp.floor_port = 20002;
  sdp.has_key_mgmt = true;
  memcpy(sdp.key_mgmt, imsg, ilen);
  sdp.key_mgmt_len = ilen;
  static char text[PROSE_SDP_MAX + 1];
  size_t tlen = 0;
  cr_assert_eq(prose_sdp_build(&sdp, text, sizeof text, &tlen), 0);
  prose_monp_msg m;
  memset(&m, 0, sizeof m);
  m.type = PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST;
  m.call_id = 4242;
  m.commencement = PROSE_MONP_COMMENCEMENT_AUTOMATIC;
  m.call_type = PROSE_MONP_CALL_PRIVATE;
  m.caller = prose_monp_str_of(TN_ALICE);
  m.callee = prose_monp_str_of(TN_BOB);
  m.sdp.p = text;
  m.sdp.len = tlen;
  static uint8_t out[PROSE_MONP_MSG_MAX];
  size_t olen = 0;
  cr_assert_eq(prose_monp_encode(&m, out, sizeof out, &olen), 0);
  prose_node_addr from = tn_ipv4(10, 0, 0, 3, 8809);
  cr_assert_eq(tn_inject(&net, BOB, PROSE_SOCK_CALL, 8809, &from, out, olen), 0);
  tn_run(&net, 100);
  cr_assert_eq(ctr(&net, BOB)->key_mgmt_failed, 2);
  e = tn_last_event(&net.nodes[BOB], PROSE_NODE_EV_ERROR);
  cr_assert_eq(e->err, PROSE_EUNAUTHORISED, "%s", prose_err_name(e->err));
  cr_assert(!tn_call(&net, BOB, &ci));
  cr_assert_eq(count_pcks(d.dev[BOB].store), 0);

  /* The same from a caller discovery never saw: the reject cannot even be
   * addressed, which is counted. */
  m.caller = prose_monp_str_of("sip:eve@example.org");
  m.call_id = 4343;
  cr_assert_eq(prose_monp_encode(&m, out, sizeof out, &olen), 0);
  cr_assert_eq(tn_inject(&net, BOB, PROSE_SOCK_CALL, 8809, &from, out, olen), 0);
  tn_run(&net, 100);
  cr_assert_eq(ctr(&net, BOB)->key_mgmt_failed, 3);
  cr_assert_geq(ctr(&net, BOB)->call_tx_no_peer, 1);
  cr_assert(!tn_call(&net, BOB, &ci));
  finish(&d, &net);
}

/* ---------------------------------------------------------------------- */
/* Garbage and replays                                                      */
/* ---------------------------------------------------------------------- */

static const tn_dgram *last_wire(tn_net *net, int src, prose_node_sock sock, uint16_t port) {
  for (size_t k = net->n_wire; k-- > 0;) {
    const tn_dgram *w = &net->wire[k];
    if (w->src == src && w->sock == sock && w->local_port == port) return w;
  }
  return NULL;
}

/*
 * With a group call and a private call running between alice and bob, bob
 * gets garbage, truncations, tampered and replayed datagrams on every
 * socket, our own multicast looped back and datagrams on ports he does not
 * use. Each is dropped and counted under its reason, nothing reaches the
 * application, and the calls still work afterwards.
 */
Test(node, garbage_and_replays_are_counted) {
  const char *users[] = {TN_ALICE, TN_BOB};
  const bool gmk[] = {true, true};
  tn_domain d;
  tn_net net;
  start(&d, &net, users, gmk, 2);
  net.loop_multicast = true; /* our own multicast comes back, as with IP_MULTICAST_LOOP */
  cr_assert_eq(prose_node_call_group(node(&net, ALICE), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_BASIC_GROUP),
               0);
  tn_run(&net, 400);
  cr_assert_eq(prose_node_call_private(node(&net, ALICE), net.now, TN_BOB, false, false), 0);
  tn_run(&net, 300);
  cr_assert_eq(prose_node_call_at(node(&net, BOB), 1, &(prose_node_call_info){0}), true,
               "bob has two calls");
  uint16_t papp = net.nodes[ALICE].set.private_app_port;
  uint16_t paudio = net.nodes[ALICE].set.private_audio_port;
  uint16_t pfloor = net.nodes[ALICE].set.private_floor_port;
  talk(&net, ALICE, TN_APP_PORT, "alice", 0, 3);
  talk(&net, ALICE, papp, "alice", 100, 3);
  tn_run(&net, 50);
  cr_assert_eq(net.nodes[BOB].n_app, 6);
  cr_assert_geq(ctr(&net, ALICE)->rx_own, 3, "looped back multicast");

  prose_node_addr a = tn_ipv4(10, 0, 0, 1, 0);
  uint8_t junk[300];
  for (size_t k = 0; k < sizeof junk; k++) junk[k] = (uint8_t)(k * 37u + 11u);
  const struct {
    prose_node_sock sock;
    uint16_t port;
  } socks[] = {{PROSE_SOCK_CALL, 8809},
               {PROSE_SOCK_DISC, net.nodes[BOB].set.disc_mcast.port},
               {PROSE_SOCK_MEDIA, TN_MEDIA_PORT},
               {PROSE_SOCK_FLOOR, TN_FLOOR_PORT},
               {PROSE_SOCK_MEDIA, paudio},
               {PROSE_SOCK_FLOOR, pfloor}};
  prose_node_counters before = *ctr(&net, BOB);
  prose_disc_stats dbefore = *prose_disc_get_stats(prose_node_discovery(node(&net, BOB)));
  for (size_t s = 0; s < PROSE_ARRAY_LEN(socks); s++) {
    a.port = socks[s].port;
    /* Empty, short, long junk, and a junk "RTP/RTCP" header of version 2. */
    const size_t lens[] = {0, 1, 7, 12, 40, sizeof junk};
    for (size_t l = 0; l < PROSE_ARRAY_LEN(lens); l++)
      cr_assert_eq(tn_inject(&net, BOB, socks[s].sock, socks[s].port, &a, junk, lens[l]), 0);
    uint8_t v2[64];
    memcpy(v2, junk, sizeof v2);
    v2[0] = 0x80;
    v2[1] = socks[s].sock == PROSE_SOCK_FLOOR ? 204 : 0;
    cr_assert_eq(tn_inject(&net, BOB, socks[s].sock, socks[s].port, &a, v2, sizeof v2), 0);
    /* Replay the last genuine datagram alice sent to that port. */
    const tn_dgram *w = last_wire(&net, ALICE, socks[s].sock, socks[s].port);
    if (w && socks[s].sock != PROSE_SOCK_CALL) {
      uint8_t copy[PROSE_NODE_MAX_DGRAM];
      size_t wl = w->len;
      memcpy(copy, w->data, wl);
      cr_assert_eq(tn_inject(&net, BOB, socks[s].sock, socks[s].port, &a, copy, wl), 0);
      if (socks[s].sock == PROSE_SOCK_MEDIA) {
        /* With a new index (not a replay): tampered ciphertext, then an
         * MKI naming a key nobody has. */
        copy[2] = (uint8_t)(copy[2] + 1);
        copy[14] ^= 0x40;
        cr_assert_eq(tn_inject(&net, BOB, socks[s].sock, socks[s].port, &a, copy, wl), 0);
        copy[14] ^= 0x40;
        copy[wl - (socks[s].port == TN_MEDIA_PORT ? 12 : 4)] ^= 0x07;
        cr_assert_eq(tn_inject(&net, BOB, socks[s].sock, socks[s].port, &a, copy, wl), 0);
      }
    }
  }
  /* Our own multicast looped back, a port nobody uses, a bad application packet. */
  prose_node_addr own = tn_ipv4(10, 0, 0, 2, TN_MEDIA_PORT);
  cr_assert_eq(tn_inject(&net, BOB, PROSE_SOCK_MEDIA, TN_MEDIA_PORT, &own, junk, 40), 0);
  cr_assert_eq(tn_inject(&net, BOB, PROSE_SOCK_MEDIA, 1234, &a, junk, 40), 0);
  cr_assert_eq(tn_inject(&net, BOB, PROSE_SOCK_CALL, 1234, &a, junk, 40), 0);
  prose_node_addr app = tn_ipv4(127, 0, 0, 1, TN_APP_PORT + 1);
  cr_assert_eq(tn_inject(&net, ALICE, PROSE_SOCK_APP, TN_APP_PORT, &app, junk, 5), 0);
  junk[0] = 0x40; /* RTP version 1 */
  cr_assert_eq(tn_inject(&net, ALICE, PROSE_SOCK_APP, TN_APP_PORT, &app, junk, 40), 0);
  tn_run(&net, 100);

  const prose_node_counters *c = ctr(&net, BOB);
  const prose_disc_stats *ds = prose_disc_get_stats(prose_node_discovery(node(&net, BOB)));
  cr_assert_geq(c->call_rx_errors - before.call_rx_errors, 7);
  cr_assert_geq(ds->rej_malformed - dbefore.rej_malformed, 7);
  cr_assert_eq(ds->rej_replay - dbefore.rej_replay, 1);
  cr_assert_geq(c->media.drop_malformed - before.media.drop_malformed, 12);
  cr_assert_eq(c->media.drop_replay - before.media.drop_replay, 4, "%llu",
               (unsigned long long)(c->media.drop_replay - before.media.drop_replay));
  cr_assert_geq(c->media.drop_auth - before.media.drop_auth, 2);
  cr_assert_geq(c->media.drop_unknown_mki - before.media.drop_unknown_mki, 2);
  cr_assert_eq(c->rx_own - before.rx_own, 1);
  cr_assert_eq(c->rx_bad_sock - before.rx_bad_sock, 2);
  cr_assert_eq(ctr(&net, ALICE)->app_dropped_bad, 2);
  cr_assert_eq(net.nodes[BOB].n_app, 6, "nothing forged reached the application");

  /* Both calls still work. */
  talk(&net, ALICE, TN_APP_PORT, "alice", 3, 2);
  talk(&net, ALICE, papp, "alice", 103, 2);
  tn_run(&net, 50);
  cr_assert_eq(net.nodes[BOB].n_app, 10);
  cr_assert_eq(prose_disc_peer_count(prose_node_discovery(node(&net, BOB))), 1);
  expect_no_plaintext(&net);
  finish(&d, &net);
}

/* ---------------------------------------------------------------------- */
/* Rekey                                                                    */
/* ---------------------------------------------------------------------- */

/*
 * The group's next GMK activates 10 s into the call: alice's node switches
 * to it at that time without a new call (same SSRC, new MKI), bob decrypts
 * before and after.
 */
Test(node, rekey_switches_at_activation) {
  const char *users[] = {TN_ALICE, TN_BOB};
  const bool gmk[] = {true, true};
  tn_domain d;
  tn_net net;
  tn_domain_setup(&d, users, gmk, 2);
  tn_domain_rekey(&d, TN_T0 + 10);
  tn_net_init(&net, &d);
  for (size_t i = 0; i < 2; i++) tn_node_start(&net, i, NULL);
  tn_run(&net, 100);
  cr_assert_eq(prose_node_call_group(node(&net, ALICE), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_BASIC_GROUP),
               0);
  tn_run(&net, 400);
  talk(&net, ALICE, TN_APP_PORT, "alice", 0, 3);
  tn_run_until(&net, 10500);
  talk(&net, ALICE, TN_APP_PORT, "alice", 3, 3);
  tn_run(&net, 50);
  expect_heard(&net, BOB, 0, "alice", 0, 6, TN_APP_PORT);
  uint32_t guk1 = own_guk(&d, ALICE, d.gmk_id), guk2 = own_guk(&d, ALICE, d.gmk2_id);
  size_t k1 = 0, k2 = 0;
  for (size_t k = 0; k < net.n_wire; k++) {
    const tn_dgram *w = &net.wire[k];
    if (w->sock != PROSE_SOCK_MEDIA || w->src != ALICE) continue;
    uint32_t id = be32(w->data + w->len - 12), guk = be32(w->data + w->len - 8);
    if (id == d.gmk_id && guk == guk1) k1++;
    if (id == d.gmk2_id && guk == guk2) k2++;
  }
  cr_assert_eq(k1, 3);
  cr_assert_eq(k2, 3);
  cr_assert_eq(ctr(&net, BOB)->media.drop_auth + ctr(&net, BOB)->media.drop_unknown_mki, 0);
  finish(&d, &net);
}

/* ---------------------------------------------------------------------- */
/* Call type changes reach the floor                                        */
/* ---------------------------------------------------------------------- */

/* While *on: alice's call control does not reach bob. */
static bool alice_call_to_bob_lost(tn_net *net, int src, tn_pkt *p, void *ud) {
  (void)net;
  const bool *on = ud;
  return !(*on && src == ALICE && p->dst == BOB && p->sock == PROSE_SOCK_CALL);
}

static size_t count_state_to(const tn_node *nd, const char *to) {
  size_t c = 0;
  for (size_t k = 0; k < nd->n_ev; k++)
    c += nd->ev[k].type == PROSE_NODE_EV_CALL_STATE && strcmp(nd->ev[k].to, to) == 0;
  return c;
}

/* The last datagram node `src` sent on its CALL socket with MONP type `type`. */
static const tn_dgram *last_monp(tn_net *net, int src, prose_monp_type type) {
  for (size_t k = net->n_wire; k-- > 0;) {
    const tn_dgram *w = &net->wire[k];
    if (w->src == src && w->sock == PROSE_SOCK_CALL && w->len > 0 && w->data[0] == type) return w;
  }
  return NULL;
}

/*
 * Bob talks in a basic group call. Alice upgrades it to an emergency call;
 * bob misses the announcement, so he still arbitrates as a basic talker.
 * Alice's floor participant now belongs to an emergency call: her Floor
 * Request carries the emergency indicator, which outranks bob (same floor
 * priority, normal class) and pre-empts him at once instead of queueing.
 * Then an EMERGENCY END returns the call to basic: alice's next request,
 * while bob talks again, is queued and pre-empts nobody.
 */
Test(node, emergency_upgrade_and_end_reach_the_floor) {
  const char *users[] = {TN_ALICE, TN_BOB};
  const bool gmk[] = {true, true};
  tn_domain d;
  tn_net net;
  start(&d, &net, users, gmk, 2);
  bool lost = false;
  net.filter = alice_call_to_bob_lost;
  net.filter_ud = &lost;
  cr_assert_eq(prose_node_call_group(node(&net, BOB), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_BASIC_GROUP),
               0);
  tn_run(&net, 400);
  prose_node_call_info ci;
  cr_assert(tn_call(&net, BOB, &ci));
  cr_assert_str_eq(ci.floor_state, "O: has permission");
  talk(&net, BOB, TN_APP_PORT, "bob", 0, 3);
  cr_assert(tn_call(&net, ALICE, &ci));
  cr_assert_str_eq(ci.floor_state, "O: has no permission");
  cr_assert_str_eq(ci.talker, TN_BOB);

  /* The upgrade: alice's machine goes to T1; bob hears nothing of it. */
  lost = true;
  cr_assert_eq(prose_node_call_group(node(&net, ALICE), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_EMERGENCY_GROUP),
               0);
  cr_assert_eq(count_state_to(&net.nodes[ALICE], "T1"), 1);
  tn_run(&net, 50);
  cr_assert_eq(count_state_to(&net.nodes[BOB], "T1"), 0);

  /* Alice presses PTT at the default priority (bob's too): pre-emption. */
  cr_assert_eq(prose_node_ptt_press(node(&net, ALICE), net.now, NULL, -1), 0);
  tn_run(&net, 300);
  cr_assert_eq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_QUEUED), 0);
  cr_assert_eq(tn_count_events(&net.nodes[BOB], PROSE_NODE_EV_REVOKED), 1);
  cr_assert_str_eq(tn_last_event(&net.nodes[BOB], PROSE_NODE_EV_REVOKED)->talker, TN_ALICE);
  cr_assert_geq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_GRANTED), 1);
  cr_assert(tn_call(&net, ALICE, &ci));
  cr_assert(ci.may_send_media, "alice: %s", ci.floor_state);
  cr_assert(tn_call(&net, BOB, &ci));
  cr_assert(!ci.may_send_media);
  cr_assert_str_eq(ci.talker, TN_ALICE);
  size_t b0 = net.nodes[BOB].n_app;
  talk(&net, ALICE, TN_APP_PORT, "alice", 0, 5);
  tn_run(&net, 50);
  expect_heard(&net, BOB, b0, "alice", 0, 5, TN_APP_PORT);

  /* Alice lets go; bob takes the floor back (nobody arbitrates: C201). */
  cr_assert_eq(prose_node_ptt_release(node(&net, ALICE), net.now, NULL), 0);
  tn_run(&net, 100);
  cr_assert_eq(prose_node_ptt_press(node(&net, BOB), net.now, NULL, -1), 0);
  tn_run(&net, 400);
  cr_assert(tn_call(&net, BOB, &ci));
  cr_assert(ci.may_send_media, "bob: %s", ci.floor_state);
  talk(&net, BOB, TN_APP_PORT, "bob", 3, 2);

  /* Another member ends the emergency (GROUP CALL EMERGENCY END). */
  const tn_dgram *up = last_monp(&net, ALICE, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT);
  cr_assert_not_null(up);
  prose_monp_msg a;
  cr_assert_eq(prose_monp_decode(up->data, up->len, &a), 0);
  cr_assert_eq(a.call_type, PROSE_MONP_CALL_EMERGENCY_GROUP);
  prose_monp_msg m;
  memset(&m, 0, sizeof m);
  m.type = PROSE_MONP_GROUP_CALL_EMERGENCY_END;
  m.call_id = a.call_id;
  m.last_change_time = a.last_change_time + 1;
  m.last_change_user = prose_monp_str_of(TN_BOB);
  m.sending_user = prose_monp_str_of(TN_BOB);
  m.group_id = prose_monp_str_of(TN_GROUP);
  uint8_t out[PROSE_MONP_MSG_MAX];
  size_t olen = 0;
  cr_assert_eq(prose_monp_encode(&m, out, sizeof out, &olen), 0);
  prose_node_addr from = tn_ipv4(10, 0, 0, 2, 8809);
  cr_assert_eq(tn_inject(&net, ALICE, PROSE_SOCK_CALL, 8809, &from, out, olen), 0);
  cr_assert_eq(count_state_to(&net.nodes[ALICE], "T2"), 2, "joined basic, then the END");

  /* Alice asks again at the same priority: a basic request is queued. */
  cr_assert_eq(prose_node_ptt_press(node(&net, ALICE), net.now, NULL, -1), 0);
  tn_run(&net, 300);
  cr_assert_eq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_QUEUED), 1);
  cr_assert_eq(tn_last_event(&net.nodes[ALICE], PROSE_NODE_EV_QUEUED)->reason, 1u);
  cr_assert_eq(tn_count_events(&net.nodes[BOB], PROSE_NODE_EV_REVOKED), 1, "no second pre-emption");
  cr_assert(tn_call(&net, BOB, &ci));
  cr_assert(ci.may_send_media);
  cr_assert(tn_call(&net, ALICE, &ci));
  cr_assert(!ci.may_send_media);
  cr_assert_eq(ctr(&net, ALICE)->call_rx_errors + ctr(&net, BOB)->floor_rx_errors, 0);
  expect_no_plaintext(&net);
  finish(&d, &net);
}

/* Like start(), with the implicit downgrade basis X of TFG13 set to x_ms on
 * every node (24.379 10.2.3.4.1.1). */
static void start_tfg13(tn_domain *d, tn_net *net, const char *const *users, const bool *gmk,
                        size_t n, uint32_t x_ms) {
  tn_domain_setup(d, users, gmk, n);
  tn_net_init(net, d);
  for (size_t i = 0; i < n; i++) {
    prose_node_settings s;
    tn_default_settings(net, i, &s);
    s.call.tfg13 = x_ms;
    tn_node_start(net, i, &s);
  }
  tn_run(net, 100);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(prose_disc_peer_count(prose_node_discovery(node(net, i))), n - 1);
}

/*
 * The same floor contest as above, but the emergency ends by itself: alice
 * upgrades bob's basic call to emergency (bob misses it) and her Floor
 * Request pre-empts him, so it carried the emergency indicator. Nobody
 * sends an END; TFG13 runs out exactly X after alice's call type change,
 * her call is basic again (T2, trigger "TFG13 expiry") and the floor
 * participant follows: her next request, while bob talks, is queued and
 * pre-empts nobody.
 */
Test(node, implicit_downgrade_tfg13_reaches_the_floor) {
  const char *users[] = {TN_ALICE, TN_BOB};
  const bool gmk[] = {true, true};
  const uint32_t x = 10000;
  tn_domain d;
  tn_net net;
  start_tfg13(&d, &net, users, gmk, 2, x);
  bool lost = false;
  net.filter = alice_call_to_bob_lost;
  net.filter_ud = &lost;
  cr_assert_eq(prose_node_call_group(node(&net, BOB), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_BASIC_GROUP),
               0);
  tn_run(&net, 400);
  prose_node_call_info ci;
  cr_assert(tn_call(&net, BOB, &ci));
  cr_assert_str_eq(ci.floor_state, "O: has permission");
  talk(&net, BOB, TN_APP_PORT, "bob", 0, 3);

  /* Alice upgrades at t_up; bob never hears of it. */
  lost = true;
  uint64_t t_up = net.now;
  cr_assert_eq(prose_node_call_group(node(&net, ALICE), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_EMERGENCY_GROUP),
               0);
  cr_assert_eq(count_state_to(&net.nodes[ALICE], "T1"), 1);
  cr_assert_eq(prose_node_ptt_press(node(&net, ALICE), net.now, NULL, -1), 0);
  tn_run(&net, 300);
  cr_assert_eq(tn_count_events(&net.nodes[BOB], PROSE_NODE_EV_REVOKED), 1, "emergency pre-empts");
  cr_assert_eq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_QUEUED), 0);
  cr_assert_eq(prose_node_ptt_release(node(&net, ALICE), net.now, NULL), 0);
  tn_run(&net, 100);

  /* TFG13: still emergency 1 ms before t_up + X, basic at it. */
  tn_run_until(&net, t_up + x - 1);
  cr_assert_eq(count_state_to(&net.nodes[ALICE], "T2"), 1, "only the join of the basic call");
  tn_run_until(&net, t_up + x);
  cr_assert_eq(count_state_to(&net.nodes[ALICE], "T2"), 2);
  const tn_event *ev = tn_last_event(&net.nodes[ALICE], PROSE_NODE_EV_CALL_STATE);
  cr_assert_not_null(ev);
  cr_assert_str_eq(ev->to, "T2");
  cr_assert_str_eq(ev->trigger, "TFG13 expiry");
  cr_assert_eq(ev->now, t_up + x);
  cr_assert_eq(count_state_to(&net.nodes[BOB], "T1"), 0);
  cr_assert_null(last_monp(&net, ALICE, PROSE_MONP_GROUP_CALL_EMERGENCY_END));

  /* Bob takes the floor again and talks; alice asks at the same priority. */
  cr_assert_eq(prose_node_ptt_press(node(&net, BOB), net.now, NULL, -1), 0);
  tn_run(&net, 400);
  cr_assert(tn_call(&net, BOB, &ci));
  cr_assert(ci.may_send_media, "bob: %s", ci.floor_state);
  talk(&net, BOB, TN_APP_PORT, "bob", 3, 2);
  cr_assert_eq(prose_node_ptt_press(node(&net, ALICE), net.now, NULL, -1), 0);
  tn_run(&net, 300);
  cr_assert_eq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_QUEUED), 1,
               "a basic request is queued");
  cr_assert_eq(tn_count_events(&net.nodes[BOB], PROSE_NODE_EV_REVOKED), 1, "no second pre-emption");
  cr_assert(tn_call(&net, BOB, &ci));
  cr_assert(ci.may_send_media);
  cr_assert(tn_call(&net, ALICE, &ci));
  cr_assert(!ci.may_send_media);
  expect_no_plaintext(&net);
  finish(&d, &net);
}

/* ---------------------------------------------------------------------- */
/* Hangup while probing                                                     */
/* ---------------------------------------------------------------------- */

typedef struct hold {
  bool on;
  size_t held;
  size_t len;
  uint8_t data[PROSE_MONP_MSG_MAX];
} hold;

/* While on: bob's call control does not reach alice; the last of it is kept. */
static bool hold_bob_call(tn_net *net, int src, tn_pkt *p, void *ud) {
  (void)net;
  hold *h = ud;
  if (!h->on || src != BOB || p->dst != ALICE || p->sock != PROSE_SOCK_CALL) return true;
  cr_assert_leq(p->len, sizeof h->data);
  memcpy(h->data, p->data, p->len);
  h->len = p->len;
  h->held++;
  return false;
}

static size_t count_monp(tn_net *net, int src, prose_monp_type type) {
  size_t c = 0;
  for (size_t k = 0; k < net->n_wire; k++) {
    const tn_dgram *w = &net->wire[k];
    c += w->src == src && w->sock == PROSE_SOCK_CALL && w->len > 0 && w->data[0] == type;
  }
  return c;
}

/*
 * Alice calls the group and hangs up 10 ms later, while her node still
 * probes (S2): no further PROBE, no ANNOUNCEMENT when TFG1 would have made
 * her the originator, no call, and CALL_ENDED "cancelled". Then with bob's
 * call running, the answer to her probe arrives only after her hangup: it
 * is not joined (S7 -> S6), and bob's later announcements of that call keep
 * it ignored (TFG5).
 */
Test(node, hangup_while_probing_cancels_the_call) {
  const char *users[] = {TN_ALICE, TN_BOB};
  const bool gmk[] = {true, true};
  tn_domain d;
  tn_net net;
  start(&d, &net, users, gmk, 2);
  hold h = {0};
  net.filter = hold_bob_call;
  net.filter_ud = &h;

  cr_assert_eq(prose_node_hangup(node(&net, ALICE), net.now), PROSE_EINVAL, "no call yet");
  cr_assert_eq(prose_node_call_group(node(&net, ALICE), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_BASIC_GROUP),
               0);
  tn_run(&net, 10);
  cr_assert_eq(count_monp(&net, ALICE, PROSE_MONP_GROUP_CALL_PROBE), 1);
  cr_assert_eq(prose_node_hangup(node(&net, ALICE), net.now), 0);
  const tn_event *e = tn_last_event(&net.nodes[ALICE], PROSE_NODE_EV_CALL_ENDED);
  cr_assert_not_null(e);
  cr_assert_str_eq(e->group, TN_GROUP);
  cr_assert_str_eq(e->text, "cancelled");
  cr_assert_eq(count_state_to(&net.nodes[ALICE], "S7"), 1);
  cr_assert_eq(prose_node_hangup(node(&net, ALICE), net.now), PROSE_EINVAL, "nothing left");
  tn_run(&net, 1000); /* far past TFG3 (40 ms) and TFG1 (150 ms) */
  cr_assert_eq(count_monp(&net, ALICE, PROSE_MONP_GROUP_CALL_PROBE), 1);
  cr_assert_eq(count_monp(&net, ALICE, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT), 0);
  cr_assert_eq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_CALL_STARTED), 0);
  cr_assert_eq(tn_count_events(&net.nodes[BOB], PROSE_NODE_EV_CALL_STARTED), 0);
  cr_assert_eq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_CALL_ENDED), 1);
  cr_assert_eq(count_state_to(&net.nodes[ALICE], "S1"), 1, "TFG1: S7 -> S1");
  prose_node_call_info ci;
  cr_assert(!tn_call(&net, ALICE, &ci));

  /* Bob's call, which alice does not hear yet. */
  h.on = true;
  cr_assert_eq(prose_node_call_group(node(&net, BOB), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_BASIC_GROUP),
               0);
  tn_run(&net, 400);
  cr_assert(tn_call(&net, BOB, &ci));
  size_t held0 = h.held;
  cr_assert_geq(held0, 1);
  cr_assert(!tn_call(&net, ALICE, &ci));

  /* Alice probes; bob answers (held back); alice hangs up; the answer lands. */
  cr_assert_eq(prose_node_call_group(node(&net, ALICE), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_BASIC_GROUP),
               0);
  tn_run(&net, 10);
  cr_assert_eq(prose_node_hangup(node(&net, ALICE), net.now), 0);
  tn_run(&net, 100);
  cr_assert_gt(h.held, held0, "bob answered the probe");
  prose_monp_msg m;
  cr_assert_eq(prose_monp_decode(h.data, h.len, &m), 0);
  cr_assert_eq(m.type, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT);
  cr_assert(m.probe_response);
  h.on = false;
  prose_node_addr from = tn_ipv4(10, 0, 0, 2, 8809);
  cr_assert_eq(tn_inject(&net, ALICE, PROSE_SOCK_CALL, 8809, &from, h.data, h.len), 0);
  cr_assert_eq(count_state_to(&net.nodes[ALICE], "S6"), 1, "the answer is ignored");

  /* Bob's call goes on for 25 s; alice never joins it and never talks. */
  size_t ann0 = count_monp(&net, BOB, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT);
  tn_run(&net, 25000);
  cr_assert_geq(count_monp(&net, BOB, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT), ann0 + 1);
  cr_assert(!tn_call(&net, ALICE, &ci));
  cr_assert_eq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_CALL_STARTED), 0);
  cr_assert_eq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_CALL_ENDED), 2);
  cr_assert_eq(count_monp(&net, ALICE, PROSE_MONP_GROUP_CALL_PROBE), 2);
  cr_assert_eq(count_monp(&net, ALICE, PROSE_MONP_GROUP_CALL_ANNOUNCEMENT), 0);
  cr_assert_eq(count_monp(&net, ALICE, PROSE_MONP_GROUP_CALL_ACCEPT), 0);
  cr_assert_eq(ctr(&net, ALICE)->call_rx_errors, 0);
  cr_assert(tn_call(&net, BOB, &ci));
  finish(&d, &net);
}

/* ---------------------------------------------------------------------- */
/* IPv4 + IPv6 and IPv6 only                                                */
/* ---------------------------------------------------------------------- */

/* Alice has IPv4 and IPv6, bob IPv6 only; discovery and the group on IPv6. */
static void start_dual_and_v6(tn_domain *d, tn_net *net) {
  const char *users[] = {TN_ALICE, TN_BOB};
  const bool gmk[] = {true, true};
  tn_domain_setup(d, users, gmk, 2);
  tn_net_init(net, d);
  for (size_t i = 0; i < 2; i++) {
    prose_node_settings s;
    tn_default_settings(net, i, &s);
    if (i == BOB) memset(&s.unicast4, 0, sizeof s.unicast4);
    s.unicast6 = tn_ipv6(i == ALICE ? "fd00::1" : "fd00::2", 0);
    s.disc_mcast = tn_ipv6("ff15::88:9", 8810);
    s.groups[0].mcast = tn_ipv6("ff15::1:1", 0);
    tn_node_start(net, i, &s);
  }
  tn_run(net, 100);
  for (size_t i = 0; i < 2; i++)
    cr_assert_eq(prose_disc_peer_count(prose_node_discovery(node(net, i))), 1);
}

/* The SDP in the first MONP message of `type` that node src sent. */
static void sdp_of(tn_net *net, int src, prose_monp_type type, prose_sdp *out) {
  for (size_t k = 0; k < net->n_wire; k++) {
    const tn_dgram *w = &net->wire[k];
    if (w->src != src || w->sock != PROSE_SOCK_CALL || w->len == 0 || w->data[0] != type) continue;
    prose_monp_msg m;
    cr_assert_eq(prose_monp_decode(w->data, w->len, &m), 0);
    cr_assert_eq(prose_sdp_parse(m.sdp.p, m.sdp.len, out), 0);
    return;
  }
  cr_assert_fail("node %d sent no message of type %d", src, (int)type);
}

/* A private call from `caller`; both talk, each is heard by the other. */
static void private_both_ways(tn_net *net, size_t caller, size_t callee, unsigned first) {
  uint16_t papp = net->nodes[ALICE].set.private_app_port;
  const char *who[2] = {"alice", "bob"};
  cr_assert_eq(prose_node_call_private(node(net, caller), net->now,
                                       caller == ALICE ? TN_BOB : TN_ALICE, false, false),
               0);
  tn_run(net, 300);
  prose_node_call_info ci;
  for (size_t i = 0; i < 2; i++) {
    cr_assert(tn_call(net, i, &ci), "node %zu connected", i);
    cr_assert_str_eq(ci.call_state, "P4");
  }
  size_t h0 = net->nodes[callee].n_app;
  talk(net, caller, papp, who[caller], first, 5);
  tn_run(net, 50);
  expect_heard(net, callee, h0, who[caller], first, 5, papp);
  cr_assert_eq(prose_node_ptt_release(node(net, caller), net->now, NULL), 0);
  tn_run(net, 100);
  cr_assert_eq(prose_node_ptt_press(node(net, callee), net->now, NULL, -1), 0);
  tn_run(net, 400);
  cr_assert(tn_call(net, callee, &ci));
  cr_assert(ci.may_send_media, "the callee has the floor (%s)", ci.floor_state);
  h0 = net->nodes[caller].n_app;
  talk(net, callee, papp, who[callee], first, 5);
  tn_run(net, 50);
  expect_heard(net, caller, h0, who[callee], first, 5, papp);
  cr_assert_eq(prose_node_hangup(node(net, caller), net->now), 0);
  tn_run(net, 1500);
  cr_assert(!tn_call(net, caller, &ci));
  cr_assert(!tn_call(net, callee, &ci));
}

/*
 * A private call between a dual-stack node and an IPv6-only node, each way.
 * The dual-stack caller offers its IPv6 address (its peer has no IPv4); the
 * dual-stack callee answers an IPv6 offer with its IPv6 address, not its
 * first (IPv4) one. Media and floor control flow both ways over IPv6 and
 * nothing is sent to an address family a node lacks.
 */
Test(node, private_call_dual_stack_and_ipv6_only) {
  tn_domain d;
  tn_net net;
  start_dual_and_v6(&d, &net);
  static prose_sdp sdp;

  /* Dual-stack alice calls IPv6-only bob. */
  private_both_ways(&net, ALICE, BOB, 0);
  sdp_of(&net, ALICE, PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, &sdp);
  cr_assert(sdp.ipv6);
  cr_assert_str_eq(sdp.addr, "fd00::1", "offer c=%s", sdp.addr);
  cr_assert(sdp.has_key_mgmt);
  sdp_of(&net, BOB, PROSE_MONP_PRIVATE_CALL_ACCEPT, &sdp);
  cr_assert(sdp.ipv6);
  cr_assert_str_eq(sdp.addr, "fd00::2");

  /* IPv6-only bob calls dual-stack alice. */
  private_both_ways(&net, BOB, ALICE, 10);
  sdp_of(&net, BOB, PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, &sdp);
  cr_assert_str_eq(sdp.addr, "fd00::2");
  sdp_of(&net, ALICE, PROSE_MONP_PRIVATE_CALL_ACCEPT, &sdp);
  cr_assert(sdp.ipv6);
  cr_assert_str_eq(sdp.addr, "fd00::1", "answer c=%s", sdp.addr);

  /* Everything unicast went over IPv6 and arrived. */
  for (size_t k = 0; k < net.n_wire; k++) {
    const tn_dgram *w = &net.wire[k];
    if (w->sock == PROSE_SOCK_MEDIA || w->sock == PROSE_SOCK_FLOOR)
      cr_assert_eq(w->to.family, PROSE_DISC_AF_IPV6, "datagram %zu", k);
  }
  cr_assert_eq(net.unroutable, 0);
  for (size_t i = 0; i < 2; i++) {
    const prose_node_counters *c = ctr(&net, i);
    cr_assert_eq(c->tx_failed, 0, "node %zu", i);
    cr_assert_eq(c->media.drop_auth + c->media.drop_unknown_mki + c->key_mgmt_failed, 0);
  }
  expect_no_plaintext(&net);
  finish(&d, &net);
}

/*
 * Naming a call (what the daemon's control socket does with `group` and
 * `call`): alice is in a group call with bob and in a private call with
 * bob. prose_node_select makes the private call current for PTT;
 * prose_node_hangup_call ends exactly the call it names and leaves the
 * other; unknown names are ENOENT, ambiguous ones EINVAL. A manual private
 * call rings at carol (prose_node_ringing names alice) until she answers.
 */
Test(node, calls_are_named_for_select_and_hangup) {
  const char *users[] = {TN_ALICE, TN_BOB, TN_CAROL};
  const bool gmk[] = {true, true, true};
  tn_domain d;
  tn_net net;
  start(&d, &net, users, gmk, 3);
  prose_node *a = node(&net, ALICE);
  cr_assert_eq(prose_node_call_group(a, net.now, TN_GROUP, PROSE_MONP_CALL_BASIC_GROUP), 0);
  tn_run(&net, 400);
  cr_assert_eq(prose_node_ptt_release(a, net.now, NULL), 0, "the originator lets go");
  cr_assert_eq(prose_node_call_private(a, net.now, TN_BOB, false, false), 0);
  tn_run(&net, 300);
  size_t calls = 0;
  prose_node_call_info ci;
  while (prose_node_call_at(a, calls, &ci)) calls++;
  cr_assert_eq(calls, 2, "a group call and a private call");

  /* Bad names. */
  cr_assert_eq(prose_node_select(a, NULL, NULL), PROSE_EINVAL);
  cr_assert_eq(prose_node_select(a, TN_GROUP, TN_BOB), PROSE_EINVAL);
  cr_assert_eq(prose_node_select(a, "sip:nogroup@example.org", NULL), PROSE_ENOENT);
  cr_assert_eq(prose_node_select(a, NULL, TN_CAROL), PROSE_ENOENT);
  cr_assert_eq(prose_node_hangup_call(a, net.now, NULL, TN_CAROL), PROSE_ENOENT);
  cr_assert_eq(prose_node_hangup_call(a, net.now, "sip:nogroup@example.org", NULL), PROSE_ENOENT);
  cr_assert_null(prose_node_ringing(a));

  /* The group call made current, PTT without a group presses in it; then
   * the private call made current, PTT presses there. */
  cr_assert_eq(prose_node_select(a, TN_GROUP, NULL), 0);
  cr_assert_eq(prose_node_ptt_press(a, net.now, NULL, -1), 0);
  tn_run(&net, 400);
  for (size_t k = 0; prose_node_call_at(a, k, &ci); k++)
    if (!ci.private_call) cr_assert_str_eq(ci.floor_state, "O: has permission");
  cr_assert_eq(prose_node_ptt_release(a, net.now, NULL), 0);
  tn_run(&net, 100);
  cr_assert_eq(prose_node_select(a, NULL, TN_BOB), 0);
  cr_assert_eq(prose_node_ptt_press(a, net.now, NULL, -1), 0);
  tn_run(&net, 100);
  for (size_t k = 0; prose_node_call_at(a, k, &ci); k++) {
    if (ci.private_call) cr_assert(ci.may_send_media, "PTT went to the private call");
    else cr_assert_str_neq(ci.floor_state, "O: has permission", "not to the group call");
  }

  /* Hang up the group call by name: the private call goes on. */
  size_t ended = tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_CALL_ENDED);
  cr_assert_eq(prose_node_hangup_call(a, net.now, TN_GROUP, NULL), 0);
  tn_run(&net, 300);
  cr_assert_eq(tn_count_events(&net.nodes[ALICE], PROSE_NODE_EV_CALL_ENDED), ended + 1);
  calls = 0;
  while (prose_node_call_at(a, calls, &ci)) calls++;
  cr_assert_eq(calls, 1);
  cr_assert(prose_node_call_at(a, 0, &ci));
  cr_assert(ci.private_call, "the private call is left");
  cr_assert_str_eq(ci.peer, TN_BOB);
  /* And the private call by its peer. */
  cr_assert_eq(prose_node_hangup_call(a, net.now, NULL, TN_BOB), 0);
  tn_run(&net, 300);
  cr_assert(!prose_node_call_at(a, 0, &ci), "no call left");
  cr_assert(!prose_node_call_at(node(&net, BOB), 1, &ci), "bob's private call ended too");

  /* A manual call rings at carol until she accepts. */
  cr_assert_eq(prose_node_call_private(a, net.now, TN_CAROL, true, false), 0);
  tn_run(&net, 300);
  cr_assert_str_eq(prose_node_ringing(node(&net, CAROL)), TN_ALICE);
  cr_assert_null(prose_node_ringing(a), "the caller is not rung");
  cr_assert_eq(prose_node_accept(node(&net, CAROL), net.now), 0);
  tn_run(&net, 300);
  cr_assert_null(prose_node_ringing(node(&net, CAROL)));
  bool connected = false;
  for (size_t k = 0; prose_node_call_at(node(&net, CAROL), k, &ci); k++)
    if (ci.private_call) connected = strcmp(ci.call_state, "P4") == 0 && strcmp(ci.peer, TN_ALICE) == 0;
  cr_assert(connected, "carol's private call with alice is up (P4)");
  finish(&d, &net);
}

/*
 * [media] app_symmetric: the node takes a slot's plain RTP only from the
 * socket it delivers to (app_addr, APP port + 1). Alice's application talks
 * from there and is heard; another local port and another address are
 * dropped and counted (app_dropped_foreign), sent nothing. Without the
 * option (bob's node), any local source is taken, as before.
 */
Test(node, app_symmetric_takes_only_the_applications_socket) {
  const char *users[] = {TN_ALICE, TN_BOB};
  const bool gmk[] = {true, true};
  tn_domain d;
  tn_net net;
  tn_domain_setup(&d, users, gmk, 2);
  tn_net_init(&net, &d);
  prose_node_settings s;
  tn_default_settings(&net, ALICE, &s);
  s.app_symmetric = true;
  tn_node_start(&net, ALICE, &s);
  tn_node_start(&net, BOB, NULL);
  tn_run(&net, 100);
  cr_assert_eq(prose_node_call_group(node(&net, ALICE), net.now, TN_GROUP,
                                     PROSE_MONP_CALL_BASIC_GROUP),
               0);
  tn_run(&net, 400);
  talk(&net, ALICE, TN_APP_PORT, "alice", 0, 5); /* from 127.0.0.1:APP+1 */
  tn_run(&net, 50);
  expect_heard(&net, BOB, 0, "alice", 0, 5, TN_APP_PORT);
  uint64_t tx = ctr(&net, ALICE)->media_tx;
  cr_assert_eq(ctr(&net, ALICE)->app_dropped_foreign, 0);

  char p[PAYLOAD_LEN];
  uint8_t pkt[12 + PAYLOAD_LEN];
  memset(pkt, 0, sizeof pkt);
  pkt[0] = 0x80;
  payload(p, "intruder", 0);
  memcpy(pkt + 12, p, PAYLOAD_LEN);
  const prose_node_addr from[] = {tn_ipv4(127, 0, 0, 1, TN_APP_PORT + 7),
                                  tn_ipv4(127, 0, 0, 2, TN_APP_PORT + 1),
                                  tn_ipv4(10, 0, 0, 9, TN_APP_PORT + 1)};
  for (size_t k = 0; k < 3; k++)
    cr_assert_eq(tn_inject(&net, ALICE, PROSE_SOCK_APP, TN_APP_PORT, &from[k], pkt, sizeof pkt), 0);
  cr_assert_eq(tn_inject(&net, ALICE, PROSE_SOCK_APP, TN_APP_PORT, NULL, pkt, sizeof pkt), 0);
  tn_run(&net, 50);
  cr_assert_eq(ctr(&net, ALICE)->app_dropped_foreign, 4);
  cr_assert_eq(ctr(&net, ALICE)->media_tx, tx, "nothing of the intruder's was sent");
  cr_assert_eq(net.nodes[BOB].n_app, 5, "bob heard only alice's application");

  /* Bob's node takes any local source (the default). */
  cr_assert_eq(prose_node_ptt_release(node(&net, ALICE), net.now, NULL), 0);
  tn_run(&net, 100);
  cr_assert_eq(prose_node_ptt_press(node(&net, BOB), net.now, NULL, -1), 0);
  tn_run(&net, 400);
  cr_assert_eq(tn_inject(&net, BOB, PROSE_SOCK_APP, TN_APP_PORT, &from[0], pkt, sizeof pkt), 0);
  tn_run(&net, 50);
  cr_assert_eq(ctr(&net, BOB)->app_dropped_foreign, 0);
  cr_assert_eq(ctr(&net, BOB)->media_tx, 1);
  finish(&d, &net);
}
