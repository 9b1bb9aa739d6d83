/*
 * prosed: the libuv driver of the node.
 *
 * Pattern (STYLE 4, after ngtcp2's examples): every receive callback feeds
 * the node with uv_now() and the datagram; the node's sends go straight out
 * with uv_udp_try_send (UDP never blocks; a full socket buffer costs a
 * counted drop, which the protocols' retransmissions and the media's
 * real-time nature tolerate); then the one timer is re-armed from
 * prose_node_next_deadline. The timer callback runs prose_node_on_timeout
 * and re-arms the same way.
 *
 * Sockets: for each (kind, port) the node asks for, one socket bound to the
 * own unicast address (the APP sockets: to the application's loopback
 * address). It sends everything of that (kind, port) and receives the
 * unicast traffic. For each multicast group on that port, one more socket
 * bound to the group address (so it gets that group's datagrams only) and
 * joined on the configured interface. Several daemons can then share one
 * host, each on its own 127.0.0.x address, as the demo does.
 *
 * Discovery ([discovery] mode): `multicast` sends and receives the signed
 * announcements on the discovery group; `avahi` publishes them as DNS-SD
 * TXT records through avahi and feeds the browsed ones to the node's
 * discovery engine (prose/discovery_avahi.h, over uv_avahi.h on this loop),
 * and then no discovery socket is opened at all, so nothing of discovery is
 * sent or heard by multicast; `both` does both. The avahi parts exist only
 * when the build found avahi-client (PROSE_HAVE_AVAHI); without them an
 * avahi mode refuses to start.
 *
 * Teardown (libuv handle rules): stop sets `stopping`, lets the node leave,
 * frees the avahi backend, closes the control socket and every handle;
 * memory is freed in the last close callback.
 */
#define _DEFAULT_SOURCE /* struct ip_mreq / IP_MULTICAST_ALL in <netinet/in.h> */
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ctl_server.h"
#ifdef PROSE_HAVE_AVAHI
#include "prose/discovery_avahi.h"
#include "uv_avahi.h"
#endif
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/node.h"
#include "prose/store.h"
#include "prose/util.h"

#define DAEMON_MAX_SOCKS 160
/* Datagrams read per system call (recvmmsg through libuv's UV_UDP_RECVMMSG):
 * libuv gives each a 64 KiB slice of the receive buffer. Batching halves the
 * daemon's CPU per packet at high rates (prose-bench daemon). */
#define DAEMON_RECV_BATCH 16u
#define DAEMON_RECV_SLICE 65536u
#define DAEMON_RECV_BUF (DAEMON_RECV_BATCH * DAEMON_RECV_SLICE)

typedef struct dsock {
  uv_udp_t h;
  prosed_daemon *d;
  prose_node_sock kind;
  uint16_t port;
  int family; /* AF_INET or AF_INET6 */
  bool mcast;
  bool open;
} dsock;

struct prosed_daemon {
  uv_loop_t *loop;
  prosed_config cfg;
  prose_store *store;
  prose_keyring *kr;
  prose_node *node;
  prose_node_settings ns;
  uv_timer_t timer;
  uv_signal_t sig_term, sig_int, sig_hup;
  prosed_ctl *ctl;
  dsock socks[DAEMON_MAX_SOCKS];
  size_t n_socks;
  size_t open_handles; /* handles not yet closed: free when it reaches 0 */
  bool stopping;
  uint64_t started_ms;
  uint64_t rx_errors;
  /* IPv4 address of the multicast interface as text ("" = the kernel's
   * choice): [network] interface as given, or the address of the named
   * interface. */
  char iface[INET6_ADDRSTRLEN];
  /* IPv6 multicast goes by interface index: [network] interface as named,
   * or the interface that owns the configured IPv4 address ("" / 0 = the
   * kernel's choice). */
  char ifname[IF_NAMESIZE];
  unsigned ifindex;
  bool mcast_loop; /* IP_MULTICAST_LOOP on our sending sockets ([network] multicast_loop) */
  /* Dual stack: the announcements also go to and are heard on this IPv6
   * group ([discovery] group6); family NONE otherwise. */
  prose_node_addr disc6;
#ifdef PROSE_HAVE_AVAHI
  prosed_uv_avahi *uvav; /* the AvahiPoll over this loop (avahi modes) */
  prose_disc_avahi *av;  /* DNS-SD publishing and browsing (avahi modes) */
#endif
  char err[2048];
  /* Receive buffer, in DAEMON_RECV_SLICE slices: 16-octet aligned (the
   * media layer wants 4). */
  _Alignas(16) uint8_t rxbuf[DAEMON_RECV_BUF];
};

/* ---- logging ------------------------------------------------------------ */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void dlog(const prosed_daemon *d, prosed_log_level lvl, const char *fmt, ...) {
  if (lvl > d->cfg.log.level) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "prosed[%s] %s: ", d->cfg.identity.uri, prosed_log_level_name(lvl));
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ---- time --------------------------------------------------------------- */

static uint64_t wall_ntp(void *ud, uint64_t now_ms) {
  (void)ud;
  (void)now_ms;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec + PROSE_NTP_UNIX_OFFSET;
}

static void on_timer(uv_timer_t *t);

static void rearm(prosed_daemon *d) {
  if (d->stopping || !d->node) return;
  uint64_t dl = prose_node_next_deadline(d->node);
  if (dl == UINT64_MAX) {
    uv_timer_stop(&d->timer);
    return;
  }
  uint64_t now = uv_now(d->loop);
  uv_timer_start(&d->timer, on_timer, dl > now ? dl - now : 0, 0);
}

static void on_timer(uv_timer_t *t) {
  prosed_daemon *d = t->data;
  if (d->stopping) return;
  uv_update_time(d->loop);
  prose_node_on_timeout(d->node, uv_now(d->loop));
  rearm(d);
}

static bool disc_multicast(const prosed_daemon *d) {
  return (d->cfg.discovery.mode & PROSED_DISCOVERY_MULTICAST) != 0;
}

static bool disc_avahi(const prosed_daemon *d) {
  return (d->cfg.discovery.mode & PROSED_DISCOVERY_AVAHI) != 0;
}

/* ---- addresses ---------------------------------------------------------- */

static void to_node_addr(const struct sockaddr *sa, prose_node_addr *out) {
  memset(out, 0, sizeof *out);
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    out->family = PROSE_DISC_AF_IPV4;
    memcpy(out->ip, &in->sin_addr, 4);
    out->port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
    out->family = PROSE_DISC_AF_IPV6;
    memcpy(out->ip, &in6->sin6_addr, 16);
    out->port = ntohs(in6->sin6_port);
  }
}

static int to_sockaddr(const prose_node_addr *a, uint16_t port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (a->family == PROSE_DISC_AF_IPV4) {
    struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;
    in->sin_family = AF_INET;
    memcpy(&in->sin_addr, a->ip, 4);
    in->sin_port = htons(port);
    return 0;
  }
  if (a->family == PROSE_DISC_AF_IPV6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;
    in6->sin6_family = AF_INET6;
    memcpy(&in6->sin6_addr, a->ip, 16);
    in6->sin6_port = htons(port);
    return 0;
  }
  return PROSE_EINVAL;
}

static void cfg_to_node_addr(const prosed_addr *c, prose_node_addr *out) {
  memset(out, 0, sizeof *out);
  if (c->family == PROSED_AF_INET) {
    out->family = PROSE_DISC_AF_IPV4;
    memcpy(out->ip, c->octets, 4);
  } else if (c->family == PROSED_AF_INET6) {
    out->family = PROSE_DISC_AF_IPV6;
    memcpy(out->ip, c->octets, 16);
  }
}

/* ---- sockets -------------------------------------------------------------- */

static int sa_family_of(const prose_node_addr *a) {
  return a->family == PROSE_DISC_AF_IPV6 ? AF_INET6 : a->family == PROSE_DISC_AF_IPV4 ? AF_INET : 0;
}

static dsock *find_sock(prosed_daemon *d, prose_node_sock kind, uint16_t port, bool mcast,
                        int family) {
  for (size_t i = 0; i < d->n_socks; i++)
    if (d->socks[i].open && d->socks[i].kind == kind && d->socks[i].port == port &&
        d->socks[i].mcast == mcast && d->socks[i].family == family)
      return &d->socks[i];
  return NULL;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  dsock *s = h->data;
  buf->base = (char *)s->d->rxbuf;
  buf->len = sizeof s->d->rxbuf;
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags) {
  dsock *s = h->data;
  prosed_daemon *d = s->d;
  /* The end of a recvmmsg batch: the buffer is ours, nothing to free. */
  if (flags & UV_UDP_MMSG_FREE) return;
  if (nread < 0) {
    d->rx_errors++;
    return;
  }
  /* nread == 0 with no address: libuv says "nothing more to read". */
  if (nread == 0 && addr == NULL) return;
  if (d->stopping || !addr) return;
  if (flags & UV_UDP_PARTIAL) {
    d->rx_errors++; /* truncated: larger than any datagram prose sends */
    return;
  }
  prose_node_addr from;
  to_node_addr(addr, &from);
  /* buf is this datagram's slice of rxbuf (a batch fills several). */
  prose_node_recv(d->node, uv_now(d->loop), s->kind, s->port, &from, (const uint8_t *)buf->base,
                  (size_t)nread);
  rearm(d);
}

static int send_from(prosed_daemon *d, prose_node_sock kind, uint16_t local_port,
                     const prose_node_addr *to, const uint8_t *bytes, size_t len) {
  /* The socket of the destination's family: IPv4 and IPv6 are separate. */
  dsock *s = find_sock(d, kind, local_port, false, sa_family_of(to));
  struct sockaddr_storage ss;
  if (!s || to_sockaddr(to, to->port, &ss) != 0) return PROSE_EINVAL;
  if (to->family == PROSE_DISC_AF_IPV6 && d->ifindex &&
      (IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)(void *)&ss)->sin6_addr) ||
       IN6_IS_ADDR_MC_LINKLOCAL(&((struct sockaddr_in6 *)(void *)&ss)->sin6_addr)))
    ((struct sockaddr_in6 *)(void *)&ss)->sin6_scope_id = d->ifindex;
  uv_buf_t b = uv_buf_init((char *)(uintptr_t)bytes, (unsigned)len);
  int rc = uv_udp_try_send(&s->h, &b, 1, (const struct sockaddr *)&ss);
  return rc == (int)len ? 0 : PROSE_EIO;
}

static int node_send_cb(void *ud, prose_node_sock kind, uint16_t local_port,
                        const prose_node_addr *to, const uint8_t *bytes, size_t len) {
  prosed_daemon *d = ud;
  if (kind == PROSE_SOCK_DISC) {
    /* Every announcement (the leave at stop too) also becomes the TXT
     * record; with avahi alone there is no discovery socket to send from. */
    int av_rc = 0;
#ifdef PROSE_HAVE_AVAHI
    if (d->av) av_rc = prose_disc_avahi_publish(d->av, bytes, len);
#endif
    if (!disc_multicast(d)) return av_rc;
    /* Dual stack: the same announcement on the IPv6 group too, for the
     * nodes that only have IPv6. */
    if (d->disc6.family == PROSE_DISC_AF_IPV6) {
      prose_node_addr g6 = d->disc6;
      (void)send_from(d, kind, local_port, &g6, bytes, len);
    }
  }
  return send_from(d, kind, local_port, to, bytes, len);
}

static const char *kind_name(prose_node_sock k) {
  switch (k) {
    case PROSE_SOCK_CALL:
      return "call";
    case PROSE_SOCK_DISC:
      return "discovery";
    case PROSE_SOCK_MEDIA:
      return "media";
    case PROSE_SOCK_FLOOR:
      return "floor";
    case PROSE_SOCK_APP:
      return "app";
  }
  return "?";
}

/* IPv6 multicast options straight on the descriptor: libuv names the
 * interface of IPv6 membership and IPV6_MULTICAST_IF in ways that changed
 * between versions; the index is what the kernel takes. */
static int v6_join(dsock *s, const prose_node_addr *group, unsigned ifindex) {
  uv_os_fd_t fd;
  if (uv_fileno((const uv_handle_t *)&s->h, &fd) != 0) return UV_EBADF;
  struct ipv6_mreq mr;
  memset(&mr, 0, sizeof mr);
  memcpy(&mr.ipv6mr_multiaddr, group->ip, 16);
  mr.ipv6mr_interface = ifindex;
  if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof mr) != 0)
    return uv_translate_sys_error(errno);
  return 0;
}

static int v6_mcast_if(dsock *s, unsigned ifindex) {
  uv_os_fd_t fd;
  if (uv_fileno((const uv_handle_t *)&s->h, &fd) != 0) return UV_EBADF;
  if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex) != 0)
    return uv_translate_sys_error(errno);
  return 0;
}

/* Open one socket. Multicast: bound to the group address and joined on the
 * configured interface; unicast: bound to the own address of `family` (APP:
 * the application's loopback address). IPv6 sockets are IPv6-only, so they
 * share port numbers with the IPv4 ones. */
static int open_sock(prosed_daemon *d, prose_node_sock kind, uint16_t port,
                     const prose_node_addr *mcast, int family) {
  prose_node_addr bind_addr;
  if (mcast)
    bind_addr = *mcast;
  else if (kind == PROSE_SOCK_APP)
    bind_addr = d->ns.app_addr;
  else
    bind_addr = family == AF_INET6 ? d->ns.unicast6 : d->ns.unicast4;
  family = sa_family_of(&bind_addr);
  if (find_sock(d, kind, port, mcast != NULL, family)) return 0;
  if (d->n_socks == DAEMON_MAX_SOCKS) return PROSE_ERANGE;
  struct sockaddr_storage ss;
  if (to_sockaddr(&bind_addr, port, &ss) != 0) {
    snprintf(d->err, sizeof d->err, "%s socket port %u: no %s address to bind", kind_name(kind),
             port, family == AF_INET6 ? "IPv6" : "IPv4");
    return PROSE_ECONFIG;
  }
  if (family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;
    /* Link-scoped addresses need their link to bind. */
    if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) || IN6_IS_ADDR_MC_LINKLOCAL(&in6->sin6_addr))
      in6->sin6_scope_id = d->ifindex;
  }
  dsock *s = &d->socks[d->n_socks];
  memset(s, 0, sizeof *s);
  s->d = d;
  s->kind = kind;
  s->port = port;
  s->family = family;
  s->mcast = mcast != NULL;
  int rc = uv_udp_init_ex(d->loop, &s->h, (unsigned)family | UV_UDP_RECVMMSG);
  if (rc) return PROSE_EIO;
  s->h.data = s;
  s->open = true;
  d->n_socks++;
  d->open_handles++;
  unsigned flags = UV_UDP_REUSEADDR | (family == AF_INET6 ? UV_UDP_IPV6ONLY : 0u);
  rc = uv_udp_bind(&s->h, (const struct sockaddr *)&ss, flags);
  if (rc) {
    char text[INET6_ADDRSTRLEN] = "?";
    inet_ntop(family, bind_addr.ip, text, sizeof text);
    snprintf(d->err, sizeof d->err, "%s socket %s port %u: bind: %s", kind_name(kind), text, port,
             uv_strerror(rc));
    return PROSE_EIO;
  }
  if (mcast) {
    char group[INET6_ADDRSTRLEN];
    inet_ntop(family, mcast->ip, group, sizeof group);
    const char *where;
    if (family == AF_INET6) {
      where = d->ifname[0] ? d->ifname : NULL;
      rc = v6_join(s, mcast, d->ifindex);
    } else {
      where = d->iface[0] ? d->iface : NULL;
      rc = uv_udp_set_membership(&s->h, group, where, UV_JOIN_GROUP);
    }
    if (rc) {
      snprintf(d->err, sizeof d->err, "join %s on %s: %s", group, where ? where : "default",
               uv_strerror(rc));
      return PROSE_EIO;
    }
  } else if (kind != PROSE_SOCK_APP) {
    /* Multicast we send leaves through the configured interface only (in the
     * root namespace, naming it keeps test traffic on the loopback). */
    if (family == AF_INET6) {
      if (d->ifindex && (rc = v6_mcast_if(s, d->ifindex)) != 0) {
        snprintf(d->err, sizeof d->err, "IPv6 multicast interface %s: %s", d->ifname,
                 uv_strerror(rc));
        return PROSE_EIO;
      }
    } else if (d->iface[0] && (rc = uv_udp_set_multicast_interface(&s->h, d->iface)) != 0) {
      snprintf(d->err, sizeof d->err, "multicast interface %s: %s", d->iface, uv_strerror(rc));
      return PROSE_EIO;
    }
    /* Hop limit / TTL and loop: libuv picks the IPv6 options on an IPv6 handle. */
    uv_udp_set_multicast_loop(&s->h, d->mcast_loop ? 1 : 0);
    uv_udp_set_multicast_ttl(&s->h, d->cfg.network.ttl);
    uv_udp_set_ttl(&s->h, d->cfg.network.ttl);
  }
  rc = uv_udp_recv_start(&s->h, on_alloc, on_recv);
  return rc ? PROSE_EIO : 0;
}

static bool want_v4(const prosed_daemon *d) { return d->ns.unicast4.family == PROSE_DISC_AF_IPV4; }
static bool want_v6(const prosed_daemon *d) { return d->ns.unicast6.family == PROSE_DISC_AF_IPV6; }

/* The multicast interface. IPv4: libuv names it by its IPv4 address, so a
 * configured interface name is turned into the first IPv4 address the
 * interface has (ignoring the name instead would let multicast follow the
 * default route, off the machine in the root namespace: docs/config.md).
 * IPv6: by interface index, of the named interface or of the one owning the
 * configured IPv4 address. */
static int resolve_iface(prosed_daemon *d) {
  const prosed_config *c = &d->cfg;
  d->iface[0] = '\0';
  d->ifname[0] = '\0';
  d->ifindex = 0;
  bool by_addr = c->network.interface_addr.family == PROSED_AF_INET;
  if (by_addr) snprintf(d->iface, sizeof d->iface, "%s", c->network.interface_addr.text);
  if (!by_addr && !c->network.interface_name[0]) return 0;
  if (!by_addr) snprintf(d->ifname, sizeof d->ifname, "%s", c->network.interface_name);
  bool need4 = !by_addr && want_v4(d), need6 = by_addr && want_v6(d);
  if (need4 || need6) {
    struct ifaddrs *all = NULL;
    if (getifaddrs(&all) != 0) {
      snprintf(d->err, sizeof d->err, "interface %s: cannot list interfaces",
               by_addr ? d->iface : d->ifname);
      return PROSE_EIO;
    }
    for (const struct ifaddrs *i = all; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
      const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)i->ifa_addr;
      if (need4 && strcmp(i->ifa_name, d->ifname) == 0) {
        inet_ntop(AF_INET, &in->sin_addr, d->iface, sizeof d->iface);
        break;
      }
      if (need6 && memcmp(&in->sin_addr, c->network.interface_addr.octets, 4) == 0) {
        snprintf(d->ifname, sizeof d->ifname, "%s", i->ifa_name);
        break;
      }
    }
    freeifaddrs(all);
    if (need4 && !d->iface[0]) {
      snprintf(d->err, sizeof d->err, "interface %s: no such interface with an IPv4 address",
               d->ifname);
      return PROSE_ECONFIG;
    }
    if (need6 && !d->ifname[0]) {
      snprintf(d->err, sizeof d->err, "interface %s: no interface has this address", d->iface);
      return PROSE_ECONFIG;
    }
  }
  if (want_v6(d) && d->ifname[0] && (d->ifindex = if_nametoindex(d->ifname)) == 0) {
    snprintf(d->err, sizeof d->err, "interface %s: no such interface", d->ifname);
    return PROSE_ECONFIG;
  }
  return 0;
}

/* [network] multicast_loop = auto: is the multicast interface a loopback
 * one (several daemons on one host then hear each other only through the
 * loop)? No interface named: keep the loop, we cannot tell. */
static bool iface_is_loopback(const prosed_daemon *d) {
  if (!d->ifname[0] && !d->iface[0]) return true;
  struct ifaddrs *all = NULL;
  if (getifaddrs(&all) != 0) return true;
  bool loop = true, found = false;
  for (const struct ifaddrs *i = all; i && !found; i = i->ifa_next) {
    bool match = d->ifname[0] && strcmp(i->ifa_name, d->ifname) == 0;
    if (!match && !d->ifname[0] && i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
      char text[INET_ADDRSTRLEN];
      const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)i->ifa_addr;
      match = inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) && strcmp(text, d->iface) == 0;
    }
    if (match) {
      found = true;
      loop = (i->ifa_flags & IFF_LOOPBACK) != 0;
    }
  }
  freeifaddrs(all);
  return loop;
}

typedef struct sock_ctx {
  prosed_daemon *d;
  int rc;
} sock_ctx;

/* The unicast sockets of (kind, port): one per own address family. */
static int open_unicast(prosed_daemon *d, prose_node_sock kind, uint16_t port) {
  int rc = 0;
  if (want_v4(d)) rc = open_sock(d, kind, port, NULL, AF_INET);
  if (!rc && want_v6(d)) rc = open_sock(d, kind, port, NULL, AF_INET6);
  return rc;
}

static void sock_fn(void *ud, prose_node_sock kind, uint16_t port, const prose_node_addr *mcast) {
  sock_ctx *c = ud;
  if (c->rc) return;
  /* Without multicast discovery nothing is sent to or heard from the
   * discovery group: avahi carries the announcements. */
  if (kind == PROSE_SOCK_DISC && !disc_multicast(c->d)) return;
  if (kind == PROSE_SOCK_APP) {
    c->rc = open_sock(c->d, kind, port, mcast, 0);
    return;
  }
  /* A multicast listener also needs the unicast socket(s) it sends from. */
  c->rc = open_unicast(c->d, kind, port);
  if (!c->rc && mcast) {
    int fam = sa_family_of(mcast);
    if ((fam == AF_INET6 && !want_v6(c->d)) || (fam == AF_INET && !want_v4(c->d))) {
      char text[INET6_ADDRSTRLEN] = "?";
      inet_ntop(fam ? fam : AF_INET, mcast->ip, text, sizeof text);
      snprintf(c->d->err, sizeof c->d->err,
               "%s group %s: [network] address has no %s address to send from", kind_name(kind),
               text, fam == AF_INET6 ? "IPv6" : "IPv4");
      c->rc = PROSE_ECONFIG;
      return;
    }
    c->rc = open_sock(c->d, kind, port, mcast, fam);
  }
  if (!c->rc && kind == PROSE_SOCK_DISC && c->d->disc6.family == PROSE_DISC_AF_IPV6)
    c->rc = open_sock(c->d, kind, c->d->disc6.port, &c->d->disc6, AF_INET6);
}

/* ---- configuration -> node settings ------------------------------------------ */

static void map_settings(prosed_daemon *d) {
  const prosed_config *c = &d->cfg;
  prose_node_settings *s = &d->ns;
  prose_node_settings_default(s);
  s->uri = c->identity.uri;
  s->kms_uri = c->identity.kms_uri;
  cfg_to_node_addr(&c->network.address4, &s->unicast4);
  if (c->network.ipv6) cfg_to_node_addr(&c->network.address6, &s->unicast6);
  cfg_to_node_addr(&c->discovery.group, &s->disc_mcast);
  memset(&d->disc6, 0, sizeof d->disc6);
  if (s->unicast6.family == PROSE_DISC_AF_IPV6 && c->discovery.group6.family == PROSED_AF_INET6) {
    /* IPv6 only: announce on group6; dual stack: on both groups. */
    if (s->unicast4.family == PROSE_DISC_AF_IPV4)
      cfg_to_node_addr(&c->discovery.group6, &d->disc6);
    else
      cfg_to_node_addr(&c->discovery.group6, &s->disc_mcast);
  }
  s->disc_mcast.port = c->discovery.port;
  d->disc6.port = c->discovery.port;
  s->call_port = c->network.call_port;
  /* Call slot 0 of [media] belongs to private calls, slots 1.. to the groups. */
  s->private_audio_port = c->media.rtp_port_base;
  s->private_floor_port = (uint16_t)(c->media.rtp_port_base + 2u);
  s->private_app_port = c->media.app_port_base;
  cfg_to_node_addr(&c->media.app_address, &s->app_addr);
  s->n_groups = c->n_groups < PROSE_NODE_MAX_GROUPS ? c->n_groups : PROSE_NODE_MAX_GROUPS;
  for (size_t i = 0; i < s->n_groups; i++) {
    const prosed_group_config *g = &c->groups[i];
    s->groups[i].id = g->id;
    cfg_to_node_addr(&g->address, &s->groups[i].mcast);
    s->groups[i].media_port = g->media_port;
    s->groups[i].floor_port = g->floor_port;
    s->groups[i].app_port = (uint16_t)(c->media.app_port_base + 4u * (i + 1u));
  }
  prose_floor_settings *f = &s->floor;
  f->timer_ms[PROSE_FLOOR_T201] = c->floor.t201_ms;
  f->timer_ms[PROSE_FLOOR_T203] = c->floor.t203_ms;
  f->timer_ms[PROSE_FLOOR_T204] = c->floor.t204_ms;
  f->timer_ms[PROSE_FLOOR_T205] = c->floor.t205_ms;
  f->timer_ms[PROSE_FLOOR_T206] = c->floor.t206_ms;
  f->timer_ms[PROSE_FLOOR_T207] = c->floor.t207_ms;
  f->timer_ms[PROSE_FLOOR_T230] = c->floor.t230_ms;
  f->timer_ms[PROSE_FLOOR_T233] = c->floor.t233_ms;
  f->counter_max[PROSE_FLOOR_C201] = c->floor.c201;
  f->counter_max[PROSE_FLOOR_C204] = c->floor.c204;
  f->counter_max[PROSE_FLOOR_C205] = c->floor.c205;
  f->priority = c->floor.priority;
  f->queueing = c->floor.queueing;
  if (c->floor.queue_max >= 1 && c->floor.queue_max <= PROSE_FLOOR_QUEUE_MAX)
    f->queue_capacity = (uint8_t)c->floor.queue_max;
  prose_call_settings *k = &s->call;
  k->tfg1 = c->call.tfg1_ms;
  k->tfg3 = c->call.tfg3_ms;
  k->tfg4 = c->call.tfg4_ms;
  k->tfg5 = c->call.tfg5_ms;
  k->tfg11 = c->call.tfg11_ms;
  k->tfg12 = c->call.tfg12_ms;
  k->tfg13 = c->call.tfg13_ms;
  k->tfg14 = c->call.tfg14_ms;
  k->tfb2 = c->call.tfb2_ms;
  k->tfb3 = c->call.tfb3_ms;
  k->tfe1 = c->call.tfe1_ms;
  k->tfe2 = c->call.tfe2_ms;
  k->tfp1 = c->call.tfp1_ms;
  k->tfp2 = c->call.tfp2_ms;
  k->tfp3 = c->call.tfp3_ms;
  k->tfp4 = c->call.tfp4_ms;
  k->tfp6 = c->call.tfp6_ms;
  k->tfp7 = c->call.tfp7_ms;
  k->cfg11 = c->call.cfg11;
  k->cfg12 = c->call.cfg12;
  k->cfp1 = c->call.cfp1;
  k->cfp3 = c->call.cfp3;
  k->cfp4 = c->call.cfp4;
  k->cfp6 = c->call.cfp6;
  k->refresh_interval =
      (uint16_t)(c->call.refresh_interval_ms > 65535u ? 65535u : c->call.refresh_interval_ms);
  k->group_max_duration_s = c->call.max_duration_ms / 1000u;
  k->private_max_duration_s = c->call.tfp5_ms / 1000u;
  k->broadcast_max_duration_s = c->call.tfb1_ms / 1000u;
  k->user_ack_required = c->call.user_ack;
  k->confirm_mode = c->call.confirm_mode;
  s->auto_accept_private = c->call.auto_accept;
  s->app_symmetric = c->media.app_symmetric;
  k->floor_queueing = c->floor.queueing;
  k->floor_priority = c->floor.priority;
  k->payload_type = c->media.payload_type;
  s->disc.announce_interval_ms = c->discovery.announce_interval_ms;
  s->disc.announce_ttl_ms = c->discovery.announce_ttl_ms;
  s->disc.max_skew_ms = c->discovery.max_skew_ms;
  s->disc.max_peers = c->discovery.max_peers;
}

/* The store's only KMS when the configuration names none. */
static int only_kms_cb(void *ud, const prose_store_item *it) {
  char *out = ud;
  if (it->kind != PROSE_ITEM_KMS) return 0;
  if (out[0]) return PROSE_ECONFIG; /* several: the configuration must say which */
  snprintf(out, PROSED_CONFIG_URI_MAX + 1, "%s", it->uri);
  return 0;
}

/* ---- node events -> log and control socket -------------------------------------- */

static const char *event_name(prose_node_event_type t) {
  switch (t) {
    case PROSE_NODE_EV_PEER:
      return "peer";
    case PROSE_NODE_EV_CALL_STATE:
      return "call_state";
    case PROSE_NODE_EV_CALL_STARTED:
      return "call_started";
    case PROSE_NODE_EV_CALL_ENDED:
      return "call_ended";
    case PROSE_NODE_EV_INCOMING:
      return "incoming";
    case PROSE_NODE_EV_FLOOR:
      return "floor";
    case PROSE_NODE_EV_TALKER:
      return "talker";
    case PROSE_NODE_EV_GRANTED:
      return "granted";
    case PROSE_NODE_EV_DENIED:
      return "denied";
    case PROSE_NODE_EV_REVOKED:
      return "revoked";
    case PROSE_NODE_EV_QUEUED:
      return "queued";
    case PROSE_NODE_EV_ALERT:
      return "alert";
    case PROSE_NODE_EV_ERROR:
      return "error";
  }
  return "event";
}

static void set_str(json_t *o, const char *k, const char *v) {
  if (v) json_object_set_new(o, k, json_string(v));
}

static void node_event_cb(void *ud, const prose_node_event *ev) {
  prosed_daemon *d = ud;
  json_t *o = json_object();
  set_str(o, "group", ev->group);
  set_str(o, "peer", ev->peer);
  set_str(o, "from", ev->state_from);
  set_str(o, "to", ev->state_to);
  set_str(o, "trigger", ev->trigger);
  set_str(o, "talker", ev->talker);
  set_str(o, "text", ev->text);
  if (ev->err) set_str(o, "error", prose_err_name(ev->err));
  if (ev->type == PROSE_NODE_EV_DENIED || ev->type == PROSE_NODE_EV_CALL_ENDED ||
      ev->type == PROSE_NODE_EV_QUEUED)
    json_object_set_new(o, "reason", json_integer(ev->reason));
  json_object_set_new(o, "t_ms", json_integer((json_int_t)(ev->now - d->started_ms)));
  /* CLOCK_MONOTONIC (uv_hrtime) in microseconds: one clock for every daemon
   * on the machine, so a client of several can put their events in order. */
  json_object_set_new(o, "mono_us", json_integer((json_int_t)(uv_hrtime() / 1000u)));
  char *line = json_dumps(o, JSON_COMPACT);
  prosed_log_level lvl = ev->type == PROSE_NODE_EV_ERROR ? PROSED_LOG_WARN : PROSED_LOG_INFO;
  if (ev->type == PROSE_NODE_EV_CALL_STATE || ev->type == PROSE_NODE_EV_FLOOR) lvl = PROSED_LOG_DEBUG;
  if (line) dlog(d, lvl, "%s %s", event_name(ev->type), line);
  free(line);
  if (d->ctl) prosed_ctl_emit(d->ctl, event_name(ev->type), o);
  json_decref(o);
}

/* ---- control socket commands ------------------------------------------------ */

static json_t *addr_json(const prose_node_addr *a) {
  char text[64] = "";
  if (a->family == PROSE_DISC_AF_IPV4)
    inet_ntop(AF_INET, a->ip, text, sizeof text);
  else if (a->family == PROSE_DISC_AF_IPV6)
    inet_ntop(AF_INET6, a->ip, text, sizeof text);
  return json_string(text);
}

static json_t *calls_json(const prosed_daemon *d) {
  json_t *arr = json_array();
  prose_node_call_info ci;
  for (size_t i = 0; prose_node_call_at(d->node, i, &ci); i++) {
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(ci.private_call ? "private" : "group"));
    set_str(o, "group", ci.group);
    set_str(o, "peer", ci.peer);
    set_str(o, "id", ci.private_call ? ci.peer : ci.group);
    set_str(o, "state", ci.call_state);
    set_str(o, "floor", ci.floor_state);
    set_str(o, "talker", ci.talker);
    json_object_set_new(o, "active", json_boolean(ci.active));
    json_object_set_new(o, "may_send_media", json_boolean(ci.may_send_media));
    if (ci.has_call_id) json_object_set_new(o, "call_id", json_integer(ci.call_id));
    json_array_append_new(arr, o);
  }
  return arr;
}

static json_t *peers_json(const prosed_daemon *d) {
  json_t *arr = json_array();
  const prose_disc *disc = prose_node_discovery(d->node);
  size_t it = 0;
  const prose_disc_peer *p;
  uint64_t now = uv_now(d->loop);
  while ((p = prose_disc_next_peer(disc, &it)) != NULL) {
    json_t *o = json_object();
    prose_node_addr a;
    memset(&a, 0, sizeof a);
    a.family = p->ann.has_ipv4 ? PROSE_DISC_AF_IPV4 : PROSE_DISC_AF_IPV6;
    memcpy(a.ip, p->ann.has_ipv4 ? p->ann.ipv4 : p->ann.ipv6, p->ann.has_ipv4 ? 4 : 16);
    set_str(o, "uri", p->ann.mcptt_id);
    set_str(o, "kms", p->ann.kms_uri);
    json_object_set_new(o, "address", addr_json(&a));
    json_object_set_new(o, "call_port", json_integer(p->ann.call_port));
    json_object_set_new(o, "key_period", json_integer(p->ann.period_no));
    json_object_set_new(o, "seen_ms_ago",
                        json_integer((json_int_t)(now > p->last_seen_ms ? now - p->last_seen_ms : 0)));
    json_array_append_new(arr, o);
  }
  return arr;
}

static json_t *counters_json(const prosed_daemon *d) {
  const prose_node_counters *c = prose_node_get_counters(d->node);
  json_t *o = json_object();
#define CTR(name) json_object_set_new(o, #name, json_integer((json_int_t)c->name))
  CTR(rx_dgrams);
  CTR(tx_dgrams);
  CTR(tx_failed);
  CTR(rx_bad_sock);
  CTR(rx_own);
  CTR(rx_no_call);
  CTR(call_rx_errors);
  CTR(call_tx_no_peer);
  CTR(floor_rx_errors);
  CTR(app_rx);
  CTR(app_dropped_no_floor);
  CTR(app_dropped_no_call);
  CTR(app_dropped_bad);
  CTR(app_dropped_foreign);
  CTR(media_tx);
  CTR(media_rx);
  CTR(media_to_app);
  CTR(key_mgmt_failed);
  CTR(no_gmk);
#undef CTR
  json_t *m = json_object();
#define MCTR(name) json_object_set_new(m, #name, json_integer((json_int_t)c->media.name))
  MCTR(drop_malformed);
  MCTR(drop_unknown_mki);
  MCTR(drop_no_key);
  MCTR(drop_auth);
  MCTR(drop_replay);
#undef MCTR
  json_object_set_new(o, "media_drops", m);
  /* Discovery's rejections per reason: garbage and replays on the
   * discovery port show up here and nowhere else. */
  const prose_disc_stats *ds = prose_disc_get_stats(prose_node_discovery(d->node));
  json_t *dj = json_object();
#define DCTR(name) json_object_set_new(dj, #name, json_integer((json_int_t)ds->name))
  DCTR(rx);
  DCTR(accepted);
  DCTR(own);
  DCTR(rej_malformed);
  DCTR(rej_unknown_kms);
  DCTR(rej_period);
  DCTR(rej_time);
  DCTR(rej_sig);
  DCTR(rej_replay);
  DCTR(src_mismatch);
#undef DCTR
  json_object_set_new(o, "discovery", dj);
  /* The control socket's own refusals (bad requests, too many clients,
   * overlong lines, clients too slow to read). */
  if (d->ctl) {
    prosed_ctl_stats cs;
    prosed_ctl_get_stats(d->ctl, &cs);
    json_t *cj = json_object();
    json_object_set_new(cj, "accepted", json_integer((json_int_t)cs.accepted));
    json_object_set_new(cj, "refused", json_integer((json_int_t)cs.refused));
    json_object_set_new(cj, "requests", json_integer((json_int_t)cs.requests));
    json_object_set_new(cj, "errors", json_integer((json_int_t)cs.errors));
    json_object_set_new(cj, "overlong", json_integer((json_int_t)cs.overlong));
    json_object_set_new(cj, "dropped_slow", json_integer((json_int_t)cs.dropped_slow));
    json_object_set_new(cj, "clients", json_integer((json_int_t)cs.clients));
    json_object_set_new(cj, "subscribers", json_integer((json_int_t)cs.subscribers));
    json_object_set_new(o, "control", cj);
  }
#ifdef PROSE_HAVE_AVAHI
  if (d->av) {
    const prose_disc_avahi_stats *as = prose_disc_avahi_get_stats(d->av);
    json_t *aj = json_object();
#define ACTR(name) json_object_set_new(aj, #name, json_integer((json_int_t)as->name))
    ACTR(resolved);
    ACTR(txt_seen);
    ACTR(refreshed);
    ACTR(fed);
    ACTR(accepted);
    ACTR(duplicate);
    ACTR(bad_txt);
    ACTR(published);
    ACTR(collisions);
    ACTR(last_error);
#undef ACTR
    json_object_set_new(aj, "running", json_boolean(as->running));
    json_object_set_new(o, "avahi", aj);
  }
#endif
  json_object_set_new(o, "socket_rx_errors", json_integer((json_int_t)d->rx_errors));
  return o;
}

static int keys_list_cb(void *ud, const prose_store_item *it) {
  json_t *arr = ud;
  if (it->kind != PROSE_ITEM_KEYSET && it->kind != PROSE_ITEM_GMK && it->kind != PROSE_ITEM_KMS)
    return 0;
  json_t *o = json_object();
  char id[16];
  set_str(o, "kind", prose_store_item_kind_name(it->kind));
  set_str(o, "state", prose_store_state_name(it->state));
  set_str(o, "uri", it->uri);
  set_str(o, "group", it->group_id && *it->group_id ? it->group_id : NULL);
  if (it->kind == PROSE_ITEM_KEYSET) json_object_set_new(o, "period", json_integer((json_int_t)it->period_no));
  if (it->kind == PROSE_ITEM_GMK) {
    snprintf(id, sizeof id, "%08x", it->key_id);
    set_str(o, "gmk_id", id);
  }
  json_array_append_new(arr, o);
  return 0;
}

/* A group as the control socket names it: its [group NAME] or its MCPTT
 * group ID. NULL when the configuration has no such group. */
static const char *group_id_of(const prosed_daemon *d, const char *name) {
  for (size_t i = 0; i < d->cfg.n_groups; i++)
    if (strcmp(d->cfg.groups[i].name, name) == 0 || strcmp(d->cfg.groups[i].id, name) == 0)
      return d->cfg.groups[i].id;
  return NULL;
}

/* The call a request names (docs/control.md): `group` (name or ID) or `call`
 * (an id from `calls`: a group ID, or the private call's peer URI). Neither:
 * both NULL, the node's current call. */
static int named_call(const prosed_daemon *d, const prosed_ctl_req *req, const char **group,
                      const char **peer, char *msg, size_t msglen) {
  *group = *peer = NULL;
  if (req->group) {
    if ((*group = group_id_of(d, req->group)) == NULL) {
      snprintf(msg, msglen, "no group %s", req->group);
      return PROSE_ENOENT;
    }
  } else if (req->call) {
    if ((*group = group_id_of(d, req->call)) == NULL) *peer = req->call;
  }
  return 0;
}

static int ctl_handle(void *ud, const prosed_ctl_req *req, json_t **result, char *msg,
                      size_t msglen) {
  prosed_daemon *d = ud;
  uint64_t now = uv_now(d->loop);
  int rc = 0;
  const char *group = NULL, *peer = NULL;
  switch (req->cmd) {
    case PROSED_CTL_STATUS: {
      json_t *o = json_object();
      set_str(o, "uri", d->cfg.identity.uri);
      set_str(o, "kms", d->ns.kms_uri);
      json_object_set_new(o, "uptime_ms", json_integer((json_int_t)(now - d->started_ms)));
      json_object_set_new(o, "peers", json_integer((json_int_t)prose_disc_peer_count(
                                          prose_node_discovery(d->node))));
      json_object_set_new(o, "calls", calls_json(d));
      *result = o;
      break;
    }
    case PROSED_CTL_PEERS:
      *result = json_pack("{s:o}", "peers", peers_json(d));
      break;
    case PROSED_CTL_GROUPS: {
      json_t *arr = json_array();
      for (size_t i = 0; i < d->ns.n_groups; i++) {
        json_t *o = json_object();
        set_str(o, "id", d->ns.groups[i].id);
        json_object_set_new(o, "address", addr_json(&d->ns.groups[i].mcast));
        json_object_set_new(o, "media_port", json_integer(d->ns.groups[i].media_port));
        json_object_set_new(o, "floor_port", json_integer(d->ns.groups[i].floor_port));
        json_object_set_new(o, "app_port", json_integer(d->ns.groups[i].app_port));
        json_array_append_new(arr, o);
      }
      *result = json_pack("{s:o}", "groups", arr);
      break;
    }
    case PROSED_CTL_CALLS:
      *result = json_pack("{s:o}", "calls", calls_json(d));
      break;
    case PROSED_CTL_KEYS: {
      json_t *arr = json_array();
      rc = prose_store_list(d->store, wall_ntp(d, now), keys_list_cb, arr);
      if (rc) json_decref(arr);
      else *result = json_pack("{s:o}", "keys", arr);
      break;
    }
    case PROSED_CTL_COUNTERS:
      *result = counters_json(d);
      break;
    case PROSED_CTL_CALL_GROUP: {
      static const prose_monp_call_type types[] = {
          [PROSED_CALL_BASIC] = PROSE_MONP_CALL_BASIC_GROUP,
          [PROSED_CALL_EMERGENCY] = PROSE_MONP_CALL_EMERGENCY_GROUP,
          [PROSED_CALL_IMMINENT_PERIL] = PROSE_MONP_CALL_IMMINENT_PERIL_GROUP,
          [PROSED_CALL_BROADCAST] = PROSE_MONP_CALL_BROADCAST_GROUP};
      if ((group = group_id_of(d, req->group)) == NULL) {
        snprintf(msg, msglen, "no group %s", req->group);
        rc = PROSE_ENOENT;
        break;
      }
      rc = prose_node_call_group(d->node, now, group, types[req->type]);
      break;
    }
    case PROSED_CTL_CALL_PRIVATE: {
      bool manual = req->commencement < 0 ? d->cfg.call.commencement == PROSED_COMMENCE_MANUAL
                                          : req->commencement == PROSED_COMMENCE_MANUAL;
      rc = prose_node_call_private(d->node, now, req->uri, manual, req->emergency);
      break;
    }
    case PROSED_CTL_PTT_PRESS:
    case PROSED_CTL_PTT_RELEASE:
      if ((rc = named_call(d, req, &group, &peer, msg, msglen)) != 0) break;
      /* PTT on the private call makes it the current call. */
      if (peer && (rc = prose_node_select(d->node, NULL, peer)) != 0) {
        snprintf(msg, msglen, "no private call with %s", peer);
        break;
      }
      rc = req->cmd == PROSED_CTL_PTT_PRESS
               ? prose_node_ptt_press(d->node, now, group, req->priority)
               : prose_node_ptt_release(d->node, now, group);
      break;
    case PROSED_CTL_ACCEPT:
    case PROSED_CTL_REJECT: {
      if ((rc = named_call(d, req, &group, &peer, msg, msglen)) != 0) break;
      const char *ringing = prose_node_ringing(d->node);
      if (group) {
        snprintf(msg, msglen, "group calls are joined with call_group, not answered");
        rc = PROSE_EINVAL;
      } else if (ringing == NULL || (peer && strcmp(peer, ringing) != 0)) {
        snprintf(msg, msglen, "no private call%s%s is ringing", peer ? " from " : "",
                 peer ? peer : "");
        rc = PROSE_ENOENT;
      } else {
        rc = req->cmd == PROSED_CTL_ACCEPT ? prose_node_accept(d->node, now)
                                           : prose_node_reject(d->node, now);
      }
      break;
    }
    case PROSED_CTL_HANGUP:
      if ((rc = named_call(d, req, &group, &peer, msg, msglen)) != 0) break;
      rc = group || peer ? prose_node_hangup_call(d->node, now, group, peer)
                         : prose_node_hangup(d->node, now);
      if (rc == PROSE_ENOENT && msg[0] == '\0')
        snprintf(msg, msglen, "no call %s", group ? group : peer);
      break;
    case PROSED_CTL_N_CMDS:
      rc = PROSE_EINVAL;
      break;
  }
  rearm(d);
  return rc;
}

static void ctl_log(void *ud, prosed_log_level level, const char *msg) {
  dlog(ud, level, "control: %s", msg);
}

/* ---- signals and teardown ------------------------------------------------ */

static void handle_done(prosed_daemon *d) {
  if (--d->open_handles == 0) {
    prose_wipe(d->rxbuf, sizeof d->rxbuf);
    free(d);
  }
}

static void on_closed(uv_handle_t *h) {
  prosed_daemon *d = h->data;
  if (h->type == UV_UDP) d = ((dsock *)h->data)->d;
  handle_done(d);
}

#ifdef PROSE_HAVE_AVAHI
/* The avahi adapter counts as one handle until all of its handles closed. */
static void uvav_closed(void *arg) { handle_done(arg); }
#endif

static void ctl_closed(void *arg) { (void)arg; }

void prosed_daemon_stop(prosed_daemon *d) {
  if (d->stopping) return;
  d->stopping = true;
  dlog(d, PROSED_LOG_INFO, "stopping");
  uv_update_time(d->loop);
  /* The node says goodbye (a TTL-0 announcement, releases) while the
   * sockets are still open; subscribers get the final counters (the
   * goodbye's datagrams included: nothing is sent after this); then the
   * node wipes its keys. */
  if (d->node) {
    prose_node_leave(d->node, uv_now(d->loop));
    json_t *c = d->ctl ? counters_json(d) : NULL;
    json_t *f = c ? json_object() : NULL;
    if (!f) json_decref(c);
    else if (json_object_set_new(f, "counters", c) == 0) /* takes c either way */
      (void)prosed_ctl_emit(d->ctl, "stopped", f);
    json_decref(f);
  }
  if (d->node) prose_node_free(d->node, uv_now(d->loop));
  d->node = NULL;
#ifdef PROSE_HAVE_AVAHI
  /* After the node (its leave announcement is published too), and the
   * client before its poll: freeing the client withdraws the service and
   * frees its watches and timeouts. The adapter closes what is left. */
  prose_disc_avahi_free(d->av);
  d->av = NULL;
  if (d->uvav) {
    d->open_handles++;
    prosed_uv_avahi_close(d->uvav, uvav_closed, d);
    d->uvav = NULL;
  }
#endif
  prose_keyring_free(d->kr);
  d->kr = NULL;
  prose_store_close(d->store);
  d->store = NULL;
  if (d->ctl) prosed_ctl_close(d->ctl, ctl_closed, NULL);
  d->ctl = NULL;
  for (size_t i = 0; i < d->n_socks; i++)
    if (d->socks[i].open) uv_close((uv_handle_t *)&d->socks[i].h, on_closed);
  uv_close((uv_handle_t *)&d->timer, on_closed);
  uv_close((uv_handle_t *)&d->sig_term, on_closed);
  uv_close((uv_handle_t *)&d->sig_int, on_closed);
  uv_close((uv_handle_t *)&d->sig_hup, on_closed);
}

static void on_signal(uv_signal_t *s, int signum) {
  prosed_daemon *d = s->data;
  if (signum != SIGHUP) {
    prosed_daemon_stop(d);
    return;
  }
  /* SIGHUP: load key sets imported since start (a new key period, a rekey
   * bundle). GMKs are read from the store when a call starts or rekeys. */
  prose_diag diag;
  prose_diag_clear(&diag);
  uv_update_time(d->loop);
  int rc = prose_store_load_keyring(d->store, d->kr, wall_ntp(d, uv_now(d->loop)), &diag);
  if (rc)
    dlog(d, PROSED_LOG_WARN, "reload: %s (%s)", diag.msg[0] ? diag.msg : prose_strerror(rc),
         prose_err_name(rc));
  else
    dlog(d, PROSED_LOG_INFO, "reloaded keys");
}

/* ---- start ----------------------------------------------------------------- */

static int open_keys(prosed_daemon *d) {
  prose_store_settings ss;
  prose_diag diag;
  char *pass = NULL;
  size_t pass_len = 0;
  int rc;
  prose_store_settings_default(&ss);
  prose_diag_clear(&diag);
  if (d->cfg.identity.passphrase_file[0]) {
    FILE *f = fopen(d->cfg.identity.passphrase_file, "r");
    char line[1024];
    if (!f || !fgets(line, sizeof line, f)) {
      if (f) fclose(f);
      snprintf(d->err, sizeof d->err, "%s: cannot read the passphrase",
               d->cfg.identity.passphrase_file);
      return PROSE_ECONFIG;
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    pass_len = strlen(line);
    pass = malloc(pass_len + 1);
    if (pass) memcpy(pass, line, pass_len + 1);
    prose_wipe(line, sizeof line);
    if (!pass) return PROSE_ENOMEM;
    ss.passphrase = pass;
    ss.passphrase_len = pass_len;
  }
  rc = prose_store_open(&d->store, d->cfg.identity.store, &ss, &diag);
  if (pass) prose_free_secret(pass, pass_len + 1);
  if (rc) {
    snprintf(d->err, sizeof d->err, "store %s: %s (%s)", d->cfg.identity.store,
             diag.msg[0] ? diag.msg : prose_strerror(rc), prose_err_name(rc));
    return rc;
  }
  if (!d->cfg.identity.kms_uri[0]) {
    rc = prose_store_list(d->store, 0, only_kms_cb, d->cfg.identity.kms_uri);
    if (rc || !d->cfg.identity.kms_uri[0]) {
      snprintf(d->err, sizeof d->err,
               "store %s: %s; set [identity] kms_uri", d->cfg.identity.store,
               rc ? "holds several KMS certificates" : "holds no KMS certificate");
      return PROSE_ECONFIG;
    }
  }
  rc = prose_keyring_new(&d->kr, d->cfg.identity.uri, NULL);
  if (!rc) rc = prose_store_load_keyring(d->store, d->kr, wall_ntp(d, 0), &diag);
  if (rc)
    snprintf(d->err, sizeof d->err, "keys of %s: %s (%s)", d->cfg.identity.uri,
             diag.msg[0] ? diag.msg : prose_strerror(rc), prose_err_name(rc));
  return rc;
}

#ifdef PROSE_HAVE_AVAHI
static uint64_t av_now_ms(void *ud) {
  prosed_daemon *d = ud;
  return uv_now(d->loop);
}

/* NTP 32.32 from the realtime clock, as prose_disc_recv wants it. */
static uint64_t av_now_ntp(void *ud) {
  (void)ud;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t frac = ((uint64_t)ts.tv_nsec << 32) / 1000000000u;
  return (((uint64_t)ts.tv_sec + PROSE_NTP_UNIX_OFFSET) << 32) | frac;
}

/* A browsed announcement reached the engine: a new peer can move the
 * engine's next deadline (its expiry), so the timer follows. */
static void av_fed(void *ud, int rc) {
  (void)rc;
  rearm(ud);
}
#endif

/* Connect to avahi on this loop and feed the node's discovery engine. A
 * missing avahi daemon is no error: the backend waits for it. */
static int start_avahi(prosed_daemon *d) {
#ifdef PROSE_HAVE_AVAHI
  d->uvav = prosed_uv_avahi_new(d->loop);
  if (!d->uvav) return PROSE_ENOMEM;
  prose_disc_avahi_settings as;
  prose_disc_avahi_settings_default(&as);
  as.now_ms = av_now_ms;
  as.now_ntp = av_now_ntp;
  as.clock_ud = d;
  as.fed = av_fed;
  int rc = prose_disc_avahi_new(&d->av, prosed_uv_avahi_poll(d->uvav),
                                prose_node_discovery_mut(d->node), &as);
  if (rc) {
    d->av = NULL;
    snprintf(d->err, sizeof d->err, "avahi: %s (%s)", prose_strerror(rc), prose_err_name(rc));
  }
  return rc;
#else
  snprintf(d->err, sizeof d->err,
           "[discovery] mode %s: this prosed was built without avahi-client",
           prosed_discovery_mode_name(d->cfg.discovery.mode));
  return PROSE_ECONFIG;
#endif
}

int prosed_daemon_start(uv_loop_t *loop, const prosed_config *cfg, prosed_daemon **out, char *err,
                        size_t errlen) {
  prosed_daemon *d = calloc(1, sizeof *d);
  if (!d) return PROSE_ENOMEM;
  d->loop = loop;
  d->cfg = *cfg;
  d->started_ms = uv_now(loop);
  int rc = open_keys(d);
  if (!rc) {
    map_settings(d);
    d->ns.store = d->store;
    d->ns.keyring = d->kr;
    d->ns.rng = prose_rng_system();
  }
  /* Handles first (they must be closed even if a later step fails). */
  uv_timer_init(loop, &d->timer);
  d->timer.data = d;
  uv_signal_init(loop, &d->sig_term);
  uv_signal_init(loop, &d->sig_int);
  uv_signal_init(loop, &d->sig_hup);
  d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
  d->open_handles += 4;
  if (!rc) rc = resolve_iface(d);
  if (!rc) {
    switch (d->cfg.network.multicast_loop) {
      case PROSED_MLOOP_ON: d->mcast_loop = true; break;
      case PROSED_MLOOP_OFF: d->mcast_loop = false; break;
      case PROSED_MLOOP_AUTO: d->mcast_loop = iface_is_loopback(d); break;
    }
    dlog(d, PROSED_LOG_INFO, "multicast loop %s%s", d->mcast_loop ? "on" : "off",
         d->cfg.network.multicast_loop == PROSED_MLOOP_AUTO
             ? (d->mcast_loop ? " (auto: loopback or no interface named)"
                              : " (auto: not a loopback interface)")
             : "");
  }
  if (!rc) {
    sock_ctx sc = {d, 0};
    prose_node_sockets(&d->ns, sock_fn, &sc);
    rc = sc.rc;
    if (rc && !d->err[0]) snprintf(d->err, sizeof d->err, "sockets: %s", prose_strerror(rc));
  }
  if (!rc) {
    prose_node_callbacks cb = {node_send_cb, node_event_cb, wall_ntp};
    rc = prose_node_new(&d->node, &d->ns, &cb, d, uv_now(loop));
    if (rc) snprintf(d->err, sizeof d->err, "node: %s (%s)", prose_strerror(rc), prose_err_name(rc));
  }
  if (!rc && disc_avahi(d)) rc = start_avahi(d);
  if (!rc && d->cfg.control.socket[0]) {
    prosed_ctl_settings cs;
    prosed_ctl_settings_default(&cs);
    cs.path = d->cfg.control.socket;
    cs.max_clients = d->cfg.control.max_clients;
    prosed_ctl_ops ops = {ctl_handle, ctl_log};
    rc = prosed_ctl_start(loop, &cs, &ops, d, &d->ctl, d->err, sizeof d->err);
  }
  if (rc) {
    if (err) snprintf(err, errlen, "%s", d->err[0] ? d->err : prose_strerror(rc));
    prosed_daemon_stop(d);
    return rc;
  }
  uv_timer_start(&d->timer, on_timer, 0, 0);
  uv_signal_start(&d->sig_term, on_signal, SIGTERM);
  uv_signal_start(&d->sig_int, on_signal, SIGINT);
  uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
  dlog(d, PROSED_LOG_INFO, "running: %zu sockets, %zu groups, discovery %s, control %s",
       d->n_socks, d->ns.n_groups, prosed_discovery_mode_name(d->cfg.discovery.mode),
       d->cfg.control.socket[0] ? d->cfg.control.socket : "off");
  *out = d;
  return 0;
}
