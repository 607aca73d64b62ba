package sigrelay

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Relay delivers the signals caught on C until Stop.
type Relay struct {
	// C receives each signal caught; Stop closes it. A signal arriving
	// while C is full is dropped, as os/signal drops one.
	C <-chan unix.Signal

	sigs []unix.Signal
	stop func()
}

// Forwardable is every signal a runtime passes on to what it runs: all a
// user, a supervisor or a terminal may send (real-time ones included:
// systemd stops on SIGRTMIN+3), none of those Catch refuses.
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
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP, unix.SIGSYS:
		return errors.New("synchronous: it concerns this process")
	case 32, 33:
		return errors.New("glibc's own")
	}
	if s < 1 || s > 64 {
		return errors.New("no such signal")
	}
	return nil
}

// Catch starts catching sigs; buffer is C's capacity. Only one Relay
// may catch a given signal at a time.
func Catch(sigs []unix.Signal, buffer int) (*Relay, error) {
	for _, s := range sigs {
		if err := refused(s); err != nil {
			return nil, fmt.Errorf("catch signal %d (%v): %w", int(s), s, err)
		}
	}
	c := make(chan unix.Signal, buffer)
	r := &Relay{C: c, sigs: append([]unix.Signal(nil), sigs...)}
	stop, err := catch(r.sigs, c)
	if err != nil {
		return nil, err
	}
	r.stop = stop
	return r, nil
}

// Stop gives the signals back to the Go runtime (as before Catch) and
// closes C once what was caught until then is in it (or dropped, if full).
func (r *Relay) Stop() {
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
}
