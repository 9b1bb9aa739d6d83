#include "cli_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/util.h"

static cli_opt *find_opt(cli_opt *opts, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(opts[i].name, name) == 0) return &opts[i];
  return NULL;
}

int cli_parse(const char *prog, int argc, char **argv, int first, cli_opt *opts, size_t n_opts,
              const char **positional, size_t max_pos, size_t *n_pos) {
  size_t npos = 0;
  for (size_t i = 0; i < n_opts; i++) opts[i].value = NULL;
  for (int i = first; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0) {
      if (!positional || npos >= max_pos) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", prog, a);
        return PROSE_EUSAGE;
      }
      positional[npos++] = a;
      continue;
    }
    cli_opt *o = find_opt(opts, n_opts, a + 2);
    if (!o) {
      fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
      return PROSE_EUSAGE;
    }
    if (o->value) {
      fprintf(stderr, "%s: option '%s' given twice\n", prog, a);
      return PROSE_EUSAGE;
    }
    if (!o->takes_value) {
      o->value = "";
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "%s: option '%s' needs a value\n", prog, a);
      return PROSE_EUSAGE;
    }
    o->value = argv[++i];
  }
  for (size_t i = 0; i < n_opts; i++) {
    if (opts[i].required && !opts[i].value) {
      fprintf(stderr, "%s: missing required option '--%s'\n", prog, opts[i].name);
      return PROSE_EUSAGE;
    }
  }
  if (n_pos) *n_pos = npos;
  return 0;
}

const char *cli_get(const cli_opt *opts, size_t n_opts, const char *name) {
  for (size_t i = 0; i < n_opts; i++)
    if (strcmp(opts[i].name, name) == 0) return opts[i].value;
  return NULL;
}

int cli_hex(const char *prog, const char *name, const char *value, uint8_t *out, size_t n,
            size_t cap, size_t *out_len) {
  int rc;
  if (n) {
    rc = prose_hex_decode_exact(value, out, n);
    if (rc == PROSE_ELEN)
      fprintf(stderr, "%s: --%s: expected %zu octets (%zu hex digits), got %zu hex digits\n", prog,
              name, n, 2 * n, strlen(value));
    if (out_len && rc == 0) *out_len = n;
  } else {
    rc = prose_hex_decode(value, out, cap, out_len);
    if (rc == PROSE_EBUFSZ)
      fprintf(stderr, "%s: --%s: value too long (at most %zu octets)\n", prog, name, cap);
  }
  if (rc == PROSE_EHEX)
    fprintf(stderr, "%s: --%s: malformed hex (need an even number of 0-9a-fA-F digits)\n", prog,
            name);
  return rc;
}

int cli_u64(const char *prog, const char *name, const char *value, uint64_t *out) {
  char *end = NULL;
  if (!value || !*value || value[0] == '-' || value[0] == '+') goto bad;
  errno = 0;
  unsigned long long v = strtoull(value, &end, 10);
  if (errno || *end) goto bad;
  *out = (uint64_t)v;
  return 0;
bad:
  fprintf(stderr, "%s: --%s: expected an unsigned decimal integer, got '%s'\n", prog, name,
          value ? value : "");
  return PROSE_EUSAGE;
}

void cli_print_hex(const char *label, const uint8_t *p, size_t n) {
  char *s = malloc(2 * n + 1);
  if (!s) return;
  prose_hex_encode(p, n, s);
  if (label)
    printf("%s=%s\n", label, s);
  else
    printf("%s\n", s);
  prose_wipe(s, 2 * n + 1);
  free(s);
}
