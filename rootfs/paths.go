package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func openRoot() (*os.File, error) {
	return os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// currentFlags reads the flags of the mount f is on that a remount must
// repeat to keep (read-only among them: a bind of a read-only mount stays
// read-only unless the config says "rw"), as mount(2) flags: statfs(2)
// reports them as ST_* bits, which mostly differ.
func currentFlags(f *os.File) (uintptr, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return 0, &os.PathError{Op: "statfs", Path: f.Name(), Err: err}
	}
	return statfsToMount(uint64(st.Flags)), nil
}

func statfsToMount(st uint64) uintptr {
	var ms uintptr
	for _, m := range []struct {
		st uint64
		ms uintptr
	}{
		{unix.ST_RDONLY, unix.MS_RDONLY}, {unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if st&m.st != 0 {
			ms |= m.ms
		}
	}
	// Neither noatime nor relatime: strictatime, which a remount without
	// it would turn into the default relatime.
	if st&(unix.ST_NOATIME|unix.ST_RELATIME) == 0 {
		ms |= unix.MS_STRICTATIME
	}
	return ms
}

// readonlyPath makes p read-only by binding it onto itself and remounting
// the bind read-only. A path that does not exist is skipped, as runc does.
func readonlyPath(root *os.File, p string) error {
	t, err := openIn(root, p, unix.O_PATH)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	err = unix.Mount(procPath(t), procPath(t), "", unix.MS_BIND|unix.MS_REC, "")
	t.Close()
	if err != nil {
		return &MountError{Op: "bind", Source: p, Target: p, Flags: unix.MS_BIND | unix.MS_REC, Err: err}
	}
	return remountReadonly(root, p)
}

// remountReadonly remounts the (bind) mount at p read-only, keeping its
// other flags.
func remountReadonly(root *os.File, p string) error {
	return remount(root, p, unix.MS_BIND|unix.MS_RDONLY, 0)
}

// maskPath hides p: a directory under an empty read-only tmpfs, a file
// under the container's /dev/null. That /dev/null is checked to be the real
// null device first (CVE-2025-31133: a container that replaces it with a
// link or another file would otherwise get that bound over the masked path,
// or worse, over a path the runtime later writes to).
func maskPath(root *os.File, p string) error {
	t, err := openIn(root, p, unix.O_PATH)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer t.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(t.Fd()), &st); err != nil {
		return &os.PathError{Op: "stat", Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		flags := uintptr(unix.MS_RDONLY)
		if err := unix.Mount("tmpfs", procPath(t), "tmpfs", flags, ""); err != nil {
			return &MountError{Op: "mount", Source: "tmpfs", Target: p, Type: "tmpfs", Flags: flags, Err: err}
		}
		return nil
	}
	null, err := openIn(root, "/dev/null", unix.O_PATH)
	if err != nil {
		return err
	}
	defer null.Close()
	if err := unix.Fstat(int(null.Fd()), &st); err != nil {
		return &os.PathError{Op: "stat", Path: "/dev/null", Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		return fmt.Errorf("mask %s: /dev/null is not the null device (mode %#o, device %d:%d)",
			p, st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	if err := unix.Mount(procPath(null), procPath(t), "", unix.MS_BIND, ""); err != nil {
		return &MountError{Op: "bind", Source: "/dev/null", Target: p, Flags: unix.MS_BIND, Err: err}
	}
	return nil
}
