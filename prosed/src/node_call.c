/*
 * The node's side of call control: it carries MONP datagrams for the call
 * engine, makes and checks the PCK I_MESSAGE of private calls (TS 33.179
 * 7.4 / Annex E.3, DESIGN §3) and turns the engine's events into media
 * sessions (node_media.c) and node events.
 *
 * PCK life cycle. The caller's make_key_mgmt hook draws a fresh PCK, PCK-ID
 * and RAND, wraps the PCK in an I_MESSAGE for the callee and keeps the key
 * in a slot for that peer; the callee's check_key_mgmt hook verifies the
 * I_MESSAGE and keeps the key it carries the same way. When the call
 * connects the slot's key becomes the private media context and the slot is
 * wiped; when the call ends without connecting, the slot is wiped. A key in
 * the store (a copy kept for the call's lifetime) is deleted with it.
 */
#include <stdio.h>
#include <string.h>

#include "node_internal.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/mikey.h"
#include "prose/util.h"

/* ---------------------------------------------------------------------- */
/* Transport                                                                */
/* ---------------------------------------------------------------------- */

/* TS 24.379 10.2.1: group call control goes to the group's multicast
 * address, port 8809. */
static void send_group(void *ud, const char *group_id, const uint8_t *msg, size_t len) {
  prose_node *n = ud;
  node_group *g = node_group_find(n, group_id);
  if (g == NULL) return; /* the engine only knows the node's groups */
  prose_node_addr to = g->mcast;
  to.port = n->set.call_port;
  (void)node_send(n, PROSE_SOCK_CALL, n->set.call_port, &to, msg, len);
}

/* TS 24.379 11.2.1: private call control goes unicast to the peer's address,
 * which only discovery knows (a verified announcement, not the source
 * address of a datagram anyone could forge). */
int node_peer_addr(prose_node *n, const char *peer, prose_node_addr *out) {
  bool v6_only = n->set.unicast4.family != PROSE_DISC_AF_IPV4;
  return prose_disc_call_addr(n->disc, peer, v6_only, out);
}

static void send_private(void *ud, const char *peer_uri, const uint8_t *msg, size_t len) {
  prose_node *n = ud;
  prose_node_addr to;
  int rc = node_peer_addr(n, peer_uri, &to);
  if (rc != 0) {
    n->ctr.call_tx_no_peer++;
    node_error(n, NULL, peer_uri, rc, "private call peer not discovered");
    return;
  }
  (void)node_send(n, PROSE_SOCK_CALL, n->set.call_port, &to, msg, len);
}

static uint64_t wall_s(void *ud, uint64_t now_ms) {
  prose_node *n = ud;
  uint64_t ntp = n->cb.wall_ntp(n->ud, now_ms);
  return ntp > PROSE_NTP_UNIX_OFFSET ? ntp - PROSE_NTP_UNIX_OFFSET : 0;
}

/* ---------------------------------------------------------------------- */
/* PCK slots                                                                */
/* ---------------------------------------------------------------------- */

node_pck *node_pck_find(prose_node *n, const char *peer) {
  for (size_t i = 0; i < PROSE_CALL_MAX_PRIVATE; i++)
    if (n->pcks[i].used && strcmp(n->pcks[i].peer, peer) == 0) return &n->pcks[i];
  return NULL;
}

void node_pck_drop(prose_node *n, node_pck *k, bool from_store) {
  if (k == NULL || !k->used) return;
  if (from_store && k->in_store && n->set.store) (void)prose_store_pck_delete(n->set.store, k->pck_id);
  prose_wipe(k, sizeof *k);
}

void node_pck_sweep(prose_node *n) {
  for (size_t i = 0; i < PROSE_CALL_MAX_PRIVATE; i++) {
    node_pck *k = &n->pcks[i];
    if (!k->used) continue;
    prose_call_private_info pi;
    if (prose_call_private_get(n->call, k->peer, &pi) != 0 || pi.state == PROSE_CALL_P0 ||
        pi.state == PROSE_CALL_P1)
      node_pck_drop(n, k, true);
  }
}

/* A slot for peer: its old one (a previous key for that peer is wiped) or a
 * free one. NULL when all are taken, which the call engine's limit of
 * PROSE_CALL_MAX_PRIVATE machines prevents. */
static node_pck *pck_slot(prose_node *n, const char *peer) {
  node_pck *k = node_pck_find(n, peer);
  if (k) node_pck_drop(n, k, true);
  for (size_t i = 0; i < PROSE_CALL_MAX_PRIVATE; i++)
    if (!n->pcks[i].used) return &n->pcks[i];
  return NULL;
}

/* Keep a copy in the store for the call's lifetime, so a daemon restarted
 * mid-call can find the key its peer still uses. A failure is not fatal:
 * the key in memory is what the call runs on. */
static void pck_store(prose_node *n, node_pck *k, uint64_t t) {
  if (n->set.store == NULL) return;
  prose_store_pck sp;
  memset(&sp, 0, sizeof sp);
  sp.pck_id = k->pck_id;
  snprintf(sp.peer_uri, sizeof sp.peer_uri, "%s", k->peer);
  memcpy(sp.pck, k->pck, sizeof sp.pck);
  memcpy(sp.rand, k->rand, k->rand_len);
  sp.rand_len = k->rand_len;
  uint64_t life = n->set.call.private_max_duration_s ? n->set.call.private_max_duration_s
                                                     : NODE_PCK_DEFAULT_LIFE_S;
  sp.created = t;
  sp.expires = t + life + NODE_PCK_MARGIN_S;
  k->in_store = prose_store_pck_put(n->set.store, &sp) == 0;
  prose_store_pck_wipe(&sp);
}

/* ---------------------------------------------------------------------- */
/* Key management hooks                                                     */
/* ---------------------------------------------------------------------- */

/*
 * Caller (33.179 7.4): a fresh 16-octet PCK, a PCK-ID with purpose tag 1
 * and 28 random bits, a 16-octet RAND; the I_MESSAGE is SAKKE-encrypted to
 * the callee's UID under the KMS its announcement names (ours when it is
 * not known) and signed with our key set for the period of T.
 */
static int make_key_mgmt(void *ud, const char *peer_uri, uint8_t *buf, size_t cap, size_t *len) {
  prose_node *n = ud;
  uint8_t pck[PROSE_MEDIA_KEY_LEN];
  uint8_t rand[PROSE_MIKEY_RAND_LEN];
  uint8_t idb[4];
  int rc = prose_rng_fill(&n->rng, pck, sizeof pck);
  if (rc == 0) rc = prose_rng_fill(&n->rng, rand, sizeof rand);
  if (rc == 0) rc = prose_rng_fill(&n->rng, idb, sizeof idb);
  if (rc != 0) goto out;
  uint32_t rnd = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
  uint32_t pck_id = ((uint32_t)PROSE_KEYID_TAG_PCK << 28) | (rnd & 0x0FFFFFFFu);
  const prose_disc_peer *peer = prose_disc_find(n->disc, peer_uri);
  uint64_t t = node_wall(n);
  prose_mikey_create_params p;
  prose_mikey_create_default(&p);
  p.kind = PROSE_MIKEY_PCK;
  p.key_id = pck_id;
  p.key = pck;
  p.responder_uri = peer_uri;
  p.responder_kms = peer ? peer->ann.kms_uri : n->kms;
  p.initiator_kms = n->kms;
  p.t = t << 32;
  p.rand = rand;
  p.rand_len = sizeof rand;
  rc = prose_mikey_create(n->set.keyring, &p, &n->rng, buf, cap, len);
  if (rc != 0) goto out;
  node_pck *k = pck_slot(n, peer_uri);
  if (k == NULL) {
    rc = PROSE_ERANGE;
    goto out;
  }
  k->used = true;
  k->caller = true;
  k->have_key = true;
  snprintf(k->peer, sizeof k->peer, "%s", peer_uri);
  memcpy(k->pck, pck, sizeof pck);
  k->pck_id = pck_id;
  memcpy(k->rand, rand, sizeof rand);
  k->rand_len = sizeof rand;
  pck_store(n, k, t);
out:
  prose_wipe(pck, sizeof pck);
  if (rc != 0) node_error(n, NULL, peer_uri, rc, "cannot make the private call key");
  return rc;
}

/*
 * Callee (33.179 7.4, DIGEST §3.4): verify and decrypt the I_MESSAGE into a
 * temporary, then require a PCK sent by the very user the setup names as
 * caller. Only then is the key kept (verify, then commit); any failure
 * returns the error, the call engine answers PRIVATE CALL REJECT with
 * reason 3 and nothing of the message stays.
 */
static int check_key_mgmt(void *ud, const char *peer_uri, const uint8_t *msg, size_t len) {
  prose_node *n = ud;
  node_pck *old = node_pck_find(n, peer_uri);
  /* A retransmitted setup carries the message we accepted already; running
   * it through MIKEY again would fail the replay check. */
  if (old && !old->caller && old->have_key && old->imsg_len == len && len > 0 &&
      memcmp(old->imsg, msg, len) == 0)
    return 0;
  prose_mikey_result res;
  memset(&res, 0, sizeof res);
  uint64_t t = node_wall(n);
  int rc = len <= PROSE_SDP_KEYMGMT_MAX ? 0 : PROSE_ELEN;
  if (rc == 0) rc = prose_mikey_process(n->set.keyring, t, msg, len, &res);
  if (rc == 0 && res.kind != PROSE_MIKEY_PCK) rc = PROSE_EMIKEY_KEYTYPE;
  if (rc == 0 && strcmp(res.initiator_uri, peer_uri) != 0) rc = PROSE_EUNAUTHORISED;
  if (rc == 0 && (res.rand_len < PROSE_MEDIA_RAND_MIN || res.rand_len > PROSE_MEDIA_RAND_MAX))
    rc = PROSE_EMIKEY_RAND;
  if (rc != 0) goto out;
  node_pck *k = pck_slot(n, peer_uri);
  if (k == NULL) {
    rc = PROSE_ERANGE;
    goto out;
  }
  k->used = true;
  k->caller = false;
  k->have_key = true;
  snprintf(k->peer, sizeof k->peer, "%s", peer_uri);
  memcpy(k->pck, res.key, sizeof k->pck);
  k->pck_id = res.key_id;
  memcpy(k->rand, res.rand, res.rand_len);
  k->rand_len = res.rand_len;
  memcpy(k->imsg, msg, len);
  k->imsg_len = len;
  pck_store(n, k, t);
out:
  prose_mikey_result_clear(&res);
  if (rc != 0) {
    n->ctr.key_mgmt_failed++;
    node_error(n, NULL, peer_uri, rc, "private call key refused");
  }
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Events                                                                   */
/* ---------------------------------------------------------------------- */

static const char *type_state_name(int s) {
  static const char *const names[] = {"T0", "T1", "T2", "T3"};
  return s >= 0 && (size_t)s < PROSE_ARRAY_LEN(names) ? names[s] : "?";
}

static const char *bcast_state_name(int s) {
  static const char *const names[] = {"?", "B1", "B2", "B3", "B4"};
  return s >= 0 && (size_t)s < PROSE_ARRAY_LEN(names) ? names[s] : "?";
}

static const char *alert_state_name(int s) {
  static const char *const names[] = {"?", "E1", "E2"};
  return s >= 0 && (size_t)s < PROSE_ARRAY_LEN(names) ? names[s] : "?";
}

static void emit_state(prose_node *n, const prose_call_event *ce, const char *from,
                       const char *to) {
  prose_node_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = PROSE_NODE_EV_CALL_STATE;
  ev.now = n->now;
  ev.group = ce->group;
  ev.peer = ce->group ? NULL : ce->peer;
  ev.state_from = from;
  ev.state_to = to;
  ev.trigger = ce->trigger;
  ev.err = ce->err;
  node_emit(n, &ev);
}

static void emit_simple(prose_node *n, prose_node_event_type type, const char *group,
                        const char *peer, const char *text, int err, unsigned reason) {
  prose_node_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = type;
  ev.now = n->now;
  ev.group = group;
  ev.peer = peer;
  ev.text = text;
  ev.err = err;
  ev.reason = reason;
  node_emit(n, &ev);
}

static void on_group_begin(prose_node *n, const prose_call_event *ce, bool originator,
                           const char *text) {
  node_group *g = node_group_find(n, ce->group);
  if (g == NULL) return;
  int rc = node_group_call_begin(n, g, ce->call_type, originator);
  if (rc != 0) {
    node_error(n, g->id, NULL, rc, "cannot start the group call's media");
    return;
  }
  emit_simple(n, PROSE_NODE_EV_CALL_STARTED, g->id, ce->peer, text, 0, 0);
}

static void on_group_released(prose_node *n, const prose_call_event *ce) {
  node_group *g = node_group_find(n, ce->group);
  if (g == NULL || !g->call.active) return;
  /* A group has a basic and a broadcast machine; the release of one must not
   * end the media of the other. */
  bool bcast = ce->call_type == PROSE_MONP_CALL_BROADCAST_GROUP;
  if (bcast != (g->call.call_type == PROSE_MONP_CALL_BROADCAST_GROUP)) return;
  node_call_end(n, &g->call);
  emit_simple(n, PROSE_NODE_EV_CALL_ENDED, g->id, NULL, "released", ce->err, 0);
}

static void on_private_incoming(prose_node *n, const prose_call_event *ce) {
  emit_simple(n, PROSE_NODE_EV_INCOMING, NULL, ce->peer, "private call", 0, 0);
  if (n->priv.active || n->outgoing[0]) {
    /* The private ports carry one call: a second caller hears busy (the
     * engine's reject) rather than a call that would have no media. */
    node_defer_add(n, NODE_DEFER_REJECT, ce->peer);
    return;
  }
  if (ce->commencement != PROSE_MONP_COMMENCEMENT_MANUAL) return; /* engine answered */
  if (n->set.auto_accept_private)
    node_defer_add(n, NODE_DEFER_ACCEPT, ce->peer);
  else
    snprintf(n->ringing, sizeof n->ringing, "%s", ce->peer);
}

static void on_private_connected(prose_node *n, const prose_call_event *ce) {
  node_pck *k = node_pck_find(n, ce->peer);
  bool caller = k ? k->caller : false;
  if (strcmp(n->outgoing, ce->peer) == 0) n->outgoing[0] = '\0';
  if (strcmp(n->ringing, ce->peer) == 0) n->ringing[0] = '\0';
  int rc = n->priv.active ? PROSE_EEXIST
                          : node_private_call_begin(n, ce->peer, ce->call_type, caller, ce->sdp);
  if (rc != 0) {
    /* No media session: end the call rather than leave a silent one. */
    node_error(n, NULL, ce->peer, rc, "cannot start the private call's media");
    if (k) node_pck_drop(n, k, true);
    node_defer_add(n, NODE_DEFER_RELEASE, ce->peer);
    return;
  }
  emit_simple(n, PROSE_NODE_EV_CALL_STARTED, NULL, ce->peer, "connected", 0, 0);
}

static void on_private_ended(prose_node *n, const prose_call_event *ce, const char *text) {
  if (strcmp(n->outgoing, ce->peer) == 0) n->outgoing[0] = '\0';
  if (strcmp(n->ringing, ce->peer) == 0) n->ringing[0] = '\0';
  node_pck_drop(n, node_pck_find(n, ce->peer), true);
  if (n->priv.active && strcmp(n->priv.peer, ce->peer) == 0) node_call_end(n, &n->priv);
  emit_simple(n, PROSE_NODE_EV_CALL_ENDED, NULL, ce->peer, text, ce->err, ce->reason);
}

/* A group machine changed state. Leaving S2 ends the probing hangup would
 * cancel; S2 -> S7 is the user's release while probing (24.379 10.2.2):
 * nothing more is sent for that call and an answer arriving now is ignored
 * (S7 -> S6), so the call attempt ends here. */
static void on_group_state(prose_node *n, const prose_call_event *ce) {
  node_group *g = node_group_find(n, ce->group);
  if (g == NULL || ce->old_state != PROSE_CALL_S2) return;
  if (n->probing == g) n->probing = NULL;
  if (ce->new_state == PROSE_CALL_S7)
    emit_simple(n, PROSE_NODE_EV_CALL_ENDED, g->id, NULL, "cancelled", 0, 0);
}

/* The call type state machine moved (24.379 10.2.3): an upgrade to
 * emergency (T1) or imminent peril (T3), or an END back to basic (T2). The
 * media session of the group's basic call takes the new type. T0 only says
 * the call is not (or no longer) established: the group events handle that;
 * a broadcast call (its own machine) is not this machine's. */
static void on_type_state(prose_node *n, const prose_call_event *ce) {
  node_group *g = node_group_find(n, ce->group);
  if (g == NULL || !g->call.active || ce->new_state == PROSE_CALL_T0) return;
  if (g->call.call_type == PROSE_MONP_CALL_BROADCAST_GROUP) return;
  node_call_type_changed(n, &g->call, ce->call_type);
}

static void on_state(prose_node *n, const prose_call_event *ce) {
  if (ce->kind == PROSE_CALL_EV_GROUP_STATE) {
    emit_state(n, ce, prose_call_group_state_name((prose_call_group_state)ce->old_state),
               prose_call_group_state_name((prose_call_group_state)ce->new_state));
    on_group_state(n, ce);
  } else if (ce->kind == PROSE_CALL_EV_TYPE_STATE) {
    emit_state(n, ce, type_state_name(ce->old_state), type_state_name(ce->new_state));
    on_type_state(n, ce);
  } else if (ce->kind == PROSE_CALL_EV_BCAST_STATE) {
    emit_state(n, ce, bcast_state_name(ce->old_state), bcast_state_name(ce->new_state));
  } else if (ce->kind == PROSE_CALL_EV_ALERT_STATE) {
    emit_state(n, ce, alert_state_name(ce->old_state), alert_state_name(ce->new_state));
  } else {
    emit_state(n, ce, prose_call_private_state_name((prose_call_private_state)ce->old_state),
               prose_call_private_state_name((prose_call_private_state)ce->new_state));
  }
}

static void call_event(void *ud, const prose_call_event *ce) {
  prose_node *n = ud;
  switch (ce->kind) {
    case PROSE_CALL_EV_GROUP_STATE:
    case PROSE_CALL_EV_TYPE_STATE:
    case PROSE_CALL_EV_BCAST_STATE:
    case PROSE_CALL_EV_ALERT_STATE:
    case PROSE_CALL_EV_PRIVATE_STATE:
      on_state(n, ce);
      break;
    case PROSE_CALL_EV_GROUP_INCOMING:
      emit_simple(n, PROSE_NODE_EV_INCOMING, ce->group, ce->peer, "group call", 0, 0);
      break;
    case PROSE_CALL_EV_GROUP_STARTED: on_group_begin(n, ce, true, "started"); break;
    case PROSE_CALL_EV_GROUP_JOINED: on_group_begin(n, ce, false, "joined"); break;
    case PROSE_CALL_EV_GROUP_MERGED: on_group_begin(n, ce, false, "merged"); break;
    case PROSE_CALL_EV_GROUP_RELEASED: on_group_released(n, ce); break;
    case PROSE_CALL_EV_GROUP_ACCEPTED:
    case PROSE_CALL_EV_ALERT_ACK:
      break; /* informational for the engine's originator; nothing to do here */
    case PROSE_CALL_EV_ALERT:
      emit_simple(n, PROSE_NODE_EV_ALERT, ce->group, ce->peer, ce->text, ce->err, 0);
      break;
    case PROSE_CALL_EV_ALERT_CANCELLED:
      emit_simple(n, PROSE_NODE_EV_ALERT, ce->group, ce->peer, "cancelled", ce->err, 0);
      break;
    case PROSE_CALL_EV_PRIVATE_INCOMING: on_private_incoming(n, ce); break;
    case PROSE_CALL_EV_PRIVATE_RINGING:
      emit_simple(n, PROSE_NODE_EV_CALL_STATE, NULL, ce->peer, "ringing", 0, 0);
      break;
    case PROSE_CALL_EV_PRIVATE_CONNECTED: on_private_connected(n, ce); break;
    case PROSE_CALL_EV_PRIVATE_REJECTED: on_private_ended(n, ce, "rejected"); break;
    case PROSE_CALL_EV_PRIVATE_FAILED: on_private_ended(n, ce, "failed"); break;
    case PROSE_CALL_EV_PRIVATE_RELEASED: on_private_ended(n, ce, "released"); break;
    case PROSE_CALL_EV_PRIVATE_EMERGENCY_CANCELLED:
      if (n->priv.active && strcmp(n->priv.peer, ce->peer) == 0)
        node_call_type_changed(n, &n->priv, ce->call_type);
      emit_simple(n, PROSE_NODE_EV_CALL_STATE, NULL, ce->peer, "emergency cancelled", 0, 0);
      break;
  }
}

void node_call_callbacks(prose_call_callbacks *cb) {
  memset(cb, 0, sizeof *cb);
  cb->send_group = send_group;
  cb->send_private = send_private;
  cb->event = call_event;
  cb->make_key_mgmt = make_key_mgmt;
  cb->check_key_mgmt = check_key_mgmt;
  cb->wall_s = wall_s;
}
