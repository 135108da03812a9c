/*
 * tls.h: the pair's TLS: TLS 1.3 only, mutual, both certificates issued by
 * the pair CA; after the handshake the peer must be the configured partner
 * (its name in the certificate, unrevoked, unexpired).
 */
#ifndef PP_TLS_H
#define PP_TLS_H

#include <openssl/ssl.h>

#include "config.h"

/*
 * A context for this pool from ${cfg}: its identity certificate and key,
 * the pair CA and CRL as the only trust, TLS 1.3 only, peer certificates
 * required.  ${server}: for accepting.  NULL on failure (PP_EKEY).
 */
SSL_CTX *tls_ctx_new(const struct pp_config *cfg, int server);

/*
 * Check the peer of the finished handshake on ${ssl}: a certificate that
 * chains to the pair CA, is not revoked or expired, and names the partner
 * of ${cfg}.  Returns 0, or -1 with the reason (PP_EKEY).
 */
int tls_peer_check(SSL *ssl, const struct pp_config *cfg);

/* The OpenSSL error queue's first reason (or ${dflt}), emptied. */
const char *tls_error(const char *dflt);

#endif
