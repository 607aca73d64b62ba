package container

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"hako.dev/console"
)

// catchSignals starts catching, on sigs, every signal a foreground run or
// exec passes on: all that a user, a supervisor or a terminal sends
// (real-time ones included: systemd stops on SIGRTMIN+3). Not SIGCHLD and
// SIGURG (the Go runtime's own), nor the synchronous faults and SIGPROF,
// which only concern hako itself: catching those too (signal.Notify with
// no list) costs the Go runtime milliseconds per run.
func catchSignals(sigs chan<- os.Signal) {
	var list []os.Signal
	for s := unix.Signal(1); s <= unix.Signal(64); s++ {
		switch s {
		case unix.SIGKILL, unix.SIGSTOP, unix.SIGCHLD, unix.SIGURG, unix.SIGPROF,
			unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP, 32, 33: // 32, 33: glibc's own
			continue
		}
		list = append(list, s)
	}
	signal.Notify(sigs, list...)
}

// forwardSignals passes the signals caught on sigs to deliver, until the
// returned stop is called; SIGWINCH resizes the terminal session instead,
// when there is one.
func forwardSignals(sigs <-chan os.Signal, sess *console.Session, deliver func(unix.Signal)) (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				switch s {
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
