/*
 * The event queue, the node deadline heap and the medium.
 *
 * Events (datagram arrivals, timeline actions, application frames) sit in
 * one binary heap ordered by (time, sequence number): the sequence number
 * is the order of scheduling, so equal times resolve the same way in every
 * run. Node deadlines sit in a second, indexed heap so that a node whose
 * deadline moved is re-sorted in O(log n) without scanning every node.
 *
 * The medium (STYLE 15, after picoquic's simulated links): a datagram is
 * copied to each receiver; each copy goes through the parameters of its
 * directed link, which are the defaults overlaid with every matching `link`
 * rule in scenario order (docs/sim.md):
 *   partition  sender and receiver in different partitions: dropped;
 *   burst      Gilbert-Elliott: the link's state moves good<->bad with
 *              P(good->bad) and P(bad->good) per datagram, then the copy is
 *              lost with the loss probability of the state;
 *   loss       independent loss;
 *   rate/queue a rate-limited link serialises its copies (queue: at most
 *              that many datagrams waiting, else dropped);
 *   delay, jitter (uniform in [0, jitter]), reorder (an extra gap with that
 *              probability), dup (a second copy with its own delay draw).
 * All draws come from the one seeded generator, in event order.
 */
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "sim_internal.h"

#define DEFAULT_DELAY_US 1000u  /* a network is never instantaneous */
#define DEFAULT_QUEUE_PKTS 100u

/* ---- generator ------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void sim_rand_seed(sim_rand *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sim_rand_u64(sim_rand *r) {
  uint64_t *s = r->s;
  uint64_t out = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

double sim_rand_unit(sim_rand *r) { return (double)(sim_rand_u64(r) >> 11) * 0x1.0p-53; }

uint64_t sim_rand_below(sim_rand *r, uint64_t bound) {
  /* Rejection keeps the draw uniform for any bound. */
  uint64_t lim = UINT64_MAX - UINT64_MAX % bound;
  uint64_t v;
  do v = sim_rand_u64(r);
  while (v >= lim);
  return v % bound;
}

static bool chance(sim *s, double p) { return p > 0.0 && (p >= 1.0 || sim_rand_unit(&s->rand) < p); }

/* ---- event heap ---------------------------------------------------------- */

static bool ev_less(const sim_ev *a, const sim_ev *b) {
  return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

void sim_ev_push(sim *s, const sim_ev *e) {
  if (s->n_ev == s->cap_ev) {
    size_t nc = s->cap_ev ? s->cap_ev * 2 : 1024;
    sim_ev *q = realloc(s->ev, nc * sizeof *q);
    if (q == NULL) abort(); /* the simulator cannot go on without its queue */
    s->ev = q;
    s->cap_ev = nc;
  }
  sim_ev x = *e;
  x.seq = s->seq++;
  size_t i = s->n_ev++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!ev_less(&x, &s->ev[p])) break;
    s->ev[i] = s->ev[p];
    i = p;
  }
  s->ev[i] = x;
}

bool sim_ev_peek(const sim *s, uint64_t *at) {
  if (s->n_ev == 0) return false;
  *at = s->ev[0].at;
  return true;
}

void sim_ev_pop(sim *s, sim_ev *out) {
  *out = s->ev[0];
  sim_ev last = s->ev[--s->n_ev];
  size_t i = 0, n = s->n_ev;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    const sim_ev *best = &last;
    if (l < n && ev_less(&s->ev[l], best)) {
      m = l;
      best = &s->ev[l];
    }
    if (r < n && ev_less(&s->ev[r], best)) m = r;
    if (m == i) break;
    s->ev[i] = s->ev[m];
    i = m;
  }
  if (n > 0) s->ev[i] = last;
}

/* ---- node heap -------------------------------------------------------------- */

static bool nh_less(const sim *s, uint32_t a, uint32_t b) {
  uint64_t ka = s->nodes[a].key, kb = s->nodes[b].key;
  return ka < kb || (ka == kb && a < b);
}

static void nh_swap(sim *s, size_t i, size_t j) {
  uint32_t t = s->nheap[i];
  s->nheap[i] = s->nheap[j];
  s->nheap[j] = t;
  s->nodes[s->nheap[i]].hpos = i;
  s->nodes[s->nheap[j]].hpos = j;
}

/* The time at which node i must run next: its own deadline, but not before
 * its virtual CPU is free. A node that is down never runs. */
static uint64_t node_key(const sim_node *nd) {
  if (nd->node == NULL) return SIM_NEVER;
  uint64_t dl = prose_node_next_deadline(nd->node);
  if (dl == UINT64_MAX) return SIM_NEVER;
  uint64_t us = dl > UINT64_MAX / 1000u ? SIM_NEVER : dl * 1000u;
  return us < nd->busy_until ? nd->busy_until : us;
}

void sim_nheap_update(sim *s, size_t i) {
  sim_node *nd = &s->nodes[i];
  nd->key = node_key(nd);
  size_t k = nd->hpos;
  while (k > 0 && nh_less(s, s->nheap[k], s->nheap[(k - 1) / 2])) {
    nh_swap(s, k, (k - 1) / 2);
    k = (k - 1) / 2;
  }
  for (;;) {
    size_t l = 2 * k + 1, r = l + 1, m = k;
    if (l < s->n_nheap && nh_less(s, s->nheap[l], s->nheap[m])) m = l;
    if (r < s->n_nheap && nh_less(s, s->nheap[r], s->nheap[m])) m = r;
    if (m == k) break;
    nh_swap(s, k, m);
    k = m;
  }
}

bool sim_nheap_peek(const sim *s, uint64_t *at, size_t *i) {
  if (s->n_nheap == 0 || s->nodes[s->nheap[0]].key == SIM_NEVER) return false;
  *i = s->nheap[0];
  *at = s->nodes[*i].key;
  return true;
}

/* ---- the medium ------------------------------------------------------------- */

static bool is_group_ip(const sim *s, uint32_t ip, size_t *g) {
  for (size_t k = 0; k < s->sc.n_groups; k++) {
    const uint8_t *a = s->sc.groups[k].addr;
    if (ip == ((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3])) {
      *g = k;
      return true;
    }
  }
  return false;
}

static bool rule_applies(const sim *s, const scn_rule *r, uint32_t to_ip, prose_node_sock sock) {
  size_t g = 0;
  switch (r->to) {
    case SCN_TO_ANY: return true;
    case SCN_TO_DISC: return sock == PROSE_SOCK_DISC;
    case SCN_TO_UNICAST: return (to_ip >> 28) != 0xEu;
    case SCN_TO_GROUP: return sock != PROSE_SOCK_DISC && is_group_ip(s, to_ip, &g) && g == r->group;
  }
  return false;
}

static void overlay(scn_linkp *p, const scn_linkp *r) {
  if (r->has & LP_DELAY) p->delay_us = r->delay_us;
  if (r->has & LP_JITTER) p->jitter_us = r->jitter_us;
  if (r->has & LP_LOSS) p->loss = r->loss;
  if (r->has & LP_BURST) {
    p->ge_p = r->ge_p;
    p->ge_r = r->ge_r;
    p->ge_bad = r->ge_bad;
    p->ge_good = r->ge_good;
  }
  if (r->has & LP_DUP) p->dup = r->dup;
  if (r->has & LP_REORDER) {
    p->reorder = r->reorder;
    p->reorder_gap_us = r->reorder_gap_us;
  }
  if (r->has & LP_RATE) p->rate_bps = r->rate_bps;
  if (r->has & LP_QUEUE) p->queue_pkts = r->queue_pkts;
  p->has |= r->has;
}

void sim_link_params(const sim *s, size_t src, size_t dst, uint32_t to_ip, prose_node_sock sock,
                     scn_linkp *p) {
  memset(p, 0, sizeof *p);
  p->delay_us = DEFAULT_DELAY_US;
  p->queue_pkts = DEFAULT_QUEUE_PKTS;
  for (size_t k = 0; k < s->sc.n_rules; k++) {
    if (s->rule_src[k] == NULL) continue; /* a runtime rule not yet in force */
    if (!scn_set_has(s->rule_src[k], src) || !scn_set_has(s->rule_dst[k], dst)) continue;
    if (!rule_applies(s, &s->sc.rules[k], to_ip, sock)) continue;
    overlay(p, &s->sc.rules[k].p);
  }
}

static void trace_drop(sim *s, size_t src, size_t dst, prose_node_sock sock, prose_sim_drop why) {
  sim_kpi_drop(s, why);
  if (sim_tracing_packets(s))
    sim_trace(s, "\"ev\":\"drop\",\"src\":\"%s\",\"dst\":\"%s\",\"sock\":%d,\"why\":\"%s\"",
              s->sc.nodes[src].name, s->sc.nodes[dst].name, (int)sock, prose_sim_drop_name(why));
}

static void schedule(sim *s, size_t src, size_t dst, prose_node_sock sock, uint16_t port,
                     uint16_t from_port, sim_pkt *pkt, uint64_t at) {
  sim_ev e;
  memset(&e, 0, sizeof e);
  e.at = at;
  e.kind = EV_PKT;
  e.sock = (uint8_t)sock;
  e.port = port;
  e.node = (uint32_t)dst;
  e.from_ip = s->nodes[src].ip;
  e.from_port = from_port;
  e.aux = (uint32_t)src;
  e.pkt = pkt;
  pkt->refs++;
  sim_ev_push(s, &e);
}

static uint64_t draw_delay(sim *s, const scn_linkp *p) {
  uint64_t d = p->delay_us;
  if (p->jitter_us) d += sim_rand_below(&s->rand, p->jitter_us + 1u);
  if (chance(s, p->reorder)) d += p->reorder_gap_us;
  return d;
}

void sim_net_deliver(sim *s, size_t src, size_t dst, prose_node_sock sock, uint16_t port,
                     uint16_t from_port, uint32_t to_ip, sim_pkt *pkt, uint64_t depart) {
  if (s->nodes[src].partition != s->nodes[dst].partition) {
    trace_drop(s, src, dst, sock, PROSE_SIM_DROP_PARTITION);
    return;
  }
  scn_linkp p;
  sim_link_params(s, src, dst, to_ip, sock, &p);
  if ((p.has & LP_BURST) && s->ge_bad) {
    uint8_t *st = &s->ge_bad[src * s->n + dst];
    if (*st ? chance(s, p.ge_r) : chance(s, p.ge_p)) *st = (uint8_t)!*st;
    if (chance(s, *st ? p.ge_bad : p.ge_good)) {
      trace_drop(s, src, dst, sock, PROSE_SIM_DROP_BURST);
      return;
    }
  }
  if (chance(s, p.loss)) {
    trace_drop(s, src, dst, sock, PROSE_SIM_DROP_LOSS);
    return;
  }
  uint64_t start = depart;
  if (p.rate_bps && s->busy) {
    /* Serialise on the link: this copy starts when the previous one is
     * through; a backlog of more than queue_pkts such copies is dropped. */
    uint64_t tx = ((uint64_t)pkt->len + 28u) * 8u * 1000000u / p.rate_bps + 1u;
    uint64_t *busy = &s->busy[src * s->n + dst];
    if (*busy > start) {
      if (*busy - start > (uint64_t)p.queue_pkts * tx) {
        trace_drop(s, src, dst, sock, PROSE_SIM_DROP_QUEUE);
        return;
      }
      start = *busy;
    }
    *busy = start + tx;
    start += tx;
  }
  schedule(s, src, dst, sock, port, from_port, pkt, start + draw_delay(s, &p));
  if (chance(s, p.dup)) schedule(s, src, dst, sock, port, from_port, pkt, start + draw_delay(s, &p));
}

/* Resolve the rules' node patterns, and allocate per-link state only when
 * some rule needs it (n*n grows fast). */
int sim_net_init(sim *s, char *err, size_t err_cap) {
  size_t nr = s->sc.n_rules;
  s->rule_src = calloc(nr ? nr : 1, sizeof *s->rule_src);
  s->rule_dst = calloc(nr ? nr : 1, sizeof *s->rule_dst);
  if (s->rule_src == NULL || s->rule_dst == NULL) return PROSE_ENOMEM;
  bool burst = false, rate = false;
  for (size_t k = 0; k < nr; k++) {
    burst |= (s->sc.rules[k].p.has & LP_BURST) != 0;
    rate |= (s->sc.rules[k].p.has & LP_RATE) != 0;
  }
  if (burst && (s->ge_bad = calloc(s->n * s->n, 1)) == NULL) return PROSE_ENOMEM;
  if (rate && (s->busy = calloc(s->n * s->n, sizeof *s->busy)) == NULL) return PROSE_ENOMEM;
  /* Rules that a timeline `link` adds come into force at their time; the
   * others from the start. */
  bool *runtime = calloc(nr ? nr : 1, sizeof *runtime);
  if (runtime == NULL) return PROSE_ENOMEM;
  for (size_t a = 0; a < s->sc.n_actions; a++)
    if (s->sc.actions[a].kind == ACT_LINK)
      for (size_t k = 0; k < s->sc.actions[a].n_rules; k++) runtime[s->sc.actions[a].rule + k] = true;
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < nr; k++) {
    if (runtime[k]) continue;
    rc = sim_net_enable_rule(s, k, err, err_cap);
  }
  free(runtime);
  return rc;
}

int sim_net_enable_rule(sim *s, size_t k, char *err, size_t err_cap) {
  if (s->rule_src[k]) return 0;
  s->rule_src[k] = calloc(s->words, sizeof(uint64_t));
  s->rule_dst[k] = calloc(s->words, sizeof(uint64_t));
  if (s->rule_src[k] == NULL || s->rule_dst[k] == NULL) return PROSE_ENOMEM;
  const scn_rule *r = &s->sc.rules[k];
  int rc = scn_match(&s->sc, r->src, s->rule_src[k], err, err_cap);
  if (rc == 0) rc = scn_match(&s->sc, r->dst, s->rule_dst[k], err, err_cap);
  return rc;
}

void sim_net_free(sim *s) {
  for (size_t k = 0; s->rule_src && k < s->sc.n_rules; k++) {
    free(s->rule_src[k]);
    free(s->rule_dst[k]);
  }
  free(s->rule_src);
  free(s->rule_dst);
  free(s->ge_bad);
  free(s->busy);
  s->rule_src = s->rule_dst = NULL;
  s->ge_bad = NULL;
  s->busy = NULL;
}
