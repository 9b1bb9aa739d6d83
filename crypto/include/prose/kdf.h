/*
 * Identifiers and key derivations of TS 33.179 and MIKEY:
 *  - the MIKEY-SAKKE UID (33.179 Annex F.2.1),
 *  - GUK-ID from GMK, GMK-ID and MCPTT ID (33.179 F.1.3),
 *  - the MIKEY PRF (RFC 3830 §4.1.2 with PRF-HMAC-SHA-256, RFC 6043 §6.1),
 *  - the SRTP master key (16) and master salt (12) derivation,
 *  - NTP time and key period arithmetic.
 */
#ifndef PROSE_KDF_H
#define PROSE_KDF_H

#include <stddef.h>
#include <stdint.h>

#define PROSE_UID_LEN 32

/* MIKEY PRF constants (RFC 3830 §4.1.3). */
#define PROSE_MIKEY_CONST_TEK 0x2AD01C64u
#define PROSE_MIKEY_CONST_TEK_SALT 0x39A2C14Bu
#define PROSE_MIKEY_CONST_ENCR 0x15798CEFu
#define PROSE_MIKEY_CONST_AUTH 0x1B5C7973u

/* Crypto session IDs of the key derivation label (one place, DIGEST §12 item 2). */
#define PROSE_CSID_PRIVATE_INITIATOR 0u /* caller -> callee media */
#define PROSE_CSID_PRIVATE_RESPONDER 1u /* callee -> caller media */
#define PROSE_CSID_GROUP 4u

/* Key identifier purpose tags (4 most significant bits of a 32-bit key ID). */
#define PROSE_KEYID_TAG_GMK 0u
#define PROSE_KEYID_TAG_PCK 1u
static inline uint32_t prose_keyid_tag(uint32_t id) { return id >> 28; }

/* Seconds between 1900-01-01 (NTP era 0) and 1970-01-01 (Unix). */
#define PROSE_NTP_UNIX_OFFSET 2208988800u

/* UID = SHA-256(0x00 || "MIKEY-SAKKE-UID" || ... ) per F.2.1.
 * PROSE_EINVAL for URIs longer than 65535 octets. */
int prose_uid(const char *uri, const char *kms_uri, uint64_t period, uint64_t offset,
              uint64_t period_no, uint8_t uid[32]);

/* Key period number for NTP time t (seconds): floor((t - offset) / period).
 * PROSE_ERANGE if period == 0 or t < offset. */
int prose_period_no(uint64_t t_ntp, uint64_t period, uint64_t offset, uint64_t *period_no);
/* Start and end (exclusive) NTP seconds of a period: offset + no*period, + period. */
void prose_period_bounds(uint64_t period_no, uint64_t period, uint64_t offset, uint64_t *start,
                         uint64_t *end);

/* GUK-ID = GMK-ID XOR (28 LSBs of HMAC-SHA-256(GMK, 0x50 || id || len16(id))).
 * The same function maps a GUK-ID back to the GMK-ID. */
int prose_guk_id(const uint8_t *gmk, size_t gmk_len, uint32_t key_id, const char *mcptt_id,
                 uint32_t *out);

/* MIKEY PRF(inkey, label, outlen), label = constant || CS-ID || CSB-ID || RAND. */
int prose_mikey_prf(const uint8_t *inkey, size_t inkey_len, const uint8_t *label, size_t label_len,
                    uint8_t *out, size_t out_len);
/* PRF with the standard label for one constant. */
int prose_mikey_derive(const uint8_t *tgk, size_t tgk_len, uint32_t constant, uint8_t cs_id,
                       uint32_t csb_id, const uint8_t *rand, size_t rand_len, uint8_t *out,
                       size_t out_len);
/* SRTP master key (16, constant TEK) and master salt (12, constant TEK salt). */
int prose_srtp_master(const uint8_t *tgk, size_t tgk_len, uint8_t cs_id, uint32_t csb_id,
                      const uint8_t *rand, size_t rand_len, uint8_t key[16], uint8_t salt[12]);

#endif
