/*
 * Internal hooks of the ECCSI module, for its unit tests only.
 *
 * They expose the verifier's Y cache (RFC 6507 §5.2.2 step 4,
 * Y = [HS]PVT + KPAK) so a test can check the cached value against the
 * published vector and tell a cache hit from a miss. Nothing outside
 * crypto/src and tests/unit includes this header.
 */
#ifndef PROSE_ECCSI_INTERNAL_H
#define PROSE_ECCSI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "prose/eccsi.h"

/* Number of (ID, PVT) -> Y entries a verifier keeps (least recently used is
 * evicted). As many as the discovery table's default size (256 peers): with
 * fewer slots than peers announcing in turn, LRU evicts every entry before
 * its signer comes round again and every verify misses (twice the cost). */
#define PROSE__ECCSI_YCACHE_SLOTS 256

/*
 * Copy the cached Y for (id, pvt) into y (65-octet uncompressed point).
 * Returns 0, or PROSE_ENOENT when the pair is not cached. Does not touch the
 * LRU order or the counters.
 */
int prose__eccsi_verifier_peek_y(const prose_eccsi_verifier *v, const uint8_t *id, size_t id_len,
                                 const uint8_t pvt[65], uint8_t y[65]);

/* Cache statistics since the verifier was created. Either pointer may be NULL. */
void prose__eccsi_verifier_stats(const prose_eccsi_verifier *v, uint64_t *hits, uint64_t *misses);

#endif
