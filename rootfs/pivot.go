package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
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

// chrootRoot is the root switch of a container without a mount namespace
// of its own: chroot(2) into the rootfs, nothing moved or detached (the
// mounts are the host's).
func chrootRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return &os.PathError{Op: "chdir", Path: rootfs, Err: err}
	}
	if err := unix.Chroot("."); err != nil {
		return &os.PathError{Op: "chroot", Path: rootfs, Err: err}
	}
	if err := unix.Chdir("/"); err != nil {
		return &os.PathError{Op: "chdir", Path: "/", Err: err}
	}
	return nil
}

// MountsUnder lists the ids of the mounts below rootfs (not rootfs
// itself): a runtime records them before a container without a mount
// namespace of its own makes its mounts there, to leave them be.
func MountsUnder(rootfs string) ([]int, error) {
	ms, err := mountsUnder(rootfs)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids, nil
}

func mountsUnder(rootfs string) ([]*mountinfo.Info, error) {
	prefix := filepath.Clean(rootfs) + "/"
	all, err := mountinfo.GetMounts(mountinfo.PrefixFilter(filepath.Clean(rootfs)))
	if err != nil {
		return nil, fmt.Errorf("list mounts under %s: %w", rootfs, err)
	}
	var out []*mountinfo.Info
	for _, m := range all {
		if strings.HasPrefix(m.Mountpoint, prefix) {
			out = append(out, m)
		}
	}
	return out, nil
}

// UnmountUnder detaches every mount below rootfs (not rootfs itself)
// except those whose ids are in keep, deepest first: what Prepare left in
// the host's mount namespace for a container without one of its own,
// which the runtime removes when the container goes. It reads mountinfo
// once.
func UnmountUnder(rootfs string, keep []int) error {
	mounts, err := mountsUnder(rootfs)
	if err != nil {
		return err
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].Mountpoint) > len(mounts[j].Mountpoint) })
	for _, m := range mounts {
		if slices.Contains(keep, m.ID) {
			continue
		}
		if err := unix.Unmount(m.Mountpoint, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil &&
			!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return &os.PathError{Op: "umount", Path: m.Mountpoint, Err: err}
		}
	}
	return nil
}
