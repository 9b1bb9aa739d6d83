/*
 * A throwaway security domain provisioned with the real authority code, for
 * tests and benchmarks (never linked into the daemon): a KMS store, a GMS
 * store with its own key sets and one group, and one device store per user
 * holding the KMS certificate, key sets for the current and the next key
 * period, trust in the GMS and (per user) the group's GMK, all imported as a
 * device would import them. Everything lives below one fresh directory in
 * /tmp that ts_domain_teardown removes.
 *
 * Users: the node tests (tests/unit/test_node_net.c), `prose-bench node`
 * (stores and keyrings used in process) and `prose-bench daemon` (stores
 * closed again and opened by real prosed processes).
 *
 * Functions return 0 or the error of the failed library call, with a line
 * naming the step in d->err; nothing is printed.
 */
#ifndef PROSE_TESTDOMAIN_H
#define PROSE_TESTDOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/keyring.h"
#include "prose/rng.h"
#include "prose/store.h"

#define TS_KMS "kms.example.org"
#define TS_GMS "sip:gms@example.org"
#define TS_GROUP "sip:fire-crew@example.org"
/* 2024-01-01T00:00:00Z in NTP seconds: the default provisioning time. */
#define TS_T0 3913056000u
#define TS_MAX_DEVICES 4

typedef struct ts_device {
  const char *uri; /* borrowed from the caller's users[] */
  bool has_gmk;
  prose_store *store; /* NULL after ts_domain_close */
  prose_keyring *kr;  /* loaded at the provisioning time; NULL after ts_domain_close */
} ts_device;

typedef struct ts_domain {
  char root[256]; /* the directory; device i's store is root/dev<i> */
  prose_rng_det rng_state;
  prose_rng rng;
  uint64_t t;       /* the provisioning time (NTP seconds) */
  prose_store *kms; /* KMS_URI TS_KMS */
  prose_store *gms; /* owner TS_GMS */
  uint32_t gmk_id;  /* the group's first GMK */
  uint32_t gmk2_id; /* a rekey, when ts_domain_rekey made one */
  size_t n_dev;
  ts_device dev[TS_MAX_DEVICES];
  char err[512]; /* the failed step, after a non-zero return */
} ts_domain;

/* Start from ts_domain_params_default(). */
typedef struct ts_domain_params {
  const char *const *users; /* 1..TS_MAX_DEVICES MCPTT IDs, all members of TS_GROUP */
  size_t n;
  const bool *gmk;     /* gmk[i]: user i imports the group's GMK; NULL = every user */
  uint64_t t;          /* NTP seconds: key periods, GMK activation (t - 3600), import time */
  uint64_t seed;       /* the stores' deterministic RNG (repeatable keys; not for production) */
  const char *prefix;  /* directory name prefix below /tmp */
} ts_domain_params;

/* t = TS_T0, seed 0x0DE5EED, prefix "prose-test-domain". */
void ts_domain_params_default(ts_domain_params *p);

/*
 * Provision the domain into *d (overwritten). On error what was made so far
 * stays in *d for ts_domain_teardown, which the caller runs in either case.
 * Errors: PROSE_EINVAL (no users or more than TS_MAX_DEVICES), PROSE_EIO
 * (the directory), and those of the store and authority calls.
 */
int ts_domain_setup(ts_domain *d, const ts_domain_params *p);
/* A second GMK for the group activated at `activation` (NTP seconds),
 * distributed to and imported by every device that has the first. */
int ts_domain_rekey(ts_domain *d, uint64_t activation);
/* Free the keyrings and close every store, keeping the files (for another
 * process to open them). Idempotent. */
void ts_domain_close(ts_domain *d);
/* ts_domain_close, then remove the directory. */
void ts_domain_teardown(ts_domain *d);

#endif
