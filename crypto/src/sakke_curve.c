/*
 * SAKKE curve arithmetic, comb tables and the pairing (see sakke_curve.h).
 *
 * The curve is E: y^2 = x^3 - 3x over F_p (RFC 6509 Appendix A), so a = -3
 * and b = 0. #E(F_p) = p + 1 = 4q, and the pairing of RFC 6508 §3.2 is the
 * reduced Tate pairing composed with the distortion map (x, y) -> (-x, i*y).
 */
#include "sakke_curve.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/util.h"

/* RFC 6509 Appendix A, parameter set 1: the base point P and g = <P, P>. */
static const uint8_t sakke_px_be[FP1024_BYTES] = {
    0x53, 0xFC, 0x09, 0xEE, 0x33, 0x2C, 0x29, 0xAD, 0x0A, 0x79, 0x90, 0x05, 0x3E, 0xD9, 0xB5, 0x2A,
    0x2B, 0x1A, 0x2F, 0xD6, 0x0A, 0xEC, 0x69, 0xC6, 0x98, 0xB2, 0xF2, 0x04, 0xB6, 0xFF, 0x7C, 0xBF,
    0xB5, 0xED, 0xB6, 0xC0, 0xF6, 0xCE, 0x23, 0x08, 0xAB, 0x10, 0xDB, 0x90, 0x30, 0xB0, 0x9E, 0x10,
    0x43, 0xD5, 0xF2, 0x2C, 0xDB, 0x9D, 0xFA, 0x55, 0x71, 0x8B, 0xD9, 0xE7, 0x40, 0x6C, 0xE8, 0x90,
    0x97, 0x60, 0xAF, 0x76, 0x5D, 0xD5, 0xBC, 0xCB, 0x33, 0x7C, 0x86, 0x54, 0x8B, 0x72, 0xF2, 0xE1,
    0xA7, 0x02, 0xC3, 0x39, 0x7A, 0x60, 0xDE, 0x74, 0xA7, 0xC1, 0x51, 0x4D, 0xBA, 0x66, 0x91, 0x0D,
    0xD5, 0xCF, 0xB4, 0xCC, 0x80, 0x72, 0x8D, 0x87, 0xEE, 0x91, 0x63, 0xA5, 0xB6, 0x3F, 0x73, 0xEC,
    0x80, 0xEC, 0x46, 0xC4, 0x96, 0x7E, 0x09, 0x79, 0x88, 0x0D, 0xC8, 0xAB, 0xEA, 0xE6, 0x38, 0x95};
static const uint8_t sakke_py_be[FP1024_BYTES] = {
    0x0A, 0x82, 0x49, 0x06, 0x3F, 0x60, 0x09, 0xF1, 0xF9, 0xF1, 0xF0, 0x53, 0x36, 0x34, 0xA1, 0x35,
    0xD3, 0xE8, 0x20, 0x16, 0x02, 0x99, 0x06, 0x96, 0x3D, 0x77, 0x8D, 0x82, 0x1E, 0x14, 0x11, 0x78,
    0xF5, 0xEA, 0x69, 0xF4, 0x65, 0x4E, 0xC2, 0xB9, 0xE7, 0xF7, 0xF5, 0xE5, 0xF0, 0xDE, 0x55, 0xF6,
    0x6B, 0x59, 0x8C, 0xCF, 0x9A, 0x14, 0x0B, 0x2E, 0x41, 0x6C, 0xFF, 0x0C, 0xA9, 0xE0, 0x32, 0xB9,
    0x70, 0xDA, 0xE1, 0x17, 0xAD, 0x54, 0x7C, 0x6C, 0xCA, 0xD6, 0x96, 0xB5, 0xB7, 0x65, 0x2F, 0xE0,
    0xAC, 0x6F, 0x1E, 0x80, 0x16, 0x4A, 0xA9, 0x89, 0x49, 0x2D, 0x97, 0x9F, 0xC5, 0xA4, 0xD5, 0xF2,
    0x13, 0x51, 0x5A, 0xD7, 0xE9, 0xCB, 0x99, 0xA9, 0x80, 0xBD, 0xAD, 0x5A, 0xD5, 0xBB, 0x46, 0x36,
    0xAD, 0xB9, 0xB5, 0x70, 0x6A, 0x67, 0xDC, 0xDE, 0x75, 0x57, 0x3F, 0xD7, 0x1B, 0xEF, 0x16, 0xD7};
static const uint8_t sakke_g_be[FP1024_BYTES] = {
    0x66, 0xFC, 0x2A, 0x43, 0x2B, 0x6E, 0xA3, 0x92, 0x14, 0x8F, 0x15, 0x86, 0x7D, 0x62, 0x30, 0x68,
    0xC6, 0xA8, 0x7B, 0xD1, 0xFB, 0x94, 0xC4, 0x1E, 0x27, 0xFA, 0xBE, 0x65, 0x8E, 0x01, 0x5A, 0x87,
    0x37, 0x1E, 0x94, 0x74, 0x4C, 0x96, 0xFE, 0xDA, 0x44, 0x9A, 0xE9, 0x56, 0x3F, 0x8B, 0xC4, 0x46,
    0xCB, 0xFD, 0xA8, 0x5D, 0x5D, 0x00, 0xEF, 0x57, 0x70, 0x72, 0xDA, 0x8F, 0x54, 0x17, 0x21, 0xBE,
    0xEE, 0x0F, 0xAE, 0xD1, 0x82, 0x8E, 0xAB, 0x90, 0xB9, 0x9D, 0xFB, 0x01, 0x38, 0xC7, 0x84, 0x33,
    0x55, 0xDF, 0x04, 0x60, 0xB4, 0xA9, 0xFD, 0x74, 0xB4, 0xF1, 0xA3, 0x2B, 0xCA, 0xFA, 0x1F, 0xFA,
    0xD6, 0x82, 0xC0, 0x33, 0xA7, 0x94, 0x2B, 0xCC, 0xE3, 0x72, 0x0F, 0x20, 0xB9, 0xB7, 0xB0, 0x40,
    0x3C, 0x8C, 0xAE, 0x87, 0xB7, 0xA0, 0x04, 0x2A, 0xCD, 0xE0, 0xFA, 0xB3, 0x64, 0x61, 0xEA, 0x46};

/*
 * Comb geometry shared by points and by powers of g: scalars are recoded to
 * 1024 signed bits (see comb_recode), read as 8 teeth of 128 columns.
 */
#define COMB_COLS 128
#define COMB_BITS (SAKKE_COMB_TEETH * COMB_COLS)
/* Powers of g use 4 sub-tables (32 squarings instead of 64). */
#define GCOMB_TABLES 4

/* Miller-loop schedule from the NAF of q - 1 (RFC 6508 §3.2 loops over the
 * bits of q - 1; the NAF gives the same pairing value, see sched_init). */
enum { STEP_DBL = 0, STEP_ADD = 1, STEP_SUB = 2 };
#define MAX_STEPS 1600

static struct {
  int status;
  sakke_aff P;
  fp1024 g;
  sakke_comb ptab;
  fp1024 gtab[GCOMB_TABLES][SAKKE_COMB_ENTRIES];
  uint8_t sched[MAX_STEPS];
  size_t nsched;
} G;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static void fp_from_const(fp1024 *r, const uint8_t be[FP1024_BYTES]) {
  (void)fp1024_from_bytes(r, be); /* constants are below p */
}

/* All-ones if a == b for small public-or-secret integers, without branches. */
static uint64_t ct_eq_u32(uint32_t a, uint32_t b) {
  uint64_t x = (uint64_t)(a ^ b);
  return 0 - ((x - 1) >> 63);
}

/* ------------------------------------------------------------------------ */
/* F_p^2                                                                     */
/* ------------------------------------------------------------------------ */

/* Karatsuba: (a + bi)(c + di) = (ac - bd) + ((a + b)(c + d) - ac - bd) i. */
static void fp2_mul(sakke_fp2 *r, const sakke_fp2 *x, const sakke_fp2 *y) {
  fp1024 t0, t1, s0, s1;
  fp1024_add(&s0, &x->a, &x->b);
  fp1024_add(&s1, &y->a, &y->b);
  fp1024_mul2(&t0, &x->a, &y->a, &t1, &x->b, &y->b);
  fp1024_mul(&s0, &s0, &s1);
  fp1024_sub(&r->a, &t0, &t1);
  fp1024_sub(&s0, &s0, &t0);
  fp1024_sub(&r->b, &s0, &t1);
}

/* (a + bi)^2 = (a + b)(a - b) + 2ab i. */
static void fp2_sqr(sakke_fp2 *r, const sakke_fp2 *x) {
  fp1024 s, d, t, u;
  fp1024_add(&s, &x->a, &x->b);
  fp1024_sub(&d, &x->a, &x->b);
  fp1024_mul2(&t, &x->a, &x->b, &u, &s, &d);
  r->a = u;
  fp1024_dbl(&r->b, &t);
}

static void fp2_conj(sakke_fp2 *r, const sakke_fp2 *x) {
  r->a = x->a;
  fp1024_neg(&r->b, &x->b);
}

/* r = x * (1 + t i) = (a - bt) + (b + at) i: two multiplications. */
static void fp2_mul_norm(sakke_fp2 *r, const sakke_fp2 *x, const fp1024 *t) {
  fp1024 bt, at;
  fp1024_mul2(&bt, &x->b, t, &at, &x->a, t);
  fp1024_sub(&r->a, &x->a, &bt);
  fp1024_add(&r->b, &x->b, &at);
}

uint64_t sakke_fp2_to_pfp(fp1024 *w, const sakke_fp2 *x) {
  fp1024 inv;
  fp1024_inv(&inv, &x->a);
  fp1024_mul(w, &x->b, &inv);
  prose_wipe(&inv, sizeof inv);
  return ~fp1024_is_zero_mask(&x->a);
}

/*
 * Montgomery's simultaneous inversion: out[i] = in[i]^-1 for n values with
 * one field inversion and 3(n - 1) multiplications. Constant time; a zero
 * input makes every output zero. out may alias in; tmp holds n elements.
 */
static void batch_inv(fp1024 *out, const fp1024 *in, fp1024 *tmp, size_t n) {
  if (n == 0) return;
  tmp[0] = in[0];
  for (size_t i = 1; i < n; i++) fp1024_mul(&tmp[i], &tmp[i - 1], &in[i]);
  fp1024 acc, t;
  fp1024_inv(&acc, &tmp[n - 1]);
  for (size_t i = n - 1; i > 0; i--) {
    fp1024_mul(&t, &acc, &tmp[i - 1]); /* (in[0..i])^-1 * (in[0..i-1]) */
    fp1024_mul(&acc, &acc, &in[i]);
    out[i] = t;
  }
  out[0] = acc;
  prose_wipe(&acc, sizeof acc);
  prose_wipe(&t, sizeof t);
}

/* ------------------------------------------------------------------------ */
/* Points                                                                   */
/* ------------------------------------------------------------------------ */

/* All-ones if y^2 == x^3 - 3x. */
static uint64_t on_curve_mask(const sakke_aff *a) {
  fp1024 y2, x2, rhs, three;
  fp1024_sqr(&y2, &a->y);
  fp1024_sqr(&x2, &a->x);
  fp1024_set_one(&three);
  fp1024_dbl(&rhs, &three);
  fp1024_add(&three, &rhs, &three);
  fp1024_sub(&x2, &x2, &three);
  fp1024_mul(&rhs, &x2, &a->x);
  return fp1024_eq_mask(&y2, &rhs);
}

int sakke_point_decode(sakke_aff *pt, const uint8_t in[SAKKE_POINT_LEN]) {
  int bad = (in[0] != 0x04);
  bad |= fp1024_from_bytes(&pt->x, in + 1) != 0;
  bad |= fp1024_from_bytes(&pt->y, in + 1 + FP1024_BYTES) != 0;
  bad |= on_curve_mask(pt) == 0;
  return bad ? PROSE_EPOINT : 0;
}

void sakke_point_encode(uint8_t out[SAKKE_POINT_LEN], const sakke_aff *pt) {
  out[0] = 0x04;
  fp1024_to_bytes(out + 1, &pt->x);
  fp1024_to_bytes(out + 1 + FP1024_BYTES, &pt->y);
}

void sakke_jac_from_aff(sakke_jac *r, const sakke_aff *a) {
  r->x = a->x;
  r->y = a->y;
  fp1024_set_one(&r->z);
}

/* dbl-2001-b (a = -3): 3M + 5S, issued as four pairs of independent
 * products. Maps O to O and points with y = 0 to O. */
void sakke_jac_dbl(sakke_jac *r, const sakke_jac *a) {
  fp1024 delta, gamma, beta, alpha, t, u, yz;
  fp1024_add(&yz, &a->y, &a->z);
  fp1024_mul2(&delta, &a->z, &a->z, &gamma, &a->y, &a->y);
  fp1024_sub(&t, &a->x, &delta);
  fp1024_add(&u, &a->x, &delta);
  fp1024_mul2(&beta, &a->x, &gamma, &alpha, &t, &u);
  fp1024_dbl(&t, &alpha);
  fp1024_add(&alpha, &alpha, &t); /* alpha = 3 (X - delta)(X + delta) */
  fp1024_mul2(&t, &alpha, &alpha, &yz, &yz, &yz);
  fp1024_sub(&yz, &yz, &gamma);
  fp1024_sub(&r->z, &yz, &delta); /* Z3 = (Y + Z)^2 - gamma - delta = 2YZ */
  fp1024_dbl(&beta, &beta);
  fp1024_dbl(&beta, &beta); /* 4 beta */
  fp1024_dbl(&u, &beta);
  fp1024_sub(&r->x, &t, &u); /* X3 = alpha^2 - 8 beta */
  fp1024_sub(&t, &beta, &r->x);
  fp1024_mul2(&t, &alpha, &t, &gamma, &gamma, &gamma);
  fp1024_dbl(&gamma, &gamma);
  fp1024_dbl(&gamma, &gamma);
  fp1024_dbl(&gamma, &gamma); /* 8 gamma^2 */
  fp1024_sub(&r->y, &t, &gamma);
}

/* madd-2007-bl: 7M + 4S, issued as five pairs and one single product. */
uint64_t sakke_jac_madd(sakke_jac *r, const sakke_jac *a, const sakke_aff *b) {
  fp1024 z1z1, u2, s2, h, hh, i, j, rr, r2, v, t, yj;
  fp1024_mul2(&z1z1, &a->z, &a->z, &s2, &b->y, &a->z);
  fp1024_mul2(&u2, &b->x, &z1z1, &s2, &s2, &z1z1);
  fp1024_sub(&h, &u2, &a->x);
  uint64_t bad = fp1024_is_zero_mask(&h);
  fp1024_sub(&rr, &s2, &a->y);
  fp1024_dbl(&rr, &rr);
  fp1024_mul2(&hh, &h, &h, &r2, &rr, &rr);
  fp1024_dbl(&i, &hh);
  fp1024_dbl(&i, &i);
  fp1024_mul2(&j, &h, &i, &v, &a->x, &i);
  fp1024_add(&t, &a->z, &h);
  fp1024_mul2(&t, &t, &t, &yj, &a->y, &j);
  fp1024_sub(&t, &t, &z1z1);
  fp1024_sub(&r->z, &t, &hh); /* Z3 = (Z1 + H)^2 - Z1Z1 - HH = 2 Z1 H */
  fp1024_dbl(&yj, &yj);       /* 2 Y1 J */
  fp1024_sub(&t, &r2, &j);
  fp1024_dbl(&u2, &v);
  fp1024_sub(&r->x, &t, &u2); /* X3 = r^2 - J - 2V */
  fp1024_sub(&t, &v, &r->x);
  fp1024_mul(&t, &rr, &t);
  fp1024_sub(&r->y, &t, &yj); /* Y3 = r (V - X3) - 2 Y1 J */
  return bad;
}

void sakke_jac_add_vartime(sakke_jac *r, const sakke_jac *a, const sakke_jac *b) {
  if (fp1024_is_zero_mask(&a->z)) {
    *r = *b;
    return;
  }
  if (fp1024_is_zero_mask(&b->z)) {
    *r = *a;
    return;
  }
  /* add-2007-bl: 11M + 5S. */
  fp1024 z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, t;
  fp1024_sqr(&z1z1, &a->z);
  fp1024_sqr(&z2z2, &b->z);
  fp1024_mul(&u1, &a->x, &z2z2);
  fp1024_mul(&u2, &b->x, &z1z1);
  fp1024_mul(&s1, &a->y, &b->z);
  fp1024_mul(&s1, &s1, &z2z2);
  fp1024_mul(&s2, &b->y, &a->z);
  fp1024_mul(&s2, &s2, &z1z1);
  fp1024_sub(&h, &u2, &u1);
  fp1024_sub(&rr, &s2, &s1);
  if (fp1024_is_zero_mask(&h)) {
    if (fp1024_is_zero_mask(&rr)) {
      sakke_jac_dbl(r, a);
    } else {
      memset(r, 0, sizeof *r); /* a = -b: the sum is O */
    }
    return;
  }
  fp1024_dbl(&rr, &rr);
  fp1024_dbl(&i, &h);
  fp1024_sqr(&i, &i);
  fp1024_mul(&j, &h, &i);
  fp1024_mul(&v, &u1, &i);
  fp1024_add(&t, &a->z, &b->z);
  fp1024_sqr(&t, &t);
  fp1024_sub(&t, &t, &z1z1);
  fp1024_sub(&t, &t, &z2z2);
  fp1024_mul(&r->z, &t, &h);
  fp1024_sqr(&t, &rr);
  fp1024_sub(&t, &t, &j);
  fp1024_dbl(&u2, &v);
  fp1024_sub(&r->x, &t, &u2);
  fp1024_sub(&t, &v, &r->x);
  fp1024_mul(&t, &rr, &t);
  fp1024_mul(&s1, &s1, &j);
  fp1024_dbl(&s1, &s1);
  fp1024_sub(&r->y, &t, &s1);
}

/* Signed binary digits of k (non-adjacent form), least significant first;
 * returns the number of digits. Public k only. */
static size_t naf_digits(int8_t *d, size_t cap, const fp1024 *k) {
  fp1024 x = *k, one;
  size_t n = 0;
  memset(&one, 0, sizeof one);
  one.v[0] = 1;
  while (!fp1024_is_zero_mask(&x) && n < cap) {
    int8_t z = 0;
    if (x.v[0] & 1) {
      z = (x.v[0] & 2) ? -1 : 1;
      if (z == 1)
        fp1024_sub_raw(&x, &x, &one);
      else
        fp1024_add_raw(&x, &x, &one);
    }
    d[n++] = z;
    for (int i = 0; i < FP1024_LIMBS - 1; i++) x.v[i] = (x.v[i] >> 1) | (x.v[i + 1] << 63);
    x.v[FP1024_LIMBS - 1] >>= 1;
  }
  return n;
}

/* Complete mixed addition, variable time: the fast formula, with its
 * exceptional cases (a = O, a = b, a = -b) sorted out afterwards. */
static void jac_madd_vartime(sakke_jac *r, const sakke_jac *a, const sakke_aff *b) {
  if (fp1024_is_zero_mask(&a->z)) {
    sakke_jac_from_aff(r, b);
    return;
  }
  sakke_jac t;
  if (!sakke_jac_madd(&t, a, b)) {
    *r = t;
  } else if (sakke_jac_eq_aff(a, b)) {
    sakke_jac_dbl(r, a);
  } else {
    memset(r, 0, sizeof *r); /* same x, other y: a = -b */
  }
}

void sakke_jac_mul_vartime(sakke_jac *r, const sakke_aff *q, const fp1024 *k) {
  int8_t d[FP1024_LIMBS * 64 + 1];
  size_t n = naf_digits(d, sizeof d, k);
  sakke_jac acc;
  sakke_aff qn = *q;
  memset(&acc, 0, sizeof acc);
  fp1024_neg(&qn.y, &qn.y);
  while (n-- > 0) {
    sakke_jac_dbl(&acc, &acc);
    if (d[n] > 0) jac_madd_vartime(&acc, &acc, q);
    if (d[n] < 0) jac_madd_vartime(&acc, &acc, &qn);
  }
  *r = acc;
}

uint64_t sakke_jac_to_aff(sakke_aff *r, const sakke_jac *a) {
  fp1024 zi, zi2;
  fp1024_inv(&zi, &a->z);
  fp1024_sqr(&zi2, &zi);
  fp1024_mul(&r->x, &a->x, &zi2);
  fp1024_mul(&zi2, &zi2, &zi);
  fp1024_mul(&r->y, &a->y, &zi2);
  prose_wipe(&zi, sizeof zi);
  prose_wipe(&zi2, sizeof zi2);
  return fp1024_is_zero_mask(&a->z);
}

uint64_t sakke_jac_eq_aff(const sakke_jac *a, const sakke_aff *b) {
  fp1024 z2, z3, t;
  fp1024_sqr(&z2, &a->z);
  fp1024_mul(&z3, &z2, &a->z);
  fp1024_mul(&t, &b->x, &z2);
  uint64_t eq = fp1024_eq_mask(&t, &a->x);
  fp1024_mul(&t, &b->y, &z3);
  eq &= fp1024_eq_mask(&t, &a->y);
  return eq & ~fp1024_is_zero_mask(&a->z);
}

/* ------------------------------------------------------------------------ */
/* Fixed-base comb                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Signed comb recoding. For an odd k < 2^1023 let k' = (k + 2^1024 - 1)/2;
 * then k = sum_{i<1024} s_i 2^i with s_i = 2 k'_i - 1 in {-1, +1}, and
 * because k is odd, k' = (k >> 1) + 2^1023. An even k (k < q) is replaced
 * by k + q, which names the same multiple of a point of order q.
 *
 * Column c (0..127) gathers the digits s_{c + 128 i}, i = 0..7. Its value
 * is +-(B7 + sum_{i<7} (2 j_i - 1) B_i) with the sign of s_{c + 896} and
 * j_i = 1 exactly when s_{c + 128 i} has that same sign. digit[c] = j | sign
 * << 7 (sign bit set for +).
 */
static void comb_recode(uint8_t digit[COMB_COLS], const fp1024 *k) {
  fp1024 kq, kk = *k;
  fp1024_add_raw(&kq, k, &fp1024_q()->n);
  fp1024_cmov(&kk, &kq, (k->v[0] & 1) - 1); /* even: use k + q */
  for (int i = 0; i < FP1024_LIMBS - 1; i++) kk.v[i] = (kk.v[i] >> 1) | (kk.v[i + 1] << 63);
  kk.v[FP1024_LIMBS - 1] = (kk.v[FP1024_LIMBS - 1] >> 1) | ((uint64_t)1 << 63);
  for (unsigned c = 0; c < COMB_COLS; c++) {
    unsigned top = fp1024_bit(&kk, c + COMB_COLS * (SAKKE_COMB_TEETH - 1));
    unsigned j = 0;
    for (unsigned i = 0; i < SAKKE_COMB_TEETH - 1; i++)
      j |= (1u ^ fp1024_bit(&kk, c + COMB_COLS * i) ^ top) << i;
    digit[c] = (uint8_t)(j | (top << 7));
  }
  prose_wipe(&kk, sizeof kk);
  prose_wipe(&kq, sizeof kq);
}

/* Constant-time read of entry digit & 127, negated unless the sign bit is set. */
static void comb_lookup(sakke_aff *r, const sakke_aff tab[SAKKE_COMB_ENTRIES], unsigned digit) {
  uint32_t idx = digit & 127;
  memset(r, 0, sizeof *r);
  for (uint32_t e = 0; e < SAKKE_COMB_ENTRIES; e++) {
    uint64_t m = ct_eq_u32(e, idx);
    for (int l = 0; l < FP1024_LIMBS; l++) {
      r->x.v[l] |= tab[e].x.v[l] & m;
      r->y.v[l] |= tab[e].y.v[l] & m;
    }
  }
  fp1024 ny;
  fp1024_neg(&ny, &r->y);
  fp1024_cmov(&r->y, &ny, (uint64_t)(digit >> 7) - 1);
}

/* Convert n Jacobian points to affine with one inversion; returns PROSE_EPOINT if
 * any is O. Public data. tmp holds 2n field elements. */
static int batch_to_aff(sakke_aff *out, const sakke_jac *in, fp1024 *tmp, size_t n) {
  fp1024 *zs = tmp, *scratch = tmp + n;
  for (size_t i = 0; i < n; i++) {
    if (fp1024_is_zero_mask(&in[i].z)) return PROSE_EPOINT;
    zs[i] = in[i].z;
  }
  batch_inv(zs, zs, scratch, n);
  for (size_t i = 0; i < n; i++) {
    fp1024 z2, z3;
    fp1024_sqr(&z2, &zs[i]);
    fp1024_mul(&z3, &z2, &zs[i]);
    fp1024_mul(&out[i].x, &in[i].x, &z2);
    fp1024_mul(&out[i].y, &in[i].y, &z3);
  }
  return 0;
}

/* The table entries of one sub-table from its 8 teeth B_i (Jacobian). */
static void comb_fill(sakke_jac *t, const sakke_jac b[SAKKE_COMB_TEETH]) {
  sakke_jac neg, twice[SAKKE_COMB_TEETH - 1];
  t[0] = b[SAKKE_COMB_TEETH - 1];
  for (int i = 0; i < SAKKE_COMB_TEETH - 1; i++) {
    neg = b[i];
    fp1024_neg(&neg.y, &neg.y);
    sakke_jac_add_vartime(&t[0], &t[0], &neg);
    sakke_jac_dbl(&twice[i], &b[i]);
  }
  /* Entry j differs from entry j - 2^top in digit `top` only: -B_top
   * becomes +B_top, a difference of 2 B_top. */
  for (unsigned j = 1; j < SAKKE_COMB_ENTRIES; j++) {
    unsigned top = 0;
    while ((j >> (top + 1)) != 0) top++;
    sakke_jac_add_vartime(&t[j], &t[j - (1u << top)], &twice[top]);
  }
}

int sakke_comb_build(sakke_comb *c, const sakke_aff *q) {
  const size_t n = (size_t)SAKKE_COMB_TABLES * SAKKE_COMB_ENTRIES;
  sakke_jac *jac = malloc(n * sizeof *jac);
  fp1024 *tmp = malloc(2 * n * sizeof *tmp);
  int rc = PROSE_ENOMEM;
  if (!jac || !tmp) goto out;
  /* base[m][i] = [2^(128 i + 64 m)]Q: 16 points 64 doublings apart. */
  sakke_jac base[SAKKE_COMB_TABLES][SAKKE_COMB_TEETH], cur;
  const unsigned spacing = COMB_COLS / SAKKE_COMB_TABLES;
  sakke_jac_from_aff(&cur, q);
  for (unsigned s = 0; s < SAKKE_COMB_TABLES * SAKKE_COMB_TEETH; s++) {
    if (s) {
      for (unsigned d = 0; d < spacing; d++) sakke_jac_dbl(&cur, &cur);
    }
    base[s % SAKKE_COMB_TABLES][s / SAKKE_COMB_TABLES] = cur;
  }
  for (unsigned m = 0; m < SAKKE_COMB_TABLES; m++)
    comb_fill(jac + (size_t)m * SAKKE_COMB_ENTRIES, base[m]);
  rc = batch_to_aff(&c->t[0][0], jac, tmp, n);
  c->base = *q;
out:
  free(jac);
  free(tmp);
  return rc;
}

void sakke_comb_mul(sakke_jac *r, const sakke_comb *c1, const fp1024 *k1, const sakke_comb *c2,
                    const fp1024 *k2) {
  uint8_t d1[COMB_COLS], d2[COMB_COLS];
  const unsigned spacing = COMB_COLS / SAKKE_COMB_TABLES;
  sakke_jac acc;
  sakke_aff pt;
  uint64_t bad = 0;
  int first = 1;
  comb_recode(d1, k1);
  if (c2) comb_recode(d2, k2);
  for (unsigned col = spacing; col-- > 0;) {
    if (!first) sakke_jac_dbl(&acc, &acc);
    for (unsigned m = 0; m < SAKKE_COMB_TABLES; m++) {
      for (int which = 0; which < (c2 ? 2 : 1); which++) {
        const sakke_comb *c = which ? c2 : c1;
        const uint8_t *d = which ? d2 : d1;
        comb_lookup(&pt, c->t[m], d[col + m * spacing]);
        if (first) {
          sakke_jac_from_aff(&acc, &pt);
          first = 0;
        } else {
          bad |= sakke_jac_madd(&acc, &acc, &pt);
        }
      }
    }
  }
  /*
   * The incomplete addition formula fails only if a partial sum equals +-
   * the table point, which for points of order q needs a relation modulo q
   * between structured partial multiples: it does not happen for secret
   * scalars except with negligible probability. Should it happen, the
   * result is recomputed with complete, variable-time formulas; that
   * reveals only that this rare event occurred.
   */
  if (bad) {
    sakke_jac t;
    sakke_jac_mul_vartime(&acc, &c1->base, k1);
    if (c2) {
      sakke_jac_mul_vartime(&t, &c2->base, k2);
      sakke_jac_add_vartime(&acc, &acc, &t);
      prose_wipe(&t, sizeof t);
    }
  }
  *r = acc;
  prose_wipe(d1, sizeof d1);
  prose_wipe(d2, sizeof d2);
  prose_wipe(&acc, sizeof acc);
  prose_wipe(&pt, sizeof pt);
}

/* ------------------------------------------------------------------------ */
/* Fixed-base exponentiation of g in F_p^2                                  */
/* ------------------------------------------------------------------------ */

/*
 * The same signed comb as for points, in the group F_p^2* / F_p* where g
 * (the element 1 + g i) has order q. Entries are stored normalised as
 * 1 + x i (any F_p factor drops out of the PF_p value), so multiplying by an
 * entry costs two F_p multiplications, and the inverse of an entry is its
 * conjugate 1 - x i, which makes negative digits free.
 */
static void gcomb_fill(sakke_fp2 *t, const sakke_fp2 b[SAKKE_COMB_TEETH]) {
  sakke_fp2 c, twice[SAKKE_COMB_TEETH - 1];
  t[0] = b[SAKKE_COMB_TEETH - 1];
  for (int i = 0; i < SAKKE_COMB_TEETH - 1; i++) {
    fp2_conj(&c, &b[i]);
    fp2_mul(&t[0], &t[0], &c);
    fp2_sqr(&twice[i], &b[i]);
  }
  for (unsigned j = 1; j < SAKKE_COMB_ENTRIES; j++) {
    unsigned top = 0;
    while ((j >> (top + 1)) != 0) top++;
    fp2_mul(&t[j], &t[j - (1u << top)], &twice[top]);
  }
}

static int gcomb_build(void) {
  const size_t n = (size_t)GCOMB_TABLES * SAKKE_COMB_ENTRIES;
  const unsigned spacing = COMB_COLS / GCOMB_TABLES;
  sakke_fp2 *ent = malloc(n * sizeof *ent);
  fp1024 *tmp = malloc(2 * n * sizeof *tmp);
  int rc = PROSE_ENOMEM;
  if (!ent || !tmp) goto out;
  sakke_fp2 base[GCOMB_TABLES][SAKKE_COMB_TEETH], cur;
  fp1024_set_one(&cur.a);
  cur.b = G.g;
  for (unsigned s = 0; s < GCOMB_TABLES * SAKKE_COMB_TEETH; s++) {
    if (s) {
      for (unsigned d = 0; d < spacing; d++) fp2_sqr(&cur, &cur);
    }
    base[s % GCOMB_TABLES][s / GCOMB_TABLES] = cur;
  }
  for (unsigned m = 0; m < GCOMB_TABLES; m++) gcomb_fill(ent + (size_t)m * SAKKE_COMB_ENTRIES, base[m]);
  fp1024 *as = tmp, *scratch = tmp + n;
  for (size_t i = 0; i < n; i++) as[i] = ent[i].a;
  batch_inv(as, as, scratch, n);
  for (size_t i = 0; i < n; i++)
    fp1024_mul(&G.gtab[i / SAKKE_COMB_ENTRIES][i % SAKKE_COMB_ENTRIES], &ent[i].b, &as[i]);
  rc = 0;
out:
  free(ent);
  free(tmp);
  return rc;
}

static void glookup(fp1024 *x, const fp1024 tab[SAKKE_COMB_ENTRIES], unsigned digit) {
  uint32_t idx = digit & 127;
  memset(x, 0, sizeof *x);
  for (uint32_t e = 0; e < SAKKE_COMB_ENTRIES; e++) {
    uint64_t m = ct_eq_u32(e, idx);
    for (int l = 0; l < FP1024_LIMBS; l++) x->v[l] |= tab[e].v[l] & m;
  }
  fp1024 nx;
  fp1024_neg(&nx, x);
  fp1024_cmov(x, &nx, (uint64_t)(digit >> 7) - 1);
}

void sakke_gpow(sakke_fp2 *r, const fp1024 *k) {
  uint8_t d[COMB_COLS];
  const unsigned spacing = COMB_COLS / GCOMB_TABLES;
  sakke_fp2 acc;
  fp1024 x;
  int first = 1;
  comb_recode(d, k);
  for (unsigned col = spacing; col-- > 0;) {
    if (!first) fp2_sqr(&acc, &acc);
    for (unsigned m = 0; m < GCOMB_TABLES; m++) {
      glookup(&x, G.gtab[m], d[col + m * spacing]);
      if (first) {
        fp1024_set_one(&acc.a);
        acc.b = x;
        first = 0;
      } else {
        fp2_mul_norm(&acc, &acc, &x);
      }
    }
  }
  *r = acc;
  prose_wipe(d, sizeof d);
  prose_wipe(&acc, sizeof acc);
  prose_wipe(&x, sizeof x);
}

/* ------------------------------------------------------------------------ */
/* Pairing                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * RFC 6508 §3.2 runs Miller's loop over the bits of q - 1. We run it over
 * the non-adjacent form of q - 1 instead (353 additions rather than 512).
 * A digit -1 multiplies by the line through C and -A and by 1/v_A (the
 * Miller function of [-1]A): vertical lines v(x, y) = x - c evaluate at
 * the distorted point (-Qx, i Qy) to an element of F_p, and every F_p
 * factor vanishes in the PF_p value, as do the verticals of the ordinary
 * loop. Both loops therefore yield the same reduced Tate pairing.
 */
static void sched_init(void) {
  int8_t d[FP1024_LIMBS * 64 + 1];
  fp1024 qm1, one;
  memset(&one, 0, sizeof one);
  one.v[0] = 1;
  fp1024_sub_raw(&qm1, &fp1024_q()->n, &one);
  size_t n = naf_digits(d, sizeof d, &qm1);
  G.nsched = 0;
  for (size_t i = n - 1; i-- > 0;) {
    G.sched[G.nsched++] = STEP_DBL;
    if (d[i] > 0) G.sched[G.nsched++] = STEP_ADD;
    if (d[i] < 0) G.sched[G.nsched++] = STEP_SUB;
  }
}

size_t sakke_lines_count(void) { return G.nsched; }

/*
 * Tangent at C = (X, Y, Z) and C = 2C. With alpha = 3(X^2 - Z^4) the affine
 * slope is lambda = alpha / (2YZ), and the line of RFC 6508 §3.2,
 * lambda (Qx + Cx) - Cy + Qy i, times 2YZ^3 is
 *   alpha Z^2 * Qx + (alpha X - 2Y^2) + 2YZ^3 * Qy i,
 * so (lx, l0, ly) = (alpha delta, alpha X - 2 gamma, Z3 delta) with
 * delta = Z^2, gamma = Y^2 and Z3 = 2YZ of the doubling formula.
 */
static void line_dbl(sakke_jac *c, fp1024 *lx, fp1024 *l0, fp1024 *ly) {
  fp1024 delta, gamma, alpha, t, u;
  fp1024_sqr(&delta, &c->z);
  fp1024_sqr(&gamma, &c->y);
  fp1024_sub(&t, &c->x, &delta);
  fp1024_add(&u, &c->x, &delta);
  fp1024_mul(&alpha, &t, &u);
  fp1024_dbl(&t, &alpha);
  fp1024_add(&alpha, &alpha, &t);
  fp1024_mul(lx, &alpha, &delta);
  fp1024_mul(l0, &alpha, &c->x);
  fp1024_dbl(&t, &gamma);
  fp1024_sub(l0, l0, &t);
  sakke_jac_dbl(c, c);
  fp1024_mul(ly, &c->z, &delta);
  prose_wipe(&alpha, sizeof alpha);
  prose_wipe(&gamma, sizeof gamma);
  prose_wipe(&delta, sizeof delta);
}

/*
 * Chord through C and the affine point B = (x2, y2), and C = C + B. With
 * the madd formula's r = 2(S2 - Y) and Z3 = 2ZH, lambda = r / Z3; the line
 * through B, lambda (Qx + x2) - y2 + Qy i, times Z3 gives
 * (lx, l0, ly) = (r, r x2 - y2 Z3, Z3).
 */
static uint64_t line_add(sakke_jac *c, const sakke_aff *b, fp1024 *lx, fp1024 *l0, fp1024 *ly) {
  fp1024 z1z1, s2, t;
  fp1024_sqr(&z1z1, &c->z);
  fp1024_mul(&s2, &b->y, &c->z);
  fp1024_mul(&s2, &s2, &z1z1);
  fp1024_sub(&t, &s2, &c->y);
  fp1024_dbl(lx, &t);
  uint64_t bad = sakke_jac_madd(c, c, b);
  *ly = c->z;
  fp1024_mul(l0, lx, &b->x);
  fp1024_mul(&t, &b->y, &c->z);
  fp1024_sub(l0, l0, &t);
  prose_wipe(&z1z1, sizeof z1z1);
  prose_wipe(&s2, sizeof s2);
  prose_wipe(&t, sizeof t);
  return bad;
}

int sakke_lines_compute(sakke_line *lines, const sakke_aff *a) {
  const size_t n = G.nsched;
  fp1024 *den = malloc(2 * n * sizeof *den);
  if (!den) return PROSE_ENOMEM;
  sakke_jac c;
  sakke_aff na = *a;
  fp1024_neg(&na.y, &a->y);
  sakke_jac_from_aff(&c, a);
  uint64_t bad = 0;
  for (size_t s = 0; s < n; s++) {
    switch (G.sched[s]) {
      case STEP_DBL:
        line_dbl(&c, &lines[s].lx, &lines[s].l0, &den[s]);
        break;
      case STEP_ADD:
        bad |= line_add(&c, a, &lines[s].lx, &lines[s].l0, &den[s]);
        break;
      default:
        bad |= line_add(&c, &na, &lines[s].lx, &lines[s].l0, &den[s]);
        break;
    }
  }
  /* Normalise every line to lx/ly * Qx + l0/ly + Qy i with one inversion. */
  batch_inv(den, den, den + n, n);
  for (size_t s = 0; s < n; s++) {
    fp1024_mul(&lines[s].lx, &lines[s].lx, &den[s]);
    fp1024_mul(&lines[s].l0, &lines[s].l0, &den[s]);
  }
  /* The loop ends at C = [q - 1]A, which is -A exactly when A has order q. */
  uint64_t ok = sakke_jac_eq_aff(&c, &na) & ~bad;
  prose_wipe(den, 2 * n * sizeof *den);
  free(den);
  prose_wipe(&c, sizeof c);
  prose_wipe(&na, sizeof na);
  return ok ? 0 : PROSE_EPOINT;
}

uint64_t sakke_pairing_eval(fp1024 *w, const sakke_line *lines, const sakke_aff *b) {
  const size_t n = G.nsched;
  sakke_fp2 v;
  fp1024 xi, xn, t0, t1, t2, s, e, sum, dif;
  /* ell_s = xi_s + Qy i with xi_s = lx Qx + l0 (the lines are normalised).
   * xi of the next step is computed alongside the last product of the
   * current one so that every multiplication runs in a pair. */
  fp1024_mul2(&xi, &lines[0].lx, &b->x, &xn, &lines[n > 1 ? 1 : 0].lx, &b->x);
  fp1024_add(&xi, &xi, &lines[0].l0);
  v.a = xi; /* v = 1 before the first (doubling) step: v^2 * ell = ell */
  v.b = b->y;
  xi = xn;
  for (size_t st = 1; st < n; st++) {
    fp1024_add(&xi, &xi, &lines[st].l0);
    if (G.sched[st] == STEP_DBL) {
      fp1024_add(&sum, &v.a, &v.b);
      fp1024_sub(&dif, &v.a, &v.b);
      fp1024_mul2(&t0, &v.a, &v.b, &v.a, &sum, &dif);
      fp1024_dbl(&v.b, &t0);
    }
    /* v * (xi + Qy i), Karatsuba. */
    fp1024_mul2(&t0, &v.a, &xi, &t1, &v.b, &b->y);
    fp1024_add(&s, &v.a, &v.b);
    fp1024_add(&e, &xi, &b->y);
    fp1024_mul2(&t2, &s, &e, &xn, &lines[st + 1 < n ? st + 1 : st].lx, &b->x);
    fp1024_sub(&v.a, &t0, &t1);
    fp1024_sub(&t2, &t2, &t0);
    fp1024_sub(&v.b, &t2, &t1);
    xi = xn;
  }
  /* Final exponentiation: (p + 1)/q = 4, then the PF_p value b/a. */
  fp2_sqr(&v, &v);
  fp2_sqr(&v, &v);
  uint64_t ok = sakke_fp2_to_pfp(w, &v);
  prose_wipe(&v, sizeof v);
  prose_wipe(&xi, sizeof xi);
  prose_wipe(&xn, sizeof xn);
  prose_wipe(&t0, sizeof t0);
  prose_wipe(&t1, sizeof t1);
  prose_wipe(&t2, sizeof t2);
  prose_wipe(&s, sizeof s);
  prose_wipe(&sum, sizeof sum);
  prose_wipe(&dif, sizeof dif);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Set-up                                                                   */
/* ------------------------------------------------------------------------ */

static void init_once(void) {
  fp1024_init();
  fp_from_const(&G.P.x, sakke_px_be);
  fp_from_const(&G.P.y, sakke_py_be);
  fp_from_const(&G.g, sakke_g_be);
  sched_init();
  G.status = sakke_comb_build(&G.ptab, &G.P);
  if (G.status == 0) G.status = gcomb_build();
}

int sakke_curve_init(void) {
  pthread_once(&g_once, init_once);
  return G.status;
}

const sakke_aff *sakke_base_point(void) { return &G.P; }
const fp1024 *sakke_g(void) { return &G.g; }
const sakke_comb *sakke_comb_P(void) { return &G.ptab; }
