#ifndef HAKO_SIGRELAY_H
#define HAKO_SIGRELAY_H

/* Catch sig: from now on its number is written to fd (non-blocking) as
 * one byte each time it arrives. 0, or -1 with errno. */
int hako_sigrelay_catch(int sig, int fd);

/* Give sig back to the handler it had before hako_sigrelay_catch. */
void hako_sigrelay_release(int sig);

/* Wait until no handler is still writing: after it, the fds given to
 * released signals may be closed. */
void hako_sigrelay_quiesce(void);

#endif
