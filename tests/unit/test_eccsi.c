/*
 * Tests of crypto/src/eccsi.c: the RFC 6507 Appendix A vector (vectors.txt
 * §1) value by value, random round trips with the deterministic RNG, and
 * every rejection path with its specific error code.
 */
#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/src/eccsi_internal.h"
#include "prose/eccsi.h"
#include "prose/err.h"
#include "prose/rng.h"
#include "prose/util.h"
#include "testsupport.h"

/* vectors.txt §1 (RFC 6507 Appendix A). */
static const char KSAK[] = "0000000000000000000000000000000000000000000000000000000000012345";
static const char KPAK[] =
    "0450D4670BDE75244F28D2838A0D25558A7A72686D4522D4C8273FB6442AEBFA"
    "93DBDD37551AFD263B5DFD617F3960C65A8C298850FF99F20366DCE7D4367217F4";
/* "2011-02\0tel:+447700900123\0": 26 octets (vectors.txt says 27, but its hex has 26). */
static const char ID[] = "323031312D30320074656C3A2B34343737303039303031323300";
static const char V[] = "0000000000000000000000000000000000000000000000000000000000023456";
static const char PVT[] =
    "04758A142779BE89E829E71984CB40EF758CC4AD775FC5B9A3E1C8ED52F6FA36"
    "D9A79D247692F4EDA3A6BDAB77D6AA6474A464AE4934663C5265BA7018BA091F79";
static const char HS[] = "490F3FEBBC1C902F6289723D7F8CBF79DB88930849D19F38F0295B5C276C14D1";
static const char SSK[] = "23F374AE1F4033F3E9DBDDAAEF20F4CF0B86BBD5A138A5AE9E7E006B34489A0D";
static const char MSG[] = "6D65737361676500";
static const char J[] = "0000000000000000000000000000000000000000000000000000000000034567";
static const char SIG[] =
    "269D4C8FDEB66A74E4EF8C0D5DCC597DDFE6029C2AFFC4936008CD2CC1045D81"
    "E09B528D0EF8D6DF1AA3ECBF80110CFCEC9FC68252CEBB679F4134846940CCFD"
    "04758A142779BE89E829E71984CB40EF758CC4AD775FC5B9A3E1C8ED52F6FA36"
    "D9A79D247692F4EDA3A6BDAB77D6AA6474A464AE4934663C5265BA7018BA091F79";
static const char Y[] =
    "04833898D939C0013BB05027286F95CCE037C11BD25799423C76E48362A49599"
    "7895D0473A1CD6186EE9F0C104B472499E1A24D6CE3D85173F02EBBD945C25F604";
static const char G[] =
    "046B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296"
    "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5";
static const char Q[] = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";
static const char P[] = "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF";

/* The whole Appendix A data set, decoded. */
typedef struct vec {
  uint8_t ksak[32], kpak[65], id[26], v[32], pvt[65], hs[32], ssk[32], msg[8], j[32], sig[129];
  uint8_t y[65], g[65], q[32], p[32];
} vec;

static void load(vec *x) {
  ts_hex_into(KSAK, x->ksak, 32);
  ts_hex_into(KPAK, x->kpak, 65);
  ts_hex_into(ID, x->id, sizeof x->id);
  ts_hex_into(V, x->v, 32);
  ts_hex_into(PVT, x->pvt, 65);
  ts_hex_into(HS, x->hs, 32);
  ts_hex_into(SSK, x->ssk, 32);
  ts_hex_into(MSG, x->msg, sizeof x->msg);
  ts_hex_into(J, x->j, 32);
  ts_hex_into(SIG, x->sig, 129);
  ts_hex_into(Y, x->y, 65);
  ts_hex_into(G, x->g, 65);
  ts_hex_into(Q, x->q, 32);
  ts_hex_into(P, x->p, 32);
}

static void expect_bytes(const uint8_t *got, const uint8_t *want, size_t n, const char *what) {
  char *g = malloc(2 * n + 1), *w = malloc(2 * n + 1);
  cr_assert(g && w);
  prose_hex_encode(got, n, g);
  prose_hex_encode(want, n, w);
  cr_expect(memcmp(got, want, n) == 0, "%s: got %s, want %s", what, g, w);
  free(g);
  free(w);
}

static void expect_rc(int got, int want, const char *what, size_t case_no) {
  cr_expect_eq(got, want, "case %zu (%s): got %s, want %s", case_no, what, prose_err_name(got),
               prose_err_name(want));
}

static void stats(const prose_eccsi_verifier *v, uint64_t *hits, uint64_t *misses) {
  prose__eccsi_verifier_stats(v, hits, misses);
}

Test(eccsi, rfc6507_appendix_a) {
  vec x;
  load(&x);
  uint8_t kpak[65], pvt[65], ssk[32], hs[32], sig[129], y[65];

  /* §4.2: KPAK = [KSAK]G. */
  cr_assert_eq(prose_eccsi_kpak_from_ksak(x.ksak, kpak), 0);
  expect_bytes(kpak, x.kpak, 65, "KPAK");
  /* §5.1.1: PVT = [v]G, SSK = KSAK + HS*v. */
  cr_assert_eq(prose_eccsi_issue_with_v(x.ksak, x.v, x.id, sizeof x.id, ssk, pvt), 0);
  expect_bytes(pvt, x.pvt, 65, "PVT");
  expect_bytes(ssk, x.ssk, 32, "SSK");
  cr_assert_eq(prose_eccsi_hs(x.kpak, x.id, sizeof x.id, x.pvt, hs), 0);
  expect_bytes(hs, x.hs, 32, "HS");

  /* §5.1.2 validation, then §5.2.1 with j = 0x34567. */
  prose_eccsi_signer *s = NULL;
  cr_assert_eq(prose_eccsi_signer_new(&s, x.kpak, x.id, sizeof x.id, x.ssk, x.pvt), 0);
  cr_assert_eq(prose_eccsi_sign_with_j(s, x.j, x.msg, sizeof x.msg, sig), 0);
  expect_bytes(sig, x.sig, 129, "SIG");

  /* §5.2.2: the first verify computes Y and caches it; the second hits. */
  prose_eccsi_verifier *v = NULL;
  uint64_t hits = 9, misses = 9;
  cr_assert_eq(prose_eccsi_verifier_new(&v, x.kpak), 0);
  cr_expect_eq(prose__eccsi_verifier_peek_y(v, x.id, sizeof x.id, x.pvt, y), PROSE_ENOENT);
  cr_expect_eq(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, x.sig, 129), 0);
  stats(v, &hits, &misses);
  cr_expect(hits == 0 && misses == 1, "after first verify: hits %llu misses %llu",
            (unsigned long long)hits, (unsigned long long)misses);
  cr_assert_eq(prose__eccsi_verifier_peek_y(v, x.id, sizeof x.id, x.pvt, y), 0);
  expect_bytes(y, x.y, 65, "Y");
  cr_expect_eq(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, x.sig, 129), 0);
  stats(v, &hits, &misses);
  cr_expect(hits == 1 && misses == 1, "after second verify: hits %llu misses %llu",
            (unsigned long long)hits, (unsigned long long)misses);

  /* A fresh random signature by the same key set verifies too (cache hit). */
  prose_rng_det det;
  prose_rng rng = prose_rng_det_init(&det, 6507);
  cr_assert_eq(prose_eccsi_sign(s, &rng, x.msg, sizeof x.msg, sig), 0);
  cr_expect(memcmp(sig, x.sig, 32) != 0, "a random j gave the vector's r");
  cr_expect(memcmp(sig + 64, x.pvt, 65) == 0, "the signature carries the PVT");
  cr_expect_eq(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, sig, 129), 0);

  /* Every valid encoding passes the point check. */
  cr_expect_eq(prose_eccsi_point_check(x.g), 0);
  cr_expect_eq(prose_eccsi_point_check(x.kpak), 0);
  cr_expect_eq(prose_eccsi_point_check(x.pvt), 0);
  cr_expect_eq(prose_eccsi_point_check(x.y), 0);

  prose_eccsi_verifier_free(v);
  prose_eccsi_signer_free(s);
  prose_eccsi_signer_free(NULL);
  prose_eccsi_verifier_free(NULL);
}

/* One user of a KMS: a 32-octet identifier (like a 33.179 UID) and its keys. */
typedef struct user {
  uint8_t id[32];
  uint8_t ssk[32], pvt[65];
  prose_eccsi_signer *s;
} user;

#define USERS (PROSE__ECCSI_YCACHE_SLOTS + 4)

Test(eccsi, random_round_trips) {
  prose_rng_det det;
  prose_rng rng = prose_rng_det_init(&det, 0xEC5151);
  uint8_t ksak[32], kpak[65];
  cr_assert_eq(prose_eccsi_kms_keygen(&rng, ksak, kpak), 0);
  cr_assert_eq(prose_eccsi_point_check(kpak), 0);

  /* More users than cache slots, so the second pass also exercises eviction. */
  static user users[USERS];
  for (size_t i = 0; i < USERS; i++) {
    user *u = &users[i];
    cr_assert_eq(prose_rng_fill(&rng, u->id, sizeof u->id), 0);
    int rc = prose_eccsi_issue(&rng, ksak, u->id, sizeof u->id, u->ssk, u->pvt);
    cr_assert_eq(rc, 0, "user %zu: issue %s", i, prose_err_name(rc));
    rc = prose_eccsi_signer_new(&u->s, kpak, u->id, sizeof u->id, u->ssk, u->pvt);
    cr_assert_eq(rc, 0, "user %zu: signer_new %s", i, prose_err_name(rc));
  }
  prose_eccsi_verifier *v = NULL;
  cr_assert_eq(prose_eccsi_verifier_new(&v, kpak), 0);
  uint8_t msg[300];
  cr_assert_eq(prose_rng_fill(&rng, msg, sizeof msg), 0);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < USERS; i++) {
      uint8_t sig[129];
      size_t len = (i * 37) % sizeof msg; /* includes the empty message */
      int rc = prose_eccsi_sign(users[i].s, &rng, msg, len, sig);
      cr_assert_eq(rc, 0, "pass %d user %zu: sign %s", pass, i, prose_err_name(rc));
      rc = prose_eccsi_verify(v, users[i].id, sizeof users[i].id, msg, len, sig, sizeof sig);
      cr_expect_eq(rc, 0, "pass %d user %zu: verify %s", pass, i, prose_err_name(rc));
      /* Verified at once again: always a cache hit. */
      rc = prose_eccsi_verify(v, users[i].id, sizeof users[i].id, msg, len, sig, sizeof sig);
      cr_expect_eq(rc, 0, "pass %d user %zu: re-verify %s", pass, i, prose_err_name(rc));
    }
  }
  uint64_t hits = 0, misses = 0;
  stats(v, &hits, &misses);
  /* With LRU and users visited in order, every first verify misses. */
  cr_expect(hits == 2 * USERS && misses == 2 * USERS, "hits %llu misses %llu",
            (unsigned long long)hits, (unsigned long long)misses);

  /* The last PROSE__ECCSI_YCACHE_SLOTS users are cached, the first ones evicted. */
  uint8_t y[65];
  cr_expect_eq(prose__eccsi_verifier_peek_y(v, users[0].id, 32, users[0].pvt, y), PROSE_ENOENT);
  cr_expect_eq(prose__eccsi_verifier_peek_y(v, users[USERS - 1].id, 32, users[USERS - 1].pvt, y), 0);

  /* The same seed gives the same keys and signatures; a new j a new signature. */
  prose_rng_det d1, d2;
  prose_rng r1 = prose_rng_det_init(&d1, 42), r2 = prose_rng_det_init(&d2, 42);
  uint8_t s1[129], s2[129], s3[129];
  cr_assert_eq(prose_eccsi_sign(users[0].s, &r1, msg, 10, s1), 0);
  cr_assert_eq(prose_eccsi_sign(users[0].s, &r2, msg, 10, s2), 0);
  cr_assert_eq(prose_eccsi_sign(users[0].s, &r2, msg, 10, s3), 0);
  cr_expect(memcmp(s1, s2, 129) == 0, "same seed, different signature");
  cr_expect(memcmp(s2, s3, 64) != 0, "fresh j, same (r, s)");
  cr_expect_eq(prose_eccsi_verify(v, users[0].id, 32, msg, 10, s3, 129), 0);

  /* An empty identifier and a NULL empty message are valid inputs. */
  uint8_t ssk[32], pvt[65], sig[129];
  prose_eccsi_signer *e = NULL;
  cr_assert_eq(prose_eccsi_issue(&rng, ksak, NULL, 0, ssk, pvt), 0);
  cr_assert_eq(prose_eccsi_signer_new(&e, kpak, NULL, 0, ssk, pvt), 0);
  cr_assert_eq(prose_eccsi_sign(e, &rng, NULL, 0, sig), 0);
  cr_expect_eq(prose_eccsi_verify(v, NULL, 0, NULL, 0, sig, 129), 0);
  cr_expect_eq(prose_eccsi_verify(v, NULL, 0, NULL, 0, sig, 129), 0);
  cr_expect_eq(prose_eccsi_verify(v, users[0].id, 32, NULL, 0, sig, 129), PROSE_ESIG);
  prose_eccsi_signer_free(e);

  for (size_t i = 0; i < USERS; i++) prose_eccsi_signer_free(users[i].s);
  prose_eccsi_verifier_free(v);
  prose_wipe(ksak, sizeof ksak);
}

/* -y mod p for the point encoding pt, in place: (x, p - y) is the negation,
 * which is on the curve but is another point. */
static void negate_point(uint8_t pt[65], const uint8_t p[32]) {
  BIGNUM *bp = BN_bin2bn(p, 32, NULL), *by = BN_bin2bn(pt + 33, 32, NULL);
  cr_assert(bp && by && BN_sub(by, bp, by) == 1 && BN_bn2binpad(by, pt + 33, 32) == 32);
  BN_free(bp);
  BN_free(by);
}

Test(eccsi, verify_rejects_tampering) {
  vec x;
  load(&x);
  prose_eccsi_verifier *v = NULL;
  cr_assert_eq(prose_eccsi_verifier_new(&v, x.kpak), 0);
  /* Cache (ID, PVT) first, so the r/s/message cases also run on the hit path. */
  cr_assert_eq(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, x.sig, 129), 0);

  /* Single-bit flips and substitutions in the signature. */
  static const struct {
    size_t octet;
    uint8_t mask;
    int want;
    const char *what;
  } flips[] = {
      {0, 0x01, PROSE_ESIG, "r, first octet"},
      {31, 0x80, PROSE_ESIG, "r, last octet"},
      {32, 0x04, PROSE_ESIG, "s, first octet"},
      {63, 0x01, PROSE_ESIG, "s, last octet"},
      {64, 0x01, PROSE_EPOINT, "PVT prefix 04 -> 05"},
      {64, 0x06, PROSE_EPOINT, "PVT prefix 04 -> 02 (compressed)"},
      {70, 0x10, PROSE_EPOINT, "PVT x"},
      {128, 0x01, PROSE_EPOINT, "PVT y"},
      {64, 0x04, PROSE_EPOINT, "PVT prefix 04 -> 00"},
  };
  for (size_t i = 0; i < PROSE_ARRAY_LEN(flips); i++) {
    uint8_t sig[129];
    memcpy(sig, x.sig, sizeof sig);
    sig[flips[i].octet] ^= flips[i].mask;
    int rc = prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, sig, sizeof sig);
    expect_rc(rc, flips[i].want, flips[i].what, i + 1);
  }

  /* A flipped bit in the message; a wrong (but well-formed) ID. */
  uint8_t msg[8], id[26];
  memcpy(msg, x.msg, sizeof msg);
  msg[3] ^= 0x20;
  expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id, msg, sizeof msg, x.sig, 129), PROSE_ESIG,
            "message", 1);
  expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg - 1, x.sig, 129), PROSE_ESIG,
            "truncated message", 2);
  memcpy(id, x.id, sizeof id);
  id[5] ^= 0x01; /* "2011-03" */
  expect_rc(prose_eccsi_verify(v, id, sizeof id, x.msg, sizeof x.msg, x.sig, 129), PROSE_ESIG,
            "wrong ID", 3);
  expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id - 1, x.msg, sizeof x.msg, x.sig, 129), PROSE_ESIG,
            "ID without its last NUL", 4);
  uint8_t yy[65];
  cr_expect_eq(prose__eccsi_verifier_peek_y(v, id, sizeof id, x.pvt, yy), PROSE_ENOENT,
               "a failed verify must not enter the cache");

  /* The negated PVT is a valid point, but not the signer's. */
  uint8_t sig[129];
  memcpy(sig, x.sig, sizeof sig);
  negate_point(sig + 64, x.p);
  cr_assert_eq(prose_eccsi_point_check(sig + 64), 0);
  expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, sig, 129), PROSE_ESIG,
            "negated PVT", 5);

  /* r or s equal to 0, q, or all ones are out of range. */
  static const char *const bad_scalars[] = {
      "0000000000000000000000000000000000000000000000000000000000000000", Q,
      "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"};
  for (size_t i = 0; i < PROSE_ARRAY_LEN(bad_scalars); i++) {
    for (size_t half = 0; half < 2; half++) {
      memcpy(sig, x.sig, sizeof sig);
      ts_hex_into(bad_scalars[i], sig + 32 * half, 32);
      expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, sig, 129), PROSE_ESIG,
                half ? "s out of range" : "r out of range", 10 + i);
    }
  }

  /* Wrong lengths and missing arguments. */
  uint8_t longer[130] = {0};
  memcpy(longer, x.sig, 129);
  expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, x.sig, 128), PROSE_ELEN,
            "128 octets", 20);
  expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, longer, 130), PROSE_ELEN,
            "130 octets", 21);
  expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, x.sig, 0), PROSE_ELEN,
            "0 octets", 22);
  expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, NULL, 129), PROSE_EINVAL,
            "NULL signature", 23);
  expect_rc(prose_eccsi_verify(NULL, x.id, sizeof x.id, x.msg, sizeof x.msg, x.sig, 129),
            PROSE_EINVAL, "NULL verifier", 24);
  expect_rc(prose_eccsi_verify(v, NULL, 4, x.msg, sizeof x.msg, x.sig, 129), PROSE_EINVAL,
            "NULL ID", 25);

  /* A key set of another KMS, for the same ID, signing the same message. */
  prose_rng_det det;
  prose_rng rng = prose_rng_det_init(&det, 2);
  uint8_t ksak2[32], kpak2[65], ssk2[32], pvt2[65];
  prose_eccsi_signer *other = NULL;
  cr_assert_eq(prose_eccsi_kms_keygen(&rng, ksak2, kpak2), 0);
  cr_assert_eq(prose_eccsi_issue(&rng, ksak2, x.id, sizeof x.id, ssk2, pvt2), 0);
  cr_assert_eq(prose_eccsi_signer_new(&other, kpak2, x.id, sizeof x.id, ssk2, pvt2), 0);
  cr_assert_eq(prose_eccsi_sign(other, &rng, x.msg, sizeof x.msg, sig), 0);
  expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, sig, 129), PROSE_ESIG,
            "other KMS", 30);
  prose_eccsi_verifier *v2 = NULL;
  cr_assert_eq(prose_eccsi_verifier_new(&v2, kpak2), 0);
  expect_rc(prose_eccsi_verify(v2, x.id, sizeof x.id, x.msg, sizeof x.msg, sig, 129), 0,
            "other KMS, its own verifier", 31);
  expect_rc(prose_eccsi_verify(v2, x.id, sizeof x.id, x.msg, sizeof x.msg, x.sig, 129), PROSE_ESIG,
            "vector signature, other KMS's verifier", 32);

  /* The untouched signature still verifies after all of that. */
  expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, x.sig, 129), 0,
            "original", 40);

  prose_eccsi_signer_free(other);
  prose_eccsi_verifier_free(v2);
  prose_eccsi_verifier_free(v);
}

Test(eccsi, key_validation_errors) {
  vec x;
  load(&x);
  static const uint8_t zero[32] = {0};
  uint8_t q_minus_1[32], kpak[65], ssk[32], pvt[65], sig[129];
  memcpy(q_minus_1, x.q, 32);
  q_minus_1[31]--;
  prose_eccsi_signer *s = NULL;
  prose_eccsi_verifier *v = NULL;

  /* Scalars: 0 and q are out of range, q - 1 is fine. */
  expect_rc(prose_eccsi_kpak_from_ksak(zero, kpak), PROSE_ERANGE, "KSAK 0", 1);
  expect_rc(prose_eccsi_kpak_from_ksak(x.q, kpak), PROSE_ERANGE, "KSAK q", 2);
  expect_rc(prose_eccsi_kpak_from_ksak(q_minus_1, kpak), 0, "KSAK q-1", 3);
  expect_rc(prose_eccsi_issue_with_v(x.ksak, zero, x.id, sizeof x.id, ssk, pvt), PROSE_ERANGE,
            "v 0", 4);
  expect_rc(prose_eccsi_issue_with_v(x.ksak, x.q, x.id, sizeof x.id, ssk, pvt), PROSE_ERANGE, "v q",
            5);
  expect_rc(prose_eccsi_issue_with_v(x.q, x.v, x.id, sizeof x.id, ssk, pvt), PROSE_ERANGE, "KSAK q",
            6);
  prose_rng_det det;
  prose_rng rng = prose_rng_det_init(&det, 3);
  expect_rc(prose_eccsi_issue(&rng, zero, x.id, sizeof x.id, ssk, pvt), PROSE_ERANGE, "issue KSAK 0",
            7);

  /* signer_new: the §5.1.2 check and each malformed input. */
  uint8_t bad[65];
  memcpy(ssk, x.ssk, 32);
  ssk[31] ^= 0x01;
  expect_rc(prose_eccsi_signer_new(&s, x.kpak, x.id, sizeof x.id, ssk, x.pvt), PROSE_EKEY_INVALID,
            "SSK does not match PVT", 10);
  cr_expect_null(s);
  expect_rc(prose_eccsi_signer_new(&s, x.kpak, x.id, sizeof x.id - 1, x.ssk, x.pvt),
            PROSE_EKEY_INVALID, "wrong ID", 11);
  expect_rc(prose_eccsi_signer_new(&s, x.y, x.id, sizeof x.id, x.ssk, x.pvt), PROSE_EKEY_INVALID,
            "another KPAK", 12);
  expect_rc(prose_eccsi_signer_new(&s, x.kpak, x.id, sizeof x.id, zero, x.pvt), PROSE_ERANGE,
            "SSK 0", 13);
  expect_rc(prose_eccsi_signer_new(&s, x.kpak, x.id, sizeof x.id, x.q, x.pvt), PROSE_ERANGE, "SSK q",
            14);
  memcpy(bad, x.kpak, 65);
  bad[64] ^= 0x01;
  expect_rc(prose_eccsi_signer_new(&s, bad, x.id, sizeof x.id, x.ssk, x.pvt), PROSE_EPOINT,
            "KPAK off the curve", 15);
  expect_rc(prose_eccsi_verifier_new(&v, bad), PROSE_EPOINT, "verifier, KPAK off the curve", 16);
  cr_expect_null(v);
  expect_rc(prose_eccsi_point_check(bad), PROSE_EPOINT, "KPAK off the curve", 17);
  memcpy(bad, x.pvt, 65);
  bad[40] ^= 0x08;
  expect_rc(prose_eccsi_signer_new(&s, x.kpak, x.id, sizeof x.id, x.ssk, bad), PROSE_EPOINT,
            "PVT off the curve", 18);
  expect_rc(prose_eccsi_point_check(bad), PROSE_EPOINT, "PVT off the curve", 19);
  memset(bad, 0, 65);
  expect_rc(prose_eccsi_signer_new(&s, x.kpak, x.id, sizeof x.id, x.ssk, bad), PROSE_EPOINT,
            "PVT all zero", 20);
  expect_rc(prose_eccsi_point_check(bad), PROSE_EPOINT, "all zero", 21);
  bad[0] = 0x04;
  expect_rc(prose_eccsi_point_check(bad), PROSE_EPOINT, "04 || 0 || 0", 22);
  /* x = p is not a field element, even though (x - p, y) = (0, y) is the
   * point reduced mod p. */
  memcpy(bad, x.g, 65);
  memcpy(bad + 1, x.p, 32);
  expect_rc(prose_eccsi_point_check(bad), PROSE_EPOINT, "x = p", 23);
  memcpy(bad, x.g, 65);
  bad[0] = 0x03;
  expect_rc(prose_eccsi_point_check(bad), PROSE_EPOINT, "prefix 03", 24);

  /* sign_with_j: j must be in [1, q). */
  cr_assert_eq(prose_eccsi_signer_new(&s, x.kpak, x.id, sizeof x.id, x.ssk, x.pvt), 0);
  memset(sig, 0x5A, sizeof sig);
  expect_rc(prose_eccsi_sign_with_j(s, zero, x.msg, sizeof x.msg, sig), PROSE_ERANGE, "j 0", 30);
  expect_rc(prose_eccsi_sign_with_j(s, x.q, x.msg, sizeof x.msg, sig), PROSE_ERANGE, "j q", 31);
  cr_expect(sig[0] == 0x5A && sig[128] == 0x5A, "a failed sign wrote the output");
  expect_rc(prose_eccsi_sign_with_j(s, q_minus_1, x.msg, sizeof x.msg, sig), 0, "j q-1", 32);
  cr_assert_eq(prose_eccsi_verifier_new(&v, x.kpak), 0);
  expect_rc(prose_eccsi_verify(v, x.id, sizeof x.id, x.msg, sizeof x.msg, sig, 129), 0,
            "j q-1 verifies", 33);

  /* Missing arguments. */
  expect_rc(prose_eccsi_signer_new(NULL, x.kpak, x.id, sizeof x.id, x.ssk, x.pvt), PROSE_EINVAL,
            "NULL out", 40);
  expect_rc(prose_eccsi_signer_new(&s, x.kpak, NULL, 3, x.ssk, x.pvt), PROSE_EINVAL, "NULL ID", 41);
  expect_rc(prose_eccsi_sign(s, NULL, x.msg, sizeof x.msg, sig), PROSE_EINVAL, "NULL rng", 42);
  expect_rc(prose_eccsi_sign(s, &rng, NULL, 5, sig), PROSE_EINVAL, "NULL message", 43);
  expect_rc(prose_eccsi_kpak_from_ksak(NULL, kpak), PROSE_EINVAL, "NULL KSAK", 44);
  expect_rc(prose_eccsi_hs(x.kpak, NULL, 1, x.pvt, ssk), PROSE_EINVAL, "NULL ID", 45);
  expect_rc(prose_eccsi_point_check(NULL), PROSE_EINVAL, "NULL point", 46);
  expect_rc(prose_eccsi_verifier_new(NULL, x.kpak), PROSE_EINVAL, "NULL out", 47);

  prose_eccsi_signer_free(s);
  prose_eccsi_verifier_free(v);
}

/* An RNG that plays back a fixed script, then fails. */
typedef struct script {
  const uint8_t *data;
  size_t len, off;
} script;

static int script_fill(void *ctx, uint8_t *buf, size_t len) {
  script *sc = ctx;
  if (sc->len - sc->off < len) return PROSE_ERNG;
  memcpy(buf, sc->data + sc->off, len);
  sc->off += len;
  return 0;
}

static int zero_fill(void *ctx, uint8_t *buf, size_t len) {
  (void)ctx;
  memset(buf, 0, len);
  return 0;
}

Test(eccsi, rng_rejection_and_failure) {
  vec x;
  load(&x);
  prose_eccsi_signer *s = NULL;
  cr_assert_eq(prose_eccsi_signer_new(&s, x.kpak, x.id, sizeof x.id, x.ssk, x.pvt), 0);

  /* Rejection sampling: all-ones (>= q), then q, then 0 are drawn and
   * rejected, and the fourth draw (j = 0x34567) reproduces the vector. */
  uint8_t data[4 * 32];
  memset(data, 0xFF, 32);
  memcpy(data + 32, x.q, 32);
  memset(data + 64, 0, 32);
  memcpy(data + 96, x.j, 32);
  script sc = {data, sizeof data, 0};
  prose_rng scripted = {script_fill, &sc};
  uint8_t sig[129];
  cr_assert_eq(prose_eccsi_sign(s, &scripted, x.msg, sizeof x.msg, sig), 0);
  expect_bytes(sig, x.sig, 129, "SIG after rejected draws");
  cr_expect_eq(sc.off, sizeof data, "draws consumed: %zu", sc.off);

  /* The same script as a KSAK gives the vector's KPAK when j is replaced by KSAK. */
  memcpy(data + 96, x.ksak, 32);
  sc.off = 0;
  uint8_t ksak[32], kpak[65];
  cr_assert_eq(prose_eccsi_kms_keygen(&scripted, ksak, kpak), 0);
  expect_bytes(kpak, x.kpak, 65, "KPAK after rejected draws");
  /* Issue with v drawn the same way gives the vector's PVT and SSK. */
  memcpy(data + 96, x.v, 32);
  sc.off = 0;
  uint8_t ssk[32], pvt[65];
  cr_assert_eq(prose_eccsi_issue(&scripted, x.ksak, x.id, sizeof x.id, ssk, pvt), 0);
  expect_bytes(ssk, x.ssk, 32, "SSK after rejected draws");
  expect_bytes(pvt, x.pvt, 65, "PVT after rejected draws");

  /* A generator that fails, or only ever yields 0, gives PROSE_ERNG and
   * leaves no secret behind. */
  sc.off = sc.len;
  memset(sig, 0x5A, sizeof sig);
  expect_rc(prose_eccsi_sign(s, &scripted, x.msg, sizeof x.msg, sig), PROSE_ERNG, "failing RNG", 1);
  cr_expect(sig[0] == 0x5A, "a failed sign wrote the output");
  expect_rc(prose_eccsi_kms_keygen(&scripted, ksak, kpak), PROSE_ERNG, "failing RNG keygen", 2);
  expect_rc(prose_eccsi_issue(&scripted, x.ksak, x.id, sizeof x.id, ssk, pvt), PROSE_ERNG,
            "failing RNG issue", 3);
  prose_rng zeros = {zero_fill, NULL};
  expect_rc(prose_eccsi_sign(s, &zeros, x.msg, sizeof x.msg, sig), PROSE_ERNG, "zero RNG", 4);
  memset(ksak, 0x77, sizeof ksak);
  expect_rc(prose_eccsi_kms_keygen(&zeros, ksak, kpak), PROSE_ERNG, "zero RNG keygen", 5);
  for (size_t i = 0; i < sizeof ksak; i++) cr_expect_eq(ksak[i], 0, "KSAK octet %zu not wiped", i);

  prose_eccsi_signer_free(s);
}
