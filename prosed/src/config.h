/*
 * prosed configuration: one INI file (docs/config.md, examples/prosed.conf).
 *
 * The file names the device's identity and key store, the network it talks
 * on, its groups, and every timer and counter of TS 24.379 off-network call
 * control (DIGEST §7.7) and TS 24.380 floor control (DIGEST §8.4). The loader
 * is strict: an unknown section or key, a repeated key, a malformed or
 * out-of-range value and a missing required key are all errors, reported as
 * one line "FILE:LINE: [section] key: what is wrong (expected ...)", so a typo
 * never silently falls back to a default.
 *
 * The result is plain data: raw timer values in milliseconds and raw counter
 * limits, exactly as configured. Mapping them onto the engines' settings
 * structs is the daemon's job (the engines never see this header).
 *
 * Syntax (a small strict INI dialect, parsed here rather than with inih
 * because inih silently truncates long lines, treats indented lines as
 * continuations and never reports an empty section):
 *  - one item per line, at most PROSED_CONFIG_LINE_MAX octets;
 *  - blank lines, and lines whose first non-blank character is '#' or ';',
 *    are comments; there are no comments after a value;
 *  - "[section]" or "[group NAME]" starts a section;
 *  - "key = value": blanks around the key and the value are dropped;
 *  - section and key names are case-insensitive, group NAMEs are not;
 *  - control characters other than tab are rejected, a UTF-8 BOM is skipped.
 */
#ifndef PROSED_CONFIG_H
#define PROSED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROSED_CONFIG_MAX_GROUPS 64u    /* [group NAME] sections */
#define PROSED_CONFIG_URI_MAX 255u      /* octets of an MCPTT ID or group ID */
#define PROSED_CONFIG_PATH_MAX 1024u    /* octets of a path, with its NUL */
#define PROSED_CONFIG_SOCKET_MAX 108u   /* sun_path of struct sockaddr_un */
#define PROSED_CONFIG_IFNAME_MAX 16u    /* IFNAMSIZ, with the NUL */
#define PROSED_CONFIG_CODEC_MAX 32u     /* "PCMU/8000", with the NUL */
#define PROSED_CONFIG_LINE_MAX 1024u    /* octets of one line */
#define PROSED_CONFIG_FILE_MAX 1048576u /* octets of the whole file */
#define PROSED_CONFIG_ERR_MAX 1024u     /* a buffer that holds any message */
#define PROSED_CONFIG_ADDR_TEXT 46u     /* INET6_ADDRSTRLEN */

/* Address families, spelled out here so this header needs no socket headers. */
typedef enum prosed_addr_family {
  PROSED_AF_NONE = 0, /* not configured */
  PROSED_AF_INET = 4,
  PROSED_AF_INET6 = 6
} prosed_addr_family;

/* An IP address as configured: binary (network order) and canonical text. */
typedef struct prosed_addr {
  prosed_addr_family family;
  uint8_t octets[16]; /* the first 4 for IPv4 */
  char text[PROSED_CONFIG_ADDR_TEXT];
} prosed_addr;

typedef enum prosed_discovery_mode {
  PROSED_DISCOVERY_MULTICAST = 1, /* signed announcements (discovery/) */
  PROSED_DISCOVERY_AVAHI = 2,     /* DNS-SD through avahi */
  PROSED_DISCOVERY_BOTH = 3       /* bit set of the two */
} prosed_discovery_mode;

/* Whether our own multicast comes back to us (IP_MULTICAST_LOOP). */
typedef enum prosed_mcast_loop {
  PROSED_MLOOP_AUTO = 0, /* on for a loopback interface (or none named), off otherwise */
  PROSED_MLOOP_ON,
  PROSED_MLOOP_OFF
} prosed_mcast_loop;

/* TS 24.379 call types a user can start (the Call type IE, DIGEST §7.3). */
typedef enum prosed_call_type {
  PROSED_CALL_BASIC,
  PROSED_CALL_EMERGENCY,
  PROSED_CALL_IMMINENT_PERIL,
  PROSED_CALL_BROADCAST
} prosed_call_type;

/* Commencement mode of private calls (DIGEST §7.3: 0 automatic, 1 manual). */
typedef enum prosed_commencement {
  PROSED_COMMENCE_AUTOMATIC = 0,
  PROSED_COMMENCE_MANUAL = 1
} prosed_commencement;

typedef enum prosed_log_level {
  PROSED_LOG_ERROR,
  PROSED_LOG_WARN,
  PROSED_LOG_INFO,
  PROSED_LOG_DEBUG
} prosed_log_level;

/* [identity] */
typedef struct prosed_identity_config {
  char uri[PROSED_CONFIG_URI_MAX + 1];          /* own MCPTT ID (required) */
  char kms_uri[PROSED_CONFIG_URI_MAX + 1];      /* "" = the store's only KMS */
  char store[PROSED_CONFIG_PATH_MAX];           /* key store directory (required) */
  char passphrase_file[PROSED_CONFIG_PATH_MAX]; /* "" = device key file */
} prosed_identity_config;

/* [network] */
typedef struct prosed_network_config {
  /* Multicast interface: either a name (interface_name) or an IPv4 address
   * (interface_addr); both empty = the kernel's choice. */
  char interface_name[PROSED_CONFIG_IFNAME_MAX];
  prosed_addr interface_addr;
  prosed_addr address4; /* own unicast addresses to announce; */
  prosed_addr address6; /* PROSED_AF_NONE = not configured */
  bool ipv6;            /* also listen and send on IPv6 */
  uint16_t call_port;   /* TS 24.379 call control, 8809 */
  uint8_t ttl;          /* IP TTL / hop limit of what we send, 255 (DIGEST §7.1) */
  prosed_mcast_loop multicast_loop;
} prosed_network_config;

/* [discovery] */
typedef struct prosed_discovery_config {
  prosed_discovery_mode mode;
  prosed_addr group;  /* IPv4 multicast group of announcements */
  prosed_addr group6; /* IPv6 multicast group (used when ipv6 = true) */
  uint16_t port;
  uint32_t announce_interval_ms; /* 0 = listen only */
  uint32_t announce_ttl_ms;
  uint32_t max_skew_ms;
  uint32_t max_peers;
} prosed_discovery_config;

/* [media]: each base starts a range of call slots, PROSED_MEDIA_SLOT_PORTS
 * consecutive ports each (RTP, RTCP, floor control, spare): slot 0 serves
 * private calls, slot k the k-th [group] (k = 1..n_groups), further slots
 * up to max_calls more calls. app_port_base + 4k is where the application
 * sends and receives slot k's plain RTP; rtp_port_base + 4k is its SRTP
 * towards the peers (groups use their own media_port there). The loader
 * checks that the ranges (prosed_config_media_slots slots) fit below 65536
 * and overlap neither each other nor call_port and the discovery port. */
#define PROSED_MEDIA_SLOT_PORTS 4u
typedef struct prosed_media_config {
  prosed_addr app_address; /* where the application's plain RTP lives */
  uint16_t app_port_base;
  uint16_t rtp_port_base;
  uint32_t max_calls;
  uint8_t payload_type;                /* RTP payload type offered in SDP */
  char codec[PROSED_CONFIG_CODEC_MAX]; /* its rtpmap "NAME/RATE[/CHANNELS]" */
  bool app_symmetric; /* application RTP only from app_address, APP port + 1 */
} prosed_media_config;

/* [control] */
typedef struct prosed_control_config {
  char socket[PROSED_CONFIG_SOCKET_MAX];
  uint32_t max_clients;
} prosed_control_config;

/* [floor]: TS 24.380 off-network floor control (DIGEST §8.4), raw values. */
typedef struct prosed_floor_config {
  uint32_t t201_ms, t203_ms, t204_ms, t205_ms, t206_ms, t207_ms, t230_ms, t233_ms;
  uint32_t c201, c204, c205;
  uint8_t priority; /* own floor priority, 0..255 */
  bool queueing;    /* queue requests while arbitrator */
  uint32_t queue_max;
} prosed_floor_config;

/* [call]: TS 24.379 off-network call control (DIGEST §7.7), raw values.
 * TFG2 and TFG6 are computed by the engine from refresh_interval_ms and
 * max_duration_ms; TFP5 is the private call's maximum duration. TFG13 and
 * TFG14 are the basis X of the implicit downgrade timers (24.379
 * 10.2.3.4.1.1): how long an emergency / imminent peril call stays one after
 * its last call type change. */
typedef struct prosed_call_config {
  uint32_t tfg1_ms, tfg3_ms, tfg4_ms, tfg5_ms, tfg11_ms, tfg12_ms, tfg13_ms, tfg14_ms;
  uint32_t refresh_interval_ms, max_duration_ms;
  uint32_t tfp1_ms, tfp2_ms, tfp3_ms, tfp4_ms, tfp5_ms, tfp6_ms, tfp7_ms;
  uint32_t tfe1_ms, tfe2_ms, tfb1_ms, tfb2_ms, tfb3_ms;
  uint32_t cfp1, cfp3, cfp4, cfp6, cfg11, cfg12;
  prosed_commencement commencement; /* private calls we originate */
  bool user_ack;                    /* incoming group calls wait for the user (TFG4) */
  bool confirm_mode;                /* our announcements ask for GROUP CALL ACCEPT */
  bool auto_accept;                 /* accept manual-commencement private calls unasked */
} prosed_call_config;

/* [group NAME] */
typedef struct prosed_group_config {
  char name[PROSED_CONFIG_URI_MAX + 1]; /* NAME from the section line */
  char id[PROSED_CONFIG_URI_MAX + 1];   /* MCPTT group ID (default NAME) */
  prosed_addr address;                  /* multicast, IPv4 or IPv6 (required) */
  uint16_t media_port;                  /* RTP; RTCP is media_port + 1 */
  uint16_t floor_port;                  /* floor control (default media_port + 2) */
  prosed_call_type call_type;           /* type of calls we start in it */
  unsigned line;                        /* line of the section header */
} prosed_group_config;

/* [log] */
typedef struct prosed_log_config {
  prosed_log_level level;
} prosed_log_config;

typedef struct prosed_config {
  prosed_identity_config identity;
  prosed_network_config network;
  prosed_discovery_config discovery;
  prosed_media_config media;
  prosed_control_config control;
  prosed_floor_config floor;
  prosed_call_config call;
  prosed_log_config log;
  size_t n_groups;
  prosed_group_config groups[PROSED_CONFIG_MAX_GROUPS];
} prosed_config;

/* Fill cfg with the documented defaults (docs/config.md). identity.uri and
 * identity.store are left empty: they have no default. */
void prosed_config_default(prosed_config *cfg);

/*
 * Load a configuration file. Relative paths in it are taken relative to the
 * directory of `path`. Nothing is opened but the file itself: whether the
 * store or the passphrase file exist is checked when the daemon uses them.
 *
 * cfg: written only on success (verify, then commit); may be read by a
 *   running daemon while it reloads.
 * err: if not NULL, receives a one-line message without a trailing newline
 *   ("FILE:LINE: [section] key: what is wrong (expected ...)", or
 *   "FILE: missing [section] key (expected ...)"); "" on success.
 *
 * Returns 0, PROSE_ECONFIG (any problem with the file's content or a file
 * that cannot be read), PROSE_EINVAL (NULL path or cfg) or PROSE_ENOMEM.
 */
int prosed_config_load(const char *path, prosed_config *cfg, char *err, size_t errlen);

/*
 * Parse a configuration held in memory (the fuzz target's and the tests'
 * entry point). `name` stands for the file in messages; relative paths are
 * taken relative to base_dir (NULL: kept as written). text need not be
 * NUL-terminated. Same results as prosed_config_load.
 */
int prosed_config_parse(const char *name, const char *text, size_t len, const char *base_dir,
                        prosed_config *cfg, char *err, size_t errlen);

/* Write cfg as a complete configuration file that prosed_config_parse reads
 * back into an equal struct (for `prosed --print-config` and tests).
 * Returns 0 or PROSE_EIO. */
int prosed_config_write(const prosed_config *cfg, FILE *f);

/* Names used in the file and on the control socket ("basic", "manual"...). */
const char *prosed_call_type_name(prosed_call_type t);
const char *prosed_commencement_name(prosed_commencement c);
const char *prosed_discovery_mode_name(prosed_discovery_mode m);
const char *prosed_log_level_name(prosed_log_level l);

/* Parse a call type name ("basic", "emergency", "imminent-peril",
 * "broadcast"); 0 or PROSE_EINVAL. */
int prosed_call_type_parse(const char *s, prosed_call_type *out);

/* Call slots of the [media] ranges: max(max_calls, n_groups + 1). */
uint32_t prosed_config_media_slots(const prosed_config *cfg);

/* Find a group by section NAME or by MCPTT group ID; NULL if none. */
const prosed_group_config *prosed_config_find_group(const prosed_config *cfg, const char *name);

#endif
