/*
 * Off-network basic group call control, one machine per configured group:
 * S1-S7 with its call type machine T0-T3 (TS 24.379 10.2.2, 10.2.3). The
 * broadcast (B1-B4) and emergency alert (E1/E2) machines of the same group
 * are in call_bcast.c; this file routes group messages and timers to them.
 *
 * Timers (24.379 Annex B.3; values in prose_call_settings, DIGEST §7.7):
 *  TFG1  wait for call announcement. Armed with the first GROUP CALL PROBE
 *        (user call in S1/S6/S7). Stopped when an announcement arrives (S2).
 *        Expiry in S2: nobody answered, so we originate: new random call
 *        identifier, our SDP, start time now, GROUP CALL ANNOUNCEMENT, S3.
 *        Expiry in S7: S1.
 *  TFG2  call announcement. Armed on entering S3 with the periodic value
 *        refresh interval x U(2/3, 4/3); re-armed with U(0, 1/12 s] after a
 *        GROUP CALL PROBE (and then the next announcement carries the probe
 *        response IE) and after an announcement of a competing call that
 *        loses the merge rule; re-armed periodic when an identical
 *        announcement is received (suppression: one member per period
 *        announces). Expiry in S3: send GROUP CALL ANNOUNCEMENT, re-arm.
 *  TFG3  call probe retransmission. Armed with each PROBE in S2; expiry in S2
 *        resends the PROBE (TFG1 bounds the repetitions).
 *  TFG4  waiting for the user. Armed entering S4/S5; expiry: TFG5, S6.
 *  TFG5  not present incoming call announcements. Armed entering S6 and
 *        re-armed by every announcement of the ignored call; expiry: S1.
 *  TFG6  max duration: X - (now - call start time) with X the configured
 *        maximum. Armed on joining or starting a call (S3); expiry leaves the
 *        call as a user release does (S6).
 *  TFG11 / TFG12  GROUP CALL EMERGENCY END / IMMINENT PERIL END
 *        retransmission. Armed when we end an emergency or imminent peril
 *        call; expiry resends until CFG11 / CFG12 messages were sent.
 *  TFG13 / TFG14  implicit downgrade of an emergency (T1) / imminent peril
 *        (T3) call. 24.379 10.2.3.4.1.1 sets TFG13 to X - (Y - Z) seconds:
 *        X a per-group configured value (24.483 group configuration, leaf
 *        OffNetwork/EmergencyCallCancel), Y the current UTC time, Z the
 *        stored last call type change time (10.2.3.2 c). So the emergency
 *        lapses X after the last type change, whoever announces the call,
 *        and every member that stored the same Z lapses at the same moment.
 *        TFG14 is the imminent peril counterpart with its own X; its clause
 *        text (and the Annex B.3 rows of both timers) could not be retrieved,
 *        so it is built on the TFG13 text. Start/stop follow the call type
 *        machine: armed while in T1 (TFG13) or T3 (TFG14) in S3 and
 *        recomputed whenever the stored change time or the type state
 *        changes (joining, originating, an upgrade, a merge, an announcement
 *        of a newer type change: that is the refresh). Periodic announcements
 *        of an unchanged call carry the same Z and do not restart it. Stopped
 *        by an END (sent or received), by leaving T1/T3 any other way and by
 *        leaving S3 (T0). Expiry: the call type becomes basic, T2, with no
 *        message sent (NIST ns-3 psc does the same [I]); see
 *        implicit_downgrade for the stored change time.
 *  The broadcast timers TFB1-TFB3 and the alert timers TFE1/TFE2 are listed
 *  in call_bcast.c.
 *
 * Every (state, event) pair is handled in a switch without default, so the
 * compiler (-Wswitch-enum) flags a forgotten one; "ignore" is written out.
 */
#include <string.h>

#include "call_internal.h"
#include "prose/err.h"

/* ---------------------------------------------------------------------- */
/* Small helpers                                                            */
/* ---------------------------------------------------------------------- */

/* 24.379 10.2.3: emergency > imminent peril > basic, for merges and upgrades. */
static int type_rank(uint8_t call_type) {
  switch (call_type) {
    case PROSE_MONP_CALL_EMERGENCY_GROUP:
      return 3;
    case PROSE_MONP_CALL_IMMINENT_PERIL_GROUP:
      return 2;
    case PROSE_MONP_CALL_BASIC_GROUP:
      return 1;
    default:
      return 0;
  }
}

static prose_call_type_state type_state_of(uint8_t call_type) {
  switch (call_type) {
    case PROSE_MONP_CALL_EMERGENCY_GROUP:
      return PROSE_CALL_T1;
    case PROSE_MONP_CALL_IMMINENT_PERIL_GROUP:
      return PROSE_CALL_T3;
    default:
      return PROSE_CALL_T2;
  }
}

void call_group_event(prose_call_engine *e, const call_group *g, prose_call_event_kind kind,
                        const char *peer, const prose_sdp *sdp, int err, bool bcast) {
  prose_call_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.group = g->id;
  ev.peer = peer;
  ev.call_id = bcast ? g->b_call_id : g->call_id;
  ev.call_type = bcast ? (uint8_t)PROSE_MONP_CALL_BROADCAST_GROUP : g->call_type;
  ev.sdp = sdp;
  ev.err = err;
  call_emit(e, &ev);
}

void call_group_state_event(prose_call_engine *e, const call_group *g, prose_call_event_kind kind,
                        int old_state, int new_state, const char *trigger) {
  prose_call_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.group = g->id;
  ev.call_id = kind == PROSE_CALL_EV_BCAST_STATE ? g->b_call_id : g->call_id;
  ev.call_type = g->call_type;
  ev.old_state = old_state;
  ev.new_state = new_state;
  ev.trigger = trigger;
  call_emit(e, &ev);
}

static void set_type_state(prose_call_engine *e, call_group *g, prose_call_type_state t,
                           const char *trigger) {
  if (g->ts == t) return;
  int old = (int)g->ts;
  g->ts = t;
  call_group_state_event(e, g, PROSE_CALL_EV_TYPE_STATE, old, (int)t, trigger);
}

/*
 * The one way into a basic call control state. Entry action: stop the
 * timers the new state does not run (Annex B.3 "normal stop"); the caller
 * arms the ones the transition starts afterwards.
 */
static void enter_state(prose_call_engine *e, call_group *g, prose_call_group_state ns,
                        const char *trigger) {
  static const unsigned keep[PROSE_CALL_S7 + 1] = {
      [PROSE_CALL_S1] = 0,
      [PROSE_CALL_S2] = CALL_BIT(TFG1) | CALL_BIT(TFG3),
      [PROSE_CALL_S3] = CALL_BIT(TFG2) | CALL_BIT(TFG6) | CALL_BIT(TFG11) | CALL_BIT(TFG13) |
                        CALL_BIT(TFG14),
      [PROSE_CALL_S4] = CALL_BIT(TFG4),
      [PROSE_CALL_S5] = CALL_BIT(TFG4),
      [PROSE_CALL_S6] = CALL_BIT(TFG5),
      [PROSE_CALL_S7] = CALL_BIT(TFG1),
  };
  for (unsigned k = TFG1; k <= TFG14; k++)
    if (!(keep[ns] & CALL_BIT(k))) timer_stop(&g->t[k]);
  if (ns != PROSE_CALL_S3) {
    g->probe_response = false;
    set_type_state(e, g, PROSE_CALL_T0, trigger);
  }
  if (ns == PROSE_CALL_S1) g->originator = false;
  int old = (int)g->s;
  g->s = ns;
  call_group_state_event(e, g, PROSE_CALL_EV_GROUP_STATE, old, (int)ns, trigger);
}

/* TFG2 periodic value: refresh interval x U(2/3, 4/3) [I] (DIGEST §7.5). */
static void arm_tfg2_periodic(prose_call_engine *e, call_group *g, uint64_t now) {
  uint64_t r = g->refresh;
  timer_arm(&g->t[TFG2], now, call_random_range(e, (2 * r + 2) / 3, 4 * r / 3));
}

/* TFG2 after a probe: uniform in (0, 1/12 s] (DIGEST §7.5). */
static void arm_tfg2_short(prose_call_engine *e, call_group *g, uint64_t now) {
  timer_arm(&g->t[TFG2], now, call_random_range(e, 1, CALL_TFG2_PROBE_MAX_MS));
}

/* TFG6 = X - (Y - Z): X the maximum duration, Y now, Z the call start time,
 * all UTC seconds (24.379 10.2.2.4.1, the form of TFG13 in 10.2.3.4.1.1). A start
 * time in our future (a peer's clock ahead) counts as now. */
static void arm_tfg6(prose_call_engine *e, call_group *g, uint64_t now) {
  uint64_t x = e->set.group_max_duration_s;
  if (x == 0) {
    timer_stop(&g->t[TFG6]);
    return;
  }
  uint64_t y = call_wall(e, now);
  uint64_t elapsed = y > g->start_time ? y - g->start_time : 0;
  timer_arm(&g->t[TFG6], now, elapsed < x ? (x - elapsed) * 1000u : 1u);
}

/*
 * TFG13 / TFG14 = X - (Y - Z) (24.379 10.2.3.4.1.1), X the configured basis
 * in ms, Y now and Z the stored last call type change time in UTC seconds.
 * Only the timer of the current type state runs, and only in S3: T0, T2 and
 * the other states stop both. A change time in our future (a peer's clock
 * ahead) counts as now; one older than X fires at once (1 ms).
 */
static void arm_type_timers(prose_call_engine *e, call_group *g, uint64_t now) {
  timer_stop(&g->t[TFG13]);
  timer_stop(&g->t[TFG14]);
  if (g->s != PROSE_CALL_S3) return;
  call_group_timer w = TFG13;
  uint64_t x = 0;
  switch (g->ts) {
    case PROSE_CALL_T1:
      w = TFG13, x = e->set.tfg13;
      break;
    case PROSE_CALL_T3:
      w = TFG14, x = e->set.tfg14;
      break;
    case PROSE_CALL_T0:
    case PROSE_CALL_T2:
      return;
  }
  uint64_t y = call_wall(e, now);
  uint64_t elapsed = (y > g->last_change_time ? y - g->last_change_time : 0) * 1000u;
  timer_arm(&g->t[w], now, elapsed < x ? x - elapsed : 1u);
}

/* A type state change in S3 (or a new change time in the same one): the
 * event, then the implicit downgrade timer of the new state. */
static void set_call_type_state(prose_call_engine *e, call_group *g, uint64_t now,
                                prose_call_type_state t, const char *trigger) {
  set_type_state(e, g, t, trigger);
  arm_type_timers(e, g, now);
}

int call_group_sdp(prose_call_engine *e, const call_group *g, uint16_t call_id,
                           char *out, size_t *len) {
  prose_sdp sdp;
  call_sdp_defaults(e, &sdp);
  memcpy(sdp.addr, g->mcast, sizeof sdp.addr);
  sdp.ipv6 = g->v6;
  sdp.audio_port = g->audio_port;
  sdp.floor_port = g->floor_port;
  sdp.sess_id = call_id;
  return prose_sdp_build(&sdp, out, CALL_SDP_CAP, len);
}

/* ---------------------------------------------------------------------- */
/* Messages we send                                                         */
/* ---------------------------------------------------------------------- */

prose_monp_msg call_group_msg(prose_monp_type type, const call_group *g) {
  prose_monp_msg m;
  memset(&m, 0, sizeof m);
  m.type = type;
  m.group_id = prose_monp_str_of(g->id);
  return m;
}

static void send_probe(prose_call_engine *e, const call_group *g) {
  prose_monp_msg m = call_group_msg(PROSE_MONP_GROUP_CALL_PROBE, g);
  call_send_group(e, g, &m);
}

/* 24.379 15.1.3: the stored call information, plus the probe response IE
 * when we answer a probe. */
static void send_announcement(prose_call_engine *e, call_group *g) {
  prose_monp_msg m = call_group_msg(PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, g);
  m.call_id = g->call_id;
  m.call_type = g->call_type;
  m.refresh_interval = g->refresh;
  m.call_start_time = g->start_time;
  m.last_change_time = g->last_change_time;
  m.sdp.p = g->sdp;
  m.sdp.len = g->sdp_len;
  m.originating_user = prose_monp_str_of(g->orig);
  m.last_change_user = prose_monp_str_of(g->last_user);
  m.confirm_mode = g->confirm;
  m.probe_response = g->probe_response;
  g->probe_response = false;
  call_send_group(e, g, &m);
}

static void send_group_accept(prose_call_engine *e, const call_group *g) {
  prose_monp_msg m = call_group_msg(PROSE_MONP_GROUP_CALL_ACCEPT, g);
  m.call_id = g->call_id;
  m.call_type = g->call_type;
  m.sending_user = prose_monp_str_of(e->own_id);
  call_send_group(e, g, &m);
}

static void send_end(prose_call_engine *e, const call_group *g) {
  prose_monp_msg m = call_group_msg((prose_monp_type)g->end_type, g);
  m.call_id = g->call_id;
  m.last_change_time = g->last_change_time;
  m.last_change_user = prose_monp_str_of(g->last_user);
  m.sending_user = prose_monp_str_of(e->own_id);
  call_send_group(e, g, &m);
}

/* ---------------------------------------------------------------------- */
/* Basic call control: transitions                                         */
/* ---------------------------------------------------------------------- */

/* Store the call an announcement describes (10.2.2.2 a-g). The SDP was
 * parsed before, so the text is known to be valid. */
static void store_call(call_group *g, const prose_monp_msg *m) {
  g->call_id = m->call_id;
  g->call_type = m->call_type;
  g->refresh = m->refresh_interval;
  g->start_time = m->call_start_time;
  g->last_change_time = m->last_change_time;
  call_copy_str(g->orig, sizeof g->orig, m->originating_user);
  call_copy_str(g->last_user, sizeof g->last_user, m->last_change_user);
  memcpy(g->sdp, m->sdp.p, m->sdp.len);
  g->sdp[m->sdp.len] = '\0';
  g->sdp_len = m->sdp.len;
  g->confirm = m->confirm_mode;
  g->originator = false;
}

/* Take part in the stored call: S3, periodic announcements and TFG6. */
static void join_call(prose_call_engine *e, call_group *g, uint64_t now, const prose_sdp *sdp,
                      const char *trigger) {
  enter_state(e, g, PROSE_CALL_S3, trigger);
  set_call_type_state(e, g, now, type_state_of(g->call_type), trigger);
  arm_tfg2_periodic(e, g, now);
  arm_tfg6(e, g, now);
  call_group_event(e, g, PROSE_CALL_EV_GROUP_JOINED, g->orig, sdp, 0, false);
}

/* The time of a call type change we make: now, but always later than the
 * previous change, so an upgrade and an END within one second still order
 * (a peer compares change times to pick the newer call type). */
static uint64_t next_change_time(prose_call_engine *e, const call_group *g, uint64_t now) {
  uint64_t w = call_wall(e, now);
  return w > g->last_change_time ? w : g->last_change_time + 1;
}

/* Raise the call type of the ongoing call (10.2.3.4.7): the new type and
 * change time go out in an announcement at once. */
static void upgrade_call(prose_call_engine *e, call_group *g, uint64_t now, uint8_t type,
                         const char *trigger) {
  g->last_change_time = next_change_time(e, g, now);
  g->call_type = type;
  memcpy(g->last_user, e->own_id, sizeof g->last_user);
  timer_stop(&g->t[TFG11]);
  set_call_type_state(e, g, now, type_state_of(type), trigger);
  send_announcement(e, g);
  arm_tfg2_periodic(e, g, now);
}

static void start_probe(prose_call_engine *e, call_group *g, uint64_t now, uint8_t type,
                        const char *trigger) {
  g->want_type = type;
  enter_state(e, g, PROSE_CALL_S2, trigger);
  send_probe(e, g);
  timer_arm(&g->t[TFG3], now, e->set.tfg3);
  timer_arm(&g->t[TFG1], now, e->set.tfg1);
}

/* TFG1 expiry in S2: nobody announced a call, so we originate one. */
static void originate(prose_call_engine *e, call_group *g, uint64_t now) {
  uint16_t id = call_random_id(e);
  size_t len;
  if (call_group_sdp(e, g, id, g->sdp, &len) != 0) {
    enter_state(e, g, PROSE_CALL_S1, "SDP build failure"); /* unreachable: addr checked */
    return;
  }
  g->sdp_len = len;
  g->call_id = id;
  g->call_type = g->want_type;
  g->refresh = e->set.refresh_interval;
  g->start_time = g->last_change_time = call_wall(e, now);
  memcpy(g->orig, e->own_id, sizeof g->orig);
  memcpy(g->last_user, e->own_id, sizeof g->last_user);
  g->confirm = e->set.confirm_mode;
  enter_state(e, g, PROSE_CALL_S3, "TFG1 expiry");
  g->originator = true;
  set_call_type_state(e, g, now, type_state_of(g->call_type), "TFG1 expiry");
  send_announcement(e, g);
  arm_tfg2_periodic(e, g, now);
  arm_tfg6(e, g, now);
  prose_sdp sdp;
  if (prose_sdp_parse(g->sdp, g->sdp_len, &sdp) == 0)
    call_group_event(e, g, PROSE_CALL_EV_GROUP_STARTED, e->own_id, &sdp, 0, false);
}

/* Leave the call: stop announcing, ignore its announcements for TFG5. */
static void leave_call(prose_call_engine *e, call_group *g, uint64_t now, const char *trigger,
                       int err) {
  enter_state(e, g, PROSE_CALL_S6, trigger);
  timer_arm(&g->t[TFG5], now, e->set.tfg5);
  call_group_event(e, g, PROSE_CALL_EV_GROUP_RELEASED, NULL, NULL, err, false);
}

/*
 * Merge rule (24.379 10.2.2.4.6, DIGEST §7.5): of two calls for one group,
 * the one with the higher call type wins (emergency > imminent peril >
 * basic); then the earlier call start time; then the lower call identifier.
 * [A] When all three are equal the lower originating MCPTT ID (byte order)
 * wins, so the rule is a total order and every member ends in the same call.
 */
static bool other_call_wins(const call_group *g, const prose_monp_msg *m) {
  int rt = type_rank(m->call_type), ro = type_rank(g->call_type);
  if (rt != ro) return rt > ro;
  if (m->call_start_time != g->start_time) return m->call_start_time < g->start_time;
  if (m->call_id != g->call_id) return m->call_id < g->call_id;
  char theirs[CALL_URI_CAP];
  call_copy_str(theirs, sizeof theirs, m->originating_user);
  return strcmp(theirs, g->orig) < 0;
}

/* A later call type change of our call (an upgrade, or a downgrade whose END
 * we missed) wins over ours; at the same second the higher type wins. */
static bool newer_type_change(const call_group *g, const prose_monp_msg *m) {
  if (m->last_change_time != g->last_change_time)
    return m->last_change_time > g->last_change_time;
  return type_rank(m->call_type) > type_rank(g->call_type);
}

/* ---------------------------------------------------------------------- */
/* Basic call control: received messages                                    */
/* ---------------------------------------------------------------------- */

/* S1 (or S6 for another call): a call we are not part of was announced. */
static int announcement_incoming(prose_call_engine *e, call_group *g, uint64_t now,
                                 const prose_monp_msg *m, const prose_sdp *sdp) {
  store_call(g, m);
  if (e->set.user_ack_required) {
    enter_state(e, g, m->confirm_mode ? PROSE_CALL_S5 : PROSE_CALL_S4, "ANNOUNCEMENT");
    timer_arm(&g->t[TFG4], now, e->set.tfg4);
    call_group_event(e, g, PROSE_CALL_EV_GROUP_INCOMING, g->orig, sdp, 0, false);
    return 0;
  }
  join_call(e, g, now, sdp, "ANNOUNCEMENT");
  if (m->confirm_mode) send_group_accept(e, g);
  return 0;
}

/* S2: the answer to our probe (or another member's). */
static int announcement_probing(prose_call_engine *e, call_group *g, uint64_t now,
                                const prose_monp_msg *m, const prose_sdp *sdp) {
  store_call(g, m);
  join_call(e, g, now, sdp, "ANNOUNCEMENT");
  if (m->confirm_mode) send_group_accept(e, g);
  /* 10.2.3.4.3: the user asked for a higher call type than the call has. */
  if (type_rank(g->want_type) > type_rank(g->call_type))
    upgrade_call(e, g, now, g->want_type, "user call type");
  return 0;
}

/* S3: periodic announcement of our call, a type change, or a competing call. */
static int announcement_in_call(prose_call_engine *e, call_group *g, uint64_t now,
                                const prose_monp_msg *m, const prose_sdp *sdp) {
  bool same = m->call_id == g->call_id && prose_monp_str_eq(m->originating_user, g->orig);
  if (same) {
    bool identical = m->call_type == g->call_type && m->call_start_time == g->start_time &&
                     m->last_change_time == g->last_change_time &&
                     prose_monp_str_eq(m->last_change_user, g->last_user);
    if (identical) {
      /* Suppression: someone announced for us this period. A pending probe
       * response is only satisfied by an announcement that carries one. */
      if (!g->probe_response || m->probe_response) {
        g->probe_response = false;
        arm_tfg2_periodic(e, g, now);
      }
      return 0;
    }
    if (newer_type_change(g, m)) {
      g->call_type = m->call_type;
      g->last_change_time = m->last_change_time;
      call_copy_str(g->last_user, sizeof g->last_user, m->last_change_user);
      timer_stop(&g->t[TFG11]);
      /* A newer change time restarts TFG13/TFG14 even when the type stays:
       * that is how an emergency is refreshed (10.2.3.4.1.1: Z moved). */
      set_call_type_state(e, g, now, type_state_of(g->call_type), "ANNOUNCEMENT");
      arm_tfg2_periodic(e, g, now);
    }
    return 0; /* older information: our next announcement corrects it */
  }
  if (other_call_wins(g, m)) {
    store_call(g, m);
    g->probe_response = false;
    timer_stop(&g->t[TFG11]);
    set_call_type_state(e, g, now, type_state_of(g->call_type), "merge");
    arm_tfg2_periodic(e, g, now);
    arm_tfg6(e, g, now);
    call_group_event(e, g, PROSE_CALL_EV_GROUP_MERGED, g->orig, sdp, 0, false);
    return 0;
  }
  /* [A] Ours wins: announce soon, so the other call's members merge into
   * ours within one short TFG2 instead of one refresh interval. */
  if (!g->t[TFG2].armed || g->t[TFG2].at > now + CALL_TFG2_PROBE_MAX_MS)
    arm_tfg2_short(e, g, now);
  return 0;
}

static int on_announcement(prose_call_engine *e, call_group *g, uint64_t now,
                           const prose_monp_msg *m) {
  prose_sdp sdp;
  int rc = prose_sdp_parse(m->sdp.p, m->sdp.len, &sdp); /* verify before commit */
  if (rc != 0) return rc;
  switch (g->s) {
    case PROSE_CALL_S1:
      return announcement_incoming(e, g, now, m, &sdp);
    case PROSE_CALL_S2:
      return announcement_probing(e, g, now, m, &sdp);
    case PROSE_CALL_S3:
      return announcement_in_call(e, g, now, m, &sdp);
    case PROSE_CALL_S4:
    case PROSE_CALL_S5:
      /* The user is deciding about the stored call; a competing call is
       * merged after joining, by the S3 rule. */
      return 0;
    case PROSE_CALL_S6:
      if (m->call_id == g->call_id) {
        timer_arm(&g->t[TFG5], now, e->set.tfg5); /* the ignored call is still present */
        return 0;
      }
      enter_state(e, g, PROSE_CALL_S1, "ANNOUNCEMENT of another call");
      return announcement_incoming(e, g, now, m, &sdp);
    case PROSE_CALL_S7:
      /* The user released while probing: ignore the call that answered. */
      g->call_id = m->call_id;
      enter_state(e, g, PROSE_CALL_S6, "ANNOUNCEMENT");
      timer_arm(&g->t[TFG5], now, e->set.tfg5);
      return 0;
  }
  return PROSE_EINTERNAL;
}

static int on_probe(prose_call_engine *e, call_group *g, uint64_t now) {
  switch (g->s) {
    case PROSE_CALL_S3:
      /* 10.2.2.4.2: answer within a short random delay, once per probe round. */
      if (!g->probe_response) {
        g->probe_response = true;
        arm_tfg2_short(e, g, now);
      }
      return 0;
    case PROSE_CALL_S1:
    case PROSE_CALL_S2: /* another member probing too: TFG1 and the merge rule sort it out */
    case PROSE_CALL_S4:
    case PROSE_CALL_S5:
    case PROSE_CALL_S6:
    case PROSE_CALL_S7:
      return 0;
  }
  return PROSE_EINTERNAL;
}

static int on_group_accept(prose_call_engine *e, call_group *g, const prose_monp_msg *m) {
  switch (g->s) {
    case PROSE_CALL_S3:
      if (m->call_id == g->call_id) {
        char who[CALL_URI_CAP];
        call_copy_str(who, sizeof who, m->sending_user);
        call_group_event(e, g, PROSE_CALL_EV_GROUP_ACCEPTED, who, NULL, 0, false);
      }
      return 0;
    case PROSE_CALL_S1:
    case PROSE_CALL_S2:
    case PROSE_CALL_S4:
    case PROSE_CALL_S5:
    case PROSE_CALL_S6:
    case PROSE_CALL_S7:
      return 0;
  }
  return PROSE_EINTERNAL;
}

/* GROUP CALL EMERGENCY END / IMMINENT PERIL END: the call returns to basic
 * (downgrade, 10.2.3.4.8), which stops TFG13 / TFG14. */
static int on_end(prose_call_engine *e, call_group *g, uint64_t now, const prose_monp_msg *m) {
  uint8_t ended = m->type == PROSE_MONP_GROUP_CALL_EMERGENCY_END
                      ? (uint8_t)PROSE_MONP_CALL_EMERGENCY_GROUP
                      : (uint8_t)PROSE_MONP_CALL_IMMINENT_PERIL_GROUP;
  switch (g->s) {
    case PROSE_CALL_S3:
    case PROSE_CALL_S4:
    case PROSE_CALL_S5:
      if (m->call_id != g->call_id || g->call_type != ended ||
          m->last_change_time < g->last_change_time)
        return 0; /* another call, already ended, or older than our last change */
      g->call_type = PROSE_MONP_CALL_BASIC_GROUP;
      g->last_change_time = m->last_change_time;
      call_copy_str(g->last_user, sizeof g->last_user, m->last_change_user);
      if (g->s == PROSE_CALL_S3)
        set_call_type_state(e, g, now, PROSE_CALL_T2, prose_monp_type_name((int)m->type));
      return 0;
    case PROSE_CALL_S1:
    case PROSE_CALL_S2:
    case PROSE_CALL_S6:
    case PROSE_CALL_S7:
      return 0;
  }
  return PROSE_EINTERNAL;
}

/* ---------------------------------------------------------------------- */
/* Entry points                                                             */
/* ---------------------------------------------------------------------- */

int call_group_recv(prose_call_engine *e, call_group *g, uint64_t now, const prose_monp_msg *m) {
  switch (m->type) {
    case PROSE_MONP_GROUP_CALL_PROBE:
      return on_probe(e, g, now);
    case PROSE_MONP_GROUP_CALL_ANNOUNCEMENT:
      return on_announcement(e, g, now, m);
    case PROSE_MONP_GROUP_CALL_ACCEPT:
      return on_group_accept(e, g, m);
    case PROSE_MONP_GROUP_CALL_EMERGENCY_END:
    case PROSE_MONP_GROUP_CALL_IMMINENT_PERIL_END:
      return on_end(e, g, now, m);
    case PROSE_MONP_GROUP_CALL_BROADCAST:
      return call_bcast_recv(e, g, now, m);
    case PROSE_MONP_GROUP_CALL_BROADCAST_END:
      return call_bcast_recv_end(e, g, m);
    case PROSE_MONP_GROUP_EMERGENCY_ALERT:
      return call_alert_recv(e, g, now, m);
    case PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL:
      return call_alert_recv_cancel(e, g, m);
    case PROSE_MONP_GROUP_EMERGENCY_ALERT_ACK:
      return call_alert_recv_ack(e, g, m, 0);
    case PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL_ACK:
      return call_alert_recv_ack(e, g, m, 1);
    case PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST:
    case PROSE_MONP_PRIVATE_CALL_RINGING:
    case PROSE_MONP_PRIVATE_CALL_ACCEPT:
    case PROSE_MONP_PRIVATE_CALL_REJECT:
    case PROSE_MONP_PRIVATE_CALL_RELEASE:
    case PROSE_MONP_PRIVATE_CALL_RELEASE_ACK:
    case PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK:
    case PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL:
    case PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL_ACK:
      return PROSE_EINTERNAL; /* routed to call_private.c */
  }
  return PROSE_EINTERNAL;
}

/*
 * TFG13 / TFG14 expiry in T1 / T3: the call is basic again (T2), locally
 * and without a message; the next announcement carries the basic type.
 * [A] The stored last call type change time becomes Z + X (rounded up to
 * whole seconds), the moment the formula of 10.2.3.4.1.1 puts the change
 * at, rather than our clock's now: every member that stored the same Z and
 * X then stores the same new value, so their announcements stay identical
 * (suppression keeps working) and, being newer than Z, they also turn a
 * member whose timer has not run out yet. The last user to change the type
 * is kept: no user changed it.
 */
static void implicit_downgrade(prose_call_engine *e, call_group *g, uint64_t now,
                               call_group_timer w) {
  bool emergency = w == TFG13;
  if (g->s != PROSE_CALL_S3 || g->ts != (emergency ? PROSE_CALL_T1 : PROSE_CALL_T3)) return;
  uint32_t x = emergency ? e->set.tfg13 : e->set.tfg14;
  g->call_type = PROSE_MONP_CALL_BASIC_GROUP;
  g->last_change_time += (x + 999u) / 1000u;
  set_call_type_state(e, g, now, PROSE_CALL_T2, emergency ? "TFG13 expiry" : "TFG14 expiry");
}

static void tfg_expiry(prose_call_engine *e, call_group *g, uint64_t now, call_group_timer w) {
  switch (w) {
    case TFG1:
      if (g->s == PROSE_CALL_S2) originate(e, g, now);
      else if (g->s == PROSE_CALL_S7) enter_state(e, g, PROSE_CALL_S1, "TFG1 expiry");
      return;
    case TFG2:
      if (g->s != PROSE_CALL_S3) return;
      send_announcement(e, g);
      arm_tfg2_periodic(e, g, now);
      return;
    case TFG3:
      if (g->s != PROSE_CALL_S2) return;
      send_probe(e, g);
      timer_arm(&g->t[TFG3], now, e->set.tfg3);
      return;
    case TFG4:
      if (g->s == PROSE_CALL_S4 || g->s == PROSE_CALL_S5)
        leave_call(e, g, now, "TFG4 expiry", PROSE_ETIME);
      return;
    case TFG5:
      if (g->s == PROSE_CALL_S6) enter_state(e, g, PROSE_CALL_S1, "TFG5 expiry");
      return;
    case TFG6:
      if (g->s == PROSE_CALL_S3) leave_call(e, g, now, "TFG6 expiry", PROSE_ETIME);
      return;
    case TFG11: {
      uint32_t limit = g->end_type == PROSE_MONP_GROUP_CALL_EMERGENCY_END ? e->set.cfg11
                                                                          : e->set.cfg12;
      if (g->s != PROSE_CALL_S3 || g->end_count >= limit) return;
      send_end(e, g);
      g->end_count++;
      timer_arm(&g->t[TFG11], now,
                g->end_type == PROSE_MONP_GROUP_CALL_EMERGENCY_END ? e->set.tfg11 : e->set.tfg12);
      return;
    }
    case TFG13:
    case TFG14:
      implicit_downgrade(e, g, now, w);
      return;
    case TFB1:
    case TFB2:
    case TFB3:
    case TFE2:
    case CALL_GROUP_TIMERS:
      return;
  }
}

void call_group_on_timer(prose_call_engine *e, call_group *g, uint64_t now,
                         call_group_timer which) {
  if (which <= TFG14)
    tfg_expiry(e, g, now, which);
  else
    call_bcast_on_timer(e, g, now, which); /* TFB1-TFB3, TFE2 */
}

/* ---------------------------------------------------------------------- */
/* User actions                                                             */
/* ---------------------------------------------------------------------- */

int call_group_user_call(prose_call_engine *e, call_group *g, uint64_t now, uint8_t type) {
  if (type == PROSE_MONP_CALL_BROADCAST_GROUP) return call_bcast_user_call(e, g, now);
  if (type_rank(type) == 0) return PROSE_EINVAL;
  switch (g->s) {
    case PROSE_CALL_S1:
    case PROSE_CALL_S6:
    case PROSE_CALL_S7:
      start_probe(e, g, now, type, "user call");
      return 0;
    case PROSE_CALL_S2:
      return PROSE_EINVAL; /* already probing */
    case PROSE_CALL_S3:
      if (type_rank(type) <= type_rank(g->call_type)) return PROSE_EINVAL;
      upgrade_call(e, g, now, type, "user upgrade");
      return 0;
    case PROSE_CALL_S4:
    case PROSE_CALL_S5:
      return call_group_user_accept(e, g, now); /* calling the group joins its call */
  }
  return PROSE_EINTERNAL;
}

int call_group_user_accept(prose_call_engine *e, call_group *g, uint64_t now) {
  switch (g->s) {
    case PROSE_CALL_S4:
    case PROSE_CALL_S5: {
      bool confirm = g->s == PROSE_CALL_S5;
      prose_sdp sdp;
      bool ok = prose_sdp_parse(g->sdp, g->sdp_len, &sdp) == 0;
      join_call(e, g, now, ok ? &sdp : NULL, "user accept");
      if (confirm) send_group_accept(e, g);
      return 0;
    }
    case PROSE_CALL_S1:
    case PROSE_CALL_S2:
    case PROSE_CALL_S3:
    case PROSE_CALL_S6:
    case PROSE_CALL_S7:
      return call_bcast_user_accept(e, g);
  }
  return PROSE_EINTERNAL;
}

int call_group_user_reject(prose_call_engine *e, call_group *g, uint64_t now) {
  switch (g->s) {
    case PROSE_CALL_S4:
    case PROSE_CALL_S5:
      leave_call(e, g, now, "user reject", 0);
      return 0;
    case PROSE_CALL_S1:
    case PROSE_CALL_S2:
    case PROSE_CALL_S3:
    case PROSE_CALL_S6:
    case PROSE_CALL_S7:
      return call_bcast_user_reject(e, g);
  }
  return PROSE_EINTERNAL;
}

int call_group_user_release(prose_call_engine *e, call_group *g, uint64_t now) {
  bool done = call_bcast_user_release(e, g);
  switch (g->s) {
    case PROSE_CALL_S2:
      enter_state(e, g, PROSE_CALL_S7, "user release"); /* TFG1 keeps running */
      return 0;
    case PROSE_CALL_S3:
      leave_call(e, g, now, "user release", 0);
      return 0;
    case PROSE_CALL_S4:
    case PROSE_CALL_S5:
      leave_call(e, g, now, "user release", 0);
      return 0;
    case PROSE_CALL_S1:
    case PROSE_CALL_S6:
    case PROSE_CALL_S7:
      return done ? 0 : PROSE_EINVAL;
  }
  return PROSE_EINTERNAL;
}

int call_group_user_end_emergency(prose_call_engine *e, call_group *g, uint64_t now) {
  if (g->s != PROSE_CALL_S3) return PROSE_EINVAL;
  switch (g->ts) {
    case PROSE_CALL_T1:
      g->end_type = PROSE_MONP_GROUP_CALL_EMERGENCY_END;
      break;
    case PROSE_CALL_T3:
      g->end_type = PROSE_MONP_GROUP_CALL_IMMINENT_PERIL_END;
      break;
    case PROSE_CALL_T0:
    case PROSE_CALL_T2:
      return PROSE_EINVAL;
  }
  g->call_type = PROSE_MONP_CALL_BASIC_GROUP;
  g->last_change_time = next_change_time(e, g, now);
  memcpy(g->last_user, e->own_id, sizeof g->last_user);
  set_call_type_state(e, g, now, PROSE_CALL_T2, "user end emergency");
  send_end(e, g);
  g->end_count = 1;
  timer_arm(&g->t[TFG11], now,
            g->end_type == PROSE_MONP_GROUP_CALL_EMERGENCY_END ? e->set.tfg11 : e->set.tfg12);
  return 0;
}

