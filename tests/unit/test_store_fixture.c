#include "test_store_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/util.h"
#include "store_internal.h"

fx_blob fx_copy(const void *p, size_t n) {
  fx_blob b = {malloc(n + 1), n};
  cr_assert_not_null(b.p);
  memcpy(b.p, p, n);
  b.p[n] = 0;
  return b;
}

void fx_free(fx_blob *b) {
  prose_free_secret(b->p, b->len + 1);
  b->p = NULL;
  b->len = 0;
}

long fx_find(const fx_blob *b, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= b->len; i++)
    if (!memcmp(b->p + i, needle, n)) return (long)i;
  return -1;
}

void fx_replace(fx_blob *b, const char *from, const char *to) {
  long at = fx_find(b, from);
  cr_assert(at >= 0, "fixture: '%s' not found", from);
  size_t nf = strlen(from), nt = strlen(to), n = b->len - nf + nt;
  uint8_t *p = malloc(n + 1);
  cr_assert_not_null(p);
  memcpy(p, b->p, (size_t)at);
  memcpy(p + at, to, nt);
  memcpy(p + at + nt, b->p + at + nf, b->len - (size_t)at - nf);
  p[n] = 0;
  fx_free(b);
  b->p = p;
  b->len = n;
}

const char *fx_path(fx *f, const char *name) {
  static char buf[4][512];
  static int slot;
  char *p = buf[slot++ & 3];
  snprintf(p, 512, "%s/%s", f->root, name);
  return p;
}

prose_store *fx_store(fx *f, const char *name, prose_store_role role, const char *owner,
                      const char *passphrase) {
  prose_store_settings s;
  prose_store *st = NULL;
  prose_diag d;
  prose_diag_clear(&d);
  prose_store_settings_default(&s);
  s.role = role;
  s.owner_uri = owner;
  s.rng = &f->rng;
  if (passphrase) {
    s.passphrase = passphrase;
    s.passphrase_len = strlen(passphrase);
    s.scrypt_n = 1024; /* tests only: fast */
  }
  int rc = prose_store_create(&st, fx_path(f, name), &s, &d);
  cr_assert_eq(rc, 0, "create %s: %s (%s)", name, prose_err_name(rc), d.msg);
  return st;
}

void fx_digest(prose_store *st, uint8_t out[32]) {
  cr_assert_eq(prose__store_digest(st, out), 0);
}

static fx_blob issue(fx *f, const char *user, uint32_t count, bool cert) {
  prose_kms_issue_params p;
  prose_diag d;
  char *xml = NULL;
  size_t len = 0;
  prose_diag_clear(&d);
  prose_kms_issue_params_default(&p);
  p.user_uri = user;
  p.t = FX_T0;
  p.count = count;
  p.include_cert = cert;
  int rc = prose_kms_issue(f->kms, &p, &xml, &len, &d);
  cr_assert_eq(rc, 0, "issue %s: %s (%s)", user, prose_err_name(rc), d.msg);
  fx_blob b = fx_copy(xml, len);
  prose_free_secret(xml, len);
  return b;
}

static void setup_keys(fx *f) {
  prose_kms_settings ks;
  prose_diag d;
  char *xml = NULL;
  size_t len = 0;
  prose_diag_clear(&d);
  f->kms = fx_store(f, "kms", PROSE_STORE_KMS, NULL, NULL);
  prose_kms_settings_default(&ks);
  ks.kms_uri = FX_KMS;
  int rc = prose_kms_init(f->kms, &ks, &d);
  cr_assert_eq(rc, 0, "kms init: %s (%s)", prose_err_name(rc), d.msg);
  cr_assert_eq(prose_kms_cert_xml(f->kms, NULL, FX_T0, &xml, &len, &d), 0);
  f->cert = fx_copy(xml, len);
  free(xml);
  f->alice_ks = issue(f, FX_ALICE, 2, false);
  f->bob_ks = issue(f, FX_BOB, 1, false);
  f->gms_ks = issue(f, FX_GMS, 1, false);
}

static int keep_msg(void *ud, const char *group_id, uint32_t gmk_id, const uint8_t *msg,
                    size_t len) {
  (void)group_id;
  (void)gmk_id;
  fx_blob *b = ud;
  if (!b->p) *b = fx_copy(msg, len);
  return 0;
}

void fx_distribute(fx *f, const char *member, fx_blob *out) {
  prose_gms_distribute_params p;
  prose_diag d;
  prose_diag_clear(&d);
  prose_gms_distribute_params_default(&p);
  p.member_uri = member;
  p.group_id = FX_GROUP;
  p.t = FX_T0;
  memset(out, 0, sizeof *out);
  int rc = prose_gms_distribute(f->gms, &p, keep_msg, out, &d);
  cr_assert_eq(rc, 0, "distribute to %s: %s (%s)", member, prose_err_name(rc), d.msg);
}

static void setup_group(fx *f) {
  prose_import_summary sum;
  prose_diag d;
  prose_gms_group_params g;
  const char *members[] = {FX_ALICE, FX_BOB};
  prose_diag_clear(&d);
  f->gms = fx_store(f, "gms", PROSE_STORE_GMS, FX_GMS, NULL);
  int rc = prose_store_import(f->gms, f->cert.p, f->cert.len, FX_T0, &sum, &d);
  cr_assert_eq(rc, 0, "gms cert: %s (%s)", prose_err_name(rc), d.msg);
  rc = prose_store_import(f->gms, f->gms_ks.p, f->gms_ks.len, FX_T0, &sum, &d);
  cr_assert_eq(rc, 0, "gms keys: %s (%s)", prose_err_name(rc), d.msg);
  prose_gms_group_params_default(&g);
  g.group_id = FX_GROUP;
  g.members = members;
  g.n_members = 2;
  g.activation = FX_T0 - 3600;
  rc = prose_gms_group_create(f->gms, &g, &f->gmk_id, &d);
  cr_assert_eq(rc, 0, "group: %s (%s)", prose_err_name(rc), d.msg);
  fx_distribute(f, FX_ALICE, &f->imsg_alice);
  fx_distribute(f, FX_BOB, &f->imsg_bob);
}

void fx_setup(fx *f, int level) {
  memset(f, 0, sizeof *f);
  snprintf(f->root, sizeof f->root, "/tmp/prose-store-test-XXXXXX");
  cr_assert_not_null(mkdtemp(f->root));
  f->rng = prose_rng_det_init(&f->rng_state, 0x5EED);
  if (level >= FX_L_KEYS) setup_keys(f);
  if (level >= FX_L_GROUP) setup_group(f);
  if (level >= FX_L_ALICE) {
    f->alice = fx_store(f, "alice", PROSE_STORE_DEVICE, FX_ALICE, NULL);
    cr_assert_eq(prose_store_trust_gms(f->alice, FX_GMS), 0);
  }
}

void fx_teardown(fx *f) {
  char cmd[600];
  prose_store_close(f->kms);
  prose_store_close(f->gms);
  prose_store_close(f->alice);
  fx_free(&f->cert);
  fx_free(&f->alice_ks);
  fx_free(&f->bob_ks);
  fx_free(&f->gms_ks);
  fx_free(&f->imsg_alice);
  fx_free(&f->imsg_bob);
  if (f->root[0] && strncmp(f->root, "/tmp/prose-store-test-", 22) == 0) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    cr_assert_eq(system(cmd), 0);
  }
}
