package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/capset"
	"hako.dev/cgctl"
	"hako.dev/console"
	"hako.dev/nsenter"
	"hako.dev/rootfs"
	"hako.dev/seccomp"
)

// InitEnv marks the re-executed init: a main package calls Init first
// thing when this variable is set (see Init).
const InitEnv = "_HAKO_INIT"

// DefaultCgroupParent holds the cgroups of containers whose config names
// none, or a relative one.
const DefaultCgroupParent = "/hako"

// CreateOpts are create's options besides the id.
type CreateOpts struct {
	// Bundle is the bundle directory (config.json and usually rootfs).
	Bundle string
	// NoPivot uses MS_MOVE+chroot instead of pivot_root (see rootfs).
	NoPivot bool
	// NoNewKeyring keeps the caller's session keyring instead of giving
	// the container one of its own.
	NoNewKeyring bool
	// PreserveFDs passes the caller's descriptors 3..3+PreserveFDs-1 on to
	// the program, as its own 3..; ExtraEnv is added to its environment
	// (LISTEN_FDS and LISTEN_PID for socket activation, say).
	PreserveFDs int
	ExtraEnv    []string
	// Stdin, Stdout and Stderr become the container's when it has no
	// terminal; nil means /dev/null.
	Stdin, Stdout, Stderr *os.File
	// ConsoleSocket is the unix socket the pty master is sent to when the
	// config asks for a terminal (process.terminal).
	ConsoleSocket string
	// PidfdSocket, if set, is a unix socket that receives a pidfd of the
	// container's init once it is created.
	PidfdSocket string
	// NotifySocket, if set, is the host's sd_notify(3) socket
	// (NOTIFY_SOCKET): the container gets a socket of its own for it,
	// whose READY=1 StartWith passes on.
	NotifySocket string
	// terminal receives the pty master instead, for Run in the foreground.
	terminal func(master *os.File) error
	// startNow has the init go on to the program at once, without waiting
	// at the exec fifo for a start (Run); Create returns once it runs.
	startNow bool
	// SeccompCache is a directory of compiled seccomp profiles
	// (seccomp.Cache) to use and add to; empty, the profile is compiled.
	SeccompCache string
	// Logger receives warnings (say, capabilities the kernel lacks);
	// nil discards them.
	Logger *slog.Logger
}

// nsKinds maps the OCI namespace types to nsenter's kinds.
var nsKinds = map[specs.LinuxNamespaceType]nsenter.Kind{
	specs.PIDNamespace:     nsenter.PID,
	specs.NetworkNamespace: nsenter.Net,
	specs.MountNamespace:   nsenter.Mount,
	specs.IPCNamespace:     nsenter.IPC,
	specs.UTSNamespace:     nsenter.UTS,
	specs.UserNamespace:    nsenter.User,
	specs.CgroupNamespace:  nsenter.Cgroup,
	specs.TimeNamespace:    nsenter.Time,
}

// Create makes container id under root from the bundle in o and leaves its
// init waiting for Start. The returned Container's Wait reaps the init,
// for a caller that runs it in the foreground. On any error nothing is left
// behind: no state directory, cgroup or process.
func Create(root, id string, o CreateOpts) (c *Container, err error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(bundle); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", bundle, unwrapPath(err))
	} else if !st.IsDir() {
		return nil, fmt.Errorf("bundle %s: not a directory", bundle)
	}
	// --debug shows where a create's time goes, phase by phase.
	phase := phases(log, "create")
	spec, err := LoadSpec(bundle)
	if err != nil {
		return nil, err
	}
	if err := validate(spec); err != nil {
		return nil, err
	}
	if err := checkPreserved(o.PreserveFDs); err != nil {
		return nil, err
	}
	// Made on another thread while the rest goes on; the init joins it.
	madeNet := premakeNet(spec)
	warmHooks(spec, o.startNow)
	defer madeNet.close()
	spec.Process.Env = append(spec.Process.Env, o.ExtraEnv...)
	if spec.Process.Terminal && o.ConsoleSocket == "" && o.terminal == nil {
		return nil, errors.New("config asks for a terminal (process.terminal) but no --console-socket was given to send it to")
	}
	rootfsPath := spec.Root.Path
	if !filepath.IsAbs(rootfsPath) {
		rootfsPath = filepath.Join(bundle, rootfsPath)
	}
	if st, err := os.Stat(rootfsPath); err != nil {
		return nil, fmt.Errorf("rootfs %s: %w", rootfsPath, unwrapPath(err))
	} else if !st.IsDir() {
		return nil, fmt.Errorf("rootfs %s: not a directory", rootfsPath)
	}
	if !hasNS(spec, specs.MountNamespace) {
		// Its mounts go on the host's tree: under the real path (delete
		// finds them by it in mountinfo), and never over the host's own.
		if rootfsPath, err = filepath.EvalSymlinks(rootfsPath); err != nil {
			return nil, fmt.Errorf("rootfs: %w", err)
		}
		if rootfsPath == "/" {
			return nil, errors.New("config: a container without a mount namespace cannot have the host's / as its root")
		}
	}
	// Unknown capability names are warned about, not fatal (runc's rule).
	if _, skipped, err := capset.FromSpec(spec.Process.Capabilities); err != nil {
		return nil, err
	} else if len(skipped) > 0 {
		log.Warn("ignoring capabilities this kernel does not know", "caps", strings.Join(skipped, ","))
	}
	// The profile is compiled here, once (or taken from the cache), to
	// refuse a bad one before anything exists; the init gets the compiled
	// filter. A new cache entry is kept once the container exists.
	var filter []byte
	var initF *initFilter
	cacheFilter := func() {}
	if spec.Linux.Seccomp != nil {
		f, skipped, put, err := seccomp.Cache{Dir: o.SeccompCache}.Get(spec.Linux.Seccomp, spec.Process.NoNewPrivileges)
		if err != nil {
			return nil, err
		}
		filter, err = f.MarshalBinary()
		if err == nil {
			initF, err = newInitFilter(f)
		}
		f.Release()
		if err != nil {
			return nil, err
		}
		cacheFilter = put
		if len(skipped) > 0 {
			log.Warn("seccomp: ignoring syscalls this libseccomp does not know", "syscalls", strings.Join(skipped, ","))
		}
	}
	cgPath, err := cgroupPath(spec, id)
	if err != nil {
		return nil, err
	}

	var u undo
	defer func() {
		if err != nil {
			u.run()
		}
	}()
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("container with id %s %w", id, ErrExist)
		}
		return nil, err
	}
	u.add(func() { os.RemoveAll(dir) })
	// Held until the first record exists: delete --force of an id whose
	// directory has no record (RemoveStale) waits for it, then leaves it.
	lockFd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer func() {
		if lockFd >= 0 {
			unix.Close(lockFd)
		}
	}()
	unix.Flock(lockFd, unix.LOCK_EX)
	if o.NotifySocket != "" {
		if err := setupNotify(spec, dir); err != nil {
			return nil, fmt.Errorf("notify socket: %w", err)
		}
	}
	// A first record, before anything else exists, so that a create killed
	// half-way (a client's timeout) leaves something `delete` can act on.
	self, _, err := procStat(os.Getpid())
	if err != nil {
		return nil, err
	}
	c = &Container{root: root, rec: record{
		ID: id, Bundle: bundle, Rootfs: rootfsPath, Created: time.Now().UTC(), Annotations: spec.Annotations,
		CgroupPath: cgPath, Owner: owner(), Creator: os.Getpid(), CreatorStart: self,
		HostMounts: !hasNS(spec, specs.MountNamespace),
	}}
	if c.rec.HostMounts {
		if c.rec.KeepMounts, err = rootfs.MountsUnder(rootfsPath); err != nil {
			return nil, err
		}
	}
	err = c.save()
	unix.Close(lockFd)
	lockFd = -1
	if err != nil {
		return nil, fmt.Errorf("save state: %w", err)
	}
	if c.rec.HostMounts {
		keep := c.rec.KeepMounts // (c is nil by the time a failure undoes)
		u.add(func() { rootfs.UnmountUnder(rootfsPath, keep) })
	}

	mgr, err := cgctl.New(cgctl.Config{Path: cgPath})
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", cgPath, err)
	}
	u.add(func() {
		if derr := mgr.Destroy(); derr != nil {
			log.Warn("remove cgroup", "error", derr)
		}
	})

	if filter != nil {
		// For execs (execFilter): they need not compile it again.
		if err := os.WriteFile(filepath.Join(dir, filterFile), filter, 0o600); err != nil {
			return nil, err
		}
	}
	fifo := filepath.Join(dir, fifoName)
	if err := unix.Mkfifo(fifo, 0o622); err != nil {
		return nil, &os.PathError{Op: "mkfifo", Path: fifo, Err: err}
	}
	// World-writable whatever the umask: the init opens it after switching
	// to the container's user.
	if err := os.Chmod(fifo, 0o622); err != nil {
		return nil, err
	}
	// Opened with O_PATH: the init reopens it for writing through
	// /proc/self/fd, which blocks until `hako start` opens it for reading.
	fifoFile, err := os.OpenFile(fifo, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer fifoFile.Close()

	// The init gets into its cgroups by itself (cgctl.Entry): cloned
	// into the unified one, then its C stage moves itself into each v1
	// one before entering any namespace: by then it is in its cgroups,
	// so a new cgroup namespace is rooted at them.
	entry, err := mgr.Entry()
	if err != nil {
		return nil, fmt.Errorf("join cgroup %s: %w", cgPath, err)
	}
	defer entry.Close()
	cgroups := CgroupMounts(mgr)
	plan, err := initPlan(spec, rootfs.Config{Spec: spec, Rootfs: rootfsPath, Bundle: bundle, Cgroups: cgroups}, o, id, initF)
	if err != nil {
		return nil, err
	}
	phase("checks, state dir, cgroup made, exec fifo")
	// The record to save once the init is ready, made while it sets
	// itself up (this process only waits then): its start time and the
	// JSON of the record with the config, for the init's pid.
	final := func(pid int) (record, []byte, error) {
		start, _, err := procStat(pid)
		if err != nil {
			return record{}, nil, fmt.Errorf("read start time of container init: %w", err)
		}
		r := c.rec
		r.Pid, r.StartTime = pid, start
		r.PidNS = newNS(spec, specs.PIDNamespace)
		r.Creator, r.CreatorStart = 0, 0
		r.Spec = specOf(spec)
		r.NoNewKeyring = o.NoNewKeyring
		b, err := json.Marshal(r)
		return r, b, err
	}
	var ahead struct {
		pid int
		rec record
		b   []byte
	}
	l := &initLaunch{o: o, spec: spec, net: madeNet, dir: dir, fifo: fifoFile, entry: entry, cgPath: cgPath, mgr: mgr,
		filter: filter, rootfsPath: rootfsPath, bundle: bundle, cgroups: cgroups,
		launched: func(pid int) {
			ahead.pid, ahead.b = 0, nil // a relaunch's init may reuse the pid
			if r, b, err := final(pid); err == nil {
				ahead.pid, ahead.rec, ahead.b = pid, r, b
			}
		}}
	defer l.close()
	u.add(l.kill)
	var msg syncMsg
	var fds []int
	if plan != nil {
		// An init without Go; should its setup fail, a Go init redoes it
		// in a new process (and namespaces), and reports; unless the
		// prestart and createRuntime hooks ran already (they must not run
		// twice): then the stage's error is reported.
		var hooksRan bool
		err = l.launch(plan, phase)
		if err == nil {
			fds, err = recv(l.sock, &msg)
		}
		if err == nil && msg.Type == msgHooks {
			hooksRan = true
			fds, err = l.serveHooks(c, &msg)
		}
		if !hooksRan && err == nil && msg.Type == msgError {
			err = errors.New(msg.Error)
		} else if !hooksRan && err == nil && msg.Type != msgReady {
			err = fmt.Errorf("sent %q", msg.Type)
		}
		if !hooksRan && err != nil {
			log.Debug("container init without Go failed; redoing its setup with the Go init", "error", err)
			closeFds(fds)
			l.kill()
			plan = nil
		}
	}
	if plan == nil {
		log.Debug("container init in Go")
		fds, err = l.goInit(c, &msg, phase)
	}
	pid, proc := l.pid, l.proc
	switch {
	case errors.Is(err, errEOF):
		return nil, fmt.Errorf("container init exited during setup: %s", exitText(proc))
	case err != nil:
		return nil, err
	case msg.Type == msgError:
		return nil, errors.New(msg.Error)
	case msg.Type != msgReady:
		return nil, fmt.Errorf("container init sent %q, want %q", msg.Type, msgReady)
	}
	wantFds := 0
	if spec.Process.Terminal {
		wantFds = 1
	}
	if len(fds) != wantFds {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("container init sent %d descriptors, want %d", len(fds), wantFds)
	}
	if spec.Process.Terminal {
		master := os.NewFile(uintptr(fds[0]), "/dev/ptmx")
		if o.ConsoleSocket != "" {
			err = console.Send(o.ConsoleSocket, master)
			master.Close()
		} else if err = o.terminal(master); err != nil {
			master.Close()
		}
		if err != nil {
			return nil, err
		}
	}

	// Limits only now, the init's setup done: its Go runtime's threads
	// count against pids.max and its setup against memory, and a small
	// limit meant for the program must not starve hako itself (runc sets
	// them at the same point). The program has not run yet.
	phase("init set up: mounts, pivot, process, waiting stage (hooks included)")
	if err := mgr.Set(resources(spec)); err != nil {
		return nil, fmt.Errorf("set cgroup limits on %s: %w", cgPath, err)
	}
	if ahead.pid != pid || ahead.b == nil {
		if ahead.rec, ahead.b, err = final(pid); err != nil {
			return nil, err
		}
	}
	c.rec = ahead.rec
	c.proc, c.mgr = proc, mgr
	if err := c.write(ahead.b); err != nil {
		return nil, fmt.Errorf("save state: %w", err)
	}
	if o.PidfdSocket != "" {
		if err := sendPidfd(o.PidfdSocket, pid); err != nil {
			return nil, err
		}
	}
	release := msgOK
	if o.startNow {
		// The fifo goes first: from here the status reads "running", and
		// a `hako start` from elsewhere is refused rather than left
		// waiting at a fifo no init will open.
		release = msgStart
		if err := os.Remove(fifo); err != nil {
			return nil, err
		}
	}
	if err := send(l.sock, syncMsg{Type: release}); err != nil {
		return nil, fmt.Errorf("release container init: %w", err)
	}
	if o.startNow {
		// The exec closes the init's end of the socket: EOF is the
		// program's start (or the init's death trying, which the caller
		// reaps). Nothing else may come after "start".
		if _, err := recv(l.sock, &msg); err == nil {
			return nil, fmt.Errorf("container init sent %q after %q", msg.Type, msgStart)
		} else if !errors.Is(err, errEOF) {
			return nil, fmt.Errorf("wait for container init to start the program: %w", err)
		}
	}
	phase("limits, state saved, init released")
	cacheFilter()
	c.held, l.held = l.held, held{}
	return c, nil
}

type idmappedTree struct {
	mount int
	f     *os.File
}

// idmappedTrees makes the detached idmapped mount trees the config's
// idmap and ridmap mounts need. Mapping a mount takes privilege over its
// filesystem, which the init, in the container's user namespace, lacks:
// hako makes them here and sends them along (runc 1.2 does the same). A
// mount without its own mappings takes the container's user namespace's.
func idmappedTrees(spec *specs.Spec, bundle, rootfsPath string, pid int) (out []idmappedTree, err error) {
	defer func() {
		if err != nil {
			for _, t := range out {
				t.f.Close()
			}
		}
	}()
	ops, err := rootfs.Plan(rootfs.Config{Spec: spec, Rootfs: rootfsPath, Bundle: bundle})
	if err != nil {
		return nil, err
	}
	userns := fmt.Sprintf("/proc/%d/ns/user", pid)
	for _, op := range ops {
		if op.Kind != rootfs.OpBind || op.IDMap == nil {
			continue
		}
		f, err := rootfs.IDMappedTree(op.Source, *op.IDMap, userns)
		if err != nil {
			return out, fmt.Errorf("mount %s: %w", op.Target, err)
		}
		out = append(out, idmappedTree{op.Mount, f})
	}
	return out, nil
}

// prepareLaunched sets what must be set from here, while the launched
// process waits in its C stage, single-threaded and still outside every
// namespace and cgroup: the rlimits (raising a hard limit takes
// CAP_SYS_RESOURCE in the initial user namespace, which a process in the
// container's has not; and the Go runtime that starts next saves these as
// the values to restore at execve) and the initial CPU affinity (before
// the cgroup join, as the spec orders; the cgroup's cpuset may exclude it).
func prepareLaunched(pid int, p *specs.Process) error {
	for _, l := range p.Rlimits {
		res, ok := rlimitNames[l.Type]
		if !ok {
			return fmt.Errorf("set rlimit: unknown type %q", l.Type)
		}
		if err := unix.Prlimit(pid, res, &unix.Rlimit{Cur: l.Soft, Max: l.Hard}, nil); err != nil {
			return fmt.Errorf("set rlimit %s to %d:%d: %w", l.Type, l.Soft, l.Hard, err)
		}
	}
	if a := p.ExecCPUAffinity; a != nil && a.Initial != "" {
		if err := capset.SetAffinity(pid, a.Initial); err != nil {
			return err
		}
	}
	return nil
}

// intoCgroup has cmd cloned into the unified cgroup of entry, if any, and
// tells whether the process can get into its cgroups by itself: not where
// clone3(2) is missing or filtered (an old kernel, hako itself in a
// container under a default seccomp profile), where the caller moves it
// with Apply instead.
func intoCgroup(cmd *exec.Cmd, entry *cgctl.Entry) bool {
	if entry.Unified == nil {
		return true
	}
	if !haveClone3() {
		return false
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = int(entry.Unified.Fd())
	return true
}

// haveClone3 tells whether clone3(2) can be called: without arguments it
// fails with EINVAL where it can, ENOSYS or EPERM where a kernel or a
// seccomp filter refuses it.
func haveClone3() bool {
	_, _, e := unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
	return e == unix.EINVAL
}

// hookState is the state hooks get on their stdin.
func (c *Container) hookState(st Status, pid int) State {
	return State{OCIVersion: specs.Version, ID: c.rec.ID, Pid: pid, Status: st, Bundle: c.rec.Bundle, Annotations: c.rec.Annotations}
}

// initCommand is the re-execution of this binary that becomes the init.
// /proc/self/exe is the running binary itself, whatever its name or PATH.
func initCommand(o CreateOpts, terminal bool, sock, fifo *os.File) *exec.Cmd {
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{"hako", "init"},
		Env: []string{InitEnv + "=1", "GOMAXPROCS=1",
			// The Go init's threads register no rseq area: a thread that
			// glibc starts while the init re-executes into the exec
			// stage (a runtime thread is not held off by that execveat,
			// which is not syscall.Exec) can see its registration
			// refused, and glibc then aborts the whole init ("Fatal glibc
			// error: rseq registration failed", seen in the OCI suite).
			// (A build linked with musl, the default, registers none.)
			"GLIBC_TUNABLES=glibc.pthread.rseq=0"},
		ExtraFiles: []*os.File{sock, fifo}, // fds 3 and 4 in the init
	}
	// Preserved descriptors follow, from 5; the init moves them to 3 at
	// the end (duplicates: the caller's own stay open).
	for i := 0; i < o.PreserveFDs; i++ {
		if f, err := preserved(3 + i); err == nil {
			cmd.ExtraFiles = append(cmd.ExtraFiles, f)
		}
	}
	if !terminal {
		setStdio(cmd, o.Stdin, o.Stdout, o.Stderr)
	}
	return cmd
}

// setStdio gives cmd the files that are set. Only non-nil ones are stored:
// a nil *os.File in an io.Reader/Writer field is not a nil interface, and
// exec would then copy through a pipe instead of passing the descriptor.
func setStdio(cmd *exec.Cmd, stdin, stdout, stderr *os.File) {
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if stderr != nil {
		cmd.Stderr = stderr
	}
}

// nsRequest is what the config asks of namespaces: those with a path are
// joined, the others created; a new user namespace gets the config's maps,
// written by us (we are privileged); a new time namespace its offsets.
func nsRequest(spec *specs.Spec) *nsenter.Request {
	r := &nsenter.Request{}
	for _, ns := range spec.Linux.Namespaces {
		k := nsKinds[ns.Type]
		if ns.Path != "" {
			r.Join = append(r.Join, nsenter.Join{Kind: k, Path: ns.Path})
		} else {
			r.New = append(r.New, k)
		}
	}
	for _, m := range spec.Linux.UIDMappings {
		r.UIDMap = append(r.UIDMap, nsenter.IDMap{Inside: m.ContainerID, Outside: m.HostID, Size: m.Size})
	}
	for _, m := range spec.Linux.GIDMappings {
		r.GIDMap = append(r.GIDMap, nsenter.IDMap{Inside: m.ContainerID, Outside: m.HostID, Size: m.Size})
	}
	// Written by the C stage through a /proc it opened before entering
	// any namespace, not through the container's.
	r.OOMScoreAdj = spec.Process.OOMScoreAdj
	for _, c := range []nsenter.Clock{nsenter.Monotonic, nsenter.Boottime} {
		if o, ok := spec.Linux.TimeOffsets[string(c)]; ok {
			r.TimeOffsets = append(r.TimeOffsets, nsenter.TimeOffset{Clock: c, Seconds: o.Secs, Nanos: int64(o.Nanosecs)})
		}
	}
	return r
}

// cgroupPath is linux.cgroupsPath, or /hako/<id> when it is empty; a
// relative path is placed under /hako. The systemd driver's
// "slice:prefix:name" form is refused until hako has that driver.
func cgroupPath(spec *specs.Spec, id string) (string, error) {
	p := ""
	if spec.Linux != nil {
		p = spec.Linux.CgroupsPath
	}
	switch {
	case p == "":
		return DefaultCgroupParent + "/" + id, nil
	case strings.Contains(p, ":"):
		return "", fmt.Errorf("config: cgroupsPath %q is in the systemd driver's form, which hako does not support yet", p)
	case !filepath.IsAbs(p):
		return filepath.Join(DefaultCgroupParent, p), nil
	}
	return filepath.Clean(p), nil
}

// resources are the config's limits with the device rules the default
// /dev needs appended, as runc appends them.
func resources(spec *specs.Spec) *specs.LinuxResources {
	var r specs.LinuxResources
	if spec.Linux.Resources != nil {
		r = *spec.Linux.Resources
	}
	if len(r.Devices) > 0 {
		r.Devices = append(append([]specs.LinuxDeviceCgroup(nil), r.Devices...), rootfs.DefaultDeviceRules...)
		for _, d := range spec.Linux.Devices {
			typ := d.Type
			switch typ {
			case "p": // a fifo: no device access to allow
				continue
			case "u": // unbuffered character device
				typ = "c"
			}
			major, minor := d.Major, d.Minor
			r.Devices = append(r.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: &major, Minor: &minor, Access: "rwm"})
		}
	}
	return &r
}

// CgroupMounts describes the hierarchies of the cgroup m manages as a
// "cgroup" mount shows them (rootfs.Config.Cgroups).
func CgroupMounts(m cgctl.Manager) []rootfs.CgroupMount {
	var out []rootfs.CgroupMount
	for _, h := range m.Hierarchies() {
		cm := rootfs.CgroupMount{
			Name:    filepath.Base(h.Dir),
			Source:  filepath.Join(h.Dir, m.Path()),
			Unified: h.Unified,
		}
		if m.Mode() == cgctl.Unified {
			cm.Name = ""
		}
		if !h.Unified {
			cm.Options = strings.Join(h.Controllers, ",")
			if strings.HasPrefix(cm.Options, "name=") {
				cm.Options = "none," + cm.Options
			}
		}
		out = append(out, cm)
	}
	return out
}

// newNS tells whether the config creates a namespace of type t (rather
// than joining one or sharing the host's).
func newNS(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t && ns.Path == "" {
			return true
		}
	}
	return false
}

func hasNS(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	if spec.Linux == nil {
		return false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

func owner() string {
	if os.Geteuid() == 0 {
		return ""
	}
	return strconv.Itoa(os.Geteuid())
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
