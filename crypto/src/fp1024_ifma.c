/*
 * Montgomery multiplication mod the SAKKE prime p with AVX-512 IFMA
 * (vpmadd52luq / vpmadd52huq), selected at run time by fp1024.c.
 *
 * Representation. Inside this file a value is 20 digits of 52 bits (radix
 * 2^52, 1040 bits) held in three 512-bit registers of 8 lanes (lanes 20..23
 * are zero). Digits may be "unnormalised": a lane can exceed 2^52 until the
 * final carry propagation. The fp1024 interface stays 16 x 64-bit limbs, so
 * every call converts in (a byte permutation) and out.
 *
 * Radix. The almost-Montgomery multiplication (AMM) below divides by
 * R' = 2^1040. To produce the same Montgomery form as the portable code
 * (R = 2^1024) the first operand enters as a' = a * 2^16, which is just a
 * different byte permutation (a < 2^1024, so a' < 2^1040 still fits):
 * AMM(a', b) = a * 2^16 * b / 2^1040 = a * b / 2^1024 mod p. With a' < R'
 * and b < p the AMM output is below a' b / R' + p < 2p, and one
 * constant-time conditional subtraction makes it canonical, bit-identical to
 * the portable path (which has the same contract: a < 2^1024, b < p).
 *
 * Cost. A product is 20 steps of 12 IFMA instructions (8 on 512-bit and 4
 * on 256-bit registers) plus a short scalar chain per step; the conversions
 * in and out add about 20 ns. mul2 interleaves two independent products so
 * that each hides the other's latency.
 *
 * Constant time: no branches or memory indices depend on operand values;
 * carries and the final subtraction are computed arithmetically and applied
 * through masks. Stack temporaries are not wiped (as in the portable code):
 * the callers wipe the long-lived secrets.
 */
#include "fp1024_ifma.h"

#if FP1024_HAVE_IFMA_BUILD

#include <immintrin.h>
#include <string.h>

#define IFMA_FN __attribute__((target("avx512f,avx512vl,avx512bw,avx512ifma,avx512vbmi,bmi2")))
#define IFMA_INLINE static inline __attribute__((always_inline)) IFMA_FN

__extension__ typedef unsigned __int128 u128;

#define DIGITS 20
#define LANES 24
#define M52 ((uint64_t)0xFFFFFFFFFFFFF)
#define KMAX 2

/* Byte permutation turning 16 limbs (shifted left by 0 or 16 bits) into 20
 * digits: lane j takes 8 octets from octet floor(bit/8) and shifts right by
 * bit mod 8, bit = 52 j - shift. Octets outside the input are zeroed. */
typedef struct conv_tab {
  _Alignas(64) uint8_t idx[3][64];
  _Alignas(64) uint64_t sh[LANES];
  uint64_t kmask[3];
} conv_tab;

static struct {
  _Alignas(64) uint64_t p[LANES];       /* digits of p */
  uint64_t k0;                          /* -p^-1 mod 2^52 */
  conv_tab shifted, plain;              /* a' = a * 2^16, and b as it is */
  _Alignas(64) uint8_t pack_idx[2][64]; /* 13-octet chunks out of 16-octet slots */
  uint64_t pl[FP1024_LIMBS];            /* p as limbs */
} K;

bool fp1024_ifma_supported(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512ifma") &&
         __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("bmi2");
}

static void conv_setup(conv_tab *t, int shift) {
  memset(t, 0, sizeof *t);
  for (int j = 0; j < DIGITS; j++) {
    int bit = 52 * j - shift;
    int byte0 = bit >= 0 ? bit / 8 : -((-bit + 7) / 8);
    t->sh[j] = (uint64_t)(bit - 8 * byte0);
    for (int b = 0; b < 8; b++) {
      int src = byte0 + b, lane = j % 8, reg = j / 8;
      if (src < 0 || src >= 128) continue;
      t->idx[reg][8 * lane + b] = (uint8_t)src;
      t->kmask[reg] |= (uint64_t)1 << (8 * lane + b);
    }
  }
}

/* Digits of a plain (non-Montgomery) 16-limb value, portable. */
static void digits_of(uint64_t d[LANES], const fp1024 *x) {
  memset(d, 0, LANES * sizeof d[0]);
  for (int j = 0; j < DIGITS; j++) {
    for (int bit = 0; bit < 52; bit++) {
      int pos = 52 * j + bit;
      if (pos < 1024 && fp1024_bit(x, (unsigned)pos)) d[j] |= (uint64_t)1 << bit;
    }
  }
}

void fp1024_ifma_setup(const fp1024_mod *p) {
  digits_of(K.p, &p->n);
  /* -p^-1 mod 2^52 by Newton's iteration (each step doubles the correct
   * low bits, from 3 since p * p == 1 mod 8). */
  uint64_t x = K.p[0];
  for (int i = 0; i < 5; i++) x *= 2 - K.p[0] * x;
  K.k0 = (0 - x) & M52;
  conv_setup(&K.shifted, 16);
  conv_setup(&K.plain, 0);
  for (int b = 0; b < 64; b++) {
    K.pack_idx[0][b] = (uint8_t)(16 * (b / 13) + b % 13);
    K.pack_idx[1][b] = (uint8_t)(16 * ((64 + b) / 13 - 4) + (64 + b) % 13);
  }
  memcpy(K.pl, p->n.v, sizeof K.pl);
}

IFMA_INLINE void to_digits(__m512i d[3], const fp1024 *x, const conv_tab *t) {
  const __m512i lo = _mm512_loadu_si512((const void *)x->v);
  const __m512i hi = _mm512_loadu_si512((const void *)(x->v + 8));
  const __m512i mask = _mm512_set1_epi64((long long)M52);
#pragma GCC unroll 3
  for (int r = 0; r < 3; r++) {
    __m512i idx = _mm512_load_si512((const void *)t->idx[r]);
    __m512i g = _mm512_maskz_permutex2var_epi8(t->kmask[r], lo, idx, hi);
    g = _mm512_srlv_epi64(g, _mm512_load_si512((const void *)(t->sh + 8 * r)));
    d[r] = _mm512_and_si512(g, mask);
  }
}

/* lo + hi 2^52 = x y for x, y < 2^52 (hi < 2^52). */
IFMA_INLINE void mul52(uint64_t x, uint64_t y, uint64_t *lo, uint64_t *hi) {
  unsigned long long h;
  const uint64_t l = _mulx_u64(x, y, &h);
  *lo = l & M52;
  *hi = (l >> 52) | ((uint64_t)h << 12);
}

/* The two lowest digits of a' = a * 2^16, for the scalar mirror in amm. */
static inline void low_digits(uint64_t d[2], const fp1024 *a) {
  d[0] = (a->v[0] << 16) & M52;
  d[1] = ((a->v[0] >> 36) | (a->v[1] << 28)) & M52;
}

/* Shift a 24-lane value up by one lane, zero filling. */
IFMA_INLINE void shift_up(__m512i out[3], const __m512i in[3]) {
  const __m512i z = _mm512_setzero_si512();
  out[0] = _mm512_alignr_epi64(in[0], z, 7);
  out[1] = _mm512_alignr_epi64(in[1], in[0], 7);
  out[2] = _mm512_alignr_epi64(in[2], in[1], 7);
}

/*
 * nk independent AMMs S[k] = a'[k] * b[k] / 2^1040 (unnormalised, < 2p),
 * with a'[k] given as digits (and its lowest digit in al[k][0]) and b[k] as
 * a digit array.
 *
 * One digit of b per step, in the classic AMM order: add the low halves of
 * a' b_i and of m p (lane 0 becomes a multiple of 2^52), shift down one
 * lane, then add the high halves, which belong one digit up and therefore
 * land in the same lanes after the shift. Every operand then fits in lanes
 * 0..19: two 512-bit registers and one 256-bit register.
 *
 * Latency. The quotient m of step i needs lane 0, which depends on the
 * quotient of step i - 1. Scalar code mirrors lane 0 so that the chain stays
 * in general registers: it reads lane 1 from the vector at the start of the
 * step (which leaves a step of slack) and adds step i's products for lanes 0
 * and 1 itself. The vector's lane 0 is never read back; it lacks only the
 * carry, which is added once at the end. Two independent products (nk = 2)
 * overlap their chains.
 */
IFMA_INLINE void amm(__m512i S[KMAX][3], __m512i A[KMAX][3], uint64_t al[KMAX][2],
                     uint64_t bd[KMAX][LANES], int nk) {
  const __m512i z = _mm512_setzero_si512();
  const __m256i zy = _mm256_setzero_si256();
  const __m512i P0 = _mm512_load_si512((const void *)K.p);
  const __m512i P1 = _mm512_load_si512((const void *)(K.p + 8));
  const __m256i P2 = _mm256_load_si256((const void *)(K.p + 16));
  const uint64_t k0 = K.k0, pi0 = K.p[0], pi1 = K.p[1];
  __m512i s0[KMAX], s1[KMAX], a0[KMAX], a1[KMAX];
  __m256i s2[KMAX], a2[KMAX];
  uint64_t l0[KMAX], carry[KMAX];
#pragma GCC unroll 2
  for (int k = 0; k < nk; k++) {
    a0[k] = A[k][0];
    a1[k] = A[k][1];
    a2[k] = _mm512_castsi512_si256(A[k][2]);
    s0[k] = s1[k] = z;
    s2[k] = zy;
    l0[k] = carry[k] = 0;
  }
  for (int i = 0; i < DIGITS; i++) {
#pragma GCC unroll 2
    for (int k = 0; k < nk; k++) {
      const uint64_t b = bd[k][i];
      /* Lane 1 as it stands before this step: the scalar mirror adds this
       * step's products itself, so the read does not wait for them. */
      const uint64_t e1 = (uint64_t)_mm_extract_epi64(_mm512_castsi512_si128(s0[k]), 1);
      const __m512i B = _mm512_broadcastq_epi64(_mm_loadu_si64((const void *)&bd[k][i]));
      const __m256i By = _mm512_castsi512_si256(B);
      s0[k] = _mm512_madd52lo_epu64(s0[k], a0[k], B);
      s1[k] = _mm512_madd52lo_epu64(s1[k], a1[k], B);
      s2[k] = _mm256_madd52lo_epu64(s2[k], a2[k], By);
      __m512i u0 = _mm512_madd52hi_epu64(z, a0[k], B);
      __m512i u1 = _mm512_madd52hi_epu64(z, a1[k], B);
      __m256i u2 = _mm256_madd52hi_epu64(zy, a2[k], By);
      uint64_t abl, abh, pmh;
      mul52(al[k][0], b, &abl, &abh);
      const uint64_t v0 = l0[k] + abl;
      const uint64_t m = (v0 * k0) & M52; /* m = lane 0 * (-p^-1) mod 2^52 */
      /* v0 + lo(pi0 m) is a multiple of 2^52 and lo(pi0 m) < 2^52, so it
       * exceeds v0 rounded down exactly when v0 mod 2^52 is not zero. */
      carry[k] = (v0 >> 52) + (((v0 & M52) + M52) >> 52);
      pmh = (uint64_t)(((u128)pi0 * m) >> 52);
      /* The new lane 0: old lane 1 with this step's low halves, the high
       * halves of lane 0's products, and the carry. */
      l0[k] = e1 + ((al[k][1] * b) & M52) + ((pi1 * m) & M52) + abh + pmh + carry[k];
      const __m512i M = _mm512_set1_epi64((long long)m);
      const __m256i My = _mm512_castsi512_si256(M);
      s0[k] = _mm512_madd52lo_epu64(s0[k], P0, M);
      s1[k] = _mm512_madd52lo_epu64(s1[k], P1, M);
      s2[k] = _mm256_madd52lo_epu64(s2[k], P2, My);
      u0 = _mm512_madd52hi_epu64(u0, P0, M);
      u1 = _mm512_madd52hi_epu64(u1, P1, M);
      u2 = _mm256_madd52hi_epu64(u2, P2, My);
      /* Shift down one lane and add the high halves. */
      s0[k] = _mm512_add_epi64(_mm512_alignr_epi64(s1[k], s0[k], 1), u0);
      s1[k] = _mm512_add_epi64(_mm512_alignr_epi64(_mm512_zextsi256_si512(s2[k]), s1[k], 1), u1);
      s2[k] = _mm256_add_epi64(_mm256_alignr_epi64(zy, s2[k], 1), u2);
    }
  }
#pragma GCC unroll 2
  for (int k = 0; k < nk; k++) {
    /* The vector's lane 0 lacks only the last carry. */
    S[k][0] = _mm512_mask_add_epi64(s0[k], 1, s0[k], _mm512_set1_epi64((long long)carry[k]));
    S[k][1] = s1[k];
    S[k][2] = _mm512_zextsi256_si512(s2[k]);
  }
}

/*
 * Pack digits below 2^52 into 64-bit limbs (the low 1024 bits): each pair of
 * digits is one 13-octet chunk d_2m + d_2m+1 2^52, built in a 16-octet slot
 * and then compacted with one octet permutation per output register.
 */
IFMA_INLINE void pack(uint64_t out[16], const __m512i d[3]) {
  __m512i m[3];
#pragma GCC unroll 3
  for (int r = 0; r < 3; r++) {
    const __m512i odd = _mm512_bsrli_epi128(d[r], 8);
    const __m512i lo = _mm512_or_si512(d[r], _mm512_slli_epi64(odd, 52));
    m[r] = _mm512_unpacklo_epi64(lo, _mm512_srli_epi64(odd, 12));
  }
  const __m512i i0 = _mm512_load_si512((const void *)K.pack_idx[0]);
  const __m512i i1 = _mm512_load_si512((const void *)K.pack_idx[1]);
  _mm512_storeu_si512((void *)out, _mm512_permutex2var_epi8(m[0], i0, m[1]));
  _mm512_storeu_si512((void *)(out + 8), _mm512_permutex2var_epi8(m[1], i1, m[2]));
}

/*
 * r = S mod p for the AMM output S < 2p given as 20 unnormalised digits.
 * Split every digit into its low 52 bits (L) and its excess, which belongs
 * one digit higher (H): L and H are both normalised digit vectors with
 * S = L + H, so each packs directly into limbs. A scalar carry chain adds
 * them and a borrow chain subtracts p once if the sum is at least p.
 */
IFMA_INLINE void finish(fp1024 *r, __m512i S[3]) {
  const __m512i mask = _mm512_set1_epi64((long long)M52);
  __m512i L[3], C[3], H[3];
#pragma GCC unroll 3
  for (int i = 0; i < 3; i++) {
    L[i] = _mm512_and_si512(S[i], mask);
    C[i] = _mm512_srli_epi64(S[i], 52);
  }
  shift_up(H, C);
  _Alignas(64) uint64_t l[16], h[16];
  pack(l, L);
  pack(h, H);
  /* Bits 1024..1039 come from digit 19 of L alone (H's digits there are 0
   * because S < 2^1025). */
  const uint64_t l16 = (uint64_t)_mm_extract_epi64(_mm512_extracti32x4_epi32(L[2], 1), 1) >> 36;
  unsigned long long t[16], d[16];
  unsigned char c = 0, b = 0;
#pragma GCC unroll 16
  for (int i = 0; i < 16; i++) c = _addcarry_u64(c, l[i], h[i], &t[i]);
  const uint64_t t16 = l16 + c;
#pragma GCC unroll 16
  for (int i = 0; i < 16; i++) b = _subborrow_u64(b, t[i], K.pl[i], &d[i]);
  /* Keep t - p unless the 1040-bit subtraction borrowed (t < p), that is
   * unless t16 - b is negative (t16 <= 2, b <= 1). */
  const uint64_t keep = 0 - ((t16 - b) >> 63);
#pragma GCC unroll 16
  for (int i = 0; i < 16; i++) r->v[i] = (d[i] & ~keep) | (t[i] & keep);
}

IFMA_FN void fp1024_mul_ifma(fp1024 *r, const fp1024 *a, const fp1024 *b) {
  __m512i A[KMAX][3], S[KMAX][3], B[3];
  _Alignas(64) uint64_t bd[KMAX][LANES];
  uint64_t al[KMAX][2];
  to_digits(A[0], a, &K.shifted);
  low_digits(al[0], a);
  to_digits(B, b, &K.plain);
#pragma GCC unroll 3
  for (int i = 0; i < 3; i++) _mm512_store_si512((void *)(bd[0] + 8 * i), B[i]);
  amm(S, A, al, bd, 1);
  finish(r, S[0]);
}

IFMA_FN void fp1024_sqr_ifma(fp1024 *r, const fp1024 *a) { fp1024_mul_ifma(r, a, a); }

IFMA_FN void fp1024_mul2_ifma(fp1024 *r0, const fp1024 *a0, const fp1024 *b0, fp1024 *r1,
                              const fp1024 *a1, const fp1024 *b1) {
  __m512i A[KMAX][3], S[KMAX][3], B[3];
  _Alignas(64) uint64_t bd[KMAX][LANES];
  uint64_t al[KMAX][2];
  to_digits(A[0], a0, &K.shifted);
  to_digits(A[1], a1, &K.shifted);
  low_digits(al[0], a0);
  low_digits(al[1], a1);
  to_digits(B, b0, &K.plain);
#pragma GCC unroll 3
  for (int i = 0; i < 3; i++) _mm512_store_si512((void *)(bd[0] + 8 * i), B[i]);
  to_digits(B, b1, &K.plain);
#pragma GCC unroll 3
  for (int i = 0; i < 3; i++) _mm512_store_si512((void *)(bd[1] + 8 * i), B[i]);
  amm(S, A, al, bd, 2);
  finish(r0, S[0]);
  finish(r1, S[1]);
}

#endif
