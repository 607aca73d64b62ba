package rootfs

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// OpKind is what one step of a plan does.
type OpKind int

const (
	// OpRootPropagation sets the propagation of the host's "/" in the new
	// mount namespace (Flags), so nothing mounted below reaches the host.
	OpRootPropagation OpKind = iota
	// OpParentPrivate makes the mount holding Source (the rootfs) private;
	// planned for shared rootfsPropagation only (it reads mountinfo).
	OpParentPrivate
	// OpBindRootfs binds the rootfs (Source) onto itself: pivot_root(2)
	// needs a mount point.
	OpBindRootfs
	// OpMount mounts a filesystem (Type, Source, Flags, Data) at Target.
	OpMount
	// OpBind binds the host path Source onto Target, made as a directory
	// or a file to match Source (Flags: MS_BIND, and MS_REC for rbind).
	// With IDMap it is an idmapped mount instead.
	OpBind
	// OpRemount changes the flags of the mount at Target: Flags are set,
	// Clear cleared, the others kept as they are.
	OpRemount
	// OpSetAttr applies mount_setattr(2) attributes (AttrSet, AttrClr) to
	// the mount at Target and every mount below it.
	OpSetAttr
	// OpPropagate sets the propagation (Flags) of the mount at Target.
	OpPropagate
	// OpMknod makes the device node Device.
	OpMknod
	// OpBindDevice binds the host's node of Device onto its path: inside
	// a user namespace mknod(2) is refused.
	OpBindDevice
	// OpSymlink makes Target a symlink to Link (when nothing is there).
	OpSymlink
	// OpHooks is the moment Config.BeforePivot runs: everything mounted,
	// the root not yet switched.
	OpHooks
	// OpPivotRoot switches the root to Source with pivot_root(2) and
	// detaches the old one.
	OpPivotRoot
	// OpMoveRoot switches the root to Source with MS_MOVE and chroot(2)
	// (--no-pivot).
	OpMoveRoot
	// OpChroot switches the root to Source with chroot(2) alone: the
	// container shares the host's mount namespace (its config lists
	// none), where no mount may be moved or pivoted.
	OpChroot
	// OpReadonlyPath binds Target onto itself read-only.
	OpReadonlyPath
	// OpMaskPath hides Target: /dev/null over a file, an empty read-only
	// tmpfs over a directory.
	OpMaskPath
)

var opNames = [...]string{
	OpRootPropagation: "root-propagation", OpParentPrivate: "parent-private", OpBindRootfs: "bind-rootfs",
	OpMount: "mount", OpBind: "bind", OpRemount: "remount", OpSetAttr: "setattr", OpPropagate: "propagate",
	OpMknod: "mknod", OpBindDevice: "bind-device", OpSymlink: "symlink", OpHooks: "hooks",
	OpPivotRoot: "pivot-root", OpMoveRoot: "move-root", OpChroot: "chroot", OpReadonlyPath: "readonly-path", OpMaskPath: "mask-path",
}

func (k OpKind) String() string {
	if k >= 0 && int(k) < len(opNames) {
		return opNames[k]
	}
	return "op(?)"
}

// Op is one step of building a root filesystem. Target is a path inside
// the container's root ("/proc"); before the root switch it is resolved
// inside the rootfs, after it inside the new "/". Which other fields count
// depends on Kind.
type Op struct {
	Kind   OpKind
	Source string
	Target string
	Type   string
	Flags  uintptr
	Clear  uintptr
	Data   string
	// AttrSet and AttrClr are MOUNT_ATTR_* bits for OpSetAttr.
	AttrSet, AttrClr uint64
	// CopyUp (OpMount of a tmpfs) copies what the image has at Target
	// into the new mount: the "tmpcopyup" option.
	CopyUp bool
	// FallbackBind (OpMount of sysfs) binds the host's /sys when the
	// kernel refuses a new sysfs (a network namespace owned by another
	// user namespace).
	FallbackBind bool
	// IDMap makes an OpBind an idmapped mount.
	IDMap *IDMap
	// Device is the node of OpMknod and OpBindDevice.
	Device *specs.LinuxDevice
	// Link is the content of OpSymlink's link.
	Link string
	// Mount is the index in the config's mounts list the op comes from,
	// -1 for the others.
	Mount int
}

// IDMap describes an idmapped bind mount (the "idmap" and "ridmap"
// options): file owners seen through it are shifted by these mappings.
// Empty mappings mean the container's user namespace's.
type IDMap struct {
	UIDs, GIDs []specs.LinuxIDMapping
	// Submounts ("rbind") brings the source's submounts along.
	Submounts bool
	// Recursive ("ridmap") idmaps the submounts too; with "idmap" they
	// come unmapped.
	Recursive bool
}
