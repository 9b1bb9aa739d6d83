/*
 * SRTP/SRTCP contexts keyed per TS 33.179 7.5 and 7.6 on top of libsrtp2
 * (AEAD_AES_128_GCM, RFC 7714). See prose/media.h for the contract; this
 * file explains how it is met with libsrtp 2.5.0.
 *
 * libsrtp facts relied on (PLATFORM.md, libsrtp 2.5.0):
 *  - a GCM master key buffer is key(16) ‖ salt(12); libsrtp zero-extends the
 *    salt to 14 octets for the RFC 3711 §4.3 key derivation;
 *  - srtp_protect_mki()/srtp_unprotect_mki() place and check the MKI after
 *    the tag (tag length counts as 0 for AEAD in the MKI search);
 *  - srtp_set_stream_roc() sets a "pending ROC" that the next protect or
 *    unprotect of that stream uses instead of its own estimate; a pending
 *    value of 0 means "none", so setting 0 returns the stream to RFC 3711
 *    §3.3.1 estimation, which for a fresh stream assumes ROC 0;
 *  - srtp_update() mishandles MKI streams, so a key change creates a new
 *    session instead;
 *  - RCCm3 (RFC 4771) is not implemented by libsrtp: the ROC trailer is
 *    added and removed here.
 */
#include "prose/media.h"

#include <pthread.h>
#include <srtp2/srtp.h>
#include <stdlib.h>
#include <string.h>

#include "prose/buf.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/util.h"

_Static_assert(PROSE_MEDIA_HEADROOM >=
                   SRTP_MAX_TRAILER_LEN + 4 + PROSE_MEDIA_GROUP_MKI_LEN + PROSE_MEDIA_ROC_LEN,
               "headroom must cover libsrtp's SRTCP trailer plus MKI and ROC");
_Static_assert(SRTP_AES_GCM_128_KEY_LEN_WSALT == 28, "GCM master key is key16 || salt12");

#define MASTER_LEN 28      /* key ‖ salt as libsrtp takes it */
#define MAX_PACKET 65535u  /* largest datagram accepted */
#define RTP_FIXED 12u      /* RFC 3550 §5.1 */
#define RTCP_FIXED 8u      /* V/P/count, PT, length, SSRC */
#define REPLAY_WINDOW 128u /* RFC 3711 §3.3.2, libsrtp's default */
#define DEFAULT_MAX_SENDERS 32u

/* ------------------------------------------------------------------------ */
/* libsrtp initialisation: once per process.                                 */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t lib_status = srtp_err_status_init_fail;

static void lib_init_once(void) { lib_status = srtp_init(); }

int prose_media_lib_init(void) {
  if (pthread_once(&lib_once, lib_init_once) != 0) return PROSE_ECRYPTO;
  return lib_status == srtp_err_status_ok ? 0 : PROSE_ECRYPTO;
}

/* ------------------------------------------------------------------------ */
/* Small helpers.                                                            */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((unsigned)p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static bool aligned4(const void *p) { return ((uintptr_t)p & 3u) == 0; }

/* Map a libsrtp status of an unprotect call to a prose code. GCM tag
 * failures come back as auth_fail (or cipher_fail from some crypto
 * backends); index problems as replay_* or pkt_idx_old. */
static int map_rx_status(srtp_err_status_t st) {
  if (st == srtp_err_status_auth_fail || st == srtp_err_status_cipher_fail)
    return PROSE_EMEDIA_AUTH;
  if (st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old ||
      st == srtp_err_status_pkt_idx_old)
    return PROSE_EREPLAY;
  if (st == srtp_err_status_bad_mki) return PROSE_EMEDIA_MKI;
  if (st == srtp_err_status_parse_err || st == srtp_err_status_bad_param) return PROSE_EMEDIA_PKT;
  if (st == srtp_err_status_alloc_fail) return PROSE_ENOMEM;
  if (st == srtp_err_status_key_expired) return PROSE_EEXPIRED;
  return PROSE_ECRYPTO;
}

static int map_tx_status(srtp_err_status_t st) {
  if (st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old ||
      st == srtp_err_status_pkt_idx_old)
    return PROSE_EREPLAY;
  if (st == srtp_err_status_parse_err || st == srtp_err_status_bad_param) return PROSE_EMEDIA_PKT;
  if (st == srtp_err_status_alloc_fail) return PROSE_ENOMEM;
  if (st == srtp_err_status_key_expired) return PROSE_EEXPIRED;
  return PROSE_ECRYPTO;
}

/* One drop counter per failed unprotect (media.h). Errors that are the
 * caller's or the machine's (bad arguments, memory, crypto library) are not
 * drops of a peer's packet and are not counted. */
static void count_drop(prose_media_counters *c, int rc) {
  switch (rc) {
    case PROSE_ETRUNC:
    case PROSE_EMEDIA_PKT:
      c->drop_malformed++;
      break;
    case PROSE_EMEDIA_MKI:
      c->drop_unknown_mki++;
      break;
    case PROSE_EMEDIA_AUTH:
      c->drop_auth++;
      break;
    case PROSE_EREPLAY:
      c->drop_replay++;
      break;
    case PROSE_EINVAL:
    case PROSE_ENOMEM:
    case PROSE_ECRYPTO:
    case PROSE_EINTERNAL:
      break;
    default:
      c->drop_no_key++;
      break;
  }
}

/*
 * RTP header length (RFC 3550 §5.1, §5.3.1: fixed part, CSRCs, extension)
 * of a packet that must be followed by at least `trailer` more octets.
 */
static int rtp_header(const uint8_t *p, size_t len, size_t trailer, size_t *hdr_len) {
  prose_rd r = prose_rd_init(p, len);
  uint8_t b0;
  uint16_t words;
  if (prose_rd_u8(&r, &b0)) return PROSE_ETRUNC;
  if ((b0 >> 6) != 2) return PROSE_EMEDIA_PKT;
  if (prose_rd_skip(&r, RTP_FIXED - 1) || prose_rd_skip(&r, 4u * (b0 & 0x0fu))) return PROSE_ETRUNC;
  if (b0 & 0x10u) {
    if (prose_rd_skip(&r, 2) || prose_rd_u16(&r, &words) || prose_rd_skip(&r, 4u * words))
      return PROSE_ETRUNC;
  }
  if (prose_rd_left(&r) < trailer) return PROSE_ETRUNC;
  *hdr_len = r.off;
  return 0;
}

/* An RTCP packet (RFC 3550 §6.4) followed by `trailer` octets. */
static int rtcp_header(const uint8_t *p, size_t len, size_t trailer) {
  if (len < RTCP_FIXED + trailer) return PROSE_ETRUNC;
  if ((p[0] >> 6) != 2) return PROSE_EMEDIA_PKT;
  return 0;
}

/*
 * RFC 3711 §3.3.1 / Appendix A index estimate from the highest index seen
 * and a sequence number, as libsrtp computes it (a fresh state means ROC 0).
 * Returns false when the 48-bit index space is used up.
 */
static bool index_guess(bool seen, uint64_t hi, uint16_t seq, uint64_t *idx) {
  if (!seen) {
    *idx = seq;
    return true;
  }
  uint32_t roc = (uint32_t)(hi >> 16);
  int sl = (int)(hi & 0xffffu);
  int s = seq;
  uint64_t v = roc;
  if (sl < 0x8000) {
    if (s - sl > 0x8000 && roc > 0) v = (uint64_t)roc - 1;
  } else if (sl - 0x8000 > s) {
    v = (uint64_t)roc + 1;
  }
  if (v > UINT32_MAX) return false;
  *idx = v << 16 | (uint64_t)seq;
  return true;
}

/* ------------------------------------------------------------------------ */
/* libsrtp sessions.                                                         */

/*
 * One session with one stream and one master key. Senders and group
 * receivers use a stream for one SSRC (so srtp_set_stream_roc can reach it
 * before the first packet); the private receiver uses libsrtp's inbound
 * template because it learns the peer's SSRC from the first packet.
 * libsrtp copies the MKI and expands the key, so `master` can be wiped as
 * soon as this returns.
 */
static int session_new(srtp_t *out, const uint8_t master[MASTER_LEN], const uint8_t *mki,
                       size_t mki_len, bool any_inbound, uint32_t ssrc) {
  int rc = prose_media_lib_init();
  if (rc) return rc;
  uint8_t key[MASTER_LEN];
  uint8_t mki_copy[PROSE_MEDIA_GROUP_MKI_LEN];
  memcpy(key, master, MASTER_LEN);
  memcpy(mki_copy, mki, mki_len);
  srtp_master_key_t mk = {key, mki_copy, (unsigned)mki_len};
  srtp_master_key_t *keys[1] = {&mk};
  srtp_policy_t pol;
  memset(&pol, 0, sizeof pol);
  /* AEAD_AES_128_GCM with the 16-octet tag for SRTP and SRTCP alike
   * (RFC 7714 §14.2; 33.179 7.5 and 7.6 use the same algorithm). */
  srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
  srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
  pol.ssrc.type = any_inbound ? ssrc_any_inbound : ssrc_specific;
  pol.ssrc.value = ssrc;
  pol.keys = keys;
  pol.num_master_keys = 1;
  pol.window_size = REPLAY_WINDOW;
  pol.allow_repeat_tx = 0; /* never encrypt one index twice */
  srtp_err_status_t st = srtp_create(out, &pol);
  prose_wipe(key, sizeof key);
  if (st == srtp_err_status_ok) return 0;
  *out = NULL;
  return st == srtp_err_status_alloc_fail ? PROSE_ENOMEM : PROSE_ECRYPTO;
}

static void session_free(srtp_t *s) {
  if (*s) srtp_dealloc(*s);
  *s = NULL;
}

/*
 * Protect one RTP packet with the sender's explicit index. Setting the
 * stream's ROC first makes libsrtp use exactly this index (for ROC > 0) or
 * its own estimate, which equals it (ROC 0), also on a session that was
 * just created for a new key while the SSRC's index carries on.
 */
static int tx_rtp(srtp_t s, uint32_t ssrc, uint8_t *buf, size_t len, uint64_t idx,
                  size_t *out_len) {
  int n = (int)len;
  if (srtp_set_stream_roc(s, ssrc, (uint32_t)(idx >> 16)) != srtp_err_status_ok)
    return PROSE_EINTERNAL;
  srtp_err_status_t st = srtp_protect_mki(s, buf, &n, 1, 0);
  if (st != srtp_err_status_ok) return map_tx_status(st);
  *out_len = (size_t)n;
  return 0;
}

static int tx_rtcp(srtp_t s, uint8_t *buf, size_t len, size_t *out_len) {
  int n = (int)len;
  srtp_err_status_t st = srtp_protect_rtcp_mki(s, buf, &n, 1, 0);
  if (st != srtp_err_status_ok) return map_tx_status(st);
  *out_len = (size_t)n;
  return 0;
}

/* Common argument checks of the protect calls. */
static int tx_args(const void *ctx, const uint8_t *buf, size_t len, size_t cap,
                   const size_t *out_len) {
  if (!ctx || !buf || !out_len || !aligned4(buf)) return PROSE_EINVAL;
  if (len > MAX_PACKET) return PROSE_ERANGE;
  if (cap < len || cap - len < PROSE_MEDIA_HEADROOM) return PROSE_EBUFSZ;
  return 0;
}

/* A plaintext RTP packet to protect: its SSRC must be the context's. */
static int tx_rtp_check(const uint8_t *buf, size_t len, uint32_t ssrc, uint16_t *seq) {
  size_t h;
  int rc = rtp_header(buf, len, 0, &h);
  if (rc) return rc;
  if (rd32(buf + 8) != ssrc) return PROSE_EINVAL;
  *seq = rd16(buf + 2);
  return 0;
}

/* A plaintext RTCP packet to protect: whole 32-bit words (RFC 3550 §6.4.1)
 * and the context's SSRC as the sender. */
static int tx_rtcp_check(const uint8_t *buf, size_t len, uint32_t ssrc) {
  int rc = rtcp_header(buf, len, 0);
  if (rc) return rc;
  if (len % 4 != 0) return PROSE_EMEDIA_PKT;
  if (rd32(buf + 4) != ssrc) return PROSE_EINVAL;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Sender index state shared by group and private contexts.                  */

typedef struct tx_index {
  bool seen;
  uint64_t hi; /* highest RTP index protected for the tx SSRC */
} tx_index;

/* The index of the next packet; it must move forward (media.h). */
static int tx_next_index(const tx_index *t, uint16_t seq, uint64_t *idx) {
  if (!index_guess(t->seen, t->hi, seq, idx)) return PROSE_EEXPIRED;
  if (t->seen && *idx <= t->hi) return PROSE_EREPLAY;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Group context.                                                            */

/* A per-sender receive session: one (SSRC, MKI) that has authenticated. */
typedef struct rx_sess {
  srtp_t srtp;
  uint32_t ssrc;
  uint8_t mki[PROSE_MEDIA_GROUP_MKI_LEN];
  size_t mki_len;
  uint32_t gmk_id, guk_id;
  uint64_t used; /* LRU tick */
  /* RTP replay window over the explicit RCCm3 index (RFC 3711 §3.3.2).
   * libsrtp keeps its own window too; this one does not depend on how a
   * libsrtp release commits an index reached through a pending ROC, which
   * is exactly the late-joiner path. */
  bool seen;
  uint64_t hi;
  uint64_t win[2]; /* bit d: index hi - d accepted */
} rx_sess;

/* The key this member sends with. */
typedef struct tx_key {
  bool valid;
  srtp_t srtp;
  uint32_t ssrc;
  uint32_t gmk_id, guk_id;
  uint8_t mki[PROSE_MEDIA_GROUP_MKI_LEN];
  uint8_t master[MASTER_LEN]; /* to recognise a repeated installation */
} tx_key;

/* What is remembered of the previous tx key after a switch. */
typedef struct tx_prev {
  bool valid;
  uint32_t ssrc, gmk_id, guk_id;
} tx_prev;

struct prose_media_group {
  prose_media_group_config cfg;
  tx_key tx;
  tx_prev prev;
  tx_index txi;
  rx_sess *rx;
  size_t rx_n, rx_cap, mru;
  uint64_t tick;
  prose_media_counters c;
};

int prose_media_group_new(const prose_media_group_config *cfg, prose_media_group **out) {
  if (!cfg || !out) return PROSE_EINVAL;
  *out = NULL;
  int rc = prose_media_lib_init();
  if (rc) return rc;
  prose_media_group *g = calloc(1, sizeof *g);
  if (!g) return PROSE_ENOMEM;
  g->cfg = *cfg;
  g->rx_cap = cfg->max_senders ? cfg->max_senders : DEFAULT_MAX_SENDERS;
  g->rx = calloc(g->rx_cap, sizeof *g->rx);
  if (!g->rx) {
    free(g);
    return PROSE_ENOMEM;
  }
  *out = g;
  return 0;
}

void prose_media_group_free(prose_media_group *g) {
  if (!g) return;
  for (size_t i = 0; i < g->rx_n; i++) session_free(&g->rx[i].srtp);
  session_free(&g->tx.srtp);
  prose_wipe(g->rx, g->rx_cap * sizeof *g->rx);
  free(g->rx);
  prose_wipe(g, sizeof *g);
  free(g);
}

static bool keyid_tags_ok(uint32_t gmk_id, uint32_t guk_id) {
  /* GUK-ID = GMK-ID XOR a 28-bit salt, so both carry the GMK purpose tag
   * (33.179 F.1.3, DIGEST §2). */
  return prose_keyid_tag(gmk_id) == PROSE_KEYID_TAG_GMK &&
         prose_keyid_tag(guk_id) == PROSE_KEYID_TAG_GMK;
}

int prose_media_group_set_tx_key(prose_media_group *g, const uint8_t gmk[PROSE_MEDIA_KEY_LEN],
                                 uint32_t gmk_id, uint32_t guk_id, const uint8_t *rand,
                                 size_t rand_len, uint32_t ssrc) {
  if (!g || !gmk || !rand) return PROSE_EINVAL;
  if (rand_len < PROSE_MEDIA_RAND_MIN || rand_len > PROSE_MEDIA_RAND_MAX) return PROSE_ELEN;
  if (!keyid_tags_ok(gmk_id, guk_id)) return PROSE_EMIKEY_KEYTYPE;
  if (g->prev.valid && g->prev.gmk_id == gmk_id && g->prev.guk_id == guk_id && g->prev.ssrc == ssrc)
    return PROSE_EINVAL;

  /* DESIGN §3: the sender's own GUK-ID is the CSB ID, CS-ID 4. */
  uint8_t master[MASTER_LEN];
  int rc = prose_srtp_master(gmk, PROSE_MEDIA_KEY_LEN, PROSE_CSID_GROUP, guk_id, rand, rand_len,
                             master, master + 16);
  if (rc) return rc;
  if (g->tx.valid && g->tx.gmk_id == gmk_id && g->tx.guk_id == guk_id && g->tx.ssrc == ssrc &&
      prose_ct_eq(master, g->tx.master, MASTER_LEN)) {
    prose_wipe(master, sizeof master);
    return 0;
  }
  uint8_t mki[PROSE_MEDIA_GROUP_MKI_LEN];
  wr32(mki, gmk_id);
  wr32(mki + 4, guk_id);
  srtp_t s;
  rc = session_new(&s, master, mki, sizeof mki, false, ssrc);
  if (rc) {
    prose_wipe(master, sizeof master);
    return rc;
  }
  /* Commit. The index of an SSRC carries on across keys, so receivers see
   * an unbroken ROC; a new SSRC starts a new index. */
  if (g->tx.valid) {
    g->prev.valid = true;
    g->prev.ssrc = g->tx.ssrc;
    g->prev.gmk_id = g->tx.gmk_id;
    g->prev.guk_id = g->tx.guk_id;
    if (g->tx.ssrc != ssrc) g->txi.seen = false;
    session_free(&g->tx.srtp);
  }
  prose_wipe(&g->tx, sizeof g->tx);
  g->tx.valid = true;
  g->tx.srtp = s;
  g->tx.ssrc = ssrc;
  g->tx.gmk_id = gmk_id;
  g->tx.guk_id = guk_id;
  memcpy(g->tx.mki, mki, sizeof mki);
  memcpy(g->tx.master, master, MASTER_LEN);
  prose_wipe(master, sizeof master);
  return 0;
}

int prose_media_group_protect_rtp(prose_media_group *g, uint8_t *buf, size_t len, size_t cap,
                                  size_t *out_len) {
  int rc = tx_args(g, buf, len, cap, out_len);
  if (rc) return rc;
  if (!g->tx.valid) return PROSE_ENOKEY;
  uint16_t seq;
  uint64_t idx;
  size_t n;
  if ((rc = tx_rtp_check(buf, len, g->tx.ssrc, &seq))) return rc;
  if ((rc = tx_next_index(&g->txi, seq, &idx))) return rc;
  if ((rc = tx_rtp(g->tx.srtp, g->tx.ssrc, buf, len, idx, &n))) return rc;
  /* RCCm3 (RFC 4771 §3.2, R = 1; 33.179 7.5): the ROC follows the MKI. */
  wr32(buf + n, (uint32_t)(idx >> 16));
  *out_len = n + PROSE_MEDIA_ROC_LEN;
  g->txi.seen = true;
  g->txi.hi = idx;
  g->c.tx_rtp++;
  return 0;
}

int prose_media_group_protect_rtcp(prose_media_group *g, uint8_t *buf, size_t len, size_t cap,
                                   size_t *out_len) {
  int rc = tx_args(g, buf, len, cap, out_len);
  if (rc) return rc;
  if (!g->tx.valid) return PROSE_ENOKEY;
  /* 33.179 7.6: floor control uses the SRTP master key, salt and MKI. */
  if ((rc = tx_rtcp_check(buf, len, g->tx.ssrc))) return rc;
  if ((rc = tx_rtcp(g->tx.srtp, buf, len, out_len))) return rc;
  g->c.tx_rtcp++;
  return 0;
}

/* Replay window of a receive session (RFC 3711 §3.3.2). */
static bool win_seen(const rx_sess *s, uint64_t idx) {
  if (!s->seen || idx > s->hi) return false;
  uint64_t d = s->hi - idx;
  if (d >= REPLAY_WINDOW) return true; /* too old to tell: treat as replay */
  return (s->win[d >> 6] >> (d & 63)) & 1u;
}

static void win_add(rx_sess *s, uint64_t idx) {
  if (!s->seen) {
    s->seen = true;
    s->hi = idx;
    s->win[0] = 1;
    s->win[1] = 0;
    return;
  }
  if (idx > s->hi) {
    uint64_t d = idx - s->hi;
    if (d >= 128) {
      s->win[0] = s->win[1] = 0;
    } else if (d >= 64) {
      s->win[1] = s->win[0] << (d - 64);
      s->win[0] = 0;
    } else {
      s->win[1] = s->win[1] << d | s->win[0] >> (64 - d);
      s->win[0] <<= d;
    }
    s->win[0] |= 1;
    s->hi = idx;
  } else {
    uint64_t d = s->hi - idx;
    s->win[d >> 6] |= (uint64_t)1 << (d & 63);
  }
}

/* The MKI of a packet ends at `end`; at least `min_before` octets (header,
 * tag, SRTCP index) must precede it. */
static bool mki_fits(size_t end, size_t mki_len, size_t min_before) {
  return end >= mki_len && end - mki_len >= min_before;
}

static bool sess_match(const rx_sess *s, uint32_t ssrc, const uint8_t *buf, size_t end,
                       size_t min_before) {
  return s->ssrc == ssrc && mki_fits(end, s->mki_len, min_before) &&
         memcmp(s->mki, buf + end - s->mki_len, s->mki_len) == 0;
}

/* The cached session for this packet (the MRU one first: a talker's packets
 * come in runs). An 8-octet and a legacy 4-octet reading cannot both match
 * one (SSRC, MKI) except by a 2^-32 coincidence, which then fails the tag. */
static rx_sess *rx_find(prose_media_group *g, uint32_t ssrc, const uint8_t *buf, size_t end,
                        size_t min_before) {
  if (g->mru < g->rx_n && sess_match(&g->rx[g->mru], ssrc, buf, end, min_before))
    return &g->rx[g->mru];
  for (size_t i = 0; i < g->rx_n; i++) {
    if (sess_match(&g->rx[i], ssrc, buf, end, min_before)) {
      g->mru = i;
      return &g->rx[i];
    }
  }
  return NULL;
}

static bool is_own_key(const prose_media_group *g, uint32_t gmk_id, uint32_t guk_id) {
  return (g->tx.valid && g->tx.gmk_id == gmk_id && g->tx.guk_id == guk_id) ||
         (g->prev.valid && g->prev.gmk_id == gmk_id && g->prev.guk_id == guk_id);
}

/* A lookup callback's answer as a media code (prose_media_gmk_lookup_fn). */
static int lookup_result(int rc) {
  if (rc == 0) return 0;
  if (rc == PROSE_ENOKEY) return PROSE_EMEDIA_MKI;
  if (rc == PROSE_ENOMEM) return PROSE_ENOMEM;
  /* Anything else means "the key exists but cannot be used"; codes that
   * would be counted as another reason are folded into PROSE_ENOKEY. */
  if (rc > 0 || rc == PROSE_ETRUNC || rc == PROSE_EMEDIA_PKT || rc == PROSE_EMEDIA_MKI ||
      rc == PROSE_EMEDIA_AUTH || rc == PROSE_EREPLAY || rc == PROSE_EINVAL || rc == PROSE_ECRYPTO ||
      rc == PROSE_EINTERNAL)
    return PROSE_ENOKEY;
  return rc;
}

/*
 * Build (not yet cache) a receive session for one sender from its MKI:
 * look the GMK up, derive the sender's master key with its GUK-ID as CSB ID
 * (DESIGN §3) and create the libsrtp session.
 */
static int rx_make_one(prose_media_group *g, uint32_t ssrc, const uint8_t *mki, size_t mki_len,
                       rx_sess *out) {
  bool legacy = mki_len == PROSE_MEDIA_LEGACY_MKI_LEN;
  uint32_t gmk_id = legacy ? 0 : rd32(mki);
  uint32_t guk_id = rd32(mki + mki_len - 4);
  if (prose_keyid_tag(guk_id) != PROSE_KEYID_TAG_GMK) return PROSE_EMEDIA_MKI;
  if (!legacy) {
    if (prose_keyid_tag(gmk_id) != PROSE_KEYID_TAG_GMK) return PROSE_EMEDIA_MKI;
    /* Our own packets come back only by reflection (or loopback): refuse
     * them before spending a lookup. */
    if (is_own_key(g, gmk_id, guk_id)) return PROSE_EREPLAY;
  }
  prose_media_key k;
  memset(&k, 0, sizeof k);
  int rc = legacy ? g->cfg.lookup_guk(g->cfg.user, guk_id, &k)
                  : g->cfg.lookup_gmk(g->cfg.user, gmk_id, &k);
  rc = lookup_result(rc);
  if (!rc) {
    if (legacy) gmk_id = k.key_id;
    if (prose_keyid_tag(gmk_id) != PROSE_KEYID_TAG_GMK || k.rand_len < PROSE_MEDIA_RAND_MIN ||
        k.rand_len > PROSE_MEDIA_RAND_MAX)
      rc = PROSE_ENOKEY;
    else if (legacy && is_own_key(g, gmk_id, guk_id))
      rc = PROSE_EREPLAY;
  }
  uint8_t master[MASTER_LEN];
  if (!rc)
    rc = prose_srtp_master(k.tgk, PROSE_MEDIA_KEY_LEN, PROSE_CSID_GROUP, guk_id, k.rand, k.rand_len,
                           master, master + 16);
  prose_wipe(&k, sizeof k);
  if (rc) return rc;
  memset(out, 0, sizeof *out);
  rc = session_new(&out->srtp, master, mki, mki_len, false, ssrc);
  prose_wipe(master, sizeof master);
  if (rc) return rc;
  out->ssrc = ssrc;
  memcpy(out->mki, mki, mki_len);
  out->mki_len = mki_len;
  out->gmk_id = gmk_id;
  out->guk_id = guk_id;
  return 0;
}

static int rx_make(prose_media_group *g, uint32_t ssrc, const uint8_t *buf, size_t end,
                   size_t min_before, rx_sess *out) {
  int rc = PROSE_ENOKEY; /* a context without lookups cannot receive */
  if (g->cfg.lookup_gmk && mki_fits(end, PROSE_MEDIA_GROUP_MKI_LEN, min_before)) {
    rc =
        rx_make_one(g, ssrc, buf + end - PROSE_MEDIA_GROUP_MKI_LEN, PROSE_MEDIA_GROUP_MKI_LEN, out);
    if (rc != PROSE_EMEDIA_MKI) return rc;
  }
  /* DIGEST §12 item 1: an older peer may send the GUK-ID alone. Tried only
   * when the 8-octet reading names no key, so current peers never pay. */
  if (g->cfg.lookup_guk && mki_fits(end, PROSE_MEDIA_LEGACY_MKI_LEN, min_before))
    rc = rx_make_one(g, ssrc, buf + end - PROSE_MEDIA_LEGACY_MKI_LEN, PROSE_MEDIA_LEGACY_MKI_LEN,
                     out);
  return rc;
}

/* Cache a session that has just authenticated its first packet, evicting
 * the least recently used one when full. */
static rx_sess *rx_insert(prose_media_group *g, const rx_sess *s) {
  size_t i;
  if (g->rx_n < g->rx_cap) {
    i = g->rx_n++;
  } else {
    i = 0;
    for (size_t j = 1; j < g->rx_n; j++)
      if (g->rx[j].used < g->rx[i].used) i = j;
    session_free(&g->rx[i].srtp);
    g->c.streams_evicted++;
  }
  g->rx[i] = *s;
  g->mru = i;
  g->c.streams_created++;
  return &g->rx[i];
}

static void fill_info(prose_media_rx_info *info, const rx_sess *s, uint32_t roc) {
  if (!info) return;
  info->ssrc = s->ssrc;
  info->gmk_id = s->gmk_id;
  info->guk_id = s->guk_id;
  info->roc = roc;
  info->mki_len = s->mki_len;
}

/* Smallest MKI a group packet may carry. */
static size_t group_min_mki(const prose_media_group *g) {
  return g->cfg.lookup_guk ? PROSE_MEDIA_LEGACY_MKI_LEN : PROSE_MEDIA_GROUP_MKI_LEN;
}

static int group_rx_rtp(prose_media_group *g, uint8_t *buf, size_t len, size_t *out_len,
                        prose_media_rx_info *info) {
  size_t h;
  if (len > MAX_PACKET) return PROSE_EMEDIA_PKT;
  int rc = rtp_header(buf, len, PROSE_MEDIA_TAG_LEN + group_min_mki(g) + PROSE_MEDIA_ROC_LEN, &h);
  if (rc) return rc;
  uint32_t ssrc = rd32(buf + 8);
  uint16_t seq = rd16(buf + 2);
  /* RCCm3: strip the ROC; the MKI then ends the packet as libsrtp expects. */
  uint32_t roc = rd32(buf + len - PROSE_MEDIA_ROC_LEN);
  size_t end = len - PROSE_MEDIA_ROC_LEN;
  size_t min_before = h + PROSE_MEDIA_TAG_LEN;

  rx_sess fresh;
  rx_sess *s = rx_find(g, ssrc, buf, end, min_before);
  bool is_new = s == NULL;
  if (is_new) {
    if ((rc = rx_make(g, ssrc, buf, end, min_before, &fresh))) return rc;
    s = &fresh;
  }
  uint64_t idx = (uint64_t)roc << 16 | seq;
  if (win_seen(s, idx)) {
    rc = PROSE_EREPLAY;
    goto fail;
  }
  /* The carried ROC fixes the index: the first packet of a late joiner is
   * decrypted at once (RFC 4771 §3.3). A forged ROC only breaks the IV, so
   * the tag check fails and nothing is committed; the next packet sets the
   * stream's ROC again. */
  if (srtp_set_stream_roc(s->srtp, ssrc, roc) != srtp_err_status_ok) {
    rc = PROSE_EINTERNAL;
    goto fail;
  }
  int n = (int)end;
  srtp_err_status_t st = srtp_unprotect_mki(s->srtp, buf, &n, 1);
  if (st != srtp_err_status_ok) {
    rc = map_rx_status(st);
    goto fail;
  }
  win_add(s, idx);
  if (is_new) s = rx_insert(g, &fresh);
  s->used = ++g->tick;
  fill_info(info, s, roc);
  *out_len = (size_t)n;
  return 0;
fail:
  if (is_new) session_free(&fresh.srtp);
  return rc;
}

int prose_media_group_unprotect_rtp(prose_media_group *g, uint8_t *buf, size_t len, size_t *out_len,
                                    prose_media_rx_info *info) {
  if (!g || !buf || !out_len || !aligned4(buf)) return PROSE_EINVAL;
  int rc = group_rx_rtp(g, buf, len, out_len, info);
  if (rc)
    count_drop(&g->c, rc);
  else
    g->c.rx_rtp++;
  return rc;
}

/* SRTCP: header(8) ‖ ciphertext ‖ tag(16) ‖ E|index(4) ‖ MKI (RFC 3711
 * §3.4, RFC 7714 §9). Only encrypted SRTCP (E = 1) is accepted. */
static int srtcp_e_flag(const uint8_t *buf, size_t end_of_index) {
  return (buf[end_of_index - 4] & 0x80u) ? 0 : PROSE_EMEDIA_PKT;
}

static int group_rx_rtcp(prose_media_group *g, uint8_t *buf, size_t len, size_t *out_len,
                         prose_media_rx_info *info) {
  if (len > MAX_PACKET) return PROSE_EMEDIA_PKT;
  int rc =
      rtcp_header(buf, len, PROSE_MEDIA_TAG_LEN + PROSE_MEDIA_SRTCP_INDEX_LEN + group_min_mki(g));
  if (rc) return rc;
  uint32_t ssrc = rd32(buf + 4);
  size_t min_before = RTCP_FIXED + PROSE_MEDIA_TAG_LEN + PROSE_MEDIA_SRTCP_INDEX_LEN;

  rx_sess fresh;
  rx_sess *s = rx_find(g, ssrc, buf, len, min_before);
  bool is_new = s == NULL;
  if (is_new) {
    if ((rc = rx_make(g, ssrc, buf, len, min_before, &fresh))) return rc;
    s = &fresh;
  }
  if ((rc = srtcp_e_flag(buf, len - s->mki_len))) goto fail;
  int n = (int)len;
  srtp_err_status_t st = srtp_unprotect_rtcp_mki(s->srtp, buf, &n, 1);
  if (st != srtp_err_status_ok) {
    rc = map_rx_status(st);
    goto fail;
  }
  if (is_new) s = rx_insert(g, &fresh);
  s->used = ++g->tick;
  fill_info(info, s, 0);
  *out_len = (size_t)n;
  return 0;
fail:
  if (is_new) session_free(&fresh.srtp);
  return rc;
}

int prose_media_group_unprotect_rtcp(prose_media_group *g, uint8_t *buf, size_t len,
                                     size_t *out_len, prose_media_rx_info *info) {
  if (!g || !buf || !out_len || !aligned4(buf)) return PROSE_EINVAL;
  int rc = group_rx_rtcp(g, buf, len, out_len, info);
  if (rc)
    count_drop(&g->c, rc);
  else
    g->c.rx_rtcp++;
  return rc;
}

size_t prose_media_group_forget_gmk(prose_media_group *g, uint32_t gmk_id) {
  if (!g) return 0;
  size_t dropped = 0;
  for (size_t i = 0; i < g->rx_n;) {
    if (g->rx[i].gmk_id == gmk_id) {
      session_free(&g->rx[i].srtp);
      g->rx[i] = g->rx[--g->rx_n];
      prose_wipe(&g->rx[g->rx_n], sizeof g->rx[g->rx_n]);
      dropped++;
    } else {
      i++;
    }
  }
  g->mru = 0;
  return dropped;
}

size_t prose_media_group_sessions(const prose_media_group *g) { return g ? g->rx_n : 0; }

void prose_media_group_counters(const prose_media_group *g, prose_media_counters *out) {
  if (!out) return;
  if (!g) {
    memset(out, 0, sizeof *out);
    return;
  }
  *out = g->c;
}

/* ------------------------------------------------------------------------ */
/* Private call context.                                                     */

struct prose_media_private {
  srtp_t tx, rx;
  uint32_t tx_ssrc;
  uint32_t pck_id;
  uint8_t mki[PROSE_MEDIA_PRIVATE_MKI_LEN];
  tx_index txi;
  prose_media_counters c;
};

void prose_media_private_free(prose_media_private *p) {
  if (!p) return;
  session_free(&p->tx);
  session_free(&p->rx);
  prose_wipe(p, sizeof *p);
  free(p);
}

int prose_media_private_new(const uint8_t pck[PROSE_MEDIA_KEY_LEN], uint32_t pck_id,
                            const uint8_t *rand, size_t rand_len, prose_media_role role,
                            uint32_t tx_ssrc, prose_media_private **out) {
  if (!out) return PROSE_EINVAL;
  *out = NULL;
  if (!pck || !rand || (role != PROSE_MEDIA_CALLER && role != PROSE_MEDIA_CALLEE))
    return PROSE_EINVAL;
  if (rand_len < PROSE_MEDIA_RAND_MIN || rand_len > PROSE_MEDIA_RAND_MAX) return PROSE_ELEN;
  if (prose_keyid_tag(pck_id) != PROSE_KEYID_TAG_PCK) return PROSE_EMIKEY_KEYTYPE;
  int rc = prose_media_lib_init();
  if (rc) return rc;
  prose_media_private *p = calloc(1, sizeof *p);
  if (!p) return PROSE_ENOMEM;
  p->tx_ssrc = tx_ssrc;
  p->pck_id = pck_id;
  wr32(p->mki, pck_id);

  /* DIGEST §4.1, DESIGN §3: CSB ID = PCK-ID; CS-ID 0 keys caller→callee
   * media and 1 callee→caller, so each direction has its own key and a
   * reflected packet never authenticates. */
  uint8_t cs_tx = (uint8_t)(role == PROSE_MEDIA_CALLER ? PROSE_CSID_PRIVATE_INITIATOR
                                                       : PROSE_CSID_PRIVATE_RESPONDER);
  uint8_t cs_rx = (uint8_t)(role == PROSE_MEDIA_CALLER ? PROSE_CSID_PRIVATE_RESPONDER
                                                       : PROSE_CSID_PRIVATE_INITIATOR);
  uint8_t master[MASTER_LEN];
  rc = prose_srtp_master(pck, PROSE_MEDIA_KEY_LEN, cs_tx, pck_id, rand, rand_len, master,
                         master + 16);
  if (!rc) rc = session_new(&p->tx, master, p->mki, sizeof p->mki, false, tx_ssrc);
  if (!rc)
    rc = prose_srtp_master(pck, PROSE_MEDIA_KEY_LEN, cs_rx, pck_id, rand, rand_len, master,
                           master + 16);
  if (!rc) rc = session_new(&p->rx, master, p->mki, sizeof p->mki, true, 0);
  prose_wipe(master, sizeof master);
  if (rc) {
    prose_media_private_free(p);
    return rc;
  }
  *out = p;
  return 0;
}

int prose_media_private_protect_rtp(prose_media_private *p, uint8_t *buf, size_t len, size_t cap,
                                    size_t *out_len) {
  int rc = tx_args(p, buf, len, cap, out_len);
  if (rc) return rc;
  uint16_t seq;
  uint64_t idx;
  if ((rc = tx_rtp_check(buf, len, p->tx_ssrc, &seq))) return rc;
  if ((rc = tx_next_index(&p->txi, seq, &idx))) return rc;
  /* Private profile: no ROC trailer, the receiver tracks it (DIGEST §5). */
  if ((rc = tx_rtp(p->tx, p->tx_ssrc, buf, len, idx, out_len))) return rc;
  p->txi.seen = true;
  p->txi.hi = idx;
  p->c.tx_rtp++;
  return 0;
}

int prose_media_private_protect_rtcp(prose_media_private *p, uint8_t *buf, size_t len, size_t cap,
                                     size_t *out_len) {
  int rc = tx_args(p, buf, len, cap, out_len);
  if (rc) return rc;
  if ((rc = tx_rtcp_check(buf, len, p->tx_ssrc))) return rc;
  if ((rc = tx_rtcp(p->tx, buf, len, out_len))) return rc;
  p->c.tx_rtcp++;
  return 0;
}

static int private_rx_rtp(prose_media_private *p, uint8_t *buf, size_t len, size_t *out_len) {
  size_t h;
  if (len > MAX_PACKET) return PROSE_EMEDIA_PKT;
  int rc = rtp_header(buf, len, PROSE_MEDIA_TAG_LEN + PROSE_MEDIA_PRIVATE_MKI_LEN, &h);
  if (rc) return rc;
  if (memcmp(buf + len - PROSE_MEDIA_PRIVATE_MKI_LEN, p->mki, PROSE_MEDIA_PRIVATE_MKI_LEN) != 0)
    return PROSE_EMEDIA_MKI;
  int n = (int)len;
  srtp_err_status_t st = srtp_unprotect_mki(p->rx, buf, &n, 1);
  if (st != srtp_err_status_ok) return map_rx_status(st);
  *out_len = (size_t)n;
  return 0;
}

int prose_media_private_unprotect_rtp(prose_media_private *p, uint8_t *buf, size_t len,
                                      size_t *out_len) {
  if (!p || !buf || !out_len || !aligned4(buf)) return PROSE_EINVAL;
  int rc = private_rx_rtp(p, buf, len, out_len);
  if (rc)
    count_drop(&p->c, rc);
  else
    p->c.rx_rtp++;
  return rc;
}

static int private_rx_rtcp(prose_media_private *p, uint8_t *buf, size_t len, size_t *out_len) {
  if (len > MAX_PACKET) return PROSE_EMEDIA_PKT;
  int rc = rtcp_header(
      buf, len, PROSE_MEDIA_TAG_LEN + PROSE_MEDIA_SRTCP_INDEX_LEN + PROSE_MEDIA_PRIVATE_MKI_LEN);
  if (rc) return rc;
  size_t end = len - PROSE_MEDIA_PRIVATE_MKI_LEN;
  if (memcmp(buf + end, p->mki, PROSE_MEDIA_PRIVATE_MKI_LEN) != 0) return PROSE_EMEDIA_MKI;
  if ((rc = srtcp_e_flag(buf, end))) return rc;
  int n = (int)len;
  srtp_err_status_t st = srtp_unprotect_rtcp_mki(p->rx, buf, &n, 1);
  if (st != srtp_err_status_ok) return map_rx_status(st);
  *out_len = (size_t)n;
  return 0;
}

int prose_media_private_unprotect_rtcp(prose_media_private *p, uint8_t *buf, size_t len,
                                       size_t *out_len) {
  if (!p || !buf || !out_len || !aligned4(buf)) return PROSE_EINVAL;
  int rc = private_rx_rtcp(p, buf, len, out_len);
  if (rc)
    count_drop(&p->c, rc);
  else
    p->c.rx_rtcp++;
  return rc;
}

void prose_media_private_counters(const prose_media_private *p, prose_media_counters *out) {
  if (!out) return;
  if (!p) {
    memset(out, 0, sizeof *out);
    return;
  }
  *out = p->c;
}
