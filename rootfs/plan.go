package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Plan turns a config into the ordered steps Prepare and Finish perform.
// It is pure: it reads nothing but c, so it can be tested without
// privileges and printed (Shell) to show what a container start does.
// Ops up to the root switch (OpPivotRoot or OpMoveRoot) are Prepare's, the
// rest Finish's.
func Plan(c Config) ([]Op, error) {
	if c.Spec == nil || c.Spec.Root == nil {
		return nil, errors.New("plan rootfs: config has no root")
	}
	if !filepath.IsAbs(c.Rootfs) {
		return nil, fmt.Errorf("plan rootfs: rootfs %q is not an absolute path", c.Rootfs)
	}
	s := c.Spec
	var ops []Op
	add := func(o Op) {
		o.Mount = -1
		ops = append(ops, o)
	}
	// Without a mount namespace of its own the container shares the
	// host's: no propagation change, no bind of the rootfs, no pivot —
	// its mounts go on the rootfs where it is, and a chroot(2) switches
	// the root (as runc does; the runtime unmounts them at delete).
	ownNS := hasNamespace(s, specs.MountNamespace)
	if !ownNS && s.Root.Readonly {
		return nil, errors.New("plan rootfs: root.readonly needs a mount namespace of the container's own")
	}
	// Stop mount events flowing back to the host: every mount below would
	// otherwise propagate into the host's namespace wherever "/" is shared.
	prop := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if s.Linux != nil && s.Linux.RootfsPropagation != "" {
		p, ok := propagationOpts[s.Linux.RootfsPropagation]
		if !ok {
			return nil, fmt.Errorf("plan rootfs: unknown rootfsPropagation %q", s.Linux.RootfsPropagation)
		}
		prop = p
	}
	if !ownNS {
		add(Op{Kind: OpBindRootfs, Source: c.Rootfs, Target: "/"}) // opened, not bound
	} else {
		add(Op{Kind: OpRootPropagation, Target: "/", Flags: prop})
	}
	if ownNS && prop != unix.MS_SLAVE|unix.MS_REC && prop != unix.MS_PRIVATE|unix.MS_REC {
		// Unless every mount is now a slave or private, the mount holding
		// the rootfs may still be shared (a systemd host's are): the
		// rootfs bind and every mount under it would propagate to the
		// host, and pivot_root refuses a shared parent. An unbindable one
		// could not be bound at all. It goes private, as runc does.
		add(Op{Kind: OpParentPrivate, Source: c.Rootfs})
	}
	if ownNS {
		add(Op{Kind: OpBindRootfs, Source: c.Rootfs, Target: "/", Flags: unix.MS_BIND | unix.MS_REC})
	}

	devMounted := false
	for i, m := range s.Mounts {
		mops, err := planMount(c, i, m)
		if err != nil {
			return nil, fmt.Errorf("plan rootfs: mount %d (%s on %s): %w", i, m.Type, m.Destination, err)
		}
		for _, o := range mops {
			o.Mount = i
			ops = append(ops, o)
		}
		if filepath.Clean("/"+m.Destination) == "/dev" && len(mops) > 0 && mops[0].Kind == OpMount {
			devMounted = true
		}
	}
	if devMounted {
		for _, o := range planDev(s) {
			add(o)
		}
	}
	if c.BeforePivot != nil {
		add(Op{Kind: OpHooks})
	}
	switch {
	case !ownNS:
		add(Op{Kind: OpChroot, Source: c.Rootfs, Target: "/"})
	case c.NoPivot:
		add(Op{Kind: OpMoveRoot, Source: c.Rootfs, Target: "/"})
	default:
		add(Op{Kind: OpPivotRoot, Source: c.Rootfs, Target: "/"})
	}
	if ownNS && s.Linux != nil && s.Linux.RootfsPropagation != "" {
		// The config's propagation is the container root's (the spec: "the
		// rootfs mount belongs to a new peer group", ...): the new "/" is
		// another mount than the host's "/" it was first applied to. Only
		// that mount: those below keep their own options.
		add(Op{Kind: OpRootPropagation, Target: "/", Flags: prop &^ unix.MS_REC})
	}
	if s.Linux != nil {
		for _, p := range s.Linux.ReadonlyPaths {
			add(Op{Kind: OpReadonlyPath, Target: filepath.Clean("/" + p)})
		}
		for _, p := range s.Linux.MaskedPaths {
			add(Op{Kind: OpMaskPath, Target: filepath.Clean("/" + p)})
		}
	}
	if s.Root.Readonly {
		add(Op{Kind: OpRemount, Target: "/", Flags: unix.MS_BIND | unix.MS_RDONLY})
	}
	return ops, nil
}

// planMount plans one entry of the config's mounts list.
func planMount(c Config, i int, m specs.Mount) ([]Op, error) {
	dest := filepath.Clean("/" + m.Destination) // spec 1.2: relative means from "/"
	o := parseOptions(m.Options)
	bind := m.Type == "bind" || o.flags&unix.MS_BIND != 0
	if (len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0) && !o.idmap {
		return nil, errors.New("uidMappings and gidMappings need the idmap or ridmap option")
	}
	if o.idmap && !bind {
		return nil, errors.New("idmap and ridmap need a bind mount")
	}
	if o.tmpcopyup && m.Type != "tmpfs" {
		return nil, errors.New("tmpcopyup needs a tmpfs")
	}
	var ops []Op
	tail := func(target string, o mountOpts) {
		if o.attrSet|o.attrClr != 0 {
			ops = append(ops, Op{Kind: OpSetAttr, Target: target, AttrSet: o.attrSet, AttrClr: o.attrClr})
		}
		for _, p := range o.propagation {
			ops = append(ops, Op{Kind: OpPropagate, Target: target, Flags: p})
		}
	}
	switch {
	case bind:
		source := m.Source
		if !filepath.IsAbs(source) {
			source = filepath.Join(c.Bundle, source)
		}
		op := Op{Kind: OpBind, Source: source, Target: dest, Flags: unix.MS_BIND | o.flags&unix.MS_REC}
		if o.idmap {
			op.IDMap = &IDMap{UIDs: m.UIDMappings, GIDs: m.GIDMappings, Recursive: o.ridmap, Submounts: o.flags&unix.MS_REC != 0}
		}
		ops = append(ops, op)
		// A bind ignores every other flag: setting or clearing one takes
		// a remount.
		if extra := o.flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT); extra != 0 || o.clear != 0 {
			ops = append(ops, Op{Kind: OpRemount, Target: dest, Flags: extra | unix.MS_BIND, Clear: o.clear})
		}
		tail(dest, o)
	case m.Type == "cgroup" || m.Type == "cgroup2":
		ops = planCgroups(c, dest, o)
	case m.Type == "sysfs" && !hasNamespace(c.Spec, specs.NetworkNamespace):
		// sysfs can only be mounted by the owner of the network namespace
		// it shows: sharing the host's, the container sees the host's
		// /sys, with the config's flags on every mount below it too.
		ops = append(ops, Op{Kind: OpBind, Source: "/sys", Target: dest, Flags: unix.MS_BIND | unix.MS_REC})
		o.attrSet |= flagsToAttr(o.flags)
		tail(dest, o)
	default:
		ops = append(ops, Op{Kind: OpMount, Source: m.Source, Target: dest, Type: m.Type, Flags: o.flags,
			Data: o.dataString(), CopyUp: o.tmpcopyup, FallbackBind: m.Type == "sysfs"})
		tail(dest, o)
	}
	return ops, nil
}

// planCgroups plans what a "cgroup" entry shows, read-only unless the
// config says "rw". With a cgroup namespace the kernel roots each new
// cgroupfs mount at the namespace's cgroup, so fresh mounts show the
// container its own cgroup as "/"; without one, its cgroup directories are
// bind-mounted instead, never the host's whole tree. On v1 and hybrid
// hosts a tmpfs at dest holds one mount per hierarchy, plus symlinks for
// each controller of a combined one (cpu -> cpu,cpuacct). Without
// Config.Cgroups, a cgroup2 mount (a pure v2 host's) is planned.
func planCgroups(c Config, dest string, o mountOpts) []Op {
	cgroupns := hasNamespace(c.Spec, specs.CgroupNamespace)
	flags := o.flags &^ (unix.MS_BIND | unix.MS_REC)
	if o.clear&unix.MS_RDONLY == 0 {
		flags |= unix.MS_RDONLY
	}
	var ops []Op
	one := func(h CgroupMount, at string) {
		if cgroupns || h.Source == "" {
			typ, data := "cgroup", h.Options
			if h.Unified {
				typ, data = "cgroup2", ""
			}
			ops = append(ops, Op{Kind: OpMount, Source: "cgroup", Target: at, Type: typ, Flags: flags, Data: data})
		} else {
			ops = append(ops, Op{Kind: OpBind, Source: h.Source, Target: at, Flags: unix.MS_BIND},
				Op{Kind: OpRemount, Target: at, Flags: flags | unix.MS_BIND, Clear: o.clear})
		}
		for _, p := range o.propagation {
			ops = append(ops, Op{Kind: OpPropagate, Target: at, Flags: p})
		}
	}
	cgroups := c.Cgroups
	if len(cgroups) == 0 {
		cgroups = []CgroupMount{{Unified: true}}
	}
	if len(cgroups) == 1 && cgroups[0].Name == "" {
		one(cgroups[0], dest)
		return ops
	}
	ops = append(ops, Op{Kind: OpMount, Source: "tmpfs", Target: dest, Type: "tmpfs",
		Flags: flags &^ unix.MS_RDONLY, Data: "mode=755"}) // read-only once filled
	for _, h := range cgroups {
		one(h, filepath.Join(dest, h.Name))
		if parts := strings.Split(h.Name, ","); len(parts) > 1 {
			for _, p := range parts {
				ops = append(ops, Op{Kind: OpSymlink, Target: filepath.Join(dest, p), Link: h.Name})
			}
		}
	}
	if flags&unix.MS_RDONLY != 0 {
		ops = append(ops, Op{Kind: OpRemount, Target: dest, Flags: flags, Clear: o.clear})
	}
	return ops
}

// planDev plans the default and configured devices and the standard
// symlinks of a new /dev. Inside a user namespace mknod(2) is refused, so
// device nodes are bind-mounted from the host instead.
func planDev(s *specs.Spec) []Op {
	devs := append([]specs.LinuxDevice(nil), DefaultDevices...)
	if s.Linux != nil {
		devs = append(devs, s.Linux.Devices...)
	}
	kind := OpMknod
	if hasNamespace(s, specs.UserNamespace) {
		kind = OpBindDevice
	}
	var ops []Op
	for i := range devs {
		d := devs[i]
		d.Path = filepath.Clean("/" + d.Path)
		ops = append(ops, Op{Kind: kind, Target: d.Path, Device: &d})
	}
	for _, l := range devSymlinks {
		ops = append(ops, Op{Kind: OpSymlink, Target: "/dev/" + l[1], Link: l[0]})
	}
	return ops
}

// flagsToAttr maps the mount(2) flags that have a mount_setattr(2)
// attribute to it.
func flagsToAttr(flags uintptr) uint64 {
	var a uint64
	for _, m := range []struct {
		ms   uintptr
		attr uint64
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY}, {unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV}, {unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW}, {unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
	} {
		if flags&m.ms != 0 {
			a |= m.attr
		}
	}
	return a
}
