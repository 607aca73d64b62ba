//go:build cgo

// The exec stage: the last steps before a container's program runs, in C,
// as a constructor that runs before (and instead of) the Go runtime in a
// binary that hako re-executes with _HAKO_EXEC_PLAN naming a plan's
// descriptor (plan.c parses it). Three kinds of plan:
//
// WAIT, the container's init. Its Go part, its setup done, re-executes
// its sealed binary into this stage, so that what waits between create
// and start is about a megabyte of C, not a Go runtime (that memory
// is charged to the container):
//
//   Go init (setup done)                 this stage (same pid)
//   --------------------                 ---------------------
//   plan -> memfd; execveat(hako's       non-dumpable at once; read the plan
//   sealed binary, _HAKO_EXEC_PLAN=fd)   "ready" [+ pty master]     -> parent
//                                        "ok"                       <- parent
//                                        open the exec fifo for writing:
//                                        blocks until `hako start`
//                                        ("start" instead, from `hako run`:
//                                        no fifo, the program at once)
//
// EXEC, a process joining a running container: nsenter's pre-init stage
// (a constructor that runs first) joins its namespaces, then this stage
// applies the process settings (keyring, credentials, capabilities, cwd,
// umask) and says "ready": the exec never starts a Go runtime inside.
//
// INIT, a container's init that never starts Go: nsenter's pre-init
// stage made its namespaces; this stage carries out the plan's setup
// (setup.c: the root filesystem, hostname, domainname, sysctls, the
// program's lookup, HOME), applies the process settings as for EXEC, and
// goes on as WAIT does. A failure before "ready" (and before any hook
// ran) has the parent redo the setup with the Go init, in a new process.
//
// Then, for all: preserved descriptors down to 3, the CPU affinity, the
// rest close-on-exec, no_new_privs and the seccomp filter, execve(2).
//
// Failures before "ready" (or "ok") go to the parent as an "error"
// message; after it, to stderr as "hako: what: cause", with exit status
// 127 for a missing program and 126 otherwise, as the Go side's.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "errnotext.h"
#include "rawsig.h"
#include "execstage.h"


#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int sync_fd = -1;
static int told_ok; // past "ok": failures go to stderr
static int execing; // the program's execve failed: ENOENT exits 127

// hako_cause is Go's wording of errno (errnotext.h), not the C library's.
void hako_cause(int e, char *buf, size_t len)
{
	if (e > 0 && (size_t)e < sizeof(hako_errno_text) / sizeof(hako_errno_text[0]) && hako_errno_text[e])
		snprintf(buf, len, "%s", hako_errno_text[e]);
	else
		snprintf(buf, len, "errno %d", e);
}

int hako_sync_fd(void) { return told_ok ? -1 : sync_fd; }

void hako_fail_text(const char *text)
{
	int e = errno;
	if (told_ok || sync_fd < 0) {
		char line[2048];
		int n = snprintf(line, sizeof(line), "hako: %s\n", text);
		if (n > (int)sizeof(line) - 1)
			n = sizeof(line) - 1, line[n - 1] = '\n';
		ssize_t w = write(2, line, (size_t)n); // one write(2): no stdio
		(void)w;
		_exit(execing && e == ENOENT ? 127 : 126);
	}
	char json[16384];
	size_t j = (size_t)snprintf(json, sizeof(json), "{\"type\":\"error\",\"error\":\"");
	for (const char *c = text; *c && j < sizeof(json) - 64; c++) {
		if (*c == '"' || *c == '\\')
			json[j++] = '\\', json[j++] = *c;
		else if ((unsigned char)*c < 0x20)
			j += (size_t)snprintf(json + j, 7, "\\u%04x", *c);
		else
			json[j++] = *c;
	}
	j += (size_t)snprintf(json + j, sizeof(json) - j, "\"}");
	send(sync_fd, json, j, MSG_NOSIGNAL);
	_exit(1);
}

void hako_fail(const char *fmt, ...)
{
	int e = errno;
	char msg[1024], why[256], full[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hako_cause(e, why, sizeof(why));
	snprintf(full, sizeof(full), "%s: %s", msg, why);
	errno = e;
	hako_fail_text(full);
}

// read_plan reads the whole memfd fd names.
static uint8_t *read_plan(const char *env, size_t *n)
{
	char *end;
	long fd = strtol(env, &end, 10);
	if (*env == 0 || *end != 0 || fd < 0 || fd > 1 << 20)
		_exit(1);
	// Sealed by its writer, so that nothing changed it since: this
	// process was dumpable from its execve until its first instruction.
	int want = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	int seals = fcntl((int)fd, F_GET_SEALS);
	struct stat st;
	if (seals < 0 || (seals & want) != want || fstat((int)fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size > HAKO_PLAN_MAX)
		_exit(1);
	uint8_t *b = malloc((size_t)st.st_size);
	if (!b)
		_exit(1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = pread((int)fd, b + got, (size_t)st.st_size - got, (off_t)got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			_exit(1);
		}
		got += (size_t)r;
	}
	close((int)fd);
	*n = got;
	return b;
}

static void send_ready(int master)
{
	static const char ready[] = "{\"type\":\"ready\"}";
	struct iovec iov = {.iov_base = (void *)ready, .iov_len = sizeof(ready) - 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (master >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &master, sizeof(int));
	}
	if (sendmsg(sync_fd, &m, MSG_NOSIGNAL) < 0)
		hako_fail("send ready");
	if (master >= 0)
		close(master);
}

// wait_ok reads the parent's answer: "ok" (0: wait for `hako start` at
// the exec fifo), "start" (1: `hako run`, go on at once), or EOF when
// create failed (exit; the parent kills us then anyway). After "start"
// the sync socket stays open: the exec closes it (cloexec_from, or a
// preserved descriptor's dup3 over it), and the parent takes that EOF
// for the program's start.
static int wait_ok(void)
{
	static const char ok[] = "{\"type\":\"ok\"}", start[] = "{\"type\":\"start\"}";
	char buf[64];
	ssize_t n;
	do
		n = recv(sync_fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	told_ok = 1;
	if (n == (ssize_t)sizeof(start) - 1 && memcmp(buf, start, sizeof(start) - 1) == 0)
		return 1;
	if (n != (ssize_t)sizeof(ok) - 1 || memcmp(buf, ok, sizeof(ok) - 1) != 0)
		_exit(1);
	close(sync_fd);
	return 0;
}

// cloexec_from marks every descriptor from first on close-on-exec. A
// profile loaded earlier (no no_new_privs) may lack close_range(2): then
// /proc/self/fd is walked, as the Go init does.
static void cloexec_from(int first)
{
	if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		hako_fail("close_range");
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end != 0 || e->d_name[0] == '.' || fd < first || fd == dirfd(d))
			continue;
		if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
			hako_fail("fcntl FD_CLOEXEC");
	}
	closedir(d);
}

static void load_filter(const struct hako_plan *p)
{
	// Copied out: the plan packs the instructions unaligned.
	struct sock_filter *f = malloc((size_t)p->h.bpf_len * sizeof(*f));
	if (!f)
		hako_fail("load seccomp filter");
	memcpy(f, p->bpf, (size_t)p->h.bpf_len * sizeof(*f));
	struct sock_fprog prog = {.len = (unsigned short)p->h.bpf_len, .filter = f};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->h.seccomp_flags, &prog) != 0)
		hako_fail("load seccomp filter");
	free(f);
}

// has_effective tells whether capability c is in the effective set: the
// bounding set is dropped from only with CAP_SETPCAP, as capset.Apply
// (moby's capability package) does.
static int has_effective(int c)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	// Refused (a seccomp filter loaded early, say): never go on with the
	// bounding set undropped.
	if (syscall(SYS_capget, &hdr, d) < 0)
		hako_fail("read capabilities");
	return (d[c / 32].effective >> (c % 32)) & 1;
}

// huge_pages gives transparent huge pages back where the parent took them
// away for the stage's own memory (HAKO_PLAN_HUGEPAGES, or _EARLY where a
// filter loaded early would refuse it): the program's execve inherits the
// flag as it is then. Best effort: should prctl fail, the program runs
// without them, nothing worse.
static void huge_pages(const struct hako_plan_hdr *h, uint32_t when)
{
	if (h->flags & when)
		prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0);
}

// apply_process is an exec's share of what the Go side's applyProcess
// does (the rest, which a plan never asks for, keeps an exec in Go), in
// its order: keyring; seccomp when loading it needs CAP_SYS_ADMIN; the
// bounding set, credentials and capabilities as capset.Apply; cwd, umask.
static void apply_process(const struct hako_plan *p)
{
	const struct hako_plan_hdr *h = &p->h;
	if (p->keyring[0] && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p->keyring) < 0 && errno != ENOSYS)
		hako_fail("join session keyring %s", p->keyring);
	if (h->bpf_len > 0 && (h->flags & HAKO_PLAN_SECCOMP_EARLY)) {
		huge_pages(h, HAKO_PLAN_HUGEPAGES_EARLY);
		load_filter(p);
	}
	if ((h->flags & HAKO_PLAN_CAPS) && has_effective(CAP_SETPCAP))
		for (uint32_t c = 0; c <= h->last_cap; c++)
			if (!(h->bounding >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
				hako_fail("drop bounding capabilities");
	if (h->flags & HAKO_PLAN_CREDS) {
		// Keep the permitted set across the uid change (a switch from
		// uid 0 clears it otherwise); gid first, while CAP_SETGID lasts.
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			hako_fail("set keepcaps");
		gid_t *g = malloc((h->ngroups + 1) * sizeof(gid_t));
		if (!g)
			hako_fail("setgroups");
		char list[256] = "[";
		for (uint32_t i = 0; i < h->ngroups; i++) {
			memcpy(&g[i], p->groups + 4 * i, 4);
			size_t l = strlen(list);
			if (l < sizeof(list) - 16)
				snprintf(list + l, sizeof(list) - l, "%s%u", i ? " " : "", (unsigned)g[i]);
		}
		strcat(list, "]");
		if (setgroups(h->ngroups, g) < 0)
			hako_fail("setgroups %s", list);
		if (setresgid(h->gid, h->gid, h->gid) < 0)
			hako_fail("setresgid %u", h->gid);
		if (setresuid(h->uid, h->uid, h->uid) < 0)
			hako_fail("setresuid %u", h->uid);
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			hako_fail("clear keepcaps");
	}
	if (h->flags & HAKO_PLAN_CAPS) {
		struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
		struct __user_cap_data_struct d[2];
		for (int i = 0; i < 2; i++) {
			d[i].effective = (uint32_t)(h->effective >> (32 * i));
			d[i].permitted = (uint32_t)(h->permitted >> (32 * i));
			d[i].inheritable = (uint32_t)(h->inheritable >> (32 * i));
		}
		if (syscall(SYS_capset, &hdr, d) < 0)
			hako_fail("apply capabilities");
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
			hako_fail("reset ambient capabilities");
		// Only what is both permitted and inheritable can be raised.
		uint64_t amb = h->ambient & h->permitted & h->inheritable;
		for (uint32_t c = 0; c <= h->last_cap; c++)
			if ((amb >> c & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
				hako_fail("raise ambient capability %u", c);
	}
	if (p->cwd[0] && chdir(p->cwd) < 0)
		hako_fail("chdir %s", p->cwd);
	if (h->flags & HAKO_PLAN_UMASK)
		umask(h->umask);
}

// The signals whose default action ends a process. As pid 1 of its
// namespace the waiting init gets only those it handles (SIGKILL
// aside), from the host too: the Go init handled them all and died, so
// `hako kill` of a created container with SIGTERM ended it. So does
// this, until execve resets the handlers for the program.
static const int deadly[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGABRT, SIGUSR1,   SIGUSR2, SIGPIPE, SIGALRM, SIGTERM,
			     SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO,   SIGPWR,  SIGSYS};

static void die(int sig)
{
	// Dies of it where it can (not pid 1 of a namespace); else exits
	// with Go's status for a signal it could not die of.
	if (signal(sig, SIG_DFL) == SIG_ERR) {
#ifdef HAKO_RAW_SIG
		hako_raw_sigaction(SIG_DFL, 0, NULL);
#endif
	}
	raise(sig);
	_exit(2);
}

static void die_on_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = die;
	for (size_t i = 0; i < sizeof(deadly) / sizeof(deadly[0]); i++)
		sigaction(deadly[i], &sa, NULL);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigaction(s, &sa, NULL);
#ifdef HAKO_RAW_SIG
	// 34, glibc's SIGRTMIN, which musl keeps for itself (rawsig.h).
	hako_raw_sigaction(die, 0, NULL);
#endif
}

static void run(struct hako_plan *p)
{
	const struct hako_plan_hdr *h = &p->h;
	sync_fd = h->sync_fd;
	if (h->kind == HAKO_PLAN_INIT)
		hako_setup(p);
	if (h->kind != HAKO_PLAN_WAIT) {
		apply_process(p);
		// A uid change made the process dumpable again where
		// fs.suid_dumpable says so: it is hako's binary still.
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	}
	send_ready(h->master_fd);
	if (h->kind == HAKO_PLAN_EXEC) {
		told_ok = 1; // the parent has its answer: failures go to stderr
		// The socket's close at the exec tells the parent the program
		// runs (it then lets go of the sealed binary itself): above the
		// preserved descriptors, as for "start" below.
		if (sync_fd < 3 + h->npreserve)
			fcntl(sync_fd, F_DUPFD_CLOEXEC, 3 + h->npreserve);
	} else {
		die_on_signals();
		if (!wait_ok()) {
			// Blocks until `hako start` opens the fifo for reading.
			// Reopened through /proc/self/fd: the init's descriptor is
			// O_PATH, so that create never blocked on it.
			char fifo[64];
			snprintf(fifo, sizeof(fifo), "/proc/self/fd/%d", h->fifo_fd);
			int fd = open(fifo, O_WRONLY | O_CLOEXEC);
			if (fd < 0)
				hako_fail("open exec fifo");
			// The container's /proc may be no procfs (a config without a
			// proc mount): what opened must be the fifo the init holds.
			struct stat want, got;
			if (fstat(h->fifo_fd, &want) < 0 || fstat(fd, &got) < 0 || want.st_dev != got.st_dev ||
			    want.st_ino != got.st_ino) {
				errno = EINVAL;
				hako_fail("open exec fifo: %s is not it (is /proc mounted?)", fifo);
			}
			if (write(fd, "", 1) != 1)
				hako_fail("write exec fifo");
			close(fd);
		} else if (sync_fd < 3 + h->npreserve) {
			// After "start" the socket's close at the exec tells the
			// parent the program runs: the preserved descriptors' dup3
			// below would close it before, so it moves above them
			// (close-on-exec). Failing that, the parent hears it early.
			fcntl(sync_fd, F_DUPFD_CLOEXEC, 3 + h->npreserve);
		}
	}
	// Preserved descriptors down to 3, in order (each target is below
	// its source; the fifo is done with, and the sync socket too or
	// moved above).
	for (int i = 0; i < h->npreserve; i++)
		if (dup3(h->preserve_from + i, 3 + i, 0) < 0)
			hako_fail("dup3 preserved fd");
	if (h->affinity_len > 0) {
		cpu_set_t *set = malloc(h->affinity_len);
		if (!set)
			hako_fail("set CPU affinity");
		memcpy(set, p->affinity, h->affinity_len);
		if (sched_setaffinity(0, h->affinity_len, set) < 0)
			hako_fail("set CPU affinity");
	}
	cloexec_from(3 + h->npreserve);
	if ((h->flags & HAKO_PLAN_NNP) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		hako_fail("prctl no_new_privs");
	huge_pages(h, HAKO_PLAN_HUGEPAGES);
	// From here on only execve itself runs under the filter.
	if (h->bpf_len > 0 && !(h->flags & HAKO_PLAN_SECCOMP_EARLY))
		load_filter(p);
	execve(p->path, p->argv, p->envp);
	execing = 1;
	hako_fail("exec %s", p->path);
}

extern void hako_nsenter_enter(void) __attribute__((weak));

// The RLIMIT_NOFILE this process started with: the Go runtime raises its
// soft limit at start-up and puts it back in syscall.Exec, but the Go init
// goes to the stage with execveat(2) itself (hako_restore_nofile).
static struct rlimit start_nofile;
static int have_start_nofile;

int hako_restore_nofile(void)
{
	return have_start_nofile ? setrlimit(RLIMIT_NOFILE, &start_nofile) : 0;
}

__attribute__((constructor)) static void hako_execstage(void)
{
	const char *env = getenv("_HAKO_EXEC_PLAN");
	// First thing: execve made us dumpable again, and we may stand in a
	// container's pid namespace (CVE-2019-5736).
	if (env)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	// nsenter's pre-init stage first, if this binary has it and this is
	// one of its children (whose rlimits its parent sets while the
	// stage waits): constructors run in no order one can rely on.
	if (hako_nsenter_enter && getenv("_HAKO_NSENTER_FD"))
		hako_nsenter_enter();
	have_start_nofile = getrlimit(RLIMIT_NOFILE, &start_nofile) == 0;
	if (!env)
		return;
	size_t n;
	uint8_t *b = read_plan(env, &n);
	struct hako_plan p;
	char why[128];
	if (hako_parse_plan(b, n, &p, why, sizeof(why)) < 0) {
		errno = EINVAL;
		sync_fd = 3; // the Go init's sync socket, where a plan could not say
		hako_fail("read exec plan: %s", why);
	}
	// The kernel named this process after the descriptor its binary was
	// executed through ("22": /proc/self/fd/22); ps and top show what it
	// is instead, until the program's execve names it after the program.
	// Before any filter of the plan's; a Go init's, in force already,
	// may refuse it (the Go init leaves the flag out then).
	if (p.h.flags & HAKO_PLAN_NAME)
		prctl(PR_SET_NAME, p.h.kind == HAKO_PLAN_EXEC ? "hako:[exec]" : "hako:[init]", 0, 0, 0);
	run(&p);
}
