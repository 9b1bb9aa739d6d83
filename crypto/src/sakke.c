/*
 * SAKKE (RFC 6508) with parameter set 1 of RFC 6509: the public API of
 * prose/sakke.h on top of fp1024 (field) and sakke_curve (curve, combs,
 * pairing).
 *
 * Secret values are z (KMS master secret), the RSK K_(b,S), the SSV and r
 * with everything derived from them (r*b, g^r, the pairing value, masks).
 * They only meet constant-time code; identifiers b, Z, R and [b]P + Z are
 * public.
 */
#include "prose/sakke.h"

#include <limits.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/util.h"
#include "sakke_curve.h"

#define SHA256_LEN 32
/* Identifiers longer than this are refused (a MIKEY-SAKKE UID is 32 octets). */
#define SAKKE_MAX_ID_LEN 4096

struct prose_sakke_pub {
  sakke_aff Z;
  sakke_comb ztab; /* comb of Z for [r]Z */
};

struct prose_sakke_recipient {
  sakke_aff T;        /* [b]P + Z (public) */
  sakke_comb ttab;    /* comb of T for the TEST check */
  sakke_line *lines;  /* Miller-loop lines of the RSK (secret) */
  size_t nlines;
  uint8_t *id;        /* b as octets, for r = HashToIntegerRange(SSV || b, q) */
  size_t id_len;
};

/* ------------------------------------------------------------------------ */
/* Hashing (RFC 6508 §5.1)                                                   */
/* ------------------------------------------------------------------------ */

/* out = SHA-256(a || b). */
static int sha256_2(uint8_t out[SHA256_LEN], const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx) return PROSE_ENOMEM;
  int ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
           EVP_DigestUpdate(ctx, a, alen) == 1 && (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
           EVP_DigestFinal_ex(ctx, out, NULL) == 1;
  EVP_MD_CTX_free(ctx);
  return ok ? 0 : PROSE_ECRYPTO;
}

/*
 * v' = v_1 || ... || v_l of HashToIntegerRange for s = s1 || s2:
 * A = H(s), h_0 = 0^32, h_i = H(h_(i-1)), v_i = H(h_i || A).
 */
static int h2r_stream(uint8_t *v, size_t l, const uint8_t *s1, size_t s1len, const uint8_t *s2,
                      size_t s2len) {
  uint8_t a[SHA256_LEN], h[SHA256_LEN];
  int rc = sha256_2(a, s1, s1len, s2, s2len);
  memset(h, 0, sizeof h);
  for (size_t i = 0; rc == 0 && i < l; i++) {
    rc = sha256_2(h, h, sizeof h, NULL, 0);
    if (rc == 0) rc = sha256_2(v + SHA256_LEN * i, h, sizeof h, a, sizeof a);
  }
  prose_wipe(a, sizeof a);
  prose_wipe(h, sizeof h);
  return rc;
}

/* r = HashToIntegerRange(s1 || s2, q) as a plain integer, constant time:
 * l = ceil(1022/256) = 4, and v' < 2^1024 < 8q, so three conditional
 * subtractions (4q, 2q, q) reduce it. */
static int hash_to_q(fp1024 *r, const uint8_t *s1, size_t s1len, const uint8_t *s2, size_t s2len) {
  uint8_t v[4 * SHA256_LEN];
  int rc = h2r_stream(v, 4, s1, s1len, s2, s2len);
  if (rc == 0) {
    fp1024_from_be(r, v, sizeof v);
    fp1024_mod_reduce_small(fp1024_q(), r, r, 3);
  }
  prose_wipe(v, sizeof v);
  return rc;
}

/* mask = HashToIntegerRange(w, 2^128): l = 1, the low 128 bits of v_1. */
static int hash_to_mask(uint8_t mask[PROSE_SAKKE_SSV_LEN], const uint8_t w[PROSE_SAKKE_FP_LEN]) {
  uint8_t v[SHA256_LEN];
  int rc = h2r_stream(v, 1, w, PROSE_SAKKE_FP_LEN, NULL, 0);
  if (rc == 0) memcpy(mask, v + SHA256_LEN - PROSE_SAKKE_SSV_LEN, PROSE_SAKKE_SSV_LEN);
  prose_wipe(v, sizeof v);
  return rc;
}

int prose_sakke_hash_to_range(const uint8_t *s, size_t s_len, const uint8_t *n, size_t n_len,
                              uint8_t *out, size_t out_len) {
  if ((!s && s_len) || !n || !out || n_len == 0 || n_len > INT_MAX / 2) return PROSE_EINVAL;
  BN_CTX *ctx = BN_CTX_new();
  BIGNUM *bn = BN_bin2bn(n, (int)n_len, NULL), *v = BN_new(), *nm1 = BN_new();
  uint8_t *buf = NULL;
  size_t l = 0, vlen = 0;
  int rc = PROSE_ENOMEM;
  if (!ctx || !bn || !v || !nm1) goto out;
  rc = PROSE_EINVAL;
  if (BN_is_zero(bn)) goto out;
  rc = PROSE_ECRYPTO;
  if (!BN_sub(nm1, bn, BN_value_one())) goto out;
  rc = PROSE_EBUFSZ;
  if ((size_t)BN_num_bytes(nm1) > out_len) goto out;
  /* l = ceil(lg(n) / hashlen) with lg(n) the bit length of n. */
  l = ((size_t)BN_num_bits(bn) + 255) / 256;
  vlen = l * SHA256_LEN;
  rc = PROSE_ENOMEM;
  buf = malloc(vlen);
  if (!buf) goto out;
  rc = h2r_stream(buf, l, s, s_len, NULL, 0);
  if (rc) goto out;
  rc = PROSE_ECRYPTO;
  BN_set_flags(v, BN_FLG_CONSTTIME);
  if (!BN_bin2bn(buf, (int)vlen, v) || !BN_mod(v, v, bn, ctx)) goto out;
  if (BN_bn2binpad(v, out, (int)out_len) < 0) goto out;
  rc = 0;
out:
  if (buf) prose_free_secret(buf, vlen);
  BN_clear_free(v);
  BN_free(bn);
  BN_free(nm1);
  BN_CTX_free(ctx);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Scalars                                                                  */
/* ------------------------------------------------------------------------ */

/* b mod q for a public identifier (OpenSSL BN: public, one-off work). */
static int id_to_scalar(fp1024 *b, const uint8_t *id, size_t id_len) {
  if (!id || id_len == 0 || id_len > SAKKE_MAX_ID_LEN) return id ? PROSE_ELEN : PROSE_EINVAL;
  uint8_t qbe[FP1024_BYTES], out[FP1024_BYTES];
  fp1024_to_be(qbe, &fp1024_q()->n);
  BN_CTX *ctx = BN_CTX_new();
  BIGNUM *x = BN_bin2bn(id, (int)id_len, NULL), *q = BN_bin2bn(qbe, sizeof qbe, NULL);
  int rc = PROSE_ENOMEM;
  if (ctx && x && q) {
    rc = PROSE_ECRYPTO;
    if (BN_mod(x, x, q, ctx) && BN_bn2binpad(x, out, sizeof out) == (int)sizeof out) {
      fp1024_from_be(b, out, sizeof out);
      rc = 0;
    }
  }
  BN_free(x);
  BN_free(q);
  BN_CTX_free(ctx);
  return rc;
}

/* z mod q for a secret z of up to 128 octets (z < 2^1024 < 8q). */
static int z_to_scalar(fp1024 *z, const uint8_t *zb, size_t z_len) {
  if (!zb) return PROSE_EINVAL;
  if (z_len == 0 || z_len > FP1024_BYTES) return PROSE_ELEN;
  fp1024_from_be(z, zb, z_len);
  fp1024_mod_reduce_small(fp1024_q(), z, z, 3);
  return 0;
}

/* r = a * b mod q for plain a, b < q, constant time. */
static void mul_mod_q(fp1024 *r, const fp1024 *a, const fp1024 *b) {
  const fp1024_mod *q = fp1024_q();
  fp1024 bm;
  fp1024_mod_to_mont(q, &bm, b);
  fp1024_mod_mul(q, r, a, &bm); /* a * (b R) * R^-1 = a b */
  prose_wipe(&bm, sizeof bm);
}

/* Encode [k]P (k < q, secret allowed). PROSE_ERANGE if the result is O. */
static int mul_base_encode(uint8_t out[PROSE_SAKKE_POINT_LEN], const fp1024 *k) {
  sakke_jac j;
  sakke_aff a;
  sakke_comb_mul(&j, sakke_comb_P(), k, NULL, NULL);
  uint64_t inf = sakke_jac_to_aff(&a, &j);
  if (!inf) sakke_point_encode(out, &a);
  prose_wipe(&j, sizeof j);
  prose_wipe(&a, sizeof a);
  return inf ? PROSE_ERANGE : 0;
}

/* ------------------------------------------------------------------------ */
/* KMS                                                                      */
/* ------------------------------------------------------------------------ */

int prose_sakke_kms_keygen(const prose_rng *rng, uint8_t z[128], uint8_t Z[257]) {
  if (!rng || !z || !Z) return PROSE_EINVAL;
  int rc = sakke_curve_init();
  if (rc) return rc;
  fp1024 k, two;
  memset(&two, 0, sizeof two);
  two.v[0] = 2;
  /* Rejection sampling of z in [2, q - 1] from 1022-bit candidates. */
  for (;;) {
    rc = prose_rng_fill(rng, z, FP1024_BYTES);
    if (rc) goto out;
    z[0] &= 0x3F;
    fp1024_from_be(&k, z, FP1024_BYTES);
    if (fp1024_lt_mask(&k, &fp1024_q()->n) && !fp1024_lt_mask(&k, &two)) break;
  }
  rc = mul_base_encode(Z, &k);
out:
  if (rc) prose_wipe(z, FP1024_BYTES);
  prose_wipe(&k, sizeof k);
  return rc;
}

int prose_sakke_kms_pub_from_z(const uint8_t *z, size_t z_len, uint8_t Z[257]) {
  if (!Z) return PROSE_EINVAL;
  int rc = sakke_curve_init();
  if (rc) return rc;
  fp1024 k;
  rc = z_to_scalar(&k, z, z_len);
  if (rc == 0) rc = fp1024_is_zero_mask(&k) ? PROSE_ERANGE : mul_base_encode(Z, &k);
  prose_wipe(&k, sizeof k);
  return rc;
}

int prose_sakke_issue_rsk(const uint8_t *z, size_t z_len, const uint8_t *id, size_t id_len,
                          uint8_t rsk[257]) {
  if (!rsk) return PROSE_EINVAL;
  int rc = sakke_curve_init();
  if (rc) return rc;
  const fp1024_mod *q = fp1024_q();
  fp1024 k, b, s;
  rc = z_to_scalar(&k, z, z_len);
  if (rc == 0) rc = id_to_scalar(&b, id, id_len);
  if (rc) goto out;
  /* RFC 6508 §6.1.1: K_(b,S) = [(b + z)^-1 mod q]P, via Fermat mod q. */
  fp1024_mod_add(q, &s, &k, &b);
  rc = PROSE_ERANGE;
  if (fp1024_is_zero_mask(&s)) goto out;
  fp1024_mod_to_mont(q, &s, &s);
  fp1024_mod_pow(q, &s, &s, &q->nm2);
  fp1024_mod_from_mont(q, &s, &s);
  rc = mul_base_encode(rsk, &s);
out:
  prose_wipe(&k, sizeof k);
  prose_wipe(&s, sizeof s);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Public side: encapsulation                                               */
/* ------------------------------------------------------------------------ */

/* Decode Z and check that it has order q ([q]Z = O, public: variable time). */
static int decode_kms_point(sakke_aff *z, const uint8_t Z[257]) {
  int rc = sakke_point_decode(z, Z);
  if (rc) return rc;
  sakke_jac t;
  sakke_jac_mul_vartime(&t, z, &fp1024_q()->n);
  return fp1024_is_zero_mask(&t.z) ? 0 : PROSE_EPOINT;
}

int prose_sakke_pub_new(prose_sakke_pub **out, const uint8_t Z[257]) {
  if (!out || !Z) return PROSE_EINVAL;
  *out = NULL;
  int rc = sakke_curve_init();
  if (rc) return rc;
  prose_sakke_pub *pub = malloc(sizeof *pub);
  if (!pub) return PROSE_ENOMEM;
  rc = decode_kms_point(&pub->Z, Z);
  if (rc == 0) rc = sakke_comb_build(&pub->ztab, &pub->Z);
  if (rc) {
    free(pub);
    return rc;
  }
  *out = pub;
  return 0;
}

void prose_sakke_pub_free(prose_sakke_pub *pub) { free(pub); }

/*
 * From R (Jacobian) and g^r (F_p^2): the affine R and the PF_p value of g^r
 * with a single inversion: inv = (Z_R * a)^-1, Z_R^-1 = inv * a and
 * a^-1 = inv * Z_R (Montgomery's trick). Both inputs are secret-derived.
 */
static int encap_finish(uint8_t Rout[PROSE_SAKKE_POINT_LEN], uint8_t w[PROSE_SAKKE_FP_LEN],
                        const sakke_jac *R, const sakke_fp2 *gr) {
  fp1024 inv, zi, ai, t;
  sakke_aff ra;
  fp1024_mul(&t, &R->z, &gr->a);
  int rc = fp1024_is_zero_mask(&t) ? PROSE_ERANGE : 0;
  fp1024_inv(&inv, &t);
  fp1024_mul(&zi, &inv, &gr->a);
  fp1024_mul(&ai, &inv, &R->z);
  fp1024_sqr(&t, &zi);
  fp1024_mul(&ra.x, &R->x, &t);
  fp1024_mul(&t, &t, &zi);
  fp1024_mul(&ra.y, &R->y, &t);
  fp1024_mul(&t, &gr->b, &ai);
  sakke_point_encode(Rout, &ra);
  fp1024_to_bytes(w, &t);
  prose_wipe(&inv, sizeof inv);
  prose_wipe(&zi, sizeof zi);
  prose_wipe(&ai, sizeof ai);
  prose_wipe(&t, sizeof t);
  prose_wipe(&ra, sizeof ra);
  return rc;
}

int prose_sakke_encap(const prose_sakke_pub *pub, const uint8_t *id, size_t id_len,
                      const uint8_t ssv[16], uint8_t ed[273]) {
  if (!pub || !ssv || !ed) return PROSE_EINVAL;
  int rc = sakke_curve_init();
  if (rc) return rc;
  fp1024 b, r, rb;
  sakke_jac R;
  sakke_fp2 gr;
  uint8_t w[PROSE_SAKKE_FP_LEN], mask[PROSE_SAKKE_SSV_LEN];
  rc = id_to_scalar(&b, id, id_len);
  if (rc) return rc;
  /* RFC 6508 §6.2.1 step 1: r = HashToIntegerRange(SSV || b, q). */
  rc = hash_to_q(&r, ssv, PROSE_SAKKE_SSV_LEN, id, id_len);
  if (rc) goto out;
  /* Step 2: R = [r]([b]P + Z) = [r b mod q]P + [r]Z with both combs at once. */
  mul_mod_q(&rb, &r, &b);
  sakke_comb_mul(&R, sakke_comb_P(), &rb, &pub->ztab, &r);
  /* Step 3: H = SSV XOR HashToIntegerRange(g^r, 2^n). */
  sakke_gpow(&gr, &r);
  rc = encap_finish(ed, w, &R, &gr);
  if (rc == 0) rc = hash_to_mask(mask, w);
  if (rc) goto out;
  for (int i = 0; i < PROSE_SAKKE_SSV_LEN; i++)
    ed[PROSE_SAKKE_POINT_LEN + i] = (uint8_t)(ssv[i] ^ mask[i]);
out:
  if (rc) prose_wipe(ed, PROSE_SAKKE_ED_LEN);
  prose_wipe(&r, sizeof r);
  prose_wipe(&rb, sizeof rb);
  prose_wipe(&R, sizeof R);
  prose_wipe(&gr, sizeof gr);
  prose_wipe(w, sizeof w);
  prose_wipe(mask, sizeof mask);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Recipient: decapsulation                                                 */
/* ------------------------------------------------------------------------ */

void prose_sakke_recipient_free(prose_sakke_recipient *rcp) {
  if (!rcp) return;
  if (rcp->lines) prose_free_secret(rcp->lines, rcp->nlines * sizeof *rcp->lines);
  free(rcp->id);
  prose_wipe(rcp, sizeof *rcp);
  free(rcp);
}

/* T = [b]P + Z (public). PROSE_EKEY_INVALID if it is O (b = -z mod q). */
static int recipient_point(sakke_aff *t, const sakke_aff *z, const fp1024 *b) {
  sakke_jac bp, zj;
  sakke_comb_mul(&bp, sakke_comb_P(), b, NULL, NULL);
  sakke_jac_from_aff(&zj, z);
  sakke_jac_add_vartime(&bp, &bp, &zj);
  return sakke_jac_to_aff(t, &bp) ? PROSE_EKEY_INVALID : 0;
}

/* RFC 6508 §6.1.2: <[b]P + Z, K_(b,S)> == g, with the lines of K already
 * computed (the pairing is symmetric on the order-q subgroup). */
static int recipient_check(const prose_sakke_recipient *rcp) {
  fp1024 w;
  uint64_t ok = sakke_pairing_eval(&w, rcp->lines, &rcp->T);
  ok &= fp1024_eq_mask(&w, sakke_g());
  prose_wipe(&w, sizeof w);
  return ok ? 0 : PROSE_EKEY_INVALID;
}

static int recipient_setup(prose_sakke_recipient *rcp, const uint8_t Z[257], const uint8_t rsk[257]) {
  sakke_aff z, k;
  fp1024 b;
  int rc = decode_kms_point(&z, Z);
  if (rc == 0) rc = sakke_point_decode(&k, rsk);
  if (rc == 0) rc = id_to_scalar(&b, rcp->id, rcp->id_len);
  if (rc == 0) rc = recipient_point(&rcp->T, &z, &b);
  if (rc) goto out;
  rcp->nlines = sakke_lines_count();
  rcp->lines = malloc(rcp->nlines * sizeof *rcp->lines);
  rc = PROSE_ENOMEM;
  if (!rcp->lines) goto out;
  rc = sakke_lines_compute(rcp->lines, &k);
  if (rc == PROSE_EPOINT) rc = PROSE_EKEY_INVALID; /* K is not of order q */
  if (rc == 0) rc = recipient_check(rcp);
  if (rc == 0) rc = sakke_comb_build(&rcp->ttab, &rcp->T);
out:
  prose_wipe(&k, sizeof k);
  return rc;
}

int prose_sakke_recipient_new(prose_sakke_recipient **out, const uint8_t Z[257], const uint8_t *id,
                              size_t id_len, const uint8_t rsk[257]) {
  if (!out || !Z || !id || !rsk) return PROSE_EINVAL;
  *out = NULL;
  if (id_len == 0 || id_len > SAKKE_MAX_ID_LEN) return PROSE_ELEN;
  int rc = sakke_curve_init();
  if (rc) return rc;
  prose_sakke_recipient *rcp = calloc(1, sizeof *rcp);
  if (!rcp) return PROSE_ENOMEM;
  rcp->id = malloc(id_len);
  if (!rcp->id) {
    free(rcp);
    return PROSE_ENOMEM;
  }
  memcpy(rcp->id, id, id_len);
  rcp->id_len = id_len;
  rc = recipient_setup(rcp, Z, rsk);
  if (rc) {
    prose_sakke_recipient_free(rcp);
    return rc;
  }
  *out = rcp;
  return 0;
}

int prose_sakke_decap(const prose_sakke_recipient *rcp, const uint8_t *ed, size_t ed_len,
                      uint8_t ssv[16]) {
  if (!rcp || !ed || !ssv) return PROSE_EINVAL;
  if (ed_len != PROSE_SAKKE_ED_LEN) return PROSE_ELEN;
  sakke_aff R;
  sakke_jac test;
  fp1024 w, r;
  uint8_t wb[PROSE_SAKKE_FP_LEN], mask[PROSE_SAKKE_SSV_LEN];
  uint64_t ok = 0;
  int rc = sakke_point_decode(&R, ed);
  if (rc) goto out;
  /* RFC 6508 §6.2.2 step 2: w = <R, K_(b,S)>, evaluated with the RSK's lines. */
  ok = sakke_pairing_eval(&w, rcp->lines, &R);
  fp1024_to_bytes(wb, &w);
  /* Step 3: SSV = H XOR HashToIntegerRange(w, 2^n). */
  rc = hash_to_mask(mask, wb);
  if (rc) goto out;
  for (int i = 0; i < PROSE_SAKKE_SSV_LEN; i++)
    ssv[i] = (uint8_t)(ed[PROSE_SAKKE_POINT_LEN + i] ^ mask[i]);
  /* Steps 4-5: r = HashToIntegerRange(SSV || b, q); TEST = [r]([b]P + Z) must equal R. */
  rc = hash_to_q(&r, ssv, PROSE_SAKKE_SSV_LEN, rcp->id, rcp->id_len);
  if (rc) goto out;
  sakke_comb_mul(&test, &rcp->ttab, &r, NULL, NULL);
  ok &= sakke_jac_eq_aff(&test, &R);
  rc = ok ? 0 : PROSE_ESAKKE_TEST;
out:
  if (rc) prose_wipe(ssv, PROSE_SAKKE_SSV_LEN);
  prose_wipe(&w, sizeof w);
  prose_wipe(&r, sizeof r);
  prose_wipe(wb, sizeof wb);
  prose_wipe(mask, sizeof mask);
  prose_wipe(&test, sizeof test);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Diagnostics                                                              */
/* ------------------------------------------------------------------------ */

int prose_sakke_point_check(const uint8_t pt[257]) {
  if (!pt) return PROSE_EINVAL;
  int rc = sakke_curve_init();
  if (rc) return rc;
  sakke_aff a;
  return sakke_point_decode(&a, pt);
}

int prose_sakke_pairing(const uint8_t a[257], const uint8_t b[257], uint8_t out[128]) {
  if (!a || !b || !out) return PROSE_EINVAL;
  int rc = sakke_curve_init();
  if (rc) return rc;
  sakke_aff pa, pb;
  fp1024 w;
  size_t n = sakke_lines_count();
  sakke_line *lines = NULL;
  rc = sakke_point_decode(&pa, a);
  if (rc == 0) rc = sakke_point_decode(&pb, b);
  if (rc) goto out;
  rc = PROSE_ENOMEM;
  lines = malloc(n * sizeof *lines);
  if (!lines) goto out;
  rc = sakke_lines_compute(lines, &pa);
  if (rc) goto out;
  rc = sakke_pairing_eval(&w, lines, &pb) ? 0 : PROSE_ERANGE;
  if (rc == 0) fp1024_to_bytes(out, &w);
out:
  if (lines) prose_free_secret(lines, n * sizeof *lines);
  prose_wipe(&pa, sizeof pa);
  prose_wipe(&w, sizeof w);
  return rc;
}
