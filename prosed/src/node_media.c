/*
 * One media session per call: the SRTP/SRTCP context (TS 33.179 7.5, 7.6),
 * the floor participant (TS 24.380 clause 7) and the application's RTP.
 *
 * Paths (DESIGN §3: nothing leaves unprotected, nothing unauthenticated
 * reaches the application or the floor machine):
 *   floor engine --plain RTCP APP--> SRTCP protect --> FLOOR socket
 *   FLOOR socket --> SRTCP unprotect --> prose_floor_recv
 *   MEDIA socket --> SRTP unprotect --> prose_floor_rtp + APP socket (to the app)
 *   APP socket (from the app) --> only while the floor engine lets us send:
 *       renumber onto our stream --> SRTP protect --> MEDIA socket
 *
 * Group keys. The GMK to send with is the store's answer for the group at
 * the current wall time; it is looked up again when the call (re)starts and
 * when the rekey timer fires at the next GMK's activation or the current
 * one's expiry. Received packets name their GMK in the MKI; the media
 * context asks lookup_gmk, which asks the store, so a GMK sits in memory
 * only while libsrtp expands it.
 */
#include <stdio.h>
#include <string.h>

#include "node_internal.h"
#include "prose/err.h"
#include "prose/util.h"

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static const char *call_group_id(const node_call *c) { return c->is_private ? NULL : c->group->id; }
static const char *call_peer(const node_call *c) { return c->is_private ? c->peer : NULL; }

/* Add what the context counted since the last look to the node's sums, so
 * the node's counters keep the drops of contexts that are gone. */
static void account(prose_node *n, node_call *c) {
  prose_media_counters now;
  if (c->mg)
    prose_media_group_counters(c->mg, &now);
  else if (c->mp)
    prose_media_private_counters(c->mp, &now);
  else
    return;
  prose_media_counters *t = &n->ctr.media;
  const prose_media_counters *o = &c->snap;
  t->tx_rtp += now.tx_rtp - o->tx_rtp;
  t->tx_rtcp += now.tx_rtcp - o->tx_rtcp;
  t->rx_rtp += now.rx_rtp - o->rx_rtp;
  t->rx_rtcp += now.rx_rtcp - o->rx_rtcp;
  t->drop_malformed += now.drop_malformed - o->drop_malformed;
  t->drop_unknown_mki += now.drop_unknown_mki - o->drop_unknown_mki;
  t->drop_no_key += now.drop_no_key - o->drop_no_key;
  t->drop_auth += now.drop_auth - o->drop_auth;
  t->drop_replay += now.drop_replay - o->drop_replay;
  t->streams_created += now.streams_created - o->streams_created;
  t->streams_evicted += now.streams_evicted - o->streams_evicted;
  c->snap = now;
}

static uint32_t random_u32(prose_node *n) {
  uint8_t b[4] = {0, 0, 0, 0};
  /* A failed RNG is reported by the protect calls never being reached: the
   * caller checks the SSRC for zero. */
  if (prose_rng_fill(&n->rng, b, sizeof b) != 0) return 0;
  return rd32(b);
}

/* ---------------------------------------------------------------------- */
/* Floor participant glue                                                   */
/* ---------------------------------------------------------------------- */

/* Floor control leaves only SRTCP-protected with the call's key and MKI
 * (33.179 7.6). Its own buffer: a reply may be sent while the received
 * datagram that caused it still sits in n->rx. */
static int floor_send(void *ud, const uint8_t *bytes, size_t len) {
  node_call *c = ud;
  prose_node *n = c->n;
  if (!c->tx_key) return PROSE_ENOKEY;
  if (len > PROSE_NODE_MAX_DGRAM - PROSE_MEDIA_GROUP_RTCP_OVERHEAD) return PROSE_ELEN;
  uint8_t *buf = (uint8_t *)n->tx;
  memcpy(buf, bytes, len);
  size_t out = 0;
  int rc = c->mg ? prose_media_group_protect_rtcp(c->mg, buf, len, sizeof n->tx, &out)
                 : prose_media_private_protect_rtcp(c->mp, buf, len, sizeof n->tx, &out);
  account(n, c);
  if (rc == 0) rc = node_send(n, PROSE_SOCK_FLOOR, c->floor_port, &c->floor_to, buf, out);
  return rc;
}

/* A node event about call c: type, time and whose call it is. */
static void call_event_init(node_call *c, prose_node_event_type type, uint64_t now,
                            prose_node_event *ev) {
  memset(ev, 0, sizeof *ev);
  ev->type = type;
  ev->now = now;
  ev->group = call_group_id(c);
  ev->peer = call_peer(c);
}

static void floor_emit(node_call *c, prose_node_event_type type, const prose_floor_event *fe,
                       const char *text) {
  prose_node_event ev;
  call_event_init(c, type, fe->now, &ev);
  ev.state_from = prose_floor_state_name(fe->type == PROSE_FLOOR_EV_STATE ? fe->old_state
                                                                           : fe->new_state);
  ev.state_to = prose_floor_state_name(fe->new_state);
  ev.trigger = prose_floor_trigger_name(fe->trigger);
  ev.talker = fe->user_id ? fe->user_id : "";
  ev.text = text;
  node_emit(c->n, &ev);
}

static void floor_event(void *ud, const prose_floor_event *fe) {
  node_call *c = ud;
  prose_node_event ev;
  switch (fe->type) {
    case PROSE_FLOOR_EV_STATE: floor_emit(c, PROSE_NODE_EV_FLOOR, fe, NULL); break;
    case PROSE_FLOOR_EV_MEDIA:
      /* A new permission starts a new talk burst on our stream. */
      if (fe->on && !c->may_send) c->burst_new = true;
      c->may_send = fe->on;
      break;
    case PROSE_FLOOR_EV_GRANTED: floor_emit(c, PROSE_NODE_EV_GRANTED, fe, NULL); break;
    case PROSE_FLOOR_EV_DENIED:
    case PROSE_FLOOR_EV_REQUEST_FAILED:
      call_event_init(c, PROSE_NODE_EV_DENIED, fe->now, &ev);
      ev.reason = fe->type == PROSE_FLOOR_EV_DENIED ? fe->cause : 0u;
      ev.text = fe->type == PROSE_FLOOR_EV_DENIED ? "denied" : "request unanswered";
      node_emit(c->n, &ev);
      break;
    case PROSE_FLOOR_EV_REVOKED: floor_emit(c, PROSE_NODE_EV_REVOKED, fe, NULL); break;
    case PROSE_FLOOR_EV_QUEUED:
    case PROSE_FLOOR_EV_GRANT_OFFERED:
      call_event_init(c, PROSE_NODE_EV_QUEUED, fe->now, &ev);
      ev.reason = fe->type == PROSE_FLOOR_EV_QUEUED ? fe->queue_position : 0u;
      ev.text = fe->type == PROSE_FLOOR_EV_QUEUED ? "queued" : "granted: press PTT to talk";
      node_emit(c->n, &ev);
      break;
    case PROSE_FLOOR_EV_STOP_WARNING:
      floor_emit(c, PROSE_NODE_EV_FLOOR, fe, "stop talking warning");
      break;
    case PROSE_FLOOR_EV_TALKER:
      call_event_init(c, PROSE_NODE_EV_TALKER, fe->now, &ev);
      ev.talker = fe->known && fe->user_id ? fe->user_id : "";
      node_emit(c->n, &ev);
      break;
  }
}

static uint32_t floor_flags(uint8_t call_type) {
  switch ((prose_monp_call_type)call_type) {
    case PROSE_MONP_CALL_BASIC_GROUP: return 0;
    case PROSE_MONP_CALL_BROADCAST_GROUP: return PROSE_FLOOR_CALL_BROADCAST;
    case PROSE_MONP_CALL_EMERGENCY_GROUP: return PROSE_FLOOR_CALL_EMERGENCY;
    case PROSE_MONP_CALL_IMMINENT_PERIL_GROUP: return PROSE_FLOOR_CALL_IMMINENT_PERIL;
    case PROSE_MONP_CALL_PRIVATE: return PROSE_FLOOR_CALL_PRIVATE;
    case PROSE_MONP_CALL_EMERGENCY_PRIVATE:
      return PROSE_FLOOR_CALL_PRIVATE | PROSE_FLOOR_CALL_EMERGENCY;
  }
  return 0;
}

static int floor_begin(prose_node *n, node_call *c, bool originator) {
  prose_floor_settings fs = n->set.floor;
  fs.ssrc = c->ssrc;
  fs.user_id = n->uri;
  fs.call_flags = floor_flags(c->call_type);
  prose_floor_callbacks cb = {floor_send, floor_event};
  int rc = prose_floor_new(&c->floor, &fs, &cb, c);
  if (rc == 0)
    rc = prose_floor_start(c->floor, n->now,
                           originator ? PROSE_FLOOR_ROLE_ORIGINATOR : PROSE_FLOOR_ROLE_TERMINATING);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Group keys                                                               */
/* ---------------------------------------------------------------------- */

static bool miss_cached(prose_node *n, const node_group *g, uint32_t gmk_id) {
  for (size_t i = 0; i < NODE_MISS_SLOTS; i++) {
    const node_miss *m = &n->miss[i];
    if (m->group == g && m->gmk_id == gmk_id && m->until > n->now) return true;
  }
  return false;
}

static void miss_add(prose_node *n, const node_group *g, uint32_t gmk_id) {
  node_miss *m = &n->miss[n->miss_next++ % NODE_MISS_SLOTS];
  m->group = g;
  m->gmk_id = gmk_id;
  m->until = n->now + NODE_MISS_TTL_MS;
}

/* The media context's lookup: the GMK of this group that gmk_id names, if
 * the store holds it and it has not expired (activation is not checked: a
 * sender may switch a little before us, store.h). A GMK of another group
 * never keys this group's media. */
static int lookup_gmk(void *user, uint32_t gmk_id, prose_media_key *out) {
  node_call *c = user;
  prose_node *n = c->n;
  if (n->set.store == NULL || miss_cached(n, c->group, gmk_id)) return PROSE_ENOKEY;
  prose_store_gmk k;
  int rc = prose_store_gmk_rx(n->set.store, gmk_id, c->group->id, node_wall(n), &k);
  if (rc == 0 && (k.rand_len < PROSE_MEDIA_RAND_MIN || k.rand_len > PROSE_MEDIA_RAND_MAX))
    rc = PROSE_ENOKEY;
  if (rc == 0) {
    memcpy(out->tgk, k.gmk, sizeof out->tgk);
    out->key_id = k.gmk_id;
    memcpy(out->rand, k.rand, k.rand_len);
    out->rand_len = k.rand_len;
  } else if (rc == PROSE_ENOKEY) {
    miss_add(n, c->group, gmk_id);
  }
  prose_store_gmk_wipe(&k);
  return rc;
}

typedef struct next_change {
  const char *group;
  uint64_t t;
  uint64_t at; /* earliest activation after t, UINT64_MAX when none */
} next_change;

static int pending_gmk(void *ud, const prose_store_item *it) {
  next_change *nc = ud;
  if (it->kind == PROSE_ITEM_GMK && it->group_id && strcmp(it->group_id, nc->group) == 0 &&
      it->start > nc->t && it->start < nc->at)
    nc->at = it->start;
  return 0;
}

/* When the GMK to send with changes next: the activation of a pending GMK
 * of the group or the expiry of the current one, as monotonic time. */
static uint64_t rekey_time(prose_node *n, const node_group *g, uint64_t t, uint64_t expiry) {
  next_change nc = {g->id, t, expiry};
  (void)prose_store_list(n->set.store, t, pending_gmk, &nc);
  if (nc.at == UINT64_MAX || nc.at >= PROSE_STORE_NEVER) return UINT64_MAX;
  uint64_t secs = nc.at - t;
  if (secs > (UINT64_MAX - n->now) / 1000u) return UINT64_MAX;
  return n->now + secs * 1000u;
}

/* The GMK we stopped sending with may also have ended for receiving
 * (expired or removed from the store): drop the sessions keyed from it, so
 * packets under it stop decrypting now rather than when the call ends. */
static void forget_if_expired(prose_node *n, node_call *c, uint32_t gmk_id, uint64_t t) {
  prose_store_gmk k;
  int rc = prose_store_gmk_rx(n->set.store, gmk_id, c->group->id, t, &k);
  prose_store_gmk_wipe(&k);
  if (rc == PROSE_EEXPIRED || rc == PROSE_ENOKEY) (void)prose_media_group_forget_gmk(c->mg, gmk_id);
}

/* Install the GMK the group transmits with now (33.179 7.3.1: a new GMK
 * replaces the old one for transmission at its activation time). The SSRC
 * stays, so receivers see one stream whose MKI changes (media.h). */
static void group_tx_key(prose_node *n, node_call *c) {
  node_group *g = c->group;
  uint64_t t = node_wall(n);
  prose_store_gmk k;
  memset(&k, 0, sizeof k);
  int rc = n->set.store ? prose_store_gmk_tx(n->set.store, g->id, t, &k) : PROSE_ENOKEY;
  c->rekey_at = UINT64_MAX;
  if (c->tx_key && (rc != 0 || k.gmk_id != c->gmk_id)) forget_if_expired(n, c, c->gmk_id, t);
  if (rc == 0 && !(c->tx_key && k.gmk_id == c->gmk_id)) {
    rc = prose_media_group_set_tx_key(c->mg, k.gmk, k.gmk_id, k.guk_id, k.rand, k.rand_len,
                                      c->ssrc);
    if (rc == 0) {
      c->tx_key = true;
      c->gmk_id = k.gmk_id;
    }
  }
  if (rc == 0) {
    c->rekey_at = rekey_time(n, g, t, k.expiry);
  } else {
    /* No valid GMK: stop sending rather than keep a key past its expiry.
     * The call goes on for receiving; the store may learn a key later. */
    c->tx_key = false;
    n->ctr.no_gmk++;
    node_error(n, g->id, NULL, rc, "no GMK to send with");
    if (n->set.store) c->rekey_at = rekey_time(n, g, t, UINT64_MAX);
  }
  prose_store_gmk_wipe(&k);
}

/* ---------------------------------------------------------------------- */
/* Call life cycle                                                          */
/* ---------------------------------------------------------------------- */

/* Forget a call's state but not what ties it to its group or the node. */
static void call_reset(node_call *c) {
  prose_node *n = c->n;
  node_group *g = c->group;
  bool is_private = c->is_private;
  prose_wipe(c, sizeof *c);
  c->n = n;
  c->group = g;
  c->is_private = is_private;
  c->rekey_at = UINT64_MAX;
}

static node_call *another_active(prose_node *n, const node_call *not) {
  if (n->priv.active && &n->priv != not) return &n->priv;
  for (size_t i = 0; i < n->n_groups; i++)
    if (n->groups[i].call.active && &n->groups[i].call != not) return &n->groups[i].call;
  return NULL;
}

void node_call_end(prose_node *n, node_call *c) {
  if (!c->active && c->floor == NULL && c->mg == NULL && c->mp == NULL) return;
  /* The floor first: while it still has the call's key it tells the others
   * that we stop talking (Floor Release), then the keys go. */
  if (c->floor) {
    (void)prose_floor_stop(c->floor, n->now);
    prose_floor_del(c->floor);
    c->floor = NULL;
  }
  account(n, c);
  prose_media_group_free(c->mg);
  prose_media_private_free(c->mp);
  if (c->is_private && c->pck_in_store && n->set.store)
    (void)prose_store_pck_delete(n->set.store, c->pck_id);
  if (n->current == c) n->current = another_active(n, c);
  call_reset(c);
}

int node_group_call_begin(prose_node *n, node_group *g, uint8_t call_type, bool originator) {
  node_call *c = &g->call;
  /* A merge or a second machine of the group replaces the session: a fresh
   * context and SSRC, and a floor participant for the new call. */
  node_call_end(n, c);
  call_reset(c);
  c->call_type = call_type;
  c->originator = originator;
  c->media_to = g->mcast;
  c->media_to.port = g->media_port;
  c->floor_to = g->mcast;
  c->floor_to.port = g->floor_port;
  c->media_port = g->media_port;
  c->floor_port = g->floor_port;
  c->app_port = g->app_port;
  prose_media_group_config cfg = {lookup_gmk, NULL, c, 0};
  int rc = prose_media_group_new(&cfg, &c->mg);
  if (rc != 0) goto fail;
  c->ssrc = random_u32(n);
  if (c->ssrc == 0) {
    rc = PROSE_ERNG;
    goto fail;
  }
  group_tx_key(n, c);
  c->active = true;
  rc = floor_begin(n, c, originator);
  if (rc != 0) goto fail;
  n->current = c;
  return 0;
fail:
  node_call_end(n, c);
  return rc;
}

int node_private_call_begin(prose_node *n, const char *peer, uint8_t call_type, bool caller,
                            const prose_sdp *peer_sdp) {
  node_call *c = &n->priv;
  node_pck *k = node_pck_find(n, peer);
  if (k == NULL || !k->have_key) return PROSE_ENOKEY;
  if (peer_sdp == NULL || !peer_sdp->has_floor || peer_sdp->audio_port == 0 ||
      peer_sdp->floor_port == 0)
    return PROSE_ESDP_MISSING;
  node_call_end(n, c);
  call_reset(c);
  snprintf(c->peer, sizeof c->peer, "%s", peer);
  c->call_type = call_type;
  c->originator = caller;
  int rc = 0;
  if (!node_addr_from_str(peer_sdp->addr, peer_sdp->audio_port, &c->media_to) ||
      !node_addr_from_str(peer_sdp->addr, peer_sdp->floor_port, &c->floor_to)) {
    rc = PROSE_ESDP_VALUE;
    goto fail;
  }
  c->media_port = n->set.private_audio_port;
  c->floor_port = n->set.private_floor_port;
  c->app_port = n->set.private_app_port;
  c->ssrc = random_u32(n);
  if (c->ssrc == 0) {
    rc = PROSE_ERNG;
    goto fail;
  }
  rc = prose_media_private_new(k->pck, k->pck_id, k->rand, k->rand_len,
                               caller ? PROSE_MEDIA_CALLER : PROSE_MEDIA_CALLEE, c->ssrc, &c->mp);
  if (rc != 0) goto fail;
  /* The context holds the derived keys now; the PCK itself is wiped and the
   * call takes over deleting the store's copy when it ends. */
  c->pck_id = k->pck_id;
  c->pck_in_store = k->in_store;
  k->in_store = false;
  node_pck_drop(n, k, false);
  c->tx_key = true;
  c->active = true;
  rc = floor_begin(n, c, caller);
  if (rc != 0) goto fail;
  n->current = c;
  return 0;
fail:
  node_call_end(n, c);
  return rc;
}

void node_call_type_changed(prose_node *n, node_call *c, uint8_t call_type) {
  if (!c->active || c->call_type == call_type) return;
  /* floor_begin set the class when the session started; an upgrade or an
   * END later must reach the floor participant too, or its requests go out
   * without the emergency indicator and it weighs others' requests against
   * the old class (24.380 7.2: effective priority, pre-emption). */
  c->call_type = call_type;
  if (c->floor == NULL) return;
  int rc = prose_floor_set_call_flags(c->floor, floor_flags(call_type));
  if (rc != 0) node_error(n, call_group_id(c), call_peer(c), rc, "floor kept its call type");
}

void node_call_timeout(prose_node *n, node_call *c) {
  if (!c->active) return;
  if (c->floor && prose_floor_next_deadline(c->floor) <= n->now)
    (void)prose_floor_on_timeout(c->floor, n->now);
  if (!c->is_private && c->rekey_at <= n->now) group_tx_key(n, c);
}

uint64_t node_call_deadline(const node_call *c) {
  if (!c->active) return UINT64_MAX;
  uint64_t m = c->floor ? prose_floor_next_deadline(c->floor) : UINT64_MAX;
  return c->rekey_at < m ? c->rekey_at : m;
}

/* ---------------------------------------------------------------------- */
/* Datagrams                                                                */
/* ---------------------------------------------------------------------- */

void node_media_rx(prose_node *n, node_call *c, const uint8_t *bytes, size_t len) {
  if (len > PROSE_NODE_MAX_DGRAM) {
    n->ctr.media.drop_malformed++;
    return;
  }
  uint8_t *buf = (uint8_t *)n->rx;
  memcpy(buf, bytes, len);
  size_t out = 0;
  int rc = c->mg ? prose_media_group_unprotect_rtp(c->mg, buf, len, &out, NULL)
                 : prose_media_private_unprotect_rtp(c->mp, buf, len, &out);
  account(n, c);
  if (rc != 0) return; /* counted by the context, per reason */
  n->ctr.media_rx++;
  (void)prose_floor_rtp(c->floor, n->now, rd32(buf + 8));
  prose_node_addr app = n->set.app_addr;
  app.port = (uint16_t)(c->app_port + 1u);
  if (node_send(n, PROSE_SOCK_APP, c->app_port, &app, buf, out) == 0) n->ctr.media_to_app++;
}

void node_floor_rx(prose_node *n, node_call *c, const uint8_t *bytes, size_t len) {
  if (len > PROSE_NODE_MAX_DGRAM) {
    n->ctr.media.drop_malformed++;
    return;
  }
  uint8_t *buf = (uint8_t *)n->rx;
  memcpy(buf, bytes, len);
  size_t out = 0;
  int rc = c->mg ? prose_media_group_unprotect_rtcp(c->mg, buf, len, &out, NULL)
                 : prose_media_private_unprotect_rtcp(c->mp, buf, len, &out);
  account(n, c);
  if (rc != 0) return;
  if (prose_floor_recv(c->floor, n->now, buf, out) != 0) n->ctr.floor_rx_errors++;
}

/* Put the application's packet on our stream: our SSRC, the next sequence
 * number, and its timestamp shifted so the stream's clock runs on across
 * talk bursts (a new burst continues from where the last one stopped, plus
 * the time in between). Sequence numbers only grow, so the SRTP index (and
 * the GCM nonce) never repeats whatever the application sends. */
static void renumber(prose_node *n, node_call *c, uint8_t *p) {
  uint32_t in_ts = rd32(p + 4), in_ssrc = rd32(p + 8);
  uint32_t rate = n->set.call.clock_rate ? n->set.call.clock_rate : 8000u;
  if (!c->stream_started) {
    c->seq = (uint16_t)(random_u32(n) & 0x7FFFu);
    c->ts_off = random_u32(n) - in_ts;
    c->stream_started = true;
  } else if (c->burst_new || in_ssrc != c->app_ssrc) {
    uint64_t gap = n->now > c->last_ms ? n->now - c->last_ms : 0;
    uint64_t step = gap * rate / 1000u;
    if (step == 0) step = 1;
    if (step > INT32_MAX) step = INT32_MAX;
    c->ts_off = c->last_ts + (uint32_t)step - in_ts;
  }
  c->burst_new = false;
  c->app_ssrc = in_ssrc;
  c->seq++;
  c->last_ts = in_ts + c->ts_off;
  c->last_ms = n->now;
  wr16(p + 2, c->seq);
  wr32(p + 4, c->last_ts);
  wr32(p + 8, c->ssrc);
}

void node_app_rx(prose_node *n, node_call *c, const uint8_t *bytes, size_t len) {
  n->ctr.app_rx++;
  if (!c->may_send || !c->tx_key) {
    n->ctr.app_dropped_no_floor++;
    return;
  }
  size_t overhead = c->mg ? PROSE_MEDIA_GROUP_RTP_OVERHEAD : PROSE_MEDIA_PRIVATE_RTP_OVERHEAD;
  if (len < 12 || len > PROSE_NODE_MAX_DGRAM - overhead || (bytes[0] >> 6) != 2) {
    n->ctr.app_dropped_bad++;
    return;
  }
  uint8_t *buf = (uint8_t *)n->rx;
  memcpy(buf, bytes, len);
  renumber(n, c, buf);
  size_t out = 0;
  int rc = c->mg ? prose_media_group_protect_rtp(c->mg, buf, len, sizeof n->rx, &out)
                 : prose_media_private_protect_rtp(c->mp, buf, len, sizeof n->rx, &out);
  account(n, c);
  if (rc != 0) {
    prose_wipe(buf, len);
    n->ctr.app_dropped_bad++;
    return;
  }
  if (node_send(n, PROSE_SOCK_MEDIA, c->media_port, &c->media_to, buf, out) == 0)
    n->ctr.media_tx++;
}
