/* The firmware's mbedTLS 2.28: Debian's source package (tools/firmware/mbedtls-source) built
 * into dualsp with this file as MBEDTLS_USER_CONFIG_FILE, read after mbedTLS's own default
 * config.h. It keeps what the firmware uses and takes out the rest (docs/FIRMWARE.md
 * "Sizes", docs/SECURITY.md "TLS"):
 *
 *  - spweb's HTTPS server (CivetWeb's mbedTLS back end): TLS 1.2 only, ECDHE key exchange
 *    with an ECDSA or RSA certificate, AES-GCM and ChaCha20-Poly1305 (the suites of
 *    webserver/tls_cipher_lists.hpp), curves P-256/384/521 and X25519;
 *  - the certificate code (platform/tls_certificate_mbedtls.cpp): X.509 parsing and writing,
 *    PEM, EC P-256 key generation, RSA and EC keys from ReplaceCertificate (unencrypted:
 *    encrypted keys are refused anyway);
 *  - Debian's threading settings (MBEDTLS_THREADING_PTHREAD), as its libmbedtls is built.
 *
 * Not in the firmware: the TLS client (event delivery to https:// is the host build's, on
 * OpenSSL), DTLS, TLS 1.0/1.1, renegotiation, static RSA/DH/PSK key exchanges, CBC and the
 * legacy ciphers (DES, Camellia, ARIA, Blowfish, ARC4, XTEA), MD2/MD4/MD5/RIPEMD-160,
 * PKCS#5/#12 (encrypted keys), CSRs and CRLs, PSA crypto, the debug module, the test
 * certificates and every self-test. A build that needs one of them fails to compile or
 * link, so nothing is dropped silently. */
#ifndef DUALSP_MBEDTLS_CONFIG_H
#define DUALSP_MBEDTLS_CONFIG_H

/* Debian's libmbedtls: CivetWeb's threads share one CTR-DRBG. */
#define MBEDTLS_THREADING_C
#define MBEDTLS_THREADING_PTHREAD

/* Protocols: TLS 1.2 server only. */
#undef MBEDTLS_SSL_CLI_C
#undef MBEDTLS_SSL_PROTO_TLS1
#undef MBEDTLS_SSL_PROTO_TLS1_1
#undef MBEDTLS_SSL_PROTO_DTLS
#undef MBEDTLS_SSL_DTLS_ANTI_REPLAY
#undef MBEDTLS_SSL_DTLS_HELLO_VERIFY
#undef MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE
#undef MBEDTLS_SSL_DTLS_BADMAC_LIMIT
#undef MBEDTLS_SSL_COOKIE_C
#undef MBEDTLS_SSL_RENEGOTIATION
#undef MBEDTLS_SSL_CBC_RECORD_SPLITTING
#undef MBEDTLS_SSL_ENCRYPT_THEN_MAC
#undef MBEDTLS_SSL_TRUNCATED_HMAC
#undef MBEDTLS_SSL_CONTEXT_SERIALIZATION
#undef MBEDTLS_SSL_EXPORT_KEYS
#undef MBEDTLS_SSL_SESSION_TICKETS
#undef MBEDTLS_SSL_TICKET_C
#undef MBEDTLS_SSL_CACHE_C

/* Key exchanges: ECDHE with an ECDSA or RSA certificate. */
#undef MBEDTLS_KEY_EXCHANGE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_DHE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_RSA_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_RSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_DHE_RSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDH_ECDSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDH_RSA_ENABLED
#undef MBEDTLS_DHM_C

/* Ciphers: AES (GCM; ECB inside CTR-DRBG) and ChaCha20-Poly1305. */
#undef MBEDTLS_CIPHER_MODE_CBC
#undef MBEDTLS_CIPHER_MODE_CFB
#undef MBEDTLS_CIPHER_MODE_CTR
#undef MBEDTLS_CIPHER_MODE_OFB
#undef MBEDTLS_CIPHER_MODE_XTS
#undef MBEDTLS_CIPHER_PADDING_PKCS7
#undef MBEDTLS_CIPHER_PADDING_ONE_AND_ZEROS
#undef MBEDTLS_CIPHER_PADDING_ZEROS_AND_LEN
#undef MBEDTLS_CIPHER_PADDING_ZEROS
#undef MBEDTLS_DES_C
#undef MBEDTLS_CAMELLIA_C
#undef MBEDTLS_ARIA_C
#undef MBEDTLS_BLOWFISH_C
#undef MBEDTLS_ARC4_C
#undef MBEDTLS_XTEA_C
#undef MBEDTLS_CCM_C
#undef MBEDTLS_CMAC_C
#undef MBEDTLS_NIST_KW_C
#undef MBEDTLS_AESNI_C
#undef MBEDTLS_PADLOCK_C

/* Hashes: SHA-1 (old certificate chains), SHA-256, SHA-384/512. */
#undef MBEDTLS_MD2_C
#undef MBEDTLS_MD4_C
#undef MBEDTLS_MD5_C
#undef MBEDTLS_RIPEMD160_C
#undef MBEDTLS_HKDF_C

/* Curves: the NIST ones certificates use and X25519 for ECDHE. */
#undef MBEDTLS_ECP_DP_SECP192R1_ENABLED
#undef MBEDTLS_ECP_DP_SECP224R1_ENABLED
#undef MBEDTLS_ECP_DP_SECP192K1_ENABLED
#undef MBEDTLS_ECP_DP_SECP224K1_ENABLED
#undef MBEDTLS_ECP_DP_SECP256K1_ENABLED
#undef MBEDTLS_ECP_DP_BP256R1_ENABLED
#undef MBEDTLS_ECP_DP_BP384R1_ENABLED
#undef MBEDTLS_ECP_DP_BP512R1_ENABLED
#undef MBEDTLS_ECP_DP_CURVE448_ENABLED
#undef MBEDTLS_ECJPAKE_C

/* Keys and certificates: no RSA key generation (the SP makes EC keys), no encrypted keys,
 * no CSRs, no CRLs. */
#undef MBEDTLS_GENPRIME
#undef MBEDTLS_PK_RSA_ALT_SUPPORT
#undef MBEDTLS_PKCS5_C
#undef MBEDTLS_PKCS12_C
#undef MBEDTLS_X509_CRL_PARSE_C
#undef MBEDTLS_X509_CSR_PARSE_C
#undef MBEDTLS_X509_CSR_WRITE_C

/* Not used: PSA crypto, debug output, error strings, version strings, timing, tests. */
#undef MBEDTLS_PSA_CRYPTO_C
#undef MBEDTLS_PSA_CRYPTO_STORAGE_C
#undef MBEDTLS_PSA_ITS_FILE_C
#undef MBEDTLS_DEBUG_C
#undef MBEDTLS_ERROR_C
#undef MBEDTLS_VERSION_C
#undef MBEDTLS_VERSION_FEATURES
#undef MBEDTLS_TIMING_C
#undef MBEDTLS_HAVEGE_C
#undef MBEDTLS_SELF_TEST
#undef MBEDTLS_CERTS_C

#endif /* DUALSP_MBEDTLS_CONFIG_H */
