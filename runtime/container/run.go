package container

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"hako.dev/console"
)

// Run creates, starts and waits for a container in the foreground, then
// deletes it, and returns the program's exit status (128+N for signal N).
// With a terminal in the config and no console socket, the caller's own
// terminal is attached. Signals this process receives are forwarded to the
// container's init, except SIGCHLD, SIGURG (the Go runtime's preemption
// signal, never meant for the container) and SIGWINCH, which resizes the
// pty instead.
func Run(root, id string, o CreateOpts) (code int, err error) {
	return RunWith(root, id, o, RunOpts{})
}

// RunOpts are run's own options (runc's run flags).
type RunOpts struct {
	// Detach returns once the program runs, leaving the container be.
	Detach bool
	// Keep leaves the stopped container in place instead of deleting it.
	Keep bool
	// NoSubreaper leaves orphans of the container to the host's init;
	// by default this process adopts (PR_SET_CHILD_SUBREAPER) and reaps
	// them, as runc does.
	NoSubreaper bool
	// Started, if set, is called with the init's pid once the program
	// runs (to write a pid file, say).
	Started func(pid int) error
	// Start are the options of the start step (the host's NOTIFY_SOCKET).
	Start StartOpts
}

// startWith starts c, or, where Create had the init start the program
// (started), runs the poststart hooks.
func (c *Container) startWith(o StartOpts, started bool) (<-chan error, error) {
	if !started {
		return c.StartWith(o)
	}
	// Locked against a concurrent delete, on the record this process
	// has just written (no reload).
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return nil, c.poststart()
}

// RunWith is Run with run's own options.
func RunWith(root, id string, o CreateOpts, ro RunOpts) (code int, err error) {
	// Without a notify socket to relay, the init starts the program as
	// soon as it is set up: no exec fifo to meet at (startWith).
	o.startNow = ro.Start.NotifySocket == ""
	if ro.Detach {
		// (A terminal then needs --console-socket: Create says so.)
		c, err := Create(root, id, o)
		if err != nil {
			return -1, err
		}
		c.releaseHeld() // the program runs on alone
		ready, err := c.startWith(ro.Start, o.startNow)
		if err != nil {
			c.Delete(true)
			return -1, err
		}
		if ro.Started != nil {
			if err := ro.Started(c.Pid()); err != nil {
				c.Delete(true)
				return -1, err
			}
		}
		if ready != nil {
			// Detached, the relay is all that keeps us: wait for it.
			if err := <-ready; err != nil {
				return 0, fmt.Errorf("notify: %w", err)
			}
		}
		return 0, nil
	}
	if !ro.NoSubreaper {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return -1, os.NewSyscallError("prctl subreaper", err)
		}
	}
	var sess *console.Session
	if o.ConsoleSocket == "" {
		o.terminal = func(master *os.File) error {
			s, err := console.Attach(master, os.Stdin, os.Stdout)
			sess = s
			return err
		}
	}
	// Catch signals before the container exists so none is lost between
	// create and start; forwarded once it is running.
	relay, err := catchSignals()
	if err != nil {
		return -1, err
	}
	defer relay.Stop()

	c, err := Create(root, id, o)
	if err != nil {
		if sess != nil {
			sess.Close() // give the caller's terminal back
		}
		return -1, err
	}
	defer func() {
		c.releaseHeld()
		if ro.Keep && err == nil {
			return // left stopped, for `hako delete` later
		}
		derr := c.Delete(true)
		var w *HookWarning
		if errors.As(derr, &w) && o.Logger != nil {
			o.Logger.Warn(w.Error())
		} else if derr != nil && err == nil {
			err = fmt.Errorf("delete: %w", derr)
		}
	}()
	ready, err := c.startWith(ro.Start, o.startNow)
	if err != nil {
		return -1, err
	}
	if ready != nil {
		go func() {
			if err := <-ready; err != nil && o.Logger != nil {
				o.Logger.Warn("notify", "id", id, "error", err)
			}
		}()
	}
	if ro.Started != nil {
		if err := ro.Started(c.Pid()); err != nil {
			return -1, err
		}
	}
	stop := forwardSignals(relay, sess, func(s unix.Signal) {
		if err := c.Kill(s, false); err != nil && !errors.Is(err, ErrNotRunning) && o.Logger != nil {
			o.Logger.Warn("forward signal", "signal", s, "id", id, "error", err)
		}
	})
	code, err = c.Wait()
	c.releaseHeld() // before the delete, to overlap it
	stop()
	if sess != nil {
		sess.Close()
	}
	return code, err
}
