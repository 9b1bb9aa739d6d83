/*
 * The messages an off-network floor participant sends, with the fields of
 * the off-network rows of TS 24.380 8.2.4 - 8.2.10 (DIGEST §8.2). Each
 * builder fills a prose_floor_msg, encodes it into the engine's transmit
 * buffer and hands it to the send callback: floor messages always go to
 * every participant of the call (24.380 7.1).
 */
#include <string.h>

#include "floor_internal.h"
#include "prose/floor_msg.h"

static prose_floor_view view_of(const fl_party *p) {
  prose_floor_view v = {(const uint8_t *)p->id, p->id_len};
  return v;
}

/* Floor Indicator for a message about a participant of class `cls`:
 * the call type bits, and queueing support when configured. */
static uint16_t indicator(const prose_floor *f, uint8_t cls) {
  uint16_t ind = 0;
  if (cls == FL_CLASS_EMERGENCY)
    ind |= PROSE_FLOOR_IND_EMERGENCY;
  else if (cls == FL_CLASS_IMMINENT_PERIL)
    ind |= PROSE_FLOOR_IND_IMMINENT_PERIL;
  else
    ind |= PROSE_FLOOR_IND_NORMAL;
  if (f->s.call_flags & PROSE_FLOOR_CALL_BROADCAST) ind |= PROSE_FLOOR_IND_BROADCAST;
  if (f->s.queueing) ind |= PROSE_FLOOR_IND_QUEUEING;
  return ind;
}

static void set_u16(prose_floor_msg *m, prose_floor_field fld, uint16_t *slot, uint16_t v) {
  *slot = v;
  m->present |= PROSE_FLOOR_HAS(fld);
}

static void set_str(prose_floor_msg *m, prose_floor_field fld, prose_floor_view *slot,
                    const fl_party *p) {
  *slot = view_of(p);
  m->present |= PROSE_FLOOR_HAS(fld);
}

static void set_priority(prose_floor_msg *m, uint8_t level) {
  m->priority = level;
  m->present |= PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_PRIORITY);
}

static void transmit(prose_floor *f, const prose_floor_msg *m) {
  size_t n = 0;
  if (prose_floor_msg_encode(m, f->tx, sizeof f->tx, &n) != 0) {
    /* Every field comes from bounded engine state, so this cannot fail;
     * count it rather than send half a message. */
    f->stats.tx_failed++;
    return;
  }
  f->in_callback = true;
  int rc = f->cb.send(f->ud, f->tx, n);
  f->in_callback = false;
  if (rc != 0)
    f->stats.tx_failed++;
  else
    f->stats.tx_msgs++;
}

/* Floor Request: Floor Priority, User ID, Floor Indicator. */
void prose__floor_send_request(prose_floor *f) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_REQUEST, f->own.ssrc);
  set_priority(&m, f->own.level);
  set_str(&m, PROSE_FLOOR_FLD_USER_ID, &m.user_id, &f->own);
  set_u16(&m, PROSE_FLOOR_FLD_INDICATOR, &m.indicator, indicator(f, f->own.cls));
  transmit(f, &m);
}

/* Floor Granted: Duration, SSRC of the granted participant, Floor
 * Priority, User ID of the granted user, Queue Size and the queue, Floor
 * Indicator. Duration is the talk time this client allows (T206 + T207). */
void prose__floor_send_granted(prose_floor *f, const fl_party *to) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_GRANTED, f->own.ssrc);
  uint64_t ms = (uint64_t)f->s.timer_ms[PROSE_FLOOR_T206] + f->s.timer_ms[PROSE_FLOOR_T207];
  uint64_t secs = (ms + 999u) / 1000u;
  set_u16(&m, PROSE_FLOOR_FLD_DURATION, &m.duration, (uint16_t)(secs > 0xFFFFu ? 0xFFFFu : secs));
  m.field_ssrc = to->ssrc;
  m.present |= PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_SSRC);
  set_priority(&m, to->level);
  /* A grantee adopted from another arbitrator's queue list may be known by
   * SSRC only; the SSRC field then names it alone (an empty User ID field
   * is not allowed). */
  if (to->id_len) set_str(&m, PROSE_FLOOR_FLD_USER_ID, &m.user_id, to);
  set_u16(&m, PROSE_FLOOR_FLD_QUEUE_SIZE, &m.queue_size, (uint16_t)f->n_queue);
  m.n_queue = f->n_queue;
  for (size_t i = 0; i < f->n_queue; i++) {
    prose_floor_qentry *e = &m.queue[i];
    e->ssrc = f->queue[i].ssrc;
    e->user_id = view_of(&f->queue[i]);
    e->has_info = true;
    e->position = (uint8_t)(i + 1);
    e->priority = f->queue[i].level;
  }
  set_u16(&m, PROSE_FLOOR_FLD_INDICATOR, &m.indicator, indicator(f, to->cls));
  transmit(f, &m);
}

/* Floor Taken: Granted Party's Identity, Permission to Request the Floor,
 * User ID, Message Sequence Number, Floor Indicator; plus Floor Priority,
 * which 24.380 does not list for Floor Taken: prose sends it so that the
 * tie-break between two clients that both took the floor can compare
 * priority levels. It is a known field, so other receivers decode it
 * cleanly and may ignore it. */
void prose__floor_send_taken(prose_floor *f) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_TAKEN, f->own.ssrc);
  set_str(&m, PROSE_FLOOR_FLD_GRANTED_PARTY, &m.granted_party, &f->own);
  bool broadcast = (f->s.call_flags & PROSE_FLOOR_CALL_BROADCAST) != 0;
  set_u16(&m, PROSE_FLOOR_FLD_PERMISSION, &m.permission, (uint16_t)(broadcast ? 0u : 1u));
  set_priority(&m, f->own.level);
  set_str(&m, PROSE_FLOOR_FLD_USER_ID, &m.user_id, &f->own);
  f->taken_seq++;
  set_u16(&m, PROSE_FLOOR_FLD_SEQ, &m.seq, f->taken_seq);
  set_u16(&m, PROSE_FLOOR_FLD_INDICATOR, &m.indicator, indicator(f, f->own.cls));
  transmit(f, &m);
}

/* Floor Deny: Reject Cause, User ID of the denied user, Floor Indicator. */
void prose__floor_send_deny(prose_floor *f, const fl_party *to, uint16_t cause) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_DENY, f->own.ssrc);
  set_u16(&m, PROSE_FLOOR_FLD_REJECT_CAUSE, &m.reject_cause, cause);
  set_str(&m, PROSE_FLOOR_FLD_USER_ID, &m.user_id, to);
  set_u16(&m, PROSE_FLOOR_FLD_INDICATOR, &m.indicator, indicator(f, f->own.cls));
  transmit(f, &m);
}

/* Floor Release: User ID, Floor Indicator. */
void prose__floor_send_release(prose_floor *f) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_RELEASE, f->own.ssrc);
  set_str(&m, PROSE_FLOOR_FLD_USER_ID, &m.user_id, &f->own);
  set_u16(&m, PROSE_FLOOR_FLD_INDICATOR, &m.indicator, indicator(f, f->own.cls));
  transmit(f, &m);
}

/* Floor Queue Position Request: User ID. */
void prose__floor_send_queue_pos_request(prose_floor *f) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_QUEUE_POS_REQUEST, f->own.ssrc);
  set_str(&m, PROSE_FLOOR_FLD_USER_ID, &m.user_id, &f->own);
  transmit(f, &m);
}

/* Floor Queue Position Info: User ID (of the arbitrator), SSRC and Queued
 * User ID of the queued participant, Queue Info, Floor Indicator. */
void prose__floor_send_queue_pos_info(prose_floor *f, const fl_party *to, uint8_t position) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_QUEUE_POS_INFO, f->own.ssrc);
  set_str(&m, PROSE_FLOOR_FLD_USER_ID, &m.user_id, &f->own);
  m.field_ssrc = to->ssrc;
  m.present |= PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_SSRC);
  if (to->id_len) set_str(&m, PROSE_FLOOR_FLD_QUEUED_USER_ID, &m.queued_user_id, to);
  m.queue_position = position;
  m.queue_priority = to->level;
  m.present |= PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUE_INFO);
  set_u16(&m, PROSE_FLOOR_FLD_INDICATOR, &m.indicator, indicator(f, f->own.cls));
  transmit(f, &m);
}
