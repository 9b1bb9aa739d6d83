/*
 * The node: creation and teardown, the sockets it needs, the receive
 * dispatch, the timer scan, the user actions and status queries.
 *
 * Timers the node runs itself (besides those of its engines):
 *   rekey   per group call: armed at the activation time of the group's next
 *           GMK or the expiry of the current one (node_media.c); on expiry
 *           the GMK to transmit with is looked up again.
 *   sweep   no timer: every on_timeout forgets the PCKs of private calls the
 *           call engine no longer runs (node_pck_sweep), so a key never
 *           outlives its call even if no event said the call ended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "node_internal.h"
#include "prose/err.h"
#include "prose/util.h"

/* Defaults of the settings the engines do not own. The discovery group is
 * an administratively scoped address (RFC 2365) so announcements stay on
 * the site; the private call ports follow the call engine's defaults. */
#define NODE_DEF_DISC_GROUP {239, 255, 88, 9}
#define NODE_DEF_DISC_PORT 8810u
#define NODE_DEF_PRIVATE_AUDIO 20000u
#define NODE_DEF_PRIVATE_FLOOR 20002u
#define NODE_DEF_PRIVATE_APP 21000u

void prose_node_settings_default(prose_node_settings *s) {
  static const uint8_t disc_group[4] = NODE_DEF_DISC_GROUP;
  if (s == NULL) return;
  memset(s, 0, sizeof *s);
  s->disc_mcast.family = PROSE_DISC_AF_IPV4;
  memcpy(s->disc_mcast.ip, disc_group, sizeof disc_group);
  s->disc_mcast.port = NODE_DEF_DISC_PORT;
  s->call_port = PROSE_DISC_CALL_PORT;
  s->private_audio_port = NODE_DEF_PRIVATE_AUDIO;
  s->private_floor_port = NODE_DEF_PRIVATE_FLOOR;
  s->private_app_port = NODE_DEF_PRIVATE_APP;
  s->app_addr.family = PROSE_DISC_AF_IPV4;
  s->app_addr.ip[0] = 127;
  s->app_addr.ip[3] = 1;
  prose_floor_settings_default(&s->floor);
  prose_call_settings_default(&s->call);
  prose_disc_settings_default(&s->disc);
}

/* ---------------------------------------------------------------------- */
/* Helpers shared by the node's files                                       */
/* ---------------------------------------------------------------------- */

void node_emit(prose_node *n, const prose_node_event *ev) {
  if (n->cb.event) n->cb.event(n->ud, ev);
}

void node_error(prose_node *n, const char *group, const char *peer, int err, const char *text) {
  prose_node_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = PROSE_NODE_EV_ERROR;
  ev.now = n->now;
  ev.group = group;
  ev.peer = peer;
  ev.err = err;
  ev.text = text;
  node_emit(n, &ev);
}

int node_send(prose_node *n, prose_node_sock sock, uint16_t local_port, const prose_node_addr *to,
              const uint8_t *bytes, size_t len) {
  int rc = n->cb.send(n->ud, sock, local_port, to, bytes, len);
  if (rc != 0)
    n->ctr.tx_failed++;
  else
    n->ctr.tx_dgrams++;
  return rc;
}

uint64_t node_wall(prose_node *n) { return n->cb.wall_ntp(n->ud, n->now); }

void node_defer_add(prose_node *n, node_defer_op op, const char *peer) {
  for (size_t i = 0; i < NODE_DEFER_SLOTS; i++) {
    node_defer *d = &n->defer[i];
    if (d->op != NODE_DEFER_NONE) continue;
    d->op = op;
    snprintf(d->peer, sizeof d->peer, "%s", peer);
    return;
  }
  /* Eight private call machines exist at most, so the table cannot fill
   * unless the engine misbehaves; the sweep then ends what stays behind. */
  node_error(n, NULL, peer, PROSE_ERANGE, "deferred action dropped");
}

node_group *node_group_find(prose_node *n, const char *id) {
  if (id == NULL) return NULL;
  for (size_t i = 0; i < n->n_groups; i++)
    if (strcmp(n->groups[i].id, id) == 0) return &n->groups[i];
  return NULL;
}

bool node_addr_to_str(const prose_node_addr *a, char *out, size_t cap) {
  if (a->family == PROSE_DISC_AF_IPV4) return inet_ntop(AF_INET, a->ip, out, (socklen_t)cap);
  if (a->family == PROSE_DISC_AF_IPV6) return inet_ntop(AF_INET6, a->ip, out, (socklen_t)cap);
  return false;
}

bool node_addr_from_str(const char *s, uint16_t port, prose_node_addr *out) {
  memset(out, 0, sizeof *out);
  out->port = port;
  if (inet_pton(AF_INET, s, out->ip) == 1) {
    out->family = PROSE_DISC_AF_IPV4;
    return true;
  }
  if (inet_pton(AF_INET6, s, out->ip) == 1) {
    out->family = PROSE_DISC_AF_IPV6;
    return true;
  }
  memset(out, 0, sizeof *out);
  return false;
}

static bool addr_eq(const prose_node_addr *a, const prose_node_addr *b) {
  if (a->family != b->family || a->family == PROSE_DISC_AF_NONE) return false;
  size_t len = a->family == PROSE_DISC_AF_IPV4 ? 4u : 16u;
  return memcmp(a->ip, b->ip, len) == 0;
}

static uint64_t ntp64(uint64_t ntp_s) { return ntp_s << 32; }

/* ---------------------------------------------------------------------- */
/* Deferred call engine actions                                             */
/* ---------------------------------------------------------------------- */

/* Run the actions the call engine's callbacks asked for. Each action may
 * emit events that defer more (an accept that fails, say), so loop until the
 * table stays empty; every action consumes its slot, so this ends. */
static void run_deferred(prose_node *n) {
  for (unsigned round = 0; round < 4u * NODE_DEFER_SLOTS; round++) {
    node_defer d = {NODE_DEFER_NONE, ""};
    for (size_t i = 0; i < NODE_DEFER_SLOTS && d.op == NODE_DEFER_NONE; i++) {
      if (n->defer[i].op == NODE_DEFER_NONE) continue;
      d = n->defer[i];
      n->defer[i].op = NODE_DEFER_NONE;
    }
    if (d.op == NODE_DEFER_NONE) return;
    int rc = 0;
    n->in_call_engine = true;
    switch (d.op) {
      case NODE_DEFER_ACCEPT: rc = prose_call_private_accept(n->call, n->now, d.peer); break;
      case NODE_DEFER_REJECT: rc = prose_call_private_reject(n->call, n->now, d.peer); break;
      case NODE_DEFER_RELEASE: rc = prose_call_private_release(n->call, n->now, d.peer); break;
      case NODE_DEFER_NONE: break;
    }
    n->in_call_engine = false;
    if (rc != 0) node_error(n, NULL, d.peer, rc, "deferred private call action failed");
  }
}

/* Every entry into the call engine is bracketed by these two, so the node
 * refuses re-entry from the engine's callbacks and runs the deferred actions
 * as soon as the engine has returned:
 * IN_ENGINE below does both around one expression. */
static void engine_enter(prose_node *n) { n->in_call_engine = true; }

static int engine_leave(prose_node *n, int rc) {
  n->in_call_engine = false;
  run_deferred(n);
  return rc;
}

/* The comma operator orders the two: enter, then evaluate the call. */
#define IN_ENGINE(n, expr) (engine_enter(n), engine_leave((n), (expr)))

/* ---------------------------------------------------------------------- */
/* Creation                                                                 */
/* ---------------------------------------------------------------------- */

static int disc_send(void *ud, const uint8_t *bytes, size_t len) {
  prose_node *n = ud;
  return node_send(n, PROSE_SOCK_DISC, n->set.disc_mcast.port, &n->set.disc_mcast, bytes, len);
}

static const char *disc_event_text(prose_disc_event_type t) {
  switch (t) {
    case PROSE_DISC_EV_PEER_ADDED: return "added";
    case PROSE_DISC_EV_PEER_UPDATED: return "updated";
    case PROSE_DISC_EV_PEER_EXPIRED: return "expired";
    case PROSE_DISC_EV_PEER_LEFT: return "left";
    case PROSE_DISC_EV_PEER_EVICTED: return "evicted";
    case PROSE_DISC_EV_REJECTED: return "announcement rejected";
    case PROSE_DISC_EV_ANNOUNCE_FAILED: return "announcement failed";
  }
  return "?";
}

static void disc_event(void *ud, const prose_disc_event *dev) {
  prose_node *n = ud;
  prose_node_event ev;
  memset(&ev, 0, sizeof ev);
  ev.now = n->now;
  ev.text = disc_event_text(dev->type);
  switch (dev->type) {
    case PROSE_DISC_EV_PEER_ADDED:
    case PROSE_DISC_EV_PEER_UPDATED:
    case PROSE_DISC_EV_PEER_EXPIRED:
    case PROSE_DISC_EV_PEER_LEFT:
    case PROSE_DISC_EV_PEER_EVICTED:
      ev.type = PROSE_NODE_EV_PEER;
      ev.peer = dev->peer ? dev->peer->ann.mcptt_id : NULL;
      break;
    case PROSE_DISC_EV_REJECTED:
      /* Rejected announcements are counted by the discovery engine; an
       * event per forged or replayed datagram would let anyone flood the
       * control socket, so only our own failures are reported. */
      return;
    case PROSE_DISC_EV_ANNOUNCE_FAILED:
      ev.type = PROSE_NODE_EV_ERROR;
      ev.err = dev->reason;
      break;
  }
  node_emit(n, &ev);
}

/* Each media, floor and application port belongs to one call: the node
 * finds the call of a datagram by the port it arrived on. */
static bool ports_distinct(const prose_node_settings *s) {
  uint16_t ports[3u * PROSE_NODE_MAX_GROUPS + 3u];
  size_t n = 0;
  ports[n++] = s->private_audio_port;
  ports[n++] = s->private_floor_port;
  ports[n++] = s->private_app_port;
  for (size_t i = 0; i < s->n_groups; i++) {
    ports[n++] = s->groups[i].media_port;
    ports[n++] = s->groups[i].floor_port;
    ports[n++] = s->groups[i].app_port;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++)
      if (ports[i] == ports[j]) return false;
  return true;
}

static int check_settings(const prose_node_settings *s, const prose_node_callbacks *cb) {
  if (s->uri == NULL || s->uri[0] == '\0' || s->kms_uri == NULL || s->kms_uri[0] == '\0')
    return PROSE_EINVAL;
  if (strlen(s->uri) >= NODE_URI_CAP || strlen(s->kms_uri) >= NODE_URI_CAP) return PROSE_EINVAL;
  if (s->keyring == NULL || s->rng == NULL || s->rng->fill == NULL) return PROSE_EINVAL;
  if (cb->send == NULL || cb->wall_ntp == NULL) return PROSE_EINVAL;
  if (strcmp(prose_keyring_own_uri(s->keyring), s->uri) != 0) return PROSE_EINVAL;
  if (s->unicast4.family != PROSE_DISC_AF_IPV4 && s->unicast6.family != PROSE_DISC_AF_IPV6)
    return PROSE_EINVAL;
  if (s->n_groups > PROSE_NODE_MAX_GROUPS) return PROSE_ECONFIG;
  if (s->disc_mcast.family == PROSE_DISC_AF_NONE || s->disc_mcast.port == 0 ||
      s->call_port == 0 || s->private_audio_port == 0 || s->private_floor_port == 0 ||
      s->private_app_port == 0 || s->private_app_port == UINT16_MAX ||
      s->app_addr.family == PROSE_DISC_AF_NONE)
    return PROSE_ECONFIG;
  for (size_t i = 0; i < s->n_groups; i++) {
    const prose_node_group *g = &s->groups[i];
    if (g->id == NULL || g->id[0] == '\0' || strlen(g->id) >= NODE_URI_CAP) return PROSE_ECONFIG;
    if (g->media_port == 0 || g->floor_port == 0 || g->app_port == 0 ||
        g->app_port == UINT16_MAX || g->mcast.family == PROSE_DISC_AF_NONE)
      return PROSE_ECONFIG;
    for (size_t j = 0; j < i; j++)
      if (strcmp(s->groups[j].id, g->id) == 0) return PROSE_ECONFIG;
  }
  return ports_distinct(s) ? 0 : PROSE_ECONFIG;
}

static void copy_settings(prose_node *n, const prose_node_settings *s) {
  n->set = *s;
  snprintf(n->uri, sizeof n->uri, "%s", s->uri);
  snprintf(n->kms, sizeof n->kms, "%s", s->kms_uri);
  n->set.uri = n->uri;
  n->set.kms_uri = n->kms;
  n->rng = *s->rng;
  n->n_groups = s->n_groups;
  for (size_t i = 0; i < s->n_groups; i++) {
    node_group *g = &n->groups[i];
    snprintf(g->id, sizeof g->id, "%s", s->groups[i].id);
    snprintf(n->group_ids[i], sizeof n->group_ids[i], "%s", s->groups[i].id);
    n->set.groups[i].id = n->group_ids[i];
    g->mcast = s->groups[i].mcast;
    g->media_port = s->groups[i].media_port;
    g->floor_port = s->groups[i].floor_port;
    g->app_port = s->groups[i].app_port;
    g->call.n = n;
    g->call.group = g;
    g->call.rekey_at = UINT64_MAX;
  }
  n->priv.n = n;
  n->priv.is_private = true;
  n->priv.rekey_at = UINT64_MAX;
}

static int make_disc(prose_node *n) {
  prose_disc_settings ds = n->set.disc;
  ds.kms_uri = n->kms;
  memset(&ds.local, 0, sizeof ds.local);
  if (n->set.unicast4.family == PROSE_DISC_AF_IPV4) {
    ds.local.has_ipv4 = true;
    memcpy(ds.local.ipv4, n->set.unicast4.ip, 4);
  }
  if (n->set.unicast6.family == PROSE_DISC_AF_IPV6) {
    ds.local.has_ipv6 = true;
    memcpy(ds.local.ipv6, n->set.unicast6.ip, 16);
  }
  ds.local.call_port = n->set.call_port;
  ds.local.n_ports = 2;
  ds.local.ports[0] = (prose_disc_port){PROSE_DISC_PORT_MEDIA, n->set.private_audio_port};
  ds.local.ports[1] = (prose_disc_port){PROSE_DISC_PORT_FLOOR, n->set.private_floor_port};
  ds.local.caps = n->set.disc.local.caps | PROSE_DISC_CAP_GROUP_CALL |
                  PROSE_DISC_CAP_PRIVATE_CALL | PROSE_DISC_CAP_EMERGENCY |
                  PROSE_DISC_CAP_IMMINENT_PERIL;
  if (n->set.floor.queueing) ds.local.caps |= PROSE_DISC_CAP_QUEUEING;
  prose_disc_callbacks cb = {disc_send, disc_event};
  return prose_disc_new(&n->disc, n->set.keyring, &n->rng, &ds, &cb, n);
}

static int make_call(prose_node *n) {
  char addr[64], alt[64];
  bool dual = n->set.unicast4.family == PROSE_DISC_AF_IPV4 &&
              n->set.unicast6.family == PROSE_DISC_AF_IPV6;
  const prose_node_addr *own =
      n->set.unicast4.family == PROSE_DISC_AF_IPV4 ? &n->set.unicast4 : &n->set.unicast6;
  if (!node_addr_to_str(own, addr, sizeof addr)) return PROSE_EINVAL;
  if (dual && !node_addr_to_str(&n->set.unicast6, alt, sizeof alt)) return PROSE_EINVAL;
  prose_call_settings cs = n->set.call;
  cs.mcptt_id = n->uri;
  cs.unicast_addr = addr;
  /* A dual-stack node offers the address of the family its peer uses
   * (prose_node_call_private; the callee follows the offer). */
  cs.unicast_addr_alt = dual ? alt : NULL;
  cs.audio_port = n->set.private_audio_port;
  cs.floor_port = n->set.private_floor_port;
  /* Every private call must carry its PCK: the node never runs one in the clear. */
  cs.require_key_mgmt = true;
  prose_call_callbacks cb;
  node_call_callbacks(&cb);
  int rc = prose_call_engine_new(&n->call, &cs, &cb, n, &n->rng);
  for (size_t i = 0; rc == 0 && i < n->n_groups; i++) {
    const node_group *g = &n->groups[i];
    if (!node_addr_to_str(&g->mcast, addr, sizeof addr)) return PROSE_ECONFIG;
    rc = prose_call_group_add(n->call, g->id, addr, g->media_port, g->floor_port);
  }
  return rc == PROSE_EINVAL || rc == PROSE_EEXIST || rc == PROSE_ERANGE ? PROSE_ECONFIG : rc;
}

int prose_node_new(prose_node **out, const prose_node_settings *s, const prose_node_callbacks *cb,
                   void *ud, uint64_t now) {
  if (out == NULL || s == NULL || cb == NULL) return PROSE_EINVAL;
  *out = NULL;
  int rc = check_settings(s, cb);
  if (rc != 0) return rc;
  rc = prose_media_lib_init();
  if (rc != 0) return rc;
  prose_node *n = calloc(1, sizeof *n);
  if (n == NULL) return PROSE_ENOMEM;
  n->cb = *cb;
  n->ud = ud;
  n->now = now;
  copy_settings(n, s);
  rc = make_disc(n);
  if (rc == 0) rc = make_call(n);
  if (rc != 0) {
    prose_call_engine_free(n->call);
    prose_disc_free(n->disc);
    free(n);
    return rc == PROSE_EUNKNOWN_KMS || rc == PROSE_ENOMEM || rc == PROSE_EINVAL ? rc
                                                                                 : PROSE_ECONFIG;
  }
  *out = n;
  return 0;
}

void prose_node_leave(prose_node *n, uint64_t now) {
  if (n == NULL || n->left) return;
  n->left = true;
  n->now = now;
  (void)prose_disc_leave(n->disc, now, ntp64(node_wall(n)));
  /* Leave every call through the call engine first, so peers hear a
   * PRIVATE CALL RELEASE and the floor a Floor Release; the engine's events
   * end the media sessions. What is left is ended directly. */
  char peer[NODE_URI_CAP];
  if (n->priv.active) {
    snprintf(peer, sizeof peer, "%s", n->priv.peer);
    (void)IN_ENGINE(n, prose_call_private_release(n->call, now, peer));
  }
  if (n->outgoing[0]) {
    snprintf(peer, sizeof peer, "%s", n->outgoing);
    (void)IN_ENGINE(n, prose_call_private_release(n->call, now, peer));
  }
  for (size_t i = 0; i < n->n_groups; i++)
    if (n->groups[i].call.active)
      (void)IN_ENGINE(n, prose_call_group_release(n->call, now, n->groups[i].id));
}

void prose_node_free(prose_node *n, uint64_t now) {
  if (n == NULL) return;
  prose_node_leave(n, now);
  n->now = now;
  for (size_t i = 0; i < n->n_groups; i++) node_call_end(n, &n->groups[i].call);
  node_call_end(n, &n->priv);
  for (size_t i = 0; i < PROSE_CALL_MAX_PRIVATE; i++) node_pck_drop(n, &n->pcks[i], true);
  prose_call_engine_free(n->call);
  prose_disc_free(n->disc);
  prose_wipe(n->rx, sizeof n->rx);
  prose_wipe(n->tx, sizeof n->tx);
  free(n);
}

/* ---------------------------------------------------------------------- */
/* Sockets                                                                  */
/* ---------------------------------------------------------------------- */

void prose_node_sockets(const prose_node_settings *s, prose_node_sock_fn fn, void *ud) {
  if (s == NULL || fn == NULL) return;
  size_t ng = s->n_groups < PROSE_NODE_MAX_GROUPS ? s->n_groups : PROSE_NODE_MAX_GROUPS;
  fn(ud, PROSE_SOCK_CALL, s->call_port, NULL);
  for (size_t i = 0; i < ng; i++) fn(ud, PROSE_SOCK_CALL, s->call_port, &s->groups[i].mcast);
  fn(ud, PROSE_SOCK_DISC, s->disc_mcast.port, &s->disc_mcast);
  for (size_t i = 0; i < ng; i++) {
    fn(ud, PROSE_SOCK_MEDIA, s->groups[i].media_port, &s->groups[i].mcast);
    fn(ud, PROSE_SOCK_FLOOR, s->groups[i].floor_port, &s->groups[i].mcast);
    fn(ud, PROSE_SOCK_APP, s->groups[i].app_port, NULL);
  }
  fn(ud, PROSE_SOCK_MEDIA, s->private_audio_port, NULL);
  fn(ud, PROSE_SOCK_FLOOR, s->private_floor_port, NULL);
  fn(ud, PROSE_SOCK_APP, s->private_app_port, NULL);
}

/* ---------------------------------------------------------------------- */
/* Receiving                                                                */
/* ---------------------------------------------------------------------- */

/* The call whose socket (sock, port) is, or NULL when the node uses no such
 * socket. The private call's ports come after the groups', so a group that
 * shares a port number with them wins (the configuration should not). */
static node_call *call_of_port(prose_node *n, prose_node_sock sock, uint16_t port) {
  for (size_t i = 0; i < n->n_groups; i++) {
    node_group *g = &n->groups[i];
    if ((sock == PROSE_SOCK_MEDIA && port == g->media_port) ||
        (sock == PROSE_SOCK_FLOOR && port == g->floor_port) ||
        (sock == PROSE_SOCK_APP && port == g->app_port))
      return &g->call;
  }
  if ((sock == PROSE_SOCK_MEDIA && port == n->set.private_audio_port) ||
      (sock == PROSE_SOCK_FLOOR && port == n->set.private_floor_port) ||
      (sock == PROSE_SOCK_APP && port == n->set.private_app_port))
    return &n->priv;
  return NULL;
}

/* Our own multicast coming back (IP_MULTICAST_LOOP): it was sent from our
 * unicast address and from the very port it arrives on. */
static bool is_own(const prose_node *n, uint16_t local_port, const prose_node_addr *from) {
  if (from == NULL || from->port != local_port) return false;
  return addr_eq(from, &n->set.unicast4) || addr_eq(from, &n->set.unicast6);
}

static void call_rx(prose_node *n, const prose_node_addr *from, const uint8_t *bytes,
                    size_t len) {
  char who[64] = "";
  if (from) (void)node_addr_to_str(from, who, sizeof who);
  int rc = IN_ENGINE(n, prose_call_recv(n->call, n->now, bytes, len, who));
  if (rc != 0) n->ctr.call_rx_errors++;
}

int prose_node_recv(prose_node *n, uint64_t now, prose_node_sock sock, uint16_t local_port,
                    const prose_node_addr *from, const uint8_t *bytes, size_t len) {
  if (n == NULL || (bytes == NULL && len > 0) || n->in_call_engine) return PROSE_EINVAL;
  n->now = now;
  n->ctr.rx_dgrams++;
  if (sock != PROSE_SOCK_APP && is_own(n, local_port, from)) {
    n->ctr.rx_own++;
    return 0;
  }
  switch (sock) {
    case PROSE_SOCK_CALL:
      if (local_port != n->set.call_port) break;
      call_rx(n, from, bytes, len);
      return 0;
    case PROSE_SOCK_DISC:
      if (local_port != n->set.disc_mcast.port) break;
      (void)prose_disc_recv(n->disc, now, ntp64(node_wall(n)), bytes, len, from);
      return 0;
    case PROSE_SOCK_MEDIA:
    case PROSE_SOCK_FLOOR:
    case PROSE_SOCK_APP: {
      node_call *c = call_of_port(n, sock, local_port);
      if (c == NULL) break;
      if (!c->active) {
        if (sock == PROSE_SOCK_APP)
          n->ctr.app_dropped_no_call++;
        else
          n->ctr.rx_no_call++;
        return 0;
      }
      if (sock == PROSE_SOCK_MEDIA) node_media_rx(n, c, bytes, len);
      if (sock == PROSE_SOCK_FLOOR) node_floor_rx(n, c, bytes, len);
      if (sock == PROSE_SOCK_APP) {
        /* Symmetric RTP: only the socket the node delivers to may talk. */
        if (n->set.app_symmetric &&
            (from == NULL || !addr_eq(from, &n->set.app_addr) || from->port != local_port + 1u)) {
          n->ctr.app_dropped_foreign++;
          return 0;
        }
        node_app_rx(n, c, bytes, len);
      }
      return 0;
    }
  }
  n->ctr.rx_bad_sock++;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Timers                                                                   */
/* ---------------------------------------------------------------------- */

int prose_node_on_timeout(prose_node *n, uint64_t now) {
  if (n == NULL || n->in_call_engine) return PROSE_EINVAL;
  n->now = now;
  if (prose_disc_next_deadline(n->disc) <= now)
    (void)prose_disc_on_timeout(n->disc, now, ntp64(node_wall(n)));
  if (prose_call_next_deadline(n->call) <= now)
    (void)IN_ENGINE(n, prose_call_on_timeout(n->call, now));
  for (size_t i = 0; i < n->n_groups; i++) node_call_timeout(n, &n->groups[i].call);
  node_call_timeout(n, &n->priv);
  node_pck_sweep(n);
  return 0;
}

uint64_t prose_node_next_deadline(const prose_node *n) {
  if (n == NULL) return UINT64_MAX;
  uint64_t m = prose_disc_next_deadline(n->disc);
  uint64_t c = prose_call_next_deadline(n->call);
  if (c < m) m = c;
  for (size_t i = 0; i < n->n_groups; i++) {
    uint64_t g = node_call_deadline(&n->groups[i].call);
    if (g < m) m = g;
  }
  uint64_t p = node_call_deadline(&n->priv);
  return p < m ? p : m;
}

/* ---------------------------------------------------------------------- */
/* User actions                                                             */
/* ---------------------------------------------------------------------- */

int prose_node_call_group(prose_node *n, uint64_t now, const char *group,
                          prose_monp_call_type type) {
  if (n == NULL || n->in_call_engine) return PROSE_EINVAL;
  n->now = now;
  node_group *g = node_group_find(n, group);
  if (g == NULL) return PROSE_ENOENT;
  if (type == PROSE_MONP_CALL_PRIVATE || type == PROSE_MONP_CALL_EMERGENCY_PRIVATE)
    return PROSE_EINVAL;
  /* A call we may end up originating must be keyed: check the GMK before
   * anything goes on the air (DESIGN §3: media is never sent in the clear). */
  if (n->set.store == NULL) return PROSE_ENOKEY;
  prose_store_gmk k;
  int rc = prose_store_gmk_tx(n->set.store, g->id, node_wall(n), &k);
  prose_store_gmk_wipe(&k);
  if (rc != 0) {
    n->ctr.no_gmk++;
    return rc == PROSE_ENOKEY ? PROSE_ENOKEY : rc;
  }
  rc = IN_ENGINE(n, prose_call_group_call(n->call, now, g->id, type));
  /* Probing (S2) until a call answers or TFG1 makes us the originator; a
   * hangup meanwhile cancels it. */
  prose_call_group_info gi;
  if (rc == 0 && prose_call_group_get(n->call, g->id, &gi) == 0 && gi.state == PROSE_CALL_S2)
    n->probing = g;
  return rc;
}

int prose_node_call_private(prose_node *n, uint64_t now, const char *peer_uri, bool manual,
                            bool emergency) {
  if (n == NULL || peer_uri == NULL || n->in_call_engine) return PROSE_EINVAL;
  n->now = now;
  if (prose_disc_find(n->disc, peer_uri) == NULL) return PROSE_ENOENT;
  /* One private media session at a time: the private ports carry one call. */
  if (n->priv.active || n->outgoing[0]) return PROSE_EINVAL;
  prose_monp_commencement mode =
      manual ? PROSE_MONP_COMMENCEMENT_MANUAL : PROSE_MONP_COMMENCEMENT_AUTOMATIC;
  /* The SDP offer carries our address of the family call control reaches
   * the peer on: an IPv6-only peer of a dual-stack node gets the IPv6 one. */
  prose_node_addr to;
  bool v6 = node_peer_addr(n, peer_uri, &to) == 0 && to.family == PROSE_DISC_AF_IPV6;
  int rc = IN_ENGINE(n, prose_call_private_call_af(n->call, now, peer_uri, mode, emergency, v6));
  if (rc == 0) {
    snprintf(n->outgoing, sizeof n->outgoing, "%s", peer_uri);
  } else {
    /* The hook may have made a key before the engine refused the call. */
    node_pck *k = node_pck_find(n, peer_uri);
    if (k) node_pck_drop(n, k, true);
  }
  return rc;
}

int prose_node_accept(prose_node *n, uint64_t now) {
  if (n == NULL || n->in_call_engine) return PROSE_EINVAL;
  n->now = now;
  if (n->ringing[0] == '\0' || n->priv.active) return PROSE_EINVAL;
  /* A copy: the engine's events rewrite n->ringing while it runs. */
  char peer[NODE_URI_CAP];
  snprintf(peer, sizeof peer, "%s", n->ringing);
  return IN_ENGINE(n, prose_call_private_accept(n->call, now, peer));
}

int prose_node_reject(prose_node *n, uint64_t now) {
  if (n == NULL || n->in_call_engine) return PROSE_EINVAL;
  n->now = now;
  if (n->ringing[0] == '\0') return PROSE_EINVAL;
  char peer[NODE_URI_CAP];
  snprintf(peer, sizeof peer, "%s", n->ringing);
  n->ringing[0] = '\0';
  return IN_ENGINE(n, prose_call_private_reject(n->call, now, peer));
}

int prose_node_hangup(prose_node *n, uint64_t now) {
  if (n == NULL || n->in_call_engine) return PROSE_EINVAL;
  n->now = now;
  char peer[NODE_URI_CAP];
  /* A group call still probing is the user's latest action and has no
   * media yet (n->current is another call or none): cancel the probing.
   * The engine stops TFG3 and ignores the call that may still answer (S7,
   * then S6 for TFG5); the S2 -> S7 event reports the call ended. */
  if (n->probing != NULL)
    return IN_ENGINE(n, prose_call_group_release(n->call, now, n->probing->id));
  node_call *c = n->current;
  if (c != NULL && c->active && !c->is_private)
    return IN_ENGINE(n, prose_call_group_release(n->call, now, c->group->id));
  if (c != NULL && c->active) {
    snprintf(peer, sizeof peer, "%s", c->peer);
  } else if (n->outgoing[0]) {
    snprintf(peer, sizeof peer, "%s", n->outgoing);
  } else {
    return PROSE_EINVAL;
  }
  return IN_ENGINE(n, prose_call_private_release(n->call, now, peer));
}

int prose_node_select(prose_node *n, const char *group, const char *peer) {
  if (n == NULL || (group == NULL) == (peer == NULL) || n->in_call_engine) return PROSE_EINVAL;
  node_call *c = NULL;
  if (group) {
    node_group *g = node_group_find(n, group);
    if (g && g->call.active) c = &g->call;
  } else if (n->priv.active && strcmp(n->priv.peer, peer) == 0) {
    c = &n->priv;
  }
  if (c == NULL) return PROSE_ENOENT;
  /* The user's latest choice: a probing group is no longer what hangup
   * means by default. */
  n->current = c;
  n->probing = NULL;
  return 0;
}

int prose_node_hangup_call(prose_node *n, uint64_t now, const char *group, const char *peer) {
  if (n == NULL || (group == NULL) == (peer == NULL) || n->in_call_engine) return PROSE_EINVAL;
  n->now = now;
  if (group) {
    node_group *g = node_group_find(n, group);
    if (g == NULL || !(g->call.active || n->probing == g)) return PROSE_ENOENT;
    return IN_ENGINE(n, prose_call_group_release(n->call, now, g->id));
  }
  if (!(n->priv.active && strcmp(n->priv.peer, peer) == 0) && strcmp(n->outgoing, peer) != 0)
    return PROSE_ENOENT;
  char copy[NODE_URI_CAP];
  snprintf(copy, sizeof copy, "%s", peer);
  return IN_ENGINE(n, prose_call_private_release(n->call, now, copy));
}

const char *prose_node_ringing(const prose_node *n) {
  return n && n->ringing[0] ? n->ringing : NULL;
}

static node_call *call_for_ptt(prose_node *n, const char *group) {
  if (group == NULL) return n->current && n->current->active ? n->current : NULL;
  node_group *g = node_group_find(n, group);
  return g && g->call.active ? &g->call : NULL;
}

int prose_node_ptt_press(prose_node *n, uint64_t now, const char *group, int priority) {
  if (n == NULL || n->in_call_engine) return PROSE_EINVAL;
  n->now = now;
  node_call *c = call_for_ptt(n, group);
  if (c == NULL) return group && !node_group_find(n, group) ? PROSE_ENOENT : PROSE_EINVAL;
  /* Without a key our floor requests could not be protected, so asking for
   * the floor would only end in taking it unheard. */
  if (!c->tx_key) return PROSE_ENOKEY;
  /* T230 (inactivity) returns the floor participant to 'Start-stop' while
   * the call goes on; a press restarts it as a participant that joined. */
  if (prose_floor_get_state(c->floor) == PROSE_FLOOR_START_STOP) {
    int rc = prose_floor_start(c->floor, now, PROSE_FLOOR_ROLE_TERMINATING);
    if (rc != 0) return rc;
  }
  return prose_floor_ptt_press(c->floor, now, priority);
}

int prose_node_ptt_release(prose_node *n, uint64_t now, const char *group) {
  if (n == NULL || n->in_call_engine) return PROSE_EINVAL;
  n->now = now;
  node_call *c = call_for_ptt(n, group);
  if (c == NULL) return group && !node_group_find(n, group) ? PROSE_ENOENT : PROSE_EINVAL;
  return prose_floor_ptt_release(c->floor, now);
}

/* ---------------------------------------------------------------------- */
/* Status                                                                   */
/* ---------------------------------------------------------------------- */

static void fill_info(const prose_node *n, const node_call *c, prose_node_call_info *out) {
  memset(out, 0, sizeof *out);
  out->active = c->active;
  out->private_call = c->is_private;
  out->call_state = "";
  if (c->is_private) {
    out->peer = c->peer;
    prose_call_private_info pi;
    if (prose_call_private_get(n->call, c->peer, &pi) == 0) {
      out->call_state = prose_call_private_state_name(pi.state);
      out->has_call_id = true;
      out->call_id = pi.call_id;
    }
  } else {
    out->group = c->group->id;
    prose_call_group_info gi;
    if (prose_call_group_get(n->call, c->group->id, &gi) == 0) {
      out->call_state = prose_call_group_state_name(gi.state);
      out->has_call_id = gi.state == PROSE_CALL_S3;
      out->call_id = gi.call_id;
    }
  }
  out->floor_state = c->floor ? prose_floor_state_name(prose_floor_get_state(c->floor)) : "";
  out->talker = "";
  const char *who = NULL;
  if (c->floor && prose_floor_talker(c->floor, NULL, &who) && who) out->talker = who;
  out->may_send_media = c->may_send && c->tx_key;
}

bool prose_node_call_at(const prose_node *n, size_t i, prose_node_call_info *out) {
  if (n == NULL || out == NULL) return false;
  size_t k = 0;
  for (size_t g = 0; g < n->n_groups; g++) {
    if (!n->groups[g].call.active) continue;
    if (k++ == i) {
      fill_info(n, &n->groups[g].call, out);
      return true;
    }
  }
  if (n->priv.active && k == i) {
    fill_info(n, &n->priv, out);
    return true;
  }
  return false;
}

const prose_node_counters *prose_node_get_counters(const prose_node *n) {
  return n ? &n->ctr : NULL;
}

const prose_disc *prose_node_discovery(const prose_node *n) { return n ? n->disc : NULL; }

prose_disc *prose_node_discovery_mut(prose_node *n) { return n ? n->disc : NULL; }

const char *prose_node_uri(const prose_node *n) { return n ? n->uri : NULL; }
