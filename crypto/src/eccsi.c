/*
 * ECCSI (RFC 6507) over NIST P-256 with SHA-256 (N = 32) on OpenSSL 3 EC.
 *
 * Symbols follow RFC 6507: G the base point, q its order, KSAK/KPAK the KMS
 * key pair, v the KMS's ephemeral value, PVT = [v]G, HS = hash(G || KPAK ||
 * ID || PVT), SSK = KSAK + HS*v mod q, j the signer's ephemeral value,
 * J = [j]G, r = Jx, HE = hash(HS || r || M), s = j / (HE + r*SSK) mod q.
 *
 * Side channels. Every scalar multiplication by a secret (KSAK, v, SSK, j) is
 * a generator-only EC_POINT_mul, which OpenSSL runs in constant time (the
 * nistz256 table path on x86-64, a Montgomery ladder elsewhere). Secret
 * BIGNUMs come from a secure BN_CTX (cleared when freed) and carry
 * BN_FLG_CONSTTIME. Products with secrets use Montgomery multiplication,
 * sums BN_mod_add_quick, and the one modular inversion of the signer is
 * Fermat's t^(q-2) with BN_mod_exp_mont_consttime. Range checks of secret
 * octet strings are branch-free (scalar_in_range).
 *
 * Threads. A signer is immutable after prose_eccsi_signer_new: several
 * threads may sign with one signer at once, each with its own prose_rng.
 * A verifier updates its Y cache and owns a BN_CTX, so it must not be shared
 * between threads without a lock. The free functions keep no state.
 *
 * Errors from OpenSSL that are expected on hostile input (a point that is
 * not on the curve) are removed from OpenSSL's error queue; unexpected
 * failures are reported as PROSE_ECRYPTO and left on the queue for diagnosis.
 */
#include "prose/eccsi.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <stdlib.h>
#include <string.h>

#include "eccsi_internal.h"
#include "prose/err.h"
#include "prose/util.h"

#define N PROSE_ECCSI_SCALAR_LEN
#define PT PROSE_ECCSI_POINT_LEN

/* How often a random draw may miss [1, q) before the RNG is declared broken.
 * A uniform 256-bit value misses with probability about 2^-32, so reaching
 * this bound means the generator returns constant or biased output. */
#define MAX_DRAWS 64
/* How often signing or issuing may restart with a fresh j or v (each restart
 * has probability about 2^-128, see sign_core and issue_core). */
#define MAX_RESTARTS 8

/* G of P-256 (FIPS 186-4 D.1.2.3), uncompressed, as RFC 6507 §5.1.1 hashes it. */
static const uint8_t G_OCT[PT] = {
    0x04, 0x6B, 0x17, 0xD1, 0xF2, 0xE1, 0x2C, 0x42, 0x47, 0xF8, 0xBC, 0xE6, 0xE5, 0x63, 0xA4,
    0x40, 0xF2, 0x77, 0x03, 0x7D, 0x81, 0x2D, 0xEB, 0x33, 0xA0, 0xF4, 0xA1, 0x39, 0x45, 0xD8,
    0x98, 0xC2, 0x96, 0x4F, 0xE3, 0x42, 0xE2, 0xFE, 0x1A, 0x7F, 0x9B, 0x8E, 0xE7, 0xEB, 0x4A,
    0x7C, 0x0F, 0x9E, 0x16, 0x2B, 0xCE, 0x33, 0x57, 0x6B, 0x31, 0x5E, 0xCE, 0xCB, 0xB6, 0x40,
    0x68, 0x37, 0xBF, 0x51, 0xF5};

/* q, the order of G (FIPS 186-4 D.1.2.3). */
static const uint8_t Q_OCT[N] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
                                 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

/* 1 when the big-endian value b satisfies 0 < b < q, else 0. The loop runs
 * over all octets with no data-dependent branch, so it is safe on secrets
 * (KSAK, v, SSK, j): only the final verdict is revealed. */
static int scalar_in_range(const uint8_t b[N]) {
  uint32_t borrow = 0;
  uint32_t any = 0;
  for (size_t i = N; i-- > 0;) {
    uint32_t d = (uint32_t)b[i] - (uint32_t)Q_OCT[i] - borrow;
    borrow = d >> 31; /* the subtraction wrapped: this octet borrowed */
    any |= b[i];
  }
  uint32_t nonzero = (any | (0u - any)) >> 31;
  return (int)(borrow & nonzero);
}

/* Draw a uniform scalar in [1, q) by rejection sampling (no modular bias). */
static int draw_scalar(const prose_rng *rng, uint8_t out[N]) {
  for (int i = 0; i < MAX_DRAWS; i++) {
    int rc = prose_rng_fill(rng, out, N);
    if (rc) return rc;
    if (scalar_in_range(out)) return 0;
  }
  prose_wipe(out, N);
  return PROSE_ERNG;
}

typedef struct span {
  const void *p;
  size_t n;
} span;

/* SHA-256 over the concatenation of the spans (no copy of the inputs). */
static int sha256_spans(EVP_MD_CTX *mctx, const EVP_MD *md, const span *sp, size_t count,
                        uint8_t out[N]) {
  unsigned int len = 0;
  if (EVP_DigestInit_ex(mctx, md, NULL) != 1) return PROSE_ECRYPTO;
  for (size_t i = 0; i < count; i++)
    if (sp[i].n && EVP_DigestUpdate(mctx, sp[i].p, sp[i].n) != 1) return PROSE_ECRYPTO;
  if (EVP_DigestFinal_ex(mctx, out, &len) != 1 || len != N) return PROSE_ECRYPTO;
  return 0;
}

/* RFC 6507 §5.1.1 step 3 / §5.2.2 step 2: HS = hash(G || KPAK || ID || PVT). */
static int compute_hs(EVP_MD_CTX *mctx, const EVP_MD *md, const uint8_t kpak[PT], const uint8_t *id,
                      size_t id_len, const uint8_t pvt[PT], uint8_t hs[N]) {
  const span sp[] = {{G_OCT, PT}, {kpak, PT}, {id, id_len}, {pvt, PT}};
  return sha256_spans(mctx, md, sp, PROSE_ARRAY_LEN(sp), hs);
}

/* RFC 6507 §5.2.1 step 3 / §5.2.2 step 3: HE = hash(HS || r || M). */
static int compute_he(EVP_MD_CTX *mctx, const EVP_MD *md, const uint8_t hs[N], const uint8_t r[N],
                      const uint8_t *msg, size_t msg_len, uint8_t he[N]) {
  const span sp[] = {{hs, N}, {r, N}, {msg, msg_len}};
  return sha256_spans(mctx, md, sp, PROSE_ARRAY_LEN(sp), he);
}

static EC_GROUP *p256_new(void) { return EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1); }

/* A BIGNUM from ctx that will hold a secret: OpenSSL picks its constant-time
 * code paths (exponentiation, division) only when the flag is set. */
static BIGNUM *secret_bn(BN_CTX *ctx) {
  BIGNUM *b = BN_CTX_get(ctx);
  if (b) BN_set_flags(b, BN_FLG_CONSTTIME);
  return b;
}

/*
 * Decode a 65-octet uncompressed point and check it is on P-256 and not O.
 * RFC 6507 §5.1.2 and §5.2.2 step 1 require the on-curve check; P-256 has
 * cofactor 1, so every curve point other than O is in the group of order q.
 * EC_POINT_oct2point rejects coordinates >= p and points off the curve; the
 * mark keeps those expected failures out of OpenSSL's error queue.
 */
static int point_decode(const EC_GROUP *g, const uint8_t in[PT], EC_POINT *p, BN_CTX *ctx) {
  if (in[0] != 0x04) return PROSE_EPOINT;
  ERR_set_mark();
  int ok = EC_POINT_oct2point(g, p, in, PT, ctx) == 1 && EC_POINT_is_at_infinity(g, p) == 0 &&
           EC_POINT_is_on_curve(g, p, ctx) == 1;
  ERR_pop_to_mark();
  return ok ? 0 : PROSE_EPOINT;
}

static int point_encode(const EC_GROUP *g, const EC_POINT *p, uint8_t out[PT], BN_CTX *ctx) {
  if (EC_POINT_is_at_infinity(g, p)) return PROSE_EINTERNAL;
  size_t n = EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, out, PT, ctx);
  return n == PT ? 0 : PROSE_ECRYPTO;
}

/* [k]G for a secret k given as octets already checked to be in [1, q). */
static int mul_g_secret(const EC_GROUP *g, const uint8_t k[N], EC_POINT *out, BN_CTX *ctx) {
  int rc = PROSE_ECRYPTO;
  BN_CTX_start(ctx);
  BIGNUM *kb = secret_bn(ctx);
  if (!kb || !BN_bin2bn(k, N, kb)) goto out;
  if (EC_POINT_mul(g, out, kb, NULL, NULL, ctx) != 1) goto out;
  rc = 0;
out:
  /* kb goes back to the pool; the secure BN_CTX clears it when freed. */
  BN_CTX_end(ctx);
  return rc;
}

/* A Montgomery context for q, used for products that involve a secret. */
static BN_MONT_CTX *mont_q_new(const EC_GROUP *g, BN_CTX *ctx) {
  BN_MONT_CTX *m = BN_MONT_CTX_new();
  if (m && BN_MONT_CTX_set(m, EC_GROUP_get0_order(g), ctx) != 1) {
    BN_MONT_CTX_free(m);
    m = NULL;
  }
  return m;
}

/* ------------------------------------------------------------------------ */
/* KMS operations (RFC 6507 §4.2, §5.1.1)                                    */

int prose_eccsi_kpak_from_ksak(const uint8_t ksak[32], uint8_t kpak[65]) {
  if (!ksak || !kpak) return PROSE_EINVAL;
  if (!scalar_in_range(ksak)) return PROSE_ERANGE;
  int rc = PROSE_ENOMEM;
  EC_GROUP *g = p256_new();
  BN_CTX *ctx = BN_CTX_secure_new();
  EC_POINT *p = g ? EC_POINT_new(g) : NULL;
  if (!g || !ctx || !p) goto out;
  /* RFC 6507 §4.2: KPAK = [KSAK]G. */
  rc = mul_g_secret(g, ksak, p, ctx);
  if (!rc) rc = point_encode(g, p, kpak, ctx);
out:
  EC_POINT_clear_free(p);
  BN_CTX_free(ctx);
  EC_GROUP_free(g);
  return rc;
}

int prose_eccsi_kms_keygen(const prose_rng *rng, uint8_t ksak[32], uint8_t kpak[65]) {
  if (!rng || !ksak || !kpak) return PROSE_EINVAL;
  /* RFC 6507 §4.2: the KSAK is a random integer in [1, q). */
  int rc = draw_scalar(rng, ksak);
  if (!rc) rc = prose_eccsi_kpak_from_ksak(ksak, kpak);
  if (rc) prose_wipe(ksak, N);
  return rc;
}

int prose_eccsi_hs(const uint8_t kpak[65], const uint8_t *id, size_t id_len, const uint8_t pvt[65],
                   uint8_t hs[32]) {
  if (!kpak || !pvt || !hs || (!id && id_len)) return PROSE_EINVAL;
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  if (!mctx) return PROSE_ENOMEM;
  int rc = compute_hs(mctx, EVP_sha256(), kpak, id, id_len, pvt, hs);
  EVP_MD_CTX_free(mctx);
  return rc;
}

/*
 * RFC 6507 §5.1.1 with a given v: PVT = [v]G, HS = hash(G || KPAK || ID ||
 * PVT), SSK = KSAK + HS*v mod q. Returns PROSE_ERANGE when SSK = 0, which
 * the RFC answers with a fresh v (prose_eccsi_issue does so).
 */
static int issue_core(const EC_GROUP *g, BN_CTX *ctx, const uint8_t ksak[N], const uint8_t v[N],
                      const uint8_t *id, size_t id_len, uint8_t ssk[N], uint8_t pvt[PT]) {
  int rc = PROSE_ENOMEM;
  uint8_t kpak[PT];
  uint8_t hs[N];
  EC_POINT *p = EC_POINT_new(g);
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  BN_MONT_CTX *mont = mont_q_new(g, ctx);
  BN_CTX_start(ctx);
  BIGNUM *hsb = BN_CTX_get(ctx);
  BIGNUM *vb = secret_bn(ctx);
  BIGNUM *kb = secret_bn(ctx);
  BIGNUM *t = secret_bn(ctx);
  if (!p || !mctx || !mont || !t) goto out;

  /* KPAK = [KSAK]G is recomputed rather than passed in, so a KMS cannot
   * issue keys against a KPAK that does not belong to its KSAK. */
  rc = mul_g_secret(g, ksak, p, ctx);
  if (!rc) rc = point_encode(g, p, kpak, ctx);
  /* Step 2: PVT = [v]G; v in [1, q) so PVT != O. */
  if (!rc) rc = mul_g_secret(g, v, p, ctx);
  if (!rc) rc = point_encode(g, p, pvt, ctx);
  if (!rc) rc = compute_hs(mctx, EVP_sha256(), kpak, id, id_len, pvt, hs);
  if (rc) goto out;

  /* Step 4: SSK = KSAK + HS*v mod q. HS is public; v is secret, so the
   * product is one Montgomery multiplication by v*R (R = 2^256 mod q). */
  rc = PROSE_ECRYPTO;
  if (!BN_bin2bn(hs, N, hsb) || !BN_bin2bn(v, N, vb) || !BN_bin2bn(ksak, N, kb)) goto out;
  if (BN_nnmod(hsb, hsb, EC_GROUP_get0_order(g), ctx) != 1) goto out;
  if (BN_to_montgomery(t, vb, mont, ctx) != 1) goto out;
  if (BN_mod_mul_montgomery(t, hsb, t, mont, ctx) != 1) goto out;
  if (BN_mod_add_quick(t, t, kb, EC_GROUP_get0_order(g)) != 1) goto out;
  /* Step 4 continued: "If SSK = 0, restart with a fresh v". */
  rc = PROSE_ERANGE;
  if (BN_is_zero(t)) goto out;
  rc = BN_bn2binpad(t, ssk, N) == N ? 0 : PROSE_ECRYPTO;
out:
  BN_CTX_end(ctx);
  BN_MONT_CTX_free(mont);
  EVP_MD_CTX_free(mctx);
  EC_POINT_clear_free(p);
  prose_wipe(hs, sizeof hs);
  return rc;
}

int prose_eccsi_issue_with_v(const uint8_t ksak[32], const uint8_t v[32], const uint8_t *id,
                             size_t id_len, uint8_t ssk[32], uint8_t pvt[65]) {
  if (!ksak || !v || !ssk || !pvt || (!id && id_len)) return PROSE_EINVAL;
  if (!scalar_in_range(ksak) || !scalar_in_range(v)) return PROSE_ERANGE;
  int rc = PROSE_ENOMEM;
  uint8_t ssk_tmp[N];
  uint8_t pvt_tmp[PT];
  EC_GROUP *g = p256_new();
  BN_CTX *ctx = BN_CTX_secure_new();
  if (!g || !ctx) goto out;
  rc = issue_core(g, ctx, ksak, v, id, id_len, ssk_tmp, pvt_tmp);
  if (rc) goto out;
  memcpy(ssk, ssk_tmp, N);
  memcpy(pvt, pvt_tmp, PT);
out:
  BN_CTX_free(ctx);
  EC_GROUP_free(g);
  prose_wipe(ssk_tmp, sizeof ssk_tmp);
  return rc;
}

int prose_eccsi_issue(const prose_rng *rng, const uint8_t ksak[32], const uint8_t *id, size_t id_len,
                      uint8_t ssk[32], uint8_t pvt[65]) {
  if (!rng || !ksak || !ssk || !pvt || (!id && id_len)) return PROSE_EINVAL;
  /* Checked here so that PROSE_ERANGE inside the loop can only mean SSK = 0. */
  if (!scalar_in_range(ksak)) return PROSE_ERANGE;
  int rc = 0;
  uint8_t v[N];
  for (int i = 0; i < MAX_RESTARTS; i++) {
    /* RFC 6507 §5.1.1 step 1: a fresh random v in [1, q) on every attempt. */
    rc = draw_scalar(rng, v);
    if (!rc) rc = prose_eccsi_issue_with_v(ksak, v, id, id_len, ssk, pvt);
    if (rc != PROSE_ERANGE) break;
  }
  if (rc == PROSE_ERANGE) rc = PROSE_ERNG; /* SSK = 0 every time: the RNG is broken */
  prose_wipe(v, sizeof v);
  return rc;
}

int prose_eccsi_point_check(const uint8_t pt[65]) {
  if (!pt) return PROSE_EINVAL;
  int rc = PROSE_ENOMEM;
  EC_GROUP *g = p256_new();
  EC_POINT *p = g ? EC_POINT_new(g) : NULL;
  if (p) rc = point_decode(g, pt, p, NULL);
  EC_POINT_free(p);
  EC_GROUP_free(g);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Signer (RFC 6507 §5.1.2, §5.2.1)                                          */

struct prose_eccsi_signer {
  EC_GROUP *group;
  BN_MONT_CTX *mont;  /* Montgomery context for q */
  BIGNUM *q_minus_2;  /* Fermat exponent for inversion mod q */
  BIGNUM *ssk_mont;   /* SSK*R mod q (secret, constant-time flag) */
  EVP_MD *sha256;     /* fetched once so signing does no provider lookup */
  uint8_t hs[N];      /* HS, cached as RFC 6507 §5.1.2 suggests */
  uint8_t pvt[PT];    /* copied into every signature */
};

void prose_eccsi_signer_free(prose_eccsi_signer *s) {
  if (!s) return;
  BN_clear_free(s->ssk_mont);
  BN_free(s->q_minus_2);
  BN_MONT_CTX_free(s->mont);
  EVP_MD_free(s->sha256);
  EC_GROUP_free(s->group);
  prose_wipe(s, sizeof *s);
  free(s);
}

/*
 * RFC 6507 §5.1.2: the user accepts (SSK, PVT) only if PVT is a valid point
 * and [SSK]G - [HS]PVT = KPAK. The two multiplications stay separate so the
 * one by the secret SSK is the constant-time generator path; [HS]PVT only
 * involves public values.
 */
static int signer_validate(prose_eccsi_signer *s, BN_CTX *ctx, const uint8_t kpak[PT],
                           const uint8_t ssk[N], const uint8_t pvt[PT]) {
  int rc = PROSE_ENOMEM;
  const EC_GROUP *g = s->group;
  EC_POINT *kp = EC_POINT_new(g);
  EC_POINT *pv = EC_POINT_new(g);
  EC_POINT *lhs = EC_POINT_new(g);
  EC_POINT *hp = EC_POINT_new(g);
  BN_CTX_start(ctx);
  BIGNUM *hsb = BN_CTX_get(ctx);
  if (!kp || !pv || !lhs || !hp || !hsb) goto out;
  rc = point_decode(g, kpak, kp, ctx);
  if (!rc) rc = point_decode(g, pvt, pv, ctx);
  if (rc) goto out;
  rc = PROSE_ERANGE;
  if (!scalar_in_range(ssk)) goto out;
  rc = mul_g_secret(g, ssk, lhs, ctx);
  if (rc) goto out;
  rc = PROSE_ECRYPTO;
  if (!BN_bin2bn(s->hs, N, hsb) || EC_POINT_mul(g, hp, NULL, pv, hsb, ctx) != 1) goto out;
  if (EC_POINT_invert(g, hp, ctx) != 1 || EC_POINT_add(g, lhs, lhs, hp, ctx) != 1) goto out;
  int cmp = EC_POINT_cmp(g, lhs, kp, ctx);
  rc = cmp == 0 ? 0 : cmp == 1 ? PROSE_EKEY_INVALID : PROSE_ECRYPTO;
out:
  BN_CTX_end(ctx);
  EC_POINT_clear_free(lhs);
  EC_POINT_free(hp);
  EC_POINT_free(pv);
  EC_POINT_free(kp);
  return rc;
}

/* Set up the fixed values every signature needs: Montgomery context, q - 2
 * and SSK in Montgomery form, so sign_core multiplies r*SSK in one step. */
static int signer_precompute(prose_eccsi_signer *s, BN_CTX *ctx, const uint8_t ssk[N]) {
  int rc = PROSE_ENOMEM;
  BN_CTX_start(ctx);
  BIGNUM *sb = secret_bn(ctx);
  s->mont = mont_q_new(s->group, ctx);
  s->q_minus_2 = BN_dup(EC_GROUP_get0_order(s->group));
  s->ssk_mont = BN_secure_new();
  if (!sb || !s->mont || !s->q_minus_2 || !s->ssk_mont) goto out;
  BN_set_flags(s->ssk_mont, BN_FLG_CONSTTIME);
  rc = PROSE_ECRYPTO;
  if (BN_sub_word(s->q_minus_2, 2) != 1 || !BN_bin2bn(ssk, N, sb)) goto out;
  if (BN_to_montgomery(s->ssk_mont, sb, s->mont, ctx) != 1) goto out;
  rc = 0;
out:
  BN_CTX_end(ctx);
  return rc;
}

int prose_eccsi_signer_new(prose_eccsi_signer **out, const uint8_t kpak[65], const uint8_t *id,
                           size_t id_len, const uint8_t ssk[32], const uint8_t pvt[65]) {
  if (!out || !kpak || !ssk || !pvt || (!id && id_len)) return PROSE_EINVAL;
  *out = NULL;
  int rc = PROSE_ENOMEM;
  BN_CTX *ctx = BN_CTX_secure_new();
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  prose_eccsi_signer *s = calloc(1, sizeof *s);
  if (!ctx || !mctx || !s) goto out;
  s->group = p256_new();
  s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  if (!s->group || !s->sha256) goto out;
  memcpy(s->pvt, pvt, PT);
  rc = compute_hs(mctx, s->sha256, kpak, id, id_len, pvt, s->hs);
  if (!rc) rc = signer_validate(s, ctx, kpak, ssk, pvt);
  if (!rc) rc = signer_precompute(s, ctx, ssk);
  if (rc) goto out;
  *out = s;
  s = NULL;
out:
  prose_eccsi_signer_free(s);
  EVP_MD_CTX_free(mctx);
  BN_CTX_free(ctx);
  return rc;
}

/*
 * RFC 6507 §5.2.1 steps 2-7 for one j in [1, q). Returns PROSE_ERANGE when
 * this j is unusable, and the caller restarts with a fresh j as step 4
 * requires:
 *  - HE + r*SSK = 0 mod q (step 4);
 *  - r = Jx is 0 or >= q. Verifiers must reject Jx = 0 (§5.2.2 step 6) and
 *    ours reject r >= q so r can be range-checked like s (prose_eccsi_verify).
 *    Jx lies in [q, p) with probability below 2^-128, so no honest
 *    signature is lost in practice.
 */
static int sign_core(const prose_eccsi_signer *s, BN_CTX *ctx, EVP_MD_CTX *mctx,
                     const uint8_t j[N], const uint8_t *msg, size_t msg_len, uint8_t sig[PT + 2 * N]) {
  int rc = PROSE_ENOMEM;
  const EC_GROUP *g = s->group;
  const BIGNUM *q = EC_GROUP_get0_order(g);
  uint8_t r[N];
  uint8_t he[N];
  EC_POINT *jp = EC_POINT_new(g);
  BN_CTX_start(ctx);
  BIGNUM *jx = BN_CTX_get(ctx);
  BIGNUM *rb = BN_CTX_get(ctx);
  BIGNUM *heb = BN_CTX_get(ctx);
  BIGNUM *jb = secret_bn(ctx);
  BIGNUM *t = secret_bn(ctx);
  BIGNUM *u = secret_bn(ctx);
  if (!jp || !u) goto out;

  /* Step 2: J = [j]G, r = Jx as N octets. */
  rc = mul_g_secret(g, j, jp, ctx);
  if (rc) goto out;
  rc = PROSE_ECRYPTO;
  if (EC_POINT_get_affine_coordinates(g, jp, jx, NULL, ctx) != 1) goto out;
  if (BN_bn2binpad(jx, r, N) != N) goto out;
  rc = PROSE_ERANGE;
  if (!scalar_in_range(r)) goto out;

  /* Step 3: HE = hash(HS || r || M), used as an integer mod q. */
  rc = compute_he(mctx, s->sha256, s->hs, r, msg, msg_len, he);
  if (rc) goto out;
  rc = PROSE_ECRYPTO;
  if (!BN_bin2bn(r, N, rb) || !BN_bin2bn(he, N, heb) || !BN_bin2bn(j, N, jb)) goto out;
  if (BN_nnmod(heb, heb, q, ctx) != 1) goto out;

  /* Step 4: t = HE + r*SSK mod q, and t must not be 0. SSK is held as
   * SSK*R, so one Montgomery product gives r*SSK. */
  if (BN_mod_mul_montgomery(t, rb, s->ssk_mont, s->mont, ctx) != 1) goto out;
  if (BN_mod_add_quick(t, t, heb, q) != 1) goto out;
  rc = PROSE_ERANGE;
  if (BN_is_zero(t)) goto out;

  /* Step 5: s' = t^-1 * j mod q, with t^-1 = t^(q-2) (Fermat; q is prime)
   * in constant time. u = t^-1; then j*R and a Montgomery product give
   * u*j without a variable-time reduction. */
  rc = PROSE_ECRYPTO;
  if (BN_mod_exp_mont_consttime(u, t, s->q_minus_2, q, ctx, s->mont) != 1) goto out;
  if (BN_to_montgomery(t, jb, s->mont, ctx) != 1) goto out;
  if (BN_mod_mul_montgomery(u, u, t, s->mont, ctx) != 1) goto out;

  /* Step 6: s' < q always fits in N = 32 octets for P-256, so s = s'.
   * Step 7: Signature = r || s || PVT. */
  if (BN_bn2binpad(u, sig + N, N) != N) goto out;
  memcpy(sig, r, N);
  memcpy(sig + 2 * N, s->pvt, PT);
  rc = 0;
out:
  BN_CTX_end(ctx);
  EC_POINT_clear_free(jp);
  return rc;
}

/* Sign with a given j, leaving sig untouched on failure. */
static int sign_with(const prose_eccsi_signer *s, const uint8_t j[N], const uint8_t *msg,
                     size_t msg_len, uint8_t sig[PROSE_ECCSI_SIG_LEN]) {
  uint8_t tmp[PROSE_ECCSI_SIG_LEN];
  int rc = PROSE_ENOMEM;
  BN_CTX *ctx = BN_CTX_secure_new();
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  if (!ctx || !mctx) goto out;
  rc = sign_core(s, ctx, mctx, j, msg, msg_len, tmp);
  if (!rc) memcpy(sig, tmp, sizeof tmp);
out:
  EVP_MD_CTX_free(mctx);
  BN_CTX_free(ctx);
  return rc;
}

int prose_eccsi_sign_with_j(const prose_eccsi_signer *s, const uint8_t j[32], const uint8_t *msg,
                            size_t msg_len, uint8_t sig[129]) {
  if (!s || !j || !sig || (!msg && msg_len)) return PROSE_EINVAL;
  if (!scalar_in_range(j)) return PROSE_ERANGE;
  return sign_with(s, j, msg, msg_len, sig);
}

int prose_eccsi_sign(const prose_eccsi_signer *s, const prose_rng *rng, const uint8_t *msg,
                     size_t msg_len, uint8_t sig[129]) {
  if (!s || !rng || !sig || (!msg && msg_len)) return PROSE_EINVAL;
  int rc = 0;
  uint8_t j[N];
  for (int i = 0; i < MAX_RESTARTS; i++) {
    /* Step 1: a fresh random j in [1, q) for every attempt; a j is never
     * reused, even when step 4 forces a restart. */
    rc = draw_scalar(rng, j);
    if (!rc) rc = sign_with(s, j, msg, msg_len, sig);
    if (rc != PROSE_ERANGE) break;
  }
  if (rc == PROSE_ERANGE) rc = PROSE_ERNG; /* every j was unusable: the RNG is broken */
  prose_wipe(j, sizeof j);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Verifier (RFC 6507 §5.2.2)                                                */

typedef struct ycache_entry {
  uint8_t *id; /* heap copy of the ID (NULL for an empty ID) */
  size_t id_len;
  uint8_t pvt[PT];
  uint8_t hs[N];
  EC_POINT *y; /* NULL: slot unused */
  uint64_t stamp;
} ycache_entry;

struct prose_eccsi_verifier {
  EC_GROUP *group;
  EC_POINT *kpak;
  uint8_t kpak_oct[PT];
  BN_CTX *ctx;
  EVP_MD *sha256;
  EVP_MD_CTX *mctx;
  uint64_t clock; /* LRU time, bumped on every hit and insertion */
  uint64_t hits;
  uint64_t misses;
  ycache_entry cache[PROSE__ECCSI_YCACHE_SLOTS];
};

static void ycache_clear(ycache_entry *e) {
  free(e->id);
  EC_POINT_free(e->y);
  memset(e, 0, sizeof *e);
}

void prose_eccsi_verifier_free(prose_eccsi_verifier *v) {
  if (!v) return;
  for (size_t i = 0; i < PROSE__ECCSI_YCACHE_SLOTS; i++) ycache_clear(&v->cache[i]);
  EVP_MD_CTX_free(v->mctx);
  EVP_MD_free(v->sha256);
  BN_CTX_free(v->ctx);
  EC_POINT_free(v->kpak);
  EC_GROUP_free(v->group);
  free(v);
}

int prose_eccsi_verifier_new(prose_eccsi_verifier **out, const uint8_t kpak[65]) {
  if (!out || !kpak) return PROSE_EINVAL;
  *out = NULL;
  int rc = PROSE_ENOMEM;
  prose_eccsi_verifier *v = calloc(1, sizeof *v);
  if (!v) goto out;
  v->group = p256_new();
  v->ctx = BN_CTX_new();
  v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  v->mctx = EVP_MD_CTX_new();
  v->kpak = v->group ? EC_POINT_new(v->group) : NULL;
  if (!v->ctx || !v->sha256 || !v->mctx || !v->kpak) goto out;
  rc = point_decode(v->group, kpak, v->kpak, v->ctx);
  if (rc) goto out;
  memcpy(v->kpak_oct, kpak, PT);
  *out = v;
  v = NULL;
out:
  prose_eccsi_verifier_free(v);
  return rc;
}

/* Index of the cache slot holding (id, pvt), or PROSE__ECCSI_YCACHE_SLOTS. */
static size_t ycache_find(const prose_eccsi_verifier *v, const uint8_t *id, size_t id_len,
                          const uint8_t pvt[PT]) {
  size_t i = 0;
  for (; i < PROSE__ECCSI_YCACHE_SLOTS; i++) {
    const ycache_entry *e = &v->cache[i];
    if (e->y && e->id_len == id_len && memcmp(e->pvt, pvt, PT) == 0 &&
        (id_len == 0 || memcmp(e->id, id, id_len) == 0))
      break;
  }
  return i;
}

/* Store Y for (id, pvt), evicting the least recently used entry. Takes
 * ownership of y; a failed allocation just leaves the pair uncached. */
static void ycache_insert(prose_eccsi_verifier *v, const uint8_t *id, size_t id_len,
                          const uint8_t pvt[PT], const uint8_t hs[N], EC_POINT *y) {
  uint8_t *copy = NULL;
  if (id_len) {
    copy = malloc(id_len);
    if (!copy) {
      EC_POINT_free(y);
      return;
    }
    memcpy(copy, id, id_len);
  }
  ycache_entry *victim = &v->cache[0];
  for (size_t i = 0; i < PROSE__ECCSI_YCACHE_SLOTS; i++) {
    ycache_entry *e = &v->cache[i];
    if (!e->y) {
      victim = e;
      break;
    }
    if (e->stamp < victim->stamp) victim = e;
  }
  ycache_clear(victim);
  victim->id = copy;
  victim->id_len = id_len;
  memcpy(victim->pvt, pvt, PT);
  memcpy(victim->hs, hs, N);
  victim->y = y;
  victim->stamp = ++v->clock;
}

/*
 * RFC 6507 §5.2.2 steps 1, 2 and 4 for a pair that is not cached: check PVT,
 * HS = hash(G || KPAK || ID || PVT), Y = [HS]PVT + KPAK. For honest keys
 * Y = [SSK]G with SSK != 0, so Y = O can only come from a forged PVT and is
 * rejected as a bad signature.
 */
static int compute_y(prose_eccsi_verifier *v, const uint8_t *id, size_t id_len,
                     const uint8_t pvt[PT], uint8_t hs[N], EC_POINT *y) {
  const EC_GROUP *g = v->group;
  int rc = PROSE_ENOMEM;
  EC_POINT *pv = EC_POINT_new(g);
  BN_CTX_start(v->ctx);
  BIGNUM *hsb = BN_CTX_get(v->ctx);
  if (!pv || !hsb) goto out;
  rc = point_decode(g, pvt, pv, v->ctx);
  if (!rc) rc = compute_hs(v->mctx, v->sha256, v->kpak_oct, id, id_len, pvt, hs);
  if (rc) goto out;
  rc = PROSE_ECRYPTO;
  if (!BN_bin2bn(hs, N, hsb)) goto out;
  if (EC_POINT_mul(g, y, NULL, pv, hsb, v->ctx) != 1) goto out;
  if (EC_POINT_add(g, y, y, v->kpak, v->ctx) != 1) goto out;
  rc = EC_POINT_is_at_infinity(g, y) ? PROSE_ESIG : 0;
out:
  BN_CTX_end(v->ctx);
  EC_POINT_free(pv);
  return rc;
}

/*
 * RFC 6507 §5.2.2 steps 3, 5 and 6 given HS and Y: HE = hash(HS || r || M),
 * J = [s]([HE]G + [r]Y) computed as the one double multiplication
 * [s*HE]G + [s*r]Y, and accept iff J != O and Jx = r (r < q < p, so
 * "Jx = r mod p" is plain equality of the encodings).
 */
static int check_j(prose_eccsi_verifier *v, const uint8_t hs[N], const EC_POINT *y,
                   const uint8_t r[N], const uint8_t s[N], const uint8_t *msg, size_t msg_len) {
  const EC_GROUP *g = v->group;
  const BIGNUM *q = EC_GROUP_get0_order(g);
  uint8_t he[N];
  uint8_t jx_oct[N];
  int rc = PROSE_ENOMEM;
  EC_POINT *jp = EC_POINT_new(g);
  BN_CTX_start(v->ctx);
  BIGNUM *heb = BN_CTX_get(v->ctx);
  BIGNUM *rb = BN_CTX_get(v->ctx);
  BIGNUM *sb = BN_CTX_get(v->ctx);
  BIGNUM *a = BN_CTX_get(v->ctx);
  BIGNUM *b = BN_CTX_get(v->ctx);
  BIGNUM *jx = BN_CTX_get(v->ctx);
  if (!jp || !jx) goto out;
  rc = compute_he(v->mctx, v->sha256, hs, r, msg, msg_len, he);
  if (rc) goto out;
  rc = PROSE_ECRYPTO;
  if (!BN_bin2bn(he, N, heb) || !BN_bin2bn(r, N, rb) || !BN_bin2bn(s, N, sb)) goto out;
  if (BN_mod_mul(a, sb, heb, q, v->ctx) != 1 || BN_mod_mul(b, sb, rb, q, v->ctx) != 1) goto out;
  if (EC_POINT_mul(g, jp, a, y, b, v->ctx) != 1) goto out;
  rc = PROSE_ESIG;
  if (EC_POINT_is_at_infinity(g, jp)) goto out;
  rc = PROSE_ECRYPTO;
  if (EC_POINT_get_affine_coordinates(g, jp, jx, NULL, v->ctx) != 1) goto out;
  if (BN_bn2binpad(jx, jx_oct, N) != N) goto out;
  rc = memcmp(jx_oct, r, N) == 0 ? 0 : PROSE_ESIG;
out:
  BN_CTX_end(v->ctx);
  EC_POINT_free(jp);
  return rc;
}

int prose_eccsi_verify(prose_eccsi_verifier *v, const uint8_t *id, size_t id_len, const uint8_t *msg,
                       size_t msg_len, const uint8_t *sig, size_t sig_len) {
  if (!v || !sig || (!id && id_len) || (!msg && msg_len)) return PROSE_EINVAL;
  if (sig_len != PROSE_ECCSI_SIG_LEN) return PROSE_ELEN;
  const uint8_t *r = sig;
  const uint8_t *s = sig + N;
  const uint8_t *pvt = sig + 2 * N;
  /* r = Jx must be non-zero (§5.2.2 step 6) and an honest s lies in [1, q)
   * (§5.2.1 step 5 with j != 0). Our signers also keep r below q (see
   * sign_core), so anything else is rejected before any curve arithmetic. */
  if (!scalar_in_range(r) || !scalar_in_range(s)) return PROSE_ESIG;

  int rc;
  uint8_t hs[N];
  EC_POINT *fresh = NULL;
  const EC_POINT *y;
  size_t slot = ycache_find(v, id, id_len, pvt);
  if (slot < PROSE__ECCSI_YCACHE_SLOTS) {
    ycache_entry *e = &v->cache[slot];
    /* The PVT was validated and Y computed when this pair first verified. */
    v->hits++;
    e->stamp = ++v->clock;
    memcpy(hs, e->hs, N);
    y = e->y;
  } else {
    v->misses++;
    fresh = EC_POINT_new(v->group);
    if (!fresh) return PROSE_ENOMEM;
    rc = compute_y(v, id, id_len, pvt, hs, fresh);
    if (rc) goto out;
    y = fresh;
  }
  rc = check_j(v, hs, y, r, s, msg, msg_len);
  /* Only pairs with a valid signature enter the cache, so a flood of forged
   * (ID, PVT) pairs cannot evict the senders actually in use. */
  if (!rc && fresh) {
    ycache_insert(v, id, id_len, pvt, hs, fresh);
    fresh = NULL;
  }
out:
  EC_POINT_free(fresh);
  return rc;
}

int prose__eccsi_verifier_peek_y(const prose_eccsi_verifier *v, const uint8_t *id, size_t id_len,
                                 const uint8_t pvt[65], uint8_t y[65]) {
  if (!v || !pvt || !y || (!id && id_len)) return PROSE_EINVAL;
  size_t slot = ycache_find(v, id, id_len, pvt);
  if (slot == PROSE__ECCSI_YCACHE_SLOTS) return PROSE_ENOENT;
  return point_encode(v->group, v->cache[slot].y, y, NULL);
}

void prose__eccsi_verifier_stats(const prose_eccsi_verifier *v, uint64_t *hits, uint64_t *misses) {
  if (hits) *hits = v ? v->hits : 0;
  if (misses) *misses = v ? v->misses : 0;
}
