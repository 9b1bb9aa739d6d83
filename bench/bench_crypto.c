/*
 * prose-bench crypto: ECCSI sign/verify, SAKKE encapsulate/decapsulate and
 * the set-up costs of the precomputed contexts. Medians over rounds.
 * Targets (DESIGN.md §6): SAKKE decapsulate <= 3 ms, encapsulate <= 1.5 ms,
 * ECCSI sign >= 25 k/s, verify >= 8 k/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "prose/eccsi.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/keyring.h"
#include "prose/mikey.h"
#include "prose/rng.h"
#include "prose/sakke.h"
#include "prose/util.h"

/* 2026-11-28 in NTP seconds: the key periods of the benchmark users contain it. */
#define BENCH_NOW 4004812800ull

typedef struct crypto_ctx {
  prose_rng rng;
  prose_rng_det det;
  uint8_t ksak[32], kpak[65], ssk[32], pvt[65], uid[32];
  uint8_t z[128], Z[257], rsk[257], ssv[16], ed[273], out[16];
  uint8_t msg[200], sig[129];
  prose_eccsi_signer *signer;
  prose_eccsi_verifier *verifier;
  prose_sakke_pub *pub;
  prose_sakke_recipient *rcp;
  /* MIKEY: alice (caller) sends bob a PCK. */
  prose_keyring *alice, *bob;
  uint8_t pck[16];
  uint8_t imsg[1200];
  size_t imsg_len;
  int failures;
} crypto_ctx;

static void check(crypto_ctx *c, int rc, const char *what) {
  if (rc) {
    c->failures++;
    fprintf(stderr, "bench: %s failed: %s\n", what, prose_err_name(rc));
  }
}

static void op_sign(void *p) {
  crypto_ctx *c = p;
  check(c, prose_eccsi_sign(c->signer, &c->rng, c->msg, sizeof c->msg, c->sig), "sign");
}
static void op_verify(void *p) {
  crypto_ctx *c = p;
  check(c, prose_eccsi_verify(c->verifier, c->uid, 32, c->msg, sizeof c->msg, c->sig, 129),
        "verify");
}
static void op_verify_cold(void *p) {
  crypto_ctx *c = p;
  prose_eccsi_verifier *v = NULL;
  check(c, prose_eccsi_verifier_new(&v, c->kpak), "verifier_new");
  check(c, prose_eccsi_verify(v, c->uid, 32, c->msg, sizeof c->msg, c->sig, 129), "verify");
  prose_eccsi_verifier_free(v);
}
static void op_signer_new(void *p) {
  crypto_ctx *c = p;
  prose_eccsi_signer *s = NULL;
  check(c, prose_eccsi_signer_new(&s, c->kpak, c->uid, 32, c->ssk, c->pvt), "signer_new");
  prose_eccsi_signer_free(s);
}
static void op_encap(void *p) {
  crypto_ctx *c = p;
  check(c, prose_sakke_encap(c->pub, c->uid, 32, c->ssv, c->ed), "encap");
}
static void op_decap(void *p) {
  crypto_ctx *c = p;
  check(c, prose_sakke_decap(c->rcp, c->ed, sizeof c->ed, c->out), "decap");
}
static void op_recipient_new(void *p) {
  crypto_ctx *c = p;
  prose_sakke_recipient *r = NULL;
  check(c, prose_sakke_recipient_new(&r, c->Z, c->uid, 32, c->rsk), "recipient_new");
  prose_sakke_recipient_free(r);
}
static void op_pub_new(void *p) {
  crypto_ctx *c = p;
  prose_sakke_pub *pub = NULL;
  check(c, prose_sakke_pub_new(&pub, c->Z), "pub_new");
  prose_sakke_pub_free(pub);
}

static void pck_params(crypto_ctx *c, prose_mikey_create_params *p) {
  prose_mikey_create_default(p);
  p->kind = PROSE_MIKEY_PCK;
  p->key_id = 0x10000001u;
  p->key = c->pck;
  p->responder_uri = "sip:bob@example.org";
  p->responder_kms = "kms.example.org";
  p->t = (uint64_t)BENCH_NOW << 32;
}
static void op_imsg_create(void *p) {
  crypto_ctx *c = p;
  prose_mikey_create_params cp;
  uint8_t out[1200];
  size_t len = 0;
  pck_params(c, &cp);
  check(c, prose_mikey_create(c->alice, &cp, &c->rng, out, sizeof out, &len), "mikey_create");
}
static void op_imsg_process(void *p) {
  crypto_ctx *c = p;
  prose_mikey_result res;
  /* The same message each time: forget it so the replay check does not refuse it. */
  prose_keyring_replay_reset(c->bob);
  check(c, prose_mikey_process(c->bob, BENCH_NOW, c->imsg, c->imsg_len, &res), "mikey_process");
  prose_mikey_result_clear(&res);
}

/* Issue a user's key set for the benchmark KMS and build its keyring. */
static int make_user(crypto_ctx *c, const char *uri, prose_keyring **kr) {
  prose_kms_cert cert = {.uri = "kms.example.org", .period = 2592000, .offset = 0};
  prose_keyset ks = {.kms_uri = "kms.example.org", .period_no = BENCH_NOW / 2592000};
  uint8_t uid[32];
  memcpy(cert.kpak, c->kpak, sizeof cert.kpak);
  memcpy(cert.z, c->Z, sizeof cert.z);
  int rc = prose_uid(uri, cert.uri, cert.period, 0, ks.period_no, uid);
  if (!rc) rc = prose_eccsi_issue(&c->rng, c->ksak, uid, 32, ks.ssk, ks.pvt);
  if (!rc) rc = prose_sakke_issue_rsk(c->z, sizeof c->z, uid, 32, ks.rsk);
  if (!rc) rc = prose_keyring_new(kr, uri, NULL);
  if (!rc) rc = prose_keyring_add_kms(*kr, &cert);
  if (!rc) rc = prose_keyring_add_keyset(*kr, &ks);
  prose_wipe(&ks, sizeof ks);
  return rc;
}

static int setup(crypto_ctx *c) {
  c->rng = prose_rng_det_init(&c->det, 1);
  int rc = prose_uid("sip:alice@example.org", "kms.example.org", 2592000, 0, 1500, c->uid);
  if (!rc) rc = prose_eccsi_kms_keygen(&c->rng, c->ksak, c->kpak);
  if (!rc) rc = prose_eccsi_issue(&c->rng, c->ksak, c->uid, 32, c->ssk, c->pvt);
  if (!rc) rc = prose_eccsi_signer_new(&c->signer, c->kpak, c->uid, 32, c->ssk, c->pvt);
  if (!rc) rc = prose_eccsi_verifier_new(&c->verifier, c->kpak);
  if (!rc) rc = prose_rng_fill(&c->rng, c->msg, sizeof c->msg);
  if (!rc) rc = prose_eccsi_sign(c->signer, &c->rng, c->msg, sizeof c->msg, c->sig);
  if (!rc) rc = prose_sakke_kms_keygen(&c->rng, c->z, c->Z);
  if (!rc) rc = prose_sakke_issue_rsk(c->z, sizeof c->z, c->uid, 32, c->rsk);
  if (!rc) rc = prose_sakke_pub_new(&c->pub, c->Z);
  if (!rc) rc = prose_sakke_recipient_new(&c->rcp, c->Z, c->uid, 32, c->rsk);
  if (!rc) rc = prose_rng_fill(&c->rng, c->ssv, sizeof c->ssv);
  if (!rc) rc = prose_sakke_encap(c->pub, c->uid, 32, c->ssv, c->ed);
  if (!rc) rc = make_user(c, "sip:alice@example.org", &c->alice);
  if (!rc) rc = make_user(c, "sip:bob@example.org", &c->bob);
  if (!rc) rc = prose_rng_fill(&c->rng, c->pck, sizeof c->pck);
  if (!rc) {
    prose_mikey_create_params cp;
    pck_params(c, &cp);
    rc = prose_mikey_create(c->alice, &cp, &c->rng, c->imsg, sizeof c->imsg, &c->imsg_len);
  }
  if (rc) fprintf(stderr, "bench: setup failed: %s\n", prose_err_name(rc));
  return rc;
}

int bench_crypto(int argc, char **argv) {
  (void)argc;
  (void)argv;
  crypto_ctx *c = calloc(1, sizeof *c);
  if (!c || setup(c)) {
    free(c);
    return 1;
  }
  printf("== crypto (median of rounds; one core)\n");
  bench_run("eccsi sign", op_sign, c, 15, 400);
  bench_run("eccsi verify (cached Y)", op_verify, c, 15, 200);
  bench_run("eccsi verify (cold)", op_verify_cold, c, 15, 100);
  bench_run("eccsi signer_new", op_signer_new, c, 9, 100);
  bench_run("sakke encapsulate", op_encap, c, 15, 20);
  bench_run("sakke decapsulate", op_decap, c, 15, 20);
  bench_run("sakke recipient_new", op_recipient_new, c, 5, 3);
  bench_run("sakke pub_new", op_pub_new, c, 5, 3);
  bench_run("i_message create (PCK)", op_imsg_create, c, 15, 20);
  bench_run("i_message process (PCK)", op_imsg_process, c, 15, 20);
  int failures = c->failures;
  prose_eccsi_signer_free(c->signer);
  prose_eccsi_verifier_free(c->verifier);
  prose_sakke_pub_free(c->pub);
  prose_sakke_recipient_free(c->rcp);
  prose_keyring_free(c->alice);
  prose_keyring_free(c->bob);
  prose_wipe(c, sizeof *c);
  free(c);
  return failures ? 1 : 0;
}
