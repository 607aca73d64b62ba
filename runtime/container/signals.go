package container

import (
	"fmt"

	"golang.org/x/sys/unix"

	"hako.dev/console"
	"hako.dev/runtime/sigrelay"
)

// catchSignals starts catching every signal a foreground run or exec
// passes on (sigrelay.Forwardable: all a user, a supervisor or a terminal
// sends). It goes through sigrelay, not os/signal, whose catching of the
// ~50 signals cost ~1 ms and ~200 futex calls per run here.
func catchSignals() (*sigrelay.Relay, error) {
	r, err := sigrelay.Catch(sigrelay.Forwardable(), 128)
	if err != nil {
		return nil, fmt.Errorf("catch signals: %w", err)
	}
	return r, nil
}

// forwardSignals passes the signals caught by r to deliver, until the
// returned stop is called; SIGWINCH resizes the terminal session instead,
// when there is one.
func forwardSignals(r *sigrelay.Relay, sess *console.Session, deliver func(unix.Signal)) (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s, ok := <-r.C:
				if !ok {
					return // stopped
				}
				switch s {
				case unix.SIGWINCH:
					if sess != nil {
						sess.Resize()
					}
				default:
					deliver(s)
				}
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}
