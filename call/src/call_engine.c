/*
 * The call engine: creation, settings, the receive path (decode, then route
 * to a group or private machine), user action routing, the timer scan and
 * the output helpers the machines share.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "call_internal.h"
#include "prose/err.h"

/* Defaults, one block (DIGEST §7.7; 24.379 Annex B.3 for TFG1-TFG4, NIST
 * ns-3 psc values [I] for the rest; 36.579-1 5.5.5 for the refresh interval). */
enum {
  DEF_TFG1_MS = 150,
  DEF_TFG3_MS = 40,
  DEF_TFG4_MS = 30000,
  DEF_TFG5_MS = 30000,
  DEF_TFG11_MS = 1000,
  DEF_TFG12_MS = 1000,
  DEF_TFG13_MS = 255000, /* X of TFG13 [I]: the spec takes it from group configuration */
  DEF_TFG14_MS = 255000, /* X of TFG14 [I] */
  DEF_TFB2_MS = 3000,
  DEF_TFB3_MS = 30000,
  DEF_TFE1_MS = 30000,
  DEF_TFE2_MS = 5000,
  DEF_TFP1_MS = 40,
  DEF_TFP2_MS = 30000,
  DEF_TFP3_MS = 40,
  DEF_TFP4_MS = 40,
  DEF_TFP6_MS = 40,
  DEF_TFP7_MS = 1000,
  DEF_CFG11 = 5,
  DEF_CFG12 = 5,
  DEF_CFP1 = 3,
  DEF_CFP3 = 3,
  DEF_CFP4 = 3,
  DEF_CFP6 = 3,
  DEF_REFRESH_MS = 10000,
  DEF_GROUP_MAX_S = 600, /* TFG6 basis: 10 minutes [A] */
  DEF_BCAST_MAX_S = 300, /* TFB1 [I] */
  DEF_PRIVATE_MAX_S = 600 /* TFP5 [A] */
};

void prose_call_settings_default(prose_call_settings *s) {
  memset(s, 0, sizeof *s);
  s->unicast_addr = "127.0.0.1";
  s->audio_port = 20000;
  s->floor_port = 20002;
  s->payload_type = 0;
  s->codec = "PCMU";
  s->clock_rate = 8000;
  s->floor_queueing = true;
  s->floor_priority = 1;
  s->organization = "prose";
  s->require_key_mgmt = true;
  s->refresh_interval = DEF_REFRESH_MS;
  s->group_max_duration_s = DEF_GROUP_MAX_S;
  s->broadcast_max_duration_s = DEF_BCAST_MAX_S;
  s->private_max_duration_s = DEF_PRIVATE_MAX_S;
  s->tfg1 = DEF_TFG1_MS, s->tfg3 = DEF_TFG3_MS, s->tfg4 = DEF_TFG4_MS, s->tfg5 = DEF_TFG5_MS;
  s->tfg11 = DEF_TFG11_MS, s->tfg12 = DEF_TFG12_MS;
  s->tfg13 = DEF_TFG13_MS, s->tfg14 = DEF_TFG14_MS;
  s->tfb2 = DEF_TFB2_MS, s->tfb3 = DEF_TFB3_MS;
  s->tfe1 = DEF_TFE1_MS, s->tfe2 = DEF_TFE2_MS;
  s->tfp1 = DEF_TFP1_MS, s->tfp2 = DEF_TFP2_MS, s->tfp3 = DEF_TFP3_MS, s->tfp4 = DEF_TFP4_MS;
  s->tfp6 = DEF_TFP6_MS, s->tfp7 = DEF_TFP7_MS;
  s->cfg11 = DEF_CFG11, s->cfg12 = DEF_CFG12;
  s->cfp1 = DEF_CFP1, s->cfp3 = DEF_CFP3, s->cfp4 = DEF_CFP4, s->cfp6 = DEF_CFP6;
}

/* ---------------------------------------------------------------------- */
/* Creation                                                                 */
/* ---------------------------------------------------------------------- */

static bool copy_z(char *dst, size_t cap, const char *src) {
  size_t n = src ? strlen(src) : 0;
  if (n >= cap) return false;
  if (n) memcpy(dst, src, n);
  dst[n] = '\0';
  return true;
}

static bool parse_ip(const char *a, bool *v6) {
  unsigned char bin[16];
  if (a == NULL) return false;
  if (inet_pton(AF_INET, a, bin) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, a, bin) == 1) {
    *v6 = true;
    return true;
  }
  return false;
}

static int check_settings(const prose_call_settings *s) {
  const uint32_t timers[] = {s->tfg1, s->tfg3,  s->tfg4,  s->tfg5, s->tfg11, s->tfg12,
                             s->tfg13, s->tfg14, s->tfb2, s->tfb3, s->tfe1,  s->tfe2,
                             s->tfp1, s->tfp2,  s->tfp3,  s->tfp4, s->tfp6,  s->tfp7};
  const uint32_t counters[] = {s->cfg11, s->cfg12, s->cfp1, s->cfp3, s->cfp4, s->cfp6};
  for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++)
    if (timers[i] == 0) return PROSE_ECONFIG;
  for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
    if (counters[i] == 0) return PROSE_ECONFIG;
  if (s->refresh_interval == 0) return PROSE_ECONFIG;
  return 0;
}

int prose_call_engine_new(prose_call_engine **out, const prose_call_settings *settings,
                          const prose_call_callbacks *callbacks, void *user_data,
                          const prose_rng *rng) {
  if (out == NULL || settings == NULL || callbacks == NULL || rng == NULL || rng->fill == NULL)
    return PROSE_EINVAL;
  *out = NULL;
  if (settings->mcptt_id == NULL || settings->mcptt_id[0] == '\0') return PROSE_EINVAL;
  if (callbacks->send_group == NULL || callbacks->send_private == NULL) return PROSE_EINVAL;
  int rc = check_settings(settings);
  if (rc != 0) return rc;
  prose_call_engine *e = calloc(1, sizeof *e);
  if (e == NULL) return PROSE_ENOMEM;
  e->set = *settings;
  e->cb = *callbacks;
  e->ud = user_data;
  e->rng = *rng;
  bool alt_v6 = false;
  bool has_alt = settings->unicast_addr_alt != NULL && settings->unicast_addr_alt[0] != '\0';
  if (!parse_ip(settings->unicast_addr, &e->own_v6) ||
      (has_alt && (!parse_ip(settings->unicast_addr_alt, &alt_v6) || alt_v6 == e->own_v6))) {
    free(e);
    return PROSE_EINVAL;
  }
  if (!copy_z(e->own_id, sizeof e->own_id, settings->mcptt_id) ||
      !copy_z(e->own_addr, sizeof e->own_addr, settings->unicast_addr) ||
      !copy_z(e->alt_addr, sizeof e->alt_addr, has_alt ? settings->unicast_addr_alt : NULL) ||
      !copy_z(e->codec, sizeof e->codec, settings->codec) ||
      !copy_z(e->org, sizeof e->org, settings->organization) || e->org[0] == '\0') {
    free(e);
    return PROSE_ECONFIG;
  }
  e->set.mcptt_id = e->own_id;
  e->set.unicast_addr = e->own_addr;
  e->set.unicast_addr_alt = has_alt ? e->alt_addr : NULL;
  e->set.codec = e->codec;
  e->set.organization = e->org;
  *out = e;
  return 0;
}

void prose_call_engine_free(prose_call_engine *e) { free(e); }

static call_group *group_find(prose_call_engine *e, const char *id) {
  if (id == NULL) return NULL;
  for (size_t i = 0; i < PROSE_CALL_MAX_GROUPS; i++)
    if (e->groups[i].used && strcmp(e->groups[i].id, id) == 0) return &e->groups[i];
  return NULL;
}

static call_group *group_find_str(prose_call_engine *e, prose_monp_str id) {
  for (size_t i = 0; i < PROSE_CALL_MAX_GROUPS; i++)
    if (e->groups[i].used && prose_monp_str_eq(id, e->groups[i].id)) return &e->groups[i];
  return NULL;
}

int prose_call_group_add(prose_call_engine *e, const char *group_id, const char *mcast_addr,
                         uint16_t audio_port, uint16_t floor_port) {
  if (e == NULL || group_id == NULL || group_id[0] == '\0') return PROSE_EINVAL;
  if (strlen(group_id) > PROSE_MONP_ID_MAX) return PROSE_EINVAL;
  bool v6;
  if (!parse_ip(mcast_addr, &v6)) return PROSE_EINVAL;
  if (group_find(e, group_id)) return PROSE_EEXIST;
  for (size_t i = 0; i < PROSE_CALL_MAX_GROUPS; i++) {
    call_group *g = &e->groups[i];
    if (g->used) continue;
    memset(g, 0, sizeof *g);
    g->used = true;
    copy_z(g->id, sizeof g->id, group_id);
    copy_z(g->mcast, sizeof g->mcast, mcast_addr);
    g->v6 = v6;
    g->audio_port = audio_port;
    g->floor_port = floor_port;
    g->s = PROSE_CALL_S1;
    g->ts = PROSE_CALL_T0;
    g->b = PROSE_CALL_B1;
    g->a = PROSE_CALL_E1;
    return 0;
  }
  return PROSE_ERANGE;
}

/* ---------------------------------------------------------------------- */
/* Helpers for the machines                                                 */
/* ---------------------------------------------------------------------- */

void call_emit(prose_call_engine *e, const prose_call_event *ev) {
  if (e->cb.event) e->cb.event(e->ud, ev);
}

void call_send_group(prose_call_engine *e, const call_group *g, const prose_monp_msg *m) {
  size_t n;
  /* Our own fields are bounded at creation, so encoding cannot fail; a
   * failure would be a bug and the message is dropped rather than sent cut. */
  if (prose_monp_encode(m, e->tx, sizeof e->tx, &n) == 0) e->cb.send_group(e->ud, g->id, e->tx, n);
}

void call_send_private(prose_call_engine *e, const call_private *p, const prose_monp_msg *m) {
  size_t n;
  if (prose_monp_encode(m, e->tx, sizeof e->tx, &n) == 0)
    e->cb.send_private(e->ud, p->peer, e->tx, n);
}

uint64_t call_wall(const prose_call_engine *e, uint64_t now) {
  uint64_t w = e->cb.wall_s ? e->cb.wall_s(e->ud, now) : now / 1000u;
  return w & ((UINT64_C(1) << 40) - 1); /* MONP times are 40 bits */
}

uint16_t call_random_id(prose_call_engine *e) {
  uint8_t b[2] = {0, 0};
  /* A failed RNG leaves a fixed id; calls still work, merges may tie more. */
  (void)prose_rng_fill(&e->rng, b, sizeof b);
  return (uint16_t)((b[0] << 8) | b[1]);
}

uint64_t call_random_range(prose_call_engine *e, uint64_t lo, uint64_t hi) {
  if (hi <= lo) return lo;
  uint64_t span = hi - lo + 1;
  uint32_t x;
  if (span > UINT32_MAX || prose_rng_uniform(&e->rng, (uint32_t)span, &x) != 0)
    return lo + (hi - lo) / 2;
  return lo + x;
}

void call_copy_str(char *dst, size_t cap, prose_monp_str s) {
  size_t n = s.len < cap - 1 ? s.len : cap - 1;
  if (n) memcpy(dst, s.p, n);
  dst[n] = '\0';
}

void call_sdp_defaults(const prose_call_engine *e, prose_sdp *s) {
  memset(s, 0, offsetof(prose_sdp, key_mgmt));
  s->payload_type = e->set.payload_type;
  copy_z(s->codec, sizeof s->codec, e->codec);
  s->clock_rate = e->codec[0] ? e->set.clock_rate : 0;
  s->has_floor = true;
  s->mc_queueing = e->set.floor_queueing;
  s->has_mc_priority = true;
  s->mc_priority = e->set.floor_priority;
  s->sess_version = 1;
}

/* ---------------------------------------------------------------------- */
/* Inputs                                                                   */
/* ---------------------------------------------------------------------- */

int prose_call_recv(prose_call_engine *e, uint64_t now, const uint8_t *buf, size_t len,
                    const char *from) {
  (void)from; /* identities come from the message; the node authenticates media */
  if (e == NULL) return PROSE_EINVAL;
  prose_monp_msg m;
  int rc = prose_monp_decode(buf, len, &m);
  if (rc != 0) return rc;
  if (!prose_monp_is_group(m.type)) return call_private_recv(e, now, &m);
  call_group *g = group_find_str(e, m.group_id);
  if (g == NULL) return PROSE_ENOENT;
  return call_group_recv(e, g, now, &m);
}

/* The earliest due timer of the whole engine, so expiries run in time order
 * even when the driver calls late. */
typedef struct due_timer {
  call_timer *t;
  call_group *g;
  call_private *p;
  int which; /* group or private timer index; -1 - alert index for TFE1 */
} due_timer;

static void consider(due_timer *best, call_timer *t, call_group *g, call_private *p, int which,
                     uint64_t now) {
  if (!t->armed || t->at > now) return;
  if (best->t == NULL || t->at < best->t->at) {
    best->t = t, best->g = g, best->p = p, best->which = which;
  }
}

static due_timer find_due(prose_call_engine *e, uint64_t now) {
  due_timer best = {NULL, NULL, NULL, 0};
  for (size_t i = 0; i < PROSE_CALL_MAX_GROUPS; i++) {
    call_group *g = &e->groups[i];
    if (!g->used) continue;
    for (int k = 0; k < CALL_GROUP_TIMERS; k++) consider(&best, &g->t[k], g, NULL, k, now);
    for (size_t a = 0; a < PROSE_CALL_MAX_ALERTS; a++)
      if (g->alerts[a].used) consider(&best, &g->alerts[a].tfe1, g, NULL, -1 - (int)a, now);
  }
  for (size_t i = 0; i < PROSE_CALL_MAX_PRIVATE; i++) {
    call_private *p = &e->priv[i];
    if (p->p == PROSE_CALL_P0) continue;
    for (int k = 0; k < CALL_PRIVATE_TIMERS; k++) consider(&best, &p->t[k], NULL, p, k, now);
  }
  return best;
}

int prose_call_on_timeout(prose_call_engine *e, uint64_t now) {
  if (e == NULL) return PROSE_EINVAL;
  for (unsigned n = 0; n < CALL_MAX_FIRES; n++) {
    due_timer d = find_due(e, now);
    if (d.t == NULL) break;
    timer_stop(d.t);
    if (d.p) {
      call_private_on_timer(e, d.p, now, (call_private_timer)d.which);
    } else if (d.which >= 0) {
      call_group_on_timer(e, d.g, now, (call_group_timer)d.which);
    } else {
      call_group_alert_expired(e, d.g, now, (size_t)(-1 - d.which));
    }
  }
  return 0;
}

static void min_armed(uint64_t *m, const call_timer *t) {
  if (t->armed && t->at < *m) *m = t->at;
}

uint64_t prose_call_next_deadline(const prose_call_engine *e) {
  uint64_t m = UINT64_MAX;
  if (e == NULL) return m;
  for (size_t i = 0; i < PROSE_CALL_MAX_GROUPS; i++) {
    const call_group *g = &e->groups[i];
    if (!g->used) continue;
    for (int k = 0; k < CALL_GROUP_TIMERS; k++) min_armed(&m, &g->t[k]);
    for (size_t a = 0; a < PROSE_CALL_MAX_ALERTS; a++)
      if (g->alerts[a].used) min_armed(&m, &g->alerts[a].tfe1);
  }
  for (size_t i = 0; i < PROSE_CALL_MAX_PRIVATE; i++) {
    const call_private *p = &e->priv[i];
    if (p->p == PROSE_CALL_P0) continue;
    for (int k = 0; k < CALL_PRIVATE_TIMERS; k++) min_armed(&m, &p->t[k]);
  }
  return m;
}

/* ---------------------------------------------------------------------- */
/* User actions                                                             */
/* ---------------------------------------------------------------------- */

#define WITH_GROUP(e, id, call)                      \
  do {                                               \
    if ((e) == NULL) return PROSE_EINVAL;            \
    call_group *g_ = group_find((e), (id));          \
    if (g_ == NULL) return PROSE_ENOENT;             \
    return call;                                     \
  } while (0)

int prose_call_group_call(prose_call_engine *e, uint64_t now, const char *group_id,
                          prose_monp_call_type type) {
  WITH_GROUP(e, group_id, call_group_user_call(e, g_, now, (uint8_t)type));
}
int prose_call_group_accept(prose_call_engine *e, uint64_t now, const char *group_id) {
  WITH_GROUP(e, group_id, call_group_user_accept(e, g_, now));
}
int prose_call_group_reject(prose_call_engine *e, uint64_t now, const char *group_id) {
  WITH_GROUP(e, group_id, call_group_user_reject(e, g_, now));
}
int prose_call_group_release(prose_call_engine *e, uint64_t now, const char *group_id) {
  WITH_GROUP(e, group_id, call_group_user_release(e, g_, now));
}
int prose_call_group_end_emergency(prose_call_engine *e, uint64_t now, const char *group_id) {
  WITH_GROUP(e, group_id, call_group_user_end_emergency(e, g_, now));
}
int prose_call_emergency_alert(prose_call_engine *e, uint64_t now, const char *group_id,
                               bool on) {
  WITH_GROUP(e, group_id, call_group_user_alert(e, g_, now, on));
}

int prose_call_private_call_af(prose_call_engine *e, uint64_t now, const char *peer_uri,
                               prose_monp_commencement mode, bool emergency, bool peer_ipv6) {
  if (e == NULL || peer_uri == NULL || peer_uri[0] == '\0') return PROSE_EINVAL;
  if (strlen(peer_uri) > PROSE_MONP_ID_MAX || strcmp(peer_uri, e->own_id) == 0)
    return PROSE_EINVAL;
  if (mode != PROSE_MONP_COMMENCEMENT_AUTOMATIC && mode != PROSE_MONP_COMMENCEMENT_MANUAL)
    return PROSE_EINVAL;
  return call_private_user_call(e, now, peer_uri, mode, emergency, peer_ipv6);
}

int prose_call_private_call(prose_call_engine *e, uint64_t now, const char *peer_uri,
                            prose_monp_commencement mode, bool emergency) {
  /* The family of unicast_addr: the offer carries unicast_addr, as before
   * there was a second address. */
  return prose_call_private_call_af(e, now, peer_uri, mode, emergency, e ? e->own_v6 : false);
}

#define WITH_PEER(e, peer, call)                        \
  do {                                                  \
    if ((e) == NULL || (peer) == NULL) return PROSE_EINVAL; \
    call_private *p_ = call_private_find((e), (peer));  \
    if (p_ == NULL) return PROSE_ENOENT;                \
    return call;                                        \
  } while (0)

int prose_call_private_accept(prose_call_engine *e, uint64_t now, const char *peer_uri) {
  WITH_PEER(e, peer_uri, call_private_user_accept(e, p_, now));
}
int prose_call_private_reject(prose_call_engine *e, uint64_t now, const char *peer_uri) {
  WITH_PEER(e, peer_uri, call_private_user_reject(e, p_, now));
}
int prose_call_private_release(prose_call_engine *e, uint64_t now, const char *peer_uri) {
  WITH_PEER(e, peer_uri, call_private_user_release(e, p_, now));
}
int prose_call_private_emergency_cancel(prose_call_engine *e, uint64_t now,
                                        const char *peer_uri) {
  WITH_PEER(e, peer_uri, call_private_user_emergency_cancel(e, p_, now));
}

/* ---------------------------------------------------------------------- */
/* Queries                                                                  */
/* ---------------------------------------------------------------------- */

int prose_call_group_get(const prose_call_engine *e, const char *group_id,
                         prose_call_group_info *info) {
  if (e == NULL || info == NULL) return PROSE_EINVAL;
  const call_group *g = group_find((prose_call_engine *)e, group_id);
  if (g == NULL) return PROSE_ENOENT;
  memset(info, 0, sizeof *info);
  info->state = g->s;
  info->type_state = g->ts;
  info->bcast_state = g->b;
  info->alert_state = g->a;
  info->call_id = g->call_id;
  info->call_type = g->call_type;
  info->start_time = g->start_time;
  info->originator = g->originator;
  info->bcast_call_id = g->b_call_id;
  for (size_t i = 0; i < PROSE_CALL_MAX_ALERTS; i++) info->alerts += g->alerts[i].used;
  return 0;
}

int prose_call_private_get(const prose_call_engine *e, const char *peer_uri,
                           prose_call_private_info *info) {
  if (e == NULL || info == NULL || peer_uri == NULL) return PROSE_EINVAL;
  const call_private *p = call_private_find((prose_call_engine *)e, peer_uri);
  if (p == NULL) return PROSE_ENOENT;
  memset(info, 0, sizeof *info);
  info->state = p->p;
  info->call_id = p->call_id;
  info->call_type = p->call_type;
  info->caller = p->caller;
  info->commencement = p->commencement;
  return 0;
}

const char *prose_call_group_state_name(prose_call_group_state s) {
  static const char *const names[] = {"?", "S1", "S2", "S3", "S4", "S5", "S6", "S7"};
  return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

const char *prose_call_private_state_name(prose_call_private_state s) {
  static const char *const names[] = {"P0", "P1", "P2", "P3", "P4", "P5"};
  return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}
