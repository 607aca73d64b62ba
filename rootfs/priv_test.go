package rootfs_test

// Privileged tests of Prepare and Finish. Each case runs in a helper
// re-executed in its own mount namespace (priv_helper_test.go), which
// reports the mount table and files it sees from inside the new root; the
// host's mount table is checked unchanged after every case.

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mustPrepare fails the test unless Prepare and Finish succeeded with
// every mount inside the rootfs.
func mustPrepare(t *testing.T, res result) {
	t.Helper()
	if res.Prepare != nil {
		t.Fatalf("Prepare: %s", res.Prepare.Text)
	}
	if res.Finish != nil {
		t.Fatalf("Finish: %s", res.Finish.Text)
	}
	if len(res.Escaped) > 0 {
		t.Errorf("mounts outside the rootfs: %q", res.Escaped)
	}
}

// Every mount option reaches the kernel: per-mount flags in mountinfo's
// field 6, superblock ones in field 11, recursive ones on the submounts.
func TestPrivMountFlags(t *testing.T) {
	src := t.TempDir() // bind source; the helper mounts a tmpfs at src/sub
	sub, file := filepath.Join(src, "sub"), filepath.Join(src, "file")
	writeTree(t, src, entry{path: "sub"}, entry{path: "file", data: "host file\n"})
	const ro = unix.MS_RDONLY
	tests := []struct {
		name     string
		mount    specs.Mount
		subFlags uintptr // flags of the tmpfs at src/sub
		want     []mountWant
		isFile   string // a path that must be a regular file holding "host file\n"
	}{
		{"tmpfs ro", tmpfsAt("/m", "ro"), 0, []mountWant{{at: "/m", fstype: "tmpfs", has: []string{"ro"}}}, ""},
		{"tmpfs nosuid nodev noexec", tmpfsAt("/m", "nosuid", "nodev", "noexec"), 0,
			[]mountWant{{at: "/m", has: []string{"rw", "nosuid", "nodev", "noexec"}}}, ""},
		{"tmpfs noatime", tmpfsAt("/m", "noatime"), 0, []mountWant{{at: "/m", has: []string{"noatime"}, not: []string{"relatime"}}}, ""},
		// strictatime shows as neither relatime nor noatime.
		{"tmpfs strictatime", tmpfsAt("/m", "strictatime"), 0, []mountWant{{at: "/m", not: []string{"relatime", "noatime"}}}, ""},
		{"tmpfs nodiratime", tmpfsAt("/m", "nodiratime"), 0, []mountWant{{at: "/m", has: []string{"nodiratime"}}}, ""},
		// sync and dirsync are superblock flags: field 11.
		{"tmpfs sync dirsync", tmpfsAt("/m", "sync", "dirsync"), 0, []mountWant{{at: "/m", has: []string{"super:sync", "super:dirsync"}}}, ""},
		{"tmpfs nosymfollow", tmpfsAt("/m", "nosymfollow"), 0, []mountWant{{at: "/m", has: []string{"nosymfollow"}}}, ""},
		{"tmpfs data", tmpfsAt("/m", "size=1m", "mode=700"), 0, []mountWant{{at: "/m", has: []string{"super:size=1024k", "super:mode=700"}}}, ""},
		// Over a directory made here (the image has no /scratch), the
		// tmpfs keeps its own default mode, 1777, as with runc.
		{"tmpfs on a new directory", tmpfsAt("/scratch"), 0, []mountWant{{at: "/scratch", fstype: "tmpfs", not: []string{"super:mode="}}}, ""},
		{"bind dir ro, destination made as a directory", bindAt(src, "/new/dir", "bind", "ro"), 0,
			[]mountWant{{at: "/new/dir", has: []string{"ro"}}, {at: "/new/dir/sub", absent: true}}, ""},
		{"bind file ro nosuid, destination made as a file", bindAt(file, "/etc/conf/hosts", "bind", "ro", "nosuid"), 0,
			[]mountWant{{at: "/etc/conf/hosts", has: []string{"ro", "nosuid"}}}, "/etc/conf/hosts"},
		// A remount repeats the flags it keeps: the source's relatime stays.
		{"bind noexec keeps relatime", bindAt(src, "/b", "bind", "noexec"), 0, []mountWant{{at: "/b", has: []string{"noexec", "relatime"}}}, ""},
		{"bind strictatime", bindAt(src, "/b", "bind", "strictatime"), 0, []mountWant{{at: "/b", not: []string{"relatime", "noatime"}}}, ""},
		{"bind suid ro clears the source's nosuid", bindAt(sub, "/b", "bind", "suid", "ro"), unix.MS_NOSUID,
			[]mountWant{{at: "/b", has: []string{"ro"}, not: []string{"nosuid"}}}, ""},
		// An option that only clears a flag takes the remount too, as
		// with mount(8)'s "mount --bind -o suid".
		{"bind suid clears the source's nosuid", bindAt(sub, "/b", "bind", "suid"), unix.MS_NOSUID,
			[]mountWant{{at: "/b", not: []string{"nosuid"}}}, ""},
		{"bind rw clears the source's ro", bindAt(sub, "/b", "bind", "rw"), ro, []mountWant{{at: "/b", has: []string{"rw"}}}, ""},
		{"rbind keeps the submount", bindAt(src, "/r", "rbind"), 0, []mountWant{{at: "/r/sub", fstype: "tmpfs"}}, ""},
		// ro is a remount of the top mount only (mount(2) semantics).
		{"rbind ro: top only", bindAt(src, "/r", "rbind", "ro"), 0,
			[]mountWant{{at: "/r", has: []string{"ro"}}, {at: "/r/sub", has: []string{"rw"}}}, ""},
		{"rbind rro", bindAt(src, "/r", "rbind", "rro"), 0,
			[]mountWant{{at: "/r", has: []string{"ro"}}, {at: "/r/sub", has: []string{"ro"}}}, ""},
		{"rbind rnosuid rnodev rnoexec", bindAt(src, "/r", "rbind", "rnosuid", "rnodev", "rnoexec"), 0,
			[]mountWant{{at: "/r", has: []string{"nosuid", "nodev", "noexec"}}, {at: "/r/sub", has: []string{"nosuid", "nodev", "noexec"}}}, ""},
		{"rbind rnoatime", bindAt(src, "/r", "rbind", "rnoatime"), 0,
			[]mountWant{{at: "/r", has: []string{"noatime"}}, {at: "/r/sub", has: []string{"noatime"}, not: []string{"relatime"}}}, ""},
		{"rbind rnosymfollow rnodiratime", bindAt(src, "/r", "rbind", "rnosymfollow", "rnodiratime"), 0,
			[]mountWant{{at: "/r", has: []string{"nosymfollow", "nodiratime"}}, {at: "/r/sub", has: []string{"nosymfollow", "nodiratime"}}}, ""},
		{"rbind rrw clears a read-only submount", bindAt(src, "/r", "rbind", "rrw"), ro,
			[]mountWant{{at: "/r/sub", has: []string{"rw"}}}, ""},
		{"rbind ratime turns a noatime submount relatime", bindAt(src, "/r", "rbind", "ratime"), unix.MS_NOATIME,
			[]mountWant{{at: "/r/sub", has: []string{"relatime"}, not: []string{"noatime"}}}, ""},
		{"rbind rstrictatime", bindAt(src, "/r", "rbind", "rstrictatime"), unix.MS_NOATIME,
			[]mountWant{{at: "/r/sub", not: []string{"relatime", "noatime"}}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := job{Rootfs: newRootfs(t), Spec: newSpec(tc.mount), Setup: []step{mountStep(sub, tc.subFlags)}}
			if tc.isFile != "" {
				j.Stat = []string{tc.isFile}
			}
			res := runPriv(t, j)
			mustPrepare(t, res)
			for _, w := range tc.want {
				checkMount(t, res.Mounts, w)
			}
			if tc.isFile != "" {
				if fi := res.Files[tc.isFile]; fi.Mode&unix.S_IFMT != unix.S_IFREG || fi.Data != "host file\n" {
					t.Errorf("%s: %+v, want the bound regular file", tc.isFile, fi)
				}
			}
		})
	}
}

// Per-mount propagation options. A master must outlive the pivot (the
// host's tree is detached then, and a slave whose master goes becomes
// private), so the shared source is a tmpfs mounted in the container
// first and bound from its host path.
func TestPrivPropagation(t *testing.T) {
	src := t.TempDir()
	sub := filepath.Join(src, "sub") // a shared tmpfs in the helper
	writeTree(t, src, entry{path: "sub"})
	tests := []struct {
		name string
		opts []string // of a bind of the shared tmpfs at /s to /p
		want []string
		not  []string
	}{
		{"bind joins the peer group", []string{"bind"}, []string{"prop:shared:"}, nil},
		{"rslave", []string{"rbind", "rslave"}, []string{"prop:master:"}, []string{"prop:shared:"}},
		{"slave", []string{"bind", "slave"}, []string{"prop:master:"}, []string{"prop:shared:"}},
		{"private", []string{"bind", "private"}, nil, []string{"prop:shared:", "prop:master:"}},
		{"unbindable", []string{"bind", "unbindable"}, []string{"prop:unbindable"}, []string{"prop:shared:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := newRootfs(t)
			res := runPriv(t, job{Rootfs: root, Spec: newSpec(tmpfsAt("/s", "shared"), bindAt(root+"/s", "/p", tc.opts...))})
			mustPrepare(t, res)
			checkMount(t, res.Mounts, mountWant{at: "/s", has: []string{"prop:shared:"}})
			checkMount(t, res.Mounts, mountWant{at: "/p", has: tc.want, not: tc.not})
		})
	}
	t.Run("shared on a private source", func(t *testing.T) {
		res := runPriv(t, job{Rootfs: newRootfs(t), Spec: newSpec(bindAt(src, "/p", "bind", "shared"))})
		mustPrepare(t, res)
		checkMount(t, res.Mounts, mountWant{at: "/p", has: []string{"prop:shared:"}})
	})
	// Under rshared the helper's shared tmpfs stays shared up to the
	// bind (the default rslave of "/" would make it private first).
	t.Run("rprivate reaches the submount", func(t *testing.T) {
		s := newSpec(bindAt(src, "/p", "rbind", "rprivate"))
		s.Linux.RootfsPropagation = "rshared"
		res := runPriv(t, job{Rootfs: newRootfs(t), Spec: s, Setup: []step{mountStep(sub, 0), propStep(sub, unix.MS_SHARED)}})
		mustPrepare(t, res)
		checkMount(t, res.Mounts, mountWant{at: "/p/sub", fstype: "tmpfs", not: []string{"prop:shared:", "prop:master:"}})
	})
}

// linux.rootfsPropagation decides the propagation of the container's "/"
// (config-linux.md: shared = a new peer group, slave = receives the
// host's events, private, unbindable) and must never carry a mount back
// to the host. The host stage plays a systemd host: "/" rshared, and the
// rootfs a mount of its own (as containerd's rootfs under /run).
func TestPrivRootfsPropagation(t *testing.T) {
	tests := []struct {
		name, prop string
		realHost   bool // no host stage: this host's private "/", the rootfs a plain directory on it
		has, not   []string
	}{
		{"default", "", false, []string{"prop:master:"}, nil},
		{"rslave", "rslave", false, []string{"prop:master:"}, nil},
		{"slave", "slave", false, nil, []string{"prop:shared:"}},
		{"private", "private", false, nil, []string{"prop:shared:", "prop:master:"}},
		{"rprivate", "rprivate", false, nil, []string{"prop:shared:", "prop:master:"}},
		{"shared", "shared", false, []string{"prop:shared:"}, nil},
		{"rshared", "rshared", false, []string{"prop:shared:"}, nil},
		{"unbindable", "unbindable", false, []string{"prop:unbindable"}, nil},
		{"shared on a private host", "shared", true, []string{"prop:shared:"}, nil},
		{"unbindable on a private host", "unbindable", true, []string{"prop:unbindable"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := newRootfs(t)
			s := newSpec(tmpfsAt("/tmp"))
			s.Linux.RootfsPropagation = tc.prop
			j := job{Rootfs: root, Spec: s}
			if !tc.realHost {
				j.Host = []step{propStep("/", unix.MS_REC|unix.MS_SHARED),
					{Source: root, Target: root, Flags: unix.MS_BIND}, propStep(root, unix.MS_SHARED)}
			}
			res := runPriv(t, j)
			if len(res.Propagated) > 0 {
				t.Errorf("mounts propagated to the host: %q", res.Propagated)
			}
			mustPrepare(t, res)
			checkMount(t, res.Mounts, mountWant{at: "/", has: tc.has, not: tc.not})
		})
	}
}

// tmpcopyup: the tmpfs over /etc starts with a copy of the image's /etc,
// owners, modes, times and symlinks kept.
func TestPrivTmpcopyup(t *testing.T) {
	for _, rw := range []string{"rw", "ro"} { // ro: filled first, then read-only
		t.Run(rw, func(t *testing.T) {
			root := newRootfs(t, entry{"etc/shadow", "root:*:1::::::\n", 0o640, 123, 456},
				entry{"etc/suid", "#!/bin/false\n", 0o4755, 0, 0}, entry{"etc/localtime", "->/usr/share/zoneinfo/UTC", 0, 5, 6},
				entry{"etc/ssl", "", 0o750, 7, 8}, entry{"etc/ssl/cert.pem", "cert\n", 0o444, 7, 8},
				entry{"etc/empty", "", 0o700, 0, 0}, entry{"etc", "", 0o751, 0, 0})
			// Times last: creating entries touches their directory.
			past := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
			for _, p := range []string{"shadow", "suid", "ssl/cert.pem", "ssl", "empty"} {
				if err := os.Chtimes(filepath.Join(root, "etc", p), past, past); err != nil {
					t.Fatal(err)
				}
			}
			paths := []string{"/etc", "/etc/hostname", "/etc/shadow", "/etc/suid", "/etc/localtime", "/etc/ssl", "/etc/ssl/cert.pem", "/etc/empty"}
			want := map[string]fileInfo{}
			for _, p := range paths {
				want[p] = look(filepath.Join(root, p))
			}
			res := runPriv(t, job{Rootfs: root, Spec: newSpec(tmpfsAt("/etc", "tmpcopyup", "nosuid", "nodev", rw)), Stat: paths})
			mustPrepare(t, res)
			checkMount(t, res.Mounts, mountWant{at: "/etc", fstype: "tmpfs", has: []string{"nosuid", "nodev", rw}})
			for _, p := range paths[1:] {
				if got := res.Files[p]; !reflect.DeepEqual(got, want[p]) {
					t.Errorf("%s:\n got %+v\nwant %+v", p, got, want[p])
				}
			}
			// The mount point keeps the image directory's mode, as runc
			// does for every tmpfs: a bare tmpfs root is 1777, which
			// would make /etc world-writable.
			if got, w := res.Files["/etc"].Mode&0o7777, want["/etc"].Mode&0o7777; got != w {
				t.Errorf("/etc has mode %#o, the image's has %#o", got, w)
			}
		})
	}
}

// idmap and ridmap. The kernel reads an on-disk id as an id inside the
// mapping's namespace (containerID) and shows it as the hostID: with
// {containerID 0, hostID 1000, size 1}, a file owned by 0 appears owned by
// 1000 through the mount, and one owned by 1000 (unmapped) by the
// overflow id 65534 (mount_setattr(2), "MOUNT_ATTR_IDMAP"; checked here).
func TestPrivIDMap(t *testing.T) {
	src := t.TempDir()
	sub := filepath.Join(src, "sub") // a tmpfs in the helper, owned by 0
	writeTree(t, src, entry{path: "sub"}, entry{path: "root-file", data: "0"}, entry{"user-file", "1000", 0, 1000, 1000})
	ids := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	tests := []struct {
		name     string
		opts     []string
		rw       string // "ro" or "rw" in mountinfo
		subOwner uint32 // owner of /idm/sub seen through the mount
		subMount []string
	}{
		{"idmap", []string{"bind", "idmap"}, "rw", 0, nil},
		{"idmap ro", []string{"bind", "idmap", "ro"}, "ro", 0, nil},
		// rbind with idmap: the whole tree, only the top idmapped
		// (config.md: idmap or ridmap says "whether the mapping should
		// be applied recursively for rbind mounts").
		{"rbind idmap", []string{"rbind", "idmap"}, "rw", 0, []string{"rw"}},
		{"rbind ridmap", []string{"rbind", "ridmap"}, "rw", 1000, []string{"idmapped"}},
		{"bind ridmap: no submounts", []string{"bind", "ridmap"}, "rw", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := bindAt(src, "/idm", tc.opts...)
			m.UIDMappings, m.GIDMappings = ids, ids
			res := runPriv(t, job{Rootfs: newRootfs(t), Spec: newSpec(m), Setup: []step{mountStep(sub, 0)},
				Stat: []string{"/idm/root-file", "/idm/user-file", "/idm/sub"}})
			if e := res.Prepare; e != nil && strings.Contains(e.Text, "mount_setattr") &&
				(e.Errno == int(unix.EINVAL) || e.Errno == int(unix.EPERM) || e.Errno == int(unix.ENOSYS)) {
				t.Skipf("the kernel refuses an idmapped mount here: %s", e.Text)
			}
			mustPrepare(t, res)
			checkMount(t, res.Mounts, mountWant{at: "/idm", has: []string{"idmapped", tc.rw}})
			checkMount(t, res.Mounts, mountWant{at: "/idm/sub", has: tc.subMount, absent: tc.subMount == nil})
			for p, want := range map[string]uint32{"/idm/root-file": 1000, "/idm/user-file": 65534} {
				if fi := res.Files[p]; fi.Err != "" || fi.UID != want || fi.GID != want {
					t.Errorf("%s: owner %d:%d (%s), want %d:%d", p, fi.UID, fi.GID, fi.Err, want, want)
				}
			}
			if tc.subMount != nil {
				if fi := res.Files["/idm/sub"]; fi.UID != tc.subOwner {
					t.Errorf("/idm/sub: owner %d, want %d", fi.UID, tc.subOwner)
				}
			}
		})
	}
}

// A container's usual mounts, devices, masked and read-only paths and
// read-only root, with mknod(2) and in a user namespace (device nodes
// bound from the host; the bind source's flags locked, so a remount must
// repeat them). The host stage mounts the bind source with flags.
func TestPrivContainer(t *testing.T) {
	src := t.TempDir()
	for _, userns := range []bool{false, true} {
		name := "mknod"
		if userns {
			name = "user namespace"
		}
		t.Run(name, func(t *testing.T) {
			root := newRootfs(t, entry{path: "etc/private/x"}, entry{path: "etc/conf/x"}, entry{path: "etc/secret", data: "s3cret\n"})
			s := newSpec(procAt("/proc"),
				tmpfsAt("/dev", "nosuid", "strictatime", "mode=755", "size=65536k"),
				specs.Mount{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
					Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
				specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
				bindAt(src, "/vol", "bind", "ro"))
			s.Root.Readonly = true
			s.Linux.MaskedPaths = []string{"/proc/timer_list", "/proc/acpi", "/proc/nonexistent", "/etc/secret", "/etc/private", "/missing/x"}
			s.Linux.ReadonlyPaths = []string{"/proc/sys", "/proc/sysrq-trigger", "/etc/conf", "/nonexistent"}
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}}
			if userns {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			} else {
				u, g := uint32(1000), uint32(1001)
				s.Linux.Devices = []specs.LinuxDevice{
					{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: mode(0o640), UID: &u, GID: &g},
					{Path: "/dev/disk/loop9", Type: "b", Major: 7, Minor: 9, FileMode: mode(0o600)},
				}
			}
			devs := map[string][2]uint32{"null": {1, 3}, "zero": {1, 5}, "full": {1, 7}, "random": {1, 8}, "urandom": {1, 9}, "tty": {5, 0}}
			links := map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
				"stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"}
			stat := []string{"/proc/timer_list", "/etc/secret", "/proc/acpi", "/etc/private", "/dev/fuse", "/dev/disk/loop9"}
			for n := range devs {
				stat = append(stat, "/dev/"+n)
			}
			for n := range links {
				stat = append(stat, "/dev/"+n)
			}
			res := runPriv(t, job{Rootfs: root, Spec: s, Clone: unix.CLONE_NEWPID | unix.CLONE_NEWNET, UserNS: userns, Stat: stat,
				Host: []step{mountStep(src, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_NOATIME)}})
			mustPrepare(t, res)
			for _, w := range []mountWant{
				{at: "/", has: []string{"ro"}},
				{at: "/proc", fstype: "proc", has: []string{"rw", "nosuid"}},
				{at: "/proc/sys", fstype: "proc", has: []string{"ro", "nosuid", "nodev", "noexec"}},
				{at: "/etc/conf", has: []string{"ro"}},
				{at: "/proc/acpi", fstype: "tmpfs", has: []string{"ro"}},
				{at: "/etc/private", fstype: "tmpfs", has: []string{"ro"}},
				{at: "/proc/timer_list"}, {at: "/etc/secret"},
				{at: "/dev", fstype: "tmpfs", has: []string{"rw", "nosuid"}, not: []string{"relatime", "noatime"}},
				{at: "/dev/pts", fstype: "devpts"},
				{at: "/sys", fstype: "sysfs", has: []string{"ro", "nosuid"}},
				{at: "/vol", has: []string{"ro", "nosuid", "nodev", "noexec", "noatime"}},
				{at: "/dev/null", absent: !userns},
			} {
				checkMount(t, res.Mounts, w)
			}
			for _, p := range []string{"/proc/timer_list", "/etc/secret"} {
				if fi := res.Files[p]; fi.Mode&unix.S_IFMT != unix.S_IFCHR || fi.Major != 1 || fi.Minor != 3 {
					t.Errorf("masked %s: %+v, want /dev/null", p, fi)
				}
			}
			for _, p := range []string{"/proc/acpi", "/etc/private"} {
				if fi := res.Files[p]; len(fi.Names) > 0 || fi.Err != "" {
					t.Errorf("masked %s: %+v, want an empty directory", p, fi)
				}
			}
			for n, d := range devs {
				fi := res.Files["/dev/"+n]
				if fi.Mode&unix.S_IFMT != unix.S_IFCHR || fi.Major != d[0] || fi.Minor != d[1] || !userns && fi.Mode&0o777 != 0o666 {
					t.Errorf("/dev/%s: %+v, want char %d:%d mode 0666", n, fi, d[0], d[1])
				}
			}
			for n, l := range links {
				if fi := res.Files["/dev/"+n]; fi.Link != l {
					t.Errorf("/dev/%s: %+v, want a link to %s", n, fi, l)
				}
			}
			if !userns {
				if fi := res.Files["/dev/fuse"]; fi.Mode != unix.S_IFCHR|0o640 || fi.Major != 10 || fi.Minor != 229 || fi.UID != 1000 || fi.GID != 1001 {
					t.Errorf("/dev/fuse: %+v, want char 10:229 mode 0640 owner 1000:1001", fi)
				}
				if fi := res.Files["/dev/disk/loop9"]; fi.Mode != unix.S_IFBLK|0o600 || fi.Major != 7 || fi.Minor != 9 {
					t.Errorf("/dev/disk/loop9: %+v, want block 7:9 mode 0600", fi)
				}
			}
		})
	}
}

func mode(m os.FileMode) *os.FileMode { return &m }
