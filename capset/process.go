package capset

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The per-process settings below go with capabilities because each needs
// a privilege that Apply may drop (CAP_SYS_NICE for real-time scheduling
// and I/O classes): callers set them first.

// SetPersonality sets the execution domain (personality(2)); LINUX32
// makes uname report a 32-bit machine, as `setarch linux32` does.
func SetPersonality(p *specs.LinuxPersonality) error {
	var dom uint
	switch p.Domain {
	case specs.PerLinux:
		dom = 0x0000 // PER_LINUX
	case specs.PerLinux32:
		dom = 0x0008 // PER_LINUX32
	default:
		return fmt.Errorf("personality: unknown domain %q", p.Domain)
	}
	if len(p.Flags) > 0 {
		return fmt.Errorf("personality: unknown flags %v (the spec defines none)", p.Flags)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, uintptr(dom), 0, 0); e != 0 {
		return fmt.Errorf("personality %s: %w", p.Domain, e)
	}
	return nil
}

var policies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther: unix.SCHED_NORMAL, specs.SchedFIFO: unix.SCHED_FIFO, specs.SchedRR: unix.SCHED_RR,
	specs.SchedBatch: unix.SCHED_BATCH, specs.SchedIdle: unix.SCHED_IDLE, specs.SchedDeadline: unix.SCHED_DEADLINE,
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork: unix.SCHED_FLAG_RESET_ON_FORK, specs.SchedFlagReclaim: unix.SCHED_FLAG_RECLAIM,
	specs.SchedFlagDLOverrun: unix.SCHED_FLAG_DL_OVERRUN, specs.SchedFlagKeepPolicy: unix.SCHED_FLAG_KEEP_POLICY,
	specs.SchedFlagKeepParams: unix.SCHED_FLAG_KEEP_PARAMS, specs.SchedFlagUtilClampMin: unix.SCHED_FLAG_UTIL_CLAMP_MIN,
	specs.SchedFlagUtilClampMax: unix.SCHED_FLAG_UTIL_CLAMP_MAX,
}

// SetScheduler sets the calling thread's policy and parameters with
// sched_setattr(2) (the thread that will execve: its setting is kept).
func SetScheduler(s *specs.Scheduler) error {
	pol, ok := policies[s.Policy]
	if !ok {
		return fmt.Errorf("scheduler: unknown policy %q", s.Policy) // SCHED_ISO: no Linux kernel has it
	}
	attr := &unix.SchedAttr{Policy: pol, Nice: s.Nice, Priority: uint32(s.Priority),
		Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period}
	for _, f := range s.Flags {
		v, ok := schedFlags[f]
		if !ok {
			return fmt.Errorf("scheduler: unknown flag %q", f)
		}
		attr.Flags |= v
	}
	if err := unix.SchedSetAttr(0, attr, 0); err != nil {
		return fmt.Errorf("scheduler %s: %w", s.Policy, err)
	}
	return nil
}

var ioClasses = map[specs.IOPriorityClass]uintptr{
	specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
}

// SetIOPriority sets the process's I/O scheduling class and level
// (ioprio_set(2)).
func SetIOPriority(p *specs.LinuxIOPriority) error {
	class, ok := ioClasses[p.Class]
	if !ok {
		return fmt.Errorf("ioPriority: unknown class %q", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return fmt.Errorf("ioPriority: level %d out of range (0-7)", p.Priority)
	}
	const whoProcess, classShift = 1, 13
	if _, _, e := unix.RawSyscall(unix.SYS_IOPRIO_SET, whoProcess, 0, class<<classShift|uintptr(p.Priority)); e != 0 {
		return fmt.Errorf("ioPriority %s %d: %w", p.Class, p.Priority, e)
	}
	return nil
}

// SetAffinity pins a thread (pid; 0 for the calling one) to a CPU list
// such as "0-3,6".
func SetAffinity(pid int, list string) error {
	set, err := ParseCPUList(list)
	if err != nil {
		return err
	}
	if err := unix.SchedSetaffinity(pid, &set); err != nil {
		return fmt.Errorf("cpu affinity %q: %w", list, err)
	}
	return nil
}

// ParseCPUList reads a CPU list such as "0-3,6" (CPUs below 1024).
func ParseCPUList(list string) (unix.CPUSet, error) {
	var set unix.CPUSet
	set.Zero()
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 0 || b < a || b >= 1024 {
			return set, fmt.Errorf("cpu affinity %q: bad list", list)
		}
		for c := a; c <= b; c++ {
			set.Set(c)
		}
	}
	return set, nil
}

// JoinSessionKeyring gives the process a new session keyring called name,
// so that it does not share the caller's (keyrings(7): a container would
// otherwise see and use the host session's keys).
func JoinSessionKeyring(name string) error {
	if _, err := unix.KeyctlJoinSessionKeyring(name); err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return nil // a kernel without keys: nothing to share either
		}
		return fmt.Errorf("join session keyring %s: %w", name, err)
	}
	return nil
}
