package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// PivotRoot makes rootfs the calling process's root with pivot_root(2) and
// detaches the old root, so nothing of the host's tree stays reachable.
// pivot_root(".", ".") stacks the old root on top of the new one at "/"; it
// is made a slave first so the lazy unmount does not propagate to the host.
func PivotRoot(rootfs string) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/", Err: err}
	}
	defer unix.Close(oldroot)
	if err := unix.Chdir(rootfs); err != nil {
		return &os.PathError{Op: "chdir", Path: rootfs, Err: err}
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("pivot_root %s: %w (a root on ramfs or the initramfs cannot be pivoted: use --no-pivot)", rootfs, err)
		}
		return &os.PathError{Op: "pivot_root", Path: rootfs, Err: err}
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return &os.PathError{Op: "fchdir", Path: "old root", Err: err}
	}
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return &MountError{Op: "propagate", Target: "old root", Flags: unix.MS_SLAVE | unix.MS_REC, Err: err}
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return &os.PathError{Op: "umount", Path: "old root", Err: err}
	}
	if err := unix.Chdir("/"); err != nil {
		return &os.PathError{Op: "chdir", Path: "/", Err: err}
	}
	return nil
}

// moveRoot is the --no-pivot path: move the rootfs mount over "/" and
// chroot into it. The old root stays underneath (reachable only by escaping
// the chroot, which needs CAP_SYS_CHROOT), which is why pivot_root is the
// default.
func moveRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return &os.PathError{Op: "chdir", Path: rootfs, Err: err}
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return &MountError{Op: "move", Source: rootfs, Target: "/", Flags: unix.MS_MOVE, Err: err}
	}
	if err := unix.Chroot("."); err != nil {
		return &os.PathError{Op: "chroot", Path: rootfs, Err: err}
	}
	if err := unix.Chdir("/"); err != nil {
		return &os.PathError{Op: "chdir", Path: "/", Err: err}
	}
	return nil
}
