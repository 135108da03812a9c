/*
 * config.h: the pool's config file (INI, read with inih) and everything it
 * names, loaded and checked as a whole: a config that loads is one the pool
 * can run with.  docs/pki.md lists the keys and the refusals.
 *
 *   [pool]     fqdn, data
 *   [partner]  fqdn, cert
 *   [tls]      ca, crl, cert, key, seal_key
 *   optional, for the daemon: [pool] listen, [partner] address,
 *   [backup] sync_interval
 */
#ifndef PP_CONFIG_H
#define PP_CONFIG_H

#include <limits.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki.h"
#include "pp_limits.h"

#define CONFIG_FILE_MAX	(64 << 10)	/* the config file's size bound */
#define CONFIG_ADDR_MAX	(PP_FQDN_MAX + 8)	/* "[host]:port" */
#define CONFIG_SYNC_MIN	5		/* sync_interval bounds, seconds, */
#define CONFIG_SYNC_MAX	10800		/* as the replaced system had them */

/* A loaded config.  Paths are absolute. */
struct pp_config {
	char path[PATH_MAX];		/* the config file, as named */
	char pool[PP_FQDN_MAX + 1];	/* [pool] fqdn: this pool */
	char data[PATH_MAX];		/* [pool] data: the store directory */
	char partner[PP_FQDN_MAX + 1];	/* [partner] fqdn */
	char partner_cert_path[PATH_MAX];	/* [partner] cert */
	char ca_path[PATH_MAX];		/* [tls] ca: the pair CA certificate */
	char crl_path[PATH_MAX];	/* [tls] crl: the pair CA's CRL */
	char cert_path[PATH_MAX];	/* [tls] cert: our identity cert */
	char key_path[PATH_MAX];	/* [tls] key: our identity key */
	char seal_key_path[PATH_MAX];	/* [tls] seal_key: our X25519 key */
	char listen[CONFIG_ADDR_MAX + 1];	/* [pool] listen: "host:port"
						   ("" if not set) */
	char partner_addr[CONFIG_ADDR_MAX + 1];	/* [partner] address */
	int sync_interval;		/* [backup] sync_interval, seconds:
					   0 (default) streams at once */
	char pair[PKI_PAIR_MAX + 1];	/* the pair name: the CA's CN */
	X509 *ca;			/* the pair CA certificate */
	X509_CRL *crl;			/* its CRL, current */
	X509 *cert;			/* ours: chains, names [pool] fqdn */
	X509 *partner_cert;		/* chains, names [partner] fqdn */
	EVP_PKEY *identity_key;		/* Ed25519, the key of cert */
	EVP_PKEY *seal_key;		/* X25519, matches seal_pub */
	uint8_t seal_pub[PKI_SEAL_PUB_LEN];	/* from cert */
	uint8_t partner_seal_pub[PKI_SEAL_PUB_LEN];	/* from partner_cert */
};

/*
 * Read the config file ${path} (a regular file of at most CONFIG_FILE_MAX
 * bytes, not writable by group or others, owned by this user or root),
 * resolve relative paths against its directory, load and check everything
 * it names into ${out}: the certificates chain to the CA and are neither
 * revoked nor expired, each names its pool's FQDN, our keys are private
 * files and match our certificate.  Returns 0; or -1 with ${out} emptied
 * and one line recorded (err.h), "PATH:LINE: reason" for anything a line of
 * the file holds or names (LINE is the key's line, or the section's when a
 * key is missing, or 0 when the section is missing): PP_EINVAL for syntax,
 * unknown, duplicate, empty, missing or bad values; PP_EIO for a missing or
 * unreadable file; PP_ELIMIT for a file over its bound; PP_EKEY for loose,
 * foreign, mismatched, revoked, expired or weak keys and certificates.
 */
int config_load(const char *path, struct pp_config *out);

/*
 * Split address ${addr} ("host:port", "[v6]:port") into ${host} (at least
 * PP_FQDN_MAX + 1 bytes) and ${port}.  Returns 0 or -1 (PP_EINVAL).
 */
int config_addr_split(const char *addr, char *host, int *port);

/* Free and wipe what ${cfg} holds (not ${cfg} itself); NULL does nothing. */
void config_free(struct pp_config *cfg);

#endif
