//go:build cgo

#ifndef HAKO_EXECSTAGE_H
#define HAKO_EXECSTAGE_H

#include <stddef.h>
#include <stdint.h>

#define HAKO_PLAN_MAX (16 << 20)
#define HAKO_PLAN_MAX_BPF 4096
#define HAKO_PLAN_MAX_GROUPS 65536
#define HAKO_PLAN_MAX_AFFINITY 8192

// kinds
#define HAKO_PLAN_WAIT 0 // the container's init: "ready", "ok", the exec fifo
#define HAKO_PLAN_EXEC 1 // an exec: the process settings, "ready", execve

// flags
#define HAKO_PLAN_NNP 1           // set no_new_privs
#define HAKO_PLAN_SECCOMP_EARLY 2 // load the filter before the credentials
#define HAKO_PLAN_CREDS 4         // switch to uid, gid, groups
#define HAKO_PLAN_CAPS 8          // set the capability sets
#define HAKO_PLAN_UMASK 16        // set umask
#define HAKO_PLAN_ALL_FLAGS 31

// The plan's fixed header (120 bytes, no padding); then the BPF program
// (8-byte instructions), the groups (32-bit), the CPU affinity mask, and
// the strings, each NUL-terminated: path, cwd, keyring, argv, envp.
struct hako_plan_hdr {
	char magic[4]; // "HKEX"
	uint32_t version, kind;
	int32_t sync_fd, fifo_fd, master_fd, preserve_from, npreserve;
	uint32_t flags, seccomp_flags, bpf_len;
	uint32_t uid, gid, ngroups, umask, last_cap;
	uint64_t bounding, effective, permitted, inheritable, ambient;
	uint32_t affinity_len, argc, envc, strings_len;
};

struct hako_plan {
	struct hako_plan_hdr h;
	const uint8_t *bpf, *groups, *affinity;
	const char *path, *cwd, *keyring;
	char **argv, **envp;
};

// hako_parse_plan checks b (n bytes) and points p into it; argv and envp
// are allocated. Returns 0, or -1 with a reason in err.
int hako_parse_plan(uint8_t *b, size_t n, struct hako_plan *p, char *err, size_t errlen);

// hako_restore_nofile puts back the RLIMIT_NOFILE the process started
// with, before the Go runtime raised it.
int hako_restore_nofile(void);

#endif
