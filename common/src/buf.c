#include "prose/buf.h"

#include <string.h>

#include "prose/err.h"

static int rd_be(prose_rd *r, size_t n, uint64_t *v) {
  if (prose_rd_left(r) < n) return PROSE_ETRUNC;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) x = (x << 8) | r->buf[r->off + i];
  r->off += n;
  *v = x;
  return 0;
}

int prose_rd_u8(prose_rd *r, uint8_t *v) {
  uint64_t x;
  int rc = rd_be(r, 1, &x);
  if (rc == 0) *v = (uint8_t)x;
  return rc;
}
int prose_rd_u16(prose_rd *r, uint16_t *v) {
  uint64_t x;
  int rc = rd_be(r, 2, &x);
  if (rc == 0) *v = (uint16_t)x;
  return rc;
}
int prose_rd_u24(prose_rd *r, uint32_t *v) {
  uint64_t x;
  int rc = rd_be(r, 3, &x);
  if (rc == 0) *v = (uint32_t)x;
  return rc;
}
int prose_rd_u32(prose_rd *r, uint32_t *v) {
  uint64_t x;
  int rc = rd_be(r, 4, &x);
  if (rc == 0) *v = (uint32_t)x;
  return rc;
}
int prose_rd_u40(prose_rd *r, uint64_t *v) { return rd_be(r, 5, v); }
int prose_rd_u64(prose_rd *r, uint64_t *v) { return rd_be(r, 8, v); }

int prose_rd_bytes(prose_rd *r, uint8_t *out, size_t n) {
  if (prose_rd_left(r) < n) return PROSE_ETRUNC;
  if (n) memcpy(out, r->buf + r->off, n);
  r->off += n;
  return 0;
}

int prose_rd_ptr(prose_rd *r, const uint8_t **p, size_t n) {
  if (prose_rd_left(r) < n) return PROSE_ETRUNC;
  *p = r->buf + r->off;
  r->off += n;
  return 0;
}

int prose_rd_skip(prose_rd *r, size_t n) {
  if (prose_rd_left(r) < n) return PROSE_ETRUNC;
  r->off += n;
  return 0;
}

int prose_rd_sub(prose_rd *r, prose_rd *sub, size_t n) {
  if (prose_rd_left(r) < n) return PROSE_ETRUNC;
  *sub = prose_rd_init(r->buf + r->off, n);
  r->off += n;
  return 0;
}

/* Make room for n octets; returns the write position or NULL (counting
 * writer, or the sticky error set). */
static uint8_t *wr_room(prose_wr *w, size_t n) {
  if (w->err) return NULL;
  if (w->buf == NULL && w->cap == 0) {
    w->len += n;
    return NULL;
  }
  if (w->cap - w->len < n) {
    w->err = PROSE_EBUFSZ;
    return NULL;
  }
  uint8_t *p = w->buf + w->len;
  w->len += n;
  return p;
}

static void wr_be(prose_wr *w, uint64_t v, size_t n) {
  uint8_t *p = wr_room(w, n);
  if (!p) return;
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void prose_wr_u8(prose_wr *w, uint8_t v) { wr_be(w, v, 1); }
void prose_wr_u16(prose_wr *w, uint16_t v) { wr_be(w, v, 2); }
void prose_wr_u24(prose_wr *w, uint32_t v) { wr_be(w, v, 3); }
void prose_wr_u32(prose_wr *w, uint32_t v) { wr_be(w, v, 4); }
void prose_wr_u40(prose_wr *w, uint64_t v) { wr_be(w, v, 5); }
void prose_wr_u64(prose_wr *w, uint64_t v) { wr_be(w, v, 8); }

void prose_wr_bytes(prose_wr *w, const void *p, size_t n) {
  uint8_t *d = wr_room(w, n);
  if (d && n) memcpy(d, p, n);
}

void prose_wr_zeros(prose_wr *w, size_t n) {
  uint8_t *d = wr_room(w, n);
  if (d && n) memset(d, 0, n);
}

uint8_t *prose_wr_reserve(prose_wr *w, size_t n) {
  uint8_t *d = wr_room(w, n);
  if (d && n) memset(d, 0, n);
  return d;
}

void prose_put_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
void prose_put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
uint16_t prose_get_u16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
uint32_t prose_get_u32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
