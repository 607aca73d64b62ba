//go:build !cgo

package sigrelay

// Without cgo there is no C handler: os/signal catches everything.
const cHandler = false

// os/signal relays a signal pending several times once.
const everyQueued = false

// rtmin: without a C library here, 32 and 33 stay left alone as under
// glibc (a program's C parts may be glibc's).
const rtmin = 34

func subscribe(*Relay) error { return nil }
func unsubscribe(*Relay)     {}
