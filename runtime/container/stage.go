package container

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"

	"hako.dev/capset"
	"hako.dev/runtime/execstage"
	"hako.dev/seccomp"
)

// The init's last stage, from "ready" to the program's execve, is C
// (hako.dev/runtime/execstage): the Go init re-executes its own sealed
// binary into it, so that what waits between create and start is about a
// megabyte, not a Go runtime's nine. The Go init keeps that part
// itself when the stage cannot take it (stageable).

// stageable tells whether the C stage can take the init's last steps: it
// is in this binary (built with cgo), it runs no startContainer hooks,
// an LSM label set for execve would take effect at its own, and a filter
// loaded already lets its syscalls through (filterOK, found out before
// that filter was loaded).
func stageable(cfg *initConfig, filterOK bool) bool {
	p := cfg.Spec.Process
	if !execstage.Linked {
		return false
	}
	if h := cfg.Spec.Hooks; (h != nil && len(h.StartContainer) > 0) || p.ApparmorProfile != "" || p.SelinuxLabel != "" {
		return false
	}
	return filterOK
}

// passes tells whether f answers every syscall of the stage with one of
// the actions given.
func passes(f *seccomp.Filter, actions ...string) bool {
	for _, c := range execstage.Needed() {
		act, err := f.Check(c.Name, c.Args...)
		if err != nil || !slices.Contains(actions, act) {
			return false
		}
	}
	return true
}

// threads tells whether f lets the Go runtime start a thread (through the
// C library: glibc's clone3, or clone with a thread's flags, which glibc
// falls back to and musl uses alone): loaded by the Go init, the filter is
// in force for the runtime too.
func threads(f *seccomp.Filter) bool {
	const threadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD |
		unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID
	if execstage.ThreadsWithClone3 {
		if act, err := f.Check("clone3"); err == nil && act == "SCMP_ACT_ALLOW" {
			return true
		}
		if act, err := f.Check("clone3"); err != nil || act != "SCMP_ACT_ERRNO(38)" {
			return false // glibc falls back to clone only on ENOSYS
		}
	}
	flags := uint64(threadFlags)
	if !execstage.ThreadsWithClone3 {
		flags |= unix.CLONE_DETACHED // musl's pthread_create adds it
	}
	act, err := f.Check("clone", flags)
	return err == nil && act == "SCMP_ACT_ALLOW"
}

// execStage hands the rest of the init to the C stage: a plan in a
// memfd, then execveat(2) of self, the binary this process runs as. It
// returns only if that failed, every descriptor as it was, so that the Go
// init can go on instead.
func execStage(self int, cfg *initConfig, s *setUp, master console.Console) error {
	proc := cfg.Spec.Process
	plan := execstage.Plan{
		Sync: initSockFd, Fifo: initFifoFd, Master: -1, PreserveFrom: initFifoFd + 1, Preserve: cfg.PreserveFDs,
		NoNewPrivs: proc.NoNewPrivileges, Path: s.path, Args: proc.Args, Env: proc.Env, HugePages: s.huge.back,
		Name: s.nameOK,
	}
	if master != nil {
		plan.Master = int(master.Fd())
	}
	if a := proc.ExecCPUAffinity; a != nil && a.Final != "" {
		set, err := capset.ParseCPUList(a.Final)
		if err != nil {
			return err
		}
		plan.Affinity = cpuMask(&set)
	}
	// The filter still to load (a config with no_new_privs): loaded now
	// if it allows every step of the stage, so that the stage never runs
	// unfiltered (it is dumpable from its execve to its first
	// instruction, when a process of the container with the same
	// credentials could trace it); otherwise by the stage, right before
	// the program's execve (after the prctl that gives huge pages back,
	// should the filter refuse that).
	if s.filter != nil && passes(s.filter, "SCMP_ACT_ALLOW") && threads(s.filter) && (!s.huge.back || thpPasses(s.filter)) {
		plan.Name = plan.Name && namePasses(s.filter)
		if _, err := s.filter.Load(); err != nil {
			return err
		}
		// In force now: should the stage not start, the Go init must
		// not load it twice.
		s.filter = nil
	}
	if s.filter != nil {
		bpf, flags, err := s.filter.Program()
		if err != nil {
			return err
		}
		plan.BPF, plan.SeccompFlags = bpf, flags
	}
	// Not close-on-exec: the stage reads it (and closes it).
	fd, err := planFile(&plan, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	keep := []int{initSockFd, initFifoFd}
	if plan.Master >= 0 {
		keep = append(keep, plan.Master)
	}
	for _, k := range keep {
		if _, err := unix.FcntlInt(uintptr(k), unix.F_SETFD, 0); err != nil {
			return os.NewSyscallError("fcntl", err)
		}
	}
	defer func() {
		for _, k := range keep {
			unix.CloseOnExec(k)
		}
	}()
	// What the program gets is what this process started with, as the
	// Go init's own syscall.Exec would give it.
	if err := execstage.RestoreNofile(); err != nil {
		return err
	}
	argv, err := syscall.SlicePtrFromStrings([]string{"hako", "init"})
	if err != nil {
		return err
	}
	envv, err := syscall.SlicePtrFromStrings([]string{execstage.Env + "=" + strconv.Itoa(fd)})
	if err != nil {
		return err
	}
	empty := []byte{0}
	_, _, e := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(self), uintptr(unsafe.Pointer(&empty[0])),
		uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])), unix.AT_EMPTY_PATH, 0)
	return os.NewSyscallError("execveat", e)
}

// planFile writes plan into a memfd made with flags (and sealing
// allowed) and returns it sealed: from here on nothing changes it, not
// even a process of the container that gets at it through /proc while the
// stage's execve has made it dumpable again. The stage checks the seals.
func planFile(plan *execstage.Plan, flags int) (int, error) {
	b, err := plan.Encode()
	if err != nil {
		return -1, err
	}
	fd, err := unix.MemfdCreate("hako-exec-plan", flags|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, os.NewSyscallError("memfd_create", err)
	}
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err != nil {
			unix.Close(fd)
			return -1, os.NewSyscallError("write exec plan", err)
		}
		b = b[n:]
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("seal exec plan", err)
	}
	return fd, nil
}

// cpuMask is set as sched_setaffinity(2) takes it.
func cpuMask(set *unix.CPUSet) []byte {
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(set)), unsafe.Sizeof(*set))...)
}

// namePasses tells whether f, in force when the stage starts, lets its
// naming prctl through harmlessly: allowed, or refused with an error
// (which the stage ignores), not killed or trapped.
func namePasses(f *seccomp.Filter) bool {
	act, err := f.Check("prctl", unix.PR_SET_NAME)
	return err == nil && (act == "SCMP_ACT_ALLOW" || act == "SCMP_ACT_LOG" || strings.HasPrefix(act, "SCMP_ACT_ERRNO"))
}

// setName names the calling thread (the main one, in an init: the name ps
// and top show) as the exec stage names itself: the kernel named the
// process after the descriptor its binary was executed through ("22").
func setName(name string) {
	b := append([]byte(name), 0)
	unix.Syscall(unix.SYS_PRCTL, unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0)
}
