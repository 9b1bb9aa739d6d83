/*
 * Offline GMS: groups, GMKs and their distribution as MIKEY-SAKKE
 * I_MESSAGEs (33.179 7.3, Annex E.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/authority.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/mikey.h"
#include "prose/util.h"
#include "store_internal.h"

#define GMK_LEN 16
#define IMSG_MAX 2048

void prose_gms_group_params_default(prose_gms_group_params *p) {
  memset(p, 0, sizeof *p);
  p->expiry = PROSE_STORE_NEVER;
}

void prose_gms_distribute_params_default(prose_gms_distribute_params *p) {
  memset(p, 0, sizeof *p);
}

static int check_gms(prose_store *st, prose_diag *d) {
  if (st->role != PROSE_STORE_GMS || !st->owner[0])
    return prose_diag_set(d, PROSE_EINVAL, "not a GMS store (role gms with an owner URI)");
  return 0;
}

static bool group_exists(prose_store *st, const char *group_id) {
  sqlite3_stmt *s = NULL;
  bool yes = false;
  if (prose__db_prepare(st->db, &s, "SELECT 1 FROM gms_group WHERE group_id = ?1")) return false;
  if (!prose__bind_text(s, 1, group_id)) yes = sqlite3_step(s) == SQLITE_ROW;
  sqlite3_finalize(s);
  return yes;
}

static int insert_members(prose_store *st, const char *group_id, const char *const *members,
                          size_t n) {
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(st->db, &s,
                             "INSERT OR IGNORE INTO gms_member(group_id, member_uri) VALUES(?1, ?2)");
  for (size_t i = 0; i < n && !rc; i++) {
    if (!(rc = prose__bind_text(s, 1, group_id)) && !(rc = prose__bind_text(s, 2, members[i])))
      rc = prose__db_err(sqlite3_step(s));
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  return rc;
}

static int check_members(const char *const *members, size_t n, bool allow_dup, prose_diag *d) {
  if (n > PROSE_GMS_MAX_MEMBERS || (n && !members))
    return prose_diag_set(d, PROSE_EINVAL, "too many members (at most %u)", PROSE_GMS_MAX_MEMBERS);
  for (size_t i = 0; i < n; i++) {
    if (!prose__valid_uri(members[i]))
      return prose_diag_set(d, PROSE_EINVAL, "member %zu: not a valid URI", i);
    for (size_t j = 0; j < i && !allow_dup; j++)
      if (!strcmp(members[i], members[j]))
        return prose_diag_set(d, PROSE_EINVAL, "member %s listed twice", members[i]);
  }
  return 0;
}

/* A GMK-ID with purpose tag 0 and 28 random bits, never 0 (which the
 * distribute parameters use for "all") and not used by any group yet. */
static int new_gmk_id(prose_store *st, uint32_t *out) {
  uint8_t idb[4];
  for (int tries = 0; tries < 8; tries++) {
    sqlite3_stmt *q = NULL;
    bool taken = false;
    if (prose_rng_fill(st->rng, idb, sizeof idb)) return PROSE_ERNG;
    uint32_t id = prose_get_u32(idb) & 0x0FFFFFFFu;
    if (id == 0) continue;
    int rc = prose__db_prepare(st->db, &q, "SELECT 1 FROM gms_gmk WHERE gmk_id = ?1");
    if (!rc && !(rc = prose__bind_u64(q, 1, id))) taken = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    if (rc) return rc;
    if (!taken) {
      *out = id;
      return 0;
    }
  }
  return PROSE_ERNG; /* eight collisions in 2^28: the generator is broken */
}

/* A new GMK: 16 random octets under a fresh GMK-ID, and one RAND shared by
 * every member's I_MESSAGE for it (DESIGN §3). */
static int new_gmk(prose_store *st, const char *group_id, uint64_t activation, uint64_t expiry,
                   uint32_t *gmk_id_out) {
  uint8_t gmk[GMK_LEN], rand[PROSE_MIKEY_RAND_LEN], sealed[GMK_LEN + PROSE__SEAL_OVERHEAD];
  size_t sealed_len = 0;
  uint32_t gmk_id = 0;
  sqlite3_stmt *s = NULL;
  int rc = new_gmk_id(st, &gmk_id);
  if (rc) goto out;
  if (prose_rng_fill(st->rng, gmk, sizeof gmk) || prose_rng_fill(st->rng, rand, sizeof rand)) {
    rc = PROSE_ERNG;
    goto out;
  }
  prose__seal_id id = {"gms_gmk", "gmk", group_id, NULL, NULL, gmk_id};
  if ((rc = prose__store_seal(st, &id, gmk, sizeof gmk, sealed, &sealed_len))) goto out;
  rc = prose__db_prepare(st->db, &s,
                         "INSERT INTO gms_gmk(group_id, gmk_id, activation, expiry, rand, gmk)"
                         " VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  if (!rc) rc = prose__bind_text(s, 1, group_id);
  if (!rc) rc = prose__bind_u64(s, 2, gmk_id);
  if (!rc) rc = prose__bind_u64(s, 3, activation);
  if (!rc) rc = prose__bind_u64(s, 4, expiry);
  if (!rc) rc = prose__bind_blob(s, 5, rand, sizeof rand);
  if (!rc) rc = prose__bind_blob(s, 6, sealed, sealed_len);
  if (!rc) rc = prose__db_err(sqlite3_step(s));
  if (!rc) *gmk_id_out = gmk_id;
out:
  sqlite3_finalize(s);
  prose_wipe(gmk, sizeof gmk);
  return rc;
}

int prose_gms_group_create(prose_store *st, const prose_gms_group_params *p, uint32_t *gmk_id,
                           prose_diag *d) {
  sqlite3_stmt *s = NULL;
  uint32_t id = 0;
  int rc;
  if (!st || !p || !prose__valid_uri(p->group_id))
    return prose_diag_set(d, PROSE_EINVAL, "invalid group parameters");
  if ((rc = check_gms(st, d)) || (rc = check_members(p->members, p->n_members, false, d)))
    return rc;
  if (p->expiry <= p->activation || p->expiry > PROSE_STORE_NEVER)
    return prose_diag_set(d, PROSE_EINVAL, "expiry must be after activation");
  if (group_exists(st, p->group_id))
    return prose_diag_set(d, PROSE_EEXIST, "group %s exists", p->group_id);
  if ((rc = prose__db_begin(st->db))) return rc;
  rc = prose__db_prepare(st->db, &s, "INSERT INTO gms_group(group_id) VALUES(?1)");
  if (!rc) rc = prose__bind_text(s, 1, p->group_id);
  if (!rc) rc = prose__db_err(sqlite3_step(s));
  sqlite3_finalize(s);
  if (!rc) rc = insert_members(st, p->group_id, p->members, p->n_members);
  if (!rc) rc = new_gmk(st, p->group_id, p->activation, p->expiry, &id);
  if (!rc) rc = prose__db_commit(st->db);
  if (rc) {
    prose__db_rollback(st->db);
    return prose_diag_set(d, rc, "creating group %s failed", p->group_id);
  }
  if (gmk_id) *gmk_id = id;
  return 0;
}

int prose_gms_group_add_members(prose_store *st, const char *group_id,
                                const char *const *members, size_t n_members, prose_diag *d) {
  int rc;
  if (!st || !prose__valid_uri(group_id)) return PROSE_EINVAL;
  if ((rc = check_gms(st, d)) || (rc = check_members(members, n_members, true, d))) return rc;
  if (!group_exists(st, group_id))
    return prose_diag_set(d, PROSE_ENOENT, "no group %s", group_id);
  if ((rc = prose__db_begin(st->db))) return rc;
  rc = insert_members(st, group_id, members, n_members);
  if (!rc) rc = prose__db_commit(st->db);
  if (rc) prose__db_rollback(st->db);
  return rc;
}

int prose_gms_group_rekey(prose_store *st, const char *group_id, uint64_t activation,
                          uint64_t expiry, uint32_t *gmk_id, prose_diag *d) {
  sqlite3_stmt *s = NULL;
  uint32_t id = 0;
  int rc;
  if (!st || !prose__valid_uri(group_id)) return PROSE_EINVAL;
  if ((rc = check_gms(st, d))) return rc;
  if (!group_exists(st, group_id))
    return prose_diag_set(d, PROSE_ENOENT, "no group %s", group_id);
  if (expiry <= activation || expiry > PROSE_STORE_NEVER)
    return prose_diag_set(d, PROSE_ERANGE, "expiry must be after activation");
  if ((rc = prose__db_begin(st->db))) return rc;
  /* The new GMK must activate after every existing one, so "the GMK with
   * the latest activation <= t" always names exactly one key. */
  rc = prose__db_prepare(st->db, &s, "SELECT max(activation) FROM gms_gmk WHERE group_id = ?1");
  if (!rc) rc = prose__bind_text(s, 1, group_id);
  if (!rc && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL &&
      prose__col_u64(s, 0) >= activation)
    rc = prose_diag_set(d, PROSE_ERANGE, "activation must be later than the current GMK's");
  sqlite3_finalize(s);
  if (!rc) rc = new_gmk(st, group_id, activation, expiry, &id);
  if (!rc) rc = prose__db_commit(st->db);
  if (rc) {
    prose__db_rollback(st->db);
    return rc;
  }
  if (gmk_id) *gmk_id = id;
  return 0;
}

/* ---- Distribution ------------------------------------------------------ */

typedef struct dist {
  prose_store *st;
  const prose_gms_distribute_params *p;
  prose_keyring *kr;
  char own_kms[PROSE_STORE_URI_MAX];
  prose_gms_msg_cb cb;
  void *ud;
  size_t sent;
  prose_diag *d;
} dist;

static bool is_member(prose_store *st, const char *group_id, const char *member) {
  sqlite3_stmt *s = NULL;
  bool yes = false;
  if (prose__db_prepare(st->db, &s,
                        "SELECT 1 FROM gms_member WHERE group_id = ?1 AND member_uri = ?2"))
    return false;
  if (!prose__bind_text(s, 1, group_id) && !prose__bind_text(s, 2, member))
    yes = sqlite3_step(s) == SQLITE_ROW;
  sqlite3_finalize(s);
  return yes;
}

/* Build, sign and hand out one I_MESSAGE for (group, GMK). */
static int send_one(dist *x, const char *group_id, uint32_t gmk_id, uint64_t activation,
                    uint64_t expiry, const uint8_t gmk[16], const uint8_t *rand, size_t rand_len) {
  uint8_t msg[IMSG_MAX];
  size_t len = 0;
  prose_mikey_key_params kp;
  prose_mikey_create_params cp;
  memset(&kp, 0, sizeof kp);
  kp.key_type = PROSE_MIKEY_GMK;
  kp.activation = prose__ntp_to_kp(activation);
  kp.expiry = prose__ntp_to_kp(expiry);
  kp.n_groups = 1;
  kp.group_iei[0] = PROSE_MIKEY_KP_GROUP_IEI;
  kp.groups[0].p = (const uint8_t *)group_id;
  kp.groups[0].len = strlen(group_id);
  prose_mikey_create_default(&cp);
  cp.kind = PROSE_MIKEY_GMK;
  cp.key_id = gmk_id;
  cp.key = gmk;
  cp.responder_uri = x->p->member_uri;
  cp.responder_kms = x->p->member_kms ? x->p->member_kms : x->own_kms;
  cp.initiator_kms = x->own_kms;
  cp.t = x->p->t << 32; /* NTP seconds in the upper half, fraction 0 */
  cp.rand = rand;
  cp.rand_len = rand_len;
  cp.key_params = &kp;
  int rc = prose_mikey_create(x->kr, &cp, x->st->rng, msg, sizeof msg, &len);
  if (rc)
    return prose_diag_set(x->d, rc, "I_MESSAGE for %s, group %s, GMK %08x: %s", x->p->member_uri,
                          group_id, (unsigned)gmk_id, prose_strerror(rc));
  x->sent++;
  return x->cb(x->ud, group_id, gmk_id, msg, len);
}

static int send_group(dist *x, const char *group_id) {
  sqlite3_stmt *s = NULL;
  uint8_t gmk[GMK_LEN];
  int rc = prose__db_prepare(x->st->db, &s,
                             "SELECT gmk_id, activation, expiry, rand, gmk FROM gms_gmk"
                             " WHERE group_id = ?1 AND ((?2 = 0 AND expiry > ?3) OR gmk_id = ?2)"
                             " ORDER BY activation");
  int step = SQLITE_DONE;
  if (!rc) rc = prose__bind_text(s, 1, group_id);
  if (!rc) rc = prose__bind_u64(s, 2, x->p->gmk_id);
  if (!rc) rc = prose__bind_u64(s, 3, x->p->t);
  while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
    uint32_t id = (uint32_t)prose__col_u64(s, 0);
    int rlen = sqlite3_column_bytes(s, 3);
    prose__seal_id sid = {"gms_gmk", "gmk", group_id, NULL, NULL, id};
    if (rlen < (int)PROSE_MIKEY_RAND_MIN || rlen > PROSE_STORE_RAND_MAX) rc = PROSE_ESTORE_CORRUPT;
    if (!rc) rc = prose__store_unseal_col(x->st, &sid, s, 4, gmk, sizeof gmk);
    if (!rc)
      rc = send_one(x, group_id, id, prose__col_u64(s, 1), prose__col_u64(s, 2), gmk,
                    sqlite3_column_blob(s, 3), (size_t)rlen);
  }
  if (!rc) rc = prose__db_err(step);
  prose_wipe(gmk, sizeof gmk);
  sqlite3_finalize(s);
  return rc;
}

static int send_all_groups(dist *x) {
  sqlite3_stmt *s = NULL;
  char group[PROSE_STORE_URI_MAX];
  int rc = prose__db_prepare(x->st->db, &s,
                             "SELECT group_id FROM gms_member WHERE member_uri = ?1"
                             " ORDER BY group_id");
  int step = SQLITE_DONE;
  if (!rc) rc = prose__bind_text(s, 1, x->p->member_uri);
  while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
    if (!(rc = prose__col_text(s, 0, group, sizeof group))) rc = send_group(x, group);
  }
  if (!rc) rc = prose__db_err(step);
  sqlite3_finalize(s);
  return rc;
}

int prose_gms_distribute(prose_store *st, const prose_gms_distribute_params *p,
                         prose_gms_msg_cb cb, void *ud, prose_diag *d) {
  dist x;
  memset(&x, 0, sizeof x);
  if (!st || !p || !cb || !prose__valid_uri(p->member_uri) ||
      (p->group_id && !prose__valid_uri(p->group_id)) ||
      (p->member_kms && !prose__valid_uri(p->member_kms)))
    return prose_diag_set(d, PROSE_EINVAL, "invalid distribution parameters");
  int rc = check_gms(st, d);
  if (rc) return rc;
  if (p->group_id && !group_exists(st, p->group_id))
    return prose_diag_set(d, PROSE_ENOENT, "no group %s", p->group_id);
  if (p->group_id && !is_member(st, p->group_id, p->member_uri))
    return prose_diag_set(d, PROSE_ENOENT, "%s is not a member of %s", p->member_uri, p->group_id);
  x.st = st;
  x.p = p;
  x.cb = cb;
  x.ud = ud;
  x.d = d;
  /* The GMS signs with its own key set for the period of t. */
  if ((rc = prose_keyring_new(&x.kr, st->owner, NULL))) return rc;
  rc = prose__load_keyring(st, x.kr, p->t, true, x.own_kms, d);
  if (rc == PROSE_ENOKEY) rc = prose_diag_set(d, rc, "no GMS key set for the period of t");
  if (!rc) rc = p->group_id ? send_group(&x, p->group_id) : send_all_groups(&x);
  if (!rc && x.sent == 0)
    rc = prose_diag_set(d, PROSE_ENOENT, "no GMK to distribute to %s", p->member_uri);
  prose_keyring_free(x.kr);
  return rc;
}
