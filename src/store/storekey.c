/*
 * storekey.c: the pool's storage key file: 32 random bytes, mode 0600, owned
 * by the user running poolpair.  Content chunks are sealed under it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "err.h"
#include "store_int.h"
#include "util.h"

int
storekey_load(const char *dir, uint8_t key[static CRYPTO_KEY_LEN])
{
	char path[PATH_MAX];
	uint8_t buf[CRYPTO_KEY_LEN + 1];
	struct stat sb;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    STORE_KEYFILE) >= sizeof(path)) {
		pp_err(PP_EKEY, "storage key path is too long");
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		pp_errp(PP_EKEY, "cannot open storage key %s", path);
		goto err0;
	}
	if (fstat(fd, &sb) != 0) {
		pp_errp(PP_EKEY, "cannot stat storage key %s", path);
		goto err1;
	}
	if (!S_ISREG(sb.st_mode)) {
		pp_err(PP_EKEY, "storage key %s is not a regular file", path);
		goto err1;
	}
	if ((sb.st_mode & 077) != 0) {
		pp_err(PP_EKEY, "storage key %s is accessible by group or "
		    "others (mode %04o); it must be 0600", path,
		    (unsigned)(sb.st_mode & 07777));
		goto err1;
	}
	if (sb.st_uid != geteuid()) {
		pp_err(PP_EKEY, "storage key %s is owned by uid %u, not by "
		    "this user (%u)", path, (unsigned)sb.st_uid,
		    (unsigned)geteuid());
		goto err1;
	}
	if ((n = util_read_full(fd, buf, sizeof(buf))) < 0) {
		pp_errp(PP_EKEY, "cannot read storage key %s", path);
		goto err2;
	}
	if (n != CRYPTO_KEY_LEN) {
		pp_err(PP_EKEY, "storage key %s is %zd bytes, not %d", path,
		    n, CRYPTO_KEY_LEN);
		goto err2;
	}
	memcpy(key, buf, CRYPTO_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return (0);

err2:
	OPENSSL_cleanse(buf, sizeof(buf));
err1:
	close(fd);
err0:
	return (-1);
}

int
storekey_create(const char *dir, uint8_t key[static CRYPTO_KEY_LEN])
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    STORE_KEYFILE) >= sizeof(path)) {
		pp_err(PP_EKEY, "storage key path is too long");
		return (-1);
	}
	if (crypto_random(key, CRYPTO_KEY_LEN) != 0)
		return (-1);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		pp_errp(PP_EKEY, "cannot create storage key %s", path);
		return (-1);
	}
	if (util_write_all(fd, key, CRYPTO_KEY_LEN) != 0 || fsync(fd) != 0) {
		pp_errp(PP_EKEY, "cannot write storage key %s", path);
		close(fd);
		unlink(path);
		return (-1);
	}
	close(fd);
	return (0);
}

int
storekey_check(const uint8_t key[static CRYPTO_KEY_LEN], char out[65])
{
	static const char label[] = "poolpair storage key check v1";
	uint8_t mac[CRYPTO_HASH_LEN];

	if (crypto_hmac_sha256(key, CRYPTO_KEY_LEN, label, sizeof(label) - 1,
	    mac) != 0)
		return (-1);
	util_hex(out, mac, sizeof(mac));
	return (0);
}
