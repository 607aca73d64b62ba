package rootfs

import (
	"errors"
	"fmt"
	"os"

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
	// MountFDs are detached idmapped mount trees (IDMappedTree) prepared
	// by a process outside the container's user namespace, keyed by
	// their index in Spec.Mounts: mapping a mount takes privilege over
	// its filesystem, which a process inside the namespace lacks. A
	// mount with the idmap option missing here is mapped by Prepare.
	MountFDs map[int]*os.File
}

// Prepare builds the root filesystem and switches to it: it performs the
// steps of Plan(c) up to the root switch. On return the calling process's
// "/" is the container's root and its working directory is "/". Call
// Finish after any work that needs a writable /dev (a console), to apply
// masked and read-only paths.
func Prepare(c Config) error {
	ops, err := Plan(c)
	if err != nil {
		return err
	}
	r := &runner{c: c}
	defer r.close()
	for _, op := range ops[:rootSwitch(ops)+1] {
		if err := r.do(op); err != nil {
			return err
		}
	}
	return nil
}

// Finish performs the steps of Plan(c) after the root switch, in the
// switched root: linux.readonlyPaths, linux.maskedPaths, root.readonly.
func Finish(c Config) error {
	ops, err := Plan(c)
	if err != nil {
		return err
	}
	rest := ops[rootSwitch(ops)+1:]
	if len(rest) == 0 {
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
	r := &runner{c: c, root: root}
	defer r.close()
	for _, op := range rest {
		if err := r.do(op); err != nil {
			return err
		}
	}
	return nil
}

// rootSwitch is the index of the plan's pivot_root (or move) step, or of
// the propagation step right after it: the last of Prepare's.
func rootSwitch(ops []Op) int {
	for i, op := range ops {
		if op.Kind == OpPivotRoot || op.Kind == OpMoveRoot || op.Kind == OpChroot {
			if i+1 < len(ops) && ops[i+1].Kind == OpRootPropagation {
				return i + 1
			}
			return i
		}
	}
	return len(ops) - 1
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
