/*
 * ECCSI: Elliptic Curve-Based Certificateless Signatures for Identity-Based
 * Encryption (RFC 6507) over NIST P-256 with SHA-256 (N = 32).
 *
 * Encodings: scalars are 32-octet big-endian, points 65-octet uncompressed
 * (04 || X || Y), signatures 129 octets (r || s || PVT). Identifiers are raw
 * octet strings (for MIKEY-SAKKE, the 32-octet UID of TS 33.179 F.2.1).
 *
 * Secret inputs (KSAK, SSK, j, v) are handled with constant-time scalar
 * multiplication and wiped after use.
 */
#ifndef PROSE_ECCSI_H
#define PROSE_ECCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/rng.h"

#define PROSE_ECCSI_SCALAR_LEN 32
#define PROSE_ECCSI_POINT_LEN 65
#define PROSE_ECCSI_SIG_LEN 129

/* KMS: KSAK random in [1, q), KPAK = [KSAK]G. */
int prose_eccsi_kms_keygen(const prose_rng *rng, uint8_t ksak[32], uint8_t kpak[65]);
/* KPAK from a given KSAK (PROSE_ERANGE if KSAK is 0 or >= q). */
int prose_eccsi_kpak_from_ksak(const uint8_t ksak[32], uint8_t kpak[65]);

/* KMS: issue (SSK, PVT) for identifier id (RFC 6507 §5.1.1) with a random v. */
int prose_eccsi_issue(const prose_rng *rng, const uint8_t ksak[32], const uint8_t *id, size_t id_len,
                      uint8_t ssk[32], uint8_t pvt[65]);
/* Same with a caller-chosen v (known-answer tests only). */
int prose_eccsi_issue_with_v(const uint8_t ksak[32], const uint8_t v[32], const uint8_t *id,
                             size_t id_len, uint8_t ssk[32], uint8_t pvt[65]);

/* HS = SHA-256(G || KPAK || ID || PVT). */
int prose_eccsi_hs(const uint8_t kpak[65], const uint8_t *id, size_t id_len, const uint8_t pvt[65],
                   uint8_t hs[32]);

/*
 * A validated signing key set: (KPAK, ID, SSK, PVT) with HS cached.
 * prose_eccsi_signer_new validates per RFC 6507 §5.1.2 (PVT on the curve and
 * not O; [SSK]G - [HS]PVT == KPAK).
 * Errors: PROSE_EPOINT (KPAK/PVT not a valid point), PROSE_ERANGE (SSK 0 or >= q),
 * PROSE_EKEY_INVALID (the check failed), PROSE_ENOMEM.
 * The signer copies everything it needs; it wipes SSK when freed.
 */
typedef struct prose_eccsi_signer prose_eccsi_signer;
int prose_eccsi_signer_new(prose_eccsi_signer **out, const uint8_t kpak[65], const uint8_t *id,
                           size_t id_len, const uint8_t ssk[32], const uint8_t pvt[65]);
void prose_eccsi_signer_free(prose_eccsi_signer *s);
/* Sign msg (RFC 6507 §5.2.1) with a fresh random j. */
int prose_eccsi_sign(const prose_eccsi_signer *s, const prose_rng *rng, const uint8_t *msg,
                     size_t msg_len, uint8_t sig[129]);
/* Sign with a caller-chosen j (known-answer tests only).
 * PROSE_ERANGE if j is unusable (0, >= q, or HE + r*SSK == 0). */
int prose_eccsi_sign_with_j(const prose_eccsi_signer *s, const uint8_t j[32], const uint8_t *msg,
                            size_t msg_len, uint8_t sig[129]);

/*
 * A verifier bound to one KPAK. It caches Y = [HS]PVT + KPAK for the most
 * recently seen (ID, PVT) pairs, so repeated verifies of one signer skip the
 * hash and one scalar multiplication.
 * prose_eccsi_verify returns 0 when valid, PROSE_ESIG when the signature is
 * wrong, PROSE_EPOINT when the PVT inside it is not a valid point,
 * PROSE_ELEN for a sig_len other than 129.
 * Not thread-safe (the cache is updated on verify).
 */
typedef struct prose_eccsi_verifier prose_eccsi_verifier;
int prose_eccsi_verifier_new(prose_eccsi_verifier **out, const uint8_t kpak[65]);
void prose_eccsi_verifier_free(prose_eccsi_verifier *v);
int prose_eccsi_verify(prose_eccsi_verifier *v, const uint8_t *id, size_t id_len, const uint8_t *msg,
                       size_t msg_len, const uint8_t *sig, size_t sig_len);

/* Validate a point encoding on P-256 (PROSE_EPOINT if not). */
int prose_eccsi_point_check(const uint8_t pt[65]);

#endif
