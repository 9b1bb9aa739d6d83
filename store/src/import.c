/*
 * Import: bundles, KMS XML documents and raw GMK I_MESSAGEs.
 *
 * Verify, then commit (DESIGN §3): a whole file is parsed into a batch,
 * every item is verified and every secret sealed into temporaries, and only
 * then is the batch written in one SQLite transaction. The order of checks
 * follows the dependencies: certificates, trust records, key sets (which
 * need a certificate), I_MESSAGEs (which need a key set of the receiver and
 * the trust list).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "prose/bundle.h"
#include "prose/eccsi.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/kmsxml.h"
#include "prose/mikey.h"
#include "prose/sakke.h"
#include "prose/util.h"
#include "store_internal.h"

#define LABEL_MAX 160
#define SEALED_SSK (32 + PROSE__SEAL_OVERHEAD)
#define SEALED_RSK (257 + PROSE__SEAL_OVERHEAD)
#define SEALED_GMK (16 + PROSE__SEAL_OVERHEAD)
#define MAX_USERS 8

typedef struct imp_cert {
  const prose_kmsxml_cert *c;
  char where[LABEL_MAX];
  bool unchanged; /* stored identically */
  bool dup;       /* same as an earlier certificate of the batch */
} imp_cert;

typedef struct imp_keyset {
  const prose_kmsxml_keyset *k;
  char where[LABEL_MAX];
  bool unchanged;
  bool revoked; /* the value to store: sticky with the stored one */
  uint8_t ssk[SEALED_SSK], rsk[SEALED_RSK];
  size_t ssk_len, rsk_len;
} imp_keyset;

typedef struct imp_trust {
  char uri[PROSE_STORE_URI_MAX];
  char where[LABEL_MAX];
} imp_trust;

typedef struct imp_gmk {
  char group_id[PROSE_STORE_URI_MAX];
  char user[PROSE_STORE_URI_MAX];
  char gms[PROSE_STORE_URI_MAX];
  uint32_t gmk_id, guk_id, status;
  uint64_t activation, expiry;
  uint8_t rand[PROSE_STORE_RAND_MAX];
  size_t rand_len;
  uint8_t sealed[SEALED_GMK];
  size_t sealed_len;
  bool unchanged;
} imp_gmk;

typedef struct imp_msg {
  const uint8_t *p;
  size_t len;
  char where[LABEL_MAX];
  uint8_t digest[32]; /* replay identity: SHA-256(CSB ID || T || RAND) */
  uint64_t t_sec;
} imp_msg;

/* A keyring per receiving user, built on demand. */
typedef struct imp_user {
  char uri[PROSE_STORE_URI_MAX];
  prose_keyring *kr;
} imp_user;

typedef struct batch {
  prose_store *st;
  uint64_t t;
  prose_diag *d;
  prose_kmsxml_doc *docs;
  size_t n_docs;
  imp_cert *certs;
  size_t n_certs;
  imp_keyset *keysets;
  size_t n_keysets;
  imp_trust *trust;
  size_t n_trust;
  imp_msg *msgs;
  size_t n_msgs;
  imp_gmk *gmks;
  size_t n_gmks;
  imp_user users[MAX_USERS];
  size_t n_users;
  prose_import_summary sum;
} batch;

static void batch_free(batch *b) {
  for (size_t i = 0; i < b->n_docs; i++) prose_kmsxml_doc_free(&b->docs[i]);
  free(b->docs);
  free(b->certs);
  prose_free_secret(b->keysets, b->n_keysets * sizeof *b->keysets);
  free(b->trust);
  free(b->msgs);
  prose_free_secret(b->gmks, b->n_gmks * sizeof *b->gmks);
  for (size_t i = 0; i < b->n_users; i++) prose_keyring_free(b->users[i].kr);
  memset(b, 0, sizeof *b);
}

/* ---- Collecting the batch ----------------------------------------------- */

/* Take the certificates and key sets of a parsed document into the batch
 * (the document itself stays owned by b->docs). */
static int add_doc_items(batch *b, const prose_kmsxml_doc *doc, const char *origin) {
  imp_cert *c = realloc(b->certs, (b->n_certs + doc->n_certs + 1) * sizeof *c);
  if (!c) return PROSE_ENOMEM;
  b->certs = c;
  for (size_t i = 0; i < doc->n_certs; i++) {
    imp_cert *ic = &b->certs[b->n_certs++];
    memset(ic, 0, sizeof *ic);
    ic->c = &doc->certs[i];
    snprintf(ic->where, sizeof ic->where, "%sKmsCertificate[%zu] (%.64s)", origin, i,
             doc->certs[i].kms_uri);
  }
  /* Key set entries are allocated fresh (not realloc'd) because they will
   * hold sealed values; nothing secret is in them yet. */
  imp_keyset *k = calloc(b->n_keysets + doc->n_keysets + 1, sizeof *k);
  if (!k) return PROSE_ENOMEM;
  if (b->n_keysets) memcpy(k, b->keysets, b->n_keysets * sizeof *k);
  free(b->keysets);
  b->keysets = k;
  for (size_t i = 0; i < doc->n_keysets; i++) {
    imp_keyset *ik = &b->keysets[b->n_keysets++];
    ik->k = &doc->keysets[i];
    snprintf(ik->where, sizeof ik->where, "%sKmsKeySet[%zu] (period %llu)", origin, i,
             (unsigned long long)doc->keysets[i].period_no);
  }
  return 0;
}

static int add_xml(batch *b, const uint8_t *p, size_t len, const char *origin) {
  prose_kmsxml_doc *doc = &b->docs[b->n_docs];
  int rc = prose_kmsxml_parse(p, len, doc, b->d);
  if (rc) {
    /* origin is "... : " or empty; the prefix is added without the separator. */
    char prefix[LABEL_MAX];
    snprintf(prefix, sizeof prefix, "%s", origin);
    size_t n = strlen(prefix);
    if (n >= 2) {
      prefix[n - 2] = '\0';
      prose_diag_prefix(b->d, prefix);
    }
    return rc;
  }
  b->n_docs++;
  return add_doc_items(b, doc, origin);
}

static int add_msg(batch *b, const uint8_t *p, size_t len, const char *origin) {
  imp_msg *m = realloc(b->msgs, (b->n_msgs + 1) * sizeof *m);
  if (!m) return PROSE_ENOMEM;
  b->msgs = m;
  m = &b->msgs[b->n_msgs++];
  memset(m, 0, sizeof *m);
  m->p = p;
  m->len = len;
  snprintf(m->where, sizeof m->where, "%sI_MESSAGE", origin);
  return 0;
}

static int add_trust(batch *b, const uint8_t *p, size_t len, const char *origin) {
  imp_trust *t = realloc(b->trust, (b->n_trust + 1) * sizeof *t);
  if (!t) return PROSE_ENOMEM;
  b->trust = t;
  t = &b->trust[b->n_trust];
  memset(t, 0, sizeof *t);
  snprintf(t->where, sizeof t->where, "%sGMS URI", origin);
  if (len == 0 || len >= sizeof t->uri || memchr(p, 0, len))
    return prose_diag_set(b->d, PROSE_EINVAL, "%s: not a valid URI", t->where);
  memcpy(t->uri, p, len);
  if (!prose__valid_uri(t->uri))
    return prose_diag_set(b->d, PROSE_EINVAL, "%s: not a valid URI", t->where);
  b->n_trust++;
  return 0;
}

static int collect_bundle(batch *b, const uint8_t *data, size_t len) {
  prose_bundle bun;
  char origin[48];
  int rc = prose_bundle_parse(data, len, &bun, b->d);
  if (rc) return rc;
  if (!(b->docs = calloc(bun.n, sizeof *b->docs))) {
    prose_bundle_free(&bun);
    return PROSE_ENOMEM;
  }
  for (size_t i = 0; i < bun.n && !rc; i++) {
    const prose_bundle_record *r = &bun.recs[i];
    snprintf(origin, sizeof origin, "bundle record %zu (%s): ", i, prose_bundle_type_name(r->type));
    switch (r->type) {
      case PROSE_BUNDLE_KMS_XML: rc = add_xml(b, r->data, r->len, origin); break;
      case PROSE_BUNDLE_IMESSAGE: rc = add_msg(b, r->data, r->len, origin); break;
      case PROSE_BUNDLE_TRUST_GMS: rc = add_trust(b, r->data, r->len, origin); break;
      default: break; /* notes and unknown non-critical records are skipped */
    }
  }
  prose_bundle_free(&bun);
  return rc;
}

static int collect(batch *b, const uint8_t *data, size_t len) {
  switch (prose_store_detect_format(data, len)) {
    case PROSE_IMPORT_BUNDLE:
      b->sum.format = PROSE_IMPORT_BUNDLE;
      return collect_bundle(b, data, len);
    case PROSE_IMPORT_KMSXML:
      b->sum.format = PROSE_IMPORT_KMSXML;
      if (!(b->docs = calloc(1, sizeof *b->docs))) return PROSE_ENOMEM;
      return add_xml(b, data, len, "");
    case PROSE_IMPORT_IMESSAGE:
      b->sum.format = PROSE_IMPORT_IMESSAGE;
      return add_msg(b, data, len, "");
    case PROSE_IMPORT_UNKNOWN: break;
  }
  return prose_diag_set(b->d, PROSE_EFORMAT,
                        "unknown file format (not a bundle, KMS XML or MIKEY I_MESSAGE)");
}

prose_import_format prose_store_detect_format(const uint8_t *data, size_t len) {
  if (!data || len == 0) return PROSE_IMPORT_UNKNOWN;
  if (len >= PROSE_BUNDLE_MAGIC_LEN && !memcmp(data, PROSE_BUNDLE_MAGIC, PROSE_BUNDLE_MAGIC_LEN))
    return PROSE_IMPORT_BUNDLE;
  if (len >= 2 && data[0] == PROSE_MIKEY_VERSION && data[1] == PROSE_MIKEY_DT_SAKKE_I)
    return PROSE_IMPORT_IMESSAGE;
  size_t i = 0;
  if (len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF) i = 3; /* UTF-8 BOM */
  while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) i++;
  if (i < len && data[i] == '<') return PROSE_IMPORT_KMSXML;
  return PROSE_IMPORT_UNKNOWN;
}

/* ---- Certificates -------------------------------------------------------- */

static bool same_cert_keys(const prose_kmsxml_cert *c, const prose_store_kms *s) {
  return c->period == s->period && c->offset == s->offset &&
         !memcmp(c->kpak, s->kpak, sizeof c->kpak) && !memcmp(c->z, s->z, sizeof c->z);
}

static uint64_t cert_from(const prose_kmsxml_cert *c) { return c->has_valid_from ? c->valid_from : 0; }
static uint64_t cert_to(const prose_kmsxml_cert *c) {
  return c->has_valid_to ? c->valid_to : PROSE_STORE_NEVER;
}

static int check_cert_points(batch *b, const imp_cert *ic) {
  prose_sakke_pub *pub = NULL;
  if (prose_eccsi_point_check(ic->c->kpak))
    return prose_diag_set(b->d, PROSE_EPOINT, "%s/PubAuthKey: not a valid P-256 point", ic->where);
  /* prose_sakke_pub_new also checks that Z lies in the order-q subgroup. */
  int rc = prose_sakke_pub_new(&pub, ic->c->z);
  prose_sakke_pub_free(pub);
  if (rc == PROSE_EPOINT)
    return prose_diag_set(b->d, rc, "%s/PubEncKey: not a valid point of the SAKKE group",
                          ic->where);
  return rc;
}

static int verify_cert(batch *b, size_t i) {
  imp_cert *ic = &b->certs[i];
  prose_store_kms stored;
  for (size_t j = 0; j < i; j++) {
    if (strcmp(b->certs[j].c->kms_uri, ic->c->kms_uri) != 0) continue;
    const prose_kmsxml_cert *o = b->certs[j].c;
    if (o->period != ic->c->period || o->offset != ic->c->offset ||
        memcmp(o->kpak, ic->c->kpak, 65) || memcmp(o->z, ic->c->z, 257))
      return prose_diag_set(b->d, PROSE_EEXIST, "%s: differs from an earlier certificate for %s",
                            ic->where, ic->c->kms_uri);
    ic->dup = true;
  }
  if (!ic->c->revoked && cert_to(ic->c) <= b->t)
    return prose_diag_set(b->d, PROSE_EEXPIRED, "%s: ValidTo has passed", ic->where);
  int rc = ic->dup ? 0 : check_cert_points(b, ic);
  if (rc) return rc;
  rc = prose__kms_load(b->st, ic->c->kms_uri, &stored);
  if (rc == PROSE_ENOKEY) return 0;
  if (rc) return rc;
  if (!same_cert_keys(ic->c, &stored))
    return prose_diag_set(b->d, PROSE_EEXIST,
                          "%s: a different certificate for %s is already stored", ic->where,
                          ic->c->kms_uri);
  /* Unchanged unless this import revokes it or changes its validity. */
  bool newly_revoked = ic->c->revoked && !stored.revoked;
  ic->unchanged = !newly_revoked && stored.valid_from == cert_from(ic->c) &&
                  stored.valid_to == cert_to(ic->c);
  return 0;
}

/* The certificate for kms_uri: the last one of the batch, else the stored one. */
static int find_cert(batch *b, const char *kms_uri, prose_store_kms *out, bool *revoked) {
  for (size_t i = b->n_certs; i-- > 0;) {
    const prose_kmsxml_cert *c = b->certs[i].c;
    if (strcmp(c->kms_uri, kms_uri) != 0) continue;
    memset(out, 0, sizeof *out);
    snprintf(out->kms_uri, sizeof out->kms_uri, "%s", c->kms_uri);
    out->period = c->period;
    out->offset = c->offset;
    out->valid_from = cert_from(c);
    out->valid_to = cert_to(c);
    memcpy(out->kpak, c->kpak, sizeof out->kpak);
    memcpy(out->z, c->z, sizeof out->z);
    /* Revocation is sticky: a stored revoked certificate stays revoked. */
    prose_store_kms stored;
    *revoked = c->revoked ||
               (prose__kms_load(b->st, kms_uri, &stored) == 0 && stored.revoked);
    out->revoked = *revoked;
    return 0;
  }
  int rc = prose__kms_load(b->st, kms_uri, out);
  if (!rc) *revoked = out->revoked;
  return rc;
}

/* ---- Keyrings of receiving users ------------------------------------ */

typedef struct cert_add_ctx {
  prose_keyring *kr;
  batch *b;
} cert_add_ctx;

static int keyring_add_cert(prose_keyring *kr, const prose_store_kms *c) {
  prose_kms_cert kc = {c->kms_uri, c->period, c->offset, {0}, {0}};
  memcpy(kc.kpak, c->kpak, sizeof kc.kpak);
  memcpy(kc.z, c->z, sizeof kc.z);
  int rc = prose_keyring_add_kms(kr, &kc);
  return rc == PROSE_EEXIST ? 0 : rc;
}

/* Every usable certificate (batch first, then stored) into a fresh keyring. */
static int keyring_add_all_certs(batch *b, prose_keyring *kr) {
  sqlite3_stmt *s = NULL;
  prose_store_kms c;
  bool revoked = false;
  int rc = 0, step = SQLITE_DONE;
  for (size_t i = 0; i < b->n_certs && !rc; i++) {
    if (b->certs[i].dup) continue;
    rc = find_cert(b, b->certs[i].c->kms_uri, &c, &revoked);
    if (!rc && !revoked) rc = keyring_add_cert(kr, &c);
  }
  if (rc) return rc;
  if ((rc = prose__db_prepare(b->st->db, &s, "SELECT kms_uri FROM kms_cert WHERE revoked = 0")))
    return rc;
  while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
    const char *uri = (const char *)sqlite3_column_text(s, 0);
    if (uri && !(rc = find_cert(b, uri, &c, &revoked)) && !revoked) rc = keyring_add_cert(kr, &c);
  }
  if (!rc) rc = prose__db_err(step);
  sqlite3_finalize(s);
  return rc;
}

static int user_keyring(batch *b, const char *uri, prose_keyring **out) {
  for (size_t i = 0; i < b->n_users; i++)
    if (!strcmp(b->users[i].uri, uri)) {
      *out = b->users[i].kr;
      return 0;
    }
  if (b->n_users == MAX_USERS)
    return prose_diag_set(b->d, PROSE_EINVAL, "more than %d users in one import", MAX_USERS);
  imp_user *u = &b->users[b->n_users];
  int rc = prose_keyring_new(&u->kr, uri, NULL);
  if (rc) return rc;
  snprintf(u->uri, sizeof u->uri, "%s", uri);
  b->n_users++;
  if ((rc = keyring_add_all_certs(b, u->kr))) return rc;
  *out = u->kr;
  return 0;
}

/* ---- Key sets ------------------------------------------------------------ */

/* The stored row for a key set, if any, with its secrets unsealed into
 * ssk/rsk for comparison. */
static int stored_keyset(batch *b, const prose_kmsxml_keyset *k, bool *exists, bool *revoked,
                         uint8_t ssk[32], uint8_t rsk[257], uint8_t pvt[65]) {
  sqlite3_stmt *s = NULL;
  *exists = false;
  int rc = prose__db_prepare(b->st->db, &s,
                             "SELECT revoked, pvt, ssk, rsk FROM keyset"
                             " WHERE kms_uri = ?1 AND user_uri = ?2 AND period_no = ?3");
  if (!rc) rc = prose__bind_text(s, 1, k->kms_uri);
  if (!rc) rc = prose__bind_text(s, 2, k->user_uri);
  if (!rc) rc = prose__bind_u64(s, 3, k->period_no);
  if (!rc) {
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
      prose__seal_id sid = {"keyset", "ssk", k->kms_uri, k->user_uri, NULL, k->period_no};
      prose__seal_id rid = {"keyset", "rsk", k->kms_uri, k->user_uri, NULL, k->period_no};
      *exists = true;
      *revoked = sqlite3_column_int(s, 0) != 0;
      if (!(rc = prose__col_blob_exact(s, 1, pvt, 65)) &&
          !(rc = prose__store_unseal_col(b->st, &sid, s, 2, ssk, 32)))
        rc = prose__store_unseal_col(b->st, &rid, s, 3, rsk, 257);
    } else if (step != SQLITE_DONE) {
      rc = prose__db_err(step);
    }
  }
  sqlite3_finalize(s);
  return rc;
}

/* Checks that need no pairing: ownership, certificate, UID, time, points,
 * and the ECCSI pair (cheap, and names the failing element precisely). */
static int keyset_cheap_checks(batch *b, imp_keyset *ik, const prose_store_kms *c,
                               bool cert_revoked) {
  const prose_kmsxml_keyset *k = ik->k;
  uint8_t uid[32];
  uint64_t start = 0, end = 0;
  prose_eccsi_signer *signer = NULL;
  if (b->st->owner[0] && strcmp(k->user_uri, b->st->owner) != 0)
    return prose_diag_set(b->d, PROSE_EWRONG_RECIPIENT,
                          "%s: issued to %s, but this store belongs to %s", ik->where,
                          k->user_uri, b->st->owner);
  if (cert_revoked)
    return prose_diag_set(b->d, PROSE_EEXPIRED, "%s: the certificate of %s is revoked", ik->where,
                          k->kms_uri);
  if (c->valid_to <= b->t)
    return prose_diag_set(b->d, PROSE_EEXPIRED, "%s: the certificate of %s has expired",
                          ik->where, k->kms_uri);
  int rc = prose_uid(k->user_uri, k->kms_uri, c->period, c->offset, k->period_no, uid);
  if (rc) return prose_diag_set(b->d, rc, "%s: cannot compute the UID", ik->where);
  if (!prose_ct_eq(uid, k->uid, sizeof uid))
    return prose_diag_set(b->d, PROSE_EUID_MISMATCH,
                          "%s/UserID: does not match the UID recomputed from UserUri, KmsUri and "
                          "KeyPeriodNo",
                          ik->where);
  prose_period_bounds(k->period_no, c->period, c->offset, &start, &end);
  if (!k->revoked && (end <= b->t || (k->has_valid_to && k->valid_to <= b->t)))
    return prose_diag_set(b->d, PROSE_EEXPIRED, "%s: key period or ValidTo has passed", ik->where);
  if (prose_eccsi_point_check(k->pvt))
    return prose_diag_set(b->d, PROSE_EPOINT, "%s/UserPubTokenPVT: not a valid P-256 point",
                          ik->where);
  if (prose_sakke_point_check(k->rsk))
    return prose_diag_set(b->d, PROSE_EPOINT, "%s/UserDecryptKey: not a point on the SAKKE curve",
                          ik->where);
  rc = prose_eccsi_signer_new(&signer, c->kpak, k->uid, sizeof k->uid, k->ssk, k->pvt);
  prose_eccsi_signer_free(signer);
  if (rc == PROSE_EKEY_INVALID || rc == PROSE_ERANGE || rc == PROSE_EPOINT)
    return prose_diag_set(b->d, rc,
                          "%s/UserSigningKeySSK: SSK and PVT fail validation against KPAK "
                          "(RFC 6507 5.1.2)",
                          ik->where);
  return rc;
}

static int seal_keyset(batch *b, imp_keyset *ik) {
  const prose_kmsxml_keyset *k = ik->k;
  prose__seal_id sid = {"keyset", "ssk", k->kms_uri, k->user_uri, NULL, k->period_no};
  prose__seal_id rid = {"keyset", "rsk", k->kms_uri, k->user_uri, NULL, k->period_no};
  int rc = prose__store_seal(b->st, &sid, k->ssk, sizeof k->ssk, ik->ssk, &ik->ssk_len);
  if (!rc) rc = prose__store_seal(b->st, &rid, k->rsk, sizeof k->rsk, ik->rsk, &ik->rsk_len);
  return rc;
}

static int verify_keyset(batch *b, imp_keyset *ik) {
  const prose_kmsxml_keyset *k = ik->k;
  prose_store_kms c;
  prose_keyring *kr = NULL;
  bool cert_revoked = false, exists = false, was_revoked = false;
  uint8_t ssk[32], rsk[257], pvt[65];
  int rc = find_cert(b, k->kms_uri, &c, &cert_revoked);
  if (rc == PROSE_ENOKEY) {
    rc = prose_diag_set(b->d, PROSE_EUNKNOWN_KMS, "%s: no certificate for KMS %s", ik->where,
                        k->kms_uri);
    goto out;
  }
  if (rc || (rc = keyset_cheap_checks(b, ik, &c, cert_revoked))) goto out;
  /* The RSK check (a pairing) runs inside the keyring, which the
   * I_MESSAGEs of the same batch then use. */
  if ((rc = user_keyring(b, k->user_uri, &kr))) goto out;
  prose_keyset in = {k->kms_uri, k->period_no, {0}, {0}, {0}, k->uid};
  memcpy(in.ssk, k->ssk, 32);
  memcpy(in.pvt, k->pvt, 65);
  memcpy(in.rsk, k->rsk, 257);
  rc = prose_keyring_add_keyset(kr, &in);
  prose_wipe(&in, sizeof in);
  if (rc == PROSE_EEXIST) {
    rc = prose_diag_set(b->d, rc, "%s: the same key period appears twice", ik->where);
    goto out;
  }
  if (rc == PROSE_EKEY_INVALID || rc == PROSE_EPOINT || rc == PROSE_ERANGE) {
    rc = prose_diag_set(b->d, rc,
                        "%s/UserDecryptKey: RSK fails validation against Z (RFC 6508 6.1.2)",
                        ik->where);
    goto out;
  }
  if (rc || (rc = stored_keyset(b, k, &exists, &was_revoked, ssk, rsk, pvt))) goto out;
  ik->revoked = k->revoked || was_revoked;
  ik->unchanged = exists && ik->revoked == was_revoked && !memcmp(pvt, k->pvt, 65) &&
                  prose_ct_eq(ssk, k->ssk, 32) && prose_ct_eq(rsk, k->rsk, 257);
  rc = seal_keyset(b, ik);
out:
  prose_wipe(ssk, sizeof ssk);
  prose_wipe(rsk, sizeof rsk);
  return rc;
}

/* ---- I_MESSAGEs ---------------------------------------------------------- */

static bool trusted(batch *b, const char *gms) {
  for (size_t i = 0; i < b->n_trust; i++)
    if (!strcmp(b->trust[i].uri, gms)) return true;
  return prose_store_gms_is_trusted(b->st, gms);
}

static int replay_digest(const prose_mikey_msg *m, uint8_t out[32]) {
  uint8_t hdr[12];
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int rc = PROSE_ECRYPTO;
  prose_put_u32(hdr, m->csb_id);
  prose_put_u32(hdr + 4, (uint32_t)(m->t >> 32));
  prose_put_u32(hdr + 8, (uint32_t)m->t);
  if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
      EVP_DigestUpdate(md, hdr, sizeof hdr) == 1 &&
      EVP_DigestUpdate(md, m->rand.p, m->rand.len) == 1 && EVP_DigestFinal_ex(md, out, NULL) == 1)
    rc = 0;
  EVP_MD_CTX_free(md);
  return rc;
}

static int seen_before(batch *b, const imp_msg *m, size_t idx, bool *seen) {
  sqlite3_stmt *s = NULL;
  *seen = false;
  for (size_t j = 0; j < idx; j++)
    if (!memcmp(b->msgs[j].digest, m->digest, 32)) *seen = true;
  if (*seen) return 0;
  int rc = prose__db_prepare(b->st->db, &s, "SELECT 1 FROM imsg_seen WHERE digest = ?1");
  if (!rc) rc = prose__bind_blob(s, 1, m->digest, 32);
  if (!rc) {
    int step = sqlite3_step(s);
    *seen = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE) rc = prose__db_err(step);
  }
  sqlite3_finalize(s);
  return rc;
}

static void view_str(prose_mikey_view v, char *out, size_t cap) {
  size_t n = v.len < cap - 1 ? v.len : cap - 1;
  if (n) memcpy(out, v.p, n);
  out[n] = '\0';
}

/* Make sure the receiver's keyring holds its key set for the period of T
 * (from the batch, where verify_keyset put it, or from the store). */
static int ensure_period_keyset(batch *b, imp_msg *im, const prose_mikey_msg *m, const char *user,
                                prose_keyring *kr) {
  char kms[PROSE_STORE_URI_MAX];
  prose_store_kms c;
  bool revoked = false, exists = false, was_revoked = false;
  uint64_t pno = 0;
  uint8_t ssk[32], rsk[257], pvt[65];
  const prose_mikey_idr *idr = m->idr_kmsr.present ? &m->idr_kmsr : &m->idr_kmsi;
  if (!idr->present) return 0; /* prose_mikey_process reports the missing IDR */
  view_str(idr->id, kms, sizeof kms);
  int rc = find_cert(b, kms, &c, &revoked);
  if (rc == PROSE_ENOKEY || (!rc && revoked))
    return prose_diag_set(b->d, PROSE_EUNKNOWN_KMS, "%s: no usable certificate for KMS %s",
                          im->where, kms);
  if (rc) return rc;
  if (prose_period_no(im->t_sec, c.period, c.offset, &pno))
    return prose_diag_set(b->d, PROSE_EPERIOD, "%s: T lies before the key period offset of %s",
                          im->where, kms);
  if (prose_keyring_has_keyset(kr, c.kms_uri, pno)) return 0;
  prose_kmsxml_keyset probe;
  memset(&probe, 0, sizeof probe);
  snprintf(probe.kms_uri, sizeof probe.kms_uri, "%s", c.kms_uri);
  snprintf(probe.user_uri, sizeof probe.user_uri, "%s", user);
  probe.period_no = pno;
  rc = stored_keyset(b, &probe, &exists, &was_revoked, ssk, rsk, pvt);
  if (!rc && (!exists || was_revoked))
    rc = prose_diag_set(b->d, PROSE_EPERIOD, "%s: no key set of %s for period %llu of %s",
                        im->where, user, (unsigned long long)pno, kms);
  if (!rc) {
    prose_keyset in = {c.kms_uri, pno, {0}, {0}, {0}, NULL};
    memcpy(in.ssk, ssk, 32);
    memcpy(in.pvt, pvt, 65);
    memcpy(in.rsk, rsk, 257);
    rc = prose_keyring_add_keyset(kr, &in);
    prose_wipe(&in, sizeof in);
    if (rc) rc = prose_diag_set(b->d, PROSE_ESTORE_CORRUPT, "%s: stored key set rejected", im->where);
  }
  prose_wipe(ssk, sizeof ssk);
  prose_wipe(rsk, sizeof rsk);
  return rc;
}

/* The receiving user: IDRr, else (UID-only messages) the store owner. */
static int receiver(batch *b, const imp_msg *im, const prose_mikey_msg *m, char *user) {
  if (m->idr_r.present) {
    view_str(m->idr_r.id, user, PROSE_STORE_URI_MAX);
    if (m->idr_r.id.len >= PROSE_STORE_URI_MAX || !prose__valid_uri(user))
      return prose_diag_set(b->d, PROSE_EMIKEY_IDR, "%s: IDRr is not a usable URI", im->where);
  } else if (b->st->owner[0]) {
    snprintf(user, PROSE_STORE_URI_MAX, "%s", b->st->owner);
  } else {
    return prose_diag_set(b->d, PROSE_EWRONG_RECIPIENT,
                          "%s: no IDRr URI and the store has no owner", im->where);
  }
  if (b->st->owner[0] && strcmp(user, b->st->owner) != 0)
    return prose_diag_set(b->d, PROSE_EWRONG_RECIPIENT,
                          "%s: addressed to %s, but this store belongs to %s", im->where, user,
                          b->st->owner);
  return 0;
}

/* Stored GMK row with the same identity: identical key -> unchanged,
 * different key under the same GMK-ID -> refused. */
static int compare_stored_gmk(batch *b, imp_gmk *g, const uint8_t key[16], const char *where) {
  sqlite3_stmt *s = NULL;
  uint8_t old[16];
  int rc = prose__db_prepare(b->st->db, &s,
                             "SELECT gmk FROM gmk WHERE group_id = ?1 AND gmk_id = ?2"
                             " AND user_uri = ?3");
  if (!rc) rc = prose__bind_text(s, 1, g->group_id);
  if (!rc) rc = prose__bind_u64(s, 2, g->gmk_id);
  if (!rc) rc = prose__bind_text(s, 3, g->user);
  if (!rc && sqlite3_step(s) == SQLITE_ROW) {
    prose__seal_id id = {"gmk", "gmk", g->group_id, g->user, NULL, g->gmk_id};
    rc = prose__store_unseal_col(b->st, &id, s, 0, old, sizeof old);
    if (!rc && !prose_ct_eq(old, key, 16))
      rc = prose_diag_set(b->d, PROSE_EEXIST,
                          "%s: a different GMK with GMK-ID %08x is stored for group %s", where,
                          (unsigned)g->gmk_id, g->group_id);
    g->unchanged = !rc;
  }
  prose_wipe(old, sizeof old);
  sqlite3_finalize(s);
  return rc;
}

/* One GMK row per group named in the key parameters. */
static int make_gmk_rows(batch *b, imp_msg *im, const prose_mikey_result *res, const char *user) {
  const prose_mikey_key_params *kp = &res->msg.kp;
  if (!res->msg.has_kp || kp->n_groups == 0)
    return prose_diag_set(b->d, PROSE_EMIKEY_MISSING,
                          "%s: no key parameters naming the group (GenExt type 7)", im->where);
  uint64_t act = prose__kp_to_ntp(kp->activation, false), exp = prose__kp_to_ntp(kp->expiry, true);
  if (exp <= b->t)
    return prose_diag_set(b->d, PROSE_EEXPIRED, "%s: GMK %08x expired", im->where,
                          (unsigned)res->key_id);
  if (exp <= act)
    return prose_diag_set(b->d, PROSE_EMIKEY_EXT, "%s: expiry not after activation", im->where);
  imp_gmk *g = calloc(b->n_gmks + kp->n_groups, sizeof *g);
  if (!g) return PROSE_ENOMEM;
  if (b->n_gmks) memcpy(g, b->gmks, b->n_gmks * sizeof *g);
  prose_free_secret(b->gmks, b->n_gmks * sizeof *g);
  b->gmks = g;
  int rc = 0;
  for (size_t i = 0; i < kp->n_groups && !rc; i++) {
    g = &b->gmks[b->n_gmks];
    if (kp->groups[i].len == 0 || kp->groups[i].len >= sizeof g->group_id)
      return prose_diag_set(b->d, PROSE_EMIKEY_EXT, "%s: bad group ID length", im->where);
    view_str(kp->groups[i], g->group_id, sizeof g->group_id);
    if (!prose__valid_uri(g->group_id) || strlen(g->group_id) != kp->groups[i].len)
      return prose_diag_set(b->d, PROSE_EMIKEY_EXT, "%s: group ID is not printable text",
                            im->where);
    snprintf(g->user, sizeof g->user, "%s", user);
    snprintf(g->gms, sizeof g->gms, "%s", res->initiator_uri);
    g->gmk_id = res->key_id;
    g->guk_id = res->csb_id;
    g->status = kp->status;
    g->activation = act;
    g->expiry = exp;
    g->rand_len = res->rand_len;
    memcpy(g->rand, res->rand, res->rand_len);
    prose__seal_id id = {"gmk", "gmk", g->group_id, g->user, NULL, g->gmk_id};
    if (!(rc = compare_stored_gmk(b, g, res->key, im->where)))
      rc = prose__store_seal(b->st, &id, res->key, 16, g->sealed, &g->sealed_len);
    b->n_gmks++;
  }
  return rc;
}

static int verify_msg(batch *b, size_t idx) {
  imp_msg *im = &b->msgs[idx];
  prose_mikey_msg m;
  prose_mikey_result res;
  char user[PROSE_STORE_URI_MAX];
  prose_keyring *kr = NULL;
  bool seen = false;
  memset(&res, 0, sizeof res);
  int rc = prose_mikey_decode(im->p, im->len, &m);
  if (rc) return prose_diag_set(b->d, rc, "%s: malformed (%s)", im->where, prose_strerror(rc));
  if (prose_keyid_tag(m.csb_id) != PROSE_KEYID_TAG_GMK)
    return prose_diag_set(b->d, PROSE_EFORMAT, "%s: not a GMK I_MESSAGE (CSB ID purpose tag %u)",
                          im->where, (unsigned)prose_keyid_tag(m.csb_id));
  im->t_sec = m.t >> 32;
  if ((rc = receiver(b, im, &m, user)) || (rc = replay_digest(&m, im->digest)) ||
      (rc = seen_before(b, im, idx, &seen)))
    return rc;
  if (seen)
    return prose_diag_set(b->d, PROSE_EREPLAY, "%s: already imported (same CSB ID, T and RAND)",
                          im->where);
  if ((rc = user_keyring(b, user, &kr)) || (rc = ensure_period_keyset(b, im, &m, user, kr)))
    return rc;
  if ((rc = prose_mikey_process(kr, b->t, im->p, im->len, &res))) {
    rc = prose_diag_set(b->d, rc, "%s: rejected (%s)", im->where, prose_strerror(rc));
    goto out;
  }
  /* The GMS is checked after the signature: only then is IDRi authentic. */
  if (!res.initiator_uri[0] || !trusted(b, res.initiator_uri)) {
    rc = prose_diag_set(b->d, PROSE_EUNAUTHORISED, "%s: GMS %s is not in the trust list",
                        im->where, res.initiator_uri[0] ? res.initiator_uri : "(UID only)");
    goto out;
  }
  rc = make_gmk_rows(b, im, &res, user);
out:
  prose_mikey_result_clear(&res);
  return rc;
}

/* ---- Commit --------------------------------------------------------------- */

static int exec_stmt(sqlite3_stmt *s) {
  int rc = prose__db_err(sqlite3_step(s));
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return rc;
}

static int write_cert(batch *b, const imp_cert *ic) {
  const prose_kmsxml_cert *c = ic->c;
  sqlite3_stmt *s = NULL;
  /* Upsert keeping revocation sticky. */
  int rc = prose__db_prepare(
      b->st->db, &s,
      "INSERT INTO kms_cert(kms_uri, cert_uri, issuer, role, user_id_format, period, offset_s,"
      " valid_from, valid_to, revoked, kpak, z) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"
      " ON CONFLICT(kms_uri) DO UPDATE SET cert_uri = excluded.cert_uri, issuer = excluded.issuer,"
      " role = excluded.role, valid_from = excluded.valid_from, valid_to = excluded.valid_to,"
      " revoked = (revoked OR excluded.revoked)");
  if (!rc) rc = prose__bind_text(s, 1, c->kms_uri);
  if (!rc) rc = prose__bind_text(s, 2, c->cert_uri);
  if (!rc) rc = prose__bind_text(s, 3, c->issuer);
  if (!rc) rc = prose__bind_u64(s, 4, (uint64_t)c->role);
  if (!rc) rc = prose__bind_u64(s, 5, c->user_id_format);
  if (!rc) rc = prose__bind_u64(s, 6, c->period);
  if (!rc) rc = prose__bind_u64(s, 7, c->offset);
  if (!rc) rc = prose__bind_u64(s, 8, cert_from(c));
  if (!rc) rc = prose__bind_u64(s, 9, cert_to(c));
  if (!rc) rc = prose__bind_u64(s, 10, c->revoked);
  if (!rc) rc = prose__bind_blob(s, 11, c->kpak, sizeof c->kpak);
  if (!rc) rc = prose__bind_blob(s, 12, c->z, sizeof c->z);
  if (!rc) rc = exec_stmt(s);
  sqlite3_finalize(s);
  return rc;
}

static int write_keyset(batch *b, const imp_keyset *ik) {
  const prose_kmsxml_keyset *k = ik->k;
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(
      b->st->db, &s,
      "INSERT OR REPLACE INTO keyset(kms_uri, user_uri, period_no, uid, valid_from, valid_to,"
      " revoked, pvt, ssk, rsk) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  if (!rc) rc = prose__bind_text(s, 1, k->kms_uri);
  if (!rc) rc = prose__bind_text(s, 2, k->user_uri);
  if (!rc) rc = prose__bind_u64(s, 3, k->period_no);
  if (!rc) rc = prose__bind_blob(s, 4, k->uid, sizeof k->uid);
  if (!rc) rc = prose__bind_u64(s, 5, k->has_valid_from ? k->valid_from : 0);
  if (!rc) rc = prose__bind_u64(s, 6, k->has_valid_to ? k->valid_to : PROSE_STORE_NEVER);
  if (!rc) rc = prose__bind_u64(s, 7, ik->revoked);
  if (!rc) rc = prose__bind_blob(s, 8, k->pvt, sizeof k->pvt);
  if (!rc) rc = prose__bind_blob(s, 9, ik->ssk, ik->ssk_len);
  if (!rc) rc = prose__bind_blob(s, 10, ik->rsk, ik->rsk_len);
  if (!rc) rc = exec_stmt(s);
  sqlite3_finalize(s);
  return rc;
}

static int write_gmk(batch *b, const imp_gmk *g) {
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(
      b->st->db, &s,
      "INSERT OR REPLACE INTO gmk(group_id, gmk_id, user_uri, gms_uri, guk_id, activation,"
      " expiry, status, rand, gmk) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  if (!rc) rc = prose__bind_text(s, 1, g->group_id);
  if (!rc) rc = prose__bind_u64(s, 2, g->gmk_id);
  if (!rc) rc = prose__bind_text(s, 3, g->user);
  if (!rc) rc = prose__bind_text(s, 4, g->gms);
  if (!rc) rc = prose__bind_u64(s, 5, g->guk_id);
  if (!rc) rc = prose__bind_u64(s, 6, g->activation);
  if (!rc) rc = prose__bind_u64(s, 7, g->expiry);
  if (!rc) rc = prose__bind_u64(s, 8, g->status);
  if (!rc) rc = prose__bind_blob(s, 9, g->rand, g->rand_len);
  if (!rc) rc = prose__bind_blob(s, 10, g->sealed, g->sealed_len);
  if (!rc) rc = exec_stmt(s);
  sqlite3_finalize(s);
  return rc;
}

static int write_seen(batch *b, const imp_msg *m) {
  sqlite3_stmt *s = NULL;
  int rc = prose__db_prepare(b->st->db, &s, "INSERT INTO imsg_seen(digest, t) VALUES(?1, ?2)");
  if (!rc) rc = prose__bind_blob(s, 1, m->digest, sizeof m->digest);
  if (!rc) rc = prose__bind_u64(s, 2, m->t_sec);
  if (!rc) rc = exec_stmt(s);
  sqlite3_finalize(s);
  return rc;
}

static int write_trust(batch *b, const imp_trust *t, bool *added) {
  *added = !prose_store_gms_is_trusted(b->st, t->uri);
  return *added ? prose_store_trust_gms(b->st, t->uri) : 0;
}

static int commit_batch(batch *b) {
  int rc = prose__db_begin(b->st->db);
  bool added = false;
  for (size_t i = 0; i < b->n_certs && !rc; i++) {
    if (b->certs[i].dup) continue;
    if (b->certs[i].unchanged) b->sum.unchanged++;
    else if (!(rc = write_cert(b, &b->certs[i]))) b->sum.certs++;
  }
  for (size_t i = 0; i < b->n_trust && !rc; i++) {
    if (!(rc = write_trust(b, &b->trust[i], &added))) {
      if (added) b->sum.trusted_gms++;
      else b->sum.unchanged++;
    }
  }
  for (size_t i = 0; i < b->n_keysets && !rc; i++) {
    if (b->keysets[i].unchanged) b->sum.unchanged++;
    else if (!(rc = write_keyset(b, &b->keysets[i]))) b->sum.keysets++;
  }
  for (size_t i = 0; i < b->n_gmks && !rc; i++) {
    if (b->gmks[i].unchanged) b->sum.unchanged++;
    else if (!(rc = write_gmk(b, &b->gmks[i]))) b->sum.gmks++;
  }
  for (size_t i = 0; i < b->n_msgs && !rc; i++) rc = write_seen(b, &b->msgs[i]);
  if (!rc) rc = prose__db_commit(b->st->db);
  if (rc) {
    prose__db_rollback(b->st->db);
    prose_diag_set(b->d, rc, "writing the import failed; nothing was stored");
  }
  return rc;
}

/* ---- Entry points -------------------------------------------------------- */

static int verify_batch(batch *b) {
  int rc = 0;
  if (b->n_certs + b->n_keysets + b->n_msgs + b->n_trust == 0)
    return prose_diag_set(b->d, PROSE_EFORMAT, "nothing to import (no certificate, key set, "
                                               "GMS URI or I_MESSAGE)");
  for (size_t i = 0; i < b->n_certs && !rc; i++) rc = verify_cert(b, i);
  for (size_t i = 0; i < b->n_keysets && !rc; i++) rc = verify_keyset(b, &b->keysets[i]);
  for (size_t i = 0; i < b->n_msgs && !rc; i++) rc = verify_msg(b, i);
  return rc;
}

int prose_store_import(prose_store *st, const uint8_t *data, size_t len, uint64_t t,
                       prose_import_summary *sum, prose_diag *d) {
  batch b;
  memset(&b, 0, sizeof b);
  if (!st || !data) return PROSE_EINVAL;
  b.st = st;
  b.t = t;
  b.d = d;
  int rc = collect(&b, data, len);
  if (!rc) rc = verify_batch(&b);
  if (!rc) rc = commit_batch(&b);
  if (!rc && sum) *sum = b.sum;
  batch_free(&b);
  return rc;
}

int prose_store_import_file(prose_store *st, const char *path, uint64_t t,
                            prose_import_summary *sum, prose_diag *d) {
  uint8_t *buf = NULL;
  size_t n = 0;
  struct stat sb;
  int rc = 0;
  if (!st || !path) return PROSE_EINVAL;
  FILE *f = fopen(path, "rb");
  if (!f) return prose_diag_set(d, PROSE_ENOENT, "cannot open %s", path);
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    rc = prose_diag_set(d, PROSE_EIO, "%s: not a regular file", path);
  } else if ((uint64_t)sb.st_size > PROSE_STORE_MAX_FILE) {
    rc = prose_diag_set(d, PROSE_ELEN, "%s: larger than %u octets", path, PROSE_STORE_MAX_FILE);
  } else if (!(buf = malloc((size_t)sb.st_size + 1))) {
    rc = PROSE_ENOMEM;
  } else {
    n = fread(buf, 1, (size_t)sb.st_size + 1, f);
    if (ferror(f) || n != (size_t)sb.st_size) rc = prose_diag_set(d, PROSE_EIO, "%s: read failed", path);
  }
  fclose(f);
  if (!rc) rc = prose_store_import(st, buf, n, t, sum, d);
  /* The file may be a key document or bundle: wipe our copy. */
  prose_free_secret(buf, buf ? (size_t)sb.st_size + 1 : 0);
  return rc;
}
