/*
 * KMS XML writer: a KmsResponse in the layout of DIGEST §1.3, children in
 * the documented order. Everything is built in a prose__sbuf, which wipes
 * its memory, because key sets are written as hex.
 */
#include <string.h>

#include "prose/err.h"
#include "prose/kmsxml.h"
#include "store_internal.h"

static bool text_ok(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) return false;
  return true;
}

static void open_el(prose__sbuf *b, int indent, const char *name) {
  for (int i = 0; i < indent; i++) prose__sbuf_str(b, "  ");
  prose__sbuf_str(b, "<");
  prose__sbuf_str(b, name);
  prose__sbuf_str(b, ">");
}

static void close_el(prose__sbuf *b, const char *name) {
  prose__sbuf_str(b, "</");
  prose__sbuf_str(b, name);
  prose__sbuf_str(b, ">\n");
}

static void el_str(prose__sbuf *b, int indent, const char *name, const char *v) {
  open_el(b, indent, name);
  prose__sbuf_xml(b, v);
  close_el(b, name);
}

static void el_u64(prose__sbuf *b, int indent, const char *name, uint64_t v) {
  open_el(b, indent, name);
  prose__sbuf_u64(b, v);
  close_el(b, name);
}

static void el_hex(prose__sbuf *b, int indent, const char *name, const uint8_t *p, size_t n) {
  open_el(b, indent, name);
  prose__sbuf_hex(b, p, n);
  close_el(b, name);
}

static void el_time(prose__sbuf *b, int indent, const char *name, uint64_t ntp) {
  char ts[21];
  prose_kmsxml_format_time(ntp, ts);
  el_str(b, indent, name, ts);
}

static void write_cert(prose__sbuf *b, const prose_kmsxml_cert *c) {
  prose__sbuf_str(b, "      <KmsCertificate Version=\"1.1.0\" Role=\"");
  prose__sbuf_str(b, c->role == PROSE_KMSXML_ROLE_EXTERNAL ? "External" : "Root");
  prose__sbuf_str(b, "\">\n");
  if (c->cert_uri[0]) el_str(b, 4, "CertUri", c->cert_uri);
  el_str(b, 4, "KmsUri", c->kms_uri);
  if (c->issuer[0]) el_str(b, 4, "Issuer", c->issuer);
  if (c->has_valid_from) el_time(b, 4, "ValidFrom", c->valid_from);
  if (c->has_valid_to) el_time(b, 4, "ValidTo", c->valid_to);
  el_str(b, 4, "Revoked", c->revoked ? "true" : "false");
  el_u64(b, 4, "UserIdFormat", c->user_id_format);
  el_u64(b, 4, "UserKeyPeriod", c->period);
  el_u64(b, 4, "UserKeyOffset", c->offset);
  el_hex(b, 4, "PubEncKey", c->z, sizeof c->z);
  el_hex(b, 4, "PubAuthKey", c->kpak, sizeof c->kpak);
  el_u64(b, 4, "ParameterSet", c->param_set ? c->param_set : 1);
  prose__sbuf_str(b, "      </KmsCertificate>\n");
}

static void write_keyset(prose__sbuf *b, const prose_kmsxml_keyset *k) {
  prose__sbuf_str(b, "      <KmsKeySet Version=\"1.1.0\">\n");
  el_str(b, 4, "KmsUri", k->kms_uri);
  if (k->cert_uri[0]) el_str(b, 4, "CertUri", k->cert_uri);
  if (k->issuer[0]) el_str(b, 4, "Issuer", k->issuer);
  el_str(b, 4, "UserUri", k->user_uri);
  el_hex(b, 4, "UserID", k->uid, sizeof k->uid);
  if (k->has_valid_from) el_time(b, 4, "ValidFrom", k->valid_from);
  if (k->has_valid_to) el_time(b, 4, "ValidTo", k->valid_to);
  el_u64(b, 4, "KeyPeriodNo", k->period_no);
  el_str(b, 4, "Revoked", k->revoked ? "true" : "false");
  el_hex(b, 4, "UserDecryptKey", k->rsk, sizeof k->rsk);
  el_hex(b, 4, "UserSigningKeySSK", k->ssk, sizeof k->ssk);
  el_hex(b, 4, "UserPubTokenPVT", k->pvt, sizeof k->pvt);
  prose__sbuf_str(b, "      </KmsKeySet>\n");
}

static bool doc_ok(const prose_kmsxml_doc *doc) {
  if (!text_ok(doc->user_uri) || !text_ok(doc->kms_uri) || !text_ok(doc->client_req_url))
    return false;
  for (size_t i = 0; i < doc->n_certs; i++) {
    const prose_kmsxml_cert *c = &doc->certs[i];
    if (!c->kms_uri[0] || !text_ok(c->kms_uri) || !text_ok(c->cert_uri) || !text_ok(c->issuer))
      return false;
  }
  for (size_t i = 0; i < doc->n_keysets; i++) {
    const prose_kmsxml_keyset *k = &doc->keysets[i];
    if (!k->kms_uri[0] || !k->user_uri[0] || !text_ok(k->kms_uri) || !text_ok(k->user_uri) ||
        !text_ok(k->cert_uri) || !text_ok(k->issuer))
      return false;
  }
  return true;
}

int prose_kmsxml_write(const prose_kmsxml_doc *doc, char **out, size_t *out_len) {
  if (!doc || !out || !out_len) return PROSE_EINVAL;
  if ((doc->n_certs && !doc->certs) || (doc->n_keysets && !doc->keysets) || !doc_ok(doc))
    return PROSE_EINVAL;
  prose__sbuf b;
  prose__sbuf_init(&b);
  prose__sbuf_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  prose__sbuf_str(&b, "<KmsResponse xmlns=\"" PROSE_KMSXML_NS "\" Version=\"1.0.0\">\n");
  if (doc->user_uri[0]) el_str(&b, 1, "UserUri", doc->user_uri);
  if (doc->kms_uri[0]) el_str(&b, 1, "KmsUri", doc->kms_uri);
  if (doc->has_time) el_time(&b, 1, "Time", doc->time);
  if (doc->client_req_url[0]) el_str(&b, 1, "ClientReqUrl", doc->client_req_url);
  prose__sbuf_str(&b, "  <KmsMessage>\n");
  if (doc->n_certs) {
    prose__sbuf_str(&b, "    <KmsInit Version=\"1.0.0\">\n");
    for (size_t i = 0; i < doc->n_certs; i++) write_cert(&b, &doc->certs[i]);
    prose__sbuf_str(&b, "    </KmsInit>\n");
  }
  if (doc->n_keysets) {
    prose__sbuf_str(&b, "    <KmsKeyProv Version=\"1.0.0\">\n");
    for (size_t i = 0; i < doc->n_keysets; i++) write_keyset(&b, &doc->keysets[i]);
    prose__sbuf_str(&b, "    </KmsKeyProv>\n");
  }
  prose__sbuf_str(&b, "  </KmsMessage>\n</KmsResponse>\n");
  int rc = prose__sbuf_take(&b, out, out_len);
  prose__sbuf_free(&b);
  return rc;
}
