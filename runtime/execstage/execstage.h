//go:build cgo

#ifndef HAKO_EXECSTAGE_H
#define HAKO_EXECSTAGE_H

#include <stddef.h>
#include <stdint.h>

#define HAKO_PLAN_MAX (16 << 20)
#define HAKO_PLAN_MAX_BPF 4096
#define HAKO_PLAN_NNP 1

// The plan's fixed header; the BPF program (8-byte instructions) and then
// the strings (path, argv, envp, each NUL-terminated) follow it.
struct hako_plan_hdr {
	char magic[4]; // "HKEX"
	uint32_t version;
	int32_t sync_fd, fifo_fd, master_fd, preserve_from, npreserve;
	uint32_t flags, seccomp_flags, bpf_len, argc, envc, strings_len;
};

struct hako_plan {
	struct hako_plan_hdr h;
	const uint8_t *bpf;
	const char *path;
	char **argv, **envp;
};

// hako_parse_plan checks b (n bytes) and points p into it; argv and envp
// are allocated. Returns 0, or -1 with a reason in err.
int hako_parse_plan(uint8_t *b, size_t n, struct hako_plan *p, char *err, size_t errlen);

#endif
