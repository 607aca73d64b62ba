package cgctl

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// freezeTimeout bounds how long Freeze waits for every task to stop; a
// task in uninterruptible sleep (D) can keep a v1 cgroup FREEZING.
const freezeTimeout = 10 * time.Second

// freezerDir is where freezing happens: the v1 freezer hierarchy when the
// host mounts one (it is what v1 tools and runc look at), else the cgroup2
// hierarchy, whose cgroup.freeze needs no controller and so exists even in
// a hybrid host's controller-less cgroup2.
func (m *manager) freezerDir() (dir string, v2 bool, err error) {
	if d, h, ok := m.dir("freezer"); ok && !h.Unified {
		return d, false, nil
	}
	if dir, _, ok := m.unified(); ok {
		return dir, true, nil
	}
	return "", false, errors.New("no freezer: neither a v1 freezer hierarchy nor cgroup2 is mounted")
}

// Freeze stops every process in the cgroup and returns once all are
// stopped: v1 writes FROZEN to freezer.state and waits while it reads
// FREEZING (writing FROZEN again, which retries tasks that were busy);
// v2 writes 1 to cgroup.freeze and waits for "frozen 1" in cgroup.events.
func (m *manager) Freeze() error {
	dir, v2, err := m.freezerDir()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(freezeTimeout)
	delay := time.Millisecond
	if v2 {
		if err := writeFile(dir, "cgroup.freeze", "1"); err != nil {
			return err
		}
		for {
			frozen, err := v2Frozen(dir)
			if err != nil || frozen {
				return err
			}
			if time.Now().After(deadline) {
				m.Thaw()
				return fmt.Errorf("freeze %s: not frozen after %v", dir, freezeTimeout)
			}
			time.Sleep(delay)
			delay = min(2*delay, 50*time.Millisecond)
		}
	}
	for {
		if err := writeFile(dir, "freezer.state", "FROZEN"); err != nil {
			return err
		}
		state, err := readTrim(filepath.Join(dir, "freezer.state"))
		if err != nil {
			return err
		}
		if state == "FROZEN" {
			return nil
		}
		if time.Now().After(deadline) {
			m.Thaw() // never leave it half-frozen
			return fmt.Errorf("freeze %s: still %s after %v (a task in uninterruptible sleep?)", dir, state, freezeTimeout)
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// Thaw lets the cgroup's processes run again.
func (m *manager) Thaw() error {
	dir, v2, err := m.freezerDir()
	if err != nil {
		return err
	}
	if v2 {
		return writeFile(dir, "cgroup.freeze", "0")
	}
	return writeFile(dir, "freezer.state", "THAWED")
}

// Frozen tells whether the cgroup is frozen (v1: FROZEN; FREEZING counts
// as not yet). On v2 a cgroup asked to freeze (cgroup.freeze is 1) counts
// too: cgroup.events' "frozen" drops to 0 for a moment whenever a signal
// wakes one of its tasks, which goes straight back into the freezer; and a
// cgroup whose parent is frozen counts by cgroup.events alone.
func (m *manager) Frozen() (bool, error) {
	dir, v2, err := m.freezerDir()
	if err != nil {
		return false, err
	}
	if v2 {
		if want, err := readTrim(filepath.Join(dir, "cgroup.freeze")); err != nil || want == "1" {
			return err == nil, err
		}
		return v2Frozen(dir)
	}
	state, err := readTrim(filepath.Join(dir, "freezer.state"))
	return state == "FROZEN", err
}

func v2Frozen(dir string) (bool, error) {
	b, err := readFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return false, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok && k == "frozen" {
			return v == "1", nil
		}
	}
	return false, fmt.Errorf("read %s/cgroup.events: no frozen key", dir)
}

func readTrim(p string) (string, error) {
	b, err := readFile(p)
	return string(bytes.TrimSpace(b)), err
}
