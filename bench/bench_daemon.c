/*
 * prose-bench daemon: the media path through real prosed processes over
 * real sockets, where `prose-bench node` measures it in memory.
 *
 *   the bench (as A's application) --plain RTP--> A's APP port
 *     A: floor check, renumbering, SRTP protect --multicast SRTP--> B (, C)
 *     B: SRTP unprotect --plain RTP--> B's APP port + 1 (the bench, as B's
 *        application, counts it)
 *
 * Two (--nodes 3: three) prosed processes, the binary of this build (else
 * the one beside prose-bench, or --prosed PATH), each on its own loopback
 * address 127.77.R.i with its multicast on the loopback interface, so
 * nothing leaves the machine and no root is needed. Keys come from a throwaway domain provisioned in process
 * by the authority code (tests/support/testdomain.h, as `prose kms/gms` and
 * `prose store import` would make it); the daemons open the device stores.
 * Through each daemon's control socket (docs/control.md) A starts a group
 * call and takes the floor (call_group, ptt_press), as `prose demo` does.
 *
 * Then, per offered rate (1k, 10k, 50k, 100k packets/s, and unpaced), the
 * bench sends 172-octet PCMU RTP frames (12 + 160) to A's group APP port
 * (app_port_base + 4: the group's slot 1, docs/config.md [media]) for
 * --seconds, and a receiver thread counts what arrives on each listener's
 * app_port_base + 5. The rates run in turn, --rounds times; each figure is
 * the median over the rounds:
 *   sent/s       what the sender achieved (unpaced: as fast as it can);
 *   delivered/s  packets a listener's application received, per second of
 *                sending (a 300 ms drain after each step is included);
 *   loss %       1 - delivered / sent;
 *   us/pkt       CPU time of each prosed (utime + stime from /proc/PID/stat,
 *                10 ms ticks) per packet it handled: A per RTP packet it
 *                took from the application (counter app_rx), a listener per
 *                SRTP packet it received (media_rx);
 *   where lost   from the daemons' counters: at A (sent - A's media_tx:
 *                A's APP socket buffer overflowing, or the floor check),
 *                A->X (A's media_tx - X's media_rx: X's media socket
 *                buffer), at X (X's media_rx - delivered: SRTP drops, X's
 *                sends, or the bench's own receive buffer).
 * Everything shares the machine's cores: the sender, the receiver thread
 * and every daemon. Timings are reported, never asserted.
 *
 * Target (DESIGN.md §6): >= 200 k SRTP packets/s per core through the
 * daemon, that is <= 5 us of A's CPU per packet.
 */
#define _GNU_SOURCE /* sendmmsg, recvmmsg */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "ctl_client.h"
#include "prose/buf.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/rng.h"
#include "prosed_proc.h"
#include "testdomain.h"

#define BD_MAX_NODES 3
#define BD_RTP_LEN (12 + 160)
#define BD_BATCH 64
#define BD_DRAIN_MS 300
#define BD_TMO_MS 20000 /* daemon start, discovery, call setup: generous */
#define BD_REQ_MS 5000
#define BD_STOP_MS 5000 /* after SIGTERM, then SIGKILL */
#define BD_GROUP_NAME "fire"
#define BD_SLOT_PORTS 4
#define BD_GROUP_SLOT 1 /* slot 0 serves private calls, slot 1 the first group */

/* Port layout from the run's base: call control, discovery, the group's
 * media (RTP, RTCP, floor), then per node its APP and RTP ranges of two
 * slots. */
#define OFF_CALL 0
#define OFF_DISC 2
#define OFF_MEDIA 4
#define OFF_APP(i) (16 + 8 * (i))
#define OFF_RTP(i) (40 + 8 * (i))
#define PORT_SPAN 64
#define PORT_LOW 20000
#define PORT_HIGH 32768 /* below Linux's ephemeral range */

static const char *const BD_USERS[BD_MAX_NODES] = {"sip:alice@example.org", "sip:bob@example.org",
                                                   "sip:carol@example.org"};
static const char BD_NAMES[BD_MAX_NODES] = {'A', 'B', 'C'};
/* Offered rates, packets/s; 0 = unpaced. */
static const double BD_RATES[] = {1000, 10000, 50000, 100000, 0};
#define BD_N_RATES (sizeof BD_RATES / sizeof BD_RATES[0])

typedef struct bd_node {
  char addr[48]; /* dotted quad (room for the compiler's worst case) */
  char conf[320], sock[320], log[320];
  uint16_t app_base;
  prosed_proc proc;
  ctl_client ctl;
  int rx_fd; /* listeners: the application's socket for what the node delivers */
  _Atomic uint64_t rx; /* packets received on rx_fd */
} bd_node;

/* One node's counters at one moment. */
typedef struct bd_snap {
  uint64_t ticks, app_rx, media_tx, media_rx, delivered;
} bd_snap;

/* One step's figures, each a double at an index; the report takes the
 * median of each over the rounds. "+ i": one per node. */
enum {
  F_SENT,                               /* packets/s the sender achieved */
  F_LOST_A,                             /* % of sent lost at A */
  F_DELIV,                              /* + i: listener i's deliveries/s */
  F_LOSS = F_DELIV + BD_MAX_NODES,      /* + i: its loss, % of sent */
  F_US = F_LOSS + BD_MAX_NODES,         /* + i: node i's us of CPU per packet */
  F_LOST_AB = F_US + BD_MAX_NODES,      /* + i: % of sent lost from A to i */
  F_LOST_AT = F_LOST_AB + BD_MAX_NODES, /* + i: % of sent lost at i */
  F_COUNT = F_LOST_AT + BD_MAX_NODES
};

typedef struct bd_result {
  double f[F_COUNT];
} bd_result;

typedef struct bd {
  ts_domain dom;
  const char *prosed;
  size_t n;
  int seconds, rounds;
  uint16_t base;
  unsigned r1, r2; /* per-run octets of the addresses and groups */
  bd_node nodes[BD_MAX_NODES];
  pthread_t rx_thread;
  bool rx_started;
  atomic_bool rx_stop;
  long tck;
  uint16_t seq;
  uint32_t ts;
} bd;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void sleep_ns(uint64_t ns) {
  struct timespec t = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  while (nanosleep(&t, &t) != 0 && errno == EINTR && !g_stop) {
  }
}

/* ---- the daemons ------------------------------------------------------------ */

static int write_config(const bd *b, size_t i) {
  const bd_node *nd = &b->nodes[i];
  FILE *f = fopen(nd->conf, "w");
  if (!f) return -1;
  /* The floor's stop-talking timers (T206, T207: 30 s of talk) would end
   * the measurement; the bench talks for longer. */
  fprintf(f,
          "[identity]\nuri = %s\nstore = %s/dev%zu\n\n"
          "[network]\naddress = %s\ninterface = 127.0.0.1\ncall_port = %u\nttl = 1\n\n"
          "[discovery]\ngroup = 239.194.%u.%u\nport = %u\nannounce_interval_ms = 500\n\n"
          "[media]\napp_address = %s\napp_port_base = %u\nrtp_port_base = %u\nmax_calls = 2\n\n"
          "[floor]\nT206 = 86400000\nT207 = 86400000\n\n"
          "[control]\nsocket = %s\n\n[log]\nlevel = warn\n\n"
          "[group " BD_GROUP_NAME "]\nid = %s\naddress = 239.195.%u.%u\nmedia_port = %u\n",
          BD_USERS[i], b->dom.root, i, nd->addr, b->base + OFF_CALL, b->r1, b->r2,
          b->base + OFF_DISC, nd->addr, nd->app_base, (unsigned)(b->base + OFF_RTP(i)), nd->sock,
          TS_GROUP, b->r1, b->r2, b->base + OFF_MEDIA);
  return fclose(f) == 0 ? 0 : -1;
}

static int spawn(const bd *b, bd_node *nd, char *err, size_t errlen) {
  prosed_proc_settings ps;
  prosed_proc_settings_default(&ps);
  ps.prosed = b->prosed;
  ps.config = nd->conf;
  ps.log = nd->log;
  ps.prog = "prose-bench daemon";
  return prosed_proc_spawn(&nd->proc, &ps, err, errlen);
}

/* SIGTERM every daemon and wait for them (SIGKILL after BD_STOP_MS). */
static void stop_daemons(bd *b) {
  prosed_proc *procs[BD_MAX_NODES];
  for (size_t i = 0; i < b->n; i++) {
    ctl_client_close(&b->nodes[i].ctl);
    procs[i] = &b->nodes[i].proc;
  }
  prosed_proc_stop_all(procs, b->n, SIGTERM, BD_STOP_MS, NULL);
}

/* utime + stime of the daemon, in clock ticks: fields 14 and 15 of
 * /proc/PID/stat, counted after the command name's closing parenthesis
 * (the name may hold blanks). */
static uint64_t cpu_ticks(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t got = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[got] = '\0';
  const char *p = strrchr(buf, ')');
  unsigned long long ut = 0, st = 0;
  if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return 0;
  return ut + st;
}

/* ---- the control sockets ---------------------------------------------------- */

/* One request (args: consumed); the result object (a new reference) or NULL. */
static json_t *request(bd *b, size_t i, const char *cmd, json_t *args, bool quiet) {
  char err[512] = "";
  json_t *reply = NULL, *result = NULL;
  if (ctl_client_request(&b->nodes[i].ctl, cmd, args, BD_REQ_MS, &reply, NULL, err, sizeof err) ==
      0) {
    if (json_is_true(json_object_get(reply, "ok")))
      result = json_incref(json_object_get(reply, "result"));
    else
      snprintf(err, sizeof err, "%s",
               json_string_value(json_object_get(json_object_get(reply, "error"), "message")));
  }
  json_decref(reply);
  json_decref(args);
  if (!result && !quiet)
    fprintf(stderr, "prose-bench daemon: %c: %s: %s\n", BD_NAMES[i], cmd, err);
  return result;
}

static uint64_t counter(json_t *ctrs, const char *name) {
  return (uint64_t)json_integer_value(json_object_get(ctrs, name));
}

/* True when node i's `calls` shows the group call (and, with may_send,
 * that this node may send in it). */
static bool in_group_call(bd *b, size_t i, bool may_send) {
  json_t *r = request(b, i, "calls", NULL, true), *c;
  size_t k;
  bool ok = false;
  json_array_foreach(json_object_get(r, "calls"), k, c) {
    const char *kind = json_string_value(json_object_get(c, "kind"));
    if (kind && strcmp(kind, "group") == 0 &&
        (!may_send || json_is_true(json_object_get(c, "may_send_media"))))
      ok = true;
  }
  json_decref(r);
  return ok;
}

static bool knows_peers(bd *b, size_t i) {
  json_t *r = request(b, i, "peers", NULL, true);
  bool ok = json_array_size(json_object_get(r, "peers")) >= b->n - 1;
  json_decref(r);
  return ok;
}

typedef enum bd_cond { BD_CTL, BD_PEERS, BD_IN_CALL, BD_MAY_SEND } bd_cond;

static bool cond_holds(bd *b, size_t i, bd_cond cond) {
  char err[256];
  switch (cond) {
    case BD_CTL:
      return b->nodes[i].ctl.fd >= 0 ||
             ctl_client_connect(&b->nodes[i].ctl, b->nodes[i].sock, err, sizeof err) == 0;
    case BD_PEERS:
      return knows_peers(b, i);
    case BD_IN_CALL:
      return in_group_call(b, i, false);
    case BD_MAY_SEND:
      return in_group_call(b, i, true);
  }
  return false;
}

/* Poll until cond holds on every node of mask (bit i: node i). */
static int wait_for(bd *b, unsigned mask, bd_cond cond, const char *what) {
  uint64_t deadline = bench_now_ns() + (uint64_t)BD_TMO_MS * 1000000u;
  while (mask && !g_stop) {
    for (size_t i = 0; i < b->n; i++) {
      if (!(mask & (1u << i))) continue;
      if (!prosed_proc_reap(&b->nodes[i].proc)) {
        fprintf(stderr, "prose-bench daemon: %c's prosed stopped (log: %s)\n", BD_NAMES[i],
                b->nodes[i].log);
        return -1;
      }
      if (cond_holds(b, i, cond)) mask &= ~(1u << i);
    }
    if (mask && bench_now_ns() > deadline) {
      fprintf(stderr, "prose-bench daemon: %s: not within %d ms (logs in %s)\n", what, BD_TMO_MS,
              b->dom.root);
      return -1;
    }
    if (mask) sleep_ns(20000000u);
  }
  return g_stop ? -1 : 0;
}

/* ---- the application side ------------------------------------------------------ */

static int udp_socket(const char *addr, uint16_t port, bool bind_it) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
    close(fd);
    return -1;
  }
  /* The receiving application keeps up better than a daemon: a deep
   * buffer keeps the bench's own losses out of the figures (FORCE, as
   * root, may pass net.core.rmem_max). */
  int big = 16 << 20;
  if (bind_it && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  int rc = bind_it ? bind(fd, (struct sockaddr *)&sa, sizeof sa)
                   : connect(fd, (struct sockaddr *)&sa, sizeof sa);
  if (rc != 0) {
    fprintf(stderr, "prose-bench daemon: %s %s:%u: %s\n", bind_it ? "bind" : "connect", addr, port,
            strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

/* The receiver thread: every listener's deliveries, counted. */
static void *rx_main(void *arg) {
  bd *b = arg;
  struct pollfd pfd[BD_MAX_NODES];
  static uint8_t bufs[BD_BATCH][256];
  struct mmsghdr msgs[BD_BATCH];
  struct iovec iov[BD_BATCH];
  for (size_t k = 0; k < BD_BATCH; k++) {
    iov[k].iov_base = bufs[k];
    iov[k].iov_len = sizeof bufs[k];
    memset(&msgs[k], 0, sizeof msgs[k]);
    msgs[k].msg_hdr.msg_iov = &iov[k];
    msgs[k].msg_hdr.msg_iovlen = 1;
  }
  for (size_t i = 1; i < b->n; i++) {
    pfd[i - 1].fd = b->nodes[i].rx_fd;
    pfd[i - 1].events = POLLIN;
  }
  while (!atomic_load(&b->rx_stop)) {
    if (poll(pfd, (nfds_t)(b->n - 1), 50) <= 0) continue;
    for (size_t i = 1; i < b->n; i++) {
      if (!(pfd[i - 1].revents & POLLIN)) continue;
      int got;
      while ((got = recvmmsg(pfd[i - 1].fd, msgs, BD_BATCH, MSG_DONTWAIT, NULL)) > 0) {
        uint64_t ok = 0;
        for (int k = 0; k < got; k++) ok += msgs[k].msg_len == BD_RTP_LEN;
        atomic_fetch_add(&b->nodes[i].rx, ok);
      }
    }
  }
  return NULL;
}

/* Send RTP to A's group APP port for `secs` at `rate` packets/s (0: as
 * fast as the socket takes them). Returns the packets sent. */
static uint64_t blast(bd *b, int fd, double rate, int secs) {
  static uint8_t pkts[BD_BATCH][BD_RTP_LEN];
  struct mmsghdr msgs[BD_BATCH];
  struct iovec iov[BD_BATCH];
  for (size_t k = 0; k < BD_BATCH; k++) {
    memset(pkts[k], 0xFF, BD_RTP_LEN); /* µ-law silence */
    pkts[k][0] = 0x80;                 /* RTP version 2 */
    pkts[k][1] = 0;                    /* PT 0, PCMU */
    prose_put_u32(pkts[k] + 8, 0x5EED0001u);
    iov[k].iov_base = pkts[k];
    iov[k].iov_len = BD_RTP_LEN;
    memset(&msgs[k], 0, sizeof msgs[k]);
    msgs[k].msg_hdr.msg_iov = &iov[k];
    msgs[k].msg_hdr.msg_iovlen = 1;
  }
  uint64_t t0 = bench_now_ns(), end = t0 + (uint64_t)secs * 1000000000u, sent = 0;
  for (uint64_t now = t0; now < end && !g_stop; now = bench_now_ns()) {
    uint64_t due = rate > 0 ? (uint64_t)((double)(now - t0) * rate / 1e9) + 1 : sent + BD_BATCH;
    if (due <= sent) { /* paced: sleep until the next packet is due */
      sleep_ns((uint64_t)((double)sent * 1e9 / rate) - (now - t0));
      continue;
    }
    unsigned k = due - sent < BD_BATCH ? (unsigned)(due - sent) : BD_BATCH;
    for (unsigned j = 0; j < k; j++) {
      prose_put_u16(pkts[j] + 2, b->seq++);
      prose_put_u32(pkts[j] + 4, b->ts);
      b->ts += 160;
    }
    int r = sendmmsg(fd, msgs, k, 0);
    if (r > 0) sent += (uint64_t)r;
  }
  return sent;
}

static int snapshot(bd *b, bd_snap *s) {
  for (size_t i = 0; i < b->n; i++) {
    json_t *c = request(b, i, "counters", NULL, false);
    if (!c) return -1;
    s[i].ticks = cpu_ticks(b->nodes[i].proc.pid);
    s[i].app_rx = counter(c, "app_rx");
    s[i].media_tx = counter(c, "media_tx");
    s[i].media_rx = counter(c, "media_rx");
    s[i].delivered = atomic_load(&b->nodes[i].rx);
    json_decref(c);
  }
  return 0;
}

static double pct(uint64_t part, uint64_t whole) {
  return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static uint64_t minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

/* One step: send at `rate`, drain, and turn the counters into figures. */
static int step(bd *b, int fd, double rate, bd_result *res) {
  bd_snap s0[BD_MAX_NODES], s1[BD_MAX_NODES];
  if (snapshot(b, s0) != 0) return -1;
  uint64_t sent = blast(b, fd, rate, b->seconds);
  sleep_ns((uint64_t)BD_DRAIN_MS * 1000000u);
  if (snapshot(b, s1) != 0) return -1;
  double us_per_tick = 1e6 / (double)b->tck;
  memset(res, 0, sizeof *res);
  res->f[F_SENT] = (double)sent / b->seconds;
  uint64_t a_tx = s1[0].media_tx - s0[0].media_tx;
  res->f[F_LOST_A] = pct(minus(sent, a_tx), sent);
  for (size_t i = 0; i < b->n; i++) {
    uint64_t handled = i == 0 ? s1[0].app_rx - s0[0].app_rx : s1[i].media_rx - s0[i].media_rx;
    res->f[F_US + i] =
        handled ? (double)(s1[i].ticks - s0[i].ticks) * us_per_tick / (double)handled : 0.0;
    if (i == 0) continue;
    uint64_t deliv = s1[i].delivered - s0[i].delivered, rx = s1[i].media_rx - s0[i].media_rx;
    res->f[F_DELIV + i] = (double)deliv / b->seconds;
    res->f[F_LOSS + i] = pct(minus(sent, deliv), sent);
    res->f[F_LOST_AB + i] = pct(minus(a_tx, rx), sent);
    res->f[F_LOST_AT + i] = pct(minus(rx, deliv), sent);
  }
  return 0;
}

/* ---- the report ------------------------------------------------------------------ */

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, c = *(const double *)y;
  return (a > c) - (a < c);
}

/* The median over the rounds of figure `idx` of one rate (col: its first
 * round; rounds follow BD_N_RATES apart). */
static double median(const bd_result *col, int rounds, size_t idx) {
  double v[64];
  int n = rounds < 64 ? rounds : 64;
  for (int k = 0; k < n; k++) v[k] = col[(size_t)k * BD_N_RATES].f[idx];
  qsort(v, (size_t)n, sizeof v[0], cmp_double);
  return v[n / 2];
}

#define MED(idx) median(col, b->rounds, (idx))

static void report(const bd *b, const bd_result *res) {
  char h[32];
  printf("  %9s %9s", "offered/s", "sent/s");
  for (size_t i = 1; i < b->n; i++) {
    snprintf(h, sizeof h, "%c deliv/s", BD_NAMES[i]);
    printf(" | %11s %6s", h, "loss %");
  }
  printf(" |");
  for (size_t i = 0; i < b->n; i++) {
    snprintf(h, sizeof h, "%c us/pkt", BD_NAMES[i]);
    printf(" %8s", h);
  }
  printf(" | %13s", "lost %: at A");
  for (size_t i = 1; i < b->n; i++) {
    snprintf(h, sizeof h, "A->%c", BD_NAMES[i]);
    printf(" %5s", h);
    snprintf(h, sizeof h, "at %c", BD_NAMES[i]);
    printf(" %5s", h);
  }
  printf("\n");
  for (size_t r = 0; r < BD_N_RATES; r++) {
    const bd_result *col = &res[r];
    char offered[16];
    if (BD_RATES[r] > 0)
      snprintf(offered, sizeof offered, "%.0f", BD_RATES[r]);
    else
      snprintf(offered, sizeof offered, "unpaced");
    printf("  %9s %9.0f", offered, MED(F_SENT));
    for (size_t i = 1; i < b->n; i++) printf(" | %11.0f %6.2f", MED(F_DELIV + i), MED(F_LOSS + i));
    printf(" |");
    for (size_t i = 0; i < b->n; i++) printf(" %8.2f", MED(F_US + i));
    printf(" | %13.2f", MED(F_LOST_A));
    for (size_t i = 1; i < b->n; i++)
      printf(" %5.2f %5.2f", MED(F_LOST_AB + i), MED(F_LOST_AT + i));
    printf("\n");
  }
  double a_us = median(&res[BD_N_RATES - 1], b->rounds, F_US);
  printf("  A unpaced: %.0f k packets/s per core of A's CPU (target >= 200 k)\n",
         a_us > 0 ? 1e3 / a_us : 0.0);
}

/* ---- set-up --------------------------------------------------------------------- */

static int pick_run(bd *b) {
  uint8_t r[4];
  if (prose_rng_fill(prose_rng_system(), r, sizeof r) != 0) return -1;
  unsigned blocks = (PORT_HIGH - PORT_LOW) / PORT_SPAN;
  b->base = (uint16_t)(PORT_LOW + (((unsigned)r[0] << 8 | r[1]) % blocks) * PORT_SPAN);
  b->r1 = r[2] % 250u + 1u;
  b->r2 = r[3] % 250u + 1u;
  return 0;
}

static int provision(bd *b) {
  ts_domain_params p;
  ts_domain_params_default(&p);
  p.users = BD_USERS;
  p.n = b->n;
  p.t = (uint64_t)time(NULL) + PROSE_NTP_UNIX_OFFSET; /* the daemons use the wall clock */
  p.seed = p.t;
  p.prefix = "prose-bench-daemon";
  int rc = ts_domain_setup(&b->dom, &p);
  if (rc) fprintf(stderr, "prose-bench daemon: domain: %s\n", b->dom.err);
  /* The daemons open the device stores themselves. */
  ts_domain_close(&b->dom);
  return rc;
}

static int start(bd *b) {
  char root[sizeof b->dom.root];
  memcpy(root, b->dom.root, sizeof root);
  for (size_t i = 0; i < b->n; i++) {
    bd_node *nd = &b->nodes[i];
    snprintf(nd->addr, sizeof nd->addr, "127.77.%u.%zu", b->r1, i + 1);
    snprintf(nd->conf, sizeof nd->conf, "%s/%c.conf", root, BD_NAMES[i]);
    snprintf(nd->sock, sizeof nd->sock, "%s/%c.sock", root, BD_NAMES[i]);
    snprintf(nd->log, sizeof nd->log, "%s/%c.log", root, BD_NAMES[i]);
    nd->app_base = (uint16_t)(b->base + OFF_APP(i));
    char err[512];
    if (write_config(b, i) != 0) {
      fprintf(stderr, "prose-bench daemon: %s: %s\n", nd->conf, strerror(errno));
      return -1;
    }
    if (spawn(b, nd, err, sizeof err) != 0) {
      fprintf(stderr, "prose-bench daemon: starting %c: %s\n", BD_NAMES[i], err);
      return -1;
    }
    /* The application's socket for the group's plain RTP: port + 1. */
    if (i > 0) {
      uint16_t port = (uint16_t)(nd->app_base + BD_SLOT_PORTS * BD_GROUP_SLOT + 1);
      if ((nd->rx_fd = udp_socket(nd->addr, port, true)) < 0) return -1;
    }
  }
  unsigned all = (1u << b->n) - 1u;
  if (wait_for(b, all, BD_CTL, "control sockets") != 0) return -1;
  if (wait_for(b, all, BD_PEERS, "discovery") != 0) return -1;
  /* The group by its MCPTT ID: docs/control.md and docs/config.md say the
   * [group NAME] section name works too, but this daemon answers ENOENT to
   * it. The originator holds the floor once the call starts; the press
   * makes sure of it. */
  json_t *r = request(b, 0, "call_group", json_pack("{s:s}", "group", TS_GROUP), false);
  json_decref(r);
  if (!r || wait_for(b, all, BD_IN_CALL, "group call") != 0) return -1;
  r = request(b, 0, "ptt_press", json_pack("{s:s}", "group", TS_GROUP), false);
  json_decref(r);
  return r && wait_for(b, 1u, BD_MAY_SEND, "floor") == 0 ? 0 : -1;
}

static int parse_args(bd *b, int argc, char **argv) {
  for (int k = 1; k < argc; k++) {
    const char *v = k + 1 < argc ? argv[k + 1] : NULL;
    if (strcmp(argv[k], "--prosed") == 0 && v)
      b->prosed = v;
    else if (strcmp(argv[k], "--nodes") == 0 && v)
      b->n = (size_t)atoi(v);
    else if (strcmp(argv[k], "--seconds") == 0 && v)
      b->seconds = atoi(v);
    else if (strcmp(argv[k], "--rounds") == 0 && v)
      b->rounds = atoi(v);
    else
      return -1;
    k++;
  }
  return (b->n >= 2 && b->n <= BD_MAX_NODES && b->seconds >= 1 && b->seconds <= 60 &&
          b->rounds >= 1 && b->rounds <= 64 && access(b->prosed, X_OK) == 0)
             ? 0
             : -1;
}

static int run(bd *b) {
  int fd = -1, rc = -1;
  bd_result *res = calloc((size_t)b->rounds * BD_N_RATES, sizeof *res);
  uint64_t t0 = bench_now_ns();
  if (!res || pick_run(b) != 0 || provision(b) != 0) goto out;
  double prov_s = (double)(bench_now_ns() - t0) / 1e9;
  if (start(b) != 0) goto out;
  bd_node *a = &b->nodes[0];
  fd = udp_socket(a->addr, (uint16_t)(a->app_base + BD_SLOT_PORTS * BD_GROUP_SLOT), false);
  if (fd < 0 || pthread_create(&b->rx_thread, NULL, rx_main, b) != 0) goto out;
  b->rx_started = true;
  printf("== daemon: group call A -> %s through %zu prosed on 127.77.%u.1-%zu (loopback), "
         "%d-octet RTP, %d s per rate, median of %d rounds; set-up %.1f s (provisioning %.1f s)\n",
         b->n == 2 ? "B" : "B, C", b->n, b->r1, b->n, BD_RTP_LEN, b->seconds, b->rounds,
         (double)(bench_now_ns() - t0) / 1e9, prov_s);
  fflush(stdout);
  for (int round = 0; round < b->rounds; round++)
    for (size_t r = 0; r < BD_N_RATES; r++)
      if (g_stop || step(b, fd, BD_RATES[r], &res[(size_t)round * BD_N_RATES + r]) != 0) goto out;
  report(b, res);
  printf("  us/pkt: utime+stime (%ld ms ticks) per packet the daemon handled; lost %%: of sent\n",
         1000 / b->tck);
  rc = 0;
out:
  if (b->rx_started) {
    atomic_store(&b->rx_stop, true);
    pthread_join(b->rx_thread, NULL);
  }
  if (fd >= 0) close(fd);
  free(res);
  return rc;
}

/* The prosed of this build; failing that (an installed prose-bench), the
 * one beside prose-bench. */
static const char *default_prosed(char *buf, size_t cap) {
  if (access(PROSE_BENCH_PROSED, X_OK) == 0) return PROSE_BENCH_PROSED;
  ssize_t n = readlink("/proc/self/exe", buf, cap - sizeof "prosed");
  char *slash = n > 0 ? memrchr(buf, '/', (size_t)n) : NULL;
  if (!slash) return PROSE_BENCH_PROSED;
  memcpy(slash + 1, "prosed", sizeof "prosed");
  return buf;
}

int bench_daemon(int argc, char **argv) {
  char beside[512];
  bd *b = calloc(1, sizeof *b);
  if (!b) return 1;
  b->prosed = default_prosed(beside, sizeof beside);
  b->n = 2;
  b->seconds = 2;
  b->rounds = 3;
  b->tck = sysconf(_SC_CLK_TCK);
  for (size_t i = 0; i < BD_MAX_NODES; i++) {
    b->nodes[i].rx_fd = -1;
    ctl_client_init(&b->nodes[i].ctl);
  }
  if (parse_args(b, argc, argv) != 0) {
    fprintf(stderr, "usage: prose-bench daemon [--prosed PATH] [--nodes 2|3] [--seconds 1..60] "
                    "[--rounds 1..64]\n  (prosed: %s)\n",
            b->prosed);
    free(b);
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int rc = run(b);
  stop_daemons(b);
  for (size_t i = 0; i < BD_MAX_NODES; i++)
    if (b->nodes[i].rx_fd >= 0) close(b->nodes[i].rx_fd);
  if (rc == 0 || !b->dom.root[0])
    ts_domain_teardown(&b->dom);
  else
    fprintf(stderr, "prose-bench daemon: failed; configurations and logs kept in %s\n",
            b->dom.root);
  free(b);
  return rc == 0 ? 0 : 1;
}
