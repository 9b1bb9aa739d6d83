/*
 * prose-bench media: SRTP protect and unprotect of RTP packets with a
 * 160-octet payload (20 ms of G.711) through the prose media contexts,
 * against raw libsrtp2 with the same policy (AEAD_AES_128_GCM, 16-octet tag,
 * 8-octet MKI) in the same run. Medians over rounds, one core.
 *
 * Target (DESIGN.md §6): the daemon's media path at >= 200 k packets/s per
 * core, so the keying layer must stay within 1.5x of raw libsrtp.
 *
 * Unprotect runs over a pool of packets protected beforehand, each opened
 * once in place (a packet cannot be opened twice: replay protection), so
 * the measured work is the receive path only. Protect copies a 172-octet
 * RTP template into the work buffer first, for prose and raw alike.
 */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/media.h"
#include "prose/util.h"

#define PAYLOAD 160
#define RTP_LEN (12 + PAYLOAD)
#define SLOT 384 /* one pooled packet with headroom, 8-octet aligned */
#define ROUNDS 9
#define ITERS 20000
#define POOL (ROUNDS * ITERS + 1) /* bench_run warms up with one call */
#define SENDERS 8

static const uint8_t GMK[16] = {0x4b, 0x1a, 0x09, 0x77, 0xe2, 0x3c, 0x51, 0x8d,
                                0x60, 0xfa, 0x13, 0x2e, 0x95, 0xc4, 0x07, 0xbb};
static const uint8_t RAND[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
#define GMK_ID 0x0123ABCDu
static const char *const IDS[SENDERS] = {
    "sip:a@example.org", "sip:b@example.org", "sip:c@example.org", "sip:d@example.org",
    "sip:e@example.org", "sip:f@example.org", "sip:g@example.org", "sip:h@example.org"};

typedef struct media_ctx {
  /* Group: tx[i] sends as member i; rx receives from all. */
  prose_media_group *tx[SENDERS], *rx;
  uint16_t tx_seq[SENDERS];
  /* Private call: caller for the protect run, pool_caller (another SSRC,
   * starting with the pool, since the private profile carries no ROC) to
   * fill the pool the callee opens. */
  prose_media_private *caller, *pool_caller, *callee;
  uint16_t priv_seq, pool_priv_seq;
  /* Raw libsrtp with one master key and the same MKI length; raw_tx for the
   * protect run, pool_tx and raw_rx (another SSRC) for the unprotect run. */
  srtp_t raw_tx, pool_tx, raw_rx;
  uint16_t raw_seq, pool_raw_seq;
  uint8_t tmpl[RTP_LEN];
  _Alignas(8) uint8_t work[SLOT + PROSE_MEDIA_HEADROOM];
  uint8_t *pool; /* POOL slots of SLOT octets */
  size_t pool_len[POOL];
  size_t next; /* next pool slot to open */
  int failures;
} media_ctx;

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void fail(media_ctx *c, int rc, const char *what) {
  if (rc) {
    c->failures++;
    if (c->failures < 5) fprintf(stderr, "bench: %s failed: %s\n", what, prose_err_name(rc));
  }
}

static uint32_t ssrc_of(size_t sender) { return 0x5E000000u + (uint32_t)sender; }

/* The RTP template with a sequence number and SSRC into buf. */
static void rtp_into(const media_ctx *c, uint8_t *buf, uint16_t seq, uint32_t ssrc) {
  memcpy(buf, c->tmpl, RTP_LEN);
  put16(buf + 2, seq);
  put32(buf + 8, ssrc);
}

/* ---- protect ---- */

static void op_group_protect(void *p) {
  media_ctx *c = p;
  size_t n = 0;
  rtp_into(c, c->work, c->tx_seq[0]++, ssrc_of(0));
  fail(c, prose_media_group_protect_rtp(c->tx[0], c->work, RTP_LEN, sizeof c->work, &n),
       "group protect");
}

static void op_private_protect(void *p) {
  media_ctx *c = p;
  size_t n = 0;
  rtp_into(c, c->work, c->priv_seq++, 0xCA11E500u);
  fail(c, prose_media_private_protect_rtp(c->caller, c->work, RTP_LEN, sizeof c->work, &n),
       "private protect");
}

static void op_raw_protect(void *p) {
  media_ctx *c = p;
  int n = RTP_LEN;
  rtp_into(c, c->work, c->raw_seq++, 0x0BADCAFEu);
  if (srtp_protect_mki(c->raw_tx, c->work, &n, 1, 0) != srtp_err_status_ok)
    fail(c, PROSE_ECRYPTO, "raw protect");
}

/* ---- unprotect over the pool ---- */

static uint8_t *slot(media_ctx *c, size_t i) { return c->pool + i * SLOT; }

static void op_group_unprotect(void *p) {
  media_ctx *c = p;
  size_t i = c->next++, n = 0;
  if (i >= POOL) return;
  fail(c, prose_media_group_unprotect_rtp(c->rx, slot(c, i), c->pool_len[i], &n, NULL),
       "group unprotect");
}

static void op_private_unprotect(void *p) {
  media_ctx *c = p;
  size_t i = c->next++, n = 0;
  if (i >= POOL) return;
  fail(c, prose_media_private_unprotect_rtp(c->callee, slot(c, i), c->pool_len[i], &n),
       "private unprotect");
}

static void op_raw_unprotect(void *p) {
  media_ctx *c = p;
  size_t i = c->next++;
  if (i >= POOL) return;
  int n = (int)c->pool_len[i];
  if (srtp_unprotect_mki(c->raw_rx, slot(c, i), &n, 1) != srtp_err_status_ok)
    fail(c, PROSE_ECRYPTO, "raw unprotect");
}

/* Fill the pool: kind 0 = group from sender 0, 1 = group from SENDERS
 * senders in turn, 2 = private caller, 3 = raw. */
static int fill_pool(media_ctx *c, int kind) {
  c->next = 0;
  for (size_t i = 0; i < POOL; i++) {
    uint8_t *b = slot(c, i);
    size_t n = 0;
    int rc;
    if (kind == 0 || kind == 1) {
      size_t s = kind == 0 ? 0 : i % SENDERS;
      rtp_into(c, b, c->tx_seq[s]++, ssrc_of(s));
      rc = prose_media_group_protect_rtp(c->tx[s], b, RTP_LEN, SLOT, &n);
    } else if (kind == 2) {
      rtp_into(c, b, c->pool_priv_seq++, 0xCA11E501u);
      rc = prose_media_private_protect_rtp(c->pool_caller, b, RTP_LEN, SLOT, &n);
    } else {
      int len = RTP_LEN;
      rtp_into(c, b, c->pool_raw_seq++, 0x0BADCAFFu);
      rc = srtp_protect_mki(c->pool_tx, b, &len, 1, 0) == srtp_err_status_ok ? 0 : PROSE_ECRYPTO;
      n = (size_t)len;
    }
    if (rc) {
      fprintf(stderr, "bench: pool fill failed: %s\n", prose_err_name(rc));
      return rc;
    }
    c->pool_len[i] = n;
  }
  return 0;
}

static int lookup(void *user, uint32_t gmk_id, prose_media_key *out) {
  (void)user;
  if (gmk_id != GMK_ID) return PROSE_ENOKEY;
  memcpy(out->tgk, GMK, 16);
  out->key_id = GMK_ID;
  memcpy(out->rand, RAND, sizeof RAND);
  out->rand_len = sizeof RAND;
  return 0;
}

static int raw_session(srtp_t *s, uint32_t ssrc) {
  uint8_t key[28], mki[8] = {0x01, 0x23, 0xAB, 0xCD, 0x05, 0x06, 0x07, 0x08};
  int rc =
      prose_srtp_master(GMK, 16, PROSE_CSID_GROUP, 0x05060708u, RAND, sizeof RAND, key, key + 16);
  if (rc) return rc;
  srtp_master_key_t mk = {key, mki, sizeof mki};
  srtp_master_key_t *keys[1] = {&mk};
  srtp_policy_t pol;
  memset(&pol, 0, sizeof pol);
  srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
  srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
  pol.ssrc.type = ssrc_specific;
  pol.ssrc.value = ssrc;
  pol.keys = keys;
  pol.num_master_keys = 1;
  pol.window_size = 128;
  rc = srtp_create(s, &pol) == srtp_err_status_ok ? 0 : PROSE_ECRYPTO;
  prose_wipe(key, sizeof key);
  return rc;
}

static int setup(media_ctx *c) {
  int rc = prose_media_lib_init(); /* srtp_init() once, shared with the raw sessions */
  for (size_t i = 0; i < RTP_LEN; i++) c->tmpl[i] = (uint8_t)(0x55 ^ i);
  c->tmpl[0] = 0x80;
  c->tmpl[1] = 0; /* PCMU */
  prose_media_group_config tx_cfg = {NULL, NULL, NULL, 0};
  prose_media_group_config rx_cfg = {lookup, NULL, NULL, 0};
  for (size_t i = 0; !rc && i < SENDERS; i++) {
    uint32_t guk = 0;
    rc = prose_media_group_new(&tx_cfg, &c->tx[i]);
    if (!rc) rc = prose_guk_id(GMK, 16, GMK_ID, IDS[i], &guk);
    if (!rc)
      rc = prose_media_group_set_tx_key(c->tx[i], GMK, GMK_ID, guk, RAND, sizeof RAND, ssrc_of(i));
    c->tx_seq[i] = (uint16_t)(1000 * i);
  }
  if (!rc) rc = prose_media_group_new(&rx_cfg, &c->rx);
  const uint8_t pck[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
  if (!rc)
    rc = prose_media_private_new(pck, 0x10203040u, RAND, sizeof RAND, PROSE_MEDIA_CALLER,
                                 0xCA11E500u, &c->caller);
  if (!rc)
    rc = prose_media_private_new(pck, 0x10203040u, RAND, sizeof RAND, PROSE_MEDIA_CALLER,
                                 0xCA11E501u, &c->pool_caller);
  if (!rc)
    rc = prose_media_private_new(pck, 0x10203040u, RAND, sizeof RAND, PROSE_MEDIA_CALLEE,
                                 0xCA11EE00u, &c->callee);
  if (!rc) rc = raw_session(&c->raw_tx, 0x0BADCAFEu);
  if (!rc) rc = raw_session(&c->pool_tx, 0x0BADCAFFu);
  if (!rc) rc = raw_session(&c->raw_rx, 0x0BADCAFFu);
  if (!rc) {
    c->pool = malloc((size_t)POOL * SLOT);
    if (!c->pool) rc = PROSE_ENOMEM;
  }
  if (rc) fprintf(stderr, "bench: setup failed: %s\n", prose_err_name(rc));
  return rc;
}

static void teardown(media_ctx *c) {
  for (size_t i = 0; i < SENDERS; i++) prose_media_group_free(c->tx[i]);
  prose_media_group_free(c->rx);
  prose_media_private_free(c->caller);
  prose_media_private_free(c->pool_caller);
  prose_media_private_free(c->callee);
  if (c->raw_tx) srtp_dealloc(c->raw_tx);
  if (c->pool_tx) srtp_dealloc(c->pool_tx);
  if (c->raw_rx) srtp_dealloc(c->raw_rx);
  free(c->pool);
  free(c);
}

static void verdict(const char *what, double prose_ns, double raw_ns) {
  double ratio = prose_ns / raw_ns, rate = 1e9 / prose_ns;
  printf("  %-26s %.2fx raw libsrtp, %.0f k packets/s  [%s]\n", what, ratio, rate / 1000.0,
         (ratio <= 1.5 && rate >= 200000.0) ? "meets target" : "BELOW TARGET");
}

int bench_media(int argc, char **argv) {
  (void)argc;
  (void)argv;
  media_ctx *c = calloc(1, sizeof *c);
  if (!c) return 1;
  if (setup(c)) {
    teardown(c);
    return 1;
  }
  printf("== media: SRTP AES-128-GCM, %d-octet payload (median of rounds; one core)\n", PAYLOAD);
  double raw_p = bench_run("raw libsrtp protect", op_raw_protect, c, ROUNDS, ITERS);
  double grp_p = bench_run("group protect (MKI+ROC)", op_group_protect, c, ROUNDS, ITERS);
  double prv_p = bench_run("private protect", op_private_protect, c, ROUNDS, ITERS);

  double raw_u = 0, grp_u = 0, grp8_u = 0, prv_u = 0;
  if (!fill_pool(c, 3))
    raw_u = bench_run("raw libsrtp unprotect", op_raw_unprotect, c, ROUNDS, ITERS);
  if (!fill_pool(c, 0))
    grp_u = bench_run("group unprotect (cache hit)", op_group_unprotect, c, ROUNDS, ITERS);
  if (!fill_pool(c, 1))
    grp8_u = bench_run("group unprotect (8 talkers)", op_group_unprotect, c, ROUNDS, ITERS);
  if (!fill_pool(c, 2))
    prv_u = bench_run("private unprotect", op_private_unprotect, c, ROUNDS, ITERS);

  if (raw_p > 0 && raw_u > 0 && grp_u > 0 && grp8_u > 0 && prv_u > 0) {
    verdict("group protect", grp_p, raw_p);
    verdict("group unprotect", grp_u, raw_u);
    verdict("group unprotect, 8 talkers", grp8_u, raw_u);
    verdict("private protect", prv_p, raw_p);
    verdict("private unprotect", prv_u, raw_u);
  } else {
    c->failures++;
  }
  prose_media_counters mc;
  prose_media_group_counters(c->rx, &mc);
  printf("  group receiver: %llu accepted, %llu sessions created, %llu dropped\n",
         (unsigned long long)mc.rx_rtp, (unsigned long long)mc.streams_created,
         (unsigned long long)(mc.drop_auth + mc.drop_replay + mc.drop_malformed +
                              mc.drop_unknown_mki + mc.drop_no_key));
  int failures = c->failures;
  teardown(c);
  return failures ? 1 : 0;
}
