/*
 * Discovery announcement codec and the keyring's sign/verify additions.
 *
 * Engine behaviour (several nodes, expiry, rejections, the table bound) is
 * in test_discovery_engine.c.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "prose/buf.h"
#include "prose/discovery.h"
#include "prose/err.h"
#include "test_discovery_fixture.h"

/* An announcement with every field at its largest. */
static void max_ann(prose_disc_ann *a) {
  memset(a, 0, sizeof *a);
  memset(a->mcptt_id, 'm', PROSE_DISC_URI_MAX);
  memset(a->kms_uri, 'k', PROSE_DISC_URI_MAX);
  a->period_no = 0xfedcba98u;
  a->timestamp = 0x0123456789abcdefull;
  a->seq = 0xffffffffu;
  a->ttl_ms = 0x80000001u;
  a->has_ipv4 = true;
  memcpy(a->ipv4, (uint8_t[]){192, 0, 2, 7}, 4);
  a->has_ipv6 = true;
  for (int i = 0; i < 16; i++) a->ipv6[i] = (uint8_t)(0xf0 + i);
  a->call_port = 8809;
  a->n_ports = PROSE_DISC_MAX_PORTS;
  for (size_t i = 0; i < a->n_ports; i++)
    a->ports[i] = (prose_disc_port){(uint8_t)(i + 1), (uint16_t)(20000 + i)};
  a->caps = 0xffffffffu;
  a->ext_len = PROSE_DISC_EXT_MAX;
  for (size_t i = 0; i < a->ext_len; i++) a->ext[i] = (uint8_t)i;
  for (size_t i = 0; i < sizeof a->sig; i++) a->sig[i] = (uint8_t)(0xa5 ^ i);
}

static void min_ann(prose_disc_ann *a) {
  memset(a, 0, sizeof *a);
  a->mcptt_id[0] = 'a';
  a->kms_uri[0] = 'k';
  a->has_ipv4 = true;
  a->call_port = 1;
}

static void assert_same(const prose_disc_ann *a, const prose_disc_ann *b, const char *what) {
  cr_assert_str_eq(a->mcptt_id, b->mcptt_id, "%s", what);
  cr_assert_str_eq(a->kms_uri, b->kms_uri, "%s", what);
  cr_assert(a->period_no == b->period_no && a->timestamp == b->timestamp && a->seq == b->seq &&
                a->ttl_ms == b->ttl_ms && a->caps == b->caps,
            "%s: numbers", what);
  cr_assert(a->has_ipv4 == b->has_ipv4 && a->has_ipv6 == b->has_ipv6, "%s", what);
  if (a->has_ipv4) cr_assert_arr_eq(a->ipv4, b->ipv4, 4, "%s", what);
  if (a->has_ipv6) cr_assert_arr_eq(a->ipv6, b->ipv6, 16, "%s", what);
  cr_assert(a->call_port == b->call_port && a->n_ports == b->n_ports, "%s: ports", what);
  for (size_t i = 0; i < a->n_ports; i++)
    cr_assert(a->ports[i].kind == b->ports[i].kind && a->ports[i].port == b->ports[i].port,
              "%s: port %zu", what, i);
  cr_assert_eq(a->ext_len, b->ext_len, "%s", what);
  cr_assert_arr_eq(a->ext, b->ext, a->ext_len, "%s", what);
  cr_assert_arr_eq(a->sig, b->sig, sizeof a->sig, "%s", what);
}

/* ------------------------------------------------------------------------ */

Test(disc_codec, round_trip_and_encoder_bounds) {
  uint8_t buf[PROSE_DISC_MAX_LEN + 8];
  prose_disc_ann a, b;
  size_t len = 0, need = 0;

  /* Largest: exactly PROSE_DISC_MAX_LEN, and the size query agrees. */
  max_ann(&a);
  cr_assert_eq(prose_disc_ann_encode(&a, NULL, 0, &need), 0);
  cr_assert_eq(need, PROSE_DISC_MAX_LEN);
  cr_assert_eq(prose_disc_ann_encode(&a, buf, sizeof buf, &len), 0);
  cr_assert_eq(len, PROSE_DISC_MAX_LEN);
  cr_assert_arr_eq(buf, "PRSD\x01", 5);
  cr_assert_eq(prose_disc_ann_decode(buf, len, &b), 0);
  assert_same(&a, &b, "max");
  cr_assert_eq(prose_disc_ann_encode(&a, buf, len - 1, &len), PROSE_EBUFSZ);

  /* Smallest: PROSE_DISC_MIN_LEN. Then IPv6 only, and a typical one. */
  min_ann(&a);
  cr_assert_eq(prose_disc_ann_encode(&a, buf, sizeof buf, &len), 0);
  cr_assert_eq(len, PROSE_DISC_MIN_LEN);
  cr_assert_eq(prose_disc_ann_decode(buf, len, &b), 0);
  assert_same(&a, &b, "min");
  a.has_ipv4 = false;
  a.has_ipv6 = true;
  a.ipv6[15] = 1;
  cr_assert_eq(prose_disc_ann_encode(&a, buf, sizeof buf, &len), 0);
  cr_assert_eq(len, PROSE_DISC_MIN_LEN + 12);
  cr_assert_eq(prose_disc_ann_decode(buf, len, &b), 0);
  assert_same(&a, &b, "v6 only");
  df_ann(&a, MF_ALICE, MF_T(MF_NOW), 7, 15000, 1);
  cr_assert_eq(prose_disc_ann_encode(&a, buf, sizeof buf, &len), 0);
  cr_assert_eq(prose_disc_ann_decode(buf, len, &b), 0);
  assert_same(&a, &b, "typical");

  /* What the encoder refuses (each case numbered for the message). */
  for (int c = 0; c < 9; c++) {
    min_ann(&a);
    switch (c) {
      case 0: a.mcptt_id[0] = '\0'; break;
      case 1: memset(a.kms_uri, 'k', sizeof a.kms_uri); break; /* no NUL: 256 octets */
      case 2: a.mcptt_id[1] = '\n'; break;
      case 3: a.kms_uri[0] = 0x7f; break;
      case 4: a.has_ipv4 = false; break;
      case 5: a.call_port = 0; break;
      case 6: a.n_ports = PROSE_DISC_MAX_PORTS + 1; break;
      case 7: a.n_ports = 1, a.ports[0].port = 0; break;
      default: a.ext_len = PROSE_DISC_EXT_MAX + 1; break;
    }
    cr_assert_eq(prose_disc_ann_encode(&a, buf, sizeof buf, &len), PROSE_EINVAL, "case %d", c);
  }
  cr_assert_eq(prose_disc_ann_encode(NULL, buf, sizeof buf, &len), PROSE_EINVAL);
  cr_assert_eq(prose_disc_ann_decode(NULL, 3, &b), PROSE_EINVAL);
}

/* Offsets of the variable part in a max_ann()-sized message. */
#define OFF_ID_LEN 5u
#define OFF_KMS_LEN (6u + PROSE_DISC_URI_MAX)
#define OFF_FLAGS (OFF_KMS_LEN + 1u + PROSE_DISC_URI_MAX + 20u)
#define OFF_CALL_PORT (OFF_FLAGS + 21u)
#define OFF_NPORTS (OFF_CALL_PORT + 2u)
#define OFF_EXT_LEN (OFF_NPORTS + 1u + 3u * PROSE_DISC_MAX_PORTS + 4u)

static int decode_mod(const uint8_t *orig, size_t len, size_t off, uint8_t val) {
  uint8_t m[PROSE_DISC_MAX_LEN + 1];
  prose_disc_ann a;
  memcpy(m, orig, len);
  m[off] = val;
  return prose_disc_ann_decode(m, len, &a);
}

Test(disc_codec, malformed_every_way) {
  uint8_t buf[PROSE_DISC_MAX_LEN + 1], small[PROSE_DISC_MAX_LEN];
  prose_disc_ann a;
  size_t len, slen;
  max_ann(&a);
  cr_assert_eq(prose_disc_ann_encode(&a, buf, sizeof buf, &len), 0);
  min_ann(&a);
  cr_assert_eq(prose_disc_ann_encode(&a, small, sizeof small, &slen), 0);

  /* Truncation at every offset of both, and one octet too many. */
  for (size_t n = 0; n < len; n++)
    cr_assert_eq(prose_disc_ann_decode(buf, n, &a), PROSE_ETRUNC, "max cut at %zu", n);
  for (size_t n = 0; n < slen; n++)
    cr_assert_eq(prose_disc_ann_decode(small, n, &a), PROSE_ETRUNC, "min cut at %zu", n);
  buf[len] = 0;
  cr_assert_eq(prose_disc_ann_decode(buf, len + 1, &a), PROSE_ETRAILING);

  /* Header. */
  cr_assert_eq(decode_mod(buf, len, 0, 'p'), PROSE_EDISC_MAGIC);
  cr_assert_eq(decode_mod(buf, len, 3, 'X'), PROSE_EDISC_MAGIC);
  cr_assert_eq(decode_mod(buf, len, 4, 2), PROSE_EDISC_VERSION);
  cr_assert_eq(decode_mod(buf, len, 4, 0), PROSE_EDISC_VERSION);

  /* Fields out of their bounds. */
  cr_assert_eq(decode_mod(buf, len, OFF_ID_LEN, 0), PROSE_EDISC_FIELD);
  cr_assert_eq(decode_mod(buf, len, OFF_ID_LEN + 10, 0), PROSE_EDISC_FIELD, "NUL in the ID");
  cr_assert_eq(decode_mod(buf, len, OFF_KMS_LEN + 1, 0x1f), PROSE_EDISC_FIELD);
  cr_assert_eq(decode_mod(buf, len, OFF_KMS_LEN, 0), PROSE_EDISC_FIELD);
  cr_assert_eq(decode_mod(buf, len, OFF_FLAGS, 0), PROSE_EDISC_FIELD, "no address");
  cr_assert_eq(decode_mod(buf, len, OFF_FLAGS, 0x07), PROSE_EDISC_FIELD, "unknown bit");
  cr_assert_eq(decode_mod(buf, len, OFF_CALL_PORT, 0), 0, "port 0x00xx is fine");
  {
    uint8_t m[PROSE_DISC_MAX_LEN];
    memcpy(m, buf, len);
    m[OFF_CALL_PORT] = m[OFF_CALL_PORT + 1] = 0;
    cr_assert_eq(prose_disc_ann_decode(m, len, &a), PROSE_EDISC_FIELD, "call port 0");
    memcpy(m, buf, len);
    m[OFF_NPORTS + 2] = m[OFF_NPORTS + 3] = 0;
    cr_assert_eq(prose_disc_ann_decode(m, len, &a), PROSE_EDISC_FIELD, "extra port 0");
    memcpy(m, buf, len);
    prose_put_u16(m + OFF_EXT_LEN, PROSE_DISC_EXT_MAX + 1);
    cr_assert_eq(prose_disc_ann_decode(m, len, &a), PROSE_EDISC_FIELD, "extension too long");
  }
  cr_assert_eq(decode_mod(buf, len, OFF_NPORTS, PROSE_DISC_MAX_PORTS + 1), PROSE_EDISC_FIELD);
  cr_assert_eq(decode_mod(buf, len, OFF_NPORTS, 0xff), PROSE_EDISC_FIELD);

  /* Length fields that disagree with the data: a shorter one shifts every
   * later field and leaves octets over (or breaks a field); a longer one
   * in the small message runs past its end. */
  cr_assert_eq(decode_mod(buf, len, OFF_ID_LEN, PROSE_DISC_URI_MAX - 1), PROSE_EDISC_FIELD);
  cr_assert_eq(decode_mod(small, slen, 5, 0xff), PROSE_ETRUNC);
  cr_assert_eq(decode_mod(small, slen, 7, 0xff), PROSE_ETRUNC);
  cr_assert_eq(decode_mod(small, slen, slen - PROSE_ECCSI_SIG_LEN - 1, 0xff), PROSE_ETRUNC);
}

/* ------------------------------------------------------------------------ */
/* Keyring additions                                                         */
/* ------------------------------------------------------------------------ */

Test(disc_keyring, sign_and_verify) {
  mf_kms k;
  mf_user alice, bob;
  cr_assert_eq(mf_kms_init(&k, MF_SEED_KMS), 0);
  cr_assert_eq(mf_user_init(&alice, &k, MF_ALICE, MF_SEED_ALICE, NULL, 1), 0);
  cr_assert_eq(mf_user_init(&bob, &k, MF_BOB, MF_SEED_BOB, NULL, 1), 0);
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, 5);
  static const uint8_t msg[] = "PRSD: anything at all";
  uint8_t sig[PROSE_ECCSI_SIG_LEN], bad[PROSE_ECCSI_SIG_LEN];
  uint64_t no = 0, want = MF_PERIOD_NO, other = MF_PERIOD_NO + 1;
  const uint64_t t = MF_NOW, t_next = (uint64_t)MF_PERIOD * (MF_PERIOD_NO + 1) + 5;

  /* Lookup only, then a real signature that bob's keyring verifies. */
  cr_assert_eq(prose_keyring_sign(alice.kr, &rng, MF_KMS, t, NULL, 0, NULL, &no), 0);
  cr_assert_eq(no, MF_PERIOD_NO);
  cr_assert_eq(prose_keyring_sign(alice.kr, &rng, MF_KMS, t, msg, sizeof msg, sig, NULL), 0);
  cr_assert_eq(prose_keyring_verify(bob.kr, MF_ALICE, MF_KMS, t, &want, msg, sizeof msg, sig,
                                    sizeof sig),
               0);
  cr_assert_eq(prose_keyring_verify(bob.kr, MF_ALICE, MF_KMS, t, NULL, msg, sizeof msg, sig,
                                    sizeof sig),
               0);
  /* The signer verifies its own signature too (same KMS verifier). */
  cr_assert_eq(prose_keyring_verify(alice.kr, MF_ALICE, MF_KMS, t, NULL, msg, sizeof msg, sig,
                                    sizeof sig),
               0);
  /* It is an ECCSI signature under alice's UID for the period of t. */
  {
    prose_eccsi_verifier *v;
    cr_assert_eq(prose_eccsi_verifier_new(&v, k.cert.kpak), 0);
    cr_assert_eq(prose_eccsi_verify(v, alice.uid, 32, msg, sizeof msg, sig, sizeof sig), 0);
    prose_eccsi_verifier_free(v);
  }

  /* Failures, each with its own code. */
  cr_assert_eq(prose_keyring_sign(alice.kr, &rng, "kms.other", t, msg, 3, sig, NULL),
               PROSE_EUNKNOWN_KMS);
  cr_assert_eq(prose_keyring_sign(alice.kr, &rng, MF_KMS, t_next, msg, 3, bad, NULL), PROSE_EPERIOD,
               "no key set for the next period");
  cr_assert_eq(prose_keyring_sign(alice.kr, &rng, MF_KMS, t, NULL, 3, bad, NULL), PROSE_EINVAL);
  cr_assert_eq(prose_keyring_sign(NULL, &rng, MF_KMS, t, msg, 3, bad, NULL), PROSE_EINVAL);
  cr_assert_eq(prose_keyring_verify(bob.kr, MF_ALICE, MF_KMS, t, &other, msg, sizeof msg, sig,
                                    sizeof sig),
               PROSE_EPERIOD, "claimed period differs from the period of t");
  cr_assert_eq(prose_keyring_verify(bob.kr, MF_ALICE, MF_KMS, t_next, NULL, msg, sizeof msg, sig,
                                    sizeof sig),
               PROSE_ESIG, "the UID of another period");
  cr_assert_eq(prose_keyring_verify(bob.kr, MF_CAROL, MF_KMS, t, NULL, msg, sizeof msg, sig,
                                    sizeof sig),
               PROSE_ESIG, "another user");
  cr_assert_eq(prose_keyring_verify(bob.kr, MF_ALICE, "kms.other", t, NULL, msg, sizeof msg, sig,
                                    sizeof sig),
               PROSE_EUNKNOWN_KMS);
  cr_assert_eq(prose_keyring_verify(bob.kr, MF_ALICE, MF_KMS, t, NULL, msg, sizeof msg - 1, sig,
                                    sizeof sig),
               PROSE_ESIG, "message changed");
  cr_assert_eq(prose_keyring_verify(bob.kr, MF_ALICE, MF_KMS, t, NULL, msg, sizeof msg, sig,
                                    sizeof sig - 1),
               PROSE_ELEN);
  memcpy(bad, sig, sizeof bad);
  memset(bad + 64, 0x11, 65); /* a PVT that is not a point */
  cr_assert_eq(prose_keyring_verify(bob.kr, MF_ALICE, MF_KMS, t, NULL, msg, sizeof msg, bad,
                                    sizeof bad),
               PROSE_ESIG);
  cr_assert_eq(prose_keyring_verify(bob.kr, NULL, MF_KMS, t, NULL, msg, sizeof msg, sig,
                                    sizeof sig),
               PROSE_EINVAL);
  mf_user_free(&alice);
  mf_user_free(&bob);
}

/* prose_disc_ann_sign: signs as the keyring's user with the period filled
 * in, and refuses to sign for anyone else or without a key set. */
Test(disc_keyring, announcement_sign) {
  mf_kms k;
  mf_user alice, bob;
  cr_assert_eq(mf_kms_init(&k, MF_SEED_KMS), 0);
  cr_assert_eq(mf_user_init(&alice, &k, MF_ALICE, MF_SEED_ALICE, NULL, 1), 0);
  cr_assert_eq(mf_user_init(&bob, &k, MF_BOB, MF_SEED_BOB, NULL, 1), 0);
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, 6);
  uint8_t buf[PROSE_DISC_MAX_LEN];
  size_t len;
  prose_disc_ann a, b;
  df_ann(&a, MF_ALICE, MF_T(MF_NOW), 1, 3000, 1);
  a.period_no = 0;
  cr_assert_eq(prose_disc_ann_sign(&a, alice.kr, &rng, buf, sizeof buf, &len), 0);
  cr_assert_eq(a.period_no, MF_PERIOD_NO);
  cr_assert_eq(prose_disc_ann_decode(buf, len, &b), 0);
  assert_same(&a, &b, "signed");
  uint64_t no = MF_PERIOD_NO;
  cr_assert_eq(prose_keyring_verify(bob.kr, MF_ALICE, MF_KMS, MF_NOW, &no, buf,
                                    len - PROSE_ECCSI_SIG_LEN, buf + len - PROSE_ECCSI_SIG_LEN,
                                    PROSE_ECCSI_SIG_LEN),
               0);
  df_ann(&a, MF_BOB, MF_T(MF_NOW), 1, 3000, 1);
  cr_assert_eq(prose_disc_ann_sign(&a, alice.kr, &rng, buf, sizeof buf, &len), PROSE_EINVAL);
  df_ann(&a, MF_ALICE, MF_T((uint64_t)MF_PERIOD * (MF_PERIOD_NO + 1)), 1, 3000, 1);
  cr_assert_eq(prose_disc_ann_sign(&a, alice.kr, &rng, buf, sizeof buf, &len), PROSE_EPERIOD);
  df_ann(&a, MF_ALICE, MF_T(MF_NOW), 1, 3000, 1);
  cr_assert_eq(prose_disc_ann_sign(&a, alice.kr, &rng, buf, 100, &len), PROSE_EBUFSZ);
  mf_user_free(&alice);
  mf_user_free(&bob);
}
