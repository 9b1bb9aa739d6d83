/*
 * Test harness of the node: a throwaway security domain provisioned with the
 * real authority code (a KMS store, a GMS store with one group, one device
 * store per user with its key sets and, unless told otherwise, the group's
 * GMK), and an in-memory network that wires nodes back to back in virtual
 * time. Test-only code.
 *
 * The network delivers every datagram a node sends to the nodes that bound
 * its destination: multicast fans out to every node whose socket of that
 * port joined the group (not back to the sender unless loop_multicast),
 * unicast goes to the node that owns the address (IPv4 or IPv6). A node can
 * only send to the families it has an address of: a datagram to an IPv4
 * address from an IPv6-only node (or the reverse) is refused (send returns
 * -1) and counted in `unroutable`, as a host without that stack would. Datagrams to the loopback
 * address are the node's application traffic and land in that node's app
 * log. Each delivery takes latency_ms. tn_run advances the virtual clock to
 * the earliest of the next delivery and every node's next deadline.
 */
#ifndef PROSE_TEST_NODE_NET_H
#define PROSE_TEST_NODE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/node.h"

#include "testnode.h"

#define TN_KMS TS_KMS
#define TN_GMS TS_GMS
#define TN_GROUP TS_GROUP
#define TN_ALICE "sip:alice@example.org"
#define TN_BOB "sip:bob@example.org"
#define TN_CAROL "sip:carol@example.org"
#define TN_DAVE "sip:dave@example.org"
/* 2024-01-01T00:00:00Z in NTP seconds. */
#define TN_T0 TS_T0

#define TN_MAX_NODES TS_MAX_DEVICES
#define TN_MAX_BINDS 16
#define TN_MEDIA_PORT TS_MEDIA_PORT
#define TN_FLOOR_PORT TS_FLOOR_PORT
#define TN_APP_PORT TS_APP_PORT

/* ---- the domain ---------------------------------------------------------- */

/* The shared test domain (tests/support/testdomain.h) at TN_T0; these
 * wrappers fail the test on any error. */
typedef ts_device tn_device;
typedef ts_domain tn_domain;

/* Provision users[0..n) (gmk[i]: import the group's GMK). Every user is a
 * member of TN_GROUP. */
void tn_domain_setup(tn_domain *d, const char *const *users, const bool *gmk, size_t n);
/* A second GMK for the group activated at `activation` (NTP seconds),
 * distributed to and imported by every device that has the first. */
void tn_domain_rekey(tn_domain *d, uint64_t activation);
void tn_domain_teardown(tn_domain *d);

/* ---- the network --------------------------------------------------------- */

typedef struct tn_bind {
  prose_node_sock sock;
  uint16_t port;
  bool has_mcast;
  prose_node_addr mcast;
} tn_bind;

/* One datagram as it went on the wire (every send of every node). */
typedef struct tn_dgram {
  int src;
  prose_node_sock sock;
  uint16_t local_port;
  prose_node_addr to;
  size_t len;
  uint8_t *data;
} tn_dgram;

/* One datagram the node gave its application (decrypted RTP). */
typedef struct tn_app {
  uint16_t node_port; /* the node's APP port it came from */
  prose_node_addr to;
  size_t len;
  uint8_t *data;
} tn_app;

/* One node event, strings copied. */
typedef struct tn_event {
  prose_node_event_type type;
  uint64_t now;
  char group[128], peer[128], from[64], to[64], trigger[64], talker[128], text[96];
  int err;
  unsigned reason;
} tn_event;

typedef struct tn_net tn_net;

typedef struct tn_node {
  tn_net *net;
  int idx;
  prose_node *node;
  prose_node_settings set;
  prose_rng_det rng_state;
  prose_rng rng;
  prose_node_addr addr;  /* own IPv4 (family NONE for an IPv6-only node) */
  prose_node_addr addr6; /* own IPv6 (family NONE for an IPv4-only node) */
  size_t n_binds;
  tn_bind binds[TN_MAX_BINDS];
  size_t n_app, cap_app;
  tn_app *app;
  size_t n_ev, cap_ev;
  tn_event *ev;
} tn_node;

typedef struct tn_pkt {
  uint64_t at;
  uint64_t order;
  int dst;
  prose_node_sock sock;
  uint16_t port;
  prose_node_addr from;
  size_t len;
  uint8_t *data;
} tn_pkt;

/* Return false to drop the datagram; may rewrite *p (data is malloc'd). */
typedef bool (*tn_filter_fn)(tn_net *net, int src, tn_pkt *p, void *ud);

struct tn_net {
  uint64_t now;
  uint64_t latency_ms;
  bool loop_multicast;
  tn_domain *dom;
  size_t n;
  tn_node nodes[TN_MAX_NODES];
  size_t n_q, cap_q;
  tn_pkt *q;
  uint64_t order;
  size_t n_wire, cap_wire;
  tn_dgram *wire;
  tn_filter_fn filter;
  void *filter_ud;
  uint64_t unroutable; /* sends to a family the sender has no address of */
};

/* Settings of node i before it is created (a test may adjust them). */
void tn_net_init(tn_net *net, tn_domain *d);
/* Create a node for device i of the domain with settings *s (NULL: the
 * defaults below), at the current virtual time. */
void tn_node_start(tn_net *net, size_t i, const prose_node_settings *s);
/* Defaults for device i (ts_node_settings: unicast 10.0.0.(i+1), one group
 * TN_GROUP on 239.1.1.1 with TN_MEDIA_PORT/TN_FLOOR_PORT/TN_APP_PORT) with
 * a deterministic RNG of its own. */
void tn_default_settings(tn_net *net, size_t i, prose_node_settings *s);
void tn_net_free(tn_net *net);

/* Run the network and the nodes' timers until virtual time t. */
void tn_run_until(tn_net *net, uint64_t t);
static inline void tn_run(tn_net *net, uint64_t ms) { tn_run_until(net, net->now + ms); }

/* Hand node i a datagram as if it arrived on (sock, port) from `from`. */
int tn_inject(tn_net *net, size_t i, prose_node_sock sock, uint16_t port,
              const prose_node_addr *from, const uint8_t *data, size_t len);
/* The application of node i sends one plain RTP packet to the node's APP
 * port (payload given; header built from seq/ts/ssrc). */
void tn_app_send(tn_net *net, size_t i, uint16_t app_port, uint16_t seq, uint32_t ts,
                 uint32_t ssrc, const void *payload, size_t len);

size_t tn_count_events(const tn_node *nd, prose_node_event_type type);
const tn_event *tn_last_event(const tn_node *nd, prose_node_event_type type);
/* The state of the first call of node i (false when none). */
bool tn_call(const tn_net *net, size_t i, prose_node_call_info *info);

prose_node_addr tn_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);
/* An IPv6 address from its text form (the test fails on a bad one). */
prose_node_addr tn_ipv6(const char *text, uint16_t port);

#endif
