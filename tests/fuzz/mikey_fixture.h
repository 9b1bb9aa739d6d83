/*
 * TEST FIXTURE ONLY: a deterministic KMS and users with issued key sets, for
 * tests/unit/test_mikey.c, the fuzz target and its seed corpus. Every key is
 * derived from a fixed prose_rng_det seed, so the corpus written by the unit
 * test is processable by the fuzzer's keyring. Never use these keys anywhere
 * else.
 *
 * The identities, KMS and key period are those of the Streamwide UID vectors
 * (spec/vectors.txt §3, period 16777215, period number 236), so the UIDs and
 * the GUK-ID (§4) can be checked against published values.
 */
#ifndef PROSE_MIKEY_FIXTURE_H
#define PROSE_MIKEY_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "prose/eccsi.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/keyring.h"
#include "prose/mikey.h"
#include "prose/rng.h"
#include "prose/sakke.h"
#include "prose/util.h"

#define MF_KMS "kms.mydev.streamwide.com"
#define MF_PERIOD 16777215u
#define MF_PERIOD_NO 236u
/* "Now" in NTP seconds: 1000 s into period 236 (2025-06). */
#define MF_NOW ((uint64_t)MF_PERIOD * MF_PERIOD_NO + 1000u)
#define MF_T(sec) ((uint64_t)(sec) << 32)
#define MF_GMS "gms@streamwide.com"
#define MF_ALICE "sip:alice@streamwide.com"
#define MF_BOB "sip:bob@streamwide.com"
#define MF_CAROL "sip:carol@streamwide.com"
/* Seeds of the deterministic generators (the corpus depends on them). */
#define MF_SEED_KMS 1u
#define MF_SEED_GMS 10u
#define MF_SEED_ALICE 11u
#define MF_SEED_BOB 12u
#define MF_SEED_CAROL 13u

/* vectors.txt §4: GMK, GMK-ID, and alice's GUK-ID. */
static const uint8_t mf_gmk[16] = {0x07, 0xd1, 0xa1, 0x67, 0x7a, 0xc3, 0x6d, 0x8e,
                                   0x81, 0x62, 0x04, 0x84, 0x68, 0x9b, 0x3c, 0x2d};
#define MF_GMK_ID 0x0df9bc39u
#define MF_ALICE_GUK_ID 0x06a12aeau
static const uint8_t mf_pck[16] = {0x50, 0x43, 0x4b, 0x2d, 0x74, 0x65, 0x73, 0x74,
                                   0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x30, 0x31};
#define MF_PCK_ID 0x1234abcdu
static const uint8_t mf_rand[16] = {0x43, 0x39, 0xF6, 0x2F, 0x55, 0xAA, 0xC8, 0x63,
                                    0x48, 0x84, 0x6A, 0x48, 0x2C, 0x89, 0x38, 0x02};

typedef struct mf_kms {
  uint8_t ksak[32];
  uint8_t z[128];
  prose_kms_cert cert;
} mf_kms;

typedef struct mf_user {
  const char *uri;
  uint8_t uid[32];
  prose_keyset ks;
  prose_eccsi_signer *signer; /* the same SSK, for tests that re-sign */
  prose_keyring *kr;
} mf_user;

static inline int mf_kms_init(mf_kms *k, uint64_t seed) {
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, seed);
  memset(k, 0, sizeof *k);
  k->cert.uri = MF_KMS;
  k->cert.period = MF_PERIOD;
  k->cert.offset = 0;
  int rc = prose_eccsi_kms_keygen(&rng, k->ksak, k->cert.kpak);
  if (rc == 0) rc = prose_sakke_kms_keygen(&rng, k->z, k->cert.z);
  return rc;
}

/* Issue the user's key set for period_no as the KMS would (RFC 6507 §5.1.1,
 * RFC 6508 §6.1.1) and build a keyring holding it (when with_keyring). */
static inline int mf_user_init(mf_user *u, const mf_kms *k, const char *uri, uint64_t seed,
                               const prose_keyring_settings *s, int with_keyring) {
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, seed);
  memset(u, 0, sizeof *u);
  u->uri = uri;
  u->ks.kms_uri = MF_KMS;
  u->ks.period_no = MF_PERIOD_NO;
  int rc = prose_uid(uri, MF_KMS, MF_PERIOD, 0, MF_PERIOD_NO, u->uid);
  if (rc == 0) rc = prose_eccsi_issue(&rng, k->ksak, u->uid, 32, u->ks.ssk, u->ks.pvt);
  if (rc == 0) rc = prose_sakke_issue_rsk(k->z, sizeof k->z, u->uid, 32, u->ks.rsk);
  if (rc == 0)
    rc = prose_eccsi_signer_new(&u->signer, k->cert.kpak, u->uid, 32, u->ks.ssk, u->ks.pvt);
  if (rc || !with_keyring) return rc;
  rc = prose_keyring_new(&u->kr, uri, s);
  if (rc == 0) rc = prose_keyring_add_kms(u->kr, &k->cert);
  if (rc == 0) rc = prose_keyring_add_keyset(u->kr, &u->ks);
  return rc;
}

static inline void mf_user_free(mf_user *u) {
  prose_keyring_free(u->kr);
  prose_eccsi_signer_free(u->signer);
  prose_wipe(u, sizeof *u);
}

/* Parameters for a GMK from the GMS to `to` with the shared RAND. */
static inline void mf_gmk_params(prose_mikey_create_params *p, const char *to) {
  prose_mikey_create_default(p);
  p->kind = PROSE_MIKEY_GMK;
  p->key_id = MF_GMK_ID;
  p->key = mf_gmk;
  p->responder_uri = to;
  p->responder_kms = MF_KMS;
  p->t = MF_T(MF_NOW);
  p->rand = mf_rand;
  p->rand_len = sizeof mf_rand;
}

static inline void mf_pck_params(prose_mikey_create_params *p, const char *to) {
  prose_mikey_create_default(p);
  p->kind = PROSE_MIKEY_PCK;
  p->key_id = MF_PCK_ID;
  p->key = mf_pck;
  p->responder_uri = to;
  p->responder_kms = MF_KMS;
  p->t = MF_T(MF_NOW);
}

/* Re-sign a message in place (after a test changed it): RFC form, or the
 * variant that stops before the SIGN payload. */
static inline int mf_resign(uint8_t *msg, size_t len, const prose_eccsi_signer *s, int variant) {
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, 99);
  if (len < PROSE_ECCSI_SIG_LEN + 2) return PROSE_EINVAL;
  size_t sign_off = len - PROSE_ECCSI_SIG_LEN - 2;
  return prose_eccsi_sign(s, &rng, msg, variant ? sign_off : sign_off + 2,
                          msg + len - PROSE_ECCSI_SIG_LEN);
}

#endif
