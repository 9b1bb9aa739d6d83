/*
 * SDP (RFC 4566) for off-network MCPTT calls: the offer and answer carried in
 * GROUP CALL ANNOUNCEMENT / BROADCAST, PRIVATE CALL SETUP REQUEST and
 * PRIVATE CALL ACCEPT (TS 24.379 10.2.1, 11.2.1; DIGEST §7.1).
 *
 * Only what these calls use is modelled: one connection address, one audio
 * stream (RTP/AVP, one payload type, optional a=rtcp port) and the floor
 * control stream "m=application <port> udp MCPTT" with
 * "a=fmtp:MCPTT mc_queueing;mc_priority=N" (24.380). The private call key
 * travels as "a=key-mgmt:mikey <base64 I_MESSAGE>" (RFC 4567, DESIGN.md §3).
 *
 * Built text is deterministic (the same struct gives the same octets):
 *
 *   v=0
 *   o=- <sess_id> <sess_version> IN IP4|IP6 <addr>
 *   s=-
 *   c=IN IP4|IP6 <addr>
 *   t=0 0
 *   [a=key-mgmt:mikey <base64>]                  (session level)
 *   m=audio <audio_port> RTP/AVP <payload_type>
 *   i=speech
 *   [a=rtpmap:<payload_type> <codec>/<clock_rate>]
 *   [a=rtcp:<audio_rtcp_port>]
 *   [m=application <floor_port> udp MCPTT
 *    [a=fmtp:MCPTT [mc_queueing][;][mc_priority=<n>]]]
 *
 * with CRLF line ends. Parsing is strict and bounded, since SDP arrives from
 * peers: every line is "<letter>=<value>" with a type letter RFC 4566 knows,
 * v, o and s come first in that order, numbers are range-checked, the body,
 * each line and the key are size-limited. Unknown attributes and media
 * sections other than the first audio and the first "udp MCPTT" application
 * stream are ignored, as RFC 4566 §5 asks. The key may sit at session level
 * or in the audio section; LF line ends and a missing final line end are
 * accepted.
 */
#ifndef PROSE_SDP_H
#define PROSE_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROSE_SDP_MAX 4096u        /* whole body, octets (= PROSE_MONP_SDP_MAX) */
#define PROSE_SDP_LINE_MAX 3072u   /* one line, without its line end */
#define PROSE_SDP_KEYMGMT_MAX 2048u /* decoded a=key-mgmt payload (an I_MESSAGE) */
#define PROSE_SDP_ADDR_MAX 46u     /* INET6_ADDRSTRLEN */
#define PROSE_SDP_CODEC_MAX 32u
#define PROSE_SDP_MAX_FORMATS 32u  /* payload types on one m= line */

typedef struct prose_sdp {
  uint64_t sess_id;
  uint64_t sess_version;
  char addr[PROSE_SDP_ADDR_MAX]; /* connection address, NUL-terminated */
  bool ipv6;
  uint16_t audio_port;
  uint16_t audio_rtcp_port; /* 0: RTCP on audio_port + 1 (no a=rtcp line) */
  uint8_t payload_type;     /* the first format of m=audio, 0..127 */
  char codec[PROSE_SDP_CODEC_MAX]; /* a=rtpmap encoding name; "" when absent */
  uint32_t clock_rate;             /* a=rtpmap clock rate; 0 when absent */
  bool has_floor;                  /* an "m=application <port> udp MCPTT" line */
  uint16_t floor_port;
  bool mc_queueing;
  bool has_mc_priority;
  uint8_t mc_priority;
  bool has_key_mgmt;
  size_t key_mgmt_len;
  uint8_t key_mgmt[PROSE_SDP_KEYMGMT_MAX]; /* the decoded I_MESSAGE */
} prose_sdp;

/*
 * Write the SDP of *s into out[cap] (NUL-terminated; *len excludes the NUL).
 * Returns 0 or PROSE_EINVAL (NULL argument, addr not an IPv4/IPv6 address of
 * the family ipv6 says, codec with characters other than [A-Za-z0-9._-],
 * payload type above 127, key_mgmt_len above PROSE_SDP_KEYMGMT_MAX or zero
 * with has_key_mgmt), PROSE_EBUFSZ (out too small; PROSE_SDP_MAX always fits
 * a valid struct).
 */
int prose_sdp_build(const prose_sdp *s, char *out, size_t cap, size_t *len);

/*
 * Parse text[len] (need not be NUL-terminated) into *s (zeroed first).
 * Returns 0 or:
 *   PROSE_EINVAL        NULL argument;
 *   PROSE_ESDP_LIMIT    body above PROSE_SDP_MAX, a line above
 *                       PROSE_SDP_LINE_MAX, too many formats, a codec name
 *                       or a decoded key above its limit;
 *   PROSE_ESDP_SYNTAX   a line not of the form <letter>=<value>, an empty
 *                       line, a control character, an unknown type letter,
 *                       a repeated v/o/s/t line, a malformed field list;
 *   PROSE_ESDP_MISSING  no v= first, o= second, s= third, no t=, no c= for
 *                       the audio stream, no m=audio;
 *   PROSE_ESDP_VALUE    v other than 0, network type other than IN, address
 *                       type other than IP4/IP6 or an address that does not
 *                       parse as one, a port or number out of range, an
 *                       audio transport other than RTP/AVP or RTP/SAVP, a
 *                       payload type above 127, mc_priority above 255;
 *   PROSE_ESDP_KEYMGMT  a=key-mgmt:mikey without data, with malformed base64,
 *                       or twice.
 */
int prose_sdp_parse(const char *text, size_t len, prose_sdp *s);

#endif
