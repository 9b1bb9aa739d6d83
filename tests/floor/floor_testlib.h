/*
 * Test-only helpers for the floor tests: a builder for peer messages
 * (well-formed, through the production encoder) and a recorder that keeps
 * what an engine sent and reported, checking the trace as it goes.
 */
#ifndef PROSE_FLOOR_TESTLIB_H
#define PROSE_FLOOR_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/floor.h"
#include "prose/floor_msg.h"

#define FT_MAX_SENT 256
#define FT_MAX_EVENTS 512
#define FT_ID_LEN 64

/* A sent message, decoded again (so every send is also a codec check). */
typedef struct ft_sent {
  uint8_t type;
  uint32_t ssrc;
  uint32_t field_ssrc;
  bool has_field_ssrc;
  char user_id[FT_ID_LEN];
  char queued_user_id[FT_ID_LEN];
  uint16_t cause;
  uint8_t queue_position;
  uint8_t priority;
  uint16_t indicator;
  size_t n_queue;
  uint32_t queue_ssrc[PROSE_FLOOR_QUEUE_MAX];
  uint64_t at;
  uint8_t bytes[1024];
  size_t len;
} ft_sent;

typedef struct ft_event {
  prose_floor_event_type type;
  prose_floor_state old_state, new_state;
  prose_floor_trigger trigger;
  bool on, known;
  uint32_t ssrc;
  uint16_t cause;
  uint8_t queue_position;
  uint64_t now;
} ft_event;

/* Records one engine's output. `now` must be kept current by the test (the
 * engine does not pass it to send). */
typedef struct ft_rec {
  const char *name;
  uint64_t now;
  size_t n_sent;
  ft_sent sent[FT_MAX_SENT];
  size_t n_events;
  ft_event events[FT_MAX_EVENTS];
  prose_floor_state traced; /* state according to the trace so far */
  int send_rc;              /* what send() returns */
  /* Optional: called after each send (scenario network). */
  void (*on_send)(void *ctx, const uint8_t *b, size_t n);
  void *ctx;
  /* Optional: try to re-enter the engine from a callback. */
  prose_floor *reenter;
  int reenter_rc;
} ft_rec;

extern const prose_floor_callbacks ft_callbacks;

void ft_rec_init(ft_rec *r, const char *name);
/* Count events / sent messages of one type (since index `from`). */
size_t ft_count_events(const ft_rec *r, prose_floor_event_type t, size_t from);
size_t ft_count_sent(const ft_rec *r, uint8_t type, size_t from);
const ft_event *ft_last_event(const ft_rec *r, prose_floor_event_type t);
const ft_sent *ft_last_sent(const ft_rec *r);

/* Settings with the defaults, own SSRC/ID and priority. */
void ft_settings(prose_floor_settings *s, uint32_t ssrc, const char *id, uint8_t priority);

/* Peer message builders: encode into out (cap >= PROSE_FLOOR_MSG_MAX is
 * safe) and return the length. Indicator 0 means "normal + queueing". */
size_t ft_request(uint8_t *out, uint32_t from, const char *id, uint8_t prio, uint16_t ind);
size_t ft_granted(uint8_t *out, uint32_t from, uint32_t to_ssrc, const char *to_id, uint8_t prio,
                  size_t n_queue, const uint32_t *queue_ssrc);
size_t ft_deny(uint8_t *out, uint32_t from, const char *to_id, uint16_t cause);
size_t ft_release(uint8_t *out, uint32_t from, const char *id);
size_t ft_taken(uint8_t *out, uint32_t from, const char *id, uint8_t prio, bool permission);
size_t ft_qpr(uint8_t *out, uint32_t from, const char *id);
size_t ft_qpi(uint8_t *out, uint32_t from, const char *from_id, uint32_t queued_ssrc,
              const char *queued_id, uint8_t pos);

#endif
