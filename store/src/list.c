/*
 * Listing (public facts only) and expiry.
 */
#include <stdio.h>
#include <string.h>

#include "prose/err.h"
#include "prose/kdf.h"
#include "store_internal.h"

const char *prose_store_item_kind_name(prose_store_item_kind k) {
  switch (k) {
    case PROSE_ITEM_KMS: return "kms";
    case PROSE_ITEM_KEYSET: return "keyset";
    case PROSE_ITEM_TRUSTED_GMS: return "trusted-gms";
    case PROSE_ITEM_GMK: return "gmk";
    case PROSE_ITEM_PCK: return "pck";
    case PROSE_ITEM_KMS_MASTER: return "kms-master";
    case PROSE_ITEM_GMS_GROUP: return "gms-group";
    case PROSE_ITEM_GMS_MEMBER: return "gms-member";
    case PROSE_ITEM_GMS_GMK: return "gms-gmk";
  }
  return "unknown";
}

const char *prose_store_state_name(prose_store_state s) {
  switch (s) {
    case PROSE_STATE_VALID: return "valid";
    case PROSE_STATE_PENDING: return "pending";
    case PROSE_STATE_EXPIRED: return "expired";
    case PROSE_STATE_REVOKED: return "revoked";
  }
  return "unknown";
}

static prose_store_state state_at(bool revoked, uint64_t start, uint64_t end, uint64_t t) {
  if (revoked) return PROSE_STATE_REVOKED;
  if (t < start) return PROSE_STATE_PENDING;
  if (t >= end) return PROSE_STATE_EXPIRED;
  return PROSE_STATE_VALID;
}

typedef struct lister {
  prose_store *st;
  uint64_t t;
  prose_store_list_cb cb;
  void *ud;
} lister;

/* Every list query selects text columns first; a row becomes one item
 * through a per-kind fill function. */
typedef void (*fill_fn)(sqlite3_stmt *s, prose_store_item *it, uint64_t t);

static const char *txt(sqlite3_stmt *s, int i) {
  const unsigned char *p = sqlite3_column_text(s, i);
  return p ? (const char *)p : "";
}

static void fill_kms(sqlite3_stmt *s, prose_store_item *it, uint64_t t) {
  it->uri = txt(s, 0);
  it->period = prose__col_u64(s, 1);
  it->offset = prose__col_u64(s, 2);
  it->start = prose__col_u64(s, 3);
  it->end = prose__col_u64(s, 4);
  it->state = state_at(sqlite3_column_int(s, 5) != 0, it->start, it->end, t);
}

static void fill_keyset(sqlite3_stmt *s, prose_store_item *it, uint64_t t) {
  it->uri = txt(s, 0);
  it->kms_uri = txt(s, 1);
  it->period_no = prose__col_u64(s, 2);
  it->period = prose__col_u64(s, 3);
  it->offset = prose__col_u64(s, 4);
  prose_period_bounds(it->period_no, it->period, it->offset, &it->start, &it->end);
  if (sqlite3_column_bytes(s, 6) == 32) memcpy(it->uid, sqlite3_column_blob(s, 6), 32);
  it->state = state_at(sqlite3_column_int(s, 5) != 0, it->start, it->end, t);
}

static void fill_uri(sqlite3_stmt *s, prose_store_item *it, uint64_t t) {
  (void)t;
  it->uri = txt(s, 0);
}

static void fill_gmk(sqlite3_stmt *s, prose_store_item *it, uint64_t t) {
  it->group_id = txt(s, 0);
  it->uri = txt(s, 1);
  it->gms_uri = txt(s, 2);
  it->key_id = (uint32_t)prose__col_u64(s, 3);
  it->key_id2 = (uint32_t)prose__col_u64(s, 4);
  it->start = prose__col_u64(s, 5);
  it->end = prose__col_u64(s, 6);
  it->state = state_at(false, it->start, it->end, t);
}

static void fill_pck(sqlite3_stmt *s, prose_store_item *it, uint64_t t) {
  it->uri = txt(s, 0);
  it->key_id = (uint32_t)prose__col_u64(s, 1);
  it->start = prose__col_u64(s, 2);
  it->end = prose__col_u64(s, 3);
  it->state = state_at(false, 0, it->end, t);
}

static void fill_group(sqlite3_stmt *s, prose_store_item *it, uint64_t t) {
  (void)t;
  it->group_id = txt(s, 0);
  it->n_members = (size_t)prose__col_u64(s, 1);
}

static void fill_member(sqlite3_stmt *s, prose_store_item *it, uint64_t t) {
  (void)t;
  it->group_id = txt(s, 0);
  it->uri = txt(s, 1);
}

static void fill_gms_gmk(sqlite3_stmt *s, prose_store_item *it, uint64_t t) {
  it->group_id = txt(s, 0);
  it->key_id = (uint32_t)prose__col_u64(s, 1);
  it->start = prose__col_u64(s, 2);
  it->end = prose__col_u64(s, 3);
  it->state = state_at(false, it->start, it->end, t);
}

static int list_kind(lister *l, prose_store_item_kind kind, const char *sql, fill_fn fill) {
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(l->st->db, &s, sql), step = SQLITE_DONE;
  while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
    prose_store_item it;
    memset(&it, 0, sizeof it);
    it.kind = kind;
    it.uri = it.kms_uri = it.group_id = it.gms_uri = "";
    fill(s, &it, l->t);
    rc = l->cb(l->ud, &it);
  }
  if (!rc) rc = prose__db_err(step);
  sqlite3_finalize(s);
  return rc;
}

int prose_store_list(prose_store *st, uint64_t t, prose_store_list_cb cb, void *ud) {
  static const struct {
    prose_store_item_kind kind;
    const char *sql;
    fill_fn fill;
  } kinds[] = {
      {PROSE_ITEM_KMS,
       "SELECT kms_uri, period, offset_s, valid_from, valid_to, revoked FROM kms_cert"
       " ORDER BY kms_uri",
       fill_kms},
      {PROSE_ITEM_KEYSET,
       "SELECT k.user_uri, k.kms_uri, k.period_no, c.period, c.offset_s, k.revoked, k.uid"
       " FROM keyset k JOIN kms_cert c ON c.kms_uri = k.kms_uri"
       " ORDER BY k.user_uri, k.kms_uri, k.period_no",
       fill_keyset},
      {PROSE_ITEM_TRUSTED_GMS, "SELECT uri FROM trusted_gms ORDER BY uri", fill_uri},
      {PROSE_ITEM_GMK,
       "SELECT group_id, user_uri, gms_uri, gmk_id, guk_id, activation, expiry FROM gmk"
       " ORDER BY group_id, activation, gmk_id, user_uri",
       fill_gmk},
      {PROSE_ITEM_PCK, "SELECT peer_uri, pck_id, created, expires FROM pck ORDER BY pck_id",
       fill_pck},
      {PROSE_ITEM_KMS_MASTER, "SELECT kms_uri FROM kms_master ORDER BY kms_uri", fill_uri},
      {PROSE_ITEM_GMS_GROUP,
       "SELECT g.group_id, (SELECT count(*) FROM gms_member m WHERE m.group_id = g.group_id)"
       " FROM gms_group g ORDER BY g.group_id",
       fill_group},
      {PROSE_ITEM_GMS_MEMBER,
       "SELECT group_id, member_uri FROM gms_member ORDER BY group_id, member_uri", fill_member},
      {PROSE_ITEM_GMS_GMK,
       "SELECT group_id, gmk_id, activation, expiry FROM gms_gmk"
       " ORDER BY group_id, activation, gmk_id",
       fill_gms_gmk},
  };
  if (!st || !cb) return PROSE_EINVAL;
  lister l = {st, t, cb, ud};
  int rc = 0;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && !rc; i++)
    rc = list_kind(&l, kinds[i].kind, kinds[i].sql, kinds[i].fill);
  return rc;
}

/* ---- Expiry -------------------------------------------------------------- */

static int delete_count(sqlite3 *db, const char *sql, uint64_t t, size_t *count) {
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(db, &s, sql);
  if (!rc) rc = prose__bind_u64(s, 1, t);
  if (!rc) rc = prose__db_err(sqlite3_step(s));
  if (!rc && count) *count += (size_t)sqlite3_changes(db);
  sqlite3_finalize(s);
  return rc;
}

int prose_store_expire(prose_store *st, uint64_t t, prose_expire_summary *out) {
  prose_expire_summary sum;
  memset(&sum, 0, sizeof sum);
  if (!st) return PROSE_EINVAL;
  /* Certificates are removed on device and GMS stores only: a KMS keeps its
   * own certificate, which its master secrets refer to. Their key sets go
   * first (explicitly, so they are counted). */
  const bool certs = st->role != PROSE_STORE_KMS;
  int rc = prose__db_begin(st->db);
  if (!rc && certs)
    rc = delete_count(st->db,
                      "DELETE FROM keyset WHERE kms_uri IN (SELECT kms_uri FROM kms_cert"
                      " WHERE revoked != 0 OR valid_to <= ?1)",
                      t, &sum.keysets);
  if (!rc && certs)
    rc = delete_count(st->db, "DELETE FROM kms_cert WHERE revoked != 0 OR valid_to <= ?1", t,
                      &sum.certs);
  if (!rc)
    rc = delete_count(st->db,
                      "DELETE FROM keyset WHERE revoked != 0 OR valid_to <= ?1 OR EXISTS("
                      "SELECT 1 FROM kms_cert c WHERE c.kms_uri = keyset.kms_uri"
                      " AND c.offset_s + (keyset.period_no + 1) * c.period <= ?1)",
                      t, &sum.keysets);
  if (!rc) rc = delete_count(st->db, "DELETE FROM gmk WHERE expiry <= ?1", t, &sum.gmks);
  if (!rc) rc = delete_count(st->db, "DELETE FROM pck WHERE expires <= ?1", t, &sum.pcks);
  if (!rc) rc = delete_count(st->db, "DELETE FROM gms_gmk WHERE expiry <= ?1", t, &sum.gms_gmks);
  if (!rc) rc = prose__db_commit(st->db);
  if (rc) {
    prose__db_rollback(st->db);
    return rc;
  }
  if (out) *out = sum;
  return 0;
}
