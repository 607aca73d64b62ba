package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"hako.dev/cgctl"
	"hako.dev/console"
)

// checkPreserved refuses --preserve-fds naming descriptors we do not have.
func checkPreserved(n int) error {
	if n < 0 {
		return fmt.Errorf("--preserve-fds %d: must not be negative", n)
	}
	for i := 0; i < n; i++ {
		if _, err := unix.FcntlInt(uintptr(3+i), unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("--preserve-fds %d: descriptor %d is not open", n, 3+i)
		}
	}
	return nil
}

// sendPidfd sends a pidfd of pid to the unix socket at path, as runc's
// --pidfd-socket does: a client can then signal and wait for the process
// with no risk of pid reuse.
func sendPidfd(path string, pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd of %d: %w", pid, os.NewSyscallError("pidfd_open", err))
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	if err := console.Send(path, f); err != nil {
		return fmt.Errorf("--pidfd-socket: %w", err)
	}
	return nil
}

// subCgroup is the manager of sub, an existing cgroup below m's (runc's
// exec --cgroup): a path relative to the container's cgroup, in every
// hierarchy.
func subCgroup(m cgctl.Manager, sub string) (cgctl.Manager, error) {
	if strings.Contains(sub, ":") {
		return nil, fmt.Errorf("--cgroup %q: the controller:path form is not supported; give a path below the container's cgroup (it applies to every hierarchy)", sub)
	}
	clean := filepath.Clean("/" + sub)
	if clean == "/" {
		return m, nil
	}
	path := filepath.Join(m.Path(), clean)
	for _, h := range m.Hierarchies() {
		if _, err := os.Stat(filepath.Join(h.Dir, path)); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("--cgroup %s: %s does not exist", sub, filepath.Join(h.Dir, path))
			}
			return nil, err
		}
	}
	return cgctl.New(cgctl.Config{Path: path, Mode: m.Mode()})
}
