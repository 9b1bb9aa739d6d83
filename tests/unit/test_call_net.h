/*
 * Test harness for the call engine: nodes wired back to back through an
 * in-memory network in virtual time, with per-type drops and deaf nodes.
 * Every datagram a node sends is decoded again (so the encoder is checked
 * against the decoder on every send) and logged with the events.
 */
#ifndef TEST_CALL_NET_H
#define TEST_CALL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/call.h"

#define TN_MAX_NODES 4
#define TN_MAX_EVENTS 512
#define TN_MAX_SENT 1024
#define TN_MAX_QUEUE 512
#define TN_TEXT 96

typedef struct tn_event {
  prose_call_event_kind kind;
  char group[TN_TEXT];
  char peer[TN_TEXT];
  char trigger[TN_TEXT];
  uint16_t call_id;
  uint8_t call_type;
  int old_state, new_state;
  uint8_t reason;
  int err;
  bool has_sdp;
  uint16_t sdp_audio_port;
  char sdp_addr[TN_TEXT]; /* the SDP's connection address */
  bool sdp_ipv6;
  uint64_t at;
} tn_event;

typedef struct tn_sent {
  prose_monp_type type;
  uint16_t call_id;
  uint8_t call_type;
  uint8_t reason;
  bool probe_response;
  bool confirm_mode;
  uint64_t start_time;
  uint64_t last_change_time;
  uint64_t at;
  char to[TN_TEXT]; /* group or peer */
} tn_sent;

struct tn_net;

typedef struct tn_node {
  struct tn_net *net;
  int idx;
  char id[TN_TEXT];
  prose_call_engine *e;
  prose_rng_det rs;
  prose_call_settings set;
  tn_event ev[TN_MAX_EVENTS];
  size_t n_ev;
  tn_sent sent[TN_MAX_SENT];
  size_t n_sent;
  bool deaf;          /* drop everything addressed to this node */
  int key_fail;       /* check_key_mgmt returns this when non-zero */
  int make_fail;      /* make_key_mgmt returns this when non-zero */
  uint64_t wall_skew; /* seconds added to the network wall clock */
  int last_rc;        /* last prose_call_recv result */
  int rc_errors;      /* count of non-zero recv results */
  uint8_t last_key[2048];
  size_t last_key_len;
} tn_node;

typedef struct tn_pkt {
  int to;
  uint64_t at;
  size_t len;
  uint8_t buf[PROSE_MONP_MSG_MAX];
} tn_pkt;

typedef struct tn_net {
  tn_node nodes[TN_MAX_NODES];
  int n;
  uint64_t now;
  uint64_t latency;   /* ms, default 2 */
  uint64_t wall0;     /* UTC seconds at now == 0 */
  int drop[32];       /* drop this many of each message type (-1: all) */
  tn_pkt *q;          /* TN_MAX_QUEUE slots */
  bool used[TN_MAX_QUEUE];
} tn_net;

/* settings_fn may adjust a node's settings before creation (may be NULL). */
typedef void (*tn_settings_fn)(prose_call_settings *s, int idx);

void tn_init(tn_net *net, int n, tn_settings_fn fn);
void tn_free(tn_net *net);
/* Add the group to every node (same address and ports everywhere). */
void tn_group_all(tn_net *net, const char *group);
/* Deliver packets and fire timers in time order until net->now == until. */
void tn_run(tn_net *net, uint64_t until);
/* Advance by ms. */
void tn_step(tn_net *net, uint64_t ms);

/* Queries on the logs. */
size_t tn_count_sent(const tn_node *n, prose_monp_type type);
size_t tn_count_ev(const tn_node *n, prose_call_event_kind kind);
const tn_event *tn_last_ev(const tn_node *n, prose_call_event_kind kind);
const tn_sent *tn_last_sent(const tn_node *n, prose_monp_type type);
prose_call_group_info tn_ginfo(const tn_node *n, const char *group);
prose_call_private_state tn_pstate(const tn_node *n, const char *peer);
void tn_clear_logs(tn_node *n);

/* Build a message with prose_monp_encode into buf; returns its length. */
size_t tn_encode(const prose_monp_msg *m, uint8_t *buf, size_t cap);

#endif
