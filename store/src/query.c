/*
 * Queries the node uses (key set at t, GMK to transmit with, GMK by ID,
 * PCKs), loading a keyring, listing and expiry.
 */
#include <stdio.h>
#include <string.h>

#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/kmsxml.h"
#include "prose/mikey.h"
#include "prose/util.h"
#include "store_internal.h"

void prose_store_keyset_wipe(prose_store_keyset *ks) {
  if (ks) prose_wipe(ks, sizeof *ks);
}
void prose_store_gmk_wipe(prose_store_gmk *g) {
  if (g) prose_wipe(g, sizeof *g);
}
void prose_store_pck_wipe(prose_store_pck *p) {
  if (p) prose_wipe(p, sizeof *p);
}

/* ---- KMS certificates ------------------------------------------------- */

#define CERT_COLS                                                                          \
  "kms_uri, cert_uri, issuer, role, period, offset_s, valid_from, valid_to, revoked, kpak, z"

static int read_cert(sqlite3_stmt *s, prose_store_kms *c) {
  memset(c, 0, sizeof *c);
  int rc;
  if ((rc = prose__col_text(s, 0, c->kms_uri, sizeof c->kms_uri)) ||
      (rc = prose__col_text(s, 1, c->cert_uri, sizeof c->cert_uri)) ||
      (rc = prose__col_text(s, 2, c->issuer, sizeof c->issuer)))
    return rc;
  c->role = sqlite3_column_int(s, 3);
  c->period = prose__col_u64(s, 4);
  c->offset = prose__col_u64(s, 5);
  c->valid_from = prose__col_u64(s, 6);
  c->valid_to = prose__col_u64(s, 7);
  c->revoked = sqlite3_column_int(s, 8) != 0;
  if (c->period == 0) return PROSE_ESTORE_CORRUPT;
  if ((rc = prose__col_blob_exact(s, 9, c->kpak, sizeof c->kpak))) return rc;
  return prose__col_blob_exact(s, 10, c->z, sizeof c->z);
}

int prose__kms_load(prose_store *st, const char *kms_uri, prose_store_kms *out) {
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(st->db, &s, "SELECT " CERT_COLS " FROM kms_cert WHERE kms_uri = ?1");
  if (!rc) rc = prose__bind_text(s, 1, kms_uri);
  if (!rc) {
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) rc = read_cert(s, out);
    else rc = step == SQLITE_DONE ? PROSE_ENOKEY : prose__db_err(step);
  }
  sqlite3_finalize(s);
  return rc;
}

int prose_store_kms_get(prose_store *st, const char *kms_uri, prose_store_kms *out) {
  if (!st || !kms_uri || !out) return PROSE_EINVAL;
  return prose__kms_load(st, kms_uri, out);
}

static bool cert_valid_at(const prose_store_kms *c, uint64_t t) {
  return !c->revoked && c->valid_from <= t && t < c->valid_to;
}

/* Visit every certificate in KMS URI order. */
typedef int (*cert_fn)(prose_store *st, const prose_store_kms *c, void *ud);

static int each_cert(prose_store *st, cert_fn fn, void *ud) {
  sqlite3_stmt *s = NULL;
  prose_store_kms c;
  int rc = prose__db_prepare(st->db, &s, "SELECT " CERT_COLS " FROM kms_cert ORDER BY kms_uri");
  int step = SQLITE_DONE;
  while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
    if (!(rc = read_cert(s, &c))) rc = fn(st, &c, ud);
  }
  if (!rc) rc = prose__db_err(step);
  sqlite3_finalize(s);
  return rc;
}

/* ---- Key sets ---------------------------------------------------------- */

/* Load one key set row (unsealing its secrets). PROSE_ENOKEY when absent;
 * *unusable is set when the row exists but is revoked or outside its
 * validity at t_use. */
static int load_keyset(prose_store *st, const prose_store_kms *c, const char *user,
                       uint64_t period_no, uint64_t t_use, prose_store_keyset *out,
                       bool *unusable) {
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(st->db, &s,
                             "SELECT uid, valid_from, valid_to, revoked, pvt, ssk, rsk FROM keyset"
                             " WHERE kms_uri = ?1 AND user_uri = ?2 AND period_no = ?3");
  if (!rc) rc = prose__bind_text(s, 1, c->kms_uri);
  if (!rc) rc = prose__bind_text(s, 2, user);
  if (!rc) rc = prose__bind_u64(s, 3, period_no);
  if (rc) goto out;
  int step = sqlite3_step(s);
  if (step != SQLITE_ROW) {
    rc = step == SQLITE_DONE ? PROSE_ENOKEY : prose__db_err(step);
    goto out;
  }
  if (sqlite3_column_int(s, 3) != 0 || prose__col_u64(s, 1) > t_use ||
      t_use >= prose__col_u64(s, 2)) {
    *unusable = true;
    rc = PROSE_ENOKEY;
    goto out;
  }
  memset(out, 0, sizeof *out);
  memcpy(out->kms_uri, c->kms_uri, sizeof out->kms_uri);
  snprintf(out->user_uri, sizeof out->user_uri, "%s", user);
  out->period_no = period_no;
  prose_period_bounds(period_no, c->period, c->offset, &out->start, &out->end);
  prose__seal_id ssk_id = {"keyset", "ssk", c->kms_uri, user, NULL, period_no};
  prose__seal_id rsk_id = {"keyset", "rsk", c->kms_uri, user, NULL, period_no};
  if ((rc = prose__col_blob_exact(s, 0, out->uid, sizeof out->uid)) ||
      (rc = prose__col_blob_exact(s, 4, out->pvt, sizeof out->pvt)) ||
      (rc = prose__store_unseal_col(st, &ssk_id, s, 5, out->ssk, sizeof out->ssk)) ||
      (rc = prose__store_unseal_col(st, &rsk_id, s, 6, out->rsk, sizeof out->rsk)))
    prose_store_keyset_wipe(out);
out:
  sqlite3_finalize(s);
  return rc;
}

static bool user_has_keysets(prose_store *st, const char *kms_uri, const char *user) {
  sqlite3_stmt *s = NULL;
  bool yes = false;
  if (prose__db_prepare(st->db, &s, "SELECT 1 FROM keyset WHERE kms_uri = ?1 AND user_uri = ?2"))
    return false;
  if (!prose__bind_text(s, 1, kms_uri) && !prose__bind_text(s, 2, user))
    yes = sqlite3_step(s) == SQLITE_ROW;
  sqlite3_finalize(s);
  return yes;
}

typedef struct keyset_query {
  const char *user;
  uint64_t t;
  unsigned ahead;
  prose_store_keyset *out;
  bool found, unusable;
} keyset_query;

static int keyset_at_cert(prose_store *st, const prose_store_kms *c, void *ud) {
  keyset_query *q = ud;
  uint64_t pno = 0, start = 0, end = 0;
  if (q->found) return 0;
  if (!cert_valid_at(c, q->t)) {
    /* Key sets under a revoked or expired certificate are unusable. */
    if (user_has_keysets(st, c->kms_uri, q->user)) q->unusable = true;
    return 0;
  }
  if (prose_period_no(q->t, c->period, c->offset, &pno)) return 0;
  pno += q->ahead;
  prose_period_bounds(pno, c->period, c->offset, &start, &end);
  /* Validity is checked at the time the key set will be used: the start of
   * a future period, or now for the current one. */
  int rc = load_keyset(st, c, q->user, pno, q->t > start ? q->t : start, q->out, &q->unusable);
  if (rc == PROSE_ENOKEY) return 0;
  if (!rc) q->found = true;
  return rc;
}

int prose_store_keyset_at(prose_store *st, const char *user_uri, uint64_t t, unsigned ahead,
                          prose_store_keyset *out) {
  if (!st || !out) return PROSE_EINVAL;
  const char *user = user_uri ? user_uri : st->owner;
  if (!user[0]) return PROSE_EINVAL;
  keyset_query q = {user, t, ahead, out, false, false};
  int rc = each_cert(st, keyset_at_cert, &q);
  if (rc) return rc;
  if (!q.found) return q.unusable ? PROSE_EEXPIRED : PROSE_ENOKEY;
  return 0;
}

/* ---- GMKs ------------------------------------------------------------ */

#define GMK_COLS                                                                       \
  "group_id, gmk_id, user_uri, gms_uri, guk_id, activation, expiry, status, rand, gmk"

static int read_gmk(prose_store *st, sqlite3_stmt *s, prose_store_gmk *g) {
  memset(g, 0, sizeof *g);
  int rc;
  if ((rc = prose__col_text(s, 0, g->group_id, sizeof g->group_id)) ||
      (rc = prose__col_text(s, 2, g->user_uri, sizeof g->user_uri)) ||
      (rc = prose__col_text(s, 3, g->gms_uri, sizeof g->gms_uri)))
    return rc;
  g->gmk_id = (uint32_t)prose__col_u64(s, 1);
  g->guk_id = (uint32_t)prose__col_u64(s, 4);
  g->activation = prose__col_u64(s, 5);
  g->expiry = prose__col_u64(s, 6);
  g->status = (uint32_t)prose__col_u64(s, 7);
  int n = sqlite3_column_bytes(s, 8);
  if (n < (int)PROSE_MIKEY_RAND_MIN || n > PROSE_STORE_RAND_MAX) return PROSE_ESTORE_CORRUPT;
  g->rand_len = (size_t)n;
  memcpy(g->rand, sqlite3_column_blob(s, 8), g->rand_len);
  prose__seal_id id = {"gmk", "gmk", g->group_id, g->user_uri, NULL, g->gmk_id};
  rc = prose__store_unseal_col(st, &id, s, 9, g->gmk, sizeof g->gmk);
  if (rc) prose_store_gmk_wipe(g);
  return rc;
}

/* Run a GMK query whose parameters are already bound; ENOKEY when empty. */
static int gmk_query(prose_store *st, sqlite3_stmt *s, prose_store_gmk *out) {
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW) return read_gmk(st, s, out);
  return step == SQLITE_DONE ? PROSE_ENOKEY : prose__db_err(step);
}

int prose_store_gmk_tx(prose_store *st, const char *group_id, uint64_t t, prose_store_gmk *out) {
  sqlite3_stmt *s = NULL;
  if (!st || !prose__valid_uri(group_id) || !out) return PROSE_EINVAL;
  /* The latest activation at or before t wins: a rekey takes over at its
   * activation time (33.179 7.3.1) while older GMKs stay for reception. */
  int rc = prose__db_prepare(st->db, &s,
                             "SELECT " GMK_COLS " FROM gmk WHERE group_id = ?1 AND activation <= ?2"
                             " AND expiry > ?2 AND (?3 = '' OR user_uri = ?3)"
                             " ORDER BY activation DESC, gmk_id LIMIT 1");
  if (!rc) rc = prose__bind_text(s, 1, group_id);
  if (!rc) rc = prose__bind_u64(s, 2, t);
  if (!rc) rc = prose__bind_text(s, 3, st->owner);
  if (!rc) rc = gmk_query(st, s, out);
  sqlite3_finalize(s);
  return rc;
}

int prose_store_gmk_rx(prose_store *st, uint32_t gmk_id, const char *group_id, uint64_t t,
                       prose_store_gmk *out) {
  sqlite3_stmt *s = NULL;
  if (!st || !out || (group_id && !prose__valid_uri(group_id))) return PROSE_EINVAL;
  int rc = prose__db_prepare(st->db, &s,
                             "SELECT " GMK_COLS " FROM gmk WHERE gmk_id = ?1"
                             " AND (?2 IS NULL OR group_id = ?2) AND (?3 = '' OR user_uri = ?3)"
                             " ORDER BY expiry > ?4 DESC, activation DESC LIMIT 1");
  if (!rc) rc = prose__bind_u64(s, 1, gmk_id);
  if (!rc) rc = group_id ? prose__bind_text(s, 2, group_id) : prose__db_err(sqlite3_bind_null(s, 2));
  if (!rc) rc = prose__bind_text(s, 3, st->owner);
  if (!rc) rc = prose__bind_u64(s, 4, t);
  if (!rc) rc = gmk_query(st, s, out);
  if (!rc && out->expiry <= t) {
    prose_store_gmk_wipe(out);
    rc = PROSE_EEXPIRED;
  }
  sqlite3_finalize(s);
  return rc;
}

/* ---- PCKs ------------------------------------------------------------ */

int prose_store_pck_put(prose_store *st, const prose_store_pck *p) {
  uint8_t sealed[16 + PROSE__SEAL_OVERHEAD];
  size_t sealed_len = 0;
  sqlite3_stmt *s = NULL;
  if (!st || !p || prose_keyid_tag(p->pck_id) != PROSE_KEYID_TAG_PCK ||
      p->rand_len > PROSE_STORE_RAND_MAX || p->expires <= p->created ||
      p->expires > PROSE_STORE_NEVER || !prose__valid_uri(p->peer_uri))
    return PROSE_EINVAL;
  prose__seal_id id = {"pck", "pck", NULL, NULL, NULL, p->pck_id};
  int rc = prose__store_seal(st, &id, p->pck, sizeof p->pck, sealed, &sealed_len);
  if (!rc)
    rc = prose__db_prepare(st->db, &s,
                           "INSERT INTO pck(pck_id, peer_uri, rand, created, expires, pck)"
                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  if (!rc) rc = prose__bind_u64(s, 1, p->pck_id);
  if (!rc) rc = prose__bind_text(s, 2, p->peer_uri);
  if (!rc) rc = prose__bind_blob(s, 3, p->rand, p->rand_len);
  if (!rc) rc = prose__bind_u64(s, 4, p->created);
  if (!rc) rc = prose__bind_u64(s, 5, p->expires);
  if (!rc) rc = prose__bind_blob(s, 6, sealed, sealed_len);
  if (!rc) rc = prose__db_err(sqlite3_step(s)); /* a taken PCK-ID is a constraint: EEXIST */
  sqlite3_finalize(s);
  return rc;
}

int prose_store_pck_get(prose_store *st, uint32_t pck_id, uint64_t t, prose_store_pck *out) {
  sqlite3_stmt *s = NULL;
  if (!st || !out) return PROSE_EINVAL;
  memset(out, 0, sizeof *out);
  int rc = prose__db_prepare(st->db, &s,
                             "SELECT peer_uri, rand, created, expires, pck FROM pck"
                             " WHERE pck_id = ?1");
  if (!rc) rc = prose__bind_u64(s, 1, pck_id);
  if (rc) goto out;
  int step = sqlite3_step(s);
  if (step != SQLITE_ROW) {
    rc = step == SQLITE_DONE ? PROSE_ENOKEY : prose__db_err(step);
    goto out;
  }
  out->pck_id = pck_id;
  out->created = prose__col_u64(s, 2);
  out->expires = prose__col_u64(s, 3);
  if (out->expires <= t) {
    rc = PROSE_EEXPIRED;
    goto out;
  }
  int n = sqlite3_column_bytes(s, 1);
  if (n < 0 || n > PROSE_STORE_RAND_MAX) {
    rc = PROSE_ESTORE_CORRUPT;
    goto out;
  }
  out->rand_len = (size_t)n;
  if (n) memcpy(out->rand, sqlite3_column_blob(s, 1), out->rand_len);
  prose__seal_id id = {"pck", "pck", NULL, NULL, NULL, pck_id};
  if ((rc = prose__col_text(s, 0, out->peer_uri, sizeof out->peer_uri))) goto out;
  rc = prose__store_unseal_col(st, &id, s, 4, out->pck, sizeof out->pck);
out:
  if (rc) prose_store_pck_wipe(out);
  sqlite3_finalize(s);
  return rc;
}

int prose_store_pck_delete(prose_store *st, uint32_t pck_id) {
  sqlite3_stmt *s = NULL;
  if (!st) return PROSE_EINVAL;
  int rc = prose__db_prepare(st->db, &s, "DELETE FROM pck WHERE pck_id = ?1");
  if (!rc) rc = prose__bind_u64(s, 1, pck_id);
  if (!rc) rc = prose__db_err(sqlite3_step(s));
  if (!rc && sqlite3_changes(st->db) == 0) rc = PROSE_ENOENT;
  sqlite3_finalize(s);
  return rc;
}

/* ---- Keyring ----------------------------------------------------------- */

typedef struct keyring_load {
  prose_keyring *kr;
  uint64_t t;
  bool only_current;
  bool current;
  char *kms_out; /* the KMS of the first current key set, or NULL */
  prose_diag *d;
} keyring_load;

static int add_cert(prose_store *st, const prose_store_kms *c, void *ud) {
  keyring_load *l = ud;
  (void)st;
  if (!cert_valid_at(c, l->t)) return 0;
  prose_kms_cert kc = {c->kms_uri, c->period, c->offset, {0}, {0}};
  memcpy(kc.kpak, c->kpak, sizeof kc.kpak);
  memcpy(kc.z, c->z, sizeof kc.z);
  int rc = prose_keyring_add_kms(l->kr, &kc);
  if (rc == PROSE_EEXIST) return 0;
  return rc ? prose_diag_set(l->d, rc, "KMS certificate %s: rejected by the keyring", c->kms_uri)
            : 0;
}

static void found_current(keyring_load *l, const prose_store_kms *c) {
  if (!l->current && l->kms_out) snprintf(l->kms_out, PROSE_STORE_URI_MAX, "%s", c->kms_uri);
  l->current = true;
}

static int add_keysets(prose_store *st, const prose_store_kms *c, void *ud) {
  keyring_load *l = ud;
  const char *own = prose_keyring_own_uri(l->kr);
  uint64_t pno = 0;
  if (!cert_valid_at(c, l->t) || prose_period_no(l->t, c->period, c->offset, &pno)) return 0;
  /* Previous (for late messages, while still stored), current and next. */
  uint64_t first = (pno && !l->only_current) ? pno - 1 : pno;
  uint64_t last = l->only_current ? pno : pno + 1;
  for (uint64_t k = first; k <= last; k++) {
    prose_store_keyset ks;
    bool unusable = false;
    uint64_t start = 0, end = 0;
    prose_period_bounds(k, c->period, c->offset, &start, &end);
    if (prose_keyring_has_keyset(l->kr, c->kms_uri, k)) {
      if (k == pno) found_current(l, c);
      continue;
    }
    int rc = load_keyset(st, c, own, k, l->t > start ? l->t : start, &ks, &unusable);
    if (rc == PROSE_ENOKEY) continue;
    if (rc) return rc;
    prose_keyset in = {c->kms_uri, k, {0}, {0}, {0}, ks.uid};
    memcpy(in.ssk, ks.ssk, sizeof in.ssk);
    memcpy(in.pvt, ks.pvt, sizeof in.pvt);
    memcpy(in.rsk, ks.rsk, sizeof in.rsk);
    rc = prose_keyring_add_keyset(l->kr, &in);
    prose_wipe(&in, sizeof in);
    prose_store_keyset_wipe(&ks);
    if (rc)
      return prose_diag_set(l->d, rc, "key set %s period %llu: rejected by the keyring",
                            c->kms_uri, (unsigned long long)k);
    if (k == pno) found_current(l, c);
  }
  return 0;
}

int prose__load_keyring(prose_store *st, prose_keyring *kr, uint64_t t, bool only_current,
                        char *kms_out, prose_diag *d) {
  if (!st || !kr) return PROSE_EINVAL;
  keyring_load l = {kr, t, only_current, false, kms_out, d};
  int rc = each_cert(st, add_cert, &l);
  if (!rc) rc = each_cert(st, add_keysets, &l);
  if (!rc && !l.current)
    rc = prose_diag_set(d, PROSE_ENOKEY, "no key set of %s for the current period",
                        prose_keyring_own_uri(kr));
  return rc;
}

int prose_store_load_keyring(prose_store *st, prose_keyring *kr, uint64_t t, prose_diag *d) {
  return prose__load_keyring(st, kr, t, false, NULL, d);
}
