package sigrelay

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// Relay delivers the signals it catches on C until Stop.
type Relay struct {
	// C receives each signal caught; Stop closes it. A signal arriving
	// while C is full is dropped, as os/signal drops one.
	C <-chan unix.Signal

	c    chan unix.Signal
	sigs []unix.Signal // caught through the C handler
	// in and done are the os/signal part (without cgo).
	in   chan os.Signal
	done chan struct{}
	stop sync.Once
}

// Forwardable is every signal a runtime passes on to what it runs: all a
// user, a supervisor or a terminal may send (real-time ones included:
// systemd stops on SIGRTMIN+3), none of those Catch refuses: 52.
func Forwardable() []unix.Signal {
	var list []unix.Signal
	for s := unix.Signal(1); s <= unix.Signal(64); s++ {
		if refused(s) == nil {
			list = append(list, s)
		}
	}
	return list
}

// refused says why s cannot be caught here, or nil.
func refused(s unix.Signal) error {
	switch s {
	case unix.SIGKILL, unix.SIGSTOP:
		return errors.New("cannot be caught")
	case unix.SIGURG, unix.SIGCHLD, unix.SIGPROF:
		return errors.New("the Go runtime's own")
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP:
		return errors.New("synchronous: it concerns this process")
	}
	if s >= 32 && s < rtmin {
		return errors.New("the C library's own")
	}
	if s < 1 || s > 64 {
		return errors.New("no such signal")
	}
	return nil
}

// Catch starts catching sigs; buffer (at least 1) is C's capacity.
// Several Relays may catch one signal: each gets it, as with os/signal.
// While any Relay catches a signal through the C handler, os/signal does
// not see it.
func Catch(sigs []unix.Signal, buffer int) (*Relay, error) {
	var viaC, viaGo []unix.Signal
	for _, s := range sigs {
		if err := refused(s); err != nil {
			return nil, fmt.Errorf("catch signal %d (%v): %w", int(s), s, err)
		}
		if !cHandler {
			viaGo = append(viaGo, s)
		} else {
			viaC = append(viaC, s)
		}
	}
	r := &Relay{c: make(chan unix.Signal, max(buffer, 1)), sigs: viaC}
	r.C = r.c
	if err := subscribe(r); err != nil {
		return nil, err
	}
	if len(viaGo) > 0 {
		r.in, r.done = make(chan os.Signal, cap(r.c)), make(chan struct{})
		list := make([]os.Signal, len(viaGo))
		for i, s := range viaGo {
			list[i] = s
		}
		signal.Notify(r.in, list...)
		go func() {
			defer close(r.done)
			for s := range r.in {
				select {
				case r.c <- s.(unix.Signal):
				default: // full: dropped
				}
			}
		}()
	}
	return r, nil
}

// Stop ends the catching: the signals go back to the Go runtime (as
// before Catch) once no other Relay catches them, and C is closed.
// SIGPIPE stays with the C handler, which drops it from then on.
func (r *Relay) Stop() {
	r.stop.Do(func() {
		if r.in != nil {
			signal.Stop(r.in)
			close(r.in)
			<-r.done
		}
		unsubscribe(r) // no more sends to r.c after it
		close(r.c)
	})
}
