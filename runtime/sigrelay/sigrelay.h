#ifndef HAKO_SIGRELAY_H
#define HAKO_SIGRELAY_H

/* The first real-time signal the handler can catch (34: glibc's SIGRTMIN,
 * and with musl, which keeps 32 to 34, through the raw syscall on x86_64):
 * those from 32 below it are the C library's own. */
int hako_sigrelay_rtmin(void);

/* Set the descriptor (non-blocking, never closed) the handler writes each
 * caught signal's number to, as one byte. */
// The first real-time signal the C library leaves to programs (glibc 34,
// musl 35): those from 32 below it are its own.
int hako_sigrelay_rtmin(void);
void hako_sigrelay_init(int fd);

/* Catch sig with the handler. 0, or -1 with errno. */
int hako_sigrelay_catch(int sig);

/* Catch sig with the handler for good: nothing to give back (SIGPIPE, which
 * the Go side has the runtime ignore). 0, or -1 with errno. */
int hako_sigrelay_hold(int sig);

/* Give sig back to the handler it had before hako_sigrelay_catch. */
void hako_sigrelay_release(int sig);

#endif
