/*
 * Offline KMS: domain master secrets and user key issue (RFC 6507 §5.1.1,
 * RFC 6508 §6.1.1, 33.179 F.2.1 for the UID), output as KMS XML.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/authority.h"
#include "prose/eccsi.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/kmsxml.h"
#include "prose/sakke.h"
#include "prose/util.h"
#include "store_internal.h"

#define KSAK_LEN 32
#define Z_LEN 128

void prose_kms_settings_default(prose_kms_settings *s) {
  memset(s, 0, sizeof *s);
  s->period = PROSE_KMS_DEFAULT_PERIOD;
}

void prose_kms_issue_params_default(prose_kms_issue_params *p) {
  memset(p, 0, sizeof *p);
  p->count = 2;
}

static int insert_master(prose_store *st, const prose_kms_settings *s, const uint8_t kpak[65],
                         const uint8_t Z[257], const uint8_t *ksak_sealed, size_t ksak_len,
                         const uint8_t *z_sealed, size_t z_len) {
  sqlite3_stmt *c = NULL, *m = NULL;
  int rc = prose__db_prepare(
      st->db, &c,
      "INSERT INTO kms_cert(kms_uri, cert_uri, issuer, role, user_id_format, period, offset_s,"
      " valid_from, valid_to, revoked, kpak, z) VALUES(?1,?2,?3,0,2,?4,?5,?6,?7,0,?8,?9)");
  if (!rc) rc = prose__bind_text(c, 1, s->kms_uri);
  if (!rc) rc = prose__bind_text(c, 2, s->cert_uri ? s->cert_uri : "");
  if (!rc) rc = prose__bind_text(c, 3, s->issuer ? s->issuer : "");
  if (!rc) rc = prose__bind_u64(c, 4, s->period);
  if (!rc) rc = prose__bind_u64(c, 5, s->offset);
  if (!rc) rc = prose__bind_u64(c, 6, s->valid_from);
  if (!rc) rc = prose__bind_u64(c, 7, s->valid_to ? s->valid_to : PROSE_STORE_NEVER);
  if (!rc) rc = prose__bind_blob(c, 8, kpak, 65);
  if (!rc) rc = prose__bind_blob(c, 9, Z, 257);
  if (!rc) rc = prose__db_err(sqlite3_step(c));
  if (!rc)
    rc = prose__db_prepare(st->db, &m,
                           "INSERT INTO kms_master(kms_uri, ksak, z_secret) VALUES(?1, ?2, ?3)");
  if (!rc) rc = prose__bind_text(m, 1, s->kms_uri);
  if (!rc) rc = prose__bind_blob(m, 2, ksak_sealed, ksak_len);
  if (!rc) rc = prose__bind_blob(m, 3, z_sealed, z_len);
  if (!rc) rc = prose__db_err(sqlite3_step(m));
  sqlite3_finalize(c);
  sqlite3_finalize(m);
  return rc;
}

int prose_kms_init(prose_store *st, const prose_kms_settings *s, prose_diag *d) {
  uint8_t ksak[KSAK_LEN], z[Z_LEN], kpak[65], Z[257];
  uint8_t ksak_sealed[KSAK_LEN + PROSE__SEAL_OVERHEAD], z_sealed[Z_LEN + PROSE__SEAL_OVERHEAD];
  size_t ksak_len = 0, z_len = 0;
  prose_store_kms existing;
  int rc;
  if (!st || !s || !prose__valid_uri(s->kms_uri) || s->period == 0 ||
      (s->cert_uri && s->cert_uri[0] && !prose__valid_uri(s->cert_uri)) ||
      (s->issuer && s->issuer[0] && !prose__valid_uri(s->issuer)))
    return prose_diag_set(d, PROSE_EINVAL, "invalid KMS settings");
  if (st->role != PROSE_STORE_KMS)
    return prose_diag_set(d, PROSE_EINVAL, "not a KMS store");
  rc = prose__kms_load(st, s->kms_uri, &existing);
  if (rc != PROSE_ENOKEY)
    return rc ? rc : prose_diag_set(d, PROSE_EEXIST, "KMS %s already exists", s->kms_uri);
  prose__seal_id kid = {"kms_master", "ksak", s->kms_uri, NULL, NULL, 0};
  prose__seal_id zid = {"kms_master", "z_secret", s->kms_uri, NULL, NULL, 0};
  if ((rc = prose_eccsi_kms_keygen(st->rng, ksak, kpak)) ||
      (rc = prose_sakke_kms_keygen(st->rng, z, Z)) ||
      (rc = prose__store_seal(st, &kid, ksak, sizeof ksak, ksak_sealed, &ksak_len)) ||
      (rc = prose__store_seal(st, &zid, z, sizeof z, z_sealed, &z_len)))
    goto out;
  if ((rc = prose__db_begin(st->db))) goto out;
  rc = insert_master(st, s, kpak, Z, ksak_sealed, ksak_len, z_sealed, z_len);
  if (!rc) rc = prose__db_commit(st->db);
  if (rc) prose__db_rollback(st->db);
out:
  prose_wipe(ksak, sizeof ksak);
  prose_wipe(z, sizeof z);
  return rc ? prose_diag_set(d, rc, "KMS init failed") : 0;
}

/* The KMS named, or the only one of the given table when uri is NULL. */
static int resolve_kms(prose_store *st, const char *uri, const char *table, char *out) {
  char sql[96];
  sqlite3_stmt *s = NULL;
  if (uri) {
    if (!prose__valid_uri(uri)) return PROSE_EINVAL;
    snprintf(out, PROSE_STORE_URI_MAX, "%s", uri);
    return 0;
  }
  snprintf(sql, sizeof sql, "SELECT kms_uri FROM %s ORDER BY kms_uri LIMIT 2", table);
  int rc = prose__db_prepare(st->db, &s, sql), n = 0, step;
  while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
    if (n++ == 0) rc = prose__col_text(s, 0, out, PROSE_STORE_URI_MAX);
  }
  sqlite3_finalize(s);
  if (!rc && n != 1) rc = PROSE_ENOKEY;
  return rc;
}

static void cert_to_xml(const prose_store_kms *k, uint32_t user_id_format, prose_kmsxml_cert *c) {
  memset(c, 0, sizeof *c);
  memcpy(c->kms_uri, k->kms_uri, sizeof c->kms_uri);
  memcpy(c->cert_uri, k->cert_uri, sizeof c->cert_uri);
  memcpy(c->issuer, k->issuer, sizeof c->issuer);
  c->role = k->role == PROSE_KMSXML_ROLE_EXTERNAL ? PROSE_KMSXML_ROLE_EXTERNAL
                                                  : PROSE_KMSXML_ROLE_ROOT;
  c->has_valid_from = k->valid_from != 0;
  c->valid_from = k->valid_from;
  c->has_valid_to = k->valid_to != PROSE_STORE_NEVER;
  c->valid_to = k->valid_to;
  c->revoked = k->revoked;
  c->user_id_format = user_id_format;
  c->period = k->period;
  c->offset = k->offset;
  memcpy(c->z, k->z, sizeof c->z);
  memcpy(c->kpak, k->kpak, sizeof c->kpak);
  c->param_set = 1;
}

int prose_kms_cert_xml(prose_store *st, const char *kms_uri, uint64_t t, char **xml,
                       size_t *xml_len, prose_diag *d) {
  char uri[PROSE_STORE_URI_MAX];
  prose_store_kms k;
  prose_kmsxml_cert cert;
  prose_kmsxml_doc doc;
  if (!st || !xml || !xml_len) return PROSE_EINVAL;
  int rc = resolve_kms(st, kms_uri, "kms_cert", uri);
  if (!rc) rc = prose__kms_load(st, uri, &k);
  if (rc) return prose_diag_set(d, rc, "no single KMS certificate %s", kms_uri ? kms_uri : "");
  cert_to_xml(&k, 2, &cert);
  prose_kmsxml_doc_init(&doc);
  memcpy(doc.kms_uri, uri, sizeof doc.kms_uri);
  doc.has_time = true;
  doc.time = t;
  doc.n_certs = 1;
  doc.certs = &cert;
  return prose_kmsxml_write(&doc, xml, xml_len);
}

/* Issue one key set: UID for the period, then ECCSI (SSK, PVT) and SAKKE RSK. */
static int issue_one(prose_store *st, const prose_store_kms *k, const char *user, uint64_t pno,
                     const uint8_t ksak[32], const uint8_t z[128], prose_kmsxml_keyset *ks) {
  uint64_t start = 0, end = 0;
  memset(ks, 0, sizeof *ks);
  memcpy(ks->kms_uri, k->kms_uri, sizeof ks->kms_uri);
  memcpy(ks->cert_uri, k->cert_uri, sizeof ks->cert_uri);
  memcpy(ks->issuer, k->issuer, sizeof ks->issuer);
  snprintf(ks->user_uri, sizeof ks->user_uri, "%s", user);
  ks->period_no = pno;
  prose_period_bounds(pno, k->period, k->offset, &start, &end);
  ks->has_valid_from = ks->has_valid_to = true;
  ks->valid_from = start;
  ks->valid_to = end;
  int rc = prose_uid(user, k->kms_uri, k->period, k->offset, pno, ks->uid);
  if (!rc) rc = prose_eccsi_issue(st->rng, ksak, ks->uid, sizeof ks->uid, ks->ssk, ks->pvt);
  if (!rc) rc = prose_sakke_issue_rsk(z, Z_LEN, ks->uid, sizeof ks->uid, ks->rsk);
  return rc;
}

static int load_master(prose_store *st, const char *uri, uint8_t ksak[32], uint8_t z[128]) {
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(st->db, &s, "SELECT ksak, z_secret FROM kms_master WHERE kms_uri = ?1");
  if (!rc) rc = prose__bind_text(s, 1, uri);
  if (!rc) {
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
      prose__seal_id kid = {"kms_master", "ksak", uri, NULL, NULL, 0};
      prose__seal_id zid = {"kms_master", "z_secret", uri, NULL, NULL, 0};
      rc = prose__store_unseal_col(st, &kid, s, 0, ksak, KSAK_LEN);
      if (!rc) rc = prose__store_unseal_col(st, &zid, s, 1, z, Z_LEN);
    } else {
      rc = step == SQLITE_DONE ? PROSE_ENOKEY : prose__db_err(step);
    }
  }
  sqlite3_finalize(s);
  return rc;
}

static void fill_header(prose_kmsxml_doc *doc, const prose_kms_issue_params *p, const char *uri) {
  snprintf(doc->user_uri, sizeof doc->user_uri, "%s", p->user_uri);
  snprintf(doc->kms_uri, sizeof doc->kms_uri, "%s", uri);
  doc->has_time = true;
  doc->time = p->t;
}

int prose_kms_issue(prose_store *st, const prose_kms_issue_params *p, char **xml,
                    size_t *xml_len, prose_diag *d) {
  char uri[PROSE_STORE_URI_MAX];
  uint8_t ksak[KSAK_LEN], z[Z_LEN];
  prose_store_kms k;
  prose_kmsxml_cert cert;
  prose_kmsxml_doc doc;
  uint64_t pno = 0;
  int rc;
  prose_kmsxml_doc_init(&doc);
  if (!st || !p || !xml || !xml_len || !prose__valid_uri(p->user_uri) || p->count == 0 ||
      p->count > PROSE_KMSXML_MAX_KEYSETS)
    return prose_diag_set(d, PROSE_EINVAL, "invalid key issue parameters");
  if ((rc = resolve_kms(st, p->kms_uri, "kms_master", uri)) || (rc = prose__kms_load(st, uri, &k)))
    return prose_diag_set(d, rc == PROSE_EINVAL ? rc : PROSE_ENOKEY,
                          "no master secrets for KMS %s", p->kms_uri ? p->kms_uri : "(default)");
  if (prose_period_no(p->t, k.period, k.offset, &pno))
    return prose_diag_set(d, PROSE_EINVAL, "t lies before the key period offset");
  if ((rc = load_master(st, uri, ksak, z))) {
    rc = prose_diag_set(d, rc, "cannot read the master secrets of KMS %s", uri);
    goto out;
  }
  if (!(doc.keysets = calloc(p->count, sizeof *doc.keysets))) {
    rc = PROSE_ENOMEM;
    goto out;
  }
  doc.n_keysets = p->count;
  for (uint32_t i = 0; i < p->count && !rc; i++)
    rc = issue_one(st, &k, p->user_uri, pno + i, ksak, z, &doc.keysets[i]);
  if (rc) {
    rc = prose_diag_set(d, rc, "key issue failed");
    goto out;
  }
  fill_header(&doc, p, uri);
  if (p->include_cert) {
    cert_to_xml(&k, 2, &cert);
    doc.certs = &cert;
    doc.n_certs = 1;
  }
  rc = prose_kmsxml_write(&doc, xml, xml_len);
out:
  doc.certs = NULL; /* on the stack */
  doc.n_certs = 0;
  prose_kmsxml_doc_free(&doc);
  prose_wipe(ksak, sizeof ksak);
  prose_wipe(z, sizeof z);
  return rc;
}
