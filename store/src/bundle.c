/*
 * Provisioning bundle container (docs/bundle.md).
 *
 * Reading checks the whole file before handing out any record: the header,
 * every record's bounds, the record count, the SHA-256 trailer, and that no
 * unknown record is marked critical. Records are views into the caller's
 * buffer, so nothing is copied.
 */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "prose/bundle.h"
#include "prose/buf.h"
#include "prose/err.h"
#include "prose/util.h"
#include "store_internal.h"

const char *prose_bundle_type_name(uint16_t type) {
  switch (type) {
    case PROSE_BUNDLE_KMS_XML: return "kms-xml";
    case PROSE_BUNDLE_IMESSAGE: return "imessage";
    case PROSE_BUNDLE_TRUST_GMS: return "trust-gms";
    case PROSE_BUNDLE_NOTE: return "note";
    default: return "unknown";
  }
}

static bool type_known(uint16_t type) {
  return type >= PROSE_BUNDLE_KMS_XML && type <= PROSE_BUNDLE_NOTE;
}

void prose_bundle_free(prose_bundle *b) {
  if (!b) return;
  free(b->recs);
  memset(b, 0, sizeof *b);
}

static int read_header(prose_rd *r, uint16_t *version, uint32_t *count, prose_diag *d) {
  const uint8_t *magic;
  uint16_t flags;
  if (prose_rd_ptr(r, &magic, PROSE_BUNDLE_MAGIC_LEN))
    return prose_diag_set(d, PROSE_ETRUNC, "bundle: shorter than its header");
  if (memcmp(magic, PROSE_BUNDLE_MAGIC, PROSE_BUNDLE_MAGIC_LEN) != 0)
    return prose_diag_set(d, PROSE_EFORMAT, "bundle: wrong magic (not a prose bundle)");
  if (prose_rd_u16(r, version) || prose_rd_u16(r, &flags) || prose_rd_u32(r, count))
    return prose_diag_set(d, PROSE_ETRUNC, "bundle: shorter than its header");
  if (*version != PROSE_BUNDLE_VERSION)
    return prose_diag_set(d, PROSE_EFORMAT, "bundle: version %u not supported (only %u)",
                          (unsigned)*version, PROSE_BUNDLE_VERSION);
  if (flags != 0)
    return prose_diag_set(d, PROSE_EFORMAT, "bundle: unknown header flags 0x%04x",
                          (unsigned)flags);
  if (*count == 0) return prose_diag_set(d, PROSE_EFORMAT, "bundle: no records");
  if (*count > PROSE_BUNDLE_MAX_RECORDS)
    return prose_diag_set(d, PROSE_EOVERLONG, "bundle: %u records (at most %u)",
                          (unsigned)*count, PROSE_BUNDLE_MAX_RECORDS);
  return 0;
}

/* Read one record header and borrow its value. The value must fit in what
 * is left before the trailer. */
static int read_record(prose_rd *r, size_t idx, prose_bundle_record *rec, prose_diag *d) {
  uint32_t len;
  if (prose_rd_u16(r, &rec->type) || prose_rd_u16(r, &rec->flags) || prose_rd_u32(r, &len))
    return prose_diag_set(d, PROSE_ETRUNC, "bundle record %zu: truncated header", idx);
  if (len > PROSE_BUNDLE_MAX_RECORD)
    return prose_diag_set(d, PROSE_EOVERLONG, "bundle record %zu: %u octets (at most %u)", idx,
                          (unsigned)len, PROSE_BUNDLE_MAX_RECORD);
  if (len > prose_rd_left(r))
    return prose_diag_set(d, PROSE_EOVERLONG, "bundle record %zu: length beyond the file", idx);
  if (prose_rd_ptr(r, &rec->data, len)) return PROSE_EINTERNAL;
  rec->len = len;
  if (!type_known(rec->type) && (rec->flags & PROSE_BUNDLE_F_CRITICAL))
    return prose_diag_set(d, PROSE_EFORMAT, "bundle record %zu: unknown critical type %u", idx,
                          (unsigned)rec->type);
  return 0;
}

int prose_bundle_parse(const uint8_t *buf, size_t len, prose_bundle *out, prose_diag *d) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  uint32_t count = 0;
  uint16_t version = 0;
  int rc;
  if (!out) return PROSE_EINVAL;
  memset(out, 0, sizeof *out);
  if (!buf) return PROSE_EINVAL;
  if (len > PROSE_BUNDLE_MAX_SIZE)
    return prose_diag_set(d, PROSE_EOVERLONG, "bundle: larger than %u octets",
                          PROSE_BUNDLE_MAX_SIZE);
  prose_rd r = prose_rd_init(buf, len);
  if ((rc = read_header(&r, &version, &count, d))) return rc;
  if (len < PROSE_BUNDLE_HEADER_LEN + PROSE_BUNDLE_TRAILER_LEN)
    return prose_diag_set(d, PROSE_ETRUNC, "bundle: no room for the checksum");
  /* Records live between the header and the 32-octet trailer. */
  prose_rd body = prose_rd_init(buf + PROSE_BUNDLE_HEADER_LEN,
                                len - PROSE_BUNDLE_HEADER_LEN - PROSE_BUNDLE_TRAILER_LEN);
  if (!(out->recs = calloc(count, sizeof *out->recs))) return PROSE_ENOMEM;
  for (size_t i = 0; i < count; i++) {
    if ((rc = read_record(&body, i, &out->recs[i], d))) goto out;
  }
  if (prose_rd_left(&body) != 0) {
    rc = prose_diag_set(d, PROSE_ETRAILING, "bundle: %zu octets after the last record",
                        prose_rd_left(&body));
    goto out;
  }
  if (EVP_Digest(buf, len - PROSE_BUNDLE_TRAILER_LEN, digest, NULL, EVP_sha256(), NULL) != 1) {
    rc = PROSE_ECRYPTO;
    goto out;
  }
  if (!prose_ct_eq(digest, buf + len - PROSE_BUNDLE_TRAILER_LEN, sizeof digest)) {
    rc = prose_diag_set(d, PROSE_EAUTH, "bundle: SHA-256 checksum mismatch (file damaged)");
    goto out;
  }
  out->version = version;
  out->n = count;
out:
  if (rc) prose_bundle_free(out);
  return rc;
}

/* ---- Writer --------------------------------------------------------------- */

struct prose_bundle_writer {
  prose__sbuf body; /* the records, wiped when freed */
  uint32_t count;
};

int prose_bundle_writer_new(prose_bundle_writer **out) {
  if (!out) return PROSE_EINVAL;
  *out = calloc(1, sizeof **out);
  if (!*out) return PROSE_ENOMEM;
  prose__sbuf_init(&(*out)->body);
  return 0;
}

void prose_bundle_writer_free(prose_bundle_writer *w) {
  if (!w) return;
  prose__sbuf_free(&w->body);
  free(w);
}

int prose_bundle_add_flags(prose_bundle_writer *w, uint16_t type, uint16_t flags, const void *data,
                           size_t len) {
  uint8_t hdr[PROSE_BUNDLE_RECORD_HEADER_LEN];
  if (!w || type == 0 || (!data && len)) return PROSE_EINVAL;
  if (len > PROSE_BUNDLE_MAX_RECORD || w->count >= PROSE_BUNDLE_MAX_RECORDS ||
      w->body.len + sizeof hdr + len >
          PROSE_BUNDLE_MAX_SIZE - PROSE_BUNDLE_HEADER_LEN - PROSE_BUNDLE_TRAILER_LEN)
    return PROSE_EOVERLONG;
  prose_put_u16(hdr, type);
  prose_put_u16(hdr + 2, flags);
  prose_put_u32(hdr + 4, (uint32_t)len);
  prose__sbuf_add(&w->body, hdr, sizeof hdr);
  prose__sbuf_add(&w->body, data, len);
  if (w->body.err) return w->body.err;
  w->count++;
  return 0;
}

int prose_bundle_add(prose_bundle_writer *w, uint16_t type, const void *data, size_t len) {
  uint16_t flags = (type == PROSE_BUNDLE_KMS_XML || type == PROSE_BUNDLE_IMESSAGE)
                       ? PROSE_BUNDLE_F_CRITICAL
                       : 0;
  return prose_bundle_add_flags(w, type, flags, data, len);
}

int prose_bundle_finish(const prose_bundle_writer *w, uint8_t **out, size_t *out_len) {
  if (!w || !out || !out_len) return PROSE_EINVAL;
  if (w->count == 0) return PROSE_EFORMAT;
  size_t n = PROSE_BUNDLE_HEADER_LEN + w->body.len + PROSE_BUNDLE_TRAILER_LEN;
  uint8_t *p = malloc(n);
  if (!p) return PROSE_ENOMEM;
  prose_wr wr = prose_wr_init(p, n);
  prose_wr_bytes(&wr, PROSE_BUNDLE_MAGIC, PROSE_BUNDLE_MAGIC_LEN);
  prose_wr_u16(&wr, PROSE_BUNDLE_VERSION);
  prose_wr_u16(&wr, 0);
  prose_wr_u32(&wr, w->count);
  prose_wr_bytes(&wr, w->body.p, w->body.len);
  if (prose_wr_finish(&wr) ||
      EVP_Digest(p, wr.len, p + wr.len, NULL, EVP_sha256(), NULL) != 1) {
    prose_free_secret(p, n);
    return PROSE_ECRYPTO;
  }
  *out = p;
  *out_len = n;
  return 0;
}
