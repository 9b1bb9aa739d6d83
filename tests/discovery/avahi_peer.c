/*
 * TEST PROGRAM: one discovery node on avahi DNS-SD only (no multicast
 * announcements), driven by avahi's simple poll. Run by avahi_netns.sh, one
 * per network namespace, each with its own avahi-daemon.
 *
 *   avahi_peer ME PEER PEER_IPV4 MY_IPV4 [TIMEOUT_S] [--expect-forged]
 *              [--interval MS] [--ttl MS] [--hold S]
 *   avahi_peer --forged-txt
 *
 * ME and PEER are "alice", "bob" or "carol" (the fixture users of
 * tests/fuzz/mikey_fixture.h: TEST keys only). The node publishes its signed
 * announcements as TXT records and browses for the others. It succeeds when
 * PEER has been verified and added with PEER_IPV4 as its announced address,
 * and at least three of PEER's announcements (so two TXT updates after the
 * first) were accepted; with --expect-forged, also when a forged TXT record
 * (published by the script with avahi-publish) has been rejected with a
 * signature failure. With --hold S it then keeps running for S seconds and
 * checks every second that PEER is still in the table (it must never expire
 * while its service is published) and that at least half of the
 * announcements PEER made meanwhile were accepted (its TXT updates reach
 * us). A PEER that says goodbye (its run ended first) ends both checks at
 * that moment. It then lingers so its peer can finish, says goodbye, and
 * exits 0. Exit 1 on timeout, when the peer went missing during the hold or
 * too few of its updates arrived, 2 on a usage or set-up error. --interval
 * and --ttl set the announcement interval and TTL (default 1500 and 6000 ms).
 *
 * --forged-txt prints the TXT strings ("v=1 a0=... a1=...") of an
 * announcement by carol whose signature has one bit flipped, for the script
 * to publish with avahi-publish as a forger would.
 *
 * The wall clock is the fixture's MF_NOW plus the monotonic time since
 * start, identical in both processes, so the fixture's key period applies.
 */
#include <arpa/inet.h>
#include <avahi-common/simple-watch.h>
#include <avahi-common/timeval.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mikey_fixture.h"
#include "prose/discovery.h"
#include "prose/discovery_avahi.h"

typedef struct app {
  AvahiSimplePoll *sp;
  const AvahiPoll *poll;
  AvahiTimeout *timer;
  prose_disc *d;
  prose_disc_avahi *av;
  const char *peer;
  uint8_t peer_ip[4];
  uint64_t start_ms;
  uint64_t deadline_ms; /* give up */
  uint64_t done_ms;     /* success reached at, 0 if not yet */
  bool expect_forged;
  bool left;
  unsigned accepted_from_peer;
  bool peer_ok;
  uint64_t hold_ms;     /* keep checking the peer this long after success */
  uint64_t next_poll_ms;
  unsigned polls, missing; /* hold: table polls, and those without the peer */
  unsigned lost;           /* the peer expired/left/was evicted before we left */
  uint32_t interval_ms;    /* announcement interval (both nodes use the same) */
  unsigned held_from_peer; /* the peer's announcements accepted during the hold */
  uint64_t peer_left_ms;   /* the peer said goodbye (its run ended first), 0 if not */
  bool held_enough;        /* at least half of those the peer sent in the hold */
} app;

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t clock_ms(void *ud) {
  app *a = ud;
  return mono_ms() - a->start_ms;
}

static uint64_t clock_ntp(void *ud) {
  return MF_T(MF_NOW) + ((clock_ms(ud) << 32) / 1000u);
}

static void rearm(app *a) {
  uint64_t due = prose_disc_next_deadline(a->d), now = clock_ms(a);
  /* Wake at least every 200 ms to check for success or timeout. */
  uint64_t delay = due > now ? due - now : 0;
  if (delay > 200) delay = 200;
  struct timeval tv;
  avahi_elapse_time(&tv, (unsigned)delay, 0);
  a->poll->timeout_update(a->timer, &tv);
}

static bool success(const app *a) {
  const prose_disc_stats *st = prose_disc_get_stats(a->d);
  return a->peer_ok && a->accepted_from_peer >= 3 && (!a->expect_forged || st->rej_sig > 0);
}

static void report(const app *a) {
  const prose_disc_stats *st = prose_disc_get_stats(a->d);
  const prose_disc_avahi_stats *as = prose_disc_avahi_get_stats(a->av);
  printf("stats: rx=%llu accepted=%llu own=%llu rej_sig=%llu rej_replay=%llu rej_time=%llu "
         "rej_malformed=%llu sent=%llu peers=%zu | avahi: resolved=%llu txt_seen=%llu fed=%llu "
         "dup=%llu bad_txt=%llu published=%llu collisions=%llu refreshed=%llu running=%d "
         "last_error=%d\n",
         (unsigned long long)st->rx, (unsigned long long)st->accepted,
         (unsigned long long)st->own, (unsigned long long)st->rej_sig,
         (unsigned long long)st->rej_replay, (unsigned long long)st->rej_time,
         (unsigned long long)st->rej_malformed, (unsigned long long)st->sent,
         prose_disc_peer_count(a->d), (unsigned long long)as->resolved,
         (unsigned long long)as->txt_seen, (unsigned long long)as->fed,
         (unsigned long long)as->duplicate,
         (unsigned long long)as->bad_txt, (unsigned long long)as->published,
         (unsigned long long)as->collisions, (unsigned long long)as->refreshed, as->running,
         as->last_error);
}

static void on_timer(AvahiTimeout *t, void *ud) {
  (void)t;
  app *a = ud;
  uint64_t now = clock_ms(a);
  prose_disc_on_timeout(a->d, now, clock_ntp(a));
  if (!a->done_ms && success(a)) {
    a->done_ms = now;
    printf("ok: %s verified at %llu ms after %u announcements\n", a->peer,
           (unsigned long long)now, a->accepted_from_peer);
  }
  /* Hold: poll the table every second; the peer must always be there. */
  if (a->done_ms && now < a->done_ms + a->hold_ms && now >= a->next_poll_ms) {
    a->next_poll_ms = now + 1000;
    a->polls++;
    if (!a->peer_left_ms && !prose_disc_find(a->d, a->peer)) {
      a->missing++;
      printf("hold: %s missing from the table at %llu ms\n", a->peer, (unsigned long long)now);
    }
  }
  /* Linger 4 s so the peer can finish too, then leave (a goodbye TXT
   * record), give it a second to go out, and stop. */
  if (a->done_ms && !a->left && now >= a->done_ms + a->hold_ms + 4000) {
    if (a->hold_ms) {
      /* Every TXT update should reach us (the TXT record browser sees each
       * one that enters the daemon's cache); ask for half, to allow for
       * coalescing on a loaded machine without letting the refreshes alone
       * (one per TTL/3) pass. */
      uint64_t end = a->done_ms + a->hold_ms;
      if (a->peer_left_ms && a->peer_left_ms < end)
        end = a->peer_left_ms > a->done_ms ? a->peer_left_ms : a->done_ms;
      unsigned want = (unsigned)((end - a->done_ms) / a->interval_ms / 2u);
      a->held_enough = a->held_from_peer >= want;
      printf("hold: %s present in %u of %u polls over %llu s; %u of its announcements accepted "
             "(%u wanted)\n",
             a->peer, a->polls - a->missing, a->polls, (unsigned long long)(a->hold_ms / 1000),
             a->held_from_peer, want);
    } else {
      a->held_enough = true;
    }
    prose_disc_leave(a->d, now, clock_ntp(a));
    a->left = true;
  }
  if ((a->left && now >= a->done_ms + a->hold_ms + 5000) ||
      (!a->done_ms && now >= a->deadline_ms)) {
    avahi_simple_poll_quit(a->sp);
    return;
  }
  rearm(a);
}

static void on_fed(void *ud, int rc) {
  app *a = ud;
  if (rc != 0) printf("rejected a DNS-SD announcement: %s\n", prose_err_name(rc));
  rearm(a);
}

static int on_send(void *ud, const uint8_t *bytes, size_t len) {
  app *a = ud;
  return prose_disc_avahi_publish(a->av, bytes, len);
}

static void on_event(void *ud, const prose_disc_event *ev) {
  app *a = ud;
  switch (ev->type) {
    case PROSE_DISC_EV_PEER_ADDED:
    case PROSE_DISC_EV_PEER_UPDATED: {
      const prose_disc_ann *p = &ev->peer->ann;
      printf("peer %s: %s at %u.%u.%u.%u:%u\n",
             ev->type == PROSE_DISC_EV_PEER_ADDED ? "added" : "updated", p->mcptt_id, p->ipv4[0],
             p->ipv4[1], p->ipv4[2], p->ipv4[3], p->call_port);
      if (strcmp(p->mcptt_id, a->peer) == 0)
        a->peer_ok = p->has_ipv4 && memcmp(p->ipv4, a->peer_ip, 4) == 0;
      break;
    }
    case PROSE_DISC_EV_PEER_EXPIRED:
    case PROSE_DISC_EV_PEER_LEFT:
    case PROSE_DISC_EV_PEER_EVICTED:
      printf("peer gone (%d): %s at %llu ms\n", (int)ev->type, ev->peer->ann.mcptt_id,
             (unsigned long long)clock_ms(a));
      if (strcmp(ev->peer->ann.mcptt_id, a->peer) != 0) break;
      /* Its signed goodbye: the peer's own run ended first (it verified us
       * earlier, so its hold did too). The hold checks expiry, not this. */
      if (ev->type == PROSE_DISC_EV_PEER_LEFT) {
        if (!a->peer_left_ms) a->peer_left_ms = clock_ms(a);
      } else if (a->done_ms && clock_ms(a) < a->done_ms + a->hold_ms) {
        a->lost++;
      }
      break;
    case PROSE_DISC_EV_REJECTED:
    case PROSE_DISC_EV_ANNOUNCE_FAILED:
      printf("event %d: %s\n", (int)ev->type, prose_err_name(ev->reason));
      break;
  }
}

static void count_peer_announcements(void *ud, int rc) {
  app *a = ud;
  /* Only two nodes publish genuine announcements, so every accepted one
   * is the peer's. */
  if (rc == 0) {
    a->accepted_from_peer++;
    uint64_t now = clock_ms(a);
    if (a->done_ms && now < a->done_ms + a->hold_ms) a->held_from_peer++;
  }
  on_fed(ud, rc);
}

static const char *user_uri(const char *name, uint64_t *seed) {
  if (strcmp(name, "alice") == 0) return *seed = MF_SEED_ALICE, MF_ALICE;
  if (strcmp(name, "bob") == 0) return *seed = MF_SEED_BOB, MF_BOB;
  if (strcmp(name, "carol") == 0) return *seed = MF_SEED_CAROL, MF_CAROL;
  return NULL;
}

/* Carol's announcement at MF_NOW, signed, then one bit of s flipped. */
static int print_forged_txt(void) {
  mf_kms k;
  mf_user carol;
  prose_rng_det rs;
  prose_rng rng = prose_rng_det_init(&rs, 77);
  if (mf_kms_init(&k, MF_SEED_KMS) || mf_user_init(&carol, &k, MF_CAROL, MF_SEED_CAROL, NULL, 1))
    return 2;
  prose_disc_ann a;
  memset(&a, 0, sizeof a);
  snprintf(a.mcptt_id, sizeof a.mcptt_id, "%s", MF_CAROL);
  snprintf(a.kms_uri, sizeof a.kms_uri, "%s", MF_KMS);
  a.timestamp = MF_T(MF_NOW);
  a.seq = 1;
  a.ttl_ms = 60000;
  a.has_ipv4 = true;
  memcpy(a.ipv4, (uint8_t[]){198, 18, 0, 66}, 4);
  a.call_port = PROSE_DISC_CALL_PORT;
  uint8_t m[PROSE_DISC_MAX_LEN];
  size_t len;
  if (prose_disc_ann_sign(&a, carol.kr, &rng, m, sizeof m, &len)) return 2;
  m[len - PROSE_ECCSI_SIG_LEN + 40] ^= 0x10;
  char b64[2 * PROSE_DISC_MAX_LEN];
  prose_b64_encode(m, len, b64);
  size_t n = strlen(b64);
  printf("v=1");
  for (size_t i = 0; i * PROSE_DISC_AVAHI_CHUNK < n; i++) {
    size_t off = i * PROSE_DISC_AVAHI_CHUNK;
    size_t c = n - off < PROSE_DISC_AVAHI_CHUNK ? n - off : PROSE_DISC_AVAHI_CHUNK;
    printf(" a%zu=%.*s", i, (int)c, b64 + off);
  }
  printf("\n");
  mf_user_free(&carol);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--forged-txt") == 0) return print_forged_txt();
  if (argc < 5) {
    fprintf(stderr, "usage: %s ME PEER PEER_IPV4 MY_IPV4 [TIMEOUT_S] [--expect-forged]\n", argv[0]);
    return 2;
  }
  app a;
  memset(&a, 0, sizeof a);
  uint64_t seed = 0, unused = 0;
  const char *me = user_uri(argv[1], &seed);
  a.peer = user_uri(argv[2], &unused);
  struct in_addr mine;
  if (!me || !a.peer || inet_pton(AF_INET, argv[3], a.peer_ip) != 1 ||
      inet_pton(AF_INET, argv[4], &mine) != 1) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  uint32_t interval_ms = 1500, ttl_ms = 6000;
  a.deadline_ms = 30000;
  for (int i = 5; i < argc; i++) {
    bool has_val = i + 1 < argc;
    if (strcmp(argv[i], "--expect-forged") == 0) {
      a.expect_forged = true;
    } else if (strcmp(argv[i], "--interval") == 0 && has_val) {
      interval_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--ttl") == 0 && has_val) {
      ttl_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--hold") == 0 && has_val) {
      a.hold_ms = 1000u * (uint64_t)strtoul(argv[++i], NULL, 10);
    } else if (i == 5 && argv[i][0] != '-') {
      a.deadline_ms = 1000u * (uint64_t)strtoul(argv[i], NULL, 10);
    } else {
      fprintf(stderr, "bad argument %s\n", argv[i]);
      return 2;
    }
  }
  if (interval_ms == 0) {
    fprintf(stderr, "bad argument: --interval 0\n");
    return 2;
  }
  a.interval_ms = interval_ms;
  a.start_ms = mono_ms();
  setvbuf(stdout, NULL, _IOLBF, 0);

  mf_kms k;
  mf_user u;
  prose_rng_det rs;
  prose_rng rng = prose_rng_det_init(&rs, seed + 1000u);
  if (mf_kms_init(&k, MF_SEED_KMS) || mf_user_init(&u, &k, me, seed, NULL, 1)) return 2;

  prose_disc_settings s;
  prose_disc_settings_default(&s);
  s.kms_uri = MF_KMS;
  s.local.has_ipv4 = true;
  memcpy(s.local.ipv4, &mine, 4);
  /* TXT updates go out as mDNS announcements; every 1.5 s (by default)
   * keeps the test short. */
  s.announce_interval_ms = interval_ms;
  s.announce_ttl_ms = ttl_ms;
  prose_disc_callbacks cb = {on_send, on_event};
  if (prose_disc_new(&a.d, u.kr, &rng, &s, &cb, &a)) return 2;

  a.sp = avahi_simple_poll_new();
  a.poll = avahi_simple_poll_get(a.sp);
  prose_disc_avahi_settings as;
  prose_disc_avahi_settings_default(&as);
  as.now_ms = clock_ms;
  as.now_ntp = clock_ntp;
  as.clock_ud = &a;
  as.fed = count_peer_announcements;
  if (prose_disc_avahi_new(&a.av, a.poll, a.d, &as)) {
    fprintf(stderr, "avahi backend: cannot create the client\n");
    return 2;
  }
  struct timeval tv;
  avahi_elapse_time(&tv, 0, 0);
  a.timer = a.poll->timeout_new(a.poll, &tv, on_timer, &a);

  while (avahi_simple_poll_iterate(a.sp, -1) == 0) {
  }
  report(&a);
  int rc = a.done_ms && !a.missing && !a.lost && a.held_enough ? 0 : 1;
  if (!a.done_ms) printf("FAILED: %s not verified within the timeout\n", a.peer);
  else if (a.missing || a.lost)
    printf("FAILED: %s went missing %u times during the run\n", a.peer, a.missing + a.lost);
  else if (!a.held_enough) printf("FAILED: too few of %s's TXT updates reached us\n", a.peer);
  a.poll->timeout_free(a.timer);
  prose_disc_avahi_free(a.av);
  avahi_simple_poll_free(a.sp);
  prose_disc_free(a.d);
  mf_user_free(&u);
  return rc;
}
