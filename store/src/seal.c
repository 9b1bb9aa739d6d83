/*
 * Sealing of secret columns: AES-256-GCM under the device key with a random
 * 96-bit nonce per value.
 *
 *   sealed = version (1) || nonce (12) || ciphertext || tag (16)
 *   AAD    = "prose-seal-v1" || store_id (16) || lv(table) || lv(column)
 *            || lv(s1) || lv(s2) || lv(s3) || u64(n1)        (lv = u16 length || octets)
 *
 * The AAD names the row a value belongs to, so swapping two sealed values
 * between rows (or stores) makes both fail to open. Random nonces are safe
 * here: a store seals at most thousands of values under one key, far below
 * the 2^32 limit of NIST SP 800-38D §8.3.
 */
#include <openssl/evp.h>
#include <string.h>

#include "prose/err.h"
#include "prose/util.h"
#include "store_internal.h"

static const char aad_label[] = "prose-seal-v1";

static void wr_lv(prose_wr *w, const char *s) {
  size_t n = s ? strlen(s) : 0;
  prose_wr_u16(w, (uint16_t)(n > 0xFFFF ? 0xFFFF : n));
  prose_wr_bytes(w, s, n > 0xFFFF ? 0xFFFF : n);
}

/* The AAD is at most label + id + 5 * (2 + 65535) + 8 octets; values are
 * bounded by PROSE_STORE_URI_MAX in practice, so a fixed buffer suffices. */
#define AAD_MAX 2048

static int build_aad(const uint8_t store_id[16], const prose__seal_id *id, uint8_t *aad,
                     size_t *aad_len) {
  prose_wr w = prose_wr_init(aad, AAD_MAX);
  prose_wr_bytes(&w, aad_label, sizeof aad_label - 1);
  prose_wr_bytes(&w, store_id, PROSE__STORE_ID_LEN);
  wr_lv(&w, id->table);
  wr_lv(&w, id->column);
  wr_lv(&w, id->s1);
  wr_lv(&w, id->s2);
  wr_lv(&w, id->s3);
  prose_wr_u64(&w, id->n1);
  if (prose_wr_finish(&w)) return PROSE_EINVAL;
  *aad_len = w.len;
  return 0;
}

int prose__seal(const uint8_t key[32], const uint8_t store_id[16], const prose_rng *rng,
                const prose__seal_id *id, const uint8_t *pt, size_t pt_len, uint8_t *out,
                size_t *out_len) {
  uint8_t aad[AAD_MAX];
  size_t aad_len = 0;
  int outl = 0, rc;
  EVP_CIPHER_CTX *ctx = NULL;
  if (pt_len > PROSE__SEAL_MAX_PT) return PROSE_EINVAL;
  if ((rc = build_aad(store_id, id, aad, &aad_len))) return rc;
  out[0] = PROSE__SEAL_VERSION;
  uint8_t *nonce = out + 1, *ct = out + 1 + PROSE__SEAL_NONCE_LEN, *tag = ct + pt_len;
  if (prose_rng_fill(rng, nonce, PROSE__SEAL_NONCE_LEN)) return PROSE_ERNG;
  rc = PROSE_ECRYPTO;
  if (!(ctx = EVP_CIPHER_CTX_new())) goto out;
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1) goto out;
  if (EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1) goto out;
  if (pt_len && EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)pt_len) != 1) goto out;
  if (EVP_EncryptFinal_ex(ctx, ct + pt_len, &outl) != 1) goto out;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, PROSE__SEAL_TAG_LEN, tag) != 1) goto out;
  *out_len = pt_len + PROSE__SEAL_OVERHEAD;
  rc = 0;
out:
  EVP_CIPHER_CTX_free(ctx); /* frees and cleanses the expanded key schedule */
  return rc;
}

int prose__unseal(const uint8_t key[32], const uint8_t store_id[16], const prose__seal_id *id,
                  const uint8_t *in, size_t in_len, uint8_t *pt, size_t cap, size_t *pt_len) {
  uint8_t aad[AAD_MAX], tag[PROSE__SEAL_TAG_LEN];
  size_t aad_len = 0;
  int outl = 0, rc;
  EVP_CIPHER_CTX *ctx = NULL;
  if (in_len < PROSE__SEAL_OVERHEAD || in[0] != PROSE__SEAL_VERSION) return PROSE_ESTORE_CORRUPT;
  size_t n = in_len - PROSE__SEAL_OVERHEAD;
  if (n > cap) return PROSE_EBUFSZ;
  if ((rc = build_aad(store_id, id, aad, &aad_len))) return rc;
  const uint8_t *nonce = in + 1, *ct = in + 1 + PROSE__SEAL_NONCE_LEN;
  memcpy(tag, ct + n, sizeof tag);
  rc = PROSE_ECRYPTO;
  if (!(ctx = EVP_CIPHER_CTX_new())) goto out;
  if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1) goto out;
  if (EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1) goto out;
  if (n && EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)n) != 1) goto out;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, sizeof tag, tag) != 1) goto out;
  /* The tag check happens here; until it passes, pt holds unauthenticated
   * plaintext, which is wiped below on failure. */
  if (EVP_DecryptFinal_ex(ctx, pt + n, &outl) != 1) {
    rc = PROSE_EAUTH;
    goto out;
  }
  *pt_len = n;
  rc = 0;
out:
  if (rc) prose_wipe(pt, n);
  EVP_CIPHER_CTX_free(ctx);
  return rc;
}

int prose__scrypt(const char *pw, size_t pw_len, const uint8_t *salt, size_t salt_len, uint64_t n,
                  uint32_t r, uint32_t p, uint8_t key[32]) {
  /* N a power of two in [2^10, 2^20], r in [1, 32], p in [1, 16]: the memory
   * bound (128 * N * r octets, 1 GiB at most) keeps a tampered database from
   * making open exhaust the machine. */
  if (n < 1024 || n > (1u << 20) || (n & (n - 1)) || r < 1 || r > 32 || p < 1 || p > 16)
    return PROSE_ERANGE;
  uint64_t maxmem = 128u * n * r + 128u * (uint64_t)r * p + (1u << 20);
  if (maxmem > (1ull << 31)) return PROSE_ERANGE;
  if (EVP_PBE_scrypt(pw, pw_len, salt, salt_len, n, r, p, maxmem, key, PROSE__KEY_LEN) != 1)
    return PROSE_ECRYPTO;
  return 0;
}
