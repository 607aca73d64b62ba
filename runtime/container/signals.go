package container

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"hako.dev/console"
)

// forwardSignals passes the signals caught on sigs to deliver, until the
// returned stop is called: all but SIGCHLD and SIGURG (the Go runtime's
// preemption signal, never meant for the container); SIGWINCH resizes the
// terminal session instead, when there is one.
func forwardSignals(sigs <-chan os.Signal, sess *console.Session, deliver func(unix.Signal)) (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				switch s {
				case unix.SIGCHLD, unix.SIGURG:
				case unix.SIGWINCH:
					if sess != nil {
						sess.Resize()
					}
				default:
					deliver(s.(unix.Signal))
				}
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

// shellStatus is a process's end as a shell reports it: the exit code, or
// 128+N when killed by signal N.
func shellStatus(ps *os.ProcessState) int {
	ws := ps.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
