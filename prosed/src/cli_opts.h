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
