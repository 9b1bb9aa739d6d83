/*
 * Random number generator interface.
 *
 * Engines never call a system RNG directly: randomness comes through a
 * prose_rng given at creation. Production code uses prose_rng_system()
 * (OpenSSL RAND_priv_bytes); tests and the simulator use a seeded
 * deterministic generator so runs are repeatable.
 */
#ifndef PROSE_RNG_H
#define PROSE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct prose_rng {
  /* Fill buf with len random octets. Returns 0 or PROSE_ERNG. */
  int (*fill)(void *ctx, uint8_t *buf, size_t len);
  void *ctx;
} prose_rng;

static inline int prose_rng_fill(const prose_rng *rng, void *buf, size_t len) {
  return rng->fill(rng->ctx, (uint8_t *)buf, len);
}

/* The operating system / OpenSSL generator. */
const prose_rng *prose_rng_system(void);

/*
 * Deterministic generator for tests and simulation: output block i is
 * SHA-256(seed || i). NOT for production keys.
 */
typedef struct prose_rng_det {
  uint8_t seed[32];
  uint64_t counter;
  uint8_t block[32];
  size_t used; /* octets of block already handed out */
} prose_rng_det;

/* Initialise from a 64-bit seed; returns a prose_rng bound to *state. */
prose_rng prose_rng_det_init(prose_rng_det *state, uint64_t seed);
/* Uniform value in [0, bound) (bound > 0), rejection-sampled. */
int prose_rng_uniform(const prose_rng *rng, uint32_t bound, uint32_t *out);

#endif
