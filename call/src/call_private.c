/*
 * Off-network private call control, one machine per peer (TS 24.379 11.2.2):
 * P0 start-stop, P1 ignoring same call id, P2 waiting for call response, P3
 * waiting for release response, P4 part of ongoing call, P5 pending.
 *
 * Timers and counters (24.379 Annex B.3; values in prose_call_settings):
 *  TFP1  private call request retransmission. Armed with PRIVATE CALL SETUP
 *        REQUEST (P2). Expiry resends the request until CFP1 requests were
 *        sent; then automatic commencement gives up (P1, FAILED) and manual
 *        commencement starts TFP2 and keeps waiting. RINGING, ACCEPT and
 *        REJECT stop it.
 *  TFP2  caller (P2): waiting for the call response, armed by RINGING or by
 *        the CFP1 limit in manual mode; expiry releases the attempt
 *        (RELEASE, P3). Callee (P5, manual): waiting for the user, armed with
 *        RINGING; expiry answers PRIVATE CALL REJECT (P1).
 *  TFP3  release retransmission. Armed with PRIVATE CALL RELEASE (P3); expiry
 *        resends until CFP3 releases were sent, then P1.
 *  TFP4  accept retransmission. Armed with PRIVATE CALL ACCEPT (callee, P5);
 *        expiry resends until CFP4 accepts were sent, then P1 (FAILED).
 *        ACCEPT ACK stops it.
 *  TFP5  max duration. Armed entering P4; expiry releases the call.
 *  TFP6  emergency call cancel retransmission (caller, P4); expiry resends
 *        PRIVATE EMERGENCY CALL CANCEL until CFP6 sends or the CANCEL ACK.
 *  TFP7  waiting for any message with the same call identifier. Armed
 *        entering P1; messages of that call id are ignored (or answered
 *        with a repeated RELEASE ACK) until it expires: P0, record freed.
 *
 * Verify, then commit: an incoming setup request is decoded, its SDP parsed
 * and its key (a=key-mgmt, the PCK I_MESSAGE) validated by the node's hook
 * before a record is touched. A failed key check answers REJECT with reason
 * 3 (end-to-end security context failure) and leaves the callee in P1 for
 * that call identifier.
 */
#include <string.h>

#include "call_internal.h"
#include "prose/err.h"

/* ---------------------------------------------------------------------- */
/* Records, events and messages                                             */
/* ---------------------------------------------------------------------- */

call_private *call_private_find(prose_call_engine *e, const char *peer) {
  for (size_t i = 0; i < PROSE_CALL_MAX_PRIVATE; i++) {
    call_private *p = &e->priv[i];
    if (p->p != PROSE_CALL_P0 && strcmp(p->peer, peer) == 0) return p;
  }
  return NULL;
}

static call_private *find_str(prose_call_engine *e, prose_monp_str peer) {
  for (size_t i = 0; i < PROSE_CALL_MAX_PRIVATE; i++) {
    call_private *p = &e->priv[i];
    if (p->p != PROSE_CALL_P0 && prose_monp_str_eq(peer, p->peer)) return p;
  }
  return NULL;
}

static call_private *alloc_record(prose_call_engine *e) {
  for (size_t i = 0; i < PROSE_CALL_MAX_PRIVATE; i++)
    if (e->priv[i].p == PROSE_CALL_P0) return &e->priv[i];
  return NULL;
}

static void private_event(prose_call_engine *e, const call_private *p, prose_call_event_kind kind,
                          const prose_sdp *sdp, uint8_t reason, int err) {
  prose_call_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.peer = p->peer;
  ev.call_id = p->call_id;
  ev.call_type = p->call_type;
  ev.sdp = sdp;
  ev.reason = reason;
  ev.err = err;
  ev.commencement = (uint8_t)p->commencement;
  call_emit(e, &ev);
}

/* The peer's SDP as stored (offer at the callee, answer at the caller). */
static void connected_event(prose_call_engine *e, const call_private *p) {
  prose_sdp sdp;
  bool ok = prose_sdp_parse(p->peer_sdp, p->peer_sdp_len, &sdp) == 0;
  private_event(e, p, PROSE_CALL_EV_PRIVATE_CONNECTED, ok ? &sdp : NULL, 0, 0);
}

/*
 * The one way into a private call state. Entry actions: stop the timers the
 * new state does not run; P1 starts TFP7; P0 frees the record.
 */
static void enter_pstate(prose_call_engine *e, call_private *p, prose_call_private_state np,
                         uint64_t now, const char *trigger) {
  static const unsigned keep[PROSE_CALL_P5 + 1] = {
      [PROSE_CALL_P0] = 0,
      [PROSE_CALL_P1] = 0,
      [PROSE_CALL_P2] = CALL_BIT(TFP1) | CALL_BIT(TFP2),
      [PROSE_CALL_P3] = CALL_BIT(TFP3),
      [PROSE_CALL_P4] = CALL_BIT(TFP5) | CALL_BIT(TFP6),
      [PROSE_CALL_P5] = CALL_BIT(TFP2) | CALL_BIT(TFP4),
  };
  for (unsigned k = 0; k < CALL_PRIVATE_TIMERS; k++)
    if (!(keep[np] & CALL_BIT(k))) timer_stop(&p->t[k]);
  if (np == PROSE_CALL_P1) timer_arm(&p->t[TFP7], now, e->set.tfp7);
  prose_call_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = PROSE_CALL_EV_PRIVATE_STATE;
  ev.peer = p->peer;
  ev.call_id = p->call_id;
  ev.call_type = p->call_type;
  ev.old_state = (int)p->p;
  ev.new_state = (int)np;
  ev.trigger = trigger;
  p->p = np;
  call_emit(e, &ev);
  if (np == PROSE_CALL_P0) memset(p, 0, sizeof *p);
}

static prose_monp_msg pmsg(const prose_call_engine *e, const call_private *p,
                           prose_monp_type type) {
  prose_monp_msg m;
  memset(&m, 0, sizeof m);
  m.type = type;
  m.call_id = p->call_id;
  m.caller = prose_monp_str_of(p->caller ? e->own_id : p->peer);
  m.callee = prose_monp_str_of(p->caller ? p->peer : e->own_id);
  return m;
}

static void send_simple(prose_call_engine *e, const call_private *p, prose_monp_type type) {
  prose_monp_msg m = pmsg(e, p, type);
  call_send_private(e, p, &m);
}

static void send_setup(prose_call_engine *e, const call_private *p) {
  prose_monp_msg m = pmsg(e, p, PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST);
  m.commencement = (uint8_t)p->commencement;
  m.call_type = p->call_type;
  m.sdp.p = p->sdp;
  m.sdp.len = p->sdp_len;
  call_send_private(e, p, &m);
}

static void send_accept(prose_call_engine *e, const call_private *p) {
  prose_monp_msg m = pmsg(e, p, PROSE_MONP_PRIVATE_CALL_ACCEPT);
  m.sdp.p = p->sdp;
  m.sdp.len = p->sdp_len;
  call_send_private(e, p, &m);
}

static void send_reject(prose_call_engine *e, const call_private *p, uint8_t reason) {
  prose_monp_msg m = pmsg(e, p, PROSE_MONP_PRIVATE_CALL_REJECT);
  m.reason = reason;
  call_send_private(e, p, &m);
}

/* REJECT without a record: busy, or no record free. */
static void send_reject_busy(prose_call_engine *e, const prose_monp_msg *setup) {
  prose_monp_msg m;
  memset(&m, 0, sizeof m);
  m.type = PROSE_MONP_PRIVATE_CALL_REJECT;
  m.call_id = setup->call_id;
  m.reason = PROSE_MONP_REASON_BUSY;
  m.caller = setup->caller;
  m.callee = setup->callee;
  char peer[CALL_URI_CAP];
  call_copy_str(peer, sizeof peer, setup->caller);
  size_t n;
  if (prose_monp_encode(&m, e->tx, sizeof e->tx, &n) == 0)
    e->cb.send_private(e->ud, peer, e->tx, n);
}

static void start_release(prose_call_engine *e, call_private *p, uint64_t now,
                          const char *trigger) {
  enter_pstate(e, p, PROSE_CALL_P3, now, trigger);
  send_simple(e, p, PROSE_MONP_PRIVATE_CALL_RELEASE);
  p->cfp3 = 1;
  timer_arm(&p->t[TFP3], now, e->set.tfp3);
}

static void arm_tfp5(prose_call_engine *e, call_private *p, uint64_t now) {
  uint64_t x = e->set.private_max_duration_s;
  if (x == 0)
    timer_stop(&p->t[TFP5]);
  else
    timer_arm(&p->t[TFP5], now, x * 1000u);
}

/* Our SDP for this call: own unicast address and ports (the caller adds
 * the PCK afterwards). The address is the one of family want_v6 when we
 * have one (a dual-stack node), else our only one: an IPv6-only peer can
 * reach neither an IPv4 c= line nor the media sent from it. */
static void own_sdp(const prose_call_engine *e, prose_sdp *sdp, uint16_t call_id, bool want_v6) {
  bool alt = e->alt_addr[0] != '\0' && want_v6 != e->own_v6;
  call_sdp_defaults(e, sdp);
  memcpy(sdp->addr, alt ? e->alt_addr : e->own_addr, sizeof sdp->addr);
  sdp->ipv6 = alt ? !e->own_v6 : e->own_v6;
  sdp->audio_port = e->set.audio_port;
  sdp->floor_port = e->set.floor_port;
  sdp->sess_id = call_id;
}

/* ---------------------------------------------------------------------- */
/* Callee: PRIVATE CALL SETUP REQUEST                                       */
/* ---------------------------------------------------------------------- */

/* The key check of 33.179 7.3 through the node's hook: 0 or the reason-3 error. */
static int check_key(prose_call_engine *e, const char *peer, const prose_sdp *offer) {
  if (!offer->has_key_mgmt) return e->set.require_key_mgmt ? PROSE_ENOKEY : 0;
  if (e->cb.check_key_mgmt)
    return e->cb.check_key_mgmt(e->ud, peer, offer->key_mgmt, offer->key_mgmt_len);
  return e->set.require_key_mgmt ? PROSE_ENOKEY : 0;
}

/* A setup for a call id we already know (a retransmission), or for another
 * call while this peer has one: returns true when handled. */
static bool setup_for_existing(prose_call_engine *e, call_private *p, const prose_monp_msg *m) {
  bool same = m->call_id == p->call_id;
  switch (p->p) {
    case PROSE_CALL_P1:
      return same; /* ignoring that call id; a new one starts afresh */
    case PROSE_CALL_P5:
      if (!same) break;
      /* Our answer was lost: repeat it (11.2.2.4.2). */
      if (p->answered)
        send_accept(e, p);
      else
        send_simple(e, p, PROSE_MONP_PRIVATE_CALL_RINGING);
      return true;
    case PROSE_CALL_P4:
      if (same) return true; /* a late retransmission */
      break;
    case PROSE_CALL_P2:
    case PROSE_CALL_P3:
    case PROSE_CALL_P0:
      break;
  }
  send_reject_busy(e, m); /* one call per peer */
  return true;
}

static int on_setup(prose_call_engine *e, uint64_t now, const prose_monp_msg *m) {
  call_private *p = find_str(e, m->caller);
  if (p && setup_for_existing(e, p, m)) return 0;
  if (p == NULL) p = alloc_record(e);
  if (p == NULL) {
    send_reject_busy(e, m);
    return 0;
  }
  char peer[CALL_URI_CAP];
  call_copy_str(peer, sizeof peer, m->caller);

  /* Verify: SDP, key, our answer. Nothing is stored until all are known. */
  prose_sdp offer, answer;
  int sdp_rc = prose_sdp_parse(m->sdp.p, m->sdp.len, &offer);
  int key_rc = sdp_rc == 0 ? check_key(e, peer, &offer) : 0;
  char ans[CALL_SDP_CAP];
  size_t ans_len = 0;
  /* Answer on the family the caller's offer uses (its c= line). */
  own_sdp(e, &answer, m->call_id, sdp_rc == 0 ? offer.ipv6 : e->own_v6);
  int ans_rc = prose_sdp_build(&answer, ans, sizeof ans, &ans_len);

  /* Commit. A record still in P1 for an older call of this peer is reused. */
  prose_call_private_state prev = p->p;
  memset(p, 0, sizeof *p);
  memcpy(p->peer, peer, sizeof p->peer);
  p->call_id = m->call_id;
  p->call_type = m->call_type;
  p->commencement = (prose_monp_commencement)m->commencement;
  p->p = prev;
  uint8_t reason = sdp_rc ? PROSE_MONP_REASON_MEDIA_FAILURE
                   : key_rc ? PROSE_MONP_REASON_E2E_SECURITY
                            : PROSE_MONP_REASON_FAILED;
  int rc = sdp_rc ? sdp_rc : key_rc ? key_rc : ans_rc;
  if (rc != 0) {
    send_reject(e, p, reason);
    enter_pstate(e, p, PROSE_CALL_P1, now, "SETUP rejected");
    private_event(e, p, PROSE_CALL_EV_PRIVATE_REJECTED, NULL, reason, rc);
    return rc;
  }
  memcpy(p->sdp, ans, ans_len + 1);
  p->sdp_len = ans_len;
  memcpy(p->peer_sdp, m->sdp.p, m->sdp.len);
  p->peer_sdp[m->sdp.len] = '\0';
  p->peer_sdp_len = m->sdp.len;
  enter_pstate(e, p, PROSE_CALL_P5, now, "SETUP");
  if (p->commencement == PROSE_MONP_COMMENCEMENT_AUTOMATIC) {
    /* 11.2.2.4.2: automatic commencement answers at once. */
    send_accept(e, p);
    p->answered = true;
    p->cfp4 = 1;
    timer_arm(&p->t[TFP4], now, e->set.tfp4);
  } else {
    send_simple(e, p, PROSE_MONP_PRIVATE_CALL_RINGING);
    timer_arm(&p->t[TFP2], now, e->set.tfp2);
  }
  private_event(e, p, PROSE_CALL_EV_PRIVATE_INCOMING, &offer, 0, 0);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Other received messages                                                  */
/* ---------------------------------------------------------------------- */

static int on_ringing(prose_call_engine *e, call_private *p, uint64_t now) {
  if (p->p != PROSE_CALL_P2 || p->ringing) return 0;
  p->ringing = true;
  timer_stop(&p->t[TFP1]); /* the callee has the request */
  if (!p->t[TFP2].armed) timer_arm(&p->t[TFP2], now, e->set.tfp2);
  private_event(e, p, PROSE_CALL_EV_PRIVATE_RINGING, NULL, 0, 0);
  return 0;
}

static int on_accept(prose_call_engine *e, call_private *p, uint64_t now,
                     const prose_monp_msg *m) {
  switch (p->p) {
    case PROSE_CALL_P2: {
      prose_sdp answer;
      int rc = prose_sdp_parse(m->sdp.p, m->sdp.len, &answer);
      if (rc != 0) {
        /* An answer we cannot use: end the attempt rather than half-connect. */
        start_release(e, p, now, "ACCEPT with bad SDP");
        private_event(e, p, PROSE_CALL_EV_PRIVATE_FAILED, NULL, 0, rc);
        return rc;
      }
      memcpy(p->peer_sdp, m->sdp.p, m->sdp.len);
      p->peer_sdp[m->sdp.len] = '\0';
      p->peer_sdp_len = m->sdp.len;
      enter_pstate(e, p, PROSE_CALL_P4, now, "ACCEPT");
      send_simple(e, p, PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK);
      arm_tfp5(e, p, now);
      private_event(e, p, PROSE_CALL_EV_PRIVATE_CONNECTED, &answer, 0, 0);
      return 0;
    }
    case PROSE_CALL_P4:
      if (p->caller) send_simple(e, p, PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK); /* ours was lost */
      return 0;
    case PROSE_CALL_P0:
    case PROSE_CALL_P1:
    case PROSE_CALL_P3:
    case PROSE_CALL_P5:
      return 0;
  }
  return PROSE_EINTERNAL;
}

static int on_reject(prose_call_engine *e, call_private *p, uint64_t now,
                     const prose_monp_msg *m) {
  if (p->p != PROSE_CALL_P2) return 0;
  enter_pstate(e, p, PROSE_CALL_P1, now, "REJECT");
  private_event(e, p, PROSE_CALL_EV_PRIVATE_REJECTED, NULL, m->reason, 0);
  return 0;
}

static int on_accept_ack(prose_call_engine *e, call_private *p, uint64_t now) {
  if (p->p != PROSE_CALL_P5 || !p->answered) return 0;
  enter_pstate(e, p, PROSE_CALL_P4, now, "ACCEPT ACK");
  arm_tfp5(e, p, now);
  connected_event(e, p);
  return 0;
}

static int on_release(prose_call_engine *e, call_private *p, uint64_t now) {
  switch (p->p) {
    case PROSE_CALL_P1:
      send_simple(e, p, PROSE_MONP_PRIVATE_CALL_RELEASE_ACK); /* our ack was lost */
      return 0;
    case PROSE_CALL_P3:
      /* Both sides released: acknowledge theirs, ours is settled too. */
      send_simple(e, p, PROSE_MONP_PRIVATE_CALL_RELEASE_ACK);
      enter_pstate(e, p, PROSE_CALL_P1, now, "RELEASE");
      return 0;
    case PROSE_CALL_P2:
    case PROSE_CALL_P4:
    case PROSE_CALL_P5:
      send_simple(e, p, PROSE_MONP_PRIVATE_CALL_RELEASE_ACK);
      enter_pstate(e, p, PROSE_CALL_P1, now, "RELEASE");
      private_event(e, p, PROSE_CALL_EV_PRIVATE_RELEASED, NULL, 0, 0);
      return 0;
    case PROSE_CALL_P0:
      return 0;
  }
  return PROSE_EINTERNAL;
}

static int on_release_ack(prose_call_engine *e, call_private *p, uint64_t now) {
  if (p->p == PROSE_CALL_P3) enter_pstate(e, p, PROSE_CALL_P1, now, "RELEASE ACK");
  return 0;
}

static int on_emergency_cancel(prose_call_engine *e, call_private *p) {
  if ((p->p != PROSE_CALL_P4 && p->p != PROSE_CALL_P5) || p->caller) return 0;
  if (p->call_type == PROSE_MONP_CALL_EMERGENCY_PRIVATE) {
    p->call_type = PROSE_MONP_CALL_PRIVATE;
    private_event(e, p, PROSE_CALL_EV_PRIVATE_EMERGENCY_CANCELLED, NULL, 0, 0);
  }
  send_simple(e, p, PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL_ACK);
  return 0;
}

static int on_emergency_cancel_ack(call_private *p) {
  if (p->p == PROSE_CALL_P4 && p->caller) timer_stop(&p->t[TFP6]);
  return 0;
}

/* Route a message of an existing call; messages of other call ids or from
 * the wrong side are ignored (11.2.2.4: "with the same call identifier"). */
static int route(prose_call_engine *e, call_private *p, uint64_t now, const prose_monp_msg *m,
                 bool we_call) {
  if (m->call_id != p->call_id || we_call != p->caller) return 0;
  switch (m->type) {
    case PROSE_MONP_PRIVATE_CALL_RINGING:
      return we_call ? on_ringing(e, p, now) : 0;
    case PROSE_MONP_PRIVATE_CALL_ACCEPT:
      return we_call ? on_accept(e, p, now, m) : 0;
    case PROSE_MONP_PRIVATE_CALL_REJECT:
      return we_call ? on_reject(e, p, now, m) : 0;
    case PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK:
      return we_call ? 0 : on_accept_ack(e, p, now);
    case PROSE_MONP_PRIVATE_CALL_RELEASE:
      return on_release(e, p, now);
    case PROSE_MONP_PRIVATE_CALL_RELEASE_ACK:
      return on_release_ack(e, p, now);
    case PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL:
      return we_call ? 0 : on_emergency_cancel(e, p);
    case PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL_ACK:
      return we_call ? on_emergency_cancel_ack(p) : 0;
    case PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST:
    case PROSE_MONP_GROUP_CALL_PROBE:
    case PROSE_MONP_GROUP_CALL_ANNOUNCEMENT:
    case PROSE_MONP_GROUP_CALL_ACCEPT:
    case PROSE_MONP_GROUP_CALL_EMERGENCY_END:
    case PROSE_MONP_GROUP_CALL_IMMINENT_PERIL_END:
    case PROSE_MONP_GROUP_CALL_BROADCAST:
    case PROSE_MONP_GROUP_CALL_BROADCAST_END:
    case PROSE_MONP_GROUP_EMERGENCY_ALERT:
    case PROSE_MONP_GROUP_EMERGENCY_ALERT_ACK:
    case PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL:
    case PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL_ACK:
      return PROSE_EINTERNAL; /* handled elsewhere */
  }
  return PROSE_EINTERNAL;
}

int call_private_recv(prose_call_engine *e, uint64_t now, const prose_monp_msg *m) {
  bool we_call = prose_monp_str_eq(m->caller, e->own_id);
  bool we_answer = prose_monp_str_eq(m->callee, e->own_id);
  if (we_call == we_answer) return PROSE_EWRONG_RECIPIENT; /* neither, or both */
  if (m->type == PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST)
    return we_answer ? on_setup(e, now, m) : PROSE_EWRONG_RECIPIENT;
  /* Who sent it follows from the message type: RINGING, ACCEPT, REJECT and
   * CANCEL ACK come from the callee, ACCEPT ACK and CANCEL from the caller,
   * RELEASE and RELEASE ACK from either side (then we are the other). */
  call_private *p = find_str(e, we_call ? m->callee : m->caller);
  if (p == NULL) return 0; /* no call with that peer: nothing to do */
  return route(e, p, now, m, we_call);
}

/* ---------------------------------------------------------------------- */
/* Timers                                                                   */
/* ---------------------------------------------------------------------- */

static void tfp1_expiry(prose_call_engine *e, call_private *p, uint64_t now) {
  if (p->p != PROSE_CALL_P2) return;
  if (p->cfp1 < e->set.cfp1) {
    send_setup(e, p);
    p->cfp1++;
    timer_arm(&p->t[TFP1], now, e->set.tfp1);
    return;
  }
  if (p->commencement == PROSE_MONP_COMMENCEMENT_AUTOMATIC) {
    enter_pstate(e, p, PROSE_CALL_P1, now, "CFP1 limit");
    private_event(e, p, PROSE_CALL_EV_PRIVATE_FAILED, NULL, 0, PROSE_ETIME);
    return;
  }
  /* Manual commencement: the callee may be alerting its user; wait TFP2. */
  if (!p->t[TFP2].armed) timer_arm(&p->t[TFP2], now, e->set.tfp2);
}

static void tfp2_expiry(prose_call_engine *e, call_private *p, uint64_t now) {
  switch (p->p) {
    case PROSE_CALL_P2:
      start_release(e, p, now, "TFP2 expiry");
      private_event(e, p, PROSE_CALL_EV_PRIVATE_FAILED, NULL, 0, PROSE_ETIME);
      return;
    case PROSE_CALL_P5:
      if (p->answered) return;
      /* The user did not answer: reason 1, "no answer" in Rel-13 wording. */
      send_reject(e, p, PROSE_MONP_REASON_MEDIA_FAILURE);
      enter_pstate(e, p, PROSE_CALL_P1, now, "TFP2 expiry");
      private_event(e, p, PROSE_CALL_EV_PRIVATE_REJECTED, NULL, PROSE_MONP_REASON_MEDIA_FAILURE,
                    PROSE_ETIME);
      return;
    case PROSE_CALL_P0:
    case PROSE_CALL_P1:
    case PROSE_CALL_P3:
    case PROSE_CALL_P4:
      return;
  }
}

void call_private_on_timer(prose_call_engine *e, call_private *p, uint64_t now,
                        call_private_timer which) {
  switch (which) {
    case TFP1:
      tfp1_expiry(e, p, now);
      return;
    case TFP2:
      tfp2_expiry(e, p, now);
      return;
    case TFP3:
      if (p->p != PROSE_CALL_P3) return;
      if (p->cfp3 < e->set.cfp3) {
        send_simple(e, p, PROSE_MONP_PRIVATE_CALL_RELEASE);
        p->cfp3++;
        timer_arm(&p->t[TFP3], now, e->set.tfp3);
      } else {
        enter_pstate(e, p, PROSE_CALL_P1, now, "CFP3 limit");
      }
      return;
    case TFP4:
      if (p->p != PROSE_CALL_P5 || !p->answered) return;
      if (p->cfp4 < e->set.cfp4) {
        send_accept(e, p);
        p->cfp4++;
        timer_arm(&p->t[TFP4], now, e->set.tfp4);
      } else {
        enter_pstate(e, p, PROSE_CALL_P1, now, "CFP4 limit");
        private_event(e, p, PROSE_CALL_EV_PRIVATE_FAILED, NULL, 0, PROSE_ETIME);
      }
      return;
    case TFP5:
      if (p->p != PROSE_CALL_P4) return;
      start_release(e, p, now, "TFP5 expiry");
      private_event(e, p, PROSE_CALL_EV_PRIVATE_RELEASED, NULL, 0, PROSE_ETIME);
      return;
    case TFP6:
      if (p->p != PROSE_CALL_P4 || p->cfp6 >= e->set.cfp6) return;
      send_simple(e, p, PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL);
      p->cfp6++;
      timer_arm(&p->t[TFP6], now, e->set.tfp6);
      return;
    case TFP7:
      if (p->p == PROSE_CALL_P1) enter_pstate(e, p, PROSE_CALL_P0, now, "TFP7 expiry");
      return;
    case CALL_PRIVATE_TIMERS:
      return;
  }
}

/* ---------------------------------------------------------------------- */
/* User actions                                                             */
/* ---------------------------------------------------------------------- */

/* A fresh call identifier, different from the one P1 still ignores. */
static uint16_t new_call_id(prose_call_engine *e, const call_private *old) {
  uint16_t id = call_random_id(e);
  if (old && id == old->call_id) id = (uint16_t)(id + 1u);
  return id;
}

int call_private_user_call(prose_call_engine *e, uint64_t now, const char *peer,
                           prose_monp_commencement mode, bool emergency, bool peer_ipv6) {
  call_private *p = call_private_find(e, peer);
  if (p && p->p != PROSE_CALL_P1) return PROSE_EINVAL; /* a call with this peer exists */
  call_private *rec = p ? p : alloc_record(e);
  if (rec == NULL) return PROSE_ERANGE;
  uint16_t id = new_call_id(e, p);

  /* Everything that can fail happens before the record changes. */
  prose_sdp offer;
  own_sdp(e, &offer, id, peer_ipv6);
  if (e->cb.make_key_mgmt) {
    size_t klen = 0;
    int rc = e->cb.make_key_mgmt(e->ud, peer, offer.key_mgmt, sizeof offer.key_mgmt, &klen);
    if (rc != 0) return rc;
    if (klen == 0 || klen > sizeof offer.key_mgmt) return PROSE_EINVAL;
    offer.has_key_mgmt = true;
    offer.key_mgmt_len = klen;
  }
  char text[CALL_SDP_CAP];
  size_t len;
  int rc = prose_sdp_build(&offer, text, sizeof text, &len);
  if (rc != 0) return rc;

  memset(rec, 0, sizeof *rec);
  size_t n = strlen(peer);
  memcpy(rec->peer, peer, n + 1);
  rec->p = p ? PROSE_CALL_P1 : PROSE_CALL_P0;
  rec->call_id = id;
  rec->call_type = emergency ? (uint8_t)PROSE_MONP_CALL_EMERGENCY_PRIVATE
                             : (uint8_t)PROSE_MONP_CALL_PRIVATE;
  rec->caller = true;
  rec->commencement = mode;
  memcpy(rec->sdp, text, len + 1);
  rec->sdp_len = len;
  enter_pstate(e, rec, PROSE_CALL_P2, now, "user call");
  send_setup(e, rec);
  rec->cfp1 = 1;
  timer_arm(&rec->t[TFP1], now, e->set.tfp1);
  return 0;
}

int call_private_user_accept(prose_call_engine *e, call_private *p, uint64_t now) {
  if (p->p != PROSE_CALL_P5 || p->answered) return PROSE_EINVAL;
  timer_stop(&p->t[TFP2]);
  send_accept(e, p);
  p->answered = true;
  p->cfp4 = 1;
  timer_arm(&p->t[TFP4], now, e->set.tfp4);
  return 0;
}

int call_private_user_reject(prose_call_engine *e, call_private *p, uint64_t now) {
  if (p->p != PROSE_CALL_P5 || p->answered) return PROSE_EINVAL;
  send_reject(e, p, PROSE_MONP_REASON_REJECT);
  enter_pstate(e, p, PROSE_CALL_P1, now, "user reject");
  private_event(e, p, PROSE_CALL_EV_PRIVATE_REJECTED, NULL, PROSE_MONP_REASON_REJECT, 0);
  return 0;
}

int call_private_user_release(prose_call_engine *e, call_private *p, uint64_t now) {
  switch (p->p) {
    case PROSE_CALL_P5:
      /* Hanging up while our phone rings is a reject; once answered, a release. */
      if (!p->answered) return call_private_user_reject(e, p, now);
      start_release(e, p, now, "user release");
      private_event(e, p, PROSE_CALL_EV_PRIVATE_RELEASED, NULL, 0, 0);
      return 0;
    case PROSE_CALL_P2:
    case PROSE_CALL_P4:
      start_release(e, p, now, "user release");
      private_event(e, p, PROSE_CALL_EV_PRIVATE_RELEASED, NULL, 0, 0);
      return 0;
    case PROSE_CALL_P0:
    case PROSE_CALL_P1:
    case PROSE_CALL_P3:
      return PROSE_EINVAL;
  }
  return PROSE_EINTERNAL;
}

int call_private_user_emergency_cancel(prose_call_engine *e, call_private *p, uint64_t now) {
  if (p->p != PROSE_CALL_P4 || !p->caller || p->call_type != PROSE_MONP_CALL_EMERGENCY_PRIVATE)
    return PROSE_EINVAL;
  p->call_type = PROSE_MONP_CALL_PRIVATE;
  send_simple(e, p, PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL);
  p->cfp6 = 1;
  timer_arm(&p->t[TFP6], now, e->set.tfp6);
  private_event(e, p, PROSE_CALL_EV_PRIVATE_EMERGENCY_CANCELLED, NULL, 0, 0);
  return 0;
}
