# hako — see README.md. Every target runs from a fresh clone on Debian 12
# with Go, as root; `setup` installs the Debian packages that are missing.
SHELL := /bin/bash
GO ?= go
PREFIX ?= /usr/local
BIN := $(CURDIR)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
export GOFLAGS := -buildvcs=false
# Two of Go's experiments, for a short-lived CLI's start (tests run as
# shipped; docs/performance.md has the measures):
# - jsonv2: encoding/json on the v2 engine (the v1 API and behaviour;
#   an error's Offset counts the bytes before the token at fault, which
#   LoadSpec allows for): a config's first decode in a process builds the
#   tables of the types it meets, not of every type a config can hold
#   (~0.3 ms less in each create, run and exec);
# - nogreenteagc: Go's previous garbage collector, whose span metadata
#   lives apart from the span: Green Tea keeps mark bits at each small
#   span's end, so a span's first use faults in its last page too (a run
#   60-140 page faults fewer, 0.05-0.3 ms less; no collection runs in a
#   command's life).
# Added to any the caller's environment names.
comma := ,
export GOEXPERIMENT := $(if $(GOEXPERIMENT),$(GOEXPERIMENT)$(comma))jsonv2,nogreenteagc
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# The cgo binaries are linked statically too (the C library, libseccomp.a):
# no loader at each start, nothing to find inside or outside a container.
STATIC := -tags netgo,osusergo -ldflags '-s -w -linkmode external -extldflags -static'
# The C library they link: musl by default, whose start costs nothing
# (glibc's static start probes the CPU with ~70 cpuid instructions, each
# a trap to the hypervisor on a VM: ~0.3 ms per process start, twice per
# container create or exec); LIBC=glibc links glibc. hack/musl.sh makes
# build/musl, the headers and libseccomp.a musl-gcc builds from.
LIBC ?= musl
CGO_MODULES := hako.dev/nsenter/... hako.dev/runtime/... hako.dev/seccomp/...
MUSL := $(CURDIR)/build/musl
ifeq ($(LIBC),musl)
CGOENV := CC=musl-gcc CGO_CFLAGS="-O2 -g -I$(MUSL)/include" CGO_LDFLAGS="-L$(MUSL)/lib"
else ifeq ($(LIBC),glibc)
CGOENV :=
else
$(error LIBC=$(LIBC): musl or glibc)
endif
DEMO := $(CURDIR)/build/demo

.PHONY: all setup build test test-unit test-v2 test-integration verify lint bench install clean demo docs

all: build

setup:
	@hack/setup.sh

# hako and nsrun carry nsenter's C pre-init stage, hako and seccomp link
# libseccomp (cgo); the other tools are pure Go. All are static.
build:
	@mkdir -p $(BIN)
	$(if $(CGOENV),hack/musl.sh $(MUSL))
	$(CGOENV) CGO_ENABLED=1 $(GO) build -trimpath -tags netgo,osusergo -ldflags '$(LDFLAGS) -linkmode external -extldflags -static' -o $(BIN)/hako hako.dev/cmd/hako
	$(CGOENV) CGO_ENABLED=1 $(GO) build -trimpath $(STATIC) -o $(BIN)/nsrun hako.dev/cmd/nsrun
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/cgctl hako.dev/cmd/cgctl
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/capset hako.dev/cmd/capset
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/rootfs hako.dev/cmd/rootfs
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/console hako.dev/cmd/console
	$(CGOENV) CGO_ENABLED=1 $(GO) build -trimpath $(STATIC) -o $(BIN)/seccomp hako.dev/cmd/seccomp
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/testinit hako.dev/integration/testinit
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/mkbundle hako.dev/integration/cmd/mkbundle

test: setup verify test-unit test-v2 test-integration test-oci

verify lint:
	hack/verify.sh

# Every module's tests but the end-to-end ones; privileged tests run too
# (as root here and in CI) and skip only where the kernel refuses.
test-unit:
	$(GO) test -count=1 $$($(GO) list work | grep -v '^hako.dev/integration')
	# The C stages' parsers (nsenter pre-init, exec stage) under
	# AddressSanitizer, on the fuzz seeds.
	$(GO) test -count=1 -asan hako.dev/nsenter/preinit hako.dev/runtime/execstage
	# The modules with C parts again, linked as the binaries are (musl).
	$(if $(CGOENV),hack/musl.sh $(MUSL) && $(CGOENV) $(GO) test -count=1 $(STATIC) $(CGO_MODULES))

# The same cgroup tests on a pure cgroup v2 kernel, in a qemu VM.
test-v2: build
	hack/test-v2.sh

test-integration: build
	HAKO_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 20m $$($(GO) list hako.dev/integration/... | grep -v /clients)
	# Docker, containerd and podman scenarios, after the others (their
	# daemons' mounts would trip the others' host checks): the failures
	# and the summary line (clients: N passed, N failed, N skipped).
	set -o pipefail; HAKO_BIN_DIR=$(BIN) $(GO) test -count=1 -v -timeout 20m hako.dev/integration/clients | \
		grep -E '^ *--- FAIL|_test\.go:[0-9]+:|^clients:|^(ok|FAIL|panic)'

bench: setup build
	hack/bench.sh

# The OCI runtime-tools validation suite against bin/hako and runc, side
# by side (hack/oci-validation.sh; TEST=name runs one).
.PHONY: test-oci
test-oci: setup build
	hack/oci-validation.sh $(TEST)

demo: setup build
	rm -rf $(DEMO)
	$(BIN)/mkbundle $(DEMO) -- sh -c 'echo "hostname: $$(hostname)"; echo "id: $$(id)"; \
		echo "pid 1: $$(tr "\0" " " </proc/1/cmdline)"; echo "mounts:"; cat /proc/mounts'
	cd $(DEMO) && $(BIN)/hako run hako-demo-$$$$

# Man pages of every tool, from their command trees (docs/man/*.1).
# The tools are built again with the mangen tag, which carries the
# generator: the normal binaries stay without it.
docs:
	rm -rf docs/man build/mangen && mkdir -p docs/man build/mangen
	for t in hako nsrun cgctl rootfs capset seccomp console; do \
		$(GO) build -tags mangen -o build/mangen/$$t hako.dev/cmd/$$t && HAKO_GEN_MAN=$(CURDIR)/docs/man build/mangen/$$t || exit 1; done
	@ls docs/man | wc -l | xargs echo "docs: man pages:"

install: build
	install -D -m 0755 $(BIN)/hako $(DESTDIR)$(PREFIX)/bin/hako

clean:
	rm -rf $(BIN) build
