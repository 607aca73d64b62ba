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
#define HAKO_PLAN_INIT 2 // an init without Go: the setup, the process settings, then as WAIT

// flags
#define HAKO_PLAN_NNP 1           // set no_new_privs
#define HAKO_PLAN_SECCOMP_EARLY 2 // load the filter before the credentials
#define HAKO_PLAN_CREDS 4         // switch to uid, gid, groups
#define HAKO_PLAN_CAPS 8          // set the capability sets
#define HAKO_PLAN_UMASK 16        // set umask
#define HAKO_PLAN_HUGEPAGES 32    // clear PR_SET_THP_DISABLE right before execve
#define HAKO_PLAN_HUGEPAGES_EARLY 64 // or before the filter loaded early
#define HAKO_PLAN_NAME 128        // name the process first (PR_SET_NAME)
#define HAKO_PLAN_ALL_FLAGS 255

// The plan's fixed header (128 bytes, no padding); then the BPF program
// (8-byte instructions), the groups (32-bit), the CPU affinity mask, the
// strings, each NUL-terminated: path, cwd, keyring, argv, envp; and the
// setup section (INIT only).
struct hako_plan_hdr {
	char magic[4]; // "HKEX"
	uint32_t version, kind;
	int32_t sync_fd, fifo_fd, master_fd, preserve_from, npreserve;
	uint32_t flags, seccomp_flags, bpf_len;
	uint32_t uid, gid, ngroups, umask, last_cap;
	uint64_t bounding, effective, permitted, inheritable, ambient;
	uint32_t affinity_len, argc, envc, strings_len, setup_len, pad;
};

// setup flags
#define HAKO_SETUP_HOME 1 // add HOME from /etc/passwd

// The setup section: this header (20 bytes), nmounts steps of struct
// hako_mount (72 bytes each), then its strings: hostname, domainname,
// the program's name quoted as Go quotes it;
// per step source, target, type, data, link; per sysctl path and value;
// the program's candidate paths.
struct hako_setup_hdr {
	uint32_t nmounts, nsysctls, ncands, flags, strings_len;
};

// mount step kinds (execstage.MountKind)
enum {
	HAKO_M_ROOT_PROPAGATION,
	HAKO_M_BIND_ROOTFS,
	HAKO_M_MOUNT,
	HAKO_M_BIND,
	HAKO_M_REMOUNT,
	HAKO_M_SETATTR,
	HAKO_M_PROPAGATE,
	HAKO_M_MKNOD,
	HAKO_M_BIND_DEVICE,
	HAKO_M_SYMLINK,
	HAKO_M_PIVOT_ROOT,
	HAKO_M_HOST_SETTINGS,
	HAKO_M_READONLY_PATH,
	HAKO_M_MASK_PATH,
	HAKO_M_HOOKS,
	HAKO_M_KINDS
};

struct hako_mount {
	uint32_t kind, pad0;
	uint64_t flags, clear, attr_set, attr_clr;
	uint32_t dev_mode, dev_major, dev_minor, pad1;
	int64_t uid, gid;
	// from the strings, set by the parser
	const char *source, *target, *type, *data, *link;
};

#define HAKO_MOUNT_WIRE 72 // the wire size: the fields up to the strings

struct hako_setup {
	struct hako_setup_hdr h;
	struct hako_mount *mounts;
	const char *hostname, *domainname, *quoted;
	const char **sysctls; // path, value, path, value, ...
	const char **cands;
};

struct hako_plan {
	struct hako_plan_hdr h;
	const uint8_t *bpf, *groups, *affinity;
	const char *path, *cwd, *keyring;
	char **argv, **envp;
	struct hako_setup setup;
};

// hako_setup runs p's setup (execstage_setup.c): the mounts up to the
// root switch, the host settings, the rest; then it finds the program
// (p->path) and HOME (appended to p->envp). It calls fail() on error.
void hako_setup(struct hako_plan *p);

// hako_clean_path makes the absolute path p lexically clean in place,
// as Go's filepath.Clean; -1 (p untouched) if p is not absolute.
int hako_clean_path(char *p);

// hako_fail reports a failure (errno's cause appended) to the parent or
// stderr and exits.
__attribute__((format(printf, 1, 2), noreturn)) void hako_fail(const char *fmt, ...);

// hako_cause is Go's wording of errno e (syscall.Errno's Error).
void hako_cause(int e, char *buf, size_t len);

// hako_fail_text is hako_fail with text as the whole message.
__attribute__((noreturn)) void hako_fail_text(const char *text);

// hako_sync_fd is the socket to the parent (-1 past "ok").
int hako_sync_fd(void);

// hako_parse_plan checks b (n bytes) and points p into it; argv and envp
// are allocated. Returns 0, or -1 with a reason in err.
int hako_parse_plan(uint8_t *b, size_t n, struct hako_plan *p, char *err, size_t errlen);

// hako_free_plan frees what hako_parse_plan allocated.
void hako_free_plan(struct hako_plan *p);

// hako_restore_nofile puts back the RLIMIT_NOFILE the process started
// with, before the Go runtime raised it.
int hako_restore_nofile(void);

// HAKO_GLIBC: the C library linked is glibc (else musl).
#ifdef __GLIBC__
#define HAKO_GLIBC 1
#else
#define HAKO_GLIBC 0
#endif

#endif
