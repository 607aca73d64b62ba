package container

import "errors"

// The lifecycle errors keep runc's words: containerd, Docker and podman
// match these texts in a runtime's output.
var (
	ErrNotExist   = errors.New("container does not exist")
	ErrExist      = errors.New("already exists")
	ErrNotRunning = errors.New("container not running")
	ErrNotPaused  = errors.New("container not paused")
)

// undo collects the steps that roll back a half-done operation, run in
// reverse order unless Release is called.
type undo struct{ fns []func() }

func (u *undo) add(f func()) { u.fns = append(u.fns, f) }
func (u *undo) release()     { u.fns = nil }
func (u *undo) run() {
	for i := len(u.fns) - 1; i >= 0; i-- {
		u.fns[i]()
	}
	u.fns = nil
}
