/*
 * Internals of the node (prose/node.h) shared by its files:
 *   node.c          creation, sockets, the receive dispatch, timers, user
 *                   actions, status;
 *   node_call.c     the call engine's callbacks: MONP transport, the PCK
 *                   I_MESSAGE hooks and the translation of call events into
 *                   starting and ending media sessions;
 *   node_media.c    one media session per call: the SRTP/SRTCP context, the
 *                   floor participant and the application's RTP stream.
 */
#ifndef PROSE_NODE_INTERNAL_H
#define PROSE_NODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/node.h"

#define NODE_URI_CAP (PROSE_DISC_URI_MAX + 1u)
/* Work buffers hold the largest datagram plus the octets a protect call may
 * append (media.h), as 32-bit words because libsrtp wants 4-octet alignment. */
#define NODE_BUF_WORDS ((PROSE_NODE_MAX_DGRAM + PROSE_MEDIA_HEADROOM + 3u) / 4u)
/* Unknown GMK-IDs remembered, so a flood of packets naming a key we lack costs
 * no store query each (media.h: unknown MKIs reach the lookup every packet). */
#define NODE_MISS_SLOTS 16u
#define NODE_MISS_TTL_MS 1000u
/* Actions the node must take on the call engine but cannot take from inside
 * one of its callbacks (call.h forbids re-entry); run when the engine returns. */
#define NODE_DEFER_SLOTS 8u
/* A PCK lives in the store for the call's maximum duration plus this margin,
 * or a day when calls are unlimited. */
#define NODE_PCK_MARGIN_S 60u
#define NODE_PCK_DEFAULT_LIFE_S 86400u

typedef struct node_call node_call;
typedef struct node_group node_group;

/*
 * One call with media: a group call (one per configured group) or the
 * private call. Active from the call engine's STARTED/JOINED/CONNECTED event
 * to its RELEASED/REJECTED/FAILED event.
 */
struct node_call {
  prose_node *n;
  bool active;
  bool is_private;
  node_group *group;      /* group calls */
  char peer[NODE_URI_CAP]; /* private calls */
  uint8_t call_type;      /* MONP call type */
  bool originator;

  prose_floor *floor;
  prose_media_group *mg;
  prose_media_private *mp;
  prose_media_counters snap; /* the context's counters already summed into the node's */

  /* Sending. tx_key: a key to send with is installed and still valid. */
  bool tx_key;
  uint32_t ssrc;
  uint32_t gmk_id;   /* group: the GMK we send with */
  uint64_t rekey_at; /* group: when to look for another GMK (monotonic ms) */
  uint32_t pck_id;   /* private: the PCK-ID, to delete the key from the store */
  bool pck_in_store;
  bool may_send;     /* the floor participant lets us send media */

  /* Our outgoing RTP stream: the application's packets are renumbered onto
   * it so the SRTP index only ever grows (one GCM nonce per packet). */
  bool stream_started;
  uint16_t seq;
  uint32_t last_ts;
  uint64_t last_ms;
  bool burst_new;
  uint32_t app_ssrc;
  uint32_t ts_off;

  /* Where media and floor control go, and the local sockets they use. */
  prose_node_addr media_to, floor_to;
  uint16_t media_port, floor_port, app_port;
};

struct node_group {
  char id[NODE_URI_CAP];
  prose_node_addr mcast;
  uint16_t media_port, floor_port, app_port;
  node_call call;
};

/* The PCK of a private call being set up or running (caller: made by
 * make_key_mgmt; callee: accepted by check_key_mgmt). */
typedef struct node_pck {
  bool used;
  bool caller;
  bool in_store;
  char peer[NODE_URI_CAP];
  uint8_t pck[PROSE_MEDIA_KEY_LEN]; /* SECRET: wiped once the media context holds it */
  bool have_key;
  uint32_t pck_id;
  uint8_t rand[PROSE_MEDIA_RAND_MAX];
  size_t rand_len;
  /* Callee: the I_MESSAGE accepted, so a retransmitted setup that carries
   * it again is recognised instead of failing the replay check. */
  uint8_t imsg[PROSE_SDP_KEYMGMT_MAX];
  size_t imsg_len;
} node_pck;

typedef struct node_miss {
  uint32_t gmk_id;
  const node_group *group;
  uint64_t until;
} node_miss;

typedef enum node_defer_op {
  NODE_DEFER_NONE = 0,
  NODE_DEFER_ACCEPT,  /* auto-accept an incoming private call */
  NODE_DEFER_REJECT,  /* refuse an incoming private call (busy) */
  NODE_DEFER_RELEASE  /* end a private call the node cannot carry */
} node_defer_op;

typedef struct node_defer {
  node_defer_op op;
  char peer[NODE_URI_CAP];
} node_defer;

struct prose_node {
  prose_node_settings set; /* string pointers point into this object */
  bool left;               /* prose_node_leave has run (goodbye said once) */
  char uri[NODE_URI_CAP];
  char kms[NODE_URI_CAP];
  char group_ids[PROSE_NODE_MAX_GROUPS][NODE_URI_CAP];
  prose_node_callbacks cb;
  void *ud;
  prose_rng rng;

  prose_disc *disc;
  prose_call_engine *call;

  node_group groups[PROSE_NODE_MAX_GROUPS];
  size_t n_groups;
  node_call priv;
  node_pck pcks[PROSE_CALL_MAX_PRIVATE];
  char outgoing[NODE_URI_CAP]; /* the private call we placed, until it ends */
  char ringing[NODE_URI_CAP];  /* the incoming private call waiting for the user */
  node_call *current;          /* the call PTT and hangup act on */
  node_group *probing;         /* the group we last called while its machine probes
                                * (S2): hangup cancels it; NULL once S2 is left */

  node_miss miss[NODE_MISS_SLOTS];
  size_t miss_next;
  node_defer defer[NODE_DEFER_SLOTS];
  bool in_call_engine; /* inside a call engine function (its callbacks run) */

  uint64_t now;
  prose_node_counters ctr;

  uint32_t rx[NODE_BUF_WORDS]; /* a received datagram being processed */
  uint32_t tx[NODE_BUF_WORDS]; /* floor control being protected */
};

/* ---- node.c -------------------------------------------------------------- */
void node_emit(prose_node *n, const prose_node_event *ev);
void node_error(prose_node *n, const char *group, const char *peer, int err, const char *text);
/* Send a datagram and count it. */
int node_send(prose_node *n, prose_node_sock sock, uint16_t local_port, const prose_node_addr *to,
              const uint8_t *bytes, size_t len);
/* Wall clock, NTP seconds, at the node's current time. */
uint64_t node_wall(prose_node *n);
void node_defer_add(prose_node *n, node_defer_op op, const char *peer);
node_group *node_group_find(prose_node *n, const char *id);
bool node_addr_to_str(const prose_node_addr *a, char *out, size_t cap);
bool node_addr_from_str(const char *s, uint16_t port, prose_node_addr *out);

/* ---- node_call.c --------------------------------------------------------- */
void node_call_callbacks(prose_call_callbacks *cb);
node_pck *node_pck_find(prose_node *n, const char *peer);
/* Wipe a PCK slot and, with from_store, delete its key from the store. */
void node_pck_drop(prose_node *n, node_pck *k, bool from_store);
/* Drop the PCKs of peers whose private call machine has ended. */
void node_pck_sweep(prose_node *n);
/* Where private call control to peer goes (its discovered address and call
 * port; IPv6 only when we have no IPv4 or the peer has no IPv4). The SDP
 * of a call to the peer uses the same family. */
int node_peer_addr(prose_node *n, const char *peer, prose_node_addr *out);

/* ---- node_media.c -------------------------------------------------------- */
int node_group_call_begin(prose_node *n, node_group *g, uint8_t call_type, bool originator);
int node_private_call_begin(prose_node *n, const char *peer, uint8_t call_type, bool caller,
                            const prose_sdp *peer_sdp);
/* Stop the floor (it sends Floor Release if we talk), free and wipe. */
void node_call_end(prose_node *n, node_call *c);
void node_call_timeout(prose_node *n, node_call *c);
/* The call type of a running call changed (an emergency upgrade, an END, a
 * private emergency cancel): the floor participant takes the new class. */
void node_call_type_changed(prose_node *n, node_call *c, uint8_t call_type);
uint64_t node_call_deadline(const node_call *c);
/* The received datagrams of a call's sockets. */
void node_media_rx(prose_node *n, node_call *c, const uint8_t *bytes, size_t len);
void node_floor_rx(prose_node *n, node_call *c, const uint8_t *bytes, size_t len);
void node_app_rx(prose_node *n, node_call *c, const uint8_t *bytes, size_t len);

#endif
