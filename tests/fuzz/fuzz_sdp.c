/*
 * libFuzzer target for the SDP parser.
 *
 * prose_sdp_parse on arbitrary text; when it accepts, everything it stored
 * must build again (every accepted value is buildable), the built text must
 * parse to the same struct, and building that gives the same octets
 * (deterministic builder).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prose/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prose_sdp a, b;
static char t1[PROSE_SDP_MAX * 2], t2[PROSE_SDP_MAX * 2];

static void check_same(const prose_sdp *x, const prose_sdp *y) {
  if (x->sess_id != y->sess_id || x->sess_version != y->sess_version ||
      strcmp(x->addr, y->addr) != 0 || x->ipv6 != y->ipv6 || x->audio_port != y->audio_port ||
      x->audio_rtcp_port != y->audio_rtcp_port || x->payload_type != y->payload_type ||
      strcmp(x->codec, y->codec) != 0 || x->clock_rate != y->clock_rate ||
      x->has_floor != y->has_floor || x->floor_port != y->floor_port ||
      x->mc_queueing != y->mc_queueing || x->has_mc_priority != y->has_mc_priority ||
      x->mc_priority != y->mc_priority || x->has_key_mgmt != y->has_key_mgmt ||
      x->key_mgmt_len != y->key_mgmt_len || memcmp(x->key_mgmt, y->key_mgmt, x->key_mgmt_len) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (prose_sdp_parse((const char *)data, size, &a) != 0) return 0;
  size_t n1, n2;
  if (prose_sdp_build(&a, t1, sizeof t1, &n1) != 0) abort();
  if (prose_sdp_parse(t1, n1, &b) != 0) abort();
  check_same(&a, &b);
  if (prose_sdp_build(&b, t2, sizeof t2, &n2) != 0 || n1 != n2 || memcmp(t1, t2, n1) != 0)
    abort();
  return 0;
}
