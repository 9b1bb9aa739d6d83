/*
 * The security domain of a run, built with the real authority code
 * (prose/authority.h) as the node tests do: a KMS store with the domain's
 * master secrets, a GMS store with its own key sets and one group per
 * scenario group, and one device store per node holding its key sets, the
 * KMS certificate and the GMK I_MESSAGEs of its groups (except those the
 * scenario withholds with `nogmk`). Each node's keyring is loaded from its
 * store, as prosed does at start.
 *
 * Every random choice comes from generators seeded with the scenario seed,
 * so the same scenario and seed give the same keys and therefore the same
 * bytes on the wire.
 *
 * Cost: issuing, importing and loading a key set is tens of milliseconds
 * (SAKKE key validation), so a 400-node domain takes seconds. With a cache
 * directory the finished stores are kept under a key that covers everything
 * they depend on (identities, groups, GMK holders, key periods, seed), and
 * later runs copy them instead; the keyrings are still loaded per run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prose/authority.h"
#include "prose/err.h"
#include "prose/util.h"
#include "sim_internal.h"

#define CACHE_VERSION "prose-sim-domain-1"
#define RUN_PREFIX "/tmp/prose-sim-"
/* Salts that separate the seeded streams of the domain and the stores. */
#define SEED_DOMAIN 0x444F4D41494E0001ull
#define SEED_STORE 0x53544F5245000000ull

/* ---- small file helpers ------------------------------------------------------ */

static int copy_file(const char *from, const char *to, mode_t mode) {
  int in = open(from, O_RDONLY);
  if (in < 0) return PROSE_EIO;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode & 0777);
  if (out < 0) {
    close(in);
    return PROSE_EIO;
  }
  uint8_t buf[65536];
  int rc = 0;
  for (;;) {
    ssize_t r = read(in, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r < 0) rc = PROSE_EIO;
      break;
    }
    for (ssize_t off = 0; off < r;) {
      ssize_t w = write(out, buf + off, (size_t)(r - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        rc = PROSE_EIO;
        break;
      }
      off += w;
    }
    if (rc) break;
  }
  close(in);
  if (close(out) != 0) rc = PROSE_EIO;
  return rc;
}

/* Copy a directory tree (the domain is two levels of plain files). */
static int copy_tree(const char *from, const char *to) {
  if (mkdir(to, 0700) != 0 && errno != EEXIST) return PROSE_EIO;
  DIR *d = opendir(from);
  if (d == NULL) return PROSE_EIO;
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char a[1024], b[1024];
    if ((size_t)snprintf(a, sizeof a, "%s/%s", from, e->d_name) >= sizeof a ||
        (size_t)snprintf(b, sizeof b, "%s/%s", to, e->d_name) >= sizeof b) {
      rc = PROSE_ELEN;
      break;
    }
    struct stat st;
    if (lstat(a, &st) != 0) {
      rc = PROSE_EIO;
    } else if (S_ISDIR(st.st_mode)) {
      rc = copy_tree(a, b);
    } else if (S_ISREG(st.st_mode)) {
      rc = copy_file(a, b, st.st_mode);
    }
  }
  closedir(d);
  return rc;
}

/* Remove a tree we made (only under RUN_PREFIX or a cache's temporary). */
static void remove_tree(const char *path) {
  DIR *d = opendir(path);
  if (d != NULL) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char a[1024];
      if ((size_t)snprintf(a, sizeof a, "%s/%s", path, e->d_name) >= sizeof a) continue;
      struct stat st;
      if (lstat(a, &st) == 0 && S_ISDIR(st.st_mode))
        remove_tree(a);
      else
        unlink(a);
    }
    closedir(d);
  }
  rmdir(path);
}

/* ---- the store of each role -------------------------------------------------- */

typedef struct pv {
  sim *s;
  char *err;
  size_t err_cap;
} pv;

static int report(pv *p, int rc, const char *what, const prose_diag *dg) {
  if (rc != 0 && p->err && p->err_cap)
    snprintf(p->err, p->err_cap, "provisioning: %s: %s%s%s", what, prose_err_name(rc),
             dg && dg->msg[0] ? " " : "", dg ? dg->msg : "");
  return rc;
}

static void store_settings(prose_store_settings *ss, prose_store_role role, const char *owner,
                           const prose_rng *rng) {
  prose_store_settings_default(ss);
  ss->role = role;
  ss->owner_uri = owner;
  ss->rng = rng;
}

static int import(pv *p, prose_store *st, const void *data, size_t len, const char *what) {
  prose_diag dg;
  prose_diag_clear(&dg);
  int rc = prose_store_import(st, data, len, p->s->t0_ntp, NULL, &dg);
  return report(p, rc, what, &dg);
}

/* Key sets for `keysets` periods from T0 with the KMS certificate. */
static int issue_into(pv *p, prose_store *st, const char *user) {
  sim_domain *d = &p->s->dom;
  prose_kms_issue_params ip;
  prose_diag dg;
  char *xml = NULL;
  size_t len = 0;
  prose_diag_clear(&dg);
  prose_kms_issue_params_default(&ip);
  ip.user_uri = user;
  ip.t = p->s->t0_ntp;
  ip.count = p->s->sc.keysets;
  /* Real clocks may cross into the next key period during a run. */
  if (p->s->opt.netns && ip.count < 2) ip.count = 2;
  ip.include_cert = true;
  int rc = prose_kms_issue(d->kms, &ip, &xml, &len, &dg);
  if (rc != 0) return report(p, rc, user, &dg);
  rc = import(p, st, xml, len, user);
  prose_free_secret(xml, len);
  return rc;
}

typedef struct gmk_ctx {
  pv *p;
  prose_store *st;
} gmk_ctx;

static int import_gmk(void *ud, const char *group_id, uint32_t gmk_id, const uint8_t *msg,
                      size_t len) {
  (void)group_id;
  (void)gmk_id;
  gmk_ctx *c = ud;
  return import(c->p, c->st, msg, len, "GMK I_MESSAGE");
}

static int build_authorities(pv *p) {
  sim *s = p->s;
  sim_domain *d = &s->dom;
  prose_diag dg;
  prose_diag_clear(&dg);
  char path[700];
  prose_store_settings ss;
  snprintf(path, sizeof path, "%s/kms", d->root);
  store_settings(&ss, PROSE_STORE_KMS, NULL, &d->rng);
  int rc = prose_store_create(&d->kms, path, &ss, &dg);
  if (rc) return report(p, rc, "KMS store", &dg);
  prose_kms_settings ks;
  prose_kms_settings_default(&ks);
  ks.kms_uri = SIM_KMS_URI;
  if ((rc = prose_kms_init(d->kms, &ks, &dg)) != 0) return report(p, rc, "KMS", &dg);

  snprintf(path, sizeof path, "%s/gms", d->root);
  store_settings(&ss, PROSE_STORE_GMS, SIM_GMS_URI, &d->rng);
  if ((rc = prose_store_create(&d->gms, path, &ss, &dg)) != 0) return report(p, rc, "GMS store", &dg);
  if ((rc = issue_into(p, d->gms, SIM_GMS_URI)) != 0) return rc;
  const char **members = calloc(s->n ? s->n : 1, sizeof *members);
  if (members == NULL) return PROSE_ENOMEM;
  for (size_t g = 0; rc == 0 && g < s->sc.n_groups; g++) {
    size_t nm = 0;
    for (size_t i = 0; i < s->n; i++)
      if (s->sc.nodes[i].groups & (1u << g)) members[nm++] = s->sc.nodes[i].uri;
    if (nm == 0) continue;
    prose_gms_group_params gp;
    prose_gms_group_params_default(&gp);
    gp.group_id = s->sc.groups[g].uri;
    gp.members = members;
    gp.n_members = nm;
    gp.activation = s->t0_ntp - 3600u;
    uint32_t gmk_id = 0;
    rc = prose_gms_group_create(d->gms, &gp, &gmk_id, &dg);
    if (rc) report(p, rc, s->sc.groups[g].name, &dg);
  }
  free(members);
  return rc;
}

static void node_store_path(const sim *s, size_t i, char *out, size_t cap) {
  snprintf(out, cap, "%s/dev-%s", s->dom.root, s->sc.nodes[i].name);
}

static int build_device(pv *p, size_t i) {
  sim *s = p->s;
  sim_node *nd = &s->nodes[i];
  const scn_node *cfg = &s->sc.nodes[i];
  prose_diag dg;
  prose_diag_clear(&dg);
  char path[700];
  node_store_path(s, i, path, sizeof path);
  prose_store_settings ss;
  store_settings(&ss, PROSE_STORE_DEVICE, cfg->uri, &nd->store_rng);
  int rc = prose_store_create(&nd->store, path, &ss, &dg);
  if (rc) return report(p, rc, cfg->name, &dg);
  if ((rc = prose_store_trust_gms(nd->store, SIM_GMS_URI)) != 0) return report(p, rc, cfg->name, NULL);
  if ((rc = issue_into(p, nd->store, cfg->uri)) != 0) return rc;
  for (size_t g = 0; g < s->sc.n_groups; g++) {
    uint32_t bit = 1u << g;
    if (!(cfg->groups & bit) || (cfg->nogmk & bit)) continue;
    prose_gms_distribute_params dp;
    prose_gms_distribute_params_default(&dp);
    dp.member_uri = cfg->uri;
    dp.group_id = s->sc.groups[g].uri;
    dp.t = s->t0_ntp;
    gmk_ctx c = {p, nd->store};
    rc = prose_gms_distribute(s->dom.gms, &dp, import_gmk, &c, &dg);
    if (rc) return report(p, rc, cfg->name, &dg);
  }
  return 0;
}

static int open_device(pv *p, size_t i) {
  sim *s = p->s;
  sim_node *nd = &s->nodes[i];
  prose_diag dg;
  prose_diag_clear(&dg);
  char path[700];
  node_store_path(s, i, path, sizeof path);
  prose_store_settings ss;
  store_settings(&ss, PROSE_STORE_DEVICE, s->sc.nodes[i].uri, &nd->store_rng);
  int rc = prose_store_open(&nd->store, path, &ss, &dg);
  return report(p, rc, s->sc.nodes[i].name, &dg);
}

/* ---- the cache key --------------------------------------------------------- */

static void cache_key(const sim *s, char out[33]) {
  uint8_t md[32];
  unsigned mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  char buf[512];
  if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    snprintf(out, 33, "nocache");
    EVP_MD_CTX_free(ctx);
    return;
  }
  int n = snprintf(buf, sizeof buf, "%s|%llu|%u|%u|%zu|", CACHE_VERSION,
                   (unsigned long long)s->sc.seed, s->sc.keysets, s->t0_ntp, s->n);
  EVP_DigestUpdate(ctx, buf, (size_t)n);
  for (size_t g = 0; g < s->sc.n_groups; g++) {
    n = snprintf(buf, sizeof buf, "g|%s|", s->sc.groups[g].uri);
    EVP_DigestUpdate(ctx, buf, (size_t)n);
  }
  for (size_t i = 0; i < s->n; i++) {
    const scn_node *c = &s->sc.nodes[i];
    n = snprintf(buf, sizeof buf, "n|%s|%s|%x|%x|", c->name, c->uri, c->groups, c->nogmk);
    EVP_DigestUpdate(ctx, buf, (size_t)n);
  }
  EVP_DigestFinal_ex(ctx, md, &mdlen);
  EVP_MD_CTX_free(ctx);
  prose_hex_encode(md, 16, out);
  out[32] = '\0';
}

/* ---- entry points ----------------------------------------------------------- */

static void close_stores(sim *s) {
  for (size_t i = 0; i < s->n; i++) {
    prose_store_close(s->nodes[i].store);
    s->nodes[i].store = NULL;
  }
  prose_store_close(s->dom.kms);
  prose_store_close(s->dom.gms);
  s->dom.kms = s->dom.gms = NULL;
}

static int build(pv *p) {
  sim *s = p->s;
  int rc = build_authorities(p);
  for (size_t i = 0; rc == 0 && i < s->n; i++) {
    rc = build_device(p, i);
    if (rc == 0 && s->opt.log && s->n >= 50 && (i + 1) % 50 == 0)
      fprintf(s->opt.log, "prose sim: provisioned %zu/%zu devices\n", i + 1, s->n);
  }
  return rc;
}

/* Keep a copy of the finished domain in the cache. Failing to cache is
 * not an error: the run goes on with what it built. */
static void cache_store(sim *s, const char *entry) {
  char tmp[700];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", entry, (long)getpid());
  if (copy_tree(s->dom.root, tmp) != 0) {
    remove_tree(tmp);
    return;
  }
  char mark[760];
  snprintf(mark, sizeof mark, "%s/complete", tmp);
  FILE *f = fopen(mark, "w");
  if (f) fclose(f);
  /* Another process may have cached the same domain meanwhile: keep theirs. */
  if (rename(tmp, entry) != 0) remove_tree(tmp);
}

int sim_provision(sim *s, char *err, size_t err_cap) {
  pv p = {s, err, err_cap};
  sim_domain *d = &s->dom;
  d->rng = prose_rng_det_init(&d->rng_state, s->sc.seed ^ SEED_DOMAIN);
  for (size_t i = 0; i < s->n; i++) {
    sim_node *nd = &s->nodes[i];
    nd->store_rng = prose_rng_det_init(&nd->store_rng_state, (s->sc.seed ^ SEED_STORE) + i);
  }
  snprintf(d->root, sizeof d->root, RUN_PREFIX "XXXXXX");
  if (mkdtemp(d->root) == NULL) {
    d->root[0] = '\0';
    return report(&p, PROSE_EIO, "temporary directory", NULL);
  }
  char entry[600] = "", mark[700];
  bool cached = false;
  /* netns runs are keyed to the wall clock of the day: nothing to share. */
  if (s->opt.cache_dir && !s->opt.netns) {
    char key[33];
    cache_key(s, key);
    (void)mkdir(s->opt.cache_dir, 0700);
    snprintf(entry, sizeof entry, "%s/%s", s->opt.cache_dir, key);
    snprintf(mark, sizeof mark, "%s/complete", entry);
    cached = access(mark, R_OK) == 0 && copy_tree(entry, d->root) == 0;
  }
  int rc = 0;
  if (!cached) {
    if (s->opt.log) fprintf(s->opt.log, "prose sim: provisioning %zu devices\n", s->n);
    rc = build(&p);
    close_stores(s);
    if (rc == 0 && entry[0]) cache_store(s, entry);
  }
  /* prosed opens the stores itself. */
  if (s->opt.netns) return rc;
  for (size_t i = 0; rc == 0 && i < s->n; i++) rc = open_device(&p, i);
  for (size_t i = 0; rc == 0 && i < s->n; i++) rc = sim_load_keyring(s, i, err, err_cap);
  return rc;
}

int sim_load_keyring(sim *s, size_t i, char *err, size_t err_cap) {
  pv p = {s, err, err_cap};
  sim_node *nd = &s->nodes[i];
  prose_keyring_free(nd->kr);
  nd->kr = NULL;
  int rc = prose_keyring_new(&nd->kr, s->sc.nodes[i].uri, NULL);
  if (rc) return report(&p, rc, "keyring", NULL);
  prose_diag dg;
  prose_diag_clear(&dg);
  rc = prose_store_load_keyring(nd->store, nd->kr, s->t0_ntp, &dg);
  return report(&p, rc, s->sc.nodes[i].name, &dg);
}

void sim_domain_close(sim *s) {
  for (size_t i = 0; i < s->n; i++) {
    prose_keyring_free(s->nodes[i].kr);
    s->nodes[i].kr = NULL;
  }
  close_stores(s);
  if (s->dom.root[0] && strncmp(s->dom.root, RUN_PREFIX, strlen(RUN_PREFIX)) == 0)
    remove_tree(s->dom.root);
  s->dom.root[0] = '\0';
}
