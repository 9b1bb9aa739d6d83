/*
 * libFuzzer target for the MONP codec and the call machines behind it.
 *
 * 1. prose_monp_decode on the whole input; when it accepts, the codec must
 *    be idempotent: encode(decode(x)) decodes to the same fields and
 *    re-encodes to the same octets.
 * 2. A fresh engine (own ID sip:me@f, group sip:g@f, user acknowledgement
 *    and confirm mode on, a key hook that rejects keys starting with an odd
 *    octet) receives the whole input as one datagram, then the input read as
 *    a sequence of datagrams "len(1) bytes", with 50 ms of virtual time and
 *    the due timers between them, then 40 s more. Sanitizers catch the rest;
 *    next_deadline must never go backwards in time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prose/call.h"
#include "prose/call_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t enc1[PROSE_MONP_MSG_MAX], enc2[PROSE_MONP_MSG_MAX];

static bool same_str(prose_monp_str a, prose_monp_str b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static void check_codec(const prose_monp_msg *m) {
  size_t n1, n2;
  prose_monp_msg d;
  if (prose_monp_encode(m, enc1, sizeof enc1, &n1) != 0) abort();
  if (prose_monp_decode(enc1, n1, &d) != 0) abort();
  if (d.type != m->type || d.call_id != m->call_id || d.call_type != m->call_type ||
      d.commencement != m->commencement || d.reason != m->reason ||
      d.refresh_interval != m->refresh_interval || d.call_start_time != m->call_start_time ||
      d.last_change_time != m->last_change_time || d.confirm_mode != m->confirm_mode ||
      d.probe_response != m->probe_response || d.has_user_location != m->has_user_location)
    abort();
  if (!same_str(d.group_id, m->group_id) || !same_str(d.sdp, m->sdp) ||
      !same_str(d.originating_user, m->originating_user) ||
      !same_str(d.last_change_user, m->last_change_user) ||
      !same_str(d.sending_user, m->sending_user) || !same_str(d.caller, m->caller) ||
      !same_str(d.callee, m->callee) || !same_str(d.organization, m->organization) ||
      !same_str(d.user_location, m->user_location))
    abort();
  if (prose_monp_encode(&d, enc2, sizeof enc2, &n2) != 0 || n2 != n1 ||
      memcmp(enc1, enc2, n1) != 0)
    abort();
}

static void send_any(void *ud, const char *to, const uint8_t *msg, size_t len) {
  (void)ud;
  (void)to;
  prose_monp_msg m;
  if (prose_monp_decode(msg, len, &m) != 0) abort(); /* we only send what we decode */
}

static int make_key(void *ud, const char *peer, uint8_t *buf, size_t cap, size_t *len) {
  (void)ud;
  (void)peer;
  if (cap < 4) abort();
  memcpy(buf, "\x02KEY", 4);
  *len = 4;
  return 0;
}

static int check_key(void *ud, const char *peer, const uint8_t *msg, size_t len) {
  (void)ud;
  (void)peer;
  return len > 0 && (msg[0] & 1) ? -200 : 0;
}

static void run_engine(const uint8_t *data, size_t size) {
  prose_call_settings s;
  prose_call_settings_default(&s);
  s.mcptt_id = "sip:me@f";
  s.user_ack_required = (size & 1) != 0;
  s.confirm_mode = true;
  prose_call_callbacks cb = {send_any, send_any, NULL, make_key, check_key, NULL};
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, 1);
  prose_call_engine *e;
  if (prose_call_engine_new(&e, &s, &cb, NULL, &rng) != 0) abort();
  if (prose_call_group_add(e, "sip:g@f", "239.0.0.1", 4000, 4002) != 0) abort();
  uint64_t now = 1000;
  /* Some local activity so received messages meet every state. */
  (void)prose_call_group_call(e, now, "sip:g@f", PROSE_MONP_CALL_BASIC_GROUP);
  (void)prose_call_private_call(e, now, "sip:peer@f", PROSE_MONP_COMMENCEMENT_MANUAL, false);
  (void)prose_call_recv(e, now, data, size, "fuzz");
  size_t off = 0;
  while (off < size) {
    size_t n = data[off++];
    if (n > size - off) n = size - off;
    (void)prose_call_recv(e, now, data + off, n, "fuzz");
    off += n;
    now += 50;
    (void)prose_call_on_timeout(e, now);
    if (n % 7 == 3) (void)prose_call_private_accept(e, now, "sip:peer@f");
    if (n % 11 == 5) (void)prose_call_group_accept(e, now, "sip:g@f");
  }
  for (int i = 0; i < 40; i++) {
    now += 1000;
    (void)prose_call_on_timeout(e, now);
    uint64_t d = prose_call_next_deadline(e);
    if (d != UINT64_MAX && d <= now) abort(); /* every due timer ran */
  }
  prose_call_engine_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  prose_monp_msg m;
  if (prose_monp_decode(data, size, &m) == 0) check_codec(&m);
  run_engine(data, size);
  return 0;
}
