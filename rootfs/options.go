package rootfs

import (
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mountOpts is a parsed OCI mount options list.
type mountOpts struct {
	flags       uintptr // set on the mount
	clear       uintptr // asked to be cleared ("rw", "suid", ...) on a remount
	propagation []uintptr
	data        []string // filesystem-specific, passed through
	// attrSet and attrClr are the recursive options ("rro", "rnosuid")
	// as mount_setattr(2) MOUNT_ATTR_* bits, applied to the whole tree.
	attrSet, attrClr uint64
	idmap            bool // "idmap" or "ridmap": an idmapped bind mount
	ridmap           bool // "ridmap": its submounts are idmapped too
	tmpcopyup        bool // copy what the image has at the destination into the new tmpfs
}

// flagOpts maps the options mount(8) knows to mount(2) flags. clear means
// the option removes the flag.
var flagOpts = map[string]struct {
	clear bool
	flag  uintptr
}{
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"bind":          {false, unix.MS_BIND},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"mand":          {false, unix.MS_MANDLOCK},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"remount":       {false, unix.MS_REMOUNT},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
	"sync":          {false, unix.MS_SYNCHRONOUS},
}

// recursiveOpts are the options mount_setattr(2) applies to a mount and
// every mount below it (AT_RECURSIVE). clear means the option removes the
// attribute. The access-time ones are a mode, not a bit: choosing one
// clears the others (MOUNT_ATTR__ATIME), and "ratime" is the kernel's
// default, relatime.
var recursiveOpts = map[string]struct {
	clear bool
	attr  uint64
}{
	"rro":          {false, unix.MOUNT_ATTR_RDONLY},
	"rrw":          {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":      {false, unix.MOUNT_ATTR_NOSUID},
	"rsuid":        {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev":       {false, unix.MOUNT_ATTR_NODEV},
	"rdev":         {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec":      {false, unix.MOUNT_ATTR_NOEXEC},
	"rexec":        {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":  {false, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":    {true, unix.MOUNT_ATTR_NODIRATIME},
	"rnosymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":   {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rnoatime":     {false, unix.MOUNT_ATTR_NOATIME},
	"rstrictatime": {false, unix.MOUNT_ATTR_STRICTATIME},
	"rrelatime":    {false, unix.MOUNT_ATTR_RELATIME},
	"ratime":       {false, unix.MOUNT_ATTR_RELATIME},
}

// atimeOpts are the recursive options that pick an access-time mode.
var atimeOpts = map[string]bool{"rnoatime": true, "rstrictatime": true, "rrelatime": true, "ratime": true}

var propagationOpts = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"shared":      unix.MS_SHARED,
	"slave":       unix.MS_SLAVE,
	"unbindable":  unix.MS_UNBINDABLE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

func parseOptions(opts []string) mountOpts {
	var o mountOpts
	for _, opt := range opts {
		if f, ok := flagOpts[opt]; ok {
			if f.clear {
				o.flags &^= f.flag
				o.clear |= f.flag
			} else {
				o.flags |= f.flag
				o.clear &^= f.flag
			}
			continue
		}
		if p, ok := propagationOpts[opt]; ok {
			o.propagation = append(o.propagation, p)
			continue
		}
		if r, ok := recursiveOpts[opt]; ok {
			switch {
			case atimeOpts[opt]:
				o.attrSet = o.attrSet&^unix.MOUNT_ATTR__ATIME | r.attr
				o.attrClr |= unix.MOUNT_ATTR__ATIME
			case r.clear:
				o.attrSet &^= r.attr
				o.attrClr |= r.attr
			default:
				o.attrSet |= r.attr
				o.attrClr &^= r.attr
			}
			continue
		}
		switch opt {
		case "idmap":
			o.idmap = true
			continue
		case "ridmap":
			o.idmap, o.ridmap = true, true
			continue
		case "tmpcopyup":
			o.tmpcopyup = true
			continue
		}
		o.data = append(o.data, opt)
	}
	return o
}

func (o mountOpts) dataString() string { return strings.Join(o.data, ",") }

// flagNames spells mount flags the way mount(2) documents them.
var flagNames = []struct {
	flag uintptr
	name string
}{
	{unix.MS_RDONLY, "MS_RDONLY"}, {unix.MS_NOSUID, "MS_NOSUID"}, {unix.MS_NODEV, "MS_NODEV"},
	{unix.MS_NOEXEC, "MS_NOEXEC"}, {unix.MS_SYNCHRONOUS, "MS_SYNCHRONOUS"}, {unix.MS_REMOUNT, "MS_REMOUNT"},
	{unix.MS_MANDLOCK, "MS_MANDLOCK"}, {unix.MS_DIRSYNC, "MS_DIRSYNC"}, {unix.MS_NOATIME, "MS_NOATIME"},
	{unix.MS_NODIRATIME, "MS_NODIRATIME"}, {unix.MS_BIND, "MS_BIND"}, {unix.MS_MOVE, "MS_MOVE"},
	{unix.MS_REC, "MS_REC"}, {unix.MS_SILENT, "MS_SILENT"}, {unix.MS_UNBINDABLE, "MS_UNBINDABLE"},
	{unix.MS_PRIVATE, "MS_PRIVATE"}, {unix.MS_SLAVE, "MS_SLAVE"}, {unix.MS_SHARED, "MS_SHARED"},
	{unix.MS_RELATIME, "MS_RELATIME"}, {unix.MS_STRICTATIME, "MS_STRICTATIME"},
	{unix.MS_NOSYMFOLLOW, "MS_NOSYMFOLLOW"},
}

// FlagString renders mount flags by name: "MS_BIND|MS_REC".
func FlagString(flags uintptr) string {
	var parts []string
	for _, f := range flagNames {
		if flags&f.flag != 0 {
			parts = append(parts, f.name)
			flags &^= f.flag
		}
	}
	if flags != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(flags), 16))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// MountOptions lists every mount option Prepare understands (those it
// passes on to the filesystem as data aside), sorted.
func MountOptions() []string {
	var out []string
	for o := range flagOpts {
		out = append(out, o)
	}
	for o := range propagationOpts {
		out = append(out, o)
	}
	for o := range recursiveOpts {
		out = append(out, o)
	}
	out = append(out, "idmap", "ridmap", "tmpcopyup")
	sort.Strings(out)
	return out
}

var attrNames = []struct {
	attr uint64
	name string
}{
	{unix.MOUNT_ATTR_RDONLY, "MOUNT_ATTR_RDONLY"}, {unix.MOUNT_ATTR_NOSUID, "MOUNT_ATTR_NOSUID"},
	{unix.MOUNT_ATTR_NODEV, "MOUNT_ATTR_NODEV"}, {unix.MOUNT_ATTR_NOEXEC, "MOUNT_ATTR_NOEXEC"},
	{unix.MOUNT_ATTR_NOATIME, "MOUNT_ATTR_NOATIME"}, {unix.MOUNT_ATTR_STRICTATIME, "MOUNT_ATTR_STRICTATIME"},
	{unix.MOUNT_ATTR_NODIRATIME, "MOUNT_ATTR_NODIRATIME"}, {unix.MOUNT_ATTR_IDMAP, "MOUNT_ATTR_IDMAP"},
	{unix.MOUNT_ATTR_NOSYMFOLLOW, "MOUNT_ATTR_NOSYMFOLLOW"},
}

// AttrString renders mount_setattr(2) attributes by name:
// "set MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID, clear MOUNT_ATTR__ATIME".
func AttrString(set, clr uint64) string {
	names := func(a uint64) string {
		var parts []string
		if a&unix.MOUNT_ATTR__ATIME == unix.MOUNT_ATTR__ATIME {
			parts = append(parts, "MOUNT_ATTR__ATIME")
			a &^= unix.MOUNT_ATTR__ATIME
		}
		for _, n := range attrNames {
			if a&n.attr != 0 {
				parts = append(parts, n.name)
				a &^= n.attr
			}
		}
		if a != 0 {
			parts = append(parts, "0x"+strconv.FormatUint(a, 16))
		}
		return strings.Join(parts, "|")
	}
	var out []string
	if set != 0 {
		out = append(out, "set "+names(set))
	}
	if clr != 0 {
		out = append(out, "clear "+names(clr))
	}
	if set&unix.MOUNT_ATTR__ATIME == 0 && clr&unix.MOUNT_ATTR__ATIME != 0 {
		out = append(out, "atime relatime")
	}
	return strings.Join(out, ", ")
}
