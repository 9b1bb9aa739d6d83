/*
 * `set KEY VALUE`: the node settings a scenario may change, named after the
 * daemon's configuration sections (docs/config.md) and mapped the way
 * prosed's map_settings does: floor timers and counters (TS 24.380 cl. 11),
 * call control timers (TS 24.379 Annex B.3) and discovery.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/node.h"
#include "scn.h"

typedef enum kind {
  K_MS32 = 0, /* a time, stored as uint32 milliseconds (>= 1) */
  K_MS16,     /* a time, uint16 milliseconds */
  K_S32,      /* a time, uint32 seconds */
  K_U32,      /* a count (>= 1) */
  K_U8,       /* 0..255 */
  K_BOOL,
  K_SIZE      /* a count, size_t */
} kind;

typedef struct key {
  const char *name;
  kind k;
  size_t off;
} key;

#define F(name, k, member) {name, k, offsetof(prose_node_settings, member)}

static const key keys[] = {
    F("floor.t201", K_MS32, floor.timer_ms[PROSE_FLOOR_T201]),
    F("floor.t203", K_MS32, floor.timer_ms[PROSE_FLOOR_T203]),
    F("floor.t204", K_MS32, floor.timer_ms[PROSE_FLOOR_T204]),
    F("floor.t205", K_MS32, floor.timer_ms[PROSE_FLOOR_T205]),
    F("floor.t206", K_MS32, floor.timer_ms[PROSE_FLOOR_T206]),
    F("floor.t207", K_MS32, floor.timer_ms[PROSE_FLOOR_T207]),
    F("floor.t230", K_MS32, floor.timer_ms[PROSE_FLOOR_T230]),
    F("floor.t233", K_MS32, floor.timer_ms[PROSE_FLOOR_T233]),
    F("floor.c201", K_U32, floor.counter_max[PROSE_FLOOR_C201]),
    F("floor.c204", K_U32, floor.counter_max[PROSE_FLOOR_C204]),
    F("floor.c205", K_U32, floor.counter_max[PROSE_FLOOR_C205]),
    F("floor.priority", K_U8, floor.priority),
    F("floor.queueing", K_BOOL, floor.queueing),
    F("floor.queue_max", K_U8, floor.queue_capacity),
    F("call.tfg1", K_MS32, call.tfg1),
    F("call.tfg3", K_MS32, call.tfg3),
    F("call.tfg4", K_MS32, call.tfg4),
    F("call.tfg5", K_MS32, call.tfg5),
    F("call.tfg11", K_MS32, call.tfg11),
    F("call.tfg12", K_MS32, call.tfg12),
    F("call.tfg13", K_MS32, call.tfg13),
    F("call.tfg14", K_MS32, call.tfg14),
    F("call.tfb2", K_MS32, call.tfb2),
    F("call.tfb3", K_MS32, call.tfb3),
    F("call.tfe1", K_MS32, call.tfe1),
    F("call.tfe2", K_MS32, call.tfe2),
    F("call.tfp1", K_MS32, call.tfp1),
    F("call.tfp2", K_MS32, call.tfp2),
    F("call.tfp3", K_MS32, call.tfp3),
    F("call.tfp4", K_MS32, call.tfp4),
    F("call.tfp6", K_MS32, call.tfp6),
    F("call.tfp7", K_MS32, call.tfp7),
    F("call.cfg11", K_U32, call.cfg11),
    F("call.cfg12", K_U32, call.cfg12),
    F("call.cfp1", K_U32, call.cfp1),
    F("call.cfp3", K_U32, call.cfp3),
    F("call.cfp4", K_U32, call.cfp4),
    F("call.cfp6", K_U32, call.cfp6),
    F("call.refresh", K_MS16, call.refresh_interval),
    F("call.user_ack", K_BOOL, call.user_ack_required),
    F("call.confirm", K_BOOL, call.confirm_mode),
    F("call.max_duration", K_S32, call.group_max_duration_s),
    F("call.private_max_duration", K_S32, call.private_max_duration_s),
    F("disc.interval", K_MS32, disc.announce_interval_ms),
    F("disc.ttl", K_MS32, disc.announce_ttl_ms),
    F("disc.max_skew", K_MS32, disc.max_skew_ms),
    F("disc.max_peers", K_SIZE, disc.max_peers),
    F("node.auto_accept", K_BOOL, auto_accept_private),
};

const char *sim_settings_key(size_t i) { return i < sizeof keys / sizeof keys[0] ? keys[i].name : NULL; }

static int bad(char *why, size_t cap, const char *k, const char *v, const char *what) {
  if (why && cap) snprintf(why, cap, "%s: '%s' is not %s", k, v, what);
  return PROSE_ECONFIG;
}

int sim_settings_apply(struct prose_node_settings *s, const char *k, const char *v, char *why,
                       size_t why_cap) {
  const key *e = NULL;
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strcmp(keys[i].name, k) == 0) e = &keys[i];
  if (e == NULL) {
    if (why && why_cap) snprintf(why, why_cap, "unknown setting '%s'", k);
    return PROSE_ECONFIG;
  }
  unsigned char *base = (unsigned char *)s + e->off;
  uint64_t us = 0, n = 0;
  char *end = NULL;
  bool b = false;
  switch (e->k) {
    case K_MS32:
    case K_MS16:
    case K_S32:
      if (scn_value_time(v, &us) != 0) return bad(why, why_cap, k, v, "a time");
      if (e->k == K_S32) {
        if (us / 1000000u > UINT32_MAX) return bad(why, why_cap, k, v, "in range");
        uint32_t x = (uint32_t)(us / 1000000u);
        memcpy(base, &x, sizeof x);
      } else if (e->k == K_MS16) {
        if (us < 1000u || us / 1000u > UINT16_MAX) return bad(why, why_cap, k, v, "1ms..65s");
        uint16_t x = (uint16_t)(us / 1000u);
        memcpy(base, &x, sizeof x);
      } else {
        if (us / 1000u > UINT32_MAX) return bad(why, why_cap, k, v, "in range");
        uint32_t x = (uint32_t)(us / 1000u);
        memcpy(base, &x, sizeof x);
      }
      return 0;
    case K_U32:
    case K_U8:
    case K_SIZE:
      n = strtoull(v, &end, 10);
      if (end == v || *end != '\0') return bad(why, why_cap, k, v, "a number");
      if (e->k == K_U8) {
        if (n > 255) return bad(why, why_cap, k, v, "0..255");
        uint8_t x = (uint8_t)n;
        memcpy(base, &x, sizeof x);
      } else if (e->k == K_U32) {
        if (n == 0 || n > UINT32_MAX) return bad(why, why_cap, k, v, "a count of at least 1");
        uint32_t x = (uint32_t)n;
        memcpy(base, &x, sizeof x);
      } else {
        if (n == 0 || n > 65536) return bad(why, why_cap, k, v, "1..65536");
        size_t x = (size_t)n;
        memcpy(base, &x, sizeof x);
      }
      return 0;
    case K_BOOL:
      if (scn_value_bool(v, &b) != 0) return bad(why, why_cap, k, v, "on or off");
      memcpy(base, &b, sizeof b);
      return 0;
  }
  return PROSE_ECONFIG;
}
