package nsenter

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Request says which namespaces a process enters before its program runs.
// The zero value enters nothing.
type Request struct {
	// New lists the namespaces to create.
	New []Kind
	// Join lists existing namespaces to enter, by path (/proc/PID/ns/net,
	// a bind mount of one, ...).
	Join []Join
	// UIDMap and GIDMap map ids of a new user namespace to the parent's.
	// They are written by the parent (or by newuidmap and newgidmap when
	// UseHelpers is set, for an unprivileged parent with several ranges).
	UIDMap, GIDMap []IDMap
	// DenySetgroups writes "deny" to /proc/PID/setgroups before the gid
	// map: required for an unprivileged parent writing a gid map itself.
	DenySetgroups bool
	// UseHelpers writes the maps with newuidmap(1) and newgidmap(1).
	UseHelpers bool
	// TimeOffsets shift CLOCK_MONOTONIC and CLOCK_BOOTTIME in a new time
	// namespace.
	TimeOffsets []TimeOffset
	// OOMScoreAdj, when set, is written to /proc/self/oom_score_adj.
	OOMScoreAdj *int
	// Fork runs the rest in a child even when no pid or time namespace
	// asks for one (unshare --fork).
	Fork bool
	// MountProc mounts a fresh /proc once inside, after making "/"
	// private (unshare --mount-proc); it needs a new mount namespace.
	MountProc bool
	// Cgroups are files the process writes "0" to before it enters any
	// namespace: the tasks files of the cgroup v1 hierarchies it joins
	// (cgctl.Entry). A thread that moves itself takes no global lock;
	// a parent writing the pid to cgroup.procs waits for an RCU grace
	// period, milliseconds, on each start.
	Cgroups []string
	// Exec, when set, is the program (searched in $PATH, as execvp(3)
	// does) the C stage executes itself once inside, so the binary's Go
	// code never runs there: the fast path for tools such as nsrun. An
	// exec failure is reported by Enter.
	Exec []string
}

// Join is one existing namespace to enter.
type Join struct {
	Kind Kind
	Path string
}

// IDMap is one line of a uid_map or gid_map.
type IDMap struct {
	Inside, Outside, Size uint32
}

// TimeOffset is one line of /proc/PID/timens_offsets.
type TimeOffset struct {
	Clock   Clock
	Seconds int64
	Nanos   int64
}

// Clock names a clock a time namespace can shift.
type Clock string

const (
	Monotonic Clock = "monotonic"
	Boottime  Clock = "boottime"
)

// JoinAll is a Join for each namespace of pid that differs from the
// caller's: what `nsenter --target PID --all` enters. Namespaces the two
// share are left out, as setns(2) into one's own user namespace fails.
func JoinAll(pid int) ([]Join, error) {
	var out []Join
	dir := "/proc/" + strconv.Itoa(pid) + "/ns/"
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("target process %d: %w", pid, errors.Unwrap(err))
	}
	for _, k := range Kinds {
		theirs, err := os.Readlink(dir + string(k))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // a kernel without this kind
			}
			return nil, err
		}
		ours, _ := os.Readlink("/proc/self/ns/" + string(k))
		if theirs != ours {
			out = append(out, Join{Kind: k, Path: dir + string(k)})
		}
	}
	return out, nil
}

// Validate refuses requests the kernel would refuse anyway, with clearer
// words, before any process is started.
func (r *Request) Validate() error {
	seen := map[Kind]bool{}
	for _, k := range r.New {
		if k.Flag() == 0 {
			return fmt.Errorf("unknown namespace kind %q", k)
		}
		if seen[k] {
			return fmt.Errorf("namespace %s listed twice", k)
		}
		seen[k] = true
	}
	for _, j := range r.Join {
		if j.Kind.Flag() == 0 {
			return fmt.Errorf("unknown namespace kind %q", j.Kind)
		}
		if seen[j.Kind] {
			return fmt.Errorf("namespace %s both created and joined, or joined twice", j.Kind)
		}
		if j.Path == "" {
			return fmt.Errorf("join %s namespace: empty path", j.Kind)
		}
		seen[j.Kind] = true
	}
	newUser := r.creates(User)
	if (len(r.UIDMap) > 0 || len(r.GIDMap) > 0) && !newUser {
		return errors.New("uid/gid maps need a new user namespace")
	}
	if r.MountProc && !r.creates(Mount) {
		return errors.New("mounting /proc needs a new mount namespace (it would cover the host's)")
	}
	if len(r.Cgroups) > maxCgroups {
		return fmt.Errorf("cgroups: %d files, at most %d", len(r.Cgroups), maxCgroups)
	}
	for _, c := range r.Cgroups {
		if !strings.HasPrefix(c, "/") || len(c) >= unix.PathMax || strings.IndexByte(c, 0) >= 0 {
			return fmt.Errorf("join cgroup: bad path %q", c)
		}
	}
	if len(r.Exec) > maxArgs {
		return fmt.Errorf("exec: %d arguments, at most %d", len(r.Exec), maxArgs)
	}
	for _, a := range r.Exec {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("exec: NUL in argument %q", a)
		}
	}
	if len(r.Exec) > 0 && r.Exec[0] == "" {
		return errors.New("exec: empty program name")
	}
	if len(r.TimeOffsets) > 0 && !r.creates(Time) {
		return errors.New("time offsets need a new time namespace")
	}
	for _, o := range r.TimeOffsets {
		if o.Clock != Monotonic && o.Clock != Boottime {
			return fmt.Errorf("time offset: unknown clock %q (want monotonic or boottime)", o.Clock)
		}
		if o.Nanos < 0 || o.Nanos > 999999999 {
			return fmt.Errorf("time offset %s: nanoseconds %d out of range", o.Clock, o.Nanos)
		}
	}
	return nil
}

func (r *Request) creates(k Kind) bool {
	for _, n := range r.New {
		if n == k {
			return true
		}
	}
	return false
}
