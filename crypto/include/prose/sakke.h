/*
 * SAKKE: Sakai-Kasahara Key Encryption (RFC 6508) with parameter set 1 of
 * RFC 6509 Appendix A (1024-bit p, 1022-bit q, n = 128, SHA-256).
 *
 * Encodings: points are 257 octets (04 || X(128) || Y(128)); F_p and PF_p
 * values 128 octets big-endian; the KMS master secret z is 128 octets
 * big-endian (leading zeros allowed); the SSV is 16 octets; encapsulated data
 * is R (257) || H (16) = 273 octets. Identifiers b are raw octet strings
 * interpreted as a big-endian integer (for MIKEY-SAKKE, the 32-octet UID).
 *
 * The field, F_p^2 and curve arithmetic are prose's own (fixed-width
 * Montgomery limbs): OpenSSL's generic curve path is two orders of
 * magnitude too slow for a 1024-bit pairing. Every operation with a secret
 * scalar or a secret point (r, z, RSK) runs in constant time.
 */
#ifndef PROSE_SAKKE_H
#define PROSE_SAKKE_H

#include <stddef.h>
#include <stdint.h>

#include "prose/rng.h"

#define PROSE_SAKKE_FP_LEN 128
#define PROSE_SAKKE_POINT_LEN 257
#define PROSE_SAKKE_SSV_LEN 16
#define PROSE_SAKKE_ED_LEN 273

/* KMS: z random in [2, q-1], Z = [z]P. */
int prose_sakke_kms_keygen(const prose_rng *rng, uint8_t z[128], uint8_t Z[257]);
/* Z from a given z (z_len <= 128 octets, big-endian). PROSE_ERANGE if z is 0 mod q. */
int prose_sakke_kms_pub_from_z(const uint8_t *z, size_t z_len, uint8_t Z[257]);
/* KMS: RSK = [(b + z)^-1 mod q]P for identifier b. PROSE_ERANGE if b + z == 0 mod q. */
int prose_sakke_issue_rsk(const uint8_t *z, size_t z_len, const uint8_t *id, size_t id_len,
                          uint8_t rsk[257]);

/*
 * The public side of a KMS for encapsulation: Z with precomputed tables for
 * P and Z. Errors on new: PROSE_EPOINT (Z not on the curve / not in the
 * order-q subgroup), PROSE_ENOMEM.
 */
typedef struct prose_sakke_pub prose_sakke_pub;
int prose_sakke_pub_new(prose_sakke_pub **out, const uint8_t Z[257]);
void prose_sakke_pub_free(prose_sakke_pub *pub);

/* Encapsulate (RFC 6508 §6.2.1): deterministic for a given SSV.
 * Writes R || H (273 octets). */
int prose_sakke_encap(const prose_sakke_pub *pub, const uint8_t *id, size_t id_len,
                      const uint8_t ssv[16], uint8_t ed[273]);

/*
 * A recipient: (Z, own identifier b, RSK), validated per RFC 6508 §6.1.2
 * (<[b]P + Z, RSK> == g) with the tables decapsulation needs precomputed
 * (the Miller-loop lines of RSK and a fixed-base table for [b]P + Z).
 * Errors on new: PROSE_EPOINT, PROSE_EKEY_INVALID (the pairing check failed),
 * PROSE_ENOMEM. Wipes RSK and its tables when freed.
 */
typedef struct prose_sakke_recipient prose_sakke_recipient;
int prose_sakke_recipient_new(prose_sakke_recipient **out, const uint8_t Z[257], const uint8_t *id,
                              size_t id_len, const uint8_t rsk[257]);
void prose_sakke_recipient_free(prose_sakke_recipient *rcp);

/* Decapsulate (RFC 6508 §6.2.2) with the TEST check.
 * Errors: PROSE_ELEN (ed_len != 273), PROSE_EPOINT (R invalid),
 * PROSE_ESAKKE_TEST (the check failed; ssv is zeroed). */
int prose_sakke_decap(const prose_sakke_recipient *rcp, const uint8_t *ed, size_t ed_len,
                      uint8_t ssv[16]);

/* Validate a point encoding on the SAKKE curve (PROSE_EPOINT if not). */
int prose_sakke_point_check(const uint8_t pt[257]);

/* The pairing <A, B> (RFC 6508 §3.2) in PF_p form, for tests and diagnostics. */
int prose_sakke_pairing(const uint8_t a[257], const uint8_t b[257], uint8_t out[128]);

/* HashToIntegerRange(s, n) (RFC 6508 §5.1) with SHA-256; n given big-endian. */
int prose_sakke_hash_to_range(const uint8_t *s, size_t s_len, const uint8_t *n, size_t n_len,
                              uint8_t *out, size_t out_len);

#endif
