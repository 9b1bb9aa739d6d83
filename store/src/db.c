/*
 * SQLite plumbing: error mapping, statement helpers, the schema and the
 * meta table. The schema is documented in docs/store.md.
 */
#include <stdio.h>
#include <string.h>

#include "prose/err.h"
#include "store_internal.h"

int prose__db_err(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return 0;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return PROSE_ESTORE_CORRUPT;
    case SQLITE_NOMEM: return PROSE_ENOMEM;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH: return PROSE_EPERM;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL: return PROSE_EIO;
    case SQLITE_CONSTRAINT: return PROSE_EEXIST;
    default: return PROSE_EDB;
  }
}

int prose__db_exec(sqlite3 *db, const char *sql) {
  return prose__db_err(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

int prose__db_prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql) {
  int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
  if (rc != SQLITE_OK) {
    *st = NULL;
    int e = prose__db_err(rc);
    return e ? e : PROSE_EDB;
  }
  return 0;
}

int prose__db_begin(sqlite3 *db) { return prose__db_exec(db, "BEGIN IMMEDIATE"); }
int prose__db_commit(sqlite3 *db) { return prose__db_exec(db, "COMMIT"); }
void prose__db_rollback(sqlite3 *db) {
  if (!sqlite3_get_autocommit(db)) (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Version 1 of the schema. Times are NTP seconds; "valid_from 0" and
 * "valid_to / expiry = 2^63 - 1" mean "not stated". Columns named after a
 * secret (ssk, rsk, gmk, pck, ksak, z_secret) hold sealed values (seal.c).
 */
static const char schema_v1[] =
    "CREATE TABLE meta(k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE kms_cert(kms_uri TEXT PRIMARY KEY, cert_uri TEXT NOT NULL, issuer TEXT NOT NULL,"
    " role INTEGER NOT NULL, user_id_format INTEGER NOT NULL, period INTEGER NOT NULL"
    " CHECK(period > 0), offset_s INTEGER NOT NULL, valid_from INTEGER NOT NULL,"
    " valid_to INTEGER NOT NULL, revoked INTEGER NOT NULL, kpak BLOB NOT NULL, z BLOB NOT NULL);"
    "CREATE TABLE keyset(kms_uri TEXT NOT NULL REFERENCES kms_cert(kms_uri) ON DELETE CASCADE,"
    " user_uri TEXT NOT NULL, period_no INTEGER NOT NULL, uid BLOB NOT NULL,"
    " valid_from INTEGER NOT NULL, valid_to INTEGER NOT NULL, revoked INTEGER NOT NULL,"
    " pvt BLOB NOT NULL, ssk BLOB NOT NULL, rsk BLOB NOT NULL,"
    " PRIMARY KEY(kms_uri, user_uri, period_no));"
    "CREATE TABLE trusted_gms(uri TEXT PRIMARY KEY);"
    "CREATE TABLE gmk(group_id TEXT NOT NULL, gmk_id INTEGER NOT NULL, user_uri TEXT NOT NULL,"
    " gms_uri TEXT NOT NULL, guk_id INTEGER NOT NULL, activation INTEGER NOT NULL,"
    " expiry INTEGER NOT NULL, status INTEGER NOT NULL, rand BLOB NOT NULL, gmk BLOB NOT NULL,"
    " PRIMARY KEY(group_id, gmk_id, user_uri));"
    "CREATE INDEX gmk_by_id ON gmk(gmk_id);"
    "CREATE TABLE imsg_seen(digest BLOB PRIMARY KEY, t INTEGER NOT NULL);"
    "CREATE TABLE pck(pck_id INTEGER PRIMARY KEY, peer_uri TEXT NOT NULL, rand BLOB NOT NULL,"
    " created INTEGER NOT NULL, expires INTEGER NOT NULL, pck BLOB NOT NULL);"
    "CREATE TABLE kms_master(kms_uri TEXT PRIMARY KEY REFERENCES kms_cert(kms_uri),"
    " ksak BLOB NOT NULL, z_secret BLOB NOT NULL);"
    "CREATE TABLE gms_group(group_id TEXT PRIMARY KEY);"
    "CREATE TABLE gms_member(group_id TEXT NOT NULL REFERENCES gms_group(group_id)"
    " ON DELETE CASCADE, member_uri TEXT NOT NULL, PRIMARY KEY(group_id, member_uri));"
    "CREATE TABLE gms_gmk(group_id TEXT NOT NULL REFERENCES gms_group(group_id)"
    " ON DELETE CASCADE, gmk_id INTEGER NOT NULL, activation INTEGER NOT NULL,"
    " expiry INTEGER NOT NULL, rand BLOB NOT NULL, gmk BLOB NOT NULL,"
    " PRIMARY KEY(group_id, gmk_id));";

int prose__db_create_schema(sqlite3 *db) { return prose__db_exec(db, schema_v1); }

int prose__bind_text(sqlite3_stmt *s, int i, const char *v) {
  return prose__db_err(sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT));
}

int prose__bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n) {
  if (n > (size_t)INT32_MAX) return PROSE_EINVAL;
  /* A zero-length blob must still bind as a blob, not NULL. */
  if (n == 0) return prose__db_err(sqlite3_bind_zeroblob(s, i, 0));
  return prose__db_err(sqlite3_bind_blob(s, i, p, (int)n, SQLITE_TRANSIENT));
}

int prose__bind_u64(sqlite3_stmt *s, int i, uint64_t v) {
  if (v > (uint64_t)INT64_MAX) v = (uint64_t)INT64_MAX;
  return prose__db_err(sqlite3_bind_int64(s, i, (sqlite3_int64)v));
}

uint64_t prose__col_u64(sqlite3_stmt *s, int i) {
  sqlite3_int64 v = sqlite3_column_int64(s, i);
  return v < 0 ? 0 : (uint64_t)v;
}

int prose__col_text(sqlite3_stmt *s, int i, char *out, size_t cap) {
  const unsigned char *t = sqlite3_column_text(s, i);
  int n = sqlite3_column_bytes(s, i);
  if (!t || n < 0 || (size_t)n >= cap || memchr(t, 0, (size_t)n)) return PROSE_ESTORE_CORRUPT;
  memcpy(out, t, (size_t)n);
  out[n] = '\0';
  return 0;
}

int prose__col_blob_exact(sqlite3_stmt *s, int i, uint8_t *out, size_t n) {
  const void *p = sqlite3_column_blob(s, i);
  int len = sqlite3_column_bytes(s, i);
  if (len < 0 || (size_t)len != n || (n && !p)) return PROSE_ESTORE_CORRUPT;
  if (n) memcpy(out, p, n);
  return 0;
}

int prose__meta_put(sqlite3 *db, const char *k, const void *v, size_t n) {
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(db, &s, "INSERT OR REPLACE INTO meta(k, v) VALUES(?1, ?2)");
  if (!rc) rc = prose__bind_text(s, 1, k);
  if (!rc) rc = prose__bind_blob(s, 2, v, n);
  if (!rc) rc = prose__db_err(sqlite3_step(s));
  sqlite3_finalize(s);
  return rc;
}

int prose__meta_get(sqlite3 *db, const char *k, uint8_t *v, size_t cap, size_t *n) {
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(db, &s, "SELECT v FROM meta WHERE k = ?1");
  if (!rc) rc = prose__bind_text(s, 1, k);
  if (!rc) {
    int step = sqlite3_step(s);
    if (step == SQLITE_DONE) {
      rc = PROSE_ENOENT;
    } else if (step != SQLITE_ROW) {
      rc = prose__db_err(step);
    } else {
      const void *p = sqlite3_column_blob(s, 0);
      int len = sqlite3_column_bytes(s, 0);
      if (len < 0 || (size_t)len > cap) {
        rc = PROSE_ESTORE_CORRUPT;
      } else {
        if (len) memcpy(v, p, (size_t)len);
        *n = (size_t)len;
      }
    }
  }
  sqlite3_finalize(s);
  return rc;
}
