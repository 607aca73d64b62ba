//go:build cgo

// The container init's setup without a Go runtime (plans of kind INIT):
// the root filesystem's steps as rootfs.Plan lays them out (and the Go
// init's rootfs runner carries them out), the hostname, domainname and
// sysctls, HOME and the program's lookup. Every target is resolved
// inside the root with openat2(2) RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
// what is missing is made one component at a time from the root's
// descriptor, with O_NOFOLLOW, links followed inside the root as the Go
// init's mkdirIn does. Every mount goes onto /proc/self/fd/N of a target
// so resolved, never onto a path the kernel would walk again.
//
// A failure goes to the parent before "ready" (a program not found, a
// refused mount): it then redoes the whole setup with the Go init in a
// fresh init process (this one's mount namespace dies with it), and
// reports that one's error: the error texts are the Go init's. The steps
// are the Go init's, in its order, so what fails here fails there too.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "execstage.h"
#include "setup.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

// The struct mount_attr of linux/mount.h under a name of ours: glibc's
// sys/mount.h declares it and musl's does not, and linux/mount.h cannot
// be included next to glibc's.
struct hako_mount_attr {
	__u64 attr_set, attr_clr, propagation, userns_fd;
};

#define fail hako_fail

// fd_path is how mount(2) reaches what fd refers to (two at a time).
static const char *fd_path(int fd)
{
	static char buf[2][32];
	static int i;
	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "/proc/self/fd/%d", fd);
	return buf[i];
}

#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

// current_flags are the flags of the mount fd is on that a remount must
// repeat to keep them (statfs(2) reports them as ST_* bits).
static uint64_t current_flags(int fd, const char *path)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		fail("statfs %s", path);
	static const struct {
		unsigned long st;
		uint64_t ms;
	} m[] = {{ST_RDONLY, MS_RDONLY},   {ST_NOSUID, MS_NOSUID},		{ST_NODEV, MS_NODEV},
		 {ST_NOEXEC, MS_NOEXEC},   {ST_NOATIME, MS_NOATIME},		{ST_NODIRATIME, MS_NODIRATIME},
		 {ST_RELATIME, MS_RELATIME}};
	uint64_t ms = 0;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (sf.f_flags & m[i].st)
			ms |= m[i].ms;
	// Neither noatime nor relatime: strictatime, which a remount without
	// it would turn into the default relatime.
	if (!(sf.f_flags & (ST_NOATIME | ST_RELATIME)))
		ms |= MS_STRICTATIME;
	return ms;
}

// remount changes the flags of the mount at path, keeping those of its
// own the config does not clear: inside a user namespace the kernel
// refuses to drop flags locked by the parent, so a clear that is refused
// is dropped (as the Go init does, and runc).
static void remount(const char *path, uint64_t flags, uint64_t clear)
{
	int t = hako_must_open_in(path, O_PATH);
	uint64_t keep = current_flags(t, path);
	if (flags & ATIME_FLAGS)
		keep &= ~(uint64_t)ATIME_FLAGS;
	if (mount("", fd_path(t), "", flags | (keep & ~clear) | MS_REMOUNT, "") < 0 &&
	    (errno != EPERM || !(keep & clear) || mount("", fd_path(t), "", flags | keep | MS_REMOUNT, "") < 0))
		fail("remount %s", path);
	close(t);
}

static void do_mount(const struct hako_mount *m)
{
	int t = -1;
	if (strcmp(m->type, "proc") == 0 || strcmp(m->type, "sysfs") == 0) {
		// Never through a link of the image's (CVE-2019-19921): what is
		// checked is what gets mounted on.
		t = hako_openat2(hako_root, hako_rel(m->target), O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
		if (t < 0 && errno == ELOOP)
			fail("mount %s on %s: the destination is a symlink in the rootfs", m->type, m->target);
	}
	int existed = 0;
	if (strcmp(m->type, "tmpfs") == 0) {
		int fd = hako_open_in(m->target, O_PATH | O_DIRECTORY);
		if ((existed = fd >= 0))
			close(fd);
	}
	if (t < 0)
		t = hako_mkdir_in(m->target);
	char data[4096];
	const char *d = m->data;
	if (existed) {
		// Over an image's directory a tmpfs takes its mode (a
		// world-writable /etc would be an escalation); a mode= of the
		// config's, later, wins.
		struct stat st;
		if (fstat(t, &st) < 0)
			fail("stat %s", m->target);
		if (snprintf(data, sizeof(data), "mode=%04o%s%s", st.st_mode & 07777, *m->data ? "," : "", m->data) >=
		    (int)sizeof(data)) {
			errno = E2BIG;
			fail("mount %s on %s", m->type, m->target);
		}
		d = data;
	}
	if (mount(m->source, fd_path(t), m->type, m->flags, d) < 0)
		fail("mount %s on %s (type %s)", m->source, m->target, m->type);
	close(t);
}

static void do_bind(const struct hako_mount *m)
{
	struct stat st;
	if (stat(m->source, &st) < 0)
		fail("stat %s", m->source);
	int t = S_ISDIR(st.st_mode) ? hako_mkdir_in(m->target) : hako_create_file_in(m->target, 0644);
	if (mount(m->source, fd_path(t), "", m->flags, "") < 0)
		fail("bind %s on %s", m->source, m->target);
	close(t);
}

static void do_mknod(const struct hako_mount *m)
{
	char dir[PATH_MAX];
	const char *name = hako_split(m->target, dir, sizeof(dir));
	int d = hako_mkdir_in(dir);
	mode_t old = umask(0); // the node gets exactly the config's mode
	// A node the image left is replaced; unlinkat never follows links.
	if (unlinkat(d, name, 0) < 0 && errno != ENOENT)
		fail("unlink %s", m->target);
	if (mknodat(d, name, m->dev_mode, makedev(m->dev_major, m->dev_minor)) < 0)
		fail("mknod %s", m->target);
	if ((m->uid != -1 || m->gid != -1) &&
	    fchownat(d, name, (uid_t)m->uid, (gid_t)m->gid, AT_SYMLINK_NOFOLLOW) < 0)
		fail("chown %s", m->target);
	umask(old);
	close(d);
}

static void do_symlink(const struct hako_mount *m)
{
	char dir[PATH_MAX];
	const char *name = hako_split(m->target, dir, sizeof(dir));
	int d = hako_mkdir_in(dir);
	if (symlinkat(m->link, d, name) < 0 && errno != EEXIST)
		fail("symlink %s", m->target);
	close(d);
}

// pivot makes source the root with pivot_root(2) and detaches the old
// one, made a slave first so that the detach does not reach the host.
static void pivot(const char *source)
{
	int old = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (old < 0)
		fail("open /");
	if (chdir(source) < 0)
		fail("chdir %s", source);
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		if (errno == EINVAL) {
			char msg[PATH_MAX + 256];
			snprintf(msg, sizeof(msg),
				 "prepare rootfs: pivot_root %s: invalid argument (a root on ramfs or the initramfs cannot "
				 "be pivoted: use --no-pivot)",
				 source);
			hako_fail_text(msg);
		}
		fail("prepare rootfs: pivot_root %s", source);
	}
	if (fchdir(old) < 0)
		fail("fchdir old root");
	if (mount("", ".", "", MS_SLAVE | MS_REC, "") < 0)
		fail("propagate old root");
	if (umount2(".", MNT_DETACH) < 0)
		fail("umount old root");
	if (chdir("/") < 0)
		fail("chdir /");
	close(old);
	close(hako_root);
	if ((hako_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		fail("open /");
}

// quote writes s as Go's %q does for the texts seen here (ASCII escaped
// as strconv.Quote escapes it; other bytes, UTF-8 as a rule, as they are):
// the errors after the hooks ran are the stage's and read as the Go init's.
static const char *quote(const char *s, char *buf, size_t len)
{
	size_t j = 0;
	buf[j++] = '"';
	for (; *s && j + 6 < len; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"': case '\\': buf[j++] = '\\'; buf[j++] = (char)c; break;
		case '\a': buf[j++] = '\\'; buf[j++] = 'a'; break;
		case '\b': buf[j++] = '\\'; buf[j++] = 'b'; break;
		case '\f': buf[j++] = '\\'; buf[j++] = 'f'; break;
		case '\n': buf[j++] = '\\'; buf[j++] = 'n'; break;
		case '\r': buf[j++] = '\\'; buf[j++] = 'r'; break;
		case '\t': buf[j++] = '\\'; buf[j++] = 't'; break;
		case '\v': buf[j++] = '\\'; buf[j++] = 'v'; break;
		default:
			if (c < 0x20 || c == 0x7f)
				j += (size_t)snprintf(buf + j, len - j, "\\x%02x", c);
			else
				buf[j++] = (char)c;
		}
	}
	buf[j++] = '"';
	buf[j] = 0;
	return buf;
}

static void host_settings(const struct hako_setup *su, int more)
{
	char q[1024];
	if (su->hostname[0] && sethostname(su->hostname, strlen(su->hostname)) < 0)
		fail("set hostname %s", quote(su->hostname, q, sizeof(q)));
	if (su->domainname[0] && setdomainname(su->domainname, strlen(su->domainname)) < 0)
		fail("set domainname %s", quote(su->domainname, q, sizeof(q)));
	// The sysctls and the steps after this one go through /proc: it must
	// be a real procfs, not whatever the image put at /proc. (The Go
	// init's texts.)
	struct statfs sf;
	struct stat st;
	if ((more || su->h.nsysctls > 0) && (lstat("/proc", &st) < 0 || !S_ISDIR(st.st_mode) ||
					     statfs("/proc", &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)) {
		errno = EINVAL;
		hako_fail_text(su->h.nsysctls > 0 ? "set sysctls: /proc in the container is not procfs: "
						    "linux.sysctl needs the config to mount proc at /proc"
						  : "/proc in the container is not procfs: masked and read-only paths need "
						    "the config to mount proc at /proc");
	}
	for (uint32_t i = 0; i < su->h.nsysctls; i++) {
		const char *path = su->sysctls[2 * i], *v = su->sysctls[2 * i + 1];
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0);
		if (fd < 0 || write(fd, v, strlen(v)) != (ssize_t)strlen(v)) {
			// The key, as the config has it: checkSysctls took none with
			// a '/', and the path is it with '.' made '/'.
			char key[PATH_MAX];
			snprintf(key, sizeof(key), "%s", path + strlen("/proc/sys/"));
			for (char *c = key; *c; c++)
				if (*c == '/')
					*c = '.';
			fail("set sysctl %s=%s", key, quote(v, q, sizeof(q)));
		}
		close(fd);
	}
}

static void readonly_path(const char *path)
{
	int t = hako_open_in(path, O_PATH);
	if (t < 0 && errno == ENOENT)
		return; // as runc
	if (t < 0)
		fail("open %s", path);
	if (mount(fd_path(t), fd_path(t), "", MS_BIND | MS_REC, "") < 0)
		fail("bind %s on %s", path, path);
	close(t);
	remount(path, MS_BIND | MS_RDONLY, 0);
}

// mask_path hides path: a directory under an empty read-only tmpfs, a
// file under the container's /dev/null, checked to be the null device
// first (CVE-2025-31133).
static void mask_path(const char *path)
{
	int t = hako_open_in(path, O_PATH);
	if (t < 0 && errno == ENOENT)
		return;
	struct stat st;
	if (t < 0 || fstat(t, &st) < 0)
		fail("open %s", path);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", fd_path(t), "tmpfs", MS_RDONLY, "") < 0)
			fail("mount tmpfs on %s", path);
		close(t);
		return;
	}
	int null = hako_must_open_in("/dev/null", O_PATH);
	if (fstat(null, &st) < 0)
		fail("stat /dev/null");
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		errno = EINVAL;
		fail("mask %s: /dev/null is not the null device", path);
	}
	if (mount(fd_path(null), fd_path(t), "", MS_BIND, "") < 0)
		fail("bind /dev/null on %s", path);
	close(null);
	close(t);
}

// hooks has the parent run the prestart and createRuntime hooks: every
// mount is made, the root not yet switched.
static void hooks(void)
{
	static const char req[] = "{\"type\":\"hooks\"}", done[] = "{\"type\":\"hooks-done\"}";
	int fd = hako_sync_fd();
	char buf[64];
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
		fail("send hooks");
	ssize_t n;
	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	// Anything else: the parent failed them, or is gone; it reports.
	if (n != (ssize_t)sizeof(done) - 1 || memcmp(buf, done, sizeof(done) - 1) != 0)
		_exit(1);
}

static void step(const struct hako_setup *su, uint32_t i)
{
	const struct hako_mount *m = &su->mounts[i];
	if (hako_root < 0 && m->kind != HAKO_M_ROOT_PROPAGATION && m->kind != HAKO_M_BIND_ROOTFS) {
		errno = EINVAL;
		fail("setup step %u: the rootfs is not bound yet", i);
	}
	int t;
	switch (m->kind) {
	case HAKO_M_ROOT_PROPAGATION:
		if (mount("", "/", "", m->flags, "") < 0)
			fail("propagate /");
		break;
	case HAKO_M_BIND_ROOTFS:
		if (m->flags && mount(m->source, m->source, "", m->flags, "") < 0)
			fail("bind %s on %s", m->source, m->source);
		if ((hako_root = open(m->source, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			fail("open %s", m->source);
		break;
	case HAKO_M_MOUNT:
		do_mount(m);
		break;
	case HAKO_M_BIND:
		do_bind(m);
		break;
	case HAKO_M_REMOUNT:
		remount(m->target, m->flags, m->clear);
		break;
	case HAKO_M_SETATTR: {
		struct hako_mount_attr attr = {.attr_set = m->attr_set, .attr_clr = m->attr_clr};
		t = hako_must_open_in(m->target, O_PATH);
		if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
			fail("setattr %s", m->target);
		close(t);
		break;
	}
	case HAKO_M_PROPAGATE:
		t = hako_must_open_in(m->target, O_PATH);
		if (mount("", fd_path(t), "", m->flags, "") < 0)
			fail("propagate %s", m->target);
		close(t);
		break;
	case HAKO_M_MKNOD:
		do_mknod(m);
		break;
	case HAKO_M_BIND_DEVICE:
		t = hako_create_file_in(m->target, 0);
		if (mount(m->target, fd_path(t), "", MS_BIND, "") < 0)
			fail("bind %s on %s", m->target, m->target);
		close(t);
		break;
	case HAKO_M_SYMLINK:
		do_symlink(m);
		break;
	case HAKO_M_PIVOT_ROOT:
		pivot(m->source);
		break;
	case HAKO_M_HOST_SETTINGS:
		host_settings(su, i + 1 < su->h.nmounts);
		break;
	case HAKO_M_READONLY_PATH:
		readonly_path(m->target);
		break;
	case HAKO_M_MASK_PATH:
		mask_path(m->target);
		break;
	case HAKO_M_HOOKS:
		hooks();
		break;
	default:
		errno = EINVAL;
		fail("setup step %u: unknown kind %u", i, m->kind);
	}
}

void hako_setup(struct hako_plan *p)
{
	const struct hako_setup *su = &p->setup;
	for (uint32_t i = 0; i < su->h.nmounts; i++)
		step(su, i);
	if (hako_root >= 0)
		close(hako_root);
	if (su->h.flags & HAKO_SETUP_HOME) {
		char *home = hako_passwd_home(p->h.uid), *env = malloc(strlen(home) + 6);
		char **envp = realloc(p->envp, (p->h.envc + 2) * sizeof(char *));
		if (!env || !envp)
			fail("set HOME");
		sprintf(env, "HOME=%s", home);
		free(home);
		envp[p->h.envc] = env;
		envp[p->h.envc + 1] = NULL;
		p->envp = envp;
	}
	p->path = hako_find_program(p);
}
