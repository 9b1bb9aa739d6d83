/*
 * The netns world (docs/sim.md "Multi-process runs"): the scenario's nodes
 * are real prosed processes, each in a network namespace of its own, joined
 * by veth pairs to a bridge in one more namespace. The simulator's model of
 * the users, the application, the timeline and the KPIs (sim.c, kpi.c) is
 * the same as in process; only what it acts on differs:
 *
 *   - a node is a prosed started with a configuration written from the
 *     node's settings (the scenario's `set` lines), on the store the
 *     provisioning step built for it (keys issued for the real wall clock);
 *   - user actions are requests on the daemon's control socket
 *     (docs/control.md), answered synchronously; the daemon's events come
 *     back on the same connection and feed the model as node events do;
 *   - the application is a pair of UDP sockets per call slot, opened inside
 *     the node's namespace: frames go to the daemon's APP port, and what the
 *     daemon delivers to APP port + 1 is matched back to the frames;
 *   - the medium is the kernel: loss and partitions are nftables rules in
 *     each receiver's input hook (per sender, and per destination class when
 *     the scenario's rules differ by `to`), with named counters for the drop
 *     KPIs. This kernel has no netem, so delay, jitter, bursty loss,
 *     duplication, reordering and rate limits are not applied: the report
 *     says so ("not applied"), and so does a clock offset;
 *   - time is real: virtual time 0 is when every initial node is up, and the
 *     loop sleeps in poll() until the next timeline event or I/O.
 *
 * Only namespaces this run made (named after its pid) are touched, and they
 * are removed at the end, also after an error or an interrupt (SIGINT,
 * SIGTERM). Daemons get PR_SET_PDEATHSIG so that none outlives the run.
 */
#define _GNU_SOURCE /* setns, CLONE_NEWNET */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "prose/err.h"
#include "prosed_netns.h"
#include "prosed_proc.h"
#include "sim_internal.h"

#define NN_MAX_NODES 64u          /* processes and namespaces per run */
#define NN_REQUEST_MS 5000        /* a control request's reply */
#define NN_START_MS 30000         /* a daemon's control socket appears (ASan builds are slow) */
#define NN_STOP_MS 10000          /* a daemon stops after SIGTERM */
#define NN_LOSS_SCALE 1000000u    /* nftables numgen range for loss probabilities */
#define NN_NTP_UNIX 2208988800u
/* Events of several daemons arrive on several sockets, not always in the
 * order they happened (alice's grant may be read before the arbitrator's
 * revocation that preceded it). Each carries the machine's monotonic time;
 * events wait this long and then go to the model in that order. */
#define NN_HOLD_US 5000u

typedef struct nn_event {
  uint64_t t; /* monotonic us when it happened */
  uint64_t seq;
  size_t node;
  json_t *o;
} nn_event;

typedef struct nn_node {
  char ns[48];
  int nsfd;
  char dir[640];   /* configuration, log, control socket */
  char conf[700], log[700], sock[700];
  prosed_proc proc;
  ctl_client ctl; /* its events go to on_ctl_event */
  sim *s;         /* for on_ctl_event: this is s->nn->nodes[i] */
  size_t i;
  int app_rx[SIM_CALL_SLOTS];
  uint16_t app_port[SIM_CALL_SLOTS]; /* the daemon's APP port per slot, 0 = none */
} nn_node;

typedef struct sim_netns {
  char tag[24];
  int root_nsfd;
  bool net_made; /* namespaces (some may exist) to remove */
  pid_t dumpcap;   /* --pcap: capturing on the bridge ports, 0 when not */
  nn_node *nodes;
  bool nft;    /* loss or partition rules in use */
  uint64_t t0_us;
  bool clock_on;
  nn_event *ev;
  size_t n_ev, cap_ev;
  uint64_t ev_seq;
  struct sigaction old_int, old_term;
  bool sig_set;
  char failure[PROSE_SIM_ERR_MAX];
} sim_netns;

static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig) {
  (void)sig;
  g_interrupted = 1;
}

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void nn_clock(sim *s) {
  if (!s->nn->clock_on) return;
  uint64_t now = mono_us() - s->nn->t0_us;
  if (now > s->now) s->now = now;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void fail(sim *s, const char *fmt, ...) {
  sim_netns *nn = s->nn;
  if (nn->failure[0]) return; /* the first one explains */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(nn->failure, sizeof nn->failure, fmt, ap);
  va_end(ap);
  if (s->err && s->err_cap && !s->err[0]) snprintf(s->err, s->err_cap, "netns: %s", nn->failure);
  if (s->opt.log) fprintf(s->opt.log, "prose sim: netns: %s\n", nn->failure);
}

static void note(sim *s, const char *what) {
  if (strstr(s->notes, what)) return;
  size_t l = strlen(s->notes);
  snprintf(s->notes + l, sizeof s->notes - l, "%s%s", l ? "; " : "", what);
}

/* ---- helper processes (ip, nft) --------------------------------------------- */

static int run_nft(sim *s, size_t i, const char *script) {
  char *argv[] = {(char *)(uintptr_t) "nft", (char *)(uintptr_t) "-f", (char *)(uintptr_t) "-",
                  NULL};
  int rc = prosed_run_tool(argv, s->nn->nodes[i].nsfd, script, NULL, 0, false);
  if (rc != 0) fail(s, "nft rules for %s were refused", s->sc.nodes[i].name);
  return rc;
}

/* ---- the network: namespaces, bridge, addresses -------------------------------- */

static void ip_text(uint32_t ip, char *out, size_t cap) {
  snprintf(out, cap, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255u, (ip >> 8) & 255u, ip & 255u);
}

/* The namespaces of every node on one bridge (prosed_netns.h), node i at
 * the simulator's address for it. */
static int make_network(sim *s) {
  sim_netns *nn = s->nn;
  const char **ns = calloc(s->n, sizeof *ns);
  char (*cidr)[32] = calloc(s->n, sizeof *cidr);
  const char **cidrs = calloc(s->n, sizeof *cidrs);
  int *fd = calloc(s->n, sizeof *fd);
  if (ns == NULL || cidr == NULL || cidrs == NULL || fd == NULL) abort();
  for (size_t i = 0; i < s->n; i++) {
    ns[i] = nn->nodes[i].ns;
    char a[24];
    ip_text(s->nodes[i].ip, a, sizeof a);
    snprintf(cidr[i], sizeof cidr[i], "%s/8", a);
    cidrs[i] = cidr[i];
    fd[i] = -1;
  }
  nn->net_made = true;
  char err[PROSE_SIM_ERR_MAX] = "";
  int rc = prosed_netns_make(nn->tag, s->n, ns, cidrs, fd, err, sizeof err);
  for (size_t i = 0; i < s->n; i++) nn->nodes[i].nsfd = fd[i];
  if (rc != 0) fail(s, "%s", err);
  free(ns);
  free(cidr);
  free(cidrs);
  free(fd);
  return rc ? PROSE_EIO : 0;
}

static void remove_network(sim *s) {
  sim_netns *nn = s->nn;
  if (!nn->net_made) return;
  const char **ns = calloc(s->n, sizeof *ns);
  int *fd = calloc(s->n, sizeof *fd);
  if (ns == NULL || fd == NULL) abort();
  for (size_t i = 0; i < s->n; i++) {
    ns[i] = nn->nodes[i].ns;
    fd[i] = nn->nodes[i].nsfd;
    nn->nodes[i].nsfd = -1;
  }
  prosed_netns_remove(nn->tag, s->n, ns, fd);
  free(ns);
  free(fd);
  nn->net_made = false;
}

/* ---- nftables: loss and partitions ----------------------------------------------- */

static uint32_t group_ip(const scn_group *g) {
  return (uint32_t)g->addr[0] << 24 | (uint32_t)g->addr[1] << 16 | (uint32_t)g->addr[2] << 8 |
         g->addr[3];
}

/* Does any rule or action need nftables? */
static bool needs_nft(const sim *s) {
  for (size_t k = 0; k < s->sc.n_rules; k++)
    if ((s->sc.rules[k].p.has & LP_LOSS) && s->sc.rules[k].p.loss > 0) return true;
  for (size_t a = 0; a < s->sc.n_actions; a++)
    if (s->sc.actions[a].kind == ACT_PARTITION) return true;
  return false;
}

static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (*buf && *len + (size_t)n < *cap) {
      *len += (size_t)n;
      return;
    }
    size_t nc = (*cap ? *cap * 2 : 4096) + (size_t)n;
    char *nb = realloc(*buf, nc);
    if (nb == NULL) abort();
    *buf = nb;
    *cap = nc;
  }
}

static uint32_t loss_scaled(double p) {
  if (p <= 0) return 0;
  if (p >= 1) return NN_LOSS_SCALE;
  return (uint32_t)(p * NN_LOSS_SCALE + 0.5);
}

/* The input chain of node i, from the partitions and the rules in force. */
static int nft_apply_node(sim *s, size_t i) {
  char *b = NULL;
  size_t len = 0, cap = 0;
  char own[32];
  ip_text(s->nodes[i].ip, own, sizeof own);
  appendf(&b, &len, &cap, "flush chain inet psim input\n");
  /* Partitions first: a datagram across one counts as a partition drop. */
  bool any = false;
  for (size_t j = 0; j < s->n; j++) {
    if (j == i || s->nodes[j].partition == s->nodes[i].partition) continue;
    char a[32];
    ip_text(s->nodes[j].ip, a, sizeof a);
    appendf(&b, &len, &cap, "%s%s", any ? ", " : "add rule inet psim input meta l4proto udp ip saddr { ", a);
    any = true;
  }
  if (any) appendf(&b, &len, &cap, " } counter name \"partition\" drop\n");
  /* Loss per sender: one rule when every kind of datagram has the same
   * loss, else one per destination class (each group, discovery, unicast). */
  const prose_node_addr *disc = &s->nodes[i].set.disc_mcast;
  uint32_t disc_ip = sim_ip_of(disc);
  char disc_text[32];
  ip_text(disc_ip, disc_text, sizeof disc_text);
  for (size_t j = 0; j < s->n; j++) {
    if (j == i) continue;
    char src[32];
    ip_text(s->nodes[j].ip, src, sizeof src);
    scn_linkp p;
    uint32_t lg[PROSE_SIM_MAX_GROUPS], ld, lu;
    sim_link_params(s, j, i, disc_ip, PROSE_SOCK_DISC, &p);
    ld = loss_scaled(p.loss);
    sim_link_params(s, j, i, s->nodes[i].ip, PROSE_SOCK_CALL, &p);
    lu = loss_scaled(p.loss);
    bool same = ld == lu;
    for (size_t g = 0; g < s->sc.n_groups; g++) {
      sim_link_params(s, j, i, group_ip(&s->sc.groups[g]), PROSE_SOCK_MEDIA, &p);
      lg[g] = loss_scaled(p.loss);
      same = same && lg[g] == ld;
    }
    const char *pre = "add rule inet psim input meta l4proto udp ip saddr";
    const char *post = "counter name \"loss\" drop";
    if (same) {
      if (ld)
        appendf(&b, &len, &cap, "%s %s numgen random mod %u < %u %s\n", pre, src, NN_LOSS_SCALE, ld,
                post);
      continue;
    }
    if (ld)
      appendf(&b, &len, &cap, "%s %s ip daddr %s udp dport %u numgen random mod %u < %u %s\n", pre,
              src, disc_text, disc->port, NN_LOSS_SCALE, ld, post);
    if (lu)
      appendf(&b, &len, &cap, "%s %s ip daddr %s numgen random mod %u < %u %s\n", pre, src, own,
              NN_LOSS_SCALE, lu, post);
    for (size_t g = 0; g < s->sc.n_groups; g++) {
      if (!lg[g]) continue;
      char ga[32];
      ip_text(group_ip(&s->sc.groups[g]), ga, sizeof ga);
      appendf(&b, &len, &cap, "%s %s ip daddr %s numgen random mod %u < %u %s\n", pre, src, ga,
              NN_LOSS_SCALE, lg[g], post);
    }
  }
  int rc = run_nft(s, i, b) == 0 ? 0 : PROSE_EIO;
  free(b);
  return rc;
}

static int nn_network_changed(sim *s) {
  if (!s->nn->nft) return 0;
  for (size_t i = 0; i < s->n; i++)
    if (nft_apply_node(s, i) != 0) return PROSE_EIO;
  return 0;
}

static int nft_setup(sim *s) {
  static const char base[] = "table inet psim {\n"
                             "  counter loss { }\n"
                             "  counter partition { }\n"
                             "  chain input { type filter hook input priority filter; policy accept; }\n"
                             "}\n";
  for (size_t i = 0; i < s->n; i++)
    if (run_nft(s, i, base) != 0) return PROSE_EIO;
  return nn_network_changed(s);
}

/* Add node i's nftables counters to the medium's drops. */
static void nft_collect(sim *s, size_t i) {
  char *argv[] = {(char *)(uintptr_t) "nft", (char *)(uintptr_t) "list",
                  (char *)(uintptr_t) "counters", (char *)(uintptr_t) "table",
                  (char *)(uintptr_t) "inet", (char *)(uintptr_t) "psim", NULL};
  char out[4096];
  if (prosed_run_tool(argv, s->nn->nodes[i].nsfd, NULL, out, sizeof out, true) != 0) return;
  char name[32] = "";
  for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    unsigned long long pk = 0;
    char nm[32];
    if (sscanf(line, " counter %31s {", nm) == 1) snprintf(name, sizeof name, "%s", nm);
    else if (sscanf(line, " packets %llu", &pk) == 1) {
      if (strcmp(name, "loss") == 0) sim_kpi_drop_n(s, PROSE_SIM_DROP_LOSS, pk);
      else if (strcmp(name, "partition") == 0) sim_kpi_drop_n(s, PROSE_SIM_DROP_PARTITION, pk);
    }
  }
}

/* ---- configuration of a daemon -------------------------------------------------- */

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return PROSE_EIO;
  size_t n = strlen(text);
  int rc = 0;
  for (size_t off = 0; off < n && rc == 0;) {
    ssize_t w = write(fd, text + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) rc = PROSE_EIO;
    else off += (size_t)w;
  }
  if (close(fd) != 0) rc = PROSE_EIO;
  return rc;
}

/* prosed's configuration for node i, written from its node settings (the
 * daemon's defaults with the scenario's `set` lines): every key the sim
 * can change, so the two worlds run the same parameters. */
static int write_config(sim *s, size_t i) {
  sim_node *nd = &s->nodes[i];
  nn_node *n = &s->nn->nodes[i];
  const prose_node_settings *st = &nd->set;
  const prose_floor_settings *f = &st->floor;
  const prose_call_settings *k = &st->call;
  char *b = NULL;
  size_t len = 0, cap = 0;
  char own[32], disc[32];
  ip_text(nd->ip, own, sizeof own);
  ip_text(sim_ip_of(&st->disc_mcast), disc, sizeof disc);
  appendf(&b, &len, &cap,
          "# prose sim --netns: node %s of scenario %s\n"
          "[identity]\nuri = %s\nstore = %s/dev-%s\nkms_uri = %s\n\n"
          "[network]\naddress = %s\ninterface = eth0\ncall_port = %u\n\n"
          "[discovery]\ngroup = %s\nport = %u\nannounce_interval_ms = %u\nannounce_ttl_ms = %u\n"
          "max_skew_ms = %u\nmax_peers = %zu\n\n"
          "[media]\napp_address = 127.0.0.1\napp_port_base = %u\nrtp_port_base = %u\n"
          "app_symmetric = true\n\n"
          "[control]\nsocket = ctl.sock\n\n[log]\nlevel = info\n\n",
          s->sc.nodes[i].name, s->sc.name, s->sc.nodes[i].uri, s->dom.root, s->sc.nodes[i].name,
          SIM_KMS_URI, own, st->call_port, disc, st->disc_mcast.port,
          (unsigned)st->disc.announce_interval_ms, (unsigned)st->disc.announce_ttl_ms,
          (unsigned)st->disc.max_skew_ms, st->disc.max_peers, st->private_app_port,
          st->private_audio_port);
  appendf(&b, &len, &cap,
          "[floor]\nT201 = %u\nT203 = %u\nT204 = %u\nT205 = %u\nT206 = %u\nT207 = %u\n"
          "T230 = %u\nT233 = %u\nC201 = %u\nC204 = %u\nC205 = %u\npriority = %u\n"
          "queueing = %s\nqueue_max = %u\n\n",
          (unsigned)f->timer_ms[PROSE_FLOOR_T201], (unsigned)f->timer_ms[PROSE_FLOOR_T203],
          (unsigned)f->timer_ms[PROSE_FLOOR_T204], (unsigned)f->timer_ms[PROSE_FLOOR_T205],
          (unsigned)f->timer_ms[PROSE_FLOOR_T206], (unsigned)f->timer_ms[PROSE_FLOOR_T207],
          (unsigned)f->timer_ms[PROSE_FLOOR_T230], (unsigned)f->timer_ms[PROSE_FLOOR_T233],
          (unsigned)f->counter_max[PROSE_FLOOR_C201], (unsigned)f->counter_max[PROSE_FLOOR_C204],
          (unsigned)f->counter_max[PROSE_FLOOR_C205], (unsigned)f->priority,
          f->queueing ? "true" : "false", (unsigned)f->queue_capacity);
  appendf(&b, &len, &cap,
          "[call]\nTFG1 = %u\nTFG3 = %u\nTFG4 = %u\nTFG5 = %u\nTFG11 = %u\nTFG12 = %u\n"
          "TFG13 = %u\nTFG14 = %u\n"
          "TFB2 = %u\nTFB3 = %u\nTFE1 = %u\nTFE2 = %u\nTFP1 = %u\nTFP2 = %u\nTFP3 = %u\n"
          "TFP4 = %u\nTFP6 = %u\nTFP7 = %u\nCFG11 = %u\nCFG12 = %u\nCFP1 = %u\nCFP3 = %u\n"
          "CFP4 = %u\nCFP6 = %u\nrefresh_interval_ms = %u\nmax_duration_ms = %llu\n"
          "TFP5 = %llu\nuser_ack = %s\nconfirm_mode = %s\nauto_accept = %s\n",
          (unsigned)k->tfg1, (unsigned)k->tfg3, (unsigned)k->tfg4, (unsigned)k->tfg5,
          (unsigned)k->tfg11, (unsigned)k->tfg12, (unsigned)k->tfg13, (unsigned)k->tfg14,
          (unsigned)k->tfb2, (unsigned)k->tfb3,
          (unsigned)k->tfe1, (unsigned)k->tfe2, (unsigned)k->tfp1, (unsigned)k->tfp2,
          (unsigned)k->tfp3, (unsigned)k->tfp4, (unsigned)k->tfp6, (unsigned)k->tfp7,
          (unsigned)k->cfg11, (unsigned)k->cfg12, (unsigned)k->cfp1, (unsigned)k->cfp3,
          (unsigned)k->cfp4, (unsigned)k->cfp6, (unsigned)k->refresh_interval,
          (unsigned long long)k->group_max_duration_s * 1000ull,
          (unsigned long long)k->private_max_duration_s * 1000ull,
          k->user_ack_required ? "true" : "false", k->confirm_mode ? "true" : "false",
          st->auto_accept_private ? "true" : "false");
  /* Groups in the node's order: the daemon gives group k APP port base + 4(k+1). */
  for (size_t g = 0; g < st->n_groups; g++) {
    int slot = sim_group_slot(s, st->groups[g].id);
    char ga[32];
    ip_text(sim_ip_of(&st->groups[g].mcast), ga, sizeof ga);
    appendf(&b, &len, &cap, "\n[group %s]\nid = %s\naddress = %s\nmedia_port = %u\nfloor_port = %u\n",
            slot >= 0 ? s->sc.groups[slot].name : st->groups[g].id, st->groups[g].id, ga,
            st->groups[g].media_port, st->groups[g].floor_port);
    if (slot >= 0) n->app_port[slot] = (uint16_t)(st->private_app_port + 4u * (g + 1u));
  }
  n->app_port[SIM_PRIVATE_SLOT] = st->private_app_port;
  int rc = write_file(n->conf, b);
  free(b);
  if (rc) fail(s, "%s: %s", n->conf, strerror(errno));
  return rc;
}

/* ---- the application's sockets ---------------------------------------------------- */

static int udp_socket(uint16_t bind_port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int rcvbuf = 1 << 20;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind_port) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(bind_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
      close(fd);
      return -1;
    }
  }
  return fd;
}

/* Open node i's application sockets inside its namespace: a socket stays in
 * the namespace it was made in. */
static int open_app(sim *s, size_t i) {
  sim_netns *nn = s->nn;
  nn_node *n = &nn->nodes[i];
  if (setns(n->nsfd, CLONE_NEWNET) != 0) {
    fail(s, "setns %s: %s", n->ns, strerror(errno));
    return PROSE_EIO;
  }
  int rc = 0;
  for (size_t k = 0; k < SIM_CALL_SLOTS && rc == 0; k++) {
    if (!n->app_port[k]) continue;
    n->app_rx[k] = udp_socket((uint16_t)(n->app_port[k] + 1u));
    if (n->app_rx[k] < 0) {
      fail(s, "%s: bind 127.0.0.1:%u: %s", s->sc.nodes[i].name, n->app_port[k] + 1u, strerror(errno));
      rc = PROSE_EIO;
    }
  }
  if (setns(nn->root_nsfd, CLONE_NEWNET) != 0) {
    fail(s, "setns back: %s", strerror(errno));
    rc = PROSE_EIO;
  }
  return rc;
}

static void nn_app_send(sim *s, size_t i, int slot, const uint8_t *rtp, size_t len) {
  nn_node *n = &s->nn->nodes[i];
  /* Symmetric RTP: the frames leave from the socket the daemon delivers
   * to (its configuration has app_symmetric on). */
  if (slot < 0 || !n->app_port[slot] || n->app_rx[slot] < 0) return;
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons(n->app_port[slot]);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (sendto(n->app_rx[slot], rtp, len, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)len) return;
  /* The model gives a frame only to a node whose floor is granted; the
   * daemon counts any it refuses (app_dropped_no_floor). */
  if (s->tx_frame >= 0) sim_kpi_frame_sent(s, s->tx_frame);
}

static void app_drain(sim *s, size_t i, int fd) {
  uint8_t buf[2048];
  for (;;) {
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got < 0) return;
    nn_clock(s);
    sim_kpi_frame_heard(s, i, buf, (size_t)got);
  }
}

/* ---- control connections ---------------------------------------------------------- */

static int err_by_name(const char *name) {
  if (name == NULL) return 0;
  for (int e = -1; e > -1000; e--)
    if (strcmp(prose_err_name(e), name) == 0) return e;
  return PROSE_EINTERNAL;
}

static bool event_type(const char *name, prose_node_event_type *t) {
  static const struct {
    const char *name;
    prose_node_event_type type;
  } map[] = {{"peer", PROSE_NODE_EV_PEER},         {"call_state", PROSE_NODE_EV_CALL_STATE},
             {"call_started", PROSE_NODE_EV_CALL_STARTED},
             {"call_ended", PROSE_NODE_EV_CALL_ENDED}, {"incoming", PROSE_NODE_EV_INCOMING},
             {"floor", PROSE_NODE_EV_FLOOR},       {"talker", PROSE_NODE_EV_TALKER},
             {"granted", PROSE_NODE_EV_GRANTED},   {"denied", PROSE_NODE_EV_DENIED},
             {"revoked", PROSE_NODE_EV_REVOKED},   {"queued", PROSE_NODE_EV_QUEUED},
             {"alert", PROSE_NODE_EV_ALERT},       {"error", PROSE_NODE_EV_ERROR}};
  for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
    if (strcmp(map[k].name, name) == 0) {
      *t = map[k].type;
      return true;
    }
  return false;
}

static const char *jstr(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

/* A daemon's event line, as the node's own event. */
static void feed_event(sim *s, size_t i, const json_t *o) {
  prose_node_event ev;
  memset(&ev, 0, sizeof ev);
  if (!event_type(jstr(o, "event"), &ev.type)) return;
  ev.now = s->now / 1000u;
  ev.group = jstr(o, "group");
  ev.peer = jstr(o, "peer");
  ev.state_from = jstr(o, "from");
  ev.state_to = jstr(o, "to");
  ev.trigger = jstr(o, "trigger");
  ev.talker = jstr(o, "talker");
  ev.text = jstr(o, "text");
  ev.err = err_by_name(jstr(o, "error"));
  json_int_t r = json_integer_value(json_object_get(o, "reason"));
  ev.reason = r > 0 && r < 65536 ? (unsigned)r : 0u;
  sim_node_event(s, i, &ev);
}

static void queue_event(sim *s, size_t i, json_t *o) {
  sim_netns *nn = s->nn;
  if (nn->n_ev == nn->cap_ev) {
    size_t nc = nn->cap_ev ? nn->cap_ev * 2 : 64;
    nn_event *q = realloc(nn->ev, nc * sizeof *q);
    if (q == NULL) abort();
    nn->ev = q;
    nn->cap_ev = nc;
  }
  json_int_t t = json_integer_value(json_object_get(o, "mono_us"));
  nn_event *e = &nn->ev[nn->n_ev++];
  e->t = t > 0 ? (uint64_t)t : mono_us();
  e->seq = nn->ev_seq++;
  e->node = i;
  e->o = json_incref(o);
}

static int ev_cmp(const void *a, const void *b) {
  const nn_event *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Give the model the events that happened before now - NN_HOLD_US (all of
 * them with `all`), in the order they happened, each at its own time (never
 * before what the model has already seen). */
static void release_events(sim *s, bool all) {
  sim_netns *nn = s->nn;
  if (nn->n_ev == 0) return;
  qsort(nn->ev, nn->n_ev, sizeof *nn->ev, ev_cmp);
  uint64_t lim = all ? UINT64_MAX : mono_us() - NN_HOLD_US;
  size_t k = 0;
  for (; k < nn->n_ev && nn->ev[k].t <= lim; k++) {
    nn_event *e = &nn->ev[k];
    if (nn->clock_on && e->t > nn->t0_us && e->t - nn->t0_us > s->now)
      s->now = e->t - nn->t0_us < s->end ? e->t - nn->t0_us : s->end;
    if (s->nodes[e->node].up) feed_event(s, e->node, e->o);
    json_decref(e->o);
  }
  memmove(nn->ev, nn->ev + k, (nn->n_ev - k) * sizeof *nn->ev);
  nn->n_ev -= k;
}

/* Forget what node i said and the model has not seen (it went down). */
static void drop_events(sim *s, size_t i) {
  sim_netns *nn = s->nn;
  size_t w = 0;
  for (size_t k = 0; k < nn->n_ev; k++) {
    if (nn->ev[k].node == i) {
      json_decref(nn->ev[k].o);
      continue;
    }
    nn->ev[w++] = nn->ev[k];
  }
  nn->n_ev = w;
}

/* An event line of node i's daemon (nn_node.ctl's on_event): to the queue,
 * stamped with the time it was read. */
static void on_ctl_event(void *user_data, json_t *o) {
  nn_node *n = user_data;
  nn_clock(n->s);
  if (json_object_get(o, "event")) queue_event(n->s, n->i, o);
}

/* Read what node i's daemon said (its events go to the queue). false when
 * the connection ended. */
static bool ctl_read(sim *s, size_t i) {
  nn_node *n = &s->nn->nodes[i];
  char err[256];
  int rc = ctl_client_pump(&n->ctl, err, sizeof err);
  if (rc == 0) return true;
  if (rc != CTL_CLIENT_ECLOSED) fail(s, "%s: %s", s->sc.nodes[i].name, err);
  ctl_client_close(&n->ctl);
  return false;
}

/*
 * One request to node i's daemon (args consumed; NULL = {}), waiting for
 * its reply; events that arrive meanwhile join the queue (release_events
 * gives them to the model in the order they happened). Returns 0 with *result (when not
 * NULL) the result object, the daemon's error code, or PROSE_EIO when the
 * daemon cannot be reached.
 */
static int request(sim *s, size_t i, const char *cmd, json_t *args, json_t **result) {
  nn_node *n = &s->nn->nodes[i];
  if (result) *result = NULL;
  if (n->ctl.fd < 0) {
    json_decref(args);
    return PROSE_EIO;
  }
  char err[256];
  json_t *reply = NULL;
  int rc = ctl_client_request(&n->ctl, cmd, args, NN_REQUEST_MS, &reply, NULL, err, sizeof err);
  json_decref(args);
  if (rc == CTL_CLIENT_ETIMEDOUT)
    fail(s, "%s: no reply to '%s' within %d ms", s->sc.nodes[i].name, cmd, NN_REQUEST_MS);
  else if (rc == CTL_CLIENT_EFAIL)
    fail(s, "%s: %s", s->sc.nodes[i].name, err);
  if (rc == CTL_CLIENT_ECLOSED || rc == CTL_CLIENT_EFAIL) ctl_client_close(&n->ctl);
  if (rc != 0) return PROSE_EIO;
  nn_clock(s);
  /* What arrived with the reply (events after it) goes to the queue now, as
   * poll_io would not see it: it is read already. */
  (void)ctl_read(s, i);
  if (json_is_true(json_object_get(reply, "ok"))) {
    if (result) *result = json_incref(json_object_get(reply, "result"));
  } else {
    const json_t *e = json_object_get(reply, "error");
    json_int_t num = json_integer_value(json_object_get(e, "number"));
    rc = num < 0 && num > -1000 ? (int)num : PROSE_EINTERNAL;
  }
  json_decref(reply);
  return rc;
}

/* ---- daemons ----------------------------------------------------------------------- */

static void print_log_tail(sim *s, size_t i) {
  if (s->opt.log == NULL) return;
  char heading[256];
  snprintf(heading, sizeof heading, "prose sim: netns: last lines of %s's prosed log:",
           s->sc.nodes[i].name);
  prosed_proc_print_log_tail(s->opt.log, s->nn->nodes[i].log, 12, heading, "  ");
}

static int spawn(sim *s, size_t i) {
  nn_node *n = &s->nn->nodes[i];
  prosed_proc_settings ps;
  prosed_proc_settings_default(&ps);
  ps.prosed = s->opt.prosed_path;
  ps.config = n->conf;
  ps.log = n->log;
  ps.log_append = true; /* a restarted node's log goes on */
  ps.nsfd = n->nsfd;
  ps.death_signal = SIGKILL;
  ps.prog = "prose sim";
  (void)unlink(n->sock);
  char err[256];
  if (prosed_proc_spawn(&n->proc, &ps, err, sizeof err) != 0) {
    fail(s, "%s", err);
    return PROSE_EIO;
  }
  return 0;
}

static int nn_up(sim *s, size_t i) {
  nn_node *n = &s->nn->nodes[i];
  int rc = spawn(s, i);
  if (rc) return rc;
  /* Ready when its control socket takes a connection. */
  uint64_t deadline = mono_us() + NN_START_MS * 1000ull;
  char err[256];
  while (ctl_client_connect(&n->ctl, n->sock, err, sizeof err) != 0) {
    if (!prosed_proc_reap(&n->proc)) {
      char how[64];
      prosed_proc_describe_exit(n->proc.status, how, sizeof how);
      fail(s, "%s's prosed did not start (%s)", s->sc.nodes[i].name, how);
      print_log_tail(s, i);
      return PROSE_EIO;
    }
    if (mono_us() > deadline || g_interrupted) {
      fail(s, "%s's prosed did not open its control socket within %d ms", s->sc.nodes[i].name,
           NN_START_MS);
      print_log_tail(s, i);
      return PROSE_EIO;
    }
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  rc = request(s, i, "subscribe", NULL, NULL);
  /* The daemon's APP ports must be the ones the configuration implies. */
  json_t *res = NULL;
  if (rc == 0) rc = request(s, i, "groups", NULL, &res);
  const json_t *arr = json_object_get(res, "groups");
  for (size_t k = 0; rc == 0 && k < json_array_size(arr); k++) {
    const json_t *g = json_array_get(arr, k);
    int slot = sim_group_slot(s, jstr(g, "id"));
    json_int_t port = json_integer_value(json_object_get(g, "app_port"));
    if (slot < 0 || port != n->app_port[slot]) {
      fail(s, "%s: the daemon's group %s has APP port %lld, expected %u", s->sc.nodes[i].name,
           jstr(g, "id") ? jstr(g, "id") : "?", (long long)port, slot >= 0 ? n->app_port[slot] : 0u);
      rc = PROSE_EINTERNAL;
    }
  }
  json_decref(res);
  if (rc) fail(s, "%s's prosed: %s", s->sc.nodes[i].name, prose_err_name(rc));
  return rc;
}

static uint64_t ju(const json_t *o, const char *k) {
  json_int_t v = json_integer_value(json_object_get(o, k));
  return v > 0 ? (uint64_t)v : 0u;
}

/* Fold counters c of node i's daemon (the reply of `counters`) into its
 * totals. */
static void fold_counters(sim *s, size_t i, const json_t *c) {
  sim_node *nd = &s->nodes[i];
  prose_node_counters *p = &nd->past;
  p->media_rx += ju(c, "media_rx");
  p->media_tx += ju(c, "media_tx");
  p->no_gmk += ju(c, "no_gmk");
  p->rx_no_call += ju(c, "rx_no_call");
  p->rx_bad_sock += ju(c, "rx_bad_sock");
  p->call_rx_errors += ju(c, "call_rx_errors");
  p->floor_rx_errors += ju(c, "floor_rx_errors");
  p->key_mgmt_failed += ju(c, "key_mgmt_failed");
  p->app_dropped_no_floor += ju(c, "app_dropped_no_floor");
  p->app_dropped_no_call += ju(c, "app_dropped_no_call");
  p->app_dropped_bad += ju(c, "app_dropped_bad");
  const json_t *m = json_object_get(c, "media_drops");
  p->media.drop_malformed += ju(m, "drop_malformed");
  p->media.drop_unknown_mki += ju(m, "drop_unknown_mki");
  p->media.drop_no_key += ju(m, "drop_no_key");
  p->media.drop_auth += ju(m, "drop_auth");
  p->media.drop_replay += ju(m, "drop_replay");
  const json_t *d = json_object_get(c, "discovery");
  nd->past_disc_rej += ju(d, "rej_malformed") + ju(d, "rej_unknown_kms") + ju(d, "rej_period") +
                       ju(d, "rej_time") + ju(d, "rej_sig") + ju(d, "rej_replay");
  /* On the wire only, as the simulator counts: not what goes to or comes
   * from the application, nor a node's own multicast looped back. */
  uint64_t tx = ju(c, "tx_dgrams"), to_app = ju(c, "media_to_app");
  uint64_t rx = ju(c, "rx_dgrams"), from_app = ju(c, "app_rx") + ju(c, "rx_own");
  s->result->kpi.datagrams += tx > to_app ? tx - to_app : 0;
  s->result->kpi.deliveries += rx > from_app ? rx - from_app : 0;
}

/* Fold what node i's daemon counted so far (before a crash). */
static void take_counters(sim *s, size_t i) {
  json_t *c = NULL;
  if (request(s, i, "counters", NULL, &c) != 0) return;
  fold_counters(s, i, c);
  json_decref(c);
}

/* After a clean stop: the daemon's last event, `stopped`, carries its final
 * counters (its goodbye included). It is in the socket's buffer when the
 * process has exited; the other lines (events of its leaving) are dropped,
 * as are those of a node going down. */
static int take_final_counters(sim *s, size_t i) {
  ctl_client *c = &s->nn->nodes[i].ctl;
  char err[256];
  for (;;) {
    char *line = NULL;
    size_t used = 0;
    if (ctl_client_read_line(c, NN_REQUEST_MS, &line, &used, err, sizeof err) != 0) break;
    json_t *o = json_loads(line, 0, NULL);
    ctl_client_consume(c, used);
    const json_t *ctr = json_object_get(o, "counters");
    const char *ev = jstr(o, "event");
    if (json_is_object(ctr) && ev && strcmp(ev, "stopped") == 0) {
      fold_counters(s, i, ctr);
      json_decref(o);
      return 0;
    }
    json_decref(o);
  }
  fail(s, "%s's prosed stopped without sending its final counters (%s)", s->sc.nodes[i].name, err);
  return PROSE_EIO;
}

/* The group call identifiers node i is in (for GROUP.calls). */
static void take_call_ids(sim *s, size_t i) {
  json_t *r = NULL;
  if (request(s, i, "calls", NULL, &r) != 0) return;
  const json_t *arr = json_object_get(r, "calls");
  for (size_t g = 0; g < s->sc.n_groups; g++) s->nodes[i].calls[g].has_call_id = false;
  for (size_t k = 0; k < json_array_size(arr); k++) {
    const json_t *c = json_array_get(arr, k);
    int slot = sim_group_slot(s, jstr(c, "group"));
    const json_t *id = json_object_get(c, "call_id");
    if (slot < 0 || !json_is_integer(id)) continue;
    s->nodes[i].calls[slot].has_call_id = true;
    s->nodes[i].calls[slot].call_id = (uint16_t)json_integer_value(id);
  }
  json_decref(r);
}

/* Expectations in the middle of a run read the call identifiers now. */
static void nn_before_expect(sim *s) {
  for (size_t i = 0; i < s->n; i++)
    if (s->nodes[i].up) take_call_ids(s, i);
}

/* Stop daemon i: SIGTERM (a stop: its final counters are folded in) or
 * SIGKILL (a crash: the caller took them before), and wait. */
static int stop_daemon(sim *s, size_t i, bool crash) {
  nn_node *n = &s->nn->nodes[i];
  int rc = 0;
  if (!prosed_proc_reap(&n->proc)) {
    ctl_client_close(&n->ctl);
    return 0;
  }
  prosed_proc_end end = prosed_proc_stop(&n->proc, crash ? SIGKILL : SIGTERM, NN_STOP_MS);
  if (end == PROSED_PROC_KILLED) {
    fail(s, "%s's prosed did not stop within %d ms of SIGTERM", s->sc.nodes[i].name, NN_STOP_MS);
    rc = PROSE_EIO;
  } else if (!crash && end != PROSED_PROC_CLEAN) {
    char how[64];
    prosed_proc_describe_exit(n->proc.status, how, sizeof how);
    fail(s, "%s's prosed did not stop cleanly (%s)", s->sc.nodes[i].name, how);
    print_log_tail(s, i);
    rc = PROSE_EIO;
  } else if (!crash) {
    rc = take_final_counters(s, i);
  }
  ctl_client_close(&n->ctl);
  return rc;
}

static void nn_down(sim *s, size_t i, bool crash) {
  if (crash) take_counters(s, i);
  (void)stop_daemon(s, i, crash);
  drop_events(s, i);
}

/* ---- user actions ---------------------------------------------------------------------- */

static const char *type_name(prose_monp_call_type t) {
  switch (t) {
    case PROSE_MONP_CALL_BASIC_GROUP: return "basic";
    case PROSE_MONP_CALL_EMERGENCY_GROUP: return "emergency";
    case PROSE_MONP_CALL_IMMINENT_PERIL_GROUP: return "imminent-peril";
    case PROSE_MONP_CALL_BROADCAST_GROUP: return "broadcast";
    case PROSE_MONP_CALL_PRIVATE:
    case PROSE_MONP_CALL_EMERGENCY_PRIVATE: break;
  }
  return "basic";
}

static int nn_call_group(sim *s, size_t i, int g, prose_monp_call_type type) {
  return request(s, i, "call_group",
                 json_pack("{s:s,s:s}", "group", s->sc.groups[g].uri, "type", type_name(type)), NULL);
}

static int nn_call_private(sim *s, size_t i, size_t peer, bool manual, bool emergency) {
  return request(s, i, "call_private",
                 json_pack("{s:s,s:s,s:b}", "uri", s->sc.nodes[peer].uri, "commencement",
                           manual ? "manual" : "automatic", "emergency", emergency),
                 NULL);
}

/* The call a slot means on the control socket: a group by its ID, the
 * private call by its peer (the call's id in `calls`). */
static json_t *call_args(sim *s, size_t i, int slot) {
  if (slot >= 0 && slot < (int)s->sc.n_groups) return json_pack("{s:s}", "group", s->sc.groups[slot].uri);
  long peer = s->nodes[i].peer;
  if (slot == (int)SIM_PRIVATE_SLOT && peer >= 0)
    return json_pack("{s:s}", "call", s->sc.nodes[peer].uri);
  return json_object();
}

static int nn_ptt_press(sim *s, size_t i, int slot, int prio) {
  json_t *a = call_args(s, i, slot);
  if (prio >= 0) json_object_set_new(a, "priority", json_integer(prio));
  return request(s, i, "ptt_press", a, NULL);
}

static int nn_ptt_release(sim *s, size_t i, int slot) {
  return request(s, i, "ptt_release", call_args(s, i, slot), NULL);
}

static int nn_answer(sim *s, size_t i, sim_answer how) {
  switch (how) {
    case SIM_ANSWER_ACCEPT: return request(s, i, "accept", NULL, NULL);
    case SIM_ANSWER_REJECT: return request(s, i, "reject", NULL, NULL);
    case SIM_ANSWER_HANGUP:
      /* The call the node acts on, as prose_node_hangup does. */
      return request(s, i, "hangup", s->nodes[i].current >= 0 ? call_args(s, i, s->nodes[i].current) : NULL,
                     NULL);
  }
  return PROSE_EINVAL;
}

/* ---- the world's life cycle -------------------------------------------------------------- */

/* argv0 in PATH or root's sbin directories? */
static bool have_tool(const char *name) {
  const char *path = getenv("PATH");
  char buf[4096];
  snprintf(buf, sizeof buf, "%s:/usr/sbin:/sbin:/usr/bin:/bin", path ? path : "");
  for (char *save = NULL, *dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char full[4200];
    snprintf(full, sizeof full, "%s/%s", dir, name);
    if (access(full, X_OK) == 0) return true;
  }
  return false;
}

/* --pcap: dumpcap on every bridge port, each port filtered on its node's
 * source address, so every datagram is written once, as it left its sender
 * (as the simulator's --pcap). pcapng: one interface per node. */
static int capture_start(sim *s) {
  sim_netns *nn = s->nn;
  char br[128], log[700];
  snprintf(br, sizeof br, "/run/netns/%s-br", nn->tag);
  snprintf(log, sizeof log, "%s/dumpcap.log", s->dom.root);
  size_t argc_max = 6 + 4 * s->n + 1;
  char **argv = calloc(argc_max, sizeof *argv);
  char (*words)[64] = calloc(2 * s->n, sizeof *words);
  if (argv == NULL || words == NULL) abort();
  size_t a = 0;
  argv[a++] = (char *)(uintptr_t) "dumpcap";
  argv[a++] = (char *)(uintptr_t) "-q";
  for (size_t i = 0; i < s->n; i++) {
    char ip[32];
    ip_text(s->nodes[i].ip, ip, sizeof ip);
    snprintf(words[2 * i], sizeof words[0], "v%zu", i);
    snprintf(words[2 * i + 1], sizeof words[0], "udp and src host %s", ip);
    argv[a++] = (char *)(uintptr_t) "-i";
    argv[a++] = words[2 * i];
    argv[a++] = (char *)(uintptr_t) "-f";
    argv[a++] = words[2 * i + 1];
  }
  argv[a++] = (char *)(uintptr_t) "-w";
  argv[a++] = (char *)(uintptr_t)s->opt.pcap_path;
  argv[a] = NULL;
  (void)unlink(s->opt.pcap_path);
  fflush(NULL);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(br, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(126);
    int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int nul = open("/dev/null", O_RDONLY);
    if (out < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(127);
    execvp("dumpcap", argv);
    execv("/usr/bin/dumpcap", argv);
    _exit(127);
  }
  free(argv);
  free(words);
  if (pid < 0) {
    fail(s, "fork: %s", strerror(errno));
    return PROSE_EIO;
  }
  nn->dumpcap = pid;
  /* Capturing once the file has its header and the interfaces are open. */
  uint64_t deadline = mono_us() + 10000000u;
  struct stat st;
  while (stat(s->opt.pcap_path, &st) != 0 || st.st_size == 0) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid || mono_us() > deadline) {
      nn->dumpcap = 0;
      fail(s, "dumpcap did not start capturing into %s (see %s)", s->opt.pcap_path, log);
      return PROSE_EIO;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  struct timespec ts = {0, 200 * 1000 * 1000};
  nanosleep(&ts, NULL);
  return 0;
}

/* Packets in the pcapng file at path so far (enhanced and simple packet
 * blocks; a block still being written is not counted). */
static uint64_t pcapng_packets(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return 0;
  uint64_t n = 0;
  bool swap = false;
  uint8_t h[12];
  while (fread(h, 1, 8, f) == 8) {
    uint32_t type, len;
    memcpy(&type, h, 4);
    memcpy(&len, h + 4, 4);
    if (type == 0x0A0D0D0Au) { /* section header: its byte-order magic follows */
      if (fread(h + 8, 1, 4, f) != 4) break;
      uint32_t magic;
      memcpy(&magic, h + 8, 4);
      swap = magic != 0x1A2B3C4Du;
      if (swap) len = __builtin_bswap32(len);
      if (len < 12 || fseek(f, (long)len - 12, SEEK_CUR) != 0) break;
      continue;
    }
    if (swap) type = __builtin_bswap32(type), len = __builtin_bswap32(len);
    if (len < 12 || len % 4 != 0 || fseek(f, (long)len - 8, SEEK_CUR) != 0) break;
    /* fseek may pass the end: only a block whose last octet exists counts. */
    long at = ftell(f);
    if (fseek(f, 0, SEEK_END) != 0 || ftell(f) < at) break;
    if (fseek(f, at, SEEK_SET) != 0) break;
    if (type == 6u || type == 3u) n++;
  }
  fclose(f);
  return n;
}

/* The last frames written and the file closed (SIGINT, as at a terminal).
 * dumpcap reads the kernel's capture buffer in blocks (every 250 ms or so)
 * and drops what it has not read at SIGINT: so first wait, up to 3 s, for
 * the file to hold every datagram the daemons counted (after a clean end,
 * their goodbyes included). */
static void capture_stop(sim *s) {
  sim_netns *nn = s->nn;
  if (nn->dumpcap <= 0) return;
  uint64_t want = s->result->kpi.datagrams, until = mono_us() + 3000000u;
  while (want > 0 && pcapng_packets(s->opt.pcap_path) < want && mono_us() < until) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(nn->dumpcap, SIGINT);
  uint64_t deadline = mono_us() + 5000000u;
  int status;
  while (waitpid(nn->dumpcap, &status, WNOHANG) != nn->dumpcap) {
    if (mono_us() > deadline) {
      kill(nn->dumpcap, SIGKILL);
      (void)waitpid(nn->dumpcap, &status, 0);
      break;
    }
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  nn->dumpcap = 0;
}

static int nn_check(sim *s) {
  if (s->opt.pcap_plain_path) {
    snprintf(s->err, s->err_cap,
             "--pcap-plain needs the in-process world (it decrypts with the nodes' stores)");
    return PROSE_ECONFIG;
  }
  if (s->opt.pcap_path && !have_tool("dumpcap")) {
    snprintf(s->err, s->err_cap, "--pcap with --netns captures with dumpcap (wireshark): not found");
    return PROSE_ENOENT;
  }
  if (s->n > NN_MAX_NODES) {
    snprintf(s->err, s->err_cap, "netns runs take at most %u nodes (this scenario has %zu)",
             NN_MAX_NODES, s->n);
    return PROSE_ECONFIG;
  }
  if (geteuid() != 0) {
    snprintf(s->err, s->err_cap, "netns runs need root (network namespaces, veth, nftables)");
    return PROSE_EPERM;
  }
  if (s->opt.prosed_path == NULL || access(s->opt.prosed_path, X_OK) != 0) {
    snprintf(s->err, s->err_cap, "prosed not found%s%s", s->opt.prosed_path ? " at " : "",
             s->opt.prosed_path ? s->opt.prosed_path : "");
    return PROSE_ENOENT;
  }
  /* What this kernel cannot do (no netem) is said in the report. */
  uint32_t has = 0;
  for (size_t k = 0; k < s->sc.n_rules; k++) has |= s->sc.rules[k].p.has;
  if (has & (LP_DELAY | LP_JITTER)) note(s, "link delay and jitter (no netem in this kernel)");
  if (has & LP_BURST) note(s, "bursty loss");
  if (has & LP_DUP) note(s, "duplication");
  if (has & LP_REORDER) note(s, "reordering");
  if (has & (LP_RATE | LP_QUEUE)) note(s, "rate limits");
  bool clock = false;
  for (size_t i = 0; i < s->n; i++) clock |= s->sc.nodes[i].clock_ms != 0;
  for (size_t a = 0; a < s->sc.n_actions; a++) clock |= s->sc.actions[a].kind == ACT_CLOCK;
  if (clock) note(s, "clock offsets (one wall clock)");
  if (s->sc.cpu.on) note(s, "the CPU model (real CPUs do the work)");
  /* Keys for the real wall clock. */
  s->t0_ntp = (uint32_t)((uint64_t)time(NULL) + NN_NTP_UNIX);
  s->nn = calloc(1, sizeof *s->nn);
  if (s->nn == NULL) return PROSE_ENOMEM;
  s->nn->root_nsfd = -1;
  s->nn->nodes = calloc(s->n, sizeof *s->nn->nodes);
  if (s->nn->nodes == NULL) return PROSE_ENOMEM;
  snprintf(s->nn->tag, sizeof s->nn->tag, "psim%ld", (long)getpid());
  for (size_t i = 0; i < s->n; i++) {
    nn_node *n = &s->nn->nodes[i];
    n->nsfd = -1;
    ctl_client_init(&n->ctl);
    n->ctl.on_event = on_ctl_event;
    n->ctl.user_data = n;
    n->s = s;
    n->i = i;
    for (size_t k = 0; k < SIM_CALL_SLOTS; k++) n->app_rx[k] = -1;
    snprintf(n->ns, sizeof n->ns, "%s-%zu", s->nn->tag, i);
  }
  return 0;
}

static int nn_start(sim *s) {
  sim_netns *nn = s->nn;
  g_interrupted = 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &nn->old_int);
  sigaction(SIGTERM, &sa, &nn->old_term);
  nn->sig_set = true;
  nn->root_nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (nn->root_nsfd < 0) {
    fail(s, "/proc/self/ns/net: %s", strerror(errno));
    return PROSE_EIO;
  }
  for (size_t i = 0; i < s->n; i++) {
    nn_node *n = &nn->nodes[i];
    snprintf(n->dir, sizeof n->dir, "%s/n%zu", s->dom.root, i);
    snprintf(n->conf, sizeof n->conf, "%s/prosed.conf", n->dir);
    snprintf(n->log, sizeof n->log, "%s/prosed.log", n->dir);
    snprintf(n->sock, sizeof n->sock, "%s/ctl.sock", n->dir);
    if (strlen(n->sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
      fail(s, "control socket path too long: %s", n->sock);
      return PROSE_ECONFIG;
    }
    if (mkdir(n->dir, 0700) != 0) {
      fail(s, "%s: %s", n->dir, strerror(errno));
      return PROSE_EIO;
    }
    int rc = write_config(s, i);
    if (rc) return rc;
  }
  int rc = make_network(s);
  nn->nft = needs_nft(s);
  if (rc == 0 && nn->nft) rc = nft_setup(s);
  if (rc == 0 && s->opt.pcap_path) rc = capture_start(s);
  for (size_t i = 0; rc == 0 && i < s->n; i++) rc = open_app(s, i);
  if (s->opt.log && rc == 0)
    fprintf(s->opt.log, "prose sim: netns: %zu namespaces on a bridge (%s-*), %s\n", s->n, nn->tag,
            nn->nft ? "nftables loss and partitions" : "no loss rules");
  return rc;
}

/* Reap daemons that died by themselves: a failure of the run. */
static void check_daemons(sim *s) {
  for (size_t i = 0; i < s->n; i++) {
    nn_node *n = &s->nn->nodes[i];
    if (!s->nodes[i].up || prosed_proc_reap(&n->proc)) continue;
    char how[64];
    prosed_proc_describe_exit(n->proc.status, how, sizeof how);
    fail(s, "%s's prosed ended by itself (%s)", s->sc.nodes[i].name, how);
    print_log_tail(s, i);
    ctl_client_close(&n->ctl);
    drop_events(s, i);
    sim_node_lost(s, i);
  }
}

static void poll_io(sim *s, int timeout_ms) {
  sim_netns *nn = s->nn;
  size_t cap = s->n * (SIM_CALL_SLOTS + 1);
  struct pollfd *pf = calloc(cap, sizeof *pf);
  size_t *who = calloc(cap, sizeof *who);
  if (pf == NULL || who == NULL) abort();
  size_t m = 0;
  for (size_t i = 0; i < s->n; i++) {
    nn_node *n = &nn->nodes[i];
    if (n->ctl.fd >= 0) {
      pf[m] = (struct pollfd){n->ctl.fd, POLLIN, 0};
      who[m++] = i;
    }
    for (size_t k = 0; k < SIM_CALL_SLOTS; k++)
      if (n->app_rx[k] >= 0) {
        pf[m] = (struct pollfd){n->app_rx[k], POLLIN, 0};
        who[m++] = i;
      }
  }
  int r = poll(pf, (nfds_t)m, timeout_ms);
  for (size_t k = 0; r > 0 && k < m; k++) {
    if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    nn_node *n = &nn->nodes[who[k]];
    if (pf[k].fd == n->ctl.fd)
      (void)ctl_read(s, who[k]);
    else
      app_drain(s, who[k], pf[k].fd);
  }
  free(pf);
  free(who);
}

static void nn_run(sim *s) {
  sim_netns *nn = s->nn;
  nn->t0_us = mono_us();
  nn->clock_on = true;
  for (;;) {
    nn_clock(s);
    if (g_interrupted) {
      fail(s, "interrupted");
      break;
    }
    if (s->now >= s->end) break;
    uint64_t at = 0;
    if (sim_ev_peek(s, &at) && at <= s->now) {
      /* What happened before it first (as far as it has arrived). */
      poll_io(s, 0);
      release_events(s, false);
      nn_clock(s);
      sim_ev e;
      sim_ev_pop(s, &e);
      s->result->kpi.steps++;
      sim_dispatch(s, &e);
      continue;
    }
    uint64_t next = s->end;
    if (sim_ev_peek(s, &at) && at < next) next = at;
    /* Wake for held events too. */
    if (nn->n_ev) {
      uint64_t due = nn->ev[0].t + NN_HOLD_US;
      for (size_t k = 1; k < nn->n_ev; k++)
        if (nn->ev[k].t + NN_HOLD_US < due) due = nn->ev[k].t + NN_HOLD_US;
      due = due > nn->t0_us ? due - nn->t0_us : 0;
      if (due < next) next = due > s->now ? due : s->now;
    }
    poll_io(s, (int)((next - s->now + 999u) / 1000u));
    release_events(s, false);
    check_daemons(s);
  }
  s->now = s->now < s->end ? s->now : s->end;
  nn->clock_on = false;
}

/* The last figures of every daemon, then stop them all. */
static int nn_finish(sim *s) {
  sim_netns *nn = s->nn;
  poll_io(s, 0);
  nn->clock_on = true;
  release_events(s, true);
  nn->clock_on = false;
  for (size_t i = 0; i < s->n; i++)
    if (s->nodes[i].up) take_call_ids(s, i);
  for (size_t i = 0; i < s->n && nn->nft; i++) nft_collect(s, i);
  int rc = 0;
  for (size_t i = 0; i < s->n; i++)
    if (stop_daemon(s, i, false) != 0) rc = PROSE_EIO;
  capture_stop(s);
  if (nn->failure[0]) {
    snprintf(s->err, s->err_cap, "netns: %s", nn->failure);
    rc = PROSE_EIO;
  }
  return rc;
}

static void nn_teardown(sim *s) {
  sim_netns *nn = s->nn;
  if (nn == NULL) return;
  capture_stop(s);
  for (size_t i = 0; nn->nodes && i < s->n; i++) {
    nn_node *n = &nn->nodes[i];
    ctl_client_close(&n->ctl);
    (void)prosed_proc_stop(&n->proc, SIGKILL, NN_STOP_MS);
    for (size_t k = 0; k < SIM_CALL_SLOTS; k++)
      if (n->app_rx[k] >= 0) close(n->app_rx[k]);
  }
  for (size_t k = 0; k < nn->n_ev; k++) json_decref(nn->ev[k].o);
  free(nn->ev);
  if (nn->nodes) remove_network(s);
  if (nn->root_nsfd >= 0) close(nn->root_nsfd);
  if (nn->sig_set) {
    sigaction(SIGINT, &nn->old_int, NULL);
    sigaction(SIGTERM, &nn->old_term, NULL);
  }
  free(nn->nodes);
  free(nn);
  s->nn = NULL;
}

const sim_world sim_netns_world = {
    .name = "netns",
    .check = nn_check,
    .start = nn_start,
    .up = nn_up,
    .down = nn_down,
    .call_group = nn_call_group,
    .call_private = nn_call_private,
    .ptt_press = nn_ptt_press,
    .ptt_release = nn_ptt_release,
    .answer = nn_answer,
    .app_send = nn_app_send,
    .network_changed = nn_network_changed,
    .run = nn_run,
    .before_expect = nn_before_expect,
    .finish = nn_finish,
    .teardown = nn_teardown,
};
