package rootfs

import (
	"errors"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func i64(v int64) *int64 { return &v }

func mode(m os.FileMode) *os.FileMode { return &m }

// DefaultDevices are the nodes every container's /dev gets (the OCI
// runtime spec's list), plus what linux.devices adds.
var DefaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: mode(0o666)},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5, FileMode: mode(0o666)},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7, FileMode: mode(0o666)},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8, FileMode: mode(0o666)},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9, FileMode: mode(0o666)},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0, FileMode: mode(0o666)},
}

// DefaultDeviceRules are the cgroup device rules that let a container use
// DefaultDevices and its /dev/pts and /dev/ptmx; a runtime appends them to
// the config's own rules.
var DefaultDeviceRules = []specs.LinuxDeviceCgroup{
	// mknod of any node is allowed (using one is not): as runc, so that an
	// image's setup can create nodes it then never opens.
	{Allow: true, Type: "c", Access: "m"},
	{Allow: true, Type: "b", Access: "m"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(7), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(8), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(9), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(0), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(1), Access: "rwm"},    // /dev/console
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(2), Access: "rwm"},    // /dev/ptmx
	{Allow: true, Type: "c", Major: i64(136), Access: "rwm"},                 // /dev/pts/*
	{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rwm"}, // /dev/net/tun
}

// devSymlinks are the links a /dev is expected to have.
var devSymlinks = [][2]string{
	{"/proc/self/fd", "fd"},
	{"/proc/self/fd/0", "stdin"},
	{"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"},
	{"pts/ptmx", "ptmx"},
}

func devType(d specs.LinuxDevice) (uint32, error) {
	switch d.Type {
	case "c", "u":
		return unix.S_IFCHR, nil
	case "b":
		return unix.S_IFBLK, nil
	case "p":
		return unix.S_IFIFO, nil
	}
	return 0, &os.PathError{Op: "mknod", Path: d.Path, Err: errors.New("unknown device type " + d.Type)}
}

func mknodDevice(root *os.File, d specs.LinuxDevice) error {
	typ, err := devType(d)
	if err != nil {
		return err
	}
	p := filepath.Clean("/" + d.Path)
	dir, err := mkdirIn(root, filepath.Dir(p), 0o755)
	if err != nil {
		return err
	}
	defer dir.Close()
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	// The node gets exactly the config's mode.
	old := unix.Umask(0)
	defer unix.Umask(old)
	name := filepath.Base(p)
	full := filepath.Join(dir.Name(), name)
	// A node left by the image is replaced; unlinkat never follows links.
	if err := unix.Unlinkat(int(dir.Fd()), name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "unlink", Path: full, Err: err}
	}
	if err := unix.Mknodat(int(dir.Fd()), name, typ|perm, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))); err != nil {
		return &os.PathError{Op: "mknod", Path: full, Err: err}
	}
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if uid != -1 || gid != -1 {
		if err := unix.Fchownat(int(dir.Fd()), name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "chown", Path: full, Err: err}
		}
	}
	return nil
}

func bindDevice(root *os.File, d specs.LinuxDevice) error {
	target, err := createFileIn(root, d.Path, 0o000)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := unix.Mount(d.Path, procPath(target), "", unix.MS_BIND, ""); err != nil {
		return &MountError{Op: "bind", Source: d.Path, Target: target.Name(), Flags: unix.MS_BIND, Err: err}
	}
	return nil
}
