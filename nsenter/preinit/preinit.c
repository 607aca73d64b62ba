// The pre-init stage: runs as a constructor, before the Go runtime starts
// any thread, in every binary that imports hako.dev/nsenter/preinit. It
// does nothing unless _HAKO_NSENTER_FD names its sync socket. Then:
//
//   Go parent (nsenter.Start)             this process (P0)
//   -------------------------             -----------------
//   starts P0 (the binary, re-executed)
//                                 <-----  HELLO (its execve is over)
//   [sets its rlimits, etc.]
//   REQUEST (wire bytes)          ----->  parse; write "0" to each cgroup
//                                         tasks file given (joins them)
//                                         open every namespace to join
//                                         setns(): user first, then ipc uts net
//                                         pid cgroup time mnt
//                                         unshare(CLONE_NEWUSER) if asked
//                                 <-----  MAPS (pid)
//   write uid_map, gid_map
//   (or run newuidmap/newgidmap)
//   MAPS_DONE                     ----->  setresgid/setresuid 0: root of the new
//                                         user namespace, so execve keeps caps
//                                         unshare(all other new kinds)
//                                         write timens_offsets, oom_score_adj
//                                         if a pid or time namespace was made or
//                                         joined: only children enter it, so
//                                         clone(CLONE_PARENT) -> C1, a sibling:
//                                         the Go parent can wait for it
//                                 <-----  PID (C1, or P0 when no fork) ; P0 exits
//                                         [mount a new /proc]
//                                         C1 (or P0) returns into the Go runtime,
//                                         or execvp()s the requested program:
//                                 <-----  EOF (close-on-exec) or ERROR
//   any failure                   <-----  ERROR {"level":"error","msg":...,"errno":N}
//                                         and exit 1
//
// Every wait here is a read of the socket: if the parent dies, the read
// returns 0 and this process exits, leaving nothing behind.
//
// Exec mode (_HAKO_NSENTER_MODE=exec, nsenter.Exec): the caller has
// replaced itself with this binary, the REQUEST already queued on the
// socket, no one listening. No HELLO, MAPS or PID; a failure is printed to
// stderr as "PROG: what: cause" and exits 1. Where a pid or time namespace
// needs a child, this process stays as its parent: it passes signals on,
// waits, and exits with the child's status (128+N if signal N killed it),
// as nsenter(1) and unshare(1) do.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errnotext.h"
#include "preinit.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

enum { MSG_REQUEST = 1, MSG_MAPS = 2, MSG_MAPS_DONE = 3, MSG_PID = 4, MSG_ERROR = 5, MSG_HELLO = 6 };
enum { ATTR_NEW = 1, ATTR_JOIN = 2, ATTR_TIME = 3, ATTR_OOM = 4, ATTR_EXEC = 5, ATTR_FLAGS = 6, ATTR_CGROUP = 7 };

static int sync_fd = -1;
static int exec_mode;

static const struct {
	uint32_t flag;
	const char *name;
} kinds[] = {
	{CLONE_NEWUSER, "user"}, {CLONE_NEWIPC, "ipc"},       {CLONE_NEWUTS, "uts"},
	{CLONE_NEWNET, "net"},   {CLONE_NEWPID, "pid"},       {CLONE_NEWCGROUP, "cgroup"},
	{CLONE_NEWTIME, "time"}, {CLONE_NEWNS, "mnt"},
};

static const char *kind_name(uint32_t flag)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].flag == flag)
			return kinds[i].name;
	return NULL;
}

static size_t kind_rank(uint32_t flag)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].flag == flag)
			return i;
	return sizeof(kinds) / sizeof(kinds[0]);
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static int perr(char *err, size_t len, const char *msg)
{
	snprintf(err, len, "%s", msg);
	return -1;
}

void hako_clear_request(struct hako_request *r)
{
	memset(r, 0, offsetof(struct hako_request, join));
	r->argv[0] = NULL;
}

// hako_parse_request is the C twin of nsenter.Decode: same format, same
// refusals, never reading past n bytes.
int hako_parse_request(const uint8_t *b, size_t n, struct hako_request *r, char *err, size_t errlen)
{
	hako_clear_request(r);
	if (n < 8 || memcmp(b, "HKNS", 4) != 0)
		return perr(err, errlen, "bad magic");
	if (rd16(b + 4) != 1)
		return perr(err, errlen, "unknown version");
	if (n > HAKO_MAX_WIRE)
		return perr(err, errlen, "too long");
	unsigned count = rd16(b + 6);
	size_t off = 8;
	for (unsigned i = 0; i < count; i++) {
		// off may pass n by the padding of the previous attribute: check
		// it before subtracting, or the unsigned difference wraps.
		if (off > n || n - off < 4)
			return perr(err, errlen, "truncated attribute header");
		uint16_t type = rd16(b + off), len = rd16(b + off + 2);
		off += 4;
		if (off > n || n - off < len)
			return perr(err, errlen, "truncated attribute");
		const uint8_t *v = b + off;
		off += (len + 3u) & ~3u;
		switch (type) {
		case ATTR_NEW: {
			if (len != 4 || r->has_new)
				return perr(err, errlen, "bad new-namespaces attribute");
			r->has_new = 1;
			uint32_t flags = rd32(v), known = 0;
			for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
				known |= kinds[k].flag;
			if (flags & ~known)
				return perr(err, errlen, "unknown flags");
			r->new_flags |= flags;
			break;
		}
		case ATTR_JOIN: {
			if (len < 5 || (size_t)(len - 4) >= sizeof(r->join[0].path))
				return perr(err, errlen, "bad join attribute");
			if (!kind_name(rd32(v)))
				return perr(err, errlen, "unknown namespace flag");
			if (r->njoin >= HAKO_MAX_JOIN)
				return perr(err, errlen, "too many namespaces to join");
			r->join[r->njoin].flag = rd32(v);
			memcpy(r->join[r->njoin].path, v + 4, len - 4);
			r->join[r->njoin].path[len - 4] = 0;
			if (memchr(v + 4, 0, len - 4))
				return perr(err, errlen, "NUL in namespace path");
			r->njoin++;
			break;
		}
		case ATTR_TIME: {
			if (len != 20)
				return perr(err, errlen, "bad time offset attribute");
			uint32_t clock = rd32(v);
			if (clock != 1 && clock != 7)
				return perr(err, errlen, "unknown clock");
			if (r->ntime >= HAKO_MAX_TIME)
				return perr(err, errlen, "too many time offsets");
			r->time[r->ntime].clock = clock;
			r->time[r->ntime].sec = (int64_t)rd64(v + 4);
			r->time[r->ntime].nsec = (int64_t)rd64(v + 12);
			r->ntime++;
			break;
		}
		case ATTR_OOM:
			if (len != 4 || r->has_oom)
				return perr(err, errlen, "bad oom_score_adj attribute");
			r->has_oom = 1;
			r->oom = (int32_t)rd32(v);
			break;
		case ATTR_EXEC: {
			if (len == 0 || v[len - 1] != 0 || r->nargs > 0)
				return perr(err, errlen, "bad exec attribute");
			memcpy(r->argbuf, v, len);
			for (size_t p = 0; p < len;) {
				if (r->nargs >= HAKO_MAX_ARGS)
					return perr(err, errlen, "bad exec attribute");
				r->argv[r->nargs++] = r->argbuf + p;
				p += strlen(r->argbuf + p) + 1;
			}
			r->argv[r->nargs] = NULL;
			if (r->argv[0][0] == 0)
				return perr(err, errlen, "bad exec attribute");
			break;
		}
		case ATTR_CGROUP:
			if (len == 0 || len >= PATH_MAX || v[0] != '/' || memchr(v, 0, len) || r->ncg >= HAKO_MAX_CGROUPS)
				return perr(err, errlen, "bad cgroup attribute");
			memcpy(r->cgroup[r->ncg], v, len);
			r->cgroup[r->ncg][len] = 0;
			r->ncg++;
			break;
		case ATTR_FLAGS:
			if (len != 4 || r->has_flags || (rd32(v) & ~(uint32_t)(HAKO_FLAG_FORK | HAKO_FLAG_MOUNT_PROC)))
				return perr(err, errlen, "bad flags attribute");
			r->has_flags = 1;
			r->flags = rd32(v);
			break;
		default:
			return perr(err, errlen, "unknown attribute type");
		}
	}
	if (off < n)
		return perr(err, errlen, "trailing bytes");
	return 0;
}

static void send_msg(uint32_t type, const void *p, size_t n)
{
	uint8_t buf[4 + 4096];
	if (n > sizeof(buf) - 4)
		n = sizeof(buf) - 4;
	memcpy(buf, &type, 4);
	memcpy(buf + 4, p, n);
	if (send(sync_fd, buf, 4 + n, MSG_NOSIGNAL) < 0)
		_exit(1);
}

// hako_preinit_cause is Go's wording of errno e (errnotext.h), not the C
// library's: nsrun's C path words errors as its Go path does.
const char *hako_preinit_cause(int e)
{
	static char unknown[32];
	if (e > 0 && (size_t)e < sizeof(hako_errno_text) / sizeof(hako_errno_text[0]) && hako_errno_text[e])
		return hako_errno_text[e];
	snprintf(unknown, sizeof(unknown), "errno %d", e);
	return unknown;
}

// fail reports what failed, with errno, as a JSON log line, and exits.
__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	int e = errno;
	char msg[1024], json[3072];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t j = 0;
	j += snprintf(json, sizeof(json), "{\"level\":\"error\",\"msg\":\"");
	for (const char *c = msg; *c && j < sizeof(json) - 64; c++) {
		if (*c == '"' || *c == '\\')
			json[j++] = '\\', json[j++] = *c;
		else if ((unsigned char)*c < 0x20)
			j += snprintf(json + j, 7, "\\u%04x", *c);
		else
			json[j++] = *c;
	}
	j += snprintf(json + j, sizeof(json) - j, "\",\"errno\":%d}", e);
	if (exec_mode) {
		char line[2048];
		int n = snprintf(line, sizeof(line), "%s: %s: %s\n", program_invocation_short_name, msg, hako_preinit_cause(e));
		if (n > (int)sizeof(line) - 1)
			n = sizeof(line) - 1, line[n - 1] = '\n';
		ssize_t w = write(2, line, (size_t)n); // one write(2): no stdio
		(void)w;
		_exit(1);
	}
	send_msg(MSG_ERROR, json, j);
	_exit(1);
}

// The exec-mode parent's child, for forward().
static volatile pid_t fwd_child;

// The signals a user or supervisor sends, passed on to the child.
static const int fwd_sigs[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGABRT, SIGUSR1,   SIGUSR2, SIGPIPE,
			       SIGALRM, SIGTERM, SIGCONT, SIGTSTP, SIGTTIN,   SIGTTOU, SIGWINCH,
			       SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPWR, SIGSYS, SIGIO};

static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int e = errno;
	// A signal the terminal sent (^C, ^Z, a resize) reached the child
	// too, through the process group: passing it on would double it.
	if (fwd_child > 0 && si->si_code != SI_KERNEL)
		kill(fwd_child, sig);
	errno = e;
}

// fork_and_wait makes the child that enters a pid or time namespace; in
// the parent it passes signals on, stops when the child stops (so that
// job control works, as nsenter(1) does), and exits with the child's
// status. It returns in the child only.
static void fork_and_wait(void)
{
	sigset_t set, old;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(fwd_sigs) / sizeof(fwd_sigs[0]); i++)
		sigaddset(&set, fwd_sigs[i]);
	// Blocked across the fork, so none arrives before it can be passed on.
	sigprocmask(SIG_BLOCK, &set, &old);
	pid_t child = fork();
	if (child < 0)
		fail("fork into the new pid namespace");
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return;
	}
	fwd_child = child;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO;
	for (size_t i = 0; i < sizeof(fwd_sigs) / sizeof(fwd_sigs[0]); i++)
		sigaction(fwd_sigs[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sync_fd);
	int st;
	for (;;) {
		if (waitpid(child, &st, WUNTRACED) < 0) {
			if (errno == EINTR)
				continue;
			_exit(255);
		}
		if (!WIFSTOPPED(st))
			break;
		// The child stopped (^Z): stop too, then wake it when continued.
		raise(SIGSTOP);
		kill(child, SIGCONT);
	}
	_exit(WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st));
}

static void send_pid(pid_t pid)
{
	uint32_t p = (uint32_t)pid;
	send_msg(MSG_PID, &p, 4);
}

static void write_fd(int fd, const char *data, const char *what)
{
	size_t n = strlen(data);
	if (write(fd, data, n) != (ssize_t)n)
		fail("%s", what);
	close(fd);
}

// A binary defines hako_nsrun_argv (cmd/nsrun does) to have its command
// line read by nsrun_argv below; in any other binary the weak reference
// is NULL and the command line is never looked at.
extern const int hako_nsrun_argv __attribute__((weak));

static uint32_t kind_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i].name) == len && strncmp(kinds[i].name, name, len) == 0)
			return kinds[i].flag;
	return 0;
}

// opt matches argv[*i] against a long flag taking a value, "--name V" or
// "--name=V" (and the short form "-s V" when given), and returns V.
static const char *opt(int argc, char **argv, int *i, const char *name, const char *shortname)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) == 0 && a[n] == '=')
		return a + n + 1;
	if ((strcmp(a, name) == 0 || (shortname && strcmp(a, shortname) == 0)) && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static int add_join(struct hako_request *r, uint32_t flag, const char *path)
{
	if (r->njoin == HAKO_MAX_JOIN || strlen(path) >= PATH_MAX || path[0] == 0)
		return 0;
	for (int j = 0; j < r->njoin; j++)
		if (r->join[j].flag == flag)
			return 0;
	r->join[r->njoin].flag = flag;
	strcpy(r->join[r->njoin].path, path);
	r->njoin++;
	return 1;
}

// nsrun_argv reads the nsrun command lines that need no Go: --new (no
// user namespace: its maps are Go's), --join, --target with --all,
// --fork, --mount-proc, then "--" and the program. It fills r as nsrun's
// Go side would and returns 1, or returns 0 for anything else (help,
// other flags, any mistake), which nsrun's Go parser then handles and
// words. The two are held to each other by integration/namespaces_test.go.
static int nsrun_argv(int argc, char **argv, struct hako_request *r)
{
	hako_clear_request(r);
	long target = 0;
	int all = 0, i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i], *v;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if ((v = opt(argc, argv, &i, "--new", NULL))) {
			for (const char *p = v; *p;) {
				size_t len = strcspn(p, ",");
				uint32_t f = kind_flag(p, len);
				if (!f || f == CLONE_NEWUSER || (r->new_flags & f))
					return 0;
				r->new_flags |= f;
				p += len + (p[len] == ',');
			}
			r->has_new = 1;
		} else if ((v = opt(argc, argv, &i, "--join", NULL))) {
			const char *eq = strchr(v, '=');
			uint32_t f = eq ? kind_flag(v, (size_t)(eq - v)) : 0;
			if (!f || !add_join(r, f, eq + 1))
				return 0;
		} else if ((v = opt(argc, argv, &i, "--target", "-t"))) {
			char *end;
			target = strtol(v, &end, 10);
			if (*v == 0 || *end != 0 || target <= 0 || target > 1 << 30)
				return 0;
		} else if (strcmp(a, "--all") == 0 || strcmp(a, "-a") == 0) {
			all = 1;
		} else if (strcmp(a, "--fork") == 0 || strcmp(a, "-f") == 0) {
			r->flags |= HAKO_FLAG_FORK;
		} else if (strcmp(a, "--mount-proc") == 0) {
			r->flags |= HAKO_FLAG_MOUNT_PROC;
		} else {
			return 0;
		}
	}
	if (i >= argc || !!target != all || argv[i][0] == 0)
		return 0;
	if ((r->flags & HAKO_FLAG_MOUNT_PROC) && !(r->new_flags & CLONE_NEWNS))
		return 0;
	if (target) {
		// Every namespace of the target that differs from ours (joining
		// one's own user namespace fails), as nsenter.JoinAll.
		char dir[64], theirs[PATH_MAX], ours[PATH_MAX], link[128];
		snprintf(dir, sizeof(dir), "/proc/%ld/ns/", target);
		if (access(dir, F_OK) < 0)
			return 0;
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			snprintf(link, sizeof(link), "%s%s", dir, kinds[k].name);
			ssize_t t = readlink(link, theirs, sizeof(theirs) - 1);
			if (t < 0) {
				if (errno == ENOENT)
					continue;
				return 0;
			}
			theirs[t] = 0;
			char self[64];
			snprintf(self, sizeof(self), "/proc/self/ns/%s", kinds[k].name);
			ssize_t o = readlink(self, ours, sizeof(ours) - 1);
			ours[o < 0 ? 0 : o] = 0;
			if (strcmp(theirs, ours) != 0 && !add_join(r, kinds[k].flag, link))
				return 0;
		}
	}
	for (int j = 0; j < r->njoin; j++)
		if (r->new_flags & r->join[j].flag)
			return 0;
	// Joined in the stage's order (user first, mnt last), as Encode sorts.
	for (int a = 1; a < r->njoin; a++)
		for (int b = a; b > 0 && kind_rank(r->join[b].flag) < kind_rank(r->join[b - 1].flag); b--) {
			uint32_t f = r->join[b].flag;
			char tmp[PATH_MAX];
			strcpy(tmp, r->join[b].path);
			r->join[b] = r->join[b - 1];
			r->join[b - 1].flag = f;
			strcpy(r->join[b - 1].path, tmp);
		}
	r->nargs = argc - i;
	if (r->nargs > HAKO_MAX_ARGS)
		return 0;
	for (int a = 0; a < r->nargs; a++)
		r->argv[a] = argv[i + a];
	r->argv[r->nargs] = NULL;
	return 1;
}

// enter carries out a parsed request in this process: joins, new
// namespaces, the fork a pid or time namespace needs, then the program
// (or a return into the Go runtime).
static void enter(struct hako_request *r)
{
	ssize_t n;
	uint32_t type;
	static uint8_t buf[4 + 64];
	// Cgroups first, on the host's paths, before a new cgroup namespace
	// would be rooted here: "0" moves this (single) thread, which takes
	// no global lock, where the parent writing our pid to cgroup.procs
	// waits for an RCU grace period. (openat, here and below, rather
	// than open: musl's open follows an O_CLOEXEC with an fcntl, for
	// kernels older than hako runs on.)
	for (int i = 0; i < r->ncg; i++) {
		int fd = openat(AT_FDCWD, r->cgroup[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			fail("join cgroup %s", r->cgroup[i]);
		close(fd);
	}
	// Open everything first: once a mount namespace is joined, paths
	// name other files, and a container's /proc may be anything it likes
	// (CVE-2025-52881): our own /proc files are opened here, in the
	// caller's mount namespace, and written to later.
	int oom_fd = -1, timens_fd = -1;
	if (r->has_oom && (oom_fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC)) < 0)
		fail("set oom_score_adj: open /proc/self/oom_score_adj");
	if (r->ntime > 0 && (timens_fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC)) < 0)
		fail("set time namespace offsets: open /proc/self/timens_offsets");
	int fds[HAKO_MAX_JOIN];
	uint32_t joined = 0;
	for (int i = 0; i < r->njoin; i++) {
		fds[i] = openat(AT_FDCWD, r->join[i].path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			fail("open %s namespace %s", kind_name(r->join[i].flag), r->join[i].path);
	}
	for (int i = 0; i < r->njoin; i++) {
		if (setns(fds[i], (int)r->join[i].flag) < 0)
			fail("join %s namespace %s", kind_name(r->join[i].flag), r->join[i].path);
		close(fds[i]);
		joined |= r->join[i].flag;
	}

	if (r->new_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			fail("create user namespace");
		uint32_t self = (uint32_t)getpid();
		send_msg(MSG_MAPS, &self, 4);
		n = recv(sync_fd, buf, sizeof(buf), 0);
		if (n <= 0)
			_exit(1);
		memcpy(&type, buf, 4);
		if (n < 4 || type != MSG_MAPS_DONE) {
			errno = EPROTO;
			fail("wait for uid/gid maps");
		}
		// Become the namespace's root where the maps allow it; an
		// unmapped uid would lose every capability at execve.
		if (setresgid(0, 0, 0) == 0)
			setgroups(0, NULL); // refused when setgroups is "deny": fine
		if (setresuid(0, 0, 0) < 0 && errno != EINVAL)
			fail("become root of the new user namespace");
	}

	uint32_t rest = r->new_flags & ~(uint32_t)CLONE_NEWUSER;
	if (rest && unshare((int)rest) < 0) {
		char names[128] = "";
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (rest & kinds[k].flag) {
				if (names[0])
					strcat(names, ",");
				strcat(names, kinds[k].name);
			}
		fail("create %s namespaces", names);
	}

	if (r->ntime > 0) {
		char offs[256] = "";
		for (int i = 0; i < r->ntime; i++) {
			char line[96];
			snprintf(line, sizeof(line), "%s %lld %lld\n", r->time[i].clock == 1 ? "monotonic" : "boottime",
				 (long long)r->time[i].sec, (long long)r->time[i].nsec);
			strcat(offs, line);
		}
		write_fd(timens_fd, offs, "set time namespace offsets");
	}
	if (r->has_oom) {
		char v[16];
		snprintf(v, sizeof(v), "%d", r->oom);
		write_fd(oom_fd, v, "set oom_score_adj");
	}

	int need_fork = (r->flags & HAKO_FLAG_FORK) || ((r->new_flags | joined) & (CLONE_NEWPID | CLONE_NEWTIME));
	if (exec_mode) {
		if (need_fork)
			fork_and_wait();
	} else if (need_fork) {
		// Only children enter a new or joined pid (or time) namespace.
		// CLONE_PARENT makes the child our sibling: the Go parent can
		// wait for it, and we can simply exit.
		pid_t child = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
		if (child < 0)
			fail("fork into the new pid namespace");
		if (child > 0) {
			send_pid(child);
			_exit(0);
		}
	} else {
		send_pid(getpid());
	}
	if (r->flags & HAKO_FLAG_MOUNT_PROC) {
		// In the final process: a proc mount shows the pid namespace of
		// whoever mounts it. Private first, or it would reach the host.
		if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			fail("make / private");
		if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			fail("mount proc on /proc");
	}
	if (r->nargs > 0) {
		// Close-on-exec: the parent reads EOF once the program runs, or
		// the ERROR below if it could not be run.
		fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
		execvp(r->argv[0], r->argv);
		fail("exec %s", r->argv[0]);
	}
	close(sync_fd);
}

static void preinit(int argc, char **argv);

#ifdef __GLIBC__
// glibc passes main's arguments to constructors; nsrun's reader needs them.
__attribute__((constructor)) static void hako_preinit(int argc, char **argv, char **envp)
{
	(void)envp;
	preinit(argc, argv);
}
#else
// Other C libraries (musl) pass none: a binary with nsrun's reader reads
// them from /proc/self/cmdline. A command line that does not fit, or no
// /proc, leaves the command to Go's parser.
static int cmdline_args(char ***argvp)
{
	static char buf[1 << 16];
	static char *args[256];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == sizeof(buf))
			break;
	}
	close(fd);
	if (n == 0 || n == sizeof(buf) || buf[n - 1] != 0)
		return 0;
	int argc = 0;
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
		if (argc == (int)(sizeof(args) / sizeof(args[0])) - 1)
			return 0;
		args[argc++] = buf + i;
	}
	args[argc] = NULL;
	*argvp = args;
	return argc;
}

__attribute__((constructor)) static void hako_preinit(void)
{
	char **argv = NULL;
	int argc = 0;
	if (&hako_nsrun_argv != NULL && !getenv("_HAKO_NSENTER_FD"))
		argc = cmdline_args(&argv);
	preinit(argc, argv);
}
#endif

// hako_nsenter_enter runs the stage now, for another constructor that must
// run after it (runtime/execstage's, which carries on in the namespaces
// entered here): constructors run in no order one can rely on, and
// whichever comes first does the work, once.
void hako_nsenter_enter(void) { preinit(0, NULL); }

static void preinit(int argc, char **argv)
{
	static struct hako_request req;
	static int done;
	if (done)
		return;
	done = 1;
	const char *env = getenv("_HAKO_NSENTER_FD");
	if (!env) {
		// nsrun's common command lines are carried out here, before the
		// Go runtime would start (it costs more than the rest of a run);
		// anything else goes on to Go's parser.
		if (&hako_nsrun_argv == NULL || argc == 0 || !nsrun_argv(argc, argv, &req))
			return;
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); // as below
		exec_mode = 1;
		enter(&req);
		return;
	}
	// This process may soon stand in a container's pid namespace:
	// nothing there may open its /proc files or trace it
	// (CVE-2019-5736) until it executes the program, which makes it
	// dumpable again.
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	char *end;
	long fd = strtol(env, &end, 10);
	if (*env == 0 || *end != 0 || fd < 3 || fd > 1 << 20)
		_exit(1);
	sync_fd = (int)fd;
	unsetenv("_HAKO_NSENTER_FD");
	const char *mode = getenv("_HAKO_NSENTER_MODE");
	exec_mode = mode && strcmp(mode, "exec") == 0;
	unsetenv("_HAKO_NSENTER_MODE");
	// Tell the parent its execve is complete: the kernel rewrites some of
	// a process's state (RLIMIT_STACK, for one) at the end of execve, so
	// the parent changes this process only from now on.
	if (!exec_mode)
		send_msg(MSG_HELLO, "", 0);

	static uint8_t buf[4 + HAKO_MAX_WIRE];
	ssize_t n = recv(sync_fd, buf, sizeof(buf), 0);
	if (n <= 0) // the parent is gone
		_exit(1);
	uint32_t type;
	memcpy(&type, buf, 4);
	if (n < 4 || type != MSG_REQUEST) { // (a short packet leaves zeroes: no type matches)
		errno = EPROTO;
		fail("read namespace request");
	}
	char perrbuf[128];
	if (hako_parse_request(buf + 4, n - 4, &req, perrbuf, sizeof(perrbuf)) < 0) {
		errno = EINVAL;
		fail("parse namespace request: %s", perrbuf);
	}
	if (exec_mode && (req.new_flags & CLONE_NEWUSER)) {
		errno = EINVAL;
		fail("create user namespace: its id maps need a parent to write them");
	}
	if (exec_mode && req.nargs == 0) {
		errno = EINVAL;
		fail("exec mode: no program to run");
	}
	enter(&req);
}
