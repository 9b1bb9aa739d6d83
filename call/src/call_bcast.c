/*
 * The two other machines of an off-network group (TS 24.379): broadcast
 * group call B1-B4 (10.3) and group emergency alert E1/E2 (12.2). Messages
 * and timers reach them through call_group.c.
 *
 * Timers (24.379 Annex B.3; values in prose_call_settings, DIGEST §7.7):
 *  TFB1  broadcast max duration. Armed entering B2 or B3. Expiry: the
 *        originator sends GROUP CALL BROADCAST END; everyone returns to B1.
 *  TFB2  broadcast retransmission (originator in B2): resend GROUP CALL
 *        BROADCAST so late joiners find the call.
 *  TFB3  broadcast waiting for the user (B3); expiry: B4.
 *  TFE1  emergency alert, one per alerting user: re-armed by each of that
 *        user's alerts; expiry forgets the alert.
 *  TFE2  emergency alert retransmission (E2): resend GROUP EMERGENCY ALERT.
 *
 * B4 "ignoring same call id" ends with the BROADCAST END of that call or
 * with TFB1; a broadcast with another call identifier starts afresh.
 */
#include <string.h>

#include "call_internal.h"
#include "prose/err.h"

/* ---------------------------------------------------------------------- */
/* Broadcast group call (10.3)                                              */
/* ---------------------------------------------------------------------- */

static void b_enter(prose_call_engine *e, call_group *g, prose_call_bcast_state nb,
                    const char *trigger) {
  static const unsigned keep[PROSE_CALL_B4 + 1] = {
      [PROSE_CALL_B1] = 0,
      [PROSE_CALL_B2] = CALL_BIT(TFB1) | CALL_BIT(TFB2),
      [PROSE_CALL_B3] = CALL_BIT(TFB1) | CALL_BIT(TFB3),
      [PROSE_CALL_B4] = CALL_BIT(TFB1),
  };
  for (unsigned k = TFB1; k <= TFB3; k++)
    if (!(keep[nb] & CALL_BIT(k))) timer_stop(&g->t[k]);
  if (nb == PROSE_CALL_B1) g->b_originator = false;
  int old = (int)g->b;
  g->b = nb;
  call_group_state_event(e, g, PROSE_CALL_EV_BCAST_STATE, old, (int)nb, trigger);
}

static void arm_tfb1(prose_call_engine *e, call_group *g, uint64_t now) {
  uint64_t x = e->set.broadcast_max_duration_s;
  if (x == 0)
    timer_stop(&g->t[TFB1]);
  else
    timer_arm(&g->t[TFB1], now, x * 1000u);
}

static void send_broadcast(prose_call_engine *e, const call_group *g) {
  prose_monp_msg m = call_group_msg(PROSE_MONP_GROUP_CALL_BROADCAST, g);
  m.call_id = g->b_call_id;
  m.call_type = PROSE_MONP_CALL_BROADCAST_GROUP;
  m.originating_user = prose_monp_str_of(g->b_orig);
  m.sdp.p = g->b_sdp;
  m.sdp.len = g->b_sdp_len;
  call_send_group(e, g, &m);
}

static void send_broadcast_end(prose_call_engine *e, const call_group *g) {
  prose_monp_msg m = call_group_msg(PROSE_MONP_GROUP_CALL_BROADCAST_END, g);
  m.call_id = g->b_call_id;
  m.originating_user = prose_monp_str_of(g->b_orig);
  call_send_group(e, g, &m);
}

int call_bcast_user_call(prose_call_engine *e, call_group *g, uint64_t now) {
  switch (g->b) {
    case PROSE_CALL_B1:
    case PROSE_CALL_B4:
      break;
    case PROSE_CALL_B2:
    case PROSE_CALL_B3:
      return PROSE_EINVAL;
  }
  uint16_t id = call_random_id(e);
  size_t len;
  int rc = call_group_sdp(e, g, id, g->b_sdp, &len);
  if (rc != 0) return rc;
  g->b_sdp_len = len;
  g->b_call_id = id;
  memcpy(g->b_orig, e->own_id, sizeof g->b_orig);
  b_enter(e, g, PROSE_CALL_B2, "user call");
  g->b_originator = true;
  send_broadcast(e, g);
  timer_arm(&g->t[TFB2], now, e->set.tfb2);
  arm_tfb1(e, g, now);
  prose_sdp sdp;
  if (prose_sdp_parse(g->b_sdp, g->b_sdp_len, &sdp) == 0)
    call_group_event(e, g, PROSE_CALL_EV_GROUP_STARTED, e->own_id, &sdp, 0, true);
  return 0;
}

static void bcast_incoming(prose_call_engine *e, call_group *g, uint64_t now,
                           const prose_monp_msg *m, const prose_sdp *sdp) {
  g->b_call_id = m->call_id;
  call_copy_str(g->b_orig, sizeof g->b_orig, m->originating_user);
  memcpy(g->b_sdp, m->sdp.p, m->sdp.len);
  g->b_sdp[m->sdp.len] = '\0';
  g->b_sdp_len = m->sdp.len;
  if (e->set.user_ack_required) {
    b_enter(e, g, PROSE_CALL_B3, "BROADCAST");
    timer_arm(&g->t[TFB3], now, e->set.tfb3);
    arm_tfb1(e, g, now);
    call_group_event(e, g, PROSE_CALL_EV_GROUP_INCOMING, g->b_orig, sdp, 0, true);
    return;
  }
  b_enter(e, g, PROSE_CALL_B2, "BROADCAST");
  arm_tfb1(e, g, now);
  call_group_event(e, g, PROSE_CALL_EV_GROUP_JOINED, g->b_orig, sdp, 0, true);
}

int call_bcast_recv(prose_call_engine *e, call_group *g, uint64_t now,
                        const prose_monp_msg *m) {
  prose_sdp sdp;
  int rc = prose_sdp_parse(m->sdp.p, m->sdp.len, &sdp);
  if (rc != 0) return rc;
  switch (g->b) {
    case PROSE_CALL_B1:
      bcast_incoming(e, g, now, m, &sdp);
      return 0;
    case PROSE_CALL_B2:
    case PROSE_CALL_B3:
      return 0; /* a retransmission, or a second broadcast while one runs */
    case PROSE_CALL_B4:
      if (m->call_id == g->b_call_id) return 0;
      b_enter(e, g, PROSE_CALL_B1, "BROADCAST of another call");
      bcast_incoming(e, g, now, m, &sdp);
      return 0;
  }
  return PROSE_EINTERNAL;
}

int call_bcast_recv_end(prose_call_engine *e, call_group *g, const prose_monp_msg *m) {
  switch (g->b) {
    case PROSE_CALL_B1:
      return 0;
    case PROSE_CALL_B2:
    case PROSE_CALL_B3:
      if (m->call_id != g->b_call_id || g->b_originator) return 0;
      b_enter(e, g, PROSE_CALL_B1, "BROADCAST END");
      call_group_event(e, g, PROSE_CALL_EV_GROUP_RELEASED, NULL, NULL, 0, true);
      return 0;
    case PROSE_CALL_B4:
      if (m->call_id == g->b_call_id) b_enter(e, g, PROSE_CALL_B1, "BROADCAST END");
      return 0;
  }
  return PROSE_EINTERNAL;
}

/* ---------------------------------------------------------------------- */
/* Group emergency alert (12.2)                                             */
/* ---------------------------------------------------------------------- */

static void a_enter(prose_call_engine *e, call_group *g, prose_call_alert_state na,
                    const char *trigger) {
  if (na == PROSE_CALL_E1) timer_stop(&g->t[TFE2]);
  int old = (int)g->a;
  g->a = na;
  call_group_state_event(e, g, PROSE_CALL_EV_ALERT_STATE, old, (int)na, trigger);
}

static void send_alert_msg(prose_call_engine *e, const call_group *g, prose_monp_type type,
                           prose_monp_str orig) {
  prose_monp_msg m = call_group_msg(type, g);
  m.originating_user = orig;
  if (type == PROSE_MONP_GROUP_EMERGENCY_ALERT)
    m.organization = prose_monp_str_of(e->org);
  else
    m.sending_user = prose_monp_str_of(e->own_id);
  call_send_group(e, g, &m);
}

static call_alert *alert_find(call_group *g, prose_monp_str user) {
  for (size_t i = 0; i < PROSE_CALL_MAX_ALERTS; i++)
    if (g->alerts[i].used && prose_monp_str_eq(user, g->alerts[i].user)) return &g->alerts[i];
  return NULL;
}

static void alert_event(prose_call_engine *e, const call_group *g, prose_call_event_kind kind,
                        const char *peer, const char *text, uint8_t reason, int err) {
  prose_call_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.group = g->id;
  ev.peer = peer;
  ev.call_type = PROSE_MONP_CALL_EMERGENCY_GROUP;
  ev.text = text;
  ev.reason = reason;
  ev.err = err;
  call_emit(e, &ev);
}

int call_alert_recv(prose_call_engine *e, call_group *g, uint64_t now, const prose_monp_msg *m) {
  if (prose_monp_str_eq(m->originating_user, e->own_id)) return 0; /* our own, looped back */
  call_alert *a = alert_find(g, m->originating_user);
  if (a) {
    timer_arm(&a->tfe1, now, e->set.tfe1);
    return 0;
  }
  for (size_t i = 0; i < PROSE_CALL_MAX_ALERTS && a == NULL; i++)
    if (!g->alerts[i].used) a = &g->alerts[i];
  /* A full table still acknowledges, so the sender stops worrying, but
   * cannot remember the alert. */
  send_alert_msg(e, g, PROSE_MONP_GROUP_EMERGENCY_ALERT_ACK, m->originating_user);
  char org[CALL_TEXT_CAP];
  call_copy_str(org, sizeof org, m->organization);
  if (a) {
    a->used = true;
    call_copy_str(a->user, sizeof a->user, m->originating_user);
    timer_arm(&a->tfe1, now, e->set.tfe1);
    alert_event(e, g, PROSE_CALL_EV_ALERT, a->user, org, 0, 0);
  } else {
    char who[CALL_URI_CAP];
    call_copy_str(who, sizeof who, m->originating_user);
    alert_event(e, g, PROSE_CALL_EV_ALERT, who, org, 0, PROSE_ERANGE);
  }
  return 0;
}

int call_alert_recv_cancel(prose_call_engine *e, call_group *g, const prose_monp_msg *m) {
  call_alert *a = alert_find(g, m->originating_user);
  if (a == NULL) return 0;
  send_alert_msg(e, g, PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL_ACK, m->originating_user);
  a->used = false;
  timer_stop(&a->tfe1);
  alert_event(e, g, PROSE_CALL_EV_ALERT_CANCELLED, a->user, NULL, 0, 0);
  return 0;
}

/* ALERT ACK (reason 0) or ALERT CANCEL ACK (reason 1) for our alert. */
int call_alert_recv_ack(prose_call_engine *e, call_group *g, const prose_monp_msg *m,
                        uint8_t which) {
  if (!prose_monp_str_eq(m->originating_user, e->own_id)) return 0; /* someone else's */
  char who[CALL_URI_CAP];
  call_copy_str(who, sizeof who, m->sending_user);
  alert_event(e, g, PROSE_CALL_EV_ALERT_ACK, who, NULL, which, 0);
  return 0;
}

void call_group_alert_expired(prose_call_engine *e, call_group *g, uint64_t now, size_t idx) {
  (void)now;
  call_alert *a = &g->alerts[idx];
  a->used = false;
  alert_event(e, g, PROSE_CALL_EV_ALERT_CANCELLED, a->user, NULL, 0, PROSE_ETIME);
}

void call_bcast_on_timer(prose_call_engine *e, call_group *g, uint64_t now, call_group_timer w) {
  switch (w) {
    case TFB1: {
      bool was_in = g->b == PROSE_CALL_B2 || g->b == PROSE_CALL_B3;
      if (g->b == PROSE_CALL_B2 && g->b_originator) send_broadcast_end(e, g);
      if (g->b != PROSE_CALL_B1) b_enter(e, g, PROSE_CALL_B1, "TFB1 expiry");
      if (was_in)
        call_group_event(e, g, PROSE_CALL_EV_GROUP_RELEASED, NULL, NULL, PROSE_ETIME, true);
      return;
    }
    case TFB2:
      if (g->b != PROSE_CALL_B2 || !g->b_originator) return;
      send_broadcast(e, g);
      timer_arm(&g->t[TFB2], now, e->set.tfb2);
      return;
    case TFB3:
      if (g->b != PROSE_CALL_B3) return;
      b_enter(e, g, PROSE_CALL_B4, "TFB3 expiry");
      call_group_event(e, g, PROSE_CALL_EV_GROUP_RELEASED, NULL, NULL, PROSE_ETIME, true);
      return;
    case TFE2:
      if (g->a != PROSE_CALL_E2) return;
      send_alert_msg(e, g, PROSE_MONP_GROUP_EMERGENCY_ALERT, prose_monp_str_of(e->own_id));
      timer_arm(&g->t[TFE2], now, e->set.tfe2);
      return;
    case TFG1:
    case TFG2:
    case TFG3:
    case TFG4:
    case TFG5:
    case TFG6:
    case TFG11:
    case TFG13:
    case TFG14:
    case CALL_GROUP_TIMERS:
      return;
  }
}

int call_bcast_user_reject(prose_call_engine *e, call_group *g) {
  if (g->b != PROSE_CALL_B3) return PROSE_EINVAL;
  b_enter(e, g, PROSE_CALL_B4, "user reject");
  return 0;
}

int call_bcast_user_accept(prose_call_engine *e, call_group *g) {
  if (g->b != PROSE_CALL_B3) return PROSE_EINVAL;
  b_enter(e, g, PROSE_CALL_B2, "user accept");
  prose_sdp sdp;
  bool ok = prose_sdp_parse(g->b_sdp, g->b_sdp_len, &sdp) == 0;
  call_group_event(e, g, PROSE_CALL_EV_GROUP_JOINED, g->b_orig, ok ? &sdp : NULL, 0, true);
  return 0;
}

bool call_bcast_user_release(prose_call_engine *e, call_group *g) {
  switch (g->b) {
    case PROSE_CALL_B2:
      if (g->b_originator) {
        send_broadcast_end(e, g);
        b_enter(e, g, PROSE_CALL_B1, "user release");
      } else {
        b_enter(e, g, PROSE_CALL_B4, "user release");
      }
      call_group_event(e, g, PROSE_CALL_EV_GROUP_RELEASED, NULL, NULL, 0, true);
      return true;
    case PROSE_CALL_B3:
      b_enter(e, g, PROSE_CALL_B4, "user release");
      return true;
    case PROSE_CALL_B1:
    case PROSE_CALL_B4:
      return false;
  }
  return false;
}

int call_group_user_alert(prose_call_engine *e, call_group *g, uint64_t now, bool on) {
  switch (g->a) {
    case PROSE_CALL_E1:
      if (!on) return PROSE_EINVAL;
      a_enter(e, g, PROSE_CALL_E2, "user alert");
      send_alert_msg(e, g, PROSE_MONP_GROUP_EMERGENCY_ALERT, prose_monp_str_of(e->own_id));
      timer_arm(&g->t[TFE2], now, e->set.tfe2);
      return 0;
    case PROSE_CALL_E2:
      if (on) return PROSE_EINVAL;
      a_enter(e, g, PROSE_CALL_E1, "user cancel alert");
      send_alert_msg(e, g, PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL, prose_monp_str_of(e->own_id));
      return 0;
  }
  return PROSE_EINTERNAL;
}
