package container

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Start releases a created container's init to execve its program. The
// exec fifo is the signal: the init is blocked opening it for writing;
// opening it for reading here lets it write one byte and exec. Start waits
// on the init's pidfd too, so an init that died meanwhile is an error, not
// a hang.
func (c *Container) Start() error {
	_, err := c.StartWith(StartOpts{})
	return err
}

// phases returns a function that logs, at debug level, the time since
// its previous call (or since phases) under a name: where an operation's
// time goes.
func phases(log *slog.Logger, op string) func(name string) {
	last := time.Now()
	return func(name string) {
		if !log.Enabled(context.Background(), slog.LevelDebug) {
			return
		}
		now := time.Now()
		log.Debug(op+" phase", "phase", name, "ms", float64(now.Sub(last).Microseconds())/1000)
		last = now
	}
}

// StartOpts are start's options.
type StartOpts struct {
	// NotifySocket is the host's sd_notify(3) socket (the NOTIFY_SOCKET
	// of the start command): a container created with one (CreateOpts)
	// has its READY=1 passed on there, with MAINPID its init's pid.
	NotifySocket string
}

// StartWith is Start with options. With a NotifySocket and a container
// made for it, ready yields the relay's outcome once the container said
// READY=1 (nil) or exited first; otherwise ready is nil.
func (c *Container) StartWith(o StartOpts) (ready <-chan error, err error) {
	err = c.locked(func() error {
		var relay *notifyRelay
		if o.NotifySocket != "" {
			r, err := c.listenNotify()
			if err != nil {
				return err
			}
			relay = r
		}
		if relay == nil {
			return c.start()
		}
		// Before the program runs: one that exits at once is still ours
		// to watch.
		pidfd, err := c.pidfd()
		if err != nil {
			relay.close()
			return err
		}
		if err := c.start(); err != nil {
			unix.Close(pidfd)
			relay.close()
			return err
		}
		ch := make(chan error, 1)
		go func() {
			defer unix.Close(pidfd)
			ch <- relay.forward(o.NotifySocket, c.rec.Pid, pidfd)
		}()
		ready = ch
		return nil
	})
	return ready, err
}

func (c *Container) start() error {
	switch st := c.Status(); st {
	case Created:
	case Stopped:
		return errors.New("cannot start a container that has stopped")
	case Running:
		return errors.New("cannot start an already running container")
	default: // runc's words
		return fmt.Errorf("cannot start a container in the %s state", st)
	}
	pidfd, err := c.pidfd()
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	fifo := filepath.Join(c.dir(), fifoName)
	// O_NONBLOCK: opening a fifo for reading otherwise waits for a writer.
	fd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: fifo, Err: err}
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return os.NewSyscallError("poll", err)
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			break
		}
		if fds[1].Revents != 0 || fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
			return errors.New("container init exited before it could start the program")
		}
	}
	var b [1]byte
	if _, err := unix.Read(fd, b[:]); err != nil {
		return &os.PathError{Op: "read", Path: fifo, Err: err}
	}
	// The fifo's absence is what makes the status "running".
	if err := os.Remove(fifo); err != nil {
		return err
	}
	return c.poststart()
}

// poststart runs the poststart hooks, once the program runs. A failing
// one fails the start (runtime-spec 1.3): the container is stopped
// rather than left running half-announced.
func (c *Container) poststart() error {
	if h := c.hooks(); h != nil {
		if err := runHooks("poststart", h.Poststart, c.hookState(Running, c.rec.Pid)); err != nil {
			c.killAll()
			return err
		}
	}
	return nil
}

// pidfd opens a pidfd for the init and checks, after opening it, that the
// pid still belongs to the init (same start time): from then on the pidfd
// refers to that process even if the pid is reused.
func (c *Container) pidfd() (int, error) {
	if c.rec.Pid <= 0 {
		return -1, ErrNotRunning
	}
	fd, err := unix.PidfdOpen(c.rec.Pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return -1, ErrNotRunning
	}
	if err != nil {
		return -1, os.NewSyscallError("pidfd_open", err)
	}
	if !c.initAlive() {
		unix.Close(fd)
		return -1, ErrNotRunning
	}
	return fd, nil
}
