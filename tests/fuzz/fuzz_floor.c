/*
 * libFuzzer target for the floor control codec and state machine.
 *
 * 1. Split the input into RTCP packets (prose_floor_rtcp_next) and decode
 *    each with prose_floor_msg_decode. What decodes must re-encode, decode
 *    again to the same fields, and re-encode to the same octets (the codec
 *    is stable after one round); the canonical encoding is never longer
 *    than the input packet, and as long unless fields or RTCP padding were
 *    skipped.
 * 2. Feed the whole input as one datagram to a fresh engine put in one of
 *    several states (chosen by the input length), then run its timers: the
 *    engine must keep its invariants and every datagram it sends must
 *    decode.
 * 3. Replay each RTCP packet of the input as its own datagram, with user
 *    actions and timer expiries in between (multi-packet seeds).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prose/buf.h"
#include "prose/err.h"
#include "prose/floor.h"
#include "prose/floor_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool view_eq(prose_floor_view a, prose_floor_view b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static void check_same(const prose_floor_msg *a, const prose_floor_msg *b) {
  if (a->type != b->type || a->ack_required != b->ack_required || a->ssrc != b->ssrc ||
      a->present != b->present || a->priority != b->priority || a->duration != b->duration ||
      a->reject_cause != b->reject_cause || !view_eq(a->reject_phrase, b->reject_phrase) ||
      a->queue_position != b->queue_position || a->queue_priority != b->queue_priority ||
      !view_eq(a->granted_party, b->granted_party) || a->permission != b->permission ||
      !view_eq(a->user_id, b->user_id) || a->queue_size != b->queue_size || a->seq != b->seq ||
      !view_eq(a->queued_user_id, b->queued_user_id) || a->source != b->source ||
      a->acked_type != b->acked_type || a->indicator != b->indicator ||
      a->field_ssrc != b->field_ssrc || a->n_queue != b->n_queue)
    abort();
  for (size_t i = 0; i < a->n_queue; i++) {
    const prose_floor_qentry *x = &a->queue[i], *y = &b->queue[i];
    if (x->ssrc != y->ssrc || !view_eq(x->user_id, y->user_id) || x->has_info != y->has_info ||
        (x->has_info && (x->position != y->position || x->priority != y->priority)))
      abort();
  }
}

static void check_codec(const uint8_t *pkt, size_t n, const prose_floor_msg *m) {
  static uint8_t enc[PROSE_FLOOR_MSG_MAX], enc2[PROSE_FLOOR_MSG_MAX];
  size_t n1 = 0, n2 = 0;
  prose_floor_msg m2, m3;
  if (prose_floor_msg_encode(m, enc, sizeof enc, &n1) != 0) abort();
  if (n1 > n) abort(); /* canonical form only drops skipped fields and padding */
  if (prose_floor_msg_decode(enc, n1, &m2) != 0) abort();
  check_same(m, &m2);
  if (m2.legacy_ids || m2.n_unknown) abort();
  if (prose_floor_msg_encode(&m2, enc2, sizeof enc2, &n2) != 0) abort();
  if (n2 != n1 || memcmp(enc, enc2, n1) != 0) abort();
  if (prose_floor_msg_decode(enc2, n2, &m3) != 0) abort();
  check_same(m, &m3);
  /* Only skipped fields and RTCP padding make the canonical form shorter. */
  if (!m->n_unknown && (pkt[0] & 0x20u) == 0 && n1 != n) abort();
}

static void fuzz_codec(const uint8_t *data, size_t size) {
  size_t off = 0;
  while (off < size) {
    size_t n;
    uint8_t pt;
    int rc = prose_floor_rtcp_next(data + off, size - off, &n, &pt);
    if (rc) {
      if (rc != PROSE_ETRUNC && rc != PROSE_EFLOOR_RTCP && rc != PROSE_EOVERLONG) abort();
      return;
    }
    if (n < 4 || n > size - off) abort();
    prose_floor_msg m;
    rc = prose_floor_msg_decode(data + off, n, &m);
    if (rc == 0)
      check_codec(data + off, n, &m);
    else if (!prose_err_is_malformed(rc))
      abort(); /* every decode failure is a malformed-input code */
    off += n;
  }
}

/* ------------------------------------------------------------------ */

static int fz_send(void *ud, const uint8_t *b, size_t n) {
  (void)ud;
  prose_floor_msg m;
  if (prose_floor_msg_decode(b, n, &m) != 0) abort();
  return 0;
}

static void fz_event(void *ud, const prose_floor_event *ev) {
  (void)ud;
  if ((unsigned)ev->new_state >= PROSE_FLOOR_STATE_COUNT || ev->user_id == NULL) abort();
}

static void check_engine(const prose_floor *f, uint64_t now) {
  prose_floor_state s = prose_floor_get_state(f);
  if ((unsigned)s >= PROSE_FLOOR_STATE_COUNT) abort();
  if (prose_floor_may_send_media(f) != (s == PROSE_FLOOR_O_HAS_PERMISSION)) abort();
  if (prose_floor_queue_len(f) > PROSE_FLOOR_QUEUE_MAX) abort();
  uint64_t d = prose_floor_next_deadline(f);
  if (d != UINT64_MAX && d <= now) abort(); /* on_timeout ran everything due */
}

static void fuzz_engine(const uint8_t *data, size_t size) {
  static const prose_floor_callbacks cb = {fz_send, fz_event};
  prose_floor_settings s;
  prose_floor_settings_default(&s);
  s.ssrc = 0xA;
  s.user_id = "sip:a@x";
  s.priority = 5;
  s.call_flags = (size % 7 == 6) ? PROSE_FLOOR_CALL_PRIVATE : 0;
  prose_floor *f;
  if (prose_floor_new(&f, &s, &cb, NULL) != 0) abort();
  uint64_t now = 1000;
  switch (size % 5) {
    case 0: prose_floor_start(f, now, PROSE_FLOOR_ROLE_TERMINATING); break;
    case 1: prose_floor_start(f, now, PROSE_FLOOR_ROLE_ORIGINATOR); break;
    case 2:
      prose_floor_start(f, now, PROSE_FLOOR_ROLE_TERMINATING);
      prose_floor_ptt_press(f, now, -1);
      break;
    case 3:
      prose_floor_start(f, now, PROSE_FLOOR_ROLE_TERMINATING);
      prose_floor_rtp(f, now, 0xB);
      prose_floor_ptt_press(f, now, -1);
      break;
    default: break; /* Start-stop */
  }
  int rc = prose_floor_recv(f, now + 1, data, size);
  if (rc > 0 || (rc < 0 && !prose_err_is_malformed(rc))) abort();
  check_engine(f, 0);
  for (int i = 0; i < 8; i++) {
    uint64_t d = prose_floor_next_deadline(f);
    if (d == UINT64_MAX) break;
    now = d;
    if (prose_floor_on_timeout(f, now) != 0) abort();
    check_engine(f, now);
  }
  prose_floor_del(f);
}

/* Sequences: each RTCP packet of the input as its own datagram, with a
 * user action and the next timer in between, so that multi-packet inputs
 * walk the machine through several states. */
static void fuzz_sequence(const uint8_t *data, size_t size) {
  static const prose_floor_callbacks cb = {fz_send, fz_event};
  prose_floor_settings s;
  prose_floor_settings_default(&s);
  s.ssrc = 0xA;
  s.user_id = "sip:a@x";
  s.priority = 5;
  s.queue_capacity = 2;
  prose_floor *f;
  if (prose_floor_new(&f, &s, &cb, NULL) != 0) abort();
  uint64_t now = 1;
  prose_floor_start(f, now,
                    (size & 1) ? PROSE_FLOOR_ROLE_ORIGINATOR : PROSE_FLOOR_ROLE_TERMINATING);
  size_t off = 0, n;
  uint8_t pt;
  for (unsigned k = 0; off < size && prose_floor_rtcp_next(data + off, size - off, &n, &pt) == 0;
       k++, off += n) {
    prose_floor_recv(f, ++now, data + off, n);
    check_engine(f, 0);
    switch ((data[off + n - 1] ^ k) % 6u) {
      case 0: prose_floor_ptt_press(f, ++now, data[off + n - 1] % 3 ? -1 : 9); break;
      case 1: prose_floor_ptt_release(f, ++now); break;
      case 2: prose_floor_rtp(f, ++now, n > 7 ? prose_get_u32(data + off + 4) : 0xB); break;
      case 3: prose_floor_cancel(f, ++now); break;
      case 4: prose_floor_queue_position(f, ++now); break;
      default: break;
    }
    uint64_t d = prose_floor_next_deadline(f);
    if (d != UINT64_MAX) {
      now = d > now ? d : now;
      if (prose_floor_on_timeout(f, now) != 0) abort();
    }
    check_engine(f, now);
  }
  prose_floor_del(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_codec(data, size);
  fuzz_engine(data, size);
  fuzz_sequence(data, size);
  return 0;
}
