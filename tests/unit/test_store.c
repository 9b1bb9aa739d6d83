/*
 * Store lifecycle, device key and passphrase, file modes, sealing and its
 * row binding, PCKs, the GMS trust list, listing and corruption.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prose/err.h"
#include "prose/store.h"
#include "prose/util.h"
#include "store_internal.h"
#include "test_store_fixture.h"

static mode_t mode_of(const char *p) {
  struct stat sb;
  cr_assert_eq(stat(p, &sb), 0, "stat %s", p);
  return sb.st_mode & 07777;
}

static int open_store(fx *f, const char *name, const char *pw, prose_store **st, prose_diag *d) {
  prose_store_settings s;
  prose_store_settings_default(&s);
  s.rng = &f->rng;
  if (pw) {
    s.passphrase = pw;
    s.passphrase_len = strlen(pw);
  }
  prose_diag_clear(d);
  return prose_store_open(st, fx_path(f, name), &s, d);
}

static prose_store_pck make_pck(uint32_t id, uint64_t created, uint64_t expires, uint8_t fill) {
  prose_store_pck p;
  memset(&p, 0, sizeof p);
  p.pck_id = id;
  strcpy(p.peer_uri, FX_BOB);
  memset(p.pck, fill, sizeof p.pck);
  memset(p.rand, 0xA5, 16);
  p.rand_len = 16;
  p.created = created;
  p.expires = expires;
  return p;
}

Test(store, create_open_modes_and_keys) {
  fx f;
  prose_diag d;
  prose_store *st = NULL;
  umask(022); /* a permissive umask must not loosen what the store creates */
  fx_setup(&f, FX_L_STORES);
  st = fx_store(&f, "dev", PROSE_STORE_DEVICE, FX_ALICE, NULL);
  cr_assert_eq(prose_store_get_role(st), PROSE_STORE_DEVICE);
  cr_assert_str_eq(prose_store_owner(st), FX_ALICE);
  cr_assert_eq(prose_store_trust_gms(st, FX_GMS), 0); /* a write, so the WAL exists */
  cr_assert_eq(mode_of(fx_path(&f, "dev")), 0700);
  cr_assert_eq(mode_of(fx_path(&f, "dev/store.db")), 0600);
  cr_assert_eq(mode_of(fx_path(&f, "dev/device.key")), 0600);
  cr_assert_eq(mode_of(fx_path(&f, "dev/store.db-wal")), 0600);
  cr_assert_eq(mode_of(fx_path(&f, "dev/store.db-shm")), 0600);
  prose_store_close(st);

  /* Reopen; a second create in the same place is refused. */
  cr_assert_eq(open_store(&f, "dev", NULL, &st, &d), 0, "%s", d.msg);
  cr_assert_str_eq(prose_store_owner(st), FX_ALICE);
  cr_assert(prose_store_gms_is_trusted(st, FX_GMS));
  prose_store_close(st);
  prose_store_settings s;
  prose_store_settings_default(&s);
  s.rng = &f.rng;
  prose_diag_clear(&d);
  cr_assert_eq(prose_store_create(&st, fx_path(&f, "dev"), &s, &d), PROSE_EEXIST);
  cr_assert_null(st);
  cr_assert_eq(open_store(&f, "nothing-here", NULL, &st, &d), PROSE_ENOENT);

  /* The key file: readable by others -> EPERM; another key -> EAUTH;
   * wrong size -> ESTORE_CORRUPT; missing -> ENOENT; a passphrase given
   * to a key-file store -> EAUTH. */
  char kp[512];
  snprintf(kp, sizeof kp, "%s", fx_path(&f, "dev/device.key"));
  cr_assert_eq(chmod(kp, 0644), 0);
  cr_assert_eq(open_store(&f, "dev", NULL, &st, &d), PROSE_EPERM);
  cr_assert_not_null(strstr(d.msg, "other users"));
  cr_assert_eq(chmod(kp, 0600), 0);
  uint8_t key[32], other[32];
  FILE *k = fopen(kp, "r+b");
  cr_assert_eq(fread(key, 1, 32, k), 32);
  memcpy(other, key, 32);
  other[7] ^= 1;
  rewind(k);
  cr_assert_eq(fwrite(other, 1, 32, k), 32);
  fclose(k);
  cr_assert_eq(open_store(&f, "dev", NULL, &st, &d), PROSE_EAUTH);
  cr_assert_eq(truncate(kp, 31), 0);
  cr_assert_eq(open_store(&f, "dev", NULL, &st, &d), PROSE_ESTORE_CORRUPT);
  k = fopen(kp, "wb");
  cr_assert_eq(fwrite(key, 1, 32, k), 32);
  fclose(k);
  cr_assert_eq(open_store(&f, "dev", "pw", &st, &d), PROSE_EAUTH);
  cr_assert_eq(open_store(&f, "dev", NULL, &st, &d), 0);
  prose_store_close(st);
  cr_assert_eq(unlink(kp), 0);
  cr_assert_eq(open_store(&f, "dev", NULL, &st, &d), PROSE_ENOENT);

  /* Passphrase stores: no key file; the right passphrase opens, a wrong
   * or missing one is EAUTH. */
  st = fx_store(&f, "pw", PROSE_STORE_GMS, FX_GMS, "correct horse");
  prose_store_close(st);
  cr_assert_eq(access(fx_path(&f, "pw/device.key"), F_OK), -1);
  cr_assert_eq(open_store(&f, "pw", "correct horse", &st, &d), 0, "%s", d.msg);
  cr_assert_eq(prose_store_get_role(st), PROSE_STORE_GMS);
  prose_store_close(st);
  cr_assert_eq(open_store(&f, "pw", "wrong horse", &st, &d), PROSE_EAUTH);
  cr_assert_not_null(strstr(d.msg, "wrong passphrase"));
  cr_assert_eq(open_store(&f, "pw", NULL, &st, &d), PROSE_EAUTH);
  cr_assert_null(st);

  /* Bad settings. */
  s.role = PROSE_STORE_GMS; /* a GMS needs its URI */
  cr_assert_eq(prose_store_create(&st, fx_path(&f, "g"), &s, NULL), PROSE_EINVAL);
  s.role = PROSE_STORE_DEVICE;
  s.owner_uri = "bad\nuri";
  cr_assert_eq(prose_store_create(&st, fx_path(&f, "g"), &s, NULL), PROSE_EINVAL);
  s.owner_uri = NULL;
  s.passphrase = "x";
  s.passphrase_len = 1;
  s.scrypt_n = 1000; /* not a power of two */
  cr_assert_eq(prose_store_create(&st, fx_path(&f, "g"), &s, NULL), PROSE_ERANGE);
  cr_assert_eq(access(fx_path(&f, "g/store.db"), F_OK), -1); /* nothing left behind */
  fx_teardown(&f);
}

Test(store, sealing_binds_values_to_rows) {
  uint8_t key[32], id16[16], out[64], pt[32];
  size_t n = 0, m = 0;
  fx f;
  fx_setup(&f, FX_L_STORES);
  memset(key, 1, sizeof key);
  memset(id16, 2, sizeof id16);
  const uint8_t secret[16] = "0123456789abcdef";
  prose__seal_id a = {"pck", "pck", NULL, NULL, NULL, 0x10000001};
  prose__seal_id b = {"pck", "pck", NULL, NULL, NULL, 0x10000002};
  cr_assert_eq(prose__seal(key, id16, &f.rng, &a, secret, 16, out, &n), 0);
  cr_assert_eq(n, 16 + PROSE__SEAL_OVERHEAD);
  cr_assert_eq(out[0], PROSE__SEAL_VERSION);
  cr_assert_eq(prose__unseal(key, id16, &a, out, n, pt, sizeof pt, &m), 0);
  cr_assert_eq(m, 16);
  cr_assert_arr_eq(pt, secret, 16);
  /* Another row, another store, another key, a flipped bit, a bad length. */
  cr_assert_eq(prose__unseal(key, id16, &b, out, n, pt, sizeof pt, &m), PROSE_EAUTH);
  id16[0] ^= 1;
  cr_assert_eq(prose__unseal(key, id16, &a, out, n, pt, sizeof pt, &m), PROSE_EAUTH);
  id16[0] ^= 1;
  key[0] ^= 1;
  cr_assert_eq(prose__unseal(key, id16, &a, out, n, pt, sizeof pt, &m), PROSE_EAUTH);
  key[0] ^= 1;
  out[n - 1] ^= 1;
  cr_assert_eq(prose__unseal(key, id16, &a, out, n, pt, sizeof pt, &m), PROSE_EAUTH);
  cr_assert_eq(prose__unseal(key, id16, &a, out, 10, pt, sizeof pt, &m), PROSE_ESTORE_CORRUPT);
  /* Two seals of one value differ (fresh nonces). */
  uint8_t out2[64];
  size_t n2 = 0;
  out[n - 1] ^= 1;
  cr_assert_eq(prose__seal(key, id16, &f.rng, &a, secret, 16, out2, &n2), 0);
  cr_assert_neq(memcmp(out, out2, n), 0);
  fx_teardown(&f);
}

Test(store, pcks_trust_list_swap_and_expire) {
  fx f;
  prose_store_pck p, got;
  prose_diag d;
  fx_setup(&f, FX_L_STORES);
  prose_store *st = fx_store(&f, "dev", PROSE_STORE_DEVICE, FX_ALICE, NULL);
  const uint64_t t = FX_T0;

  p = make_pck(0x10000001, t, t + 600, 0x11);
  cr_assert_eq(prose_store_pck_put(st, &p), 0);
  cr_assert_eq(prose_store_pck_put(st, &p), PROSE_EEXIST);
  p = make_pck(0x10000002, t, t + 60, 0x22);
  cr_assert_eq(prose_store_pck_put(st, &p), 0);
  p = make_pck(0x00000003, t, t + 60, 0x33); /* purpose tag 0: not a PCK-ID */
  cr_assert_eq(prose_store_pck_put(st, &p), PROSE_EINVAL);
  p = make_pck(0x10000004, t, t, 0x33); /* empty lifetime */
  cr_assert_eq(prose_store_pck_put(st, &p), PROSE_EINVAL);

  cr_assert_eq(prose_store_pck_get(st, 0x10000001, t + 10, &got), 0);
  cr_assert_str_eq(got.peer_uri, FX_BOB);
  cr_assert_eq(got.pck[0], 0x11);
  cr_assert_eq(got.rand_len, 16);
  cr_assert_eq(got.expires, t + 600);
  prose_store_pck_wipe(&got);
  cr_assert_eq(prose_store_pck_get(st, 0x10000002, t + 60, &got), PROSE_EEXPIRED);
  cr_assert_eq(got.pck[0], 0); /* nothing secret handed out on failure */
  cr_assert_eq(prose_store_pck_get(st, 0x10000009, t, &got), PROSE_ENOKEY);

  /* Swapping two sealed values between rows makes both unreadable: the AAD
   * binds each to its PCK-ID. */
  sqlite3 *db = NULL;
  cr_assert_eq(sqlite3_open(fx_path(&f, "dev/store.db"), &db), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(db,
                            "UPDATE pck SET pck = (SELECT pck FROM pck WHERE pck_id = 268435458)"
                            " WHERE pck_id = 268435457",
                            NULL, NULL, NULL),
               SQLITE_OK);
  sqlite3_close(db);
  cr_assert_eq(prose_store_pck_get(st, 0x10000001, t, &got), PROSE_ESTORE_CORRUPT);

  /* Trust list. */
  cr_assert_eq(prose_store_trust_gms(st, FX_GMS), 0);
  cr_assert_eq(prose_store_trust_gms(st, FX_GMS), 0); /* idempotent */
  cr_assert_eq(prose_store_trust_gms(st, ""), PROSE_EINVAL);
  cr_assert(prose_store_gms_is_trusted(st, FX_GMS));
  cr_assert(!prose_store_gms_is_trusted(st, "sip:rogue@example.org"));
  cr_assert_eq(prose_store_untrust_gms(st, "sip:rogue@example.org"), PROSE_ENOENT);

  /* Expire removes the PCK past its lifetime only. */
  prose_expire_summary ex;
  cr_assert_eq(prose_store_expire(st, t + 100, &ex), 0);
  cr_assert_eq(ex.pcks, 1);
  cr_assert_eq(ex.keysets + ex.gmks + ex.certs + ex.gms_gmks, 0);
  cr_assert_eq(prose_store_pck_delete(st, 0x10000002), PROSE_ENOENT);
  cr_assert_eq(prose_store_pck_delete(st, 0x10000001), 0);
  cr_assert_eq(prose_store_untrust_gms(st, FX_GMS), 0);
  (void)d;
  prose_store_close(st);
  fx_teardown(&f);
}

Test(store, corrupted_database_files) {
  fx f;
  prose_diag d;
  prose_store *st;
  fx_setup(&f, FX_L_STORES);
  st = fx_store(&f, "a", PROSE_STORE_DEVICE, FX_ALICE, NULL);
  for (int i = 0; i < 50; i++) {
    prose_store_pck p = make_pck(0x10000000u + (uint32_t)i, FX_T0, FX_T0 + 100, (uint8_t)i);
    cr_assert_eq(prose_store_pck_put(st, &p), 0);
  }
  prose_store_close(st); /* checkpoints the WAL into store.db */
  char db[512];
  snprintf(db, sizeof db, "%s", fx_path(&f, "a/store.db"));
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "cp -r '%s' '%s' && cp -r '%s' '%s'", fx_path(&f, "a"),
           fx_path(&f, "b"), fx_path(&f, "a"), fx_path(&f, "c"));
  cr_assert_eq(system(cmd), 0);

  /* a: the SQLite header overwritten -> not a database. */
  int fd = open(db, O_WRONLY);
  cr_assert_eq(pwrite(fd, "garbage garbage!", 16, 0), 16);
  close(fd);
  cr_assert_eq(open_store(&f, "a", NULL, &st, &d), PROSE_ESTORE_CORRUPT, "%s", d.msg);
  cr_assert_null(st);

  /* b: a b-tree page scribbled over -> the integrity check fails. */
  struct stat sb;
  cr_assert_eq(stat(fx_path(&f, "b/store.db"), &sb), 0);
  fd = open(fx_path(&f, "b/store.db"), O_WRONLY);
  uint8_t junk[4096];
  memset(junk, 0xEE, sizeof junk);
  cr_assert(sb.st_size > 3 * 4096);
  cr_assert_eq(pwrite(fd, junk, sizeof junk, sb.st_size - 4096), (ssize_t)sizeof junk);
  close(fd);
  int rc = open_store(&f, "b", NULL, &st, &d);
  cr_assert_eq(rc, PROSE_ESTORE_CORRUPT, "%s (%s)", prose_err_name(rc), d.msg);

  /* c: the meta table's key check damaged -> refused at open. */
  sqlite3 *h = NULL;
  cr_assert_eq(sqlite3_open(fx_path(&f, "c/store.db"), &h), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(h, "UPDATE meta SET v = x'00' WHERE k = 'key_check'", NULL, NULL, NULL),
               SQLITE_OK);
  sqlite3_close(h);
  cr_assert_eq(open_store(&f, "c", NULL, &st, &d), PROSE_ESTORE_CORRUPT);
  fx_teardown(&f);
}
