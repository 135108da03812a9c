/*
 * tls.c: TLS contexts and the peer check for the link between the pools
 * (see tls.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "err.h"
#include "pki.h"
#include "tls.h"

const char *
tls_error(const char *dflt)
{
	static __thread char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return (dflt);
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return (buf);
}

SSL_CTX *
tls_ctx_new(const struct pp_config *cfg, int server)
{
	SSL_CTX *ctx;
	X509_STORE *store;

	if ((ctx = SSL_CTX_new(server ? TLS_server_method() :
	    TLS_client_method())) == NULL)
		goto err;
	/* TLS 1.3 and nothing else: no downgrade exists to be forced. */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate(ctx, cfg->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, cfg->identity_key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto err;
	/* The pair CA is the only trust anchor, with its CRL. */
	if ((store = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(store, cfg->ca) != 1 ||
	    (cfg->crl != NULL && X509_STORE_add_crl(store, cfg->crl) != 1)) {
		X509_STORE_free(store);
		goto err;
	}
	if (cfg->crl != NULL)
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	SSL_CTX_set_cert_store(ctx, store);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 2);
	/* No resumption: every connection proves both identities anew. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_num_tickets(ctx, 0);
	return (ctx);
err:
	pp_err(PP_EKEY, "cannot set up TLS: %s", tls_error("unknown error"));
	SSL_CTX_free(ctx);
	return (NULL);
}

int
tls_peer_check(SSL *ssl, const struct pp_config *cfg)
{
	X509 *peer;
	int rc;

	if (SSL_version(ssl) != TLS1_3_VERSION) {
		pp_err(PP_EKEY, "peer did not use TLS 1.3");
		return (-1);
	}
	if ((peer = SSL_get1_peer_certificate(ssl)) == NULL) {
		pp_err(PP_EKEY, "peer sent no certificate");
		return (-1);
	}
	rc = pki_verify(cfg->ca, cfg->crl, peer, cfg->partner);
	X509_free(peer);
	return (rc);
}
