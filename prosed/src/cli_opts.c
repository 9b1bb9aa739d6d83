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

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "prose/kdf.h"
#include "prose/kmsxml.h"

static cli_multi *find_multi(cli_multi *m, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(m[i].name, name) == 0) return &m[i];
  return NULL;
}

static int multi_push(const char *prog, cli_multi *m, const char *v) {
  if (m->n == m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 8;
    const char **nv = realloc(m->values, cap * sizeof *nv);
    if (!nv) {
      fprintf(stderr, "%s: out of memory\n", prog);
      return PROSE_ENOMEM;
    }
    m->values = nv;
    m->cap = cap;
  }
  m->values[m->n++] = v;
  return 0;
}

int cli_parse_multi(const char *prog, int argc, char **argv, int first, cli_opt *opts,
                    size_t n_opts, cli_multi *multi, size_t n_multi) {
  cli_multi *last = NULL;
  /* Split argv into the single-valued options (handed to cli_parse) and the
   * repeated ones (collected here). */
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  int n_rest = 0;
  if (!rest) return PROSE_ENOMEM;
  int rc = 0;
  for (int i = 0; i < first; i++) rest[n_rest++] = argv[i];
  for (int i = first; i < argc && rc == 0; i++) {
    const char *a = argv[i];
    cli_multi *m = strncmp(a, "--", 2) == 0 ? find_multi(multi, n_multi, a + 2) : NULL;
    if (m) {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: option '%s' needs a value\n", prog, a);
        rc = PROSE_EUSAGE;
        break;
      }
      rc = multi_push(prog, m, argv[++i]);
      last = m;
    } else if (strncmp(a, "--", 2) != 0 && last) {
      rc = multi_push(prog, last, a);
    } else {
      last = NULL;
      rest[n_rest++] = argv[i];
      if (strncmp(a, "--", 2) == 0 && i + 1 < argc) {
        /* Keep an option's value with it (cli_parse decides if it takes one). */
        for (size_t k = 0; k < n_opts; k++)
          if (strcmp(opts[k].name, a + 2) == 0 && opts[k].takes_value) rest[n_rest++] = argv[++i];
      }
    }
  }
  if (rc == 0) rc = cli_parse(prog, n_rest, rest, first, opts, n_opts, NULL, 0, NULL);
  free(rest);
  return rc;
}

uint64_t cli_now_ntp(void) { return (uint64_t)time(NULL) + PROSE_NTP_UNIX_OFFSET; }

int cli_time(const char *prog, const char *name, const char *value, uint64_t *ntp) {
  if (!value || strcmp(value, "now") == 0) {
    *ntp = cli_now_ntp();
    return 0;
  }
  size_t n = strlen(value);
  if (n > 0 && strspn(value, "0123456789") == n) {
    uint64_t unix_s;
    if (cli_u64(prog, name, value, &unix_s)) return PROSE_EUSAGE;
    if (unix_s > UINT32_MAX) goto bad;
    *ntp = unix_s + PROSE_NTP_UNIX_OFFSET;
    return 0;
  }
  if (prose_kmsxml_parse_time(value, ntp) == 0) return 0;
bad:
  fprintf(stderr,
          "%s: --%s: expected 'now', Unix seconds or a UTC time like 2026-11-28T12:00:00Z, "
          "got '%s'\n",
          prog, name, value);
  return PROSE_EUSAGE;
}

int cli_read_file(const char *prog, const char *path, size_t max, uint8_t **buf, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
    return PROSE_ENOENT;
  }
  uint8_t *b = malloc(max + 1);
  int rc = 0;
  if (!b) {
    rc = PROSE_ENOMEM;
    fprintf(stderr, "%s: out of memory\n", prog);
    goto out;
  }
  size_t n = fread(b, 1, max + 1, f);
  if (ferror(f)) {
    rc = PROSE_EIO;
    fprintf(stderr, "%s: %s: read error\n", prog, path);
  } else if (n > max) {
    rc = PROSE_ELEN;
    fprintf(stderr, "%s: %s: larger than %zu octets\n", prog, path, max);
  }
out:
  fclose(f);
  if (rc) {
    prose_free_secret(b, b ? max + 1 : 0);
    return rc;
  }
  *buf = b;
  *len = n;
  return 0;
}

int cli_write_file(const char *prog, const char *path, const void *data, size_t len,
                   unsigned mode) {
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp) return PROSE_ENOMEM;
  snprintf(tmp, plen + 16, "%s.tmp.%ld", path, (long)getpid());
  int rc = 0;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, (mode_t)mode);
  if (fd < 0) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
    free(tmp);
    return PROSE_EIO;
  }
  const uint8_t *p = data;
  size_t left = len;
  while (left > 0 && rc == 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) rc = PROSE_EIO;
    else {
      p += w;
      left -= (size_t)w;
    }
  }
  /* The mode given to open() is filtered by the umask; set it exactly. */
  if (rc == 0 && fchmod(fd, (mode_t)mode) != 0) rc = PROSE_EIO;
  if (rc == 0 && fsync(fd) != 0) rc = PROSE_EIO;
  if (close(fd) != 0) rc = PROSE_EIO;
  if (rc == 0 && rename(tmp, path) != 0) rc = PROSE_EIO;
  if (rc) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
    unlink(tmp);
  }
  free(tmp);
  return rc;
}
