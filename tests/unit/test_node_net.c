#include "test_node_net.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/authority.h"
#include "prose/err.h"
#include "prose/util.h"

/* ---------------------------------------------------------------------- */
/* The domain                                                               */
/* ---------------------------------------------------------------------- */

static prose_store *new_store(tn_domain *d, const char *name, prose_store_role role,
                              const char *owner) {
  char path[512];
  prose_store_settings s;
  prose_store *st = NULL;
  prose_diag dg;
  prose_diag_clear(&dg);
  prose_store_settings_default(&s);
  s.role = role;
  s.owner_uri = owner;
  s.rng = &d->rng;
  snprintf(path, sizeof path, "%s/%s", d->root, name);
  int rc = prose_store_create(&st, path, &s, &dg);
  cr_assert_eq(rc, 0, "create %s: %s (%s)", name, prose_err_name(rc), dg.msg);
  return st;
}

static void import(prose_store *st, const void *data, size_t len, const char *what) {
  prose_diag dg;
  prose_diag_clear(&dg);
  int rc = prose_store_import(st, data, len, TN_T0, NULL, &dg);
  cr_assert_eq(rc, 0, "import %s: %s (%s)", what, prose_err_name(rc), dg.msg);
}

/* Key sets (current and next period) with the KMS certificate, imported. */
static void issue_into(tn_domain *d, prose_store *st, const char *user) {
  prose_kms_issue_params p;
  prose_diag dg;
  char *xml = NULL;
  size_t len = 0;
  prose_diag_clear(&dg);
  prose_kms_issue_params_default(&p);
  p.user_uri = user;
  p.t = TN_T0;
  p.count = 2;
  p.include_cert = true;
  int rc = prose_kms_issue(d->kms, &p, &xml, &len, &dg);
  cr_assert_eq(rc, 0, "issue %s: %s (%s)", user, prose_err_name(rc), dg.msg);
  import(st, xml, len, user);
  prose_free_secret(xml, len);
}

typedef struct import_ctx {
  prose_store *st;
  uint32_t only; /* import only this GMK-ID, 0 = all */
} import_ctx;

static int import_msg(void *ud, const char *group_id, uint32_t gmk_id, const uint8_t *msg,
                      size_t len) {
  (void)group_id;
  import_ctx *c = ud;
  if (c->only == 0 || c->only == gmk_id) import(c->st, msg, len, "GMK I_MESSAGE");
  return 0;
}

static void distribute(tn_domain *d, tn_device *dev, uint32_t only) {
  prose_gms_distribute_params p;
  prose_diag dg;
  prose_diag_clear(&dg);
  prose_gms_distribute_params_default(&p);
  p.member_uri = dev->uri;
  p.group_id = TN_GROUP;
  p.t = TN_T0;
  import_ctx c = {dev->store, only};
  int rc = prose_gms_distribute(d->gms, &p, import_msg, &c, &dg);
  cr_assert_eq(rc, 0, "distribute to %s: %s (%s)", dev->uri, prose_err_name(rc), dg.msg);
}

void tn_domain_setup(tn_domain *d, const char *const *users, const bool *gmk, size_t n) {
  prose_diag dg;
  prose_diag_clear(&dg);
  memset(d, 0, sizeof *d);
  cr_assert_leq(n, TN_MAX_NODES);
  snprintf(d->root, sizeof d->root, "/tmp/prose-node-test-XXXXXX");
  cr_assert_not_null(mkdtemp(d->root));
  d->rng = prose_rng_det_init(&d->rng_state, 0x0DE5EED);

  /* The KMS and its certificate. */
  d->kms = new_store(d, "kms", PROSE_STORE_KMS, NULL);
  prose_kms_settings ks;
  prose_kms_settings_default(&ks);
  ks.kms_uri = TN_KMS;
  int rc = prose_kms_init(d->kms, &ks, &dg);
  cr_assert_eq(rc, 0, "kms init: %s (%s)", prose_err_name(rc), dg.msg);

  /* The GMS with its keys and the group of every user. */
  d->gms = new_store(d, "gms", PROSE_STORE_GMS, TN_GMS);
  issue_into(d, d->gms, TN_GMS);
  prose_gms_group_params g;
  prose_gms_group_params_default(&g);
  g.group_id = TN_GROUP;
  g.members = users;
  g.n_members = n;
  g.activation = TN_T0 - 3600;
  rc = prose_gms_group_create(d->gms, &g, &d->gmk_id, &dg);
  cr_assert_eq(rc, 0, "group: %s (%s)", prose_err_name(rc), dg.msg);

  /* The devices. */
  d->n_dev = n;
  for (size_t i = 0; i < n; i++) {
    tn_device *dev = &d->dev[i];
    char name[32];
    dev->uri = users[i];
    dev->has_gmk = gmk[i];
    snprintf(name, sizeof name, "dev%zu", i);
    dev->store = new_store(d, name, PROSE_STORE_DEVICE, users[i]);
    cr_assert_eq(prose_store_trust_gms(dev->store, TN_GMS), 0);
    issue_into(d, dev->store, users[i]);
    if (gmk[i]) distribute(d, dev, 0);
    cr_assert_eq(prose_keyring_new(&dev->kr, users[i], NULL), 0);
    rc = prose_store_load_keyring(dev->store, dev->kr, TN_T0, &dg);
    cr_assert_eq(rc, 0, "keyring %s: %s (%s)", users[i], prose_err_name(rc), dg.msg);
  }
}

void tn_domain_rekey(tn_domain *d, uint64_t activation) {
  prose_diag dg;
  prose_diag_clear(&dg);
  int rc = prose_gms_group_rekey(d->gms, TN_GROUP, activation, PROSE_STORE_NEVER, &d->gmk2_id,
                                 &dg);
  cr_assert_eq(rc, 0, "rekey: %s (%s)", prose_err_name(rc), dg.msg);
  for (size_t i = 0; i < d->n_dev; i++)
    if (d->dev[i].has_gmk) distribute(d, &d->dev[i], d->gmk2_id);
}

void tn_domain_teardown(tn_domain *d) {
  char cmd[600];
  for (size_t i = 0; i < d->n_dev; i++) {
    prose_keyring_free(d->dev[i].kr);
    prose_store_close(d->dev[i].store);
  }
  prose_store_close(d->kms);
  prose_store_close(d->gms);
  if (strncmp(d->root, "/tmp/prose-node-test-", 21) == 0) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->root);
    cr_assert_eq(system(cmd), 0);
  }
}

/* ---------------------------------------------------------------------- */
/* The network                                                              */
/* ---------------------------------------------------------------------- */

prose_node_addr tn_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  prose_node_addr x;
  memset(&x, 0, sizeof x);
  x.family = PROSE_DISC_AF_IPV4;
  x.ip[0] = a, x.ip[1] = b, x.ip[2] = c, x.ip[3] = d;
  x.port = port;
  return x;
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
  tn_device *dev = &net->dom->dev[i];
  nd->rng = prose_rng_det_init(&nd->rng_state, 1000u + i);
  prose_node_settings_default(s);
  s->uri = dev->uri;
  s->kms_uri = TN_KMS;
  s->store = dev->store;
  s->keyring = dev->kr;
  s->rng = &nd->rng;
  s->unicast4 = tn_ipv4(10, 0, 0, (uint8_t)(i + 1), 0);
  s->n_groups = 1;
  s->groups[0].id = TN_GROUP;
  s->groups[0].mcast = tn_ipv4(239, 1, 1, 1, 0);
  s->groups[0].media_port = TN_MEDIA_PORT;
  s->groups[0].floor_port = TN_FLOOR_PORT;
  s->groups[0].app_port = TN_APP_PORT;
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
