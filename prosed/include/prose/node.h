/*
 * prose node: one device. It composes the key store and keyring, discovery,
 * off-network call control (TS 24.379), floor control (TS 24.380 cl. 7) and
 * the media keying (TS 33.179 7.5/7.6) into one sans-IO object (DESIGN §2).
 *
 * This is the one public header an embedder (a vehicle gateway with its own
 * event loop) needs. Both drivers use it: the daemon `prosed` (libuv) and the
 * simulator `sim` (virtual time).
 *
 * Inputs
 *   prose_node_recv(now, sock, local_port, from, bytes)  one datagram
 *   prose_node_call_group / _call_private / _ptt_press / ...  user actions
 *   prose_node_on_timeout(now)                           when next_deadline is due
 * Outputs, through the callbacks given at creation
 *   send(sock, local_port, to, bytes)   a datagram to send from the socket
 *                                       bound to (sock, local_port)
 *   event(ev)                           state changes, calls, floor, errors
 *   wall_ntp(now)                       the wall clock (NTP seconds), for
 *                                       discovery and MIKEY timestamps
 *
 * Sockets the driver provides (all UDP; see prose_node_sockets):
 *   CALL   port call_port (8809): unicast, and joined to every group's
 *          multicast address (MONP, TS 24.379 10.2.1/11.2.1)
 *   DISC   discovery multicast group and port
 *   MEDIA  one per group (its media_port, joined to the group address) and
 *          one for private calls (private_audio_port, unicast): SRTP
 *   FLOOR  one per group (floor_port, multicast) and one for private calls
 *          (private_floor_port, unicast): SRTCP-protected floor control
 *   APP    loopback ports where the local application sends plain RTP and
 *          receives the decrypted RTP of the current talker: one per group
 *          (app_port) and one for private calls (private_app_port). The
 *          node receives the application's RTP on port P (app_port or
 *          private_app_port) and sends the decrypted RTP from P to the
 *          application at app_addr, port P + 1. Media the application sends
 *          while this node may not talk is dropped and counted; what it may
 *          send is renumbered onto the call's own stream (own SSRC, sequence
 *          numbers that only grow, timestamps that run on across bursts).
 *
 * Where media and floor control go: a group call uses the group's
 * configured multicast address and ports (24.379 10.2.1: pre-arranged), not
 * the SDP of an announcement; a private call uses the address and ports of
 * the peer's SDP. Private call control goes to the peer's address and call
 * port from its verified discovery announcement.
 *
 * Multicast loopback: a datagram from the node's own unicast address and
 * from the port it arrives on is taken as our own multicast looped back,
 * dropped and counted (rx_own), so the driver may leave IP_MULTICAST_LOOP on.
 *
 * Security rules the node enforces: media and floor control are only ever
 * sent SRTP/SRTCP-protected; media from the application is sent only while
 * this node holds the floor; a received packet that fails to authenticate,
 * names an unknown key or replays is dropped and counted per reason; a
 * private call whose I_MESSAGE fails verification is rejected with reason 3
 * and leaves no state; PCKs are wiped when the call ends.
 *
 * Not thread-safe: one node, one thread. Callbacks run synchronously inside
 * the node call that caused them and must not call back into the node.
 */
#ifndef PROSE_NODE_H
#define PROSE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/call.h"
#include "prose/discovery.h"
#include "prose/floor.h"
#include "prose/keyring.h"
#include "prose/media.h"
#include "prose/rng.h"
#include "prose/store.h"

#define PROSE_NODE_MAX_GROUPS 16u
#define PROSE_NODE_MAX_DGRAM 2048u /* largest datagram the node sends or accepts */

/* A transport address (IPv4 or IPv6 and a UDP port), as the driver saw it. */
typedef prose_disc_addr prose_node_addr;

typedef enum prose_node_sock {
  PROSE_SOCK_CALL = 0,
  PROSE_SOCK_DISC,
  PROSE_SOCK_MEDIA,
  PROSE_SOCK_FLOOR,
  PROSE_SOCK_APP
} prose_node_sock;

typedef struct prose_node_group {
  const char *id;         /* MCPTT group ID (copied) */
  prose_node_addr mcast;  /* the group's multicast address (port unused) */
  uint16_t media_port;    /* SRTP, on mcast */
  uint16_t floor_port;    /* SRTCP floor control, on mcast */
  uint16_t app_port;      /* loopback port of the application for this group */
} prose_node_group;

/* Settings. Start from prose_node_settings_default(): discovery on
 * 239.255.88.9:8810, call_port 8809, private ports 20000 (audio), 20002
 * (floor), 21000 (application), app_addr 127.0.0.1, the engines' defaults. */
typedef struct prose_node_settings {
  const char *uri;             /* own MCPTT ID (required; copied) */
  const char *kms_uri;         /* KMS of the own key sets (required; copied) */
  prose_store *store;          /* borrowed: GMKs, PCKs; NULL = no group keys
                                * (group calls get PROSE_ENOKEY), PCKs in memory only */
  prose_keyring *keyring;      /* borrowed: own key sets and KMS certificates, loaded;
                                * its own URI must be uri */
  const prose_rng *rng;        /* borrowed: SSRCs, call ids, PCKs, nonces */

  prose_node_addr unicast4;    /* own unicast IPv4 (family NONE when absent) */
  prose_node_addr unicast6;    /* own unicast IPv6 (family NONE when absent) */
  prose_node_addr disc_mcast;  /* discovery multicast group and port */
  uint16_t call_port;          /* 8809 */
  uint16_t private_audio_port; /* SRTP of private calls (floor: private_floor_port) */
  uint16_t private_floor_port;
  uint16_t private_app_port;
  prose_node_addr app_addr;    /* where the application listens (loopback; port unused) */

  size_t n_groups;
  prose_node_group groups[PROSE_NODE_MAX_GROUPS];

  prose_floor_settings floor;  /* timers, counters, priority (ssrc/user_id set by the node) */
  prose_call_settings call;    /* timers, modes (mcptt_id, ports, addr set by the node) */
  prose_disc_settings disc;    /* interval, TTLs (kms_uri, local set by the node) */
  bool auto_accept_private;    /* accept incoming private calls without asking */
  bool app_symmetric;          /* application RTP only from app_addr, APP port + 1 (where the
                                * node delivers: the application's own receive socket) */
} prose_node_settings;

void prose_node_settings_default(prose_node_settings *s);

typedef enum prose_node_event_type {
  PROSE_NODE_EV_PEER = 0,       /* discovery: peer added/updated/expired (text = what) */
  PROSE_NODE_EV_CALL_STATE,     /* a group (group) or private (peer) call machine changed state */
  PROSE_NODE_EV_CALL_STARTED,   /* a group call we started or joined / a private call connected */
  PROSE_NODE_EV_CALL_ENDED,     /* released, rejected or failed (err, reason) */
  PROSE_NODE_EV_INCOMING,       /* a private call is ringing here (peer) or a group call asks */
  PROSE_NODE_EV_FLOOR,          /* floor state change (old/new names in state_from/state_to) */
  PROSE_NODE_EV_TALKER,         /* who talks now in the call (talker; "" = nobody) */
  PROSE_NODE_EV_GRANTED,        /* this node may send media */
  PROSE_NODE_EV_DENIED,         /* floor request denied (reason = cause) */
  PROSE_NODE_EV_REVOKED,        /* floor lost */
  PROSE_NODE_EV_QUEUED,         /* floor request queued (reason = position) */
  PROSE_NODE_EV_ALERT,          /* emergency alert received (peer, group, text) */
  PROSE_NODE_EV_ERROR           /* something was dropped or failed (err, text) */
} prose_node_event_type;

typedef struct prose_node_event {
  prose_node_event_type type;
  uint64_t now;
  const char *group;      /* group events: the group ID; NULL otherwise */
  const char *peer;       /* private-call and peer events: the peer URI */
  const char *state_from; /* spec state names ("O: silence", "S3", "P4") */
  const char *state_to;
  const char *trigger;
  const char *talker;     /* TALKER: the MCPTT ID of the floor holder, "" for none */
  const char *text;       /* a short human-readable description */
  int err;                /* a prose error code, or 0 */
  unsigned reason;        /* DENIED: reject cause; CALL_ENDED: MONP reason; QUEUED: position */
} prose_node_event;

typedef struct prose_node_callbacks {
  /* Send a datagram from the socket (sock, local_port) to `to`. A non-zero
   * return is counted; the protocols' retransmissions cover a lost message. */
  int (*send)(void *ud, prose_node_sock sock, uint16_t local_port, const prose_node_addr *to,
              const uint8_t *bytes, size_t len);
  void (*event)(void *ud, const prose_node_event *ev); /* may be NULL */
  /* Wall-clock time as NTP seconds (since 1900) at monotonic time now_ms. */
  uint64_t (*wall_ntp)(void *ud, uint64_t now_ms);
} prose_node_callbacks;

/* Counters (monotonic). */
typedef struct prose_node_counters {
  uint64_t rx_dgrams, tx_dgrams, tx_failed;
  uint64_t rx_bad_sock;          /* a datagram on a port the node does not use */
  uint64_t rx_own;               /* our own multicast looped back */
  uint64_t rx_no_call;           /* media or floor control for a call we are not in */
  uint64_t call_rx_errors;       /* MONP datagrams refused by the call engine */
  uint64_t call_tx_no_peer;      /* private call control for a peer discovery does not know */
  uint64_t floor_rx_errors;      /* floor datagrams refused after SRTCP */
  uint64_t app_rx, app_dropped_no_floor, app_dropped_no_call, app_dropped_bad;
  uint64_t app_dropped_foreign;  /* app_symmetric: from another address or port */
  uint64_t media_tx, media_rx, media_to_app;
  uint64_t key_mgmt_failed;      /* private call I_MESSAGEs refused (reason 3 sent) */
  uint64_t no_gmk;               /* a group call could not key (no GMK at t) */
  prose_media_counters media;    /* SRTP/SRTCP drops per reason, summed over calls */
} prose_node_counters;

typedef struct prose_node prose_node;

/*
 * Create a node and start discovery (the first announcement is due at once).
 * Errors: PROSE_EINVAL (a required setting or callback missing, no unicast
 * address, keyring of another user), PROSE_ECONFIG (a port 0, a media,
 * floor or application port used twice, a bad or repeated group, an engine
 * refused its settings), PROSE_EUNKNOWN_KMS (kms_uri not in the keyring),
 * PROSE_ENOMEM.
 */
int prose_node_new(prose_node **out, const prose_node_settings *s, const prose_node_callbacks *cb,
                   void *ud, uint64_t now);
/* Say goodbye: a TTL-0 announcement, then release every call (PRIVATE CALL
 * RELEASE, Floor Release when talking). Once only; meant just before
 * prose_node_free, for a driver that wants the counters with the goodbye's
 * datagrams in them. NULL is a no-op. */
void prose_node_leave(prose_node *n, uint64_t now);

/* Leave (as prose_node_leave, unless done), wipe keys, delete this node's
 * PCKs from the store, free. NULL is a no-op. */
void prose_node_free(prose_node *n, uint64_t now);

/* One received datagram on the socket (sock, local_port) from `from`.
 * Returns 0 when handled (also when dropped and counted) or PROSE_EINVAL. */
int prose_node_recv(prose_node *n, uint64_t now, prose_node_sock sock, uint16_t local_port,
                    const prose_node_addr *from, const uint8_t *bytes, size_t len);
int prose_node_on_timeout(prose_node *n, uint64_t now);
uint64_t prose_node_next_deadline(const prose_node *n);

/* User actions. 0 or a prose error (PROSE_ENOENT unknown group/peer, PROSE_EINVAL
 * not possible now, PROSE_ENOKEY no GMK for the group at this time).
 *  call_group: checks that the store holds a GMK for the group now, then
 *    probes and joins or originates (24.379 10.2.2). Media starts with the
 *    CALL_STARTED event.
 *  call_private: the peer must be in the discovery table (PROSE_ENOENT);
 *    one private call at a time (PROSE_EINVAL while one is placed or runs).
 *    Errors of the key hook (PROSE_EUNKNOWN_KMS, PROSE_EPERIOD...) are
 *    returned as they are. The SDP offer carries the node's address of the
 *    family call control reaches the peer on (a dual-stack node calling an
 *    IPv6-only peer offers its IPv6 address); a callee answers on the
 *    family of the offer's c= line.
 *  accept / reject: the private call ringing here (manual commencement,
 *    auto_accept_private off).
 *  hangup: a group call still probing (the group called last, 24.379 S2):
 *    the probing stops, no call is started or joined for it (an answer
 *    arriving before TFG1 ends is ignored for TFG5) and CALL_ENDED says
 *    "cancelled";
 *    else the current call (the one started last) or, when none runs, the
 *    private call we placed and that has not connected yet.
 *  ptt_press: PROSE_ENOKEY when the call has no key to send with (a member
 *    without the GMK); a floor participant that T230 returned to
 *    'Start-stop' is restarted first. */
int prose_node_call_group(prose_node *n, uint64_t now, const char *group,
                          prose_monp_call_type type);
int prose_node_call_private(prose_node *n, uint64_t now, const char *peer_uri, bool manual,
                            bool emergency);
int prose_node_accept(prose_node *n, uint64_t now);   /* the ringing private call */
int prose_node_reject(prose_node *n, uint64_t now);
int prose_node_hangup(prose_node *n, uint64_t now);   /* the current call (group or private) */
/* Make a running call the current one, the call PTT (group NULL) and
 * prose_node_hangup act on, as a user switching between calls: a group's
 * call (group ID) or the private call (peer URI), exactly one of the two.
 * PROSE_ENOENT when no such call runs. */
int prose_node_select(prose_node *n, const char *group, const char *peer);
/* Hang up a named call: a group's call, also one still probing (group ID),
 * or the private call with peer, also one not answered yet (peer URI);
 * exactly one of the two. PROSE_ENOENT when there is no such call. */
int prose_node_hangup_call(prose_node *n, uint64_t now, const char *group, const char *peer);
/* The caller of the private call ringing here (waiting for accept or
 * reject), or NULL. */
const char *prose_node_ringing(const prose_node *n);
/* Press / release PTT in the current call (group NULL) or a given group. */
int prose_node_ptt_press(prose_node *n, uint64_t now, const char *group, int priority);
int prose_node_ptt_release(prose_node *n, uint64_t now, const char *group);

/* Status for the control socket and tests. */
typedef struct prose_node_call_info {
  bool active;
  bool private_call;
  const char *group;     /* group calls */
  const char *peer;      /* private calls */
  const char *call_state;  /* "S3", "P4" */
  const char *floor_state; /* "O: has permission" ... or "" */
  const char *talker;      /* "" when nobody */
  bool may_send_media;
  bool has_call_id;        /* the call control's call identifier is known */
  uint16_t call_id;        /* group: of the call the node is part of (S3); private: of the call */
} prose_node_call_info;

/* Iterate the calls: i from 0 while it returns true. */
bool prose_node_call_at(const prose_node *n, size_t i, prose_node_call_info *out);
const prose_node_counters *prose_node_get_counters(const prose_node *n);
const prose_disc *prose_node_discovery(const prose_node *n);
/* The same engine, writable: for a driver that feeds discovery from another
 * transport, e.g. avahi (prose_disc_avahi_new). Same thread as the node, and
 * never from inside a node callback. After feeding it, re-read
 * prose_node_next_deadline: the engine's deadline is part of the node's. */
prose_disc *prose_node_discovery_mut(prose_node *n);
const char *prose_node_uri(const prose_node *n);

/* The sockets the driver must open: calls fn once per (sock, port,
 * multicast address or NULL). The same (sock, port) comes once with NULL
 * and then once per multicast group it must join (CALL: every group's
 * address on call_port); a (sock, port) that comes only with an address
 * (DISC, a group's MEDIA and FLOOR) is one socket bound to that port and
 * joined to that group. Only the settings are read: no node is needed. */
typedef void (*prose_node_sock_fn)(void *ud, prose_node_sock sock, uint16_t port,
                                   const prose_node_addr *mcast);
void prose_node_sockets(const prose_node_settings *s, prose_node_sock_fn fn, void *ud);

#endif
