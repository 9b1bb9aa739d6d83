/*
 * Internals of the simulator shared by its files:
 *   scenario.c   the scenario language (scn.h);
 *   provision.c  the security domain of a run (real KMS/GMS code) and its cache;
 *   net.c        the event queue, the node deadline heap, the medium's random
 *                generator and the link models;
 *   sim.c        the run: nodes, delivery, the application, the timeline;
 *   kpi.c        what is measured, the expectations and the reports;
 *   capture.c    the JSON-lines trace, its hash, and the two pcap files.
 *
 * Time inside the simulator is in microseconds of virtual time (so link
 * rates and jitter have a finer grain than the nodes' milliseconds); a node
 * is given now / 1000 and its deadlines are multiplied back.
 */
#ifndef PROSE_SIM_INTERNAL_H
#define PROSE_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prose/call_msg.h"
#include "prose/media.h"
#include "prose/node.h"
#include "prose/rng.h"
#include "prose/sim.h"
#include "prose/store.h"
#include "scn.h"

/* 2024-01-01T00:00:00Z as NTP seconds: virtual time 0 on every wall clock
 * (plus the node's offset). */
#define SIM_T0_NTP 3913056000u
#define SIM_NTP_UNIX 2208988800u
#define SIM_KMS_URI "kms.example.org"
#define SIM_GMS_URI "sip:gms@example.org"
#define SIM_NEVER UINT64_MAX
#define SIM_PRIVATE_SLOT PROSE_SIM_MAX_GROUPS /* calls[] index of the private call */
#define SIM_CALL_SLOTS (PROSE_SIM_MAX_GROUPS + 1u)
#define SIM_MAX_BINDS 64u
#define SIM_FRAME_MAGIC 0x5053494Du /* "PSIM": first octets of a simulated frame */

typedef struct sim sim;

/* ---- provision.c ----------------------------------------------------------- */

typedef struct sim_domain {
  char root[512];   /* the run's directory (removed at the end) */
  prose_rng_det rng_state;
  prose_rng rng;
  prose_store *kms;
  prose_store *gms;
} sim_domain;

/* Build (or copy from the cache) the domain and open every node's store. */
int sim_provision(sim *s, char *err, size_t err_cap);
/* Load node i's keyring from its store (also after a restart). */
int sim_load_keyring(sim *s, size_t i, char *err, size_t err_cap);
void sim_domain_close(sim *s);

/* ---- net.c ----------------------------------------------------------------- */

/* A datagram's octets, shared by every copy the medium delivers. */
typedef struct sim_pkt {
  uint32_t refs;
  uint32_t len;
  uint8_t data[];
} sim_pkt;

typedef enum sim_ev_kind {
  EV_PKT = 0,  /* a datagram arrives at node `node` on (sock, port) */
  EV_ACTION,   /* timeline action aux (for node `node`, or all when SIM_ALL) */
  EV_FRAME,    /* the application of `node` sends a frame on call slot aux>>24 */
  EV_RELEASE   /* `talk` ends: release PTT on call slot aux */
} sim_ev_kind;

#define SIM_ALL UINT32_MAX

typedef struct sim_ev {
  uint64_t at;
  uint64_t seq;
  uint8_t kind;
  uint8_t sock;
  uint16_t port;
  uint32_t node;
  uint32_t from_ip;
  uint16_t from_port;
  uint16_t spare;
  uint32_t aux;
  sim_pkt *pkt;
} sim_ev;

/* xoshiro256** for the medium and the timeline's jitter: fast, and seeded
 * from the scenario seed only (node crypto uses prose_rng_det per node). */
typedef struct sim_rand {
  uint64_t s[4];
} sim_rand;

void sim_rand_seed(sim_rand *r, uint64_t seed);
uint64_t sim_rand_u64(sim_rand *r);
double sim_rand_unit(sim_rand *r);   /* [0, 1) */
uint64_t sim_rand_below(sim_rand *r, uint64_t bound); /* [0, bound), bound > 0 */

void sim_ev_push(sim *s, const sim_ev *e);
bool sim_ev_peek(const sim *s, uint64_t *at);
void sim_ev_pop(sim *s, sim_ev *out);

/* Indexed min-heap of nodes by their next effective deadline. */
void sim_nheap_update(sim *s, size_t i);
bool sim_nheap_peek(const sim *s, uint64_t *at, size_t *i);

/* The medium: schedule a copy of pkt from src to dst (or drop it, counted);
 * `to` is what the datagram was addressed to. */
void sim_net_deliver(sim *s, size_t src, size_t dst, prose_node_sock sock, uint16_t port,
                     uint16_t from_port, uint32_t to_ip, sim_pkt *pkt, uint64_t depart);
int sim_net_init(sim *s, char *err, size_t err_cap);
/* Bring rule k into force (its patterns resolved now). */
int sim_net_enable_rule(sim *s, size_t k, char *err, size_t err_cap);
void sim_net_free(sim *s);
/* The link parameters from src to dst for a datagram to to_ip on sock. */
void sim_link_params(const sim *s, size_t src, size_t dst, uint32_t to_ip, prose_node_sock sock,
                     scn_linkp *p);

/* ---- sim.c ------------------------------------------------------------------- */

/* The simulator's view of one call of a node (a group slot or the private
 * slot): what the user does on it and what the KPIs need. */
typedef struct sim_call {
  bool active;
  bool granted;   /* the floor said GRANTED and nothing took it away since */
  bool perm;      /* floor state 'O: has permission' */
  bool held;      /* the user holds PTT on this call */
  bool ticking;   /* the application is sending frames */
  uint32_t tick_gen;
  uint32_t talk_gen; /* invalidates the release of an earlier `talk` */
  int prio;
  long req;       /* open floor request (kpi index) or -1 */
  long burst;     /* current talk burst (kpi index) or -1 */
  long late;      /* pending late entry (kpi index) or -1 */
  uint16_t app_seq;
  uint32_t app_ts;
  bool has_call_id;
  uint16_t call_id; /* group calls: the call identifier the node is in */
} sim_call;

typedef struct sim_bind {
  prose_node_sock sock;
  uint16_t port;
  bool mcast;
  uint32_t ip; /* the multicast group */
} sim_bind;

typedef struct sim_node {
  sim *s;
  size_t idx;
  uint32_t ip; /* own unicast IPv4, host order */
  prose_store *store;
  prose_keyring *kr;
  prose_rng_det store_rng_state;
  prose_rng store_rng;
  prose_rng_det rng_state;
  prose_rng rng;
  uint32_t life; /* incarnation: a restart draws a fresh RNG stream */
  prose_node *node;
  bool crashing; /* inside prose_node_free of a crash: nothing leaves */
  prose_node_settings set;
  size_t n_binds;
  sim_bind binds[SIM_MAX_BINDS];
  uint64_t busy_until; /* virtual CPU */
  uint64_t key;        /* effective deadline in the node heap */
  size_t hpos;         /* position in the node heap */
  uint32_t partition;
  int64_t clock_ms;
  sim_call calls[SIM_CALL_SLOTS];
  int current;         /* the call slot PTT acts on (the node's "current call"), -1 */
  long peer;           /* private call peer node, -1 */
  long setup;          /* open private call setup (kpi index), -1 */
  uint64_t setup_hash; /* last private call setup processed (CPU cost dedupe) */
  uint64_t timeouts_at, timeouts_same; /* guard against a deadline that never moves */
  /* Counters of earlier incarnations, so crashes do not lose them. */
  prose_node_counters past;
  uint64_t past_disc_rej;
  bool up;             /* the node runs (in whichever world) */
  /* Frames. */
  uint64_t offered, sent, heard;
  uint32_t ptt_errors;
  uint32_t grants;
} sim_node;

/* Answers to a ringing or running call. */
typedef enum sim_answer { SIM_ANSWER_ACCEPT = 0, SIM_ANSWER_REJECT, SIM_ANSWER_HANGUP } sim_answer;

/*
 * What the nodes run in. The model of the users, the application, the
 * timeline and the KPIs (sim.c, kpi.c) is the same for both worlds:
 *   in-process (sim.c): prose_node objects over the simulated medium, in
 *     virtual time; deterministic;
 *   netns (netns.c): real prosed processes in network namespaces on a
 *     bridge, driven through their control sockets, in real time; the
 *     kernel carries the datagrams and nftables drops them.
 * Each operation returns 0 or a prose error, as the node API does; events
 * come back through sim_node_event.
 */
typedef struct sim_world {
  const char *name;
  int (*check)(sim *s);                 /* can this scenario run here? (optional) */
  int (*start)(sim *s);                 /* after provisioning, before nodes come up (optional) */
  int (*up)(sim *s, size_t i);
  void (*down)(sim *s, size_t i, bool crash);
  int (*call_group)(sim *s, size_t i, int group, prose_monp_call_type type);
  int (*call_private)(sim *s, size_t i, size_t peer, bool manual, bool emergency);
  int (*ptt_press)(sim *s, size_t i, int slot, int prio);
  int (*ptt_release)(sim *s, size_t i, int slot);
  int (*answer)(sim *s, size_t i, sim_answer how);
  /* The application gives node i an RTP frame for call slot `slot`
   * (s->tx_frame names it for the KPIs). */
  void (*app_send)(sim *s, size_t i, int slot, const uint8_t *rtp, size_t len);
  /* Partitions or link rules changed (optional). */
  int (*network_changed)(sim *s);
  void (*run)(sim *s);                  /* the loop, to s->end */
  void (*before_expect)(sim *s);        /* refresh what expectations read (optional) */
  int (*finish)(sim *s);                /* before the KPIs are taken (optional) */
  void (*teardown)(sim *s);             /* release everything (optional; also after errors) */
} sim_world;

extern const sim_world sim_netns_world; /* netns.c */

struct sim {
  scn sc;
  const sim_world *world;
  struct sim_netns *nn; /* netns.c's state */
  uint32_t t0_ntp;      /* what virtual time 0 is on the wall clocks, and the keys' T */
  char notes[512];      /* what the world could not do as the scenario says */
  prose_sim_options opt;
  char *err;
  size_t err_cap;
  uint64_t now;
  uint64_t end;
  sim_rand rand;
  size_t n;
  sim_node *nodes;
  size_t words; /* SCN_SET_WORDS(n) */
  sim_domain dom;

  /* Event queue and node heap (net.c). */
  sim_ev *ev;
  size_t n_ev, cap_ev;
  uint64_t seq;
  uint32_t *nheap;
  size_t n_nheap;

  /* The medium (net.c). */
  uint64_t **rule_src, **rule_dst; /* per rule: node sets */
  uint8_t *ge_bad;     /* n*n: Gilbert-Elliott state per directed link */
  uint64_t *busy;      /* n*n: a rate-limited link is busy until */
  size_t n_mcast;
  struct sim_mcast *mcast; /* destinations (group address, port) -> members */

  /* What is being processed, for the callbacks. */
  size_t rx_node;           /* the node a datagram is being delivered to, or SIZE_MAX */
  const uint8_t *rx_bytes;
  size_t rx_len;
  prose_node_sock rx_sock;
  long tx_frame;            /* the frame being given to a node (kpi index) or -1 */
  int tx_slot;

  uint64_t **act_mask;       /* per timeline action: the nodes it names (matched on first use) */
  struct sim_kpi *kpi;       /* kpi.c */
  struct sim_capture *cap;   /* capture.c */
  prose_sim_result *result;
};

typedef struct sim_mcast {
  uint32_t ip;
  uint16_t port;
  size_t n, cap;
  uint32_t *node;
  uint8_t *sock;
} sim_mcast;

/* An event of node i, from whichever world runs it. */
void sim_node_event(sim *s, size_t i, const prose_node_event *ev);
/* Node i went away by itself (its process died). */
void sim_node_lost(sim *s, size_t i);
/* Perform one queued event (an action, a frame, the end of a talk, a datagram). */
void sim_dispatch(sim *s, sim_ev *e);

/* The call slot of a group URI, or -1. */
int sim_group_slot(const sim *s, const char *group_uri);
/* Addresses: 10.x.y.z for node i, as host-order integers. */
uint32_t sim_node_ip(size_t i);
bool sim_ip_to_node(const sim *s, uint32_t ip, size_t *i);
uint32_t sim_ip_of(const prose_node_addr *a);

/* ---- kpi.c ------------------------------------------------------------------- */

int sim_kpi_new(sim *s);
void sim_kpi_drop(sim *s, prose_sim_drop why);
void sim_kpi_drop_n(sim *s, prose_sim_drop why, uint64_t n);
/* Fold the counters of node i's current incarnation into its totals
 * (before the node goes away). */
void sim_kpi_keep_counters(sim *s, size_t i);
void sim_kpi_free(sim *s);
/* Floor requests. */
long sim_kpi_press(sim *s, size_t node, int slot, int rc, bool already_granted);
void sim_kpi_request_end(sim *s, long req, prose_sim_outcome o);
void sim_kpi_request_queued(sim *s, long req);
void sim_kpi_revoked(sim *s);
/* Frames and bursts. */
long sim_kpi_frame_new(sim *s, size_t talker, int slot);
void sim_kpi_frame_sent(sim *s, long frame);
void sim_kpi_frame_heard(sim *s, size_t node, const uint8_t *rtp, size_t len);
void sim_kpi_burst_end(sim *s, size_t node, int slot);
/* Late entry: node i asks to enter the calls of groups `slots` (bit per slot). */
void sim_kpi_join(sim *s, size_t node, uint32_t slots);
/* Private call setup. */
long sim_kpi_setup_begin(sim *s, size_t node);
void sim_kpi_setup_end(sim *s, long setup, bool connected);
/* Floor holders changed (or partitions, or a node went down). */
void sim_kpi_talkers_changed(sim *s, int slot);
/* Evaluate expectation e now. */
void sim_kpi_expect(sim *s, size_t e);
/* Close what is open and fill the result. */
int sim_kpi_finish(sim *s);

/* ---- capture.c ----------------------------------------------------------- */

int sim_capture_open(sim *s);
void sim_capture_close(sim *s);
/* One trace line (a JSON object without braces' newline); always hashed,
 * written when a trace file is open. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void sim_trace(sim *s, const char *fmt, ...);
bool sim_tracing_packets(const sim *s);
/* A datagram as it leaves node src (hashed; written to the pcaps). */
void sim_capture_wire(sim *s, size_t src, prose_node_sock sock, uint16_t local_port,
                      const prose_node_addr *to, const uint8_t *bytes, size_t len);
/* A copy handed to node dst (hashed). */
void sim_capture_delivery(sim *s, size_t dst, uint64_t seq);
/* The hash of everything so far, hex. */
void sim_capture_hash(sim *s, char out[65]);
/* JSON string escaping into out (always NUL-terminated). */
void sim_json_str(char *out, size_t cap, const char *in);

/* ---- result (kpi.c) ------------------------------------------------------ */

typedef struct sim_node_result {
  char name[SCN_NAME_MAX];
  double heard, sent, offered, decrypted, granted, ptt_errors, in_call, tx_media;
  double drop_unknown_mki, drop_auth, no_gmk, rx_no_call, app_no_floor;
  double requests;  /* PTT presses */
  double access_ms; /* access time of its last granted request */
} sim_node_result;

typedef struct sim_group_result {
  char name[SCN_NAME_MAX];
  double calls;   /* distinct calls among members in a call */
  double members_in_call;
  double collisions;
} sim_group_result;

typedef struct sim_expect_result {
  char text[SCN_NAME_MAX * 3];
  bool ok;
  bool known;
  double actual;
  int line;
} sim_expect_result;

struct prose_sim_result {
  prose_sim_kpi kpi;
  char scenario[SCN_NAME_MAX];
  char label[SCN_NAME_MAX * 2];
  size_t n_nodes;
  sim_node_result *nodes;
  size_t n_groups;
  sim_group_result groups[PROSE_SIM_MAX_GROUPS];
  size_t n_expects;
  sim_expect_result *expects;
};

/* Compute a metric from a finished or running simulation's result. */
int sim_metric(const prose_sim_result *r, const char *name, double *out);

#endif
