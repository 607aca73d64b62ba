#ifndef HAKO_SIGRELAY_H
#define HAKO_SIGRELAY_H

/* Set the descriptor (non-blocking, never closed) the handler writes each
 * caught signal's number to, as one byte. */
void hako_sigrelay_init(int fd);

/* Catch sig with the handler. 0, or -1 with errno. */
int hako_sigrelay_catch(int sig);

/* Give sig back to the handler it had before hako_sigrelay_catch. */
void hako_sigrelay_release(int sig);

#endif
