//go:build !cgo

package sigrelay

import (
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// os/signal relays a signal pending several times once.
const everyQueued = false

// Without cgo there is no C handler: os/signal does the catching.
func catch(sigs []unix.Signal, c chan<- unix.Signal) (stop func(), err error) {
	in := make(chan os.Signal, cap(c))
	list := make([]os.Signal, len(sigs))
	for i, s := range sigs {
		list[i] = s
	}
	signal.Notify(in, list...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range in {
			select {
			case c <- s.(unix.Signal):
			default:
			}
		}
	}()
	return func() {
		signal.Stop(in)
		close(in)
		<-done
		close(c)
	}, nil
}
