//go:build cgo

// Paths inside the container's root, for the init's setup without Go
// (setup.c): every lookup with openat2(2) RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS from the root's descriptor; what is missing made
// one component at a time with O_NOFOLLOW, links followed inside the root
// as the Go init's mkdirIn and createFileIn (rootfs/resolve.go) do.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "execstage.h"
#include "setup.h"

#define fail hako_fail

// root is the directory targets are resolved in: the rootfs before the
// root switch, "/" after it.
int hako_root = -1;

int hako_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = {.flags = flags | O_CLOEXEC, .resolve = resolve};
	// With RESOLVE_IN_ROOT the kernel gives up on a lookup through ".."
	// when any rename or mount happened meanwhile: EAGAIN, try again.
	for (int i = 0;; i++) {
		int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN || i == 100)
			return fd;
	}
}

// rel is path relative to the root ("." for the root itself).
const char *hako_rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

int hako_open_in(const char *path, int flags)
{
	return hako_openat2(hako_root, hako_rel(path), (uint64_t)flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int hako_must_open_in(const char *path, int flags)
{
	int fd = hako_open_in(path, flags);
	if (fd < 0)
		fail("open %s in the container's root", path);
	return fd;
}

// split puts path's parent (a clean absolute path) into dir and returns
// its last name.
const char *hako_split(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	if (!slash || slash[1] == 0 || (size_t)(slash - path) >= len) {
		errno = EINVAL;
		fail("split %s", path);
	}
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	memcpy(dir, path, n);
	dir[n] = 0;
	return slash + 1;
}

// hako_clean_path makes the absolute path p lexically clean in place, as Go's
// filepath.Clean: no empty, "." or ".." components ("/.." is "/"). Each
// name is written after its slash, never past where it was read: every
// name of the input is preceded by a slash of its own.
int hako_clean_path(char *p)
{
	if (p[0] != '/')
		return -1;
	char *out = p, *in = p;
	size_t depth = 0;
	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		char *end = strchrnul(in, '/');
		size_t n = (size_t)(end - in);
		if (n == 2 && in[0] == '.' && in[1] == '.') {
			if (depth > 0) {
				while (out > p && *--out != '/')
					;
				depth--;
			}
		} else if (n != 1 || in[0] != '.') {
			*out++ = '/';
			memmove(out, in, n);
			out += n;
			depth++;
		}
		in = end;
	}
	if (out == p)
		*out++ = '/';
	*out = 0;
	return 0;
}

#define MAX_LINKS 40 // as the kernel's ELOOP

// mkdir_in makes path and its missing parents inside the root and
// returns it opened O_PATH; at gets its link-free path in the root. As
// the Go init's mkdirIn: each step is one name opened O_NOFOLLOW from
// the directory already reached; a link is read and its target walked
// from the root (absolute) or from where it stands (relative), ".."
// never climbs above the root, and a link that dangles gets its target
// made inside the root.
static int mkdir_in_at(const char *path, char at[PATH_MAX])
{
	snprintf(at, PATH_MAX, "/");
	char rest[2 * PATH_MAX + 2], tmp[2 * PATH_MAX + 2], link[PATH_MAX];
	if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest)) {
		errno = ENAMETOOLONG;
		fail("mkdir %s", path);
	}
	int cur = fcntl(hako_root, F_DUPFD_CLOEXEC, 0), links = 0;
	if (cur < 0)
		fail("dup the root's descriptor");
	for (char *p = rest;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchrnul(p, '/'), name[NAME_MAX + 1];
		size_t n = (size_t)(end - p), alen = strlen(at);
		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			fail("mkdir %s", path);
		}
		memcpy(name, p, n);
		name[n] = 0;
		p = end;
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			char *slash = strrchr(at, '/');
			slash[slash == at] = 0; // "/a/b" -> "/a", "/a" -> "/"
			int up = hako_open_in(at, O_PATH | O_DIRECTORY);
			if (up < 0)
				fail("open %s in the container's root", at);
			close(cur);
			cur = up;
			continue;
		}
		int next = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(cur, name, 0755) < 0 && errno != EEXIST)
				fail("mkdir %s%s%s in the container's root", at, alen > 1 ? "/" : "", name);
			next = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		struct stat st;
		if (next < 0 || fstat(next, &st) < 0)
			fail("open %s%s%s in the container's root", at, alen > 1 ? "/" : "", name);
		if (S_ISDIR(st.st_mode)) {
			close(cur);
			cur = next;
			if (snprintf(at + alen, PATH_MAX - alen, "%s%s", alen > 1 ? "/" : "", name) >= (int)(PATH_MAX - alen)) {
				errno = ENAMETOOLONG;
				fail("mkdir %s", path);
			}
			continue;
		}
		close(next);
		if (!S_ISLNK(st.st_mode)) {
			errno = ENOTDIR;
			fail("mkdir %s%s%s in the container's root", at, alen > 1 ? "/" : "", name);
		}
		if (++links > MAX_LINKS) {
			errno = ELOOP;
			fail("resolve %s in the container's root", path);
		}
		ssize_t ln = readlinkat(cur, name, link, sizeof(link) - 1);
		if (ln < 0)
			fail("readlink %s%s%s", at, alen > 1 ? "/" : "", name);
		link[ln] = 0;
		if (link[0] == '/') {
			int up = fcntl(hako_root, F_DUPFD_CLOEXEC, 0);
			if (up < 0)
				fail("dup the root's descriptor");
			close(cur);
			cur = up;
			snprintf(at, PATH_MAX, "/");
		}
		// The link's target, then what was left to walk.
		if (snprintf(tmp, sizeof(tmp), "%s/%s", link, p) >= (int)sizeof(tmp)) {
			errno = ENAMETOOLONG;
			fail("resolve %s in the container's root", path);
		}
		memcpy(rest, tmp, strlen(tmp) + 1);
		p = rest;
	}
	return cur;
}

int hako_mkdir_in(const char *path)
{
	char at[PATH_MAX], dir[PATH_MAX];
	int fd = hako_open_in(path, O_PATH | O_DIRECTORY);
	if (fd >= 0)
		return fd;
	// Mostly only the last name is missing (/dev/pts, a cgroup mount
	// point): made from its parent, found as the walk would find it,
	// costs 5 syscalls where the walk takes 3 per name. Anything else
	// (a missing parent, a dangling link standing there, a path with
	// "." or "..", which the walk takes after the links) is the walk's.
	char clean[PATH_MAX];
	if (errno == ENOENT && snprintf(clean, sizeof(clean), "%s", path) < (int)sizeof(clean) &&
	    hako_clean_path(clean) == 0 && strcmp(clean, path) == 0 && strcmp(clean, "/") != 0) {
		const char *name = hako_split(clean, dir, sizeof(dir));
		int d = hako_open_in(dir, O_PATH | O_DIRECTORY);
		if (d >= 0) {
			struct stat st;
			if (mkdirat(d, name, 0755) == 0 || errno == EEXIST)
				fd = openat(d, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			close(d);
			if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
				return fd;
			if (fd >= 0)
				close(fd);
		}
	}
	return mkdir_in_at(path, at);
}

// create_file_in makes path (and its parents) as an empty file of mode
// unless something is there, and returns it opened O_PATH. A dangling
// link in its place gets its target made, inside the root.
int hako_create_file_in(const char *target, mode_t mode)
{
	char path[PATH_MAX], dir[PATH_MAX], at[PATH_MAX], link[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s", target) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		fail("create %s", target);
	}
	for (int links = 0;; links++) {
		// Cleaned first, as the Go init's openIn does: a ".." of a link's
		// text cancels the name before it, never goes up from where a
		// link led.
		if (hako_clean_path(path) < 0) {
			errno = EINVAL;
			fail("create %s: not an absolute path", path);
		}
		int fd = hako_open_in(path, O_PATH);
		if (fd >= 0)
			return fd;
		const char *name = hako_split(path, dir, sizeof(dir));
		int d = hako_open_in(dir, O_PATH | O_DIRECTORY);
		if (d < 0)
			d = mkdir_in_at(dir, at);
		else if (snprintf(at, sizeof(at), "%s", dir) < 0)
			fail("create %s", path);
		// O_EXCL|O_NOFOLLOW: nothing that stands there is written through.
		int f = openat(d, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode);
		if (f >= 0) {
			close(f);
			close(d);
			return hako_must_open_in(path, O_PATH);
		}
		if (errno != EEXIST || links >= MAX_LINKS)
			fail("create %s in the container's root", path);
		ssize_t ln = readlinkat(d, name, link, sizeof(link) - 1);
		close(d);
		if (ln < 0) {
			errno = EEXIST;
			fail("create %s in the container's root", path);
		}
		link[ln] = 0;
		char next[PATH_MAX];
		int w = link[0] == '/' ? snprintf(next, sizeof(next), "%s", link)
				       : snprintf(next, sizeof(next), "%s/%s", at, link);
		if (w >= (int)sizeof(next)) {
			errno = ENAMETOOLONG;
			fail("create %s", path);
		}
		memcpy(path, next, (size_t)w + 1);
	}
}
