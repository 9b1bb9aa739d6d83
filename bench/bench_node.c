/*
 * prose-bench node: the media path through the node (prose/node.h), the
 * work prosed does per packet apart from the socket calls, against raw
 * libsrtp2 protect/unprotect with the same policy in the same run.
 *
 *   send:    the application's plain RTP (172 octets: 12 + 160, 20 ms of
 *            G.711) into prose_node_recv on the APP port -> floor check,
 *            renumbering onto the call's stream, SRTP protect (MKI, ROC),
 *            the send callback (which only counts: a real driver's sendto
 *            is the kernel's cost, not the node's);
 *   receive: a protected datagram into prose_node_recv on the MEDIA port ->
 *            SRTP unprotect, the floor participant's RTP hook, the plain
 *            RTP to the application through the send callback.
 *
 * Two nodes (alice, bob) with real keys from a throwaway domain provisioned
 * by the authority code (tests/support/testdomain.h, shared with the node
 * tests), wired back to back in memory in virtual time for the call setup:
 * a group call that alice started and holds the floor of, then a private
 * call alice -> bob.
 * The receive runs over a pool of datagrams alice's node protected
 * beforehand, each given to bob's node once (replay protection), so the
 * measured work is the receive path only; the pool is filled right after
 * the call starts (see measure_call). Raw libsrtp protect copies the
 * RTP template into its work buffer first (the node copies the datagram
 * into its own buffer too); raw unprotect opens a pool of its own.
 *
 * Target (DESIGN.md §6): >= 200 k packets/s per core through the node, and
 * within 1.5x of raw libsrtp.
 */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "prose/buf.h"
#include "prose/err.h"
#include "prose/media.h"
#include "prose/node.h"
#include "prose/util.h"
#include "testnode.h"

#define NB_PAYLOAD 160
#define NB_RTP_LEN (12 + NB_PAYLOAD)
#define NB_SLOT 256 /* one pooled datagram: 172 + 16 + 8 + 4 fits */
#define NB_ROUNDS 9
#define NB_ITERS 20000
#define NB_POOL (NB_ROUNDS * NB_ITERS + 1) /* bench_run warms up with one call */
#define NB_T0 TS_T0
#define NB_GROUP TS_GROUP
#define NB_QUEUE 512
#define NB_MEDIA_PORT TS_MEDIA_PORT
#define NB_APP_PORT TS_APP_PORT

static const char *const NB_USERS[2] = {"sip:alice@example.org", "sip:bob@example.org"};
enum { ALICE = 0, BOB = 1 };

/* What the send callback does with a datagram. */
typedef enum nb_mode {
  NB_DELIVER, /* call setup: queue it for the other node */
  NB_COUNT,   /* measuring: count it */
  NB_FILL     /* filling the receive pool: keep alice's media datagrams */
} nb_mode;

typedef struct nb_pkt {
  int dst;
  prose_node_sock sock;
  uint16_t port;
  prose_node_addr from;
  size_t len;
  uint8_t data[PROSE_NODE_MAX_DGRAM];
} nb_pkt;

typedef struct nb nb;

typedef struct nb_node {
  nb *b;
  int idx;
  prose_node *node;
  prose_node_settings set;
  prose_rng_det rng_state;
  prose_rng rng;
} nb_node;

struct nb {
  ts_domain dom; /* the stores and keyrings of alice and bob */
  nb_node n[2];
  uint64_t now;
  nb_mode mode;
  nb_pkt *q; /* NB_QUEUE datagrams in flight during the setup */
  size_t q_head, q_len;
  uint64_t sent_media, sent_app, sent_other;
  uint8_t *pool; /* NB_POOL slots of NB_SLOT octets */
  size_t *pool_len;
  size_t pool_n, next;
  uint16_t app_port; /* the APP port of the call being measured */
  uint16_t media_port;
  prose_node_addr app_from, media_from;
  uint8_t tmpl[NB_RTP_LEN];
  srtp_t raw_tx, raw_pool_tx, raw_rx;
  uint16_t raw_seq, raw_pool_seq;
  _Alignas(8) uint8_t work[NB_SLOT + 64];
  int failures;
};

static void nb_fail(nb *b, int rc, const char *what) {
  if (rc == 0) return;
  b->failures++;
  if (b->failures < 5) fprintf(stderr, "bench node: %s failed: %s\n", what, prose_err_name(rc));
}

/* ---- the domain: KMS, GMS with one group, two devices ------------------ */

static int domain_setup(nb *b) {
  ts_domain_params p;
  ts_domain_params_default(&p);
  p.users = NB_USERS;
  p.n = 2;
  p.t = NB_T0;
  p.seed = 0xBE7C4;
  p.prefix = "prose-bench-node";
  int rc = ts_domain_setup(&b->dom, &p);
  if (rc) fprintf(stderr, "bench node: domain: %s\n", b->dom.err);
  return rc;
}

/* ---- the in-memory network ----------------------------------------------- */

static bool is_loopback(const prose_node_addr *a) {
  return a->family == PROSE_DISC_AF_IPV4 && a->ip[0] == 127;
}

static int nb_send(void *ud, prose_node_sock sock, uint16_t local_port, const prose_node_addr *to,
                   const uint8_t *bytes, size_t len) {
  nb_node *nd = ud;
  nb *b = nd->b;
  if (is_loopback(to)) { /* plain RTP for the application: record it */
    b->sent_app++;
    return 0;
  }
  if (sock == PROSE_SOCK_MEDIA)
    b->sent_media++;
  else
    b->sent_other++;
  switch (b->mode) {
    case NB_COUNT:
      return 0;
    case NB_FILL:
      if (sock == PROSE_SOCK_MEDIA && nd->idx == ALICE && b->pool_n < NB_POOL && len <= NB_SLOT) {
        memcpy(b->pool + b->pool_n * NB_SLOT, bytes, len);
        b->pool_len[b->pool_n++] = len;
      }
      return 0;
    case NB_DELIVER:
      break;
  }
  if (b->q_len == NB_QUEUE || len > PROSE_NODE_MAX_DGRAM) return PROSE_ENOMEM;
  nb_pkt *p = &b->q[(b->q_head + b->q_len++) % NB_QUEUE];
  /* Both nodes use the same ports: the datagram arrives at the other node
   * on the socket of the same kind bound to the destination port. */
  p->dst = 1 - nd->idx;
  p->sock = sock;
  p->port = to->port;
  p->from = nd->set.unicast4;
  p->from.port = local_port;
  p->len = len;
  memcpy(p->data, bytes, len);
  return 0;
}

static uint64_t nb_wall(void *ud, uint64_t now_ms) {
  (void)ud;
  return NB_T0 + now_ms / 1000u;
}

/* Deliver what is queued and run the timers until virtual time t. */
static int run_until(nb *b, uint64_t t) {
  for (unsigned iter = 0; iter < 100000u; iter++) {
    if (b->q_len) {
      nb_pkt *p = &b->q[b->q_head];
      b->q_head = (b->q_head + 1) % NB_QUEUE;
      b->q_len--;
      /* The datagram's own copy: delivering may queue more. */
      nb_pkt cur = *p;
      int rc = prose_node_recv(b->n[cur.dst].node, b->now, cur.sock, cur.port, &cur.from,
                               cur.data, cur.len);
      if (rc) return rc;
      continue;
    }
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < 2; i++) {
      uint64_t d = prose_node_next_deadline(b->n[i].node);
      if (d < next) next = d;
    }
    if (next > t) {
      b->now = t;
      return 0;
    }
    if (next > b->now) b->now = next;
    for (size_t i = 0; i < 2; i++)
      if (prose_node_next_deadline(b->n[i].node) <= b->now) {
        int rc = prose_node_on_timeout(b->n[i].node, b->now);
        if (rc) return rc;
      }
  }
  return PROSE_ERANGE; /* the network does not settle */
}

static int nodes_start(nb *b) {
  for (size_t i = 0; i < 2; i++) {
    nb_node *nd = &b->n[i];
    prose_node_settings *s = &nd->set;
    nd->b = b;
    nd->idx = (int)i;
    nd->rng = prose_rng_det_init(&nd->rng_state, 1000u + i);
    ts_node_settings(&b->dom, i, s);
    s->rng = &nd->rng;
    prose_node_callbacks cb = {nb_send, NULL, nb_wall};
    int rc = prose_node_new(&nd->node, s, &cb, nd, b->now);
    if (rc) {
      fprintf(stderr, "bench node: node %zu: %s\n", i, prose_err_name(rc));
      return rc;
    }
  }
  return run_until(b, b->now + 200);
}

/* The call of node i that is private (or not), if any. */
static bool call_of(const nb *b, size_t i, bool private_call, prose_node_call_info *ci) {
  for (size_t k = 0; prose_node_call_at(b->n[i].node, k, ci); k++)
    if (ci->private_call == private_call && ci->active) return true;
  return false;
}

/* ---- the measured operations ------------------------------------------------ */

static void op_node_send(void *p) {
  nb *b = p;
  nb_fail(b,
          prose_node_recv(b->n[ALICE].node, b->now, PROSE_SOCK_APP, b->app_port, &b->app_from,
                          b->tmpl, NB_RTP_LEN),
          "node send");
}

static void op_node_recv(void *p) {
  nb *b = p;
  size_t i = b->next++;
  if (i >= b->pool_n) return;
  nb_fail(b,
          prose_node_recv(b->n[BOB].node, b->now, PROSE_SOCK_MEDIA, b->media_port, &b->media_from,
                          b->pool + i * NB_SLOT, b->pool_len[i]),
          "node receive");
}

static void op_raw_protect(void *p) {
  nb *b = p;
  int n = NB_RTP_LEN;
  memcpy(b->work, b->tmpl, NB_RTP_LEN);
  prose_put_u16(b->work + 2, b->raw_seq++);
  if (srtp_protect_mki(b->raw_tx, b->work, &n, 1, 0) != srtp_err_status_ok)
    nb_fail(b, PROSE_ECRYPTO, "raw protect");
}

static void op_raw_unprotect(void *p) {
  nb *b = p;
  size_t i = b->next++;
  if (i >= b->pool_n) return;
  int n = (int)b->pool_len[i];
  if (srtp_unprotect_mki(b->raw_rx, b->pool + i * NB_SLOT, &n, 1) != srtp_err_status_ok)
    nb_fail(b, PROSE_ECRYPTO, "raw unprotect");
}

/* A raw libsrtp session: AES-128-GCM with a 16-octet tag, one master key
 * with an 8-octet MKI, as the group profile; any SSRC (in or out). */
static int raw_session(srtp_t *s, srtp_ssrc_type_t dir) {
  uint8_t key[28], mki[8] = {0x01, 0x23, 0xAB, 0xCD, 0x05, 0x06, 0x07, 0x08};
  for (size_t i = 0; i < sizeof key; i++) key[i] = (uint8_t)(0xA5 ^ (i * 29));
  srtp_master_key_t mk = {key, mki, sizeof mki};
  srtp_master_key_t *keys[1] = {&mk};
  srtp_policy_t pol;
  memset(&pol, 0, sizeof pol);
  srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
  srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
  pol.ssrc.type = dir;
  pol.keys = keys;
  pol.num_master_keys = 1;
  pol.window_size = 128;
  int rc = srtp_create(s, &pol) == srtp_err_status_ok ? 0 : PROSE_ECRYPTO;
  prose_wipe(key, sizeof key);
  return rc;
}

/* raw_tx for the protect run; raw_pool_tx fills the pool raw_rx opens. */
static int raw_setup(nb *b) {
  int rc = raw_session(&b->raw_tx, ssrc_any_outbound);
  if (!rc) rc = raw_session(&b->raw_pool_tx, ssrc_any_outbound);
  if (!rc) rc = raw_session(&b->raw_rx, ssrc_any_inbound);
  return rc;
}

/* Fill the pool: by alice's node (the call being measured) or raw libsrtp. */
static int fill_pool(nb *b, bool raw) {
  b->pool_n = 0;
  b->next = 0;
  if (raw) {
    for (size_t i = 0; i < NB_POOL; i++) {
      uint8_t *s = b->pool + i * NB_SLOT;
      int n = NB_RTP_LEN;
      memcpy(s, b->tmpl, NB_RTP_LEN);
      prose_put_u16(s + 2, b->raw_pool_seq++);
      if (srtp_protect_mki(b->raw_pool_tx, s, &n, 1, 0) != srtp_err_status_ok) return PROSE_ECRYPTO;
      b->pool_len[i] = (size_t)n;
    }
    b->pool_n = NB_POOL;
    return 0;
  }
  b->mode = NB_FILL;
  for (size_t i = 0; i < NB_POOL; i++) {
    int rc = prose_node_recv(b->n[ALICE].node, b->now, PROSE_SOCK_APP, b->app_port, &b->app_from,
                             b->tmpl, NB_RTP_LEN);
    if (rc) return rc;
  }
  b->mode = NB_COUNT;
  return b->pool_n == NB_POOL ? 0 : PROSE_EINVAL;
}

static void verdict(const char *what, double node_ns, double raw_ns) {
  double ratio = node_ns / raw_ns, rate = 1e9 / node_ns;
  printf("  %-28s %.2fx raw libsrtp, %.0f k packets/s  [%s]\n", what, ratio, rate / 1000.0,
         (ratio <= 1.5 && rate >= 200000.0) ? "meets target" : "BELOW TARGET");
}

/* Measure one call's receive and send paths; the call is set up and alice
 * holds its floor. The pool is filled first, so bob's node sees one stream
 * without gaps from the call's first packet on: a private call carries no
 * ROC (unlike the group profile's RCCm3), and a receiver that missed more
 * than 2^15 packets could no longer tell the sender's ROC. */
static void measure_call(nb *b, const char *label) {
  char name[64];
  /* Raw libsrtp right before each node measurement, so a busy machine
   * skews both sides of a ratio alike. */
  double raw_u = 0, raw_p = 0;
  if (fill_pool(b, true) == 0)
    raw_u = bench_run("raw libsrtp unprotect", op_raw_unprotect, b, NB_ROUNDS, NB_ITERS);
  const prose_node_counters *ca = prose_node_get_counters(b->n[ALICE].node);
  const prose_node_counters *cb = prose_node_get_counters(b->n[BOB].node);
  uint64_t want = (uint64_t)NB_ROUNDS * NB_ITERS + 1;
  if (fill_pool(b, false) != 0) {
    fprintf(stderr, "bench node: %s pool fill failed\n", label);
    b->failures++;
    return;
  }
  uint64_t rx0 = cb->media_to_app, app0 = b->sent_app;
  snprintf(name, sizeof name, "node %s receive", label);
  double ns_recv = bench_run(name, op_node_recv, b, NB_ROUNDS, NB_ITERS);
  if (cb->media_to_app - rx0 != want || b->sent_app - app0 != want) {
    fflush(stdout);
    fprintf(stderr, "bench node: %s receive: %llu to the application of %llu\n", label,
            (unsigned long long)(cb->media_to_app - rx0), (unsigned long long)want);
    b->failures++;
  }
  b->mode = NB_COUNT;
  raw_p = bench_run("raw libsrtp protect", op_raw_protect, b, NB_ROUNDS, NB_ITERS);
  uint64_t tx0 = ca->media_tx, media0 = b->sent_media;
  snprintf(name, sizeof name, "node %s send", label);
  double ns_send = bench_run(name, op_node_send, b, NB_ROUNDS, NB_ITERS);
  if (ca->media_tx - tx0 != want || b->sent_media - media0 != want) {
    fflush(stdout);
    fprintf(stderr, "bench node: %s send: %llu protected, %llu sent of %llu\n", label,
            (unsigned long long)(ca->media_tx - tx0),
            (unsigned long long)(b->sent_media - media0), (unsigned long long)want);
    b->failures++;
  }
  if (raw_p <= 0 || raw_u <= 0) {
    b->failures++;
    return;
  }
  snprintf(name, sizeof name, "%s send", label);
  verdict(name, ns_send, raw_p);
  snprintf(name, sizeof name, "%s receive", label);
  verdict(name, ns_recv, raw_u);
}

static int group_call(nb *b) {
  prose_node_call_info ci;
  int rc = prose_node_call_group(b->n[ALICE].node, b->now, NB_GROUP, PROSE_MONP_CALL_BASIC_GROUP);
  if (!rc) rc = run_until(b, b->now + 500);
  if (!rc && !(call_of(b, BOB, false, &ci) && call_of(b, ALICE, false, &ci) && ci.may_send_media))
    rc = PROSE_EINVAL;
  if (rc) {
    fflush(stdout);
    fprintf(stderr, "bench node: group call setup: %s\n", prose_err_name(rc));
  }
  b->app_port = NB_APP_PORT;
  b->media_port = NB_MEDIA_PORT;
  b->media_from = b->n[ALICE].set.unicast4;
  b->media_from.port = NB_MEDIA_PORT;
  return rc;
}

static int private_call(nb *b) {
  prose_node_call_info ci;
  /* The group call ends first: one call at a time keeps the measurement
   * about the private profile only. */
  const char *step = "hangup";
  b->mode = NB_DELIVER;
  int rc = prose_node_hangup(b->n[ALICE].node, b->now);
  if (!rc) rc = prose_node_hangup(b->n[BOB].node, b->now);
  if (!rc) rc = run_until(b, b->now + 200);
  if (!rc) {
    step = "call";
    rc = prose_node_call_private(b->n[ALICE].node, b->now, NB_USERS[BOB], false, false);
  }
  if (!rc) rc = run_until(b, b->now + 500);
  if (!rc && !(call_of(b, BOB, true, &ci) && call_of(b, ALICE, true, &ci) && ci.may_send_media)) {
    step = "connect";
    rc = PROSE_EINVAL;
  }
  if (rc) {
    fflush(stdout);
    fprintf(stderr, "bench node: private call setup (%s): %s\n", step, prose_err_name(rc));
  }
  b->app_port = b->n[ALICE].set.private_app_port;
  b->media_port = b->n[BOB].set.private_audio_port;
  b->media_from = b->n[ALICE].set.unicast4;
  b->media_from.port = b->n[ALICE].set.private_audio_port;
  return rc;
}

int bench_node(int argc, char **argv) {
  (void)argc;
  (void)argv;
  nb *b = calloc(1, sizeof *b);
  if (!b) return 1;
  b->q = calloc(NB_QUEUE, sizeof *b->q);
  b->pool = malloc((size_t)NB_POOL * NB_SLOT);
  b->pool_len = calloc(NB_POOL, sizeof *b->pool_len);
  int rc = (b->q && b->pool && b->pool_len) ? 0 : PROSE_ENOMEM;
  if (!rc) rc = prose_media_lib_init();
  for (size_t i = 0; i < NB_RTP_LEN; i++) b->tmpl[i] = (uint8_t)(0x55 ^ i);
  b->tmpl[0] = 0x80;
  b->tmpl[1] = 0; /* PCMU */
  b->app_from = ts_ipv4(127, 0, 0, 1, NB_APP_PORT + 1);
  b->now = 1000;
  if (!rc) rc = domain_setup(b);
  if (!rc) rc = raw_setup(b);
  if (!rc) rc = nodes_start(b);
  if (!rc) rc = group_call(b);
  if (!rc) {
    printf("== node: media through prose_node_recv (2 nodes in memory, %d-octet payload; "
           "median of rounds; one core)\n",
           NB_PAYLOAD);
    measure_call(b, "group");
    if (private_call(b) == 0)
      measure_call(b, "private");
    else
      b->failures++;
    const prose_node_counters *cb = prose_node_get_counters(b->n[BOB].node);
    printf("  receiver drops: %llu auth, %llu replay, %llu unknown MKI, %llu malformed\n",
           (unsigned long long)cb->media.drop_auth, (unsigned long long)cb->media.drop_replay,
           (unsigned long long)cb->media.drop_unknown_mki,
           (unsigned long long)cb->media.drop_malformed);
  } else {
    b->failures++;
  }
  for (size_t i = 0; i < 2; i++) prose_node_free(b->n[i].node, b->now);
  if (b->raw_tx) srtp_dealloc(b->raw_tx);
  if (b->raw_pool_tx) srtp_dealloc(b->raw_pool_tx);
  if (b->raw_rx) srtp_dealloc(b->raw_rx);
  ts_domain_teardown(&b->dom);
  int failures = b->failures;
  free(b->pool_len);
  free(b->pool);
  free(b->q);
  free(b);
  return failures ? 1 : 0;
}
