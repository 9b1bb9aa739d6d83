#include "floor_testlib.h"

#include <criterion/criterion.h>
#include <string.h>

#include "prose/err.h"

static void copy_view(char *dst, const prose_floor_view *v) {
  size_t n = v->len < FT_ID_LEN - 1 ? v->len : FT_ID_LEN - 1;
  if (n) memcpy(dst, v->p, n);
  dst[n] = '\0';
}

static int rec_send(void *ud, const uint8_t *b, size_t n) {
  ft_rec *r = ud;
  cr_assert_lt(r->n_sent, FT_MAX_SENT, "%s: too many messages sent", r->name);
  ft_sent *s = &r->sent[r->n_sent++];
  memset(s, 0, sizeof *s);
  prose_floor_msg m;
  int rc = prose_floor_msg_decode(b, n, &m);
  cr_assert_eq(rc, 0, "%s: engine sent a message its own decoder rejects: %s", r->name,
               prose_err_name(rc));
  s->type = m.type;
  s->ssrc = m.ssrc;
  s->has_field_ssrc = (m.present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_SSRC)) != 0;
  s->field_ssrc = m.field_ssrc;
  copy_view(s->user_id, &m.user_id);
  copy_view(s->queued_user_id, &m.queued_user_id);
  s->cause = m.reject_cause;
  s->queue_position = m.queue_position;
  s->priority = m.priority;
  s->indicator = m.indicator;
  s->n_queue = m.n_queue;
  for (size_t i = 0; i < m.n_queue; i++) s->queue_ssrc[i] = m.queue[i].ssrc;
  s->at = r->now;
  cr_assert_leq(n, sizeof s->bytes);
  memcpy(s->bytes, b, n);
  s->len = n;
  if (r->reenter) r->reenter_rc = prose_floor_ptt_press(r->reenter, r->now, -1);
  if (r->on_send) r->on_send(r->ctx, b, n);
  return r->send_rc;
}

static void rec_event(void *ud, const prose_floor_event *ev) {
  ft_rec *r = ud;
  cr_assert_lt(r->n_events, FT_MAX_EVENTS, "%s: too many events", r->name);
  if (ev->type == PROSE_FLOOR_EV_STATE) {
    /* The trace is a chain: each transition starts where the last ended,
     * and goes somewhere else. */
    cr_assert_eq(ev->old_state, r->traced, "%s: trace %s -> %s but was in %s", r->name,
                 prose_floor_state_name(ev->old_state), prose_floor_state_name(ev->new_state),
                 prose_floor_state_name(r->traced));
    cr_assert_neq(ev->old_state, ev->new_state, "%s: empty transition", r->name);
    r->traced = ev->new_state;
  } else {
    cr_assert_eq(ev->new_state, r->traced, "%s: event in a state the trace did not announce",
                 r->name);
  }
  cr_assert_not_null(ev->user_id);
  ft_event *e = &r->events[r->n_events++];
  e->type = ev->type;
  e->old_state = ev->old_state;
  e->new_state = ev->new_state;
  e->trigger = ev->trigger;
  e->on = ev->on;
  e->known = ev->known;
  e->ssrc = ev->ssrc;
  e->cause = ev->cause;
  e->queue_position = ev->queue_position;
  e->now = ev->now;
  if (r->reenter) r->reenter_rc = prose_floor_rtp(r->reenter, r->now, 1);
}

const prose_floor_callbacks ft_callbacks = {rec_send, rec_event};

void ft_rec_init(ft_rec *r, const char *name) {
  memset(r, 0, sizeof *r);
  r->name = name;
  r->traced = PROSE_FLOOR_START_STOP;
}

size_t ft_count_events(const ft_rec *r, prose_floor_event_type t, size_t from) {
  size_t n = 0;
  for (size_t i = from; i < r->n_events; i++) n += r->events[i].type == t;
  return n;
}

size_t ft_count_sent(const ft_rec *r, uint8_t type, size_t from) {
  size_t n = 0;
  for (size_t i = from; i < r->n_sent; i++) n += r->sent[i].type == type;
  return n;
}

const ft_event *ft_last_event(const ft_rec *r, prose_floor_event_type t) {
  for (size_t i = r->n_events; i > 0; i--)
    if (r->events[i - 1].type == t) return &r->events[i - 1];
  return NULL;
}

const ft_sent *ft_last_sent(const ft_rec *r) { return r->n_sent ? &r->sent[r->n_sent - 1] : NULL; }

void ft_settings(prose_floor_settings *s, uint32_t ssrc, const char *id, uint8_t priority) {
  prose_floor_settings_default(s);
  s->ssrc = ssrc;
  s->user_id = id;
  s->priority = priority;
}

static prose_floor_view sv(const char *s) {
  prose_floor_view v = {(const uint8_t *)s, s ? strlen(s) : 0};
  return v;
}

static size_t enc(const prose_floor_msg *m, uint8_t *out) {
  size_t n = 0;
  int rc = prose_floor_msg_encode(m, out, PROSE_FLOOR_MSG_MAX, &n);
  cr_assert_eq(rc, 0, "test builder: %s", prose_err_name(rc));
  return n;
}

#define SET(m, fld) ((m).present |= PROSE_FLOOR_HAS(fld))

static uint16_t ind_or_default(uint16_t ind) {
  return ind ? ind : (uint16_t)(PROSE_FLOOR_IND_NORMAL | PROSE_FLOOR_IND_QUEUEING);
}

size_t ft_request(uint8_t *out, uint32_t from, const char *id, uint8_t prio, uint16_t ind) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_REQUEST, from);
  m.priority = prio;
  SET(m, PROSE_FLOOR_FLD_PRIORITY);
  m.user_id = sv(id);
  SET(m, PROSE_FLOOR_FLD_USER_ID);
  m.indicator = ind_or_default(ind);
  SET(m, PROSE_FLOOR_FLD_INDICATOR);
  return enc(&m, out);
}

size_t ft_granted(uint8_t *out, uint32_t from, uint32_t to_ssrc, const char *to_id, uint8_t prio,
                  size_t n_queue, const uint32_t *queue_ssrc) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_GRANTED, from);
  m.duration = 30;
  SET(m, PROSE_FLOOR_FLD_DURATION);
  m.field_ssrc = to_ssrc;
  SET(m, PROSE_FLOOR_FLD_SSRC);
  m.priority = prio;
  SET(m, PROSE_FLOOR_FLD_PRIORITY);
  m.user_id = sv(to_id);
  SET(m, PROSE_FLOOR_FLD_USER_ID);
  m.queue_size = (uint16_t)n_queue;
  SET(m, PROSE_FLOOR_FLD_QUEUE_SIZE);
  m.n_queue = n_queue;
  for (size_t i = 0; i < n_queue; i++) {
    m.queue[i].ssrc = queue_ssrc[i];
    m.queue[i].has_info = true;
    m.queue[i].position = (uint8_t)(i + 1);
  }
  m.indicator = ind_or_default(0);
  SET(m, PROSE_FLOOR_FLD_INDICATOR);
  return enc(&m, out);
}

size_t ft_deny(uint8_t *out, uint32_t from, const char *to_id, uint16_t cause) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_DENY, from);
  m.reject_cause = cause;
  SET(m, PROSE_FLOOR_FLD_REJECT_CAUSE);
  m.user_id = sv(to_id);
  SET(m, PROSE_FLOOR_FLD_USER_ID);
  return enc(&m, out);
}

size_t ft_release(uint8_t *out, uint32_t from, const char *id) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_RELEASE, from);
  m.user_id = sv(id);
  SET(m, PROSE_FLOOR_FLD_USER_ID);
  return enc(&m, out);
}

size_t ft_taken(uint8_t *out, uint32_t from, const char *id, uint8_t prio, bool permission) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_TAKEN, from);
  m.granted_party = sv(id);
  SET(m, PROSE_FLOOR_FLD_GRANTED_PARTY);
  m.permission = permission ? 1 : 0;
  SET(m, PROSE_FLOOR_FLD_PERMISSION);
  m.priority = prio;
  SET(m, PROSE_FLOOR_FLD_PRIORITY);
  m.user_id = sv(id);
  SET(m, PROSE_FLOOR_FLD_USER_ID);
  m.seq = 1;
  SET(m, PROSE_FLOOR_FLD_SEQ);
  m.indicator = ind_or_default(0);
  SET(m, PROSE_FLOOR_FLD_INDICATOR);
  return enc(&m, out);
}

size_t ft_qpr(uint8_t *out, uint32_t from, const char *id) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_QUEUE_POS_REQUEST, from);
  m.user_id = sv(id);
  SET(m, PROSE_FLOOR_FLD_USER_ID);
  return enc(&m, out);
}

size_t ft_qpi(uint8_t *out, uint32_t from, const char *from_id, uint32_t queued_ssrc,
              const char *queued_id, uint8_t pos) {
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_QUEUE_POS_INFO, from);
  m.user_id = sv(from_id);
  SET(m, PROSE_FLOOR_FLD_USER_ID);
  m.field_ssrc = queued_ssrc;
  SET(m, PROSE_FLOOR_FLD_SSRC);
  m.queued_user_id = sv(queued_id);
  SET(m, PROSE_FLOOR_FLD_QUEUED_USER_ID);
  m.queue_position = pos;
  SET(m, PROSE_FLOOR_FLD_QUEUE_INFO);
  m.indicator = ind_or_default(0);
  SET(m, PROSE_FLOOR_FLD_INDICATOR);
  return enc(&m, out);
}
