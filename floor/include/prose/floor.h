/*
 * Off-network floor control: the floor participant of TS 24.380 clause 7.
 *
 * There is no floor control server off-network. Every client runs this
 * state machine; the client that currently talks is the temporary floor
 * arbitrator (24.380 7.1) and answers the Floor Requests of the others
 * (grant by pre-emption, queue, or deny). When nobody answers a request
 * C201 times, the requester takes the floor with Floor Taken.
 *
 * The engine is sans-IO (DESIGN.md §2): it never reads a clock, opens a
 * socket or allocates after creation. The caller feeds it
 *   - datagrams of plaintext RTCP APP "MCPT" packets (prose_floor_recv),
 *   - RTP activity from other participants (prose_floor_rtp),
 *   - user actions (prose_floor_ptt_press / _ptt_release / _cancel /
 *     _queue_position),
 *   - the call's life cycle (prose_floor_start / _stop),
 *   - time (every function takes `now`, monotonic milliseconds; call
 *     prose_floor_on_timeout when prose_floor_next_deadline is reached),
 * and the engine answers through the callbacks: send() a datagram to all
 * participants of the call (the node fans it out and protects it with
 * SRTCP), and event() for state changes, grants, denials, the current
 * talker and whether the client may send media now.
 *
 * Callbacks run synchronously inside the engine call that caused them and
 * must not call back into the same engine (such calls return PROSE_EINVAL).
 *
 * Tie-break (prose's rule, DIGEST §8.3): when two participants contend
 * without an arbitrator, or both end up holding the floor, the one with the
 * higher effective priority wins: first the call class (emergency >
 * imminent peril > normal, from the Floor Indicator), then the floor
 * priority level, then the higher SSRC, then the byte-wise greater MCPTT ID.
 * The loser backs off (pending request) or stops sending media (has
 * permission); the winner resends Floor Taken so a loser that missed it
 * learns it. Exactly one talker remains once both have heard each other.
 */
#ifndef PROSE_FLOOR_H
#define PROSE_FLOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/floor_msg.h"

/* States of 24.380 7.2 (names as in the specification's state diagram). */
typedef enum prose_floor_state {
  PROSE_FLOOR_START_STOP = 0,      /* 'Start-stop' */
  PROSE_FLOOR_O_SILENCE,           /* 'O: silence' */
  PROSE_FLOOR_O_HAS_NO_PERMISSION, /* 'O: has no permission' */
  PROSE_FLOOR_O_PENDING_REQUEST,   /* 'O: pending request' */
  PROSE_FLOOR_O_HAS_PERMISSION,    /* 'O: has permission' */
  PROSE_FLOOR_O_PENDING_GRANTED,   /* 'O: pending granted' */
  PROSE_FLOOR_O_QUEUED             /* 'O: queued' */
} prose_floor_state;
#define PROSE_FLOOR_STATE_COUNT 7

/* Timers of 24.380 clause 11 used off-network; index into timer_ms[]. */
typedef enum prose_floor_timer {
  PROSE_FLOOR_T201 = 0, /* Floor Request retransmission */
  PROSE_FLOOR_T203,     /* end of RTP media */
  PROSE_FLOOR_T204,     /* Floor Queue Position Request retransmission */
  PROSE_FLOOR_T205,     /* Floor Granted retransmission */
  PROSE_FLOOR_T206,     /* stop-talking warning */
  PROSE_FLOOR_T207,     /* stop talking */
  PROSE_FLOOR_T230,     /* inactivity */
  PROSE_FLOOR_T233      /* pending user action */
} prose_floor_timer;
#define PROSE_FLOOR_TIMER_COUNT 8

/* Counters of 24.380 clause 11; index into counter_max[]. */
typedef enum prose_floor_counter {
  PROSE_FLOOR_C201 = 0, /* Floor Requests sent */
  PROSE_FLOOR_C204,     /* Floor Queue Position Requests sent */
  PROSE_FLOOR_C205      /* Floor Granted sent */
} prose_floor_counter;
#define PROSE_FLOOR_COUNTER_COUNT 3

/* What caused a transition (the trace's trigger). */
typedef enum prose_floor_trigger {
  PROSE_FLOOR_TRIG_CALL_START = 0,
  PROSE_FLOOR_TRIG_CALL_RELEASE,
  PROSE_FLOOR_TRIG_PTT_PRESS,
  PROSE_FLOOR_TRIG_PTT_RELEASE,
  PROSE_FLOOR_TRIG_QUEUE_POSITION, /* user asks for the queue position */
  PROSE_FLOOR_TRIG_CANCEL,         /* user withdraws a pending or queued request */
  PROSE_FLOOR_TRIG_RTP,
  PROSE_FLOOR_TRIG_RX_REQUEST,
  PROSE_FLOOR_TRIG_RX_GRANTED,
  PROSE_FLOOR_TRIG_RX_DENY,
  PROSE_FLOOR_TRIG_RX_RELEASE,
  PROSE_FLOOR_TRIG_RX_TAKEN,
  PROSE_FLOOR_TRIG_RX_QUEUE_POS_REQUEST,
  PROSE_FLOOR_TRIG_RX_QUEUE_POS_INFO,
  PROSE_FLOOR_TRIG_T201,
  PROSE_FLOOR_TRIG_T203,
  PROSE_FLOOR_TRIG_T204,
  PROSE_FLOOR_TRIG_T205,
  PROSE_FLOOR_TRIG_T206,
  PROSE_FLOOR_TRIG_T207,
  PROSE_FLOOR_TRIG_T230,
  PROSE_FLOOR_TRIG_T233,
  PROSE_FLOOR_TRIG_C201_LIMIT, /* T201 expired with C201 at its limit */
  PROSE_FLOOR_TRIG_C204_LIMIT,
  PROSE_FLOOR_TRIG_C205_LIMIT
} prose_floor_trigger;
#define PROSE_FLOOR_TRIG_COUNT 25

/* Call type flags (from call control, 24.379). */
#define PROSE_FLOOR_CALL_BROADCAST 0x01u /* broadcast group call: only the originator talks */
#define PROSE_FLOOR_CALL_EMERGENCY 0x02u
#define PROSE_FLOOR_CALL_IMMINENT_PERIL 0x04u
#define PROSE_FLOOR_CALL_PRIVATE 0x08u /* private call (two participants) */

/* Whether this client originated the call is not a setting: it is the
 * role given to prose_floor_start. Timers and counters are indexed by
 * prose_floor_timer / prose_floor_counter (timer_ms[PROSE_FLOOR_T201] ...). */
typedef struct prose_floor_settings {
  uint32_t ssrc;                              /* own SSRC (RTCP sender SSRC = RTP SSRC) */
  const char *user_id;                        /* own MCPTT ID, 1..255 octets; copied at creation */
  uint8_t priority;                           /* floor priority for requests (ptt_press with -1) */
  bool queueing;                              /* queue requests when arbitrator; ask to be queued */
  uint8_t queue_capacity;                     /* 1..PROSE_FLOOR_QUEUE_MAX */
  uint32_t call_flags;                        /* PROSE_FLOOR_CALL_* */
  uint32_t timer_ms[PROSE_FLOOR_TIMER_COUNT]; /* each >= 1 */
  uint32_t counter_max[PROSE_FLOOR_COUNTER_COUNT]; /* each >= 1 */
} prose_floor_settings;

/*
 * Defaults (DIGEST §8.4, NIST-derived [I]): T201 40 ms, T203 4 s, T204
 * 80 ms, T205 80 ms, T206 27 s, T207 3 s, T230 600 s, T233 3 s; C201 3,
 * C204 3, C205 4; priority 0, queueing on, capacity 8, group call. The
 * caller still sets ssrc and user_id.
 */
void prose_floor_settings_default(prose_floor_settings *s);

typedef enum prose_floor_event_type {
  PROSE_FLOOR_EV_STATE = 0, /* old_state -> new_state because of trigger */
  PROSE_FLOOR_EV_MEDIA,     /* on: the client may (true) / must not (false) send media */
  PROSE_FLOOR_EV_GRANTED,   /* this client has the floor */
  PROSE_FLOOR_EV_DENIED,    /* request denied; cause = reject cause (5 = receive only, local) */
  PROSE_FLOOR_EV_REQUEST_FAILED, /* request or queue position request went unanswered */
  PROSE_FLOOR_EV_REVOKED,        /* permission lost: ssrc/user_id = who took it (0 = T207) */
  PROSE_FLOOR_EV_QUEUED,         /* request queued: queue_position */
  PROSE_FLOOR_EV_GRANT_OFFERED,  /* queued request granted; press PTT within T233 to accept */
  PROSE_FLOOR_EV_STOP_WARNING,   /* T206 expired: T207 until the floor is taken away */
  PROSE_FLOOR_EV_TALKER          /* floor holder changed: ssrc/user_id, known = false for none */
} prose_floor_event_type;

typedef struct prose_floor_event {
  prose_floor_event_type type;
  uint64_t now;
  prose_floor_state old_state; /* EV_STATE */
  prose_floor_state new_state; /* EV_STATE; the current state for other events */
  prose_floor_trigger trigger; /* what caused this event */
  bool on;                     /* EV_MEDIA */
  bool known;                  /* EV_TALKER: a floor holder is known */
  uint32_t ssrc;               /* EV_TALKER, EV_REVOKED */
  const char *user_id;         /* borrowed for the callback; "" when unknown */
  uint16_t cause;              /* EV_DENIED */
  uint8_t queue_position;      /* EV_QUEUED */
} prose_floor_event;

typedef struct prose_floor_callbacks {
  /* Send one datagram to every participant of the call. The bytes are
   * valid only during the call. A non-zero return is counted (tx_failed);
   * the protocol's retransmissions cover a lost message. */
  int (*send)(void *user_data, const uint8_t *bytes, size_t len);
  /* Report an event; may be NULL. */
  void (*event)(void *user_data, const prose_floor_event *ev);
} prose_floor_callbacks;

typedef struct prose_floor_stats {
  uint64_t rx_msgs;      /* floor messages processed */
  uint64_t rx_malformed; /* datagrams rejected (nothing in them was processed) */
  uint64_t rx_ignored;   /* own messages, other RTCP packets, on-network or unknown types */
  uint64_t tx_msgs;
  uint64_t tx_failed;
  uint64_t transitions;
} prose_floor_stats;

typedef enum prose_floor_role {
  PROSE_FLOOR_ROLE_ORIGINATOR = 0, /* set the call up: starts with the floor */
  PROSE_FLOOR_ROLE_TERMINATING     /* joined or was called */
} prose_floor_role;

typedef struct prose_floor prose_floor;

/*
 * Create an engine in 'Start-stop'. Copies the settings; the callbacks
 * struct is copied, user_data is passed back to every callback.
 * Errors: PROSE_ECONFIG (a timer or counter is 0, user_id empty or longer
 * than 255 octets, queue_capacity out of range, send callback NULL),
 * PROSE_ENOMEM.
 */
int prose_floor_new(prose_floor **out, const prose_floor_settings *s,
                    const prose_floor_callbacks *cb, void *user_data);
void prose_floor_del(prose_floor *f);

/*
 * The call is established (24.380 7.2, 'Start-stop'). The originator
 * starts in 'O: has permission' and announces itself with Floor Taken; a
 * terminating client starts in 'O: silence' (group call) or, in a private
 * or broadcast call, in 'O: has no permission'.
 * Errors: PROSE_EINVAL (not in 'Start-stop', or called from a callback).
 */
int prose_floor_start(prose_floor *f, uint64_t now, prose_floor_role role);

/*
 * The call's type changed while the call runs: a group call upgraded to
 * emergency or imminent peril, or returned to basic by GROUP CALL
 * EMERGENCY END / IMMINENT PERIL END, or a private emergency call
 * cancelled (24.379 10.2.3, 11.2.2). `flags` are the call's new
 * PROSE_FLOOR_CALL_* flags; only the emergency and imminent peril bits may
 * differ from the current ones (a call does not become another kind of
 * call). From now on this client's messages carry the new Floor Indicator,
 * its requests the new call class, and as arbitrator it weighs requests
 * against its new class (pre-emption, queue order, tie-break). A request
 * already queued at an arbitrator keeps the class it was queued with. The
 * setting outlives 'Start-stop' (a session restarted after T230 keeps it).
 * Nothing is sent and no state changes. Errors: PROSE_EINVAL (the broadcast
 * or private bit differs, or called from a callback).
 */
int prose_floor_set_call_flags(prose_floor *f, uint32_t flags);
/* The call flags in force (PROSE_FLOOR_CALL_*). */
uint32_t prose_floor_call_flags(const prose_floor *f);

/* The call is released: back to 'Start-stop'. A client that holds the
 * floor sends Floor Release first. Errors: PROSE_EINVAL (from a callback). */
int prose_floor_stop(prose_floor *f, uint64_t now);

/*
 * The user presses PTT, asking for the floor at `priority` (0..255, or -1
 * for the settings' priority). Also accepts a grant offered while queued.
 * Errors: PROSE_EINVAL (priority out of range, in 'Start-stop', from a callback).
 */
int prose_floor_ptt_press(prose_floor *f, uint64_t now, int priority);

/* The user releases PTT: ends the talk burst or withdraws a pending
 * request. A queued request stays queued (24.380 7.1: the user may let go
 * while queued); when it is granted later the user has T233 to press PTT
 * again. Errors: PROSE_EINVAL (from a callback). */
int prose_floor_ptt_release(prose_floor *f, uint64_t now);

/* The user withdraws a pending or queued request (Floor Release).
 * Errors: PROSE_EINVAL (no request pending or queued, or from a callback). */
int prose_floor_cancel(prose_floor *f, uint64_t now);

/* While queued, ask the arbitrator for the queue position (T204/C204).
 * Errors: PROSE_EINVAL (not in 'O: queued', or from a callback). */
int prose_floor_queue_position(prose_floor *f, uint64_t now);

/*
 * One received datagram: one or more RTCP packets, plaintext (SRTCP
 * already removed). Every packet is decoded before any is acted on, so a
 * malformed datagram changes nothing. RTCP packets other than APP "MCPT",
 * on-network message types, unknown message types and the client's own
 * messages (multicast loopback) are skipped.
 * Errors: any prose_floor_rtcp_next / prose_floor_msg_decode error of the
 * first bad packet (the datagram is dropped and counted), PROSE_ETRUNC for
 * an empty datagram, PROSE_EINVAL (from a callback).
 */
int prose_floor_recv(prose_floor *f, uint64_t now, const uint8_t *buf, size_t len);

/* RTP media arrived from `ssrc` (the node calls this per packet, or at
 * least once per T203 period). Errors: PROSE_EINVAL (from a callback). */
int prose_floor_rtp(prose_floor *f, uint64_t now, uint32_t ssrc);

/* Run every timer that expired at `now`. Errors: PROSE_EINVAL (from a callback). */
int prose_floor_on_timeout(prose_floor *f, uint64_t now);

/* Earliest timer deadline, UINT64_MAX when no timer runs. */
uint64_t prose_floor_next_deadline(const prose_floor *f);

prose_floor_state prose_floor_get_state(const prose_floor *f);
/* True in 'O: has permission' only. */
bool prose_floor_may_send_media(const prose_floor *f);
/* The floor holder as far as this client knows: returns false when none;
 * otherwise *ssrc and *user_id ("" when unknown; borrowed). Either may be NULL. */
bool prose_floor_talker(const prose_floor *f, uint32_t *ssrc, const char **user_id);
/* Deadline of one timer (UINT64_MAX when stopped) and one counter's value;
 * for tests and diagnostics. */
uint64_t prose_floor_timer_deadline(const prose_floor *f, prose_floor_timer t);
uint32_t prose_floor_counter_value(const prose_floor *f, prose_floor_counter c);
/* Requests queued at this client while it is the arbitrator, and the SSRC
 * of entry i (0 = head). */
size_t prose_floor_queue_len(const prose_floor *f);
uint32_t prose_floor_queue_ssrc(const prose_floor *f, size_t i);
/* This client's position in the arbitrator's queue (0 when not queued). */
uint8_t prose_floor_queue_position_get(const prose_floor *f);
const prose_floor_stats *prose_floor_get_stats(const prose_floor *f);

/* Spec names: "O: pending request", "T201", ... */
const char *prose_floor_state_name(prose_floor_state s);
const char *prose_floor_trigger_name(prose_floor_trigger t);
const char *prose_floor_timer_name(prose_floor_timer t);

#endif
