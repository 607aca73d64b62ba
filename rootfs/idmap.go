package rootfs

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// IDMappedTree clones the mount tree at source (open_tree(2),
// OPEN_TREE_CLONE) and idmaps it (mount_setattr(2), MOUNT_ATTR_IDMAP) with
// m's mappings, or with the user namespace at userns (a /proc/PID/ns/user
// path) when m has none. The result is a detached mount, to be attached
// with move_mount(2): Prepare does so for the mounts in Config.MountFDs.
// The caller needs CAP_SYS_ADMIN over the filesystem (in practice, the
// initial user namespace), which is why a runtime calls this before its
// container enters its own user namespace.
func IDMappedTree(source string, m IDMap, userns string) (*os.File, error) {
	var ns *os.File
	var err error
	switch {
	case len(m.UIDs) > 0 || len(m.GIDs) > 0:
		ns, err = newUserNS(m.UIDs, m.GIDs)
	case userns != "":
		ns, err = os.Open(userns)
	default:
		err = fmt.Errorf("no uidMappings or gidMappings, and no user namespace to take them from")
	}
	if err != nil {
		return nil, fmt.Errorf("idmap %s: %w", source, err)
	}
	defer ns.Close()
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	attrFlags := uint(unix.AT_EMPTY_PATH)
	if m.Submounts {
		flags |= unix.AT_RECURSIVE
	}
	if m.Recursive && m.Submounts {
		attrFlags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, source, flags)
	if err != nil {
		return nil, &os.PathError{Op: "open_tree", Path: source, Err: err}
	}
	tree := os.NewFile(uintptr(fd), source)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns.Fd())}
	if err := unix.MountSetattr(fd, "", attrFlags, &attr); err != nil {
		tree.Close()
		return nil, &MountError{Op: "idmap", Source: source, Target: "(detached)", Data: AttrString(attr.Attr_set, 0),
			Err: os.NewSyscallError("mount_setattr", err)}
	}
	return tree, nil
}

// newUserNS returns a new user namespace with these mappings. Writing
// uid_map takes a process in the namespace; this one never runs a line of
// its own: it is traced (PTRACE_TRACEME) so it stops right after its
// execve, and is killed once the namespace is open. The traced child has
// to be waited for from the thread that started it, hence the lock.
func newUserNS(uids, gids []specs.LinuxIDMapping) (*os.File, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	conv := func(ms []specs.LinuxIDMapping) []syscall.SysProcIDMap {
		out := make([]syscall.SysProcIDMap, 0, len(ms))
		for _, m := range ms {
			out = append(out, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
		}
		return out
	}
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{"userns"},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			UidMappings: conv(uids),
			GidMappings: conv(gids),
			Ptrace:      true,
			Pdeathsig:   unix.SIGKILL,
		},
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start a process for a new user namespace: %w", err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	ns, err := os.Open("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/user")
	if err != nil {
		return nil, err
	}
	return ns, nil
}
