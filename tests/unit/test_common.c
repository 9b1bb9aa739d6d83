#include <criterion/criterion.h>
#include <string.h>

#include "prose/buf.h"
#include "prose/err.h"
#include "prose/rng.h"
#include "prose/util.h"

Test(err, names_and_messages) {
  cr_assert_str_eq(prose_err_name(PROSE_ESIG), "ESIG");
  cr_assert_str_eq(prose_strerror(PROSE_ETRUNC), "message truncated");
  cr_assert_str_eq(prose_err_name(0), "OK");
  cr_assert_str_eq(prose_err_name(-12345), "EUNKNOWN");
  cr_assert_str_eq(prose_strerror(-12345), "unknown error");
  cr_assert(prose_err_is_verify(PROSE_ESAKKE_TEST));
  cr_assert(prose_err_is_malformed(PROSE_EMIKEY_PAYLOAD));
  cr_assert(prose_err_is_usage(PROSE_EHEX));
  cr_assert(!prose_err_is_usage(0));
  cr_assert(prose_err_is_fatal(PROSE_ENOMEM));
  cr_assert(!prose_err_is_fatal(PROSE_ESIG));
}

Test(buf, reader_bounds) {
  const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  prose_rd r = prose_rd_init(data, sizeof data);
  uint8_t a;
  uint16_t b;
  uint32_t c;
  cr_assert_eq(prose_rd_u8(&r, &a), 0);
  cr_assert_eq(a, 0x01);
  cr_assert_eq(prose_rd_u16(&r, &b), 0);
  cr_assert_eq(b, 0x0203);
  cr_assert_eq(prose_rd_u32(&r, &c), 0);
  cr_assert_eq(c, 0x04050607u);
  cr_assert_eq(prose_rd_left(&r), 0);
  /* Reading past the end fails and consumes nothing. */
  cr_assert_eq(prose_rd_u8(&r, &a), PROSE_ETRUNC);
  r = prose_rd_init(data, 3);
  cr_assert_eq(prose_rd_u32(&r, &c), PROSE_ETRUNC);
  cr_assert_eq(r.off, 0);
  uint64_t v40;
  r = prose_rd_init(data, 5);
  cr_assert_eq(prose_rd_u40(&r, &v40), 0);
  cr_assert_eq(v40, 0x0102030405ull);
  prose_rd sub;
  r = prose_rd_init(data, sizeof data);
  cr_assert_eq(prose_rd_sub(&r, &sub, 8), PROSE_ETRUNC);
  cr_assert_eq(prose_rd_sub(&r, &sub, 2), 0);
  cr_assert_eq(prose_rd_left(&sub), 2);
  cr_assert_eq(prose_rd_left(&r), 5);
  const uint8_t *p;
  cr_assert_eq(prose_rd_ptr(&r, &p, 5), 0);
  cr_assert_eq(p[0], 0x03);
}

Test(buf, writer_sticky_error_and_counting) {
  uint8_t out[4];
  prose_wr w = prose_wr_init(out, sizeof out);
  prose_wr_u16(&w, 0xABCD);
  prose_wr_u8(&w, 0x11);
  cr_assert_eq(prose_wr_finish(&w), 0);
  prose_wr_u16(&w, 0x2233); /* does not fit: 3 + 2 > 4 */
  prose_wr_u8(&w, 0x44);    /* would fit, but the error is sticky */
  cr_assert_eq(prose_wr_finish(&w), PROSE_EBUFSZ);
  cr_assert_eq(w.len, 3);
  cr_assert_eq(out[0], 0xAB);
  cr_assert_eq(out[2], 0x11);

  prose_wr cnt = prose_wr_init(NULL, 0);
  prose_wr_u32(&cnt, 1);
  prose_wr_bytes(&cnt, "abc", 3);
  cr_assert_eq(prose_wr_finish(&cnt), 0);
  cr_assert_eq(cnt.len, 7);
}

Test(util, hex) {
  uint8_t out[4];
  size_t n = 0;
  cr_assert_eq(prose_hex_decode("00aBFf", out, sizeof out, &n), 0);
  cr_assert_eq(n, 3);
  cr_assert_eq(out[1], 0xAB);
  cr_assert_eq(prose_hex_decode("abc", out, sizeof out, &n), PROSE_EHEX);
  cr_assert_eq(prose_hex_decode("zz", out, sizeof out, &n), PROSE_EHEX);
  cr_assert_eq(prose_hex_decode("0011223344", out, sizeof out, &n), PROSE_EBUFSZ);
  cr_assert_eq(prose_hex_decode_exact("0011", out, 3), PROSE_ELEN);
  cr_assert_eq(prose_hex_decode_exact("0x11", out, 2), PROSE_EHEX);
  char s[9];
  const uint8_t in[] = {0xDE, 0xAD, 0x00, 0x01};
  prose_hex_encode(in, 4, s);
  cr_assert_str_eq(s, "dead0001");
}

Test(util, base64) {
  char s[32];
  const uint8_t in[] = "foobar";
  const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (size_t i = 0; i <= 6; i++) {
    prose_b64_encode(in, i, s);
    cr_assert_str_eq(s, want[i], "case %zu", i);
    cr_assert_eq(strlen(s), prose_b64_encoded_len(i));
    uint8_t back[8];
    size_t n = 99;
    cr_assert_eq(prose_b64_decode(s, strlen(s), back, sizeof back, &n), 0, "case %zu", i);
    cr_assert_eq(n, i);
    cr_assert(memcmp(back, in, i) == 0);
  }
  uint8_t b[8];
  size_t n;
  cr_assert_eq(prose_b64_decode("Zm9", 3, b, sizeof b, &n), PROSE_EBASE64);
  cr_assert_eq(prose_b64_decode("Zm9v YmFy", 9, b, sizeof b, &n), PROSE_EBASE64);
  cr_assert_eq(prose_b64_decode("Z===", 4, b, sizeof b, &n), PROSE_EBASE64);
  cr_assert_eq(prose_b64_decode("Zh==", 4, b, sizeof b, &n), PROSE_EBASE64); /* non-canonical */
  cr_assert_eq(prose_b64_decode("Zm=v", 4, b, sizeof b, &n), PROSE_EBASE64);
  cr_assert_eq(prose_b64_decode("Zm9vYmFy", 8, b, 5, &n), PROSE_EBUFSZ);
}

Test(util, ct_eq_and_wipe) {
  uint8_t a[16], b[16];
  memset(a, 7, sizeof a);
  memcpy(b, a, sizeof b);
  cr_assert(prose_ct_eq(a, b, 16));
  b[15] ^= 1;
  cr_assert(!prose_ct_eq(a, b, 16));
  prose_wipe(a, sizeof a);
  for (size_t i = 0; i < sizeof a; i++) cr_assert_eq(a[i], 0);
  prose_wipe(NULL, 0);
}

Test(rng, deterministic_and_uniform) {
  prose_rng_det s1, s2, s3;
  prose_rng r1 = prose_rng_det_init(&s1, 42), r2 = prose_rng_det_init(&s2, 42),
            r3 = prose_rng_det_init(&s3, 43);
  uint8_t a[100], b[100], c[100];
  cr_assert_eq(prose_rng_fill(&r1, a, 37), 0);
  cr_assert_eq(prose_rng_fill(&r1, a + 37, 63), 0);
  cr_assert_eq(prose_rng_fill(&r2, b, 100), 0);
  cr_assert_eq(prose_rng_fill(&r3, c, 100), 0);
  cr_assert(memcmp(a, b, 100) == 0, "same seed, same stream regardless of chunking");
  cr_assert(memcmp(a, c, 100) != 0);
  uint32_t v;
  for (int i = 0; i < 1000; i++) {
    cr_assert_eq(prose_rng_uniform(&r1, 7, &v), 0);
    cr_assert_lt(v, 7);
  }
  cr_assert_eq(prose_rng_uniform(&r1, 0, &v), PROSE_EINVAL);
  uint8_t sys[32] = {0};
  cr_assert_eq(prose_rng_fill(prose_rng_system(), sys, sizeof sys), 0);
}
