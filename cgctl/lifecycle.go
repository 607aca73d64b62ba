package cgctl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Create makes the cgroup in every hierarchy.
func (m *manager) Create() error {
	for _, h := range m.hier {
		if _, err := m.create(h); err != nil {
			return err
		}
	}
	return nil
}

// Apply creates the cgroup in every hierarchy and writes pid into each
// cgroup.procs. On v1, a new cpuset cgroup starts with empty cpuset.cpus and
// cpuset.mems, and the kernel refuses tasks into it (ENOSPC), so those are
// copied from the parent on the way down.
func (m *manager) Apply(pid int) error {
	for _, h := range m.hier {
		dir, err := m.create(h)
		if err != nil {
			return err
		}
		if err := writeFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// Entry is how a new process enters a cgroup without being moved there
// by another: moving a process through cgroup.procs takes a global lock
// whose writer waits for an RCU grace period (milliseconds, each time),
// where a thread moving itself through a v1 tasks file takes none, and a
// process cloned into a v2 cgroup (clone3's CLONE_INTO_CGROUP) only its
// read side.
type Entry struct {
	// Tasks are the v1 hierarchies' tasks files: the new process, still
	// single-threaded, writes "0" to each.
	Tasks []string
	// Unified, if not nil, is the cgroup's directory in the unified
	// hierarchy, open to be clone3's cgroup (exec.Cmd's
	// SysProcAttr.UseCgroupFD and CgroupFD). The caller closes it.
	Unified *os.File
}

// Entry creates the cgroup where it does not exist and returns how a
// process about to start gets in by itself.
func (m *manager) Entry() (*Entry, error) {
	e := &Entry{}
	for _, h := range m.hier {
		dir, err := m.create(h)
		if err != nil {
			e.Close()
			return nil, err
		}
		if !h.Unified {
			e.Tasks = append(e.Tasks, filepath.Join(dir, "tasks"))
			continue
		}
		if e.Unified, err = os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Close closes Unified.
func (e *Entry) Close() {
	if e != nil && e.Unified != nil {
		e.Unified.Close()
	}
}

// createIn makes dir, this cgroup in the hierarchy it belongs to, if it is
// missing: a device filter is attached to the cgroup's directory, which
// Set may be asked for before Apply.
func (m *manager) createIn(dir string) error {
	for _, h := range m.hier {
		if filepath.Join(h.Dir, m.path) == dir {
			_, err := m.create(h)
			return err
		}
	}
	return nil
}

// create makes every missing directory from the hierarchy root down to the
// cgroup and returns the cgroup's directory. The cgroup itself is tried
// first: its parent usually exists (one mkdir per hierarchy, not one per
// level), and for an exec the cgroup too (no mkdir made).
func (m *manager) create(h Hierarchy) (string, error) {
	cpuset := !h.Unified && contains(h.Controllers, "cpuset")
	dir := filepath.Join(h.Dir, m.path)
	err := os.Mkdir(dir, 0o755)
	switch {
	case err == nil && cpuset:
		// New, hence empty (unless the parent has clone_children set,
		// when this writes the same values again).
		if ok, err := copyCpuset(filepath.Dir(dir), dir); err != nil {
			return "", err
		} else if ok {
			return dir, nil
		}
	case errors.Is(err, fs.ErrExist) && cpuset:
		if _, ok, err := readCpuset(dir); err != nil {
			return "", err
		} else if ok {
			return dir, nil
		}
	case err == nil, errors.Is(err, fs.ErrExist):
		return dir, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	// A missing parent, or an empty cpuset above: the whole way down.
	dir = h.Dir
	for _, part := range strings.Split(strings.TrimPrefix(m.path, "/"), "/") {
		parent := dir
		dir = filepath.Join(dir, part)
		err := os.Mkdir(dir, 0o755)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		if cpuset {
			if err := inheritCpuset(parent, dir); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}

// cpusetFiles are what a v1 cpuset cgroup needs set before it takes tasks.
var cpusetFiles = [...]string{"cpuset.cpus", "cpuset.mems"}

// readCpuset reads dir's cpus and mems (cpusetFiles' order); ok tells
// whether both are set.
func readCpuset(dir string) (vals [len(cpusetFiles)][]byte, ok bool, err error) {
	for i, f := range cpusetFiles {
		v, err := readFile(filepath.Join(dir, f))
		if err != nil {
			return vals, false, err
		}
		if vals[i] = bytes.TrimSpace(v); len(vals[i]) == 0 {
			return vals, false, nil
		}
	}
	return vals, true, nil
}

// copyCpuset copies parent's cpus and mems to dir; false, and nothing
// written, if the parent has either empty.
func copyCpuset(parent, dir string) (bool, error) {
	vals, ok, err := readCpuset(parent)
	if !ok {
		return false, err
	}
	for i, f := range cpusetFiles {
		if err := writeFile(dir, f, string(vals[i])); err != nil {
			return false, err
		}
	}
	return true, nil
}

// inheritCpuset fills in whichever of dir's cpus and mems is empty from
// parent's.
func inheritCpuset(parent, dir string) error {
	for _, f := range cpusetFiles {
		cur, err := readFile(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(cur)) != 0 {
			continue
		}
		v, err := readFile(filepath.Join(parent, f))
		if err != nil {
			return err
		}
		if err := writeFile(dir, f, string(bytes.TrimSpace(v))); err != nil {
			return err
		}
	}
	return nil
}

// Pids lists the processes of the cgroup and its descendants, read from the
// hierarchy of the pids controller (any hierarchy sees all tasks; pids is
// simply the one every runtime creates).
func (m *manager) Pids() ([]int, error) {
	dir, _, ok := m.dir("pids")
	if !ok {
		dir = filepath.Join(m.hier[0].Dir, m.path)
	}
	var pids []int
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != "cgroup.procs" {
			return nil
		}
		b, err := readFile(p)
		if err != nil {
			return err
		}
		s := bufio.NewScanner(bytes.NewReader(b))
		for s.Scan() {
			n, err := strconv.Atoi(strings.TrimSpace(s.Text()))
			if err != nil {
				return &os.PathError{Op: "parse", Path: p, Err: err}
			}
			pids = append(pids, n)
		}
		return s.Err()
	})
	return pids, err
}

// destroyTimeout bounds how long Destroy waits for exiting tasks to leave;
// liveGrace how long it waits for processes that still run (just killed,
// say) before it gives up on them.
const (
	destroyTimeout = 5 * time.Second
	liveGrace      = time.Second
)

// Destroy removes the cgroup from every hierarchy, child cgroups first.
// rmdir fails with EBUSY while a task that has been killed is still on its
// way out, so it retries for a while before giving up.
func (m *manager) Destroy() error {
	// Live processes keep every hierarchy busy: say so once, touch
	// nothing. Those just killed get a moment to finish dying.
	if dir, _, ok := m.dir("pids"); ok {
		for deadline := time.Now().Add(liveGrace); ; time.Sleep(5 * time.Millisecond) {
			live := liveTasks(dir)
			if len(live) == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("remove cgroup %s: processes still inside: %s", m.path, strings.Join(live, " "))
			}
		}
	}
	var errs []error
	for _, h := range m.hier {
		if err := removeTree(filepath.Join(h.Dir, m.path)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeTree removes the cgroup dir and any below it. rmdir(2) comes
// first: a cgroup with children answers EBUSY, and only then is the
// directory listed (a container's cgroup rarely has any).
func removeTree(dir string) error {
	deadline := time.Now().Add(destroyTimeout)
	delay := time.Millisecond
	for {
		err := unix.Rmdir(dir)
		switch {
		case err == nil, errors.Is(err, unix.ENOENT):
			return nil
		case errors.Is(err, unix.EBUSY):
			if n, err := removeChildren(dir); err != nil {
				return err
			} else if n > 0 {
				continue
			}
			if !time.Now().Before(deadline) {
				return &os.PathError{Op: "rmdir", Path: dir, Err: err}
			}
			// Busy with tasks on their way out is worth waiting for;
			// busy with live ones is not going to change.
			if live := liveTasks(dir); len(live) > 0 {
				return fmt.Errorf("remove cgroup %s: processes still inside: %s", dir, strings.Join(live, " "))
			}
			time.Sleep(delay)
			delay = min(2*delay, 100*time.Millisecond)
		case errors.Is(err, unix.ENOTEMPTY):
			// cgroupfs never says ENOTEMPTY (its control files go with the
			// directory); a plain directory tree standing in for it, as in
			// unit tests, does: remove its files the way rmdir would.
			if rerr := os.RemoveAll(dir); rerr == nil {
				return nil
			}
			return &os.PathError{Op: "rmdir", Path: dir, Err: err}
		default:
			return &os.PathError{Op: "rmdir", Path: dir, Err: err}
		}
	}
}

// removeChildren removes the cgroups below dir and says how many there
// were.
func removeChildren(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // gone meanwhile: rmdir says so
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if e.IsDir() {
			if err := removeTree(filepath.Join(dir, e.Name())); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// liveTasks lists the pids in dir's cgroup.procs that are not zombies.
func liveTasks(dir string) []string {
	b, err := readFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var live []string
	for _, p := range strings.Fields(string(b)) {
		st, err := readFile("/proc/" + p + "/stat")
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(st, ')'); i > 0 && i+2 < len(st) && st[i+2] != 'Z' && st[i+2] != 'X' {
			live = append(live, p)
		}
	}
	return live
}

// writeFile writes one value to a cgroup control file. Control files exist
// already; O_CREATE is kept off so a typo or missing controller fails
// instead of leaving a stray regular file.
func writeFile(dir, file, value string) error {
	var w fileWriter
	err := w.write(dir, file, value)
	if cerr := w.close(); err == nil {
		err = cerr
	}
	return err
}
