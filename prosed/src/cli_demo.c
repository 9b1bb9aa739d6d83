/*
 * prose demo: the whole product on one machine, end to end, in about ten
 * seconds, with every claim checked.
 *
 *  1. A throwaway security domain, made in-process with the library exactly
 *     as `prose kms/gms/bundle/store` would: an offline KMS, a GMS, key sets
 *     for alice, bob, carol and dave, the group sip:fire-crew-1@demo.example
 *     with alice, bob and carol as members and its GMK distributed to them
 *     as MIKEY-SAKKE I_MESSAGEs, one provisioning bundle per device imported
 *     into its own sealed store. Dave is configured for the group but never
 *     receives the GMK: he stands for an outsider in radio range.
 *  2. Four real `prosed` processes on 127.0.0.1-4 (multicast on the loopback
 *     interface, so nothing leaves the machine), found by each other through
 *     signed discovery announcements.
 *  3. The demo is the application of all four: it sends plain RTP carrying a
 *     generated PCMU tone to a node's application port and receives what the
 *     node delivers, so it can compare every octet a listener got with what
 *     the talker sent.
 *  4. A secure group call in which alice, bob and carol take the floor in
 *     turn, then a private call between alice and bob in both directions.
 *
 * Every wait has a generous timeout (a loaded two-core CI machine, sanitizer
 * builds) but every check on content is exact. The exit status is 0 only if
 * every check passed; a failure names the check and shows the end of the
 * relevant daemon's log.
 *
 * Ports: every run draws a block of ports below Linux's ephemeral range
 * (32768-60999, where the kernel could hand one of ours to someone else
 * mid-run) and probes that nothing uses it, so parallel runs and a stale
 * daemon of an earlier run never share a socket with this one. The
 * multicast groups are drawn per run too.
 *
 * --netns (root only): the same with each daemon in its own network
 * namespace, 198.18.0.1-4 on a bridge that lives in a namespace of its own
 * (PLATFORM.md), so the demo touches nothing of the host's network; the
 * demo enters a node's namespace only to open that node's application
 * sockets. The namespaces are removed at the end whatever happened.
 */
#define _GNU_SOURCE /* realpath, and setns for --netns */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_common.h"
#include "cli_opts.h"
#include "ctl_client.h"
#include "prose/authority.h"
#include "prose/bundle.h"
#include "prose/err.h"
#include "prose/rng.h"
#include "prose/store.h"
#include "prose/util.h"
#include "prosed_netns.h"
#include "prosed_proc.h"

#define PROG "prose demo"

#define DEMO_KMS "kms.demo.example"
#define DEMO_GMS "sip:gms@demo.example"
#define DEMO_GROUP "sip:fire-crew-1@demo.example"
#define DEMO_GROUP_NAME "fire-crew-1"

#define N_NODES 4
#define N_MEMBERS 3 /* alice, bob and carol hold the GMK; dave (the last) does not */
#define DAVE 3

/* Media: G.711 µ-law (PCMU, RTP payload type 0), 8 kHz, 20 ms frames. */
#define RATE 8000
#define FRAME_SAMPLES 160
#define RTP_HDR 12
#define PKT_OCTETS (RTP_HDR + FRAME_SAMPLES)
#define FRAMES 50 /* one talk burst: 1 s */
#define FRAME_US 20000
#define RX_CAP 128    /* packets kept per application socket per burst */
#define RX_OCTETS 256 /* octets kept per packet: more than one PCMU packet */

/* Port block layout (offsets from the run's base). Slot 0 of each node's
 * [media] ranges is the private call, slot 1 the group (daemon.c). */
#define PORT_LOW 20000
#define PORT_HIGH 32768
#define PORT_BLOCK 128
#define PORT_SPAN 72 /* up to the last node's rtp range: OFF_RTP(3) + 2 slots of 4 */
#define OFF_CALL 0
#define OFF_DISC 2
#define OFF_GROUP_MEDIA 4 /* RTP; RTCP +1, floor control +2 */
#define OFF_APP(i) (8 + 16 * (i))
#define OFF_RTP(i) (16 + 16 * (i))
#define SLOT_PORTS 4

/* Timeouts (ms): generous, for a loaded machine and sanitizer builds. */
#define TMO_START 20000
#define TMO_DISCOVERY 20000
#define TMO_CALL 10000
#define TMO_FLOOR 8000
#define TMO_REQUEST 10000
#define TMO_DELIVERY 3000
#define TMO_STOP 15000

enum { SLOT_PRIVATE = 0, SLOT_GROUP = 1, N_SLOTS = 2 };

typedef struct rx_pkt {
  size_t len; /* as received (only RX_OCTETS of it kept) */
  uint8_t b[RX_OCTETS];
} rx_pkt;

/* What the demo, as one node's application, received on one app port. */
typedef struct app_rx {
  int fd;
  uint16_t port; /* P + 1 */
  size_t n;      /* packets since the last reset */
  size_t total;  /* packets over the whole run */
  rx_pkt pkts[RX_CAP];
} app_rx;

typedef struct demo_node {
  const char *name; /* "alice" */
  char uri[64];
  char addr[16]; /* 127.0.0.N, or 198.18.0.N with --netns */
  char ns[32];   /* --netns: the node's network namespace */
  int nsfd;      /* --netns: /run/netns/<ns>, -1 otherwise */
  int send_fd;   /* the demo's socket for sending as this node's application */
  char dir[256], conf[300], sock[300], log[300], store[300];
  uint16_t app_base, rtp_base;
  prosed_proc proc;
  bool spawned;  /* a daemon was started: its log is worth a look */
  bool lost;     /* it stopped on its own, and that was reported */
  bool show_log; /* a failed check concerns this node: show its log */
  ctl_client ctl;
  app_rx rx[N_SLOTS];
  /* The node's application stream (its own SSRC, sequence, timestamp) and
   * the tone generator's phase, both running on across bursts. */
  double tone_hz;
  uint64_t sample;
  uint16_t seq;
  uint32_t ts, ssrc;
} demo_node;

/* One talk burst as sent, to compare each listener against. */
typedef struct burst {
  size_t n;
  uint8_t hdr1[FRAMES]; /* marker and payload type octet */
  uint8_t payload[FRAMES][FRAME_SAMPLES];
} burst;

typedef struct demo {
  char root[256];
  bool keep;
  const char *prosed;
  int64_t t0_us;
  uint16_t base;
  int claims[PORT_SPAN]; /* the run's port block, held until the daemons are up */
  char group_addr[16], disc_addr[16];
  demo_node nodes[N_NODES];
  bool netns;
  char ns_tag[16]; /* --netns: prefix of this run's namespace names */
  bool ns_made;    /* --netns: namespaces exist and must be removed */
  int root_nsfd;   /* --netns: the demo's own network namespace */
  unsigned passed, failed;
  char first_failure[256];
  burst b;
} demo;

static volatile sig_atomic_t g_stop;

static void on_stop_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

/* ---------------------------------------------------------------------- */
/* Time, output, checks                                                     */
/* ---------------------------------------------------------------------- */

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !g_stop) {
  }
}

static double ms_since(int64_t t_us) { return (double)(mono_us() - t_us) / 1000.0; }

/* One timeline line: when the event began (ms since the demo started),
 * then what happened. */
static void vtimeline(const demo *d, int64_t at_us, const char *fmt, va_list ap) {
  printf("%7.0f ms  ", (double)(at_us - d->t0_us) / 1000.0);
  vprintf(fmt, ap);
  putchar('\n');
  fflush(stdout);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void timeline(const demo *d, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vtimeline(d, mono_us(), fmt, ap);
  va_end(ap);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void timeline_at(const demo *d, int64_t at_us, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vtimeline(d, at_us, fmt, ap);
  va_end(ap);
}

/* Record one check. node >= 0 names the daemon whose log explains a failure. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static bool check(demo *d, bool ok, int node, const char *fmt, ...) {
  if (ok) {
    d->passed++;
    return true;
  }
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  d->failed++;
  if (!d->first_failure[0]) snprintf(d->first_failure, sizeof d->first_failure, "%s", msg);
  if (node >= 0) d->nodes[node].show_log = true;
  printf("%7.0f ms  FAIL: %s\n", ms_since(d->t0_us), msg);
  fflush(stdout);
  return false;
}

/* ---------------------------------------------------------------------- */
/* Files                                                                    */
/* ---------------------------------------------------------------------- */

/* Remove a directory tree (the demo's own work directory: no symlinks are
 * followed, since unlinkat removes a link rather than its target). */
static int rm_tree_at(int parent, const char *name) {
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return unlinkat(parent, name, 0);
  DIR *dir = fdopendir(fd);
  if (!dir) {
    close(fd);
    return -1;
  }
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (rm_tree_at(dirfd(dir), e->d_name) != 0) rc = -1;
  }
  closedir(dir);
  if (unlinkat(parent, name, AT_REMOVEDIR) != 0) rc = -1;
  return rc;
}

static int write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
    return -1;
  }
  bool ok = fputs(text, f) >= 0;
  if (fclose(f) != 0) ok = false;
  if (!ok) fprintf(stderr, PROG ": %s: write failed\n", path);
  return ok ? 0 : -1;
}

/* Print the last `lines` lines of a daemon's log. */
static void print_log_tail(const demo_node *n, int lines) {
  char heading[400];
  snprintf(heading, sizeof heading, "--- last lines of %s's log (%s) ---", n->name, n->log);
  prosed_proc_print_log_tail(stdout, n->log, lines, heading, "");
}

/* A sanitizer report in a daemon's log (ASan, LSan, UBSan, TSan): reports
 * go to stderr, which is the log, unless ASAN_OPTIONS/UBSAN_OPTIONS name a
 * log_path; then the daemon's exit status still shows the error. */
static bool log_has_sanitizer_report(const demo_node *n) {
  static const char *const marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                      "runtime error:", "WARNING: ThreadSanitizer",
                                      "ERROR: UndefinedBehaviorSanitizer"};
  FILE *f = fopen(n->log, "r");
  if (!f) return false;
  char line[4096];
  bool found = false;
  while (!found && fgets(line, sizeof line, f))
    for (size_t i = 0; i < PROSE_ARRAY_LEN(marks); i++)
      if (strstr(line, marks[i])) found = true;
  fclose(f);
  return found;
}

/* ---------------------------------------------------------------------- */
/* The security domain                                                      */
/* ---------------------------------------------------------------------- */

static int lib_fail(const char *what, int rc, const prose_diag *dg) {
  fprintf(stderr, PROG ": %s: %s (%s)\n", what, dg && dg->msg[0] ? dg->msg : prose_strerror(rc),
          prose_err_name(rc));
  return -1;
}

static int store_new(const char *path, prose_store_role role, const char *owner,
                     prose_store **out) {
  prose_store_settings s;
  prose_diag dg;
  prose_diag_clear(&dg);
  prose_store_settings_default(&s);
  s.role = role;
  s.owner_uri = owner;
  int rc = prose_store_create(out, path, &s, &dg);
  return rc ? lib_fail(path, rc, &dg) : 0;
}

/* Key sets for the current and the next key period, as a KMS XML document
 * (secret: release with prose_free_secret). */
static int issue_keys(prose_store *kms, const char *user, uint64_t t, char **xml, size_t *len) {
  prose_kms_issue_params p;
  prose_diag dg;
  prose_diag_clear(&dg);
  prose_kms_issue_params_default(&p);
  p.kms_uri = DEMO_KMS;
  p.user_uri = user;
  p.t = t;
  p.count = 2;
  int rc = prose_kms_issue(kms, &p, xml, len, &dg);
  return rc ? lib_fail(user, rc, &dg) : 0;
}

typedef struct gmk_msg {
  uint8_t *msg;
  size_t len;
} gmk_msg;

static int keep_gmk_msg(void *ud, const char *group_id, uint32_t gmk_id, const uint8_t *msg,
                        size_t len) {
  (void)group_id;
  (void)gmk_id;
  gmk_msg *g = ud;
  if (g->msg) return PROSE_EEXIST; /* one GMK: the group was made with one */
  g->msg = malloc(len);
  if (!g->msg) return PROSE_ENOMEM;
  memcpy(g->msg, msg, len);
  g->len = len;
  return 0;
}

/* One device: its offline bundle (the KMS certificate, its key sets, its
 * GMK I_MESSAGE when it is a member, trust in the GMS), imported into a new
 * store, as `prose bundle` and `prose store import` would. */
static int provision_device(prose_store *kms, prose_store *gms, const char *cert, size_t cert_len,
                            const demo_node *n, bool member, uint64_t t) {
  char *keys = NULL;
  size_t keys_len = 0;
  gmk_msg gm = {NULL, 0};
  prose_bundle_writer *w = NULL;
  uint8_t *bundle = NULL;
  size_t bundle_len = 0;
  prose_store *dev = NULL;
  prose_diag dg;
  prose_diag_clear(&dg);
  int rc = issue_keys(kms, n->uri, t, &keys, &keys_len) ? -1 : 0;
  if (rc == 0 && member) {
    prose_gms_distribute_params p;
    prose_gms_distribute_params_default(&p);
    p.member_uri = n->uri;
    p.group_id = DEMO_GROUP;
    p.t = t;
    int e = prose_gms_distribute(gms, &p, keep_gmk_msg, &gm, &dg);
    if (e) rc = lib_fail("GMK distribution", e, &dg);
  }
  if (rc == 0) {
    int e = prose_bundle_writer_new(&w);
    if (!e) e = prose_bundle_add(w, PROSE_BUNDLE_KMS_XML, cert, cert_len);
    if (!e) e = prose_bundle_add(w, PROSE_BUNDLE_KMS_XML, keys, keys_len);
    if (!e && gm.msg) e = prose_bundle_add(w, PROSE_BUNDLE_IMESSAGE, gm.msg, gm.len);
    if (!e) e = prose_bundle_add(w, PROSE_BUNDLE_TRUST_GMS, DEMO_GMS, strlen(DEMO_GMS));
    if (!e) e = prose_bundle_finish(w, &bundle, &bundle_len);
    if (e) rc = lib_fail("bundle", e, NULL);
  }
  if (rc == 0) rc = store_new(n->store, PROSE_STORE_DEVICE, n->uri, &dev);
  if (rc == 0) {
    prose_import_summary sum;
    int e = prose_store_import(dev, bundle, bundle_len, t, &sum, &dg);
    if (e)
      rc = lib_fail(n->store, e, &dg);
    else if (sum.keysets != 2 || sum.gmks != (member ? 1u : 0u))
      rc = lib_fail(n->store, PROSE_EINTERNAL, NULL);
  }
  prose_store_close(dev);
  if (bundle) prose_free_secret(bundle, bundle_len);
  prose_bundle_writer_free(w);
  free(gm.msg);
  if (keys) prose_free_secret(keys, keys_len);
  return rc;
}

static int provision(demo *d) {
  char kms_dir[300], gms_dir[300];
  prose_store *kms = NULL, *gms = NULL;
  char *cert = NULL, *gms_keys = NULL;
  size_t cert_len = 0, gms_keys_len = 0;
  prose_diag dg;
  prose_diag_clear(&dg);
  uint64_t t = cli_now_ntp();
  snprintf(kms_dir, sizeof kms_dir, "%s/kms", d->root);
  snprintf(gms_dir, sizeof gms_dir, "%s/gms", d->root);

  /* The domain's KMS, its certificate, and the GMS with its own key sets
   * (it signs the GMK I_MESSAGEs with them). */
  int rc = store_new(kms_dir, PROSE_STORE_KMS, NULL, &kms);
  if (rc == 0) {
    prose_kms_settings ks;
    prose_kms_settings_default(&ks);
    ks.kms_uri = DEMO_KMS;
    int e = prose_kms_init(kms, &ks, &dg);
    if (!e) e = prose_kms_cert_xml(kms, DEMO_KMS, t, &cert, &cert_len, &dg);
    if (e) rc = lib_fail("KMS", e, &dg);
  }
  if (rc == 0) rc = store_new(gms_dir, PROSE_STORE_GMS, DEMO_GMS, &gms);
  if (rc == 0) rc = issue_keys(kms, DEMO_GMS, t, &gms_keys, &gms_keys_len);
  if (rc == 0) {
    int e = prose_store_import(gms, (const uint8_t *)cert, cert_len, t, NULL, &dg);
    if (!e) e = prose_store_import(gms, (const uint8_t *)gms_keys, gms_keys_len, t, NULL, &dg);
    if (e) rc = lib_fail("GMS keys", e, &dg);
  }
  /* The group and its GMK, active from a minute ago so that a small clock
   * step cannot leave the devices without a key to send with. */
  if (rc == 0) {
    const char *members[N_MEMBERS];
    for (size_t i = 0; i < N_MEMBERS; i++) members[i] = d->nodes[i].uri;
    prose_gms_group_params g;
    prose_gms_group_params_default(&g);
    g.group_id = DEMO_GROUP;
    g.members = members;
    g.n_members = N_MEMBERS;
    g.activation = t - 60;
    uint32_t gmk_id = 0;
    int e = prose_gms_group_create(gms, &g, &gmk_id, &dg);
    if (e) rc = lib_fail("group", e, &dg);
  }
  for (size_t i = 0; rc == 0 && i < N_NODES; i++)
    rc = provision_device(kms, gms, cert, cert_len, &d->nodes[i], i < N_MEMBERS, t);
  if (gms_keys) prose_free_secret(gms_keys, gms_keys_len);
  free(cert);
  prose_store_close(gms);
  prose_store_close(kms);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Ports and configuration                                                  */
/* ---------------------------------------------------------------------- */

/*
 * Claim a port: a wildcard bind without SO_REUSEADDR fails against any
 * socket bound to the port (unicast or multicast), so it succeeds only on a
 * port nobody uses. SO_REUSEADDR is set after the bind: another run's probe
 * then still fails on it, while our daemons (whose sockets all set
 * SO_REUSEADDR) can bind their own addresses beside it. Returns the socket,
 * held until the daemons are up, or -1.
 */
static int claim_port(uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_ANY);
  int one = 1;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void release_ports(demo *d) {
  for (size_t p = 0; p < PORT_SPAN; p++) {
    if (d->claims[p] >= 0) close(d->claims[p]);
    d->claims[p] = -1;
  }
}

static int pick_ports(demo *d) {
  const prose_rng *rng = prose_rng_system();
  const unsigned blocks = (PORT_HIGH - PORT_LOW) / PORT_BLOCK;
  for (int attempt = 0; attempt < 32; attempt++) {
    uint8_t r[4];
    if (prose_rng_fill(rng, r, sizeof r) != 0) return -1;
    unsigned block = ((unsigned)r[0] << 8 | r[1]) % blocks;
    uint16_t base = (uint16_t)(PORT_LOW + block * PORT_BLOCK);
    bool free_block = true;
    for (unsigned p = 0; p < PORT_SPAN && free_block; p++)
      free_block = (d->claims[p] = claim_port((uint16_t)(base + p))) >= 0;
    if (!free_block) {
      release_ports(d);
      continue;
    }
    d->base = base;
    snprintf(d->group_addr, sizeof d->group_addr, "239.192.%u.%u", r[2], (unsigned)(r[3] | 1u));
    snprintf(d->disc_addr, sizeof d->disc_addr, "239.193.%u.%u", r[2], (unsigned)(r[3] | 1u));
    return 0;
  }
  fprintf(stderr, PROG ": no free block of %u UDP ports found in %u-%u\n", PORT_SPAN, PORT_LOW,
          PORT_HIGH - 1);
  return -1;
}

/* A small configuration per node: only what the demo needs to differ from
 * the defaults (docs/config.md), so it reads as an example too. */
static int write_config(const demo *d, const demo_node *n) {
  char text[2048];
  snprintf(text, sizeof text,
           "# Written by prose demo for %s.\n"
           "[identity]\n"
           "uri = %s\n"
           "store = store\n"
           "\n"
           "[network]\n"
           "# Every node has its own address; multicast stays on %s.\n"
           "address = %s\n"
           "interface = %s\n"
           "call_port = %u\n"
           "# One hop: the demo's traffic has nowhere further to go.\n"
           "ttl = 1\n"
           "\n"
           "[discovery]\n"
           "group = %s\n"
           "port = %u\n"
           "announce_interval_ms = 500\n"
           "announce_ttl_ms = 10000\n"
           "\n"
           "[media]\n"
           "app_address = 127.0.0.1\n"
           "app_port_base = %u\n"
           "rtp_port_base = %u\n"
           "max_calls = 2\n"
           "\n"
           "[call]\n"
           "# A member that missed the call's first announcement joins on the next.\n"
           "refresh_interval_ms = 2000\n"
           "\n"
           "[control]\n"
           "socket = ctl.sock\n"
           "\n"
           "[log]\n"
           "level = debug\n"
           "\n"
           "[group %s]\n"
           "id = %s\n"
           "address = %s\n"
           "media_port = %u\n",
           n->name, n->uri, d->netns ? "the demo's bridge" : "lo", n->addr,
           d->netns ? n->addr : "127.0.0.1", (unsigned)(d->base + OFF_CALL), d->disc_addr,
           (unsigned)(d->base + OFF_DISC), n->app_base, n->rtp_base, DEMO_GROUP_NAME, DEMO_GROUP,
           d->group_addr, (unsigned)(d->base + OFF_GROUP_MEDIA));
  return write_text(n->conf, text);
}

/* ---------------------------------------------------------------------- */
/* Daemons                                                                  */
/* ---------------------------------------------------------------------- */

static int spawn(const demo *d, demo_node *n) {
  prosed_proc_settings ps;
  prosed_proc_settings_default(&ps);
  ps.prosed = d->prosed;
  ps.config = n->conf;
  ps.log = n->log;
  ps.nsfd = n->nsfd;
  ps.prog = PROG;
  char err[512];
  if (prosed_proc_spawn(&n->proc, &ps, err, sizeof err) != 0) {
    fprintf(stderr, PROG ": %s\n", err);
    return -1;
  }
  n->spawned = true;
  return 0;
}

/* Reap daemons that ended; true when node i (or, for -1, every node) runs. */
static bool alive(demo *d, int i) {
  for (int k = 0; k < N_NODES; k++) (void)prosed_proc_reap(&d->nodes[k].proc);
  if (i >= 0) return d->nodes[i].proc.running;
  for (int k = 0; k < N_NODES; k++)
    if (!d->nodes[k].proc.running) return false;
  return true;
}

/* A daemon that stopped on its own is always a failure worth a message. */
static bool check_alive(demo *d) {
  if (alive(d, -1)) return true;
  /* An interrupt from the terminal stops the daemons too: not a failure
   * of theirs. */
  if (g_stop) return false;
  for (int k = 0; k < N_NODES; k++) {
    demo_node *n = &d->nodes[k];
    if (!n->spawned || n->proc.running || n->lost) continue;
    char how[64];
    prosed_proc_describe_exit(n->proc.status, how, sizeof how);
    check(d, false, k, "%s's prosed stopped unexpectedly (%s)", n->name, how);
    n->lost = true; /* reported once */
  }
  return false;
}

/* SIGTERM every daemon, wait for it (SIGKILL after a timeout), and check
 * that each stopped cleanly and left no sanitizer report. */
static void stop_all(demo *d, bool check_exit) {
  prosed_proc *procs[N_NODES];
  prosed_proc_end ends[N_NODES];
  for (int k = 0; k < N_NODES; k++) {
    ctl_client_close(&d->nodes[k].ctl);
    procs[k] = &d->nodes[k].proc;
  }
  prosed_proc_stop_all(procs, N_NODES, SIGTERM, TMO_STOP, ends);
  for (int k = 0; check_exit && k < N_NODES; k++) {
    demo_node *n = &d->nodes[k];
    char how[64];
    prosed_proc_describe_exit(n->proc.status, how, sizeof how);
    if (ends[k] == PROSED_PROC_KILLED)
      check(d, false, k, "%s's prosed did not stop within %d ms of SIGTERM", n->name, TMO_STOP);
    else if (ends[k] != PROSED_PROC_GONE)
      check(d, ends[k] == PROSED_PROC_CLEAN, k, "%s's prosed did not stop cleanly on SIGTERM (%s)",
            n->name, how);
  }
  if (!check_exit) return;
  for (int k = 0; k < N_NODES; k++)
    if (d->nodes[k].spawned)
      check(d, !log_has_sanitizer_report(&d->nodes[k]), k, "a sanitizer report in %s's log",
            d->nodes[k].name);
}

/* ---------------------------------------------------------------------- */
/* Control socket                                                           */
/* ---------------------------------------------------------------------- */

/* One request to node i (args: consumed). Returns the result object (a
 * new reference) or NULL; with `must`, a failure is a failed check naming
 * the request. code, when not NULL, receives the daemon's error code ("" for
 * success or no reply). */
static json_t *request_code(demo *d, int i, const char *cmd, json_t *args, bool must, char *code,
                            size_t code_cap) {
  demo_node *n = &d->nodes[i];
  char err[512];
  json_t *reply = NULL, *result = NULL;
  if (code) code[0] = '\0';
  if (ctl_client_request(&n->ctl, cmd, args, TMO_REQUEST, &reply, NULL, err, sizeof err) == 0) {
    if (json_is_true(json_object_get(reply, "ok"))) {
      result = json_incref(json_object_get(reply, "result"));
    } else {
      json_t *e = json_object_get(reply, "error");
      const char *c = json_string_value(json_object_get(e, "code"));
      snprintf(err, sizeof err, "%s: %s", c, json_string_value(json_object_get(e, "message")));
      if (code && c) snprintf(code, code_cap, "%s", c);
    }
  }
  json_decref(reply);
  json_decref(args);
  if (!result && must) check(d, false, i, "%s: %s failed: %s", n->name, cmd, err);
  return result;
}

static json_t *request(demo *d, int i, const char *cmd, json_t *args, bool must) {
  return request_code(d, i, cmd, args, must, NULL, 0);
}

static bool request_ok(demo *d, int i, const char *cmd, json_t *args) {
  json_t *r = request(d, i, cmd, args, true);
  json_decref(r);
  return r != NULL;
}

/* The call of kind "group" or "private" in a `calls` result, or NULL. */
static json_t *find_call(json_t *calls_result, bool private_call) {
  size_t k;
  json_t *c;
  json_array_foreach(json_object_get(calls_result, "calls"), k, c) {
    const char *kind = json_string_value(json_object_get(c, "kind"));
    if (kind && strcmp(kind, private_call ? "private" : "group") == 0) return c;
  }
  return NULL;
}

typedef enum call_cond {
  COND_IN_CALL,   /* the call exists */
  COND_NO_CALL,   /* it does not */
  COND_MAY_SEND,  /* this node may send media in it */
  COND_FLOOR_IDLE /* its floor is in 'O: silence' */
} call_cond;

static bool call_cond_holds(json_t *calls_result, bool private_call, call_cond cond) {
  json_t *c = find_call(calls_result, private_call);
  switch (cond) {
    case COND_IN_CALL:
      return c != NULL;
    case COND_NO_CALL:
      return c == NULL;
    case COND_MAY_SEND:
      return c != NULL && json_is_true(json_object_get(c, "may_send_media"));
    case COND_FLOOR_IDLE: {
      const char *fl = c ? json_string_value(json_object_get(c, "floor")) : NULL;
      return fl != NULL && strcmp(fl, "O: silence") == 0;
    }
  }
  return false;
}

/*
 * Poll `calls` on the nodes in mask until cond holds on each, every
 * interval_ms, for at most timeout_ms. done_us[i] receives when it first
 * held on node i (may be NULL). Returns the mask of nodes where it never
 * held (0 = success).
 */
static unsigned wait_calls(demo *d, unsigned mask, bool private_call, call_cond cond,
                           int timeout_ms, int interval_ms, int64_t *done_us) {
  int64_t deadline = mono_us() + (int64_t)timeout_ms * 1000;
  unsigned pending = mask;
  while (pending && !g_stop && check_alive(d)) {
    for (int i = 0; i < N_NODES; i++) {
      if (!(pending & (1u << i))) continue;
      json_t *r = request(d, i, "calls", NULL, false);
      if (r && call_cond_holds(r, private_call, cond)) {
        pending &= ~(1u << i);
        if (done_us) done_us[i] = mono_us();
      }
      json_decref(r);
    }
    if (!pending || mono_us() > deadline) break;
    sleep_ms(interval_ms);
  }
  return pending;
}

static const char *cond_text(call_cond c, bool private_call) {
  switch (c) {
    case COND_IN_CALL:
      return private_call ? "connected the private call" : "joined the group call";
    case COND_NO_CALL:
      return private_call ? "ended the private call" : "left the group call";
    case COND_MAY_SEND:
      return "got the floor";
    case COND_FLOOR_IDLE:
      return "saw the floor become free";
  }
  return "?";
}

/* wait_calls, with one failed check per node that never got there. */
static bool wait_calls_check(demo *d, unsigned mask, bool private_call, call_cond cond,
                             int timeout_ms, int64_t *done_us) {
  unsigned late = wait_calls(d, mask, private_call, cond, timeout_ms, 5, done_us);
  for (int i = 0; i < N_NODES; i++)
    if (late & (1u << i))
      check(d, false, i, "%s never %s (waited %d ms)", d->nodes[i].name,
            cond_text(cond, private_call), timeout_ms);
  if (!late) d->passed++;
  return late == 0 && !g_stop;
}

/* ---------------------------------------------------------------------- */
/* The application: PCMU tone, RTP, the app ports                           */
/* ---------------------------------------------------------------------- */

/* G.711 µ-law encoding of one 16-bit linear sample (ITU-T G.711, the
 * classic biased segment search). */
static uint8_t ulaw(int32_t pcm) {
  const int32_t bias = 0x84, clip = 32635;
  uint8_t sign = 0;
  if (pcm < 0) {
    pcm = -pcm;
    sign = 0x80;
  }
  if (pcm > clip) pcm = clip;
  pcm += bias;
  uint8_t exponent = 7;
  for (int32_t mask = 0x4000; (pcm & mask) == 0 && exponent > 0; mask >>= 1) exponent--;
  uint8_t mantissa = (uint8_t)((pcm >> (exponent + 3)) & 0x0F);
  return (uint8_t) ~(sign | (uint8_t)(exponent << 4) | mantissa);
}

/* The next 20 ms of the node's tone, phase-continuous across frames and
 * bursts. The frequencies are not multiples of 50 Hz, so no two frames of
 * one burst are alike and a swapped or repeated frame would show. */
static void tone_frame(demo_node *n, uint8_t out[FRAME_SAMPLES]) {
  const double two_pi = 6.283185307179586;
  for (size_t k = 0; k < FRAME_SAMPLES; k++, n->sample++) {
    double x = sin(two_pi * n->tone_hz * (double)n->sample / RATE);
    out[k] = ulaw((int32_t)lrint(12000.0 * x));
  }
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int bind_udp(uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* A talk burst is 50 packets of 172 octets; a generous buffer keeps a
   * slow demo process from losing any to a full queue. */
  int rcvbuf = 1 << 20, one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  /* Beside the claim on this port (pick_ports). */
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    fprintf(stderr, PROG ": bind 127.0.0.1:%u: %s\n", port, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

/* Enter node i's network namespace (--netns) to open its sockets there: a
 * socket stays in the namespace it was made in. */
static int enter_ns(const demo *d, int i) {
  const demo_node *n = &d->nodes[i];
  if (n->nsfd < 0) return 0;
  if (setns(n->nsfd, CLONE_NEWNET) != 0) {
    fprintf(stderr, PROG ": setns %s: %s\n", n->ns, strerror(errno));
    return -1;
  }
  return 0;
}

static int leave_ns(const demo *d) {
  if (d->root_nsfd < 0) return 0;
  if (setns(d->root_nsfd, CLONE_NEWNET) != 0) {
    fprintf(stderr, PROG ": setns back: %s\n", strerror(errno));
    return -1;
  }
  return 0;
}

static int open_app_sockets(demo *d) {
  for (int i = 0; i < N_NODES; i++) {
    demo_node *n = &d->nodes[i];
    if (enter_ns(d, i) != 0) return -1;
    int rc = 0;
    for (int s = 0; s < N_SLOTS && rc == 0; s++) {
      /* The node sends slot s's decrypted RTP to P + 1. */
      n->rx[s].port = (uint16_t)(n->app_base + SLOT_PORTS * s + 1);
      n->rx[s].fd = bind_udp(n->rx[s].port);
      if (n->rx[s].fd < 0) rc = -1;
    }
    if (rc == 0) n->send_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (rc == 0 && n->send_fd < 0) rc = -1;
    if (leave_ns(d) != 0 || rc != 0) return -1;
  }
  return 0;
}

static void close_app_sockets(demo *d) {
  for (int i = 0; i < N_NODES; i++) {
    for (int s = 0; s < N_SLOTS; s++)
      if (d->nodes[i].rx[s].fd >= 0) close(d->nodes[i].rx[s].fd);
    if (d->nodes[i].send_fd >= 0) close(d->nodes[i].send_fd);
  }
}

static void reset_rx(demo *d) {
  for (int i = 0; i < N_NODES; i++)
    for (int s = 0; s < N_SLOTS; s++) d->nodes[i].rx[s].n = 0;
}

/* Receive on every app port until `until_us`. */
static void pump(demo *d, int64_t until_us) {
  struct pollfd pfd[N_NODES * N_SLOTS];
  app_rx *rx[N_NODES * N_SLOTS];
  size_t m = 0;
  for (int i = 0; i < N_NODES; i++)
    for (int s = 0; s < N_SLOTS; s++) {
      rx[m] = &d->nodes[i].rx[s];
      pfd[m].fd = rx[m]->fd;
      pfd[m].events = POLLIN;
      m++;
    }
  for (;;) {
    int64_t left = until_us - mono_us();
    int tmo = left <= 0 ? 0 : (int)((left + 999) / 1000);
    int r = poll(pfd, (nfds_t)m, tmo);
    if (r < 0 && errno == EINTR && !g_stop) continue;
    if (r > 0) {
      for (size_t k = 0; k < m; k++) {
        if (!(pfd[k].revents & POLLIN)) continue;
        uint8_t buf[2048];
        ssize_t got;
        while ((got = recv(pfd[k].fd, buf, sizeof buf, 0)) >= 0) {
          app_rx *a = rx[k];
          if (a->n < RX_CAP) {
            a->pkts[a->n].len = (size_t)got;
            memcpy(a->pkts[a->n].b, buf, (size_t)got < RX_OCTETS ? (size_t)got : RX_OCTETS);
          }
          a->n++;
          a->total++;
        }
      }
    }
    if (r <= 0 && mono_us() >= until_us) return;
    if (g_stop) return;
  }
}

/* Send one burst of the talker's tone to its app port P (slot), paced at
 * 20 ms, receiving meanwhile; then wait until each listener got as many
 * packets as were sent (or a timeout), and a little more for any extra. */
static void talk(demo *d, int talker, int slot, unsigned listeners) {
  demo_node *n = &d->nodes[talker];
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)(n->app_base + SLOT_PORTS * slot));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  reset_rx(d);
  d->b.n = 0;
  int64_t next = mono_us();
  for (size_t f = 0; f < FRAMES && !g_stop; f++) {
    uint8_t pkt[PKT_OCTETS];
    /* RTP (RFC 3550): V=2, marker on the first packet of a talk spurt
     * (RFC 3551 4.1), PT 0 = PCMU. */
    pkt[0] = 0x80;
    pkt[1] = f == 0 ? 0x80 : 0x00;
    put16(pkt + 2, n->seq++);
    put32(pkt + 4, n->ts);
    n->ts += FRAME_SAMPLES;
    put32(pkt + 8, n->ssrc);
    tone_frame(n, pkt + RTP_HDR);
    d->b.hdr1[f] = pkt[1];
    memcpy(d->b.payload[f], pkt + RTP_HDR, FRAME_SAMPLES);
    d->b.n++;
    (void)sendto(n->send_fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to);
    next += FRAME_US;
    pump(d, next);
  }
  int64_t deadline = mono_us() + (int64_t)TMO_DELIVERY * 1000;
  for (;;) {
    bool all = true;
    for (int i = 0; i < N_NODES; i++)
      if ((listeners & (1u << i)) && d->nodes[i].rx[slot].n < d->b.n) all = false;
    if (all || g_stop || mono_us() > deadline || !alive(d, -1)) break;
    pump(d, mono_us() + 10000);
  }
  pump(d, mono_us() + 50000);
}

/* Compare what a listener's application received with the burst sent:
 * the same number of packets, each an RTP packet of the same size with the
 * same marker and payload type and the same 160 payload octets, in order,
 * on one stream whose sequence numbers and timestamps advance by 1 and 160
 * (the node puts the talker's packets on its own stream: DESIGN §5). */
static bool burst_matches(const burst *b, const app_rx *a, char *why, size_t cap) {
  if (a->n != b->n) {
    snprintf(why, cap, "received %zu of %zu packets", a->n, b->n);
    return false;
  }
  for (size_t k = 0; k < a->n; k++) {
    const rx_pkt *p = &a->pkts[k];
    if (p->len != PKT_OCTETS) {
      snprintf(why, cap, "packet %zu has %zu octets, %d were sent", k + 1, p->len, PKT_OCTETS);
      return false;
    }
    if (p->b[0] != 0x80 || p->b[1] != b->hdr1[k]) {
      snprintf(why, cap, "packet %zu: RTP header octets %02x %02x, sent 80 %02x", k + 1, p->b[0],
               p->b[1], b->hdr1[k]);
      return false;
    }
    if (k > 0 && (get16(p->b + 2) != (uint16_t)(get16(a->pkts[0].b + 2) + k) ||
                  get32(p->b + 4) != get32(a->pkts[0].b + 4) + (uint32_t)(k * FRAME_SAMPLES) ||
                  get32(p->b + 8) != get32(a->pkts[0].b + 8))) {
      snprintf(why, cap, "packet %zu is out of sequence (seq %u ts %u ssrc %08x)", k + 1,
               get16(p->b + 2), get32(p->b + 4), get32(p->b + 8));
      return false;
    }
    if (memcmp(p->b + RTP_HDR, b->payload[k], FRAME_SAMPLES) != 0) {
      snprintf(why, cap, "packet %zu: payload differs from what was sent", k + 1);
      return false;
    }
  }
  return true;
}

/* ---------------------------------------------------------------------- */
/* The scenario                                                             */
/* ---------------------------------------------------------------------- */

#define MASK_ALL ((1u << N_NODES) - 1u)
#define MASK_MEMBERS ((1u << N_MEMBERS) - 1u)
#define BIT(i) (1u << (i))

static json_t *group_args(void) { return json_pack("{s:s}", "group", DEMO_GROUP); }

static int start_daemons(demo *d) {
  for (int i = 0; i < N_NODES; i++)
    if (spawn(d, &d->nodes[i]) != 0) return -1;
  /* The control socket answers once a daemon has loaded its keys and opened
   * every socket. */
  int64_t deadline = mono_us() + (int64_t)TMO_START * 1000;
  for (int i = 0; i < N_NODES; i++) {
    demo_node *n = &d->nodes[i];
    char err[512];
    while (ctl_client_connect(&n->ctl, n->sock, err, sizeof err) != 0) {
      if (!check_alive(d) || g_stop) return -1;
      if (mono_us() > deadline) {
        check(d, false, i, "%s's prosed did not open its control socket within %d ms", n->name,
              TMO_START);
        return -1;
      }
      sleep_ms(10);
    }
  }
  /* Every daemon has bound its sockets: the claims have done their job, and
   * would only collect the run's multicast from now on. */
  release_ports(d);
  d->passed++;
  timeline(d, "4 prosed started (%s, control sockets up)",
           d->netns ? "198.18.0.1-4, one network namespace each" : "127.0.0.1-4");
  return 0;
}

static int wait_discovery(demo *d) {
  int64_t deadline = mono_us() + (int64_t)TMO_DISCOVERY * 1000;
  json_int_t peers[N_NODES] = {0};
  for (;;) {
    bool all = true;
    for (int i = 0; i < N_NODES; i++) {
      json_t *r = request(d, i, "status", NULL, false);
      peers[i] = r ? json_integer_value(json_object_get(r, "peers")) : -1;
      json_decref(r);
      if (peers[i] != N_NODES - 1) all = false;
    }
    if (all) break;
    if (g_stop || !check_alive(d)) return -1;
    if (mono_us() > deadline) {
      for (int i = 0; i < N_NODES; i++)
        check(d, peers[i] == N_NODES - 1, i, "%s sees %lld peers, not %d, after %d ms",
              d->nodes[i].name, (long long)peers[i], N_NODES - 1, TMO_DISCOVERY);
      return -1;
    }
    sleep_ms(20);
  }
  d->passed++;
  timeline(d, "discovery done: every node sees the other 3 (signed announcements)");
  return 0;
}

/* Press PTT on `talker` and wait until it may send. The access time runs
 * from the press to the first `calls` answer that says so (polled every
 * 2 ms). Returns it in ms, or a negative value after a failed check. */
static double take_floor(demo *d, int talker, bool private_call, int64_t *t_press_out) {
  int64_t t_press = mono_us();
  *t_press_out = t_press;
  if (!request_ok(d, talker, "ptt_press", private_call ? NULL : group_args())) return -1;
  int64_t done[N_NODES] = {0};
  if (wait_calls(d, BIT(talker), private_call, COND_MAY_SEND, TMO_FLOOR, 2, done) != 0) {
    check(d, false, talker, "%s pressed PTT but never got the floor (waited %d ms)",
          d->nodes[talker].name, TMO_FLOOR);
    return -1;
  }
  d->passed++;
  return (double)(done[talker] - t_press) / 1000.0;
}

/* Talk one burst from `talker` (who holds the floor) and check every
 * listener; then release and wait until everyone in the call sees the
 * floor free. `access_ms` < 0: the floor came with the call setup. */
static bool burst_round(demo *d, int talker, bool private_call, unsigned in_call, double access_ms,
                        int64_t t_begin) {
  int slot = private_call ? SLOT_PRIVATE : SLOT_GROUP;
  unsigned listeners = in_call & MASK_MEMBERS & ~BIT(talker);
  talk(d, talker, slot, listeners);
  /* A daemon that died explains any missing packet: say that, not less. */
  if (g_stop || !check_alive(d)) return false;
  char got[256] = "";
  size_t used = 0;
  bool same[N_NODES] = {false};
  char why[N_NODES][160];
  for (int i = 0; i < N_NODES; i++) {
    if (!(listeners & BIT(i))) continue;
    const app_rx *a = &d->nodes[i].rx[slot];
    same[i] = burst_matches(&d->b, a, why[i], sizeof why[i]);
    if (used < sizeof got)
      used += (size_t)snprintf(got + used, sizeof got - used, "%s%s %zu/%zu%s", used ? ", " : "",
                               d->nodes[i].name, a->n, d->b.n, same[i] ? " exact" : " WRONG");
  }
  char floor_how[48];
  if (access_ms >= 0)
    snprintf(floor_how, sizeof floor_how, "floor in %.1f ms", access_ms);
  else
    snprintf(floor_how, sizeof floor_how, "floor with the call setup");
  timeline_at(d, t_begin, "%s talks: %s; sent %zu frames (%.1f s) of a %.0f Hz PCMU tone; %s",
              d->nodes[talker].name, floor_how, d->b.n, (double)d->b.n * FRAME_US / 1e6,
              d->nodes[talker].tone_hz, got);
  bool ok = true;
  for (int i = 0; i < N_NODES; i++) {
    const app_rx *a = &d->nodes[i].rx[slot];
    if (listeners & BIT(i))
      ok &=
          check(d, same[i], i, "%s heard %s: %s", d->nodes[i].name, d->nodes[talker].name, why[i]);
    else
      /* The talker hears nothing of itself; anyone outside the call, and a
       * member without the GMK, nothing at all. */
      ok &= check(d, a->n == 0, i, "%s's application received %zu packets of %s's burst",
                  d->nodes[i].name, a->n, d->nodes[talker].name);
    /* Nothing arrives on the other slot's port either. */
    const app_rx *o = &d->nodes[i].rx[private_call ? SLOT_GROUP : SLOT_PRIVATE];
    ok &= check(d, o->n == 0, i, "%s received %zu packets on the %s port", d->nodes[i].name, o->n,
                private_call ? "group" : "private call");
  }
  if (!request_ok(d, talker, "ptt_release", private_call ? NULL : group_args())) return false;
  return wait_calls_check(d, in_call & MASK_MEMBERS, private_call, COND_FLOOR_IDLE, TMO_FLOOR,
                          NULL) &&
         ok;
}

static bool group_call(demo *d) {
  int64_t t_call = mono_us();
  int64_t joined[N_NODES] = {0};
  if (!request_ok(d, 0, "call_group", group_args())) return false;
  /* The originator's call setup is its floor request: alice holds the
   * floor once the call starts. */
  if (!wait_calls_check(d, BIT(0), false, COND_IN_CALL, TMO_CALL, joined)) return false;
  timeline_at(d, t_call, "alice starts a group call in " DEMO_GROUP ": up in %.0f ms",
              (double)(joined[0] - t_call) / 1000.0);
  if (!wait_calls_check(d, MASK_ALL & ~BIT(0), false, COND_IN_CALL, TMO_CALL, joined)) return false;
  timeline_at(d, t_call, "bob, carol and dave joined it after %.0f, %.0f and %.0f ms",
              (double)(joined[1] - t_call) / 1000.0, (double)(joined[2] - t_call) / 1000.0,
              (double)(joined[3] - t_call) / 1000.0);
  /* Dave has no GMK: he cannot protect a floor request, so he may not ask. */
  char code[32];
  json_t *r = request_code(d, DAVE, "ptt_press", group_args(), false, code, sizeof code);
  check(d, r == NULL && strcmp(code, "ENOKEY") == 0, DAVE,
        "dave, who has no GMK, pressed PTT: %s, not ENOKEY", r ? "accepted" : code);
  json_decref(r);

  if (wait_calls(d, BIT(0), false, COND_MAY_SEND, TMO_FLOOR, 2, NULL) != 0) {
    check(d, false, 0, "alice started the call but may not talk (waited %d ms)", TMO_FLOOR);
    return false;
  }
  bool ok = burst_round(d, 0, false, MASK_ALL, -1, mono_us());
  for (int talker = 1; ok && talker < N_MEMBERS; talker++) {
    int64_t t_press = 0;
    double access = take_floor(d, talker, false, &t_press);
    if (access < 0) return false;
    ok = burst_round(d, talker, false, MASK_ALL, access, t_press);
  }
  if (!ok) return false;

  /* Dave's node was in the call and received every burst, but holds no
   * GMK: nothing reached his application and each packet was dropped for
   * a GMK-ID he does not know. */
  json_t *c = request(d, DAVE, "counters", NULL, true);
  if (!c) return false;
  json_int_t unknown =
      json_integer_value(json_object_get(json_object_get(c, "media_drops"), "drop_unknown_mki"));
  json_int_t media_rx = json_integer_value(json_object_get(c, "media_rx"));
  json_int_t to_app = json_integer_value(json_object_get(c, "media_to_app"));
  json_decref(c);
  size_t dave_total = d->nodes[DAVE].rx[SLOT_GROUP].total;
  ok = check(d, dave_total == 0 && media_rx == 0 && to_app == 0, DAVE,
             "dave (no GMK) decrypted media: %zu packets at his application, media_rx %lld",
             dave_total, (long long)media_rx);
  ok &= check(d, unknown >= (json_int_t)(N_MEMBERS * FRAMES), DAVE,
              "dave dropped only %lld packets for an unknown GMK, expected at least %d",
              (long long)unknown, N_MEMBERS * FRAMES);
  timeline(d,
           "dave (no GMK): PTT refused, nothing he could decrypt: %lld SRTP/SRTCP packets "
           "dropped for an unknown MKI, 0 to his application",
           (long long)unknown);

  int64_t t_hangup = mono_us();
  for (int i = 0; i < N_NODES; i++)
    if (!request_ok(d, i, "hangup", group_args())) return false;
  if (!wait_calls_check(d, MASK_ALL, false, COND_NO_CALL, TMO_CALL, NULL)) return false;
  timeline_at(d, t_hangup, "everyone hangs up: the group call ended on all 4 nodes in %.0f ms",
              ms_since(t_hangup));
  return ok;
}

static bool private_call(demo *d) {
  const unsigned pair = BIT(0) | BIT(1);
  int64_t t_call = mono_us();
  int64_t up[N_NODES] = {0};
  if (!request_ok(d, 0, "call_private", json_pack("{s:s}", "uri", d->nodes[1].uri))) return false;
  if (!wait_calls_check(d, pair, true, COND_IN_CALL, TMO_CALL, up)) return false;
  int64_t last = up[0] > up[1] ? up[0] : up[1];
  timeline_at(d, t_call,
              "alice calls bob: private call connected in %.0f ms (a fresh PCK "
              "for bob in a MIKEY-SAKKE I_MESSAGE)",
              (double)(last - t_call) / 1000.0);
  if (wait_calls(d, BIT(0), true, COND_MAY_SEND, TMO_FLOOR, 2, NULL) != 0) {
    check(d, false, 0, "alice placed the private call but may not talk (waited %d ms)", TMO_FLOOR);
    return false;
  }
  if (!burst_round(d, 0, true, pair, -1, mono_us())) return false;
  int64_t t_press = 0;
  double access = take_floor(d, 1, true, &t_press);
  if (access < 0 || !burst_round(d, 1, true, pair, access, t_press)) return false;
  int64_t t_hangup = mono_us();
  if (!request_ok(d, 0, "hangup", NULL)) return false;
  if (!wait_calls_check(d, pair, true, COND_NO_CALL, TMO_CALL, NULL)) return false;
  timeline_at(d, t_hangup, "alice hangs up: the private call ended on both nodes in %.0f ms",
              ms_since(t_hangup));
  return true;
}

/* ---------------------------------------------------------------------- */
/* --netns                                                                  */
/* ---------------------------------------------------------------------- */

static void netns_teardown(demo *d) {
  if (!d->ns_made) return;
  const char *ns[N_NODES];
  int fd[N_NODES];
  for (int i = 0; i < N_NODES; i++) {
    ns[i] = d->nodes[i].ns;
    fd[i] = d->nodes[i].nsfd;
    d->nodes[i].nsfd = -1;
  }
  prosed_netns_remove(d->ns_tag, N_NODES, ns, fd);
  if (d->root_nsfd >= 0) close(d->root_nsfd);
  d->root_nsfd = -1;
  d->ns_made = false;
}

/* A bridge in a namespace of its own and one namespace per node, joined to
 * it by a veth pair: eth0 with 198.18.0.N/24 and the multicast route
 * (prosed_netns.h). Only namespaces this run created are touched, so the
 * host's network is not. */
static int netns_setup(demo *d) {
  d->root_nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (d->root_nsfd < 0) {
    fprintf(stderr, PROG ": /proc/self/ns/net: %s\n", strerror(errno));
    return -1;
  }
  const char *ns[N_NODES], *cidr[N_NODES];
  char cidr_text[N_NODES][32];
  int fd[N_NODES];
  for (int i = 0; i < N_NODES; i++) {
    ns[i] = d->nodes[i].ns;
    snprintf(cidr_text[i], sizeof cidr_text[i], "%s/24", d->nodes[i].addr);
    cidr[i] = cidr_text[i];
    fd[i] = -1;
  }
  d->ns_made = true;
  char err[256] = "";
  int rc = prosed_netns_make(d->ns_tag, N_NODES, ns, cidr, fd, err, sizeof err);
  for (int i = 0; i < N_NODES; i++) d->nodes[i].nsfd = fd[i];
  if (rc != 0) fprintf(stderr, PROG ": %s\n", err);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Setup, run, cleanup                                                      */
/* ---------------------------------------------------------------------- */

static int make_root(demo *d, const char *keep) {
  if (keep) {
    if (mkdir(keep, 0700) != 0 && errno != EEXIST) {
      fprintf(stderr, PROG ": --keep %s: %s\n", keep, strerror(errno));
      return -1;
    }
    DIR *dir = opendir(keep);
    struct dirent *e;
    bool empty = dir != NULL;
    while (dir && (e = readdir(dir)) != NULL)
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = false;
    if (dir) closedir(dir);
    char *abs = realpath(keep, NULL);
    if (!empty || !abs) {
      fprintf(stderr, PROG ": --keep %s: %s\n", keep,
              abs ? "not an empty directory" : strerror(errno));
      free(abs);
      return -1;
    }
    int w = snprintf(d->root, sizeof d->root, "%s", abs);
    free(abs);
    if (w < 0 || (size_t)w >= sizeof d->root) return -1;
  } else {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > 64) tmp = "/tmp";
    snprintf(d->root, sizeof d->root, "%s/prose-demo-XXXXXX", tmp);
    if (!mkdtemp(d->root)) {
      fprintf(stderr, PROG ": mkdtemp %s: %s\n", d->root, strerror(errno));
      d->root[0] = '\0';
      return -1;
    }
  }
  /* Control sockets live in the work directory: sun_path holds 108 octets. */
  if (strlen(d->root) + sizeof "/carol/ctl.sock" > 100) {
    fprintf(stderr, PROG ": %s: path too long for the control sockets\n", d->root);
    return -1;
  }
  return 0;
}

static int setup_nodes(demo *d) {
  static const char *const names[N_NODES] = {"alice", "bob", "carol", "dave"};
  static const double tones[N_NODES] = {437.0, 523.0, 659.0, 311.0};
  uint8_t r[4 * N_NODES + 3];
  if (prose_rng_fill(prose_rng_system(), r, sizeof r) != 0) return -1;
  /* Namespace names are unique per run: "pd" and six hex digits. */
  snprintf(d->ns_tag, sizeof d->ns_tag, "pd%02x%02x%02x", r[4 * N_NODES], r[4 * N_NODES + 1],
           r[4 * N_NODES + 2]);
  for (int i = 0; i < N_NODES; i++) {
    demo_node *n = &d->nodes[i];
    n->name = names[i];
    n->tone_hz = tones[i];
    snprintf(n->uri, sizeof n->uri, "sip:%s@demo.example", names[i]);
    snprintf(n->addr, sizeof n->addr, "%s.%d", d->netns ? "198.18.0" : "127.0.0", i + 1);
    if (d->netns) snprintf(n->ns, sizeof n->ns, "%s-%s", d->ns_tag, names[i]);
    snprintf(n->dir, sizeof n->dir, "%s/%s", d->root, names[i]);
    snprintf(n->conf, sizeof n->conf, "%s/prosed.conf", n->dir);
    snprintf(n->sock, sizeof n->sock, "%s/ctl.sock", n->dir);
    snprintf(n->log, sizeof n->log, "%s/prosed.log", n->dir);
    snprintf(n->store, sizeof n->store, "%s/store", n->dir);
    n->app_base = (uint16_t)(d->base + OFF_APP(i));
    n->rtp_base = (uint16_t)(d->base + OFF_RTP(i));
    n->ctl.fd = -1;
    /* The application's own stream starts at random values, as RFC 3550
     * asks; the node renumbers it onto the call's stream anyway. */
    n->seq = get16(r + 4 * i);
    n->ts = get32(r + 4 * i);
    n->ssrc = get32(r + 4 * i) ^ 0x5eed5eedu;
    if (mkdir(n->dir, 0700) != 0) {
      fprintf(stderr, PROG ": %s: %s\n", n->dir, strerror(errno));
      return -1;
    }
  }
  return 0;
}

static void usage(FILE *f) {
  fputs(
      "usage: prose demo [--keep DIR] [--prosed PATH] [--netns]\n"
      "\n"
      "Provision a throwaway security domain (KMS, GMS, alice, bob, carol and dave;\n"
      "dave without the group key), start four prosed on 127.0.0.1-4, run a secure\n"
      "group call in which alice, bob and carol talk in turn and a private call\n"
      "between alice and bob, and check that every listener received exactly what\n"
      "the talker sent and that dave could decrypt nothing. Exit status 0 only if\n"
      "every check passed.\n"
      "\n"
      "  --keep DIR     work in DIR (created, must be empty) and keep it: stores,\n"
      "                 configuration files and daemon logs\n"
      "  --prosed PATH  the daemon to run (default: prosed beside this prose)\n"
      "  --netns        (root) each daemon in its own network namespace, 198.18.0.1-4\n"
      "                 on a bridge, instead of 127.0.0.1-4; removed at the end\n",
      f);
}

int prose_cli_demo(int argc, char **argv) {
  OPTS({"keep", true, false, NULL}, {"prosed", true, false, NULL}, {"netns", false, false, NULL},
       {"help", false, false, NULL});
  if (cli_parse(PROG, argc, argv, 1, opts, n_opts, NULL, 0, NULL)) return 2;
  if (GET("help")) {
    usage(stdout);
    return 0;
  }
  demo *d = calloc(1, sizeof *d);
  if (!d) return 1;
  d->t0_us = mono_us();
  d->root_nsfd = -1;
  for (int i = 0; i < N_NODES; i++) {
    demo_node *n = &d->nodes[i];
    n->nsfd = n->send_fd = n->rx[0].fd = n->rx[1].fd = -1;
  }
  for (size_t p = 0; p < PORT_SPAN; p++) d->claims[p] = -1;
  for (int i = 0; i < N_NODES; i++) ctl_client_init(&d->nodes[i].ctl);
  char prosed_path[4096] = "?";
  if (GET("prosed")) {
    d->prosed = GET("prosed");
  } else if (cli_find_prosed(prosed_path, sizeof prosed_path) == 0) {
    d->prosed = prosed_path;
  } else {
    fprintf(stderr, PROG ": no prosed beside this prose (%s); give --prosed PATH\n", prosed_path);
    free(d);
    return 1;
  }
  if (access(d->prosed, X_OK) != 0) {
    fprintf(stderr, PROG ": %s: %s\n", d->prosed, strerror(errno));
    free(d);
    return 1;
  }

  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  d->netns = GET("netns") != NULL;
  if (d->netns && geteuid() != 0) {
    fprintf(stderr, PROG ": --netns needs root (network namespaces); run without it\n");
    free(d);
    return 2;
  }
  int setup = make_root(d, GET("keep"));
  d->keep = GET("keep") != NULL;
  if (setup == 0) setup = pick_ports(d);
  if (setup == 0) setup = setup_nodes(d);
  if (setup == 0 && d->netns) setup = netns_setup(d);
  if (setup == 0) {
    printf("prose demo: 4 nodes on %s, group " DEMO_GROUP " on %s:%u, work dir %s\n",
           d->netns ? "198.18.0.1-4 (network namespaces on a bridge)" : "127.0.0.1-4",
           d->group_addr, (unsigned)(d->base + OFF_GROUP_MEDIA), d->root);
    fflush(stdout);
    int64_t t = mono_us();
    setup = provision(d);
    if (setup == 0)
      timeline(d,
               "domain provisioned in %.0f ms: KMS " DEMO_KMS
               ", GMS, group key for alice, "
               "bob and carol; 4 device stores from bundles (dave has no GMK)",
               ms_since(t));
  }
  for (int i = 0; setup == 0 && i < N_NODES; i++) setup = write_config(d, &d->nodes[i]);
  if (setup == 0) setup = open_app_sockets(d);
  if (setup != 0) check(d, false, -1, "setup failed (see above)");

  if (setup == 0 && start_daemons(d) == 0 && wait_discovery(d) == 0 && group_call(d))
    (void)private_call(d);
  if (g_stop) check(d, false, -1, "interrupted");

  stop_all(d, true);
  release_ports(d);
  close_app_sockets(d);
  netns_teardown(d);
  for (int i = 0; i < N_NODES; i++)
    if (d->nodes[i].show_log) print_log_tail(&d->nodes[i], 25);

  double total_s = ms_since(d->t0_us) / 1000.0;
  if (d->failed == 0)
    printf("PASS: %u checks passed in %.1f s\n", d->passed, total_s);
  else
    printf("FAIL: %u of %u checks failed in %.1f s; first: %s\n", d->failed, d->passed + d->failed,
           total_s, d->first_failure);
  if (d->root[0]) {
    if (d->keep) {
      printf("work dir kept: %s (stores, prosed.conf and prosed.log per node)\n", d->root);
    } else if (rm_tree_at(AT_FDCWD, d->root) != 0) {
      fprintf(stderr, PROG ": could not remove %s: %s\n", d->root, strerror(errno));
    }
  }
  fflush(stdout);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  int status = d->failed == 0 ? 0 : 1;
  free(d);
  return status;
}
