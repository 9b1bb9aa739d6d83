/*
 * Fixed-width 1024-bit Montgomery arithmetic for SAKKE (RFC 6508 with
 * parameter set 1 of RFC 6509).
 *
 * Elements are 16 little-endian 64-bit limbs. Two kinds of routine live here:
 *
 *  - fp1024_mod_*: generic arithmetic modulo any odd modulus n < 2^1024 held
 *    in an fp1024_mod (used for the scalar field mod q and for tests). These
 *    always run the portable C code.
 *  - fp1024_*: arithmetic modulo the SAKKE prime p, the hot path of the
 *    pairing and the curve. Multiplication and squaring dispatch to a fast
 *    x86-64 AVX-512 IFMA implementation when the CPU has one, else to the
 *    portable code; both give bit-identical results (fully reduced in
 *    [0, p), Montgomery radix R = 2^1024).
 *
 * Every routine runs in constant time with respect to the values of its
 * operands (no secret-dependent branches or memory indices) unless its name
 * ends in _vartime. Exponents given to the pow routines are public.
 */
#ifndef PROSE_FP1024_H
#define PROSE_FP1024_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FP1024_LIMBS 16
#define FP1024_BYTES 128

typedef struct fp1024 {
  uint64_t v[FP1024_LIMBS]; /* little-endian limbs */
} fp1024;

/* An odd modulus n < 2^1024 with its Montgomery constants (R = 2^1024). */
typedef struct fp1024_mod {
  fp1024 n;
  uint64_t n0; /* -n^-1 mod 2^64 */
  fp1024 r1;   /* R mod n: the Montgomery form of 1 */
  fp1024 r2;   /* R^2 mod n: converts into Montgomery form */
  fp1024 nm2;  /* n - 2: the Fermat exponent for inversion when n is prime */
} fp1024_mod;

/* Implementations of the mod-p multiplication. */
typedef enum fp1024_impl {
  FP1024_IMPL_PORTABLE = 0,
  FP1024_IMPL_IFMA = 1, /* x86-64 AVX-512 IFMA, radix 2^52 */
} fp1024_impl;

/* One-time set-up (thread-safe, idempotent): the constants of p and q and
 * the choice of the fastest available implementation (the environment
 * variable PROSE_FP1024=portable keeps the portable one, for comparisons).
 * Call before use. */
void fp1024_init(void);
/* The SAKKE prime p and group order q (valid after fp1024_init). */
const fp1024_mod *fp1024_p(void);
const fp1024_mod *fp1024_q(void);
/* Whether an implementation can run on this CPU. */
bool fp1024_impl_available(fp1024_impl impl);
/* Select the implementation used by fp1024_mul/fp1024_sqr (tests and
 * benchmarks). Returns 0, or -1 if it is unavailable. Not thread-safe with
 * concurrent arithmetic: call it only while no other thread computes. */
int fp1024_select(fp1024_impl impl);
fp1024_impl fp1024_selected(void);

/* ---- Plain integers (no modulus) ---- */

/* Big-endian octets (len <= 128) to limbs. */
void fp1024_from_be(fp1024 *r, const uint8_t *be, size_t len);
/* Limbs to 128 big-endian octets. */
void fp1024_to_be(uint8_t be[FP1024_BYTES], const fp1024 *a);
/* r = a + b, returns the carry out. */
uint64_t fp1024_add_raw(fp1024 *r, const fp1024 *a, const fp1024 *b);
/* r = a - b, returns the borrow out (1 if a < b). */
uint64_t fp1024_sub_raw(fp1024 *r, const fp1024 *a, const fp1024 *b);
/* All-ones if a < b, else 0. */
uint64_t fp1024_lt_mask(const fp1024 *a, const fp1024 *b);
/* All-ones if a == b / a == 0, else 0. */
uint64_t fp1024_eq_mask(const fp1024 *a, const fp1024 *b);
uint64_t fp1024_is_zero_mask(const fp1024 *a);
/* r = mask ? a : r (mask all-ones or zero). */
void fp1024_cmov(fp1024 *r, const fp1024 *a, uint64_t mask);
/* Bit i of a (i public). */
static inline unsigned fp1024_bit(const fp1024 *a, unsigned i) {
  return (unsigned)(a->v[i >> 6] >> (i & 63)) & 1u;
}

/* ---- Generic modular arithmetic (portable, any odd n) ---- */

/* Set up the constants for the odd modulus given big-endian (len <= 128). */
void fp1024_mod_init(fp1024_mod *m, const uint8_t *be, size_t len);
/* Montgomery product r = a * b * R^-1 mod n for a, b < n. */
void fp1024_mod_mul(const fp1024_mod *m, fp1024 *r, const fp1024 *a, const fp1024 *b);
/* r = a + b mod n, r = a - b mod n (inputs < n). */
void fp1024_mod_add(const fp1024_mod *m, fp1024 *r, const fp1024 *a, const fp1024 *b);
void fp1024_mod_sub(const fp1024_mod *m, fp1024 *r, const fp1024 *a, const fp1024 *b);
/* Conversions between plain residues (< n) and Montgomery form. */
void fp1024_mod_to_mont(const fp1024_mod *m, fp1024 *r, const fp1024 *a);
void fp1024_mod_from_mont(const fp1024_mod *m, fp1024 *r, const fp1024 *a);
/* r = a mod n for any 1024-bit a, in constant time (a < 2^k * n assumed for
 * the k = shifts given: subtracts 2^(k-1) n, ..., 2n, n conditionally). */
void fp1024_mod_reduce_small(const fp1024_mod *m, fp1024 *r, const fp1024 *a, unsigned shifts);
/* Montgomery-form power r = a^e (e public, plain integer). */
void fp1024_mod_pow(const fp1024_mod *m, fp1024 *r, const fp1024 *a, const fp1024 *e);

/* ---- Arithmetic mod p (dispatching hot path) ---- */

/* r = a b R^-1 mod p, fully reduced, for a < 2^1024 and b < p (so a may be
 * an unreduced value, as in fp1024_from_bytes). r may alias a or b. */
void fp1024_mul(fp1024 *r, const fp1024 *a, const fp1024 *b);
void fp1024_sqr(fp1024 *r, const fp1024 *a);
/* Two independent products r0 = a0 b0 and r1 = a1 b1; the fast path overlaps
 * their latencies. r0 must not alias a1 or b1 (the portable path computes
 * the products in order). */
void fp1024_mul2(fp1024 *r0, const fp1024 *a0, const fp1024 *b0, fp1024 *r1, const fp1024 *a1,
                 const fp1024 *b1);
/* The portable and fast implementations, callable directly for tests. */
void fp1024_mul_portable(fp1024 *r, const fp1024 *a, const fp1024 *b);
void fp1024_sqr_portable(fp1024 *r, const fp1024 *a);
/* Addition, subtraction and negation of residues in [0, p). */
void fp1024_add(fp1024 *r, const fp1024 *a, const fp1024 *b);
void fp1024_sub(fp1024 *r, const fp1024 *a, const fp1024 *b);
void fp1024_neg(fp1024 *r, const fp1024 *a);
/* r = 2a. */
void fp1024_dbl(fp1024 *r, const fp1024 *a);
/* r = a^-1 (Bernstein-Yang divsteps, constant time; 0 maps to 0). */
void fp1024_inv(fp1024 *r, const fp1024 *a);
/* The same by Fermat's little theorem, a^(p-2): a slower cross-check. */
void fp1024_inv_fermat(fp1024 *r, const fp1024 *a);
/* r = a^e for a public plain exponent e. */
void fp1024_pow(fp1024 *r, const fp1024 *a, const fp1024 *e);
/* r = 1 in Montgomery form. */
void fp1024_set_one(fp1024 *r);
/* 128 big-endian octets to Montgomery form; returns 0, or -1 if the value is
 * not below p (r is then unspecified). Constant time in the value. */
int fp1024_from_bytes(fp1024 *r, const uint8_t be[FP1024_BYTES]);
/* Montgomery form to 128 big-endian octets of the canonical residue. */
void fp1024_to_bytes(uint8_t be[FP1024_BYTES], const fp1024 *a);

#endif
