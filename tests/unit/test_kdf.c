/*
 * Tests of crypto/src/kdf.c against vectors.txt §3 (UID), §4 (GUK-ID) and
 * §5 (MIKEY PRF), plus the period arithmetic and the error paths.
 * Extra known answers marked [python] were computed with an independent
 * Python implementation of the same definitions (hashlib/hmac).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "prose/buf.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/util.h"
#include "testsupport.h"

/* Compare octets and print both sides in hex on failure. */
static void expect_bytes(const uint8_t *got, const char *want_hex, size_t n, const char *what,
                         size_t case_no) {
  uint8_t *want = malloc(n);
  char *got_hex = malloc(2 * n + 1);
  cr_assert(want && got_hex);
  ts_hex_into(want_hex, want, n);
  prose_hex_encode(got, n, got_hex);
  cr_expect(memcmp(got, want, n) == 0, "case %zu: %s: got %s, want %s", case_no, what, got_hex,
            want_hex);
  free(got_hex);
  free(want);
}

/* vectors.txt §3: TS 33.179 F.2.1 UIDs. */
typedef struct uid_case {
  const char *uri;
  const char *kms;
  uint64_t period, offset, period_no;
  const char *uid;
} uid_case;

static const uid_case UID_CASES[] = {
    {"sip:user@example.org", "kms.example.org", 2592000, 0, 1,
     "74e2af803ab5d72841bbced0ce319ffe64f6fe23c88a2d258aabcf6ac5658ef4"},
    {"sip:user@example.org", "kms.example.org", 10, 0, 10,
     "94fb1a697c15d7e9d6b7062066affebda2d9e346e0090d67525c0c3ce666eafa"},
    {"sip:user@example.org", "kms.example.org", 25920000, 100, 1,
     "3c0ad8828cfae1ad1d08b27cc7b61258c6cfcd405081b68cd778f1e1c7f562a7"},
    {"sip:user@example.org", "kms.example.org", 25920000, 100, 2048,
     "c88b3fa5e36a08985d10f7b31a631b0265e8249f0312435e4984dbc3765c7f0c"},
    {"sip:user@example.org", "kms.example.org", 25920000, 45920000, 20393844,
     "8dc05540167345538475101514f4eabd384abd6ba665782abb312ecaf05934e1"},
    {"gms@streamwide.com", "kms.mydev.streamwide.com", 16777215, 0, 236,
     "15a4d5b12856538d02d91fedbb766e6dd377b014c92e216666c8fb678608d20e"},
    {"sip:alice@streamwide.com", "kms.mydev.streamwide.com", 16777215, 0, 236,
     "b5c452309219da6a3d805615548d6c1b0f4de45a6b48fb13d9a24d857fc03dc4"},
    {"sip:bob@streamwide.com", "kms.mydev.streamwide.com", 16777215, 0, 236,
     "780851cda91a9c33f941cd3a2831697e2893264754e363f8a0cef827eb201a81"},
    /* [python] 8-octet P3, 8-octet P4 and a 1-octet P5. */
    {"a", "b", UINT64_MAX, 1ull << 56, 255,
     "bed2898a10ec1da559129be47cf04e6b524dbfdf18d7a5c7ea0ff905d43263a0"},
    /* [python] empty strings and every integer 0 (encoded as one 00 octet). */
    {"", "", 0, 0, 0, "98823917b1c6d1eb45a6fcc7896205982cbecd8902adb82c1d2f53484d997116"},
};

Test(kdf, uid_vectors_and_errors) {
  for (size_t i = 0; i < PROSE_ARRAY_LEN(UID_CASES); i++) {
    const uid_case *c = &UID_CASES[i];
    uint8_t uid[PROSE_UID_LEN];
    int rc = prose_uid(c->uri, c->kms, c->period, c->offset, c->period_no, uid);
    cr_assert_eq(rc, 0, "case %zu: prose_uid returned %s", i + 1, prose_err_name(rc));
    expect_bytes(uid, c->uid, sizeof uid, "UID", i + 1);
  }

  /* Each parameter carries a 2-octet length, so 65535 octets is the limit. */
  uint8_t uid[PROSE_UID_LEN];
  char *long_uri = malloc(65537);
  cr_assert(long_uri);
  memset(long_uri, 'a', 65536);
  long_uri[65536] = '\0';
  cr_expect_eq(prose_uid(long_uri, "kms", 1, 0, 0, uid), PROSE_EINVAL);
  cr_expect_eq(prose_uid("sip:a@b", long_uri, 1, 0, 0, uid), PROSE_EINVAL);
  long_uri[65535] = '\0';
  cr_expect_eq(prose_uid(long_uri, "kms", 1, 0, 0, uid), 0);
  free(long_uri);
  cr_expect_eq(prose_uid(NULL, "kms", 1, 0, 0, uid), PROSE_EINVAL);
  cr_expect_eq(prose_uid("sip:a@b", NULL, 1, 0, 0, uid), PROSE_EINVAL);
  cr_expect_eq(prose_uid("sip:a@b", "kms", 1, 0, 0, NULL), PROSE_EINVAL);
}

Test(kdf, period_arithmetic) {
  /* (period, offset, period number) triples from vectors.txt §3. */
  static const uint64_t cases[][3] = {
      {2592000, 0, 1},        {10, 0, 10},         {25920000, 100, 1},
      {25920000, 100, 2048},  {25920000, 45920000, 20393844},
      {16777215, 0, 236},
  };
  for (size_t i = 0; i < PROSE_ARRAY_LEN(cases); i++) {
    uint64_t period = cases[i][0], offset = cases[i][1], no = cases[i][2];
    uint64_t start = 0, end = 0, got = 0;
    prose_period_bounds(no, period, offset, &start, &end);
    cr_expect_eq(start, offset + no * period, "case %zu: start", i + 1);
    cr_expect_eq(end, start + period, "case %zu: end", i + 1);
    /* The bounds are the exact inverse of the period number. */
    cr_expect_eq(prose_period_no(start, period, offset, &got), 0, "case %zu", i + 1);
    cr_expect_eq(got, no, "case %zu: at start", i + 1);
    cr_expect_eq(prose_period_no(end - 1, period, offset, &got), 0, "case %zu", i + 1);
    cr_expect_eq(got, no, "case %zu: at end - 1", i + 1);
    cr_expect_eq(prose_period_no(end, period, offset, &got), 0, "case %zu", i + 1);
    cr_expect_eq(got, no + 1, "case %zu: at end", i + 1);
  }

  /* A real time: 2023-11-14 22:13:20 UTC in NTP seconds, 30-day periods. */
  uint64_t t = 1700000000u + (uint64_t)PROSE_NTP_UNIX_OFFSET;
  uint64_t no = 0;
  cr_expect_eq(prose_period_no(t, 2592000, 0, &no), 0);
  cr_expect_eq(no, t / 2592000);

  cr_expect_eq(prose_period_no(100, 0, 0, &no), PROSE_ERANGE, "period 0");
  cr_expect_eq(prose_period_no(99, 10, 100, &no), PROSE_ERANGE, "t before offset");
  cr_expect_eq(prose_period_no(100, 10, 100, &no), 0);
  cr_expect_eq(no, 0u);
  cr_expect_eq(prose_period_no(100, 10, 100, NULL), PROSE_EINVAL);

  /* Overflow saturates instead of wrapping back into the past. */
  uint64_t start = 0, end = 0;
  prose_period_bounds(UINT64_MAX / 2, 4, 0, &start, &end);
  cr_expect_eq(start, UINT64_MAX);
  cr_expect_eq(end, UINT64_MAX);
  prose_period_bounds(0, 10, UINT64_MAX - 5, &start, &end);
  cr_expect_eq(start, UINT64_MAX - 5);
  cr_expect_eq(end, UINT64_MAX);
  prose_period_bounds(3, 10, 7, NULL, &end); /* either output may be NULL */
  cr_expect_eq(end, 47u);
}

Test(kdf, guk_id) {
  uint8_t gmk[16];
  ts_hex_into("07d1a1677ac36d8e81620484689b3c2d", gmk, sizeof gmk);
  static const struct {
    const char *mcptt_id;
    uint32_t guk_id;
  } cases[] = {{"sip:alice@streamwide.com", 0x06a12aeau}, {"gms@streamwide.com", 0x029f3103u}};
  const uint32_t gmk_id = 0x0df9bc39u;
  for (size_t i = 0; i < PROSE_ARRAY_LEN(cases); i++) {
    uint32_t guk = 0, back = 0;
    cr_assert_eq(prose_guk_id(gmk, sizeof gmk, gmk_id, cases[i].mcptt_id, &guk), 0, "case %zu", i + 1);
    cr_expect_eq(guk, cases[i].guk_id, "case %zu: GUK-ID %08x, want %08x", i + 1, guk,
                 cases[i].guk_id);
    /* The inverse mapping: GMK-ID = GUK-ID XOR salt. */
    cr_assert_eq(prose_guk_id(gmk, sizeof gmk, guk, cases[i].mcptt_id, &back), 0, "case %zu", i + 1);
    cr_expect_eq(back, gmk_id, "case %zu: inverse %08x", i + 1, back);
    /* The purpose tag survives, whatever the tag. */
    uint32_t pck_id = (PROSE_KEYID_TAG_PCK << 28) | 0x0123456u;
    cr_assert_eq(prose_guk_id(gmk, sizeof gmk, pck_id, cases[i].mcptt_id, &guk), 0);
    cr_expect_eq(prose_keyid_tag(guk), PROSE_KEYID_TAG_PCK, "case %zu: tag", i + 1);
  }
  uint32_t out;
  cr_expect_eq(prose_guk_id(NULL, 16, gmk_id, "x", &out), PROSE_EINVAL);
  cr_expect_eq(prose_guk_id(gmk, 0, gmk_id, "x", &out), PROSE_EINVAL);
  cr_expect_eq(prose_guk_id(gmk, 16, gmk_id, NULL, &out), PROSE_EINVAL);
  cr_expect_eq(prose_guk_id(gmk, 16, gmk_id, "x", NULL), PROSE_EINVAL);
}

/* vectors.txt §5: TGK and RAND shared by every row. */
static const char TGK_HEX[] = "A27B7D578EEB9B1EE7705E385996D300";
static const char RAND_HEX[] = "4339F62F55AAC86348846A482C893802";

Test(kdf, mikey_prf_vectors) {
  static const struct {
    uint8_t cs_id;
    uint32_t csb_id;
    uint32_t constant;
    size_t len;
    const char *out;
  } cases[] = {
      {4, 0x0633F457u, PROSE_MIKEY_CONST_TEK, 16, "59AAA49EBB54813602B7CC165961B4E8"},
      {4, 0x0633F457u, PROSE_MIKEY_CONST_TEK_SALT, 12, "745EB4DF7D155C473114A799"},
      {4, 0x05A85C16u, PROSE_MIKEY_CONST_ENCR, 16, "3924935940C154CCBC3C2AD05C8F5181"},
      {4, 0x05A85C16u, PROSE_MIKEY_CONST_TEK_SALT, 12, "1725869B80F370CC9F24E13B"},
      {0, 0x05A85C16u, PROSE_MIKEY_CONST_ENCR, 16, "F17C80A8D2F9BEFA47CF712603D7229A"},
      {0, 0x05A85C16u, PROSE_MIKEY_CONST_TEK_SALT, 12, "C3B7B561A291A1D3ABEF482B"},
  };
  uint8_t tgk[16], rand[16];
  ts_hex_into(TGK_HEX, tgk, sizeof tgk);
  ts_hex_into(RAND_HEX, rand, sizeof rand);
  for (size_t i = 0; i < PROSE_ARRAY_LEN(cases); i++) {
    uint8_t out[16];
    int rc = prose_mikey_derive(tgk, sizeof tgk, cases[i].constant, cases[i].cs_id, cases[i].csb_id,
                                rand, sizeof rand, out, cases[i].len);
    cr_assert_eq(rc, 0, "case %zu: %s", i + 1, prose_err_name(rc));
    expect_bytes(out, cases[i].out, cases[i].len, "derived key", i + 1);

    /* The same value through the raw PRF with a hand-built label. */
    uint8_t label[9 + 16];
    prose_put_u32(label, cases[i].constant);
    label[4] = cases[i].cs_id;
    prose_put_u32(label + 5, cases[i].csb_id);
    memcpy(label + 9, rand, sizeof rand);
    uint8_t raw[16];
    cr_assert_eq(prose_mikey_prf(tgk, sizeof tgk, label, sizeof label, raw, cases[i].len), 0);
    expect_bytes(raw, cases[i].out, cases[i].len, "raw PRF", i + 1);
  }

  /* SRTP master key and salt for row 1; the salts of rows 2 and 3. */
  uint8_t key[16], salt[12];
  cr_assert_eq(prose_srtp_master(tgk, sizeof tgk, 4, 0x0633F457u, rand, sizeof rand, key, salt), 0);
  expect_bytes(key, cases[0].out, 16, "SRTP master key", 1);
  expect_bytes(salt, cases[1].out, 12, "SRTP master salt", 1);
  cr_assert_eq(prose_srtp_master(tgk, sizeof tgk, 4, 0x05A85C16u, rand, sizeof rand, key, salt), 0);
  expect_bytes(salt, cases[3].out, 12, "SRTP master salt", 2);
  cr_assert_eq(prose_srtp_master(tgk, sizeof tgk, PROSE_CSID_PRIVATE_INITIATOR, 0x05A85C16u, rand,
                                 sizeof rand, key, salt),
               0);
  expect_bytes(salt, cases[5].out, 12, "SRTP master salt", 3);
}

Test(kdf, mikey_prf_general) {
  /* [python] A 40-octet in-key (two pieces: 32 + 8 octets) and a 70-octet
   * output (three HMAC blocks, the last truncated). */
  uint8_t key[40];
  for (size_t i = 0; i < sizeof key; i++) key[i] = (uint8_t)(i + 1);
  uint8_t label[9 + 20];
  ts_hex_into("15798CEF0001020304", label, 9);
  for (size_t i = 0; i < 20; i++) label[9 + i] = (uint8_t)(100 + i);
  static const char want[] =
      "7aad5563aef150eed2c24fe68bdac3c1544e42ee96b381670b925e87927dbe2738adedb4ccdf33f2e3e4a97e384"
      "35e79d1798b67b777bdae2743311a86a2a69e1627af2e9d1f";
  uint8_t out[70], part1[70], part2[70], shortout[20];
  cr_assert_eq(prose_mikey_prf(key, sizeof key, label, sizeof label, out, sizeof out), 0);
  expect_bytes(out, want, sizeof out, "PRF 40/70", 1);

  /* PRF(s1 || s2) = P(s1) XOR P(s2), one 256-bit piece at a time. */
  cr_assert_eq(prose_mikey_prf(key, 32, label, sizeof label, part1, sizeof part1), 0);
  cr_assert_eq(prose_mikey_prf(key + 32, 8, label, sizeof label, part2, sizeof part2), 0);
  for (size_t i = 0; i < sizeof out; i++) part1[i] ^= part2[i];
  cr_expect(memcmp(part1, out, sizeof out) == 0, "XOR of the pieces");

  /* A shorter output is a prefix of a longer one. */
  cr_assert_eq(prose_mikey_prf(key, sizeof key, label, sizeof label, shortout, sizeof shortout), 0);
  cr_expect(memcmp(shortout, out, sizeof shortout) == 0, "prefix");

  /* mikey_derive builds the same label. */
  cr_assert_eq(prose_mikey_derive(key, sizeof key, PROSE_MIKEY_CONST_ENCR, 0, 0x01020304u,
                                  label + 9, 20, part2, sizeof part2),
               0);
  cr_expect(memcmp(part2, out, sizeof out) == 0, "derive label");

  /* Argument errors; a zero-length output is a no-op. */
  cr_expect_eq(prose_mikey_prf(key, 0, label, sizeof label, out, 16), PROSE_EINVAL);
  cr_expect_eq(prose_mikey_prf(NULL, 16, label, sizeof label, out, 16), PROSE_EINVAL);
  cr_expect_eq(prose_mikey_prf(key, 16, NULL, 4, out, 16), PROSE_EINVAL);
  cr_expect_eq(prose_mikey_prf(key, 16, label, sizeof label, NULL, 16), PROSE_EINVAL);
  cr_expect_eq(prose_mikey_prf(key, 16, label, sizeof label, out, 0), 0);
  cr_expect_eq(prose_mikey_derive(key, 16, 0, 0, 0, NULL, 4, out, 16), PROSE_EINVAL);
  cr_expect_eq(prose_srtp_master(key, 16, 0, 0, label, 4, NULL, part1), PROSE_EINVAL);
  /* A failed derivation leaves no partial key behind. */
  memset(out, 0xAA, 16);
  memset(part1, 0xAA, 12);
  cr_expect_eq(prose_srtp_master(key, 0, 0, 0, label, 4, out, part1), PROSE_EINVAL);
  for (size_t i = 0; i < 16; i++) cr_expect_eq(out[i], 0, "key octet %zu not wiped", i);
  for (size_t i = 0; i < 12; i++) cr_expect_eq(part1[i], 0, "salt octet %zu not wiped", i);
}
