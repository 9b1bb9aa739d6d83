const char *prose_crypto_version(void); const char *prose_crypto_version(void) { return "0.1.0"; }
