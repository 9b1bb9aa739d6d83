/*
 * Internals of the store module, shared by its .c files and its unit tests.
 * Nothing outside store/src and tests/unit includes this header.
 */
#ifndef PROSE_STORE_INTERNAL_H
#define PROSE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/buf.h"
#include "prose/diag.h"
#include "prose/rng.h"
#include "prose/store.h"

/* ---- Growable string/byte buffer that wipes what it releases ----------- */

/* Key documents are built in memory as text (hex keys), so every buffer
 * that grows or is freed is wiped first. */
typedef struct prose__sbuf {
  char *p;
  size_t len;
  size_t cap;
  int err; /* sticky: PROSE_ENOMEM after a failed growth */
} prose__sbuf;

void prose__sbuf_init(prose__sbuf *b);
void prose__sbuf_free(prose__sbuf *b); /* wipes */
void prose__sbuf_add(prose__sbuf *b, const void *p, size_t n);
void prose__sbuf_str(prose__sbuf *b, const char *s);
/* Append s with XML escaping of & < > " '. */
void prose__sbuf_xml(prose__sbuf *b, const char *s);
void prose__sbuf_hex(prose__sbuf *b, const uint8_t *p, size_t n);
void prose__sbuf_u64(prose__sbuf *b, uint64_t v);
/* Hand the NUL-terminated contents to the caller (who frees them). */
int prose__sbuf_take(prose__sbuf *b, char **out, size_t *out_len);

/* ---- Locked memory ------------------------------------------------------ */

/* A page of memory locked in RAM (best effort: mlock may be refused by
 * RLIMIT_MEMLOCK) and excluded from core dumps, for the device key.
 * Returns NULL when mapping fails. n must be <= 4096. */
void *prose__secmem_alloc(size_t n);
/* Wipe, unlock and unmap. NULL is a no-op. */
void prose__secmem_free(void *p, size_t n);

/* ---- libxml2 setup ---------------------------------------------------- */

/* Install allocators that wipe every block libxml2 frees (parsed key
 * documents hold hex secrets in libxml2's buffers), once per process, and
 * initialise the parser. Thread-safe. */
void prose__xml_init(void);

/* ---- Sealing (AES-256-GCM) ------------------------------------------- */

#define PROSE__KEY_LEN 32
#define PROSE__STORE_ID_LEN 16
#define PROSE__SEAL_NONCE_LEN 12
#define PROSE__SEAL_TAG_LEN 16
#define PROSE__SEAL_VERSION 1u
#define PROSE__SEAL_OVERHEAD (1u + PROSE__SEAL_NONCE_LEN + PROSE__SEAL_TAG_LEN)
#define PROSE__SEAL_MAX_PT 512u

/*
 * The identity of a sealed value: the AAD is built from it, so a value
 * sealed for one (store, table, column, row) does not open anywhere else.
 * Unused strings are NULL and encode as empty.
 */
typedef struct prose__seal_id {
  const char *table;
  const char *column;
  const char *s1, *s2, *s3;
  uint64_t n1;
} prose__seal_id;

/*
 * Seal pt under key. out must hold pt_len + PROSE__SEAL_OVERHEAD octets.
 * Errors: PROSE_EINVAL (pt_len > PROSE__SEAL_MAX_PT), PROSE_ERNG, PROSE_ECRYPTO.
 */
int prose__seal(const uint8_t key[32], const uint8_t store_id[16], const prose_rng *rng,
                const prose__seal_id *id, const uint8_t *pt, size_t pt_len, uint8_t *out,
                size_t *out_len);
/*
 * Open a sealed value into pt (cap octets; wiped on failure).
 * Errors: PROSE_EAUTH (tag mismatch: wrong key, wrong row, or damage),
 * PROSE_ESTORE_CORRUPT (bad version or length), PROSE_EBUFSZ, PROSE_ECRYPTO.
 */
int prose__unseal(const uint8_t key[32], const uint8_t store_id[16], const prose__seal_id *id,
                  const uint8_t *in, size_t in_len, uint8_t *pt, size_t cap, size_t *pt_len);

/* scrypt(passphrase, salt) -> 32-octet key. Errors: PROSE_ERANGE (bad
 * parameters), PROSE_ECRYPTO. */
int prose__scrypt(const char *pw, size_t pw_len, const uint8_t *salt, size_t salt_len, uint64_t n,
                  uint32_t r, uint32_t p, uint8_t key[32]);

/* ---- The store object and its database ------------------------------- */

struct prose_store {
  sqlite3 *db;
  uint8_t *key; /* PROSE__KEY_LEN octets in locked memory */
  uint8_t store_id[PROSE__STORE_ID_LEN];
  prose_store_role role;
  char owner[PROSE_STORE_URI_MAX];
  const prose_rng *rng;
};

/* Map an SQLite result code to a prose error. */
int prose__db_err(int rc);
int prose__db_exec(sqlite3 *db, const char *sql);
/* Prepare sql; PROSE_EDB on failure. */
int prose__db_prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql);
int prose__db_begin(sqlite3 *db);  /* BEGIN IMMEDIATE */
int prose__db_commit(sqlite3 *db);
void prose__db_rollback(sqlite3 *db);
int prose__db_create_schema(sqlite3 *db);

/* Bind helpers (SQLite integers are signed; times and IDs fit below 2^63). */
int prose__bind_text(sqlite3_stmt *s, int i, const char *v);
int prose__bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n);
int prose__bind_u64(sqlite3_stmt *s, int i, uint64_t v);
uint64_t prose__col_u64(sqlite3_stmt *s, int i);
/* Copy a text column into out (cap with NUL); PROSE_ESTORE_CORRUPT if it does not fit. */
int prose__col_text(sqlite3_stmt *s, int i, char *out, size_t cap);
/* Copy a blob column of exactly n octets; PROSE_ESTORE_CORRUPT otherwise. */
int prose__col_blob_exact(sqlite3_stmt *s, int i, uint8_t *out, size_t n);

/* Meta table (key -> blob). */
int prose__meta_put(sqlite3 *db, const char *k, const void *v, size_t n);
/* PROSE_ENOENT when absent; PROSE_ESTORE_CORRUPT when it does not fit. */
int prose__meta_get(sqlite3 *db, const char *k, uint8_t *v, size_t cap, size_t *n);

/* Seal / unseal with the store's key and ID. Unseal maps a failed tag to
 * PROSE_ESTORE_CORRUPT (the device key was verified at open, so a value
 * that does not open was damaged or moved). */
int prose__store_seal(const prose_store *st, const prose__seal_id *id, const uint8_t *pt,
                      size_t pt_len, uint8_t *out, size_t *out_len);
int prose__store_unseal(const prose_store *st, const prose__seal_id *id, const uint8_t *in,
                        size_t in_len, uint8_t *pt, size_t n);
/* Unseal a blob column holding exactly n octets of plaintext. */
int prose__store_unseal_col(const prose_store *st, const prose__seal_id *id, sqlite3_stmt *s,
                            int col, uint8_t *pt, size_t n);

/* A URI or group ID a store accepts: non-empty, < PROSE_STORE_URI_MAX,
 * no control characters. */
bool prose__valid_uri(const char *s);

/* SHA-256 over every row of every table in a fixed order (tests compare it
 * before and after a failed import). Errors: PROSE_EDB, PROSE_ECRYPTO. */
int prose__store_digest(prose_store *st, uint8_t out[32]);

/* Time conversions between the store (NTP seconds) and MIKEY key parameters
 * (40-bit Unix seconds, 0 = no expiry). */
uint64_t prose__ntp_to_kp(uint64_t ntp);
uint64_t prose__kp_to_ntp(uint64_t unix_s, bool is_expiry);

/* Internal: KMS certificate lookups shared by import, query and authority. */
int prose__kms_load(prose_store *st, const char *kms_uri, prose_store_kms *out);

/* Load certificates and the keyring owner's key sets at t (only the
 * current period, or previous/current/next); kms_out (PROSE_STORE_URI_MAX,
 * may be NULL) receives the KMS of the first current key set. */
int prose__load_keyring(prose_store *st, prose_keyring *kr, uint64_t t, bool only_current,
                        char *kms_out, prose_diag *d);

#endif
