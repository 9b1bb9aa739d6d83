/*
 * A small, strict long-option parser for the `prose` subcommands:
 * `--name value` pairs and `--flag` switches, each declared up front.
 * Unknown options, a missing value, a repeated option or a missing required
 * option are usage errors with a one-line message.
 */
#ifndef PROSE_CLI_OPTS_H
#define PROSE_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cli_opt {
  const char *name;  /* without the leading "--" */
  bool takes_value;  /* false: a switch */
  bool required;
  const char *value; /* filled by cli_parse: the value, or "" for a present switch */
} cli_opt;

/* Parse argv[first..argc). On error prints "prog: message" to stderr and
 * returns PROSE_EUSAGE. Positional arguments are not accepted unless
 * positional != NULL, in which case they are collected there (up to max_pos). */
int cli_parse(const char *prog, int argc, char **argv, int first, cli_opt *opts, size_t n_opts,
              const char **positional, size_t max_pos, size_t *n_pos);

/* Declare the option table of one subcommand (opts, n_opts) and read it. */
#define OPTS(...)                 \
  cli_opt opts[] = {__VA_ARGS__}; \
  const size_t n_opts = sizeof opts / sizeof opts[0]
#define GET(name) cli_get(opts, n_opts, name)

/* Look up a parsed option's value by name (NULL when absent). */
const char *cli_get(const cli_opt *opts, size_t n_opts, const char *name);

/* Decode a hex option into out (exactly n octets, or up to cap when n == 0).
 * On error prints "prog: --name: message" and returns the error. */
int cli_hex(const char *prog, const char *name, const char *value, uint8_t *out, size_t n,
            size_t cap, size_t *out_len);

/* Parse an unsigned decimal integer option; on error prints a message. */
int cli_u64(const char *prog, const char *name, const char *value, uint64_t *out);

/* Print octets as lower-case hex followed by a newline. */
void cli_print_hex(const char *label, const uint8_t *p, size_t n);

#endif

#ifndef PROSE_CLI_OPTS_FILES
#define PROSE_CLI_OPTS_FILES
/* Options that may be repeated collect their values here (see cli_parse_multi). */
typedef struct cli_multi {
  const char *name; /* the option without "--" */
  const char **values;
  size_t n, cap;
} cli_multi;

/* Like cli_parse, but options named in multi[] may repeat; their values are
 * collected (in order) and, for the last multi option given, following
 * positional arguments are collected too ("--member a b c"). */
int cli_parse_multi(const char *prog, int argc, char **argv, int first, cli_opt *opts,
                    size_t n_opts, cli_multi *multi, size_t n_multi);

/* A time given by a person: "now", Unix seconds ("1764331200"), or UTC
 * xs:dateTime ("2026-11-28T12:00:00Z"). Result in NTP seconds. */
int cli_time(const char *prog, const char *name, const char *value, uint64_t *ntp);
/* The current time in NTP seconds (the CLI is a driver: it may read the clock). */
uint64_t cli_now_ntp(void);

/* Read a whole file (at most max octets). *buf is malloc'd; the caller frees
 * it (with prose_free_secret when it may hold secrets). Prints a one-line
 * message on error. */
int cli_read_file(const char *prog, const char *path, size_t max, uint8_t **buf, size_t *len);
/* Write a file atomically: a temporary file beside it with mode `mode`,
 * fsync, rename. Nothing half-written is ever left under `path`. */
int cli_write_file(const char *prog, const char *path, const void *data, size_t len,
                   unsigned mode);
#endif
