package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CgroupMount is one cgroup hierarchy as a container's "cgroup" mount
// shows it.
type CgroupMount struct {
	// Name is the directory under the mount's destination: "memory",
	// "cpu,cpuacct", "systemd", "unified"; "" for a pure cgroup2 host, whose
	// single hierarchy is mounted at the destination itself.
	Name string
	// Options are the v1 mount options that select the hierarchy
	// ("memory", "name=systemd"); empty for cgroup2.
	Options string
	// Source is the container's own cgroup in that hierarchy, as a host
	// path; it is bind-mounted when the container has no cgroup namespace.
	Source string
	// Unified is true for cgroup2.
	Unified bool
}

// Config is what Prepare needs besides the namespaces it runs in.
type Config struct {
	// Spec supplies root, mounts, linux.devices, linux.rootfsPropagation,
	// linux.maskedPaths, linux.readonlyPaths and linux.namespaces.
	Spec *specs.Spec
	// Rootfs is the root filesystem's absolute host path.
	Rootfs string
	// Bundle is the directory relative bind-mount sources are taken from.
	Bundle string
	// Cgroups are the hierarchies a mount of type "cgroup" shows.
	Cgroups []CgroupMount
	// NoPivot switches the root with MS_MOVE and chroot(2) instead of
	// pivot_root(2), for roots on ramfs or the initramfs.
	NoPivot bool
	// BeforePivot, if set, runs once every mount and device is in place
	// and before the root is switched: the OCI createRuntime and
	// createContainer hooks' moment.
	BeforePivot func() error
}

// Prepare builds the root filesystem and switches to it: on return the
// calling process's "/" is the container's root and its working directory
// is "/". Call Finish after any work that needs a writable /dev (a console),
// to apply masked and read-only paths.
func Prepare(c Config) error {
	if c.Spec == nil || c.Spec.Root == nil {
		return errors.New("prepare rootfs: config has no root")
	}
	// Stop mount events flowing back to the host: every mount below would
	// otherwise propagate into the host's namespace wherever "/" is shared.
	prop := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if c.Spec.Linux != nil && c.Spec.Linux.RootfsPropagation != "" {
		p, ok := propagationOpts[c.Spec.Linux.RootfsPropagation]
		if !ok {
			return fmt.Errorf("prepare rootfs: unknown rootfsPropagation %q", c.Spec.Linux.RootfsPropagation)
		}
		prop = p
	}
	if err := unix.Mount("", "/", "", prop, ""); err != nil {
		return &MountError{Op: "propagate", Target: "/", Flags: prop, Err: err}
	}
	if prop&unix.MS_SHARED != 0 {
		// A shared "/" would carry the rootfs bind and every mount under
		// it to the host, and pivot_root refuses a shared parent anyway:
		// the mount holding the rootfs goes private (runc does the same).
		if err := parentPrivate(c.Rootfs); err != nil {
			return err
		}
	}
	// pivot_root(2) needs the new root to be a mount point.
	if err := unix.Mount(c.Rootfs, c.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return &MountError{Op: "bind", Source: c.Rootfs, Target: c.Rootfs, Flags: unix.MS_BIND | unix.MS_REC, Err: err}
	}
	root, err := os.OpenFile(c.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer root.Close()

	devMounted := false
	for _, m := range c.Spec.Mounts {
		if err := mountOne(root, c, m); err != nil {
			return err
		}
		if filepath.Clean("/"+m.Destination) == "/dev" && m.Type != "bind" {
			devMounted = true
		}
	}
	if devMounted {
		if err := populateDev(root, c.Spec); err != nil {
			return err
		}
	}
	if c.BeforePivot != nil {
		if err := c.BeforePivot(); err != nil {
			return err
		}
	}
	if c.NoPivot {
		return moveRoot(c.Rootfs)
	}
	return PivotRoot(c.Rootfs)
}

// Finish applies linux.maskedPaths, linux.readonlyPaths and root.readonly
// to the current root, after Prepare.
func Finish(spec *specs.Spec) error {
	work := spec.Root != nil && spec.Root.Readonly
	if spec.Linux != nil {
		work = work || len(spec.Linux.ReadonlyPaths)+len(spec.Linux.MaskedPaths) > 0
	}
	if !work {
		return nil
	}
	// Every step goes through /proc/self/fd: it must be a real procfs,
	// not whatever the image put at /proc.
	if err := checkProc(); err != nil {
		return err
	}
	root, err := openRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	if spec.Linux != nil {
		for _, p := range spec.Linux.ReadonlyPaths {
			if err := readonlyPath(root, p); err != nil {
				return err
			}
		}
		for _, p := range spec.Linux.MaskedPaths {
			if err := maskPath(root, p); err != nil {
				return err
			}
		}
	}
	if spec.Root != nil && spec.Root.Readonly {
		return remountReadonly(root, "/")
	}
	return nil
}

// parentPrivate makes the mount that contains path private. It reads
// mountinfo, once, and only for shared propagation.
func parentPrivate(path string) error {
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(path))
	if err != nil {
		return fmt.Errorf("find the mount of %s: %w", path, err)
	}
	var parent string
	for _, m := range mounts {
		if len(m.Mountpoint) > len(parent) {
			parent = m.Mountpoint
		}
	}
	if parent == "" {
		return fmt.Errorf("find the mount of %s: none", path)
	}
	if err := unix.Mount("", parent, "", unix.MS_PRIVATE, ""); err != nil {
		return &MountError{Op: "propagate", Target: parent, Flags: unix.MS_PRIVATE, Err: err}
	}
	return nil
}

func checkProc() error {
	var st unix.Statfs_t
	fi, err := os.Lstat("/proc")
	if err == nil && fi.IsDir() {
		err = unix.Statfs("/proc", &st)
	}
	if err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		return errors.New("/proc in the container is not procfs: masked and read-only paths need the config to mount proc at /proc")
	}
	return nil
}

// hasNamespace tells whether the config gives the container its own
// namespace of type t (new or joined).
func hasNamespace(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	if s.Linux == nil {
		return false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}
