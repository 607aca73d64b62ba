package container

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/capset"
	"hako.dev/cgctl"
	"hako.dev/console"
	"hako.dev/nsenter"
	"hako.dev/runtime/execstage"
	"hako.dev/runtime/sigrelay"
	"hako.dev/seccomp"
)

// ExecOpts describe a process to run in a running container.
type ExecOpts struct {
	// Process is what to run, as in config.json's process.
	Process *specs.Process
	// ConsoleSocket receives the pty master when Process.Terminal is set;
	// empty means the caller's terminal is attached (foreground only).
	ConsoleSocket string
	// Detach returns once the process runs, instead of waiting for it.
	Detach bool
	// Stdin, Stdout and Stderr are the process's when it has no terminal.
	Stdin, Stdout, Stderr *os.File
	// SeccompCache is as CreateOpts'.
	SeccompCache string
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// Started, if set, is called with the pid once the process runs,
	// before Exec waits for it (to write a pid file, say).
	Started func(pid int) error
	// PreserveFDs passes the caller's descriptors 3..3+PreserveFDs-1 on
	// to the process, as 3 on.
	PreserveFDs int
	// SubCgroup, if set, is an existing cgroup below the container's (a
	// path relative to it) the process goes to instead, in every
	// hierarchy.
	SubCgroup string
	// IgnorePaused allows an exec into a paused container (the process
	// starts frozen with the rest).
	IgnorePaused bool
	// PidfdSocket, if set, is a unix socket that receives a pidfd of the
	// process once it runs.
	PidfdSocket string
}

// execConfig is what the exec's init gets over the sync socket.
type execConfig struct {
	ID           string         `json:"id"`
	NoNewKeyring bool           `json:"noNewKeyring,omitempty"`
	Spec         *specs.Spec    `json:"spec"`
	Process      *specs.Process `json:"process"`
	// PreserveFDs descriptors from 4 on go to the program as 3 on.
	PreserveFDs int `json:"preserveFds,omitempty"`
	// WaitMove: wait for OK after READY, while the parent moves us into
	// the (frozen) cgroup.
	WaitMove bool `json:"waitMove,omitempty"`
	// Chroot is the init's root (/proc/PID/root) for a container that
	// shares the host's mount namespace: joining namespaces does not get
	// there.
	Chroot string `json:"chroot,omitempty"`
	// Seccomp is the container's profile compiled by hako, stored form.
	Seccomp []byte `json:"seccomp,omitempty"`
	// HugePages: as initConfig's.
	HugePages bool `json:"hugePages,omitempty"`
}

// execInitValue is InitEnv's value for an exec (vs "1" for a create).
const execInitValue = "exec"

// Exec runs o.Process in the container: the same binary re-executed once,
// whose C stage joins every namespace of the container's init (user
// first), after we moved it into the container's cgroups; its Go part
// applies the process settings and the container's seccomp profile and
// execs. It returns the process's pid and, unless detached, its exit
// status as a shell reports it.
func (c *Container) Exec(o ExecOpts) (pid, code int, err error) {
	p := o.Process
	switch {
	case p == nil || len(p.Args) == 0:
		return 0, -1, errors.New("exec: no command given")
	case p.Cwd != "" && p.Cwd[0] != '/':
		return 0, -1, fmt.Errorf("exec: cwd %q is not absolute", p.Cwd)
	case c.execView() == nil:
		return 0, -1, errors.New("exec: the container's state has no config")
	}
	// A created container's init waits in its namespaces: an exec can
	// join them, as with runc.
	st := c.Status()
	if st != Running && st != Created && !(st == Paused && o.IgnorePaused) {
		return 0, -1, fmt.Errorf("cannot exec in a %s container", st)
	}
	// Into a paused container the process is moved once its setup is
	// done: in the frozen cgroup it would freeze half-way, with us
	// waiting for it.
	late := st == Paused
	if err := checkPreserved(o.PreserveFDs); err != nil {
		return 0, -1, err
	}
	filter, cacheFilter, err := c.execFilter(p, o.SeccompCache)
	if err != nil {
		return 0, -1, err
	}
	if filter != nil {
		defer filter.Release()
	}
	plan, err := c.execPlan(p, filter, o.PreserveFDs, late)
	if err != nil {
		return 0, -1, err
	}
	if p.Terminal && o.ConsoleSocket == "" && o.Detach {
		return 0, -1, errors.New("exec: a terminal for a detached process needs --console-socket")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	phase := phases(log, "exec")
	joins, err := nsenter.JoinAll(c.rec.Pid)
	if err != nil {
		return 0, -1, err
	}
	mgr, err := c.cgroup()
	if err != nil {
		return 0, -1, err
	}
	cgPath := c.rec.CgroupPath
	if o.SubCgroup != "" {
		if mgr, err = subCgroup(mgr, o.SubCgroup); err != nil {
			return 0, -1, err
		}
		cgPath = mgr.Path()
	}
	parentSock, childSock, err := socketpair()
	if err != nil {
		return 0, -1, err
	}
	defer parentSock.Close()
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{"hako", "exec"},
		Env:        []string{InitEnv + "=" + execInitValue, "GOMAXPROCS=1"},
		ExtraFiles: []*os.File{childSock},
	}
	for i := 0; i < o.PreserveFDs; i++ { // from 4 in the exec init
		f, err := preserved(3 + i)
		if err != nil {
			return 0, -1, err
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	}
	if plan != nil {
		// The C exec stage instead of the Go init: its plan comes as a
		// memfd after the preserved descriptors.
		planHugePages(plan, filter == nil || thpPasses(filter))
		fd, err := planFile(plan, unix.MFD_CLOEXEC)
		if err != nil {
			return 0, -1, err
		}
		f := os.NewFile(uintptr(fd), "exec plan")
		defer f.Close()
		cmd.Env = []string{execstage.Env + "=" + strconv.Itoa(3+len(cmd.ExtraFiles))}
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	}
	if !p.Terminal {
		setStdio(cmd, o.Stdin, o.Stdout, o.Stderr)
	}
	var entry *cgctl.Entry
	selfJoin := false
	if !late {
		// In by itself, as the init got in (create.go).
		if entry, err = mgr.Entry(); err != nil {
			return 0, -1, fmt.Errorf("join cgroup %s: %w", cgPath, err)
		}
		defer entry.Close()
		selfJoin = intoCgroup(cmd, entry)
	}
	var relay *sigrelay.Relay
	if !o.Detach {
		// From the start, forwarded once it runs.
		if relay, err = catchSignals(); err != nil {
			return 0, -1, err
		}
		defer relay.Stop()
	}
	phase("checks, namespaces listed, cgroup made, exec plan")
	launched, seal, _, err := launchSealed(cmd, c.dir())
	childSock.Close()
	if err != nil {
		return 0, -1, fmt.Errorf("start exec process: %w", err)
	}
	// The exec process holds the file until its program's execve, whose
	// release of the last reference waits out the overlay's teardown: a
	// foreground exec by the C stage (which tells that execve by its
	// socket's close) keeps its own until then (untilExec); a detached
	// one, its caller waiting for nothing but "ready", lets go now.
	keepSeal := !o.Detach && plan != nil
	if keepSeal {
		defer seal.closeLater() // unless untilExec has it
	} else {
		seal.closeLater()
	}
	if err := prepareLaunched(launched.Pid(), p); err != nil {
		launched.Kill()
		return 0, -1, err
	}
	if !late && !selfJoin {
		if err := mgr.Apply(launched.Pid()); err != nil {
			launched.Kill()
			return 0, -1, fmt.Errorf("join cgroup %s: %w", cgPath, err)
		}
	}
	// The container's oom_score_adj, not ours (under containerd, the
	// shim's -998).
	phase("process launched (sealed binary exec'd, C stage waiting)")
	req := &nsenter.Request{Join: joins, OOMScoreAdj: c.execView().Process.OOMScoreAdj}
	if selfJoin {
		req.Cgroups = entry.Tasks
	}
	pid, err = launched.Enter(req)
	if err != nil {
		return 0, -1, fmt.Errorf("enter namespaces: %w", err)
	}
	proc := newChild(pid)
	fail := func(err error) (int, int, error) {
		proc.Kill()
		proc.Wait()
		return 0, -1, err
	}
	phase("rlimits, cgroup joined, namespaces entered")
	if plan == nil {
		spec := c.Spec()
		if spec == nil {
			return fail(errors.New("the container's state holds a config that does not decode"))
		}
		cfg := execConfig{ID: c.rec.ID, NoNewKeyring: c.rec.NoNewKeyring, Spec: initSpec(spec), Process: p,
			PreserveFDs: o.PreserveFDs, WaitMove: late, Chroot: c.chrootFor(), HugePages: hugePagesOff()}
		if filter != nil {
			if cfg.Seccomp, err = filter.MarshalBinary(); err != nil {
				return fail(err)
			}
		}
		if err := send(parentSock, cfg); err != nil {
			return fail(err)
		}
	}
	var msg syncMsg
	fds, err := recv(parentSock, &msg)
	if err == nil && msg.Type == msgListener {
		st := specs.State{Version: specs.Version, ID: c.rec.ID, Status: specs.StateRunning, Pid: c.rec.Pid, Bundle: c.rec.Bundle}
		profile, err := c.execView().seccompProfile()
		if err != nil {
			return fail(err)
		}
		if err := serveListener(parentSock, fds, profile, st, pid); err != nil {
			return fail(err)
		}
		fds, err = recv(parentSock, &msg)
	}
	switch {
	case errors.Is(err, errEOF):
		return fail(fmt.Errorf("exec process exited during setup: %s", exitText(proc)))
	case err != nil:
		return fail(err)
	case msg.Type == msgError:
		return fail(errors.New(msg.Error))
	case msg.Type != msgReady:
		return fail(fmt.Errorf("exec process sent %q, want %q", msg.Type, msgReady))
	}
	if late {
		if err := mgr.Apply(pid); err != nil {
			return fail(fmt.Errorf("join cgroup %s: %w", cgPath, err))
		}
		if err := send(parentSock, syncMsg{Type: msgOK}); err != nil {
			return fail(err)
		}
	}
	var sess *console.Session
	if len(fds) > 1 || (len(fds) == 1) != p.Terminal {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return fail(fmt.Errorf("exec process sent %d descriptors", len(fds)))
	}
	for _, fd := range fds {
		f := os.NewFile(uintptr(fd), "/dev/ptmx")
		switch {
		case o.ConsoleSocket != "":
			err = console.Send(o.ConsoleSocket, f)
			f.Close()
		default:
			sess, err = console.Attach(f, os.Stdin, os.Stdout)
		}
		if err != nil {
			return fail(err)
		}
	}
	if keepSeal {
		untilExec(seal, parentSock)
	}
	phase("process set up: credentials, capabilities, seccomp (exec stage, or Go init)")
	cacheFilter()
	if o.Started != nil {
		if err := o.Started(pid); err != nil {
			return fail(err)
		}
	}
	if o.PidfdSocket != "" {
		if err := sendPidfd(o.PidfdSocket, pid); err != nil {
			return fail(err)
		}
	}
	if o.Detach {
		return pid, 0, nil
	}
	stop := forwardSignals(relay, sess, func(s unix.Signal) { proc.Signal(s) })
	ws, err := proc.Wait()
	stop()
	if sess != nil {
		sess.Close()
	}
	if err != nil {
		return pid, -1, err
	}
	return pid, shellStatus(ws), nil
}

// execInit is the exec's side: in the container's namespaces (the C stage
// joined them) and cgroups, it applies the process settings and execs.
func execInit() {
	sock := os.NewFile(initSockFd, "sync")
	var cfg execConfig
	if _, err := recv(sock, &cfg); err != nil {
		os.Exit(1)
	}
	huge := &hugePages{back: cfg.HugePages}
	path, filter, err := execSetup(&cfg, sock, huge)
	if err != nil {
		send(sock, syncMsg{Type: msgError, Error: err.Error()})
		os.Exit(1)
	}
	if cfg.WaitMove {
		var msg syncMsg
		if _, err := recv(sock, &msg); err != nil || msg.Type != msgOK {
			os.Exit(1)
		}
	}
	sock.Close()
	p := cfg.Process
	// Preserved descriptors down to 3, in order, over the sync socket.
	for n := 0; n < cfg.PreserveFDs; n++ {
		if err := unix.Dup3(initSockFd+1+n, 3+n, 0); err != nil {
			fmt.Fprintf(os.Stderr, "hako: dup3 preserved fd: %v\n", err)
			os.Exit(126)
		}
	}
	if a := p.ExecCPUAffinity; a != nil && a.Final != "" {
		if err := capset.SetAffinity(0, a.Final); err != nil {
			fmt.Fprintf(os.Stderr, "hako: %v\n", err)
			os.Exit(126)
		}
	}
	if err := closeOnExecFrom(3 + cfg.PreserveFDs); err != nil {
		fmt.Fprintf(os.Stderr, "hako: %v\n", err)
		os.Exit(126)
	}
	huge.now()
	if filter != nil {
		if _, err := filter.Load(); err != nil {
			fmt.Fprintf(os.Stderr, "hako: %v\n", err)
			os.Exit(126)
		}
	}
	err = syscall.Exec(path, p.Args, p.Env)
	fmt.Fprintf(os.Stderr, "hako: exec %s: %v\n", path, err)
	if errors.Is(err, unix.ENOENT) {
		os.Exit(127)
	}
	os.Exit(126)
}

func execSetup(cfg *execConfig, sock *os.File, huge *hugePages) (string, *seccomp.Filter, error) {
	p := cfg.Process
	if cfg.Chroot != "" {
		if err := unix.Chroot(cfg.Chroot); err != nil {
			return "", nil, &os.PathError{Op: "chroot", Path: cfg.Chroot, Err: err}
		}
		if err := unix.Chdir("/"); err != nil {
			return "", nil, err
		}
	}
	var fds []int
	if p.Terminal {
		master, err := setupTerminal(p, false)
		if err != nil {
			return "", nil, fmt.Errorf("set up terminal: %w", err)
		}
		defer master.Close()
		fds = append(fds, int(master.Fd()))
	}
	keyring := ""
	if !cfg.NoNewKeyring {
		keyring = "_ses." + cfg.ID // the container's, as its init joined
	}
	filter, err := storedFilter(cfg.Seccomp)
	if err != nil {
		return "", nil, err
	}
	path, filter, err := applyProcess(cfg.Spec, p, filter, keyring, handoffListener(sock), huge.beforeLoad)
	if err != nil {
		return "", nil, err
	}
	return path, filter, send(sock, syncMsg{Type: msgReady}, fds...)
}

// filterFile is the container's seccomp filter as create compiled it for
// the config's process, in its state directory (stored form): what an
// exec with the same no_new_privs loads, as crun keeps one too.
const filterFile = "seccomp.filter"

// execFilter is the seccomp filter for an exec's process p (nil: the
// config has no profile): the container's own when p has the config's
// no_new_privs, else the profile compiled for p through the cache, whose
// new entry put keeps (once the process runs). Either way a probe's exec
// does not pay libseccomp's compilation, nor, mostly, the decoding of the
// profile from the state.
func (c *Container) execFilter(p *specs.Process, cacheDir string) (f *seccomp.Filter, put func(), err error) {
	put = func() {}
	v := c.execView()
	if !v.hasSeccomp() {
		return nil, put, nil
	}
	if v.Process != nil && p.NoNewPrivileges == v.Process.NoNewPrivileges {
		if b, err := os.ReadFile(filepath.Join(c.dir(), filterFile)); err == nil {
			if f, err := seccomp.UnmarshalFilter(b); err == nil {
				return f, put, nil
			}
		}
	}
	profile, err := v.seccompProfile()
	if err != nil {
		return nil, nil, err
	}
	f, _, put, err = seccomp.Cache{Dir: cacheDir}.Get(profile, p.NoNewPrivileges)
	return f, put, err
}

// chrootFor is where an exec's process must chroot: the init's root, when
// the container shares the host's mount namespace.
func (c *Container) chrootFor() string {
	if !c.rec.HostMounts {
		return ""
	}
	return fmt.Sprintf("/proc/%d/root", c.rec.Pid)
}

// untilExec hands the sealed binary to a goroutine that lets go of it
// once the exec stage's end of sock closes: at its program's execve
// (close-on-exec), or its exit. The overlay's teardown, which the last
// holder's release waits for (an expedited RCU grace period), then falls
// to that goroutine while the program runs, not to the program's execve.
func untilExec(seal *sealedExe, sock *os.File) {
	// Its own descriptor (the caller closes sock), close-on-exec as every
	// other of this package: a process the caller starts meanwhile (a
	// hook, another container) must not hold the socket open.
	fd, err := unix.FcntlInt(sock.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return // the deferred closeLater
	}
	f := seal.f
	seal.f = nil
	go func() {
		var b [64]byte
		for {
			n, _, err := unix.Recvfrom(fd, b[:], 0)
			if err == unix.EINTR {
				continue
			}
			if err != nil || n == 0 {
				break
			}
		}
		unix.Close(fd)
		f.Close()
	}()
}
