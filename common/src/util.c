#include "prose/util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"

void prose_wipe(void *p, size_t n) {
  if (p && n) OPENSSL_cleanse(p, n);
}

bool prose_ct_eq(const void *a, const void *b, size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

void prose_free_secret(void *p, size_t n) {
  if (!p) return;
  prose_wipe(p, n);
  free(p);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int prose_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *outlen) {
  if (!hex) return PROSE_EINVAL;
  size_t n = strlen(hex);
  if (n % 2) return PROSE_EHEX;
  for (size_t i = 0; i < n; i++)
    if (hexval(hex[i]) < 0) return PROSE_EHEX;
  if (n / 2 > cap) return PROSE_EBUFSZ;
  for (size_t i = 0; i < n / 2; i++)
    out[i] = (uint8_t)((hexval(hex[2 * i]) << 4) | hexval(hex[2 * i + 1]));
  if (outlen) *outlen = n / 2;
  return 0;
}

int prose_hex_decode_exact(const char *hex, uint8_t *out, size_t n) {
  if (!hex) return PROSE_EINVAL;
  size_t len = strlen(hex);
  for (size_t i = 0; i < len; i++)
    if (hexval(hex[i]) < 0) return PROSE_EHEX;
  if (len % 2) return PROSE_EHEX;
  if (len != 2 * n) return PROSE_ELEN;
  return prose_hex_decode(hex, out, n, NULL);
}

void prose_hex_encode(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

size_t prose_b64_encoded_len(size_t n) { return 4 * ((n + 2) / 3); }

void prose_b64_encode(const uint8_t *in, size_t n, char *out) {
  /* EVP_EncodeBlock takes an int length; our messages are far below INT_MAX. */
  EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static int b64val(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Hand-checked decoder: EVP_DecodeBlock accepts whitespace and reports the
 * padded length, and we want strict input and an exact length. */
int prose_b64_decode(const char *in, size_t inlen, uint8_t *out, size_t cap, size_t *outlen) {
  if (inlen % 4) return PROSE_EBASE64;
  size_t pad = 0;
  if (inlen >= 1 && in[inlen - 1] == '=') pad++;
  if (inlen >= 2 && in[inlen - 2] == '=') pad++;
  size_t n = inlen / 4 * 3 - pad;
  if (n > cap) return PROSE_EBUFSZ;
  size_t o = 0;
  for (size_t i = 0; i < inlen; i += 4) {
    int v[4];
    for (size_t k = 0; k < 4; k++) {
      bool is_pad = in[i + k] == '=' && i + 4 == inlen && k >= 4 - pad;
      v[k] = is_pad ? 0 : b64val(in[i + k]);
      if (v[k] < 0) return PROSE_EBASE64;
    }
    uint32_t x = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) | (uint32_t)v[3];
    uint8_t b[3] = {(uint8_t)(x >> 16), (uint8_t)(x >> 8), (uint8_t)x};
    for (size_t k = 0; k < 3 && o < n; k++) out[o++] = b[k];
    /* Non-canonical padding bits are malformed. */
    if (i + 4 == inlen && pad && (x & ((1u << (8 * pad)) - 1)) != 0) return PROSE_EBASE64;
  }
  if (outlen) *outlen = n;
  return 0;
}
