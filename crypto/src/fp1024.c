/*
 * Portable 1024-bit Montgomery arithmetic (16 x 64-bit limbs) and the
 * dispatch to the fast path. See fp1024.h for the contract.
 *
 * Constant time: every loop bound is fixed, and the only data-dependent
 * choices are made with all-ones/all-zero masks (conditional subtraction of
 * the modulus, conditional moves). Exponents of the pow routines are public
 * (p - 2 and q - 2), so their windows may be read with ordinary branches.
 */
#include "fp1024.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fp1024_ifma.h"
#include "prose/util.h"

__extension__ typedef unsigned __int128 u128;

#define N FP1024_LIMBS

/* Add and subtract with carry: the x86-64 intrinsics compile to adc/sbb
 * chains; elsewhere 128-bit arithmetic does the same job. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
static inline uint64_t addc(uint64_t a, uint64_t b, uint64_t c, uint64_t *out) {
  unsigned long long o;
  uint64_t k = _addcarry_u64((unsigned char)c, a, b, &o);
  *out = o;
  return k;
}
static inline uint64_t subb(uint64_t a, uint64_t b, uint64_t br, uint64_t *out) {
  unsigned long long o;
  uint64_t k = _subborrow_u64((unsigned char)br, a, b, &o);
  *out = o;
  return k;
}
#else
static inline uint64_t addc(uint64_t a, uint64_t b, uint64_t c, uint64_t *out) {
  u128 s = (u128)a + b + c;
  *out = (uint64_t)s;
  return (uint64_t)(s >> 64);
}
static inline uint64_t subb(uint64_t a, uint64_t b, uint64_t br, uint64_t *out) {
  u128 d = (u128)a - b - br;
  *out = (uint64_t)d;
  return (uint64_t)(d >> 64) & 1;
}
#endif

/* RFC 6509 Appendix A, parameter set 1: the prime p and the order q. */
static const uint8_t sakke_p_be[FP1024_BYTES] = {
    0x99, 0x7A, 0xBB, 0x1F, 0x0A, 0x56, 0x3F, 0xDA, 0x65, 0xC6, 0x11, 0x98, 0xDA, 0xD0, 0x65, 0x7A,
    0x41, 0x6C, 0x0C, 0xE1, 0x9C, 0xB4, 0x82, 0x61, 0xBE, 0x9A, 0xE3, 0x58, 0xB3, 0xE0, 0x1A, 0x2E,
    0xF4, 0x0A, 0xAB, 0x27, 0xE2, 0xFC, 0x0F, 0x1B, 0x22, 0x87, 0x30, 0xD5, 0x31, 0xA5, 0x9C, 0xB0,
    0xE7, 0x91, 0xB3, 0x9F, 0xF7, 0xC8, 0x8A, 0x19, 0x35, 0x6D, 0x27, 0xF4, 0xA6, 0x66, 0xA6, 0xD0,
    0xE2, 0x6C, 0x64, 0x87, 0x32, 0x6B, 0x4C, 0xD4, 0x51, 0x2A, 0xC5, 0xCD, 0x65, 0x68, 0x1C, 0xE1,
    0xB6, 0xAF, 0xF4, 0xA8, 0x31, 0x85, 0x2A, 0x82, 0xA7, 0xCF, 0x3C, 0x52, 0x1C, 0x3C, 0x09, 0xAA,
    0x9F, 0x94, 0xD6, 0xAF, 0x56, 0x97, 0x1F, 0x1F, 0xFC, 0xE3, 0xE8, 0x23, 0x89, 0x85, 0x7D, 0xB0,
    0x80, 0xC5, 0xDF, 0x10, 0xAC, 0x7A, 0xCE, 0x87, 0x66, 0x6D, 0x80, 0x7A, 0xFE, 0xA8, 0x5F, 0xEB};
static const uint8_t sakke_q_be[FP1024_BYTES] = {
    0x26, 0x5E, 0xAE, 0xC7, 0xC2, 0x95, 0x8F, 0xF6, 0x99, 0x71, 0x84, 0x66, 0x36, 0xB4, 0x19, 0x5E,
    0x90, 0x5B, 0x03, 0x38, 0x67, 0x2D, 0x20, 0x98, 0x6F, 0xA6, 0xB8, 0xD6, 0x2C, 0xF8, 0x06, 0x8B,
    0xBD, 0x02, 0xAA, 0xC9, 0xF8, 0xBF, 0x03, 0xC6, 0xC8, 0xA1, 0xCC, 0x35, 0x4C, 0x69, 0x67, 0x2C,
    0x39, 0xE4, 0x6C, 0xE7, 0xFD, 0xF2, 0x22, 0x86, 0x4D, 0x5B, 0x49, 0xFD, 0x29, 0x99, 0xA9, 0xB4,
    0x38, 0x9B, 0x19, 0x21, 0xCC, 0x9A, 0xD3, 0x35, 0x14, 0x4A, 0xB1, 0x73, 0x59, 0x5A, 0x07, 0x38,
    0x6D, 0xAB, 0xFD, 0x2A, 0x0C, 0x61, 0x4A, 0xA0, 0xA9, 0xF3, 0xCF, 0x14, 0x87, 0x0F, 0x02, 0x6A,
    0xA7, 0xE5, 0x35, 0xAB, 0xD5, 0xA5, 0xC7, 0xC7, 0xFF, 0x38, 0xFA, 0x08, 0xE2, 0x61, 0x5F, 0x6C,
    0x20, 0x31, 0x77, 0xC4, 0x2B, 0x1E, 0xB3, 0xA1, 0xD9, 0x9B, 0x60, 0x1E, 0xBF, 0xAA, 0x17, 0xFB};

static fp1024_mod g_p, g_q;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static fp1024_impl g_impl = FP1024_IMPL_PORTABLE;
static bool g_have_ifma = false;

/* ------------------------------------------------------------------------ */
/* Plain multi-precision helpers                                            */
/* ------------------------------------------------------------------------ */

void fp1024_from_be(fp1024 *r, const uint8_t *be, size_t len) {
  memset(r, 0, sizeof *r);
  for (size_t i = 0; i < len && i < FP1024_BYTES; i++) {
    size_t pos = len - 1 - i; /* i-th least significant octet */
    r->v[i / 8] |= (uint64_t)be[pos] << (8 * (i % 8));
  }
}

void fp1024_to_be(uint8_t be[FP1024_BYTES], const fp1024 *a) {
  for (size_t i = 0; i < FP1024_BYTES; i++)
    be[FP1024_BYTES - 1 - i] = (uint8_t)(a->v[i / 8] >> (8 * (i % 8)));
}

uint64_t fp1024_add_raw(fp1024 *r, const fp1024 *a, const fp1024 *b) {
  uint64_t c = 0;
#pragma GCC unroll 16
  for (int i = 0; i < N; i++) c = addc(a->v[i], b->v[i], c, &r->v[i]);
  return c;
}

uint64_t fp1024_sub_raw(fp1024 *r, const fp1024 *a, const fp1024 *b) {
  uint64_t br = 0;
#pragma GCC unroll 16
  for (int i = 0; i < N; i++) br = subb(a->v[i], b->v[i], br, &r->v[i]);
  return br;
}

uint64_t fp1024_lt_mask(const fp1024 *a, const fp1024 *b) {
  fp1024 t;
  return 0 - fp1024_sub_raw(&t, a, b);
}

uint64_t fp1024_is_zero_mask(const fp1024 *a) {
  uint64_t acc = 0;
  for (int i = 0; i < N; i++) acc |= a->v[i];
  /* acc == 0 exactly when (acc | -acc) has its top bit clear. */
  return ((acc | (0 - acc)) >> 63) - 1;
}

uint64_t fp1024_eq_mask(const fp1024 *a, const fp1024 *b) {
  fp1024 d;
  for (int i = 0; i < N; i++) d.v[i] = a->v[i] ^ b->v[i];
  return fp1024_is_zero_mask(&d);
}

void fp1024_cmov(fp1024 *r, const fp1024 *a, uint64_t mask) {
  for (int i = 0; i < N; i++) r->v[i] ^= mask & (r->v[i] ^ a->v[i]);
}

/*
 * r = t mod n for t = hi * 2^1024 + lo < 2n (hi is 0 or 1): subtract n once
 * when t >= n, chosen by mask. Shared tail of every Montgomery routine.
 */
static inline void final_sub(uint64_t r[N], const uint64_t lo[N], uint64_t hi, const uint64_t n[N]) {
  uint64_t d[N], br = 0;
#pragma GCC unroll 16
  for (int i = 0; i < N; i++) br = subb(lo[i], n[i], br, &d[i]);
  /* Keep t - n if t had a 2^1024 bit or the subtraction did not borrow. */
  uint64_t take = 0 - ((hi | (br ^ 1)) & 1);
#pragma GCC unroll 16
  for (int i = 0; i < N; i++) r[i] = (d[i] & take) | (lo[i] & ~take);
}

/* ------------------------------------------------------------------------ */
/* Montgomery multiplication (CIOS) and squaring (SOS), portable C           */
/* ------------------------------------------------------------------------ */

/*
 * Coarsely integrated operand scanning: for each limb b[i], add a * b[i]
 * into t, then add m * n with m chosen so the lowest limb vanishes, and
 * shift one limb down. With a, b < n (or a < 2^1024 and b < n) the result
 * is below 2n before the final subtraction.
 */
static void mont_mul(uint64_t r[N], const uint64_t a[N], const uint64_t b[N], const uint64_t n[N],
                     uint64_t n0) {
  uint64_t t[N + 2];
  memset(t, 0, sizeof t);
  for (int i = 0; i < N; i++) {
    uint64_t c = 0;
    u128 s;
    uint64_t bi = b[i];
#pragma GCC unroll 16
    for (int j = 0; j < N; j++) {
      s = (u128)a[j] * bi + t[j] + c;
      t[j] = (uint64_t)s;
      c = (uint64_t)(s >> 64);
    }
    s = (u128)t[N] + c;
    t[N] = (uint64_t)s;
    t[N + 1] = (uint64_t)(s >> 64);
    uint64_t m = t[0] * n0;
    s = (u128)m * n[0] + t[0];
    c = (uint64_t)(s >> 64);
#pragma GCC unroll 16
    for (int j = 1; j < N; j++) {
      s = (u128)m * n[j] + t[j] + c;
      t[j - 1] = (uint64_t)s;
      c = (uint64_t)(s >> 64);
    }
    s = (u128)t[N] + c;
    t[N - 1] = (uint64_t)s;
    t[N] = t[N + 1] + (uint64_t)(s >> 64);
  }
  final_sub(r, t, t[N], n);
}

/*
 * Montgomery reduction of a 2048-bit t (t < n * R): 16 rounds, each adding
 * m * n at limb i so that limb i vanishes. The carry out of the top limb of
 * each round is kept in `top` and added in the next round one limb higher.
 */
static void mont_redc(uint64_t r[N], uint64_t t[2 * N], const uint64_t n[N], uint64_t n0) {
  uint64_t top = 0;
  for (int i = 0; i < N; i++) {
    uint64_t m = t[i] * n0, c = 0;
    u128 s;
#pragma GCC unroll 16
    for (int j = 0; j < N; j++) {
      s = (u128)m * n[j] + t[i + j] + c;
      t[i + j] = (uint64_t)s;
      c = (uint64_t)(s >> 64);
    }
    s = (u128)t[i + N] + c + top;
    t[i + N] = (uint64_t)s;
    top = (uint64_t)(s >> 64);
  }
  final_sub(r, t + N, top, n);
}

/* t = a^2 (2048 bits): off-diagonal products once, doubled, plus squares. */
static void sqr_wide(uint64_t t[2 * N], const uint64_t a[N]) {
  memset(t, 0, 2 * N * sizeof t[0]);
  for (int i = 0; i < N - 1; i++) {
    uint64_t c = 0, ai = a[i];
    for (int j = i + 1; j < N; j++) {
      u128 s = (u128)ai * a[j] + t[i + j] + c;
      t[i + j] = (uint64_t)s;
      c = (uint64_t)(s >> 64);
    }
    t[i + N] = c;
  }
  /* Double the cross products: shift the whole 2048-bit value left by one. */
  for (int i = 2 * N - 1; i > 0; i--) t[i] = (t[i] << 1) | (t[i - 1] >> 63);
  t[0] <<= 1;
  uint64_t c = 0;
  for (int i = 0; i < N; i++) {
    u128 sq = (u128)a[i] * a[i];
    u128 s = (u128)t[2 * i] + (uint64_t)sq + c;
    t[2 * i] = (uint64_t)s;
    s = (u128)t[2 * i + 1] + (uint64_t)(sq >> 64) + (uint64_t)(s >> 64);
    t[2 * i + 1] = (uint64_t)s;
    c = (uint64_t)(s >> 64);
  }
}

/* ------------------------------------------------------------------------ */
/* Generic modulus                                                          */
/* ------------------------------------------------------------------------ */

/* r = 2a mod n for a < n (n may use all 1024 bits, so keep the carry). */
static void mod_dbl(const fp1024_mod *m, fp1024 *r, const fp1024 *a) {
  fp1024_mod_add(m, r, a, a);
}

void fp1024_mod_init(fp1024_mod *m, const uint8_t *be, size_t len) {
  memset(m, 0, sizeof *m);
  fp1024_from_be(&m->n, be, len);
  /* Newton's iteration for n^-1 mod 2^64: each step doubles the number of
   * correct low bits, starting from 3 correct bits (n * n == 1 mod 8). */
  uint64_t inv = m->n.v[0];
  for (int i = 0; i < 6; i++) inv *= 2 - m->n.v[0] * inv;
  m->n0 = 0 - inv;
  /* R mod n and R^2 mod n by repeated doubling of 1 (set-up only). */
  fp1024 x;
  memset(&x, 0, sizeof x);
  x.v[0] = 1;
  for (int i = 0; i < 1024; i++) mod_dbl(m, &x, &x);
  m->r1 = x;
  for (int i = 0; i < 1024; i++) mod_dbl(m, &x, &x);
  m->r2 = x;
  fp1024 two;
  memset(&two, 0, sizeof two);
  two.v[0] = 2;
  fp1024_sub_raw(&m->nm2, &m->n, &two);
}

void fp1024_mod_mul(const fp1024_mod *m, fp1024 *r, const fp1024 *a, const fp1024 *b) {
  mont_mul(r->v, a->v, b->v, m->n.v, m->n0);
}

void fp1024_mod_add(const fp1024_mod *m, fp1024 *r, const fp1024 *a, const fp1024 *b) {
  fp1024 s;
  uint64_t c = fp1024_add_raw(&s, a, b);
  final_sub(r->v, s.v, c, m->n.v);
}

void fp1024_mod_sub(const fp1024_mod *m, fp1024 *r, const fp1024 *a, const fp1024 *b) {
  fp1024 d;
  uint64_t mask = 0 - fp1024_sub_raw(&d, a, b), c = 0;
#pragma GCC unroll 16
  for (int i = 0; i < N; i++) c = addc(d.v[i], m->n.v[i] & mask, c, &r->v[i]);
}

void fp1024_mod_to_mont(const fp1024_mod *m, fp1024 *r, const fp1024 *a) {
  mont_mul(r->v, a->v, m->r2.v, m->n.v, m->n0);
}

void fp1024_mod_from_mont(const fp1024_mod *m, fp1024 *r, const fp1024 *a) {
  fp1024 one;
  memset(&one, 0, sizeof one);
  one.v[0] = 1;
  mont_mul(r->v, a->v, one.v, m->n.v, m->n0);
}

void fp1024_mod_reduce_small(const fp1024_mod *m, fp1024 *r, const fp1024 *a, unsigned shifts) {
  fp1024 x = *a;
  for (unsigned k = shifts; k-- > 0;) {
    /* ns = n << k; the caller guarantees it fits in 1024 bits. */
    fp1024 ns, d;
    for (int i = N - 1; i >= 0; i--) {
      uint64_t lo = (k && i > 0) ? m->n.v[i - 1] >> (64 - k) : 0;
      ns.v[i] = (m->n.v[i] << k) | lo;
    }
    uint64_t keep = 0 - fp1024_sub_raw(&d, &x, &ns); /* all-ones if x < ns */
    fp1024_cmov(&x, &d, ~keep);
  }
  *r = x;
}

typedef void (*mulfn)(const void *ctx, fp1024 *r, const fp1024 *a, const fp1024 *b);

/*
 * Left-to-right sliding-window exponentiation with 5-bit windows over odd
 * powers. The exponent is public, so branching on its bits leaks nothing
 * about the base. Multiplications are constant time in the base.
 */
static void pow_sliding(mulfn mul, const void *ctx, fp1024 *r, const fp1024 *a, const fp1024 *e,
                        const fp1024 *one) {
  fp1024 tab[16], a2, acc = *one;
  tab[0] = *a;
  mul(ctx, &a2, a, a);
  for (int i = 1; i < 16; i++) mul(ctx, &tab[i], &tab[i - 1], &a2);
  int i = 1023;
  while (i >= 0 && !fp1024_bit(e, (unsigned)i)) i--;
  while (i >= 0) {
    if (!fp1024_bit(e, (unsigned)i)) {
      mul(ctx, &acc, &acc, &acc);
      i--;
      continue;
    }
    /* Longest window [i..j] of at most 5 bits ending in a set bit. */
    int j = i - 4 < 0 ? 0 : i - 4;
    while (!fp1024_bit(e, (unsigned)j)) j++;
    unsigned w = 0;
    for (int k = i; k >= j; k--) {
      mul(ctx, &acc, &acc, &acc);
      w = (w << 1) | fp1024_bit(e, (unsigned)k);
    }
    mul(ctx, &acc, &acc, &tab[w >> 1]);
    i = j - 1;
  }
  *r = acc;
  prose_wipe(tab, sizeof tab);
  prose_wipe(&a2, sizeof a2);
  prose_wipe(&acc, sizeof acc);
}

static void mod_mul_cb(const void *ctx, fp1024 *r, const fp1024 *a, const fp1024 *b) {
  fp1024_mod_mul(ctx, r, a, b);
}

void fp1024_mod_pow(const fp1024_mod *m, fp1024 *r, const fp1024 *a, const fp1024 *e) {
  pow_sliding(mod_mul_cb, m, r, a, e, &m->r1);
}

/* ------------------------------------------------------------------------ */
/* Constant-time inversion mod p by divsteps (Bernstein-Yang "safegcd")     */
/* ------------------------------------------------------------------------ */

/*
 * Fermat's a^(p - 2) costs about 1200 multiplications; the divstep algorithm
 * of Bernstein and Yang ("Fast constant-time gcd computation and modular
 * inversion", 2019) needs a fixed number of cheap steps instead:
 *
 *   divstep(delta, f, g) = (1 - delta, g, (g - f)/2)         if delta > 0, g odd
 *                          (1 + delta, f, (g + (g mod 2) f)/2) otherwise
 *
 * Starting from delta = 1, f = p (odd), g = x, g reaches 0 and f = +-1 after
 * at most floor((49 d + 57)/17) = 2954 steps for d = 1024 (their Theorem
 * 11.2); extra steps leave everything unchanged. Steps run in batches of 62
 * on the low 64 bits of f and g, which is all they look at, and each batch's
 * 2x2 transition matrix (entries below 2^62 in absolute value) is then
 * applied to the full f and g, and to d and e with d x == f, e x == g
 * (mod p), so that at the end x^-1 = d * f. Numbers here are signed, in 17
 * limbs of 62 bits (limbs 0..15 in [0, 2^62), limb 16 signed).
 *
 * The code relies on >> of negative signed integers being arithmetic, as
 * it is with GCC and Clang.
 */
#define SG_LIMBS 17
#define SG_BATCHES 49 /* 49 * 62 = 3038 >= 2954 divsteps */
#define M62 (((uint64_t)1 << 62) - 1)
__extension__ typedef __int128 i128;

typedef struct sg_num {
  int64_t v[SG_LIMBS];
} sg_num;

static struct {
  sg_num p;       /* p in radix 2^62 */
  uint64_t pinv;  /* p^-1 mod 2^62 */
  fp1024 r3;      /* R^3 mod p: moves a plain inverse of a Montgomery value back */
} g_sg;

static void sg_from_fp(sg_num *r, const fp1024 *a) {
  for (int i = 0; i < SG_LIMBS; i++) {
    uint64_t x = 0;
    for (int b = 0; b < 62; b++) {
      unsigned pos = (unsigned)(62 * i + b);
      if (pos < 1024) x |= (uint64_t)fp1024_bit(a, pos) << b;
    }
    r->v[i] = (int64_t)x;
  }
}

/* The same conversion without a per-bit loop, for the hot path. */
static void sg_load(sg_num *r, const fp1024 *a) {
#pragma GCC unroll 17
  for (int i = 0; i < SG_LIMBS; i++) {
    const int bit = 62 * i, w = bit / 64, s = bit % 64;
    uint64_t x = a->v[w] >> s;
    if (s > 2 && w + 1 < N) x |= a->v[w + 1] << (64 - s);
    r->v[i] = (int64_t)(x & M62);
  }
}

/* A nonnegative sg_num below 2^1024 back to 16 limbs. */
static void sg_store(fp1024 *r, const sg_num *a) {
#pragma GCC unroll 16
  for (int k = 0; k < N; k++) {
    const int bit = 64 * k, j = bit / 62, s = bit % 62;
    uint64_t x = (uint64_t)a->v[j] >> s;
    x |= (uint64_t)a->v[j + 1] << (62 - s);
    if (s > 60 && j + 2 < SG_LIMBS) x |= (uint64_t)a->v[j + 2] << (124 - s);
    r->v[k] = x;
  }
}

static void sg_setup(void) {
  sg_from_fp(&g_sg.p, &g_p.n);
  uint64_t x = g_p.n.v[0];
  for (int i = 0; i < 6; i++) x *= 2 - g_p.n.v[0] * x; /* p^-1 mod 2^64 */
  g_sg.pinv = x & M62;
  mont_mul(g_sg.r3.v, g_p.r2.v, g_p.r2.v, g_p.n.v, g_p.n0);
}

/* 62 divsteps on the low words of f and g; t = (u, v, q, r) with
 * 2^62 (f', g') = (u f + v g, q f + r g). Returns the new delta. */
static int64_t sg_divsteps(int64_t delta, uint64_t f, uint64_t g, int64_t t[4]) {
  uint64_t u = 1, v = 0, q = 0, r = 1;
  for (int i = 0; i < 62; i++) {
    /* delta > 0 and g odd: swap (f, g) = (g, -f) and the rows likewise. */
    const uint64_t sw = (0 - (g & 1)) & (uint64_t)((0 - delta) >> 63);
    uint64_t x = (f ^ g) & sw;
    f ^= x;
    g ^= x;
    g = (g ^ sw) - sw;
    x = (u ^ q) & sw;
    u ^= x;
    q ^= x;
    q = (q ^ sw) - sw;
    x = (v ^ r) & sw;
    v ^= x;
    r ^= x;
    r = (r ^ sw) - sw;
    delta = (int64_t)(((uint64_t)delta ^ sw) - sw) + 1;
    /* g odd: g += f. Then g is even; halve it (the f row doubles). */
    const uint64_t odd = 0 - (g & 1);
    g += f & odd;
    q += u & odd;
    r += v & odd;
    g >>= 1;
    u <<= 1;
    v <<= 1;
  }
  t[0] = (int64_t)u;
  t[1] = (int64_t)v;
  t[2] = (int64_t)q;
  t[3] = (int64_t)r;
  return delta;
}

/* (f, g) = (u f + v g, q f + r g) / 2^62, exactly. */
static void sg_update_fg(sg_num *f, sg_num *g, const int64_t t[4]) {
  i128 cf = (i128)t[0] * f->v[0] + (i128)t[1] * g->v[0];
  i128 cg = (i128)t[2] * f->v[0] + (i128)t[3] * g->v[0];
  cf >>= 62; /* the low 62 bits are zero by construction */
  cg >>= 62;
  for (int i = 1; i < SG_LIMBS; i++) {
    cf += (i128)t[0] * f->v[i] + (i128)t[1] * g->v[i];
    cg += (i128)t[2] * f->v[i] + (i128)t[3] * g->v[i];
    f->v[i - 1] = (int64_t)((uint64_t)cf & M62);
    g->v[i - 1] = (int64_t)((uint64_t)cg & M62);
    cf >>= 62;
    cg >>= 62;
  }
  f->v[SG_LIMBS - 1] = (int64_t)cf;
  g->v[SG_LIMBS - 1] = (int64_t)cg;
}

/* (d, e) = (u d + v e, q d + r e) / 2^62 mod p: add the multiple of p that
 * makes each numerator divisible by 2^62. If |d|, |e| < B before, they are
 * below B + p after (|u| + |v| <= 2^62), so 49 batches stay below 50p. */
static void sg_update_de(sg_num *d, sg_num *e, const int64_t t[4]) {
  const uint64_t sd = (uint64_t)t[0] * (uint64_t)d->v[0] + (uint64_t)t[1] * (uint64_t)e->v[0];
  const uint64_t se = (uint64_t)t[2] * (uint64_t)d->v[0] + (uint64_t)t[3] * (uint64_t)e->v[0];
  const int64_t md = (int64_t)((0 - sd * g_sg.pinv) & M62);
  const int64_t me = (int64_t)((0 - se * g_sg.pinv) & M62);
  const int64_t *p = g_sg.p.v;
  i128 cd = (i128)t[0] * d->v[0] + (i128)t[1] * e->v[0] + (i128)md * p[0];
  i128 ce = (i128)t[2] * d->v[0] + (i128)t[3] * e->v[0] + (i128)me * p[0];
  cd >>= 62;
  ce >>= 62;
  for (int i = 1; i < SG_LIMBS; i++) {
    cd += (i128)t[0] * d->v[i] + (i128)t[1] * e->v[i] + (i128)md * p[i];
    ce += (i128)t[2] * d->v[i] + (i128)t[3] * e->v[i] + (i128)me * p[i];
    d->v[i - 1] = (int64_t)((uint64_t)cd & M62);
    e->v[i - 1] = (int64_t)((uint64_t)ce & M62);
    cd >>= 62;
    ce >>= 62;
  }
  d->v[SG_LIMBS - 1] = (int64_t)cd;
  e->v[SG_LIMBS - 1] = (int64_t)ce;
}

/* x = x + c y (c = +-2^k or a mask-selected 0), then carries normalised. */
static void sg_addmul(sg_num *x, const sg_num *y, int64_t c) {
  i128 acc = 0;
  for (int i = 0; i < SG_LIMBS - 1; i++) {
    acc += (i128)x->v[i] + (i128)c * y->v[i];
    x->v[i] = (int64_t)((uint64_t)acc & M62);
    acc >>= 62;
  }
  x->v[SG_LIMBS - 1] = (int64_t)(acc + (i128)x->v[SG_LIMBS - 1] + (i128)c * y->v[SG_LIMBS - 1]);
}

/* r = x^-1 mod p for a plain residue x < p (0 maps to 0), constant time. */
static void sg_inverse(fp1024 *r, const fp1024 *x) {
  sg_num f = g_sg.p, g, d, e;
  int64_t t[4], delta = 1;
  sg_load(&g, x);
  memset(&d, 0, sizeof d);
  memset(&e, 0, sizeof e);
  e.v[0] = 1;
  for (int b = 0; b < SG_BATCHES; b++) {
    delta = sg_divsteps(delta, (uint64_t)f.v[0] | ((uint64_t)f.v[1] << 62),
                        (uint64_t)g.v[0] | ((uint64_t)g.v[1] << 62), t);
    sg_update_fg(&f, &g, t);
    sg_update_de(&d, &e, t);
  }
  /* f = +-1 now (or p if x = 0, with d = 0): x^-1 = d f. Negate d if f < 0,
   * bring it from (-50p, 50p) to [0, p) by adding 64p and subtracting
   * 64p, 32p, ..., p wherever that leaves it nonnegative. */
  const int64_t neg = f.v[SG_LIMBS - 1] >> 63;
  sg_num z;
  memset(&z, 0, sizeof z);
  for (int i = 0; i < SG_LIMBS; i++) z.v[i] = (d.v[i] ^ neg) - neg;
  d = z;
  memset(&z, 0, sizeof z);
  sg_addmul(&d, &z, 0); /* normalise the limbs after the negation */
  sg_addmul(&d, &g_sg.p, 64);
  for (int k = 6; k >= 0; k--) {
    z = d;
    sg_addmul(&z, &g_sg.p, -((int64_t)1 << k));
    const uint64_t keep = (uint64_t)(z.v[SG_LIMBS - 1] >> 63); /* all-ones if negative */
    for (int i = 0; i < SG_LIMBS; i++)
      d.v[i] = (int64_t)(((uint64_t)d.v[i] & keep) | ((uint64_t)z.v[i] & ~keep));
  }
  sg_store(r, &d);
  prose_wipe(&f, sizeof f);
  prose_wipe(&g, sizeof g);
  prose_wipe(&d, sizeof d);
  prose_wipe(&e, sizeof e);
  prose_wipe(&z, sizeof z);
}

/* ------------------------------------------------------------------------ */
/* Mod p: set-up and dispatch                                               */
/* ------------------------------------------------------------------------ */

static void init_once(void) {
  fp1024_mod_init(&g_p, sakke_p_be, sizeof sakke_p_be);
  sg_setup();
  fp1024_mod_init(&g_q, sakke_q_be, sizeof sakke_q_be);
#if FP1024_HAVE_IFMA_BUILD
  g_have_ifma = fp1024_ifma_supported();
  if (g_have_ifma) {
    fp1024_ifma_setup(&g_p);
    /* PROSE_FP1024=portable keeps the portable code (for comparisons). */
    const char *env = getenv("PROSE_FP1024");
    if (!env || strcmp(env, "portable") != 0) g_impl = FP1024_IMPL_IFMA;
  }
#endif
}

void fp1024_init(void) { pthread_once(&g_once, init_once); }

const fp1024_mod *fp1024_p(void) { return &g_p; }
const fp1024_mod *fp1024_q(void) { return &g_q; }

bool fp1024_impl_available(fp1024_impl impl) {
  fp1024_init();
  switch (impl) {
    case FP1024_IMPL_PORTABLE:
      return true;
    case FP1024_IMPL_IFMA:
      return g_have_ifma;
  }
  return false;
}

int fp1024_select(fp1024_impl impl) {
  if (!fp1024_impl_available(impl)) return -1;
  g_impl = impl;
  return 0;
}

fp1024_impl fp1024_selected(void) { return g_impl; }

void fp1024_mul_portable(fp1024 *r, const fp1024 *a, const fp1024 *b) {
  mont_mul(r->v, a->v, b->v, g_p.n.v, g_p.n0);
}

void fp1024_sqr_portable(fp1024 *r, const fp1024 *a) {
  uint64_t t[2 * N];
  sqr_wide(t, a->v);
  mont_redc(r->v, t, g_p.n.v, g_p.n0);
}

void fp1024_mul(fp1024 *r, const fp1024 *a, const fp1024 *b) {
#if FP1024_HAVE_IFMA_BUILD
  if (g_impl == FP1024_IMPL_IFMA) {
    fp1024_mul_ifma(r, a, b);
    return;
  }
#endif
  fp1024_mul_portable(r, a, b);
}

void fp1024_mul2(fp1024 *r0, const fp1024 *a0, const fp1024 *b0, fp1024 *r1, const fp1024 *a1,
                 const fp1024 *b1) {
#if FP1024_HAVE_IFMA_BUILD
  if (g_impl == FP1024_IMPL_IFMA) {
    fp1024_mul2_ifma(r0, a0, b0, r1, a1, b1);
    return;
  }
#endif
  fp1024_mul_portable(r0, a0, b0);
  fp1024_mul_portable(r1, a1, b1);
}

void fp1024_sqr(fp1024 *r, const fp1024 *a) {
#if FP1024_HAVE_IFMA_BUILD
  if (g_impl == FP1024_IMPL_IFMA) {
    fp1024_sqr_ifma(r, a);
    return;
  }
#endif
  fp1024_sqr_portable(r, a);
}

void fp1024_add(fp1024 *r, const fp1024 *a, const fp1024 *b) { fp1024_mod_add(&g_p, r, a, b); }
void fp1024_sub(fp1024 *r, const fp1024 *a, const fp1024 *b) { fp1024_mod_sub(&g_p, r, a, b); }
void fp1024_dbl(fp1024 *r, const fp1024 *a) { fp1024_mod_add(&g_p, r, a, a); }

void fp1024_neg(fp1024 *r, const fp1024 *a) {
  /* p - a, except that 0 must stay 0 (p is not a canonical residue). */
  uint64_t nz = ~fp1024_is_zero_mask(a);
  fp1024 d;
  fp1024_sub_raw(&d, &g_p.n, a);
#pragma GCC unroll 16
  for (int i = 0; i < N; i++) r->v[i] = d.v[i] & nz;
}

static void p_mul_cb(const void *ctx, fp1024 *r, const fp1024 *a, const fp1024 *b) {
  (void)ctx;
  if (a == b)
    fp1024_sqr(r, a);
  else
    fp1024_mul(r, a, b);
}

void fp1024_pow(fp1024 *r, const fp1024 *a, const fp1024 *e) {
  pow_sliding(p_mul_cb, NULL, r, a, e, &g_p.r1);
}

void fp1024_inv(fp1024 *r, const fp1024 *a) {
  /* a = x R; its plain inverse is x^-1 R^-1, and a Montgomery product with
   * R^3 turns that into x^-1 R. */
  fp1024 t;
  sg_inverse(&t, a);
  fp1024_mul(r, &t, &g_sg.r3);
  prose_wipe(&t, sizeof t);
}

void fp1024_inv_fermat(fp1024 *r, const fp1024 *a) { fp1024_pow(r, a, &g_p.nm2); }

void fp1024_set_one(fp1024 *r) { *r = g_p.r1; }

int fp1024_from_bytes(fp1024 *r, const uint8_t be[FP1024_BYTES]) {
  fp1024 x;
  fp1024_from_be(&x, be, FP1024_BYTES);
  uint64_t ok = fp1024_lt_mask(&x, &g_p.n);
  fp1024_mul(r, &x, &g_p.r2);
  prose_wipe(&x, sizeof x);
  return ok ? 0 : -1;
}

void fp1024_to_bytes(uint8_t be[FP1024_BYTES], const fp1024 *a) {
  fp1024 one, x;
  memset(&one, 0, sizeof one);
  one.v[0] = 1;
  fp1024_mul(&x, a, &one);
  fp1024_to_be(be, &x);
  prose_wipe(&x, sizeof x);
}
