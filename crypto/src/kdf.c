/*
 * Identifiers and key derivations of TS 33.179 and MIKEY (see prose/kdf.h).
 *
 * Every hash or MAC input is fed to OpenSSL piece by piece from a list of
 * spans, so no input is copied and no length limit arises beyond the ones
 * the specifications impose (2-octet length fields). All functions are
 * stateless and thread-safe.
 */
#include "prose/kdf.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#include "prose/buf.h"
#include "prose/err.h"
#include "prose/util.h"

#define SHA256_LEN 32

typedef struct span {
  const void *p;
  size_t n;
} span;

/* ------------------------------------------------------------------------ */
/* MIKEY-SAKKE UID (TS 33.179 Annex F.2.1)                                   */

/* Minimal-length big-endian octets of x; F.2.1 encodes the value 0 as one
 * octet 00. Returns the octet count (1..8), written to the end-aligned
 * position out + 8 - count. */
static size_t int_min_be(uint64_t x, uint8_t out[8]) {
  size_t n = 1;
  for (int i = 7; i >= 0; i--) out[i] = (uint8_t)(x >> (8 * (7 - i)));
  while (n < 8 && (x >> (8 * n)) != 0) n++;
  return n;
}

/* One F.2.1 parameter: Pi || Li, with Li the 2-octet length of Pi. */
static int uid_param(EVP_MD_CTX *mctx, const void *p, size_t n) {
  uint8_t len[2];
  prose_put_u16(len, (uint16_t)n);
  if (n && EVP_DigestUpdate(mctx, p, n) != 1) return PROSE_ECRYPTO;
  return EVP_DigestUpdate(mctx, len, sizeof len) == 1 ? 0 : PROSE_ECRYPTO;
}

static int uid_int_param(EVP_MD_CTX *mctx, uint64_t x) {
  uint8_t be[8];
  size_t n = int_min_be(x, be);
  return uid_param(mctx, be + 8 - n, n);
}

int prose_uid(const char *uri, const char *kms_uri, uint64_t period, uint64_t offset,
              uint64_t period_no, uint8_t uid[32]) {
  static const char p0[] = "MIKEY-SAKKE-UID";
  static const uint8_t fc = 0x00; /* F.2.1: FC is a dummy 0x00, the KDF itself is not run */
  if (!uri || !kms_uri || !uid) return PROSE_EINVAL;
  size_t uri_len = strlen(uri);
  size_t kms_len = strlen(kms_uri);
  /* Each Li is two octets, so no parameter may exceed 65535 octets. */
  if (uri_len > 0xFFFF || kms_len > 0xFFFF) return PROSE_EINVAL;

  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  if (!mctx) return PROSE_ENOMEM;
  unsigned int out_len = 0;
  /* S = FC || P0 || L0 || P1 || L1 || ... || P5 || L5; UID = SHA-256(S).
   * P1 = MCPTT ID (URI), P2 = KMS URI, P3 = key period length, P4 = key
   * period offset, P5 = current key period number. */
  int rc = EVP_DigestInit_ex(mctx, EVP_sha256(), NULL) == 1 ? 0 : PROSE_ECRYPTO;
  if (!rc && EVP_DigestUpdate(mctx, &fc, 1) != 1) rc = PROSE_ECRYPTO;
  if (!rc) rc = uid_param(mctx, p0, sizeof p0 - 1);
  if (!rc) rc = uid_param(mctx, uri, uri_len);
  if (!rc) rc = uid_param(mctx, kms_uri, kms_len);
  if (!rc) rc = uid_int_param(mctx, period);
  if (!rc) rc = uid_int_param(mctx, offset);
  if (!rc) rc = uid_int_param(mctx, period_no);
  if (!rc && (EVP_DigestFinal_ex(mctx, uid, &out_len) != 1 || out_len != PROSE_UID_LEN))
    rc = PROSE_ECRYPTO;
  EVP_MD_CTX_free(mctx);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Key periods (TS 33.179 F.2.1, DIGEST §12 item 11)                         */

int prose_period_no(uint64_t t_ntp, uint64_t period, uint64_t offset, uint64_t *period_no) {
  if (!period_no) return PROSE_EINVAL;
  if (period == 0 || t_ntp < offset) return PROSE_ERANGE;
  /* P5 = floor((t - offset) / period), all in NTP seconds. */
  *period_no = (t_ntp - offset) / period;
  return 0;
}

/* a + b, or UINT64_MAX when the sum does not fit. */
static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* a * b, or UINT64_MAX when the product does not fit. */
static uint64_t sat_mul(uint64_t a, uint64_t b) {
  return (b != 0 && a > UINT64_MAX / b) ? UINT64_MAX : a * b;
}

void prose_period_bounds(uint64_t period_no, uint64_t period, uint64_t offset, uint64_t *start,
                         uint64_t *end) {
  /* The period with number no covers [offset + no*period, offset + (no+1)*period),
   * the inverse of prose_period_no. (Some implementations compute the end as
   * (no+1)*period - offset; that contradicts the UID definition.) Values that
   * would overflow saturate at UINT64_MAX, which lies beyond any NTP era-0
   * time, so a saturated period never contains a real timestamp. */
  uint64_t s = sat_add(offset, sat_mul(period_no, period));
  if (start) *start = s;
  if (end) *end = sat_add(s, period);
}

/* ------------------------------------------------------------------------ */
/* HMAC-SHA-256                                                              */

/* An HMAC-SHA-256 context (EVP_MAC), fetched once per top-level call. */
static EVP_MAC_CTX *hmac_sha256_new(void) {
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  EVP_MAC_free(mac); /* the context holds its own reference */
  if (!ctx) return NULL;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

/* out = HMAC-SHA-256(key, concatenation of the spans). */
static int hmac_spans(EVP_MAC_CTX *ctx, const uint8_t *key, size_t key_len, const span *sp,
                      size_t count, uint8_t out[SHA256_LEN]) {
  size_t len = 0;
  if (EVP_MAC_init(ctx, key, key_len, NULL) != 1) return PROSE_ECRYPTO;
  for (size_t i = 0; i < count; i++)
    if (sp[i].n && EVP_MAC_update(ctx, sp[i].p, sp[i].n) != 1) return PROSE_ECRYPTO;
  if (EVP_MAC_final(ctx, out, &len, SHA256_LEN) != 1 || len != SHA256_LEN) return PROSE_ECRYPTO;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* GUK-ID (TS 33.179 F.1.3)                                                  */

int prose_guk_id(const uint8_t *gmk, size_t gmk_len, uint32_t key_id, const char *mcptt_id,
                 uint32_t *out) {
  if (!gmk || gmk_len == 0 || !mcptt_id || !out) return PROSE_EINVAL;
  size_t id_len = strlen(mcptt_id);
  if (id_len > 0xFFFF) return PROSE_EINVAL;
  static const uint8_t fc = 0x50;
  uint8_t len[2];
  uint8_t mac[SHA256_LEN];
  prose_put_u16(len, (uint16_t)id_len);
  /* The 33.220 KDF: HMAC-SHA-256(GMK, FC || P0 || L0) with FC = 0x50 and
   * P0 = the receiving user's MCPTT ID. */
  const span sp[] = {{&fc, 1}, {mcptt_id, id_len}, {len, sizeof len}};
  int rc = PROSE_ENOMEM;
  EVP_MAC_CTX *ctx = hmac_sha256_new();
  if (!ctx) goto out;
  rc = hmac_spans(ctx, gmk, gmk_len, sp, PROSE_ARRAY_LEN(sp), mac);
  if (rc) goto out;
  /* The salt is the 28 least significant bits of the output; XOR leaves the
   * purpose tag (4 most significant bits) of the key ID unchanged, and the
   * same XOR maps a GUK-ID back to its GMK-ID. */
  *out = key_id ^ (prose_get_u32(mac + SHA256_LEN - 4) & 0x0FFFFFFFu);
out:
  EVP_MAC_CTX_free(ctx);
  prose_wipe(mac, sizeof mac);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* MIKEY PRF (RFC 3830 §4.1.2 with PRF-HMAC-SHA-256, RFC 6043 §6.1)           */

/*
 * XOR P(s, label, m) into out (out_len octets, m = ceil(out_len / 32)):
 *   A_0 = label, A_i = HMAC(s, A_(i-1)),
 *   P(s, label, m) = HMAC(s, A_1 || label) || ... || HMAC(s, A_m || label).
 */
static int prf_p_xor(EVP_MAC_CTX *ctx, const uint8_t *s, size_t s_len, const span *label,
                     size_t label_count, uint8_t *out, size_t out_len) {
  enum { MAX_LABEL_SPANS = 4 };
  uint8_t a[SHA256_LEN];
  uint8_t block[SHA256_LEN];
  span sp[1 + MAX_LABEL_SPANS];
  int rc = PROSE_EINTERNAL;
  if (label_count > MAX_LABEL_SPANS) goto out;
  /* A_1 = HMAC(s, label). */
  rc = hmac_spans(ctx, s, s_len, label, label_count, a);
  sp[0].p = a;
  sp[0].n = sizeof a;
  for (size_t k = 0; k < label_count; k++) sp[1 + k] = label[k];
  for (size_t off = 0; !rc && off < out_len; off += SHA256_LEN) {
    rc = hmac_spans(ctx, s, s_len, sp, 1 + label_count, block);
    size_t n = out_len - off < SHA256_LEN ? out_len - off : SHA256_LEN;
    for (size_t k = 0; !rc && k < n; k++) out[off + k] ^= block[k];
    /* A_(i+1) = HMAC(s, A_i), only when another block follows. */
    if (!rc && off + SHA256_LEN < out_len) rc = hmac_spans(ctx, s, s_len, sp, 1, a);
  }
out:
  prose_wipe(a, sizeof a);
  prose_wipe(block, sizeof block);
  return rc;
}

/*
 * PRF(inkey, label, outlen): split the inkey into 256-bit pieces s_1..s_n
 * (the last may be shorter) and XOR P(s_1, label, m) ... P(s_n, label, m).
 * TGKs of 16 octets give n = 1; longer in-keys are handled in general.
 */
static int prf_spans(const uint8_t *inkey, size_t inkey_len, const span *label, size_t label_count,
                     uint8_t *out, size_t out_len) {
  if (!inkey || inkey_len == 0 || (!out && out_len)) return PROSE_EINVAL;
  if (out_len == 0) return 0;
  int rc = PROSE_ENOMEM;
  EVP_MAC_CTX *ctx = hmac_sha256_new();
  memset(out, 0, out_len);
  if (!ctx) goto out;
  rc = 0;
  for (size_t off = 0; !rc && off < inkey_len; off += SHA256_LEN) {
    size_t n = inkey_len - off < SHA256_LEN ? inkey_len - off : SHA256_LEN;
    rc = prf_p_xor(ctx, inkey + off, n, label, label_count, out, out_len);
  }
out:
  EVP_MAC_CTX_free(ctx);
  if (rc) prose_wipe(out, out_len); /* never hand back a partial key */
  return rc;
}

int prose_mikey_prf(const uint8_t *inkey, size_t inkey_len, const uint8_t *label, size_t label_len,
                    uint8_t *out, size_t out_len) {
  if (!label && label_len) return PROSE_EINVAL;
  const span sp[] = {{label, label_len}};
  return prf_spans(inkey, inkey_len, sp, PROSE_ARRAY_LEN(sp), out, out_len);
}

int prose_mikey_derive(const uint8_t *tgk, size_t tgk_len, uint32_t constant, uint8_t cs_id,
                       uint32_t csb_id, const uint8_t *rand, size_t rand_len, uint8_t *out,
                       size_t out_len) {
  if (!rand && rand_len) return PROSE_EINVAL;
  /* RFC 3830 §4.1.3: label = constant || CS ID || CSB ID || RAND. */
  uint8_t head[9];
  prose_wr w = prose_wr_init(head, sizeof head);
  prose_wr_u32(&w, constant);
  prose_wr_u8(&w, cs_id);
  prose_wr_u32(&w, csb_id);
  if (prose_wr_finish(&w) || w.len != sizeof head) return PROSE_EINTERNAL;
  const span sp[] = {{head, sizeof head}, {rand, rand_len}};
  return prf_spans(tgk, tgk_len, sp, PROSE_ARRAY_LEN(sp), out, out_len);
}

int prose_srtp_master(const uint8_t *tgk, size_t tgk_len, uint8_t cs_id, uint32_t csb_id,
                      const uint8_t *rand, size_t rand_len, uint8_t key[16], uint8_t salt[12]) {
  if (!key || !salt) return PROSE_EINVAL;
  /* RFC 3830 §4.1.3: the SRTP master key uses the TEK constant and the
   * master salt the TEK-salt constant, both over the same TGK, CS ID,
   * CSB ID and RAND. */
  int rc = prose_mikey_derive(tgk, tgk_len, PROSE_MIKEY_CONST_TEK, cs_id, csb_id, rand, rand_len,
                              key, 16);
  if (!rc)
    rc = prose_mikey_derive(tgk, tgk_len, PROSE_MIKEY_CONST_TEK_SALT, cs_id, csb_id, rand,
                            rand_len, salt, 12);
  if (rc) {
    prose_wipe(key, 16);
    prose_wipe(salt, 12);
  }
  return rc;
}
