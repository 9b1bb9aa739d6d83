/*
 * The offline authorities (KMS, GMS) end to end: domain creation, key
 * issue, groups and rekeys, distribution, bundles, revocation, listing and
 * expiry on the device side.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "prose/bundle.h"
#include "prose/eccsi.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/kmsxml.h"
#include "prose/sakke.h"
#include "prose/util.h"
#include "store_internal.h"
#include "test_store_fixture.h"

static void import_ok(prose_store *st, const void *p, size_t n, uint64_t t,
                      prose_import_summary *sum) {
  prose_diag d;
  prose_diag_clear(&d);
  int rc = prose_store_import(st, p, n, t, sum, &d);
  cr_assert_eq(rc, 0, "import: %s (%s)", prose_err_name(rc), d.msg);
}

Test(authority, kms_init_and_issue) {
  fx f;
  prose_diag d;
  prose_kmsxml_doc cert, keys;
  char *xml = NULL;
  size_t len = 0;
  fx_setup(&f, FX_L_KEYS);

  /* The certificate: defaults, valid points, the 3GPP namespace. */
  cr_assert_not_null(strstr((char *)f.cert.p, "xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\""));
  cr_assert_eq(prose_kmsxml_parse(f.cert.p, f.cert.len, &cert, NULL), 0);
  cr_assert_eq(cert.n_certs, 1);
  const prose_kmsxml_cert *c = &cert.certs[0];
  cr_assert_str_eq(c->kms_uri, FX_KMS);
  cr_assert_eq(c->period, 2592000);
  cr_assert_eq(c->offset, 0);
  cr_assert_eq(c->user_id_format, 2);
  cr_assert_eq(prose_eccsi_point_check(c->kpak), 0);
  cr_assert_eq(prose_sakke_point_check(c->z), 0);

  /* Three consecutive key sets, each valid for its recomputed UID. */
  prose_kms_issue_params p;
  prose_kms_issue_params_default(&p);
  cr_assert_eq(p.count, 2);
  p.user_uri = FX_ALICE;
  p.t = FX_T0;
  p.count = 3;
  p.include_cert = true;
  prose_diag_clear(&d);
  cr_assert_eq(prose_kms_issue(f.kms, &p, &xml, &len, &d), 0, "%s", d.msg);
  cr_assert_eq(prose_kmsxml_parse((uint8_t *)xml, len, &keys, NULL), 0);
  prose_free_secret(xml, len);
  cr_assert_eq(keys.n_certs, 1);
  cr_assert_eq(keys.n_keysets, 3);
  cr_assert_str_eq(keys.user_uri, FX_ALICE);
  for (size_t i = 0; i < 3; i++) {
    const prose_kmsxml_keyset *k = &keys.keysets[i];
    uint8_t uid[32];
    uint64_t start, end;
    cr_assert_eq(k->period_no, FX_PNO + i);
    cr_assert_eq(prose_uid(FX_ALICE, FX_KMS, FX_PERIOD, 0, FX_PNO + i, uid), 0);
    cr_assert_arr_eq(k->uid, uid, 32);
    prose_period_bounds(FX_PNO + i, FX_PERIOD, 0, &start, &end);
    cr_assert(k->has_valid_from && k->valid_from == start && k->valid_to == end);
    prose_eccsi_signer *s = NULL;
    cr_assert_eq(prose_eccsi_signer_new(&s, c->kpak, uid, 32, k->ssk, k->pvt), 0);
    prose_eccsi_signer_free(s);
  }
  prose_sakke_recipient *r = NULL;
  cr_assert_eq(prose_sakke_recipient_new(&r, c->z, keys.keysets[2].uid, 32, keys.keysets[2].rsk),
               0);
  prose_sakke_recipient_free(r);
  prose_kmsxml_doc_free(&keys);

  /* Errors. */
  prose_kms_settings ks;
  prose_kms_settings_default(&ks);
  cr_assert_eq(ks.period, PROSE_KMS_DEFAULT_PERIOD);
  ks.kms_uri = FX_KMS;
  cr_assert_eq(prose_kms_init(f.kms, &ks, NULL), PROSE_EEXIST);
  prose_store *dev = fx_store(&f, "dev", PROSE_STORE_DEVICE, NULL, NULL);
  cr_assert_eq(prose_kms_init(dev, &ks, NULL), PROSE_EINVAL);
  p.user_uri = "";
  cr_assert_eq(prose_kms_issue(f.kms, &p, &xml, &len, NULL), PROSE_EINVAL);
  p.user_uri = FX_BOB;
  p.count = 65;
  cr_assert_eq(prose_kms_issue(f.kms, &p, &xml, &len, NULL), PROSE_EINVAL);
  p.count = 1;
  p.kms_uri = "nowhere.example.org";
  cr_assert_eq(prose_kms_issue(f.kms, &p, &xml, &len, NULL), PROSE_ENOKEY);
  cr_assert_eq(prose_kms_issue(dev, &p, &xml, &len, NULL), PROSE_ENOKEY);
  prose_store_close(dev);

  /* A passphrase-protected KMS keeps working after a reopen; its master
   * secrets are sealed (version octet, nonce, 32 + 16 octets of tag). */
  prose_store *pk = fx_store(&f, "kms2", PROSE_STORE_KMS, NULL, "kms secret");
  ks.kms_uri = "kms2.example.org";
  ks.period = 86400;
  ks.offset = 3600;
  cr_assert_eq(prose_kms_init(pk, &ks, NULL), 0);
  prose_store_close(pk);
  prose_store_settings ss;
  prose_store_settings_default(&ss);
  ss.passphrase = "kms secret";
  ss.passphrase_len = 10;
  ss.rng = &f.rng;
  cr_assert_eq(prose_store_open(&pk, fx_path(&f, "kms2"), &ss, NULL), 0);
  p.kms_uri = NULL;
  p.user_uri = FX_BOB;
  cr_assert_eq(prose_kms_issue(pk, &p, &xml, &len, NULL), 0);
  cr_assert_eq(prose_kmsxml_parse((uint8_t *)xml, len, &keys, NULL), 0);
  prose_free_secret(xml, len);
  cr_assert_eq(keys.keysets[0].period_no, (FX_T0 - 3600) / 86400);
  prose_kmsxml_doc_free(&keys);
  prose_store_close(pk);
  sqlite3 *db = NULL;
  sqlite3_stmt *q = NULL;
  cr_assert_eq(sqlite3_open(fx_path(&f, "kms2/store.db"), &db), SQLITE_OK);
  cr_assert_eq(sqlite3_prepare_v2(db, "SELECT length(ksak), hex(substr(ksak, 1, 1)),"
                                      " length(z_secret) FROM kms_master", -1, &q, NULL),
               SQLITE_OK);
  cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
  cr_assert_eq(sqlite3_column_int(q, 0), 1 + 12 + 32 + 16);
  cr_assert_str_eq((const char *)sqlite3_column_text(q, 1), "01");
  cr_assert_eq(sqlite3_column_int(q, 2), 1 + 12 + 128 + 16);
  sqlite3_finalize(q);
  sqlite3_close(db);
  prose_kmsxml_doc_free(&cert);
  fx_teardown(&f);
}

typedef struct msgs {
  fx_blob m[8];
  uint32_t id[8];
  size_t n;
} msgs;

static int collect(void *ud, const char *group_id, uint32_t gmk_id, const uint8_t *msg,
                   size_t len) {
  msgs *m = ud;
  cr_assert_str_eq(group_id, FX_GROUP);
  cr_assert(m->n < 8);
  m->id[m->n] = gmk_id;
  m->m[m->n++] = fx_copy(msg, len);
  return 0;
}

static void msgs_free(msgs *m) {
  for (size_t i = 0; i < m->n; i++) fx_free(&m->m[i]);
  m->n = 0;
}

static int distribute(fx *f, const char *member, uint64_t t, uint32_t gmk_id, msgs *out,
                      prose_diag *d) {
  prose_gms_distribute_params p;
  prose_gms_distribute_params_default(&p);
  p.member_uri = member;
  p.t = t;
  p.gmk_id = gmk_id;
  prose_diag_clear(d);
  return prose_gms_distribute(f->gms, &p, collect, out, d);
}

static int count_items(void *ud, const prose_store_item *it) {
  size_t *counts = ud;
  counts[it->kind]++;
  return 0;
}

Test(authority, gms_rekey_switches_at_activation) {
  fx f;
  prose_diag d;
  prose_import_summary sum;
  msgs m = {0};
  uint32_t id2 = 0;
  fx_setup(&f, FX_L_ALICE);
  const uint64_t act2 = FX_T0 + 1000;

  /* Rekey: a second GMK active from act2; the first stays valid. */
  cr_assert_eq(prose_gms_group_rekey(f.gms, FX_GROUP, FX_T0 - 3600, PROSE_STORE_NEVER, &id2, &d),
               PROSE_ERANGE);
  cr_assert_eq(prose_gms_group_rekey(f.gms, FX_GROUP, act2, act2, &id2, &d), PROSE_ERANGE);
  cr_assert_eq(prose_gms_group_rekey(f.gms, "sip:nogroup@example.org", act2, act2 + 1, &id2, &d),
               PROSE_ENOENT);
  cr_assert_eq(prose_gms_group_rekey(f.gms, FX_GROUP, act2, act2 + 100000, &id2, &d), 0);
  cr_assert_neq(id2, f.gmk_id);
  cr_assert_eq(prose_keyid_tag(id2), PROSE_KEYID_TAG_GMK);

  /* Every GMK of Alice's groups, ordered by activation. */
  int rc = distribute(&f, FX_ALICE, FX_T0, 0, &m, &d);
  cr_assert_eq(rc, 0, "%s (%s)", prose_err_name(rc), d.msg);
  cr_assert_eq(m.n, 2);
  cr_assert_eq(m.id[0], f.gmk_id);
  cr_assert_eq(m.id[1], id2);

  import_ok(f.alice, f.cert.p, f.cert.len, FX_T0, &sum);
  import_ok(f.alice, f.alice_ks.p, f.alice_ks.len, FX_T0, &sum);
  import_ok(f.alice, m.m[0].p, m.m[0].len, FX_T0, &sum);
  import_ok(f.alice, m.m[1].p, m.m[1].len, FX_T0, &sum);

  prose_store_gmk g;
  cr_assert_eq(prose_store_gmk_tx(f.alice, FX_GROUP, act2 - 1, &g), 0);
  cr_assert_eq(g.gmk_id, f.gmk_id);
  prose_store_gmk_wipe(&g);
  cr_assert_eq(prose_store_gmk_tx(f.alice, FX_GROUP, act2, &g), 0);
  cr_assert_eq(g.gmk_id, id2);
  cr_assert_eq(g.expiry, act2 + 100000);
  prose_store_gmk_wipe(&g);
  /* Receiving still works with the old key after the switch, and with the
   * new one before its activation (a sender whose clock runs ahead). */
  cr_assert_eq(prose_store_gmk_rx(f.alice, f.gmk_id, FX_GROUP, act2 + 10, &g), 0);
  prose_store_gmk_wipe(&g);
  cr_assert_eq(prose_store_gmk_rx(f.alice, id2, NULL, FX_T0, &g), 0);
  prose_store_gmk_wipe(&g);
  /* After the new GMK's expiry the old one (no expiry) transmits again. */
  cr_assert_eq(prose_store_gmk_rx(f.alice, id2, NULL, act2 + 100000, &g), PROSE_EEXPIRED);
  cr_assert_eq(prose_store_gmk_tx(f.alice, FX_GROUP, act2 + 100000, &g), 0);
  cr_assert_eq(g.gmk_id, f.gmk_id);
  prose_store_gmk_wipe(&g);
  msgs_free(&m);

  /* One GMK by ID; a non-member; a new member; no GMS key for the period. */
  cr_assert_eq(distribute(&f, FX_BOB, FX_T0, id2, &m, &d), 0);
  cr_assert_eq(m.n, 1);
  msgs_free(&m);
  cr_assert_eq(distribute(&f, "sip:carol@example.org", FX_T0, 0, &m, &d), PROSE_ENOENT);
  const char *carol[] = {"sip:carol@example.org", FX_ALICE};
  cr_assert_eq(prose_gms_group_add_members(f.gms, FX_GROUP, carol, 2, &d), 0);
  cr_assert_eq(distribute(&f, "sip:carol@example.org", FX_T0, 0, &m, &d), 0);
  cr_assert_eq(m.n, 2);
  msgs_free(&m);
  rc = distribute(&f, FX_ALICE, FX_NEXT_PERIOD_START, 0, &m, &d);
  cr_assert_eq(rc, PROSE_ENOKEY, "%s", prose_err_name(rc));

  /* Group creation errors. */
  prose_gms_group_params gp;
  prose_gms_group_params_default(&gp);
  gp.group_id = FX_GROUP;
  gp.activation = FX_T0;
  cr_assert_eq(prose_gms_group_create(f.gms, &gp, NULL, &d), PROSE_EEXIST);
  const char *dup[] = {FX_BOB, FX_BOB};
  gp.group_id = "sip:other@example.org";
  gp.members = dup;
  gp.n_members = 2;
  cr_assert_eq(prose_gms_group_create(f.gms, &gp, NULL, &d), PROSE_EINVAL);
  gp.n_members = 1;
  gp.expiry = FX_T0;
  cr_assert_eq(prose_gms_group_create(f.gms, &gp, NULL, &d), PROSE_EINVAL);
  cr_assert_eq(prose_gms_group_create(f.alice, &gp, NULL, &d), PROSE_EINVAL); /* not a GMS */

  /* The GMS lists its group, members and GMKs, and expires the rekeyed GMK. */
  size_t counts[16] = {0};
  cr_assert_eq(prose_store_list(f.gms, FX_T0, count_items, counts), 0);
  cr_assert_eq(counts[PROSE_ITEM_GMS_GROUP], 1);
  cr_assert_eq(counts[PROSE_ITEM_GMS_MEMBER], 3);
  cr_assert_eq(counts[PROSE_ITEM_GMS_GMK], 2);
  cr_assert_eq(counts[PROSE_ITEM_KEYSET], 1);
  prose_expire_summary ex;
  cr_assert_eq(prose_store_expire(f.gms, act2 + 100000, &ex), 0);
  cr_assert_eq(ex.gms_gmks, 1);
  fx_teardown(&f);
}

typedef struct listing {
  char text[4096];
  size_t counts[16];
} listing;

static int print_item(void *ud, const prose_store_item *it) {
  listing *l = ud;
  size_t n = strlen(l->text);
  l->counts[it->kind]++;
  snprintf(l->text + n, sizeof l->text - n, "%s %s %s %s %s %llu %08x\n",
           prose_store_item_kind_name(it->kind), prose_store_state_name(it->state), it->uri,
           it->kms_uri, it->group_id, (unsigned long long)it->period_no, (unsigned)it->key_id);
  return 0;
}

Test(authority, bundle_end_to_end_revocation_list_expire) {
  fx f;
  prose_diag d;
  prose_import_summary sum;
  msgs m = {0};
  uint32_t id2 = 0;
  fx_setup(&f, FX_L_GROUP);
  cr_assert_eq(prose_gms_group_rekey(f.gms, FX_GROUP, FX_T0 + 1000, FX_T0 + 5000, &id2, &d), 0);
  cr_assert_eq(distribute(&f, FX_ALICE, FX_T0, 0, &m, &d), 0);

  /* The provisioning bundle for Alice's device. */
  prose_bundle_writer *w = NULL;
  uint8_t *bun = NULL;
  size_t bun_len = 0;
  cr_assert_eq(prose_bundle_writer_new(&w), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_NOTE, "for alice", 9), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_IMESSAGE, m.m[1].p, m.m[1].len), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_KMS_XML, f.alice_ks.p, f.alice_ks.len), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_KMS_XML, f.cert.p, f.cert.len), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_TRUST_GMS, FX_GMS, strlen(FX_GMS)), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_IMESSAGE, m.m[0].p, m.m[0].len), 0);
  cr_assert_eq(prose_bundle_add_flags(w, 0x4000, 0, "future", 6), 0); /* skipped */
  cr_assert_eq(prose_bundle_finish(w, &bun, &bun_len), 0);

  /* A fresh store, nothing trusted: the bundle brings everything. */
  prose_store *dev = fx_store(&f, "dev", PROSE_STORE_DEVICE, FX_ALICE, NULL);
  cr_assert_eq(prose_store_detect_format(bun, bun_len), PROSE_IMPORT_BUNDLE);
  import_ok(dev, bun, bun_len, FX_T0, &sum);
  cr_assert_eq(sum.format, PROSE_IMPORT_BUNDLE);
  cr_assert_eq(sum.certs, 1);
  cr_assert_eq(sum.keysets, 2);
  cr_assert_eq(sum.gmks, 2);
  cr_assert_eq(sum.trusted_gms, 1);
  cr_assert_eq(sum.unchanged, 0);
  prose_store_gmk g;
  cr_assert_eq(prose_store_gmk_tx(dev, FX_GROUP, FX_T0 + 1000, &g), 0);
  cr_assert_eq(g.gmk_id, id2);
  prose_store_gmk_wipe(&g);
  /* A second import of the same bundle replays its I_MESSAGEs. */
  prose_diag_clear(&d);
  cr_assert_eq(prose_store_import(dev, bun, bun_len, FX_T0, NULL, &d), PROSE_EREPLAY);
  cr_assert_not_null(strstr(d.msg, "bundle record 1 (imessage): I_MESSAGE: already imported"),
                     "%s", d.msg);

  /* List: public facts, one line per item. */
  listing l;
  memset(&l, 0, sizeof l);
  cr_assert_eq(prose_store_list(dev, FX_T0 + 10, print_item, &l), 0);
  cr_assert_eq(l.counts[PROSE_ITEM_KMS], 1);
  cr_assert_eq(l.counts[PROSE_ITEM_KEYSET], 2);
  cr_assert_eq(l.counts[PROSE_ITEM_TRUSTED_GMS], 1);
  cr_assert_eq(l.counts[PROSE_ITEM_GMK], 2);
  cr_assert_not_null(strstr(l.text, "keyset valid sip:alice@example.org kms.example.org  1509"),
                     "%s", l.text);
  cr_assert_not_null(strstr(l.text, "keyset pending sip:alice@example.org kms.example.org  1510"));
  cr_assert_not_null(strstr(l.text, "gmk pending sip:alice@example.org  sip:fire-crew"));
  cr_assert_eq(prose_store_list(dev, FX_T0, NULL, NULL), PROSE_EINVAL);

  /* Revocation is sticky: a revoked key set stays revoked when the
   * unrevoked document is imported again. */
  fx_blob rev = fx_copy(f.alice_ks.p, f.alice_ks.len);
  fx_replace(&rev, "<Revoked>false</Revoked>", "<Revoked>true</Revoked>");
  import_ok(dev, rev.p, rev.len, FX_T0, &sum);
  cr_assert_eq(sum.keysets, 1);
  cr_assert_eq(sum.unchanged, 1);
  prose_store_keyset ks;
  cr_assert_eq(prose_store_keyset_at(dev, NULL, FX_T0, 0, &ks), PROSE_EEXPIRED);
  import_ok(dev, f.alice_ks.p, f.alice_ks.len, FX_T0, &sum);
  cr_assert_eq(sum.unchanged, 2);
  cr_assert_eq(prose_store_keyset_at(dev, NULL, FX_T0, 0, &ks), PROSE_EEXPIRED);
  cr_assert_eq(prose_store_keyset_at(dev, NULL, FX_T0, 1, &ks), 0);
  prose_store_keyset_wipe(&ks);
  fx_free(&rev);

  /* A revoked certificate makes its key sets unusable, and key sets for it
   * are refused. */
  rev = fx_copy(f.cert.p, f.cert.len);
  fx_replace(&rev, "<Revoked>false</Revoked>", "<Revoked>true</Revoked>");
  import_ok(dev, rev.p, rev.len, FX_T0, &sum);
  cr_assert_eq(prose_store_keyset_at(dev, NULL, FX_T0, 1, &ks), PROSE_EEXPIRED);
  prose_diag_clear(&d);
  cr_assert_eq(prose_store_import(dev, f.alice_ks.p, f.alice_ks.len, FX_T0, NULL, &d),
               PROSE_EEXPIRED);
  cr_assert_not_null(strstr(d.msg, "revoked"), "%s", d.msg);
  fx_free(&rev);

  /* Expire: the revoked certificate and its key sets, the expired GMK. */
  prose_expire_summary ex;
  cr_assert_eq(prose_store_expire(dev, FX_T0 + 6000, &ex), 0);
  cr_assert_eq(ex.certs, 1);
  cr_assert_eq(ex.keysets, 2);
  cr_assert_eq(ex.gmks, 1);
  memset(&l, 0, sizeof l);
  cr_assert_eq(prose_store_list(dev, FX_T0 + 6000, print_item, &l), 0);
  cr_assert_eq(l.counts[PROSE_ITEM_KEYSET] + l.counts[PROSE_ITEM_KMS], 0);
  cr_assert_eq(l.counts[PROSE_ITEM_GMK], 1);
  prose_store_close(dev);

  /* One bad record spoils the whole bundle: nothing is stored, and the
   * message names the record. */
  bun[bun_len - 5] ^= 1; /* in the checksum */
  dev = fx_store(&f, "dev2", PROSE_STORE_DEVICE, FX_ALICE, NULL);
  uint8_t before[32], after[32];
  fx_digest(dev, before);
  prose_diag_clear(&d);
  cr_assert_eq(prose_store_import(dev, bun, bun_len, FX_T0, NULL, &d), PROSE_EAUTH);
  prose_free_secret(bun, bun_len);
  fx_blob forged = fx_copy(m.m[0].p, m.m[0].len);
  forged.p[forged.len - 3] ^= 1;
  prose_bundle_writer_free(w);
  cr_assert_eq(prose_bundle_writer_new(&w), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_KMS_XML, f.cert.p, f.cert.len), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_KMS_XML, f.alice_ks.p, f.alice_ks.len), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_TRUST_GMS, FX_GMS, strlen(FX_GMS)), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_IMESSAGE, m.m[1].p, m.m[1].len), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_IMESSAGE, forged.p, forged.len), 0);
  cr_assert_eq(prose_bundle_finish(w, &bun, &bun_len), 0);
  prose_diag_clear(&d);
  int rc = prose_store_import(dev, bun, bun_len, FX_T0, NULL, &d);
  cr_assert_eq(rc, PROSE_ESIG, "%s (%s)", prose_err_name(rc), d.msg);
  cr_assert_not_null(strstr(d.msg, "bundle record 4 (imessage)"), "%s", d.msg);
  fx_digest(dev, after);
  cr_assert_arr_eq(before, after, 32);
  prose_store_close(dev);
  prose_free_secret(bun, bun_len);
  fx_free(&forged);
  prose_bundle_writer_free(w);
  msgs_free(&m);
  fx_teardown(&f);
}

/* ---- Seed corpora of the fuzz targets ------------------------------------ */

static void write_file(const char *dir, const char *name, const void *p, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *fp = fopen(path, "wb");
  cr_assert_not_null(fp, "cannot write %s", path);
  cr_assert_eq(fwrite(p, 1, n, fp), n);
  fclose(fp);
}

/*
 * Writes tests/fuzz/corpus/{kmsxml,bundle} from the deterministic fixture
 * when PROSE_STORE_CORPUS_DIR names the corpus root; otherwise does nothing.
 */
Test(authority, write_corpus) {
  const char *root = getenv("PROSE_STORE_CORPUS_DIR");
  if (!root) return;
  char kx[900], bd[900];
  snprintf(kx, sizeof kx, "%s/kmsxml", root);
  snprintf(bd, sizeof bd, "%s/bundle", root);
  fx f;
  fx_setup(&f, FX_L_GROUP);
  write_file(kx, "cert.xml", f.cert.p, f.cert.len);
  write_file(kx, "keys_alice.xml", f.alice_ks.p, f.alice_ks.len);
  fx_blob rev = fx_copy(f.bob_ks.p, f.bob_ks.len);
  fx_replace(&rev, "<Revoked>false</Revoked>", "<Revoked>true</Revoked><Extra>x</Extra>");
  write_file(kx, "keys_bob_revoked_extra.xml", rev.p, rev.len);
  fx_free(&rev);
  prose_bundle_writer *w = NULL;
  uint8_t *out = NULL;
  size_t len = 0;
  cr_assert_eq(prose_bundle_writer_new(&w), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_KMS_XML, f.cert.p, f.cert.len), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_KMS_XML, f.alice_ks.p, f.alice_ks.len), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_TRUST_GMS, FX_GMS, strlen(FX_GMS)), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_IMESSAGE, f.imsg_alice.p, f.imsg_alice.len), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_NOTE, "alice", 5), 0);
  cr_assert_eq(prose_bundle_finish(w, &out, &len), 0);
  write_file(bd, "alice_full.bundle", out, len);
  prose_free_secret(out, len);
  prose_bundle_writer_free(w);
  cr_assert_eq(prose_bundle_writer_new(&w), 0);
  cr_assert_eq(prose_bundle_add_flags(w, 0x7000, 0, "unknown", 7), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_IMESSAGE, f.imsg_bob.p, f.imsg_bob.len), 0);
  cr_assert_eq(prose_bundle_finish(w, &out, &len), 0);
  write_file(bd, "bob_imessage_unknown_record.bundle", out, len);
  out[len - 1] ^= 1;
  write_file(bd, "bad_checksum.bundle", out, len);
  write_file(bd, "bad_truncated.bundle", out, len / 2);
  prose_free_secret(out, len);
  prose_bundle_writer_free(w);
  fx_teardown(&f);
}
