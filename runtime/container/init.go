package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/console"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/capset"
	"hako.dev/rootfs"
	"hako.dev/seccomp"
)

// The init's inherited descriptors (CreateOpts order of ExtraFiles).
const (
	initSockFd = 3
	initFifoFd = 4
)

// Init is the container's init: the re-executed binary, running inside the
// new namespaces. A main package calls it first thing when InitEnv is set,
// on the main thread, which must be locked (runtime.LockOSThread in an init
// function): the cgroup namespace, credentials and capabilities it sets are
// per thread, and execve(2) from that same thread is what hands them to the
// program. Init never returns.
func Init() {
	runtime.LockOSThread()
	if os.Getenv(InitEnv) == execInitValue {
		unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0) // as below
		setName("hako:[exec]")
		unix.CloseOnExec(initSockFd)
		execInit()
		return
	}
	// Until it execs the program, this process is hako's own binary inside
	// the container: non-dumpable, no other process (say, one sharing its
	// pid namespace) may open /proc/<pid>/exe or its memory (CVE-2019-5736).
	// execve(2) makes the program dumpable again.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	setName("hako:[init]")
	// Our descriptors must not reach hooks (or anything) we start: the
	// sync socket and the exec fifo came without close-on-exec.
	unix.CloseOnExec(initSockFd)
	unix.CloseOnExec(initFifoFd)
	// hako's binary as this process runs it (sealed: see seal.go), opened
	// while /proc is still the host's: the exec stage is it, re-executed.
	self, selfErr := unix.Open("/proc/self/exe", unix.O_PATH|unix.O_CLOEXEC, 0)
	sock := os.NewFile(initSockFd, "sync")
	var cfg initConfig
	fds, err := recv(sock, &cfg)
	if err != nil || len(fds) != len(cfg.IDMapped) {
		// The parent is gone or broken: nothing to report to.
		os.Exit(1)
	}
	trees := make(map[int]*os.File, len(fds))
	for i, fd := range fds {
		unix.CloseOnExec(fd)
		trees[cfg.IDMapped[i]] = os.NewFile(uintptr(fd), "idmapped mount")
	}
	s, master, err := setup(&cfg, sock, trees)
	if err == nil && selfErr == nil && isExe(self, cfg.Exe) && stageable(&cfg, s.stageOK) {
		// Returns only if the stage could not be started (the binary not
		// executable by the container's user, say): then this Go init
		// waits for start itself, as it does where the stage cannot.
		execStage(self, &cfg, &s, master)
	}
	if err != nil {
		send(sock, syncMsg{Type: msgError, Error: err.Error()})
		os.Exit(1)
	}
	ready := syncMsg{Type: msgReady}
	if master != nil {
		err = send(sock, ready, int(master.Fd()))
		master.Close()
	} else {
		err = send(sock, ready)
	}
	if err != nil {
		os.Exit(1)
	}
	var msg syncMsg
	if _, err := recv(sock, &msg); err != nil || (msg.Type != msgOK && msg.Type != msgStart) {
		os.Exit(1) // create failed after we were ready; it kills us anyway
	}
	now := msg.Type == msgStart
	if !now {
		// After "start" it stays open (close-on-exec): the parent takes
		// its EOF for the program's start.
		sock.Close()
	}
	err = waitStartAndExec(&cfg, &s, now)
	runtime.KeepAlive(sock) // open until the exec, after "start"
	if err != nil {
		fmt.Fprintf(os.Stderr, "hako: %v\n", err)
		if errors.Is(err, unix.ENOENT) {
			os.Exit(127)
		}
		os.Exit(126)
	}
}

// waitStart blocks until `hako start` opens the exec fifo for reading,
// and writes it the byte start waits for.
func waitStart() error {
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(initFifoFd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "exec fifo", Err: err}
	}
	defer unix.Close(fd)
	// The container's /proc may be no procfs (a config without a proc
	// mount): what opened must be the fifo the init holds.
	var want, got unix.Stat_t
	if unix.Fstat(initFifoFd, &want) != nil || unix.Fstat(fd, &got) != nil || want.Dev != got.Dev || want.Ino != got.Ino {
		return fmt.Errorf("open exec fifo: /proc/self/fd/%d is not it (is /proc mounted?)", initFifoFd)
	}
	if _, err := unix.Write(fd, []byte{0}); err != nil {
		return &os.PathError{Op: "write", Path: "exec fifo", Err: err}
	}
	return nil
}

// isExe tells whether fd is the file whose device and inode are id: the
// sealed binary this init runs as. /proc/self/exe is opened after the C
// stage entered the namespaces, and a mount namespace joined by path
// may bring a /proc of the container's making.
func isExe(fd int, id [2]uint64) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Dev == id[0] && st.Ino == id[1] && id != [2]uint64{}
}

// setUp is what setup leaves for the last steps: the program's path, the
// seccomp filter to load right before execve, and whether a filter loaded
// already lets the exec stage's syscalls through.
type setUp struct {
	path    string
	filter  *seccomp.Filter
	stageOK bool
	// nameOK: a filter loaded already lets the stage name itself.
	nameOK bool
	huge   hugePages // to give back, or given back already
}

// setup does everything that can fail in the init, so that create reports
// it; it returns what is left to do, and the pty master (a terminal's)
// for the parent.
func setup(cfg *initConfig, sock *os.File, trees map[int]*os.File) (s setUp, master console.Console, err error) {
	spec, proc := cfg.Spec, cfg.Spec.Process
	rc := rootfs.Config{
		Spec: spec, Rootfs: cfg.Rootfs, Bundle: cfg.Bundle, Cgroups: cfg.Cgroups, NoPivot: cfg.NoPivot,
		BeforePivot: func() error { return createHooks(cfg, sock) },
		MountFDs:    trees,
	}
	err = rootfs.Prepare(rc)
	for _, t := range trees {
		t.Close() // attached now, or never
	}
	if err != nil {
		return s, nil, fmt.Errorf("prepare rootfs: %w", err)
	}
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return s, nil, fmt.Errorf("set hostname %q: %w", spec.Hostname, err)
		}
	}
	if spec.Domainname != "" {
		if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
			return s, nil, fmt.Errorf("set domainname %q: %w", spec.Domainname, err)
		}
	}
	if proc.Terminal {
		m, terr := setupTerminal(proc, true)
		if terr != nil {
			return s, nil, fmt.Errorf("set up terminal: %w", terr)
		}
		master = m
		defer func() {
			if err != nil {
				m.Close()
			}
		}()
	}
	if len(spec.Linux.Sysctl) > 0 {
		if err := setSysctls(spec.Linux.Sysctl); err != nil {
			return s, nil, err
		}
	}
	if err := rootfs.Finish(rc); err != nil {
		return s, nil, err
	}
	keyring := ""
	if !cfg.NoNewKeyring {
		keyring = "_ses." + cfg.ID
	}
	// A filter loaded here (no no_new_privs, or a listener) filters the
	// exec stage's syscalls too: whether it lets them through is asked
	// before it is in force.
	filter, err := storedFilter(cfg.Seccomp)
	if err != nil {
		return s, nil, err
	}
	s.stageOK, s.nameOK = true, true
	s.huge.back = cfg.HugePages
	s.path, s.filter, err = applyProcess(spec, proc, filter, keyring, handoffListener(sock), func(f *seccomp.Filter) {
		s.stageOK = passes(f, "SCMP_ACT_ALLOW", "SCMP_ACT_LOG")
		s.nameOK = namePasses(f)
		s.huge.beforeLoad(f)
	})
	return s, master, err
}

// createHooks is the moment between mounts and pivot_root: the parent runs
// prestart and createRuntime hooks (in the runtime's namespaces), then this
// init runs createContainer hooks, which so run in the container's
// namespaces while their paths still resolve on the host.
func createHooks(cfg *initConfig, sock *os.File) error {
	h := cfg.Spec.Hooks
	if h == nil {
		return nil
	}
	if len(h.Prestart)+len(h.CreateRuntime) > 0 {
		if err := send(sock, syncMsg{Type: msgHooks}); err != nil {
			return err
		}
		var msg syncMsg
		if _, err := recv(sock, &msg); err != nil || msg.Type != msgHooksDone {
			os.Exit(1) // the parent failed them, or is gone: it reports
		}
	}
	// The hooks get huge pages as from hako; this init keeps them off.
	return hugePagesDuring(cfg.HugePages && len(h.CreateContainer) > 0, func() error {
		return runHooks("createContainer", h.CreateContainer, initState(cfg, Creating))
	})
}

func initState(cfg *initConfig, st Status) State {
	return State{OCIVersion: specs.Version, ID: cfg.ID, Pid: cfg.Pid, Status: st, Bundle: cfg.Bundle, Annotations: cfg.Spec.Annotations}
}

// setupTerminal opens a pty in the container's devpts, makes its slave the
// process's controlling terminal and stdio (and, for the init, the
// container's /dev/console), and returns the master for the parent.
func setupTerminal(proc *specs.Process, bindConsole bool) (console.Console, error) {
	master, slavePath, err := console.NewPty()
	if err != nil {
		return nil, err
	}
	if proc.ConsoleSize != nil {
		master.Resize(console.WinSize{Height: uint16(proc.ConsoleSize.Height), Width: uint16(proc.ConsoleSize.Width)})
	}
	slave, err := os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, err
	}
	defer slave.Close()
	if bindConsole {
		if err := rootfs.BindConsole(slave); err != nil {
			master.Close()
			return nil, err
		}
	}
	if _, err := unix.Setsid(); err != nil {
		master.Close()
		return nil, os.NewSyscallError("setsid", err)
	}
	if err := unix.IoctlSetInt(int(slave.Fd()), unix.TIOCSCTTY, 0); err != nil {
		master.Close()
		return nil, os.NewSyscallError("ioctl TIOCSCTTY", err)
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(int(slave.Fd()), fd, 0); err != nil {
			master.Close()
			return nil, os.NewSyscallError("dup3", err)
		}
	}
	return master, nil
}

// rlimitNames are the RLIMIT_ names the spec allows.
var rlimitNames = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}

func cwd(p *specs.Process) string {
	if p.Cwd == "" {
		return "/"
	}
	return p.Cwd
}

// lookPath resolves the program in the container (we are past pivot_root)
// with the container's PATH, giving exec.LookPath's error texts, which are
// runc's and which Docker matches to exit with 127.
func lookPath(p *specs.Process) (string, error) {
	os.Setenv("PATH", pathOf(p.Env))
	path, err := exec.LookPath(p.Args[0])
	if errors.Is(err, exec.ErrDot) {
		err = nil
	}
	return path, err
}

// pathOf is the value of the last PATH= in env, or "": what both program
// lookups (lookPath, lookPathIn) search.
func pathOf(env []string) string {
	path := ""
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	return path
}

// waitStartAndExec blocks until `hako start` opens the exec fifo (unless
// now: `hako run` starts it at once), then replaces the init with the
// program. Reopening the fifo through /proc/self/fd needs no path into
// the host's /run (gone since pivot_root). Every descriptor but stdio is
// marked close-on-exec first, whoever opened it, so nothing of hako's
// reaches the program.
func waitStartAndExec(cfg *initConfig, s *setUp, now bool) error {
	p, path, filter := cfg.Spec.Process, s.path, s.filter
	if !now {
		if err := waitStart(); err != nil {
			return err
		}
	}
	// Huge pages back (before the filter loads, below) from here: for
	// the startContainer hooks too.
	s.huge.now()
	// startContainer hooks: in the container, after start, before the
	// program; their paths resolve in the container.
	if h := cfg.Spec.Hooks; h != nil {
		if err := runHooks("startContainer", h.StartContainer, initState(cfg, Running)); err != nil {
			return err
		}
	}
	// After "start" the sync socket's close at the exec tells the parent
	// the program runs: the dup3s below would close it before, so it
	// moves above them (close-on-exec). Failing that, the parent hears
	// it early.
	if now && cfg.PreserveFDs > 0 {
		unix.FcntlInt(initSockFd, unix.F_DUPFD_CLOEXEC, 3+cfg.PreserveFDs)
	}
	// Preserved descriptors down to 3, in order (each target is below its
	// source, and sources above are not yet overwritten); the fifo there
	// is no longer needed, nor the sync socket (or it moved).
	for n := 0; n < cfg.PreserveFDs; n++ {
		if err := unix.Dup3(initFifoFd+1+n, 3+n, 0); err != nil {
			return os.NewSyscallError("dup3 preserved fd", err)
		}
	}
	if err := closeOnExecFrom(3 + cfg.PreserveFDs); err != nil {
		return err
	}
	if a := p.ExecCPUAffinity; a != nil && a.Final != "" {
		if err := capset.SetAffinity(0, a.Final); err != nil {
			return err
		}
	}
	if filter != nil {
		// From here on only execve itself runs under the filter.
		if _, err := filter.Load(); err != nil {
			return err
		}
	}
	if err := syscall.Exec(path, p.Args, p.Env); err != nil {
		return &os.PathError{Op: "exec", Path: path, Err: err}
	}
	return nil
}
