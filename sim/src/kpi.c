/*
 * What the simulator measures (docs/sim.md, "KPIs"):
 *
 *   floor access time   from a PTT press to its outcome: GRANTED (immediate,
 *                       or queued first), DENIED, failed (unanswered, refused
 *                       locally, or the call or node went away) or abandoned
 *                       (PTT released before any answer); TS 22.179 KPI 1.
 *   mouth-to-ear        from the talker's application handing a frame to its
 *                       node to a listener's node handing it to its
 *                       application (the frame carries its id; KPI 3).
 *   late entry          a node asks to enter a group call (a `call`, a start
 *                       or a restart) while someone talks in it: time to the
 *                       first frame it hears (KPI 2 off-network).
 *   private call setup  from the `private` action to CALL_STARTED at the
 *                       caller, including the modelled SAKKE/ECCSI work.
 *   floor collisions    two members of a group (in the same partition) in
 *                       'O: has permission' at once: count and overlap.
 *   media delivery      for every frame a node sent: the members that should
 *                       hear it (in the call, holding the GMK, up, in the
 *                       talker's partition) and how many did; per talk burst,
 *                       whether each such listener heard at least one frame.
 *   drops               by the medium per reason, and by the nodes per
 *                       counter.
 *
 * Samples are kept whole and sorted at the end; percentiles are nearest rank.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "sim_internal.h"

typedef struct kpi_req {
  uint32_t node;
  int slot;
  bool open, queued;
  prose_sim_outcome outcome;
  uint64_t t0, t1;
} kpi_req;

typedef struct kpi_frame {
  uint32_t talker;
  int slot;
  long burst;
  uint64_t t_in;
  uint32_t expected, delivered;
} kpi_frame;

typedef struct kpi_burst {
  uint32_t talker;
  int slot;
  uint64_t *expected; /* node set */
  uint64_t *heard;
} kpi_burst;

typedef struct kpi_late {
  uint32_t node;
  int slot;
  uint64_t t0;
  bool done;
} kpi_late;

typedef struct kpi_setup {
  uint32_t node;
  uint64_t t0, t1;
  bool open, connected;
} kpi_setup;

typedef struct samples {
  size_t n, cap;
  double *v;
} samples;

struct sim_kpi {
  size_t n_req, cap_req;
  kpi_req *req;
  size_t n_frames, cap_frames;
  kpi_frame *frames;
  size_t n_bursts, cap_bursts;
  kpi_burst *bursts;
  size_t n_late, cap_late;
  kpi_late *late;
  size_t n_setup, cap_setup;
  kpi_setup *setup;
  samples m2e;
  uint64_t drops[PROSE_SIM_DROP_COUNT];
  size_t revoked;
  size_t collisions;
  size_t group_collisions[PROSE_SIM_MAX_GROUPS];
  bool coll_active[PROSE_SIM_MAX_GROUPS];
  uint64_t coll_since[PROSE_SIM_MAX_GROUPS];
  uint64_t overlap_us;
  uint64_t frames_offered, frames_sent, frames_expected, frames_delivered;
  size_t n_expect_results;
  sim_expect_result *expect_results;
  bool *expect_done;
};

static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return p;
  size_t nc = *cap ? *cap * 2 : 64;
  while (nc < need) nc *= 2;
  void *q = realloc(p, nc * elem);
  if (q == NULL) abort(); /* measurements are the point of the run */
  *cap = nc;
  return q;
}

static void sample_add(samples *s, double v) {
  s->v = grow(s->v, &s->cap, s->n + 1, sizeof *s->v);
  s->v[s->n++] = v;
}

int sim_kpi_new(sim *s) {
  s->kpi = calloc(1, sizeof *s->kpi);
  if (s->kpi == NULL) return PROSE_ENOMEM;
  size_t ne = s->sc.n_expects ? s->sc.n_expects : 1;
  s->kpi->expect_results = calloc(ne, sizeof *s->kpi->expect_results);
  s->kpi->expect_done = calloc(ne, sizeof *s->kpi->expect_done);
  if (s->kpi->expect_results == NULL || s->kpi->expect_done == NULL) return PROSE_ENOMEM;
  s->kpi->n_expect_results = s->sc.n_expects;
  return 0;
}

void sim_kpi_free(sim *s) {
  struct sim_kpi *k = s->kpi;
  if (k == NULL) return;
  for (size_t i = 0; i < k->n_bursts; i++) {
    free(k->bursts[i].expected);
    free(k->bursts[i].heard);
  }
  free(k->req);
  free(k->frames);
  free(k->bursts);
  free(k->late);
  free(k->setup);
  free(k->m2e.v);
  free(k->expect_results);
  free(k->expect_done);
  free(k);
  s->kpi = NULL;
}

void sim_kpi_drop(sim *s, prose_sim_drop why) { s->kpi->drops[why]++; }
void sim_kpi_drop_n(sim *s, prose_sim_drop why, uint64_t n) { s->kpi->drops[why] += n; }
void sim_kpi_revoked(sim *s) { s->kpi->revoked++; }

/* ---- floor requests ---------------------------------------------------------- */

long sim_kpi_press(sim *s, size_t node, int slot, int rc, bool already_granted) {
  struct sim_kpi *k = s->kpi;
  k->req = grow(k->req, &k->cap_req, k->n_req + 1, sizeof *k->req);
  kpi_req *r = &k->req[k->n_req];
  memset(r, 0, sizeof *r);
  r->node = (uint32_t)node;
  r->slot = slot;
  r->t0 = s->now;
  r->open = true;
  long idx = (long)k->n_req++;
  if (rc != 0) {
    sim_kpi_request_end(s, idx, PROSE_SIM_FAILED);
    return -1;
  }
  if (already_granted) {
    sim_kpi_request_end(s, idx, PROSE_SIM_IMMEDIATE);
    return -1;
  }
  return idx;
}

void sim_kpi_request_queued(sim *s, long req) {
  if (req >= 0) s->kpi->req[req].queued = true;
}

void sim_kpi_request_end(sim *s, long req, prose_sim_outcome o) {
  if (req < 0) return;
  kpi_req *r = &s->kpi->req[req];
  if (!r->open) return;
  r->open = false;
  if (o == PROSE_SIM_IMMEDIATE && r->queued) o = PROSE_SIM_QUEUED;
  r->outcome = o;
  r->t1 = s->now;
  sim_trace(s, "\"ev\":\"floor_request\",\"node\":\"%s\",\"outcome\":\"%s\",\"ms\":%.3f",
            s->sc.nodes[r->node].name, prose_sim_outcome_name(o), (double)(r->t1 - r->t0) / 1e3);
}

/* ---- frames and bursts ---------------------------------------------------- */

long sim_kpi_frame_new(sim *s, size_t talker, int slot) {
  struct sim_kpi *k = s->kpi;
  k->frames = grow(k->frames, &k->cap_frames, k->n_frames + 1, sizeof *k->frames);
  kpi_frame *f = &k->frames[k->n_frames];
  memset(f, 0, sizeof *f);
  f->talker = (uint32_t)talker;
  f->slot = slot;
  f->burst = -1;
  f->t_in = s->now;
  k->frames_offered++;
  return (long)k->n_frames++;
}

static long burst_new(sim *s, size_t talker, int slot) {
  struct sim_kpi *k = s->kpi;
  k->bursts = grow(k->bursts, &k->cap_bursts, k->n_bursts + 1, sizeof *k->bursts);
  kpi_burst *b = &k->bursts[k->n_bursts];
  b->talker = (uint32_t)talker;
  b->slot = slot;
  b->expected = calloc(s->words, sizeof(uint64_t));
  b->heard = calloc(s->words, sizeof(uint64_t));
  if (b->expected == NULL || b->heard == NULL) abort();
  return (long)k->n_bursts++;
}

static void set_bit(uint64_t *set, size_t i) { set[i / 64] |= 1ull << (i % 64); }

/* Should node j hear what node t sends on call slot `slot` now? */
static bool should_hear(const sim *s, size_t t, size_t j, int slot) {
  const sim_node *a = &s->nodes[t], *b = &s->nodes[j];
  if (j == t || !b->up || !b->calls[slot].active || a->partition != b->partition)
    return false;
  if (slot == (int)SIM_PRIVATE_SLOT) return a->peer == (long)j;
  return (s->sc.nodes[j].nogmk & (1u << slot)) == 0;
}

void sim_kpi_frame_sent(sim *s, long frame) {
  struct sim_kpi *k = s->kpi;
  kpi_frame *f = &k->frames[frame];
  sim_node *t = &s->nodes[f->talker];
  sim_call *c = &t->calls[f->slot];
  if (c->burst < 0) c->burst = burst_new(s, f->talker, f->slot);
  f->burst = c->burst;
  kpi_burst *b = &k->bursts[c->burst];
  for (size_t j = 0; j < s->n; j++)
    if (should_hear(s, f->talker, j, f->slot)) {
      f->expected++;
      set_bit(b->expected, j);
    }
  k->frames_sent++;
  k->frames_expected += f->expected;
  t->sent++;
}

void sim_kpi_burst_end(sim *s, size_t node, int slot) { s->nodes[node].calls[slot].burst = -1; }

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void sim_kpi_frame_heard(sim *s, size_t node, const uint8_t *rtp, size_t len) {
  struct sim_kpi *k = s->kpi;
  if (len < 12) return;
  size_t hdr = 12u + 4u * (rtp[0] & 0x0Fu);
  if ((rtp[0] & 0x10u) && len >= hdr + 4) hdr += 4u + 4u * ((size_t)rtp[hdr + 2] << 8 | rtp[hdr + 3]);
  if (len < hdr + 8 || rd32(rtp + hdr) != SIM_FRAME_MAGIC) return;
  uint32_t id = rd32(rtp + hdr + 4);
  if (id >= k->n_frames) return;
  kpi_frame *f = &k->frames[id];
  sim_node *nd = &s->nodes[node];
  nd->heard++;
  sample_add(&k->m2e, (double)(s->now - f->t_in) / 1e3);
  if (f->burst >= 0) {
    kpi_burst *b = &k->bursts[f->burst];
    if (scn_set_has(b->expected, node)) {
      f->delivered++;
      k->frames_delivered++;
      set_bit(b->heard, node);
    }
  }
  long late = nd->calls[f->slot].late;
  if (late >= 0) {
    kpi_late *l = &k->late[late];
    l->done = true;
    l->t0 = s->now - l->t0;
    nd->calls[f->slot].late = -1;
    sim_trace(s, "\"ev\":\"late_entry\",\"node\":\"%s\",\"ms\":%.3f", s->sc.nodes[node].name,
              (double)l->t0 / 1e3);
  }
}

/* ---- late entry ------------------------------------------------------------ */

static bool someone_talks(const sim *s, size_t except, int slot) {
  for (size_t j = 0; j < s->n; j++) {
    const sim_node *o = &s->nodes[j];
    if (j != except && o->up && o->calls[slot].ticking && o->calls[slot].granted) return true;
  }
  return false;
}

void sim_kpi_join(sim *s, size_t node, uint32_t slots) {
  struct sim_kpi *k = s->kpi;
  sim_node *nd = &s->nodes[node];
  for (int g = 0; g < (int)s->sc.n_groups; g++) {
    /* Only a node that is not in the call yet enters it late. */
    if (!(slots & (1u << g)) || nd->calls[g].late >= 0 || (nd->up && nd->calls[g].active) ||
        !someone_talks(s, node, g))
      continue;
    if (s->sc.nodes[node].nogmk & (1u << g)) continue; /* it cannot hear anyway */
    k->late = grow(k->late, &k->cap_late, k->n_late + 1, sizeof *k->late);
    kpi_late *l = &k->late[k->n_late];
    l->node = (uint32_t)node;
    l->slot = g;
    l->t0 = s->now;
    l->done = false;
    nd->calls[g].late = (long)k->n_late++;
  }
}

/* ---- private call setup --------------------------------------------------- */

long sim_kpi_setup_begin(sim *s, size_t node) {
  struct sim_kpi *k = s->kpi;
  k->setup = grow(k->setup, &k->cap_setup, k->n_setup + 1, sizeof *k->setup);
  kpi_setup *p = &k->setup[k->n_setup];
  memset(p, 0, sizeof *p);
  p->node = (uint32_t)node;
  p->t0 = s->now;
  p->open = true;
  return (long)k->n_setup++;
}

void sim_kpi_setup_end(sim *s, long setup, bool connected) {
  if (setup < 0) return;
  kpi_setup *p = &s->kpi->setup[setup];
  if (!p->open) return;
  p->open = false;
  p->connected = connected;
  p->t1 = s->now;
  sim_trace(s, "\"ev\":\"private_setup\",\"node\":\"%s\",\"connected\":%s,\"ms\":%.3f",
            s->sc.nodes[p->node].name, connected ? "true" : "false",
            (double)(p->t1 - p->t0) / 1e3);
}

/* ---- collisions -------------------------------------------------------------- */

void sim_kpi_talkers_changed(sim *s, int slot) {
  struct sim_kpi *k = s->kpi;
  if (slot < 0 || slot >= (int)s->sc.n_groups) return;
  /* Two holders in one partition make a collision; holders that cannot
   * hear each other are two calls, not a collision. */
  bool coll = false;
  for (size_t i = 0; i < s->n && !coll; i++) {
    const sim_node *a = &s->nodes[i];
    if (!a->up || !a->calls[slot].perm) continue;
    for (size_t j = i + 1; j < s->n && !coll; j++) {
      const sim_node *b = &s->nodes[j];
      coll = b->up && b->calls[slot].perm && a->partition == b->partition;
    }
  }
  if (coll == k->coll_active[slot]) return;
  k->coll_active[slot] = coll;
  if (coll) {
    k->collisions++;
    k->group_collisions[slot]++;
    k->coll_since[slot] = s->now;
    sim_trace(s, "\"ev\":\"collision\",\"group\":\"%s\"", s->sc.groups[slot].name);
  } else {
    k->overlap_us += s->now - k->coll_since[slot];
    sim_trace(s, "\"ev\":\"collision_end\",\"group\":\"%s\",\"ms\":%.3f", s->sc.groups[slot].name,
              (double)(s->now - k->coll_since[slot]) / 1e3);
  }
}

/* ---- summaries ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double rank(const double *v, size_t n, double q) {
  size_t i = (size_t)ceil(q * (double)n);
  if (i == 0) i = 1;
  return v[i - 1];
}

static void dist_of(double *v, size_t n, prose_sim_dist *d) {
  memset(d, 0, sizeof *d);
  if (n == 0) return;
  qsort(v, n, sizeof *v, cmp_double);
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += v[i];
  d->n = n;
  d->mean = sum / (double)n;
  d->p50 = rank(v, n, 0.50);
  d->p95 = rank(v, n, 0.95);
  d->p99 = rank(v, n, 0.99);
  d->max = v[n - 1];
}

static size_t popcount_set(const uint64_t *set, size_t words) {
  size_t c = 0;
  for (size_t w = 0; w < words; w++) c += (size_t)__builtin_popcountll(set[w]);
  return c;
}

static void add_counters(prose_sim_node_drops *d, const prose_node_counters *c) {
  d->srtp_malformed += c->media.drop_malformed;
  d->srtp_unknown_mki += c->media.drop_unknown_mki;
  d->srtp_no_key += c->media.drop_no_key;
  d->srtp_auth += c->media.drop_auth;
  d->srtp_replay += c->media.drop_replay;
  d->rx_no_call += c->rx_no_call;
  d->rx_bad_sock += c->rx_bad_sock;
  d->call_rx_errors += c->call_rx_errors;
  d->floor_rx_errors += c->floor_rx_errors;
  d->key_mgmt_failed += c->key_mgmt_failed;
  d->app_no_floor += c->app_dropped_no_floor;
  d->app_no_call += c->app_dropped_no_call;
  d->app_bad += c->app_dropped_bad;
}

static uint64_t disc_rejected(const prose_disc_stats *d) {
  return d->rej_malformed + d->rej_unknown_kms + d->rej_period + d->rej_time + d->rej_sig +
         d->rej_replay;
}

/* A node's counters over all its incarnations. */
static void node_counters(const sim_node *nd, prose_node_counters *out, uint64_t *disc_rej) {
  *out = nd->past;
  *disc_rej = nd->past_disc_rej;
  if (nd->node == NULL) return;
  const prose_node_counters *c = prose_node_get_counters(nd->node);
  prose_node_counters sum = *out;
  sum.media_rx += c->media_rx;
  sum.media_tx += c->media_tx;
  sum.no_gmk += c->no_gmk;
  sum.rx_no_call += c->rx_no_call;
  sum.rx_bad_sock += c->rx_bad_sock;
  sum.call_rx_errors += c->call_rx_errors;
  sum.floor_rx_errors += c->floor_rx_errors;
  sum.key_mgmt_failed += c->key_mgmt_failed;
  sum.app_dropped_no_floor += c->app_dropped_no_floor;
  sum.app_dropped_no_call += c->app_dropped_no_call;
  sum.app_dropped_bad += c->app_dropped_bad;
  sum.media.drop_malformed += c->media.drop_malformed;
  sum.media.drop_unknown_mki += c->media.drop_unknown_mki;
  sum.media.drop_no_key += c->media.drop_no_key;
  sum.media.drop_auth += c->media.drop_auth;
  sum.media.drop_replay += c->media.drop_replay;
  sum.media.rx_rtp += c->media.rx_rtp;
  sum.media.rx_rtcp += c->media.rx_rtcp;
  *out = sum;
  *disc_rej += disc_rejected(prose_disc_get_stats(prose_node_discovery(nd->node)));
}

/* Add the counters of node i's incarnation that is about to go away. */
void sim_kpi_keep_counters(sim *s, size_t i) {
  sim_node *nd = &s->nodes[i];
  prose_node_counters sum;
  uint64_t rej = 0;
  node_counters(nd, &sum, &rej);
  nd->past = sum;
  nd->past_disc_rej = rej;
}

static void fill_dists(sim *s, prose_sim_kpi *out) {
  struct sim_kpi *k = s->kpi;
  size_t cap = k->n_req + k->n_late + k->n_setup + 1;
  double *v = malloc(cap * sizeof *v);
  if (v == NULL) abort();
  size_t n = 0;
  for (size_t i = 0; i < k->n_req; i++) {
    const kpi_req *r = &k->req[i];
    if (!r->open && (r->outcome == PROSE_SIM_IMMEDIATE || r->outcome == PROSE_SIM_QUEUED))
      v[n++] = (double)(r->t1 - r->t0) / 1e3;
  }
  dist_of(v, n, &out->access);
  for (int o = 0; o < PROSE_SIM_OUTCOME_COUNT; o++) {
    n = 0;
    for (size_t i = 0; i < k->n_req; i++)
      if (!k->req[i].open && (int)k->req[i].outcome == o) v[n++] = (double)(k->req[i].t1 - k->req[i].t0) / 1e3;
    dist_of(v, n, &out->access_outcome[o]);
  }
  n = 0;
  out->late_entry_missed = 0;
  for (size_t i = 0; i < k->n_late; i++) {
    if (k->late[i].done)
      v[n++] = (double)k->late[i].t0 / 1e3;
    else
      out->late_entry_missed++;
  }
  dist_of(v, n, &out->late_entry);
  n = 0;
  for (size_t i = 0; i < k->n_setup; i++)
    if (!k->setup[i].open && k->setup[i].connected) v[n++] = (double)(k->setup[i].t1 - k->setup[i].t0) / 1e3;
  dist_of(v, n, &out->private_setup);
  free(v);
  double *m = malloc((k->m2e.n ? k->m2e.n : 1) * sizeof *m);
  if (m == NULL) abort();
  if (k->m2e.n) memcpy(m, k->m2e.v, k->m2e.n * sizeof *m);
  dist_of(m, k->m2e.n, &out->mouth_to_ear);
  free(m);
}

/* The result as of now: KPIs, per node and per group figures. */
static void snapshot(sim *s, prose_sim_result *r) {
  struct sim_kpi *k = s->kpi;
  prose_sim_kpi *o = &r->kpi;
  o->seed = s->sc.seed;
  o->virtual_s = (double)s->now / 1e6;
  o->nodes = s->n;
  o->requests = k->n_req;
  memset(o->outcome, 0, sizeof o->outcome);
  for (size_t i = 0; i < k->n_req; i++)
    if (!k->req[i].open) o->outcome[k->req[i].outcome]++;
  fill_dists(s, o);
  o->revoked = k->revoked;
  o->private_calls = k->n_setup;
  o->private_connected = 0;
  for (size_t i = 0; i < k->n_setup; i++) o->private_connected += k->setup[i].connected;
  o->collisions = k->collisions;
  uint64_t ov = k->overlap_us;
  for (size_t g = 0; g < s->sc.n_groups; g++)
    if (k->coll_active[g]) ov += s->now - k->coll_since[g];
  o->overlap_ms = (double)ov / 1e3;
  o->frames_offered = k->frames_offered;
  o->frames_sent = k->frames_sent;
  o->frames_expected = k->frames_expected;
  o->frames_delivered = k->frames_delivered;
  o->delivery = k->frames_expected ? (double)k->frames_delivered / (double)k->frames_expected : 1.0;
  size_t pairs = 0, heard = 0, bursts = 0;
  for (size_t b = 0; b < k->n_bursts; b++) {
    size_t e = popcount_set(k->bursts[b].expected, s->words);
    if (e == 0) continue;
    bursts++;
    pairs += e;
    heard += popcount_set(k->bursts[b].heard, s->words);
  }
  o->bursts = bursts;
  o->bursts_heard = pairs ? (double)heard / (double)pairs : 1.0;
  memcpy(o->drops, k->drops, sizeof o->drops);
  memset(&o->node_drops, 0, sizeof o->node_drops);
  r->n_nodes = s->n;
  for (size_t i = 0; i < s->n; i++) {
    const sim_node *nd = &s->nodes[i];
    prose_node_counters c;
    uint64_t rej = 0;
    node_counters(nd, &c, &rej);
    add_counters(&o->node_drops, &c);
    o->node_drops.disc_rejected += rej;
    sim_node_result *nr = &r->nodes[i];
    snprintf(nr->name, sizeof nr->name, "%s", s->sc.nodes[i].name);
    nr->heard = (double)nd->heard;
    nr->sent = (double)nd->sent;
    nr->offered = (double)nd->offered;
    nr->decrypted = (double)c.media_rx;
    nr->tx_media = (double)c.media_tx;
    nr->granted = nd->grants;
    nr->ptt_errors = nd->ptt_errors;
    nr->drop_unknown_mki = (double)c.media.drop_unknown_mki;
    nr->drop_auth = (double)c.media.drop_auth;
    nr->no_gmk = (double)c.no_gmk;
    nr->rx_no_call = (double)c.rx_no_call;
    nr->app_no_floor = (double)c.app_dropped_no_floor;
    size_t active = 0;
    for (size_t sl = 0; sl < SIM_CALL_SLOTS; sl++) active += nd->up && nd->calls[sl].active;
    nr->in_call = (double)active;
  }
  for (size_t i = 0; i < k->n_req; i++) {
    const kpi_req *q = &k->req[i];
    sim_node_result *nr = &r->nodes[q->node];
    nr->requests++;
    if (!q->open && (q->outcome == PROSE_SIM_IMMEDIATE || q->outcome == PROSE_SIM_QUEUED))
      nr->access_ms = (double)(q->t1 - q->t0) / 1e3; /* the last granted one */
  }
  r->n_groups = s->sc.n_groups;
  for (size_t g = 0; g < s->sc.n_groups; g++) {
    sim_group_result *gr = &r->groups[g];
    snprintf(gr->name, sizeof gr->name, "%s", s->sc.groups[g].name);
    uint16_t ids[64];
    size_t n_ids = 0, members = 0, unknown = 0;
    for (size_t i = 0; i < s->n; i++) {
      const sim_node *nd = &s->nodes[i];
      if (!nd->up || !nd->calls[g].active) continue;
      members++;
      if (!nd->calls[g].has_call_id) {
        unknown++;
        continue;
      }
      bool seen = false;
      for (size_t k2 = 0; k2 < n_ids; k2++) seen |= ids[k2] == nd->calls[g].call_id;
      if (!seen && n_ids < 64) ids[n_ids++] = nd->calls[g].call_id;
    }
    /* A member whose call we never saw announced counts as a call of its
     * own only when no other call is known (it cannot be told apart). */
    gr->calls = (double)(n_ids + (n_ids == 0 && unknown ? 1u : 0u));
    gr->members_in_call = (double)members;
    gr->collisions = (double)k->group_collisions[g];
  }
}

/* ---- metrics by name ----------------------------------------------------------- */

static bool dist_metric(const prose_sim_dist *d, const char *stat, double *out) {
  if (strcmp(stat, "n") == 0) *out = (double)d->n;
  else if (strcmp(stat, "mean_ms") == 0) *out = d->mean;
  else if (strcmp(stat, "p50_ms") == 0) *out = d->p50;
  else if (strcmp(stat, "p95_ms") == 0) *out = d->p95;
  else if (strcmp(stat, "p99_ms") == 0) *out = d->p99;
  else if (strcmp(stat, "max_ms") == 0) *out = d->max;
  else return false;
  return true;
}

static bool global_metric(const prose_sim_result *r, const char *name, double *out) {
  const prose_sim_kpi *k = &r->kpi;
  const prose_sim_node_drops *nd = &k->node_drops;
  const struct {
    const char *name;
    double v;
  } t[] = {
      {"requests", (double)k->requests},
      {"immediate", (double)k->outcome[PROSE_SIM_IMMEDIATE]},
      {"queued", (double)k->outcome[PROSE_SIM_QUEUED]},
      {"denied", (double)k->outcome[PROSE_SIM_DENIED]},
      {"failed", (double)k->outcome[PROSE_SIM_FAILED]},
      {"abandoned", (double)k->outcome[PROSE_SIM_ABANDONED]},
      {"granted", (double)(k->outcome[PROSE_SIM_IMMEDIATE] + k->outcome[PROSE_SIM_QUEUED])},
      {"revoked", (double)k->revoked},
      {"late_missed", (double)k->late_entry_missed},
      {"private_calls", (double)k->private_calls},
      {"private_connected", (double)k->private_connected},
      {"collisions", (double)k->collisions},
      {"overlap_ms", k->overlap_ms},
      {"frames_offered", (double)k->frames_offered},
      {"frames_sent", (double)k->frames_sent},
      {"frames_expected", (double)k->frames_expected},
      {"frames_delivered", (double)k->frames_delivered},
      {"delivery", k->delivery},
      {"bursts", (double)k->bursts},
      {"bursts_heard", k->bursts_heard},
      {"datagrams", (double)k->datagrams},
      {"deliveries", (double)k->deliveries},
      {"drops.loss", (double)k->drops[PROSE_SIM_DROP_LOSS]},
      {"drops.burst", (double)k->drops[PROSE_SIM_DROP_BURST]},
      {"drops.partition", (double)k->drops[PROSE_SIM_DROP_PARTITION]},
      {"drops.queue", (double)k->drops[PROSE_SIM_DROP_QUEUE]},
      {"drops.node_down", (double)k->drops[PROSE_SIM_DROP_NODE_DOWN]},
      {"drops.no_listener", (double)k->drops[PROSE_SIM_DROP_NO_LISTENER]},
      {"drops.crashed", (double)k->drops[PROSE_SIM_DROP_CRASHED]},
      {"srtp_malformed", (double)nd->srtp_malformed},
      {"srtp_unknown_mki", (double)nd->srtp_unknown_mki},
      {"srtp_no_key", (double)nd->srtp_no_key},
      {"srtp_auth", (double)nd->srtp_auth},
      {"srtp_replay", (double)nd->srtp_replay},
      {"rx_no_call", (double)nd->rx_no_call},
      {"rx_bad_sock", (double)nd->rx_bad_sock},
      {"call_rx_errors", (double)nd->call_rx_errors},
      {"floor_rx_errors", (double)nd->floor_rx_errors},
      {"key_mgmt_failed", (double)nd->key_mgmt_failed},
      {"app_no_floor", (double)nd->app_no_floor},
      {"disc_rejected", (double)nd->disc_rejected},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(t[i].name, name) == 0) {
      *out = t[i].v;
      return true;
    }
  for (int o = 0; o < PROSE_SIM_OUTCOME_COUNT; o++) {
    char prefix[32];
    int pl = snprintf(prefix, sizeof prefix, "access_%s_", prose_sim_outcome_name((prose_sim_outcome)o));
    if (strncmp(name, prefix, (size_t)pl) == 0)
      return dist_metric(&k->access_outcome[o], name + pl, out);
  }
  static const struct {
    const char *prefix;
    size_t off;
  } dists[] = {{"access_", offsetof(prose_sim_kpi, access)},
               {"m2e_", offsetof(prose_sim_kpi, mouth_to_ear)},
               {"late_", offsetof(prose_sim_kpi, late_entry)},
               {"setup_", offsetof(prose_sim_kpi, private_setup)}};
  for (size_t i = 0; i < sizeof dists / sizeof dists[0]; i++) {
    size_t pl = strlen(dists[i].prefix);
    if (strncmp(name, dists[i].prefix, pl) == 0) {
      const prose_sim_dist *d = (const prose_sim_dist *)(const void *)((const char *)k + dists[i].off);
      return dist_metric(d, name + pl, out);
    }
  }
  return false;
}

static bool node_metric(const sim_node_result *n, const char *m, double *out) {
  const struct {
    const char *name;
    double v;
  } t[] = {{"heard", n->heard},         {"sent", n->sent},
           {"access_ms", n->access_ms},  {"requests", n->requests},
           {"offered", n->offered},     {"decrypted", n->decrypted},
           {"granted", n->granted},     {"ptt_errors", n->ptt_errors},
           {"in_call", n->in_call},     {"tx_media", n->tx_media},
           {"drop_unknown_mki", n->drop_unknown_mki}, {"drop_auth", n->drop_auth},
           {"no_gmk", n->no_gmk},       {"rx_no_call", n->rx_no_call},
           {"app_no_floor", n->app_no_floor}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(t[i].name, m) == 0) {
      *out = t[i].v;
      return true;
    }
  return false;
}

int sim_metric(const prose_sim_result *r, const char *name, double *out) {
  if (global_metric(r, name, out)) return 0;
  const char *dot = strchr(name, '.');
  if (dot == NULL) return PROSE_ENOENT;
  size_t pl = (size_t)(dot - name);
  for (size_t i = 0; i < r->n_nodes; i++)
    if (strlen(r->nodes[i].name) == pl && strncmp(r->nodes[i].name, name, pl) == 0)
      return node_metric(&r->nodes[i], dot + 1, out) ? 0 : PROSE_ENOENT;
  for (size_t g = 0; g < r->n_groups; g++) {
    const sim_group_result *gr = &r->groups[g];
    if (strlen(gr->name) != pl || strncmp(gr->name, name, pl) != 0) continue;
    if (strcmp(dot + 1, "calls") == 0) *out = gr->calls;
    else if (strcmp(dot + 1, "members_in_call") == 0) *out = gr->members_in_call;
    else if (strcmp(dot + 1, "collisions") == 0) *out = gr->collisions;
    else return PROSE_ENOENT;
    return 0;
  }
  return PROSE_ENOENT;
}

int prose_sim_result_metric(const prose_sim_result *r, const char *name, double *out) {
  if (r == NULL || name == NULL || out == NULL) return PROSE_EINVAL;
  return sim_metric(r, name, out);
}

/* ---- expectations ----------------------------------------------------------- */

static const char *op_text(scn_op op) {
  switch (op) {
    case OP_EQ: return "==";
    case OP_NE: return "!=";
    case OP_LT: return "<";
    case OP_LE: return "<=";
    case OP_GT: return ">";
    case OP_GE: return ">=";
  }
  return "?";
}

static bool compare(double a, scn_op op, double b) {
  /* Ratios are computed in floating point: equality within 1e-9. */
  bool eq = fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b));
  switch (op) {
    case OP_EQ: return eq;
    case OP_NE: return !eq;
    case OP_LT: return a < b && !eq;
    case OP_LE: return a < b || eq;
    case OP_GT: return a > b && !eq;
    case OP_GE: return a > b || eq;
  }
  return false;
}

static void evaluate(sim *s, const prose_sim_result *r, size_t e) {
  const scn_expect *x = &s->sc.expects[e];
  sim_expect_result *out = &s->kpi->expect_results[e];
  out->line = x->line;
  double v = 0;
  out->known = sim_metric(r, x->metric, &v) == 0;
  out->actual = v;
  out->ok = out->known && compare(v, x->op, x->value);
  if (x->at_us == SCN_NEVER)
    snprintf(out->text, sizeof out->text, "%s %s %g", x->metric, op_text(x->op), x->value);
  else
    snprintf(out->text, sizeof out->text, "at %.3fs: %s %s %g", (double)x->at_us / 1e6, x->metric,
             op_text(x->op), x->value);
  s->kpi->expect_done[e] = true;
  sim_trace(s, "\"ev\":\"expect\",\"line\":%d,\"ok\":%s,\"actual\":%g", x->line,
            out->ok ? "true" : "false", v);
}

static prose_sim_result *result_new(sim *s) {
  prose_sim_result *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  r->nodes = calloc(s->n ? s->n : 1, sizeof *r->nodes);
  if (r->nodes == NULL) {
    free(r);
    return NULL;
  }
  return r;
}

void sim_kpi_expect(sim *s, size_t e) {
  prose_sim_result *r = result_new(s);
  if (r == NULL) abort();
  snapshot(s, r);
  evaluate(s, r, e);
  prose_sim_result_free(r);
}

int sim_kpi_finish(sim *s) {
  struct sim_kpi *k = s->kpi;
  /* What is still open at the end: requests failed, collisions closed. */
  for (size_t i = 0; i < k->n_req; i++)
    if (k->req[i].open) sim_kpi_request_end(s, (long)i, PROSE_SIM_FAILED);
  for (size_t i = 0; i < k->n_setup; i++)
    if (k->setup[i].open) sim_kpi_setup_end(s, (long)i, false);
  prose_sim_result *r = result_new(s);
  if (r == NULL) return PROSE_ENOMEM;
  snapshot(s, r);
  for (size_t e = 0; e < s->sc.n_expects; e++)
    if (!k->expect_done[e]) evaluate(s, r, e);
  r->n_expects = s->sc.n_expects;
  r->expects = calloc(r->n_expects ? r->n_expects : 1, sizeof *r->expects);
  if (r->expects == NULL) {
    prose_sim_result_free(r);
    return PROSE_ENOMEM;
  }
  memcpy(r->expects, k->expect_results, r->n_expects * sizeof *r->expects);
  r->kpi.expectations = r->n_expects;
  for (size_t e = 0; e < r->n_expects; e++) r->kpi.expectations_failed += !r->expects[e].ok;
  snprintf(r->scenario, sizeof r->scenario, "%s", s->sc.name);
  s->result = r;
  return 0;
}

void prose_sim_result_free(prose_sim_result *r) {
  if (r == NULL) return;
  free(r->nodes);
  free(r->expects);
  free(r);
}

const prose_sim_kpi *prose_sim_result_kpi(const prose_sim_result *r) { return r ? &r->kpi : NULL; }

bool prose_sim_result_ok(const prose_sim_result *r) {
  return r != NULL && r->kpi.expectations_failed == 0;
}

const char *prose_sim_outcome_name(prose_sim_outcome o) {
  switch (o) {
    case PROSE_SIM_IMMEDIATE: return "immediate";
    case PROSE_SIM_QUEUED: return "queued";
    case PROSE_SIM_DENIED: return "denied";
    case PROSE_SIM_FAILED: return "failed";
    case PROSE_SIM_ABANDONED: return "abandoned";
  }
  return "?";
}

const char *prose_sim_drop_name(prose_sim_drop d) {
  switch (d) {
    case PROSE_SIM_DROP_LOSS: return "loss";
    case PROSE_SIM_DROP_BURST: return "burst";
    case PROSE_SIM_DROP_PARTITION: return "partition";
    case PROSE_SIM_DROP_QUEUE: return "queue";
    case PROSE_SIM_DROP_NODE_DOWN: return "node_down";
    case PROSE_SIM_DROP_NO_LISTENER: return "no_listener";
    case PROSE_SIM_DROP_CRASHED: return "crashed";
  }
  return "?";
}

/* ---- reports ----------------------------------------------------------------- */

static void dist_row(FILE *f, const char *label, const prose_sim_dist *d) {
  if (d->n == 0) {
    fprintf(f, "  %-26s %6s\n", label, "-");
    return;
  }
  fprintf(f, "  %-26s %6zu %9.1f %9.1f %9.1f %9.1f %9.1f\n", label, d->n, d->mean, d->p50, d->p95,
          d->p99, d->max);
}

void prose_sim_report_text(const prose_sim_result *r, FILE *f) {
  if (r == NULL || f == NULL) return;
  const prose_sim_kpi *k = &r->kpi;
  fprintf(f, "prose sim: %s%s%s  seed %llu  nodes %zu\n", r->scenario, r->label[0] ? "  " : "",
          r->label, (unsigned long long)k->seed, k->nodes);
  double run = k->wall_s - k->provision_s;
  bool real = strcmp(k->world, "netns") == 0;
  if (real) {
    fprintf(f, "  netns: real prosed processes, real time %.3f s (setup %.3f s)\n", k->virtual_s,
            k->provision_s);
    fprintf(f, "  trace hash %s (real time: not reproducible)\n", k->hash);
    if (k->notes[0]) fprintf(f, "  not applied: %s\n", k->notes);
    fputc('\n', f);
  } else {
    fprintf(f, "  virtual %.3f s, wall %.3f s (provisioning %.3f s; %.2f virtual s per wall s)\n",
            k->virtual_s, k->wall_s, k->provision_s, run > 0 ? k->virtual_s / run : 0.0);
    fprintf(f, "  trace hash %s\n\n", k->hash);
  }
  fprintf(f, "  %-26s %6s %9s %9s %9s %9s %9s\n", "milliseconds", "n", "mean", "p50", "p95", "p99",
          "max");
  dist_row(f, "floor access (granted)", &k->access);
  for (int o = 0; o < PROSE_SIM_OUTCOME_COUNT; o++) {
    char label[64];
    snprintf(label, sizeof label, "  outcome %s", prose_sim_outcome_name((prose_sim_outcome)o));
    dist_row(f, label, &k->access_outcome[o]);
  }
  dist_row(f, "mouth-to-ear", &k->mouth_to_ear);
  dist_row(f, "late entry", &k->late_entry);
  dist_row(f, "private call setup", &k->private_setup);
  fprintf(f, "\n  floor requests %zu: immediate %zu, queued %zu, denied %zu, failed %zu, "
             "abandoned %zu; revoked %zu\n",
          k->requests, k->outcome[PROSE_SIM_IMMEDIATE], k->outcome[PROSE_SIM_QUEUED],
          k->outcome[PROSE_SIM_DENIED], k->outcome[PROSE_SIM_FAILED],
          k->outcome[PROSE_SIM_ABANDONED], k->revoked);
  fprintf(f, "  floor collisions %zu, overlap %.1f ms\n", k->collisions, k->overlap_ms);
  fprintf(f, "  late entries missed %zu; private calls %zu, connected %zu\n", k->late_entry_missed,
          k->private_calls, k->private_connected);
  fprintf(f, "  media: frames offered %llu, sent %llu, expected %llu, delivered %llu, "
             "ratio %.4f; bursts %zu, heard %.4f\n",
          (unsigned long long)k->frames_offered, (unsigned long long)k->frames_sent,
          (unsigned long long)k->frames_expected, (unsigned long long)k->frames_delivered,
          k->delivery, k->bursts, k->bursts_heard);
  fprintf(f, "  datagrams sent %llu, delivered %llu; dropped by the medium:",
          (unsigned long long)k->datagrams, (unsigned long long)k->deliveries);
  for (int d = 0; d < PROSE_SIM_DROP_COUNT; d++)
    fprintf(f, " %s %llu", prose_sim_drop_name((prose_sim_drop)d), (unsigned long long)k->drops[d]);
  const prose_sim_node_drops *nd = &k->node_drops;
  fprintf(f, "\n  dropped by the nodes: srtp malformed %llu, unknown_mki %llu, no_key %llu, "
             "auth %llu, replay %llu; no_call %llu, bad_sock %llu, call_rx %llu, floor_rx %llu, "
             "key_mgmt %llu; app no_floor %llu, no_call %llu, bad %llu; discovery rejected %llu\n",
          (unsigned long long)nd->srtp_malformed, (unsigned long long)nd->srtp_unknown_mki,
          (unsigned long long)nd->srtp_no_key, (unsigned long long)nd->srtp_auth,
          (unsigned long long)nd->srtp_replay, (unsigned long long)nd->rx_no_call,
          (unsigned long long)nd->rx_bad_sock, (unsigned long long)nd->call_rx_errors,
          (unsigned long long)nd->floor_rx_errors, (unsigned long long)nd->key_mgmt_failed,
          (unsigned long long)nd->app_no_floor, (unsigned long long)nd->app_no_call,
          (unsigned long long)nd->app_bad, (unsigned long long)nd->disc_rejected);
  if (r->n_expects) fprintf(f, "\n  expectations (%zu, %zu failed):\n", k->expectations,
                            k->expectations_failed);
  for (size_t e = 0; e < r->n_expects; e++) {
    const sim_expect_result *x = &r->expects[e];
    if (x->known)
      fprintf(f, "    %s line %d: %s (actual %g)\n", x->ok ? "PASS" : "FAIL", x->line, x->text,
              x->actual);
    else
      fprintf(f, "    FAIL line %d: %s (unknown metric)\n", x->line, x->text);
  }
}

static void dist_json(FILE *f, const char *name, const prose_sim_dist *d) {
  fprintf(f, "\"%s\":{\"n\":%zu,\"mean\":%.3f,\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
          name, d->n, d->mean, d->p50, d->p95, d->p99, d->max);
}

void prose_sim_report_json(const prose_sim_result *r, FILE *f) {
  if (r == NULL || f == NULL) return;
  const prose_sim_kpi *k = &r->kpi;
  char name[2 * SCN_NAME_MAX], label[4 * SCN_NAME_MAX];
  sim_json_str(name, sizeof name, r->scenario);
  sim_json_str(label, sizeof label, r->label);
  char notes[2 * sizeof k->notes];
  sim_json_str(notes, sizeof notes, k->notes);
  fprintf(f, "{\"scenario\":\"%s\",\"variant\":\"%s\",\"world\":\"%s\",\"not_applied\":\"%s\","
             "\"seed\":%llu,\"hash\":\"%s\",\"nodes\":%zu,"
             "\"virtual_s\":%.6f,\"wall_s\":%.3f,\"provision_s\":%.3f,",
          name, label, k->world, notes, (unsigned long long)k->seed, k->hash, k->nodes, k->virtual_s,
          k->wall_s, k->provision_s);
  fprintf(f, "\"requests\":%zu,\"outcomes\":{", k->requests);
  for (int o = 0; o < PROSE_SIM_OUTCOME_COUNT; o++)
    fprintf(f, "%s\"%s\":%zu", o ? "," : "", prose_sim_outcome_name((prose_sim_outcome)o),
            k->outcome[o]);
  fputs("},", f);
  dist_json(f, "access_ms", &k->access);
  fputs(",\"access_by_outcome_ms\":{", f);
  for (int o = 0; o < PROSE_SIM_OUTCOME_COUNT; o++) {
    if (o) fputc(',', f);
    dist_json(f, prose_sim_outcome_name((prose_sim_outcome)o), &k->access_outcome[o]);
  }
  fputs("},", f);
  dist_json(f, "mouth_to_ear_ms", &k->mouth_to_ear);
  fputc(',', f);
  dist_json(f, "late_entry_ms", &k->late_entry);
  fputc(',', f);
  dist_json(f, "private_setup_ms", &k->private_setup);
  fprintf(f, ",\"revoked\":%zu,\"late_entry_missed\":%zu,\"private_calls\":%zu,"
             "\"private_connected\":%zu,\"collisions\":%zu,\"overlap_ms\":%.3f,"
             "\"frames\":{\"offered\":%llu,\"sent\":%llu,\"expected\":%llu,\"delivered\":%llu},"
             "\"delivery\":%.6f,\"bursts\":%zu,\"bursts_heard\":%.6f,\"datagrams\":%llu,"
             "\"deliveries\":%llu,\"drops\":{",
          k->revoked, k->late_entry_missed, k->private_calls, k->private_connected, k->collisions,
          k->overlap_ms, (unsigned long long)k->frames_offered, (unsigned long long)k->frames_sent,
          (unsigned long long)k->frames_expected, (unsigned long long)k->frames_delivered,
          k->delivery, k->bursts, k->bursts_heard, (unsigned long long)k->datagrams,
          (unsigned long long)k->deliveries);
  for (int d = 0; d < PROSE_SIM_DROP_COUNT; d++)
    fprintf(f, "%s\"%s\":%llu", d ? "," : "", prose_sim_drop_name((prose_sim_drop)d),
            (unsigned long long)k->drops[d]);
  const prose_sim_node_drops *nd = &k->node_drops;
  fprintf(f, "},\"node_drops\":{\"srtp_malformed\":%llu,\"srtp_unknown_mki\":%llu,"
             "\"srtp_no_key\":%llu,\"srtp_auth\":%llu,\"srtp_replay\":%llu,\"rx_no_call\":%llu,"
             "\"rx_bad_sock\":%llu,\"call_rx_errors\":%llu,\"floor_rx_errors\":%llu,"
             "\"key_mgmt_failed\":%llu,\"app_no_floor\":%llu,\"app_no_call\":%llu,"
             "\"app_bad\":%llu,\"disc_rejected\":%llu}",
          (unsigned long long)nd->srtp_malformed, (unsigned long long)nd->srtp_unknown_mki,
          (unsigned long long)nd->srtp_no_key, (unsigned long long)nd->srtp_auth,
          (unsigned long long)nd->srtp_replay, (unsigned long long)nd->rx_no_call,
          (unsigned long long)nd->rx_bad_sock, (unsigned long long)nd->call_rx_errors,
          (unsigned long long)nd->floor_rx_errors, (unsigned long long)nd->key_mgmt_failed,
          (unsigned long long)nd->app_no_floor, (unsigned long long)nd->app_no_call,
          (unsigned long long)nd->app_bad, (unsigned long long)nd->disc_rejected);
  fputs(",\"expectations\":[", f);
  for (size_t e = 0; e < r->n_expects; e++) {
    const sim_expect_result *x = &r->expects[e];
    char text[4 * SCN_NAME_MAX * 3];
    sim_json_str(text, sizeof text, x->text);
    fprintf(f, "%s{\"line\":%d,\"expect\":\"%s\",\"ok\":%s,\"actual\":%.6g}", e ? "," : "", x->line,
            text, x->ok ? "true" : "false", x->known ? x->actual : 0.0);
  }
  fprintf(f, "],\"ok\":%s}\n", k->expectations_failed == 0 ? "true" : "false");
}
