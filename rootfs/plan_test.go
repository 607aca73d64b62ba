package rootfs

import (
	"os"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func u32(v uint32) *uint32 { return &v }

// mountLines plans a config with these mounts and renders the steps the
// mounts list produced, as shell lines.
func mountLines(t *testing.T, c Config) []string {
	t.Helper()
	ops, err := Plan(c)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	var mine []Op
	for _, op := range ops {
		if op.Mount >= 0 {
			mine = append(mine, op)
		}
	}
	return Shell(append([]Op{{Kind: OpBindRootfs, Source: c.Rootfs}}, mine...))[1:]
}

func baseSpec(mounts ...specs.Mount) *specs.Spec {
	return &specs.Spec{Root: &specs.Root{Path: "rootfs"}, Mounts: mounts,
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}}}}
}

func TestPlanMounts(t *testing.T) {
	netns := []specs.LinuxNamespace{{Type: specs.NetworkNamespace}}
	tests := []struct {
		name    string
		m       specs.Mount
		ns      []specs.LinuxNamespace
		cgroups []CgroupMount
		want    []string
	}{
		{"proc", specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}}, nil, nil,
			[]string{"mount -t proc -o nosuid,nodev,noexec proc /r/proc"}},
		{"relative destination", specs.Mount{Destination: "run/x", Type: "tmpfs", Source: "tmpfs"}, nil, nil,
			[]string{"mount -t tmpfs tmpfs /r/run/x"}},
		{"tmpfs data and flags", specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}}, nil, nil,
			nil}, // checked in TestPlanDev
		{"devpts", specs.Mount{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}, nil, nil,
			[]string{"mount -t devpts -o nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /r/dev/pts"}},
		{"every flag", specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"ro", "nosuid", "nodev", "noexec", "sync", "dirsync", "mand", "noatime", "nodiratime", "nosymfollow"}}, nil, nil,
			[]string{"mount -t tmpfs -o ro,nosuid,nodev,noexec,sync,dirsync,mand,noatime,nodiratime,nosymfollow tmpfs /r/t"}},
		{"tmpcopyup", specs.Mount{Destination: "/etc", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "mode=755"}}, nil, nil,
			[]string{"mount -t tmpfs -o mode=755 tmpfs /r/etc  # tmpcopyup: what the image had there is copied in"}},
		{"bind ro", specs.Mount{Destination: "/data", Type: "bind", Source: "/srv/data", Options: []string{"rbind", "ro", "nosuid"}}, nil, nil,
			[]string{"mount --rbind /srv/data /r/data", "mount -o remount,bind,ro,nosuid /r/data"}},
		{"bind relative source, rw", specs.Mount{Destination: "/cfg", Type: "none", Source: "cfg.txt", Options: []string{"bind", "rw"}}, nil, nil,
			[]string{"mount --bind /b/cfg.txt /r/cfg", "mount -o remount,bind,rw /r/cfg"}},
		{"bind propagation", specs.Mount{Destination: "/vol", Type: "bind", Source: "/vol", Options: []string{"rbind", "rshared", "unbindable"}}, nil, nil,
			[]string{"mount --rbind /vol /r/vol", "mount --make-rshared /r/vol", "mount --make-unbindable /r/vol"}},
		{"recursive attributes", specs.Mount{Destination: "/vol", Type: "bind", Source: "/vol", Options: []string{"rbind", "rro", "rnosuid", "rnodev", "rnoexec", "rnoatime", "rnosymfollow", "rnodiratime"}}, nil, nil,
			[]string{"mount --rbind /vol /r/vol", "mount -o remount,bind,ro=recursive,nosuid=recursive,nodev=recursive,noexec=recursive,nodiratime=recursive,nosymfollow=recursive,noatime=recursive /r/vol  # mount_setattr(2), AT_RECURSIVE"}},
		{"recursive clears", specs.Mount{Destination: "/vol", Type: "bind", Source: "/vol", Options: []string{"rbind", "rrw", "rsuid", "rdev", "rexec", "rstrictatime", "rsymfollow", "rdiratime"}}, nil, nil,
			[]string{"mount --rbind /vol /r/vol", "mount -o remount,bind,rw=recursive,suid=recursive,dev=recursive,exec=recursive,diratime=recursive,symfollow=recursive,strictatime=recursive /r/vol  # mount_setattr(2), AT_RECURSIVE"}},
		{"idmap", specs.Mount{Destination: "/home", Type: "bind", Source: "/home", Options: []string{"bind", "idmap"},
			UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}, GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}}, nil, nil,
			[]string{"mount --bind -o 'X-mount.idmap=u:0:1000:1 g:0:1000:1' /home /r/home"}},
		{"ridmap from the container", specs.Mount{Destination: "/home", Type: "bind", Source: "/home", Options: []string{"rbind", "ridmap"}}, nil, nil,
			[]string{"mount --rbind -o 'X-mount.idmap=/proc/$CONTAINER_PID/ns/user' /home /r/home"}},
		{"sysfs with its own netns", specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}}, netns, nil,
			[]string{"mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /r/sys"}},
		{"sysfs in the host netns: the host's, read-only throughout", specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}}, nil, nil,
			[]string{"mount --rbind /sys /r/sys", "mount -o remount,bind,ro=recursive,nosuid=recursive,nodev=recursive,noexec=recursive /r/sys  # mount_setattr(2), AT_RECURSIVE"}},
		{"cgroup on pure v2 without Cgroups: read-only by default", specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime"}}, nil, nil,
			[]string{"mount -t cgroup2 -o ro,nosuid,nodev,noexec,relatime cgroup /r/sys/fs/cgroup"}},
		{"cgroup rw asked", specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup2", Source: "cgroup", Options: []string{"rw"}},
			[]specs.LinuxNamespace{{Type: specs.CgroupNamespace}}, []CgroupMount{{Unified: true, Source: "/sys/fs/cgroup/c1"}},
			[]string{"mount -t cgroup2 cgroup /r/sys/fs/cgroup"}},
		{"cgroup v2 without a cgroupns: its own directory bound", specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"}, nil,
			[]CgroupMount{{Unified: true, Source: "/sys/fs/cgroup/c1"}},
			[]string{"mount --bind /sys/fs/cgroup/c1 /r/sys/fs/cgroup", "mount -o remount,bind,ro /r/sys/fs/cgroup"}},
		{"cgroup hybrid with a cgroupns", specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid"}},
			[]specs.LinuxNamespace{{Type: specs.CgroupNamespace}},
			[]CgroupMount{{Name: "cpu,cpuacct", Options: "cpu,cpuacct", Source: "/sys/fs/cgroup/cpu,cpuacct/c1"}, {Name: "unified", Unified: true, Source: "/sys/fs/cgroup/unified/c1"}},
			[]string{
				"mount -t tmpfs -o nosuid,mode=755 tmpfs /r/sys/fs/cgroup",
				"mount -t cgroup -o ro,nosuid,cpu,cpuacct cgroup /r/sys/fs/cgroup/cpu,cpuacct",
				"ln -s cpu,cpuacct /r/sys/fs/cgroup/cpu",
				"ln -s cpu,cpuacct /r/sys/fs/cgroup/cpuacct",
				"mount -t cgroup2 -o ro,nosuid cgroup /r/sys/fs/cgroup/unified",
				"mount -o remount,ro,nosuid /r/sys/fs/cgroup",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := baseSpec(tc.m)
			s.Linux.Namespaces = append(s.Linux.Namespaces, tc.ns...)
			got := mountLines(t, Config{Spec: s, Rootfs: "/r", Bundle: "/b", Cgroups: tc.cgroups})
			if tc.want == nil {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestPlanOrder(t *testing.T) {
	s := baseSpec(
		specs.Mount{Destination: "/proc", Type: "proc", Source: "proc"},
		specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
	)
	s.Root.Readonly = true
	s.Linux.MaskedPaths = []string{"/proc/kcore"}
	s.Linux.ReadonlyPaths = []string{"/proc/sys"}
	ops, err := Plan(Config{Spec: s, Rootfs: "/r", BeforePivot: func() error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, op := range ops {
		if k := op.Kind.String(); len(kinds) == 0 || kinds[len(kinds)-1] != k {
			kinds = append(kinds, k)
		}
	}
	want := []string{"root-propagation", "bind-rootfs", "mount", "mknod", "symlink", "hooks", "pivot-root",
		"readonly-path", "mask-path", "remount"}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("steps %v\nwant  %v", kinds, want)
	}
	if i := rootSwitch(ops); ops[i].Kind != OpPivotRoot || ops[len(ops)-1].Target != "/" {
		t.Errorf("root switch at %d (%v); last step %+v", i, ops[i].Kind, ops[len(ops)-1])
	}
	lines := Shell(ops)
	for _, want := range []string{
		"mount --make-rslave /", "mount --rbind /r /r", "mknod -m 666 /r/dev/null c 1 3", "ln -s pts/ptmx /r/dev/ptmx",
		"cd /r && pivot_root . . && mount --make-rslave . && umount -l . && cd /",
		"if [ -e /proc/sys ]; then mount --rbind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys; fi",
		"if [ -d /proc/kcore ]; then mount -t tmpfs -o ro tmpfs /proc/kcore; elif [ -e /proc/kcore ]; then mount --bind /dev/null /proc/kcore; fi",
		"mount -o remount,bind,ro /",
	} {
		if !contains(lines, want) {
			t.Errorf("shell view lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

func TestPlanRootfsPropagation(t *testing.T) {
	parent := `mount --make-private "$(findmnt -n -o TARGET --target /r)"`
	for prop, want := range map[string][]string{
		"":            {"mount --make-rslave /", "mount --rbind /r /r", "PIVOT"},
		"rslave":      {"mount --make-rslave /", "mount --rbind /r /r", "PIVOT", "mount --make-slave /"},
		"rprivate":    {"mount --make-rprivate /", "mount --rbind /r /r", "PIVOT", "mount --make-private /"},
		"private":     {"mount --make-private /", parent, "mount --rbind /r /r", "PIVOT", "mount --make-private /"},
		"slave":       {"mount --make-slave /", parent, "mount --rbind /r /r", "PIVOT", "mount --make-slave /"},
		"shared":      {"mount --make-shared /", parent, "mount --rbind /r /r", "PIVOT", "mount --make-shared /"},
		"rshared":     {"mount --make-rshared /", parent, "mount --rbind /r /r", "PIVOT", "mount --make-shared /"},
		"runbindable": {"mount --make-runbindable /", parent, "mount --rbind /r /r", "PIVOT", "mount --make-unbindable /"},
	} {
		s := baseSpec()
		s.Linux.RootfsPropagation = prop
		ops, err := Plan(Config{Spec: s, Rootfs: "/r", NoPivot: true})
		if err != nil {
			t.Fatal(err)
		}
		lines := Shell(ops)
		for i, l := range lines {
			if strings.Contains(l, "mount --move . /") {
				lines[i] = "PIVOT"
			}
		}
		if !reflect.DeepEqual(lines, want) {
			t.Errorf("rootfsPropagation %q:\n got %q\nwant %q", prop, lines, want)
		}
		// Prepare's part ends with the propagation of the new "/".
		if i := rootSwitch(ops); i != len(ops)-1 {
			t.Errorf("rootfsPropagation %q: Prepare stops at step %d of %d", prop, i, len(ops))
		}
	}
}

func TestPlanDev(t *testing.T) {
	fm := os.FileMode(0o620)
	dev := specs.LinuxDevice{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &fm, UID: u32(0), GID: u32(5)}
	s := baseSpec(specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}})
	s.Linux.Devices = []specs.LinuxDevice{dev}
	lines := mountLines(t, Config{Spec: s, Rootfs: "/r"})
	if want := "mount -t tmpfs -o nosuid,strictatime,mode=755,size=65536k tmpfs /r/dev"; lines[0] != want {
		t.Errorf("got %q, want %q", lines[0], want)
	}
	ops, _ := Plan(Config{Spec: s, Rootfs: "/r"})
	all := Shell(ops)
	for _, want := range []string{
		"mknod -m 666 /r/dev/urandom c 1 9", "mknod -m 620 /r/dev/fuse c 10 229 && chown 0:5 /r/dev/fuse",
		"ln -s /proc/self/fd /r/dev/fd", "ln -s /proc/self/fd/2 /r/dev/stderr",
	} {
		if !contains(all, want) {
			t.Errorf("lacks %q:\n%s", want, strings.Join(all, "\n"))
		}
	}
	// In a user namespace, nodes are the host's, bound.
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	ops, _ = Plan(Config{Spec: s, Rootfs: "/r"})
	if all := Shell(ops); !contains(all, "touch /r/dev/fuse && mount --bind /dev/fuse /r/dev/fuse") {
		t.Errorf("user namespace: no bind of /dev/fuse:\n%s", strings.Join(all, "\n"))
	}
	// A bind of the host's /dev is not populated.
	s = baseSpec(specs.Mount{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind"}})
	ops, _ = Plan(Config{Spec: s, Rootfs: "/r"})
	for _, op := range ops {
		if op.Kind == OpMknod || op.Kind == OpBindDevice {
			t.Errorf("a bound /dev got %v %s", op.Kind, op.Target)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"no root", Config{Spec: &specs.Spec{}, Rootfs: "/r"}, "config has no root"},
		{"relative rootfs", Config{Spec: baseSpec(), Rootfs: "r"}, "not an absolute path"},
		{"bad rootfsPropagation", Config{Spec: &specs.Spec{Root: &specs.Root{}, Linux: &specs.Linux{RootfsPropagation: "sideways"}}, Rootfs: "/r"}, `unknown rootfsPropagation "sideways"`},
		{"read-only root without a mount namespace", Config{Spec: &specs.Spec{Root: &specs.Root{Readonly: true}, Linux: &specs.Linux{}}, Rootfs: "/r"}, "root.readonly needs a mount namespace"},
		{"mappings without idmap", Config{Spec: baseSpec(specs.Mount{Destination: "/h", Type: "bind", Source: "/h", Options: []string{"bind"},
			UIDMappings: []specs.LinuxIDMapping{{Size: 1}}}), Rootfs: "/r"}, "mount 0 (bind on /h): uidMappings and gidMappings need the idmap or ridmap option"},
		{"idmap on a tmpfs", Config{Spec: baseSpec(specs.Mount{Destination: "/t", Type: "tmpfs", Options: []string{"idmap"}}), Rootfs: "/r"}, "idmap and ridmap need a bind mount"},
		{"tmpcopyup on a bind", Config{Spec: baseSpec(specs.Mount{Destination: "/t", Type: "bind", Source: "/t", Options: []string{"bind", "tmpcopyup"}}), Rootfs: "/r"}, "tmpcopyup needs a tmpfs"},
	}
	for _, tc := range tests {
		if _, err := Plan(tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestShellQuoting(t *testing.T) {
	ops := []Op{{Kind: OpBindRootfs, Source: "/my root"}, {Kind: OpMount, Type: "tmpfs", Source: "tmpfs", Target: "/it's", Flags: unix.MS_NOSUID}}
	got := Shell(ops)
	if want := `mount -t tmpfs -o nosuid tmpfs '/my root/it'\''s'`; got[1] != want {
		t.Errorf("got %s, want %s", got[1], want)
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// Without a mount namespace the container shares the host's: its mounts
// go on the rootfs in place, no propagation is changed, nothing is bound
// or pivoted, chroot switches the root.
func TestPlanNoMountNamespace(t *testing.T) {
	s := &specs.Spec{Root: &specs.Root{Path: "rootfs"}, Linux: &specs.Linux{MaskedPaths: []string{"/proc/kcore"}},
		Mounts: []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}}}
	ops, err := Plan(Config{Spec: s, Rootfs: "/r"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, op := range ops {
		kinds = append(kinds, op.Kind.String())
	}
	want := []string{"bind-rootfs", "mount", "chroot", "mask-path"}
	if !reflect.DeepEqual(kinds, want) || ops[0].Flags != 0 {
		t.Errorf("steps %v (first flags %#x), want %v", kinds, ops[0].Flags, want)
	}
	if lines := Shell(ops); lines[2] != "cd /r && chroot . /bin/sh" {
		t.Errorf("shell: %q", lines)
	}
}
