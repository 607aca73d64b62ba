// The signal handler of package sigrelay: one byte per signal into a pipe.
// It must stay async-signal-safe: write(2), atomics, errno kept.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "sigrelay.h"

#define NSIG_RELAY 65

// The pipe's write end per signal, plus one (0: not caught).
static atomic_int relay_fd[NSIG_RELAY];
// Handlers between reading relay_fd and finishing their write: a released
// signal's fd is closed only once this is 0 (hako_sigrelay_quiesce), so a
// handler still running on another thread never writes to a reused fd.
static atomic_int inflight;
// What each signal had before: the Go runtime's handler, put back on release.
static struct sigaction saved[NSIG_RELAY];

static void relay(int sig)
{
	int e = errno;
	atomic_fetch_add(&inflight, 1);
	int fd = sig > 0 && sig < NSIG_RELAY ? atomic_load(&relay_fd[sig]) : 0;
	if (fd > 0) {
		unsigned char b = (unsigned char)sig;
		ssize_t r = write(fd - 1, &b, 1); // EAGAIN (pipe full): dropped
		(void)r;
	}
	atomic_fetch_sub(&inflight, 1);
	errno = e;
}

int hako_sigrelay_catch(int sig, int fd)
{
	if (sig <= 0 || sig >= NSIG_RELAY || fd < 0) {
		errno = EINVAL;
		return -1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = relay;
	// On the thread's alternate stack: every Go thread has one, and a
	// goroutine's own stack may be too small for a signal frame.
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	atomic_store(&relay_fd[sig], fd + 1);
	if (sigaction(sig, &sa, &saved[sig]) != 0) {
		int e = errno;
		atomic_store(&relay_fd[sig], 0);
		errno = e;
		return -1;
	}
	return 0;
}

void hako_sigrelay_release(int sig)
{
	if (sig <= 0 || sig >= NSIG_RELAY || atomic_load(&relay_fd[sig]) == 0)
		return;
	sigaction(sig, &saved[sig], NULL);
	atomic_store(&relay_fd[sig], 0);
}

void hako_sigrelay_quiesce(void)
{
	while (atomic_load(&inflight) != 0)
		sched_yield();
}
