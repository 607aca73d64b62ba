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
	// The counts and settings: hako_clear_request zeroes these alone.
	int has_new, has_flags;
	uint32_t new_flags;
	int njoin, ntime, ncg, nargs;
	int has_oom;
	int32_t oom;
	uint32_t flags;
	struct {
		uint32_t clock;
		int64_t sec, nsec;
	} time[HAKO_MAX_TIME];
	// The lists, ~230 KB, read only up to their counts: zeroing them
	// would fault in ~60 pages at every start of the stage.
	struct {
		uint32_t flag;
		char path[PATH_MAX];
	} join[HAKO_MAX_JOIN];
	char cgroup[HAKO_MAX_CGROUPS][PATH_MAX];
	char argbuf[HAKO_MAX_WIRE];
	char *argv[HAKO_MAX_ARGS + 1];
};

// hako_clear_request empties r: its counts and settings (an empty argv).
void hako_clear_request(struct hako_request *r);

int hako_parse_request(const uint8_t *b, size_t n, struct hako_request *r, char *err, size_t errlen);

// hako_preinit_cause is Go's wording of errno e (syscall.Errno's Error).
const char *hako_preinit_cause(int e);

#endif
