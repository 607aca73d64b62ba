// Package execstage is the last stage of a container's init, in C: it
// waits for `hako start` and executes the program, so that what waits
// between create and start is not a Go runtime (its memory is charged to
// the container; this stage's is about a megabyte).
//
// The init's Go part, its setup done, writes a Plan into a memfd and
// re-executes the binary it runs as (already sealed against
// CVE-2019-5736) with Env naming that descriptor. This package's C
// constructor, linked into every binary that imports it, then runs
// before the Go runtime would start: it tells the parent "ready" (with
// the pty master, if any), waits for "ok", opens the exec fifo, moves the
// preserved descriptors down to 3, marks the rest close-on-exec, sets
// no_new_privs and loads the seccomp program if the plan says so, and
// calls execve(2). A plan of kind Init makes the stage the whole init:
// it also sets up the root filesystem from a Setup (so the init never
// starts Go). See execstage.c for the protocol.
package execstage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// A Call is a syscall, with the arguments that matter to a filter.
type Call struct {
	Name string
	Args []uint64
}

// Syscalls are what is called from the Go side's plan memfd to the
// program's execve: the Go init's last calls, the C library's start-up in
// the re-executed binary (glibc's or musl's), and the stage's own (some
// only on some paths: dup3 with preserved descriptors, getdents64 where
// close_range is refused, sendto for an error). A seccomp filter loaded
// before (a config without no_new_privs) filters them all: hako's init
// uses the stage only if the filter allows every one of Needed. An
// integration test holds the list to what a stage is seen calling under
// strace.
var Syscalls = []Call{
	{"memfd_create", nil}, {"write", nil}, {"fcntl", []uint64{0, 1033 /* F_ADD_SEALS */, 15}},
	{"fcntl", []uint64{0, 2 /* F_SETFD */, 0}}, {"execveat", nil},
	{"brk", nil}, {"mmap", nil}, {"munmap", nil}, {"arch_prctl", nil}, {"set_tid_address", nil},
	{"set_robust_list", nil}, {"rseq", nil}, {"prlimit64", nil}, {"readlink", nil}, {"getrandom", nil},
	{"mprotect", nil}, {"prctl", []uint64{4 /* PR_SET_DUMPABLE */, 0}},
	{"prctl", []uint64{38 /* PR_SET_NO_NEW_PRIVS */, 1}}, {"fcntl", []uint64{0, 1034 /* F_GET_SEALS */}},
	{"newfstatat", nil}, {"pread64", nil}, {"close", nil}, {"sendmsg", nil}, {"sendto", nil},
	{"recvfrom", nil}, {"rt_sigaction", nil}, {"openat", nil}, {"dup3", nil}, {"sched_setaffinity", nil},
	{"close_range", []uint64{3, 1<<32 - 1, 4 /* CLOSE_RANGE_CLOEXEC */}},
	{"getdents64", nil}, {"fcntl", []uint64{0, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */}},
	{"fcntl", []uint64{0, 1030 /* F_DUPFD_CLOEXEC */, 3}}, // the sync socket above preserved descriptors
	{"execve", nil}, {"exit_group", nil},
	// musl's, where glibc calls the ones above (openat, newfstatat).
	{"open", nil}, {"fstat", nil}, {"rt_sigprocmask", nil},
}

// onlyGlibc and onlyMusl are the calls of Syscalls one C library's
// start-up or wrappers make and the other's do not.
var (
	onlyGlibc = []string{"set_robust_list", "rseq", "readlink", "getrandom", "mprotect"}
	onlyMusl  = []string{"open", "fstat"}
)

// Needed is Syscalls less the calls only the other C library makes.
func Needed() []Call {
	other := onlyGlibc
	if Glibc {
		other = onlyMusl
	}
	var out []Call
	for _, c := range Syscalls {
		if !slices.Contains(other, c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// Env names the plan's descriptor in the re-executed binary's environment.
const Env = "_HAKO_EXEC_PLAN"

// Kind is what a plan is for.
type Kind uint32

const (
	// Wait is the container's init: its Go part has set the process up;
	// the stage says "ready", waits for "ok" and for `hako start` (the
	// exec fifo), then runs the program.
	Wait Kind = 0
	// Exec is a process joining a container (nsenter's pre-init stage
	// joined its namespaces): the stage applies the process settings,
	// says "ready", and runs the program.
	Exec Kind = 1
	// Init is the container's init without a Go runtime: nsenter's
	// pre-init stage made its namespaces; the stage carries out the
	// plan's Setup, applies the process settings as for Exec, then goes
	// on as for Wait.
	Init Kind = 2
)

// Plan is what the stage does, in its order.
type Plan struct {
	Kind Kind
	// Sync is the socket to the parent; Master, if not -1, the pty
	// master sent with "ready".
	Sync, Master int
	// Fifo is the exec fifo's O_PATH descriptor (Wait).
	Fifo int
	// Keyring, if set, is the session keyring to join (Exec).
	Keyring string
	// SeccompEarly loads the filter before the credentials change (no
	// no_new_privs: loading it needs CAP_SYS_ADMIN), not right before
	// execve.
	SeccompEarly bool
	// Creds switches to UID, GID and Groups (Exec).
	Creds    bool
	UID, GID uint32
	Groups   []uint32
	// Caps sets the capability sets (bit N is capability N), dropping
	// from the bounding set up to LastCap (Exec).
	Caps                                                 bool
	LastCap                                              uint32
	Bounding, Effective, Permitted, Inheritable, Ambient uint64
	// Cwd, if set, is changed to (Exec); Umask is set if SetUmask.
	Cwd      string
	SetUmask bool
	Umask    uint32
	// Preserve descriptors from PreserveFrom on become 3 on.
	PreserveFrom, Preserve int
	// Affinity, if set, is the CPU mask (cpu_set_t bytes) to run on.
	Affinity []byte
	// NoNewPrivs is set right before the seccomp program is loaded.
	NoNewPrivs bool
	// HugePages gives the program transparent huge pages back: the
	// parent launched the stage with them disabled (PR_SET_THP_DISABLE,
	// which fork and execve pass on), and the stage clears that right
	// before the program's execve; HugePagesEarly does it before the
	// filter loaded early instead (SeccompEarly), for a filter that
	// would refuse the prctl.
	HugePages, HugePagesEarly bool
	// Name has the stage name itself hako:[init] or hako:[exec] as it
	// starts (the kernel named it after the descriptor it was executed
	// through: "22"), which ps and top show until the program's execve.
	// Not where a filter in force already (a Go init's) could refuse the
	// prctl.
	Name bool
	// BPF, if any, is the seccomp program (struct sock_filter, 8 bytes
	// each, native order), loaded with SeccompFlags.
	BPF          []byte
	SeccompFlags uint32
	// Path is the program, run with Args and Env (Init: found among
	// Setup.Candidates).
	Path      string
	Args, Env []string
	// Setup is the init's setup (Init only).
	Setup *Setup
}

// The C side's limits and layout (execstage.h): a header of 128 bytes,
// native byte order, no padding.
const (
	maxBPF      = 4096
	maxPlan     = 16 << 20
	maxGroups   = 65536
	maxAffinity = 8192
	hdrLen      = 128

	flagNNP          = 1
	flagSeccompEarly = 2
	flagCreds        = 4
	flagCaps         = 8
	flagUmask        = 16
	flagHugePages    = 32
	flagHugeEarly    = 64
	flagName         = 128
)

// Encode lays the plan out for the C stage.
func (p *Plan) Encode() ([]byte, error) {
	switch {
	case (p.Path == "") != (p.Kind == Init) || len(p.Args) == 0:
		return nil, errors.New("exec plan: no program")
	case (p.Setup != nil) != (p.Kind == Init):
		return nil, errors.New("exec plan: a setup goes with kind Init only")
	case len(p.BPF)%8 != 0 || len(p.BPF)/8 > maxBPF:
		return nil, fmt.Errorf("exec plan: seccomp program of %d bytes", len(p.BPF))
	case len(p.Groups) > maxGroups || len(p.Affinity) > maxAffinity || p.LastCap > 63 || p.Umask > 0o777:
		return nil, errors.New("exec plan: process settings out of range")
	}
	var strs bytes.Buffer
	for _, s := range append(append([]string{p.Path, p.Cwd, p.Keyring}, p.Args...), p.Env...) {
		if strings.IndexByte(s, 0) >= 0 {
			return nil, fmt.Errorf("exec plan: NUL in %q", s)
		}
		strs.WriteString(s)
		strs.WriteByte(0)
	}
	var flags uint32
	for _, f := range []struct {
		on  bool
		bit uint32
	}{{p.NoNewPrivs, flagNNP}, {p.SeccompEarly, flagSeccompEarly}, {p.Creds, flagCreds}, {p.Caps, flagCaps}, {p.SetUmask, flagUmask}, {p.HugePages, flagHugePages}, {p.HugePagesEarly, flagHugeEarly}, {p.Name, flagName}} {
		if f.on {
			flags |= f.bit
		}
	}
	var setup []byte
	if p.Setup != nil {
		var err error
		if setup, err = p.Setup.encode(); err != nil {
			return nil, err
		}
	}
	ne := binary.NativeEndian
	out := make([]byte, 0, hdrLen+len(p.BPF)+4*len(p.Groups)+len(p.Affinity)+strs.Len()+len(setup))
	out = append(out, "HKEX"...)
	for _, v := range []uint32{
		3, uint32(p.Kind), uint32(int32(p.Sync)), uint32(int32(p.Fifo)), uint32(int32(p.Master)),
		uint32(int32(p.PreserveFrom)), uint32(int32(p.Preserve)), flags, p.SeccompFlags, uint32(len(p.BPF) / 8),
		p.UID, p.GID, uint32(len(p.Groups)), p.Umask, p.LastCap,
	} {
		out = ne.AppendUint32(out, v)
	}
	for _, v := range []uint64{p.Bounding, p.Effective, p.Permitted, p.Inheritable, p.Ambient} {
		out = ne.AppendUint64(out, v)
	}
	for _, v := range []uint32{uint32(len(p.Affinity)), uint32(len(p.Args)), uint32(len(p.Env)), uint32(strs.Len()), uint32(len(setup)), 0} {
		out = ne.AppendUint32(out, v)
	}
	out = append(out, p.BPF...)
	for _, g := range p.Groups {
		out = ne.AppendUint32(out, g)
	}
	out = append(append(append(out, p.Affinity...), strs.Bytes()...), setup...)
	if len(out) > maxPlan {
		return nil, fmt.Errorf("exec plan: %d bytes, more than %d", len(out), maxPlan)
	}
	return out, nil
}
