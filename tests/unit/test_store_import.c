/*
 * Import into a device store: KMS XML, GMK I_MESSAGEs and bundles, the
 * queries the node uses, and a numbered table of hostile inputs, each with
 * its specific error and a check that the store did not change.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prose/bundle.h"
#include "prose/eccsi.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/kmsxml.h"
#include "prose/mikey.h"
#include "prose/util.h"
#include "store_internal.h"
#include "test_store_fixture.h"

static int import(prose_store *st, const fx_blob *b, uint64_t t, prose_import_summary *sum,
                  prose_diag *d) {
  prose_diag_clear(d);
  return prose_store_import(st, b->p, b->len, t, sum, d);
}

static void import_ok(prose_store *st, const fx_blob *b, uint64_t t, prose_import_summary *sum) {
  prose_diag d;
  int rc = import(st, b, t, sum, &d);
  cr_assert_eq(rc, 0, "import: %s (%s)", prose_err_name(rc), d.msg);
}

Test(store_import, kms_xml_gmk_and_queries) {
  fx f;
  prose_import_summary sum;
  prose_store_keyset ks;
  prose_store_gmk g;
  fx_setup(&f, FX_L_ALICE);

  import_ok(f.alice, &f.cert, FX_T0, &sum);
  cr_assert_eq(sum.format, PROSE_IMPORT_KMSXML);
  cr_assert_eq(sum.certs, 1);
  import_ok(f.alice, &f.alice_ks, FX_T0, &sum);
  cr_assert_eq(sum.keysets, 2);
  cr_assert_eq(sum.unchanged, 0);
  import_ok(f.alice, &f.alice_ks, FX_T0, &sum); /* identical again: nothing changes */
  cr_assert_eq(sum.keysets, 0);
  cr_assert_eq(sum.unchanged, 2);

  /* The key sets match what the KMS issued. */
  prose_kmsxml_doc issued;
  cr_assert_eq(prose_kmsxml_parse(f.alice_ks.p, f.alice_ks.len, &issued, NULL), 0);
  cr_assert_eq(prose_store_keyset_at(f.alice, NULL, FX_T0, 0, &ks), 0);
  cr_assert_eq(ks.period_no, FX_PNO);
  cr_assert_eq(ks.end, FX_NEXT_PERIOD_START);
  cr_assert_arr_eq(ks.ssk, issued.keysets[0].ssk, 32);
  cr_assert_arr_eq(ks.rsk, issued.keysets[0].rsk, 257);
  cr_assert_arr_eq(ks.uid, issued.keysets[0].uid, 32);
  cr_assert_str_eq(ks.kms_uri, FX_KMS);
  prose_store_keyset_wipe(&ks);
  cr_assert_eq(prose_store_keyset_at(f.alice, FX_ALICE, FX_T0, 1, &ks), 0);
  cr_assert_eq(ks.period_no, FX_PNO + 1);
  cr_assert_arr_eq(ks.ssk, issued.keysets[1].ssk, 32);
  prose_store_keyset_wipe(&ks);
  cr_assert_eq(prose_store_keyset_at(f.alice, NULL, FX_T0, 2, &ks), PROSE_ENOKEY);
  cr_assert_eq(prose_store_keyset_at(f.alice, FX_BOB, FX_T0, 0, &ks), PROSE_ENOKEY);
  prose_kmsxml_doc_free(&issued);

  /* The GMK I_MESSAGE. */
  import_ok(f.alice, &f.imsg_alice, FX_T0, &sum);
  cr_assert_eq(sum.format, PROSE_IMPORT_IMESSAGE);
  cr_assert_eq(sum.gmks, 1);
  cr_assert_eq(prose_store_gmk_tx(f.alice, FX_GROUP, FX_T0, &g), 0);
  cr_assert_eq(g.gmk_id, f.gmk_id);
  cr_assert_eq(prose_keyid_tag(g.gmk_id), PROSE_KEYID_TAG_GMK);
  cr_assert_str_eq(g.gms_uri, FX_GMS);
  cr_assert_str_eq(g.user_uri, FX_ALICE);
  cr_assert_eq(g.activation, FX_T0 - 3600);
  cr_assert_eq(g.expiry, PROSE_STORE_NEVER);
  cr_assert_eq(g.rand_len, 16);
  uint32_t guk = 0;
  cr_assert_eq(prose_guk_id(g.gmk, 16, g.gmk_id, FX_ALICE, &guk), 0);
  cr_assert_eq(g.guk_id, guk, "own GUK-ID is GMK-ID XOR salt(GMK, own ID)");
  prose_store_gmk g2;
  cr_assert_eq(prose_store_gmk_rx(f.alice, f.gmk_id, NULL, FX_T0, &g2), 0);
  cr_assert_arr_eq(g2.gmk, g.gmk, 16);
  prose_store_gmk_wipe(&g2);
  cr_assert_eq(prose_store_gmk_rx(f.alice, f.gmk_id ^ 1, NULL, FX_T0, &g2), PROSE_ENOKEY);
  cr_assert_eq(prose_store_gmk_tx(f.alice, FX_GROUP, FX_T0 - 7200, &g2), PROSE_ENOKEY);

  /* Bob receives the same GMK (the same RAND too), with his own GUK-ID. */
  prose_store *bob = fx_store(&f, "bob", PROSE_STORE_DEVICE, FX_BOB, NULL);
  cr_assert_eq(prose_store_trust_gms(bob, FX_GMS), 0);
  import_ok(bob, &f.cert, FX_T0, &sum);
  import_ok(bob, &f.bob_ks, FX_T0, &sum);
  import_ok(bob, &f.imsg_bob, FX_T0, &sum);
  cr_assert_eq(prose_store_gmk_rx(bob, f.gmk_id, FX_GROUP, FX_T0, &g2), 0);
  cr_assert_arr_eq(g2.gmk, g.gmk, 16);
  cr_assert_arr_eq(g2.rand, g.rand, 16);
  cr_assert_neq(g2.guk_id, g.guk_id);
  prose_store_gmk_wipe(&g2);
  prose_store_close(bob);
  prose_store_gmk_wipe(&g);

  /* The keyring is loaded for t and can process another GMK message. */
  prose_keyring *kr = NULL;
  prose_diag d;
  prose_diag_clear(&d);
  cr_assert_eq(prose_keyring_new(&kr, FX_ALICE, NULL), 0);
  int rc = prose_store_load_keyring(f.alice, kr, FX_T0, &d);
  cr_assert_eq(rc, 0, "%s (%s)", prose_err_name(rc), d.msg);
  cr_assert(prose_keyring_has_keyset(kr, FX_KMS, FX_PNO));
  cr_assert(prose_keyring_has_keyset(kr, FX_KMS, FX_PNO + 1));
  prose_mikey_result res;
  rc = prose_mikey_process(kr, FX_T0, f.imsg_alice.p, f.imsg_alice.len, &res);
  cr_assert_eq(rc, 0, "%s", prose_err_name(rc));
  cr_assert_eq(res.key_id, f.gmk_id);
  prose_mikey_result_clear(&res);
  prose_keyring_free(kr);
  fx_teardown(&f);
}

/* ---- Hostile inputs -------------------------------------------------------- */

typedef struct hcase {
  const char *name;
  fx_blob in;
  uint64_t t;
  int rc;
  const char *msg_has;
} hcase;

static char *hex_of(const uint8_t *p, size_t n) {
  char *s = malloc(2 * n + 1);
  prose_hex_encode(p, n, s);
  return s;
}

/* Copy of b with the hex of `from` replaced by the hex of `to`. */
static fx_blob swap_hex(const fx_blob *b, const uint8_t *from, const uint8_t *to, size_t n) {
  char *hf = hex_of(from, n), *ht = hex_of(to, n);
  fx_blob c = fx_copy(b->p, b->len);
  fx_replace(&c, hf, ht);
  free(hf);
  free(ht);
  return c;
}

static fx_blob with_edit(const fx_blob *b, const char *from, const char *to) {
  fx_blob c = fx_copy(b->p, b->len);
  fx_replace(&c, from, to);
  return c;
}

static fx_blob flip(const fx_blob *b, size_t at) {
  fx_blob c = fx_copy(b->p, b->len);
  c.p[at] ^= 0x01;
  return c;
}

/* Bob's GMK I_MESSAGE readdressed to Alice (IDRr) and re-signed by the real
 * GMS: authentic and trusted, but SAKKE-encrypted to Bob's UID. */
static fx_blob readdressed(fx *f) {
  prose_mikey_msg m;
  prose_kmsxml_doc gms, cert;
  prose_eccsi_signer *signer = NULL;
  uint8_t out[2048], sig[129];
  size_t len = 0;
  cr_assert_eq(prose_mikey_decode(f->imsg_bob.p, f->imsg_bob.len, &m), 0);
  m.idr_r.id.p = (const uint8_t *)FX_ALICE;
  m.idr_r.id.len = strlen(FX_ALICE);
  m.sig.p = NULL; /* placeholder */
  cr_assert_eq(prose_mikey_encode(&m, out, sizeof out, &len), 0);
  cr_assert_eq(prose_kmsxml_parse(f->gms_ks.p, f->gms_ks.len, &gms, NULL), 0);
  cr_assert_eq(prose_kmsxml_parse(f->cert.p, f->cert.len, &cert, NULL), 0);
  const prose_kmsxml_keyset *k = &gms.keysets[0];
  cr_assert_eq(prose_eccsi_signer_new(&signer, cert.certs[0].kpak, k->uid, 32, k->ssk, k->pvt), 0);
  cr_assert_eq(prose_eccsi_sign(signer, &f->rng, out, len - 129, sig), 0);
  memcpy(out + len - 129, sig, sizeof sig);
  prose_eccsi_signer_free(signer);
  prose_kmsxml_doc_free(&gms);
  prose_kmsxml_doc_free(&cert);
  return fx_copy(out, len);
}

/* A PCK I_MESSAGE from Alice to Bob (a private call key, never imported). */
static fx_blob pck_message(fx *f) {
  prose_keyring *kr = NULL;
  prose_mikey_create_params p;
  uint8_t key[16], out[2048];
  size_t len = 0;
  memset(key, 0x42, sizeof key);
  cr_assert_eq(prose_keyring_new(&kr, FX_ALICE, NULL), 0);
  cr_assert_eq(prose_store_load_keyring(f->alice, kr, FX_T0, NULL), 0);
  prose_mikey_create_default(&p);
  p.kind = PROSE_MIKEY_PCK;
  p.key_id = 0x10000042;
  p.key = key;
  p.responder_uri = FX_BOB;
  p.responder_kms = FX_KMS;
  p.t = (uint64_t)FX_T0 << 32;
  cr_assert_eq(prose_mikey_create(kr, &p, &f->rng, out, sizeof out, &len), 0);
  prose_keyring_free(kr);
  return fx_copy(out, len);
}

static void run_cases(prose_store *st, hcase *cases, size_t n, const char *ssk_hex) {
  uint8_t before[32], after[32];
  prose_diag d;
  for (size_t i = 0; i < n; i++) {
    fx_digest(st, before);
    int rc = import(st, &cases[i].in, cases[i].t, NULL, &d);
    fx_digest(st, after);
    cr_assert_eq(rc, cases[i].rc, "case %zu (%s): %s instead of %s (%s)", i, cases[i].name,
                 prose_err_name(rc), prose_err_name(cases[i].rc), d.msg);
    cr_assert_arr_eq(before, after, 32, "case %zu (%s): the store changed", i, cases[i].name);
    cr_assert_eq(d.code, rc, "case %zu", i);
    cr_assert_not_null(strstr(d.msg, cases[i].msg_has), "case %zu (%s): message '%s'", i,
                       cases[i].name, d.msg);
    cr_assert_null(strstr(d.msg, ssk_hex), "case %zu leaks key material", i);
    fx_free(&cases[i].in);
  }
}

Test(store_import, hostile_inputs_leave_the_store_unchanged) {
  fx f;
  prose_import_summary sum;
  prose_kmsxml_doc ks, bob;
  fx_setup(&f, FX_L_ALICE);
  import_ok(f.alice, &f.cert, FX_T0, &sum);
  import_ok(f.alice, &f.alice_ks, FX_T0, &sum);
  cr_assert_eq(prose_kmsxml_parse(f.alice_ks.p, f.alice_ks.len, &ks, NULL), 0);
  cr_assert_eq(prose_kmsxml_parse(f.bob_ks.p, f.bob_ks.len, &bob, NULL), 0);
  const prose_kmsxml_keyset *k0 = &ks.keysets[0], *k1 = &ks.keysets[1];
  char ssk_hex[17];
  prose_hex_encode(k0->ssk, 8, ssk_hex);
  uint8_t bad_pvt[65], bad_rsk[257];
  memcpy(bad_pvt, k0->pvt, 65);
  bad_pvt[64] ^= 1;
  memcpy(bad_rsk, k0->rsk, 257);
  bad_rsk[256] ^= 1;
  /* The certificate again, under another KMS URI with a broken point. */
  prose_kmsxml_doc cd;
  cr_assert_eq(prose_kmsxml_parse(f.cert.p, f.cert.len, &cd, NULL), 0);
  uint8_t bad_z[257], bad_kpak[65];
  memcpy(bad_z, cd.certs[0].z, 257);
  bad_z[200] ^= 1;
  memcpy(bad_kpak, cd.certs[0].kpak, 65);
  bad_kpak[40] ^= 1;
  fx_blob other_kms = with_edit(&f.cert, "<KmsUri>kms.example.org</KmsUri>\n        <Revoked",
                                "<KmsUri>other.example.org</KmsUri>\n        <Revoked");
  const size_t n_sig = f.imsg_alice.len;
  fx_blob half = fx_copy(f.alice_ks.p, f.alice_ks.len / 2);

  hcase cases[] = {
      {"truncated XML", half, FX_T0, PROSE_EXML, "not well-formed"},
      {"wrong namespace",
       with_edit(&f.alice_ks, "mcsecKMSInterface:1.0", "mcsecKMSInterface:9.9"), FX_T0,
       PROSE_EXML_NS, "namespace"},
      {"DTD", with_edit(&f.alice_ks, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                        "<!DOCTYPE KmsResponse SYSTEM \"http://evil.example/x.dtd\">"),
       FX_T0, PROSE_EXML, "DTD"},
      {"garbage", fx_copy("\x7f" "ELF....", 8), FX_T0, PROSE_EFORMAT, "unknown file format"},
      {"empty response",
       fx_copy("<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\"/>", 57), FX_T0,
       PROSE_EFORMAT, "nothing to import"},
      {"key set for another user", fx_copy(f.bob_ks.p, f.bob_ks.len), FX_T0,
       PROSE_EWRONG_RECIPIENT, "issued to sip:bob@example.org"},
      {"UserID of another period", swap_hex(&f.alice_ks, k0->uid, k1->uid, 32), FX_T0,
       PROSE_EUID_MISMATCH, "KmsKeySet[0] (period 1509)/UserID"},
      {"PVT off the curve", swap_hex(&f.alice_ks, k0->pvt, bad_pvt, 65), FX_T0, PROSE_EPOINT,
       "UserPubTokenPVT"},
      {"RSK off the curve", swap_hex(&f.alice_ks, k0->rsk, bad_rsk, 257), FX_T0, PROSE_EPOINT,
       "UserDecryptKey"},
      {"SSK of another period", swap_hex(&f.alice_ks, k0->ssk, k1->ssk, 32), FX_T0,
       PROSE_EKEY_INVALID, "UserSigningKeySSK"},
      {"RSK of another identity", swap_hex(&f.alice_ks, k0->rsk, bob.keysets[0].rsk, 257), FX_T0,
       PROSE_EKEY_INVALID, "UserDecryptKey: RSK fails validation against Z"},
      {"key set for an unknown KMS",
       with_edit(&f.alice_ks, "<KmsUri>kms.example.org</KmsUri>\n        <UserUri>",
                 "<KmsUri>nowhere.example.org</KmsUri>\n        <UserUri>"),
       FX_T0, PROSE_EUNKNOWN_KMS, "no certificate for KMS nowhere.example.org"},
      {"expired key period", fx_copy(f.alice_ks.p, f.alice_ks.len), FX_NEXT_PERIOD_START + 5,
       PROSE_EEXPIRED, "KmsKeySet[0] (period 1509): key period or ValidTo has passed"},
      {"certificate: Z off the curve", swap_hex(&other_kms, cd.certs[0].z, bad_z, 257), FX_T0,
       PROSE_EPOINT, "PubEncKey"},
      {"certificate: KPAK off the curve", swap_hex(&other_kms, cd.certs[0].kpak, bad_kpak, 65),
       FX_T0, PROSE_EPOINT, "PubAuthKey"},
      {"certificate: other keys, same URI", swap_hex(&f.cert, cd.certs[0].kpak, k0->pvt, 65),
       FX_T0, PROSE_EEXIST, "a different certificate for kms.example.org"},
      {"forged I_MESSAGE signature", flip(&f.imsg_alice, n_sig - 70), FX_T0, PROSE_ESIG,
       "I_MESSAGE: rejected"},
      {"I_MESSAGE with a changed RAND", flip(&f.imsg_alice, 40), FX_T0, PROSE_ESIG, "rejected"},
      {"truncated I_MESSAGE", fx_copy(f.imsg_alice.p, n_sig - 1), FX_T0, PROSE_EOVERLONG,
       "I_MESSAGE: malformed"},
      {"GMK for another member", fx_copy(f.imsg_bob.p, f.imsg_bob.len), FX_T0,
       PROSE_EWRONG_RECIPIENT, "addressed to sip:bob@example.org"},
      {"GMK encrypted to another member", readdressed(&f), FX_T0, PROSE_ESAKKE_TEST,
       "SAKKE decapsulation check failed"},
      {"PCK I_MESSAGE", pck_message(&f), FX_T0, PROSE_EFORMAT, "not a GMK I_MESSAGE"},
      {"I_MESSAGE from the future", fx_copy(f.imsg_alice.p, f.imsg_alice.len), FX_T0 - 3600,
       PROSE_ETIME, "rejected"},
  };
  run_cases(f.alice, cases, PROSE_ARRAY_LEN(cases), ssk_hex);

  /* Replays and the trust list need a store state of their own. */
  import_ok(f.alice, &f.imsg_alice, FX_T0, &sum);
  cr_assert_eq(prose_store_untrust_gms(f.alice, FX_GMS), 0);
  hcase later[] = {
      {"replayed I_MESSAGE", fx_copy(f.imsg_alice.p, f.imsg_alice.len), FX_T0 + 60, PROSE_EREPLAY,
       "already imported"},
  };
  run_cases(f.alice, later, 1, ssk_hex);
  prose_store *bob_st = fx_store(&f, "bob", PROSE_STORE_DEVICE, FX_BOB, NULL);
  import_ok(bob_st, &f.cert, FX_T0, &sum);
  hcase bob_cases[] = {
      {"no key set for the period of T", fx_copy(f.imsg_bob.p, f.imsg_bob.len), FX_T0,
       PROSE_EPERIOD, "no key set of sip:bob@example.org for period 1509"},
  };
  run_cases(bob_st, bob_cases, 1, ssk_hex);
  import_ok(bob_st, &f.bob_ks, FX_T0, &sum);
  hcase untrusted[] = {
      {"untrusted GMS", fx_copy(f.imsg_bob.p, f.imsg_bob.len), FX_T0, PROSE_EUNAUTHORISED,
       "GMS sip:gms@example.org is not in the trust list"},
  };
  run_cases(bob_st, untrusted, 1, ssk_hex);
  prose_store_close(bob_st);

  fx_free(&other_kms);
  prose_kmsxml_doc_free(&cd);
  prose_kmsxml_doc_free(&ks);
  prose_kmsxml_doc_free(&bob);
  fx_teardown(&f);
}

Test(store_import, multi_user_store_and_files) {
  fx f;
  prose_import_summary sum;
  prose_diag d;
  prose_store_keyset ks;
  fx_setup(&f, FX_L_GROUP);
  /* A store without an owner (a test lab or gateway serving several users)
   * takes key sets and GMKs for any user, each GMK under its receiver. */
  prose_store *lab = fx_store(&f, "lab", PROSE_STORE_DEVICE, NULL, NULL);
  cr_assert_str_eq(prose_store_owner(lab), "");
  cr_assert_eq(prose_store_trust_gms(lab, FX_GMS), 0);
  const fx_blob *in[] = {&f.cert, &f.alice_ks, &f.bob_ks, &f.imsg_alice, &f.imsg_bob};
  for (size_t i = 0; i < PROSE_ARRAY_LEN(in); i++) import_ok(lab, in[i], FX_T0, &sum);
  cr_assert_eq(prose_store_keyset_at(lab, NULL, FX_T0, 0, &ks), PROSE_EINVAL);
  cr_assert_eq(prose_store_keyset_at(lab, FX_BOB, FX_T0, 0, &ks), 0);
  cr_assert_str_eq(ks.user_uri, FX_BOB);
  prose_store_keyset_wipe(&ks);
  prose_store_gmk g;
  cr_assert_eq(prose_store_gmk_tx(lab, FX_GROUP, FX_T0, &g), 0);
  cr_assert_eq(g.gmk_id, f.gmk_id);
  prose_store_gmk_wipe(&g);

  /* Files: a missing one, one over the size bound, a real one. */
  char path[600];
  snprintf(path, sizeof path, "%s", fx_path(&f, "alice.xml"));
  prose_diag_clear(&d);
  cr_assert_eq(prose_store_import_file(lab, path, FX_T0, &sum, &d), PROSE_ENOENT);
  FILE *fp = fopen(path, "wb");
  cr_assert_eq(fwrite(f.alice_ks.p, 1, f.alice_ks.len, fp), f.alice_ks.len);
  fclose(fp);
  cr_assert_eq(prose_store_import_file(lab, path, FX_T0, &sum, &d), 0, "%s", d.msg);
  cr_assert_eq(sum.unchanged, 2);
  cr_assert_eq(truncate(path, PROSE_STORE_MAX_FILE + 1), 0);
  prose_diag_clear(&d);
  cr_assert_eq(prose_store_import_file(lab, path, FX_T0, &sum, &d), PROSE_ELEN);
  prose_store_close(lab);
  fx_teardown(&f);
}
