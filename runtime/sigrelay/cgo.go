//go:build cgo

package sigrelay

/*
#cgo CFLAGS: -Wall -Wextra -Wno-unused-parameter -O2 -I${SRCDIR}/../execstage
#include "sigrelay.h"
*/
import "C"

import (
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// cHandler: this build has the C handler (without cgo, os/signal
// catches everything).
const cHandler = true

// everyQueued: a real-time signal queued n times is relayed n times.
const everyQueued = true

// rtmin is the first real-time signal the C handler can catch: glibc
// keeps 32 and 33 for itself, musl 32 to 34, whose sigaction refuses them
// (34, glibc's SIGRTMIN, which programs use, is caught all the same, with
// the raw syscall, on x86_64).
var rtmin = unix.Signal(C.hako_sigrelay_rtmin())

var (
	// mu guards subs and the handlers' installation; the dispatcher
	// holds it while it sends, so no Relay gets a send once unsubscribed.
	mu sync.Mutex
	// subs are the Relays catching each signal through the C handler.
	subs [65][]*Relay
	// pipe is the handler's pipe, made on first use and kept for the
	// life of the process (so a handler never writes to a closed, or
	// reused, descriptor): the read end in the runtime's poller, the write
	// end non-blocking (a full pipe drops a signal, it never blocks a
	// handler).
	pipeR *os.File
	// ignoredPipe: the runtime was told to ignore SIGPIPE (once: Ignore
	// also cancels any os/signal.Notify of it).
	ignoredPipe bool
)

// subscribe adds r to the Relays of its signals, installing the handler
// for the signals no other Relay catches yet.
func subscribe(r *Relay) error {
	if len(r.sigs) == 0 {
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	if pipeR == nil {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
			return os.NewSyscallError("pipe2", err)
		}
		C.hako_sigrelay_init(C.int(p[1]))
		pipeR = os.NewFile(uintptr(p[0]), "sigrelay")
		go dispatch(pipeR)
	}
	for i, s := range r.sigs {
		var n C.int
		var err error
		switch {
		case len(subs[s]) > 0: // installed for another Relay
		case s == unix.SIGPIPE:
			// The Go runtime ends the program when a write to its
			// stdout or stderr fails with EPIPE, unless os/signal
			// catches SIGPIPE (a thread of its own for the signal
			// mask, and hand-offs to it: ~0.3 ms of a run) or it is
			// ignored. Ignored it is, for the runtime, and the C
			// handler holds it from then on: it relays it while a
			// Relay catches it and drops it after, as the runtime
			// would a SIGPIPE nobody asked for; a child gets the
			// default action back when it executes (not so with
			// SIG_IGN). Ignore leaves SIG_IGN installed until hold
			// replaces it: no fork in between (ForkLock), or a child
			// would keep it.
			syscall.ForkLock.RLock()
			if !ignoredPipe {
				signal.Ignore(unix.SIGPIPE)
				ignoredPipe = true
			}
			n, err = C.hako_sigrelay_hold(C.int(s))
			syscall.ForkLock.RUnlock()
		default:
			n, err = C.hako_sigrelay_catch(C.int(s))
		}
		if n != 0 {
			for _, t := range r.sigs[:i] {
				drop(r, t)
			}
			return fmt.Errorf("catch signal %d (%v): sigaction: %w", int(s), s, err)
		}
		subs[s] = append(subs[s], r)
	}
	return nil
}

// unsubscribe takes r off; the last Relay of a signal gives it back.
func unsubscribe(r *Relay) {
	mu.Lock()
	defer mu.Unlock()
	for _, s := range r.sigs {
		drop(r, s)
	}
}

// drop takes r off the Relays of s (mu held).
func drop(r *Relay, s unix.Signal) {
	subs[s] = slices.DeleteFunc(subs[s], func(x *Relay) bool { return x == r })
	if len(subs[s]) == 0 && s != unix.SIGPIPE { // SIGPIPE stays held
		C.hako_sigrelay_release(C.int(s))
	}
}

// dispatch passes what the handler writes to the Relays catching it.
func dispatch(p *os.File) {
	var buf [64]byte
	for {
		n, err := p.Read(buf[:])
		mu.Lock()
		for _, b := range buf[:n] {
			if int(b) >= len(subs) {
				continue
			}
			for _, r := range subs[b] {
				select {
				case r.c <- unix.Signal(b):
				default: // full: dropped, as os/signal does
				}
			}
		}
		mu.Unlock()
		if err != nil {
			return // never: the write end stays open
		}
	}
}
