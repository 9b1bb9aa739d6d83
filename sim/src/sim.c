/*
 * The run: nodes, the medium's fan-out, the simulated application and user,
 * the timeline, and the discrete-event loop.
 *
 * Loop (STYLE 15): the next step is the earliest of the event queue's head
 * (a datagram arrival, a timeline action, an application frame, the end of
 * a `talk`) and the node heap's head (a node's deadline); equal times go to
 * the event queue first, in scheduling order. Virtual time jumps there and
 * that one thing happens. Nothing else moves time, so a run is a pure
 * function of the scenario and the seed.
 *
 * Each node is driven exactly as prosed drives it (prosed/src/daemon.c):
 * its sends go to the medium, its deadline is re-read after every call into
 * it, its wall clock is virtual time plus the node's offset. The simulated
 * application sends a 20 ms frame (PCMU-sized) on the node's APP port while
 * its user holds PTT and the floor is granted (a user talks after the talk
 * permit), and takes what the node delivers; frames carry an id and the
 * time they were spoken, for mouth-to-ear latency and delivery.
 *
 * Virtual CPU (docs/sim.md): the crypto work of a datagram or action costs
 * virtual time on its node. The node is busy meanwhile: what it sends
 * leaves when the work is done, and what arrives waits. That puts the
 * SAKKE/ECCSI work into the private call setup time without reading a
 * clock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prose/call_msg.h"
#include "prose/err.h"
#include "prose/util.h"
#include "sim_internal.h"

#define SEED_MEDIUM 0x4D454449554D0000ull
#define SEED_NODE 0x4E4F444500000000ull
#define STUCK_LIMIT 1000u /* on_timeout calls at one instant before a node is held back */

/* ---- addresses ----------------------------------------------------------- */

uint32_t sim_node_ip(size_t i) { return (10u << 24) + (uint32_t)i + 1u; }

bool sim_ip_to_node(const sim *s, uint32_t ip, size_t *i) {
  if ((ip >> 24) != 10u || ip - (10u << 24) == 0) return false;
  size_t k = (size_t)(ip - (10u << 24)) - 1u;
  if (k >= s->n) return false;
  *i = k;
  return true;
}

uint32_t sim_ip_of(const prose_node_addr *a) {
  if (a->family != PROSE_DISC_AF_IPV4) return 0;
  return (uint32_t)a->ip[0] << 24 | (uint32_t)a->ip[1] << 16 | (uint32_t)a->ip[2] << 8 | a->ip[3];
}

static prose_node_addr addr_of(uint32_t ip, uint16_t port) {
  prose_node_addr a;
  memset(&a, 0, sizeof a);
  a.family = PROSE_DISC_AF_IPV4;
  a.ip[0] = (uint8_t)(ip >> 24), a.ip[1] = (uint8_t)(ip >> 16), a.ip[2] = (uint8_t)(ip >> 8);
  a.ip[3] = (uint8_t)ip;
  a.port = port;
  return a;
}

int sim_group_slot(const sim *s, const char *group_uri) {
  if (group_uri == NULL) return -1;
  for (size_t g = 0; g < s->sc.n_groups; g++)
    if (strcmp(s->sc.groups[g].uri, group_uri) == 0) return (int)g;
  return -1;
}

static long node_by_uri(const sim *s, const char *uri) {
  if (uri == NULL) return -1;
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->sc.nodes[i].uri, uri) == 0) return (long)i;
  return -1;
}

static uint64_t ms_of(uint64_t us) { return us / 1000u; }

/* ---- the medium's fan-out ------------------------------------------------- */

static sim_mcast *mcast_find(sim *s, uint32_t ip, uint16_t port, bool create) {
  for (size_t k = 0; k < s->n_mcast; k++)
    if (s->mcast[k].ip == ip && s->mcast[k].port == port) return &s->mcast[k];
  if (!create) return NULL;
  sim_mcast *m = realloc(s->mcast, (s->n_mcast + 1) * sizeof *m);
  if (m == NULL) return NULL;
  s->mcast = m;
  sim_mcast *e = &s->mcast[s->n_mcast++];
  memset(e, 0, sizeof *e);
  e->ip = ip;
  e->port = port;
  return e;
}

static int mcast_join(sim *s, uint32_t ip, uint16_t port, size_t node, prose_node_sock sock) {
  sim_mcast *m = mcast_find(s, ip, port, true);
  if (m == NULL) return PROSE_ENOMEM;
  if (m->n == m->cap) {
    size_t nc = m->cap ? m->cap * 2 : 16;
    uint32_t *nn = realloc(m->node, nc * sizeof *nn);
    if (nn == NULL) return PROSE_ENOMEM;
    m->node = nn;
    uint8_t *ns = realloc(m->sock, nc * sizeof *ns);
    if (ns == NULL) return PROSE_ENOMEM;
    m->sock = ns;
    m->cap = nc;
  }
  m->node[m->n] = (uint32_t)node;
  m->sock[m->n] = (uint8_t)sock;
  m->n++;
  return 0;
}

static void add_bind(void *ud, prose_node_sock sock, uint16_t port, const prose_node_addr *mcast) {
  sim_node *nd = ud;
  if (nd->n_binds == SIM_MAX_BINDS) return;
  sim_bind *b = &nd->binds[nd->n_binds++];
  b->sock = sock;
  b->port = port;
  b->mcast = mcast != NULL;
  b->ip = mcast ? sim_ip_of(mcast) : 0;
}

static void pkt_unref(sim_pkt *p) {
  if (p && --p->refs == 0) free(p);
}

/* Hand one datagram to the medium: a copy per receiver. */
static void fan_out(sim *s, size_t src, uint16_t local_port, const prose_node_addr *to,
                    const uint8_t *bytes, size_t len, uint64_t depart) {
  sim_pkt *p = malloc(sizeof *p + (len ? len : 1));
  if (p == NULL) abort();
  p->refs = 1; /* ours, until the copies are scheduled */
  p->len = (uint32_t)len;
  memcpy(p->data, bytes, len);
  uint32_t ip = sim_ip_of(to);
  if ((ip >> 28) == 0xEu) {
    const sim_mcast *m = mcast_find(s, ip, to->port, false);
    for (size_t k = 0; m && k < m->n; k++)
      if (m->node[k] != src)
        sim_net_deliver(s, src, m->node[k], (prose_node_sock)m->sock[k], to->port, local_port, ip,
                        p, depart);
  } else {
    size_t dst = 0;
    const sim_bind *b = NULL;
    if (sim_ip_to_node(s, ip, &dst))
      for (size_t k = 0; k < s->nodes[dst].n_binds && b == NULL; k++) {
        const sim_bind *c = &s->nodes[dst].binds[k];
        if (!c->mcast && c->port == to->port && c->sock != PROSE_SOCK_APP) b = c;
      }
    if (b)
      sim_net_deliver(s, src, dst, b->sock, to->port, local_port, ip, p, depart);
    else
      sim_kpi_drop(s, PROSE_SIM_DROP_NO_LISTENER);
  }
  pkt_unref(p);
}

/* ---- virtual CPU ------------------------------------------------------------ */

static uint64_t fnv64(const uint8_t *p, size_t n) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ull;
  return h;
}

static bool is_keyed_setup(const uint8_t *bytes, size_t len, prose_monp_msg *m) {
  return len > 0 && bytes[0] == PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST &&
         prose_monp_decode(bytes, len, m) == 0 && m->sdp.len > 0;
}

/* The cost of sending: ECCSI sign of an announcement, the I_MESSAGE of a
 * new private call (made in the call action; charged with the setup request
 * that carries it), SRTP. */
static uint64_t send_cost(sim *s, sim_node *nd, prose_node_sock sock, const uint8_t *bytes,
                          size_t len) {
  const scn_cpu *c = &s->sc.cpu;
  if (!c->on) return 0;
  prose_monp_msg m;
  switch (sock) {
    case PROSE_SOCK_DISC: return c->sign_us;
    case PROSE_SOCK_MEDIA:
    case PROSE_SOCK_FLOOR: return c->srtp_us;
    case PROSE_SOCK_CALL:
      if (is_keyed_setup(bytes, len, &m)) {
        /* Retransmissions carry the same I_MESSAGE: made once. */
        uint64_t h = fnv64((const uint8_t *)m.sdp.p, m.sdp.len);
        if (h != nd->setup_hash) {
          nd->setup_hash = h;
          return c->create_us;
        }
      }
      return 0;
    case PROSE_SOCK_APP: return 0;
  }
  return 0;
}

static uint64_t recv_cost(sim *s, sim_node *nd, prose_node_sock sock, const uint8_t *bytes,
                          size_t len) {
  const scn_cpu *c = &s->sc.cpu;
  if (!c->on) return 0;
  prose_monp_msg m;
  switch (sock) {
    case PROSE_SOCK_DISC: return c->verify_us;
    case PROSE_SOCK_MEDIA:
    case PROSE_SOCK_FLOOR: return c->srtp_us;
    case PROSE_SOCK_CALL:
      if (is_keyed_setup(bytes, len, &m)) {
        /* The node recognises a retransmitted setup without MIKEY work. */
        uint64_t h = fnv64((const uint8_t *)m.sdp.p, m.sdp.len);
        if (h != nd->setup_hash) {
          nd->setup_hash = h;
          return c->process_us;
        }
      }
      return 0;
    case PROSE_SOCK_APP: return 0;
  }
  return 0;
}

/* ---- node callbacks ----------------------------------------------------------- */

/* A group call announcement a node sends or takes names the call it is in. */
static void note_call_id(sim *s, sim_node *nd, const uint8_t *bytes, size_t len) {
  if (len == 0 || bytes[0] != PROSE_MONP_GROUP_CALL_ANNOUNCEMENT) return;
  prose_monp_msg m;
  if (prose_monp_decode(bytes, len, &m) != 0 || m.group_id.len == 0 ||
      m.group_id.len >= SCN_URI_MAX)
    return;
  char gid[SCN_URI_MAX];
  memcpy(gid, m.group_id.p, m.group_id.len);
  gid[m.group_id.len] = '\0';
  int g = sim_group_slot(s, gid);
  if (g < 0) return;
  nd->calls[g].has_call_id = true;
  nd->calls[g].call_id = m.call_id;
}

static void app_delivered(sim *s, sim_node *nd, const uint8_t *bytes, size_t len) {
  sim_kpi_frame_heard(s, nd->idx, bytes, len);
}

static int cb_send(void *ud, prose_node_sock sock, uint16_t local_port, const prose_node_addr *to,
                   const uint8_t *bytes, size_t len) {
  sim_node *nd = ud;
  sim *s = nd->s;
  if (nd->crashing) {
    sim_kpi_drop(s, PROSE_SIM_DROP_CRASHED);
    return 0;
  }
  if (to->family == PROSE_DISC_AF_IPV4 && to->ip[0] == 127) {
    app_delivered(s, nd, bytes, len);
    return 0;
  }
  s->result->kpi.datagrams++;
  sim_capture_wire(s, nd->idx, sock, local_port, to, bytes, len);
  uint64_t start = nd->busy_until > s->now ? nd->busy_until : s->now;
  nd->busy_until = start + send_cost(s, nd, sock, bytes, len);
  if (sock == PROSE_SOCK_MEDIA && s->tx_frame >= 0) sim_kpi_frame_sent(s, s->tx_frame);
  if (sock == PROSE_SOCK_CALL) note_call_id(s, nd, bytes, len);
  fan_out(s, nd->idx, local_port, to, bytes, len, nd->busy_until);
  return 0;
}

static uint64_t cb_wall(void *ud, uint64_t now_ms) {
  const sim_node *nd = ud;
  int64_t ms = (int64_t)now_ms + nd->clock_ms;
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  return (uint64_t)((int64_t)SIM_T0_NTP + secs);
}

static const char *event_name(prose_node_event_type t) {
  switch (t) {
    case PROSE_NODE_EV_PEER: return "peer";
    case PROSE_NODE_EV_CALL_STATE: return "call_state";
    case PROSE_NODE_EV_CALL_STARTED: return "call_started";
    case PROSE_NODE_EV_CALL_ENDED: return "call_ended";
    case PROSE_NODE_EV_INCOMING: return "incoming";
    case PROSE_NODE_EV_FLOOR: return "floor";
    case PROSE_NODE_EV_TALKER: return "talker";
    case PROSE_NODE_EV_GRANTED: return "granted";
    case PROSE_NODE_EV_DENIED: return "denied";
    case PROSE_NODE_EV_REVOKED: return "revoked";
    case PROSE_NODE_EV_QUEUED: return "queued";
    case PROSE_NODE_EV_ALERT: return "alert";
    case PROSE_NODE_EV_ERROR: return "error";
  }
  return "event";
}

static void trace_event(sim *s, const sim_node *nd, const prose_node_event *ev) {
  char group[160] = "", peer[160] = "", from[64] = "", to[64] = "", trig[64] = "", talker[160] = "",
       text[160] = "";
  int gs = sim_group_slot(s, ev->group);
  sim_json_str(group, sizeof group, gs >= 0 ? s->sc.groups[gs].name : ev->group);
  long pn = node_by_uri(s, ev->peer);
  sim_json_str(peer, sizeof peer, pn >= 0 ? s->sc.nodes[pn].name : ev->peer);
  sim_json_str(from, sizeof from, ev->state_from);
  sim_json_str(to, sizeof to, ev->state_to);
  sim_json_str(trig, sizeof trig, ev->trigger);
  long tn = node_by_uri(s, ev->talker);
  sim_json_str(talker, sizeof talker, tn >= 0 ? s->sc.nodes[tn].name : ev->talker);
  sim_json_str(text, sizeof text, ev->text);
  sim_trace(s,
            "\"node\":\"%s\",\"ev\":\"%s\",\"group\":\"%s\",\"peer\":\"%s\",\"from\":\"%s\","
            "\"to\":\"%s\",\"trigger\":\"%s\",\"talker\":\"%s\",\"text\":\"%s\",\"err\":\"%s\","
            "\"reason\":%u",
            s->sc.nodes[nd->idx].name, event_name(ev->type), group, peer, from, to, trig, talker,
            text, ev->err ? prose_err_name(ev->err) : "", ev->reason);
}

static int slot_of_event(const sim *s, const prose_node_event *ev) {
  if (ev->group) return sim_group_slot(s, ev->group);
  return (int)SIM_PRIVATE_SLOT;
}

static void schedule_release(sim *s, size_t i, int slot, uint64_t dur);

static void start_ticking(sim *s, sim_node *nd, int slot) {
  sim_call *c = &nd->calls[slot];
  if (c->ticking || !c->held || !c->granted) return;
  c->ticking = true;
  c->tick_gen++;
  sim_ev e;
  memset(&e, 0, sizeof e);
  e.at = s->now;
  e.kind = EV_FRAME;
  e.node = (uint32_t)nd->idx;
  e.aux = (uint32_t)slot << 24 | (c->tick_gen & 0xFFFFFFu);
  sim_ev_push(s, &e);
}

/* The call the node acts on when none is named: the one started last, and
 * when it ends the private call or the first group call still running (as
 * node_media.c's another_active). */
static int fallback_current(const sim_node *nd) {
  if (nd->calls[SIM_PRIVATE_SLOT].active) return (int)SIM_PRIVATE_SLOT;
  for (int g = 0; g < (int)PROSE_SIM_MAX_GROUPS; g++)
    if (nd->calls[g].active) return g;
  return -1;
}

static void call_gone(sim *s, sim_node *nd, int slot) {
  sim_call *c = &nd->calls[slot];
  bool had_perm = c->perm;
  c->active = c->granted = c->perm = c->held = false;
  c->has_call_id = false;
  sim_kpi_request_end(s, c->req, PROSE_SIM_FAILED);
  c->req = -1;
  sim_kpi_burst_end(s, nd->idx, slot);
  if (had_perm) sim_kpi_talkers_changed(s, slot);
}

static void on_started(sim *s, sim_node *nd, const prose_node_event *ev, int slot) {
  nd->calls[slot].active = true;
  nd->current = slot;
  if (slot == (int)SIM_PRIVATE_SLOT) {
    nd->peer = node_by_uri(s, ev->peer);
    sim_kpi_setup_end(s, nd->setup, true);
    nd->setup = -1;
    return;
  }
  if (s->rx_node == nd->idx && s->rx_sock == PROSE_SOCK_CALL)
    note_call_id(s, nd, s->rx_bytes, s->rx_len);
}

static void on_ended(sim *s, sim_node *nd, int slot) {
  call_gone(s, nd, slot);
  if (slot == (int)SIM_PRIVATE_SLOT) {
    sim_kpi_setup_end(s, nd->setup, false);
    nd->setup = -1;
  }
  if (nd->current == slot) nd->current = fallback_current(nd);
}

/* The floor state says whether the node may talk: 'O: has permission'
 * (entered with GRANTED; left on release, revocation, a lost collision or
 * the end of the floor session, which a call merge also causes). */
static void on_floor(sim *s, sim_node *nd, const prose_node_event *ev, int slot) {
  static const char *const perm = "O: has permission";
  sim_call *c = &nd->calls[slot];
  bool now = ev->state_to && strcmp(ev->state_to, perm) == 0;
  if (now == c->perm) return;
  c->perm = now;
  c->granted = now;
  if (!now) sim_kpi_burst_end(s, nd->idx, slot);
  sim_kpi_talkers_changed(s, slot);
  start_ticking(s, nd, slot);
}

static void cb_event(void *ud, const prose_node_event *ev) {
  sim_node *nd = ud;
  if (nd->crashing) return;
  sim_node_event(nd->s, nd->idx, ev);
}

void sim_node_event(sim *s, size_t i, const prose_node_event *ev) {
  sim_node *nd = &s->nodes[i];
  trace_event(s, nd, ev);
  int slot = slot_of_event(s, ev);
  if (slot < 0) return;
  sim_call *c = &nd->calls[slot];
  switch (ev->type) {
    case PROSE_NODE_EV_CALL_STARTED: on_started(s, nd, ev, slot); break;
    case PROSE_NODE_EV_CALL_ENDED: on_ended(s, nd, slot); break;
    case PROSE_NODE_EV_FLOOR: on_floor(s, nd, ev, slot); break;
    case PROSE_NODE_EV_GRANTED:
      c->granted = true;
      nd->grants++;
      sim_kpi_request_end(s, c->req, PROSE_SIM_IMMEDIATE);
      c->req = -1;
      start_ticking(s, nd, slot);
      /* The originator of a call starts with the floor (24.380 7.2). A user
       * starts a call with a press of PTT and talks only if the timeline
       * says so: a user who is not holding PTT lets go at once, as a real
       * one would, instead of holding the floor until T206/T207. */
      if (!c->held && ev->trigger && strcmp(ev->trigger, "call start") == 0)
        schedule_release(s, nd->idx, slot, 0);
      break;
    case PROSE_NODE_EV_DENIED:
      sim_kpi_request_end(s, c->req,
                          ev->text && strcmp(ev->text, "denied") == 0 ? PROSE_SIM_DENIED
                                                                      : PROSE_SIM_FAILED);
      c->req = -1;
      break;
    case PROSE_NODE_EV_REVOKED:
      sim_kpi_revoked(s);
      break;
    case PROSE_NODE_EV_QUEUED:
      sim_kpi_request_queued(s, c->req);
      break;
    case PROSE_NODE_EV_PEER:
    case PROSE_NODE_EV_CALL_STATE:
    case PROSE_NODE_EV_INCOMING:
    case PROSE_NODE_EV_TALKER:
    case PROSE_NODE_EV_ALERT:
    case PROSE_NODE_EV_ERROR:
      break; /* traced; nothing to measure */
  }
}

/* ---- node life cycle --------------------------------------------------------- */

static void reset_calls(sim_node *nd) {
  for (size_t k = 0; k < SIM_CALL_SLOTS; k++) {
    sim_call *c = &nd->calls[k];
    uint32_t tg = c->tick_gen, lg = c->talk_gen;
    memset(c, 0, sizeof *c);
    c->tick_gen = tg + 1; /* frames scheduled for the old life stop */
    c->talk_gen = lg + 1;
    c->req = c->burst = c->late = -1;
  }
  nd->current = -1;
  nd->peer = -1;
  nd->setup = -1;
}

/* The in-process world: a prose_node object per node, in this process. */
static int inproc_up(sim *s, size_t i) {
  sim_node *nd = &s->nodes[i];
  if (nd->kr == NULL) {
    int rc = sim_load_keyring(s, i, s->err, s->err_cap);
    if (rc) return rc;
  }
  /* A fresh stream per life: a restarted node must not reuse its SSRCs. */
  nd->rng = prose_rng_det_init(&nd->rng_state, (s->sc.seed ^ SEED_NODE) + i * 0x10000u + nd->life);
  nd->set.store = nd->store;
  nd->set.keyring = nd->kr;
  nd->set.rng = &nd->rng;
  nd->busy_until = s->now;
  prose_node_callbacks cb = {cb_send, cb_event, cb_wall};
  int rc = prose_node_new(&nd->node, &nd->set, &cb, nd, ms_of(s->now));
  sim_nheap_update(s, i);
  return rc;
}

static void inproc_down(sim *s, size_t i, bool crash) {
  sim_node *nd = &s->nodes[i];
  if (nd->node == NULL) return;
  nd->crashing = crash;
  prose_node_free(nd->node, ms_of(s->now));
  nd->node = NULL;
  nd->crashing = false;
  if (crash) {
    prose_keyring_free(nd->kr);
    nd->kr = NULL;
  }
  sim_nheap_update(s, i);
}

static int node_up(sim *s, size_t i) {
  sim_node *nd = &s->nodes[i];
  if (nd->up) return PROSE_EEXIST;
  reset_calls(nd);
  nd->up = true; /* before the world starts it: its first events count */
  int rc = s->world->up(s, i);
  nd->life++;
  if (rc != 0) nd->up = false;
  sim_trace(s, "\"node\":\"%s\",\"action\":\"up\",\"rc\":\"%s\"", s->sc.nodes[i].name,
            prose_err_name(rc));
  return rc;
}

/* The model's side of a node going away: its calls, floor and pending
 * setup end with it. */
static void node_gone(sim *s, size_t i) {
  sim_node *nd = &s->nodes[i];
  nd->up = false;
  for (size_t k = 0; k < SIM_CALL_SLOTS; k++) {
    call_gone(s, nd, (int)k);
    sim_kpi_talkers_changed(s, (int)k);
  }
  sim_kpi_setup_end(s, nd->setup, false);
  reset_calls(nd);
}

/* Take node i down: gracefully (it leaves and releases its calls) or as a
 * crash (nothing it would send in going leaves the node, and its keyring is
 * lost with its memory; the store stays). */
static void node_down(sim *s, size_t i, bool crash) {
  if (!s->nodes[i].up) return;
  sim_kpi_keep_counters(s, i);
  s->world->down(s, i, crash);
  node_gone(s, i);
}

/* A node that went away on its own (a real process that died): what
 * node_down does, without asking the world to stop it. */
void sim_node_lost(sim *s, size_t i) {
  if (!s->nodes[i].up) return;
  node_gone(s, i);
  sim_trace(s, "\"node\":\"%s\",\"ev\":\"lost\"", s->sc.nodes[i].name);
}

/* Settings of node i: the daemon's defaults, the scenario's groups and
 * addresses, then every `set` that names it. */
static int node_settings(sim *s, size_t i) {
  sim_node *nd = &s->nodes[i];
  const scn_node *cfg = &s->sc.nodes[i];
  prose_node_settings *set = &nd->set;
  prose_node_settings_default(set);
  set->uri = cfg->uri;
  set->kms_uri = SIM_KMS_URI;
  set->unicast4 = addr_of(nd->ip, 0);
  /* The discovery table must hold every peer of a large run. */
  if (set->disc.max_peers < s->n) set->disc.max_peers = s->n;
  for (size_t g = 0; g < s->sc.n_groups; g++) {
    if (!(cfg->groups & (1u << g))) continue;
    const scn_group *gr = &s->sc.groups[g];
    prose_node_group *ng = &set->groups[set->n_groups++];
    ng->id = gr->uri;
    ng->mcast = addr_of((uint32_t)gr->addr[0] << 24 | (uint32_t)gr->addr[1] << 16 |
                            (uint32_t)gr->addr[2] << 8 | gr->addr[3],
                        0);
    ng->media_port = gr->media_port;
    ng->floor_port = gr->floor_port;
    ng->app_port = gr->app_port;
  }
  uint64_t *mask = calloc(s->words, sizeof *mask);
  if (mask == NULL) return PROSE_ENOMEM;
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < s->sc.n_sets; k++) {
    const scn_set *e = &s->sc.sets[k];
    if (e->nodes[0]) {
      memset(mask, 0, s->words * sizeof *mask);
      char why[PROSE_SIM_ERR_MAX];
      if ((rc = scn_match(&s->sc, e->nodes, mask, why, sizeof why)) != 0) {
        snprintf(s->err, s->err_cap, "line %d: %s", e->line, why);
        break;
      }
      if (!scn_set_has(mask, i)) continue;
    }
    rc = sim_settings_apply(set, e->key, e->value, s->err, s->err_cap);
  }
  free(mask);
  if (rc) return rc;
  nd->n_binds = 0;
  prose_node_sockets(set, add_bind, nd);
  for (size_t b = 0; rc == 0 && b < nd->n_binds; b++)
    if (nd->binds[b].mcast && nd->binds[b].sock != PROSE_SOCK_APP)
      rc = mcast_join(s, nd->binds[b].ip, nd->binds[b].port, i, nd->binds[b].sock);
  return rc;
}

/* ---- the application ------------------------------------------------------------ */

static uint16_t app_port(const sim *s, const sim_node *nd, int slot) {
  return slot == (int)SIM_PRIVATE_SLOT ? nd->set.private_app_port : s->sc.groups[slot].app_port;
}

static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* One frame from the user's mouth: RTP (PCMU) with the frame id and the
 * time in the payload, the rest a fixed pattern. */
static void send_frame(sim *s, sim_node *nd, int slot) {
  sim_call *c = &nd->calls[slot];
  uint8_t pkt[12 + 1200];
  size_t plen = s->sc.frame_len;
  long frame = sim_kpi_frame_new(s, nd->idx, slot);
  c->app_seq++;
  c->app_ts += s->sc.frame_ms * 8u;
  pkt[0] = 0x80;
  pkt[1] = 0; /* PCMU */
  pkt[2] = (uint8_t)(c->app_seq >> 8), pkt[3] = (uint8_t)c->app_seq;
  wr32(pkt + 4, c->app_ts);
  wr32(pkt + 8, 0x51000000u + (uint32_t)nd->idx);
  uint8_t *pl = pkt + 12;
  for (size_t k = 0; k < plen; k++) pl[k] = (uint8_t)(0xD5u ^ k); /* PCMU near silence */
  wr32(pl, SIM_FRAME_MAGIC);
  wr32(pl + 4, (uint32_t)frame);
  wr32(pl + 8, (uint32_t)(s->now >> 32));
  wr32(pl + 12, (uint32_t)s->now);
  nd->offered++;
  s->tx_frame = frame;
  s->world->app_send(s, nd->idx, slot, pkt, 12 + plen);
  s->tx_frame = -1;
}

static void inproc_app_send(sim *s, size_t i, int slot, const uint8_t *rtp, size_t len) {
  sim_node *nd = &s->nodes[i];
  uint16_t port = app_port(s, nd, slot);
  prose_node_addr from = addr_of(0x7F000001u, (uint16_t)(port + 1u));
  (void)prose_node_recv(nd->node, ms_of(s->now), PROSE_SOCK_APP, port, &from, rtp, len);
}

/* ---- the in-process world's user interface ------------------------------------ */

static const char *slot_group(const sim *s, int slot);

static int inproc_call_group(sim *s, size_t i, int g, prose_monp_call_type type) {
  return prose_node_call_group(s->nodes[i].node, ms_of(s->now), s->sc.groups[g].uri, type);
}

static int inproc_call_private(sim *s, size_t i, size_t peer, bool manual, bool emergency) {
  return prose_node_call_private(s->nodes[i].node, ms_of(s->now), s->sc.nodes[peer].uri, manual,
                                 emergency);
}

static int inproc_ptt_press(sim *s, size_t i, int slot, int prio) {
  return prose_node_ptt_press(s->nodes[i].node, ms_of(s->now), slot_group(s, slot), prio);
}

static int inproc_ptt_release(sim *s, size_t i, int slot) {
  return prose_node_ptt_release(s->nodes[i].node, ms_of(s->now), slot_group(s, slot));
}

static int inproc_answer(sim *s, size_t i, sim_answer how) {
  prose_node *n = s->nodes[i].node;
  switch (how) {
    case SIM_ANSWER_ACCEPT: return prose_node_accept(n, ms_of(s->now));
    case SIM_ANSWER_REJECT: return prose_node_reject(n, ms_of(s->now));
    case SIM_ANSWER_HANGUP: return prose_node_hangup(n, ms_of(s->now));
  }
  return PROSE_EINVAL;
}

static void run_loop(sim *s);

static const sim_world inproc_world = {
    .name = "in-process",
    .up = inproc_up,
    .down = inproc_down,
    .call_group = inproc_call_group,
    .call_private = inproc_call_private,
    .ptt_press = inproc_ptt_press,
    .ptt_release = inproc_ptt_release,
    .answer = inproc_answer,
    .app_send = inproc_app_send,
    .network_changed = NULL, /* the medium reads the partitions and rules per datagram */
    .run = run_loop,
};

static void on_frame(sim *s, const sim_ev *e) {
  sim_node *nd = &s->nodes[e->node];
  int slot = (int)(e->aux >> 24);
  sim_call *c = &nd->calls[slot];
  if ((e->aux & 0xFFFFFFu) != (c->tick_gen & 0xFFFFFFu)) return; /* an old ticker */
  if (!nd->up || !c->held || !c->granted || !c->active) {
    c->ticking = false;
    return;
  }
  send_frame(s, nd, slot);
  sim_nheap_update(s, nd->idx);
  sim_ev next = *e;
  next.at = s->now + (uint64_t)s->sc.frame_ms * 1000u;
  sim_ev_push(s, &next);
}

/* ---- user actions ----------------------------------------------------------- */

/* The call slot an action means: a group, the private call, or the call the
 * node acts on when none is named. -1 when there is none. */
static int resolve_slot(const sim_node *nd, int target) {
  if (target == SCN_CALL_TARGET_CURRENT) return nd->current;
  if (target == SCN_CALL_TARGET_PRIVATE) return nd->calls[SIM_PRIVATE_SLOT].active ? (int)SIM_PRIVATE_SLOT : -1;
  return target;
}

static const char *slot_group(const sim *s, int slot) {
  return slot >= 0 && slot < (int)s->sc.n_groups ? s->sc.groups[slot].uri : NULL;
}

static void trace_action(sim *s, size_t i, const char *what, int rc) {
  sim_trace(s, "\"node\":\"%s\",\"action\":\"%s\",\"rc\":\"%s\"", s->sc.nodes[i].name, what,
            prose_err_name(rc));
}

static int ptt_press(sim *s, size_t i, int target, int prio) {
  sim_node *nd = &s->nodes[i];
  int slot = resolve_slot(nd, target);
  int rc = PROSE_EINVAL;
  long req;
  if (slot < 0) {
    /* No call to talk in: the request fails at once. */
    nd->ptt_errors++;
    (void)sim_kpi_press(s, i, 0, PROSE_EINVAL, false);
    return rc;
  }
  sim_call *c = &nd->calls[slot];
  /* PTT on a call the node does not act on by default needs its group. */
  if (slot == (int)SIM_PRIVATE_SLOT && nd->current != slot) {
    nd->ptt_errors++;
    (void)sim_kpi_press(s, i, slot, PROSE_EINVAL, false);
    return rc;
  }
  bool had = c->granted && c->perm;
  sim_kpi_request_end(s, c->req, PROSE_SIM_ABANDONED); /* a press on top of a pending one */
  req = sim_kpi_press(s, i, slot, 0, had);
  c->req = req;
  c->held = true;
  c->talk_gen++; /* a release scheduled before this press no longer applies */
  c->prio = prio;
  rc = s->world->ptt_press(s, i, slot, prio);
  if (rc != 0) {
    nd->ptt_errors++;
    c->held = false;
    sim_kpi_request_end(s, c->req, PROSE_SIM_FAILED);
    c->req = -1;
  }
  start_ticking(s, nd, slot);
  return rc;
}

static int ptt_release(sim *s, size_t i, int slot) {
  sim_node *nd = &s->nodes[i];
  if (slot < 0) return PROSE_EINVAL;
  sim_call *c = &nd->calls[slot];
  c->held = false;
  sim_kpi_request_end(s, c->req, PROSE_SIM_ABANDONED);
  c->req = -1;
  sim_kpi_burst_end(s, i, slot);
  if (slot == (int)SIM_PRIVATE_SLOT && nd->current != slot) return PROSE_EINVAL;
  return s->world->ptt_release(s, i, slot);
}

static void schedule_release(sim *s, size_t i, int slot, uint64_t dur) {
  sim_call *c = &s->nodes[i].calls[slot];
  c->talk_gen++;
  sim_ev e;
  memset(&e, 0, sizeof e);
  e.at = s->now + dur;
  e.kind = EV_RELEASE;
  e.node = (uint32_t)i;
  e.aux = (uint32_t)slot << 24 | (c->talk_gen & 0xFFFFFFu);
  sim_ev_push(s, &e);
}

static void on_release(sim *s, const sim_ev *e) {
  sim_node *nd = &s->nodes[e->node];
  int slot = (int)(e->aux >> 24);
  if ((e->aux & 0xFFFFFFu) != (nd->calls[slot].talk_gen & 0xFFFFFFu) || !nd->up) return;
  int rc = ptt_release(s, e->node, slot);
  trace_action(s, e->node, "ptt_release", rc);
  sim_nheap_update(s, e->node);
}

static int do_partition(sim *s, const scn_action *a) {
  char buf[sizeof a->parts];
  snprintf(buf, sizeof buf, "%s", a->parts);
  for (size_t i = 0; i < s->n; i++) s->nodes[i].partition = 0;
  uint64_t *mask = calloc(s->words, sizeof *mask);
  if (mask == NULL) return PROSE_ENOMEM;
  uint32_t label = 1;
  int rc = 0;
  for (char *save = NULL, *part = strtok_r(buf, "|", &save); part && rc == 0;
       part = strtok_r(NULL, "|", &save), label++) {
    char pat[SCN_PAT_MAX] = "";
    size_t o = 0;
    for (char *p = part; *p && o + 1 < sizeof pat; p++)
      if (*p != ' ') pat[o++] = *p;
    pat[o] = '\0';
    memset(mask, 0, s->words * sizeof *mask);
    char why[PROSE_SIM_ERR_MAX];
    rc = scn_match(&s->sc, pat, mask, why, sizeof why);
    for (size_t i = 0; rc == 0 && i < s->n; i++)
      if (scn_set_has(mask, i)) s->nodes[i].partition = label;
  }
  free(mask);
  for (size_t g = 0; g < s->sc.n_groups; g++) sim_kpi_talkers_changed(s, (int)g);
  sim_trace(s, "\"action\":\"partition\",\"parts\":\"%s\"", a->parts);
  return rc;
}

/* One action for one node. */
static void act_node(sim *s, const scn_action *a, size_t i) {
  sim_node *nd = &s->nodes[i];
  int rc = 0;
  const char *what = "?";
  bool needs_node = !(a->kind == ACT_START || a->kind == ACT_RESTART || a->kind == ACT_CLOCK);
  if (needs_node && !nd->up) {
    trace_action(s, i, "ignored: node down", PROSE_EINVAL);
    if (a->kind == ACT_PTT_PRESS || a->kind == ACT_TALK) (void)sim_kpi_press(s, i, 0, PROSE_EINVAL, false);
    return;
  }
  switch (a->kind) {
    case ACT_CALL:
      what = "call";
      sim_kpi_join(s, i, 1u << a->target);
      rc = s->world->call_group(s, i, a->target, (prose_monp_call_type)a->call_type);
      break;
    case ACT_PTT_PRESS:
      what = "ptt_press";
      rc = ptt_press(s, i, a->target, a->prio);
      break;
    case ACT_PTT_RELEASE:
      what = "ptt_release";
      rc = ptt_release(s, i, resolve_slot(nd, a->target));
      break;
    case ACT_TALK: {
      what = "talk";
      rc = ptt_press(s, i, a->target, a->prio);
      int slot = resolve_slot(nd, a->target);
      if (slot >= 0) schedule_release(s, i, slot, a->dur_us);
      break;
    }
    case ACT_PRIVATE: {
      what = "private";
      long peer = scn_node_find(&s->sc, a->peer);
      sim_kpi_setup_end(s, nd->setup, false);
      nd->setup = sim_kpi_setup_begin(s, i);
      rc = s->world->call_private(s, i, (size_t)peer, a->manual, a->emergency);
      if (rc != 0) {
        sim_kpi_setup_end(s, nd->setup, false);
        nd->setup = -1;
      } else {
        nd->peer = peer;
      }
      break;
    }
    case ACT_ACCEPT: what = "accept"; rc = s->world->answer(s, i, SIM_ANSWER_ACCEPT); break;
    case ACT_REJECT: what = "reject"; rc = s->world->answer(s, i, SIM_ANSWER_REJECT); break;
    case ACT_HANGUP:
      what = "hangup";
      rc = s->world->answer(s, i, SIM_ANSWER_HANGUP);
      if (rc != 0 && nd->setup >= 0) {
        sim_kpi_setup_end(s, nd->setup, false);
        nd->setup = -1;
      }
      break;
    case ACT_CRASH: what = "crash"; node_down(s, i, true); break;
    case ACT_STOP: what = "stop"; node_down(s, i, false); break;
    case ACT_RESTART:
    case ACT_START:
      what = a->kind == ACT_START ? "start" : "restart";
      if (a->kind == ACT_RESTART) node_down(s, i, true);
      if (!nd->up) {
        rc = node_up(s, i);
        sim_kpi_join(s, i, s->sc.nodes[i].groups);
      } else {
        rc = PROSE_EEXIST;
      }
      break;
    case ACT_CLOCK: what = "clock"; nd->clock_ms = a->clock_ms; break;
    case ACT_PARTITION:
    case ACT_HEAL:
    case ACT_LINK:
    case ACT_MARK:
    case ACT_EXPECT:
      return; /* not per node */
  }
  trace_action(s, i, what, rc);
  sim_nheap_update(s, i);
}

static void on_action(sim *s, const sim_ev *e) {
  const scn_action *a = &s->sc.actions[e->aux];
  int rc = 0;
  switch (a->kind) {
    case ACT_PARTITION:
      rc = do_partition(s, a);
      if (rc == 0 && s->world->network_changed) rc = s->world->network_changed(s);
      break;
    case ACT_HEAL:
      for (size_t i = 0; i < s->n; i++) s->nodes[i].partition = 0;
      for (size_t g = 0; g < s->sc.n_groups; g++) sim_kpi_talkers_changed(s, (int)g);
      sim_trace(s, "\"action\":\"heal\"");
      if (s->world->network_changed) rc = s->world->network_changed(s);
      break;
    case ACT_LINK:
      for (size_t k = 0; rc == 0 && k < a->n_rules; k++)
        rc = sim_net_enable_rule(s, a->rule + k, NULL, 0);
      sim_trace(s, "\"action\":\"link\",\"line\":%d", a->line);
      if (rc == 0 && s->world->network_changed) rc = s->world->network_changed(s);
      break;
    case ACT_MARK: {
      char text[2 * SCN_NAME_MAX];
      sim_json_str(text, sizeof text, a->text);
      sim_trace(s, "\"action\":\"mark\",\"text\":\"%s\"", text);
      break;
    }
    case ACT_EXPECT:
      if (s->world->before_expect) s->world->before_expect(s);
      sim_kpi_expect(s, a->expect);
      break;
    case ACT_CALL:
    case ACT_PTT_PRESS:
    case ACT_PTT_RELEASE:
    case ACT_TALK:
    case ACT_PRIVATE:
    case ACT_ACCEPT:
    case ACT_REJECT:
    case ACT_HANGUP:
    case ACT_CRASH:
    case ACT_RESTART:
    case ACT_START:
    case ACT_STOP:
    case ACT_CLOCK:
      if (e->node != SIM_ALL) {
        act_node(s, a, e->node);
        break;
      }
      {
        /* The nodes an action names, matched once (a repeated action runs
         * many times); the pattern was checked when the run started. */
        uint64_t **mask = &s->act_mask[e->aux];
        if (*mask == NULL) {
          if ((*mask = calloc(s->words, sizeof **mask)) == NULL) abort();
          (void)scn_match(&s->sc, a->nodes, *mask, NULL, 0);
        }
        for (size_t i = 0; i < s->n; i++)
          if (scn_set_has(*mask, i)) act_node(s, a, i);
      }
      break;
  }
  (void)rc;
}

/* ---- datagrams --------------------------------------------------------------- */

static void on_packet(sim *s, sim_ev *e) {
  sim_node *nd = &s->nodes[e->node];
  if (nd->node == NULL) {
    sim_kpi_drop(s, PROSE_SIM_DROP_NODE_DOWN);
    pkt_unref(e->pkt);
    return;
  }
  if (nd->busy_until > s->now) {
    /* The node's CPU is still on earlier work: the datagram waits. */
    sim_ev later = *e;
    later.at = nd->busy_until;
    sim_ev_push(s, &later);
    return;
  }
  sim_pkt *p = e->pkt;
  nd->busy_until = s->now + recv_cost(s, nd, (prose_node_sock)e->sock, p->data, p->len);
  prose_node_addr from = addr_of(e->from_ip, e->from_port);
  s->rx_node = e->node;
  s->rx_bytes = p->data;
  s->rx_len = p->len;
  s->rx_sock = (prose_node_sock)e->sock;
  s->result->kpi.deliveries++;
  sim_capture_delivery(s, e->node, e->seq);
  (void)prose_node_recv(nd->node, ms_of(s->now), (prose_node_sock)e->sock, e->port, &from, p->data,
                        p->len);
  s->rx_node = SIZE_MAX;
  s->rx_bytes = NULL;
  s->rx_len = 0;
  pkt_unref(p);
  sim_nheap_update(s, e->node);
}

static void on_timeout(sim *s, size_t i) {
  sim_node *nd = &s->nodes[i];
  if (nd->timeouts_at == s->now) {
    if (++nd->timeouts_same > STUCK_LIMIT) {
      /* A deadline that does not move would stop virtual time; hold the
       * node back a millisecond and say so. */
      nd->busy_until = s->now + 1000u;
      nd->timeouts_same = 0;
      sim_trace(s, "\"node\":\"%s\",\"ev\":\"stuck_deadline\"", s->sc.nodes[i].name);
    }
  } else {
    nd->timeouts_at = s->now;
    nd->timeouts_same = 0;
  }
  (void)prose_node_on_timeout(nd->node, ms_of(s->now));
  sim_nheap_update(s, i);
}

/* ---- the timeline ------------------------------------------------------------ */

static int add_action(sim *s, const scn_action *a) {
  scn *sc = &s->sc;
  if (sc->n_actions == sc->cap_actions) {
    size_t nc = sc->cap_actions ? sc->cap_actions * 2 : 16;
    scn_action *q = realloc(sc->actions, nc * sizeof *q);
    if (q == NULL) return PROSE_ENOMEM;
    sc->actions = q;
    sc->cap_actions = nc;
  }
  sc->actions[sc->n_actions++] = *a;
  return 0;
}

/* `rotate`: node k of the pattern talks at from + k * every, in turn. */
static int expand_rotates(sim *s) {
  uint64_t *mask = calloc(s->words, sizeof *mask);
  if (mask == NULL) return PROSE_ENOMEM;
  int rc = 0;
  for (size_t r = 0; rc == 0 && r < s->sc.n_rotates; r++) {
    const scn_rotate *ro = &s->sc.rotates[r];
    memset(mask, 0, s->words * sizeof *mask);
    char why[PROSE_SIM_ERR_MAX];
    if ((rc = scn_match(&s->sc, ro->nodes, mask, why, sizeof why)) != 0) {
      snprintf(s->err, s->err_cap, "line %d: %s", ro->line, why);
      break;
    }
    size_t k = 0;
    for (uint64_t t = ro->from_us; rc == 0 && t < s->end && t < ro->until_us; t += ro->every_us) {
      for (size_t tries = 0; tries < s->n && !scn_set_has(mask, k % s->n); tries++) k++;
      scn_action a;
      memset(&a, 0, sizeof a);
      a.kind = ACT_TALK;
      a.at_us = t;
      a.dur_us = ro->talk_us;
      a.target = ro->target;
      a.prio = ro->prio;
      a.line = ro->line;
      snprintf(a.nodes, sizeof a.nodes, "%s", s->sc.nodes[k % s->n].name);
      rc = add_action(s, &a);
      k++;
    }
  }
  free(mask);
  return rc;
}

static void push_action(sim *s, size_t a, uint64_t at, uint32_t node) {
  sim_ev e;
  memset(&e, 0, sizeof e);
  e.at = at;
  e.kind = EV_ACTION;
  e.node = node;
  e.aux = (uint32_t)a;
  sim_ev_push(s, &e);
}

/* Put every action on the queue, in file order; repetitions and jitter are
 * drawn here from the seeded generator. */
static int schedule_timeline(sim *s) {
  int rc = expand_rotates(s);
  for (size_t i = 0; rc == 0 && i < s->n; i++) {
    const scn_node *c = &s->sc.nodes[i];
    if (c->off || c->start_us == 0) continue;
    scn_action a;
    memset(&a, 0, sizeof a);
    a.kind = ACT_START;
    a.at_us = c->start_us;
    a.line = c->line;
    snprintf(a.nodes, sizeof a.nodes, "%s", c->name);
    rc = add_action(s, &a);
  }
  uint64_t *mask = calloc(s->words, sizeof *mask);
  if (mask == NULL) return PROSE_ENOMEM;
  for (size_t k = 0; rc == 0 && k < s->sc.n_actions; k++) {
    const scn_action *a = &s->sc.actions[k];
    bool per_node = a->nodes[0] != '\0';
    if (per_node) {
      char why[PROSE_SIM_ERR_MAX];
      memset(mask, 0, s->words * sizeof *mask);
      if ((rc = scn_match(&s->sc, a->nodes, mask, why, sizeof why)) != 0) {
        snprintf(s->err, s->err_cap, "line %d: %s", a->line, why);
        break;
      }
    }
    uint32_t reps = a->every_us ? a->count : 1;
    for (uint64_t r = 0, t = a->at_us; t <= s->end; r++, t += a->every_us) {
      if (a->every_us && ((a->count && r >= reps) || (a->until_us && t > a->until_us))) break;
      if (a->jitter_us && per_node) {
        for (size_t i = 0; i < s->n; i++)
          if (scn_set_has(mask, i)) push_action(s, k, t + sim_rand_below(&s->rand, a->jitter_us), (uint32_t)i);
      } else {
        push_action(s, k, t, SIM_ALL);
      }
      if (!a->every_us) break;
    }
  }
  free(mask);
  return rc;
}

/* ---- the run ----------------------------------------------------------------- */

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sim_dispatch(sim *s, sim_ev *e) {
  switch ((sim_ev_kind)e->kind) {
    case EV_PKT: on_packet(s, e); break;
    case EV_ACTION: on_action(s, e); break;
    case EV_FRAME: on_frame(s, e); break;
    case EV_RELEASE: on_release(s, e); break;
  }
}

static void run_loop(sim *s) {
  for (;;) {
    uint64_t te = SIM_NEVER, tn = SIM_NEVER;
    size_t ni = 0;
    bool have_e = sim_ev_peek(s, &te), have_n = sim_nheap_peek(s, &tn, &ni);
    if (!have_e && !have_n) break;
    uint64_t next = te <= tn ? te : tn;
    if (next > s->end) break;
    if (next > s->now) s->now = next;
    s->result->kpi.steps++;
    if (have_e && te <= tn) {
      sim_ev e;
      sim_ev_pop(s, &e);
      sim_dispatch(s, &e);
    } else {
      on_timeout(s, ni);
    }
  }
  s->now = s->end;
}

static int sim_init(sim *s) {
  s->n = s->sc.n_nodes;
  s->words = SCN_SET_WORDS(s->n);
  s->end = s->sc.duration_us;
  s->rx_node = SIZE_MAX;
  s->tx_frame = -1;
  sim_rand_seed(&s->rand, s->sc.seed ^ SEED_MEDIUM);
  s->nodes = calloc(s->n, sizeof *s->nodes);
  s->nheap = calloc(s->n, sizeof *s->nheap);
  s->result = calloc(1, sizeof *s->result); /* live counters; replaced by kpi_finish */
  if (s->nodes == NULL || s->nheap == NULL || s->result == NULL) return PROSE_ENOMEM;
  for (size_t i = 0; i < s->n; i++) {
    sim_node *nd = &s->nodes[i];
    nd->s = s;
    nd->idx = i;
    nd->ip = sim_node_ip(i);
    nd->clock_ms = s->sc.nodes[i].clock_ms;
    nd->key = SIM_NEVER;
    nd->hpos = i;
    s->nheap[i] = (uint32_t)i;
    reset_calls(nd);
  }
  s->n_nheap = s->n;
  int rc = sim_kpi_new(s);
  if (rc == 0) rc = sim_capture_open(s);
  for (size_t i = 0; rc == 0 && i < s->n; i++) rc = node_settings(s, i);
  if (rc == 0) rc = sim_net_init(s, s->err, s->err_cap);
  if (rc == 0) rc = schedule_timeline(s);
  if (rc == 0 && (s->act_mask = calloc(s->sc.n_actions + 1, sizeof *s->act_mask)) == NULL)
    rc = PROSE_ENOMEM;
  return rc;
}

static void sim_free(sim *s) {
  /* Real processes stop before their stores go. */
  if (s->world && s->world->teardown) s->world->teardown(s);
  /* Nodes go without a trace: the run is over, the hash is taken. */
  for (size_t i = 0; i < s->n && s->nodes; i++)
    if (s->nodes[i].node) {
      s->nodes[i].crashing = true;
      prose_node_free(s->nodes[i].node, ms_of(s->now));
      s->nodes[i].node = NULL;
    }
  sim_domain_close(s);
  sim_net_free(s);
  sim_capture_close(s);
  sim_kpi_free(s);
  for (size_t k = 0; k < s->n_ev; k++) pkt_unref(s->ev[k].pkt);
  free(s->ev);
  free(s->nheap);
  for (size_t k = 0; k < s->n_mcast; k++) {
    free(s->mcast[k].node);
    free(s->mcast[k].sock);
  }
  free(s->mcast);
  for (size_t k = 0; s->act_mask && k < s->sc.n_actions; k++) free(s->act_mask[k]);
  free(s->act_mask);
  free(s->nodes);
  prose_sim_result_free(s->result);
  scn_free(&s->sc);
}

void prose_sim_options_default(prose_sim_options *o) {
  if (o) memset(o, 0, sizeof *o);
}

int prose_sim_run(const prose_sim_scenario *sc, const prose_sim_options *o,
                  prose_sim_result **out, char *err, size_t err_cap) {
  if (sc == NULL || out == NULL) return PROSE_EINVAL;
  *out = NULL;
  char dummy[PROSE_SIM_ERR_MAX];
  if (err == NULL || err_cap == 0) {
    err = dummy;
    err_cap = sizeof dummy;
  }
  err[0] = '\0';
  prose_sim_options opt;
  if (o)
    opt = *o;
  else
    prose_sim_options_default(&opt);
  if (opt.variant >= prose_sim_scenario_variants(sc)) {
    snprintf(err, err_cap, "variant %zu: the scenario has %zu", opt.variant,
             prose_sim_scenario_variants(sc));
    return PROSE_ECONFIG;
  }
  sim *s = calloc(1, sizeof *s);
  if (s == NULL) return PROSE_ENOMEM;
  s->opt = opt;
  s->err = err;
  s->err_cap = err_cap;
  double t0 = wall_now();
  int rc = scn_parse(sc, opt.variant, opt.params, opt.n_params, &s->sc, err, err_cap);
  if (rc != 0) {
    free(s);
    return rc;
  }
  if (opt.has_seed) s->sc.seed = opt.seed;
  s->world = opt.netns ? &sim_netns_world : &inproc_world;
  s->t0_ntp = SIM_T0_NTP;
  rc = sim_init(s);
  if (rc == 0 && s->world->check) rc = s->world->check(s);
  if (rc == 0) rc = sim_provision(s, err, err_cap);
  if (rc == 0 && s->world->start) rc = s->world->start(s);
  double t1 = wall_now();
  for (size_t i = 0; rc == 0 && i < s->n; i++)
    if (!s->sc.nodes[i].off && s->sc.nodes[i].start_us == 0) rc = node_up(s, i);
  if (rc == 0) {
    sim_trace(s, "\"ev\":\"run\",\"scenario\":\"%s\",\"seed\":%llu,\"nodes\":%zu,\"world\":\"%s\"",
              s->sc.name, (unsigned long long)s->sc.seed, s->n, s->world->name);
    s->world->run(s);
    if (s->world->finish) rc = s->world->finish(s);
    prose_sim_result *live = s->result;
    if (rc == 0) rc = sim_kpi_finish(s); /* a new s->result with the measurements */
    if (rc == 0) {
      prose_sim_result *r = s->result;
      r->kpi.datagrams = live->kpi.datagrams;
      r->kpi.deliveries = live->kpi.deliveries;
      r->kpi.steps = live->kpi.steps;
      sim_capture_hash(s, r->kpi.hash);
      snprintf(r->label, sizeof r->label, "%s",
               prose_sim_scenario_variant_label(sc, opt.variant));
      snprintf(r->kpi.world, sizeof r->kpi.world, "%s", s->world->name);
      snprintf(r->kpi.notes, sizeof r->kpi.notes, "%s", s->notes);
      *out = r;
      s->result = NULL;
      prose_sim_result_free(live);
    }
  } else if (err[0] == '\0') {
    snprintf(err, err_cap, "%s", prose_strerror(rc));
  }
  sim_free(s);
  if (*out) {
    (*out)->kpi.provision_s = t1 - t0;
    (*out)->kpi.wall_s = wall_now() - t0;
  }
  free(s);
  return rc;
}
