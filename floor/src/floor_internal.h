/* Internal declarations shared by floor.c, floor_tx.c and floor_queue.c. */
#ifndef PROSE_FLOOR_INTERNAL_H
#define PROSE_FLOOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "prose/floor.h"

#define FL_NEVER UINT64_MAX

/* Effective priority class (24.380 7.2: emergency > imminent peril > normal). */
#define FL_CLASS_NORMAL 0u
#define FL_CLASS_IMMINENT_PERIL 1u
#define FL_CLASS_EMERGENCY 2u

/* A participant as this client knows it: from a Floor Request, Granted,
 * Taken, a queue entry or RTP (SSRC only). */
typedef struct fl_party {
  bool known;
  uint32_t ssrc; /* 0 when only the MCPTT ID is known */
  uint8_t cls;   /* FL_CLASS_* */
  uint8_t level; /* floor priority level */
  uint8_t id_len;
  char id[PROSE_FLOOR_ID_MAX + 1]; /* NUL-terminated copy */
} fl_party;

struct prose_floor {
  prose_floor_settings s; /* s.user_id points at own.id */
  prose_floor_callbacks cb;
  void *ud;
  prose_floor_state state;
  uint64_t deadline[PROSE_FLOOR_TIMER_COUNT];
  uint32_t count[PROSE_FLOOR_COUNTER_COUNT];
  fl_party own;     /* this client; own.level is the priority of the current request */
  fl_party talker;  /* floor holder (arbitrator) as far as known */
  fl_party grantee; /* 'O: pending granted': who was granted the floor */
  bool grantee_from_queue;
  bool originator;
  bool ptt_held;
  bool peer_permits_request; /* last Floor Taken allowed requests */
  bool in_callback;
  uint8_t queue_position;        /* own position while 'O: queued' */
  uint16_t taken_seq;            /* Message Sequence Number of our Floor Taken */
  uint64_t conflict_quiet_until; /* rate limit for resending Floor Taken */
  size_t n_queue;
  fl_party queue[PROSE_FLOOR_QUEUE_MAX]; /* requests queued at this arbitrator, head first */
  prose_floor_stats stats;
  uint8_t tx[PROSE_FLOOR_MSG_MAX];
};

/* floor_queue.c: the arbitrator's queue and the priority order. */
bool prose__floor_prio_higher(const fl_party *a, const fl_party *b);
bool prose__floor_wins_tie(const fl_party *a, const fl_party *b);
int prose__floor_queue_find(const prose_floor *f, uint32_t ssrc);
uint8_t prose__floor_queue_insert(prose_floor *f, const fl_party *p);
bool prose__floor_queue_remove(prose_floor *f, uint32_t ssrc);
bool prose__floor_queue_pop(prose_floor *f, fl_party *out);
void prose__floor_queue_adopt(prose_floor *f, const prose_floor_msg *granted);
void prose__floor_party_set(fl_party *p, uint32_t ssrc, const prose_floor_view *id, uint8_t cls,
                            uint8_t level);
uint8_t prose__floor_class(uint16_t indicator);

/* floor_tx.c: build and send each message this client sends. */
void prose__floor_send_request(prose_floor *f);
void prose__floor_send_granted(prose_floor *f, const fl_party *to);
void prose__floor_send_taken(prose_floor *f);
void prose__floor_send_deny(prose_floor *f, const fl_party *to, uint16_t cause);
void prose__floor_send_release(prose_floor *f);
void prose__floor_send_queue_pos_request(prose_floor *f);
void prose__floor_send_queue_pos_info(prose_floor *f, const fl_party *to, uint8_t position);

#endif
