/*
 * Off-network floor participant (TS 24.380 clause 7.2; transitions as in
 * Annex C.2, Table C.2.1-1; DIGEST §8.3).
 *
 * Timers (24.380 clause 11; defaults in prose_floor_settings_default):
 *   T201 Floor Request  armed when a Floor Request is sent ('O: pending
 *                       request'); on expiry the request is resent while
 *                       C201 is below its limit. At the limit, with no
 *                       arbitrator heard (T203 stopped) the client takes
 *                       the floor with Floor Taken; with an arbitrator that
 *                       never answered, the request fails.
 *   T203 end of RTP     restarted by RTP media and floor messages from the
 *                       floor holder; on expiry the holder is considered
 *                       gone: 'O: has no permission' -> 'O: silence';
 *                       'O: queued' -> request again while PTT is pressed,
 *                       else the request fails; 'O: pending request'
 *                       forgets the arbitrator.
 *   T204 Queue Position armed when the user asks for the queue position
 *                       ('O: queued'); the Floor Queue Position Request is
 *                       resent while C204 is below its limit, then the
 *                       queued request is given up.
 *   T205 Floor Granted  armed when this arbitrator sends Floor Granted
 *                       ('O: pending granted'); resent while C205 is below
 *                       its limit; then a grantee taken from the queue gets
 *                       T233 to accept, any other is given up and the next
 *                       queued request is granted (or the floor falls silent).
 *   T206 stop-talking warning  armed on entering 'O: has permission'; on
 *                       expiry the user is warned and T207 starts.
 *   T207 stop talking   on expiry the talk burst ends as if PTT were
 *                       released (the floor goes to the queue or is released).
 *   T230 inactivity     armed on entering 'O: silence'; on expiry the floor
 *                       control session ends ('Start-stop').
 *   T233 pending user action  'O: queued': armed when our queued request is
 *                       granted while PTT is up; a PTT press accepts, expiry
 *                       declines with Floor Release. 'O: pending granted':
 *                       the time a queued grantee has to accept; expiry
 *                       grants the next queued request.
 * Counters: C201 Floor Requests sent, C204 Queue Position Requests sent,
 * C205 Floor Granted sent, each counted from 1 in the current attempt.
 *
 * Timers live in one deadline array; entering a state stops every timer
 * that state does not use (state_timers below), so a timer can only fire
 * in a state that armed it.
 *
 * Every transition goes through enter_state(), which emits the trace event
 * (old state, new state, trigger) and runs the entry actions. Each input
 * has one on_<event>() handler that switches on the state and handles every
 * state explicitly, including the ones where the input is ignored.
 *
 * Choices where the digest is silent or marked [A]/[I] (see also floor.h):
 *  - The originator announces itself with Floor Taken (the digest reports
 *    NIST sending Floor Granted to itself; either puts listeners in 'O: has
 *    no permission'). prose accepts both.
 *  - C201 at its limit takes the floor only when no arbitrator has been
 *    heard within T203; otherwise the request failed (no answer).
 *  - Floor Release from a participant other than the known floor holder
 *    withdraws that participant's request; it does not free the floor.
 *  - PTT release withdraws a pending request (Floor Release) but not a
 *    queued one; prose_floor_cancel withdraws either.
 *  - A request reaching 'O: pending granted' from someone other than the
 *    grantee is denied with cause 1 (DIGEST §8.3); the grantee's own
 *    retransmitted request gets the grant again.
 *  - Requests are queued only when this client supports queueing and the
 *    request's Floor Indicator says the requester does.
 *  - Floor Taken carries Floor Priority too, for the tie-break.
 */
#include "prose/floor.h"

#include <stdlib.h>
#include <string.h>

#include "floor_internal.h"
#include "prose/buf.h"
#include "prose/err.h"

/* ------------------------------------------------------------------ */
/* Names                                                              */

const char *prose_floor_state_name(prose_floor_state s) {
  switch (s) {
    case PROSE_FLOOR_START_STOP: return "Start-stop";
    case PROSE_FLOOR_O_SILENCE: return "O: silence";
    case PROSE_FLOOR_O_HAS_NO_PERMISSION: return "O: has no permission";
    case PROSE_FLOOR_O_PENDING_REQUEST: return "O: pending request";
    case PROSE_FLOOR_O_HAS_PERMISSION: return "O: has permission";
    case PROSE_FLOOR_O_PENDING_GRANTED: return "O: pending granted";
    case PROSE_FLOOR_O_QUEUED: return "O: queued";
  }
  return "unknown";
}

const char *prose_floor_timer_name(prose_floor_timer t) {
  static const char *const names[PROSE_FLOOR_TIMER_COUNT] = {"T201", "T203", "T204", "T205",
                                                             "T206", "T207", "T230", "T233"};
  return (unsigned)t < PROSE_FLOOR_TIMER_COUNT ? names[t] : "unknown";
}

const char *prose_floor_trigger_name(prose_floor_trigger t) {
  static const char *const names[PROSE_FLOOR_TRIG_COUNT] = {"call start",
                                                            "call release",
                                                            "PTT pressed",
                                                            "PTT released",
                                                            "queue position",
                                                            "request cancelled",
                                                            "RTP media",
                                                            "R: Floor Request",
                                                            "R: Floor Granted",
                                                            "R: Floor Deny",
                                                            "R: Floor Release",
                                                            "R: Floor Taken",
                                                            "R: Floor Queue Position Request",
                                                            "R: Floor Queue Position Info",
                                                            "T201 expired",
                                                            "T203 expired",
                                                            "T204 expired",
                                                            "T205 expired",
                                                            "T206 expired",
                                                            "T207 expired",
                                                            "T230 expired",
                                                            "T233 expired",
                                                            "C201 limit",
                                                            "C204 limit",
                                                            "C205 limit"};
  return (unsigned)t < PROSE_FLOOR_TRIG_COUNT ? names[t] : "unknown";
}

/* ------------------------------------------------------------------ */
/* Settings and life cycle                                            */

void prose_floor_settings_default(prose_floor_settings *s) {
  memset(s, 0, sizeof *s);
  s->timer_ms[PROSE_FLOOR_T201] = 40;
  s->timer_ms[PROSE_FLOOR_T203] = 4000;
  s->timer_ms[PROSE_FLOOR_T204] = 80;
  s->timer_ms[PROSE_FLOOR_T205] = 80;
  s->timer_ms[PROSE_FLOOR_T206] = 27000;
  s->timer_ms[PROSE_FLOOR_T207] = 3000;
  s->timer_ms[PROSE_FLOOR_T230] = 600000;
  s->timer_ms[PROSE_FLOOR_T233] = 3000;
  s->counter_max[PROSE_FLOOR_C201] = 3;
  s->counter_max[PROSE_FLOOR_C204] = 3;
  s->counter_max[PROSE_FLOOR_C205] = 4;
  s->queueing = true;
  s->queue_capacity = 8;
}

static int check_settings(const prose_floor_settings *s, const prose_floor_callbacks *cb) {
  if (!cb || !cb->send || !s->user_id) return PROSE_ECONFIG;
  size_t n = strlen(s->user_id);
  if (n == 0 || n > PROSE_FLOOR_ID_MAX) return PROSE_ECONFIG;
  if (s->queue_capacity == 0 || s->queue_capacity > PROSE_FLOOR_QUEUE_MAX) return PROSE_ECONFIG;
  /* A zero duration would let a timer re-arm at `now` for ever. */
  for (size_t i = 0; i < PROSE_FLOOR_TIMER_COUNT; i++)
    if (s->timer_ms[i] == 0) return PROSE_ECONFIG;
  for (size_t i = 0; i < PROSE_FLOOR_COUNTER_COUNT; i++)
    if (s->counter_max[i] == 0) return PROSE_ECONFIG;
  return 0;
}

static uint8_t own_class(const prose_floor_settings *s) {
  if (s->call_flags & PROSE_FLOOR_CALL_EMERGENCY) return FL_CLASS_EMERGENCY;
  if (s->call_flags & PROSE_FLOOR_CALL_IMMINENT_PERIL) return FL_CLASS_IMMINENT_PERIL;
  return FL_CLASS_NORMAL;
}

int prose_floor_new(prose_floor **out, const prose_floor_settings *s,
                    const prose_floor_callbacks *cb, void *user_data) {
  int rc = check_settings(s, cb);
  if (rc) return rc;
  prose_floor *f = calloc(1, sizeof *f);
  if (!f) return PROSE_ENOMEM;
  f->s = *s;
  f->cb = *cb;
  f->ud = user_data;
  prose_floor_view id = {(const uint8_t *)s->user_id, strlen(s->user_id)};
  prose__floor_party_set(&f->own, s->ssrc, &id, own_class(s), s->priority);
  f->s.user_id = f->own.id;
  f->state = PROSE_FLOOR_START_STOP;
  for (size_t i = 0; i < PROSE_FLOOR_TIMER_COUNT; i++) f->deadline[i] = FL_NEVER;
  f->peer_permits_request = true;
  *out = f;
  return 0;
}

void prose_floor_del(prose_floor *f) { free(f); }

/* ------------------------------------------------------------------ */
/* Timers, events, talker                                             */

static void arm(prose_floor *f, prose_floor_timer t, uint64_t now) {
  uint64_t d = f->s.timer_ms[t];
  f->deadline[t] = now > FL_NEVER - 1 - d ? FL_NEVER - 1 : now + d;
}
static void stop(prose_floor *f, prose_floor_timer t) { f->deadline[t] = FL_NEVER; }
static bool running(const prose_floor *f, prose_floor_timer t) {
  return f->deadline[t] != FL_NEVER;
}

static void emit(prose_floor *f, prose_floor_event *ev, uint64_t now, prose_floor_trigger trig) {
  ev->now = now;
  ev->trigger = trig;
  ev->new_state = f->state;
  if (ev->type != PROSE_FLOOR_EV_STATE) ev->old_state = f->state;
  if (!ev->user_id) ev->user_id = "";
  if (!f->cb.event) return;
  f->in_callback = true;
  f->cb.event(f->ud, ev);
  f->in_callback = false;
}

static void emit_simple(prose_floor *f, prose_floor_event_type type, uint64_t now,
                        prose_floor_trigger trig) {
  prose_floor_event ev = {.type = type};
  emit(f, &ev, now, trig);
}

static void emit_party(prose_floor *f, prose_floor_event_type type, const fl_party *p, uint64_t now,
                       prose_floor_trigger trig) {
  prose_floor_event ev = {.type = type, .known = p && p->known};
  if (p && p->known) {
    ev.ssrc = p->ssrc;
    ev.user_id = p->id;
  }
  emit(f, &ev, now, trig);
}

static void emit_denied(prose_floor *f, uint16_t cause, uint64_t now, prose_floor_trigger trig) {
  prose_floor_event ev = {.type = PROSE_FLOOR_EV_DENIED, .cause = cause};
  emit(f, &ev, now, trig);
}

static void emit_queued(prose_floor *f, uint64_t now, prose_floor_trigger trig) {
  prose_floor_event ev = {.type = PROSE_FLOOR_EV_QUEUED, .queue_position = f->queue_position};
  emit(f, &ev, now, trig);
}

/* The floor holder changed (or we learnt its MCPTT ID). */
static void set_talker(prose_floor *f, const fl_party *p, uint64_t now, prose_floor_trigger trig) {
  bool changed = !f->talker.known || f->talker.ssrc != p->ssrc;
  if (!changed && (p->id_len == 0 || f->talker.id_len != 0)) return;
  f->talker = *p;
  f->talker.known = true;
  if (changed) emit_party(f, PROSE_FLOOR_EV_TALKER, &f->talker, now, trig);
}

static void clear_talker(prose_floor *f, uint64_t now, prose_floor_trigger trig) {
  if (!f->talker.known) return;
  memset(&f->talker, 0, sizeof f->talker);
  emit_party(f, PROSE_FLOOR_EV_TALKER, NULL, now, trig);
}

static bool is_talker(const prose_floor *f, uint32_t ssrc) {
  return f->talker.known && f->talker.ssrc == ssrc;
}

/* ------------------------------------------------------------------ */
/* States: the one transition function and the entry actions          */

/* Timers each state may keep running (24.380 clause 11 "state" column). */
static uint32_t state_timers(prose_floor_state s) {
#define TB(t) (1u << (t))
  switch (s) {
    case PROSE_FLOOR_START_STOP: return 0;
    case PROSE_FLOOR_O_SILENCE: return TB(PROSE_FLOOR_T230);
    case PROSE_FLOOR_O_HAS_NO_PERMISSION: return TB(PROSE_FLOOR_T203);
    case PROSE_FLOOR_O_PENDING_REQUEST: return TB(PROSE_FLOOR_T201) | TB(PROSE_FLOOR_T203);
    case PROSE_FLOOR_O_HAS_PERMISSION: return TB(PROSE_FLOOR_T206) | TB(PROSE_FLOOR_T207);
    case PROSE_FLOOR_O_PENDING_GRANTED: return TB(PROSE_FLOOR_T205) | TB(PROSE_FLOOR_T233);
    case PROSE_FLOOR_O_QUEUED:
      return TB(PROSE_FLOOR_T203) | TB(PROSE_FLOOR_T204) | TB(PROSE_FLOOR_T233);
  }
  return 0;
#undef TB
}

/* Entry actions (24.380 7.2.x "shall enter the state ... and ..."). */
static void on_entry(prose_floor *f, uint64_t now, prose_floor_trigger trig) {
  switch (f->state) {
    case PROSE_FLOOR_START_STOP:
      f->n_queue = 0;
      f->ptt_held = false;
      clear_talker(f, now, trig);
      break;
    case PROSE_FLOOR_O_SILENCE:
      /* Nobody holds the floor: forget the holder and any queue, and let
       * everyone request again. */
      f->n_queue = 0;
      f->peer_permits_request = true;
      clear_talker(f, now, trig);
      arm(f, PROSE_FLOOR_T230, now);
      break;
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
      f->n_queue = 0;
      if (!running(f, PROSE_FLOOR_T203)) arm(f, PROSE_FLOOR_T203, now);
      break;
    case PROSE_FLOOR_O_PENDING_REQUEST:
      /* Send Floor Request, C201 = 1, start T201. */
      f->n_queue = 0;
      f->queue_position = 0;
      prose__floor_send_request(f);
      f->count[PROSE_FLOOR_C201] = 1;
      arm(f, PROSE_FLOOR_T201, now);
      break;
    case PROSE_FLOOR_O_HAS_PERMISSION:
      /* This client is now the temporary floor arbitrator (24.380 7.1). */
      f->queue_position = 0;
      f->conflict_quiet_until = 0;
      set_talker(f, &f->own, now, trig);
      arm(f, PROSE_FLOOR_T206, now);
      emit_simple(f, PROSE_FLOOR_EV_GRANTED, now, trig);
      break;
    case PROSE_FLOOR_O_PENDING_GRANTED:
      /* Send Floor Granted to the grantee, C205 = 1, start T205; the
       * grantee becomes the floor holder once its media arrives. */
      prose__floor_send_granted(f, &f->grantee);
      f->count[PROSE_FLOOR_C205] = 1;
      arm(f, PROSE_FLOOR_T205, now);
      set_talker(f, &f->grantee, now, trig);
      break;
    case PROSE_FLOOR_O_QUEUED: f->count[PROSE_FLOOR_C204] = 0; break;
  }
}

static void enter_state(prose_floor *f, uint64_t now, prose_floor_state next,
                        prose_floor_trigger trig) {
  prose_floor_state old = f->state;
  if (old == next) return;
  uint32_t keep = state_timers(next);
  for (unsigned t = 0; t < PROSE_FLOOR_TIMER_COUNT; t++)
    if (!(keep & (1u << t))) stop(f, (prose_floor_timer)t);
  f->state = next;
  f->stats.transitions++;
  prose_floor_event ev = {.type = PROSE_FLOOR_EV_STATE, .old_state = old};
  emit(f, &ev, now, trig);
  bool was = old == PROSE_FLOOR_O_HAS_PERMISSION, is = next == PROSE_FLOOR_O_HAS_PERMISSION;
  if (was != is) {
    prose_floor_event m = {.type = PROSE_FLOOR_EV_MEDIA, .on = is};
    emit(f, &m, now, trig);
  }
  on_entry(f, now, trig);
}

/* Where a client without the floor goes: someone still talks (T203 runs)
 * or nobody does. */
static prose_floor_state listening_state(const prose_floor *f) {
  return f->talker.known && running(f, PROSE_FLOOR_T203) ? PROSE_FLOOR_O_HAS_NO_PERMISSION
                                                         : PROSE_FLOOR_O_SILENCE;
}

static bool may_request(const prose_floor *f) {
  if ((f->s.call_flags & PROSE_FLOOR_CALL_BROADCAST) && !f->originator) return false;
  return f->peer_permits_request;
}

/* ------------------------------------------------------------------ */
/* Arbitrator actions                                                 */

/* Hand the floor to the head of the queue, or release it. Used when the
 * talk burst ends (PTT release, T207) in 'O: has permission'. */
static void end_talk(prose_floor *f, uint64_t now, prose_floor_trigger trig) {
  f->ptt_held = false;
  if (prose__floor_queue_pop(f, &f->grantee)) {
    f->grantee_from_queue = true;
    enter_state(f, now, PROSE_FLOOR_O_PENDING_GRANTED, trig);
    return;
  }
  prose__floor_send_release(f);
  enter_state(f, now, PROSE_FLOOR_O_SILENCE, trig);
}

/* 'O: pending granted' and the grantee never took the floor: grant the next
 * queued request (a self-transition, so the grant is repeated here), or
 * fall silent. */
static void grant_next(prose_floor *f, uint64_t now, prose_floor_trigger trig) {
  if (!prose__floor_queue_pop(f, &f->grantee)) {
    enter_state(f, now, PROSE_FLOOR_O_SILENCE, trig);
    return;
  }
  f->grantee_from_queue = true;
  stop(f, PROSE_FLOOR_T233);
  prose__floor_send_granted(f, &f->grantee);
  f->count[PROSE_FLOOR_C205] = 1;
  arm(f, PROSE_FLOOR_T205, now);
  set_talker(f, &f->grantee, now, trig);
}

/* A Floor Request reaches the arbitrator (24.380 7.2, 'O: has permission'):
 * pre-empt for a higher effective priority, else queue or deny. */
static void arbitrate(prose_floor *f, uint64_t now, const fl_party *p, uint16_t indicator) {
  int at = prose__floor_queue_find(f, p->ssrc);
  if (at >= 0) {
    /* A retransmitted request of a queued participant: repeat its position. */
    prose__floor_send_queue_pos_info(f, &f->queue[at], (uint8_t)(at + 1));
    return;
  }
  if (f->s.call_flags & PROSE_FLOOR_CALL_BROADCAST) {
    prose__floor_send_deny(f, p, PROSE_FLOOR_CAUSE_RECEIVE_ONLY);
    return;
  }
  if (prose__floor_prio_higher(p, &f->own)) {
    emit_party(f, PROSE_FLOOR_EV_REVOKED, p, now, PROSE_FLOOR_TRIG_RX_REQUEST);
    f->grantee = *p;
    f->grantee_from_queue = false;
    enter_state(f, now, PROSE_FLOOR_O_PENDING_GRANTED, PROSE_FLOOR_TRIG_RX_REQUEST);
    return;
  }
  /* Queue only when both ends support it (Floor Indicator "queueing supported"). */
  if (!f->s.queueing || !(indicator & PROSE_FLOOR_IND_QUEUEING)) {
    prose__floor_send_deny(f, p, PROSE_FLOOR_CAUSE_OTHER_HAS_PERMISSION);
    return;
  }
  uint8_t pos = prose__floor_queue_insert(f, p);
  if (pos == 0)
    prose__floor_send_deny(f, p, PROSE_FLOOR_CAUSE_QUEUE_FULL);
  else
    prose__floor_send_queue_pos_info(f, p, pos);
}

/* We keep the floor while another client acts as if it had it: resend
 * Floor Taken so it hears who holds the floor, at most once per T201 so two
 * clients cannot flood each other. */
static void assert_floor(prose_floor *f, uint64_t now) {
  if (now < f->conflict_quiet_until) return;
  prose__floor_send_taken(f);
  f->conflict_quiet_until = now + f->s.timer_ms[PROSE_FLOOR_T201];
}

/* This client holds the floor and another one claims it too (its Floor
 * Taken, a Floor Granted to it, or its RTP after a resent Floor Taken):
 * the tie-break of floor.h decides who keeps it. */
static void resolve_conflict(prose_floor *f, uint64_t now, const fl_party *other,
                             prose_floor_trigger trig) {
  if (prose__floor_wins_tie(other, &f->own)) {
    emit_party(f, PROSE_FLOOR_EV_REVOKED, other, now, trig);
    f->ptt_held = false;
    set_talker(f, other, now, trig);
    arm(f, PROSE_FLOOR_T203, now);
    enter_state(f, now, PROSE_FLOOR_O_HAS_NO_PERMISSION, trig);
    return;
  }
  assert_floor(f, now);
}

/* ------------------------------------------------------------------ */
/* User actions                                                       */

static int on_ptt_press(prose_floor *f, uint64_t now) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_PTT_PRESS;
  switch (f->state) {
    case PROSE_FLOOR_START_STOP: return PROSE_EINVAL; /* no floor control session */
    case PROSE_FLOOR_O_SILENCE:
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
      f->ptt_held = true;
      if (!may_request(f)) {
        /* Broadcast receivers and calls whose holder forbids requests
         * (Permission to Request the Floor = 0) cannot ask. */
        emit_denied(f, PROSE_FLOOR_CAUSE_RECEIVE_ONLY, now, trig);
        return 0;
      }
      enter_state(f, now, PROSE_FLOOR_O_PENDING_REQUEST, trig);
      return 0;
    case PROSE_FLOOR_O_PENDING_REQUEST:
    case PROSE_FLOOR_O_HAS_PERMISSION:
      f->ptt_held = true; /* already asking, or already talking */
      return 0;
    case PROSE_FLOOR_O_PENDING_GRANTED:
      /* The floor is being handed over; the user asks again once the
       * grantee talks ('O: has no permission'). */
      return 0;
    case PROSE_FLOOR_O_QUEUED:
      f->ptt_held = true;
      if (running(f, PROSE_FLOOR_T233)) {
        /* The user accepts the grant offered while queued. */
        enter_state(f, now, PROSE_FLOOR_O_HAS_PERMISSION, trig);
      }
      return 0;
  }
  return PROSE_EINTERNAL;
}

/* Withdraw our request: Floor Release tells the arbitrator to drop a
 * queued entry, and a contender that we no longer compete. */
static void withdraw(prose_floor *f, uint64_t now, prose_floor_trigger trig) {
  f->ptt_held = false;
  prose__floor_send_release(f);
  enter_state(f, now, listening_state(f), trig);
}

/* 'O: queued' and our entry is gone (the arbitrator left, or a new one
 * does not hold it). With PTT pressed ask again; otherwise the user only
 * learns that the request failed: a new request must not take the floor
 * for a user who is not pressing PTT. */
static void queue_entry_lost(prose_floor *f, uint64_t now, prose_floor_trigger trig) {
  if (f->ptt_held) {
    enter_state(f, now, PROSE_FLOOR_O_PENDING_REQUEST, trig);
    return;
  }
  enter_state(f, now, listening_state(f), trig);
  emit_simple(f, PROSE_FLOOR_EV_REQUEST_FAILED, now, trig);
}

static int on_ptt_release(prose_floor *f, uint64_t now) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_PTT_RELEASE;
  f->ptt_held = false;
  switch (f->state) {
    case PROSE_FLOOR_START_STOP:
    case PROSE_FLOOR_O_SILENCE:
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
    case PROSE_FLOOR_O_PENDING_GRANTED: return 0; /* nothing asked for, nothing to give back */
    case PROSE_FLOOR_O_QUEUED: return 0; /* stays queued; a later grant waits T233 for a press */
    case PROSE_FLOOR_O_PENDING_REQUEST: withdraw(f, now, trig); return 0;
    case PROSE_FLOOR_O_HAS_PERMISSION: end_talk(f, now, trig); return 0;
  }
  return PROSE_EINTERNAL;
}

static int on_cancel(prose_floor *f, uint64_t now) {
  switch (f->state) {
    case PROSE_FLOOR_START_STOP:
    case PROSE_FLOOR_O_SILENCE:
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
    case PROSE_FLOOR_O_HAS_PERMISSION:
    case PROSE_FLOOR_O_PENDING_GRANTED: return PROSE_EINVAL; /* no request to withdraw */
    case PROSE_FLOOR_O_PENDING_REQUEST:
    case PROSE_FLOOR_O_QUEUED: withdraw(f, now, PROSE_FLOOR_TRIG_CANCEL); return 0;
  }
  return PROSE_EINTERNAL;
}

/* ------------------------------------------------------------------ */
/* RTP media                                                          */

static void on_rtp(prose_floor *f, uint64_t now, uint32_t ssrc) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_RTP;
  fl_party p = {.known = true, .ssrc = ssrc};
  if (is_talker(f, ssrc)) p = f->talker;
  switch (f->state) {
    case PROSE_FLOOR_START_STOP: return;
    case PROSE_FLOOR_O_SILENCE:
      set_talker(f, &p, now, trig);
      arm(f, PROSE_FLOOR_T203, now);
      enter_state(f, now, PROSE_FLOOR_O_HAS_NO_PERMISSION, trig);
      return;
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
    case PROSE_FLOOR_O_QUEUED:
      set_talker(f, &p, now, trig);
      arm(f, PROSE_FLOOR_T203, now);
      return;
    case PROSE_FLOOR_O_PENDING_REQUEST:
      arm(f, PROSE_FLOOR_T203, now);
      if (!is_talker(f, ssrc)) {
        /* A new arbitrator: our requests now go to it, counted afresh. */
        set_talker(f, &p, now, trig);
        f->count[PROSE_FLOOR_C201] = 1;
        arm(f, PROSE_FLOOR_T201, now);
      }
      return;
    case PROSE_FLOOR_O_HAS_PERMISSION:
      /* Someone else talks while we hold the floor (both took it, or a
       * Floor Taken was lost): resend ours so the tie-break runs on the
       * other side; its own Floor Taken makes it run here. */
      assert_floor(f, now);
      return;
    case PROSE_FLOOR_O_PENDING_GRANTED:
      if (ssrc == f->grantee.ssrc) {
        /* The grantee talks: it is the arbitrator now. */
        arm(f, PROSE_FLOOR_T203, now);
        enter_state(f, now, PROSE_FLOOR_O_HAS_NO_PERMISSION, trig);
      }
      return; /* other media is stale; wait for the grantee */
  }
}

/* ------------------------------------------------------------------ */
/* Received floor messages                                            */

static bool id_is_me(const prose_floor *f, const prose_floor_view *v) {
  return v->len == f->own.id_len && memcmp(v->p, f->own.id, v->len) == 0;
}

/* Floor Granted and Queue Position Info name their participant by the SSRC
 * field when present (24.380 >= v14), else by MCPTT ID. */
static bool names_me(const prose_floor *f, const prose_floor_msg *m, const prose_floor_view *id) {
  if (m->present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_SSRC)) return m->field_ssrc == f->own.ssrc;
  return id_is_me(f, id);
}

static void on_request(prose_floor *f, uint64_t now, const prose_floor_msg *m) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_RX_REQUEST;
  fl_party p;
  prose__floor_party_set(&p, m->ssrc, &m->user_id, prose__floor_class(m->indicator), m->priority);
  switch (f->state) {
    case PROSE_FLOOR_START_STOP:
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
    case PROSE_FLOOR_O_QUEUED: return; /* the floor holder answers, not us */
    case PROSE_FLOOR_O_SILENCE:
      /* Group call: nobody arbitrates; the requester takes the floor after
       * C201 unanswered requests. Private call: the only other participant
       * asks, so grant it at once (Table C.2.1-1, "only private call"). */
      if (!(f->s.call_flags & PROSE_FLOOR_CALL_PRIVATE)) return;
      f->grantee = p;
      f->grantee_from_queue = false;
      enter_state(f, now, PROSE_FLOOR_O_PENDING_GRANTED, trig);
      return;
    case PROSE_FLOOR_O_PENDING_REQUEST:
      /* Two contenders and no arbitrator: the one that loses the tie-break
       * restarts its count, so the winner reaches C201 first and takes the
       * floor; the loser then asks the winner. */
      if (prose__floor_wins_tie(&p, &f->own)) {
        f->count[PROSE_FLOOR_C201] = 1;
        arm(f, PROSE_FLOOR_T201, now);
      }
      return;
    case PROSE_FLOOR_O_HAS_PERMISSION: arbitrate(f, now, &p, m->indicator); return;
    case PROSE_FLOOR_O_PENDING_GRANTED:
      if (p.ssrc == f->grantee.ssrc)
        prose__floor_send_granted(f, &f->grantee); /* its request crossed our grant */
      else
        prose__floor_send_deny(f, &p, PROSE_FLOOR_CAUSE_OTHER_HAS_PERMISSION);
      return;
  }
}

/* Our queued request was granted (24.380 7.2, 'O: queued'): with PTT still
 * pressed take the floor now, otherwise the user has T233 to accept. */
static void granted_while_queued(prose_floor *f, uint64_t now, const prose_floor_msg *m) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_RX_GRANTED;
  prose__floor_queue_adopt(f, m);
  if (f->ptt_held) {
    enter_state(f, now, PROSE_FLOOR_O_HAS_PERMISSION, trig);
    return;
  }
  if (running(f, PROSE_FLOOR_T233)) return; /* a retransmitted grant */
  arm(f, PROSE_FLOOR_T233, now);
  emit_simple(f, PROSE_FLOOR_EV_GRANT_OFFERED, now, trig);
}

/* The floor went to someone else while we are queued: the grant carries the
 * queue to the new arbitrator; if we are not in it, ask again. */
static void granted_other_while_queued(prose_floor *f, uint64_t now, const prose_floor_msg *m) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_RX_GRANTED;
  for (size_t i = 0; i < m->n_queue; i++) {
    if (m->queue[i].ssrc != f->own.ssrc) continue;
    f->queue_position = m->queue[i].has_info ? m->queue[i].position : (uint8_t)(i + 1);
    emit_queued(f, now, trig);
    return;
  }
  queue_entry_lost(f, now, trig);
}

static void on_granted(prose_floor *f, uint64_t now, const prose_floor_msg *m) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_RX_GRANTED;
  bool me = names_me(f, m, &m->user_id);
  fl_party g;
  uint32_t gssrc = (m->present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_SSRC)) ? m->field_ssrc : 0;
  prose__floor_party_set(&g, gssrc, &m->user_id, prose__floor_class(m->indicator), m->priority);
  switch (f->state) {
    case PROSE_FLOOR_START_STOP:
    case PROSE_FLOOR_O_PENDING_GRANTED:
      return; /* no session / we are handing the floor over ourselves */
    case PROSE_FLOOR_O_SILENCE:
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
      if (me) return; /* we asked nothing: a stale grant */
      set_talker(f, &g, now, trig);
      arm(f, PROSE_FLOOR_T203, now);
      enter_state(f, now, PROSE_FLOOR_O_HAS_NO_PERMISSION, trig);
      return;
    case PROSE_FLOOR_O_PENDING_REQUEST:
      if (me) {
        prose__floor_queue_adopt(f, m);
        enter_state(f, now, PROSE_FLOOR_O_HAS_PERMISSION, trig);
        return;
      }
      /* Granted to another contender: it is the next arbitrator; ask it. */
      set_talker(f, &g, now, trig);
      f->count[PROSE_FLOOR_C201] = 1;
      arm(f, PROSE_FLOOR_T201, now);
      arm(f, PROSE_FLOOR_T203, now);
      return;
    case PROSE_FLOOR_O_HAS_PERMISSION:
      if (!me) resolve_conflict(f, now, &g, trig);
      return;
    case PROSE_FLOOR_O_QUEUED:
      if (me) {
        granted_while_queued(f, now, m);
        return;
      }
      set_talker(f, &g, now, trig);
      arm(f, PROSE_FLOOR_T203, now);
      granted_other_while_queued(f, now, m);
      return;
  }
}

static void on_deny(prose_floor *f, uint64_t now, const prose_floor_msg *m) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_RX_DENY;
  switch (f->state) {
    case PROSE_FLOOR_START_STOP:
    case PROSE_FLOOR_O_SILENCE:
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
    case PROSE_FLOOR_O_HAS_PERMISSION:
    case PROSE_FLOOR_O_PENDING_GRANTED: return; /* no request of ours is outstanding */
    case PROSE_FLOOR_O_PENDING_REQUEST:
    case PROSE_FLOOR_O_QUEUED:
      if (!id_is_me(f, &m->user_id)) return;
      /* Someone holds the floor (the denier or its grantee): listen until
       * its media ends (T203). */
      arm(f, PROSE_FLOOR_T203, now);
      enter_state(f, now, PROSE_FLOOR_O_HAS_NO_PERMISSION, trig);
      emit_denied(f, m->reject_cause, now, trig);
      return;
  }
}

static void on_release(prose_floor *f, uint64_t now, const prose_floor_msg *m) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_RX_RELEASE;
  uint32_t from = m->ssrc;
  switch (f->state) {
    case PROSE_FLOOR_START_STOP:
    case PROSE_FLOOR_O_SILENCE: return;
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
      /* Only the holder's release frees the floor; another client's
       * release withdraws its own request. */
      if (f->talker.known && !is_talker(f, from)) return;
      enter_state(f, now, PROSE_FLOOR_O_SILENCE, trig);
      return;
    case PROSE_FLOOR_O_PENDING_REQUEST:
      if (!is_talker(f, from)) return;
      /* The arbitrator left without granting: contend afresh. */
      clear_talker(f, now, trig);
      stop(f, PROSE_FLOOR_T203);
      f->count[PROSE_FLOOR_C201] = 1;
      arm(f, PROSE_FLOOR_T201, now);
      return;
    case PROSE_FLOOR_O_HAS_PERMISSION:
      prose__floor_queue_remove(f, from); /* a queued participant gave up */
      return;
    case PROSE_FLOOR_O_PENDING_GRANTED:
      if (from == f->grantee.ssrc)
        grant_next(f, now, trig); /* the grantee declined */
      else
        prose__floor_queue_remove(f, from);
      return;
    case PROSE_FLOOR_O_QUEUED:
      if (!is_talker(f, from) || running(f, PROSE_FLOOR_T233)) return;
      /* The arbitrator released with our request still queued. */
      clear_talker(f, now, trig);
      stop(f, PROSE_FLOOR_T203);
      queue_entry_lost(f, now, trig);
      return;
  }
}

static void on_taken(prose_floor *f, uint64_t now, const prose_floor_msg *m) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_RX_TAKEN;
  fl_party t;
  const prose_floor_view *id = (m->present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_GRANTED_PARTY))
                                   ? &m->granted_party
                                   : &m->user_id;
  prose__floor_party_set(&t, m->ssrc, id, prose__floor_class(m->indicator), m->priority);
  if (m->present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_PERMISSION))
    f->peer_permits_request = m->permission != 0;
  switch (f->state) {
    case PROSE_FLOOR_START_STOP: return;
    case PROSE_FLOOR_O_SILENCE:
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
    case PROSE_FLOOR_O_PENDING_GRANTED:
      /* Another client took the floor (in 'O: pending granted' our grantee
       * or a third client: either way the handover is over). */
      set_talker(f, &t, now, trig);
      arm(f, PROSE_FLOOR_T203, now);
      enter_state(f, now, PROSE_FLOOR_O_HAS_NO_PERMISSION, trig);
      return;
    case PROSE_FLOOR_O_PENDING_REQUEST:
      arm(f, PROSE_FLOOR_T203, now);
      if (is_talker(f, t.ssrc)) return;
      /* A new arbitrator (e.g. the winner of a contention): ask it. */
      set_talker(f, &t, now, trig);
      f->count[PROSE_FLOOR_C201] = 1;
      arm(f, PROSE_FLOOR_T201, now);
      return;
    case PROSE_FLOOR_O_HAS_PERMISSION: resolve_conflict(f, now, &t, trig); return;
    case PROSE_FLOOR_O_QUEUED:
      arm(f, PROSE_FLOOR_T203, now);
      if (is_talker(f, t.ssrc) || running(f, PROSE_FLOOR_T233)) return;
      /* A client that took the floor does not hold our queue entry. */
      set_talker(f, &t, now, trig);
      queue_entry_lost(f, now, trig);
      return;
  }
}

static void on_queue_pos_request(prose_floor *f, const prose_floor_msg *m) {
  switch (f->state) {
    case PROSE_FLOOR_START_STOP:
    case PROSE_FLOOR_O_SILENCE:
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
    case PROSE_FLOOR_O_PENDING_REQUEST:
    case PROSE_FLOOR_O_PENDING_GRANTED: /* the queue went with the grant */
    case PROSE_FLOOR_O_QUEUED: return;  /* only the arbitrator knows the queue */
    case PROSE_FLOOR_O_HAS_PERMISSION: {
      int at = prose__floor_queue_find(f, m->ssrc);
      if (at >= 0) {
        prose__floor_send_queue_pos_info(f, &f->queue[at], (uint8_t)(at + 1));
      } else {
        fl_party p;
        prose__floor_party_set(&p, m->ssrc, &m->user_id, FL_CLASS_NORMAL, 0);
        prose__floor_send_queue_pos_info(f, &p, PROSE_FLOOR_QPOS_NOT_QUEUED);
      }
      return;
    }
  }
}

static void on_queue_pos_info(prose_floor *f, uint64_t now, const prose_floor_msg *m) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_RX_QUEUE_POS_INFO;
  bool me = names_me(f, m, &m->queued_user_id);
  uint8_t pos = m->queue_position;
  switch (f->state) {
    case PROSE_FLOOR_START_STOP:
    case PROSE_FLOOR_O_SILENCE:
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
    case PROSE_FLOOR_O_HAS_PERMISSION:
    case PROSE_FLOOR_O_PENDING_GRANTED: return; /* we have no queued request */
    case PROSE_FLOOR_O_PENDING_REQUEST: {
      if (!me || pos == PROSE_FLOOR_QPOS_NOT_QUEUED) return;
      /* Queued by the arbitrator, which is the sender. */
      fl_party a;
      prose__floor_party_set(&a, m->ssrc, &m->user_id, FL_CLASS_NORMAL, 0);
      if (!is_talker(f, m->ssrc)) set_talker(f, &a, now, trig);
      arm(f, PROSE_FLOOR_T203, now);
      f->queue_position = pos;
      enter_state(f, now, PROSE_FLOOR_O_QUEUED, trig);
      emit_queued(f, now, trig);
      return;
    }
    case PROSE_FLOOR_O_QUEUED:
      if (!me) return;
      stop(f, PROSE_FLOOR_T204);
      f->count[PROSE_FLOOR_C204] = 0;
      if (pos == PROSE_FLOOR_QPOS_NOT_QUEUED) {
        queue_entry_lost(f, now, trig);
        return;
      }
      f->queue_position = pos;
      emit_queued(f, now, trig);
      return;
  }
}

static void dispatch_msg(prose_floor *f, uint64_t now, const prose_floor_msg *m) {
  if (m->ssrc == f->own.ssrc) {
    /* Our own message, looped back by multicast. */
    f->stats.rx_ignored++;
    return;
  }
  f->stats.rx_msgs++;
  switch ((prose_floor_msg_type)m->type) {
    case PROSE_FLOOR_MSG_REQUEST: on_request(f, now, m); return;
    case PROSE_FLOOR_MSG_GRANTED: on_granted(f, now, m); return;
    case PROSE_FLOOR_MSG_DENY: on_deny(f, now, m); return;
    case PROSE_FLOOR_MSG_RELEASE: on_release(f, now, m); return;
    case PROSE_FLOOR_MSG_TAKEN: on_taken(f, now, m); return;
    case PROSE_FLOOR_MSG_QUEUE_POS_REQUEST: on_queue_pos_request(f, m); return;
    case PROSE_FLOOR_MSG_QUEUE_POS_INFO: on_queue_pos_info(f, now, m); return;
    case PROSE_FLOOR_MSG_IDLE:
    case PROSE_FLOOR_MSG_REVOKE:
    case PROSE_FLOOR_MSG_ACK:
      /* On-network messages (a floor control server sends them). The
       * acknowledgement-required bit is likewise on-network only. */
      f->stats.rx_msgs--;
      f->stats.rx_ignored++;
      return;
  }
}

/* ------------------------------------------------------------------ */
/* Timer expiries                                                     */
/* state_timers() guarantees each timer fires only in the states listed
 * for it, so single-state timers just check that state. */

static void on_t201(prose_floor *f, uint64_t now) {
  if (f->state != PROSE_FLOOR_O_PENDING_REQUEST) return;
  uint32_t *c201 = &f->count[PROSE_FLOOR_C201];
  if (*c201 < f->s.counter_max[PROSE_FLOOR_C201]) {
    prose__floor_send_request(f);
    (*c201)++;
    arm(f, PROSE_FLOOR_T201, now);
    return;
  }
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_C201_LIMIT;
  if (f->talker.known && running(f, PROSE_FLOOR_T203)) {
    /* An arbitrator talks but never answered: the request failed. */
    enter_state(f, now, PROSE_FLOOR_O_HAS_NO_PERMISSION, trig);
    emit_simple(f, PROSE_FLOOR_EV_REQUEST_FAILED, now, trig);
    return;
  }
  /* No floor arbitrator present (24.380 7.2, DIGEST §8.3): take the floor
   * and tell everyone with Floor Taken. */
  prose__floor_send_taken(f);
  enter_state(f, now, PROSE_FLOOR_O_HAS_PERMISSION, trig);
}

static void on_t203(prose_floor *f, uint64_t now) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_T203;
  switch (f->state) {
    case PROSE_FLOOR_START_STOP:
    case PROSE_FLOOR_O_SILENCE:
    case PROSE_FLOOR_O_HAS_PERMISSION:
    case PROSE_FLOOR_O_PENDING_GRANTED: return; /* not armed in these states */
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
      enter_state(f, now, PROSE_FLOOR_O_SILENCE, trig); /* the talker went quiet */
      return;
    case PROSE_FLOOR_O_PENDING_REQUEST:
      clear_talker(f, now, trig); /* no arbitrator any more: C201 limit takes the floor */
      return;
    case PROSE_FLOOR_O_QUEUED:
      if (running(f, PROSE_FLOOR_T233)) return; /* granted: the granter fell quiet on purpose */
      clear_talker(f, now, trig);
      queue_entry_lost(f, now, trig); /* the arbitrator is gone */
      return;
  }
}

static void on_t204(prose_floor *f, uint64_t now) {
  if (f->state != PROSE_FLOOR_O_QUEUED) return;
  uint32_t *c204 = &f->count[PROSE_FLOOR_C204];
  if (*c204 < f->s.counter_max[PROSE_FLOOR_C204]) {
    prose__floor_send_queue_pos_request(f);
    (*c204)++;
    arm(f, PROSE_FLOOR_T204, now);
    return;
  }
  /* The arbitrator does not answer: give the queued request up. */
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_C204_LIMIT;
  enter_state(f, now, listening_state(f), trig);
  emit_simple(f, PROSE_FLOOR_EV_REQUEST_FAILED, now, trig);
}

static void on_t205(prose_floor *f, uint64_t now) {
  if (f->state != PROSE_FLOOR_O_PENDING_GRANTED) return;
  uint32_t *c205 = &f->count[PROSE_FLOOR_C205];
  if (*c205 < f->s.counter_max[PROSE_FLOOR_C205]) {
    prose__floor_send_granted(f, &f->grantee);
    (*c205)++;
    arm(f, PROSE_FLOOR_T205, now);
    return;
  }
  /* A grantee from the queue may have released PTT and must accept first
   * (T233 on its side): wait as long for its media. */
  if (f->grantee_from_queue && !running(f, PROSE_FLOOR_T233)) {
    arm(f, PROSE_FLOOR_T233, now);
    return;
  }
  grant_next(f, now, PROSE_FLOOR_TRIG_C205_LIMIT);
}

static void on_t206(prose_floor *f, uint64_t now) {
  if (f->state != PROSE_FLOOR_O_HAS_PERMISSION) return;
  emit_simple(f, PROSE_FLOOR_EV_STOP_WARNING, now, PROSE_FLOOR_TRIG_T206);
  arm(f, PROSE_FLOOR_T207, now);
}

static void on_t207(prose_floor *f, uint64_t now) {
  if (f->state != PROSE_FLOOR_O_HAS_PERMISSION) return;
  emit_party(f, PROSE_FLOOR_EV_REVOKED, NULL, now, PROSE_FLOOR_TRIG_T207);
  end_talk(f, now, PROSE_FLOOR_TRIG_T207);
}

static void on_t230(prose_floor *f, uint64_t now) {
  if (f->state != PROSE_FLOOR_O_SILENCE) return;
  /* No floor activity for T230: assume the call ended (Table C.2.1-1). */
  enter_state(f, now, PROSE_FLOOR_START_STOP, PROSE_FLOOR_TRIG_T230);
}

static void on_t233(prose_floor *f, uint64_t now) {
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_T233;
  switch (f->state) {
    case PROSE_FLOOR_START_STOP:
    case PROSE_FLOOR_O_SILENCE:
    case PROSE_FLOOR_O_HAS_NO_PERMISSION:
    case PROSE_FLOOR_O_PENDING_REQUEST:
    case PROSE_FLOOR_O_HAS_PERMISSION: return; /* not armed in these states */
    case PROSE_FLOOR_O_QUEUED:
      /* The user did not accept the grant: decline it. */
      prose__floor_send_release(f);
      f->n_queue = 0;
      enter_state(f, now, listening_state(f), trig);
      return;
    case PROSE_FLOOR_O_PENDING_GRANTED:
      grant_next(f, now, trig); /* the queued grantee never started */
      return;
  }
}

static void fire(prose_floor *f, prose_floor_timer t, uint64_t now) {
  switch (t) {
    case PROSE_FLOOR_T201: on_t201(f, now); return;
    case PROSE_FLOOR_T203: on_t203(f, now); return;
    case PROSE_FLOOR_T204: on_t204(f, now); return;
    case PROSE_FLOOR_T205: on_t205(f, now); return;
    case PROSE_FLOOR_T206: on_t206(f, now); return;
    case PROSE_FLOOR_T207: on_t207(f, now); return;
    case PROSE_FLOOR_T230: on_t230(f, now); return;
    case PROSE_FLOOR_T233: on_t233(f, now); return;
  }
}

/* ------------------------------------------------------------------ */
/* Public entry points                                                */

static int busy(const prose_floor *f) { return f->in_callback ? PROSE_EINVAL : 0; }

int prose_floor_start(prose_floor *f, uint64_t now, prose_floor_role role) {
  if (busy(f) || f->state != PROSE_FLOOR_START_STOP) return PROSE_EINVAL;
  if (role != PROSE_FLOOR_ROLE_ORIGINATOR && role != PROSE_FLOOR_ROLE_TERMINATING)
    return PROSE_EINVAL;
  const prose_floor_trigger trig = PROSE_FLOOR_TRIG_CALL_START;
  f->originator = role == PROSE_FLOOR_ROLE_ORIGINATOR;
  f->peer_permits_request = true;
  f->own.level = f->s.priority;
  memset(f->count, 0, sizeof f->count);
  if (f->originator) {
    /* The originator's call setup is its floor request; it announces
     * itself as the arbitrator ([A]: the digest reports NIST sending Floor
     * Granted to itself; Floor Taken says the same and is what a client
     * sends when it takes the floor unasked). */
    f->ptt_held = true;
    prose__floor_send_taken(f);
    enter_state(f, now, PROSE_FLOOR_O_HAS_PERMISSION, trig);
  } else if (f->s.call_flags & (PROSE_FLOOR_CALL_PRIVATE | PROSE_FLOOR_CALL_BROADCAST)) {
    /* The callee / broadcast receiver expects the originator's media. */
    enter_state(f, now, PROSE_FLOOR_O_HAS_NO_PERMISSION, trig);
  } else {
    enter_state(f, now, PROSE_FLOOR_O_SILENCE, trig);
  }
  return 0;
}

int prose_floor_set_call_flags(prose_floor *f, uint32_t flags) {
  const uint32_t kind = PROSE_FLOOR_CALL_BROADCAST | PROSE_FLOOR_CALL_PRIVATE;
  if (busy(f) || (flags & kind) != (f->s.call_flags & kind)) return PROSE_EINVAL;
  /* The class is read wherever it matters (the Floor Indicator of every
   * message built from now on, arbitrate() and the tie-break compare
   * f->own), so updating it here is the whole change. The level of a
   * request in progress stays: the user chose it with PTT. */
  f->s.call_flags = flags;
  f->own.cls = own_class(&f->s);
  return 0;
}

uint32_t prose_floor_call_flags(const prose_floor *f) { return f->s.call_flags; }

int prose_floor_stop(prose_floor *f, uint64_t now) {
  if (busy(f)) return PROSE_EINVAL;
  /* Leaving while talking: say so, rather than make everyone wait T203. */
  if (f->state == PROSE_FLOOR_O_HAS_PERMISSION) prose__floor_send_release(f);
  enter_state(f, now, PROSE_FLOOR_START_STOP, PROSE_FLOOR_TRIG_CALL_RELEASE);
  return 0;
}

int prose_floor_ptt_press(prose_floor *f, uint64_t now, int priority) {
  if (busy(f) || priority < -1 || priority > 255) return PROSE_EINVAL;
  /* The priority belongs to a new request; one in progress keeps its own. */
  if (f->state == PROSE_FLOOR_O_SILENCE || f->state == PROSE_FLOOR_O_HAS_NO_PERMISSION)
    f->own.level = priority < 0 ? f->s.priority : (uint8_t)priority;
  return on_ptt_press(f, now);
}

int prose_floor_ptt_release(prose_floor *f, uint64_t now) {
  if (busy(f)) return PROSE_EINVAL;
  return on_ptt_release(f, now);
}

int prose_floor_cancel(prose_floor *f, uint64_t now) {
  if (busy(f)) return PROSE_EINVAL;
  return on_cancel(f, now);
}

int prose_floor_queue_position(prose_floor *f, uint64_t now) {
  if (busy(f) || f->state != PROSE_FLOOR_O_QUEUED) return PROSE_EINVAL;
  prose__floor_send_queue_pos_request(f);
  f->count[PROSE_FLOOR_C204] = 1;
  arm(f, PROSE_FLOOR_T204, now);
  return 0;
}

/* Check (dispatch == false) or act on (true) one RTCP packet. Packets that
 * are not floor control are skipped: RTCP reports, other APP names, and
 * message types of later releases. */
static int one_packet(prose_floor *f, uint64_t now, const uint8_t *pkt, size_t n, uint8_t pt,
                      bool dispatch) {
  prose_rd r = prose_rd_init(pkt, n);
  uint8_t name[4];
  bool other = pt != PROSE_FLOOR_RTCP_APP ||
               (prose_rd_skip(&r, 8) == 0 && prose_rd_bytes(&r, name, 4) == 0 &&
                memcmp(name, PROSE_FLOOR_NAME, 4) != 0);
  prose_floor_msg m;
  int rc = other ? PROSE_EFLOOR_TYPE : prose_floor_msg_decode(pkt, n, &m);
  if (rc == PROSE_EFLOOR_TYPE) {
    if (dispatch) f->stats.rx_ignored++;
    return 0;
  }
  if (rc) return rc;
  if (dispatch) dispatch_msg(f, now, &m);
  return 0;
}

static int each_packet(prose_floor *f, uint64_t now, const uint8_t *buf, size_t len,
                       bool dispatch) {
  size_t off = 0;
  while (off < len) {
    size_t n;
    uint8_t pt;
    int rc = prose_floor_rtcp_next(buf + off, len - off, &n, &pt);
    if (rc == 0) rc = one_packet(f, now, buf + off, n, pt, dispatch);
    if (rc) return rc;
    off += n;
  }
  return 0;
}

int prose_floor_recv(prose_floor *f, uint64_t now, const uint8_t *buf, size_t len) {
  if (busy(f)) return PROSE_EINVAL;
  /* Verify, then commit (DESIGN.md §3): decode every packet of the
   * datagram before acting on any, so a bad one changes nothing. */
  int rc = len == 0 ? PROSE_ETRUNC : each_packet(f, now, buf, len, false);
  if (rc) {
    f->stats.rx_malformed++;
    return rc;
  }
  return each_packet(f, now, buf, len, true);
}

int prose_floor_rtp(prose_floor *f, uint64_t now, uint32_t ssrc) {
  if (busy(f)) return PROSE_EINVAL;
  if (ssrc != f->own.ssrc) on_rtp(f, now, ssrc);
  return 0;
}

int prose_floor_on_timeout(prose_floor *f, uint64_t now) {
  if (busy(f)) return PROSE_EINVAL;
  /* Fire expired timers earliest first. Durations are >= 1 ms, so a timer
   * re-armed by a handler lies after `now` and the loop ends; the bound is
   * a guard only. */
  for (unsigned round = 0; round < 4u * PROSE_FLOOR_TIMER_COUNT; round++) {
    int next = -1;
    for (int t = 0; t < PROSE_FLOOR_TIMER_COUNT; t++)
      if (f->deadline[t] <= now && (next < 0 || f->deadline[t] < f->deadline[next])) next = t;
    if (next < 0) break;
    stop(f, (prose_floor_timer)next);
    fire(f, (prose_floor_timer)next, now);
  }
  return 0;
}

uint64_t prose_floor_next_deadline(const prose_floor *f) {
  uint64_t d = FL_NEVER;
  for (size_t t = 0; t < PROSE_FLOOR_TIMER_COUNT; t++)
    if (f->deadline[t] < d) d = f->deadline[t];
  return d;
}

prose_floor_state prose_floor_get_state(const prose_floor *f) { return f->state; }

bool prose_floor_may_send_media(const prose_floor *f) {
  return f->state == PROSE_FLOOR_O_HAS_PERMISSION;
}

bool prose_floor_talker(const prose_floor *f, uint32_t *ssrc, const char **user_id) {
  if (ssrc) *ssrc = f->talker.known ? f->talker.ssrc : 0;
  if (user_id) *user_id = f->talker.known ? f->talker.id : "";
  return f->talker.known;
}

uint64_t prose_floor_timer_deadline(const prose_floor *f, prose_floor_timer t) {
  return (unsigned)t < PROSE_FLOOR_TIMER_COUNT ? f->deadline[t] : FL_NEVER;
}

uint32_t prose_floor_counter_value(const prose_floor *f, prose_floor_counter c) {
  return (unsigned)c < PROSE_FLOOR_COUNTER_COUNT ? f->count[c] : 0;
}

size_t prose_floor_queue_len(const prose_floor *f) { return f->n_queue; }

uint32_t prose_floor_queue_ssrc(const prose_floor *f, size_t i) {
  return i < f->n_queue ? f->queue[i].ssrc : 0;
}

uint8_t prose_floor_queue_position_get(const prose_floor *f) {
  return f->state == PROSE_FLOOR_O_QUEUED ? f->queue_position : 0;
}

const prose_floor_stats *prose_floor_get_stats(const prose_floor *f) { return &f->stats; }
