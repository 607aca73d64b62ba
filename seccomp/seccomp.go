//go:build cgo

package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Filter is a compiled profile, ready to be loaded.
type Filter struct {
	// f is libseccomp's filter; nil for one from its stored form
	// (UnmarshalFilter), which has its program only.
	f *libseccomp.ScmpFilter
	// maxNr is the highest native syscall number the profile names;
	// enosys tells whether numbers above it answer ENOSYS (see program).
	maxNr  int32
	enosys bool
	// flags are the SECCOMP_FILTER_FLAG_* to load with; nnp whether to
	// set no_new_privs first, as libseccomp's own load would.
	flags  uintptr
	nnp    bool
	notify bool
	// prog is the program once exported: Load, Program and every Check
	// (hako's init asks a few dozen before loading) share one export.
	prog []sockFilter
}

// LibraryVersion is the version of the libseccomp this binary links.
func LibraryVersion() string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", major, minor, micro)
}

// Notify tells whether the profile sends syscalls to a listener
// (SCMP_ACT_NOTIFY): Load then returns the listener's descriptor.
func (f *Filter) Notify() bool { return f.notify }

// arches maps the OCI (SCMP_ARCH_*) names to libseccomp's.
var arches = map[specs.Arch]string{
	specs.ArchX86: "x86", specs.ArchX86_64: "amd64", specs.ArchX32: "x32",
	specs.ArchARM: "arm", specs.ArchAARCH64: "arm64",
	specs.ArchMIPS: "mips", specs.ArchMIPS64: "mips64", specs.ArchMIPS64N32: "mips64n32",
	specs.ArchMIPSEL: "mipsel", specs.ArchMIPSEL64: "mipsel64", specs.ArchMIPSEL64N32: "mipsel64n32",
	specs.ArchPPC: "ppc", specs.ArchPPC64: "ppc64", specs.ArchPPC64LE: "ppc64le",
	specs.ArchS390: "s390", specs.ArchS390X: "s390x", specs.ArchRISCV64: "riscv64",
	specs.ArchLOONGARCH64: "loong64",
}

var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual: libseccomp.CompareNotEqual, specs.OpLessThan: libseccomp.CompareLess,
	specs.OpLessEqual: libseccomp.CompareLessOrEqual, specs.OpEqualTo: libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual, specs.OpGreaterThan: libseccomp.CompareGreater,
	specs.OpMaskedEqual: libseccomp.CompareMaskedEqual,
}

// action converts an OCI action; errno is the rule's errnoRet (nil: EPERM).
func action(a specs.LinuxSeccompAction, errno *uint) (libseccomp.ScmpAction, error) {
	ret := int16(unix.EPERM)
	if errno != nil {
		ret = int16(*errno)
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return libseccomp.ActKillThread, nil
	case specs.ActKillProcess:
		return libseccomp.ActKillProcess, nil
	case specs.ActTrap:
		return libseccomp.ActTrap, nil
	case specs.ActErrno:
		return libseccomp.ActErrno.SetReturnCode(ret), nil
	case specs.ActTrace:
		return libseccomp.ActTrace.SetReturnCode(ret), nil
	case specs.ActAllow:
		return libseccomp.ActAllow, nil
	case specs.ActLog:
		return libseccomp.ActLog, nil
	case specs.ActNotify:
		return libseccomp.ActNotify, nil
	}
	return 0, fmt.Errorf("unknown action %q", a)
}

// Compile turns a profile into a filter. Syscall names this libseccomp
// does not know are skipped and returned, as runc skips them: a profile
// written for a newer kernel still loads. noNewPrivs tells whether the
// process sets no_new_privs itself; without it, loading needs
// CAP_SYS_ADMIN.
func Compile(p *specs.LinuxSeccomp, noNewPrivs bool) (f *Filter, skipped []string, err error) {
	def, err := action(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return nil, nil, fmt.Errorf("seccomp defaultAction: %w", err)
	}
	if def == libseccomp.ActNotify {
		// Every syscall, the listener's own replies included, would wait.
		return nil, nil, errors.New("seccomp defaultAction: SCMP_ACT_NOTIFY cannot be the default")
	}
	sf, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, nil, fmt.Errorf("seccomp: %w", err)
	}
	defer func() {
		if err != nil {
			sf.Release()
		}
	}()
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, nil, fmt.Errorf("seccomp: native architecture: %w", err)
	}
	for _, a := range p.Architectures {
		name, ok := arches[a]
		if !ok {
			return nil, nil, fmt.Errorf("seccomp: unknown architecture %q", a)
		}
		arch, err := libseccomp.GetArchFromString(name)
		if err != nil {
			return nil, nil, fmt.Errorf("seccomp: architecture %q: %w", a, err)
		}
		if arch == native {
			continue // present from the start
		}
		if err := sf.AddArch(arch); err != nil {
			return nil, nil, fmt.Errorf("seccomp: add architecture %q: %w", a, err)
		}
	}
	flt := &Filter{nnp: noNewPrivs, flags: unix.SECCOMP_FILTER_FLAG_TSYNC, maxNr: -1}
	for _, flag := range p.Flags {
		switch flag {
		case specs.LinuxSeccompFlagLog:
			flt.flags |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			flt.flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		case specs.LinuxSeccompFlagWaitKillableRecv:
			flt.flags |= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
		case "SECCOMP_FILTER_FLAG_TSYNC":
			// always on: every thread of the process gets the filter
		default:
			return nil, nil, fmt.Errorf("seccomp flag %s: unknown flag", flag)
		}
	}
	for i, rule := range p.Syscalls {
		act, err := action(rule.Action, rule.ErrnoRet)
		if err != nil {
			return nil, nil, fmt.Errorf("seccomp syscalls[%d]: %w", i, err)
		}
		if act == libseccomp.ActNotify {
			if p.ListenerPath == "" {
				return nil, nil, fmt.Errorf("seccomp syscalls[%d]: SCMP_ACT_NOTIFY needs listenerPath", i)
			}
			flt.notify = true
		}
		conds, err := conditions(rule.Args)
		if err != nil {
			return nil, nil, fmt.Errorf("seccomp syscalls[%d]: %w", i, err)
		}
		for _, name := range rule.Names {
			call, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				skipped = append(skipped, name)
				continue
			}
			flt.maxNr = max(flt.maxNr, int32(call))
			if act == def {
				continue // libseccomp refuses a rule that repeats the default
			}
			for _, c := range conds {
				if err := sf.AddRuleConditional(call, act, c); err != nil {
					return nil, nil, fmt.Errorf("seccomp rule for %s: %w", name, err)
				}
			}
		}
	}
	// A syscall newer than anything the profile names gets ENOSYS rather
	// than a default that denies: libc then falls back to an older call
	// (clone3 -> clone, ...), as it does on an older kernel. Not needed
	// when the default lets everything through anyway.
	flt.enosys = flt.maxNr >= 0 && def != libseccomp.ActAllow && def != libseccomp.ActLog
	if flt.notify {
		// TSYNC alone refuses a new listener; with TSYNC_ESRCH it fails
		// with ESRCH instead of a thread id, and both can go together.
		flt.flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
	flt.f = sf
	return flt, skipped, nil
}

// conditions turns a rule's args into the condition sets to add: one set
// (all must hold) normally; but libseccomp cannot AND two conditions on the
// same argument, and profiles that give several for one argument (Docker's
// does, for personality) mean any of them, so each becomes a rule of its own.
func conditions(args []specs.LinuxSeccompArg) ([][]libseccomp.ScmpCondition, error) {
	var all []libseccomp.ScmpCondition
	seen := map[uint]bool{}
	repeated := false
	for _, a := range args {
		op, ok := operators[a.Op]
		if !ok {
			return nil, fmt.Errorf("unknown operator %q", a.Op)
		}
		if a.Index > 5 {
			return nil, fmt.Errorf("argument index %d out of range (0-5)", a.Index)
		}
		var c libseccomp.ScmpCondition
		var err error
		if op == libseccomp.CompareMaskedEqual {
			c, err = libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
		} else {
			c, err = libseccomp.MakeCondition(a.Index, op, a.Value)
		}
		if err != nil {
			return nil, err
		}
		repeated = repeated || seen[a.Index]
		seen[a.Index] = true
		all = append(all, c)
	}
	if !repeated {
		return [][]libseccomp.ScmpCondition{all}, nil
	}
	var sets [][]libseccomp.ScmpCondition
	for _, c := range all {
		sets = append(sets, []libseccomp.ScmpCondition{c})
	}
	return sets, nil
}

// Load installs the filter on the calling process (every thread: TSYNC),
// with seccomp(2) directly, since the program is libseccomp's plus the
// ENOSYS prefix. For a profile with SCMP_ACT_NOTIFY it returns the
// listener's descriptor (seccomp_unotify(2)), else nil.
func (f *Filter) Load() (*os.File, error) {
	prog, err := f.program()
	if err != nil {
		return nil, err
	}
	// no_new_privs is per thread: set it on the thread that loads (TSYNC
	// then sets it on the others).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if f.nnp {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return nil, fmt.Errorf("load seccomp filter: set no_new_privs: %w", err)
		}
	}
	filters := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		filters[i] = unix.SockFilter{Code: in.code, Jt: in.jt, Jf: in.jf, K: in.k}
	}
	fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	r, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, f.flags, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(filters)
	if e != 0 {
		return nil, fmt.Errorf("load seccomp filter: %w", e)
	}
	if f.notify {
		return os.NewFile(r, "seccomp-listener"), nil
	}
	if r != 0 { // TSYNC: the id of a thread that could not be synchronized
		return nil, fmt.Errorf("load seccomp filter: thread %d could not take it", r)
	}
	return nil, nil
}

// Program is the filter as seccomp(2) takes it, for a caller that loads
// it itself (hako's exec stage does, in C, right before execve): the
// instructions (struct sock_filter, 8 bytes each, native byte order) and
// the SECCOMP_FILTER_FLAG_* bits to load them with. The caller sets
// no_new_privs first when Compile was told the process would have it.
func (f *Filter) Program() (bpf []byte, flags uint32, err error) {
	prog, err := f.program()
	if err != nil {
		return nil, 0, err
	}
	bpf = make([]byte, 0, 8*len(prog))
	for _, in := range prog {
		bpf = binary.NativeEndian.AppendUint16(bpf, in.code)
		bpf = append(bpf, in.jt, in.jf)
		bpf = binary.NativeEndian.AppendUint32(bpf, in.k)
	}
	return bpf, uint32(f.flags), nil
}

// program is the BPF the kernel gets: libseccomp's, behind a prefix that
// answers ENOSYS, on the native architecture, for syscall numbers above
// the highest the profile names (x32 numbers, which have bit 30 set, go
// on to libseccomp's own checks).
func (f *Filter) program() ([]sockFilter, error) {
	if f.prog != nil {
		return f.prog, nil
	}
	prog, err := f.build()
	if err == nil {
		f.prog = prog
	}
	return prog, err
}

// build makes the program from libseccomp's export (see program).
func (f *Filter) build() ([]sockFilter, error) {
	raw, err := f.bpf()
	if err != nil {
		return nil, err
	}
	prog, err := parseProgram(raw)
	if err != nil || !f.enosys {
		return prog, err
	}
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, err
	}
	arch, ok := auditArch[native]
	if !ok {
		return prog, nil
	}
	const enosys = 0x00050000 | uint32(unix.ENOSYS) // SECCOMP_RET_ERRNO | ENOSYS
	prefix := []sockFilter{
		{code: 0x20, k: 4},                        // A = arch
		{code: 0x15, jt: 0, jf: 4, k: arch},       // not native: to libseccomp's program
		{code: 0x20, k: 0},                        // A = nr
		{code: 0x45, jt: 2, jf: 0, k: 0x40000000}, // x32: to libseccomp's program
		{code: 0x25, jt: 0, jf: 1, k: uint32(f.maxNr)},
		{code: 0x06, k: enosys},
	}
	return append(prefix, prog...), nil
}

// Release frees the compiled filter (a loaded one stays in force).
func (f *Filter) Release() {
	if f.f != nil {
		f.f.Release()
	}
}

// PFC renders the filter as libseccomp's pseudo-C, for reading.
func (f *Filter) PFC() (string, error) {
	if f.f == nil {
		return "", errors.New("seccomp: a stored filter has no pseudo-C: compile the profile")
	}
	b, err := export(f.f.ExportPFC)
	return string(b), err
}

// Check answers what the filter does with syscall name called with args
// by the native architecture, without loading it: the exported BPF
// program is interpreted. The answer reads like an OCI action,
// "SCMP_ACT_ERRNO(1)".
func (f *Filter) Check(name string, args ...uint64) (string, error) {
	if len(args) > 6 {
		return "", errors.New("check: at most 6 arguments")
	}
	call, err := libseccomp.GetSyscallFromName(name)
	if err != nil {
		return "", fmt.Errorf("check: unknown syscall %q", name)
	}
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return "", err
	}
	prog, err := f.program()
	if err != nil {
		return "", err
	}
	d := &seccompData{nr: int32(call), arch: auditArch[native]}
	copy(d.args[:], args)
	ret, err := run(prog, d)
	if err != nil {
		return "", err
	}
	return describe(ret), nil
}

// bpf exports the program. seccomp_export_bpf_mem needs libseccomp 2.6
// (Debian 12 has 2.5), so it goes through a file: a memfd, since the
// caller may stand in a container whose root is read-only.
func (f *Filter) bpf() ([]byte, error) {
	return export(f.f.ExportBPF)
}

func export(to func(*os.File) error) ([]byte, error) {
	fd, err := unix.MemfdCreate("seccomp-export", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	mf := os.NewFile(uintptr(fd), "seccomp-export")
	defer mf.Close()
	if err := to(mf); err != nil {
		return nil, fmt.Errorf("export seccomp filter: %w", err)
	}
	if _, err := mf.Seek(0, 0); err != nil {
		return nil, err
	}
	return io.ReadAll(mf)
}

// auditArch is the AUDIT_ARCH_* value the kernel puts in seccomp_data for
// the architectures this interpreter checks as native.
var auditArch = map[libseccomp.ScmpArch]uint32{
	libseccomp.ArchAMD64: 0xc000003e, libseccomp.ArchX86: 0x40000003, libseccomp.ArchARM64: 0xc00000b7,
	libseccomp.ArchPPC64LE: 0xc0000015, libseccomp.ArchS390X: 0x80000016, libseccomp.ArchRISCV64: 0xc00000f3,
}

// Supported lists what Compile takes: actions, operators, architectures
// and flags, by their OCI names, sorted.
func Supported() (acts, ops, archList, flagList []string) {
	for _, a := range []specs.LinuxSeccompAction{specs.ActKill, specs.ActKillThread, specs.ActKillProcess, specs.ActTrap,
		specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify} {
		acts = append(acts, string(a))
	}
	for o := range operators {
		ops = append(ops, string(o))
	}
	for a := range arches {
		archList = append(archList, string(a))
	}
	flagList = []string{"SECCOMP_FILTER_FLAG_TSYNC", string(specs.LinuxSeccompFlagLog), string(specs.LinuxSeccompFlagSpecAllow),
		string(specs.LinuxSeccompFlagWaitKillableRecv)}
	for _, l := range [][]string{acts, ops, archList, flagList} {
		sort.Strings(l)
	}
	return
}
