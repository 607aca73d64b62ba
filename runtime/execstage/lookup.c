//go:build cgo

// The program and HOME of an init set up without Go (setup.c), found as
// the Go init finds them: exec.LookPath's search and texts, /etc/passwd
// read as homeIn reads it.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "execstage.h"
#include "setup.h"

#define fail hako_fail

// passwd_home is the home of uid in /etc/passwd (its first megabyte),
// or "/": read as the Go side's homeIn reads it.
char *hako_passwd_home(uid_t uid)
{
	int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return strdup("/");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return strdup("/");
	}
	size_t cap = 1 << 20, n = 0;
	char *b = malloc(cap + 1);
	if (!b)
		fail("read /etc/passwd");
	for (ssize_t r; n < cap && (r = read(fd, b + n, cap - n)) != 0; n += r > 0 ? (size_t)r : 0)
		if (r < 0 && errno != EINTR)
			break;
	close(fd);
	b[n] = 0;
	char want[24], *home = NULL;
	snprintf(want, sizeof(want), "%u", (unsigned)uid);
	for (char *line = b, *next; line && !home; line = next) {
		if ((next = memchr(line, '\n', (size_t)(b + n - line))))
			*next++ = 0;
		// name:password:uid:gid:gecos:home:shell
		char *f[7] = {line};
		int nf = 1;
		for (char *c = line; *c && nf < 7; c++)
			if (*c == ':') {
				*c = 0;
				f[nf++] = c + 1;
			}
		if (nf >= 6 && strcmp(f[2], want) == 0 && f[5][0])
			home = strdup(f[5]);
	}
	free(b);
	return home ? home : strdup("/");
}

// find_program is exec.LookPath's search over the candidates: a file,
// not a directory, that access(2) lets this process execute (or, where
// faccessat2 is refused, with an execute bit). Its errors are
// exec.LookPath's texts, which clients match ("executable file not
// found").
const char *hako_find_program(const struct hako_plan *p)
{
	const struct hako_setup *su = &p->setup;
	int slash = strchr(p->argv[0], '/') != NULL;
	char msg[PATH_MAX + 512], why[256];
	for (uint32_t i = 0; i < su->h.ncands; i++) {
		const char *c = su->cands[i];
		struct stat st;
		int e;
		if (stat(c, &st) < 0) {
			e = errno;
			hako_cause(e, why, sizeof(why));
			snprintf(msg, sizeof(msg), "exec: %s: stat %s: %s", su->quoted, c, why);
		} else if (S_ISDIR(st.st_mode)) {
			e = EISDIR;
			snprintf(msg, sizeof(msg), "exec: %s: is a directory", su->quoted);
		} else if (faccessat(AT_FDCWD, c, X_OK, AT_EACCESS) == 0 ||
			   ((errno == ENOSYS || errno == EPERM) && (st.st_mode & 0111))) {
			return c;
		} else {
			e = errno == ENOSYS || errno == EPERM ? EACCES : errno;
			hako_cause(e, why, sizeof(why));
			snprintf(msg, sizeof(msg), "exec: %s: %s", su->quoted, why);
		}
		if (slash) {
			errno = e;
			hako_fail_text(msg);
		}
	}
	snprintf(msg, sizeof(msg), "exec: %s: executable file not found in $PATH", su->quoted);
	errno = ENOENT;
	hako_fail_text(msg);
}
