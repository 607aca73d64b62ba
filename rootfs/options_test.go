package rootfs

import (
	"errors"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		opts  []string
		flags uintptr
		clear uintptr
		prop  []uintptr
		data  string
	}{
		{nil, 0, 0, nil, ""},
		{[]string{"nosuid", "noexec", "nodev", "ro"}, unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RDONLY, 0, nil, ""},
		{[]string{"ro", "rw"}, 0, unix.MS_RDONLY, nil, ""},
		{[]string{"rw", "ro"}, unix.MS_RDONLY, 0, nil, ""},
		{[]string{"rbind", "rprivate"}, unix.MS_BIND | unix.MS_REC, 0, []uintptr{unix.MS_PRIVATE | unix.MS_REC}, ""},
		{[]string{"nosuid", "strictatime", "mode=755", "size=65536k"}, unix.MS_NOSUID | unix.MS_STRICTATIME, 0, nil, "mode=755,size=65536k"},
		{[]string{"newinstance", "ptmxmode=0666", "gid=5"}, 0, 0, nil, "newinstance,ptmxmode=0666,gid=5"},
		{[]string{"bind", "shared", "slave"}, unix.MS_BIND, 0, []uintptr{unix.MS_SHARED, unix.MS_SLAVE}, ""},
		{[]string{"suid", "dev", "exec", "atime"}, 0, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME, nil, ""},
		{[]string{"nosymfollow", "sync", "dirsync", "mand", "nodiratime"}, unix.MS_NOSYMFOLLOW | unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_MANDLOCK | unix.MS_NODIRATIME, 0, nil, ""},
		{[]string{"symfollow", "async", "nomand", "diratime", "norelatime", "nostrictatime"}, 0,
			unix.MS_NOSYMFOLLOW | unix.MS_SYNCHRONOUS | unix.MS_MANDLOCK | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME, nil, ""},
		{[]string{"remount", "noatime", "relatime", "strictatime", "defaults"}, unix.MS_REMOUNT | unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME, 0, nil, ""},
		{[]string{"private", "rshared", "runbindable", "unbindable", "rprivate"}, 0, 0,
			[]uintptr{unix.MS_PRIVATE, unix.MS_SHARED | unix.MS_REC, unix.MS_UNBINDABLE | unix.MS_REC, unix.MS_UNBINDABLE, unix.MS_PRIVATE | unix.MS_REC}, ""},
	}
	for _, tc := range tests {
		o := parseOptions(tc.opts)
		if o.flags != tc.flags || o.clear != tc.clear || !reflect.DeepEqual(o.propagation, tc.prop) || o.dataString() != tc.data {
			t.Errorf("parseOptions(%q) = flags %s clear %s prop %v data %q", tc.opts,
				FlagString(o.flags), FlagString(o.clear), o.propagation, o.dataString())
		}
	}
}

func TestParseRecursiveOptions(t *testing.T) {
	tests := []struct {
		opts     []string
		set, clr uint64
	}{
		{[]string{"rro", "rnosuid", "rnodev", "rnoexec"}, unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC, 0},
		{[]string{"rrw", "rsuid", "rdev", "rexec"}, 0, unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC},
		{[]string{"rro", "rrw"}, 0, unix.MOUNT_ATTR_RDONLY},
		{[]string{"rrw", "rro"}, unix.MOUNT_ATTR_RDONLY, 0},
		{[]string{"rnodiratime", "rnosymfollow"}, unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW, 0},
		{[]string{"rdiratime", "rsymfollow"}, 0, unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW},
		// Access time is a mode: the last one wins, and the mask is cleared.
		{[]string{"rnoatime"}, unix.MOUNT_ATTR_NOATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rnoatime", "rstrictatime"}, unix.MOUNT_ATTR_STRICTATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rstrictatime", "rrelatime"}, unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rnoatime", "ratime"}, unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME},
	}
	for _, tc := range tests {
		o := parseOptions(tc.opts)
		if o.attrSet != tc.set || o.attrClr != tc.clr || o.flags != 0 || len(o.data) != 0 {
			t.Errorf("parseOptions(%q) = %s; flags %s data %q; want %s", tc.opts, AttrString(o.attrSet, o.attrClr),
				FlagString(o.flags), o.data, AttrString(tc.set, tc.clr))
		}
	}
	o := parseOptions([]string{"ridmap", "tmpcopyup"})
	if !o.idmap || !o.ridmap || !o.tmpcopyup || len(o.data) != 0 {
		t.Errorf("ridmap, tmpcopyup: %+v", o)
	}
	if o := parseOptions([]string{"idmap"}); !o.idmap || o.ridmap {
		t.Errorf("idmap: %+v", o)
	}
}

func TestAttrString(t *testing.T) {
	for _, tc := range []struct {
		set, clr uint64
		want     string
	}{
		{unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID, 0, "set MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID"},
		{unix.MOUNT_ATTR_NOATIME, unix.MOUNT_ATTR__ATIME | unix.MOUNT_ATTR_NODEV, "set MOUNT_ATTR_NOATIME, clear MOUNT_ATTR__ATIME|MOUNT_ATTR_NODEV"},
		{0, unix.MOUNT_ATTR__ATIME, "clear MOUNT_ATTR__ATIME, atime relatime"},
		{unix.MOUNT_ATTR_IDMAP, 0, "set MOUNT_ATTR_IDMAP"},
	} {
		if got := AttrString(tc.set, tc.clr); got != tc.want {
			t.Errorf("AttrString(%#x, %#x) = %q, want %q", tc.set, tc.clr, got, tc.want)
		}
	}
}

func TestFlagString(t *testing.T) {
	for flags, want := range map[uintptr]string{
		0:                               "0",
		unix.MS_BIND | unix.MS_REC:      "MS_BIND|MS_REC",
		unix.MS_RDONLY | unix.MS_NOSUID: "MS_RDONLY|MS_NOSUID",
		unix.MS_NOSUID | 1<<30:          "MS_NOSUID|0x40000000",
	} {
		if got := FlagString(flags); got != want {
			t.Errorf("FlagString(%#x) = %q, want %q", flags, got, want)
		}
	}
}

func TestMountErrorText(t *testing.T) {
	err := &MountError{Op: "mount", Source: "proc", Target: "/rootfs/proc", Type: "proc",
		Flags: unix.MS_NOSUID | unix.MS_NODEV, Err: unix.EPERM}
	want := "mount proc on /rootfs/proc (type proc, flags MS_NOSUID|MS_NODEV): operation not permitted"
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err.Error(), want)
	}
	if !errors.Is(err, unix.EPERM) {
		t.Error("MountError does not unwrap to its cause")
	}
}

func TestStatfsToMount(t *testing.T) {
	for st, want := range map[uint64]uintptr{
		unix.ST_NOSUID | unix.ST_NODEV | unix.ST_RELATIME: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_RELATIME,
		unix.ST_NOEXEC | unix.ST_NOATIME:                  unix.MS_NOEXEC | unix.MS_NOATIME,
		unix.ST_RDONLY:                                    unix.MS_RDONLY | unix.MS_STRICTATIME,
	} {
		if got := statfsToMount(st); got != want {
			t.Errorf("statfsToMount(%#x) = %s, want %s", st, FlagString(got), FlagString(want))
		}
	}
}
