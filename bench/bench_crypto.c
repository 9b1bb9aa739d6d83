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
#include "prose/rng.h"
#include "prose/sakke.h"

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
  int failures = c->failures;
  prose_eccsi_signer_free(c->signer);
  prose_eccsi_verifier_free(c->verifier);
  prose_sakke_pub_free(c->pub);
  prose_sakke_recipient_free(c->rcp);
  free(c);
  return failures ? 1 : 0;
}
