/*
 * Keyring internals shared by keyring.c and mikey.c only.
 */
#ifndef PROSE_KEYRING_INTERNAL_H
#define PROSE_KEYRING_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/eccsi.h"
#include "prose/keyring.h"
#include "prose/sakke.h"

#define PROSE__REPLAY_DIGEST_LEN 32

typedef struct prose__kms {
  char *uri;
  uint64_t period;
  uint64_t offset;
  uint8_t kpak[65];
  uint8_t z[257];
  prose_eccsi_verifier *verifier;
  prose_sakke_pub *pub;
} prose__kms;

typedef struct prose__keyset {
  size_t kms; /* index into prose_keyring.kms */
  uint64_t period_no;
  uint8_t uid[32];
  prose_eccsi_signer *signer;
  prose_sakke_recipient *recipient;
} prose__keyset;

typedef struct prose__replay_entry {
  uint8_t digest[PROSE__REPLAY_DIGEST_LEN];
  uint64_t t_sec;
} prose__replay_entry;

/*
 * One replay cache per key kind. When the cache is full and no entry has
 * aged out of the window, the entry with the oldest T is evicted and `floor`
 * rises to its T: from then on every message with T <= floor is refused,
 * since the cache can no longer prove it was not seen (the conservative
 * choice; a sliding floor like an IPsec/SRTP replay window).
 */
typedef struct prose__replay {
  prose__replay_entry *e;
  size_t n;
  size_t cap;
  bool has_floor;
  uint64_t floor;
} prose__replay;

struct prose_keyring {
  char *own_uri;
  prose_keyring_settings settings;
  prose__kms *kms;
  size_t n_kms;
  prose__keyset *keysets;
  size_t n_keysets;
  prose__replay replay[2]; /* indexed by prose_mikey_kind */
};

/* Lookups (NULL when absent). */
const prose__kms *prose__keyring_find_kms(const prose_keyring *kr, const char *uri);
const prose__keyset *prose__keyring_find_keyset(const prose_keyring *kr, const prose__kms *kms,
                                                uint64_t period_no);

/* The window for a kind (0 = GMK, 1 = PCK). */
const prose_time_window *prose__keyring_window(const prose_keyring *kr, int kind);

/* PROSE_EREPLAY if the digest is known or t_sec is at or below the floor. */
int prose__replay_check(const prose_keyring *kr, int kind, const uint8_t digest[32],
                        uint64_t t_sec);
/* Remember an accepted message. Cannot fail: the cache is preallocated.
 * Drops entries whose T fell out of the window before now_sec first. */
void prose__replay_commit(prose_keyring *kr, int kind, const uint8_t digest[32], uint64_t t_sec,
                          uint64_t now_sec);

#endif
