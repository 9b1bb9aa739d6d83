#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/util.h"
#include "store_internal.h"

void prose__sbuf_init(prose__sbuf *b) { memset(b, 0, sizeof *b); }

void prose__sbuf_free(prose__sbuf *b) {
  prose_free_secret(b->p, b->cap);
  memset(b, 0, sizeof *b);
}

/* Grow by allocating a new block and wiping the old one: realloc could leave
 * a copy of hex key material in freed memory. */
static bool grow(prose__sbuf *b, size_t need) {
  if (b->err) return false;
  if (need <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) {
      b->err = PROSE_ENOMEM;
      return false;
    }
    cap *= 2;
  }
  char *p = malloc(cap);
  if (!p) {
    b->err = PROSE_ENOMEM;
    return false;
  }
  if (b->len) memcpy(p, b->p, b->len);
  prose_free_secret(b->p, b->cap);
  b->p = p;
  b->cap = cap;
  return true;
}

void prose__sbuf_add(prose__sbuf *b, const void *p, size_t n) {
  if (n == 0) return;
  if (b->len > SIZE_MAX - n - 1) {
    b->err = PROSE_ENOMEM;
    return;
  }
  if (!grow(b, b->len + n + 1)) return;
  memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void prose__sbuf_str(prose__sbuf *b, const char *s) { prose__sbuf_add(b, s, strlen(s)); }

void prose__sbuf_xml(prose__sbuf *b, const char *s) {
  for (; *s; s++) {
    switch (*s) {
      case '&': prose__sbuf_str(b, "&amp;"); break;
      case '<': prose__sbuf_str(b, "&lt;"); break;
      case '>': prose__sbuf_str(b, "&gt;"); break;
      case '"': prose__sbuf_str(b, "&quot;"); break;
      case '\'': prose__sbuf_str(b, "&apos;"); break;
      default: prose__sbuf_add(b, s, 1); break;
    }
  }
}

void prose__sbuf_hex(prose__sbuf *b, const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    char two[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
    prose__sbuf_add(b, two, 2);
  }
}

void prose__sbuf_u64(prose__sbuf *b, uint64_t v) {
  char tmp[21];
  size_t i = sizeof tmp;
  do {
    tmp[--i] = (char)('0' + (v % 10));
    v /= 10;
  } while (v);
  prose__sbuf_add(b, tmp + i, sizeof tmp - i);
}

int prose__sbuf_take(prose__sbuf *b, char **out, size_t *out_len) {
  if (b->err) return b->err;
  if (!b->p && !grow(b, 1)) return b->err;
  if (!b->len) b->p[0] = '\0';
  *out = b->p;
  *out_len = b->len;
  memset(b, 0, sizeof *b);
  return 0;
}
