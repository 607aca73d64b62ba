package execstage

/*
#cgo CFLAGS: -Wall -Wextra -O2
#include <stdlib.h>
#include "execstage.h"
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// Linked tells whether this build carries the C stage (it needs cgo).
const Linked = true

// Glibc tells whether the C library linked is glibc (else musl).
const Glibc = C.HAKO_GLIBC != 0

// ThreadsWithClone3 tells whether the C library linked starts its threads
// (the Go runtime's, with cgo) with clone3, falling back to clone where
// clone3 is ENOSYS (glibc), or with clone alone (musl).
const ThreadsWithClone3 = Glibc

// RestoreNofile puts back the RLIMIT_NOFILE this process started with:
// the Go runtime raises the soft limit at start-up (and puts it back in
// syscall.Exec, which a re-execution by execveat(2) does not go through).
func RestoreNofile() error {
	if r, err := C.hako_restore_nofile(); r != 0 {
		return fmt.Errorf("restore RLIMIT_NOFILE: %w", err)
	}
	return nil
}

// The Go and C sides agree on the layout.
var _ = [1]struct{}{}[C.sizeof_struct_hako_plan_hdr-hdrLen]
var _ = [1]struct{}{}[C.HAKO_PLAN_MAX_BPF-maxBPF]
var _ = [1]struct{}{}[C.HAKO_PLAN_MAX-maxPlan]
var _ = [1]struct{}{}[C.HAKO_PLAN_MAX_GROUPS-maxGroups]
var _ = [1]struct{}{}[C.HAKO_PLAN_MAX_AFFINITY-maxAffinity]
var _ = [1]struct{}{}[C.HAKO_PLAN_NNP-flagNNP]
var _ = [1]struct{}{}[C.HAKO_PLAN_SECCOMP_EARLY-flagSeccompEarly]
var _ = [1]struct{}{}[C.HAKO_PLAN_CREDS-flagCreds]
var _ = [1]struct{}{}[C.HAKO_PLAN_CAPS-flagCaps]
var _ = [1]struct{}{}[C.HAKO_PLAN_UMASK-flagUmask]
var _ = [1]struct{}{}[C.HAKO_PLAN_HUGEPAGES-flagHugePages]
var _ = [1]struct{}{}[C.HAKO_PLAN_HUGEPAGES_EARLY-flagHugeEarly]
var _ = [1]struct{}{}[C.HAKO_PLAN_NAME-flagName]
var _ = [1]struct{}{}[C.HAKO_PLAN_EXEC-Exec]

// parsed is what the C parser found, for the tests.
type parsed struct {
	path, cwd, keyring string
	args, env          []string
	groups             []uint32
	affinity           []byte
	setup              *Setup
}

// parse runs the C parser on b, for the tests that hold Encode to it.
func parse(b []byte) (parsed, error) {
	var p C.struct_hako_plan
	var msg [128]C.char
	cb := C.CBytes(b)
	defer C.free(cb)
	if C.hako_parse_plan((*C.uint8_t)(cb), C.size_t(len(b)), &p, &msg[0], C.size_t(len(msg))) != 0 {
		return parsed{}, errors.New(C.GoString(&msg[0]))
	}
	defer C.hako_free_plan(&p)
	out := parsed{path: C.GoString(p.path), cwd: C.GoString(p.cwd), keyring: C.GoString(p.keyring), env: []string{}}
	for _, v := range unsafe.Slice(p.argv, p.h.argc) {
		out.args = append(out.args, C.GoString(v))
	}
	for _, v := range unsafe.Slice(p.envp, p.h.envc) {
		out.env = append(out.env, C.GoString(v))
	}
	for i := range int(p.h.ngroups) {
		out.groups = append(out.groups, binary.NativeEndian.Uint32(C.GoBytes(unsafe.Pointer(uintptr(unsafe.Pointer(p.groups))+uintptr(4*i)), 4)))
	}
	if p.h.affinity_len > 0 {
		out.affinity = C.GoBytes(unsafe.Pointer(p.affinity), C.int(p.h.affinity_len))
	}
	if p.h.kind != C.HAKO_PLAN_INIT {
		return out, nil
	}
	su := &p.setup
	out.setup = &Setup{Hostname: C.GoString(su.hostname), Domainname: C.GoString(su.domainname), Quoted: C.GoString(su.quoted),
		Home: su.h.flags&C.HAKO_SETUP_HOME != 0}
	for _, m := range unsafe.Slice(su.mounts, su.h.nmounts) {
		out.setup.Steps = append(out.setup.Steps, Step{
			Kind: StepKind(m.kind), Source: C.GoString(m.source), Target: C.GoString(m.target), Type: C.GoString(m._type),
			Data: C.GoString(m.data), Link: C.GoString(m.link), Flags: uint64(m.flags), Clear: uint64(m.clear),
			AttrSet: uint64(m.attr_set), AttrClr: uint64(m.attr_clr), DevMode: uint32(m.dev_mode),
			DevMajor: uint32(m.dev_major), DevMinor: uint32(m.dev_minor), UID: int64(m.uid), GID: int64(m.gid),
		})
	}
	kv := unsafe.Slice(su.sysctls, 2*su.h.nsysctls)
	for i := 0; i < len(kv); i += 2 {
		out.setup.Sysctls = append(out.setup.Sysctls, [2]string{C.GoString(kv[i]), C.GoString(kv[i+1])})
	}
	for _, c := range unsafe.Slice(su.cands, su.h.ncands) {
		out.setup.Candidates = append(out.setup.Candidates, C.GoString(c))
	}
	return out, nil
}

var _ = [1]struct{}{}[C.HAKO_PLAN_INIT-Init]
var _ = [1]struct{}{}[C.sizeof_struct_hako_setup_hdr-setupHdrLen]
var _ = [1]struct{}{}[C.HAKO_MOUNT_WIRE-stepLen]
var _ = [1]struct{}{}[C.HAKO_M_KINDS-stepKinds]
var _ = [1]struct{}{}[C.HAKO_SETUP_HOME-flagHome]

//go:generate sh -c "GOWORK=off go run ../../hack/errnotext/main.go > errnotext.h"

// cause is the C stage's wording of errno e, for the tests.
func cause(e int) string {
	var buf [256]C.char
	C.hako_cause(C.int(e), &buf[0], C.size_t(len(buf)))
	return C.GoString(&buf[0])
}

// cleanPath runs the C side's hako_clean_path on p, for the tests.
func cleanPath(p string) string {
	c := C.CString(p)
	defer C.free(unsafe.Pointer(c))
	if C.hako_clean_path(c) < 0 {
		return "not absolute"
	}
	return C.GoString(c)
}
