/*
 * prose sim: a deterministic network simulator that drives many real nodes
 * (prose/node.h) in one process, in virtual time (DESIGN §2, STYLE 15).
 *
 * A scenario (a text file, docs/sim.md) names the nodes, their groups and
 * identities, the link models of the medium and a timeline of user actions
 * and faults. Running it:
 *   1. provisions a throwaway security domain with the real KMS and GMS code
 *      (prose/authority.h): one device store and keyring per node, GMKs for
 *      the members that are meant to have them;
 *   2. creates one prose_node per node with a deterministic RNG derived from
 *      the seed and the node's index, so the run is reproducible byte for
 *      byte;
 *   3. runs a discrete-event loop: each step jumps to the earliest of every
 *      node's deadline, the next datagram arrival, the next application
 *      frame and the next timeline action, and performs it;
 *   4. measures the KPIs (floor access time, mouth-to-ear latency, late entry,
 *      private call setup, floor collisions, media delivery, drops) and
 *      checks the scenario's expectations.
 *
 * Sans-IO all the way: the simulator opens no socket and reads no clock for
 * simulated behaviour (it reads the wall clock only to report how fast the
 * run was). Every random choice of the medium comes from one generator seeded
 * with the seed, which the report prints.
 *
 * Not thread-safe: one run per thread. Runs are independent.
 */
#ifndef PROSE_SIM_H
#define PROSE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROSE_SIM_MAX_NODES 1024u
#define PROSE_SIM_MAX_GROUPS 16u
#define PROSE_SIM_ERR_MAX 256u

/* ---- scenarios ------------------------------------------------------------ */

typedef struct prose_sim_scenario prose_sim_scenario;

/*
 * Parse a scenario from text (copied). name labels reports (NULL: the
 * scenario's own `name` line, else "scenario"). Every variant of a sweep is
 * checked. On error returns PROSE_ECONFIG (syntax or meaning: err says the
 * line and why), PROSE_EINVAL (NULL argument) or PROSE_ENOMEM; err may be
 * NULL.
 */
int prose_sim_scenario_parse(prose_sim_scenario **out, const char *name, const char *text,
                             size_t len, char *err, size_t err_cap);
/* Read a scenario file, or a built-in scenario when path names one (see
 * prose_sim_builtin_name). Adds PROSE_ENOENT / PROSE_EIO for the file. */
int prose_sim_scenario_load(prose_sim_scenario **out, const char *path, char *err,
                            size_t err_cap);
void prose_sim_scenario_free(prose_sim_scenario *sc);

const char *prose_sim_scenario_name(const prose_sim_scenario *sc);
/* Runs a sweep asks for (1 without a `sweep` line), and the label of run i
 * ("loss=5%"; "" without a sweep). */
size_t prose_sim_scenario_variants(const prose_sim_scenario *sc);
const char *prose_sim_scenario_variant_label(const prose_sim_scenario *sc, size_t i);

/* Built-in scenarios (the .scn files of sim/scenarios, compiled in): i from 0 while
 * the name is not NULL; the text of one by name (NULL when unknown). */
const char *prose_sim_builtin_name(size_t i);
const char *prose_sim_builtin_text(const char *name, size_t *len);

/* ---- running -------------------------------------------------------------- */

/* Run options. Start from prose_sim_options_default(). */
typedef struct prose_sim_options {
  bool has_seed;        /* use seed instead of the scenario's */
  uint64_t seed;
  size_t variant;       /* which run of a sweep (0-based) */
  const char *const *params; /* "NAME=VALUE" overrides of the scenario's params */
  size_t n_params;
  FILE *trace;          /* JSON lines of events and actions, or NULL */
  bool trace_packets;   /* also one line per datagram sent or dropped */
  const char *pcap_path;       /* every datagram on the wire, as sent */
  const char *pcap_plain_path; /* the same with SRTP/SRTCP removed */
  /* Provisioning cache: a directory where the domain of a (scenario
   * identities, seed) pair is kept after its first build and copied from
   * afterwards. NULL: provision from scratch in a temporary directory. */
  const char *cache_dir;
  FILE *log;            /* progress lines (provisioning, warnings), or NULL */
  /* Run real prosed processes in network namespaces instead of in-process
   * nodes (root only; docs/sim.md "Multi-process runs"). Real time, so not
   * reproducible; no pcaps. prosed_path: the prosed binary. */
  bool netns;
  const char *prosed_path;
} prose_sim_options;

void prose_sim_options_default(prose_sim_options *o);

typedef struct prose_sim_result prose_sim_result;

/*
 * Run one variant of a scenario to its end. Returns 0 when the simulation
 * ran (its expectations may still fail: prose_sim_result_ok), or
 * PROSE_ECONFIG (the variant does not make sense: err says why), the
 * provisioning error (a store or authority error code), PROSE_EIO (trace
 * or pcap file), PROSE_ENOMEM. On error *out is NULL.
 */
int prose_sim_run(const prose_sim_scenario *sc, const prose_sim_options *o,
                  prose_sim_result **out, char *err, size_t err_cap);
void prose_sim_result_free(prose_sim_result *r);

/* ---- results -------------------------------------------------------------- */

/* A distribution of samples, in milliseconds. */
typedef struct prose_sim_dist {
  size_t n;
  double mean, p50, p95, p99, max;
} prose_sim_dist;

/* Outcomes of a floor request (a PTT press). */
typedef enum prose_sim_outcome {
  PROSE_SIM_IMMEDIATE = 0, /* granted without being queued */
  PROSE_SIM_QUEUED,        /* queued, then granted */
  PROSE_SIM_DENIED,        /* the arbitrator denied it */
  PROSE_SIM_FAILED,        /* unanswered, refused locally, or the node or call went away */
  PROSE_SIM_ABANDONED      /* the user let go of PTT before any answer */
} prose_sim_outcome;
#define PROSE_SIM_OUTCOME_COUNT 5

/* Why the simulated medium dropped a datagram. */
typedef enum prose_sim_drop {
  PROSE_SIM_DROP_LOSS = 0,   /* independent loss */
  PROSE_SIM_DROP_BURST,      /* Gilbert-Elliott loss */
  PROSE_SIM_DROP_PARTITION,  /* sender and receiver in different partitions */
  PROSE_SIM_DROP_QUEUE,      /* the rate-limited link's queue was full */
  PROSE_SIM_DROP_NODE_DOWN,  /* the receiver was down (crashed, stopped, not started) */
  PROSE_SIM_DROP_NO_LISTENER, /* unicast to an address or port nobody has */
  PROSE_SIM_DROP_CRASHED     /* sent by a node while it crashed (never left it) */
} prose_sim_drop;
#define PROSE_SIM_DROP_COUNT 7

/* Datagrams the nodes themselves dropped, summed over every node and
 * incarnation (prose_node_counters and the discovery statistics). */
typedef struct prose_sim_node_drops {
  uint64_t srtp_malformed, srtp_unknown_mki, srtp_no_key, srtp_auth, srtp_replay;
  uint64_t rx_no_call, rx_bad_sock, call_rx_errors, floor_rx_errors, key_mgmt_failed;
  uint64_t app_no_floor, app_no_call, app_bad;
  uint64_t disc_rejected;
} prose_sim_node_drops;

typedef struct prose_sim_kpi {
  uint64_t seed;
  char hash[65];        /* SHA-256 (hex) of the trace and every datagram */
  double virtual_s;     /* simulated time */
  double wall_s;        /* how long the run took (not part of the hash) */
  double provision_s;   /* of which provisioning */
  size_t nodes;

  /* Floor requests (PTT presses) and their outcomes; access time of the
   * granted ones (press to grant). */
  size_t requests;
  size_t outcome[PROSE_SIM_OUTCOME_COUNT];
  prose_sim_dist access;
  prose_sim_dist access_outcome[PROSE_SIM_OUTCOME_COUNT]; /* press to outcome */
  size_t revoked;       /* permissions taken away (pre-emption, T207) */

  prose_sim_dist mouth_to_ear; /* application frame in -> application frame out */
  prose_sim_dist late_entry;   /* join while someone talks -> first frame heard */
  size_t late_entry_missed;    /* such joins that heard nothing before the end */
  prose_sim_dist private_setup; /* call action -> connected at the caller */
  size_t private_calls, private_connected;

  size_t collisions;    /* times two members of a group held the floor at once */
  double overlap_ms;    /* total time spent so */

  uint64_t frames_offered;  /* application frames given to the nodes */
  uint64_t frames_sent;     /* of which the nodes sent */
  uint64_t frames_expected; /* (frame, receiver) pairs that should arrive */
  uint64_t frames_delivered;
  double delivery;          /* delivered / expected */
  size_t bursts;            /* talk bursts that sent media */
  double bursts_heard;      /* (burst, listener) pairs with at least one frame heard */

  uint64_t datagrams;       /* sent on the simulated wire */
  uint64_t deliveries;      /* handed to a receiving node */
  uint64_t drops[PROSE_SIM_DROP_COUNT];
  prose_sim_node_drops node_drops;
  uint64_t steps;           /* loop iterations */

  size_t expectations, expectations_failed;

  char world[16];       /* "in-process" or "netns" */
  char notes[512];      /* what the world could not do as the scenario says ("" = all) */
} prose_sim_kpi;

const prose_sim_kpi *prose_sim_result_kpi(const prose_sim_result *r);
/* True when every expectation of the scenario held. */
bool prose_sim_result_ok(const prose_sim_result *r);
/*
 * A metric by name, as expectations use them (docs/sim.md): global ones
 * ("delivery", "access_p95_ms", "collisions"...), per node ("alice.heard")
 * and per group ("fire.calls"). PROSE_ENOENT for an unknown name.
 */
int prose_sim_result_metric(const prose_sim_result *r, const char *name, double *out);

/* The KPI report: a table for people, or one JSON object (one line). */
void prose_sim_report_text(const prose_sim_result *r, FILE *f);
void prose_sim_report_json(const prose_sim_result *r, FILE *f);

const char *prose_sim_outcome_name(prose_sim_outcome o);
const char *prose_sim_drop_name(prose_sim_drop d);

#endif
