package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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

// closeOnExecFrom marks every descriptor from first on close-on-exec, so
// that none but stdio and the preserved ones reaches the program. It runs
// under the container's seccomp filter when the config has no
// no_new_privs (the filter is loaded while CAP_SYS_ADMIN is still held),
// and such a profile may lack close_range(2): then /proc/self/fd is walked
// with fcntl(2), as runc does.
func closeOnExecFrom(first int) error {
	err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	d, derr := os.Open("/proc/self/fd")
	if derr != nil {
		return os.NewSyscallError("close_range", err)
	}
	names, derr := d.Readdirnames(-1)
	dirfd := int(d.Fd())
	if derr != nil {
		d.Close()
		return os.NewSyscallError("close_range", err)
	}
	for _, n := range names {
		fd, perr := strconv.Atoi(n)
		if perr != nil || fd < first || fd == dirfd {
			continue
		}
		// EBADF: the descriptor was the directory's own, or is gone.
		if _, ferr := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); ferr != nil && ferr != unix.EBADF {
			d.Close()
			return os.NewSyscallError("fcntl FD_CLOEXEC", ferr)
		}
	}
	return d.Close()
}

// preservedName names the duplicates preserved() makes; launchSealed
// closes them once the child has them.
const preservedName = "preserved"

// preserved is a duplicate of the caller's descriptor fd for a child's
// ExtraFiles: an *os.File over fd itself would close the caller's
// descriptor when collected.
func preserved(fd int) (*os.File, error) {
	d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("--preserve-fds: descriptor %d: %w", fd, err)
	}
	return os.NewFile(uintptr(d), preservedName), nil
}
