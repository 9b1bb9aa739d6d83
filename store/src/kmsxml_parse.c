/*
 * KMS XML reader (33.179 Annex D, DIGEST §1.3).
 *
 * libxml2 builds the tree with no network access, no DTD loading and no
 * entity substitution; documents that carry a DTD at all are refused, which
 * rules out external entities and entity-expansion bombs before they reach
 * the parser. The tree walk is table-driven: each known child element maps
 * to a field of the output struct, unknown elements are skipped.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/kmsxml.h"
#include "prose/util.h"
#include "store_internal.h"

/* Largest text content read from one element (the RSK is 514 hex digits). */
#define TEXT_MAX 1024

void prose_kmsxml_doc_init(prose_kmsxml_doc *doc) { memset(doc, 0, sizeof *doc); }

void prose_kmsxml_keyset_wipe(prose_kmsxml_keyset *ks) { prose_wipe(ks, sizeof *ks); }

void prose_kmsxml_doc_free(prose_kmsxml_doc *doc) {
  if (!doc) return;
  free(doc->certs);
  prose_free_secret(doc->keysets, doc->n_keysets * sizeof *doc->keysets);
  prose_kmsxml_doc_init(doc);
}

/* ---- Element helpers ---------------------------------------------------- */

static bool in_ns(const xmlNode *n) {
  return n->ns && n->ns->href && strcmp((const char *)n->ns->href, PROSE_KMSXML_NS) == 0;
}

static bool is_el(const xmlNode *n, const char *name) {
  return n->type == XML_ELEMENT_NODE && in_ns(n) && strcmp((const char *)n->name, name) == 0;
}

static bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/*
 * The text content of a leaf element, trimmed of surrounding white space,
 * into txt (TEXT_MAX). Child elements are refused: a key element holding an
 * xenc:EncryptedKey is reported as unsupported, anything else as malformed.
 */
static int leaf_text(const xmlNode *el, char *txt, const char *path, prose_diag *d) {
  size_t n = 0;
  for (const xmlNode *c = el->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) {
      if (strcmp((const char *)c->name, "EncryptedKey") == 0)
        return prose_diag_set(d, PROSE_EFORMAT,
                              "%s: key is wrapped as EncryptedKey (Transport Key not supported)",
                              path);
      return prose_diag_set(d, PROSE_EXML, "%s: unexpected child element", path);
    }
    if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) continue;
    size_t m = c->content ? strlen((const char *)c->content) : 0;
    if (m >= TEXT_MAX - n) return prose_diag_set(d, PROSE_ELEN, "%s: value too long", path);
    memcpy(txt + n, c->content, m);
    n += m;
  }
  txt[n] = '\0';
  size_t b = 0;
  while (b < n && is_xml_space(txt[b])) b++;
  while (n > b && is_xml_space(txt[n - 1])) n--;
  memmove(txt, txt + b, n - b);
  txt[n - b] = '\0';
  /* Leave nothing after the terminator: txt may have held a secret. */
  prose_wipe(txt + (n - b) + 1, b);
  return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v) {
  uint64_t x = 0;
  if (!*s) return PROSE_EXML;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return PROSE_EXML;
    unsigned dgt = (unsigned)(*s - '0');
    if (x > (max - dgt) / 10) return PROSE_EXML;
    x = x * 10 + dgt;
  }
  *v = x;
  return 0;
}

static int parse_bool(const char *s, bool *v) {
  if (!strcmp(s, "true") || !strcmp(s, "1")) *v = true;
  else if (!strcmp(s, "false") || !strcmp(s, "0")) *v = false;
  else return PROSE_EXML;
  return 0;
}

/* ---- Field tables --------------------------------------------------- */

typedef enum fkind { F_STR, F_U64, F_U32, F_BOOL, F_TIME, F_HEX } fkind;

typedef struct field {
  const char *name;
  fkind kind;
  size_t off;     /* the value in the output struct */
  size_t size;    /* F_STR: capacity; F_HEX: exact octet count */
  size_t has_off; /* F_TIME: the bool saying it is present */
  bool mandatory;
} field;

#define CF(name, kind, member, mand)                                                          \
  { name, kind, offsetof(prose_kmsxml_cert, member), sizeof(((prose_kmsxml_cert *)0)->member), \
    0, mand }
#define CT(name, member, has)                                                              \
  { name, F_TIME, offsetof(prose_kmsxml_cert, member), sizeof(uint64_t),                  \
    offsetof(prose_kmsxml_cert, has), false }
#define KF(name, kind, member, mand)                                          \
  { name, kind, offsetof(prose_kmsxml_keyset, member),                        \
    sizeof(((prose_kmsxml_keyset *)0)->member), 0, mand }
#define KT(name, member, has)                                                 \
  { name, F_TIME, offsetof(prose_kmsxml_keyset, member), sizeof(uint64_t),   \
    offsetof(prose_kmsxml_keyset, has), false }

/* KmsCertificate children, in the order of DIGEST §1.3. */
static const field cert_fields[] = {
    CF("CertUri", F_STR, cert_uri, false),
    CF("KmsUri", F_STR, kms_uri, true),
    CF("Issuer", F_STR, issuer, false),
    CT("ValidFrom", valid_from, has_valid_from),
    CT("ValidTo", valid_to, has_valid_to),
    CF("Revoked", F_BOOL, revoked, false),
    CF("UserIdFormat", F_U32, user_id_format, true),
    CF("UserKeyPeriod", F_U64, period, true),
    CF("UserKeyOffset", F_U64, offset, true),
    CF("PubEncKey", F_HEX, z, true),
    CF("PubAuthKey", F_HEX, kpak, true),
    CF("ParameterSet", F_U32, param_set, false),
};

/* KmsKeySet children, in the order of DIGEST §1.3. */
static const field keyset_fields[] = {
    KF("KmsUri", F_STR, kms_uri, true),
    KF("CertUri", F_STR, cert_uri, false),
    KF("Issuer", F_STR, issuer, false),
    KF("UserUri", F_STR, user_uri, true),
    KF("UserID", F_HEX, uid, true),
    KT("ValidFrom", valid_from, has_valid_from),
    KT("ValidTo", valid_to, has_valid_to),
    KF("KeyPeriodNo", F_U64, period_no, true),
    KF("Revoked", F_BOOL, revoked, false),
    KF("UserDecryptKey", F_HEX, rsk, true),
    KF("UserSigningKeySSK", F_HEX, ssk, true),
    KF("UserPubTokenPVT", F_HEX, pvt, true),
};

/* Store one element's text into its field. */
static int set_field(const field *f, uint8_t *base, const char *txt, const char *path,
                     prose_diag *d) {
  uint64_t v = 0;
  int rc;
  switch (f->kind) {
    case F_STR:
      if (strlen(txt) >= f->size) return prose_diag_set(d, PROSE_ELEN, "%s: value too long", path);
      for (const char *c = txt; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
          return prose_diag_set(d, PROSE_EXML, "%s: control character in value", path);
      memcpy(base + f->off, txt, strlen(txt) + 1);
      return 0;
    case F_U64:
    case F_U32:
      if (parse_u64(txt, f->kind == F_U32 ? UINT32_MAX : (uint64_t)INT64_MAX, &v))
        return prose_diag_set(d, PROSE_EXML, "%s: not an unsigned decimal number in range", path);
      if (f->kind == F_U32) {
        uint32_t v32 = (uint32_t)v;
        memcpy(base + f->off, &v32, sizeof v32);
      } else {
        memcpy(base + f->off, &v, sizeof v);
      }
      return 0;
    case F_BOOL: {
      bool b = false;
      if (parse_bool(txt, &b))
        return prose_diag_set(d, PROSE_EXML, "%s: not a boolean (true/false)", path);
      memcpy(base + f->off, &b, sizeof b);
      return 0;
    }
    case F_TIME: {
      if (prose_kmsxml_parse_time(txt, &v))
        return prose_diag_set(d, PROSE_EXML, "%s: not an xs:dateTime from 1900 on", path);
      bool has = true;
      memcpy(base + f->off, &v, sizeof v);
      memcpy(base + f->has_off, &has, sizeof has);
      return 0;
    }
    case F_HEX:
      rc = prose_hex_decode_exact(txt, base + f->off, f->size);
      if (rc == PROSE_EHEX) return prose_diag_set(d, rc, "%s: not hexadecimal", path);
      if (rc == PROSE_ELEN)
        return prose_diag_set(d, rc, "%s: wrong length (%zu octets expected)", path, f->size);
      return rc;
  }
  return PROSE_EINTERNAL;
}

/*
 * Fill a struct from the children of el using a field table: each known
 * child at most once, every mandatory child present, others skipped.
 */
static int parse_fields(const xmlNode *el, const field *fields, size_t n_fields, uint8_t *base,
                        const char *where, prose_diag *d) {
  char txt[TEXT_MAX], path[160];
  uint32_t seen = 0;
  int rc = 0;
  for (const xmlNode *c = el->children; c && !rc; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || !in_ns(c)) continue;
    for (size_t i = 0; i < n_fields; i++) {
      if (strcmp((const char *)c->name, fields[i].name) != 0) continue;
      snprintf(path, sizeof path, "%s/%s", where, fields[i].name);
      if (seen & (1u << i)) {
        rc = prose_diag_set(d, PROSE_EXML, "%s: element repeated", path);
        break;
      }
      seen |= 1u << i;
      if (!(rc = leaf_text(c, txt, path, d))) rc = set_field(&fields[i], base, txt, path, d);
      break;
    }
  }
  for (size_t i = 0; i < n_fields && !rc; i++)
    if (fields[i].mandatory && !(seen & (1u << i)))
      rc = prose_diag_set(d, PROSE_EXML, "%s: missing %s", where, fields[i].name);
  prose_wipe(txt, sizeof txt);
  return rc;
}

/* ---- Certificates and key sets -------------------------------------- */

static int parse_cert(const xmlNode *el, prose_kmsxml_cert *c, size_t idx, prose_diag *d) {
  char where[48];
  snprintf(where, sizeof where, "KmsCertificate[%zu]", idx);
  memset(c, 0, sizeof *c);
  c->param_set = 1;
  xmlChar *role = xmlGetProp(el, (const xmlChar *)"Role");
  int rc = 0;
  if (role) {
    if (!strcmp((const char *)role, "Root")) c->role = PROSE_KMSXML_ROLE_ROOT;
    else if (!strcmp((const char *)role, "External")) c->role = PROSE_KMSXML_ROLE_EXTERNAL;
    else rc = prose_diag_set(d, PROSE_EXML, "%s: Role must be Root or External", where);
    xmlFree(role);
  }
  if (rc) return rc;
  rc = parse_fields(el, cert_fields, PROSE_ARRAY_LEN(cert_fields), (uint8_t *)c, where, d);
  if (rc) return rc;
  if (c->period == 0) return prose_diag_set(d, PROSE_EXML, "%s/UserKeyPeriod: must be > 0", where);
  if (c->param_set != 1)
    return prose_diag_set(d, PROSE_EFORMAT, "%s/ParameterSet: %u not supported (only 1)", where,
                          (unsigned)c->param_set);
  if (!c->kms_uri[0]) return prose_diag_set(d, PROSE_EXML, "%s/KmsUri: empty", where);
  return 0;
}

static int parse_keyset(const xmlNode *el, prose_kmsxml_keyset *k, size_t idx, prose_diag *d) {
  char where[48];
  snprintf(where, sizeof where, "KmsKeySet[%zu]", idx);
  int rc =
      parse_fields(el, keyset_fields, PROSE_ARRAY_LEN(keyset_fields), (uint8_t *)k, where, d);
  if (rc) return rc;
  if (!k->kms_uri[0] || !k->user_uri[0])
    return prose_diag_set(d, PROSE_EXML, "%s: empty KmsUri or UserUri", where);
  return 0;
}

/* A certificate may come bare or inside a SignedKmsCertificate (whose
 * signature, like the response's, is not verified here). */
static const xmlNode *unwrap(const xmlNode *n, const char *wrapper, const char *inner) {
  if (is_el(n, inner)) return n;
  if (!is_el(n, wrapper)) return NULL;
  for (const xmlNode *c = n->children; c; c = c->next)
    if (is_el(c, inner)) return c;
  return NULL;
}

/* Visit (count or parse) every certificate and key set under KmsMessage. */
static int walk_message(const xmlNode *msg, prose_kmsxml_doc *doc, bool fill, size_t *nc,
                        size_t *nk, prose_diag *d) {
  int rc = 0;
  bool seen_init = false, seen_prov = false, seen_cache = false;
  *nc = *nk = 0;
  for (const xmlNode *sec = msg->children; sec && !rc; sec = sec->next) {
    bool init = is_el(sec, "KmsInit"), cache = is_el(sec, "KmsCertCache");
    bool prov = is_el(sec, "KmsKeyProv");
    if (!init && !cache && !prov) continue;
    bool *seen = init ? &seen_init : cache ? &seen_cache : &seen_prov;
    if (*seen)
      return prose_diag_set(d, PROSE_EXML, "KmsMessage/%s: element repeated",
                            (const char *)sec->name);
    *seen = true;
    for (const xmlNode *c = sec->children; c && !rc; c = c->next) {
      const xmlNode *el;
      if (!prov && (el = unwrap(c, "SignedKmsCertificate", "KmsCertificate"))) {
        if (*nc >= PROSE_KMSXML_MAX_CERTS)
          return prose_diag_set(d, PROSE_EXML, "more than %u KmsCertificate elements",
                                PROSE_KMSXML_MAX_CERTS);
        if (fill) rc = parse_cert(el, &doc->certs[*nc], *nc, d);
        (*nc)++;
      } else if (prov && (el = unwrap(c, "SignedKmsKeySet", "KmsKeySet"))) {
        if (*nk >= PROSE_KMSXML_MAX_KEYSETS)
          return prose_diag_set(d, PROSE_EXML, "more than %u KmsKeySet elements",
                                PROSE_KMSXML_MAX_KEYSETS);
        if (fill) rc = parse_keyset(el, &doc->keysets[*nk], *nk, d);
        (*nk)++;
      }
    }
  }
  return rc;
}

/* KmsResponse header fields. */
static const field resp_fields[] = {
    {"UserUri", F_STR, offsetof(prose_kmsxml_doc, user_uri), PROSE_KMSXML_URI_MAX, 0, false},
    {"KmsUri", F_STR, offsetof(prose_kmsxml_doc, kms_uri), PROSE_KMSXML_URI_MAX, 0, false},
    {"Time", F_TIME, offsetof(prose_kmsxml_doc, time), 8, offsetof(prose_kmsxml_doc, has_time),
     false},
    {"ClientReqUrl", F_STR, offsetof(prose_kmsxml_doc, client_req_url), PROSE_KMSXML_URI_MAX, 0,
     false},
};

static int parse_response(const xmlNode *resp, prose_kmsxml_doc *doc, prose_diag *d) {
  int rc = parse_fields(resp, resp_fields, PROSE_ARRAY_LEN(resp_fields), (uint8_t *)doc,
                        "KmsResponse", d);
  if (rc) return rc;
  const xmlNode *msg = NULL;
  for (const xmlNode *c = resp->children; c; c = c->next) {
    if (!is_el(c, "KmsMessage")) continue;
    if (msg) return prose_diag_set(d, PROSE_EXML, "KmsResponse/KmsMessage: element repeated");
    msg = c;
  }
  if (!msg) return 0; /* a response without a message (e.g. an error reply) */
  size_t nc = 0, nk = 0;
  if ((rc = walk_message(msg, doc, false, &nc, &nk, d))) return rc;
  if (nc && !(doc->certs = calloc(nc, sizeof *doc->certs))) return PROSE_ENOMEM;
  if (nk && !(doc->keysets = calloc(nk, sizeof *doc->keysets))) return PROSE_ENOMEM;
  /* Record the counts before filling so a failure half-way frees (and
   * wipes) every key set that was allocated. */
  doc->n_certs = nc;
  doc->n_keysets = nk;
  return walk_message(msg, doc, true, &nc, &nk, d);
}

/* A DOCTYPE anywhere is refused before parsing. The document is read as
 * UTF-8 (the encoding is forced below), so a byte search finds it. */
static bool has_doctype(const uint8_t *xml, size_t len) {
  static const char tag[] = "<!DOCTYPE";
  const size_t n = sizeof tag - 1;
  for (size_t i = 0; i + n <= len; i++)
    if (xml[i] == '<' && memcmp(xml + i, tag, n) == 0) return true;
  return false;
}

int prose_kmsxml_parse(const uint8_t *xml, size_t len, prose_kmsxml_doc *out, prose_diag *d) {
  xmlParserCtxtPtr ctxt = NULL;
  xmlDocPtr doc = NULL;
  int rc = 0;
  if (!out) return PROSE_EINVAL;
  prose_kmsxml_doc_init(out);
  if (!xml) return PROSE_EINVAL;
  if (len > PROSE_KMSXML_MAX_DOC)
    return prose_diag_set(d, PROSE_ELEN, "KMS XML document larger than %u octets",
                          PROSE_KMSXML_MAX_DOC);
  if (has_doctype(xml, len))
    return prose_diag_set(d, PROSE_EXML, "KMS XML document has a DTD (not allowed)");
  prose__xml_init();
  if (!(ctxt = xmlNewParserCtxt())) return PROSE_ENOMEM;
  /* NONET: no network; no NOENT (entities stay unexpanded), no DTDLOAD,
   * no XINCLUDE; errors are collected, not printed. */
  doc = xmlCtxtReadMemory(ctxt, (const char *)xml, (int)len, NULL, "UTF-8",
                          XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!doc) {
    /* Only the position and libxml2's code are reported: libxml2 messages
     * can quote document text, which may be key material. */
    const xmlError *e = xmlCtxtGetLastError(ctxt);
    rc = prose_diag_set(d, PROSE_EXML, "not well-formed XML (line %d, libxml2 error %d)",
                        e ? e->line : 0, e ? e->code : 0);
    goto out;
  }
  if (doc->intSubset || doc->extSubset) {
    rc = prose_diag_set(d, PROSE_EXML, "KMS XML document has a DTD (not allowed)");
    goto out;
  }
  const xmlNode *root = xmlDocGetRootElement(doc);
  if (root && is_el(root, "SignedKmsResponse")) root = unwrap(root, "SignedKmsResponse", "KmsResponse");
  if (!root || !is_el(root, "KmsResponse")) {
    rc = prose_diag_set(d, PROSE_EXML_NS, "root element is not KmsResponse in namespace %s",
                        PROSE_KMSXML_NS);
    goto out;
  }
  rc = parse_response(root, out, d);
out:
  if (rc) prose_kmsxml_doc_free(out);
  xmlFreeDoc(doc);
  xmlFreeParserCtxt(ctxt);
  return rc;
}
