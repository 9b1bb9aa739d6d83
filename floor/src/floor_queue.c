/*
 * Effective priority and the floor request queue of the temporary floor
 * arbitrator (TS 24.380 7.2: the client holding the floor queues requests
 * it neither grants nor denies, when queueing is supported).
 */
#include <string.h>

#include "floor_internal.h"
#include "prose/floor_msg.h"

uint8_t prose__floor_class(uint16_t indicator) {
  /* The Floor Indicator says what kind of call the sender takes part in
   * (24.380 8.2.3.13); emergency outranks imminent peril. */
  if (indicator & PROSE_FLOOR_IND_EMERGENCY) return FL_CLASS_EMERGENCY;
  if (indicator & PROSE_FLOOR_IND_IMMINENT_PERIL) return FL_CLASS_IMMINENT_PERIL;
  return FL_CLASS_NORMAL;
}

void prose__floor_party_set(fl_party *p, uint32_t ssrc, const prose_floor_view *id, uint8_t cls,
                            uint8_t level) {
  p->known = true;
  p->ssrc = ssrc;
  p->cls = cls;
  p->level = level;
  /* Decoded IDs are at most 255 octets (1-octet length); copy and terminate. */
  size_t n = id ? id->len : 0;
  if (n > PROSE_FLOOR_ID_MAX) n = PROSE_FLOOR_ID_MAX;
  if (n) memcpy(p->id, id->p, n);
  p->id[n] = '\0';
  p->id_len = (uint8_t)n;
}

/* Pre-emption and queue order compare class, then level. */
bool prose__floor_prio_higher(const fl_party *a, const fl_party *b) {
  if (a->cls != b->cls) return a->cls > b->cls;
  return a->level > b->level;
}

/* The deterministic tie-break of floor.h: class, level, SSRC, then ID. */
bool prose__floor_wins_tie(const fl_party *a, const fl_party *b) {
  if (a->cls != b->cls) return a->cls > b->cls;
  if (a->level != b->level) return a->level > b->level;
  if (a->ssrc != b->ssrc) return a->ssrc > b->ssrc;
  size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
  int c = memcmp(a->id, b->id, n);
  if (c != 0) return c > 0;
  return a->id_len > b->id_len;
}

int prose__floor_queue_find(const prose_floor *f, uint32_t ssrc) {
  for (size_t i = 0; i < f->n_queue; i++)
    if (f->queue[i].ssrc == ssrc) return (int)i;
  return -1;
}

/* Insert behind every entry of equal or higher priority (first come, first
 * served within a priority). Returns the 1-based position, 0 when full. */
uint8_t prose__floor_queue_insert(prose_floor *f, const fl_party *p) {
  if (f->n_queue >= f->s.queue_capacity) return 0;
  size_t at = f->n_queue;
  while (at > 0 && prose__floor_prio_higher(p, &f->queue[at - 1])) at--;
  memmove(&f->queue[at + 1], &f->queue[at], (f->n_queue - at) * sizeof f->queue[0]);
  f->queue[at] = *p;
  f->n_queue++;
  return (uint8_t)(at + 1);
}

bool prose__floor_queue_remove(prose_floor *f, uint32_t ssrc) {
  int i = prose__floor_queue_find(f, ssrc);
  if (i < 0) return false;
  size_t at = (size_t)i;
  memmove(&f->queue[at], &f->queue[at + 1], (f->n_queue - at - 1) * sizeof f->queue[0]);
  f->n_queue--;
  return true;
}

bool prose__floor_queue_pop(prose_floor *f, fl_party *out) {
  if (f->n_queue == 0) return false;
  *out = f->queue[0];
  return prose__floor_queue_remove(f, out->ssrc);
}

/* A Floor Granted hands the queue to the new arbitrator (24.380 8.2.4:
 * Queue Size and the queued participants). Keep the order it lists,
 * without ourselves, up to our capacity. The class of a queued request is
 * not on the wire, so it is taken as normal. */
void prose__floor_queue_adopt(prose_floor *f, const prose_floor_msg *granted) {
  f->n_queue = 0;
  for (size_t i = 0; i < granted->n_queue && f->n_queue < f->s.queue_capacity; i++) {
    const prose_floor_qentry *e = &granted->queue[i];
    if (e->ssrc == f->own.ssrc || prose__floor_queue_find(f, e->ssrc) >= 0) continue;
    prose__floor_party_set(&f->queue[f->n_queue++], e->ssrc, &e->user_id, FL_CLASS_NORMAL,
                           e->has_info ? e->priority : 0);
  }
}
