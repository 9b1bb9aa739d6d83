#include "prose/rng.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "prose/err.h"
#include "prose/util.h"

static int system_fill(void *ctx, uint8_t *buf, size_t len) {
  (void)ctx;
  while (len > 0) {
    /* RAND_priv_bytes takes an int; feed it in bounded chunks. */
    int chunk = len > 65536 ? 65536 : (int)len;
    if (RAND_priv_bytes(buf, chunk) != 1) return PROSE_ERNG;
    buf += chunk;
    len -= (size_t)chunk;
  }
  return 0;
}

static const prose_rng system_rng = {system_fill, NULL};

const prose_rng *prose_rng_system(void) { return &system_rng; }

static int det_refill(prose_rng_det *d) {
  uint8_t in[40];
  memcpy(in, d->seed, 32);
  for (int i = 0; i < 8; i++) in[32 + i] = (uint8_t)(d->counter >> (56 - 8 * i));
  d->counter++;
  unsigned int outlen = 0;
  if (EVP_Digest(in, sizeof in, d->block, &outlen, EVP_sha256(), NULL) != 1) return PROSE_ERNG;
  d->used = 0;
  return 0;
}

static int det_fill(void *ctx, uint8_t *buf, size_t len) {
  prose_rng_det *d = ctx;
  while (len > 0) {
    if (d->used == sizeof d->block) {
      int rc = det_refill(d);
      if (rc) return rc;
    }
    size_t n = sizeof d->block - d->used;
    if (n > len) n = len;
    memcpy(buf, d->block + d->used, n);
    d->used += n;
    buf += n;
    len -= n;
  }
  return 0;
}

prose_rng prose_rng_det_init(prose_rng_det *state, uint64_t seed) {
  memset(state, 0, sizeof *state);
  for (int i = 0; i < 8; i++) state->seed[i] = (uint8_t)(seed >> (56 - 8 * i));
  state->used = sizeof state->block; /* force a refill on first use */
  prose_rng r = {det_fill, state};
  return r;
}

int prose_rng_uniform(const prose_rng *rng, uint32_t bound, uint32_t *out) {
  if (bound == 0) return PROSE_EINVAL;
  /* Reject the top partial range so every value is equally likely. */
  uint32_t limit = UINT32_MAX - (UINT32_MAX % bound);
  for (;;) {
    uint8_t b[4];
    int rc = prose_rng_fill(rng, b, 4);
    if (rc) return rc;
    uint32_t x = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
    if (x < limit) {
      *out = x % bound;
      return 0;
    }
  }
}
