/* Shared pieces of the store-backed subcommands (kms, gms, store, mikey). */
#ifndef PROSE_CLI_COMMON_H
#define PROSE_CLI_COMMON_H

#include <stddef.h>

#include "prose/diag.h"
#include "prose/store.h"

/* Print "prog: what: message (ENAME)" for a failed library call, using the
 * diagnostics when they hold a message. Returns exit status 1. */
int cli_report(const char *prog, const char *what, int rc, const prose_diag *d);

/* Read a passphrase from the first line of a file (trailing newline removed).
 * *pass is malloc'd; free it with prose_free_secret(*pass, *len + 1). */
int cli_read_passphrase(const char *prog, const char *path, char **pass, size_t *len);

/* Open (create == 0) or create a store in dir. passphrase_file may be NULL
 * (device key file). role and owner are used only when creating. */
int cli_store_open(const char *prog, const char *dir, const char *passphrase_file, int create,
                   prose_store_role role, const char *owner, prose_store **out);

/* The prosed binary beside this prose binary (the build tree and an
 * install alike) into out; 0 when it is there and executable. */
int cli_find_prosed(char *out, size_t cap);

#endif
