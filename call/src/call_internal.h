/*
 * Internals shared by the call engine files: the engine object, the per-group
 * and per-peer machine records, timers and the output helpers.
 */
#ifndef PROSE_CALL_INTERNAL_H
#define PROSE_CALL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "prose/call.h"
#include "prose/call_msg.h"
#include "prose/sdp.h"

#define CALL_URI_CAP (PROSE_MONP_ID_MAX + 1u)
#define CALL_SDP_CAP (PROSE_SDP_MAX + 1u)
#define CALL_TEXT_CAP (PROSE_MONP_TEXT_MAX + 1u)
#define CALL_CODEC_CAP PROSE_SDP_CODEC_MAX

/* The upper end of the random TFG2 delay after a GROUP CALL PROBE: 1/12 s
 * (DIGEST §7.5, 24.379 10.2.2.4.1.1). */
#define CALL_TFG2_PROBE_MAX_MS 83u
/* A timer's bit in the per-state masks of the enter_state functions. */
#define CALL_BIT(t) (1u << (t))
/* A guard on the number of timers one prose_call_on_timeout may fire. */
#define CALL_MAX_FIRES 10000u

typedef struct call_timer {
  uint64_t at;
  bool armed;
} call_timer;

static inline void timer_arm(call_timer *t, uint64_t now, uint64_t ms) {
  t->at = now + (ms ? ms : 1); /* never 0: on_timeout must make progress */
  t->armed = true;
}
static inline void timer_stop(call_timer *t) { t->armed = false; }

/* Group timers (24.379 Annex B.3.1, B.3.2; DIGEST §7.7). */
typedef enum call_group_timer {
  TFG1 = 0, /* wait for call announcement */
  TFG2,     /* call announcement */
  TFG3,     /* call probe retransmission */
  TFG4,     /* waiting for the user */
  TFG5,     /* not present incoming call announcements */
  TFG6,     /* max duration */
  TFG11,    /* emergency / imminent peril END retransmission (TFG11 / TFG12) */
  TFG13,    /* implicit downgrade emergency (T1) */
  TFG14,    /* implicit downgrade imminent peril (T3) */
  TFB1,     /* broadcast max duration */
  TFB2,     /* broadcast retransmission */
  TFB3,     /* broadcast waiting for the user */
  TFE2,     /* emergency alert retransmission */
  CALL_GROUP_TIMERS
} call_group_timer;

/* Private call timers (24.379 Annex B.3.3; DIGEST §7.7). */
typedef enum call_private_timer {
  TFP1 = 0, /* private call request retransmission */
  TFP2,     /* waiting for call response message / for the user */
  TFP3,     /* private call release retransmission */
  TFP4,     /* private call accept retransmission */
  TFP5,     /* max duration */
  TFP6,     /* emergency private call cancel retransmission */
  TFP7,     /* waiting for any message with same call identifier */
  CALL_PRIVATE_TIMERS
} call_private_timer;

/* One user whose GROUP EMERGENCY ALERT we track (24.379 12.2). */
typedef struct call_alert {
  bool used;
  char user[CALL_URI_CAP];
  call_timer tfe1; /* emergency alert: expiry forgets the alert */
} call_alert;

typedef struct call_group {
  bool used;
  char id[CALL_URI_CAP];
  char mcast[PROSE_SDP_ADDR_MAX];
  bool v6;
  uint16_t audio_port, floor_port;

  /* Basic call control (10.2.2.2: the stored call information a) to g)). */
  prose_call_group_state s;
  prose_call_type_state ts;
  uint8_t want_type; /* the call type the user asked for while probing */
  uint16_t call_id;
  uint8_t call_type;
  uint16_t refresh;
  uint64_t start_time;
  uint64_t last_change_time;
  char orig[CALL_URI_CAP];
  char last_user[CALL_URI_CAP];
  char sdp[CALL_SDP_CAP];
  size_t sdp_len;
  bool probe_response; /* the probe response value of the call */
  bool confirm;        /* the call asks for GROUP CALL ACCEPT */
  bool originator;
  uint8_t end_type;    /* END message being retransmitted (4 or 5) */
  uint32_t end_count;  /* CFG11 / CFG12 */

  /* Broadcast group call (10.3). */
  prose_call_bcast_state b;
  bool b_originator;
  uint16_t b_call_id;
  char b_orig[CALL_URI_CAP];
  char b_sdp[CALL_SDP_CAP];
  size_t b_sdp_len;

  /* Emergency alert (12.2). */
  prose_call_alert_state a;
  call_alert alerts[PROSE_CALL_MAX_ALERTS];

  call_timer t[CALL_GROUP_TIMERS];
} call_group;

typedef struct call_private {
  char peer[CALL_URI_CAP];
  prose_call_private_state p; /* P0: the record is free */
  uint16_t call_id;
  uint8_t call_type;
  bool caller;
  bool answered; /* callee in P5: ACCEPT sent, waiting for ACCEPT ACK */
  bool ringing;  /* caller in P2: RINGING seen */
  prose_monp_commencement commencement;
  uint32_t cfp1, cfp3, cfp4, cfp6;
  char sdp[CALL_SDP_CAP]; /* our offer or answer, resent on retransmission */
  size_t sdp_len;
  char peer_sdp[CALL_SDP_CAP]; /* the peer's offer or answer, for media setup */
  size_t peer_sdp_len;
  call_timer t[CALL_PRIVATE_TIMERS];
} call_private;

struct prose_call_engine {
  prose_call_settings set; /* string pointers below point into this object */
  char own_id[CALL_URI_CAP];
  char own_addr[PROSE_SDP_ADDR_MAX];
  bool own_v6;
  char alt_addr[PROSE_SDP_ADDR_MAX]; /* of the other family; "" when none */
  char codec[CALL_CODEC_CAP];
  char org[CALL_TEXT_CAP];
  prose_call_callbacks cb;
  void *ud;
  prose_rng rng;
  call_group groups[PROSE_CALL_MAX_GROUPS];
  call_private priv[PROSE_CALL_MAX_PRIVATE];
  uint8_t tx[PROSE_MONP_MSG_MAX];
};

/* ---- call_engine.c: outputs and helpers -------------------------------- */
void call_emit(prose_call_engine *e, const prose_call_event *ev);
void call_send_group(prose_call_engine *e, const call_group *g, const prose_monp_msg *m);
void call_send_private(prose_call_engine *e, const call_private *p, const prose_monp_msg *m);
uint64_t call_wall(const prose_call_engine *e, uint64_t now);
/* A call identifier (24.379 10.2.2.4.3, 11.2.2.4.2.1; 36.579-1 5.5.5: uniform
 * over 0..65535). */
uint16_t call_random_id(prose_call_engine *e);
/* Uniform in [lo, hi]; the midpoint when the RNG fails. */
uint64_t call_random_range(prose_call_engine *e, uint64_t lo, uint64_t hi);
/* Copy a borrowed MONP string into a C string buffer of cap octets. */
void call_copy_str(char *dst, size_t cap, prose_monp_str s);
/* Fill the fixed part of an SDP from the settings (codec, floor line). */
void call_sdp_defaults(const prose_call_engine *e, prose_sdp *s);

/* ---- call_group.c ------------------------------------------------------- */
/* Shared with call_bcast.c: a call event of the group (bcast: the broadcast
 * call's id and type), a state trace event, a message with its group ID
 * filled in, and the group's SDP for a call id. */
void call_group_event(prose_call_engine *e, const call_group *g, prose_call_event_kind kind,
                      const char *peer, const prose_sdp *sdp, int err, bool bcast);
void call_group_state_event(prose_call_engine *e, const call_group *g,
                            prose_call_event_kind kind, int old_state, int new_state,
                            const char *trigger);
prose_monp_msg call_group_msg(prose_monp_type type, const call_group *g);
int call_group_sdp(prose_call_engine *e, const call_group *g, uint16_t call_id, char *out,
                   size_t *len);
int call_group_recv(prose_call_engine *e, call_group *g, uint64_t now, const prose_monp_msg *m);
void call_group_on_timer(prose_call_engine *e, call_group *g, uint64_t now, call_group_timer which);
void call_group_alert_expired(prose_call_engine *e, call_group *g, uint64_t now, size_t idx);
int call_group_user_call(prose_call_engine *e, call_group *g, uint64_t now, uint8_t type);
int call_group_user_accept(prose_call_engine *e, call_group *g, uint64_t now);
int call_group_user_reject(prose_call_engine *e, call_group *g, uint64_t now);
int call_group_user_release(prose_call_engine *e, call_group *g, uint64_t now);
int call_group_user_end_emergency(prose_call_engine *e, call_group *g, uint64_t now);
int call_group_user_alert(prose_call_engine *e, call_group *g, uint64_t now, bool on);

/* ---- call_bcast.c: broadcast (B1-B4) and emergency alert (E1/E2) -------- */
int call_bcast_recv(prose_call_engine *e, call_group *g, uint64_t now, const prose_monp_msg *m);
int call_bcast_recv_end(prose_call_engine *e, call_group *g, const prose_monp_msg *m);
void call_bcast_on_timer(prose_call_engine *e, call_group *g, uint64_t now, call_group_timer w);
int call_bcast_user_call(prose_call_engine *e, call_group *g, uint64_t now);
int call_bcast_user_accept(prose_call_engine *e, call_group *g);
int call_bcast_user_reject(prose_call_engine *e, call_group *g);
/* True when a broadcast was released or left. */
bool call_bcast_user_release(prose_call_engine *e, call_group *g);
int call_alert_recv(prose_call_engine *e, call_group *g, uint64_t now, const prose_monp_msg *m);
int call_alert_recv_cancel(prose_call_engine *e, call_group *g, const prose_monp_msg *m);
/* ALERT ACK (which 0) or ALERT CANCEL ACK (which 1) for our alert. */
int call_alert_recv_ack(prose_call_engine *e, call_group *g, const prose_monp_msg *m,
                        uint8_t which);

/* ---- call_private.c ----------------------------------------------------- */
int call_private_recv(prose_call_engine *e, uint64_t now, const prose_monp_msg *m);
void call_private_on_timer(prose_call_engine *e, call_private *p, uint64_t now,
                        call_private_timer which);
int call_private_user_call(prose_call_engine *e, uint64_t now, const char *peer,
                           prose_monp_commencement mode, bool emergency, bool peer_ipv6);
int call_private_user_accept(prose_call_engine *e, call_private *p, uint64_t now);
int call_private_user_reject(prose_call_engine *e, call_private *p, uint64_t now);
int call_private_user_release(prose_call_engine *e, call_private *p, uint64_t now);
int call_private_user_emergency_cancel(prose_call_engine *e, call_private *p, uint64_t now);
call_private *call_private_find(prose_call_engine *e, const char *peer);

#endif
