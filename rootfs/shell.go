package rootfs

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Shell renders a plan as the shell commands (util-linux's mount,
// mknod, ln, pivot_root) that would do the same by hand, one or more lines
// per step: the teaching view of a container's root filesystem. The
// commands follow paths the way the shell does; Prepare does not (every
// target is resolved inside the rootfs).
func Shell(ops []Op) []string {
	var out []string
	rootfs := "" // targets are inside it until the root switch
	in := func(t string) string { return shq(filepath.Join(rootfs, t)) }
	for _, op := range ops {
		var line string
		switch op.Kind {
		case OpRootPropagation:
			line = "mount --make-" + propName(op.Flags) + " /"
		case OpParentPrivate:
			line = fmt.Sprintf(`mount --make-private "$(findmnt -n -o TARGET --target %s)"`, shq(op.Source))
		case OpBindRootfs:
			rootfs = op.Source
			line = fmt.Sprintf("mount --rbind %s %s", shq(op.Source), shq(op.Source))
			if op.Flags == 0 {
				line = "# no mount namespace of its own: the mounts below are the host's"
			}
		case OpMount:
			line = "mount -t " + shq(op.Type)
			if o := optString(op.Flags, 0, op.Data); o != "" {
				line += " -o " + shq(o)
			}
			line += fmt.Sprintf(" %s %s", shq(op.Source), in(op.Target))
			if op.CopyUp {
				line += "  # tmpcopyup: what the image had there is copied in"
			}
		case OpBind:
			verb := "--bind"
			if op.Flags&unix.MS_REC != 0 {
				verb = "--rbind"
			}
			if op.IDMap != nil {
				verb += " -o " + shq("X-mount.idmap="+idmapString(op.IDMap))
			}
			line = fmt.Sprintf("mount %s %s %s", verb, shq(op.Source), in(op.Target))
		case OpRemount:
			line = fmt.Sprintf("mount -o %s %s", shq(optString(op.Flags|unix.MS_REMOUNT, op.Clear, "")), in(op.Target))
		case OpSetAttr:
			line = fmt.Sprintf("mount -o %s %s  # mount_setattr(2), AT_RECURSIVE", shq("remount,bind,"+attrOpts(op.AttrSet, op.AttrClr)), in(op.Target))
		case OpPropagate:
			line = fmt.Sprintf("mount --make-%s %s", propName(op.Flags), in(op.Target))
		case OpMknod:
			d := op.Device
			perm := 0o666
			if d.FileMode != nil {
				perm = int(d.FileMode.Perm())
			}
			line = fmt.Sprintf("mknod -m %o %s %s %d %d", perm, in(op.Target), d.Type, d.Major, d.Minor)
			if d.Type == "p" {
				line = fmt.Sprintf("mknod -m %o %s p", perm, in(op.Target))
			}
			if d.UID != nil || d.GID != nil {
				line += fmt.Sprintf(" && chown %s:%s %s", idString(d.UID), idString(d.GID), in(op.Target))
			}
		case OpBindDevice:
			line = fmt.Sprintf("touch %s && mount --bind %s %s", in(op.Target), shq(op.Device.Path), in(op.Target))
		case OpSymlink:
			line = fmt.Sprintf("ln -s %s %s", shq(op.Link), in(op.Target))
		case OpHooks:
			line = "# prestart, createRuntime and createContainer hooks run here"
		case OpPivotRoot:
			line = fmt.Sprintf("cd %s && pivot_root . . && mount --make-rslave . && umount -l . && cd /", shq(op.Source))
			rootfs = ""
		case OpChroot:
			line = fmt.Sprintf("cd %s && chroot . /bin/sh", shq(op.Source))
			rootfs = ""
		case OpMoveRoot:
			line = fmt.Sprintf("cd %s && mount --move . / && chroot . /bin/sh  # --no-pivot", shq(op.Source))
			rootfs = ""
		case OpReadonlyPath:
			t := in(op.Target)
			line = fmt.Sprintf("if [ -e %s ]; then mount --rbind %s %s && mount -o remount,bind,ro %s; fi", t, t, t, t)
		case OpMaskPath:
			t := in(op.Target)
			line = fmt.Sprintf("if [ -d %s ]; then mount -t tmpfs -o ro tmpfs %s; elif [ -e %s ]; then mount --bind /dev/null %s; fi", t, t, t, t)
		default:
			line = "# " + op.Kind.String()
		}
		out = append(out, line)
	}
	return out
}

var msOptNames = []struct {
	flag     uintptr
	set, clr string
}{
	{unix.MS_REMOUNT, "remount", ""}, {unix.MS_BIND, "bind", ""},
	{unix.MS_RDONLY, "ro", "rw"}, {unix.MS_NOSUID, "nosuid", "suid"}, {unix.MS_NODEV, "nodev", "dev"},
	{unix.MS_NOEXEC, "noexec", "exec"}, {unix.MS_SYNCHRONOUS, "sync", "async"}, {unix.MS_DIRSYNC, "dirsync", ""},
	{unix.MS_MANDLOCK, "mand", "nomand"}, {unix.MS_NOATIME, "noatime", "atime"}, {unix.MS_NODIRATIME, "nodiratime", "diratime"},
	{unix.MS_RELATIME, "relatime", "norelatime"}, {unix.MS_STRICTATIME, "strictatime", "nostrictatime"},
	{unix.MS_NOSYMFOLLOW, "nosymfollow", "symfollow"},
}

// optString spells mount flags as mount(8) options, then data.
func optString(flags, clear uintptr, data string) string {
	var parts []string
	for _, n := range msOptNames {
		if flags&n.flag != 0 {
			parts = append(parts, n.set)
		} else if clear&n.flag != 0 && n.clr != "" {
			parts = append(parts, n.clr)
		}
	}
	if data != "" {
		parts = append(parts, data)
	}
	return strings.Join(parts, ",")
}

// attrOpts spells mount_setattr(2) attributes as util-linux's (2.39+)
// recursive mount options.
func attrOpts(set, clr uint64) string {
	var parts []string
	for _, n := range []struct {
		attr     uint64
		set, clr string
	}{
		{unix.MOUNT_ATTR_RDONLY, "ro", "rw"}, {unix.MOUNT_ATTR_NOSUID, "nosuid", "suid"},
		{unix.MOUNT_ATTR_NODEV, "nodev", "dev"}, {unix.MOUNT_ATTR_NOEXEC, "noexec", "exec"},
		{unix.MOUNT_ATTR_NODIRATIME, "nodiratime", "diratime"}, {unix.MOUNT_ATTR_NOSYMFOLLOW, "nosymfollow", "symfollow"},
	} {
		if set&n.attr != 0 {
			parts = append(parts, n.set+"=recursive")
		} else if clr&n.attr != 0 {
			parts = append(parts, n.clr+"=recursive")
		}
	}
	if clr&unix.MOUNT_ATTR__ATIME == unix.MOUNT_ATTR__ATIME {
		switch set & unix.MOUNT_ATTR__ATIME {
		case unix.MOUNT_ATTR_NOATIME:
			parts = append(parts, "noatime=recursive")
		case unix.MOUNT_ATTR_STRICTATIME:
			parts = append(parts, "strictatime=recursive")
		default:
			parts = append(parts, "relatime=recursive")
		}
	}
	return strings.Join(parts, ",")
}

func propName(flags uintptr) string {
	name := "private"
	switch {
	case flags&unix.MS_SHARED != 0:
		name = "shared"
	case flags&unix.MS_SLAVE != 0:
		name = "slave"
	case flags&unix.MS_UNBINDABLE != 0:
		name = "unbindable"
	}
	if flags&unix.MS_REC != 0 {
		name = "r" + name
	}
	return name
}

func idmapString(m *IDMap) string {
	if len(m.UIDs)+len(m.GIDs) == 0 {
		return "/proc/$CONTAINER_PID/ns/user"
	}
	var parts []string
	for _, u := range m.UIDs {
		parts = append(parts, fmt.Sprintf("u:%d:%d:%d", u.ContainerID, u.HostID, u.Size))
	}
	for _, g := range m.GIDs {
		parts = append(parts, fmt.Sprintf("g:%d:%d:%d", g.ContainerID, g.HostID, g.Size))
	}
	return strings.Join(parts, " ")
}

func idString(id *uint32) string {
	if id == nil {
		return ""
	}
	return fmt.Sprint(*id)
}

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string { return shq(s) }

func shq(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
