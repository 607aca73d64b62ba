//go:build cgo

// The plan's parser (the layout is execstage.h's): it takes nothing but a
// whole, consistent plan, for it runs in the container before any Go.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execstage.h"

_Static_assert(offsetof(struct hako_mount, source) == HAKO_MOUNT_WIRE, "struct hako_mount's wire part");

static int perr(char *err, size_t len, const char *msg)
{
	snprintf(err, len, "%s", msg);
	return -1;
}

static int fd_ok(int32_t fd) { return fd >= 0 && fd < (1 << 20); }

// next_str returns the string at *s and steps past it.
static const char *next_str(char **s)
{
	char *v = *s;
	*s += strlen(v) + 1;
	return v;
}

// parse_setup checks the setup section b (n bytes) and fills su; its
// arrays are allocated (hako_free_plan frees them).
static int parse_setup(uint8_t *b, size_t n, struct hako_setup *su, char *err, size_t errlen)
{
	if (n < sizeof(su->h))
		return perr(err, errlen, "short setup");
	memcpy(&su->h, b, sizeof(su->h));
	const struct hako_setup_hdr *h = &su->h;
	if (h->nmounts > 1 << 16 || h->nsysctls > 1 << 16 || h->ncands < 1 || h->ncands > 1 << 16 ||
	    h->flags & ~(uint32_t)HAKO_SETUP_HOME)
		return perr(err, errlen, "bad setup counts");
	size_t want = sizeof(su->h) + (size_t)h->nmounts * HAKO_MOUNT_WIRE;
	if (n != want + h->strings_len || h->strings_len == 0)
		return perr(err, errlen, "setup length mismatch");
	char *s = (char *)b + want, *end = s + h->strings_len;
	if (end[-1] != 0)
		return perr(err, errlen, "unterminated setup string");
	size_t count = 0;
	for (char *c = s; c < end; c++)
		count += *c == 0;
	if (count != 3 + 5 * (size_t)h->nmounts + 2 * (size_t)h->nsysctls + h->ncands)
		return perr(err, errlen, "setup string count mismatch");
	su->mounts = calloc(h->nmounts + 1, sizeof(*su->mounts));
	su->sysctls = calloc(2 * (size_t)h->nsysctls + 1, sizeof(char *));
	su->cands = calloc(h->ncands + 1, sizeof(char *));
	if (!su->mounts || !su->sysctls || !su->cands)
		return perr(err, errlen, "out of memory");
	su->hostname = next_str(&s);
	su->domainname = next_str(&s);
	su->quoted = next_str(&s);
	for (uint32_t i = 0; i < h->nmounts; i++) {
		struct hako_mount *m = &su->mounts[i];
		memcpy(m, b + sizeof(su->h) + (size_t)i * HAKO_MOUNT_WIRE, HAKO_MOUNT_WIRE);
		if (m->kind >= HAKO_M_KINDS)
			return perr(err, errlen, "unknown mount step");
		m->source = next_str(&s);
		m->target = next_str(&s);
		m->type = next_str(&s);
		m->data = next_str(&s);
		m->link = next_str(&s);
	}
	for (uint32_t i = 0; i < 2 * h->nsysctls; i++)
		su->sysctls[i] = next_str(&s);
	for (uint32_t i = 0; i < h->ncands; i++) {
		su->cands[i] = next_str(&s);
		if (su->cands[i][0] == 0)
			return perr(err, errlen, "empty candidate");
	}
	return 0;
}

int hako_parse_plan(uint8_t *b, size_t n, struct hako_plan *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (n < sizeof(p->h))
		return perr(err, errlen, "short header");
	memcpy(&p->h, b, sizeof(p->h));
	const struct hako_plan_hdr *h = &p->h;
	if (memcmp(h->magic, "HKEX", 4) != 0)
		return perr(err, errlen, "bad magic");
	if (h->version != 3)
		return perr(err, errlen, "unknown version");
	if (h->kind != HAKO_PLAN_WAIT && h->kind != HAKO_PLAN_EXEC && h->kind != HAKO_PLAN_INIT)
		return perr(err, errlen, "unknown kind");
	if ((h->setup_len != 0) != (h->kind == HAKO_PLAN_INIT))
		return perr(err, errlen, "setup with the wrong kind");
	if (!fd_ok(h->sync_fd) || (h->kind == HAKO_PLAN_WAIT && !fd_ok(h->fifo_fd)) ||
	    (h->master_fd != -1 && !fd_ok(h->master_fd)) || !fd_ok(h->preserve_from) || h->npreserve < 0 ||
	    h->npreserve > (1 << 16))
		return perr(err, errlen, "bad descriptor");
	if (h->flags & ~(uint32_t)HAKO_PLAN_ALL_FLAGS)
		return perr(err, errlen, "unknown flags");
	if (h->bpf_len > HAKO_PLAN_MAX_BPF)
		return perr(err, errlen, "seccomp program too long");
	if (h->ngroups > HAKO_PLAN_MAX_GROUPS || h->affinity_len > HAKO_PLAN_MAX_AFFINITY || h->last_cap > 63 ||
	    h->umask > 0777)
		return perr(err, errlen, "bad process settings");
	if (h->argc < 1 || h->argc > (1 << 20) || h->envc > (1 << 20))
		return perr(err, errlen, "bad argument count");
	size_t want = sizeof(*h) + (size_t)h->bpf_len * 8 + (size_t)h->ngroups * 4 + h->affinity_len;
	if (n < h->setup_len || n - h->setup_len != want + h->strings_len || h->strings_len == 0)
		return perr(err, errlen, "length mismatch");
	p->bpf = b + sizeof(*h);
	p->groups = p->bpf + (size_t)h->bpf_len * 8;
	p->affinity = p->groups + (size_t)h->ngroups * 4;
	char *s = (char *)b + want, *end = s + h->strings_len;
	if (end[-1] != 0)
		return perr(err, errlen, "unterminated string");
	size_t count = 0;
	for (char *c = s; c < end; c++)
		count += *c == 0;
	if (count != 3 + (size_t)h->argc + h->envc)
		return perr(err, errlen, "string count mismatch");
	if ((s[0] == 0) != (h->kind == HAKO_PLAN_INIT))
		return perr(err, errlen, h->kind == HAKO_PLAN_INIT ? "path with a setup" : "empty path");
	p->argv = calloc(h->argc + 1, sizeof(char *));
	p->envp = calloc(h->envc + 1, sizeof(char *));
	if (!p->argv || !p->envp) {
		free(p->argv);
		free(p->envp);
		return perr(err, errlen, "out of memory");
	}
	p->path = s;
	s += strlen(s) + 1;
	p->cwd = s;
	s += strlen(s) + 1;
	p->keyring = s;
	s += strlen(s) + 1;
	for (uint32_t i = 0; i < h->argc; i++, s += strlen(s) + 1)
		p->argv[i] = s;
	for (uint32_t i = 0; i < h->envc; i++, s += strlen(s) + 1)
		p->envp[i] = s;
	if (h->kind == HAKO_PLAN_INIT && parse_setup((uint8_t *)end, h->setup_len, &p->setup, err, errlen) < 0) {
		hako_free_plan(p);
		return -1;
	}
	return 0;
}

void hako_free_plan(struct hako_plan *p)
{
	free(p->argv);
	free(p->envp);
	free(p->setup.mounts);
	free(p->setup.sysctls);
	free(p->setup.cands);
	memset(p, 0, sizeof(*p));
}
