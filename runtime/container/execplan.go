package container

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/capset"
	"hako.dev/rootfs"
	"hako.dev/runtime/execstage"
	"hako.dev/seccomp"
)

// An exec's process settings are applied by the C exec stage
// (hako.dev/runtime/execstage) in the re-executed binary, right after
// nsenter's pre-init stage joined the container's namespaces: the exec
// never starts a Go runtime inside the container. What needs the
// container's files (the program's path, HOME) is looked up here, through
// /proc/PID/root without leaving it; the seccomp filter is compiled here.
// Settings the stage does not carry (a terminal, a shared mount
// namespace, a paused container, personality, scheduler, I/O priority,
// memory policy, LSM labels, a seccomp listener) keep the exec in Go.

// execPlan returns the stage's plan for running p in c, or nil when the
// exec needs the Go init; filter is the container's seccomp profile
// compiled for p (nil: none).
func (c *Container) execPlan(p *specs.Process, filter *seccomp.Filter, preserve int, late bool) (*execstage.Plan, error) {
	spec := c.execView()
	if !execstage.Linked || p.Terminal || c.rec.HostMounts || late || spec.Linux.Personality != nil ||
		p.Scheduler != nil || p.IOPriority != nil || spec.Linux.MemoryPolicy != nil ||
		p.ApparmorProfile != "" || p.SelinuxLabel != "" {
		return nil, nil
	}
	plan, err := processPlan(p)
	if plan == nil || err != nil {
		return nil, err
	}
	plan.Kind, plan.Sync, plan.Fifo, plan.Master = execstage.Exec, initSockFd, -1, -1
	plan.PreserveFrom, plan.Preserve = initSockFd+1, preserve
	if !c.rec.NoNewKeyring {
		plan.Keyring = "_ses." + c.rec.ID // the container's, as its init joined
	}
	if filter != nil {
		if filter.Notify() {
			return nil, nil // its listener is handed over by the Go init
		}
		if plan.BPF, plan.SeccompFlags, err = filter.Program(); err != nil {
			return nil, err
		}
		plan.SeccompEarly = !p.NoNewPrivileges
	}
	root, err := os.OpenFile("/proc/"+strconv.Itoa(c.rec.Pid)+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "container root", Err: errors.Unwrap(err)}
	}
	defer root.Close()
	if plan.Path, err = lookPathIn(root, p); err != nil {
		return nil, err
	}
	plan.Env = withHomeFrom(p.Env, p.User.UID, func() (*os.File, error) { return openRegularIn(root, "/etc/passwd") })
	return plan, nil
}

// processPlan is the part of a stage's plan an exec and an init without
// Go share: credentials, capabilities, cwd, umask, CPU affinity,
// no_new_privs, arguments. nil when p needs the Go init (a capability
// this host lacks: the Go init names it).
func processPlan(p *specs.Process) (*execstage.Plan, error) {
	sets, _, err := capset.FromSpec(p.Capabilities)
	if err != nil {
		return nil, err
	}
	if missing, err := capset.Missing(sets); err != nil || len(missing) > 0 {
		return nil, err
	}
	last, err := capset.LastCap()
	if err != nil {
		return nil, err
	}
	plan := &execstage.Plan{
		Creds: true, UID: p.User.UID, GID: p.User.GID, Groups: p.User.AdditionalGids,
		Caps: true, LastCap: uint32(last), Bounding: capset.Mask(sets.Bounding), Effective: capset.Mask(sets.Effective),
		Permitted: capset.Mask(sets.Permitted), Inheritable: capset.Mask(sets.Inheritable), Ambient: capset.Mask(sets.Ambient),
		Cwd: cwd(p), SetUmask: true, Umask: 0o022, NoNewPrivs: p.NoNewPrivileges, Args: p.Args, Name: true,
	}
	if p.User.Umask != nil {
		plan.Umask = *p.User.Umask & 0o777 // all umask(2) keeps
	}
	if a := p.ExecCPUAffinity; a != nil && a.Final != "" {
		set, err := capset.ParseCPUList(a.Final)
		if err != nil {
			return nil, err
		}
		plan.Affinity = cpuMask(&set)
	}
	return plan, nil
}

// statIn opens name inside root with O_PATH (rootfs.OpenIn: symlinks and
// ".." stay in it) and stats it; its errors read as stat's.
func statIn(root *os.File, name string) (*os.File, *unix.Stat_t, error) {
	f, err := rootfs.OpenIn(root, name, unix.O_PATH)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return f, &st, nil
}

// openRegularIn opens name, resolved inside root, for reading if it is a
// regular file: anything else (a fifo, a device the container planted) is
// only looked at, never opened.
func openRegularIn(root *os.File, name string) (*os.File, error) {
	f, st, err := statIn(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EINVAL}
	}
	return os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), os.O_RDONLY, 0)
}

// lookPathIn is lookPath's answer, found from outside: exec.LookPath's
// search with the process's PATH, each candidate resolved inside root,
// and its error texts, which Docker matches.
func lookPathIn(root *os.File, p *specs.Process) (string, error) {
	file := p.Args[0]
	if strings.Contains(file, "/") {
		if err := executableIn(root, file); err != nil {
			return "", &exec.Error{Name: file, Err: err}
		}
		return file, nil
	}
	for _, dir := range strings.Split(pathOf(p.Env), ":") {
		if dir == "" {
			dir = "."
		}
		// A relative candidate is checked from the root, where the Go
		// init's lookPath stands (it runs before the chdir).
		if cand := path.Join(dir, file); executableIn(root, cand) == nil {
			return cand, nil
		}
	}
	return "", &exec.Error{Name: file, Err: exec.ErrNotFound}
}

// executableIn is exec's findExecutable inside root, as root (which any
// execute bit lets through): a file, not a directory, with one, on a mount
// that allows execution. (The Go init looked from the root of the mount
// namespace it joined; /proc/PID/root is the init's root, the same unless
// the container's pid 1 chroot'ed.)
func executableIn(root *os.File, name string) error {
	f, st, err := statIn(root, name)
	if err != nil {
		return err
	}
	defer f.Close()
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &sfs); err != nil {
		return &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return syscall.EISDIR
	case st.Mode&0o111 == 0, sfs.Flags&unix.ST_NOEXEC != 0:
		// access(X_OK) says EACCES for both, as root too.
		return fs.ErrPermission
	}
	return nil
}

// withHomeFrom is withHome with /etc/passwd opened by open.
func withHomeFrom(env []string, uid uint32, open func() (*os.File, error)) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "HOME=") {
			return env
		}
	}
	home := "/"
	if f, err := open(); err == nil {
		home = homeIn(f, uid)
		f.Close()
	}
	return append(env[:len(env):len(env)], "HOME="+home)
}

// homeIn looks uid up in an /etc/passwd (its first megabyte).
func homeIn(f *os.File, uid uint32) string {
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	want := strconv.FormatUint(uint64(uid), 10)
	for _, l := range strings.Split(string(b), "\n") {
		// name:password:uid:gid:gecos:home:shell
		if f := strings.Split(l, ":"); len(f) >= 6 && f[2] == want && f[5] != "" {
			return f[5]
		}
	}
	return "/"
}
