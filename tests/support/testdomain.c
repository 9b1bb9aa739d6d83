/* A throwaway security domain for tests and benchmarks (testdomain.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "testdomain.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/authority.h"
#include "prose/err.h"
#include "prose/util.h"

void ts_domain_params_default(ts_domain_params *p) {
  memset(p, 0, sizeof *p);
  p->t = TS_T0;
  p->seed = 0x0DE5EED;
  p->prefix = "prose-test-domain";
}

/* Record the failed step (the first one only) and pass rc through. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int fail(ts_domain *d, int rc, const prose_diag *dg, const char *fmt, ...) {
  if (rc == 0 || d->err[0]) return rc;
  char what[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(d->err, sizeof d->err, "%s: %s (%s)", what, prose_err_name(rc),
           dg && dg->msg[0] ? dg->msg : prose_strerror(rc));
  return rc;
}

static int new_store(ts_domain *d, const char *name, prose_store_role role, const char *owner,
                     prose_store **out) {
  char path[300];
  prose_store_settings s;
  prose_diag dg;
  prose_diag_clear(&dg);
  prose_store_settings_default(&s);
  s.role = role;
  s.owner_uri = owner;
  s.rng = &d->rng;
  snprintf(path, sizeof path, "%s/%s", d->root, name);
  return fail(d, prose_store_create(out, path, &s, &dg), &dg, "store %s", name);
}

static int import(ts_domain *d, prose_store *st, const void *data, size_t len, const char *what) {
  prose_diag dg;
  prose_diag_clear(&dg);
  return fail(d, prose_store_import(st, data, len, d->t, NULL, &dg), &dg, "import %s", what);
}

/* Key sets (current and next period) with the KMS certificate, imported. */
static int issue_into(ts_domain *d, prose_store *st, const char *user) {
  prose_kms_issue_params p;
  prose_diag dg;
  char *xml = NULL;
  size_t len = 0;
  prose_diag_clear(&dg);
  prose_kms_issue_params_default(&p);
  p.user_uri = user;
  p.t = d->t;
  p.count = 2;
  p.include_cert = true;
  int rc = fail(d, prose_kms_issue(d->kms, &p, &xml, &len, &dg), &dg, "issue %s", user);
  if (rc == 0) rc = import(d, st, xml, len, user);
  if (xml) prose_free_secret(xml, len);
  return rc;
}

typedef struct import_ctx {
  ts_domain *d;
  prose_store *st;
  uint32_t only; /* import only this GMK-ID, 0 = all */
} import_ctx;

static int import_msg(void *ud, const char *group_id, uint32_t gmk_id, const uint8_t *msg,
                      size_t len) {
  (void)group_id;
  import_ctx *c = ud;
  if (c->only != 0 && c->only != gmk_id) return 0;
  return import(c->d, c->st, msg, len, "GMK I_MESSAGE");
}

static int distribute(ts_domain *d, ts_device *dev, uint32_t only) {
  prose_gms_distribute_params p;
  prose_diag dg;
  prose_diag_clear(&dg);
  prose_gms_distribute_params_default(&p);
  p.member_uri = dev->uri;
  p.group_id = TS_GROUP;
  p.t = d->t;
  import_ctx c = {d, dev->store, only};
  return fail(d, prose_gms_distribute(d->gms, &p, import_msg, &c, &dg), &dg, "distribute to %s",
              dev->uri);
}

/* The KMS with its certificate, and the GMS with its keys and the group of
 * every user. */
static int authorities(ts_domain *d, const ts_domain_params *p) {
  prose_diag dg;
  prose_diag_clear(&dg);
  int rc = new_store(d, "kms", PROSE_STORE_KMS, NULL, &d->kms);
  if (rc == 0) {
    prose_kms_settings ks;
    prose_kms_settings_default(&ks);
    ks.kms_uri = TS_KMS;
    rc = fail(d, prose_kms_init(d->kms, &ks, &dg), &dg, "kms init");
  }
  if (rc == 0) rc = new_store(d, "gms", PROSE_STORE_GMS, TS_GMS, &d->gms);
  if (rc == 0) rc = issue_into(d, d->gms, TS_GMS);
  if (rc == 0) {
    prose_gms_group_params g;
    prose_gms_group_params_default(&g);
    g.group_id = TS_GROUP;
    g.members = p->users;
    g.n_members = p->n;
    g.activation = d->t - 3600;
    rc = fail(d, prose_gms_group_create(d->gms, &g, &d->gmk_id, &dg), &dg, "group");
  }
  return rc;
}

static int device(ts_domain *d, size_t i) {
  ts_device *dev = &d->dev[i];
  char name[32];
  prose_diag dg;
  prose_diag_clear(&dg);
  snprintf(name, sizeof name, "dev%zu", i);
  int rc = new_store(d, name, PROSE_STORE_DEVICE, dev->uri, &dev->store);
  if (rc == 0) rc = fail(d, prose_store_trust_gms(dev->store, TS_GMS), NULL, "trust %s", name);
  if (rc == 0) rc = issue_into(d, dev->store, dev->uri);
  if (rc == 0 && dev->has_gmk) rc = distribute(d, dev, 0);
  if (rc == 0) rc = fail(d, prose_keyring_new(&dev->kr, dev->uri, NULL), NULL, "keyring");
  if (rc == 0)
    rc = fail(d, prose_store_load_keyring(dev->store, dev->kr, d->t, &dg), &dg, "keyring %s",
              dev->uri);
  return rc;
}

int ts_domain_setup(ts_domain *d, const ts_domain_params *p) {
  memset(d, 0, sizeof *d);
  if (p->n == 0 || p->n > TS_MAX_DEVICES || !p->users || !p->prefix)
    return fail(d, PROSE_EINVAL, NULL, "domain parameters");
  d->t = p->t;
  d->rng = prose_rng_det_init(&d->rng_state, p->seed);
  snprintf(d->root, sizeof d->root, "/tmp/%s-XXXXXX", p->prefix);
  if (!mkdtemp(d->root)) {
    d->root[0] = '\0';
    return fail(d, PROSE_EIO, NULL, "mkdtemp /tmp/%s-XXXXXX", p->prefix);
  }
  int rc = authorities(d, p);
  for (size_t i = 0; rc == 0 && i < p->n; i++) {
    d->dev[i].uri = p->users[i];
    d->dev[i].has_gmk = p->gmk ? p->gmk[i] : true;
    d->n_dev = i + 1;
    rc = device(d, i);
  }
  return rc;
}

int ts_domain_rekey(ts_domain *d, uint64_t activation) {
  prose_diag dg;
  prose_diag_clear(&dg);
  int rc = fail(d,
                prose_gms_group_rekey(d->gms, TS_GROUP, activation, PROSE_STORE_NEVER, &d->gmk2_id,
                                      &dg),
                &dg, "rekey");
  for (size_t i = 0; rc == 0 && i < d->n_dev; i++)
    if (d->dev[i].has_gmk) rc = distribute(d, &d->dev[i], d->gmk2_id);
  return rc;
}

void ts_domain_close(ts_domain *d) {
  for (size_t i = 0; i < d->n_dev; i++) {
    prose_keyring_free(d->dev[i].kr);
    prose_store_close(d->dev[i].store);
    d->dev[i].kr = NULL;
    d->dev[i].store = NULL;
  }
  prose_store_close(d->kms);
  prose_store_close(d->gms);
  d->kms = d->gms = NULL;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

void ts_domain_teardown(ts_domain *d) {
  ts_domain_close(d);
  /* Only the directory setup made (mkdtemp below /tmp); links are removed,
   * never followed. */
  if (strncmp(d->root, "/tmp/", 5) == 0) (void)nftw(d->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  d->root[0] = '\0';
}
