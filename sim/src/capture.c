/*
 * What a run leaves behind:
 *
 *  - the trace: one JSON object per line for every node event, user action,
 *    fault and measurement (and, with trace_packets, every datagram sent or
 *    dropped); "t_us" is virtual time in microseconds;
 *  - the trace hash: SHA-256 over every trace line and every datagram on the
 *    wire (time, sender, socket, destination and octets) and every delivery.
 *    Nothing that depends on pointers, hash-table order or the wall clock
 *    goes in, so one scenario and seed always give one hash (the
 *    determinism test relies on it);
 *  - pcap files: every datagram as it left its sender (Ethernet, IPv4, UDP;
 *    timestamps are virtual time from 2024-01-01), and a plaintext twin in
 *    which SRTP and SRTCP are replaced by the RTP and RTCP inside them, so
 *    tshark dissects the media and the floor control (RTCP APP "MCPT").
 *
 * The twin decrypts like a member that holds the keys: an observer media
 * context per group takes the GMK that a packet's MKI names from the
 * sender's own store, and the private call contexts take the PCK that the
 * MKI names from the sender's store while the call runs. It only reads the
 * stores, so it changes nothing the nodes see.
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/util.h"
#include "sim_internal.h"

#define OBS_PRIVATE 16u
#define LINE_MAX_LEN 4096

typedef struct obs_private {
  uint32_t pck_id;
  prose_media_private *as_caller; /* decrypts what the callee sends */
  prose_media_private *as_callee; /* decrypts what the caller sends */
} obs_private;

struct sim_capture {
  EVP_MD_CTX *md;
  FILE *pcap, *plain;
  prose_media_group *obs[PROSE_SIM_MAX_GROUPS];
  size_t obs_node;   /* whose store the lookup reads */
  int obs_group;
  obs_private priv[OBS_PRIVATE];
  size_t priv_next;
  uint64_t undecrypted;
  char line[LINE_MAX_LEN];
  uint32_t buf[(PROSE_NODE_MAX_DGRAM + PROSE_MEDIA_HEADROOM + 3u) / 4u];
};

/* ---- trace and hash ---------------------------------------------------------- */

void sim_json_str(char *out, size_t cap, const char *in) {
  size_t o = 0;
  if (cap == 0) return;
  for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p && o + 7 < cap; p++) {
    if (*p == '"' || *p == '\\') {
      out[o++] = '\\';
      out[o++] = (char)*p;
    } else if (*p < 0x20) {
      o += (size_t)snprintf(out + o, cap - o, "\\u%04x", *p);
    } else {
      out[o++] = (char)*p;
    }
  }
  out[o] = '\0';
}

static void hash(sim *s, const void *p, size_t n) {
  if (s->cap && s->cap->md) EVP_DigestUpdate(s->cap->md, p, n);
}

void sim_trace(sim *s, const char *fmt, ...) {
  struct sim_capture *c = s->cap;
  if (c == NULL) return;
  int n = snprintf(c->line, sizeof c->line, "{\"t_us\":%llu,", (unsigned long long)s->now);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(c->line + n, sizeof c->line - (size_t)n - 2, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0u : (size_t)m);
  if (len > sizeof c->line - 3) len = sizeof c->line - 3;
  c->line[len++] = '}';
  c->line[len++] = '\n';
  c->line[len] = '\0';
  hash(s, c->line, len);
  if (s->opt.trace) fputs(c->line, s->opt.trace);
}

bool sim_tracing_packets(const sim *s) { return s->opt.trace != NULL && s->opt.trace_packets; }

void sim_capture_delivery(sim *s, size_t dst, uint64_t seq) {
  uint64_t rec[3] = {s->now, (uint64_t)dst, seq};
  hash(s, rec, sizeof rec);
}

void sim_capture_hash(sim *s, char out[65]) {
  uint8_t md[32];
  unsigned len = 0;
  out[0] = '\0';
  if (s->cap == NULL || s->cap->md == NULL) return;
  EVP_MD_CTX *copy = EVP_MD_CTX_new();
  if (copy && EVP_MD_CTX_copy_ex(copy, s->cap->md) == 1 && EVP_DigestFinal_ex(copy, md, &len) == 1)
    prose_hex_encode(md, sizeof md, out);
  EVP_MD_CTX_free(copy);
}

/* ---- pcap ------------------------------------------------------------------ */

static void le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static FILE *pcap_open(const char *path) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) return NULL;
  uint8_t h[24];
  le32(h, 0xA1B2C3D4u);
  h[4] = 2, h[5] = 0, h[6] = 4, h[7] = 0; /* version 2.4 */
  le32(h + 8, 0);
  le32(h + 12, 0);
  le32(h + 16, 65535);
  le32(h + 20, 1); /* LINKTYPE_ETHERNET */
  if (fwrite(h, 1, sizeof h, f) != sizeof h) {
    fclose(f);
    return NULL;
  }
  return f;
}

static uint16_t ip_checksum(const uint8_t *h, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i < n; i += 2) sum += (uint32_t)(h[i] << 8 | h[i + 1]);
  while (sum >> 16) sum = (sum & 0xFFFFu) + (sum >> 16);
  return (uint16_t)~sum;
}

static void put_ip(uint8_t *p, uint32_t ip) {
  p[0] = (uint8_t)(ip >> 24), p[1] = (uint8_t)(ip >> 16), p[2] = (uint8_t)(ip >> 8), p[3] = (uint8_t)ip;
}

static void pcap_write(const sim *s, FILE *f, uint32_t src_ip, uint16_t sport, uint32_t dst_ip,
                       uint16_t dport, const uint8_t *payload, size_t n) {
  uint8_t frame[14 + 20 + 8 + PROSE_NODE_MAX_DGRAM + PROSE_MEDIA_HEADROOM];
  if (n > PROSE_NODE_MAX_DGRAM + PROSE_MEDIA_HEADROOM) return;
  memset(frame, 0, 42);
  if ((dst_ip >> 28) == 0xEu) {
    /* RFC 1112: 01:00:5e and the low 23 bits of the group. */
    frame[0] = 0x01, frame[1] = 0x00, frame[2] = 0x5E;
    frame[3] = (uint8_t)((dst_ip >> 16) & 0x7Fu), frame[4] = (uint8_t)(dst_ip >> 8);
    frame[5] = (uint8_t)dst_ip;
  } else {
    frame[0] = 0x02;
    put_ip(frame + 2, dst_ip);
  }
  frame[6] = 0x02;
  put_ip(frame + 8, src_ip);
  frame[12] = 0x08; /* IPv4 */
  uint8_t *ip = frame + 14;
  size_t ip_len = 20 + 8 + n;
  ip[0] = 0x45;
  ip[2] = (uint8_t)(ip_len >> 8), ip[3] = (uint8_t)ip_len;
  ip[8] = 255; /* TTL as the call control sends it */
  ip[9] = 17;  /* UDP */
  put_ip(ip + 12, src_ip);
  put_ip(ip + 16, dst_ip);
  uint16_t ck = ip_checksum(ip, 20);
  ip[10] = (uint8_t)(ck >> 8), ip[11] = (uint8_t)ck;
  uint8_t *udp = ip + 20;
  udp[0] = (uint8_t)(sport >> 8), udp[1] = (uint8_t)sport;
  udp[2] = (uint8_t)(dport >> 8), udp[3] = (uint8_t)dport;
  udp[4] = (uint8_t)((8 + n) >> 8), udp[5] = (uint8_t)(8 + n); /* checksum 0: none */
  memcpy(udp + 8, payload, n);
  uint64_t unix_us = (uint64_t)(SIM_T0_NTP - SIM_NTP_UNIX) * 1000000u + s->now;
  uint8_t rec[16];
  le32(rec, (uint32_t)(unix_us / 1000000u));
  le32(rec + 4, (uint32_t)(unix_us % 1000000u));
  le32(rec + 8, (uint32_t)(42 + n));
  le32(rec + 12, (uint32_t)(42 + n));
  (void)fwrite(rec, 1, sizeof rec, f);
  (void)fwrite(frame, 1, 42 + n, f);
}

/* ---- the observer ------------------------------------------------------------ */

static int obs_lookup(void *user, uint32_t gmk_id, prose_media_key *out) {
  sim *s = user;
  struct sim_capture *c = s->cap;
  const sim_node *nd = &s->nodes[c->obs_node];
  if (nd->store == NULL || c->obs_group < 0) return PROSE_ENOKEY;
  prose_store_gmk k;
  int rc = prose_store_gmk_rx(nd->store, gmk_id, s->sc.groups[c->obs_group].uri, SIM_T0_NTP, &k);
  if (rc == 0 && (k.rand_len < PROSE_MEDIA_RAND_MIN || k.rand_len > PROSE_MEDIA_RAND_MAX))
    rc = PROSE_ENOKEY;
  if (rc == 0) {
    memcpy(out->tgk, k.gmk, sizeof out->tgk);
    out->key_id = k.gmk_id;
    memcpy(out->rand, k.rand, k.rand_len);
    out->rand_len = k.rand_len;
  }
  prose_store_gmk_wipe(&k);
  return rc == PROSE_EEXPIRED ? rc : rc ? PROSE_ENOKEY : 0;
}

static int group_of_port(const sim *s, uint32_t ip, uint16_t port, prose_node_sock sock) {
  for (size_t g = 0; g < s->sc.n_groups; g++) {
    const scn_group *gr = &s->sc.groups[g];
    uint32_t gip = (uint32_t)gr->addr[0] << 24 | (uint32_t)gr->addr[1] << 16 |
                   (uint32_t)gr->addr[2] << 8 | gr->addr[3];
    if (gip == ip && port == (sock == PROSE_SOCK_MEDIA ? gr->media_port : gr->floor_port))
      return (int)g;
  }
  return -1;
}

static obs_private *private_ctx(sim *s, size_t src, uint32_t pck_id) {
  struct sim_capture *c = s->cap;
  for (size_t i = 0; i < OBS_PRIVATE; i++)
    if (c->priv[i].as_caller && c->priv[i].pck_id == pck_id) return &c->priv[i];
  const sim_node *nd = &s->nodes[src];
  prose_store_pck p;
  if (nd->store == NULL || prose_store_pck_get(nd->store, pck_id, SIM_T0_NTP, &p) != 0) return NULL;
  obs_private *o = &c->priv[c->priv_next++ % OBS_PRIVATE];
  prose_media_private_free(o->as_caller);
  prose_media_private_free(o->as_callee);
  memset(o, 0, sizeof *o);
  o->pck_id = pck_id;
  /* The observer never sends; its SSRCs only have to differ from the
   * parties' (random 32-bit values). */
  int rc = prose_media_private_new(p.pck, pck_id, p.rand, p.rand_len, PROSE_MEDIA_CALLER,
                                   0x0B5E0001u, &o->as_caller);
  if (rc == 0)
    rc = prose_media_private_new(p.pck, pck_id, p.rand, p.rand_len, PROSE_MEDIA_CALLEE, 0x0B5E0002u,
                                 &o->as_callee);
  prose_store_pck_wipe(&p);
  if (rc != 0) {
    prose_media_private_free(o->as_caller);
    prose_media_private_free(o->as_callee);
    memset(o, 0, sizeof *o);
    return NULL;
  }
  return o;
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Decrypt a copy of bytes into the capture buffer; the plaintext length or 0. */
static size_t decrypt(sim *s, size_t src, prose_node_sock sock, uint32_t to_ip, uint16_t port,
                      const uint8_t *bytes, size_t len) {
  struct sim_capture *c = s->cap;
  uint8_t *buf = (uint8_t *)c->buf;
  size_t out = 0;
  bool rtp = sock == PROSE_SOCK_MEDIA;
  int g = group_of_port(s, to_ip, port, sock);
  if (len > PROSE_NODE_MAX_DGRAM || len < 8) return 0;
  memcpy(buf, bytes, len);
  if (g >= 0) {
    if (c->obs[g] == NULL) {
      prose_media_group_config cfg = {obs_lookup, NULL, s, 0};
      if (prose_media_group_new(&cfg, &c->obs[g]) != 0) return 0;
    }
    c->obs_node = src;
    c->obs_group = g;
    int rc = rtp ? prose_media_group_unprotect_rtp(c->obs[g], buf, len, &out, NULL)
                 : prose_media_group_unprotect_rtcp(c->obs[g], buf, len, &out, NULL);
    return rc == 0 ? out : 0;
  }
  obs_private *o = private_ctx(s, src, rd32(bytes + len - 4));
  if (o == NULL) return 0;
  prose_media_private *first = o->as_callee, *second = o->as_caller;
  int rc = rtp ? prose_media_private_unprotect_rtp(first, buf, len, &out)
               : prose_media_private_unprotect_rtcp(first, buf, len, &out);
  if (rc != 0) {
    memcpy(buf, bytes, len);
    rc = rtp ? prose_media_private_unprotect_rtp(second, buf, len, &out)
             : prose_media_private_unprotect_rtcp(second, buf, len, &out);
  }
  return rc == 0 ? out : 0;
}

void sim_capture_wire(sim *s, size_t src, prose_node_sock sock, uint16_t local_port,
                      const prose_node_addr *to, const uint8_t *bytes, size_t len) {
  struct sim_capture *c = s->cap;
  uint64_t rec[5] = {s->now, (uint64_t)src, (uint64_t)sock << 16 | local_port,
                     (uint64_t)sim_ip_of(to) << 16 | to->port, (uint64_t)len};
  hash(s, rec, sizeof rec);
  hash(s, bytes, len);
  if (sim_tracing_packets(s))
    sim_trace(s, "\"ev\":\"tx\",\"node\":\"%s\",\"sock\":%d,\"port\":%u,\"to_port\":%u,\"len\":%zu",
              s->sc.nodes[src].name, (int)sock, local_port, to->port, len);
  if (c == NULL) return;
  uint32_t sip = s->nodes[src].ip, dip = sim_ip_of(to);
  if (c->pcap) pcap_write(s, c->pcap, sip, local_port, dip, to->port, bytes, len);
  if (c->plain == NULL) return;
  if (sock == PROSE_SOCK_MEDIA || sock == PROSE_SOCK_FLOOR) {
    size_t n = decrypt(s, src, sock, dip, to->port, bytes, len);
    if (n > 0) {
      pcap_write(s, c->plain, sip, local_port, dip, to->port, (const uint8_t *)c->buf, n);
      prose_wipe(c->buf, n);
      return;
    }
    c->undecrypted++;
  }
  pcap_write(s, c->plain, sip, local_port, dip, to->port, bytes, len);
}

/* ---- life cycle ------------------------------------------------------------ */

int sim_capture_open(sim *s) {
  struct sim_capture *c = calloc(1, sizeof *c);
  if (c == NULL) return PROSE_ENOMEM;
  s->cap = c;
  c->obs_group = -1;
  c->md = EVP_MD_CTX_new();
  if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) return PROSE_ECRYPTO;
  if (s->opt.pcap_path && (c->pcap = pcap_open(s->opt.pcap_path)) == NULL) {
    if (s->err) snprintf(s->err, s->err_cap, "%s: cannot write", s->opt.pcap_path);
    return PROSE_EIO;
  }
  if (s->opt.pcap_plain_path && (c->plain = pcap_open(s->opt.pcap_plain_path)) == NULL) {
    if (s->err) snprintf(s->err, s->err_cap, "%s: cannot write", s->opt.pcap_plain_path);
    return PROSE_EIO;
  }
  return 0;
}

void sim_capture_close(sim *s) {
  struct sim_capture *c = s->cap;
  if (c == NULL) return;
  if (c->pcap) fclose(c->pcap);
  if (c->plain) fclose(c->plain);
  if (c->undecrypted && s->opt.log)
    fprintf(s->opt.log, "prose sim: %llu media/floor datagrams left encrypted in the plain pcap\n",
            (unsigned long long)c->undecrypted);
  for (size_t g = 0; g < PROSE_SIM_MAX_GROUPS; g++) prose_media_group_free(c->obs[g]);
  for (size_t i = 0; i < OBS_PRIVATE; i++) {
    prose_media_private_free(c->priv[i].as_caller);
    prose_media_private_free(c->priv[i].as_callee);
  }
  EVP_MD_CTX_free(c->md);
  prose_wipe(c->buf, sizeof c->buf);
  free(c);
  s->cap = NULL;
}
