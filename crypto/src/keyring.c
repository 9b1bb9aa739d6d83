/*
 * In-memory keyring: KMS certificates, own key sets per key period, the
 * MIKEY replay cache and the timestamp windows (see prose/keyring.h).
 *
 * Every mutating function validates and builds everything it needs into
 * locals first and links it into the keyring last, so a failure leaves the
 * keyring as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "keyring_internal.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/mikey.h"
#include "prose/util.h"

/* Default windows: see the rationale in prose/keyring.h. */
#define DEFAULT_PCK_PAST 300u
#define DEFAULT_PCK_FUTURE 300u
#define DEFAULT_GMK_FUTURE 300u
#define DEFAULT_REPLAY_CAPACITY 1024u

void prose_keyring_settings_default(prose_keyring_settings *s) {
  if (!s) return;
  memset(s, 0, sizeof *s);
  s->pck_window.max_past = DEFAULT_PCK_PAST;
  s->pck_window.max_future = DEFAULT_PCK_FUTURE;
  s->gmk_window.max_past = PROSE_WINDOW_UNLIMITED;
  s->gmk_window.max_future = DEFAULT_GMK_FUTURE;
  s->replay_capacity = DEFAULT_REPLAY_CAPACITY;
}

static char *dup_str(const char *s) {
  size_t n = strlen(s);
  char *d = malloc(n + 1);
  if (d) memcpy(d, s, n + 1);
  return d;
}

static void replay_free(prose__replay *r) {
  free(r->e);
  memset(r, 0, sizeof *r);
}

static int replay_init(prose__replay *r, size_t cap) {
  memset(r, 0, sizeof *r);
  r->e = calloc(cap, sizeof *r->e);
  if (!r->e) return PROSE_ENOMEM;
  r->cap = cap;
  return 0;
}

int prose_keyring_new(prose_keyring **out, const char *own_uri,
                      const prose_keyring_settings *settings) {
  if (!out || !own_uri || !own_uri[0] || strlen(own_uri) > 65535) return PROSE_EINVAL;
  prose_keyring_settings s;
  if (settings)
    s = *settings;
  else
    prose_keyring_settings_default(&s);
  if (s.replay_capacity == 0) return PROSE_EINVAL;
  prose_keyring *kr = calloc(1, sizeof *kr);
  if (!kr) return PROSE_ENOMEM;
  kr->settings = s;
  kr->own_uri = dup_str(own_uri);
  if (!kr->own_uri || replay_init(&kr->replay[0], s.replay_capacity) ||
      replay_init(&kr->replay[1], s.replay_capacity)) {
    prose_keyring_free(kr);
    return PROSE_ENOMEM;
  }
  *out = kr;
  return 0;
}

static void keyset_clear(prose__keyset *ks) {
  prose_eccsi_signer_free(ks->signer);
  prose_sakke_recipient_free(ks->recipient);
  prose_wipe(ks, sizeof *ks);
}

static void kms_clear(prose__kms *k) {
  free(k->uri);
  prose_eccsi_verifier_free(k->verifier);
  prose_sakke_pub_free(k->pub);
  memset(k, 0, sizeof *k);
}

void prose_keyring_free(prose_keyring *kr) {
  if (!kr) return;
  for (size_t i = 0; i < kr->n_keysets; i++) keyset_clear(&kr->keysets[i]);
  free(kr->keysets);
  for (size_t i = 0; i < kr->n_kms; i++) kms_clear(&kr->kms[i]);
  free(kr->kms);
  replay_free(&kr->replay[0]);
  replay_free(&kr->replay[1]);
  free(kr->own_uri);
  free(kr);
}

const char *prose_keyring_own_uri(const prose_keyring *kr) { return kr ? kr->own_uri : NULL; }

const prose__kms *prose__keyring_find_kms(const prose_keyring *kr, const char *uri) {
  for (size_t i = 0; i < kr->n_kms; i++)
    if (strcmp(kr->kms[i].uri, uri) == 0) return &kr->kms[i];
  return NULL;
}

const prose__keyset *prose__keyring_find_keyset(const prose_keyring *kr, const prose__kms *kms,
                                                uint64_t period_no) {
  size_t idx = (size_t)(kms - kr->kms);
  for (size_t i = 0; i < kr->n_keysets; i++)
    if (kr->keysets[i].kms == idx && kr->keysets[i].period_no == period_no)
      return &kr->keysets[i];
  return NULL;
}

const prose_time_window *prose__keyring_window(const prose_keyring *kr, int kind) {
  return kind == PROSE_MIKEY_PCK ? &kr->settings.pck_window : &kr->settings.gmk_window;
}

/* Build the verifier and SAKKE tables of a certificate into *k. */
static int kms_build(prose__kms *k, const prose_kms_cert *cert) {
  memset(k, 0, sizeof *k);
  k->period = cert->period;
  k->offset = cert->offset;
  memcpy(k->kpak, cert->kpak, sizeof k->kpak);
  memcpy(k->z, cert->z, sizeof k->z);
  int rc = prose_eccsi_verifier_new(&k->verifier, cert->kpak);
  if (rc == 0) rc = prose_sakke_pub_new(&k->pub, cert->z);
  if (rc == 0 && !(k->uri = dup_str(cert->uri))) rc = PROSE_ENOMEM;
  if (rc) kms_clear(k);
  return rc;
}

int prose_keyring_add_kms(prose_keyring *kr, const prose_kms_cert *cert) {
  if (!kr || !cert || !cert->uri || !cert->uri[0] || cert->period == 0) return PROSE_EINVAL;
  if (strlen(cert->uri) > PROSE_MIKEY_URI_MAX) return PROSE_EINVAL;
  if (prose__keyring_find_kms(kr, cert->uri)) return PROSE_EEXIST;
  prose__kms k;
  int rc = kms_build(&k, cert);
  if (rc) return rc;
  prose__kms *grown = realloc(kr->kms, (kr->n_kms + 1) * sizeof *grown);
  if (!grown) {
    kms_clear(&k);
    return PROSE_ENOMEM;
  }
  kr->kms = grown;
  kr->kms[kr->n_kms++] = k;
  return 0;
}

/* Recompute the UID (33.179 F.2.1), compare it with the one the KMS sent
 * if any, and validate the keys against it. */
static int keyset_build(prose__keyset *out, const prose_keyring *kr, const prose__kms *k,
                        const prose_keyset *ks) {
  memset(out, 0, sizeof *out);
  out->kms = (size_t)(k - kr->kms);
  out->period_no = ks->period_no;
  int rc = prose_uid(kr->own_uri, k->uri, k->period, k->offset, ks->period_no, out->uid);
  if (rc == 0 && ks->uid && !prose_ct_eq(ks->uid, out->uid, 32)) rc = PROSE_EUID_MISMATCH;
  if (rc == 0) rc = prose_eccsi_signer_new(&out->signer, k->kpak, out->uid, 32, ks->ssk, ks->pvt);
  if (rc == 0)
    rc = prose_sakke_recipient_new(&out->recipient, k->z, out->uid, 32, ks->rsk);
  if (rc) keyset_clear(out);
  return rc;
}

int prose_keyring_add_keyset(prose_keyring *kr, const prose_keyset *ks) {
  if (!kr || !ks || !ks->kms_uri) return PROSE_EINVAL;
  const prose__kms *k = prose__keyring_find_kms(kr, ks->kms_uri);
  if (!k) return PROSE_EUNKNOWN_KMS;
  if (prose__keyring_find_keyset(kr, k, ks->period_no)) return PROSE_EEXIST;
  prose__keyset n;
  int rc = keyset_build(&n, kr, k, ks);
  if (rc) return rc;
  prose__keyset *grown = realloc(kr->keysets, (kr->n_keysets + 1) * sizeof *grown);
  if (!grown) {
    keyset_clear(&n);
    return PROSE_ENOMEM;
  }
  kr->keysets = grown;
  kr->keysets[kr->n_keysets++] = n;
  return 0;
}

int prose_keyring_remove_keyset(prose_keyring *kr, const char *kms_uri, uint64_t period_no) {
  if (!kr || !kms_uri) return PROSE_EINVAL;
  const prose__kms *k = prose__keyring_find_kms(kr, kms_uri);
  const prose__keyset *ks = k ? prose__keyring_find_keyset(kr, k, period_no) : NULL;
  if (!ks) return PROSE_ENOENT;
  size_t i = (size_t)(ks - kr->keysets);
  keyset_clear(&kr->keysets[i]);
  kr->keysets[i] = kr->keysets[kr->n_keysets - 1];
  kr->n_keysets--;
  return 0;
}

bool prose_keyring_has_keyset(const prose_keyring *kr, const char *kms_uri, uint64_t period_no) {
  if (!kr || !kms_uri) return false;
  const prose__kms *k = prose__keyring_find_kms(kr, kms_uri);
  return k && prose__keyring_find_keyset(kr, k, period_no);
}

int prose_keyring_uid(const prose_keyring *kr, const char *uri, const char *kms_uri,
                      uint64_t t_ntp_sec, uint8_t uid[32]) {
  if (!kr || !uri || !kms_uri || !uid) return PROSE_EINVAL;
  const prose__kms *k = prose__keyring_find_kms(kr, kms_uri);
  if (!k) return PROSE_EUNKNOWN_KMS;
  uint64_t no;
  if (prose_period_no(t_ntp_sec, k->period, k->offset, &no)) return PROSE_EPERIOD;
  return prose_uid(uri, k->uri, k->period, k->offset, no, uid);
}

int prose_keyring_sign(const prose_keyring *kr, const prose_rng *rng, const char *kms_uri,
                       uint64_t t_ntp_sec, const uint8_t *msg, size_t msg_len, uint8_t *sig,
                       uint64_t *period_no) {
  if (!kr || !rng || !kms_uri || (sig && !msg && msg_len > 0)) return PROSE_EINVAL;
  const prose__kms *k = prose__keyring_find_kms(kr, kms_uri);
  if (!k) return PROSE_EUNKNOWN_KMS;
  uint64_t no;
  if (prose_period_no(t_ntp_sec, k->period, k->offset, &no)) return PROSE_EPERIOD;
  const prose__keyset *ks = prose__keyring_find_keyset(kr, k, no);
  if (!ks) return PROSE_EPERIOD;
  if (period_no) *period_no = no;
  if (!sig) return 0;
  return prose_eccsi_sign(ks->signer, rng, msg, msg_len, sig);
}

int prose_keyring_verify(prose_keyring *kr, const char *uri, const char *kms_uri,
                         uint64_t t_ntp_sec, const uint64_t *expect_period_no,
                         const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                         size_t sig_len) {
  if (!kr || !uri || !kms_uri || (!msg && msg_len > 0) || !sig) return PROSE_EINVAL;
  const prose__kms *k = prose__keyring_find_kms(kr, kms_uri);
  if (!k) return PROSE_EUNKNOWN_KMS;
  uint64_t no;
  if (prose_period_no(t_ntp_sec, k->period, k->offset, &no)) return PROSE_EPERIOD;
  /* The claimed period is checked first: it costs nothing and spares a
   * scalar multiplication on messages that cannot verify anyway. */
  if (expect_period_no && *expect_period_no != no) return PROSE_EPERIOD;
  if (sig_len != PROSE_ECCSI_SIG_LEN) return PROSE_ELEN;
  uint8_t uid[PROSE_UID_LEN];
  int rc = prose_uid(uri, k->uri, k->period, k->offset, no, uid);
  if (rc) return rc;
  rc = prose_eccsi_verify(k->verifier, uid, sizeof uid, msg, msg_len, sig, sig_len);
  /* A PVT that is not a point is as much a failed signature as a wrong s. */
  return rc == PROSE_EPOINT ? PROSE_ESIG : rc;
}

size_t prose_keyring_replay_count(const prose_keyring *kr) {
  return kr ? kr->replay[0].n + kr->replay[1].n : 0;
}

void prose_keyring_replay_reset(prose_keyring *kr) {
  if (!kr) return;
  for (int i = 0; i < 2; i++) {
    kr->replay[i].n = 0;
    kr->replay[i].has_floor = false;
    kr->replay[i].floor = 0;
  }
}

int prose__replay_check(const prose_keyring *kr, int kind, const uint8_t digest[32],
                        uint64_t t_sec) {
  const prose__replay *r = &kr->replay[kind == PROSE_MIKEY_PCK];
  if (r->has_floor && t_sec <= r->floor) return PROSE_EREPLAY;
  for (size_t i = 0; i < r->n; i++)
    if (memcmp(r->e[i].digest, digest, PROSE__REPLAY_DIGEST_LEN) == 0) return PROSE_EREPLAY;
  return 0;
}

/* Drop entries whose T is older than the window allows: a replay of them
 * fails the time check anyway, so remembering them gains nothing. */
static void replay_expire(prose__replay *r, const prose_time_window *w, uint64_t now_sec) {
  if (w->max_past == PROSE_WINDOW_UNLIMITED || now_sec < w->max_past) return;
  uint64_t oldest_ok = now_sec - w->max_past;
  size_t k = 0;
  for (size_t i = 0; i < r->n; i++)
    if (r->e[i].t_sec >= oldest_ok) r->e[k++] = r->e[i];
  r->n = k;
}

static void replay_evict_oldest(prose__replay *r) {
  size_t old = 0;
  for (size_t i = 1; i < r->n; i++)
    if (r->e[i].t_sec < r->e[old].t_sec) old = i;
  if (!r->has_floor || r->e[old].t_sec > r->floor) r->floor = r->e[old].t_sec;
  r->has_floor = true;
  r->e[old] = r->e[r->n - 1];
  r->n--;
}

void prose__replay_commit(prose_keyring *kr, int kind, const uint8_t digest[32], uint64_t t_sec,
                          uint64_t now_sec) {
  prose__replay *r = &kr->replay[kind == PROSE_MIKEY_PCK];
  replay_expire(r, prose__keyring_window(kr, kind), now_sec);
  if (r->n == r->cap) replay_evict_oldest(r);
  memcpy(r->e[r->n].digest, digest, PROSE__REPLAY_DIGEST_LEN);
  r->e[r->n].t_sec = t_sec;
  r->n++;
}
