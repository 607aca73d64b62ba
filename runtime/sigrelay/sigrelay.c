// The signal handlers of package sigrelay: one byte per signal into a
// pipe. They must stay async-signal-safe: write(2), an atomic load, errno
// kept; for a SIGSYS the kernel raised, sigaction(2), raise(3) or the
// handler that was there before.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "rawsig.h"
#include "sigrelay.h"

#define NSIG_RELAY 65

#ifdef HAKO_RAW_SIG
// What 34 had before, put back on release (rawsig.h says why it is
// caught so).
static struct hako_ksigaction raw_saved;
#endif

// The pipe's write end, plus one (0: not set). Set once, never closed:
// a handler still running on another thread while a signal is released
// writes to it, never to a reused descriptor.
static atomic_int relay_fd;
// What each caught signal had before: the Go runtime's handler, put back
// on release (and SIGSYS's, which a seccomp trap is passed to).
static struct sigaction saved[NSIG_RELAY];
static int caught[NSIG_RELAY];

static void relay(int sig)
{
	int e = errno;
	int fd = atomic_load(&relay_fd);
	if (fd > 0) {
		unsigned char b = (unsigned char)sig;
		ssize_t r = write(fd - 1, &b, 1); // EAGAIN (pipe full): dropped
		(void)r;
	}
	errno = e;
}

int hako_sigrelay_rtmin(void)
{
#ifdef HAKO_RAW_SIG
	return HAKO_RAW_SIG;
#else
	return SIGRTMIN;
#endif
}

void hako_sigrelay_init(int fd)
{
	atomic_store(&relay_fd, fd + 1);
}

// relay_sys is SIGSYS's handler. One a process sent (kill, tgkill,
// sigqueue: si_code SI_USER or below; the kernel refuses a process
// another code for a signal to another) is relayed; one the kernel raised
// (a seccomp filter's SECCOMP_RET_TRAP in this very process: SYS_SECCOMP)
// goes to the handler it replaced, the Go runtime's, which crashes the
// process ("SIGSYS: bad system call") as it would have without the relay.
static void relay_sys(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code <= SI_USER) {
		relay(sig);
		return;
	}
	struct sigaction *prev = &saved[sig];
	if (prev->sa_flags & SA_SIGINFO) {
		prev->sa_sigaction(sig, si, uc);
	} else if (prev->sa_handler == SIG_DFL || prev->sa_handler == SIG_IGN) {
		// Its default action once this handler returns (the signal is
		// blocked until then). Ignored too: the kernel never lets a
		// trap's SIGSYS be ignored (force_sig_info resets it).
		struct sigaction dfl;
		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		sigaction(sig, &dfl, NULL);
		raise(sig);
	} else {
		prev->sa_handler(sig);
	}
}

// install makes relay (relay_sys for SIGSYS) sig's handler, the one
// before into old if not NULL.
static int install(int sig, struct sigaction *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	// On the thread's alternate stack: every Go thread has one, and a
	// goroutine's own stack may be too small for a signal frame.
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	if (sig == SIGSYS) {
		sa.sa_sigaction = relay_sys;
		sa.sa_flags |= SA_SIGINFO;
	} else {
		sa.sa_handler = relay;
	}
	sigfillset(&sa.sa_mask);
	return sigaction(sig, &sa, old);
}

// (hako_sigrelay_catch and _release are called with the Go side's lock
// held: caught and saved need no more.)
int hako_sigrelay_catch(int sig)
{
	if (sig <= 0 || sig >= NSIG_RELAY || caught[sig]) {
		errno = sig > 0 && sig < NSIG_RELAY ? EBUSY : EINVAL;
		return -1;
	}
#ifdef HAKO_RAW_SIG
	if (sig == HAKO_RAW_SIG) {
		if (hako_raw_sigaction(relay, SA_ONSTACK | SA_RESTART, &raw_saved) != 0)
			return -1;
		caught[sig] = 1;
		return 0;
	}
#endif
	int r;
	if (sig == SIGSYS) {
		// The handler before read first: a trap's SIGSYS on another
		// thread right after the install finds it to be passed to.
		r = sigaction(sig, NULL, &saved[sig]);
		if (r == 0)
			r = install(sig, NULL);
	} else {
		r = install(sig, &saved[sig]);
	}
	if (r != 0)
		return -1;
	caught[sig] = 1;
	return 0;
}

int hako_sigrelay_hold(int sig)
{
	if (sig <= 0 || sig >= NSIG_RELAY) {
		errno = EINVAL;
		return -1;
	}
	return install(sig, NULL);
}

void hako_sigrelay_release(int sig)
{
	if (sig <= 0 || sig >= NSIG_RELAY || !caught[sig])
		return;
#ifdef HAKO_RAW_SIG
	if (sig == HAKO_RAW_SIG) {
		syscall(SYS_rt_sigaction, HAKO_RAW_SIG, &raw_saved, NULL, sizeof(raw_saved.mask));
		caught[sig] = 0;
		return;
	}
#endif
	sigaction(sig, &saved[sig], NULL);
	caught[sig] = 0;
}
