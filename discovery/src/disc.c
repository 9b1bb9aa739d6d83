/*
 * The sans-IO discovery engine: own announcements on a timer, verification
 * of received ones, and the bounded peer table.
 *
 * Timers (all in the driver's monotonic milliseconds):
 *  - announce: due at creation, then every announce_interval_ms minus a
 *    random jitter of up to a tenth of it, so nodes started together do not
 *    keep sending in step; it never fires later than the interval, which
 *    keeps the TTL we promise (three intervals by default) honest;
 *  - peer expiry: last_seen_ms + min(announced TTL, max_peer_ttl_ms); the
 *    peer disappears from queries and PEER_EXPIRED is emitted;
 *  - purge: an entry that is no longer live (expired, left) is kept as a
 *    tombstone holding its last (timestamp, seq) until no announcement it
 *    ever accepted can pass the timestamp window again, so a replay cannot
 *    resurrect a peer that fell silent or left. See purge_time().
 *
 * Table: max_peers entries preallocated at creation; nothing is allocated
 * while receiving, so a flood of announcements, valid or not, cannot grow
 * memory. When a new peer arrives and the table is full, a tombstone is
 * reused first, else the live peer heard from least recently is evicted.
 */
#include <stdlib.h>
#include <string.h>

#include "prose/buf.h"
#include "prose/discovery.h"
#include "prose/err.h"

#define MAX_PEERS_LIMIT 4096u

typedef struct entry {
  bool used;
  bool live; /* false: a tombstone that only remembers replay state */
  uint32_t hash;
  uint64_t purge_ms;
  prose_disc_peer p;
} entry;

struct prose_disc {
  prose_keyring *kr;
  const prose_rng *rng;
  prose_disc_settings s; /* s.kms_uri points at kms_uri below */
  char kms_uri[PROSE_DISC_URI_MAX + 1];
  prose_disc_callbacks cb;
  void *ud;
  entry *tab;
  size_t n_live;
  bool announcing;
  uint64_t next_announce_ms; /* UINT64_MAX when not announcing */
  bool sent_any;
  uint64_t last_ts; /* NTP timestamp of our latest announcement */
  uint32_t seq;     /* sequence number of our latest announcement */
  /* The earliest expiry or purge time in the table (UINT64_MAX when empty),
   * kept current by every change of the table: a driver asks for the next
   * deadline after every datagram it handles, and walking max_peers
   * entries of about 1.5 KiB each every time costs more than the datagram. */
  uint64_t peers_due;
  prose_disc_stats st;
  uint8_t buf[PROSE_DISC_MAX_LEN];
};

void prose_disc_settings_default(prose_disc_settings *s) {
  if (!s) return;
  memset(s, 0, sizeof *s);
  s->local.call_port = PROSE_DISC_CALL_PORT;
  s->local.caps = PROSE_DISC_CAP_GROUP_CALL | PROSE_DISC_CAP_PRIVATE_CALL;
  s->announce_interval_ms = 5000;
  s->announce_ttl_ms = 15000;
  s->max_peer_ttl_ms = 600000;
  s->max_skew_ms = 120000;
  s->max_peers = 256;
}

/* FNV-1a: a cheap filter so a lookup compares strings only on a match. */
static uint32_t id_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

static bool local_ok(const prose_disc_local *l) {
  if (!l->has_ipv4 && !l->has_ipv6) return false;
  if (l->call_port == 0 || l->n_ports > PROSE_DISC_MAX_PORTS) return false;
  for (size_t i = 0; i < l->n_ports; i++)
    if (l->ports[i].port == 0) return false;
  return true;
}

/* Our own announcement must be encodable (URIs within bounds and free of
 * control characters, an address, non-zero ports): find out now rather
 * than at every interval. */
static bool own_encodable(const prose_disc_settings *s, const char *own) {
  prose_disc_ann a;
  size_t len;
  memset(&a, 0, sizeof a);
  if (strlen(own) > PROSE_DISC_URI_MAX || strlen(s->kms_uri) > PROSE_DISC_URI_MAX) return false;
  memcpy(a.mcptt_id, own, strlen(own) + 1);
  memcpy(a.kms_uri, s->kms_uri, strlen(s->kms_uri) + 1);
  a.has_ipv4 = s->local.has_ipv4;
  a.has_ipv6 = s->local.has_ipv6;
  a.call_port = s->local.call_port;
  a.n_ports = s->local.n_ports;
  if (a.n_ports <= PROSE_DISC_MAX_PORTS) memcpy(a.ports, s->local.ports, sizeof a.ports);
  return prose_disc_ann_encode(&a, NULL, 0, &len) == 0;
}

static int check_settings(const prose_disc_settings *s, const prose_keyring *kr) {
  const char *own = prose_keyring_own_uri(kr);
  if (!s->kms_uri || !own_encodable(s, own)) return PROSE_ECONFIG;
  if (s->max_peers == 0 || s->max_peers > MAX_PEERS_LIMIT || s->max_skew_ms == 0 ||
      s->max_peer_ttl_ms == 0 || s->announce_ttl_ms == 0)
    return PROSE_ECONFIG;
  /* A TTL shorter than the interval would make us expire in every peer's
   * table between two announcements. */
  if (s->announce_interval_ms > 0 && s->announce_ttl_ms < s->announce_interval_ms)
    return PROSE_ECONFIG;
  /* The keyring has no "is this KMS known" query; the UID lookup answers
   * it (any time at or after the KMS offset will do). */
  uint8_t uid[32];
  int rc = prose_keyring_uid(kr, own, s->kms_uri, UINT64_MAX >> 1, uid);
  return rc == PROSE_EUNKNOWN_KMS ? rc : 0;
}

int prose_disc_new(prose_disc **out, prose_keyring *kr, const prose_rng *rng,
                   const prose_disc_settings *settings, const prose_disc_callbacks *cb,
                   void *user_data) {
  if (!out || !kr || !rng || !settings || !cb || !cb->send) return PROSE_EINVAL;
  int rc = check_settings(settings, kr);
  if (rc) return rc;
  prose_disc *d = calloc(1, sizeof *d);
  if (!d) return PROSE_ENOMEM;
  d->tab = calloc(settings->max_peers, sizeof *d->tab);
  if (!d->tab) {
    free(d);
    return PROSE_ENOMEM;
  }
  d->kr = kr;
  d->rng = rng;
  d->s = *settings;
  memcpy(d->kms_uri, settings->kms_uri, strlen(settings->kms_uri) + 1);
  d->s.kms_uri = d->kms_uri;
  d->cb = *cb;
  d->ud = user_data;
  d->announcing = settings->announce_interval_ms > 0;
  d->next_announce_ms = d->announcing ? 0 : UINT64_MAX;
  d->peers_due = UINT64_MAX;
  /* A random first sequence number says nothing about how often we
   * restarted; ordering across restarts comes from the timestamp. */
  uint8_t r[4] = {0};
  (void)prose_rng_fill(rng, r, sizeof r);
  d->seq = prose_get_u32(r);
  *out = d;
  return 0;
}

void prose_disc_free(prose_disc *d) {
  if (!d) return;
  free(d->tab);
  free(d);
}

/* ------------------------------------------------------------------------ */
/* Events and counters                                                       */
/* ------------------------------------------------------------------------ */

static void emit(prose_disc *d, const prose_disc_event *ev) {
  if (d->cb.event) d->cb.event(d->ud, ev);
}

static void emit_peer(prose_disc *d, prose_disc_event_type t, const prose_disc_peer *p) {
  prose_disc_event ev = {.type = t, .peer = p};
  emit(d, &ev);
}

static void count_reject(prose_disc_stats *st, int reason) {
  switch (reason) {
    case PROSE_EUNKNOWN_KMS: st->rej_unknown_kms++; break;
    case PROSE_EPERIOD: st->rej_period++; break;
    case PROSE_ETIME: st->rej_time++; break;
    case PROSE_ESIG:
    case PROSE_ELEN: st->rej_sig++; break;
    case PROSE_EREPLAY: st->rej_replay++; break;
    default: st->rej_malformed++; break;
  }
}

static int reject(prose_disc *d, int reason, const prose_disc_ann *a,
                  const prose_disc_addr *from) {
  count_reject(&d->st, reason);
  prose_disc_event ev = {.type = PROSE_DISC_EV_REJECTED, .reason = reason, .ann = a, .from = from};
  emit(d, &ev);
  return reason;
}

/* ------------------------------------------------------------------------ */
/* Table                                                                     */
/* ------------------------------------------------------------------------ */

static entry *find_entry(const prose_disc *d, const char *id) {
  uint32_t h = id_hash(id);
  for (size_t i = 0; i < d->s.max_peers; i++) {
    entry *e = &d->tab[i];
    if (e->used && e->hash == h && strcmp(e->p.ann.mcptt_id, id) == 0) return e;
  }
  return NULL;
}

/* A free slot, else the tombstone due to be purged first, else (only when
 * allow_live) the live peer heard from least recently. */
static entry *pick_slot(const prose_disc *d, bool allow_live) {
  entry *tomb = NULL, *stale = NULL;
  for (size_t i = 0; i < d->s.max_peers; i++) {
    entry *e = &d->tab[i];
    if (!e->used) return e;
    if (!e->live && (!tomb || e->purge_ms < tomb->purge_ms)) tomb = e;
    if (e->live && (!stale || e->p.last_seen_ms < stale->p.last_seen_ms)) stale = e;
  }
  if (tomb) return tomb;
  return allow_live ? stale : NULL;
}

/*
 * When a tombstone may be forgotten. Every announcement accepted from this
 * peer had timestamp ts <= now_ntp(at receipt) + skew, and a replay of it
 * fails the window once now_ntp > ts + skew, i.e. at the latest 2 * skew
 * after the last receipt (local wall clock and monotonic clock advancing
 * together). Until then the stored (timestamp, seq) must stay.
 */
static uint64_t purge_time(const prose_disc *d, const entry *e) {
  uint64_t replay_safe = e->p.last_seen_ms + 2u * (uint64_t)d->s.max_skew_ms + 1u;
  return replay_safe > e->p.expires_ms ? replay_safe : e->p.expires_ms;
}

/* Anything a user of the table would act on, i.e. all but the freshness
 * fields (period, timestamp, sequence, signature). */
static bool material_change(const prose_disc_ann *a, const prose_disc_ann *b) {
  if (strcmp(a->kms_uri, b->kms_uri) != 0 || a->ttl_ms != b->ttl_ms || a->caps != b->caps ||
      a->has_ipv4 != b->has_ipv4 || a->has_ipv6 != b->has_ipv6 || a->call_port != b->call_port ||
      a->n_ports != b->n_ports || a->ext_len != b->ext_len)
    return true;
  if (a->has_ipv4 && memcmp(a->ipv4, b->ipv4, sizeof a->ipv4) != 0) return true;
  if (a->has_ipv6 && memcmp(a->ipv6, b->ipv6, sizeof a->ipv6) != 0) return true;
  for (size_t i = 0; i < a->n_ports; i++)
    if (a->ports[i].kind != b->ports[i].kind || a->ports[i].port != b->ports[i].port) return true;
  return memcmp(a->ext, b->ext, a->ext_len) != 0;
}

/*
 * Source-address policy: the signed, announced addresses are what we call;
 * the datagram source is unauthenticated and only recorded. A source that
 * is none of the announced addresses (a multi-homed sender, a v4-mapped
 * socket, a relay) is accepted but counted, since refusing it would break
 * legitimate set-ups while adding no security the signature does not give.
 */
static bool src_matches(const prose_disc_ann *a, const prose_disc_addr *from) {
  static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (from->family == PROSE_DISC_AF_IPV4)
    return a->has_ipv4 && memcmp(from->ip, a->ipv4, 4) == 0;
  if (from->family != PROSE_DISC_AF_IPV6) return true;
  if (a->has_ipv6 && memcmp(from->ip, a->ipv6, 16) == 0) return true;
  return a->has_ipv4 && memcmp(from->ip, v4mapped, 12) == 0 &&
         memcmp(from->ip + 12, a->ipv4, 4) == 0;
}

/* Recompute peers_due after the table changed. Called before the change's
 * events go out, so a callback that asks for the deadline sees it. */
static void update_peers_due(prose_disc *d) {
  uint64_t t = UINT64_MAX;
  for (size_t i = 0; i < d->s.max_peers; i++) {
    const entry *e = &d->tab[i];
    if (!e->used) continue;
    uint64_t due = e->live ? e->p.expires_ms : e->purge_ms;
    if (due < t) t = due;
  }
  d->peers_due = t;
}

/* A verified goodbye (TTL 0): the peer goes, its replay state stays. A
 * goodbye from a peer we do not know still leaves a tombstone when there is
 * room, so its earlier announcements cannot bring it back; it never evicts
 * a live peer for that. */
static void commit_leave(prose_disc *d, uint64_t now_ms, const prose_disc_ann *a, entry *e) {
  bool was_live = e && e->live;
  if (!e) {
    e = pick_slot(d, false);
    if (!e) return;
    memset(e, 0, sizeof *e);
    e->p.first_seen_ms = now_ms;
  }
  e->used = true;
  e->live = false;
  e->hash = id_hash(a->mcptt_id);
  e->p.ann = *a;
  e->p.last_seen_ms = now_ms;
  e->p.expires_ms = now_ms;
  e->purge_ms = purge_time(d, e);
  update_peers_due(d);
  if (was_live) {
    d->n_live--;
    d->st.left++;
    emit_peer(d, PROSE_DISC_EV_PEER_LEFT, &e->p);
  }
}

static void commit(prose_disc *d, uint64_t now_ms, const prose_disc_ann *a, entry *e,
                   const prose_disc_addr *from) {
  d->st.accepted++;
  if (from && !src_matches(a, from)) d->st.src_mismatch++;
  if (a->ttl_ms == 0) {
    commit_leave(d, now_ms, a, e);
    return;
  }
  prose_disc_peer evicted = {0};
  bool did_evict = false, was_live = e && e->live;
  bool changed = was_live && material_change(&e->p.ann, a);
  if (!e) {
    e = pick_slot(d, true);
    if (!e) return; /* unreachable: max_peers >= 1 and live peers may go */
    if (e->used && e->live) {
      evicted = e->p;
      did_evict = true;
      d->n_live--;
    }
    memset(e, 0, sizeof *e);
  }
  if (!was_live) e->p.first_seen_ms = now_ms;
  e->used = true;
  e->live = true;
  e->hash = id_hash(a->mcptt_id);
  e->p.ann = *a;
  e->p.last_seen_ms = now_ms;
  uint32_t ttl = a->ttl_ms < d->s.max_peer_ttl_ms ? a->ttl_ms : d->s.max_peer_ttl_ms;
  e->p.expires_ms = now_ms + ttl;
  e->purge_ms = purge_time(d, e);
  if (from) e->p.last_src = *from;
  else memset(&e->p.last_src, 0, sizeof e->p.last_src);
  update_peers_due(d);
  /* Events go out after the table is consistent, so a callback that
   * queries it sees the new state. */
  if (did_evict) {
    d->st.evicted++;
    emit_peer(d, PROSE_DISC_EV_PEER_EVICTED, &evicted);
  }
  if (!was_live) {
    d->n_live++;
    d->st.added++;
    emit_peer(d, PROSE_DISC_EV_PEER_ADDED, &e->p);
  } else if (changed) {
    d->st.updated++;
    emit_peer(d, PROSE_DISC_EV_PEER_UPDATED, &e->p);
  }
}

/* ------------------------------------------------------------------------ */
/* Receive: verify, then commit                                             */
/* ------------------------------------------------------------------------ */

/* max_skew_ms as an NTP 32.32 interval. */
static uint64_t skew_ntp(const prose_disc *d) {
  return ((uint64_t)d->s.max_skew_ms << 32) / 1000u;
}

static int check_time(const prose_disc *d, uint64_t now_ntp, uint64_t ts) {
  uint64_t diff = ts > now_ntp ? ts - now_ntp : now_ntp - ts;
  return diff <= skew_ntp(d) ? 0 : PROSE_ETIME;
}

/* Per peer, (timestamp, seq) must grow strictly: an equal pair is the same
 * announcement again, an older one a replay or a reordering too late to
 * matter. Tombstones count too (see purge_time). */
static int check_replay(const entry *e, const prose_disc_ann *a) {
  if (!e) return 0;
  const prose_disc_ann *last = &e->p.ann;
  if (a->timestamp > last->timestamp) return 0;
  if (a->timestamp == last->timestamp && a->seq > last->seq) return 0;
  return PROSE_EREPLAY;
}

/* The signer's UID comes from the announced MCPTT ID, KMS and the key
 * period of the announcement's own timestamp (DESIGN §3: never the local
 * clock alone); the keyring checks the claimed period number against it. */
static int check_sig(prose_disc *d, const prose_disc_ann *a, const uint8_t *bytes, size_t len) {
  uint64_t no = a->period_no;
  size_t signed_len = len - PROSE_ECCSI_SIG_LEN;
  return prose_keyring_verify(d->kr, a->mcptt_id, a->kms_uri, a->timestamp >> 32, &no, bytes,
                              signed_len, bytes + signed_len, PROSE_ECCSI_SIG_LEN);
}

int prose_disc_recv(prose_disc *d, uint64_t now_ms, uint64_t now_ntp, const uint8_t *bytes,
                    size_t len, const prose_disc_addr *from) {
  if (!d || (!bytes && len > 0)) return PROSE_EINVAL;
  d->st.rx++;
  prose_disc_ann a;
  int rc = prose_disc_ann_decode(bytes, len, &a);
  if (rc) return reject(d, rc, NULL, from);
  /* Our own announcement looped back by the multicast socket: dropped
   * before any crypto, as it is the most common datagram of all. */
  if (strcmp(a.mcptt_id, prose_keyring_own_uri(d->kr)) == 0) {
    d->st.own++;
    return 0;
  }
  entry *e = find_entry(d, a.mcptt_id);
  rc = check_time(d, now_ntp, a.timestamp);
  if (rc == 0) rc = check_replay(e, &a);
  if (rc == 0) rc = check_sig(d, &a, bytes, len);
  if (rc) return reject(d, rc, &a, from);
  commit(d, now_ms, &a, e, from);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Own announcements                                                         */
/* ------------------------------------------------------------------------ */

static void fill_own(const prose_disc *d, prose_disc_ann *a, uint64_t ts, uint32_t seq,
                     uint32_t ttl) {
  const prose_disc_local *l = &d->s.local;
  memset(a, 0, sizeof *a);
  const char *own = prose_keyring_own_uri(d->kr);
  memcpy(a->mcptt_id, own, strlen(own) + 1);
  memcpy(a->kms_uri, d->kms_uri, strlen(d->kms_uri) + 1);
  a->timestamp = ts;
  a->seq = seq;
  a->ttl_ms = ttl;
  a->has_ipv4 = l->has_ipv4;
  memcpy(a->ipv4, l->ipv4, sizeof a->ipv4);
  a->has_ipv6 = l->has_ipv6;
  memcpy(a->ipv6, l->ipv6, sizeof a->ipv6);
  a->call_port = l->call_port;
  a->n_ports = l->n_ports;
  memcpy(a->ports, l->ports, sizeof a->ports);
  a->caps = l->caps;
}

/*
 * Sign and send one announcement. (timestamp, seq) must grow strictly for
 * receivers, across clock steps too: if the wall clock went back, the last
 * timestamp is reused with the next sequence number (and nudged by one NTP
 * fraction unit on the unlikely sequence wrap).
 */
static int send_announcement(prose_disc *d, uint64_t now_ntp, uint32_t ttl) {
  uint64_t ts = now_ntp;
  uint32_t seq = d->seq + 1u;
  if (d->sent_any && ts <= d->last_ts) ts = d->last_ts;
  if (d->sent_any && ts == d->last_ts && seq == 0) ts++;
  prose_disc_ann a;
  fill_own(d, &a, ts, seq, ttl);
  size_t len = 0;
  int rc = prose_disc_ann_sign(&a, d->kr, d->rng, d->buf, sizeof d->buf, &len);
  if (rc) {
    d->st.announce_failed++;
    prose_disc_event ev = {.type = PROSE_DISC_EV_ANNOUNCE_FAILED, .reason = rc};
    emit(d, &ev);
    return rc;
  }
  d->sent_any = true;
  d->last_ts = ts;
  d->seq = seq;
  if (d->cb.send(d->ud, d->buf, len) == 0)
    d->st.sent++;
  else
    d->st.send_failed++;
  return 0;
}

static void schedule_announce(prose_disc *d, uint64_t now_ms) {
  uint32_t iv = d->s.announce_interval_ms, jitter = 0;
  if (!d->announcing || iv == 0) {
    d->next_announce_ms = UINT64_MAX;
    return;
  }
  if (prose_rng_uniform(d->rng, iv / 10u + 1u, &jitter) != 0) jitter = 0;
  d->next_announce_ms = now_ms + iv - jitter;
}

int prose_disc_announce_now(prose_disc *d, uint64_t now_ms, uint64_t now_ntp) {
  if (!d) return PROSE_EINVAL;
  d->announcing = d->s.announce_interval_ms > 0;
  int rc = send_announcement(d, now_ntp, d->s.announce_ttl_ms);
  schedule_announce(d, now_ms);
  return rc;
}

int prose_disc_leave(prose_disc *d, uint64_t now_ms, uint64_t now_ntp) {
  (void)now_ms;
  if (!d) return PROSE_EINVAL;
  d->announcing = false;
  d->next_announce_ms = UINT64_MAX;
  return send_announcement(d, now_ntp, 0);
}

int prose_disc_set_local(prose_disc *d, const prose_disc_local *local) {
  if (!d || !local) return PROSE_EINVAL;
  if (!local_ok(local)) return PROSE_ECONFIG;
  d->s.local = *local;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Timers                                                                    */
/* ------------------------------------------------------------------------ */

static void run_expiry(prose_disc *d, uint64_t now_ms) {
  for (size_t i = 0; i < d->s.max_peers; i++) {
    entry *e = &d->tab[i];
    if (!e->used) continue;
    if (e->live && now_ms >= e->p.expires_ms) {
      e->live = false;
      d->n_live--;
      d->st.expired++;
      emit_peer(d, PROSE_DISC_EV_PEER_EXPIRED, &e->p);
    }
    if (!e->live && now_ms >= e->purge_ms) e->used = false;
  }
  /* An EXPIRED callback above may have read peers_due before this: it was
   * then too early, never too late, which costs a spurious wake-up only. */
  update_peers_due(d);
}

int prose_disc_on_timeout(prose_disc *d, uint64_t now_ms, uint64_t now_ntp) {
  if (!d) return PROSE_EINVAL;
  run_expiry(d, now_ms);
  if (d->announcing && now_ms >= d->next_announce_ms) {
    /* A signing failure (no key set for the current period) is reported
     * as an event; the next interval tries again. */
    (void)send_announcement(d, now_ntp, d->s.announce_ttl_ms);
    schedule_announce(d, now_ms);
  }
  return 0;
}

uint64_t prose_disc_next_deadline(const prose_disc *d) {
  if (!d) return UINT64_MAX;
  uint64_t t = d->announcing ? d->next_announce_ms : UINT64_MAX;
  return d->peers_due < t ? d->peers_due : t;
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                   */
/* ------------------------------------------------------------------------ */

const prose_disc_peer *prose_disc_find(const prose_disc *d, const char *mcptt_id) {
  if (!d || !mcptt_id) return NULL;
  const entry *e = find_entry(d, mcptt_id);
  return e && e->live ? &e->p : NULL;
}

int prose_disc_call_addr(const prose_disc *d, const char *mcptt_id, bool prefer_ipv6,
                         prose_disc_addr *out) {
  if (!d || !mcptt_id || !out) return PROSE_EINVAL;
  const prose_disc_peer *p = prose_disc_find(d, mcptt_id);
  if (!p) return PROSE_ENOENT;
  memset(out, 0, sizeof *out);
  bool v6 = p->ann.has_ipv6 && (prefer_ipv6 || !p->ann.has_ipv4);
  if (v6) {
    out->family = PROSE_DISC_AF_IPV6;
    memcpy(out->ip, p->ann.ipv6, 16);
  } else {
    out->family = PROSE_DISC_AF_IPV4;
    memcpy(out->ip, p->ann.ipv4, 4);
  }
  out->port = p->ann.call_port;
  return 0;
}

const prose_disc_peer *prose_disc_next_peer(const prose_disc *d, size_t *it) {
  if (!d || !it) return NULL;
  for (size_t i = *it; i < d->s.max_peers; i++) {
    if (d->tab[i].used && d->tab[i].live) {
      *it = i + 1;
      return &d->tab[i].p;
    }
  }
  *it = d->s.max_peers;
  return NULL;
}

size_t prose_disc_peer_count(const prose_disc *d) { return d ? d->n_live : 0; }

const prose_disc_stats *prose_disc_get_stats(const prose_disc *d) { return d ? &d->st : NULL; }
