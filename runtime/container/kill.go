package container

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/cgctl"
	"hako.dev/rootfs"
)

// Kill sends sig to the container's init through a verified pidfd (never
// to a reused pid), or with all to every process in its cgroup. A stopped
// container has nothing to signal.
func (c *Container) Kill(sig unix.Signal, all bool) error {
	st := c.Status()
	// A stopped container's init is gone; with no pid namespace of its own
	// what it started may live on, and --all still reaches it (as runc,
	// whose containerd shim kills the rest that way when an init exits).
	if st == Stopped && !(all && !c.rec.PidNS) {
		return ErrNotRunning
	}
	if all {
		mgr, err := c.cgroup()
		if err != nil {
			return err
		}
		if err := mgr.Kill(sig); err != nil {
			return err
		}
		return thawIfKilled(mgr, st, sig)
	}
	fd, err := c.pidfd()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ErrNotRunning
		}
		return os.NewSyscallError("pidfd_send_signal", err)
	}
	if st == Paused {
		if mgr, err := c.cgroup(); err == nil {
			return thawIfKilled(mgr, st, sig)
		}
	}
	return nil
}

// thawIfKilled: a frozen process acts on no signal, not even SIGKILL,
// until thawed. A paused container sent SIGKILL is thawed so that it dies
// (as runc does); any other signal waits, pending, for resume.
func thawIfKilled(mgr cgctl.Manager, st Status, sig unix.Signal) error {
	if st == Paused && sig == unix.SIGKILL {
		return mgr.Thaw()
	}
	return nil
}

// ParseSignal reads a signal the way kill(1) and runc take it: "KILL",
// "SIGKILL", "kill" or "9".
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		// 0 only checks that the process exists, as kill(1) -0.
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// Delete removes a container. A stopped container goes at once; a created
// one is killed first (it never ran anything, as runc does); a running one
// only with force. Its cgroup and state directory go last, after its
// processes are gone.
func (c *Container) Delete(force bool) error {
	return c.locked(func() error { return c.delete(force) })
}

func (c *Container) delete(force bool) error {
	switch st := c.Status(); st {
	case Creating:
		if !force {
			return fmt.Errorf("cannot delete container %s that is still being created", c.rec.ID)
		}
		// The creator first, and wait for it to be gone: it could still
		// move the init into the cgroup or make a directory after we look.
		if err := killVerified(c.rec.Creator, c.rec.CreatorStart); err != nil {
			return err
		}
		if mgr, err := c.cgroup(); err == nil {
			killAndWait(mgr)
		}
	case Stopped:
		// Its init is gone; what it started may not be (without a pid
		// namespace of its own, or left by a create that died half-way).
		if mgr, err := c.cgroup(); err == nil {
			if pids, err := mgr.Pids(); err == nil && len(pids) > 0 {
				killAndWait(mgr)
			}
		}
	case Created:
		if err := c.killAll(); err != nil {
			return err
		}
	default:
		if !force {
			return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.rec.ID, st)
		}
		if err := c.killAll(); err != nil {
			return err
		}
	}
	if err := c.destroy(); err != nil {
		return err
	}
	c.waitMntGone()
	if h := c.hooks(); h != nil {
		if err := runHooks("poststop", h.Poststop, c.hookState(Stopped, 0)); err != nil {
			return &HookWarning{Err: err}
		}
	}
	return nil
}

// HookWarning is a poststop hook's failure: the container is deleted all
// the same, and the caller should warn, not fail (runtime-spec 1.3).
type HookWarning struct{ Err error }

func (w *HookWarning) Error() string { return w.Err.Error() }
func (w *HookWarning) Unwrap() error { return w.Err }

// killAll SIGKILLs the init and, when the container shares the host's pid
// namespace (so the init's death takes nobody with it), every process in
// its cgroup; then waits for the init to exit.
func (c *Container) killAll() error {
	fd, err := c.pidfd()
	if errors.Is(err, ErrNotRunning) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return os.NewSyscallError("pidfd_send_signal", err)
	}
	// Without its own pid namespace the init's death takes nobody with it;
	// and a paused (frozen) container's processes die only once thawed.
	if mgr, err := c.cgroup(); err == nil {
		if !c.rec.PidNS {
			killAndWait(mgr)
		}
		mgr.Thaw()
	}
	// A pidfd polls readable once its process has exited.
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int((10 * time.Second).Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return os.NewSyscallError("poll", err)
		}
		if n == 0 {
			return fmt.Errorf("kill container %s: init %d did not exit after SIGKILL", c.rec.ID, c.rec.Pid)
		}
		return nil
	}
}

// destroy removes the cgroup and the state directory.
func (c *Container) destroy() error {
	if c.proc != nil {
		c.proc.Wait() // reap our own child, if it is ours
	}
	mgr, err := c.cgroup()
	if err != nil {
		return err
	}
	if err := mgr.Destroy(); err != nil {
		return err
	}
	if c.rec.HostMounts {
		if err := rootfs.UnmountUnder(c.rec.Rootfs, c.rec.KeepMounts); err != nil {
			return err
		}
	}
	return os.RemoveAll(c.dir())
}

// killVerified SIGKILLs pid through a pidfd, if it is still the process
// that started at start, and waits until it has exited.
func killVerified(pid int, start uint64) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil // gone already
	}
	defer unix.Close(fd)
	if s, _, err := procStat(pid); err != nil || s != start {
		return nil // the pid is another process's now
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return os.NewSyscallError("pidfd_send_signal", err)
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 10000)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			return fmt.Errorf("process %d did not exit after SIGKILL", pid)
		}
		return nil
	}
}

// killAndWait SIGKILLs everything in the cgroup (thawing it, since frozen
// tasks act on no signal) and waits a while for it to empty.
func killAndWait(mgr cgctl.Manager) {
	mgr.Kill(unix.SIGKILL)
	mgr.Thaw()
	for i := 0; i < 500; i++ {
		if pids, err := mgr.Pids(); err != nil || len(pids) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Pause freezes every process of a created or running container (runc
// pauses both).
func (c *Container) Pause() error { return c.locked(c.pause) }

func (c *Container) pause() error {
	switch st := c.Status(); st {
	case Running, Created:
	case Paused:
		return errors.New("container already paused")
	default:
		return ErrNotRunning
	}
	mgr, err := c.cgroup()
	if err != nil {
		return err
	}
	return mgr.Freeze()
}

// Resume thaws a paused container.
func (c *Container) Resume() error { return c.locked(c.resume) }

func (c *Container) resume() error {
	if c.Status() != Paused {
		return ErrNotPaused
	}
	mgr, err := c.cgroup()
	if err != nil {
		return err
	}
	return mgr.Thaw()
}

// Pids lists the container's processes (its cgroup's, recursively).
func (c *Container) Pids() ([]int, error) {
	mgr, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	return mgr.Pids()
}

// Update writes new limits to a container's cgroup; fields left nil keep
// their values. A stopped container has none to change.
func (c *Container) Update(r *specs.LinuxResources) error {
	if c.Status() == Stopped {
		return ErrNotRunning
	}
	mgr, err := c.cgroup()
	if err != nil {
		return err
	}
	return mgr.Set(r)
}

// Stats reads the container's cgroup counters.
func (c *Container) Stats() (*cgctl.Stats, error) {
	mgr, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	return mgr.Stats()
}
