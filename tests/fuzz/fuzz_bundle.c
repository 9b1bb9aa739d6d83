/*
 * libFuzzer target for the provisioning bundle reader (store/bundle).
 *
 * prose_bundle_parse on arbitrary bytes; when it accepts, the records must
 * tile the file between header and trailer, writing them back must give
 * the same octets (for bundles whose records all carry the writer's
 * default flags), and each record goes through the parser of its type
 * (KMS XML, MIKEY I_MESSAGE) as an import would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prose/bundle.h"
#include "prose/kmsxml.h"
#include "prose/mikey.h"
#include "prose/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_layout(const prose_bundle *b, const uint8_t *data, size_t size) {
  size_t off = PROSE_BUNDLE_HEADER_LEN;
  for (size_t i = 0; i < b->n; i++) {
    const prose_bundle_record *r = &b->recs[i];
    if (r->data != data + off + PROSE_BUNDLE_RECORD_HEADER_LEN) abort();
    off += PROSE_BUNDLE_RECORD_HEADER_LEN + r->len;
  }
  if (off + PROSE_BUNDLE_TRAILER_LEN != size) abort();
}

static void check_rewrite(const prose_bundle *b, const uint8_t *data, size_t size) {
  prose_bundle_writer *w = NULL;
  uint8_t *out = NULL;
  size_t len = 0;
  if (prose_bundle_writer_new(&w)) abort();
  for (size_t i = 0; i < b->n; i++)
    if (prose_bundle_add_flags(w, b->recs[i].type, b->recs[i].flags, b->recs[i].data,
                               b->recs[i].len))
      abort();
  if (prose_bundle_finish(w, &out, &len)) abort();
  if (len != size || memcmp(out, data, size) != 0) abort();
  prose_free_secret(out, len);
  prose_bundle_writer_free(w);
}

static void parse_records(const prose_bundle *b) {
  for (size_t i = 0; i < b->n; i++) {
    const prose_bundle_record *r = &b->recs[i];
    if (r->type == PROSE_BUNDLE_KMS_XML) {
      prose_kmsxml_doc doc;
      if (prose_kmsxml_parse(r->data, r->len, &doc, NULL) == 0) prose_kmsxml_doc_free(&doc);
    } else if (r->type == PROSE_BUNDLE_IMESSAGE) {
      prose_mikey_msg m;
      (void)prose_mikey_decode(r->data, r->len, &m);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  prose_bundle b;
  if (prose_bundle_parse(data, size, &b, NULL) != 0) {
    if (b.recs || b.n) abort();
    return 0;
  }
  check_layout(&b, data, size);
  check_rewrite(&b, data, size);
  parse_records(&b);
  prose_bundle_free(&b);
  return 0;
}
