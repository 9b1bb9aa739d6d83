#include "testsupport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/util.h"

uint8_t *ts_hex(const char *hex, size_t *len) {
  size_t n = strlen(hex);
  char *clean = malloc(n + 1);
  size_t k = 0;
  if (!clean) abort();
  for (size_t i = 0; i < n; i++)
    if (hex[i] != ' ' && hex[i] != '\n' && hex[i] != '\t') clean[k++] = hex[i];
  clean[k] = '\0';
  uint8_t *out = malloc(k / 2 + 1);
  if (!out) abort();
  size_t outlen = 0;
  if (prose_hex_decode(clean, out, k / 2 + 1, &outlen) != 0) {
    fprintf(stderr, "ts_hex: bad fixture %s\n", clean);
    abort();
  }
  free(clean);
  *len = outlen;
  return out;
}

void ts_hex_into(const char *hex, uint8_t *out, size_t n) {
  size_t len = 0;
  uint8_t *b = ts_hex(hex, &len);
  if (len != n) {
    fprintf(stderr, "ts_hex_into: fixture has %zu octets, want %zu\n", len, n);
    abort();
  }
  memcpy(out, b, n);
  free(b);
}
