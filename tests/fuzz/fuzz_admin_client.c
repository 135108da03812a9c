/*
 * fuzz_admin_client.c: libFuzzer harness for the admin socket's client side
 * as poolpaird's answers reach it: admin_call (reading one response line,
 * parsing it) and the control commands of the CLI that read the response
 * (src/cli/cmd_ctl.c: status, sync, verify, --wait-replicated), against a
 * server thread that answers every request with the input.  The input:
 *
 *   byte 0    the command (mod 8): status, status --json, sync,
 *             sync --wait --module userdata --json, verify, verify --json,
 *             verify --repair, and the --wait-replicated of "user add"
 *   the rest  the server's answer, sent whole, then the server closes
 *
 * Properties: the request the CLI sends is one JSON object with a string
 * "cmd" on one line; the command's exit code follows from the answer: 3 if
 * it has no newline or its first line is not a JSON object, else 0 when
 * "ok" is true (verify: 0 or 1), 4 for an error starting with "timeout" and
 * 1 for any other refusal.  Standard output goes to /dev/null.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "admin.h"
#include "cli.h"
#include "err.h"
#include "fuzz_env.h"
#include "fuzz_keys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char data_dir[PATH_MAX];
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static const uint8_t *answer;	/* what the server sends, under mtx */
static size_t answer_len;
static int bad_request;		/* the server got a bad one, under mtx */

/* Read the request line from ${fd}; check it.  Returns 0 or -1. */
static int
serve_read(int fd)
{
	static char buf[ADMIN_LINE_MAX + 2];
	size_t got = 0;
	ssize_t n;
	char *nl;
	json_error_t e;
	json_t *req;
	int rc;

	while ((n = read(fd, buf + got, sizeof(buf) - got)) > 0) {
		got += (size_t)n;
		if ((nl = memchr(buf, '\n', got)) != NULL) {
			req = json_loadb(buf, (size_t)(nl - buf), 0, &e);
			rc = req != NULL && json_is_object(req) &&
			    json_is_string(json_object_get(req, "cmd")) &&
			    (size_t)(nl - buf) + 1 == got ? 0 : -1;
			json_decref(req);
			return (rc);
		}
		if (got == sizeof(buf))
			break;
	}
	return (-1);
}

/* The server thread: one answer per connection. */
static void *
serve(void *arg)
{
	int lfd = *(int *)arg, fd;

	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0)
			continue;
		pthread_mutex_lock(&mtx);
		if (serve_read(fd) != 0)
			bad_request = 1;
		if (answer != NULL && answer_len > 0)
			(void)send(fd, answer, answer_len, MSG_NOSIGNAL);
		pthread_mutex_unlock(&mtx);
		close(fd);
	}
	return (NULL);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static int lfd;
	char sock[ADMIN_PATH_MAX];
	struct sockaddr_un sun;
	pthread_t t;

	(void)argc;
	(void)argv;
	snprintf(data_dir, sizeof(data_dir), "%s/data",
	    fuzz_tmpdir("pp-fuzz-ctl"));
	if (store_create(data_dir, FUZZ_POOL, NULL) != 0 ||
	    admin_sock_path(sock, data_dir) != 0 ||
	    admin_sockaddr(&sun, sock) != 0 ||
	    (lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(lfd, 4) != 0 ||
	    pthread_create(&t, NULL, serve, &lfd) != 0)
		fuzz_fail("cannot start the fake poolpaird");
	if (freopen("/dev/null", "w", stdout) == NULL)
		fuzz_fail("cannot send stdout to /dev/null");
	return (0);
}

/* The exit code the answer calls for (-1: 0 or 1, for verify). */
static int
expected(const uint8_t *a, size_t len, int verify)
{
	const uint8_t *nl = memchr(a, '\n', len);
	const char *e;
	json_error_t je;
	json_t *j;
	int rc;

	if (nl == NULL)
		return (EXIT_STORE);
	j = json_loadb((const char *)a, (size_t)(nl - a),
	    JSON_REJECT_DUPLICATES, &je);
	if (j == NULL || !json_is_object(j))
		rc = EXIT_STORE;
	else if (json_is_true(json_object_get(j, "ok")))
		rc = verify ? -1 : EXIT_OK;
	else if ((e = json_string_value(json_object_get(j, "error"))) !=
	    NULL && strncmp(e, "timeout", 7) == 0)
		rc = EXIT_TIMEOUT;
	else
		rc = EXIT_REFUSED;
	json_decref(j);
	return (rc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *argvs[7][8] = {
		{ "status", NULL },
		{ "status", "--json", NULL },
		{ "sync", NULL },
		{ "sync", "--wait", "--module", "userdata", "--json", NULL },
		{ "verify", NULL },
		{ "verify", "--json", NULL },
		{ "verify", "--repair", NULL },
	};
	struct cli c;
	int cmd, argc, rc, want, bad;

	if (size < 1)
		return (0);
	cmd = data[0] % 8;
	pthread_mutex_lock(&mtx);
	answer = data + 1;
	answer_len = size - 1;
	bad_request = 0;
	pthread_mutex_unlock(&mtx);
	memset(&c, 0, sizeof(c));
	c.data = data_dir;
	pp_err_clear();
	if (cmd == 7) {
		/* After a data command that wrote (userdata LSN 1): "wait". */
		c.path = "user add";
		c.wait_replicated = 5;
		c.written[STORE_MOD_USERDATA] = 1;
		if ((c.st = store_open(data_dir)) == NULL)
			fuzz_fail("cannot open the store");
		rc = cli_wait_replicated(&c);
		store_close(c.st);
	} else {
		for (argc = 0; argvs[cmd][argc] != NULL; argc++)
			continue;
		c.path = argvs[cmd][0];
		rc = cmd < 2 ? cmd_status(&c, argc, argvs[cmd]) :
		    cmd < 4 ? cmd_sync(&c, argc, argvs[cmd]) :
		    cmd_verify(&c, argc, argvs[cmd]);
	}
	fflush(stdout);
	pthread_mutex_lock(&mtx);
	answer = NULL;
	bad = bad_request;
	pthread_mutex_unlock(&mtx);
	if (bad)
		fuzz_fail("the CLI sent a bad request line");
	want = expected(data + 1, size - 1, cmd >= 4 && cmd <= 6);
	if (want == -1 ? rc != EXIT_OK && rc != EXIT_REFUSED : rc != want) {
		fprintf(stderr, "fuzz: command %d exit %d, expected %d\n", cmd,
		    rc, want);
		fuzz_fail("the exit code does not follow from the answer");
	}
	return (0);
}
