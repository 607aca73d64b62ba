//go:build !cgo

package execstage

// Linked tells whether this build carries the C stage (it needs cgo).
const Linked = false

// RestoreNofile does nothing without the C stage.
func RestoreNofile() error { return nil }
