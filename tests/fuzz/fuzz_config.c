/*
 * libFuzzer target for the prosed configuration parser: arbitrary bytes as
 * a config file. A file either loads (and then writing it and parsing the
 * result must give the same configuration) or is refused with PROSE_ECONFIG
 * and a one-line message; it never crashes, reads out of bounds or leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "prose/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prosed_config a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[PROSED_CONFIG_ERR_MAX];
  int rc = prosed_config_parse("fuzz.conf", (const char *)data, size, "/base", &a, err, sizeof err);
  if (rc != 0) {
    if (rc != PROSE_ECONFIG && rc != PROSE_ENOMEM) abort();
    if (memchr(err, '\n', strlen(err))) abort(); /* one line */
    return 0;
  }
  /* Round trip: what we write, we read back, and writing that again gives
   * the same text. */
  char *t1 = NULL, *t2 = NULL;
  size_t l1 = 0, l2 = 0;
  FILE *f = open_memstream(&t1, &l1);
  if (!f) return 0;
  if (prosed_config_write(&a, f) != 0) abort();
  fclose(f);
  if (prosed_config_parse("rt.conf", t1, l1, NULL, &b, err, sizeof err) != 0) abort();
  f = open_memstream(&t2, &l2);
  if (!f) abort();
  if (prosed_config_write(&b, f) != 0) abort();
  fclose(f);
  if (l1 != l2 || memcmp(t1, t2, l1) != 0) abort();
  free(t1);
  free(t2);
  return 0;
}
