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
	}
	for _, tc := range tests {
		o := parseOptions(tc.opts)
		if o.flags != tc.flags || o.clear != tc.clear || !reflect.DeepEqual(o.propagation, tc.prop) || o.dataString() != tc.data {
			t.Errorf("parseOptions(%q) = flags %s clear %s prop %v data %q", tc.opts,
				FlagString(o.flags), FlagString(o.clear), o.propagation, o.dataString())
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
		unix.ST_RDONLY:                                    unix.MS_STRICTATIME,
	} {
		if got := statfsToMount(st); got != want {
			t.Errorf("statfsToMount(%#x) = %s, want %s", st, FlagString(got), FlagString(want))
		}
	}
}
