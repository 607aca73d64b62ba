package cgctl

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// Kill sends sig to every process in the cgroup and its descendants.
// SIGKILL goes through cgroup.kill where the kernel has it (5.14+, any
// cgroup2, even a hybrid host's): one write, no race with forks. Otherwise
// the cgroup is frozen so that nothing forks meanwhile, every process is
// signalled, and it is thawed again (the signals are delivered then). A
// cgroup frozen before stays frozen, its signals pending until it thaws.
func (m *manager) Kill(sig unix.Signal) error {
	if dir, _, ok := m.unified(); ok && sig == unix.SIGKILL {
		err := writeFile(dir, "cgroup.kill", "1")
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	pids, err := m.Pids()
	if err != nil {
		return err
	}
	// Freeze around the signals unless the cgroup is frozen already (it
	// stays so: the signals wait, pending) or we are in it ourselves
	// (freezing ourselves would never return).
	already, _ := m.Frozen()
	froze := false
	if !already && !slices.Contains(pids, os.Getpid()) {
		froze = m.Freeze() == nil
		if froze {
			if pids, err = m.Pids(); err != nil { // what may have forked meanwhile
				m.Thaw()
				return err
			}
		}
	}
	for _, p := range pids {
		if kerr := unix.Kill(p, sig); kerr != nil && !errors.Is(kerr, unix.ESRCH) {
			err = fmt.Errorf("signal %d: %w", p, kerr)
			break
		}
	}
	if froze {
		if terr := m.Thaw(); terr != nil && err == nil {
			err = terr
		}
	}
	return err
}
