/*
 * Secret handling, encodings and small helpers shared by every module.
 */
#ifndef PROSE_UTIL_H
#define PROSE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wipe a buffer that held secret data (OPENSSL_cleanse: not optimised away).
 * NULL with n == 0 is allowed. */
void prose_wipe(void *p, size_t n);

/* Constant-time equality of two equal-length buffers (CRYPTO_memcmp).
 * Use for MACs, keys, tags and any comparison involving a secret. */
bool prose_ct_eq(const void *a, const void *b, size_t n);

/* Free a heap buffer after wiping it. */
void prose_free_secret(void *p, size_t n);

/*
 * Hex. Decoding accepts upper and lower case and nothing else (no spaces,
 * no "0x"). Errors: PROSE_EHEX (odd length or a non-hex character),
 * PROSE_EBUFSZ (more than cap octets). *outlen receives the octet count.
 */
int prose_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *outlen);
/* Decode exactly n octets; PROSE_ELEN if the string has another length. */
int prose_hex_decode_exact(const char *hex, uint8_t *out, size_t n);
/* Encode n octets as 2n lower-case hex characters plus NUL into out
 * (which must hold 2n+1 characters). */
void prose_hex_encode(const uint8_t *in, size_t n, char *out);

/*
 * Base64 (RFC 4648, standard alphabet, with padding, no line breaks).
 * prose_b64_encode writes a NUL-terminated string; out must hold
 * prose_b64_encoded_len(n) + 1 characters.
 * prose_b64_decode: PROSE_EBASE64 on any malformed input, PROSE_EBUFSZ if
 * the result would exceed cap.
 */
size_t prose_b64_encoded_len(size_t n);
void prose_b64_encode(const uint8_t *in, size_t n, char *out);
int prose_b64_decode(const char *in, size_t inlen, uint8_t *out, size_t cap, size_t *outlen);

#define PROSE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
