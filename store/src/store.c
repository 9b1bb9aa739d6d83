/*
 * Store lifecycle (create, open, close), the device key, sealing with the
 * store's key, the GMS trust list and the whole-store digest.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/util.h"
#include "store_internal.h"

#define SCHEMA_VERSION 1u
#define KEY_FILE "device.key"
#define DB_FILE "store.db"
#define SALT_LEN 16
#define KEY_MODE_FILE 0u
#define KEY_MODE_PASSPHRASE 1u

void prose_store_settings_default(prose_store_settings *s) {
  memset(s, 0, sizeof *s);
  s->role = PROSE_STORE_DEVICE;
  s->scrypt_n = 1u << 15;
  s->scrypt_r = 8;
  s->scrypt_p = 1;
  s->busy_timeout_ms = 5000;
}

bool prose__valid_uri(const char *s) {
  if (!s || !s[0]) return false;
  size_t n = strlen(s);
  if (n >= PROSE_STORE_URI_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
  return true;
}

uint64_t prose__ntp_to_kp(uint64_t ntp) {
  if (ntp >= PROSE_STORE_NEVER) return 0; /* "no expiry" is 0 on the wire */
  uint64_t u = ntp > PROSE_NTP_UNIX_OFFSET ? ntp - PROSE_NTP_UNIX_OFFSET : 0;
  return u > 0xFFFFFFFFFFull ? 0xFFFFFFFFFFull : u;
}

uint64_t prose__kp_to_ntp(uint64_t unix_s, bool is_expiry) {
  if (is_expiry && unix_s == 0) return PROSE_STORE_NEVER;
  return unix_s + PROSE_NTP_UNIX_OFFSET;
}

static int path_join(char *out, size_t cap, const char *dir, const char *file) {
  int n = snprintf(out, cap, "%s/%s", dir, file);
  return (n < 0 || (size_t)n >= cap) ? PROSE_EINVAL : 0;
}

static int errno_err(int e) {
  switch (e) {
    case ENOENT:
    case ENOTDIR: return PROSE_ENOENT;
    case EEXIST: return PROSE_EEXIST;
    case EACCES:
    case EPERM:
    case EROFS: return PROSE_EPERM;
    case ENOMEM: return PROSE_ENOMEM;
    default: return PROSE_EIO;
  }
}

/* ---- Sealing with the store key --------------------------------------- */

int prose__store_seal(const prose_store *st, const prose__seal_id *id, const uint8_t *pt,
                      size_t pt_len, uint8_t *out, size_t *out_len) {
  return prose__seal(st->key, st->store_id, st->rng, id, pt, pt_len, out, out_len);
}

int prose__store_unseal(const prose_store *st, const prose__seal_id *id, const uint8_t *in,
                        size_t in_len, uint8_t *pt, size_t n) {
  size_t got = 0;
  int rc = prose__unseal(st->key, st->store_id, id, in, in_len, pt, n, &got);
  /* The device key was verified at open, so a value that fails to open was
   * damaged or moved from another row: that is corruption, not a wrong key. */
  if (rc == PROSE_EAUTH || rc == PROSE_EBUFSZ || (!rc && got != n)) {
    prose_wipe(pt, n);
    return PROSE_ESTORE_CORRUPT;
  }
  return rc;
}

int prose__store_unseal_col(const prose_store *st, const prose__seal_id *id, sqlite3_stmt *s,
                            int col, uint8_t *pt, size_t n) {
  const uint8_t *p = sqlite3_column_blob(s, col);
  int len = sqlite3_column_bytes(s, col);
  if (!p || len <= 0) return PROSE_ESTORE_CORRUPT;
  return prose__store_unseal(st, id, p, (size_t)len, pt, n);
}

static const prose__seal_id key_check_id = {"meta", "key_check", NULL, NULL, NULL, 0};

/* ---- Device key -------------------------------------------------------- */

static int write_key_file(const char *path, const prose_rng *rng, uint8_t key[32]) {
  int rc = 0;
  if (prose_rng_fill(rng, key, PROSE__KEY_LEN)) return PROSE_ERNG;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return errno_err(errno);
  /* fchmod makes the mode exact whatever the umask did to it. */
  if (fchmod(fd, 0600) != 0 || write(fd, key, PROSE__KEY_LEN) != PROSE__KEY_LEN || fsync(fd) != 0)
    rc = PROSE_EIO;
  if (close(fd) != 0 && !rc) rc = PROSE_EIO;
  if (rc) unlink(path);
  return rc;
}

static int read_key_file(const char *path, uint8_t key[32], prose_diag *d) {
  struct stat sb;
  int rc = 0;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    rc = errno_err(errno);
    return prose_diag_set(d, rc, "cannot open the device key file %s", path);
  }
  if (fstat(fd, &sb) != 0) {
    rc = PROSE_EIO;
  } else if (!S_ISREG(sb.st_mode) || sb.st_size != PROSE__KEY_LEN) {
    rc = prose_diag_set(d, PROSE_ESTORE_CORRUPT, "device key file %s: not a 32-octet file", path);
  } else if (sb.st_mode & 077) {
    /* Like ssh with private keys: refuse a key others could have read. */
    rc = prose_diag_set(d, PROSE_EPERM, "device key file %s is accessible by other users", path);
  } else if (read(fd, key, PROSE__KEY_LEN) != PROSE__KEY_LEN) {
    rc = PROSE_EIO;
  }
  close(fd);
  return rc;
}

/* ---- Create -------------------------------------------------------------- */

static int make_dir(const char *dir) {
  if (mkdir(dir, 0700) == 0) return chmod(dir, 0700) == 0 ? 0 : errno_err(errno);
  if (errno != EEXIST) return errno_err(errno);
  struct stat sb;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return PROSE_EEXIST;
  return 0;
}

/* Create the database file ourselves with mode 0600: SQLite gives its -wal
 * and -shm files the mode of the database file. */
static int make_db_file(const char *path) {
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return errno_err(errno);
  int rc = fchmod(fd, 0600) == 0 ? 0 : PROSE_EIO;
  close(fd);
  return rc;
}

static int open_db(const char *path, sqlite3 **db, int busy_ms) {
  int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
  if (rc != SQLITE_OK) {
    int e = prose__db_err(rc);
    sqlite3_close(*db);
    *db = NULL;
    return e ? e : PROSE_EDB;
  }
  /* Hardening against a hostile database file: no schema-embedded SQL
   * functions or views run with our privileges, and writes that could
   * corrupt the file through the schema are refused. */
  (void)sqlite3_db_config(*db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
  (void)sqlite3_db_config(*db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
  sqlite3_busy_timeout(*db, busy_ms);
  return prose__db_exec(*db, "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;");
}

static int write_meta(prose_store *st, const prose_store_settings *s, const uint8_t *salt) {
  uint8_t u32[4], u64[8], sealed[PROSE__KEY_LEN + PROSE__SEAL_OVERHEAD], zero[PROSE__KEY_LEN];
  size_t sealed_len = 0;
  uint8_t role = (uint8_t)s->role, mode = s->passphrase ? KEY_MODE_PASSPHRASE : KEY_MODE_FILE;
  int rc;
  memset(zero, 0, sizeof zero);
  prose_put_u32(u32, SCHEMA_VERSION);
  if ((rc = prose__meta_put(st->db, "schema_version", u32, 4))) return rc;
  if ((rc = prose__meta_put(st->db, "role", &role, 1))) return rc;
  if ((rc = prose__meta_put(st->db, "owner", st->owner, strlen(st->owner)))) return rc;
  if ((rc = prose__meta_put(st->db, "store_id", st->store_id, PROSE__STORE_ID_LEN))) return rc;
  if ((rc = prose__meta_put(st->db, "key_mode", &mode, 1))) return rc;
  if (s->passphrase) {
    if ((rc = prose__meta_put(st->db, "scrypt_salt", salt, SALT_LEN))) return rc;
    for (int i = 0; i < 8; i++) u64[i] = (uint8_t)(s->scrypt_n >> (56 - 8 * i));
    if ((rc = prose__meta_put(st->db, "scrypt_n", u64, 8))) return rc;
    prose_put_u32(u32, s->scrypt_r);
    if ((rc = prose__meta_put(st->db, "scrypt_r", u32, 4))) return rc;
    prose_put_u32(u32, s->scrypt_p);
    if ((rc = prose__meta_put(st->db, "scrypt_p", u32, 4))) return rc;
  }
  /* The key check: 32 zero octets sealed under the key. Opening it proves
   * the key (or passphrase) is right before any secret is touched. */
  if ((rc = prose__store_seal(st, &key_check_id, zero, sizeof zero, sealed, &sealed_len)))
    return rc;
  return prose__meta_put(st->db, "key_check", sealed, sealed_len);
}

static int check_create_settings(const char *dir, const prose_store_settings *s) {
  if (!dir || !dir[0] || !s) return PROSE_EINVAL;
  if (s->role != PROSE_STORE_DEVICE && s->role != PROSE_STORE_KMS && s->role != PROSE_STORE_GMS)
    return PROSE_EINVAL;
  if (s->owner_uri && !prose__valid_uri(s->owner_uri)) return PROSE_EINVAL;
  if (s->role == PROSE_STORE_GMS && !s->owner_uri) return PROSE_EINVAL;
  if (s->passphrase && s->passphrase_len == 0) return PROSE_EINVAL;
  return 0;
}

static prose_store *store_alloc(const prose_store_settings *s) {
  prose_store *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->key = prose__secmem_alloc(PROSE__KEY_LEN);
  if (!st->key) {
    free(st);
    return NULL;
  }
  st->rng = s->rng ? s->rng : prose_rng_system();
  return st;
}

/* Remove what a failed create made, so a retry starts from scratch. */
static void remove_created(const char *db_path, const char *key_path, bool made_db,
                           bool made_key) {
  char side[4200];
  if (made_db) {
    unlink(db_path);
    snprintf(side, sizeof side, "%s-wal", db_path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db_path);
    unlink(side);
  }
  if (made_key) unlink(key_path);
}

/* The device key: scrypt of the passphrase, or a new random key file. */
static int init_key(prose_store *st, const prose_store_settings *s, const char *key_path,
                    const uint8_t salt[SALT_LEN], bool *made_key) {
  if (s->passphrase)
    return prose__scrypt(s->passphrase, s->passphrase_len, salt, SALT_LEN, s->scrypt_n,
                         s->scrypt_r, s->scrypt_p, st->key);
  int rc = write_key_file(key_path, st->rng, st->key);
  *made_key = rc == 0;
  return rc;
}

/* The database: file, WAL mode, schema and metadata in one transaction. */
static int init_db(prose_store *st, const prose_store_settings *s, const char *db_path,
                   const uint8_t salt[SALT_LEN], bool *made_db) {
  int rc = make_db_file(db_path);
  if (rc) return rc;
  *made_db = true;
  if ((rc = open_db(db_path, &st->db, s->busy_timeout_ms))) return rc;
  /* WAL is a property of the database file: set once here, it persists. */
  if ((rc = prose__db_exec(st->db, "PRAGMA journal_mode=WAL"))) return rc;
  if ((rc = prose__db_begin(st->db))) return rc;
  if ((rc = prose__db_create_schema(st->db)) || (rc = write_meta(st, s, salt))) {
    prose__db_rollback(st->db);
    return rc;
  }
  return prose__db_commit(st->db);
}

int prose_store_create(prose_store **out, const char *dir, const prose_store_settings *s,
                       prose_diag *d) {
  char db_path[4096], key_path[4096];
  uint8_t salt[SALT_LEN];
  prose_store *st = NULL;
  bool made_db = false, made_key = false;
  int rc;
  if (!out) return PROSE_EINVAL;
  *out = NULL;
  if ((rc = check_create_settings(dir, s)))
    return prose_diag_set(d, rc, "invalid store settings");
  if ((rc = path_join(db_path, sizeof db_path, dir, DB_FILE)) ||
      (rc = path_join(key_path, sizeof key_path, dir, KEY_FILE)))
    return prose_diag_set(d, rc, "store directory path too long");
  if ((rc = make_dir(dir))) return prose_diag_set(d, rc, "cannot create directory %s", dir);
  if (access(db_path, F_OK) == 0)
    return prose_diag_set(d, PROSE_EEXIST, "%s already holds a store", dir);
  if (!(st = store_alloc(s))) return PROSE_ENOMEM;
  st->role = s->role;
  if (s->owner_uri) memcpy(st->owner, s->owner_uri, strlen(s->owner_uri) + 1);
  rc = PROSE_ERNG;
  if (!prose_rng_fill(st->rng, st->store_id, sizeof st->store_id) &&
      !prose_rng_fill(st->rng, salt, sizeof salt) &&
      !(rc = init_key(st, s, key_path, salt, &made_key)))
    rc = init_db(st, s, db_path, salt, &made_db);
  prose_wipe(salt, sizeof salt);
  if (rc) {
    prose_store_close(st);
    remove_created(db_path, key_path, made_db, made_key);
    return prose_diag_set(d, rc, "cannot create the store in %s", dir);
  }
  *out = st;
  return 0;
}

/* ---- Open --------------------------------------------------------------- */

static int meta_u32(sqlite3 *db, const char *k, uint32_t *v) {
  uint8_t b[4];
  size_t n = 0;
  int rc = prose__meta_get(db, k, b, sizeof b, &n);
  if (rc) return rc == PROSE_ENOENT ? PROSE_ESTORE_CORRUPT : rc;
  if (n != 4) return PROSE_ESTORE_CORRUPT;
  *v = prose_get_u32(b);
  return 0;
}

static int derive_key(prose_store *st, const char *dir, const prose_store_settings *s,
                      uint8_t mode, prose_diag *d) {
  char key_path[4096];
  uint8_t salt[SALT_LEN], n8[8];
  size_t n = 0;
  uint32_t r = 0, p = 0;
  int rc;
  if (mode == KEY_MODE_FILE) {
    if (s->passphrase)
      return prose_diag_set(d, PROSE_EAUTH, "this store uses a device key file, not a passphrase");
    if ((rc = path_join(key_path, sizeof key_path, dir, KEY_FILE))) return rc;
    return read_key_file(key_path, st->key, d);
  }
  if (mode != KEY_MODE_PASSPHRASE) return PROSE_ESTORE_CORRUPT;
  if (!s->passphrase)
    return prose_diag_set(d, PROSE_EAUTH, "this store needs its passphrase");
  if ((rc = prose__meta_get(st->db, "scrypt_salt", salt, sizeof salt, &n)) || n != SALT_LEN ||
      (rc = prose__meta_get(st->db, "scrypt_n", n8, sizeof n8, &n)) || n != 8 ||
      (rc = meta_u32(st->db, "scrypt_r", &r)) || (rc = meta_u32(st->db, "scrypt_p", &p)))
    return prose_diag_set(d, PROSE_ESTORE_CORRUPT, "passphrase parameters missing or damaged");
  uint64_t sn = 0;
  for (int i = 0; i < 8; i++) sn = (sn << 8) | n8[i];
  rc = prose__scrypt(s->passphrase, s->passphrase_len, salt, sizeof salt, sn, r, p, st->key);
  if (rc == PROSE_ERANGE)
    return prose_diag_set(d, PROSE_ESTORE_CORRUPT, "stored scrypt parameters out of range");
  return rc;
}

static int read_identity(prose_store *st, uint8_t *mode) {
  uint8_t b[PROSE_STORE_URI_MAX];
  size_t n = 0;
  int rc;
  if ((rc = prose__meta_get(st->db, "role", b, sizeof b, &n)) || n != 1 || b[0] > 2)
    return PROSE_ESTORE_CORRUPT;
  st->role = (prose_store_role)b[0];
  if ((rc = prose__meta_get(st->db, "owner", b, sizeof b - 1, &n))) return PROSE_ESTORE_CORRUPT;
  b[n] = '\0';
  if (n && (!prose__valid_uri((const char *)b) || strlen((const char *)b) != n))
    return PROSE_ESTORE_CORRUPT;
  memcpy(st->owner, b, n + 1);
  if ((rc = prose__meta_get(st->db, "store_id", st->store_id, sizeof st->store_id, &n)) ||
      n != PROSE__STORE_ID_LEN)
    return PROSE_ESTORE_CORRUPT;
  if ((rc = prose__meta_get(st->db, "key_mode", mode, 1, &n)) || n != 1) return PROSE_ESTORE_CORRUPT;
  return 0;
}

static int check_integrity(sqlite3 *db) {
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(db, &s, "PRAGMA quick_check");
  if (rc) return rc;
  int step = sqlite3_step(s);
  if (step != SQLITE_ROW) {
    rc = prose__db_err(step);
    if (!rc) rc = PROSE_ESTORE_CORRUPT;
  } else {
    const unsigned char *t = sqlite3_column_text(s, 0);
    rc = (t && strcmp((const char *)t, "ok") == 0) ? 0 : PROSE_ESTORE_CORRUPT;
  }
  sqlite3_finalize(s);
  return rc;
}

static int verify_key(prose_store *st) {
  uint8_t sealed[PROSE__KEY_LEN + PROSE__SEAL_OVERHEAD], pt[PROSE__KEY_LEN], zero[PROSE__KEY_LEN];
  size_t n = 0, got = 0;
  memset(zero, 0, sizeof zero);
  int rc = prose__meta_get(st->db, "key_check", sealed, sizeof sealed, &n);
  if (rc) return PROSE_ESTORE_CORRUPT;
  rc = prose__unseal(st->key, st->store_id, &key_check_id, sealed, n, pt, sizeof pt, &got);
  if (!rc && (got != sizeof pt || !prose_ct_eq(pt, zero, sizeof pt))) rc = PROSE_ESTORE_CORRUPT;
  prose_wipe(pt, sizeof pt);
  return rc;
}

static int open_checks(prose_store *st, const char *dir, const prose_store_settings *s,
                       prose_diag *d) {
  uint32_t version = 0;
  uint8_t mode = 0;
  int rc = meta_u32(st->db, "schema_version", &version);
  if (rc == PROSE_EDB) rc = PROSE_ESTORE_CORRUPT; /* no meta table: not a prose store */
  if (rc) return prose_diag_set(d, rc, "%s: not a prose store or damaged", dir);
  if (version != SCHEMA_VERSION)
    return prose_diag_set(d, PROSE_EFORMAT, "%s: schema version %u not supported", dir,
                          (unsigned)version);
  if ((rc = check_integrity(st->db)))
    return prose_diag_set(d, rc, "%s: database integrity check failed", dir);
  if ((rc = read_identity(st, &mode)))
    return prose_diag_set(d, rc, "%s: store metadata damaged", dir);
  if ((rc = derive_key(st, dir, s, mode, d))) return prose_diag_set(d, rc, "cannot derive the key");
  rc = verify_key(st);
  if (rc == PROSE_EAUTH)
    return prose_diag_set(d, rc, "%s: wrong passphrase or device key", dir);
  if (rc) return prose_diag_set(d, rc, "%s: key check value damaged", dir);
  return 0;
}

int prose_store_open(prose_store **out, const char *dir, const prose_store_settings *s,
                     prose_diag *d) {
  char db_path[4096];
  prose_store *st = NULL;
  int rc;
  if (!out) return PROSE_EINVAL;
  *out = NULL;
  if (!dir || !s || (s->passphrase && !s->passphrase_len)) return PROSE_EINVAL;
  if ((rc = path_join(db_path, sizeof db_path, dir, DB_FILE))) return rc;
  if (access(db_path, F_OK) != 0)
    return prose_diag_set(d, PROSE_ENOENT, "no store in %s", dir);
  if (!(st = store_alloc(s))) return PROSE_ENOMEM;
  if ((rc = open_db(db_path, &st->db, s->busy_timeout_ms))) {
    rc = prose_diag_set(d, rc, "%s: cannot open the database", dir);
    goto out;
  }
  rc = open_checks(st, dir, s, d);
out:
  if (rc) {
    prose_store_close(st);
    return rc;
  }
  *out = st;
  return 0;
}

void prose_store_close(prose_store *st) {
  if (!st) return;
  if (st->db) sqlite3_close(st->db);
  prose__secmem_free(st->key, PROSE__KEY_LEN);
  prose_wipe(st, sizeof *st);
  free(st);
}

prose_store_role prose_store_get_role(const prose_store *st) { return st->role; }
const char *prose_store_owner(const prose_store *st) { return st->owner; }

/* ---- GMS trust list ---------------------------------------------------- */

int prose_store_trust_gms(prose_store *st, const char *gms_uri) {
  sqlite3_stmt *s = NULL;
  if (!st || !prose__valid_uri(gms_uri)) return PROSE_EINVAL;
  int rc = prose__db_prepare(st->db, &s, "INSERT OR IGNORE INTO trusted_gms(uri) VALUES(?1)");
  if (!rc) rc = prose__bind_text(s, 1, gms_uri);
  if (!rc) rc = prose__db_err(sqlite3_step(s));
  sqlite3_finalize(s);
  return rc;
}

int prose_store_untrust_gms(prose_store *st, const char *gms_uri) {
  sqlite3_stmt *s = NULL;
  if (!st || !prose__valid_uri(gms_uri)) return PROSE_EINVAL;
  int rc = prose__db_prepare(st->db, &s, "DELETE FROM trusted_gms WHERE uri = ?1");
  if (!rc) rc = prose__bind_text(s, 1, gms_uri);
  if (!rc) rc = prose__db_err(sqlite3_step(s));
  if (!rc && sqlite3_changes(st->db) == 0) rc = PROSE_ENOENT;
  sqlite3_finalize(s);
  return rc;
}

bool prose_store_gms_is_trusted(prose_store *st, const char *gms_uri) {
  sqlite3_stmt *s = NULL;
  bool yes = false;
  if (!st || !prose__valid_uri(gms_uri)) return false;
  if (prose__db_prepare(st->db, &s, "SELECT 1 FROM trusted_gms WHERE uri = ?1")) return false;
  if (!prose__bind_text(s, 1, gms_uri)) yes = sqlite3_step(s) == SQLITE_ROW;
  sqlite3_finalize(s);
  return yes;
}

/* ---- Digest of the whole store ----------------------------------------- */

/* Serialise one row (type tag, length, value per column) into a hash. */
static int hash_row(sqlite3_stmt *s, uint8_t out[32]) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int rc = PROSE_ECRYPTO;
  if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) goto out;
  for (int c = 0; c < sqlite3_column_count(s); c++) {
    uint8_t hdr[5];
    int type = sqlite3_column_type(s, c);
    const void *p = NULL;
    sqlite3_int64 iv = 0;
    int n = 0;
    if (type == SQLITE_INTEGER) {
      iv = sqlite3_column_int64(s, c);
      p = &iv;
      n = (int)sizeof iv;
    } else if (type != SQLITE_NULL) {
      p = sqlite3_column_blob(s, c);
      n = sqlite3_column_bytes(s, c);
    }
    hdr[0] = (uint8_t)type;
    prose_put_u32(hdr + 1, (uint32_t)n);
    if (EVP_DigestUpdate(md, hdr, sizeof hdr) != 1 || (n && EVP_DigestUpdate(md, p, (size_t)n) != 1))
      goto out;
  }
  rc = EVP_DigestFinal_ex(md, out, NULL) == 1 ? 0 : PROSE_ECRYPTO;
out:
  EVP_MD_CTX_free(md);
  return rc;
}

static int cmp32(const void *a, const void *b) { return memcmp(a, b, 32); }

/* Hash of one table: the sorted row hashes, so the result does not depend
 * on the order SQLite returns rows in. */
static int hash_table(prose_store *st, const char *table, EVP_MD_CTX *md) {
  char sql[96];
  sqlite3_stmt *s = NULL;
  uint8_t *rows = NULL;
  size_t n = 0, cap = 0;
  int rc, step;
  snprintf(sql, sizeof sql, "SELECT * FROM %s", table);
  if ((rc = prose__db_prepare(st->db, &s, sql))) return rc;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      uint8_t *p = realloc(rows, nc * 32);
      if (!p) {
        rc = PROSE_ENOMEM;
        goto out;
      }
      rows = p;
      cap = nc;
    }
    if ((rc = hash_row(s, rows + n * 32))) goto out;
    n++;
  }
  if ((rc = prose__db_err(step))) goto out;
  if (n) qsort(rows, n, 32, cmp32);
  if (EVP_DigestUpdate(md, table, strlen(table) + 1) != 1 ||
      (n && EVP_DigestUpdate(md, rows, n * 32) != 1))
    rc = PROSE_ECRYPTO;
out:
  free(rows);
  sqlite3_finalize(s);
  return rc;
}

int prose__store_digest(prose_store *st, uint8_t out[32]) {
  static const char *const tables[] = {"meta",    "kms_cert",  "keyset",    "trusted_gms",
                                       "gmk",     "imsg_seen", "pck",       "kms_master",
                                       "gms_group", "gms_member", "gms_gmk"};
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int rc = PROSE_ECRYPTO;
  if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) goto out;
  for (size_t i = 0; i < PROSE_ARRAY_LEN(tables); i++)
    if ((rc = hash_table(st, tables[i], md))) goto out;
  rc = EVP_DigestFinal_ex(md, out, NULL) == 1 ? 0 : PROSE_ECRYPTO;
out:
  EVP_MD_CTX_free(md);
  return rc;
}
