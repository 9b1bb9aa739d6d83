/*
 * Bounded byte reader and writer.
 *
 * Every parser in prose reads through a prose_rd and every encoder writes
 * through a prose_wr, so no code does raw pointer arithmetic on untrusted
 * lengths. All multi-octet integers are big-endian (network order).
 *
 * Reader: each prose_rd_* call either consumes exactly what it says and
 * returns 0, or consumes nothing and returns PROSE_ETRUNC.
 *
 * Writer: errors are sticky. The first write that does not fit sets
 * w->err = PROSE_EBUFSZ and every later write is a no-op, so an encoder can
 * write a whole message and check once at the end with prose_wr_finish().
 * A writer with buf == NULL and cap == 0 only counts (w->len grows, no error):
 * use it to size a buffer.
 */
#ifndef PROSE_BUF_H
#define PROSE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct prose_rd {
  const uint8_t *buf; /* borrowed: the caller keeps it alive */
  size_t len;
  size_t off;
} prose_rd;

static inline prose_rd prose_rd_init(const uint8_t *buf, size_t len) {
  prose_rd r = {buf, len, 0};
  return r;
}
static inline size_t prose_rd_left(const prose_rd *r) { return r->len - r->off; }
/* Pointer to the next unread octet (valid for prose_rd_left() octets). */
static inline const uint8_t *prose_rd_cur(const prose_rd *r) { return r->buf + r->off; }

int prose_rd_u8(prose_rd *r, uint8_t *v);
int prose_rd_u16(prose_rd *r, uint16_t *v);
int prose_rd_u24(prose_rd *r, uint32_t *v);
int prose_rd_u32(prose_rd *r, uint32_t *v);
int prose_rd_u40(prose_rd *r, uint64_t *v);
int prose_rd_u64(prose_rd *r, uint64_t *v);
/* Copy n octets into out. */
int prose_rd_bytes(prose_rd *r, uint8_t *out, size_t n);
/* Borrow n octets without copying: *p points into the reader's buffer. */
int prose_rd_ptr(prose_rd *r, const uint8_t **p, size_t n);
int prose_rd_skip(prose_rd *r, size_t n);
/* Split off a sub-reader of n octets (for length-prefixed structures). */
int prose_rd_sub(prose_rd *r, prose_rd *sub, size_t n);

typedef struct prose_wr {
  uint8_t *buf; /* borrowed */
  size_t cap;
  size_t len;
  int err;
} prose_wr;

static inline prose_wr prose_wr_init(uint8_t *buf, size_t cap) {
  prose_wr w = {buf, cap, 0, 0};
  return w;
}
void prose_wr_u8(prose_wr *w, uint8_t v);
void prose_wr_u16(prose_wr *w, uint16_t v);
void prose_wr_u24(prose_wr *w, uint32_t v);
void prose_wr_u32(prose_wr *w, uint32_t v);
void prose_wr_u40(prose_wr *w, uint64_t v);
void prose_wr_u64(prose_wr *w, uint64_t v);
void prose_wr_bytes(prose_wr *w, const void *p, size_t n);
void prose_wr_zeros(prose_wr *w, size_t n);
/* Reserve n octets and return a pointer to them (NULL on error or when
 * counting); used to patch a length field after the body is written. */
uint8_t *prose_wr_reserve(prose_wr *w, size_t n);
/* Store a big-endian value into an already written position. */
void prose_put_u16(uint8_t *p, uint16_t v);
void prose_put_u32(uint8_t *p, uint32_t v);
uint16_t prose_get_u16(const uint8_t *p);
uint32_t prose_get_u32(const uint8_t *p);
/* 0 when every write fit, PROSE_EBUFSZ otherwise. */
static inline int prose_wr_finish(const prose_wr *w) { return w->err; }

#endif
