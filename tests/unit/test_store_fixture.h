/*
 * Shared fixtures of the store tests: temporary directories, a KMS with
 * issued key sets, a GMS with a group, and a device store for Alice.
 * Test-only code (never linked into the daemon).
 */
#ifndef PROSE_TEST_STORE_FIXTURE_H
#define PROSE_TEST_STORE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "prose/authority.h"
#include "prose/rng.h"
#include "prose/store.h"

#define FX_KMS "kms.example.org"
#define FX_ALICE "sip:alice@example.org"
#define FX_BOB "sip:bob@example.org"
#define FX_GMS "sip:gms@example.org"
#define FX_GROUP "sip:fire-crew@example.org"
#define FX_PERIOD 2592000u
/* 2024-01-01T00:00:00Z in NTP seconds: 0.6 into key period 1509. */
#define FX_T0 3913056000u
#define FX_PNO 1509u
#define FX_NEXT_PERIOD_START 3913920000u

typedef struct fx_blob {
  uint8_t *p;
  size_t len;
} fx_blob;

typedef struct fx {
  char root[256]; /* mkdtemp directory holding every store of the test */
  prose_rng_det rng_state;
  prose_rng rng;
  prose_store *kms;
  prose_store *gms;
  prose_store *alice;
  fx_blob cert;      /* KMS certificate XML */
  fx_blob alice_ks;  /* Alice's key sets (current + next period) */
  fx_blob bob_ks;    /* Bob's key set (current period) */
  fx_blob gms_ks;    /* the GMS's key set (current period) */
  uint32_t gmk_id;   /* the group's first GMK */
  fx_blob imsg_alice; /* the first GMK's I_MESSAGE for Alice */
  fx_blob imsg_bob;   /* ... and for Bob */
} fx;

/* What fx_setup builds (each level includes the previous ones). */
enum {
  FX_L_STORES = 1, /* temp dir, rng */
  FX_L_KEYS = 2,   /* KMS store, certificate and key set XML */
  FX_L_GROUP = 3,  /* GMS store with the group, I_MESSAGEs for Alice and Bob */
  FX_L_ALICE = 4   /* Alice's device store (owner Alice, GMS trusted, nothing imported) */
};

void fx_setup(fx *f, int level);
/* The GMS's I_MESSAGE(s) of FX_GROUP for member at FX_T0 (the first one kept). */
void fx_distribute(fx *f, const char *member, fx_blob *out);
void fx_teardown(fx *f);

/* A path inside the fixture's temp directory. The result lives in one of
 * four rotating static buffers: copy it if it must outlive later calls. */
const char *fx_path(fx *f, const char *name);
/* Create a store in fx_path(name) with a fast scrypt if passphrase is set. */
prose_store *fx_store(fx *f, const char *name, prose_store_role role, const char *owner,
                      const char *passphrase);
/* SHA-256 of every row of a store (internal hook). */
void fx_digest(prose_store *st, uint8_t out[32]);
/* Copy a blob / a string. */
fx_blob fx_copy(const void *p, size_t n);
void fx_free(fx_blob *b);
/* Replace the first occurrence of `from` in b by `to` (asserts found). */
void fx_replace(fx_blob *b, const char *from, const char *to);
/* Position of needle in b, or -1. */
long fx_find(const fx_blob *b, const char *needle);

#endif
