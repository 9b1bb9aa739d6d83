/*
 * Bundle container (docs/bundle.md): round trip, and every malformed form
 * with its specific error.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "prose/bundle.h"
#include "prose/buf.h"
#include "prose/err.h"
#include "prose/util.h"
#include "test_store_fixture.h"

static fx_blob build(size_t n_extra) {
  prose_bundle_writer *w = NULL;
  uint8_t *out = NULL;
  size_t len = 0;
  cr_assert_eq(prose_bundle_writer_new(&w), 0);
  cr_assert_eq(prose_bundle_finish(w, &out, &len), PROSE_EFORMAT); /* no record yet */
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_KMS_XML, "<KmsResponse/>", 14), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_IMESSAGE, "\x01\x1a\x00", 3), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_TRUST_GMS, "sip:gms@example.org", 19), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_NOTE, "", 0), 0);
  for (size_t i = 0; i < n_extra; i++)
    cr_assert_eq(prose_bundle_add_flags(w, 0x7777, 0, "x", 1), 0);
  cr_assert_eq(prose_bundle_finish(w, &out, &len), 0);
  prose_bundle_writer_free(w);
  fx_blob b = fx_copy(out, len);
  prose_free_secret(out, len);
  return b;
}

/* Recompute the trailer after a deliberate edit of the body. */
static void reseal(fx_blob *b) {
  cr_assert_eq(EVP_Digest(b->p, b->len - 32, b->p + b->len - 32, NULL, EVP_sha256(), NULL), 1);
}

Test(bundle, round_trip_and_layout) {
  fx_blob b = build(1);
  prose_bundle bun;
  prose_diag d;
  prose_diag_clear(&d);
  cr_assert_eq(prose_bundle_parse(b.p, b.len, &bun, &d), 0, "%s", d.msg);
  cr_assert_eq(bun.version, 1);
  cr_assert_eq(bun.n, 5);
  cr_assert_eq(bun.recs[0].type, PROSE_BUNDLE_KMS_XML);
  cr_assert_eq(bun.recs[0].flags, PROSE_BUNDLE_F_CRITICAL);
  cr_assert_eq(bun.recs[0].len, 14);
  cr_assert_eq(memcmp(bun.recs[0].data, "<KmsResponse/>", 14), 0);
  cr_assert_eq(bun.recs[1].type, PROSE_BUNDLE_IMESSAGE);
  cr_assert_eq(bun.recs[1].flags, PROSE_BUNDLE_F_CRITICAL);
  cr_assert_eq(bun.recs[2].type, PROSE_BUNDLE_TRUST_GMS);
  cr_assert_eq(bun.recs[2].flags, 0);
  cr_assert_eq(bun.recs[3].len, 0);
  cr_assert_eq(bun.recs[4].type, 0x7777); /* unknown, not critical: kept for the caller */
  cr_assert_str_eq(prose_bundle_type_name(bun.recs[2].type), "trust-gms");
  cr_assert_str_eq(prose_bundle_type_name(0x7777), "unknown");
  /* Layout of docs/bundle.md: magic, version, flags, count, records, SHA-256. */
  cr_assert_eq(memcmp(b.p, "PROSEBDL\x00\x01\x00\x00\x00\x00\x00\x05", 16), 0);
  cr_assert_eq(memcmp(b.p + 16, "\x00\x01\x00\x01\x00\x00\x00\x0e<KmsResponse/>", 22), 0);
  cr_assert_eq(b.len, 16 + (8 + 14) + (8 + 3) + (8 + 19) + 8 + (8 + 1) + 32);
  prose_bundle_free(&bun);
  fx_free(&b);
}

typedef struct bcase {
  const char *name;
  int rc;
} bcase;

Test(bundle, hostile_containers) {
  fx_blob good = build(0);
  prose_bundle bun;
  prose_diag d;
  int rc;
  /* Every truncation fails; the code says where the data ended. */
  for (size_t cut = 0; cut < good.len; cut++) {
    prose_diag_clear(&d);
    rc = prose_bundle_parse(good.p, cut, &bun, &d);
    cr_assert(rc == PROSE_ETRUNC || rc == PROSE_EOVERLONG || rc == PROSE_EAUTH,
              "cut %zu: %s", cut, prose_err_name(rc));
    if (cut < 16) cr_assert_eq(rc, PROSE_ETRUNC, "cut %zu", cut);
    cr_assert_null(bun.recs);
    cr_assert_eq(bun.n, 0);
  }
  /* Every single-bit flip fails (the checksum or a structural check). */
  for (size_t i = 0; i < good.len; i++) {
    good.p[i] ^= 0x10;
    rc = prose_bundle_parse(good.p, good.len, &bun, &d);
    cr_assert_neq(rc, 0, "flip at %zu accepted", i);
    good.p[i] ^= 0x10;
  }
  struct {
    size_t off;
    uint8_t val;
    bool reseal;
    int rc;
    const char *msg;
  } edits[] = {
      /* 0 */ {0, 'X', false, PROSE_EFORMAT, "magic"},
      /* 1 */ {9, 2, true, PROSE_EFORMAT, "version 2"},
      /* 2 */ {11, 1, true, PROSE_EFORMAT, "flags"},
      /* 3 */ {15, 0, true, PROSE_EFORMAT, "no records"},
      /* 4 */ {15, 5, true, PROSE_ETRUNC, "record 4: truncated header"},
      /* 5 */ {14, 0x10, true, PROSE_EOVERLONG, "records"},
      /* 6 */ {22, 0xff, true, PROSE_EOVERLONG, "record 0"},
      /* 7 */ {20, 0x10, true, PROSE_EOVERLONG, "record 0"},
      /* 8 */ {16 + 22 + 1, 9, true, PROSE_EFORMAT, "unknown critical type 9"},
      /* 9 */ {30, 0x58, false, PROSE_EAUTH, "checksum"},
  };
  for (size_t i = 0; i < PROSE_ARRAY_LEN(edits); i++) {
    fx_blob b = fx_copy(good.p, good.len);
    b.p[edits[i].off] = edits[i].val;
    if (edits[i].reseal) reseal(&b);
    prose_diag_clear(&d);
    rc = prose_bundle_parse(b.p, b.len, &bun, &d);
    cr_assert_eq(rc, edits[i].rc, "edit %zu: %s (%s)", i, prose_err_name(rc), d.msg);
    cr_assert_not_null(strstr(d.msg, edits[i].msg), "edit %zu: '%s'", i, d.msg);
    fx_free(&b);
  }
  /* Trailing octets after the checksum. */
  fx_blob t = {calloc(1, good.len + 3), good.len + 3};
  memcpy(t.p, good.p, good.len);
  rc = prose_bundle_parse(t.p, t.len, &bun, &d);
  cr_assert_eq(rc, PROSE_ETRAILING, "%s", prose_err_name(rc));
  fx_free(&t);
  /* Bounds. */
  cr_assert_eq(prose_bundle_parse(good.p, PROSE_BUNDLE_MAX_SIZE + 1, &bun, &d), PROSE_EOVERLONG);
  cr_assert_eq(prose_bundle_parse(NULL, 0, &bun, &d), PROSE_EINVAL);
  fx_free(&good);
}

Test(bundle, writer_bounds) {
  prose_bundle_writer *w = NULL;
  cr_assert_eq(prose_bundle_writer_new(&w), 0);
  cr_assert_eq(prose_bundle_add(w, 0, "x", 1), PROSE_EINVAL);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_NOTE, NULL, 1), PROSE_EINVAL);
  uint8_t *big = calloc(1, PROSE_BUNDLE_MAX_RECORD + 1);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_NOTE, big, PROSE_BUNDLE_MAX_RECORD + 1),
               PROSE_EOVERLONG);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_NOTE, big, PROSE_BUNDLE_MAX_RECORD), 0);
  free(big);
  for (unsigned i = 1; i < PROSE_BUNDLE_MAX_RECORDS; i++)
    cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_NOTE, "n", 1), 0);
  cr_assert_eq(prose_bundle_add(w, PROSE_BUNDLE_NOTE, "n", 1), PROSE_EOVERLONG);
  uint8_t *out = NULL;
  size_t len = 0;
  prose_bundle bun;
  cr_assert_eq(prose_bundle_finish(w, &out, &len), 0);
  cr_assert_eq(prose_bundle_parse(out, len, &bun, NULL), 0);
  cr_assert_eq(bun.n, PROSE_BUNDLE_MAX_RECORDS);
  prose_bundle_free(&bun);
  prose_free_secret(out, len);
  prose_bundle_writer_free(w);
}
