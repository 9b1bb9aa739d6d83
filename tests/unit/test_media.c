/*
 * Tests of crypto/src/media.c: SRTP/SRTCP contexts keyed per 33.179.
 *
 * The reference side of these tests is an independent implementation with
 * plain OpenSSL calls (no libsrtp, no prose KDF code):
 *  - the MIKEY PRF for a 16-octet TGK (RFC 3830 §4.1.2, PRF-HMAC-SHA-256 of
 *    RFC 6043 §6.1; one 256-bit chunk, one output block);
 *  - the RFC 3711 §4.3.1 AES-CM session key derivation with kdr = 0 and the
 *    96-bit GCM master salt zero-extended to 112 bits;
 *  - AEAD_AES_128_GCM for SRTP and SRTCP with the IV and AAD of RFC 7714
 *    §8.1, §9.1 and §9.2.
 * Packets go both ways: made by prose, opened by the reference, and made by
 * the reference, opened by prose.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/media.h"
#include "prose/util.h"

/* ---------------------------------------------------------------------- */
/* Byte helpers and packet builders.                                       */

typedef struct pkt {
  _Alignas(8) uint8_t b[2048];
} pkt;

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
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RTP (RFC 3550 §5.1), PT 96, `payload` octets of a pattern; 12-octet header. */
static size_t mk_rtp(uint8_t *b, uint16_t seq, uint32_t ssrc, size_t payload, uint8_t fill) {
  b[0] = 0x80;
  b[1] = 96;
  put16(b + 2, seq);
  put32(b + 4, (uint32_t)seq * 160u);
  put32(b + 8, ssrc);
  for (size_t i = 0; i < payload; i++) b[12 + i] = (uint8_t)(fill + i);
  return 12 + payload;
}

/* The same with one CSRC and a one-word header extension: 24-octet header. */
static size_t mk_rtp_ext(uint8_t *b, uint16_t seq, uint32_t ssrc, size_t payload) {
  b[0] = 0x80 | 0x10 | 1;
  b[1] = 96 | 0x80; /* marker */
  put16(b + 2, seq);
  put32(b + 4, 0x01020304);
  put32(b + 8, ssrc);
  put32(b + 12, 0xC5C5C5C5);
  put16(b + 16, 0xBEDE);
  put16(b + 18, 1);
  put32(b + 20, 0x10AA0000);
  for (size_t i = 0; i < payload; i++) b[24 + i] = (uint8_t)(0x33 ^ i);
  return 24 + payload;
}

/* A floor control RTCP APP packet, name "MCPT" (TS 24.380 §8.1). */
static size_t mk_app(uint8_t *b, uint32_t ssrc, uint8_t subtype, size_t data_words) {
  size_t total = 12 + 4 * data_words;
  b[0] = (uint8_t)(0x80 | subtype);
  b[1] = 204;
  put16(b + 2, (uint16_t)(total / 4 - 1));
  put32(b + 4, ssrc);
  memcpy(b + 8, "MCPT", 4);
  for (size_t i = 0; i < 4 * data_words; i++) b[12 + i] = (uint8_t)(0xA0 + i);
  return total;
}

/* ---------------------------------------------------------------------- */
/* Independent reference (OpenSSL only).                                   */

/* MIKEY PRF for a 16-octet inkey and up to 32 output octets: one chunk
 * (n = 1), one block (m = 1): out = HMAC(s, A1 ‖ label), A1 = HMAC(s, label). */
static void ref_prf(const uint8_t tgk[16], uint32_t constant, uint8_t cs_id, uint32_t csb_id,
                    const uint8_t *rand, size_t rand_len, uint8_t *out, size_t out_len) {
  uint8_t label[9 + 255];
  put32(label, constant);
  label[4] = cs_id;
  put32(label + 5, csb_id);
  memcpy(label + 9, rand, rand_len);
  size_t ll = 9 + rand_len;
  uint8_t a1[32], msg[32 + sizeof label], o[32];
  unsigned int n = 0;
  cr_assert(HMAC(EVP_sha256(), tgk, 16, label, ll, a1, &n));
  memcpy(msg, a1, 32);
  memcpy(msg + 32, label, ll);
  cr_assert(HMAC(EVP_sha256(), tgk, 16, msg, 32 + ll, o, &n));
  memcpy(out, o, out_len);
}

typedef struct ref_master {
  uint8_t key[16], salt[12];
} ref_master;

static ref_master ref_master_of(const uint8_t tgk[16], uint8_t cs_id, uint32_t csb_id,
                                const uint8_t *rand, size_t rand_len) {
  ref_master m;
  ref_prf(tgk, 0x2AD01C64u, cs_id, csb_id, rand, rand_len, m.key, 16);
  ref_prf(tgk, 0x39A2C14Bu, cs_id, csb_id, rand, rand_len, m.salt, 12);
  return m;
}

/* RFC 3711 §4.3.1/§4.3.3: x = label ‖ r (r = 0) XOR salt (right-aligned in
 * 14 octets, the 12-octet GCM salt padded with 00 00); keystream of AES-CM
 * with IV = x · 2^16. */
static void ref_kdf(const ref_master *m, uint8_t label, uint8_t *out, size_t n) {
  uint8_t iv[16] = {0}, zero[32] = {0};
  memcpy(iv, m->salt, 12);
  iv[7] ^= label;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int l = 0;
  cr_assert(c && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, m->key, iv) == 1);
  cr_assert(EVP_EncryptUpdate(c, out, &l, zero, (int)n) == 1 && (size_t)l == n);
  EVP_CIPHER_CTX_free(c);
}

typedef struct ref_keys {
  uint8_t rtp_k[16], rtp_s[12], rtcp_k[16], rtcp_s[12];
} ref_keys;

static ref_keys ref_keys_of(const ref_master *m) {
  ref_keys k;
  ref_kdf(m, 0, k.rtp_k, 16);
  ref_kdf(m, 2, k.rtp_s, 12);
  ref_kdf(m, 3, k.rtcp_k, 16);
  ref_kdf(m, 5, k.rtcp_s, 12);
  return k;
}

/* AES-128-GCM, 12-octet IV, 16-octet tag. Returns false on a tag mismatch. */
static bool ref_gcm(bool enc, const uint8_t key[16], const uint8_t iv[12], const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16]) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int l = 0;
  bool ok;
  cr_assert(c);
  cr_assert(EVP_CipherInit_ex(c, EVP_aes_128_gcm(), NULL, key, iv, enc ? 1 : 0) == 1);
  cr_assert(EVP_CipherUpdate(c, NULL, &l, aad, (int)aad_len) == 1);
  if (len) cr_assert(EVP_CipherUpdate(c, out, &l, in, (int)len) == 1);
  if (enc) {
    cr_assert(EVP_CipherFinal_ex(c, out + len, &l) == 1);
    cr_assert(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
    ok = true;
  } else {
    cr_assert(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1);
    ok = EVP_CipherFinal_ex(c, out + len, &l) == 1;
  }
  EVP_CIPHER_CTX_free(c);
  return ok;
}

/* RFC 7714 §8.1: IV = (00 00 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt. */
static void ref_rtp_iv(const uint8_t salt[12], uint32_t ssrc, uint32_t roc, uint16_t seq,
                       uint8_t iv[12]) {
  uint8_t b[12] = {0};
  put32(b + 2, ssrc);
  put32(b + 6, roc);
  put16(b + 10, seq);
  for (int i = 0; i < 12; i++) iv[i] = b[i] ^ salt[i];
}

/* SRTP: hdr ‖ ct ‖ tag ‖ mki ‖ [ROC]. AAD = the whole RTP header. */
static size_t ref_srtp_protect(const ref_keys *k, const uint8_t *rtp, size_t len, size_t hdr,
                               uint32_t roc, const uint8_t *mki, size_t mki_len, bool rccm3,
                               uint8_t *out) {
  uint8_t iv[12];
  ref_rtp_iv(k->rtp_s, get32(rtp + 8), roc, (uint16_t)(rtp[2] << 8 | rtp[3]), iv);
  memcpy(out, rtp, hdr);
  ref_gcm(true, k->rtp_k, iv, rtp, hdr, rtp + hdr, len - hdr, out + hdr, out + len);
  memcpy(out + len + 16, mki, mki_len);
  size_t n = len + 16 + mki_len;
  if (rccm3) {
    put32(out + n, roc);
    n += 4;
  }
  return n;
}

/* Opens an SRTP packet; the ROC comes from the RCCm3 trailer or `roc`.
 * Returns the RTP length, 0 on failure. */
static size_t ref_srtp_unprotect(const ref_keys *k, const uint8_t *s, size_t len, size_t hdr,
                                 size_t mki_len, bool rccm3, uint32_t roc, uint8_t *out) {
  size_t end = len;
  if (rccm3) {
    roc = get32(s + len - 4);
    end -= 4;
  }
  end -= mki_len;
  size_t ct = end - 16 - hdr;
  uint8_t iv[12], tag[16];
  memcpy(tag, s + end - 16, 16);
  ref_rtp_iv(k->rtp_s, get32(s + 8), roc, (uint16_t)(s[2] << 8 | s[3]), iv);
  memcpy(out, s, hdr);
  if (!ref_gcm(false, k->rtp_k, iv, s, hdr, s + hdr, ct, out + hdr, tag)) return 0;
  return hdr + ct;
}

/* RFC 7714 §9.1: IV = (00 00 ‖ SSRC ‖ 00 00 ‖ 0 ‖ index31) XOR salt;
 * §9.2: AAD = header(8) ‖ E|index. */
static void ref_rtcp_iv(const uint8_t salt[12], uint32_t ssrc, uint32_t index, uint8_t iv[12]) {
  uint8_t b[12] = {0};
  put32(b + 2, ssrc);
  put32(b + 8, index & 0x7fffffffu);
  for (int i = 0; i < 12; i++) iv[i] = b[i] ^ salt[i];
}

static size_t ref_srtcp_protect(const ref_keys *k, const uint8_t *rtcp, size_t len, uint32_t index,
                                const uint8_t *mki, size_t mki_len, uint8_t *out) {
  uint8_t iv[12], aad[12];
  ref_rtcp_iv(k->rtcp_s, get32(rtcp + 4), index, iv);
  memcpy(aad, rtcp, 8);
  put32(aad + 8, 0x80000000u | index);
  memcpy(out, rtcp, 8);
  ref_gcm(true, k->rtcp_k, iv, aad, 12, rtcp + 8, len - 8, out + 8, out + len);
  memcpy(out + len + 16, aad + 8, 4);
  memcpy(out + len + 20, mki, mki_len);
  return len + 20 + mki_len;
}

static size_t ref_srtcp_unprotect(const ref_keys *k, const uint8_t *s, size_t len, size_t mki_len,
                                  uint32_t *index, uint8_t *out) {
  size_t end = len - mki_len;
  uint32_t ei = get32(s + end - 4);
  cr_assert(ei & 0x80000000u, "SRTCP E flag must be set");
  *index = ei & 0x7fffffffu;
  size_t ct = end - 4 - 16 - 8;
  uint8_t iv[12], aad[12], tag[16];
  memcpy(aad, s, 8);
  memcpy(aad + 8, s + end - 4, 4);
  memcpy(tag, s + end - 20, 16);
  ref_rtcp_iv(k->rtcp_s, get32(s + 4), *index, iv);
  memcpy(out, s, 8);
  if (!ref_gcm(false, k->rtcp_k, iv, aad, 12, s + 8, ct, out + 8, tag)) return 0;
  return 8 + ct;
}

/* ---------------------------------------------------------------------- */
/* A key store behind the lookup callbacks.                                */

static const uint8_t GMK1[16] = {0x4b, 0x1a, 0x09, 0x77, 0xe2, 0x3c, 0x51, 0x8d,
                                 0x60, 0xfa, 0x13, 0x2e, 0x95, 0xc4, 0x07, 0xbb};
static const uint8_t GMK2[16] = {0xd3, 0x02, 0x6e, 0x41, 0x9c, 0xa8, 0x35, 0xf0,
                                 0x1b, 0x77, 0xce, 0x64, 0x2a, 0x89, 0x50, 0x0d};
static const uint8_t RAND1[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t RAND2[20] = {0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78, 0x69,
                                  0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f, 0x11, 0x22, 0x33, 0x44};
#define GMK1_ID 0x0123ABCDu
#define GMK2_ID 0x0FEDC321u

static const char *const MEMBERS[] = {"sip:alice@example.org", "sip:bob@example.org",
                                      "sip:carol@example.org", "sip:dave@example.org"};

typedef struct store_key {
  uint32_t id;
  const uint8_t *gmk;
  const uint8_t *rand;
  size_t rand_len;
  int fail; /* returned instead of the key when non-zero */
} store_key;

typedef struct store {
  store_key k[4];
  size_t n;
  int gmk_calls, guk_calls;
} store;

static void store_add(store *s, uint32_t id, const uint8_t *gmk, const uint8_t *rand,
                      size_t rand_len, int fail) {
  store_key k = {id, gmk, rand, rand_len, fail};
  s->k[s->n++] = k;
}

static int fill_key(const store_key *k, prose_media_key *out) {
  if (k->fail) return k->fail;
  memcpy(out->tgk, k->gmk, 16);
  out->key_id = k->id;
  memcpy(out->rand, k->rand, k->rand_len);
  out->rand_len = k->rand_len;
  return 0;
}

static int lookup_gmk(void *user, uint32_t gmk_id, prose_media_key *out) {
  store *s = user;
  s->gmk_calls++;
  for (size_t i = 0; i < s->n; i++)
    if (s->k[i].id == gmk_id) return fill_key(&s->k[i], out);
  return PROSE_ENOKEY;
}

/* GUK-ID → GMK through the member list (33.179 F.1.3). */
static int lookup_guk(void *user, uint32_t guk_id, prose_media_key *out) {
  store *s = user;
  s->guk_calls++;
  for (size_t i = 0; i < s->n; i++) {
    for (size_t m = 0; m < PROSE_ARRAY_LEN(MEMBERS); m++) {
      uint32_t g = 0;
      cr_assert_eq(prose_guk_id(s->k[i].gmk, 16, s->k[i].id, MEMBERS[m], &g), 0);
      if (g == guk_id) return fill_key(&s->k[i], out);
    }
  }
  return PROSE_ENOKEY;
}

typedef struct member {
  const char *id;
  uint32_t guk, ssrc;
  uint16_t seq;
  store st;
  prose_media_group *g;
} member;

static uint32_t guk_of(const uint8_t *gmk, uint32_t gmk_id, const char *id) {
  uint32_t g = 0;
  cr_assert_eq(prose_guk_id(gmk, 16, gmk_id, id, &g), 0);
  return g;
}

/* A member with GMK1 in its store, sending with GMK1 and its own GUK-ID. */
static void member_init(member *m, size_t who, uint32_t ssrc, uint16_t seq0, bool legacy) {
  memset(m, 0, sizeof *m);
  m->id = MEMBERS[who];
  m->ssrc = ssrc;
  m->seq = seq0;
  store_add(&m->st, GMK1_ID, GMK1, RAND1, sizeof RAND1, 0);
  prose_media_group_config cfg = {lookup_gmk, legacy ? lookup_guk : NULL, &m->st, 0};
  cr_assert_eq(prose_media_group_new(&cfg, &m->g), 0);
  m->guk = guk_of(GMK1, GMK1_ID, m->id);
  cr_assert_eq(prose_media_group_set_tx_key(m->g, GMK1, GMK1_ID, m->guk, RAND1, sizeof RAND1, ssrc),
               0);
}

/* Protect the member's next RTP packet (payload 160) into p. */
static size_t member_send(member *m, pkt *p, uint8_t fill) {
  size_t len = mk_rtp(p->b, m->seq++, m->ssrc, 160, fill), out = 0;
  cr_assert_eq(prose_media_group_protect_rtp(m->g, p->b, len, sizeof p->b, &out), 0,
               "protect seq %u", (unsigned)(uint16_t)(m->seq - 1));
  cr_assert_eq(out, len + PROSE_MEDIA_GROUP_RTP_OVERHEAD);
  return out;
}

static prose_media_counters counters(const prose_media_group *g) {
  prose_media_counters c;
  prose_media_group_counters(g, &c);
  return c;
}

static uint64_t drops(const prose_media_counters *c) {
  return c->drop_malformed + c->drop_unknown_mki + c->drop_no_key + c->drop_auth + c->drop_replay;
}

/* Unprotect a copy of s (so s stays usable) and return the code. */
static int group_rx(member *m, const pkt *s, size_t len, pkt *out, size_t *out_len,
                    prose_media_rx_info *info) {
  *out = *s;
  return prose_media_group_unprotect_rtp(m->g, out->b, len, out_len, info);
}

/* ---------------------------------------------------------------------- */

Test(media, group_matches_independent_reference) {
  member a;
  member_init(&a, 0, 0x1234ABCDu, 1000, false);
  ref_master ma = ref_master_of(GMK1, 4, a.guk, RAND1, sizeof RAND1);
  ref_keys ka = ref_keys_of(&ma);
  uint8_t mki[8];
  put32(mki, GMK1_ID);
  put32(mki + 4, a.guk);

  /* prose → reference, plain header and CSRC + extension header. */
  for (int variant = 0; variant < 2; variant++) {
    pkt p, plain, out;
    size_t hdr = variant ? 24 : 12;
    size_t len = variant ? mk_rtp_ext(p.b, a.seq, a.ssrc, 160) : mk_rtp(p.b, a.seq, a.ssrc, 160, 7);
    a.seq++;
    plain = p;
    size_t n = 0;
    cr_assert_eq(prose_media_group_protect_rtp(a.g, p.b, len, sizeof p.b, &n), 0);
    /* hdr ‖ ct ‖ tag16 ‖ MKI(8) ‖ ROC(4) */
    cr_assert_eq(n, len + 16 + 8 + 4, "variant %d", variant);
    cr_assert(memcmp(p.b, plain.b, hdr) == 0, "header stays in the clear");
    cr_assert(memcmp(p.b + hdr, plain.b + hdr, 16) != 0, "payload is encrypted");
    cr_assert(memcmp(p.b + n - 12, mki, 8) == 0, "MKI = GMK-ID || GUK-ID");
    cr_assert_eq(get32(p.b + n - 4), 0u, "ROC");
    size_t m = ref_srtp_unprotect(&ka, p.b, n, hdr, 8, true, 0, out.b);
    cr_assert_eq(m, len, "variant %d: reference decrypts", variant);
    cr_assert(memcmp(out.b, plain.b, len) == 0);
  }

  /* Across the sequence wrap the trailer carries ROC 1 and the IV uses it. */
  a.seq = 65535;
  for (int i = 0; i < 3; i++) {
    pkt p, plain, out;
    size_t len = mk_rtp(p.b, a.seq++, a.ssrc, 160, (uint8_t)i);
    plain = p;
    size_t n = 0;
    cr_assert_eq(prose_media_group_protect_rtp(a.g, p.b, len, sizeof p.b, &n), 0);
    uint32_t roc = i == 0 ? 0 : 1;
    cr_assert_eq(get32(p.b + n - 4), roc, "packet %d ROC", i);
    cr_assert_eq(ref_srtp_unprotect(&ka, p.b, n, 12, 8, true, 0, out.b), len);
    cr_assert(memcmp(out.b, plain.b, len) == 0);
  }

  /* SRTCP: hdr8 ‖ ct ‖ tag16 ‖ E|index ‖ MKI, the same master key and MKI
   * (33.179 7.6); the index counts up. */
  uint32_t last_index = 0;
  for (int i = 0; i < 3; i++) {
    pkt p, plain, out;
    size_t len = mk_app(p.b, a.ssrc, (uint8_t)i, 3), n = 0;
    plain = p;
    cr_assert_eq(prose_media_group_protect_rtcp(a.g, p.b, len, sizeof p.b, &n), 0);
    cr_assert_eq(n, len + PROSE_MEDIA_GROUP_RTCP_OVERHEAD);
    cr_assert(memcmp(p.b, plain.b, 8) == 0);
    cr_assert(memcmp(p.b + n - 8, mki, 8) == 0);
    uint32_t index = 0;
    cr_assert_eq(ref_srtcp_unprotect(&ka, p.b, n, 8, &index, out.b), len);
    cr_assert(memcmp(out.b, plain.b, len) == 0);
    if (i) cr_assert_eq(index, last_index + 1);
    last_index = index;
  }

  /* reference → prose: member B's key (B's GUK-ID as CSB-ID), ROC 3, and an
   * SRTCP packet; A's receiver opens both. */
  uint32_t guk_b = guk_of(GMK1, GMK1_ID, MEMBERS[1]);
  ref_master mb = ref_master_of(GMK1, 4, guk_b, RAND1, sizeof RAND1);
  ref_keys kb = ref_keys_of(&mb);
  uint8_t mki_b[8];
  put32(mki_b, GMK1_ID);
  put32(mki_b + 4, guk_b);
  pkt plain, s, out;
  size_t len = mk_rtp_ext(plain.b, 4242, 0xB0B0B0B0u, 160);
  size_t n = ref_srtp_protect(&kb, plain.b, len, 24, 3, mki_b, 8, true, s.b), m = 0;
  prose_media_rx_info info;
  cr_assert_eq(group_rx(&a, &s, n, &out, &m, &info), 0);
  cr_assert_eq(m, len);
  cr_assert(memcmp(out.b, plain.b, len) == 0);
  cr_assert_eq(info.ssrc, 0xB0B0B0B0u);
  cr_assert_eq(info.gmk_id, GMK1_ID);
  cr_assert_eq(info.guk_id, guk_b);
  cr_assert_eq(info.roc, 3u);
  cr_assert_eq(info.mki_len, 8u);

  len = mk_app(plain.b, 0xB0B0B0B0u, 1, 4);
  n = ref_srtcp_protect(&kb, plain.b, len, 77, mki_b, 8, s.b);
  out = s;
  cr_assert_eq(prose_media_group_unprotect_rtcp(a.g, out.b, n, &m, &info), 0);
  cr_assert_eq(m, len);
  cr_assert(memcmp(out.b, plain.b, len) == 0);
  cr_assert_eq(info.guk_id, guk_b);
  cr_assert_eq(prose_media_group_sessions(a.g), 1u, "RTP and RTCP of one sender share a session");

  prose_media_counters c = counters(a.g);
  cr_assert_eq(c.tx_rtp, 5u);
  cr_assert_eq(c.tx_rtcp, 3u);
  cr_assert_eq(c.rx_rtp, 1u);
  cr_assert_eq(c.rx_rtcp, 1u);
  cr_assert_eq(drops(&c), 0u);
  cr_assert_eq(a.st.gmk_calls, 1, "the second packet of a sender hits the cache");
  prose_media_group_free(a.g);
}

Test(media, private_matches_independent_reference) {
  const uint8_t pck[16] = {0x9f, 0x8e, 0x7d, 0x6c, 0x5b, 0x4a, 0x39, 0x28,
                           0x17, 0x06, 0xf5, 0xe4, 0xd3, 0xc2, 0xb1, 0xa0};
  const uint32_t pck_id = 0x1A2B3C4Du; /* purpose tag 1 */
  prose_media_private *caller = NULL, *callee = NULL;
  cr_assert_eq(prose_media_private_new(pck, pck_id, RAND2, sizeof RAND2, PROSE_MEDIA_CALLER,
                                       0xCA11E500u, &caller),
               0);
  cr_assert_eq(prose_media_private_new(pck, pck_id, RAND2, sizeof RAND2, PROSE_MEDIA_CALLEE,
                                       0x0CA11EE0u, &callee),
               0);
  ref_master m0 = ref_master_of(pck, 0, pck_id, RAND2, sizeof RAND2);
  ref_master m1 = ref_master_of(pck, 1, pck_id, RAND2, sizeof RAND2);
  cr_assert(memcmp(&m0, &m1, sizeof m0) != 0, "each direction has its own key");
  ref_keys k0 = ref_keys_of(&m0), k1 = ref_keys_of(&m1);
  uint8_t mki[4];
  put32(mki, pck_id);

  /* caller → reference with CS-ID 0: hdr ‖ ct ‖ tag16 ‖ PCK-ID, no ROC. */
  pkt p, plain, out;
  size_t len = mk_rtp(p.b, 65535, 0xCA11E500u, 160, 9), n = 0;
  plain = p;
  cr_assert_eq(prose_media_private_protect_rtp(caller, p.b, len, sizeof p.b, &n), 0);
  cr_assert_eq(n, len + 16 + 4);
  cr_assert(memcmp(p.b + n - 4, mki, 4) == 0);
  cr_assert_eq(ref_srtp_unprotect(&k0, p.b, n, 12, 4, false, 0, out.b), len);
  cr_assert(memcmp(out.b, plain.b, len) == 0);
  /* The next one wraps: the private profile keeps the ROC implicit (1). */
  len = mk_rtp(p.b, 0, 0xCA11E500u, 160, 10);
  plain = p;
  cr_assert_eq(prose_media_private_protect_rtp(caller, p.b, len, sizeof p.b, &n), 0);
  cr_assert_eq(ref_srtp_unprotect(&k0, p.b, n, 12, 4, false, 1, out.b), len);
  cr_assert(memcmp(out.b, plain.b, len) == 0);

  /* caller SRTCP → reference. */
  len = mk_app(p.b, 0xCA11E500u, 0, 2);
  plain = p;
  cr_assert_eq(prose_media_private_protect_rtcp(caller, p.b, len, sizeof p.b, &n), 0);
  cr_assert_eq(n, len + 16 + 4 + 4);
  cr_assert(memcmp(p.b + n - 4, mki, 4) == 0);
  uint32_t index = 0;
  cr_assert_eq(ref_srtcp_unprotect(&k0, p.b, n, 4, &index, out.b), len);
  cr_assert(memcmp(out.b, plain.b, len) == 0);

  /* reference with CS-ID 1 → caller (callee → caller direction), and with
   * CS-ID 0 → callee. */
  pkt s;
  len = mk_rtp_ext(plain.b, 17, 0x0CA11EE0u, 160);
  n = ref_srtp_protect(&k1, plain.b, len, 24, 0, mki, 4, false, s.b);
  size_t m = 0;
  out = s;
  cr_assert_eq(prose_media_private_unprotect_rtp(caller, out.b, n, &m), 0);
  cr_assert_eq(m, len);
  cr_assert(memcmp(out.b, plain.b, len) == 0);
  len = mk_app(plain.b, 0x0CA11EE0u, 3, 5);
  n = ref_srtcp_protect(&k1, plain.b, len, 9, mki, 4, s.b);
  out = s;
  cr_assert_eq(prose_media_private_unprotect_rtcp(caller, out.b, n, &m), 0);
  cr_assert_eq(m, len);
  cr_assert(memcmp(out.b, plain.b, len) == 0);
  len = mk_rtp(plain.b, 500, 0xCA11E500u, 160, 1);
  n = ref_srtp_protect(&k0, plain.b, len, 12, 0, mki, 4, false, s.b);
  out = s;
  cr_assert_eq(prose_media_private_unprotect_rtp(callee, out.b, n, &m), 0);
  cr_assert(memcmp(out.b, plain.b, len) == 0);
  prose_media_private_free(caller);
  prose_media_private_free(callee);
}

Test(media, group_three_members) {
  member mem[3];
  for (size_t i = 0; i < 3; i++)
    member_init(&mem[i], i, 0x10000000u * (uint32_t)(i + 1) + 7, (uint16_t)(100 * i), false);

  /* Per-sender keys: the same GMK and RAND, different GUK-IDs as CSB-ID. */
  ref_master km[3];
  for (size_t i = 0; i < 3; i++) km[i] = ref_master_of(GMK1, 4, mem[i].guk, RAND1, sizeof RAND1);
  for (size_t i = 0; i < 3; i++) {
    cr_assert_neq(mem[i].guk, mem[(i + 1) % 3].guk);
    cr_assert(memcmp(km[i].key, km[(i + 1) % 3].key, 16) != 0, "keys of %zu and %zu", i,
              (i + 1) % 3);
    cr_assert(memcmp(km[i].salt, km[(i + 1) % 3].salt, 12) != 0);
  }

  /* Every member talks in turn (5 RTP packets and a floor packet); the two
   * others decrypt every packet byte for byte. */
  for (size_t round = 0; round < 2; round++) {
    for (size_t tx = 0; tx < 3; tx++) {
      /* The floor request comes first (TS 24.380 §7): in round 0 it is the
       * packet that creates the sender's session at the receivers. */
      pkt f, fplain;
      size_t flen = mk_app(f.b, mem[tx].ssrc, 0, 2), fn = 0;
      fplain = f;
      cr_assert_eq(prose_media_group_protect_rtcp(mem[tx].g, f.b, flen, sizeof f.b, &fn), 0);
      for (size_t rx = 0; rx < 3; rx++) {
        if (rx == tx) continue;
        pkt out = f;
        size_t m = 0;
        prose_media_rx_info info;
        cr_assert_eq(prose_media_group_unprotect_rtcp(mem[rx].g, out.b, fn, &m, &info), 0);
        cr_assert_eq(m, flen);
        cr_assert(memcmp(out.b, fplain.b, flen) == 0);
        cr_assert_eq(info.guk_id, mem[tx].guk);
        cr_assert_eq(prose_media_group_sessions(mem[rx].g), round ? 2u : (tx < rx ? tx + 1 : tx));
      }
      for (int k = 0; k < 5; k++) {
        pkt s, plain, out;
        size_t plen =
            mk_rtp(plain.b, mem[tx].seq, mem[tx].ssrc, 160, (uint8_t)(tx * 16 + (size_t)k));
        size_t n = member_send(&mem[tx], &s, (uint8_t)(tx * 16 + (size_t)k));
        for (size_t rx = 0; rx < 3; rx++) {
          if (rx == tx) continue;
          size_t m = 0;
          prose_media_rx_info info;
          cr_assert_eq(group_rx(&mem[rx], &s, n, &out, &m, &info), 0, "tx %zu rx %zu k %d", tx, rx,
                       k);
          cr_assert_eq(m, plen);
          cr_assert(memcmp(out.b, plain.b, plen) == 0);
          cr_assert_eq(info.guk_id, mem[tx].guk);
          cr_assert_eq(info.ssrc, mem[tx].ssrc);
        }
      }
    }
  }
  for (size_t i = 0; i < 3; i++) {
    prose_media_counters c = counters(mem[i].g);
    cr_assert_eq(c.rx_rtp, 20u);
    cr_assert_eq(c.rx_rtcp, 4u);
    cr_assert_eq(c.tx_rtp, 10u);
    cr_assert_eq(c.tx_rtcp, 2u);
    cr_assert_eq(c.streams_created, 2u);
    cr_assert_eq(drops(&c), 0u);
    cr_assert_eq(prose_media_group_sessions(mem[i].g), 2u);
    cr_assert_eq(mem[i].st.gmk_calls, 2, "one lookup per sender");
  }

  /* A packet of a member looped back to itself is refused as a replay. */
  pkt s, out;
  size_t n = member_send(&mem[0], &s, 0), m = 0;
  cr_assert_eq(group_rx(&mem[0], &s, n, &out, &m, NULL), PROSE_EREPLAY);
  cr_assert_eq(counters(mem[0].g).drop_replay, 1u);
  cr_assert_eq(mem[0].st.gmk_calls, 2, "no lookup for own packets");
  for (size_t i = 0; i < 3; i++) prose_media_group_free(mem[i].g);
}

Test(media, group_late_joiner_roc_and_replay) {
  member a, b, c;
  member_init(&a, 0, 0xAAAA0001u, 65530, false);
  member_init(&b, 1, 0xBBBB0002u, 0, false);
  member_init(&c, 2, 0xCCCC0003u, 0, false);
  /* A talks across the wrap; B hears everything, C joins after the wrap. */
  pkt sent[12];
  size_t lens[12];
  for (int i = 0; i < 12; i++) {
    lens[i] = member_send(&a, &sent[i], (uint8_t)i);
    pkt out;
    size_t m = 0;
    cr_assert_eq(group_rx(&b, &sent[i], lens[i], &out, &m, NULL), 0, "B packet %d", i);
  }
  pkt out;
  size_t m = 0;
  prose_media_rx_info info;
  cr_assert_eq(get32(sent[8].b + lens[8] - 4), 1u);
  cr_assert_eq(group_rx(&c, &sent[8], lens[8], &out, &m, &info), 0, "late joiner, ROC 1");
  cr_assert_eq(info.roc, 1u);
  cr_assert_eq(group_rx(&c, &sent[9], lens[9], &out, &m, NULL), 0);
  /* Reordered within the window, including one from before the wrap. */
  cr_assert_eq(group_rx(&c, &sent[5], lens[5], &out, &m, NULL), 0, "ROC 0 after ROC 1");
  cr_assert_eq(group_rx(&c, &sent[11], lens[11], &out, &m, NULL), 0);
  cr_assert_eq(group_rx(&c, &sent[10], lens[10], &out, &m, NULL), 0);
  /* Replays: each one again. */
  for (int i = 5; i < 12; i++) {
    if (i == 6 || i == 7) continue;
    cr_assert_eq(group_rx(&c, &sent[i], lens[i], &out, &m, NULL), PROSE_EREPLAY, "replay %d", i);
  }
  cr_assert_eq(group_rx(&b, &sent[0], lens[0], &out, &m, NULL), PROSE_EREPLAY);
  cr_assert_eq(counters(c.g).drop_replay, 5u);
  cr_assert_eq(counters(b.g).drop_replay, 1u);

  /* A member D (keys from the reference only) with a large ROC: the first
   * packet C ever sees from it has ROC 70000 and sequence 65000, then the
   * sequence wraps into ROC 70001. Also a sender whose first packet has
   * ROC 0 and a sequence number above 2^15. */
  uint32_t guk_d = guk_of(GMK1, GMK1_ID, MEMBERS[3]);
  ref_master md = ref_master_of(GMK1, 4, guk_d, RAND1, sizeof RAND1);
  ref_keys kd = ref_keys_of(&md);
  uint8_t mki_d[8];
  put32(mki_d, GMK1_ID);
  put32(mki_d + 4, guk_d);
  struct {
    uint32_t ssrc, roc;
    uint16_t seq;
    bool first; /* the first packet of its SSRC */
  } steps[] = {{0xD0D0D0D0u, 70000, 65000, true}, {0xD0D0D0D0u, 70000, 65535, false},
               {0xD0D0D0D0u, 70001, 3, false},    {0xD0D0D0D0u, 70000, 65534, false},
               {0xD0D0D0D0u, 70001, 103, false}, /* window shift of 100 */
               {0xD0D0D0D0u, 70001, 13, false},  /* 90 behind: still in the window */
               {0xD1D1D1D1u, 0, 40000, true},     {0xD1D1D1D1u, 0, 40001, false},
               {0xD1D1D1D1u, 1, 2, false}};
  pkt ds[PROSE_ARRAY_LEN(steps)];
  size_t dl[PROSE_ARRAY_LEN(steps)];
  for (size_t i = 0; i < PROSE_ARRAY_LEN(steps); i++) {
    pkt plain;
    size_t len = mk_rtp(plain.b, steps[i].seq, steps[i].ssrc, 160, (uint8_t)i);
    dl[i] = ref_srtp_protect(&kd, plain.b, len, 12, steps[i].roc, mki_d, 8, true, ds[i].b);
    /* A forged ROC first: one ahead fails the tag check, one far behind an
     * established stream is too old; neither commits anything. */
    pkt forged = ds[i];
    put32(forged.b + dl[i] - 4, steps[i].roc + 16);
    cr_assert_eq(group_rx(&c, &forged, dl[i], &out, &m, NULL), PROSE_EMEDIA_AUTH, "step %zu", i);
    if (steps[i].roc >= 16 && !steps[i].first) {
      put32(forged.b + dl[i] - 4, steps[i].roc - 16);
      cr_assert_eq(group_rx(&c, &forged, dl[i], &out, &m, NULL), PROSE_EREPLAY, "step %zu", i);
    }
    cr_assert_eq(group_rx(&c, &ds[i], dl[i], &out, &m, &info), 0, "step %zu", i);
    cr_assert_eq(m, len);
    cr_assert(memcmp(out.b, plain.b, len) == 0, "step %zu", i);
    cr_assert_eq(info.roc, steps[i].roc);
  }
  for (size_t i = 0; i < PROSE_ARRAY_LEN(steps); i++)
    cr_assert_eq(group_rx(&c, &ds[i], dl[i], &out, &m, NULL), PROSE_EREPLAY, "replay step %zu", i);
  cr_assert_eq(counters(c.g).drop_replay, 5u + 5u + PROSE_ARRAY_LEN(steps));
  /* Far behind the window: old, refused as a replay. */
  pkt plain, old;
  size_t len = mk_rtp(plain.b, 65000 - 200, 0xD0D0D0D0u, 160, 0);
  size_t n = ref_srtp_protect(&kd, plain.b, len, 12, 70000, mki_d, 8, true, old.b);
  cr_assert_eq(group_rx(&c, &old, n, &out, &m, NULL), PROSE_EREPLAY);
  prose_media_counters cc = counters(c.g);
  cr_assert_eq(cc.drop_auth, PROSE_ARRAY_LEN(steps));
  cr_assert_eq(cc.streams_created, 3u);
  prose_media_group_free(a.g);
  prose_media_group_free(b.g);
  prose_media_group_free(c.g);
}

Test(media, group_rekey_overlap) {
  member a, b;
  member_init(&a, 0, 0xA1A1A1A1u, 65533, false);
  member_init(&b, 1, 0xB2B2B2B2u, 0, false);
  store_add(&b.st, GMK2_ID, GMK2, RAND2, sizeof RAND2, 0);
  uint32_t guk2 = guk_of(GMK2, GMK2_ID, a.id);
  ref_keys k2;
  {
    ref_master m1 = ref_master_of(GMK1, 4, a.guk, RAND1, sizeof RAND1);
    ref_master m2 = ref_master_of(GMK2, 4, guk2, RAND2, sizeof RAND2);
    cr_assert(memcmp(&m1, &m2, sizeof m1) != 0);
    k2 = ref_keys_of(&m2);
  }
  pkt s[6];
  size_t l[6];
  for (int i = 0; i < 3; i++) l[i] = member_send(&a, &s[i], (uint8_t)i);
  /* Switch keys at the wrap: the new session must carry on with ROC 1. */
  cr_assert_eq(prose_media_group_set_tx_key(a.g, GMK2, GMK2_ID, guk2, RAND2, sizeof RAND2, a.ssrc),
               0);
  for (int i = 3; i < 6; i++) l[i] = member_send(&a, &s[i], (uint8_t)i);
  uint8_t mki2[8];
  put32(mki2, GMK2_ID);
  put32(mki2 + 4, guk2);
  cr_assert(memcmp(s[3].b + l[3] - 12, mki2, 8) == 0, "new MKI");
  cr_assert_eq(get32(s[3].b + l[3] - 4), 1u, "ROC carried on across the key switch");
  pkt out;
  cr_assert_eq(ref_srtp_unprotect(&k2, s[3].b, l[3], 12, 8, true, 0, out.b), 12u + 160u);

  /* Old and new keys overlap at the receiver: delayed old packets still open. */
  const int order[] = {0, 3, 1, 4, 2, 5};
  size_t m = 0;
  for (int i = 0; i < 6; i++)
    cr_assert_eq(group_rx(&b, &s[order[i]], l[order[i]], &out, &m, NULL), 0, "packet %d", order[i]);
  cr_assert_eq(prose_media_group_sessions(b.g), 2u, "one session per MKI");

  /* SRTCP with the new key; installing the same key again is a no-op, so the
   * SRTCP index continues instead of restarting. */
  pkt f;
  size_t n = 0, fl = mk_app(f.b, a.ssrc, 0, 1);
  cr_assert_eq(prose_media_group_protect_rtcp(a.g, f.b, fl, sizeof f.b, &n), 0);
  uint32_t i1 = get32(f.b + n - 12) & 0x7fffffffu;
  cr_assert_eq(prose_media_group_set_tx_key(a.g, GMK2, GMK2_ID, guk2, RAND2, sizeof RAND2, a.ssrc),
               0);
  fl = mk_app(f.b, a.ssrc, 0, 1);
  cr_assert_eq(prose_media_group_protect_rtcp(a.g, f.b, fl, sizeof f.b, &n), 0);
  cr_assert_eq(get32(f.b + n - 12) & 0x7fffffffu, i1 + 1);
  cr_assert_eq(prose_media_group_unprotect_rtcp(b.g, f.b, n, &m, NULL), 0);
  /* Going back to the previous key with the same SSRC would restart its
   * SRTCP index: refused; with a new SSRC it is fine. */
  cr_assert_eq(prose_media_group_set_tx_key(a.g, GMK1, GMK1_ID, a.guk, RAND1, sizeof RAND1, a.ssrc),
               PROSE_EINVAL);
  cr_assert_eq(
      prose_media_group_set_tx_key(a.g, GMK1, GMK1_ID, a.guk, RAND1, sizeof RAND1, a.ssrc + 1), 0);
  pkt p;
  size_t pl = mk_rtp(p.b, 7, a.ssrc, 10, 0);
  cr_assert_eq(prose_media_group_protect_rtp(a.g, p.b, pl, sizeof p.b, &n), PROSE_EINVAL,
               "old SSRC");
  pl = mk_rtp(p.b, 7, a.ssrc + 1, 10, 0);
  cr_assert_eq(prose_media_group_protect_rtp(a.g, p.b, pl, sizeof p.b, &n), 0);
  cr_assert_eq(get32(p.b + n - 4), 0u, "a new SSRC starts a new index");
  cr_assert_eq(prose_media_group_unprotect_rtp(b.g, p.b, n, &m, NULL), 0);

  /* Bad installations leave the current key in force. */
  cr_assert_eq(prose_media_group_set_tx_key(a.g, GMK2, 0x1FEDC321u, guk2, RAND2, sizeof RAND2, 9),
               PROSE_EMIKEY_KEYTYPE);
  cr_assert_eq(
      prose_media_group_set_tx_key(a.g, GMK2, GMK2_ID, guk2 | 0x20000000u, RAND2, sizeof RAND2, 9),
      PROSE_EMIKEY_KEYTYPE);
  cr_assert_eq(prose_media_group_set_tx_key(a.g, GMK2, GMK2_ID, guk2, RAND2, 15, 9), PROSE_ELEN);
  cr_assert_eq(prose_media_group_set_tx_key(a.g, NULL, GMK2_ID, guk2, RAND2, 16, 9), PROSE_EINVAL);
  pl = mk_rtp(p.b, 8, a.ssrc + 1, 10, 0);
  cr_assert_eq(prose_media_group_protect_rtp(a.g, p.b, pl, sizeof p.b, &n), 0);

  /* The old GMK expires: forget it; its packets are now unknown. */
  b.st.k[0].id = 0x0EEEEEEEu;
  cr_assert_eq(prose_media_group_forget_gmk(b.g, GMK1_ID), 2u);
  cr_assert_eq(prose_media_group_sessions(b.g), 1u);
  cr_assert_eq(group_rx(&b, &s[0], l[0], &out, &m, NULL), PROSE_EMEDIA_MKI);
  cr_assert_eq(counters(b.g).drop_unknown_mki, 1u);
  prose_media_group_free(a.g);
  prose_media_group_free(b.g);
}

Test(media, group_drops_and_robustness) {
  member a, b;
  member_init(&a, 0, 0x0A0A0A0Au, 50000, false);
  member_init(&b, 1, 0x0B0B0B0Bu, 0, false);
  pkt s0, out;
  size_t l0 = member_send(&a, &s0, 1), m = 0;
  cr_assert_eq(group_rx(&b, &s0, l0, &out, &m, NULL), 0);
  int calls = b.st.gmk_calls;

  /* Each failure has its code and its counter; none changes state. */
  pkt s1;
  size_t l1 = member_send(&a, &s1, 2);
  struct {
    const char *what;
    size_t off_from_end; /* octet to change, counted from the end */
    uint8_t xor_mask;
    int want;
  } cases[] = {
      {"ciphertext", l1 - 40, 0x01, PROSE_EMEDIA_AUTH},
      {"tag", 20, 0x80, PROSE_EMEDIA_AUTH},
      {"GUK-ID low bits (another sender's key)", 5, 0x01, PROSE_EMEDIA_AUTH},
      {"GUK-ID purpose tag", 8, 0x10, PROSE_EMEDIA_MKI},
      {"GMK-ID (unknown)", 9, 0x01, PROSE_EMEDIA_MKI},
      {"GMK-ID purpose tag", 12, 0x20, PROSE_EMEDIA_MKI},
      {"ROC", 1, 0x01, PROSE_EMEDIA_AUTH},
      {"RTP header (AAD)", l1 - 1, 0x01, PROSE_EMEDIA_AUTH},
      {"RTP version", l1, 0x40, PROSE_EMEDIA_PKT},
  };
  for (size_t i = 0; i < PROSE_ARRAY_LEN(cases); i++) {
    pkt t = s1;
    t.b[l1 - cases[i].off_from_end] ^= cases[i].xor_mask;
    prose_media_counters before = counters(b.g);
    cr_assert_eq(group_rx(&b, &t, l1, &out, &m, NULL), cases[i].want, "%s", cases[i].what);
    prose_media_counters after = counters(b.g);
    cr_assert_eq(drops(&after), drops(&before) + 1, "%s counted once", cases[i].what);
  }
  prose_media_counters c = counters(b.g);
  cr_assert_eq(c.drop_auth, 5u);
  cr_assert_eq(c.drop_unknown_mki, 3u);
  cr_assert_eq(c.drop_malformed, 1u);
  cr_assert_eq(prose_media_group_sessions(b.g), 1u, "forged packets create no session");

  /* Truncated at every length (exact-size heap copies, so ASan sees any
   * over-read): always an error, never a crash, never a state change. */
  for (size_t len = 0; len < l1; len++) {
    uint8_t *t = malloc(len ? len : 1);
    cr_assert(t);
    memcpy(t, s1.b, len);
    cr_assert_lt(prose_media_group_unprotect_rtp(b.g, t, len, &m, NULL), 0, "length %zu", len);
    free(t);
  }
  c = counters(b.g);
  cr_assert_eq(drops(&c), 9u + l1);
  cr_assert_geq(c.drop_malformed, 12u + 28u, "every length below header + trailer is malformed");

  /* Random corruption of 1-3 octets and random truncation (fixed seed). */
  uint32_t x = 0x9E3779B9u;
  for (int it = 0; it < 3000; it++) {
    pkt t = s1;
    size_t len = l1;
    int flips = 1 + it % 3;
    for (int f = 0; f < flips; f++) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      t.b[x % l1] ^= (uint8_t)(1u + (x >> 8) % 255u);
    }
    if (it % 7 == 0) len = x % l1;
    cr_assert_lt(prose_media_group_unprotect_rtp(b.g, t.b, len, &m, NULL), 0, "iteration %d", it);
  }

  /* The valid packet still opens, once. */
  cr_assert_eq(group_rx(&b, &s1, l1, &out, &m, NULL), 0);
  cr_assert_eq(group_rx(&b, &s1, l1, &out, &m, NULL), PROSE_EREPLAY);
  cr_assert_eq(prose_media_group_sessions(b.g), 1u);

  /* A key the store knows but refuses (expired): "no key" with its code. */
  store_add(&b.st, 0x0777777Fu, GMK2, RAND2, sizeof RAND2, PROSE_EEXPIRED);
  pkt t = s1;
  put32(t.b + l1 - 12, 0x0777777Fu);
  calls = b.st.gmk_calls;
  cr_assert_eq(group_rx(&b, &t, l1, &out, &m, NULL), PROSE_EEXPIRED);
  cr_assert_eq(b.st.gmk_calls, calls + 1);
  cr_assert_eq(counters(b.g).drop_no_key, 1u);
  /* A store answer that is unusable (RAND too short) or a code that means
   * something else for media is folded into "no key". */
  store_add(&b.st, 0x0666666Fu, GMK2, RAND2, 8, 0);
  store_add(&b.st, 0x0555555Fu, GMK2, RAND2, sizeof RAND2, PROSE_EMEDIA_AUTH);
  put32(t.b + l1 - 12, 0x0666666Fu);
  cr_assert_eq(group_rx(&b, &t, l1, &out, &m, NULL), PROSE_ENOKEY);
  put32(t.b + l1 - 12, 0x0555555Fu);
  cr_assert_eq(group_rx(&b, &t, l1, &out, &m, NULL), PROSE_ENOKEY);
  cr_assert_eq(counters(b.g).drop_no_key, 3u);

  /* SRTCP: E flag clear, tampering, truncation, replay. */
  pkt f;
  size_t fl = mk_app(f.b, a.ssrc, 2, 3), n = 0;
  cr_assert_eq(prose_media_group_protect_rtcp(a.g, f.b, fl, sizeof f.b, &n), 0);
  t = f;
  t.b[n - 12] &= 0x7f;
  cr_assert_eq(prose_media_group_unprotect_rtcp(b.g, t.b, n, &m, NULL), PROSE_EMEDIA_PKT);
  t = f;
  t.b[10] ^= 4;
  cr_assert_eq(prose_media_group_unprotect_rtcp(b.g, t.b, n, &m, NULL), PROSE_EMEDIA_AUTH);
  t = f;
  t.b[n - 9] ^= 1; /* SRTCP index is authenticated */
  cr_assert_eq(prose_media_group_unprotect_rtcp(b.g, t.b, n, &m, NULL), PROSE_EMEDIA_AUTH);
  for (size_t len = 0; len < n; len++) {
    uint8_t *tt = malloc(len ? len : 1);
    cr_assert(tt);
    memcpy(tt, f.b, len);
    cr_assert_lt(prose_media_group_unprotect_rtcp(b.g, tt, len, &m, NULL), 0, "RTCP length %zu",
                 len);
    free(tt);
  }
  t = f;
  cr_assert_eq(prose_media_group_unprotect_rtcp(b.g, t.b, n, &m, NULL), 0);
  t = f;
  cr_assert_eq(prose_media_group_unprotect_rtcp(b.g, t.b, n, &m, NULL), PROSE_EREPLAY);

  /* A receive-only context without lookups: "no key". Misuse is not a drop. */
  prose_media_group_config none = {NULL, NULL, NULL, 0};
  prose_media_group *g = NULL;
  cr_assert_eq(prose_media_group_new(&none, &g), 0);
  t = s1;
  cr_assert_eq(prose_media_group_unprotect_rtp(g, t.b, l1, &m, NULL), PROSE_ENOKEY);
  cr_assert_eq(prose_media_group_unprotect_rtp(g, t.b + 1, l1 - 1, &m, NULL), PROSE_EINVAL);
  cr_assert_eq(prose_media_group_unprotect_rtp(g, NULL, l1, &m, NULL), PROSE_EINVAL);
  c = counters(g);
  cr_assert_eq(c.drop_no_key, 1u);
  cr_assert_eq(drops(&c), 1u);
  prose_media_group_free(g);
  prose_media_group_free(a.g);
  prose_media_group_free(b.g);
}

Test(media, group_sender_rules) {
  prose_media_group_config cfg = {lookup_gmk, NULL, NULL, 0};
  prose_media_group *g = NULL;
  cr_assert_eq(prose_media_group_new(NULL, &g), PROSE_EINVAL);
  cr_assert_eq(prose_media_group_new(&cfg, &g), 0);
  pkt p;
  size_t len = mk_rtp(p.b, 10, 0x5EED5EEDu, 160, 0), n = 0;
  cr_assert_eq(prose_media_group_protect_rtp(g, p.b, len, sizeof p.b, &n), PROSE_ENOKEY);
  uint32_t guk = guk_of(GMK1, GMK1_ID, MEMBERS[0]);
  cr_assert_eq(prose_media_group_set_tx_key(g, GMK1, GMK1_ID, guk, RAND1, 16, 0x5EED5EEDu), 0);
  cr_assert_eq(prose_media_group_protect_rtp(g, p.b, len, len + PROSE_MEDIA_HEADROOM - 1, &n),
               PROSE_EBUFSZ);
  cr_assert_eq(prose_media_group_protect_rtp(g, p.b + 2, len, 1000, &n), PROSE_EINVAL,
               "misaligned");
  cr_assert_eq(prose_media_group_protect_rtp(g, p.b, 11, sizeof p.b, &n), PROSE_ETRUNC);
  len = mk_rtp(p.b, 10, 0x5EED5EEEu, 160, 0);
  cr_assert_eq(prose_media_group_protect_rtp(g, p.b, len, sizeof p.b, &n), PROSE_EINVAL,
               "other SSRC");
  len = mk_rtp(p.b, 10, 0x5EED5EEDu, 160, 0);
  cr_assert_eq(prose_media_group_protect_rtp(g, p.b, len, len + PROSE_MEDIA_HEADROOM, &n), 0);
  /* Nonce safety: the same or an older sequence number is refused. */
  len = mk_rtp(p.b, 10, 0x5EED5EEDu, 160, 0);
  cr_assert_eq(prose_media_group_protect_rtp(g, p.b, len, sizeof p.b, &n), PROSE_EREPLAY);
  len = mk_rtp(p.b, 9, 0x5EED5EEDu, 160, 0);
  cr_assert_eq(prose_media_group_protect_rtp(g, p.b, len, sizeof p.b, &n), PROSE_EREPLAY);
  len = mk_rtp(p.b, 11, 0x5EED5EEDu, 0, 0);
  cr_assert_eq(prose_media_group_protect_rtp(g, p.b, len, sizeof p.b, &n), 0, "empty payload");
  cr_assert_eq(n, 12u + PROSE_MEDIA_GROUP_RTP_OVERHEAD);
  /* RTCP must be whole words, version 2 and from the tx SSRC. */
  len = mk_app(p.b, 0x5EED5EEDu, 0, 1);
  cr_assert_eq(prose_media_group_protect_rtcp(g, p.b, len - 2, sizeof p.b, &n), PROSE_EMEDIA_PKT);
  len = mk_app(p.b, 0x5EED5EEDu, 0, 1);
  p.b[0] = 0x40;
  cr_assert_eq(prose_media_group_protect_rtcp(g, p.b, len, sizeof p.b, &n), PROSE_EMEDIA_PKT);
  len = mk_app(p.b, 1, 0, 1);
  cr_assert_eq(prose_media_group_protect_rtcp(g, p.b, len, sizeof p.b, &n), PROSE_EINVAL);
  cr_assert_eq(prose_media_group_protect_rtcp(g, p.b, 4, sizeof p.b, &n), PROSE_ETRUNC);
  prose_media_counters c = counters(g);
  cr_assert_eq(c.tx_rtp, 2u);
  cr_assert_eq(c.tx_rtcp, 0u);
  cr_assert_eq(drops(&c), 0u, "sender errors are not drops");
  prose_media_group_free(g);
  prose_media_group_free(NULL);
}

Test(media, group_legacy_mki_and_cache_bound) {
  /* A receiver that also accepts the 4-octet GUK-ID MKI (DIGEST §12 item 1). */
  store st;
  memset(&st, 0, sizeof st);
  store_add(&st, GMK1_ID, GMK1, RAND1, sizeof RAND1, 0);
  prose_media_group_config cfg = {lookup_gmk, lookup_guk, &st, 2};
  prose_media_group *g = NULL;
  cr_assert_eq(prose_media_group_new(&cfg, &g), 0);
  uint32_t guk_b = guk_of(GMK1, GMK1_ID, MEMBERS[1]);
  ref_master mb = ref_master_of(GMK1, 4, guk_b, RAND1, sizeof RAND1);
  ref_keys kb = ref_keys_of(&mb);
  uint8_t mki4[4];
  put32(mki4, guk_b);
  pkt plain, s, out;
  size_t len = mk_rtp(plain.b, 300, 0x01D01D00u, 160, 5), m = 0;
  size_t n = ref_srtp_protect(&kb, plain.b, len, 12, 2, mki4, 4, true, s.b);
  prose_media_rx_info info;
  out = s;
  cr_assert_eq(prose_media_group_unprotect_rtp(g, out.b, n, &m, &info), 0);
  cr_assert_eq(m, len);
  cr_assert(memcmp(out.b, plain.b, len) == 0);
  cr_assert_eq(info.mki_len, 4u);
  cr_assert_eq(info.gmk_id, GMK1_ID);
  cr_assert_eq(info.guk_id, guk_b);
  cr_assert_eq(st.guk_calls, 1);
  len = mk_app(plain.b, 0x01D01D00u, 0, 2);
  n = ref_srtcp_protect(&kb, plain.b, len, 3, mki4, 4, s.b);
  out = s;
  cr_assert_eq(prose_media_group_unprotect_rtcp(g, out.b, n, &m, &info), 0);
  cr_assert(memcmp(out.b, plain.b, len) == 0);
  cr_assert_eq(st.guk_calls, 1, "cached");
  /* The legacy form of a packet carrying our own GUK-ID is a reflection. */
  uint32_t guk_a = guk_of(GMK1, GMK1_ID, MEMBERS[0]);
  cr_assert_eq(prose_media_group_set_tx_key(g, GMK1, GMK1_ID, guk_a, RAND1, 16, 0x0A0A0A0Au), 0);
  ref_master ma = ref_master_of(GMK1, 4, guk_a, RAND1, sizeof RAND1);
  ref_keys ka = ref_keys_of(&ma);
  uint8_t mki4a[4];
  put32(mki4a, guk_a);
  len = mk_rtp(plain.b, 1, 0x0A0A0A0Au, 160, 5);
  n = ref_srtp_protect(&ka, plain.b, len, 12, 0, mki4a, 4, true, s.b);
  out = s;
  cr_assert_eq(prose_media_group_unprotect_rtp(g, out.b, n, &m, NULL), PROSE_EREPLAY);
  /* Without the legacy lookup the same packet names no key. */
  prose_media_group_config strict = {lookup_gmk, NULL, &st, 0};
  prose_media_group *g2 = NULL;
  cr_assert_eq(prose_media_group_new(&strict, &g2), 0);
  len = mk_rtp(plain.b, 301, 0x01D01D00u, 160, 5);
  n = ref_srtp_protect(&kb, plain.b, len, 12, 2, mki4, 4, true, s.b);
  out = s;
  cr_assert_eq(prose_media_group_unprotect_rtp(g2, out.b, n, &m, NULL), PROSE_EMEDIA_MKI);
  prose_media_group_free(g2);

  /* Cache bound 2: three senders in turn evict and re-create sessions, and
   * every packet still opens (the carried ROC keys the new session). */
  member snd[3];
  for (size_t i = 0; i < 3; i++) member_init(&snd[i], i + 1, 0x7000u + (uint32_t)i, 65000, false);
  for (int round = 0; round < 3; round++) {
    for (size_t i = 0; i < 3; i++) {
      pkt p;
      size_t pl = member_send(&snd[i], &p, 0);
      cr_assert_eq(prose_media_group_unprotect_rtp(g, p.b, pl, &m, NULL), 0, "round %d sender %zu",
                   round, i);
    }
  }
  prose_media_counters c = counters(g);
  cr_assert_eq(prose_media_group_sessions(g), 2u);
  cr_assert_geq(c.streams_evicted, 7u);
  cr_assert_eq(c.streams_created, c.streams_evicted + 2);
  for (size_t i = 0; i < 3; i++) prose_media_group_free(snd[i].g);
  prose_media_group_free(g);
}

Test(media, private_call) {
  const uint8_t pck[16] = {7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 15};
  const uint8_t other_pck[16] = {7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 16};
  const uint32_t pck_id = 0x10000001u;
  prose_media_private *caller = NULL, *callee = NULL, *caller2 = NULL, *wrongkey = NULL,
                      *wrongid = NULL;
  cr_assert_eq(
      prose_media_private_new(pck, pck_id, RAND1, 16, PROSE_MEDIA_CALLER, 0xC0C0C0C0u, &caller), 0);
  cr_assert_eq(
      prose_media_private_new(pck, pck_id, RAND1, 16, PROSE_MEDIA_CALLEE, 0xE0E0E0E0u, &callee), 0);
  cr_assert_eq(
      prose_media_private_new(pck, pck_id, RAND1, 16, PROSE_MEDIA_CALLER, 0xE0E0E0E0u, &caller2),
      0);
  cr_assert_eq(prose_media_private_new(other_pck, pck_id, RAND1, 16, PROSE_MEDIA_CALLEE,
                                       0xE0E0E0E0u, &wrongkey),
               0);
  cr_assert_eq(prose_media_private_new(pck, pck_id + 1, RAND1, 16, PROSE_MEDIA_CALLEE, 0xE0E0E0E0u,
                                       &wrongid),
               0);

  /* Both directions, RTP across a wrap and SRTCP floor packets. */
  for (int i = 0; i < 6; i++) {
    pkt p, plain, t;
    uint16_t seq = (uint16_t)(65532 + i);
    size_t len = mk_rtp(p.b, seq, 0xC0C0C0C0u, 160, (uint8_t)i), n = 0, m = 0;
    plain = p;
    cr_assert_eq(prose_media_private_protect_rtp(caller, p.b, len, sizeof p.b, &n), 0);
    cr_assert_eq(n, len + PROSE_MEDIA_PRIVATE_RTP_OVERHEAD);
    t = p;
    cr_assert_eq(prose_media_private_unprotect_rtp(caller2, t.b, n, &m), PROSE_EMEDIA_AUTH,
                 "wrong role");
    t = p;
    cr_assert_eq(prose_media_private_unprotect_rtp(wrongkey, t.b, n, &m), PROSE_EMEDIA_AUTH,
                 "wrong PCK");
    t = p;
    cr_assert_eq(prose_media_private_unprotect_rtp(wrongid, t.b, n, &m), PROSE_EMEDIA_MKI,
                 "wrong PCK-ID");
    t = p;
    cr_assert_eq(prose_media_private_unprotect_rtp(caller, t.b, n, &m), PROSE_EMEDIA_AUTH,
                 "reflected");
    t = p;
    cr_assert_eq(prose_media_private_unprotect_rtp(callee, t.b, n, &m), 0, "caller -> callee %d",
                 i);
    cr_assert_eq(m, len);
    cr_assert(memcmp(t.b, plain.b, len) == 0);
    t = p;
    cr_assert_eq(prose_media_private_unprotect_rtp(callee, t.b, n, &m), PROSE_EREPLAY);

    len = mk_rtp(p.b, (uint16_t)(i * 1000), 0xE0E0E0E0u, 80, (uint8_t)(i + 100));
    plain = p;
    cr_assert_eq(prose_media_private_protect_rtp(callee, p.b, len, sizeof p.b, &n), 0);
    t = p;
    cr_assert_eq(prose_media_private_unprotect_rtp(caller, t.b, n, &m), 0, "callee -> caller %d",
                 i);
    cr_assert(memcmp(t.b, plain.b, len) == 0);

    /* Floor control round trip: request from the caller, grant back. */
    len = mk_app(p.b, 0xC0C0C0C0u, 0 /* Floor Request */, 2);
    plain = p;
    cr_assert_eq(prose_media_private_protect_rtcp(caller, p.b, len, sizeof p.b, &n), 0);
    cr_assert_eq(n, len + PROSE_MEDIA_PRIVATE_RTCP_OVERHEAD);
    t = p;
    cr_assert_eq(prose_media_private_unprotect_rtcp(caller2, t.b, n, &m), PROSE_EMEDIA_AUTH);
    t = p;
    cr_assert_eq(prose_media_private_unprotect_rtcp(callee, t.b, n, &m), 0);
    cr_assert_eq(m, len);
    cr_assert(memcmp(t.b, plain.b, len) == 0);
    t = p;
    cr_assert_eq(prose_media_private_unprotect_rtcp(callee, t.b, n, &m), PROSE_EREPLAY);
    len = mk_app(p.b, 0xE0E0E0E0u, 1 /* Floor Granted */, 3);
    plain = p;
    cr_assert_eq(prose_media_private_protect_rtcp(callee, p.b, len, sizeof p.b, &n), 0);
    t = p;
    cr_assert_eq(prose_media_private_unprotect_rtcp(caller, t.b, n, &m), 0);
    cr_assert(memcmp(t.b, plain.b, len) == 0);
  }

  /* Truncation at every length and E = 0 on the private path. */
  pkt p;
  size_t len = mk_rtp(p.b, 3, 0xC0C0C0C0u, 160, 0), n = 0, m = 0;
  cr_assert_eq(prose_media_private_protect_rtp(caller, p.b, len, sizeof p.b, &n), 0);
  for (size_t l = 0; l < n; l++) {
    uint8_t *t = malloc(l ? l : 1);
    cr_assert(t);
    memcpy(t, p.b, l);
    cr_assert_lt(prose_media_private_unprotect_rtp(callee, t, l, &m), 0, "length %zu", l);
    free(t);
  }
  pkt t = p;
  cr_assert_eq(prose_media_private_unprotect_rtp(callee, t.b, n, &m), 0,
               "untouched by the failures");
  len = mk_app(p.b, 0xC0C0C0C0u, 4, 1);
  cr_assert_eq(prose_media_private_protect_rtcp(caller, p.b, len, sizeof p.b, &n), 0);
  t = p;
  t.b[n - 8] &= 0x7f;
  cr_assert_eq(prose_media_private_unprotect_rtcp(callee, t.b, n, &m), PROSE_EMEDIA_PKT);
  for (size_t l = 0; l < n; l++) {
    uint8_t *tt = malloc(l ? l : 1);
    cr_assert(tt);
    memcpy(tt, p.b, l);
    cr_assert_lt(prose_media_private_unprotect_rtcp(callee, tt, l, &m), 0, "RTCP length %zu", l);
    free(tt);
  }
  t = p;
  cr_assert_eq(prose_media_private_unprotect_rtcp(callee, t.b, n, &m), 0);

  prose_media_counters c;
  prose_media_private_counters(callee, &c);
  cr_assert_eq(c.rx_rtp, 7u);
  cr_assert_eq(c.rx_rtcp, 7u);
  cr_assert_eq(c.drop_replay, 12u);
  cr_assert_eq(c.drop_malformed + c.drop_unknown_mki + c.drop_auth,
               (uint64_t)(len + 16 + 8 + 1) + (12u + 160u + 20u));
  prose_media_private_counters(caller, &c);
  cr_assert_eq(c.drop_auth, 6u, "reflections");

  /* Constructor errors. */
  prose_media_private *x = NULL;
  cr_assert_eq(prose_media_private_new(pck, 0x00000001u, RAND1, 16, PROSE_MEDIA_CALLER, 1, &x),
               PROSE_EMIKEY_KEYTYPE, "GMK tag");
  cr_assert_eq(prose_media_private_new(pck, pck_id, RAND1, 8, PROSE_MEDIA_CALLER, 1, &x),
               PROSE_ELEN);
  cr_assert_eq(prose_media_private_new(pck, pck_id, RAND1, 16, (prose_media_role)7, 1, &x),
               PROSE_EINVAL);
  cr_assert_eq(prose_media_private_new(NULL, pck_id, RAND1, 16, PROSE_MEDIA_CALLER, 1, &x),
               PROSE_EINVAL);
  cr_assert_null(x);
  prose_media_private_free(caller);
  prose_media_private_free(callee);
  prose_media_private_free(caller2);
  prose_media_private_free(wrongkey);
  prose_media_private_free(wrongid);
  prose_media_private_free(NULL);
}
