/*
 * KMS XML reader and writer (33.179 Annex D, DIGEST §1.3): a full document
 * with extensions, the round trip, times, and a numbered table of hostile
 * documents with their specific error codes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/kmsxml.h"
#include "prose/util.h"
#include "test_store_fixture.h"
#include "testsupport.h"

/* Distinct recognisable key values: Z = 04 11.., KPAK = 04 22..,
 * RSK = 04 33.., SSK = 5a.., PVT = 04 66.., UID = 77... */
static char Z_HEX[515], KPAK_HEX[131], RSK_HEX[515], SSK_HEX[65], PVT_HEX[131], UID_HEX[65];

static void fill_hex(char *out, size_t octets, bool point, char digit) {
  size_t i = 0;
  if (point) {
    out[i++] = '0';
    out[i++] = '4';
  }
  while (i < 2 * octets) out[i++] = digit;
  out[i] = '\0';
}

static void make_keys(void) {
  fill_hex(Z_HEX, 257, true, '1');
  fill_hex(KPAK_HEX, 65, true, '2');
  fill_hex(RSK_HEX, 257, true, '3');
  fill_hex(SSK_HEX, 32, false, '5');
  SSK_HEX[1] = 'a';
  fill_hex(PVT_HEX, 65, true, '6');
  fill_hex(UID_HEX, 32, false, '7');
}

/* A KMS response as a real KMS might send it: a SignedKmsResponse-free
 * KmsResponse with extra elements in and out of the namespace, comments,
 * white space around values, optional elements present. */
static char *sample_doc(void) {
  static const char fmt[] =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!-- provisioning for alice -->\n"
      "<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\" "
      "xmlns:x=\"urn:example:ext\" Version=\"1.0.0\" x:extra=\"1\">\n"
      "  <UserUri>sip:alice@example.org</UserUri>\n"
      "  <KmsUri>kms.example.org</KmsUri>\n"
      "  <Time>2021-05-10T11:23:02</Time>\n"
      "  <ClientReqUrl>https://kms.example.org/keymanagement/identity/v1/init</ClientReqUrl>\n"
      "  <x:Vendor>ignored</x:Vendor>\n"
      "  <KmsMessage>\n"
      "    <KmsInit Version=\"1.0.0\">\n"
      "      <KmsCertificate Version=\"1.1.0\" Role=\"External\">\n"
      "        <CertUri>cert1.kms.example.org</CertUri>\n"
      "        <KmsUri>kms.example.org</KmsUri>\n"
      "        <Issuer>www.example.org</Issuer>\n"
      "        <ValidFrom>2000-01-01T00:00:00Z</ValidFrom>\n"
      "        <ValidTo>2100-12-31T23:59:59+01:00</ValidTo>\n"
      "        <Revoked>false</Revoked>\n"
      "        <UserIdFormat>2</UserIdFormat>\n"
      "        <UserKeyPeriod>2592000</UserKeyPeriod>\n"
      "        <UserKeyOffset>0</UserKeyOffset>\n"
      "        <PubEncKey>\n   %s\n   </PubEncKey>\n"
      "        <PubAuthKey>%s</PubAuthKey>\n"
      "        <ParameterSet>1</ParameterSet>\n"
      "        <KmsDomainList><KmsDomain>example.org</KmsDomain></KmsDomainList>\n"
      "        <FutureElement>unknown to prose</FutureElement>\n"
      "      </KmsCertificate>\n"
      "    </KmsInit>\n"
      "    <KmsKeyProv Version=\"1.0.0\">\n"
      "      <KmsKeySet Version=\"1.1.0\">\n"
      "        <KmsUri>kms.example.org</KmsUri>\n"
      "        <CertUri>cert1.kms.example.org</CertUri>\n"
      "        <Issuer>www.example.org</Issuer>\n"
      "        <UserUri>sip:alice@example.org</UserUri>\n"
      "        <UserID>%s</UserID>\n"
      "        <ValidFrom>2021-05-01T00:00:00.123Z</ValidFrom>\n"
      "        <ValidTo>2021-06-01T00:00:00Z</ValidTo>\n"
      "        <KeyPeriodNo>1509</KeyPeriodNo>\n"
      "        <Revoked>true</Revoked>\n"
      "        <!-- a comment between keys -->\n"
      "        <UserDecryptKey><![CDATA[%s]]></UserDecryptKey>\n"
      "        <UserSigningKeySSK>%s</UserSigningKeySSK>\n"
      "        <UserPubTokenPVT>%s</UserPubTokenPVT>\n"
      "      </KmsKeySet>\n"
      "      <KmsKeySet>\n"
      "        <UserPubTokenPVT>%s</UserPubTokenPVT>\n"
      "        <UserSigningKeySSK>%s</UserSigningKeySSK>\n"
      "        <UserDecryptKey>%s</UserDecryptKey>\n"
      "        <KeyPeriodNo>1510</KeyPeriodNo>\n"
      "        <UserID>%s</UserID>\n"
      "        <UserUri>sip:alice@example.org</UserUri>\n"
      "        <KmsUri>kms.example.org</KmsUri>\n"
      "      </KmsKeySet>\n"
      "    </KmsKeyProv>\n"
      "  </KmsMessage>\n"
      "</KmsResponse>\n";
  make_keys();
  size_t n = sizeof fmt + 4 * 515 + 8 * 131;
  char *p = malloc(n);
  cr_assert_not_null(p);
  snprintf(p, n, fmt, Z_HEX, KPAK_HEX, UID_HEX, RSK_HEX, SSK_HEX, PVT_HEX, PVT_HEX, SSK_HEX,
           RSK_HEX, UID_HEX);
  return p;
}

static int parse_str(const char *s, prose_kmsxml_doc *doc, prose_diag *d) {
  prose_diag_clear(d);
  return prose_kmsxml_parse((const uint8_t *)s, strlen(s), doc, d);
}

static void check_sample(const prose_kmsxml_doc *doc, bool written) {
  uint8_t z[257], rsk[257], ssk[32];
  uint64_t t = 0;
  ts_hex_into(Z_HEX, z, sizeof z);
  ts_hex_into(RSK_HEX, rsk, sizeof rsk);
  ts_hex_into(SSK_HEX, ssk, sizeof ssk);
  cr_assert_str_eq(doc->user_uri, "sip:alice@example.org");
  cr_assert_str_eq(doc->kms_uri, "kms.example.org");
  cr_assert(doc->has_time);
  cr_assert_eq(prose_kmsxml_parse_time("2021-05-10T11:23:02Z", &t), 0);
  cr_assert_eq(doc->time, t);
  cr_assert_eq(doc->n_certs, 1);
  const prose_kmsxml_cert *c = &doc->certs[0];
  cr_assert_str_eq(c->kms_uri, "kms.example.org");
  cr_assert_str_eq(c->cert_uri, "cert1.kms.example.org");
  cr_assert_str_eq(c->issuer, "www.example.org");
  cr_assert_eq(c->role, PROSE_KMSXML_ROLE_EXTERNAL);
  cr_assert(c->has_valid_from && c->has_valid_to && !c->revoked);
  cr_assert_eq(c->valid_from, 946684800ull + PROSE_NTP_UNIX_OFFSET);
  /* 2100-12-31T23:59:59+01:00 is 22:59:59Z. */
  cr_assert_eq(prose_kmsxml_parse_time("2100-12-31T22:59:59Z", &t), 0);
  cr_assert_eq(c->valid_to, t);
  cr_assert_eq(c->user_id_format, 2);
  cr_assert_eq(c->period, 2592000);
  cr_assert_eq(c->offset, 0);
  cr_assert_eq(c->param_set, 1);
  cr_assert_arr_eq(c->z, z, sizeof z);
  cr_assert_eq(c->kpak[0], 0x04);
  cr_assert_eq(c->kpak[64], 0x22);
  cr_assert_eq(doc->n_keysets, 2);
  const prose_kmsxml_keyset *k = &doc->keysets[0];
  cr_assert_str_eq(k->user_uri, "sip:alice@example.org");
  cr_assert_str_eq(k->kms_uri, "kms.example.org");
  cr_assert_eq(k->period_no, 1509);
  cr_assert(k->revoked && k->has_valid_from && k->has_valid_to);
  cr_assert_eq(prose_kmsxml_parse_time("2021-05-01T00:00:00Z", &t), 0);
  cr_assert_eq(k->valid_from, t);
  cr_assert_arr_eq(k->rsk, rsk, sizeof rsk);
  cr_assert_arr_eq(k->ssk, ssk, sizeof ssk);
  cr_assert_eq(k->pvt[64], 0x66);
  cr_assert_eq(k->uid[31], 0x77);
  k = &doc->keysets[1];
  cr_assert_eq(k->period_no, 1510);
  cr_assert(!k->revoked && !k->has_valid_from && !k->has_valid_to);
  cr_assert_arr_eq(k->ssk, ssk, sizeof ssk);
  (void)written;
}

Test(kmsxml, full_document_with_extensions_and_round_trip) {
  prose_kmsxml_doc doc, again;
  prose_diag d;
  char *xml = sample_doc(), *out = NULL;
  size_t out_len = 0;
  int rc = parse_str(xml, &doc, &d);
  cr_assert_eq(rc, 0, "%s: %s", prose_err_name(rc), d.msg);
  check_sample(&doc, false);

  /* Write it back: the writer's output parses to the same document, its
   * children follow the order of DIGEST §1.3 and times carry "Z". */
  cr_assert_eq(prose_kmsxml_write(&doc, &out, &out_len), 0);
  cr_assert_eq(strlen(out), out_len);
  const char *order[] = {"<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\"",
                         "<UserUri>", "<KmsUri>", "<Time>2021-05-10T11:23:02Z</Time>",
                         "<KmsMessage>", "<KmsInit", "<KmsCertificate Version=\"1.1.0\" "
                         "Role=\"External\">", "<CertUri>", "<Issuer>", "<ValidFrom>",
                         "<ValidTo>", "<Revoked>false", "<UserIdFormat>2", "<UserKeyPeriod>",
                         "<UserKeyOffset>", "<PubEncKey>", "<PubAuthKey>", "<ParameterSet>1",
                         "<KmsKeyProv", "<KmsKeySet", "<KmsUri>", "<CertUri>", "<UserUri>",
                         "<UserID>", "<ValidFrom>", "<ValidTo>", "<KeyPeriodNo>1509",
                         "<Revoked>true", "<UserDecryptKey>", "<UserSigningKeySSK>",
                         "<UserPubTokenPVT>", "</KmsKeyProv>", "</KmsResponse>"};
  const char *at = out;
  for (size_t i = 0; i < PROSE_ARRAY_LEN(order); i++) {
    const char *next = strstr(at, order[i]);
    cr_assert_not_null(next, "writer order: '%s' missing after position %ld", order[i],
                       (long)(at - out));
    at = next + 1;
  }
  rc = parse_str(out, &again, &d);
  cr_assert_eq(rc, 0, "%s: %s", prose_err_name(rc), d.msg);
  check_sample(&again, true);
  cr_assert_arr_eq(again.certs, doc.certs, sizeof *doc.certs);
  cr_assert_arr_eq(again.keysets, doc.keysets, 2 * sizeof *doc.keysets);

  prose_kmsxml_doc_free(&again);
  prose_kmsxml_doc_free(&doc);
  cr_assert_eq(doc.n_keysets, 0);
  cr_assert_null(doc.keysets);
  prose_free_secret(out, out_len);
  free(xml);
}

Test(kmsxml, signed_wrapper_cert_cache_and_empty_message) {
  prose_kmsxml_doc doc;
  prose_diag d;
  char buf[4096];
  make_keys();
  snprintf(buf, sizeof buf,
           "<SignedKmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\">"
           "<KmsResponse><KmsMessage><KmsCertCache>"
           "<SignedKmsCertificate><KmsCertificate><KmsUri>a.example</KmsUri>"
           "<UserIdFormat>2</UserIdFormat><UserKeyPeriod>86400</UserKeyPeriod>"
           "<UserKeyOffset>3600</UserKeyOffset><PubEncKey>%s</PubEncKey>"
           "<PubAuthKey>%s</PubAuthKey></KmsCertificate>"
           "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">sig</Signature>"
           "</SignedKmsCertificate>"
           "</KmsCertCache></KmsMessage></KmsResponse>"
           "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">sig</Signature>"
           "</SignedKmsResponse>",
           Z_HEX, KPAK_HEX);
  cr_assert_eq(parse_str(buf, &doc, &d), 0, "%s", d.msg);
  cr_assert_eq(doc.n_certs, 1);
  cr_assert_eq(doc.n_keysets, 0);
  cr_assert_str_eq(doc.certs[0].kms_uri, "a.example");
  cr_assert_eq(doc.certs[0].offset, 3600);
  cr_assert_eq(doc.certs[0].role, PROSE_KMSXML_ROLE_ROOT);
  cr_assert(!doc.certs[0].has_valid_from);
  prose_kmsxml_doc_free(&doc);

  /* A response without a KmsMessage parses (the importer refuses it). */
  cr_assert_eq(parse_str("<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\">"
                         "<UserUri>sip:a@b</UserUri></KmsResponse>",
                         &doc, &d),
               0);
  cr_assert_eq(doc.n_certs + doc.n_keysets, 0);
  cr_assert_str_eq(doc.user_uri, "sip:a@b");
  prose_kmsxml_doc_free(&doc);
}

Test(kmsxml, times) {
  uint64_t t = 0;
  char s[21];
  static const struct {
    const char *in;
    int rc;
    uint64_t unix_s;
  } cases[] = {
      {"1970-01-01T00:00:00Z", 0, 0},
      {"2024-01-01T00:00:00Z", 0, 1704067200},
      {"2024-02-29T12:34:56", 0, 1709210096},
      {"2024-02-29T12:34:56.999-02:30", 0, 1709210096 + 9000},
      {"2100-03-01T00:00:00Z", 0, 4107542400},
      {"1900-01-01T00:00:00Z", 0, (uint64_t)-(int64_t)PROSE_NTP_UNIX_OFFSET},
      {"2023-02-29T00:00:00Z", PROSE_EXML, 0},
      {"2024-13-01T00:00:00Z", PROSE_EXML, 0},
      {"1899-12-31T23:59:59Z", PROSE_EXML, 0},
      {"2024-01-01 00:00:00", PROSE_EXML, 0},
      {"2024-01-01T00:00:00Zjunk", PROSE_EXML, 0},
      {"2024-01-01T24:00:00Z", PROSE_EXML, 0},
      {"2024-01-01T00:00:00.Z", PROSE_EXML, 0},
      {"", PROSE_EXML, 0},
  };
  for (size_t i = 0; i < PROSE_ARRAY_LEN(cases); i++) {
    int rc = prose_kmsxml_parse_time(cases[i].in, &t);
    cr_assert_eq(rc, cases[i].rc, "case %zu: %s", i, cases[i].in);
    if (!rc) cr_assert_eq(t, cases[i].unix_s + PROSE_NTP_UNIX_OFFSET, "case %zu", i);
  }
  prose_kmsxml_format_time(1709210096ull + PROSE_NTP_UNIX_OFFSET, s);
  cr_assert_str_eq(s, "2024-02-29T12:34:56Z");
  prose_kmsxml_format_time(0, s);
  cr_assert_str_eq(s, "1900-01-01T00:00:00Z");
  prose_kmsxml_format_time(UINT64_MAX, s);
  cr_assert_str_eq(s, "9999-12-31T23:59:59Z");
}

/* ---- Hostile documents --------------------------------------------------- */

typedef struct hostile {
  const char *from; /* replace this in the sample ... */
  const char *to;   /* ... by this (NULL: the whole document is `from`) */
  int rc;
  const char *msg_has; /* the diagnostic names this */
} hostile;

static const char NS[] = "urn:3gpp:ns:mcsecKMSInterface:1.0";

Test(kmsxml, hostile_documents) {
  static char long_uri[400];
  memset(long_uri, 'u', sizeof long_uri - 1);
  const hostile cases[] = {
      /* 0 */ {"<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\"",
               "<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:2.0\"", PROSE_EXML_NS, "root"},
      /* 1 */ {"<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\"", "<KmsResponse",
               PROSE_EXML_NS, "namespace"},
      /* 2 */ {"<KeyProvision xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\"/>", NULL, PROSE_EXML_NS,
               "root"},
      /* 3 */ {"<PubAuthKey>04", "<PubAuthKey>0x", PROSE_EHEX, "KmsCertificate[0]/PubAuthKey"},
      /* 4 */ {"<UserSigningKeySSK>5a", "<UserSigningKeySSK>5g", PROSE_EHEX,
               "KmsKeySet[0]/UserSigningKeySSK"},
      /* 5 */ {"<UserSigningKeySSK>5a", "<UserSigningKeySSK>5a55", PROSE_ELEN,
               "KmsKeySet[0]/UserSigningKeySSK"},
      /* 6 */ {"<UserKeyPeriod>2592000", "<UserKeyPeriod>0", PROSE_EXML, "UserKeyPeriod"},
      /* 7 */ {"<UserKeyPeriod>2592000", "<UserKeyPeriod>-1", PROSE_EXML, "UserKeyPeriod"},
      /* 8 */ {"<KeyPeriodNo>1509", "<KeyPeriodNo>99999999999999999999999", PROSE_EXML,
               "KeyPeriodNo"},
      /* 9 */ {"<ParameterSet>1", "<ParameterSet>2", PROSE_EFORMAT, "ParameterSet"},
      /* 10 */ {"<UserIdFormat>2</UserIdFormat>", "", PROSE_EXML, "missing UserIdFormat"},
      /* 11 */ {"<KeyPeriodNo>1509</KeyPeriodNo>",
                "<KeyPeriodNo>1509</KeyPeriodNo><KeyPeriodNo>1509</KeyPeriodNo>", PROSE_EXML,
                "repeated"},
      /* 12 */ {"<Revoked>true", "<Revoked>yes", PROSE_EXML, "Revoked"},
      /* 13 */ {"<ValidTo>2021-06-01T00:00:00Z", "<ValidTo>June", PROSE_EXML, "ValidTo"},
      /* 14 */ {"Role=\"External\"", "Role=\"Admin\"", PROSE_EXML, "Role"},
      /* 15 */ {"<UserDecryptKey><![CDATA[", "<UserDecryptKey><xenc:EncryptedKey "
                "xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/><![CDATA[", PROSE_EFORMAT,
                "EncryptedKey"},
      /* 16 */ {"<UserUri>sip:alice@example.org</UserUri>\n  <KmsUri>", "<UserUri>sip:alice\x01"
                "</UserUri>\n  <KmsUri>", PROSE_EXML, "not well-formed"},
      /* 17 */ {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
                PROSE_EXML, "DTD"},
      /* 18 */ {"<KmsMessage>", "<KmsMessage></KmsMessage><KmsMessage>", PROSE_EXML,
                "KmsMessage"},
      /* 19 */ {"<KmsInit Version=\"1.0.0\">", "<KmsInit/><KmsInit>", PROSE_EXML, "KmsInit"},
      /* 20 */ {"<UserUri>sip:alice@example.org</UserUri>\n  <KmsUri>", NULL, 0, NULL},
  };
  prose_diag d;
  prose_kmsxml_doc doc;
  char *base = sample_doc();
  for (size_t i = 0; i < PROSE_ARRAY_LEN(cases); i++) {
    fx_blob b;
    if (!cases[i].msg_has && !cases[i].to) continue; /* placeholder row */
    if (cases[i].to) {
      b = fx_copy(base, strlen(base));
      fx_replace(&b, cases[i].from, cases[i].to);
    } else {
      b = fx_copy(cases[i].from, strlen(cases[i].from));
    }
    prose_diag_clear(&d);
    int rc = prose_kmsxml_parse(b.p, b.len, &doc, &d);
    cr_assert_eq(rc, cases[i].rc, "case %zu: %s instead of %s (%s)", i, prose_err_name(rc),
                 prose_err_name(cases[i].rc), d.msg);
    cr_assert_eq(d.code, rc, "case %zu", i);
    cr_assert_not_null(strstr(d.msg, cases[i].msg_has), "case %zu: message '%s'", i, d.msg);
    /* No key material in the message, ever. */
    cr_assert_null(strstr(d.msg, "5a5555"), "case %zu leaks the SSK", i);
    cr_assert_eq(doc.n_keysets + doc.n_certs, 0, "case %zu: output not empty", i);
    fx_free(&b);
  }
  (void)NS;
  free(base);
}

Test(kmsxml, truncation_entities_and_bounds) {
  prose_diag d;
  prose_kmsxml_doc doc;
  char *base = sample_doc();
  size_t n = strlen(base);
  /* Every cut inside the document is malformed XML, never a partial parse. */
  for (size_t cut = 0; cut < n - 2; cut += 37) {
    int rc = prose_kmsxml_parse((const uint8_t *)base, cut, &doc, &d);
    cr_assert(rc == PROSE_EXML || rc == PROSE_EXML_NS, "cut %zu: %s", cut, prose_err_name(rc));
    cr_assert_eq(doc.n_keysets, 0);
  }
  /* Entity expansion (billion laughs) and external entities never run: any
   * DOCTYPE is refused before libxml2 sees it. */
  const char *lol =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
      "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
      "<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\"><UserUri>&lol2;</UserUri>"
      "</KmsResponse>";
  prose_diag_clear(&d);
  cr_assert_eq(parse_str(lol, &doc, &d), PROSE_EXML);
  cr_assert_not_null(strstr(d.msg, "DTD"));
  /* An undeclared entity is a well-formedness error. */
  cr_assert_eq(parse_str("<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\">"
                         "<UserUri>&xxe;</UserUri></KmsResponse>", &doc, &d),
               PROSE_EXML);
  /* A UTF-16 document is refused (the reader forces UTF-8). */
  static const uint8_t utf16[] = {0xFF, 0xFE, '<', 0, 'a', 0, '/', 0, '>', 0};
  cr_assert_eq(prose_kmsxml_parse(utf16, sizeof utf16, &doc, &d), PROSE_EXML);
  /* Too long a URI. */
  char big[1200];
  memset(big, 'x', 600);
  big[600] = '\0';
  char doc_s[1500];
  snprintf(doc_s, sizeof doc_s,
           "<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\"><UserUri>%s</UserUri>"
           "</KmsResponse>", big);
  prose_diag_clear(&d);
  cr_assert_eq(parse_str(doc_s, &doc, &d), PROSE_ELEN);
  cr_assert_not_null(strstr(d.msg, "KmsResponse/UserUri"));
  /* Too large a document. */
  size_t huge = PROSE_KMSXML_MAX_DOC + 1;
  uint8_t *h = calloc(1, huge);
  cr_assert_eq(prose_kmsxml_parse(h, huge, &doc, &d), PROSE_ELEN);
  free(h);
  /* Too many key sets. */
  fx_blob b = fx_copy(base, n);
  char *ks_start = strstr((char *)b.p, "<KmsKeySet>"), *ks_end = strstr(ks_start, "</KmsKeySet>");
  size_t ks_len = (size_t)(ks_end - ks_start) + strlen("</KmsKeySet>");
  size_t cap = n + (PROSE_KMSXML_MAX_KEYSETS + 1) * ks_len;
  char *many = malloc(cap + 1);
  size_t pre = (size_t)(ks_start - (char *)b.p), o = 0;
  memcpy(many, b.p, pre);
  o = pre;
  for (unsigned i = 0; i < PROSE_KMSXML_MAX_KEYSETS; i++, o += ks_len) memcpy(many + o, ks_start, ks_len);
  memcpy(many + o, ks_start, b.len - pre);
  o += b.len - pre;
  prose_diag_clear(&d);
  cr_assert_eq(prose_kmsxml_parse((uint8_t *)many, o, &doc, &d), PROSE_EXML);
  cr_assert_not_null(strstr(d.msg, "KmsKeySet"), "%s", d.msg);
  free(many);
  fx_free(&b);
  free(base);
}

Test(kmsxml, writer_refuses_bad_strings) {
  prose_kmsxml_doc doc;
  prose_kmsxml_cert c;
  char *out = NULL;
  size_t n = 0;
  prose_kmsxml_doc_init(&doc);
  memset(&c, 0, sizeof c);
  doc.certs = &c;
  doc.n_certs = 1;
  cr_assert_eq(prose_kmsxml_write(&doc, &out, &n), PROSE_EINVAL); /* empty KmsUri */
  strcpy(c.kms_uri, "a&b<c>\"'");
  c.period = 1;
  cr_assert_eq(prose_kmsxml_write(&doc, &out, &n), 0);
  cr_assert_not_null(strstr(out, "<KmsUri>a&amp;b&lt;c&gt;&quot;&apos;</KmsUri>"));
  free(out);
  strcpy(c.issuer, "bad\nissuer");
  cr_assert_eq(prose_kmsxml_write(&doc, &out, &n), PROSE_EINVAL);
}
