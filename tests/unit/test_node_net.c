#include "test_node_net.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/util.h"

/* ---------------------------------------------------------------------- */
/* The domain                                                               */
/* ---------------------------------------------------------------------- */

void tn_domain_setup(tn_domain *d, const char *const *users, const bool *gmk, size_t n) {
  ts_domain_params p;
  ts_domain_params_default(&p);
  p.users = users;
  p.gmk = gmk;
  p.n = n;
  p.prefix = "prose-node-test";
  int rc = ts_domain_setup(d, &p);
  cr_assert_eq(rc, 0, "domain: %s", d->err);
}

void tn_domain_rekey(tn_domain *d, uint64_t activation) {
  int rc = ts_domain_rekey(d, activation);
  cr_assert_eq(rc, 0, "%s", d->err);
}

void tn_domain_teardown(tn_domain *d) { ts_domain_teardown(d); }

/* ---------------------------------------------------------------------- */
/* The network                                                              */
/* ---------------------------------------------------------------------- */

prose_node_addr tn_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  return ts_ipv4(a, b, c, d, port);
}

prose_node_addr tn_ipv6(const char *text, uint16_t port) {
  prose_node_addr x;
  memset(&x, 0, sizeof x);
  cr_assert_eq(inet_pton(AF_INET6, text, x.ip), 1, "IPv6 address %s", text);
  x.family = PROSE_DISC_AF_IPV6;
  x.port = port;
  return x;
}

static bool same_ip(const prose_node_addr *a, const prose_node_addr *b) {
  return a->family == b->family && memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}

static bool is_mcast(const prose_node_addr *a) {
  return a->family == PROSE_DISC_AF_IPV4 ? (a->ip[0] & 0xF0) == 0xE0 : a->ip[0] == 0xFF;
}

static bool is_loopback(const prose_node_addr *a) {
  return a->family == PROSE_DISC_AF_IPV4 && a->ip[0] == 127;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return p;
  size_t nc = *cap ? *cap * 2 : 64;
  while (nc < need) nc *= 2;
  void *q = realloc(p, nc * elem);
  cr_assert_not_null(q);
  *cap = nc;
  return q;
}

static uint8_t *dup_bytes(const uint8_t *b, size_t n) {
  uint8_t *p = malloc(n ? n : 1);
  cr_assert_not_null(p);
  if (n) memcpy(p, b, n);
  return p;
}

static void enqueue(tn_net *net, int src, int dst, prose_node_sock sock, uint16_t port,
                    const prose_node_addr *from, const uint8_t *b, size_t len) {
  tn_pkt p;
  memset(&p, 0, sizeof p);
  p.at = net->now + net->latency_ms;
  p.order = net->order++;
  p.dst = dst;
  p.sock = sock;
  p.port = port;
  p.from = *from;
  p.len = len;
  p.data = dup_bytes(b, len);
  if (net->filter && !net->filter(net, src, &p, net->filter_ud)) {
    free(p.data);
    return;
  }
  net->q = grow(net->q, &net->cap_q, net->n_q + 1, sizeof *net->q);
  net->q[net->n_q++] = p;
}

static int net_send(void *ud, prose_node_sock sock, uint16_t local_port, const prose_node_addr *to,
                    const uint8_t *bytes, size_t len) {
  tn_node *nd = ud;
  tn_net *net = nd->net;
  cr_assert_leq(len, PROSE_NODE_MAX_DGRAM);
  net->wire = grow(net->wire, &net->cap_wire, net->n_wire + 1, sizeof *net->wire);
  net->wire[net->n_wire++] = (tn_dgram){nd->idx, sock, local_port, *to, len, dup_bytes(bytes, len)};
  if (is_loopback(to)) {
    nd->app = grow(nd->app, &nd->cap_app, nd->n_app + 1, sizeof *nd->app);
    nd->app[nd->n_app++] = (tn_app){local_port, *to, len, dup_bytes(bytes, len)};
    return 0;
  }
  /* The source is our address of the destination's family; without one
   * the datagram cannot leave this host. */
  prose_node_addr from = to->family == PROSE_DISC_AF_IPV6 ? nd->addr6 : nd->addr;
  if (from.family != to->family) {
    net->unroutable++;
    return -1;
  }
  from.port = local_port;
  for (size_t k = 0; k < net->n; k++) {
    tn_node *rx = &net->nodes[k];
    if (rx->node == NULL) continue;
    if (is_mcast(to)) {
      if (rx == nd && !net->loop_multicast) continue;
      for (size_t b = 0; b < rx->n_binds; b++) {
        const tn_bind *bd = &rx->binds[b];
        if (bd->port == to->port && bd->has_mcast && same_ip(&bd->mcast, to)) {
          enqueue(net, nd->idx, (int)k, bd->sock, bd->port, &from, bytes, len);
          break;
        }
      }
    } else if (same_ip(&rx->addr, to) || same_ip(&rx->addr6, to)) {
      for (size_t b = 0; b < rx->n_binds; b++) {
        const tn_bind *bd = &rx->binds[b];
        if (bd->port == to->port) {
          enqueue(net, nd->idx, (int)k, bd->sock, bd->port, &from, bytes, len);
          break;
        }
      }
    }
  }
  return 0;
}

static void copy_str(char *dst, size_t cap, const char *s) { snprintf(dst, cap, "%s", s ? s : ""); }

static void net_event(void *ud, const prose_node_event *ev) {
  tn_node *nd = ud;
  nd->ev = grow(nd->ev, &nd->cap_ev, nd->n_ev + 1, sizeof *nd->ev);
  tn_event *e = &nd->ev[nd->n_ev++];
  memset(e, 0, sizeof *e);
  e->type = ev->type;
  e->now = ev->now;
  copy_str(e->group, sizeof e->group, ev->group);
  copy_str(e->peer, sizeof e->peer, ev->peer);
  copy_str(e->from, sizeof e->from, ev->state_from);
  copy_str(e->to, sizeof e->to, ev->state_to);
  copy_str(e->trigger, sizeof e->trigger, ev->trigger);
  copy_str(e->talker, sizeof e->talker, ev->talker);
  copy_str(e->text, sizeof e->text, ev->text);
  e->err = ev->err;
  e->reason = ev->reason;
}

static uint64_t net_wall(void *ud, uint64_t now_ms) {
  (void)ud;
  return TN_T0 + now_ms / 1000u;
}

static void add_bind(void *ud, prose_node_sock sock, uint16_t port, const prose_node_addr *mcast) {
  tn_node *nd = ud;
  cr_assert_lt(nd->n_binds, TN_MAX_BINDS);
  tn_bind *b = &nd->binds[nd->n_binds++];
  b->sock = sock;
  b->port = port;
  b->has_mcast = mcast != NULL;
  if (mcast) b->mcast = *mcast;
}

void tn_net_init(tn_net *net, tn_domain *d) {
  memset(net, 0, sizeof *net);
  net->dom = d;
  net->latency_ms = 1;
  net->n = d->n_dev;
  for (size_t i = 0; i < net->n; i++) {
    net->nodes[i].net = net;
    net->nodes[i].idx = (int)i;
  }
}

void tn_default_settings(tn_net *net, size_t i, prose_node_settings *s) {
  tn_node *nd = &net->nodes[i];
  nd->rng = prose_rng_det_init(&nd->rng_state, 1000u + i);
  ts_node_settings(net->dom, i, s);
  s->rng = &nd->rng;
}

void tn_node_start(tn_net *net, size_t i, const prose_node_settings *s) {
  tn_node *nd = &net->nodes[i];
  if (s == NULL) {
    tn_default_settings(net, i, &nd->set);
  } else {
    nd->set = *s;
  }
  nd->addr = nd->set.unicast4;
  nd->addr.port = 0;
  nd->addr6 = nd->set.unicast6;
  nd->addr6.port = 0;
  nd->n_binds = 0;
  prose_node_sockets(&nd->set, add_bind, nd);
  prose_node_callbacks cb = {net_send, net_event, net_wall};
  int rc = prose_node_new(&nd->node, &nd->set, &cb, nd, net->now);
  cr_assert_eq(rc, 0, "node %zu: %s", i, prose_err_name(rc));
}

void tn_net_free(tn_net *net) {
  for (size_t i = 0; i < net->n; i++) {
    tn_node *nd = &net->nodes[i];
    if (nd->node) prose_node_free(nd->node, net->now);
    nd->node = NULL;
    for (size_t k = 0; k < nd->n_app; k++) free(nd->app[k].data);
    free(nd->app);
    free(nd->ev);
  }
  for (size_t k = 0; k < net->n_q; k++) free(net->q[k].data);
  free(net->q);
  for (size_t k = 0; k < net->n_wire; k++) free(net->wire[k].data);
  free(net->wire);
}

/* The earliest queued datagram, in send order among equal times. */
static size_t next_pkt(const tn_net *net) {
  size_t best = net->n_q;
  for (size_t k = 0; k < net->n_q; k++)
    if (best == net->n_q || net->q[k].at < net->q[best].at ||
        (net->q[k].at == net->q[best].at && net->q[k].order < net->q[best].order))
      best = k;
  return best;
}

void tn_run_until(tn_net *net, uint64_t t) {
  for (unsigned iter = 0;; iter++) {
    cr_assert_lt(iter, 1000000u, "the network does not settle");
    uint64_t next = UINT64_MAX;
    size_t k = next_pkt(net);
    if (k < net->n_q) next = net->q[k].at;
    for (size_t i = 0; i < net->n; i++)
      if (net->nodes[i].node) {
        uint64_t d = prose_node_next_deadline(net->nodes[i].node);
        if (d < next) next = d;
      }
    if (next > t) {
      net->now = t;
      return;
    }
    if (next > net->now) net->now = next;
    if (k < net->n_q && net->q[k].at <= net->now) {
      tn_pkt p = net->q[k];
      net->q[k] = net->q[--net->n_q];
      tn_node *nd = &net->nodes[p.dst];
      if (nd->node)
        cr_assert_eq(prose_node_recv(nd->node, net->now, p.sock, p.port, &p.from, p.data, p.len),
                     0);
      free(p.data);
      continue;
    }
    for (size_t i = 0; i < net->n; i++)
      if (net->nodes[i].node && prose_node_next_deadline(net->nodes[i].node) <= net->now)
        cr_assert_eq(prose_node_on_timeout(net->nodes[i].node, net->now), 0);
  }
}

int tn_inject(tn_net *net, size_t i, prose_node_sock sock, uint16_t port,
              const prose_node_addr *from, const uint8_t *data, size_t len) {
  return prose_node_recv(net->nodes[i].node, net->now, sock, port, from, data, len);
}

void tn_app_send(tn_net *net, size_t i, uint16_t app_port, uint16_t seq, uint32_t ts,
                 uint32_t ssrc, const void *payload, size_t len) {
  uint8_t pkt[512];
  cr_assert_leq(len + 12, sizeof pkt);
  pkt[0] = 0x80;
  pkt[1] = 0; /* PCMU */
  pkt[2] = (uint8_t)(seq >> 8), pkt[3] = (uint8_t)seq;
  pkt[4] = (uint8_t)(ts >> 24), pkt[5] = (uint8_t)(ts >> 16), pkt[6] = (uint8_t)(ts >> 8);
  pkt[7] = (uint8_t)ts;
  pkt[8] = (uint8_t)(ssrc >> 24), pkt[9] = (uint8_t)(ssrc >> 16), pkt[10] = (uint8_t)(ssrc >> 8);
  pkt[11] = (uint8_t)ssrc;
  memcpy(pkt + 12, payload, len);
  prose_node_addr from = tn_ipv4(127, 0, 0, 1, (uint16_t)(app_port + 1));
  cr_assert_eq(tn_inject(net, i, PROSE_SOCK_APP, app_port, &from, pkt, len + 12), 0);
}

size_t tn_count_events(const tn_node *nd, prose_node_event_type type) {
  size_t c = 0;
  for (size_t k = 0; k < nd->n_ev; k++) c += nd->ev[k].type == type;
  return c;
}

const tn_event *tn_last_event(const tn_node *nd, prose_node_event_type type) {
  for (size_t k = nd->n_ev; k-- > 0;)
    if (nd->ev[k].type == type) return &nd->ev[k];
  return NULL;
}

bool tn_call(const tn_net *net, size_t i, prose_node_call_info *info) {
  return prose_node_call_at(net->nodes[i].node, 0, info);
}
