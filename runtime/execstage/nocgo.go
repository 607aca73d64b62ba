//go:build !cgo

package execstage

// Linked tells whether this build carries the C stage (it needs cgo).
const Linked = false

// Glibc: no C library without cgo.
const Glibc = false

// ThreadsWithClone3: without cgo the Go runtime starts its threads with
// clone alone.
const ThreadsWithClone3 = false

// RestoreNofile does nothing without the C stage.
func RestoreNofile() error { return nil }
