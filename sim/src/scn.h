/*
 * The parsed form of one scenario variant (docs/sim.md): groups, nodes,
 * settings, link rules, CPU costs, the timeline and the expectations.
 * scenario.c turns text into this; sim.c runs it. Node patterns stay text
 * here and are resolved against the node names when a run starts.
 */
#ifndef PROSE_SIM_SCN_H
#define PROSE_SIM_SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/sim.h"

#define SCN_NAME_MAX 64
#define SCN_URI_MAX 128
#define SCN_PAT_MAX 256
#define SCN_MAX_PARAMS 32
#define SCN_MAX_SWEEP 16
#define SCN_VALUE_MAX 64
#define SCN_NEVER UINT64_MAX

/* ---- the variables of the text (params and the sweep) ------------------- */

typedef struct scn_param {
  char name[SCN_NAME_MAX];
  char value[SCN_VALUE_MAX];
} scn_param;

struct prose_sim_scenario {
  char name[SCN_NAME_MAX];
  char *text;
  size_t len;
  size_t n_params;
  scn_param params[SCN_MAX_PARAMS];
  char sweep[SCN_NAME_MAX]; /* the swept param, "" for none */
  size_t n_sweep;
  char sweep_values[SCN_MAX_SWEEP][SCN_VALUE_MAX];
  char labels[SCN_MAX_SWEEP][SCN_NAME_MAX + SCN_VALUE_MAX + 2];
};

/* ---- one variant ----------------------------------------------------------- */

typedef struct scn_group {
  char name[SCN_NAME_MAX];
  char uri[SCN_URI_MAX];
  uint8_t addr[4];
  uint16_t media_port, floor_port, app_port;
} scn_group;

typedef struct scn_node {
  char name[SCN_NAME_MAX];
  char uri[SCN_URI_MAX];
  uint32_t groups; /* bit g: member of group g */
  uint32_t nogmk;  /* bit g: member, but the GMS never gave it the GMK */
  int64_t clock_ms; /* wall clock offset */
  uint64_t start_us; /* when it comes up (0: at once) */
  bool off;          /* only a timeline `start` brings it up */
  int line;
} scn_node;

/* `set KEY VALUE [nodes PATTERN]`: a node setting. */
typedef struct scn_set {
  char key[SCN_NAME_MAX];
  char value[SCN_VALUE_MAX];
  char nodes[SCN_PAT_MAX]; /* "" = every node */
  int line;
} scn_set;

/* Link model parameters; `has` says which ones a rule sets. */
enum {
  LP_DELAY = 1u << 0,
  LP_JITTER = 1u << 1,
  LP_LOSS = 1u << 2,
  LP_BURST = 1u << 3,
  LP_DUP = 1u << 4,
  LP_REORDER = 1u << 5,
  LP_RATE = 1u << 6,
  LP_QUEUE = 1u << 7
};

typedef struct scn_linkp {
  uint32_t has;
  uint64_t delay_us, jitter_us;
  double loss;            /* independent loss probability */
  double ge_p, ge_r;      /* Gilbert-Elliott: P(good->bad), P(bad->good) per packet */
  double ge_bad, ge_good; /* loss probability in the bad / good state */
  double dup;
  double reorder;
  uint64_t reorder_gap_us;
  uint64_t rate_bps;      /* 0 = unlimited */
  uint32_t queue_pkts;
} scn_linkp;

/* Which datagrams a rule applies to. */
typedef enum scn_to {
  SCN_TO_ANY = 0,
  SCN_TO_GROUP,   /* to the group's multicast address (call, media, floor) */
  SCN_TO_DISC,    /* discovery announcements */
  SCN_TO_UNICAST  /* unicast datagrams */
} scn_to;

typedef struct scn_rule {
  char src[SCN_PAT_MAX], dst[SCN_PAT_MAX];
  scn_to to;
  size_t group; /* SCN_TO_GROUP */
  scn_linkp p;
  int line;
} scn_rule;

/* Virtual CPU cost of the crypto work, so that the time a private call takes
 * to set up includes its SAKKE and ECCSI work (docs/sim.md). */
typedef struct scn_cpu {
  bool on;
  uint64_t sign_us;    /* ECCSI sign (discovery announcement) */
  uint64_t verify_us;  /* ECCSI verify (discovery announcement) */
  uint64_t create_us;  /* I_MESSAGE create: SAKKE encapsulate + ECCSI sign */
  uint64_t process_us; /* I_MESSAGE process: ECCSI verify + SAKKE decapsulate */
  uint64_t srtp_us;    /* one SRTP/SRTCP protect or unprotect */
} scn_cpu;

typedef enum scn_act_kind {
  ACT_CALL = 0,
  ACT_PTT_PRESS,
  ACT_PTT_RELEASE,
  ACT_TALK,
  ACT_PRIVATE,
  ACT_ACCEPT,
  ACT_REJECT,
  ACT_HANGUP,
  ACT_CRASH,
  ACT_RESTART,
  ACT_START,
  ACT_STOP,
  ACT_PARTITION,
  ACT_HEAL,
  ACT_LINK,
  ACT_CLOCK,
  ACT_MARK,
  ACT_EXPECT
} scn_act_kind;

#define SCN_CALL_TARGET_CURRENT (-1) /* PTT on the call started last */
#define SCN_CALL_TARGET_PRIVATE (-2) /* PTT on the private call */

typedef struct scn_action {
  scn_act_kind kind;
  uint64_t at_us;
  uint64_t every_us; /* 0: once */
  uint32_t count;    /* repetitions with every (0: until) */
  uint64_t until_us;
  uint64_t jitter_us; /* a random delay in [0, jitter) per repetition and node */
  char nodes[SCN_PAT_MAX]; /* who acts (node pattern) */
  char peer[SCN_NAME_MAX]; /* private: the callee's node name */
  int target;        /* call/ptt/talk: group index, or SCN_CALL_TARGET_* */
  int call_type;     /* call: prose_monp_call_type */
  int prio;          /* ptt/talk: -1 = the node's setting */
  bool manual, emergency;
  uint64_t dur_us;   /* talk */
  int64_t clock_ms;  /* clock */
  char parts[SCN_PAT_MAX * 2]; /* partition: "pat | pat | ..." */
  size_t rule;       /* link: the first of the rules it adds */
  size_t n_rules;    /* link: 1, or 2 for `<->` */
  size_t expect;     /* expect: index into the expectations */
  char text[SCN_NAME_MAX]; /* mark */
  int line;
} scn_action;

typedef enum scn_op { OP_EQ = 0, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } scn_op;

typedef struct scn_expect {
  char metric[SCN_NAME_MAX * 2];
  scn_op op;
  double value;
  uint64_t at_us; /* SCN_NEVER: at the end */
  int line;
} scn_expect;

/* `rotate PATTERN every P talk D [from T] [until T] [group G] [prio N]` */
typedef struct scn_rotate {
  char nodes[SCN_PAT_MAX];
  uint64_t every_us, talk_us, from_us, until_us;
  int target;
  int prio;
  int line;
} scn_rotate;

typedef struct scn {
  char name[SCN_NAME_MAX];
  uint64_t seed;
  uint64_t duration_us;
  uint32_t keysets;
  size_t n_groups;
  scn_group groups[PROSE_SIM_MAX_GROUPS];
  size_t n_nodes, cap_nodes;
  scn_node *nodes;
  size_t n_sets, cap_sets;
  scn_set *sets;
  size_t n_rules, cap_rules;
  scn_rule *rules;
  size_t n_actions, cap_actions;
  scn_action *actions;
  size_t n_expects, cap_expects;
  scn_expect *expects;
  size_t n_rotates, cap_rotates;
  scn_rotate *rotates;
  scn_cpu cpu;
  uint32_t frame_ms;   /* application frame interval (20) */
  uint32_t frame_len;  /* application payload octets (160, PCMU) */
} scn;

/* Parse variant `variant` of sc with the overrides params[0..n) ("N=V"). */
int scn_parse(const prose_sim_scenario *sc, size_t variant, const char *const *params,
              size_t n_params, scn *out, char *err, size_t err_cap);
void scn_free(scn *s);
/* The group named name, or -1. */
int scn_group_find(const scn *s, const char *name);
/* The node named name, or -1. */
long scn_node_find(const scn *s, const char *name);

/* Node patterns: comma-separated items, each `*`, a glob (fnmatch) or a
 * numbered range `u[1..50]` / `u[001..050]`. Sets bit i of set[] for
 * every node i that matches; PROSE_ECONFIG when an item matches nobody. */
int scn_match(const scn *s, const char *pattern, uint64_t *set, char *err, size_t err_cap);
/* Values as the scenario writes them: a time ("20ms", "1.5s") in
 * microseconds; on/off. 0 or PROSE_ECONFIG. */
int scn_value_time(const char *w, uint64_t *us);
int scn_value_bool(const char *w, bool *out);

/* Apply one `set KEY VALUE` to node settings (settings.c). 0, or
 * PROSE_ECONFIG with why (unknown key, bad value). */
struct prose_node_settings;
int sim_settings_apply(struct prose_node_settings *s, const char *key, const char *value, char *why,
                       size_t why_cap);
/* The keys, for the documentation and `prose sim --keys`: i from 0 while not NULL. */
const char *sim_settings_key(size_t i);

#define SCN_SET_WORDS(n) (((n) + 63u) / 64u)
static inline bool scn_set_has(const uint64_t *set, size_t i) { return (set[i / 64] >> (i % 64)) & 1u; }

#endif
