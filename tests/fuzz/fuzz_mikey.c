/*
 * libFuzzer target for the MIKEY-SAKKE I_MESSAGE parser.
 *
 * 1. prose_mikey_decode on arbitrary bytes; when it accepts, check the
 *    layout it reports and that encode(decode(x)) decodes again to the same
 *    fields and re-encodes to the same octets (the codec is idempotent).
 * 2. prose_mikey_process with a fixed TEST keyring (alice of
 *    mikey_fixture.h) at the fixture's "now", so the seed corpus messages
 *    reach signature verification and SAKKE decapsulation. The replay cache
 *    is reset per input to keep runs deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mikey_fixture.h"
#include "prose/mikey.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prose_keyring *g_kr;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  mf_kms k;
  mf_user alice;
  if (mf_kms_init(&k, MF_SEED_KMS) || mf_user_init(&alice, &k, MF_ALICE, MF_SEED_ALICE, NULL, 1))
    abort();
  g_kr = alice.kr;
  alice.kr = NULL;
  mf_user_free(&alice);
  return 0;
}

static void check_layout(const prose_mikey_msg *m, size_t size) {
  if (m->len != size || m->signed_len != m->sign_off + 2 || m->sign_off + 131 != size) abort();
  if (m->n_payloads < 2 || m->n_payloads > PROSE_MIKEY_MAX_PAYLOADS) abort();
  size_t end = 0;
  for (size_t i = 0; i < m->n_payloads; i++) {
    if (m->payloads[i].off != end) abort(); /* payloads tile the message */
    end += m->payloads[i].len;
  }
  if (end != size) abort();
}

static void check_same(const prose_mikey_msg *a, const prose_mikey_msg *b) {
  if (a->csb_id != b->csb_id || a->t != b->t || a->rand.len != b->rand.len ||
      memcmp(a->rand.p, b->rand.p, a->rand.len) != 0 || a->has_sp != b->has_sp ||
      a->has_kp != b->has_kp || a->has_self != b->has_self || a->n_cs != b->n_cs ||
      a->idr_i.present != b->idr_i.present || a->uid_r.present != b->uid_r.present ||
      memcmp(a->sakke.data.p, b->sakke.data.p, a->sakke.data.len) != 0 ||
      memcmp(a->sig.p, b->sig.p, a->sig.len) != 0)
    abort();
}

static void check_codec(const prose_mikey_msg *m) {
  static uint8_t enc[70000], enc2[70000];
  size_t n = 0, n2 = 0;
  prose_mikey_msg m2, m3;
  if (prose_mikey_encode(m, enc, sizeof enc, &n) != 0) abort();
  if (prose_mikey_decode(enc, n, &m2) != 0) abort();
  check_same(m, &m2);
  if (prose_mikey_encode(&m2, enc2, sizeof enc2, &n2) != 0) abort();
  if (n2 != n || memcmp(enc, enc2, n) != 0) abort();
  if (prose_mikey_decode(enc2, n2, &m3) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  prose_mikey_msg m;
  if (prose_mikey_decode(data, size, &m) == 0) {
    check_layout(&m, size);
    check_codec(&m);
  }
  prose_keyring_replay_reset(g_kr);
  prose_mikey_result r;
  int rc = prose_mikey_process(g_kr, MF_NOW, data, size, &r);
  if (rc == 0) {
    if ((uint32_t)r.kind != prose_keyid_tag(r.key_id)) abort();
    prose_mikey_result_clear(&r);
  } else if (rc > 0 || strcmp(prose_err_name(rc), "EUNKNOWN") == 0) {
    abort(); /* every failure must be one of the listed codes */
  }
  return 0;
}
