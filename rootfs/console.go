package rootfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// BindConsole bind-mounts the terminal at slave (a /dev/pts/N of the
// container's devpts) over the container's /dev/console, after Prepare. The
// console is resolved inside the new root and the bind goes through fds on
// both ends (CVE-2025-52565: a /dev/console planted as a symlink must not
// redirect the mount).
func BindConsole(slave *os.File) error {
	root, err := openRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	t, err := createFileIn(root, "/dev/console", 0o600)
	if err != nil {
		return err
	}
	defer t.Close()
	if err := unix.Mount(procPath(slave), procPath(t), "", unix.MS_BIND, ""); err != nil {
		return &MountError{Op: "bind", Source: slave.Name(), Target: "/dev/console", Flags: unix.MS_BIND, Err: err}
	}
	return nil
}
