package integration

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// hostDir makes a directory on the host holding files owned by root and
// by uid 1000, reachable by any uid.
func hostDir(t *testing.T) string {
	d := t.TempDir()
	os.Chmod(d, 0o755)
	for name, uid := range map[string]int{"root-owned": 0, "user-owned": 1000} {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// idmapped bind mounts: with the mount's own mappings (a disk owner 0
// shows as host uid 1000 in a container without a user namespace) and with
// the container's (the files keep their owners as the container's root
// sees them, where a plain bind shows the overflow uid).
func TestIDMappedMounts(t *testing.T) {
	e := newEnv(t)
	src := hostDir(t)
	owners := "stat -c '%n %u:%g' /mnt/root-owned /mnt/user-owned"
	for _, tc := range []struct {
		name   string
		userns bool
		mount  specs.Mount
		want   []string
	}{
		{"own mappings", false, specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"bind", "idmap"},
			UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
			GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 2000, Size: 1}}},
			[]string{"/mnt/root-owned 1000:2000", "/mnt/user-owned 65534:65534"}},
		{"the container user namespace", true, specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"rbind", "ridmap"}},
			[]string{"/mnt/root-owned 0:0", "/mnt/user-owned 1000:1000"}},
		{"plain bind in a user namespace", true, specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"bind"}},
			[]string{"/mnt/root-owned 65534:65534", "/mnt/user-owned 65534:65534"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle := e.bundle([]string{"sh", "-c", owners + "; grep ' /mnt ' /proc/self/mountinfo"}, func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, tc.mount)
				if tc.userns {
					s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
					s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
					s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				}
			})
			for d := bundle; d != os.TempDir(); d = filepath.Dir(d) {
				os.Chmod(d, 0o755)
			}
			// The container's root (host uid 100000) cannot write the
			// image's root-owned "/": the mount point is in the image.
			os.Mkdir(filepath.Join(bundle, "rootfs/mnt"), 0o755)
			before := e.snapshot()
			r := e.hako("run", "--bundle", bundle, e.id(strings.ReplaceAll(tc.name, " ", "-")))
			if r.code != 0 {
				t.Fatalf("run: exit %d: %s", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("want %q in:\n%s", w, r.stdout)
				}
			}
			if idmapped := strings.Contains(r.stdout, "idmapped"); idmapped != strings.Contains(strings.Join(tc.mount.Options, ","), "idmap") {
				t.Errorf("mountinfo idmapped = %v:\n%s", idmapped, r.stdout)
			}
			e.sameAs(before)
		})
	}
	// idmap without mappings and without a user namespace: refused
	// before anything exists.
	bundle := e.bundle([]string{"true"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"bind", "idmap"}})
	})
	before := e.snapshot()
	r := e.hako("run", "--bundle", bundle, e.id("idmap-bad"))
	if r.code == 0 || !strings.Contains(r.stderr, "idmap without uidMappings needs the container to have a user namespace") {
		t.Errorf("run: exit %d, stderr %q", r.code, r.stderr)
	}
	e.sameAs(before)
}

// tmpcopyup fills a tmpfs with what the image had there; recursive
// read-only reaches a bind's submounts, plain ro does not.
func TestTmpcopyupAndRecursiveReadonly(t *testing.T) {
	e := newEnv(t)
	src := t.TempDir()
	os.Chmod(src, 0o755)
	sub := filepath.Join(src, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	// A submount in the host's namespace, private so the container's
	// copy of it is all that changes.
	if err := unix.Mount("tmpfs", sub, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(sub, unix.MNT_DETACH) })
	unix.Mount("", sub, "", unix.MS_PRIVATE, "")
	script := `cat /etc/hako-canary; grep ' /etc ' /proc/self/mountinfo | cut -d' ' -f9;
		for d in /ro /ro/sub /rro /rro/sub; do touch $d/x 2>/dev/null && echo "$d writable" || echo "$d read-only"; done`
	bundle := e.bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
		s.Root.Readonly = false
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/etc", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "nosuid", "mode=755"}},
			specs.Mount{Destination: "/ro", Type: "bind", Source: src, Options: []string{"rbind", "ro"}},
			specs.Mount{Destination: "/rro", Type: "bind", Source: src, Options: []string{"rbind", "rro"}})
	})
	if err := os.WriteFile(filepath.Join(bundle, "rootfs/etc/hako-canary"), []byte("from the image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.hako("run", "--bundle", bundle, e.id("copyup-rro"))
	if r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	for _, w := range []string{"from the image", "tmpfs", "/ro read-only", "/ro/sub writable", "/rro read-only", "/rro/sub read-only"} {
		if !strings.Contains(r.stdout, w+"\n") {
			t.Errorf("want %q in:\n%s", w, r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(sub, "x")); err != nil {
		t.Errorf("the writable submount is the host's own: %v", err)
	}
}

// The rootfs CLI: plan prints the steps, run refuses a shared mount
// namespace and works in a private one.
func TestRootfsCLI(t *testing.T) {
	e := newEnv(t)
	rootfsBin := filepath.Join(filepath.Dir(hakoBin), "rootfs")
	bundle := e.bundle([]string{"true"}, nil)
	config := filepath.Join(bundle, "config.json")
	r := runBin(t, rootfsBin, "plan", "--config", config)
	for _, w := range []string{"mount --make-rslave /", "mount -t proc proc " + bundle + "/rootfs/proc", "pivot_root . .", "mknod -m 666 " + bundle + "/rootfs/dev/null c 1 3"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("plan lacks %q:\n%s", w, r.stdout)
		}
	}
	before := e.snapshot()
	r = runBin(t, rootfsBin, "run", "--config", config, "--", "/bin/true")
	if r.code == 0 || !strings.Contains(r.stderr, "shares its mount namespace with its parent") {
		t.Errorf("run in the host's mount namespace: exit %d, stderr %q", r.code, r.stderr)
	}
	e.sameAs(before)
	cmd := exec.Command("unshare", "-m", "-p", "-f", "-u", "-i", rootfsBin, "run", "--config", config, "--",
		"/bin/sh", "-c", "echo pid $$; grep -c . /proc/self/mountinfo; stat -c %t:%T /dev/null; hostname >/dev/null; ls /")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if err != nil || !strings.Contains(string(out), "pid 1\n") || !strings.Contains(string(out), "1:3\n") {
		t.Errorf("rootfs run: %v\n%s", err, out)
	}
	e.sameAs(before)
}
