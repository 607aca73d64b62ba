//go:build cgo

package sigrelay

/*
#cgo CFLAGS: -Wall -Wextra -Wno-unused-parameter -O2
#include "sigrelay.h"
*/
import "C"

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// everyQueued: a real-time signal queued n times is relayed n times.
const everyQueued = true

// mu makes catch and its stop one at a time: the C side has one pipe.
var mu sync.Mutex

func catch(sigs []unix.Signal, c chan<- unix.Signal) (stop func(), err error) {
	mu.Lock()
	defer mu.Unlock()
	r, w, err := newPipe()
	if err != nil {
		return nil, err
	}
	for i, s := range sigs {
		if n, err := C.hako_sigrelay_catch(C.int(s), C.int(w)); n != 0 {
			for _, t := range sigs[:i] {
				C.hako_sigrelay_release(C.int(t))
			}
			r.Close()
			unix.Close(w)
			return nil, fmt.Errorf("catch signal %d (%v): sigaction: %w", int(s), s, err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var buf [64]byte
		for {
			n, err := r.Read(buf[:])
			for _, b := range buf[:n] {
				select {
				case c <- unix.Signal(b):
				default: // full: dropped, as os/signal does
				}
			}
			if err != nil {
				return // EOF: stopped
			}
		}
	}()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range sigs {
			C.hako_sigrelay_release(C.int(s))
		}
		C.hako_sigrelay_quiesce()
		// The handlers are gone: what they wrote is in the pipe, read
		// before EOF.
		unix.Close(w)
		<-done
		r.Close()
		close(c)
	}, nil
}

// newPipe is the handler's pipe: the read end non-blocking so that the
// runtime's poller waits on it, the write end non-blocking so that a full
// pipe drops a signal rather than blocking a signal handler.
func newPipe() (r *os.File, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, -1, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(p[0]), "sigrelay"), p[1], nil
}
