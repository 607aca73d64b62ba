package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountOne performs one entry of the config's mounts list.
func mountOne(root *os.File, c Config, m specs.Mount) error {
	dest := filepath.Clean("/" + m.Destination) // spec 1.2: relative means from "/"
	o := parseOptions(m.Options)
	if m.Type == "bind" || o.flags&unix.MS_BIND != 0 {
		return bindMount(root, c, m.Source, dest, o)
	}
	if m.Type == "cgroup" || m.Type == "cgroup2" {
		return mountCgroups(root, c, dest, o)
	}
	target, err := mkdirIn(root, dest, 0o755)
	if err != nil {
		return err
	}
	defer target.Close()
	err = unix.Mount(m.Source, procPath(target), m.Type, o.flags, o.dataString())
	if errors.Is(err, unix.EPERM) && m.Type == "sysfs" {
		// sysfs can only be mounted by the owner of the network namespace;
		// without a new one, show the host's, read-only if asked.
		return bindMount(root, c, "/sys", dest, mountOpts{flags: o.flags | unix.MS_BIND | unix.MS_REC, propagation: o.propagation})
	}
	if err != nil {
		return &MountError{Op: "mount", Source: m.Source, Target: target.Name(), Type: m.Type, Flags: o.flags, Data: o.dataString(), Err: err}
	}
	return propagate(root, dest, o.propagation)
}

// bindMount binds a host path (relative ones are taken from the bundle) onto
// dest, creating dest as a directory or an empty file to match the source.
// The flags a bind ignores (ro, nosuid, ...) are applied by a remount.
func bindMount(root *os.File, c Config, source, dest string, o mountOpts) error {
	if !filepath.IsAbs(source) {
		source = filepath.Join(c.Bundle, source)
	}
	st, err := os.Stat(source)
	if err != nil {
		return err
	}
	var target *os.File
	if st.IsDir() {
		target, err = mkdirIn(root, dest, 0o755)
	} else {
		target, err = createFileIn(root, dest, 0o644)
	}
	if err != nil {
		return err
	}
	flags := uintptr(unix.MS_BIND) | o.flags&unix.MS_REC
	err = unix.Mount(source, procPath(target), "", flags, "")
	target.Close()
	if err != nil {
		return &MountError{Op: "bind", Source: source, Target: target.Name(), Flags: flags, Err: err}
	}
	if extra := o.flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT); extra != 0 {
		if err := remount(root, dest, extra|unix.MS_BIND, o.clear); err != nil {
			return err
		}
	}
	return propagate(root, dest, o.propagation)
}

// atimeFlags are the mutually exclusive access-time modes.
const atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

// remount changes the flags of the mount now at dest. It is opened afresh:
// the fd used to mount still points at the directory underneath. The
// mount's current nosuid, nodev, noexec and access-time flags are kept
// unless the config cleared them or chose another atime mode: a remount
// drops whatever it does not repeat, and inside a user namespace the
// kernel refuses to drop flags locked by the parent.
func remount(root *os.File, dest string, flags, clear uintptr) error {
	t, err := openIn(root, dest, unix.O_PATH)
	if err != nil {
		return err
	}
	defer t.Close()
	keep, err := currentFlags(t)
	if err != nil {
		return err
	}
	if flags&atimeFlags != 0 {
		keep &^= atimeFlags
	}
	flags |= keep&^clear | unix.MS_REMOUNT
	if err := unix.Mount("", procPath(t), "", flags, ""); err != nil {
		return &MountError{Op: "remount", Target: t.Name(), Flags: flags, Err: err}
	}
	return nil
}

func propagate(root *os.File, dest string, props []uintptr) error {
	if len(props) == 0 {
		return nil
	}
	t, err := openIn(root, dest, unix.O_PATH)
	if err != nil {
		return err
	}
	defer t.Close()
	for _, p := range props {
		if err := unix.Mount("", procPath(t), "", p, ""); err != nil {
			return &MountError{Op: "propagate", Target: t.Name(), Flags: p, Err: err}
		}
	}
	return nil
}

// mountCgroups mounts what a "cgroup" entry shows. With a cgroup namespace
// the kernel roots each new cgroupfs mount at the namespace's cgroup, so
// fresh mounts show the container its own cgroup as "/"; without one, its
// cgroup directories are bind-mounted instead, never the host's whole tree.
// On v1 and hybrid hosts a tmpfs at dest holds one mount per hierarchy,
// plus symlinks for each controller of a combined one (cpu -> cpu,cpuacct).
func mountCgroups(root *os.File, c Config, dest string, o mountOpts) error {
	cgroupns := hasNamespace(c.Spec, specs.CgroupNamespace)
	flags := o.flags &^ (unix.MS_BIND | unix.MS_REC)
	one := func(h CgroupMount, at string) error {
		if !cgroupns {
			return bindMount(root, c, h.Source, at, mountOpts{flags: flags | unix.MS_BIND, propagation: o.propagation})
		}
		target, err := mkdirIn(root, at, 0o755)
		if err != nil {
			return err
		}
		defer target.Close()
		typ, data := "cgroup", h.Options
		if h.Unified {
			typ, data = "cgroup2", ""
		}
		if err := unix.Mount("cgroup", procPath(target), typ, flags, data); err != nil {
			return &MountError{Op: "mount", Source: "cgroup", Target: target.Name(), Type: typ, Flags: flags, Data: data, Err: err}
		}
		return propagate(root, at, o.propagation)
	}
	if len(c.Cgroups) == 1 && c.Cgroups[0].Name == "" {
		return one(c.Cgroups[0], dest)
	}
	target, err := mkdirIn(root, dest, 0o755)
	if err != nil {
		return err
	}
	tmpfsFlags := flags &^ unix.MS_RDONLY // read-only only once filled
	err = unix.Mount("tmpfs", procPath(target), "tmpfs", tmpfsFlags, "mode=755")
	target.Close()
	if err != nil {
		return &MountError{Op: "mount", Source: "tmpfs", Target: target.Name(), Type: "tmpfs", Flags: tmpfsFlags, Data: "mode=755", Err: err}
	}
	dir, err := openIn(root, dest, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer dir.Close()
	for _, h := range c.Cgroups {
		if err := one(h, filepath.Join(dest, h.Name)); err != nil {
			return err
		}
		if parts := strings.Split(h.Name, ","); len(parts) > 1 {
			for _, p := range parts {
				if err := unix.Symlinkat(h.Name, int(dir.Fd()), p); err != nil && !errors.Is(err, unix.EEXIST) {
					return &os.PathError{Op: "symlink", Path: filepath.Join(dir.Name(), p), Err: err}
				}
			}
		}
	}
	if flags&unix.MS_RDONLY != 0 {
		return remount(root, dest, flags, o.clear)
	}
	return nil
}
