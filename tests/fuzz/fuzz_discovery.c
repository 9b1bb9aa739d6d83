/*
 * libFuzzer target for the discovery announcement decoder and the engine's
 * receive path.
 *
 * 1. prose_disc_ann_decode on arbitrary bytes; when it accepts, the format
 *    has exactly one encoding per content, so encoding the result must give
 *    back the input octet for octet.
 * 2. prose_disc_recv into a fresh engine holding a fixed TEST keyring
 *    (alice of mikey_fixture.h) at the fixture's "now", so the seed corpus
 *    announcements (from bob and carol, written by test_discovery_engine)
 *    reach ECCSI verification. The counters must add up, an accepted
 *    announcement must be findable, and feeding the same bytes again must be
 *    refused as a replay.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mikey_fixture.h"
#include "prose/discovery.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prose_keyring *g_kr;
static prose_rng_det g_rng_state;
static prose_rng g_rng;

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
  g_rng = prose_rng_det_init(&g_rng_state, 1);
  return 0;
}

static void check_codec(const uint8_t *data, size_t size) {
  prose_disc_ann a;
  if (prose_disc_ann_decode(data, size, &a) != 0) return;
  uint8_t out[PROSE_DISC_MAX_LEN];
  size_t len = 0;
  if (size < PROSE_DISC_MIN_LEN || size > PROSE_DISC_MAX_LEN) abort();
  if (prose_disc_ann_encode(&a, out, sizeof out, &len) != 0) abort();
  if (len != size || memcmp(out, data, size) != 0) abort();
}

static int send_nothing(void *ud, const uint8_t *bytes, size_t len) {
  (void)ud, (void)bytes, (void)len;
  return 0;
}

static void check_engine(const uint8_t *data, size_t size) {
  prose_disc_settings s;
  prose_disc_settings_default(&s);
  s.kms_uri = MF_KMS;
  s.local.has_ipv4 = true;
  s.announce_interval_ms = 0;
  s.max_peers = 4;
  prose_disc_callbacks cb = {send_nothing, NULL};
  prose_disc *d;
  if (prose_disc_new(&d, g_kr, &g_rng, &s, &cb, NULL) != 0) abort();
  const uint64_t now = MF_T(MF_NOW);
  int rc = prose_disc_recv(d, 0, now, data, size, NULL);
  const prose_disc_stats *st = prose_disc_get_stats(d);
  uint64_t rejected = st->rej_malformed + st->rej_unknown_kms + st->rej_period + st->rej_time +
                      st->rej_sig + st->rej_replay;
  if (st->rx != 1 || st->accepted + st->own + rejected != 1 || (rc == 0) != (rejected == 0))
    abort();
  if (st->accepted == 1) {
    prose_disc_ann a;
    if (prose_disc_ann_decode(data, size, &a) != 0) abort();
    const prose_disc_peer *p = prose_disc_find(d, a.mcptt_id);
    if ((a.ttl_ms > 0) != (p != NULL)) abort();
    if (prose_disc_recv(d, 1, now, data, size, NULL) != PROSE_EREPLAY) abort();
    /* Expire everything: the table must empty and the timer must end. */
    prose_disc_on_timeout(d, UINT64_MAX - 1, now);
    if (prose_disc_peer_count(d) != 0) abort();
  }
  prose_disc_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_codec(data, size);
  check_engine(data, size);
  return 0;
}
