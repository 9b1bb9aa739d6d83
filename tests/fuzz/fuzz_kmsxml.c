/*
 * libFuzzer target for the KMS XML importer's parser (store/kmsxml).
 *
 * prose_kmsxml_parse on arbitrary bytes. When it accepts a document, the
 * writer's output must parse again to the same certificates and key sets
 * (write and parse are inverse on everything prose keeps), and the output
 * must be empty whenever parsing fails.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prose/kmsxml.h"
#include "prose/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const prose_kmsxml_doc *doc) {
  prose_kmsxml_doc again;
  char *xml = NULL;
  size_t len = 0;
  /* The writer refuses documents with control characters in text, which
   * the reader never produces; any other failure is a bug. */
  if (prose_kmsxml_write(doc, &xml, &len) != 0) abort();
  if (prose_kmsxml_parse((const uint8_t *)xml, len, &again, NULL) != 0) abort();
  if (again.n_certs != doc->n_certs || again.n_keysets != doc->n_keysets) abort();
  for (size_t i = 0; i < doc->n_certs; i++) {
    const prose_kmsxml_cert *a = &doc->certs[i], *b = &again.certs[i];
    if (strcmp(a->kms_uri, b->kms_uri) || a->period != b->period || a->offset != b->offset ||
        memcmp(a->z, b->z, sizeof a->z) || memcmp(a->kpak, b->kpak, sizeof a->kpak) ||
        a->revoked != b->revoked)
      abort();
  }
  for (size_t i = 0; i < doc->n_keysets; i++) {
    const prose_kmsxml_keyset *a = &doc->keysets[i], *b = &again.keysets[i];
    if (strcmp(a->user_uri, b->user_uri) || a->period_no != b->period_no ||
        memcmp(a->ssk, b->ssk, sizeof a->ssk) || memcmp(a->rsk, b->rsk, sizeof a->rsk) ||
        memcmp(a->pvt, b->pvt, sizeof a->pvt) || memcmp(a->uid, b->uid, sizeof a->uid))
      abort();
  }
  prose_kmsxml_doc_free(&again);
  prose_free_secret(xml, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  prose_kmsxml_doc doc;
  prose_diag d;
  prose_diag_clear(&d);
  int rc = prose_kmsxml_parse(data, size, &doc, &d);
  if (rc) {
    if (doc.n_certs || doc.n_keysets || doc.certs || doc.keysets || d.code != rc) abort();
    return 0;
  }
  check_round_trip(&doc);
  prose_kmsxml_doc_free(&doc);
  return 0;
}
