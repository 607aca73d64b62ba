// rawsig.h: catching signal 34 where the C library refuses it. musl keeps
// 32 to 34 for itself and its sigaction refuses them, but 34 is glibc's
// SIGRTMIN, which a container's program (linked with glibc) may well use:
// it is set with the raw syscall, the kernel's struct and a restorer of
// ours (x86_64 requires one). musl uses 34 itself only for set*id and
// setrlimit across threads, which hako never asks it for. Included by
// the exec stage and by package sigrelay.
#ifndef HAKO_RAWSIG_H
#define HAKO_RAWSIG_H

#if defined(__x86_64__) && !defined(__GLIBC__)
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HAKO_RAW_SIG 34
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

struct hako_ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

__attribute__((naked)) static void hako_restore_rt(void) { __asm__ volatile("mov $15, %eax\n\tsyscall"); }

// hako_raw_sigaction sets HAKO_RAW_SIG's handler (every signal blocked
// while it runs), the old one into old if not NULL. 0, or -1 with errno.
static inline int hako_raw_sigaction(void (*handler)(int), unsigned long flags, struct hako_ksigaction *old)
{
	struct hako_ksigaction ka = {handler, flags | SA_RESTORER, hako_restore_rt, ~0UL};
	return (int)syscall(SYS_rt_sigaction, HAKO_RAW_SIG, &ka, old, sizeof(ka.mask));
}
#endif

#endif
