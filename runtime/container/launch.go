package container

import (
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/cgctl"
	"hako.dev/rootfs"
	"hako.dev/runtime/execstage"
	"hako.dev/runtime/timerslack"
	"hako.dev/seccomp"
)

// initLaunch starts a create's container init: the sealed binary through
// nsenter's pre-init stage, into its cgroups and new namespaces. A
// create launches one, or two when an init without Go failed and a Go
// init redoes the setup.
type initLaunch struct {
	o      CreateOpts
	spec   *specs.Spec
	net    *premadeNet // the first init joins it, if not nil
	dir    string      // the state directory
	fifo   *os.File
	entry  *cgctl.Entry
	cgPath string
	mgr    cgctl.Manager
	// For a Go init's config: the compiled seccomp filter (stored form),
	// the rootfs, the bundle, the cgroup mounts.
	filter             []byte
	rootfsPath, bundle string
	cgroups            []rootfs.CgroupMount

	// The last launch's: the parent's end of the sync socket, the init's
	// pid (as the host sees it), a handle to wait for it, and the sealed
	// binary's device and inode.
	sock *os.File
	pid  int
	proc *child
	exe  [2]uint64
	// launched, if set, is called with an init's pid once it has what it
	// sets itself up from (its plan, or the Go init's config), while it
	// does.
	launched func(pid int)
	// Where the init starts its program within create (startNow): the
	// sealed binary and the init's mount namespace, which Create hands to
	// the Container for Run to release once the program has ended (held).
	held
}

// launch starts an init, up to its namespaces entered. With a plan
// (kind Init), the init carries it out without Go; without one, it
// waits for its config on the sync socket (goInit).
func (l *initLaunch) launch(plan *execstage.Plan, phase func(string)) error {
	parentSock, childSock, err := socketpair()
	if err != nil {
		return err
	}
	l.sock = parentSock
	defer childSock.Close()
	cmd := initCommand(l.o, l.spec.Process.Terminal, childSock, l.fifo)
	if plan != nil {
		fd, err := planFile(plan, unix.MFD_CLOEXEC)
		if err != nil {
			return err
		}
		pf := os.NewFile(uintptr(fd), "exec plan")
		defer pf.Close()
		cmd.Env = append(cmd.Env, execstage.Env+"="+strconv.Itoa(3+len(cmd.ExtraFiles)))
		cmd.ExtraFiles = append(cmd.ExtraFiles, pf)
	}
	selfJoin := intoCgroup(cmd, l.entry)
	launched, seal, exe, err := launchSealed(cmd, l.dir)
	if err != nil {
		return fmt.Errorf("start container init: %w", err)
	}
	l.exe = exe
	l.seal = seal // a failed launch's went with its kill
	if !l.o.startNow || !seal.overlay {
		// The init holds the file until its program's execve, at start
		// (a memfd copy: nothing to gain from keeping it, and 6 MB to
		// hold); let go now, while create goes on.
		l.closeSeal()
	}
	if err := prepareLaunched(launched.Pid(), l.spec.Process); err != nil {
		launched.Kill()
		return err
	}
	req := nsRequest(l.spec)
	l.net.use(req)
	if selfJoin {
		req.Cgroups = l.entry.Tasks
	} else if err := l.mgr.Apply(launched.Pid()); err != nil {
		launched.Kill()
		return fmt.Errorf("join cgroup %s: %w", l.cgPath, err)
	}
	phase("init launched (sealed binary exec'd, C stage waiting)")
	var pid int
	enter := func() (err error) { pid, err = launched.Enter(req); return err }
	if req.UseHelpers {
		// Enter starts newuidmap and newgidmap; otherwise it starts
		// nothing (the launched process forks the init itself).
		err = timerslack.Spawn(enter)
	} else {
		err = enter()
	}
	l.net.close() // joined, or never will be
	if err != nil {
		return fmt.Errorf("enter namespaces: %w", err)
	}
	// The init is our child either way (the pre-init stage forks with
	// CLONE_PARENT): keep a handle to wait for it.
	l.proc, l.pid = newChild(pid), pid
	if l.o.startNow && newNS(l.spec, specs.MountNamespace) {
		l.mntNS = holdNS(pid, "mnt")
	}
	phase("rlimits, cgroup joined, namespaces entered")
	if plan != nil && l.launched != nil {
		l.launched(pid) // the init has its plan: it sets itself up meanwhile
	}
	return nil
}

// goInit launches a Go init and gives it its config, then serves it up
// to its answer: prestart and createRuntime hooks, a seccomp listener's
// hand-off; it returns the last message's descriptors.
func (l *initLaunch) goInit(c *Container, msg *syncMsg, phase func(string)) ([]int, error) {
	if err := l.launch(nil, phase); err != nil {
		return nil, err
	}
	spec, pid, rootfsPath, bundle := l.spec, l.pid, l.rootfsPath, l.bundle
	cfg := initConfig{
		Spec: initSpec(spec), Seccomp: l.filter, Rootfs: rootfsPath, Bundle: bundle, Cgroups: l.cgroups,
		NoPivot: l.o.NoPivot, NoNewKeyring: l.o.NoNewKeyring, PreserveFDs: l.o.PreserveFDs,
		ID: c.rec.ID, Pid: pid, Exe: l.exe, HugePages: hugePagesOff(),
	}
	trees, err := idmappedTrees(spec, bundle, rootfsPath, pid)
	if err != nil {
		return nil, err
	}
	var treeFds []int
	for _, t := range trees {
		cfg.IDMapped = append(cfg.IDMapped, t.mount)
		treeFds = append(treeFds, int(t.f.Fd()))
	}
	err = send(l.sock, cfg, treeFds...)
	for _, t := range trees {
		t.f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("send config to container init: %w", err)
	}
	if l.launched != nil {
		l.launched(pid) // the Go init has its config now
	}
	fds, err := recv(l.sock, msg)
	if err == nil && msg.Type == msgHooks {
		fds, err = l.serveHooks(c, msg)
	}
	if err == nil && msg.Type == msgListener {
		st := specs.State{Version: specs.Version, ID: c.rec.ID, Status: specs.StateCreating, Pid: pid, Bundle: bundle, Annotations: spec.Annotations}
		if err := serveListener(l.sock, fds, spec.Linux.Seccomp, st, pid); err != nil {
			return nil, err
		}
		fds, err = recv(l.sock, msg)
	}
	return fds, err
}

// serveHooks runs the prestart and createRuntime hooks the init asked
// for ("hooks": its mounts are in place, the root not yet switched), in
// the runtime's namespaces, tells it they ran, and reads its next
// message into msg.
func (l *initLaunch) serveHooks(c *Container, msg *syncMsg) ([]int, error) {
	if h := l.spec.Hooks; h != nil {
		st := c.hookState(Creating, l.pid)
		if err := runHooks("prestart", h.Prestart, st); err != nil {
			return nil, err
		}
		if err := runHooks("createRuntime", h.CreateRuntime, st); err != nil {
			return nil, err
		}
	}
	if err := send(l.sock, syncMsg{Type: msgHooksDone}); err != nil {
		return nil, err
	}
	return recv(l.sock, msg)
}

// kill ends the last launch's init, if any, and waits for it.
func (l *initLaunch) kill() {
	if l.proc != nil {
		l.proc.Kill()
		l.proc.Wait()
		l.proc = nil
	}
	l.close()
}

func (l *initLaunch) closeSeal() {
	if l.seal != nil {
		l.seal.closeLater()
		l.seal = nil
	}
}

func (l *initLaunch) close() {
	l.releaseHeld()
	if l.sock != nil {
		l.sock.Close()
		l.sock = nil
	}
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// newInitFilter keeps what initPlan needs of the config's filter.
func newInitFilter(f *seccomp.Filter) (*initFilter, error) {
	bpf, flags, err := f.Program()
	if err != nil {
		return nil, err
	}
	return &initFilter{bpf: bpf, flags: flags, notify: f.Notify(), stageOK: passes(f, "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"),
		thpOK: thpPasses(f)}, nil
}
