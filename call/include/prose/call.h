/*
 * Off-network call control (TS 24.379 clauses 10.2, 10.3, 11.2 and 12.2):
 * one sans-IO engine per node with a group call machine per configured group
 * and a private call machine per peer.
 *
 * Inputs: prose_call_recv (a MONP datagram), the user actions below and
 * prose_call_on_timeout. Outputs: the callbacks (datagrams to send, events).
 * The driver re-arms one timer from prose_call_next_deadline after every
 * call. Time is monotonic milliseconds given by the caller; the engine reads
 * no clock, opens no socket and draws randomness (call identifiers, TFG2)
 * only from the injected prose_rng. MONP call start times are UTC seconds
 * (40 bits) and come from the wall_s callback.
 *
 * Machines (names as in the spec):
 *  - Basic group call, per group: S1 start-stop, S2 waiting for call
 *    announcement, S3 part of ongoing call, S4/S5 pending user action without
 *    / with confirm indication, S6 ignoring incoming call announcements, S7
 *    waiting for call announcement after call release; the call type machine
 *    T0 waiting for call to establish, T1 emergency, T2 basic, T3 imminent
 *    peril (24.379 10.2.2, 10.2.3).
 *  - Broadcast group call, per group: B1 start-stop, B2 in-progress broadcast
 *    group call, B3 pending user action, B4 ignoring same call id (10.3).
 *  - Group emergency alert, per group: E1 not in emergency state, E2
 *    emergency state, plus the alerts received from other users (12.2).
 *  - Private call, per peer: P0 start-stop, P1 ignoring same call id, P2
 *    waiting for call response, P3 waiting for release response, P4 part of
 *    ongoing call, P5 pending (11.2.2).
 * Timers and counters are listed in call_group.c and call_private.c.
 *
 * Protection is the node's job and plugs in through two hooks: make_key_mgmt
 * supplies the PCK I_MESSAGE for an outgoing PRIVATE CALL SETUP REQUEST and
 * check_key_mgmt validates the one in an incoming request; a failed check
 * makes the callee answer PRIVATE CALL REJECT with reason 3 (end-to-end
 * security context failure) and ignore that call identifier (P1).
 *
 * Verify, then commit: a datagram is fully decoded, its SDP parsed and, for a
 * setup request, its key validated before any machine changes state.
 *
 * Threading: none. Callbacks run inside the engine call that caused them and
 * must not call back into the engine.
 */
#ifndef PROSE_CALL_H
#define PROSE_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/call_msg.h"
#include "prose/rng.h"
#include "prose/sdp.h"

#define PROSE_CALL_MAX_GROUPS 16u
#define PROSE_CALL_MAX_PRIVATE 8u
#define PROSE_CALL_MAX_ALERTS 8u /* alerting users tracked per group */

typedef struct prose_call_engine prose_call_engine;

typedef enum prose_call_group_state {
  PROSE_CALL_S1 = 1, /* start-stop */
  PROSE_CALL_S2,     /* waiting for call announcement */
  PROSE_CALL_S3,     /* part of ongoing call */
  PROSE_CALL_S4,     /* pending user action without confirm indication */
  PROSE_CALL_S5,     /* pending user action with confirm indication */
  PROSE_CALL_S6,     /* ignoring incoming call announcements */
  PROSE_CALL_S7      /* waiting for call announcement after call release */
} prose_call_group_state;

typedef enum prose_call_type_state {
  PROSE_CALL_T0 = 0, /* waiting for call to establish */
  PROSE_CALL_T1,     /* in-progress emergency group call */
  PROSE_CALL_T2,     /* in-progress basic group call */
  PROSE_CALL_T3      /* in-progress imminent peril group call */
} prose_call_type_state;

typedef enum prose_call_bcast_state {
  PROSE_CALL_B1 = 1, /* start-stop */
  PROSE_CALL_B2,     /* in-progress broadcast group call */
  PROSE_CALL_B3,     /* pending user action */
  PROSE_CALL_B4      /* ignoring same call id */
} prose_call_bcast_state;

typedef enum prose_call_alert_state {
  PROSE_CALL_E1 = 1, /* not in emergency state */
  PROSE_CALL_E2      /* emergency state (we are alerting) */
} prose_call_alert_state;

typedef enum prose_call_private_state {
  PROSE_CALL_P0 = 0, /* start-stop */
  PROSE_CALL_P1,     /* ignoring same call id */
  PROSE_CALL_P2,     /* waiting for call response */
  PROSE_CALL_P3,     /* waiting for release response */
  PROSE_CALL_P4,     /* part of ongoing call */
  PROSE_CALL_P5      /* pending */
} prose_call_private_state;

/*
 * Settings. prose_call_settings_default fills the DIGEST §7.7 defaults
 * (TFG1-TFG4 from 24.379 Annex B.3, the rest NIST ns-3 values marked [I]).
 * Strings are copied at creation. All durations are milliseconds unless the
 * name says seconds; every timer must be at least 1 ms.
 */
typedef struct prose_call_settings {
  const char *mcptt_id;      /* own MCPTT ID (SIP URI); required */
  const char *unicast_addr;  /* own IPv4/IPv6 address for private call SDP */
  const char *unicast_addr_alt; /* optional: own address of the other family (dual
                                 * stack); a private call's SDP then carries the
                                 * address of the family the peer uses */
  uint16_t audio_port;       /* own RTP port for private calls */
  uint16_t floor_port;       /* own floor control port for private calls */
  uint8_t payload_type;      /* audio payload type offered (default 0, PCMU) */
  const char *codec;         /* rtpmap name (default "PCMU") */
  uint32_t clock_rate;       /* default 8000 */
  bool floor_queueing;       /* a=fmtp:MCPTT mc_queueing */
  uint8_t floor_priority;    /* a=fmtp:MCPTT mc_priority */
  const char *organization;  /* GROUP EMERGENCY ALERT organization name */

  bool user_ack_required;    /* group: ask the user (S4/S5, B3) before joining */
  bool confirm_mode;         /* group: our announcements ask for GROUP CALL ACCEPT */
  bool require_key_mgmt;     /* private: a setup without a=key-mgmt is refused (reason 3) */
  uint16_t refresh_interval; /* ms between periodic announcements (10000, 36.579-1) */
  uint32_t group_max_duration_s;   /* TFG6 basis X; 0 = unlimited */
  uint32_t broadcast_max_duration_s; /* TFB1; 0 = unlimited */
  uint32_t private_max_duration_s; /* TFP5; 0 = unlimited */

  uint32_t tfg1, tfg3, tfg4, tfg5, tfg11, tfg12; /* group call */
  /* TFG13 / TFG14 implicit downgrade (24.379 10.2.3.4.1.1): the basis X of
   * X - (now - last call type change time), in ms. An emergency (T1) /
   * imminent peril (T3) call whose type was not changed again for this long
   * returns to basic (T2) by itself. Default 255000 [I] (NIST ns-3). */
  uint32_t tfg13, tfg14;
  uint32_t tfb2, tfb3;                           /* broadcast */
  uint32_t tfe1, tfe2;                           /* emergency alert */
  uint32_t tfp1, tfp2, tfp3, tfp4, tfp6, tfp7;   /* private call */
  uint32_t cfg11, cfg12, cfp1, cfp3, cfp4, cfp6; /* counter limits */
} prose_call_settings;

void prose_call_settings_default(prose_call_settings *s);

typedef enum prose_call_event_kind {
  PROSE_CALL_EV_GROUP_STATE = 1,  /* S state change (old, new, trigger) */
  PROSE_CALL_EV_TYPE_STATE,       /* T state change: the call type changed */
  PROSE_CALL_EV_BCAST_STATE,      /* B state change */
  PROSE_CALL_EV_ALERT_STATE,      /* E state change */
  PROSE_CALL_EV_PRIVATE_STATE,    /* P state change */
  PROSE_CALL_EV_GROUP_INCOMING,   /* S4/S5 or B3: ask the user; sdp = the call's */
  PROSE_CALL_EV_GROUP_STARTED,    /* we originated (S3 or B2); sdp = ours */
  PROSE_CALL_EV_GROUP_JOINED,     /* we joined an existing call; sdp = the call's */
  PROSE_CALL_EV_GROUP_MERGED,     /* switched to another call of the group; sdp = new */
  PROSE_CALL_EV_GROUP_RELEASED,   /* our part in the call ended: stop media */
  PROSE_CALL_EV_GROUP_ACCEPTED,   /* GROUP CALL ACCEPT received; peer = sender */
  PROSE_CALL_EV_ALERT,            /* GROUP EMERGENCY ALERT from peer; text = organization */
  PROSE_CALL_EV_ALERT_CANCELLED,  /* peer's alert cancelled (or TFE1 expired: err = ETIME) */
  PROSE_CALL_EV_ALERT_ACK,        /* peer acknowledged our alert (reason 0) or cancel (1) */
  PROSE_CALL_EV_PRIVATE_INCOMING, /* callee: setup accepted for presentation; sdp = offer */
  PROSE_CALL_EV_PRIVATE_RINGING,  /* caller: the callee is being alerted */
  PROSE_CALL_EV_PRIVATE_CONNECTED, /* P4 entered; sdp = the peer's (offer or answer) */
  PROSE_CALL_EV_PRIVATE_REJECTED, /* REJECT received (caller) or sent (callee); reason, err */
  PROSE_CALL_EV_PRIVATE_FAILED,   /* no answer, retransmissions exhausted, bad answer; err */
  PROSE_CALL_EV_PRIVATE_RELEASED, /* the call ended (either side) */
  PROSE_CALL_EV_PRIVATE_EMERGENCY_CANCELLED /* the call is no longer an emergency call */
} prose_call_event_kind;

/*
 * One event. Pointers are valid only during the callback. group is set for
 * group events, peer for private events and for the user who caused a group
 * event. call_type is the MONP call type (broadcast events: 2).
 */
typedef struct prose_call_event {
  prose_call_event_kind kind;
  const char *group;
  const char *peer;
  uint16_t call_id;
  uint8_t call_type;
  int old_state; /* *_STATE events: the spec state numbers (S1 = 1, T0 = 0, P0 = 0...) */
  int new_state;
  const char *trigger; /* *_STATE events: "ANNOUNCEMENT", "TFG1 expiry", "user release"... */
  const prose_sdp *sdp;
  uint8_t reason; /* PRIVATE_REJECTED: the MONP reason */
  int err;        /* a prose error code that explains the event, or 0 */
  const char *text;
  uint8_t commencement; /* PRIVATE_INCOMING */
} prose_call_event;

typedef struct prose_call_callbacks {
  /* Send bytes to the group's multicast address, UDP port 8809, TTL 255. */
  void (*send_group)(void *user_data, const char *group_id, const uint8_t *msg, size_t len);
  /* Send bytes to the peer's unicast address (the node resolves peer_uri). */
  void (*send_private)(void *user_data, const char *peer_uri, const uint8_t *msg, size_t len);
  /* Optional: every state change and call event. */
  void (*event)(void *user_data, const prose_call_event *ev);
  /* Optional: write the PCK I_MESSAGE for a call to peer_uri into buf[cap],
   * *len = its size; return 0 or an error (the call is not started and the
   * error is returned to the caller of prose_call_private_call). NULL: no key. */
  int (*make_key_mgmt)(void *user_data, const char *peer_uri, uint8_t *buf, size_t cap,
                       size_t *len);
  /* Optional: validate (verify, decrypt, store) the I_MESSAGE of an incoming
   * setup from peer_uri; return 0 or an error code. A failure rejects the
   * call with reason 3. NULL with require_key_mgmt rejects every keyed call. */
  int (*check_key_mgmt)(void *user_data, const char *peer_uri, const uint8_t *msg, size_t len);
  /* Optional: UTC seconds since 1970 at monotonic time now_ms. NULL: now_ms / 1000. */
  uint64_t (*wall_s)(void *user_data, uint64_t now_ms);
} prose_call_callbacks;

/*
 * Create an engine. settings, callbacks and rng are copied (rng->ctx must
 * outlive the engine). Returns 0 or PROSE_EINVAL (NULL argument, no
 * mcptt_id, unicast_addr not an IP address, unicast_addr_alt (when set and
 * not "") not an address of the other family, send callbacks missing),
 * PROSE_ECONFIG (a timer of 0 ms, a counter limit of 0, a string too long),
 * PROSE_ENOMEM.
 */
int prose_call_engine_new(prose_call_engine **out, const prose_call_settings *settings,
                          const prose_call_callbacks *callbacks, void *user_data,
                          const prose_rng *rng);
void prose_call_engine_free(prose_call_engine *e);

/*
 * Configure a group: its MCPTT group ID, multicast address and the media and
 * floor ports every member uses (24.379 10.2.1: group SDP is pre-arranged).
 * Returns 0 or PROSE_EINVAL (bad ID or address), PROSE_EEXIST, PROSE_ERANGE
 * (PROSE_CALL_MAX_GROUPS reached).
 */
int prose_call_group_add(prose_call_engine *e, const char *group_id, const char *mcast_addr,
                         uint16_t audio_port, uint16_t floor_port);

/*
 * Feed one received MONP datagram. from is the sender's address or URI as the
 * node knows it (informational). Returns 0 when the message was handled
 * (including the messages the current state ignores on purpose), or:
 *   a prose_monp_decode error       malformed datagram, nothing changed;
 *   an SDP parse error               bad SDP in an announcement, broadcast or
 *                                    private accept: nothing changed; in a
 *                                    setup request: the call was rejected;
 *   the check_key_mgmt error         the setup was rejected with reason 3;
 *   PROSE_ENOENT                     group message for a group not configured;
 *   PROSE_EWRONG_RECIPIENT           private message naming neither side as us.
 */
int prose_call_recv(prose_call_engine *e, uint64_t now, const uint8_t *buf, size_t len,
                    const char *from);

/*
 * User actions. Each returns 0, PROSE_ENOENT (unknown group / no call with
 * that peer), PROSE_EINVAL (bad argument, or the action does not apply in the
 * current state: nothing changed) or an error from the key hook.
 */
/* Start or join a call of type basic, emergency, imminent peril (probe first)
 * or broadcast; in S3, a higher type upgrades the ongoing call. */
int prose_call_group_call(prose_call_engine *e, uint64_t now, const char *group_id,
                          prose_monp_call_type type);
int prose_call_group_accept(prose_call_engine *e, uint64_t now, const char *group_id);
int prose_call_group_reject(prose_call_engine *e, uint64_t now, const char *group_id);
/* Leave the group call (and end our broadcast, or leave one we receive). */
int prose_call_group_release(prose_call_engine *e, uint64_t now, const char *group_id);
/* Return an emergency or imminent peril call to basic: sends the END message. */
int prose_call_group_end_emergency(prose_call_engine *e, uint64_t now, const char *group_id);
/* Start (on) or cancel (off) our GROUP EMERGENCY ALERT. */
int prose_call_emergency_alert(prose_call_engine *e, uint64_t now, const char *group_id, bool on);

/* Call peer_uri. Returns PROSE_ERANGE when PROSE_CALL_MAX_PRIVATE calls exist.
 * The offer carries unicast_addr. */
int prose_call_private_call(prose_call_engine *e, uint64_t now, const char *peer_uri,
                            prose_monp_commencement mode, bool emergency);
/* The same, for a caller that knows the family it reaches the peer on
 * (peer_ipv6: over IPv6): the offer carries our address of that family when
 * the engine has one (unicast_addr or unicast_addr_alt), else unicast_addr.
 * The callee answers with its address of the family of the offer's c= line
 * (same rule), so a dual-stack node and an IPv6-only node meet on IPv6. */
int prose_call_private_call_af(prose_call_engine *e, uint64_t now, const char *peer_uri,
                               prose_monp_commencement mode, bool emergency, bool peer_ipv6);
int prose_call_private_accept(prose_call_engine *e, uint64_t now, const char *peer_uri);
int prose_call_private_reject(prose_call_engine *e, uint64_t now, const char *peer_uri);
/* Hang up: release an ongoing call, or abandon an outgoing or incoming one. */
int prose_call_private_release(prose_call_engine *e, uint64_t now, const char *peer_uri);
int prose_call_private_emergency_cancel(prose_call_engine *e, uint64_t now,
                                        const char *peer_uri);

/* Run every timer due at now. Returns 0. */
int prose_call_on_timeout(prose_call_engine *e, uint64_t now);
/* The earliest armed timer, or UINT64_MAX when none is armed. */
uint64_t prose_call_next_deadline(const prose_call_engine *e);

/* A snapshot of one group, for status displays and tests. */
typedef struct prose_call_group_info {
  prose_call_group_state state;
  prose_call_type_state type_state;
  prose_call_bcast_state bcast_state;
  prose_call_alert_state alert_state;
  uint16_t call_id;   /* the stored call identifier (S3-S6) */
  uint8_t call_type;
  uint64_t start_time; /* UTC seconds */
  bool originator;     /* we sent the first announcement of this call */
  uint16_t bcast_call_id;
  size_t alerts;       /* users whose alert we track */
} prose_call_group_info;

int prose_call_group_get(const prose_call_engine *e, const char *group_id,
                         prose_call_group_info *info);

typedef struct prose_call_private_info {
  prose_call_private_state state;
  uint16_t call_id;
  uint8_t call_type;
  bool caller; /* we placed the call */
  prose_monp_commencement commencement;
} prose_call_private_info;

/* PROSE_ENOENT when no machine exists for the peer (P0). */
int prose_call_private_get(const prose_call_engine *e, const char *peer_uri,
                           prose_call_private_info *info);

/* "S1", "P4", ... for logs. */
const char *prose_call_group_state_name(prose_call_group_state s);
const char *prose_call_private_state_name(prose_call_private_state s);

#endif
