package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// runner performs a plan's steps. root is the directory every Target is
// resolved in: the rootfs before the root switch, "/" after it.
type runner struct {
	c    Config
	root *os.File
}

func (r *runner) close() {
	if r.root != nil {
		r.root.Close()
	}
}

func (r *runner) do(op Op) error {
	if r.root == nil && op.Kind != OpRootPropagation && op.Kind != OpParentPrivate && op.Kind != OpBindRootfs {
		return errors.New(op.Kind.String() + " " + op.Target + ": the rootfs is not bound yet")
	}
	switch op.Kind {
	case OpRootPropagation:
		if err := unix.Mount("", "/", "", op.Flags, ""); err != nil {
			return &MountError{Op: "propagate", Target: "/", Flags: op.Flags, Err: err}
		}
	case OpParentPrivate:
		return parentPrivate(op.Source)
	case OpBindRootfs:
		if op.Flags != 0 {
			if err := unix.Mount(op.Source, op.Source, "", op.Flags, ""); err != nil {
				return &MountError{Op: "bind", Source: op.Source, Target: op.Source, Flags: op.Flags, Err: err}
			}
		}
		root, err := os.OpenFile(op.Source, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		r.root = root
	case OpMount:
		return r.mount(op)
	case OpBind:
		return r.bind(op)
	case OpRemount:
		return remount(r.root, op.Target, op.Flags, op.Clear)
	case OpSetAttr:
		return setAttr(r.root, op.Target, op.AttrSet, op.AttrClr)
	case OpPropagate:
		return propagate(r.root, op.Target, op.Flags)
	case OpMknod:
		return mknodDevice(r.root, *op.Device)
	case OpBindDevice:
		return bindDevice(r.root, *op.Device)
	case OpSymlink:
		return symlinkIn(r.root, op.Target, op.Link)
	case OpHooks:
		if r.c.BeforePivot != nil {
			return r.c.BeforePivot()
		}
	case OpPivotRoot:
		return PivotRoot(op.Source)
	case OpMoveRoot:
		return moveRoot(op.Source)
	case OpChroot:
		return chrootRoot(op.Source)
	case OpReadonlyPath:
		return readonlyPath(r.root, op.Target)
	case OpMaskPath:
		return maskPath(r.root, op.Target)
	default:
		return errors.New("unknown rootfs step " + op.Kind.String())
	}
	return nil
}

// mount mounts a filesystem at op.Target, made inside the root.
func (r *runner) mount(op Op) error {
	if op.Type == "proc" || op.Type == "sysfs" {
		if err := noSymlinks(r.root, op); err != nil {
			return err
		}
	}
	// A tmpfs over a directory the image has takes that directory's mode;
	// over one made here, the tmpfs default (1777), as runc.
	existed := false
	if op.Type == "tmpfs" {
		if f, err := openIn(r.root, op.Target, unix.O_PATH|unix.O_DIRECTORY); err == nil {
			existed = true
			f.Close()
		}
	}
	target, err := mkdirIn(r.root, op.Target, 0o755)
	if err != nil {
		return err
	}
	defer target.Close()
	flags := op.Flags
	var below *os.File
	if op.CopyUp {
		// The image's directory, opened before the tmpfs hides it.
		if below, err = openIn(r.root, op.Target, unix.O_RDONLY|unix.O_DIRECTORY); err != nil {
			return err
		}
		defer below.Close()
		flags &^= unix.MS_RDONLY // filled first, read-only after
	}
	data := op.Data
	if existed {
		// A tmpfs root is 1777 unless told otherwise: over an image's
		// directory it takes that directory's mode (a world-writable /etc
		// would be an escalation); a mode= in the config's data, later,
		// wins.
		var st unix.Stat_t
		if err := unix.Fstat(int(target.Fd()), &st); err != nil {
			return &os.PathError{Op: "stat", Path: target.Name(), Err: err}
		}
		data = strings.TrimSuffix(fmt.Sprintf("mode=%04o,%s", st.Mode&0o7777, data), ",")
	}
	err = unix.Mount(op.Source, procPath(target), op.Type, flags, data)
	if errors.Is(err, unix.EPERM) && op.FallbackBind {
		// sysfs can only be mounted by the owner of the network namespace:
		// show the host's instead.
		if err := r.bind(Op{Source: "/sys", Target: op.Target, Flags: unix.MS_BIND | unix.MS_REC}); err != nil {
			return err
		}
		return setAttr(r.root, op.Target, flagsToAttr(op.Flags), 0)
	}
	if err != nil {
		return &MountError{Op: "mount", Source: op.Source, Target: target.Name(), Type: op.Type, Flags: flags, Data: data, Err: err}
	}
	if below == nil {
		return nil
	}
	top, err := openIn(r.root, op.Target, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer top.Close()
	if err := copyTree(below, top); err != nil {
		return err
	}
	if op.Flags&unix.MS_RDONLY != 0 {
		return remount(r.root, op.Target, unix.MS_RDONLY, 0)
	}
	return nil
}

// noSymlinks refuses a proc or sysfs destination reached through a
// symlink in the image: it would still land inside the rootfs, but
// elsewhere than where masked and read-only paths (and the program) look
// for it (runc refuses it too, CVE-2019-19921).
func noSymlinks(root *os.File, op Op) error {
	rel := strings.TrimPrefix(op.Target, "/")
	fd, err := openat2(int(root.Fd()), rel, &unix.OpenHow{
		Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS})
	if err == nil {
		unix.Close(fd)
		return nil
	}
	if errors.Is(err, unix.ELOOP) {
		return fmt.Errorf("mount %s on %s: the destination is a symlink in the rootfs; %s goes on a real directory only",
			op.Type, filepath.Join(root.Name(), op.Target), op.Type)
	}
	return nil // missing: made below, as a directory
}

// bind binds the host path op.Source onto op.Target, creating the target
// as a directory or an empty file to match the source. An idmapped bind
// moves in a detached tree (Config.MountFDs, or one made here).
func (r *runner) bind(op Op) error {
	st, err := os.Stat(op.Source)
	if err != nil {
		return err
	}
	var target *os.File
	if st.IsDir() {
		target, err = mkdirIn(r.root, op.Target, 0o755)
	} else {
		target, err = createFileIn(r.root, op.Target, 0o644)
	}
	if err != nil {
		return err
	}
	defer target.Close()
	if op.IDMap == nil {
		if err := unix.Mount(op.Source, procPath(target), "", op.Flags, ""); err != nil {
			return &MountError{Op: "bind", Source: op.Source, Target: target.Name(), Flags: op.Flags, Err: err}
		}
		return nil
	}
	tree := r.c.MountFDs[op.Mount]
	if tree == nil {
		if tree, err = IDMappedTree(op.Source, *op.IDMap, ""); err != nil {
			return err
		}
		defer tree.Close()
	}
	if err := unix.MoveMount(int(tree.Fd()), "", int(target.Fd()), "",
		unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return &MountError{Op: "move idmapped mount", Source: op.Source, Target: target.Name(), Err: os.NewSyscallError("move_mount", err)}
	}
	return nil
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
	err = unix.Mount("", procPath(t), "", flags|keep&^clear|unix.MS_REMOUNT, "")
	if errors.Is(err, unix.EPERM) && keep&clear != 0 {
		// Inside a user namespace the flags a bind inherits from a more
		// privileged mount are locked: asking to clear one ("rw" on a
		// read-only source) is refused. The bind keeps them, as with runc.
		err = unix.Mount("", procPath(t), "", flags|keep|unix.MS_REMOUNT, "")
	}
	if err != nil {
		return &MountError{Op: "remount", Target: t.Name(), Flags: flags | keep&^clear | unix.MS_REMOUNT, Err: err}
	}
	return nil
}

// setAttr applies mount_setattr(2) attributes to the mount at dest and
// every mount below it.
func setAttr(root *os.File, dest string, set, clr uint64) error {
	t, err := openIn(root, dest, unix.O_PATH)
	if err != nil {
		return err
	}
	defer t.Close()
	attr := unix.MountAttr{Attr_set: set, Attr_clr: clr}
	if err := unix.MountSetattr(int(t.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return &MountError{Op: "setattr", Target: t.Name(), Data: AttrString(set, clr), Err: os.NewSyscallError("mount_setattr", err)}
	}
	return nil
}

func propagate(root *os.File, dest string, flags uintptr) error {
	t, err := openIn(root, dest, unix.O_PATH)
	if err != nil {
		return err
	}
	defer t.Close()
	if err := unix.Mount("", procPath(t), "", flags, ""); err != nil {
		return &MountError{Op: "propagate", Target: t.Name(), Flags: flags, Err: err}
	}
	return nil
}

// symlinkIn makes path, inside root, a symlink to link unless something
// is there already.
func symlinkIn(root *os.File, path, link string) error {
	dir, err := mkdirIn(root, filepath.Dir(path), 0o755)
	if err != nil {
		return err
	}
	defer dir.Close()
	name := filepath.Base(path)
	if err := unix.Symlinkat(link, int(dir.Fd()), name); err != nil && !errors.Is(err, unix.EEXIST) {
		return &os.PathError{Op: "symlink", Path: filepath.Join(dir.Name(), name), Err: err}
	}
	return nil
}
