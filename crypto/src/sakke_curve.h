/*
 * SAKKE curve and pairing internals (RFC 6508, parameter set 1 of RFC 6509):
 * F_p^2 = F_p[i]/(i^2 + 1), the curve E: y^2 = x^3 - 3x over F_p in
 * Jacobian coordinates, fixed-base comb tables, and the Tate pairing
 * <A, B> of RFC 6508 §3.2 split into a line precomputation for A and an
 * evaluation at B.
 *
 * All field values are in Montgomery form (fp1024.h). Routines are constant
 * time in their operands unless their name ends in _vartime, which is used
 * only for public points (P, Z, [b]P + Z, R) and for the rare exceptional
 * cases of the incomplete addition formula (see sakke_comb_mul).
 */
#ifndef PROSE_SAKKE_CURVE_H
#define PROSE_SAKKE_CURVE_H

#include <stddef.h>
#include <stdint.h>

#include "fp1024.h"

#define SAKKE_POINT_LEN 257

/* a + b*i with i^2 = -1. */
typedef struct sakke_fp2 {
  fp1024 a, b;
} sakke_fp2;

typedef struct sakke_aff {
  fp1024 x, y;
} sakke_aff;

/* Jacobian (X, Y, Z) for the affine point (X/Z^2, Y/Z^3); Z == 0 is O. */
typedef struct sakke_jac {
  fp1024 x, y, z;
} sakke_jac;

/*
 * Fixed-base comb (Lim-Lee with signed all-nonzero digits): 8 teeth spaced
 * 128 bits apart, 2 sub-tables offset by 64 bits, 128 affine points each.
 * Table m, entry j holds 2^(64m) * (B7 + sum_{i<7} (2 j_i - 1) B_i) with
 * B_i = [2^(128 i)]Q. 64 KiB per point.
 */
#define SAKKE_COMB_TEETH 8
#define SAKKE_COMB_ENTRIES 128
#define SAKKE_COMB_TABLES 2
typedef struct sakke_comb {
  sakke_aff t[SAKKE_COMB_TABLES][SAKKE_COMB_ENTRIES];
  sakke_aff base; /* Q itself, for the complete fallback */
} sakke_comb;

/* The Miller-loop lines of a point A: for each step s, ell_s(Q) is
 * proportional to lx * Qx + l0 + Qy * i. */
typedef struct sakke_line {
  fp1024 lx, l0;
} sakke_line;

/* One-time set-up (thread-safe): field constants, P, g, the comb tables of
 * P and g, and the Miller-loop schedule. Returns 0 or PROSE_ENOMEM. */
int sakke_curve_init(void);
const sakke_aff *sakke_base_point(void);
/* g of RFC 6509 as an F_p value (Montgomery form). */
const fp1024 *sakke_g(void);
const sakke_comb *sakke_comb_P(void);

/* Encoding 04 || X || Y. decode: 0 or PROSE_EPOINT (bad prefix, a
 * coordinate >= p, or not on the curve); constant time in the value. */
int sakke_point_decode(sakke_aff *pt, const uint8_t in[SAKKE_POINT_LEN]);
void sakke_point_encode(uint8_t out[SAKKE_POINT_LEN], const sakke_aff *pt);

void sakke_jac_from_aff(sakke_jac *r, const sakke_aff *a);
void sakke_jac_dbl(sakke_jac *r, const sakke_jac *a);
/* r = a + b (b affine). Returns all-ones if the formula hit an exceptional
 * case (a == +-b or a == O), else 0; r is then wrong. */
uint64_t sakke_jac_madd(sakke_jac *r, const sakke_jac *a, const sakke_aff *b);
/* Complete addition (handles O, doubling, inverses), variable time. */
void sakke_jac_add_vartime(sakke_jac *r, const sakke_jac *a, const sakke_jac *b);
/* [k]Q for a plain integer k, variable time: public data only (and the
 * rare fallback of sakke_comb_mul). */
void sakke_jac_mul_vartime(sakke_jac *r, const sakke_aff *q, const fp1024 *k);
/* Affine form; returns all-ones if a is O (r is then zero), else 0. */
uint64_t sakke_jac_to_aff(sakke_aff *r, const sakke_jac *a);
/* All-ones if the Jacobian a equals the affine b (a != O). */
uint64_t sakke_jac_eq_aff(const sakke_jac *a, const sakke_aff *b);

/* Build the comb of a public point of order q. 0, PROSE_EPOINT (a table
 * entry was O: the point is not of order q) or PROSE_ENOMEM. */
int sakke_comb_build(sakke_comb *c, const sakke_aff *q);
/* r = [k1]Q1 + [k2]Q2 (c2 may be NULL for a single product), k < q plain
 * integers, in constant time. The points must have order q. If the
 * incomplete addition formula meets an exceptional case (a partial sum equal
 * to +- a table point: negligible for secret scalars, certain for a single
 * zero scalar) the result is recomputed in variable time, which reveals
 * only that the case occurred. */
void sakke_comb_mul(sakke_jac *r, const sakke_comb *c1, const fp1024 *k1, const sakke_comb *c2,
                    const fp1024 *k2);

/* (1 + g*i)^k in F_p^2 for a plain k < q, constant time (fixed-base comb). */
void sakke_gpow(sakke_fp2 *r, const fp1024 *k);

/* Number of Miller-loop steps (entries of a line array). */
size_t sakke_lines_count(void);
/* Lines of A (secret allowed: constant time). Returns 0, PROSE_EPOINT if A
 * is not of order q ([q-1]A != -A), or PROSE_ENOMEM. */
int sakke_lines_compute(sakke_line *lines, const sakke_aff *a);
/* The pairing in PF_p form, w = b/a of v^4 (Montgomery form), from the
 * lines of one point evaluated at the public point b. Returns all-ones
 * unless a was zero (w is then 0). */
uint64_t sakke_pairing_eval(fp1024 *w, const sakke_line *lines, const sakke_aff *b);

/* PF_p value b/a of x (constant time); returns all-ones unless a == 0. */
uint64_t sakke_fp2_to_pfp(fp1024 *w, const sakke_fp2 *x);

#endif
