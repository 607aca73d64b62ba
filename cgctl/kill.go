package cgctl

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Kill sends sig to every process in the cgroup and its descendants.
// SIGKILL goes through cgroup.kill where the kernel has it (5.14+, any
// cgroup2, even a hybrid host's): one write, no race with forks. Otherwise
// the cgroup is frozen so that nothing forks or exits meanwhile, every
// process is signalled, and it is thawed again (the signals are delivered
// then).
func (m *manager) Kill(sig unix.Signal) error {
	if dir, _, ok := m.unified(); ok && sig == unix.SIGKILL {
		err := writeFile(dir, "cgroup.kill", "1")
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	frozen := m.Freeze() == nil
	pids, err := m.Pids()
	if err == nil {
		for _, p := range pids {
			if kerr := unix.Kill(p, sig); kerr != nil && !errors.Is(kerr, unix.ESRCH) {
				err = fmt.Errorf("signal %d: %w", p, kerr)
				break
			}
		}
	}
	if frozen {
		if terr := m.Thaw(); terr != nil && err == nil {
			err = terr
		}
	}
	return err
}
