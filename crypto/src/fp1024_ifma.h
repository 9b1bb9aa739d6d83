/*
 * The x86-64 AVX-512 IFMA implementation of multiplication and squaring
 * mod p (radix 2^52), selected at run time by fp1024.c. Results are
 * bit-identical to the portable code: Montgomery radix R = 2^1024, fully
 * reduced in [0, p).
 */
#ifndef PROSE_FP1024_IFMA_H
#define PROSE_FP1024_IFMA_H

#include <stdbool.h>

#include "fp1024.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FP1024_HAVE_IFMA_BUILD 1
/* Whether the CPU (and the OS) support AVX-512F/VL/BW/IFMA/VBMI and BMI2. */
bool fp1024_ifma_supported(void);
/* Derive the radix-2^52 constants of p (called once from fp1024_init). */
void fp1024_ifma_setup(const fp1024_mod *p);
void fp1024_mul_ifma(fp1024 *r, const fp1024 *a, const fp1024 *b);
void fp1024_sqr_ifma(fp1024 *r, const fp1024 *a);
/* Two independent products r0 = a0 b0, r1 = a1 b1 with overlapping latency. */
void fp1024_mul2_ifma(fp1024 *r0, const fp1024 *a0, const fp1024 *b0, fp1024 *r1, const fp1024 *a1,
                      const fp1024 *b1);
#else
#define FP1024_HAVE_IFMA_BUILD 0
#endif

#endif
