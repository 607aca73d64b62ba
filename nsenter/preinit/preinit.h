#ifndef HAKO_PREINIT_H
#define HAKO_PREINIT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define HAKO_MAX_WIRE (1 << 16)
#define HAKO_MAX_JOIN 8
#define HAKO_MAX_TIME 4
#define HAKO_MAX_ARGS 1024
#define HAKO_MAX_CGROUPS 32
#define HAKO_FLAG_FORK 1
#define HAKO_FLAG_MOUNT_PROC 2

struct hako_request {
	int has_new, has_flags;
	uint32_t new_flags;
	int njoin;
	struct {
		uint32_t flag;
		char path[PATH_MAX];
	} join[HAKO_MAX_JOIN];
	int ntime;
	struct {
		uint32_t clock;
		int64_t sec, nsec;
	} time[HAKO_MAX_TIME];
	int ncg;
	char cgroup[HAKO_MAX_CGROUPS][PATH_MAX];
	int has_oom;
	int32_t oom;
	uint32_t flags;
	int nargs;
	char argbuf[HAKO_MAX_WIRE];
	char *argv[HAKO_MAX_ARGS + 1];
};

int hako_parse_request(const uint8_t *b, size_t n, struct hako_request *r, char *err, size_t errlen);

// hako_preinit_cause is Go's wording of errno e (syscall.Errno's Error).
const char *hako_preinit_cause(int e);

#endif
