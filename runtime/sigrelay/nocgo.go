//go:build !cgo

package sigrelay

// Without cgo there is no C handler: os/signal catches everything.
const cHandler = false

// os/signal relays a signal pending several times once.
const everyQueued = false

func subscribe(*Relay) error { return nil }
func unsubscribe(*Relay)     {}
