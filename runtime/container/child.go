package container

import (
	"fmt"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// child is a process this one reaps: a container's init or an exec's
// process, which the pre-init stage made with CLONE_PARENT, or the stage
// itself. os.Process would do, but os.FindProcess (like os.StartProcess)
// first checks, once per process, that pidfds work, by cloning a child
// and reaping it: 0.1-0.4 ms of every create, run and exec here
// (docs/performance.md). A child's pid stays its own until its parent
// reaps it, so signals by pid are safe up to the reap; Wait waits
// without reaping first, and reaps with signals shut out.
type child struct {
	pid    int
	mu     sync.Mutex // Signal against the reap
	reaped bool
	once   sync.Once // one wait; later and concurrent ones get its result
	status unix.WaitStatus
	err    error
}

func newChild(pid int) *child { return &child{pid: pid} }

// Signal sends sig to the child, or returns os.ErrProcessDone once it
// has been reaped.
func (p *child) Signal(sig unix.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return os.ErrProcessDone
	}
	if err := unix.Kill(p.pid, sig); err != nil {
		return os.NewSyscallError("kill", err)
	}
	return nil
}

// Kill sends SIGKILL.
func (p *child) Kill() error { return p.Signal(unix.SIGKILL) }

// Wait waits for the child to end and reaps it; every call returns the
// same status.
func (p *child) Wait() (unix.WaitStatus, error) {
	p.once.Do(p.wait)
	return p.status, p.err
}

func (p *child) wait() {
	var info unix.Siginfo
	for {
		// A zombie keeps its pid: Signal stays safe while this returns.
		if err := unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != unix.EINTR {
			break // an error shows again in wait4
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reaped = true // whatever wait4 says, the pid is no longer ours to signal
	for {
		_, err := unix.Wait4(p.pid, &p.status, 0, nil)
		if err != unix.EINTR {
			if err != nil {
				p.err = os.NewSyscallError("wait4 "+strconv.Itoa(p.pid), err)
			}
			return
		}
	}
}

// shellStatus is a process's end as a shell reports it: the exit code, or
// 128+N when killed by signal N.
func shellStatus(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// statusText says how a process ended, in os.ProcessState's words.
func statusText(ws unix.WaitStatus) string {
	switch {
	case ws.Exited():
		return "exit status " + strconv.Itoa(ws.ExitStatus())
	case ws.Signaled():
		s := "signal: " + ws.Signal().String()
		if ws.CoreDump() {
			s += " (core dumped)"
		}
		return s
	}
	return fmt.Sprintf("wait status %#x", uint32(ws))
}

// exitText says how the init (or an exec's process) ended, for an error
// message. Its own error report, if any, came over the socket; this is
// for when it had none.
func exitText(p *child) string {
	ws, err := p.Wait()
	if err != nil {
		return err.Error()
	}
	return statusText(ws)
}
