//go:build cgo

// What setup.c, resolve.c and lookup.c share: the container's root and
// the lookups inside it (resolve.c), the program and HOME (lookup.c).
#ifndef HAKO_SETUP_H
#define HAKO_SETUP_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "execstage.h"

// hako_root is the directory targets are resolved in: the rootfs before
// the root switch, "/" after it (-1 before the rootfs is bound).
extern int hako_root;

// hako_openat2 is openat2(2) with O_CLOEXEC, its EAGAIN retried.
int hako_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);

// hako_rel is path relative to the root ("." for the root itself).
const char *hako_rel(const char *path);

// hako_open_in opens path inside the root; hako_must_open_in fails the
// stage where that is refused.
int hako_open_in(const char *path, int flags);
int hako_must_open_in(const char *path, int flags);

// hako_split puts the clean absolute path's parent into dir and returns
// its last name.
const char *hako_split(const char *path, char *dir, size_t len);

// hako_mkdir_in makes path and its missing parents inside the root and
// returns it opened O_PATH.
int hako_mkdir_in(const char *path);

// hako_create_file_in makes path an empty file of mode unless something
// is there, and returns it opened O_PATH.
int hako_create_file_in(const char *target, mode_t mode);

// hako_passwd_home is the home of uid in the container's /etc/passwd,
// or "/" (malloc'ed).
char *hako_passwd_home(uid_t uid);

// hako_find_program is the first candidate that is an executable file,
// or the stage fails in exec.LookPath's words.
const char *hako_find_program(const struct hako_plan *p);

#endif
