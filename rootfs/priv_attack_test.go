package rootfs_test

// Privileged tests of Prepare against hostile images: symlinked
// destinations, planted device nodes, a rename race; and its errors. The
// helper is priv_helper_test.go's.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// hostDir makes a directory that stands for a host path a hostile image
// points at, holding a canary file; checkHostDir checks it untouched.
func hostDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	writeTree(t, d, entry{path: "canary", data: "host\n"})
	return d
}

func checkHostDir(t *testing.T, d string) {
	t.Helper()
	ents, err := os.ReadDir(d)
	if err != nil || len(ents) != 1 || ents[0].Name() != "canary" {
		t.Errorf("host dir %s changed: %v %v", d, ents, err)
	}
	if b, err := os.ReadFile(filepath.Join(d, "canary")); string(b) != "host\n" {
		t.Errorf("host canary %s: %q %v", d, b, err)
	}
}

// climb is a relative link from anywhere in a rootfs up to the host's
// "/" (if it were followed as the host would).
const climb = "../../../../../../../../../.."

// An image whose mount destinations are symlinks to host paths: every
// mount lands inside the rootfs, where the link leads when the rootfs is
// taken as "/", and the host stays untouched.
func TestPrivSymlinkEscape(t *testing.T) {
	t.Run("mount destinations", func(t *testing.T) {
		hd, hv, hv2, hf := hostDir(t), hostDir(t), hostDir(t), hostDir(t)
		root := newRootfs(t, entry{path: "dev", data: "->" + hd}, entry{path: "data", data: "->" + hv},
			entry{path: "data2", data: "->" + climb + hv2}, entry{path: "run/secret", data: "->" + hf + "/canary"})
		vol := t.TempDir()
		s := newSpec(procAt("/proc"), specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs"},
			tmpfsAt("/dev", "nosuid"), bindAt(vol, "/data", "rbind"), tmpfsAt("/data/deeper/still"),
			bindAt(vol, "/data2", "bind"), bindAt(filepath.Join(root, "etc/hostname"), "/run/secret", "bind", "ro"))
		// No masked or read-only paths: Finish refuses a /proc that is
		// a link (it needs /proc/self/fd to be procfs).
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace}, specs.LinuxNamespace{Type: specs.NetworkNamespace})
		res := runPriv(t, job{Rootfs: root, Spec: s, Clone: unix.CLONE_NEWPID | unix.CLONE_NEWNET, Stat: []string{"/dev/null"}})
		mustPrepare(t, res)
		for _, d := range []string{hd, hv, hv2, hf} {
			checkHostDir(t, d)
		}
		for _, w := range []mountWant{{at: "/proc", fstype: "proc"}, {at: "/sys", fstype: "sysfs"}, {at: hd, fstype: "tmpfs"},
			{at: hv}, {at: hv + "/deeper/still", fstype: "tmpfs"}, {at: hv2}, {at: hf + "/canary", has: []string{"ro"}}} {
			checkMount(t, res.Mounts, w)
		}
		if fi := res.Files["/dev/null"]; fi.Major != 1 || fi.Minor != 3 {
			t.Errorf("/dev/null through the link: %+v", fi)
		}
		if fi, err := os.Stat(filepath.Join(root, hd)); err != nil || !fi.IsDir() {
			t.Errorf("%s not made inside the rootfs: %v", hd, err)
		}
	})
	// proc and sysfs go on real directories only: a link (even one that
	// stays inside) would put them where masked paths are not.
	for _, tc := range []struct{ entry, typ string }{{"proc", "proc"}, {"sys", "sysfs"}} {
		t.Run(tc.entry+" is a link", func(t *testing.T) {
			h := hostDir(t)
			root := newRootfs(t, entry{path: tc.entry, data: "->" + climb + h})
			s := newSpec(specs.Mount{Destination: "/" + tc.entry, Type: tc.typ, Source: tc.typ})
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
			res := runPriv(t, job{Rootfs: root, Spec: s, Clone: unix.CLONE_NEWNET})
			if res.Prepare == nil || !strings.Contains(res.Prepare.Text, "the destination is a symlink in the rootfs") {
				t.Errorf("Prepare: %+v", res.Prepare)
			}
			checkHostDir(t, h)
		})
	}
	// A planted /dev/null must not be what masks a path (CVE-2025-31133),
	// and a planted /dev/console must not redirect its bind.
	t.Run("planted dev nodes", func(t *testing.T) {
		hn, hc := hostDir(t), hostDir(t)
		root := newRootfs(t, entry{path: "dev/null", data: "->" + hn + "/canary"},
			entry{path: "dev/console", data: "->" + climb + hc + "/canary"})
		s := newSpec(procAt("/proc"), bindAt(filepath.Join(root, "etc/hostname"), "/dev/console", "bind"))
		s.Linux.MaskedPaths = []string{"/etc/hostname"}
		res := runPriv(t, job{Rootfs: root, Spec: s, Clone: unix.CLONE_NEWPID})
		if res.Prepare != nil {
			t.Fatalf("Prepare: %s", res.Prepare.Text)
		}
		if res.Finish == nil {
			t.Error("Finish masked a path with a planted /dev/null")
		} else {
			t.Logf("Finish refused, as it should: %s", res.Finish.Text)
		}
		checkHostDir(t, hn)
		checkHostDir(t, hc)
		checkMount(t, res.Mounts, mountWant{at: hc + "/canary"})
		checkMount(t, res.Mounts, mountWant{at: "/etc/hostname", absent: true})
	})
}

// A destination swapped with a symlink to a host directory while Prepare
// runs (renameat2 RENAME_EXCHANGE from other threads, in the helper's
// namespace): whichever it meets, the mount lands inside the rootfs.
// Each iteration is a fresh helper; it reports any mount made outside the
// rootfs, seen just before the pivot.
func TestPrivRaceSymlinkExchange(t *testing.T) {
	before := hostMounts(t)
	iterations := 200
	if testing.Short() {
		iterations = 20
	}
	host := hostDir(t)
	src := t.TempDir()
	writeTree(t, src, entry{path: "file", data: "x"})
	// The images first (writeTree may t.Fatal: the test goroutine only).
	races := []race{{"vol0", "vol0-link"}, {"vol1", "vol1-link"}, {"vol2", "vol2-link"}}
	spec := newSpec(tmpfsAt("/vol0"), bindAt(src, "/vol1/a/b", "rbind"), bindAt(filepath.Join(src, "file"), "/vol2/a/file", "bind"))
	jobs := make([]job, iterations)
	for i := range jobs {
		link := host
		if i%2 == 1 {
			link = climb + host
		}
		root := newRootfs(t)
		for _, r := range races {
			writeTree(t, root, entry{path: r.A + "/a"}, entry{path: r.B, data: "->" + link})
		}
		jobs[i] = job{Stage: stagePrepare, Rootfs: root, Spec: spec, Races: races}
	}
	results := make([]*result, iterations)
	errs := make([]error, iterations)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4) // helpers at once
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var stderr string
			if results[i], stderr, errs[i] = runStage(j); errs[i] != nil {
				errs[i] = fmt.Errorf("%w\n%s", errs[i], stderr)
			}
		}()
	}
	wg.Wait()
	failed, followed := 0, 0
	reasons := map[string]bool{}
	for i, res := range results {
		switch {
		case errs[i] != nil:
			t.Errorf("helper: %v", errs[i])
			continue
		case res.SetupErr != "":
			t.Errorf("helper setup: %s", res.SetupErr)
		case len(res.Escaped) > 0:
			t.Errorf("mounts outside the rootfs: %q", res.Escaped)
		case res.Prepare != nil:
			failed++ // a lookup that met the link mid-swap may fail: fine
			reasons[strings.ReplaceAll(res.Prepare.Text, jobs[i].Rootfs, "<rootfs>")] = true
		}
		if _, err := os.Lstat(filepath.Join(jobs[i].Rootfs, host)); err == nil {
			followed++
		}
	}
	checkHostDir(t, host)
	checkHostMounts(t, before)
	t.Logf("%d iterations: %d followed a swapped-in link (inside the rootfs), %d failed Prepare", iterations, followed, failed)
	for r := range reasons {
		t.Logf("Prepare failed: %s", r)
	}
}

// A failed mount(2) is a *rootfs.MountError that names what was mounted
// where, the flags by name, and the host path (never /proc/self/fd/N).
func TestPrivMountError(t *testing.T) {
	src := t.TempDir()
	tests := []struct {
		name   string
		mount  specs.Mount
		userns bool
		op     string // "" for an error that is not a MountError
		errno  unix.Errno
		text   []string // what Error() names; "@" stands for the rootfs
	}{
		{"unknown filesystem", specs.Mount{Destination: "/x", Type: "nonexistentfs", Source: "none", Options: []string{"nosuid", "nodev", "ro"}},
			false, "mount", unix.ENODEV, []string{"none", "@/x", "nonexistentfs", "MS_NOSUID", "MS_NODEV", "MS_RDONLY"}},
		{"missing bind source", bindAt("/nonexistent/src", "/y", "bind"), false, "", unix.ENOENT, []string{"/nonexistent/src"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := newRootfs(t)
			res := runPriv(t, job{Rootfs: root, Spec: newSpec(tc.mount), UserNS: tc.userns,
				Host: []step{mountStep(src, unix.MS_NOSUID)}})
			e := res.Prepare
			if e == nil {
				t.Fatal("Prepare succeeded")
			}
			if unix.Errno(e.Errno) != tc.errno {
				t.Errorf("errno %v, want %v (%s)", unix.Errno(e.Errno), tc.errno, e.Text)
			}
			switch {
			case tc.op == "" && e.Mount != nil:
				t.Errorf("a MountError: %s", e.Text)
			case tc.op != "" && e.Mount == nil:
				t.Errorf("not a MountError: %s", e.Text)
			case e.Mount != nil && (e.Mount.Op != tc.op || !strings.HasPrefix(e.Mount.Target, root+"/")):
				t.Errorf("MountError %+v, want Op %q and a Target in %s", *e.Mount, tc.op, root)
			}
			for _, w := range tc.text {
				if w = strings.ReplaceAll(w, "@", root); !strings.Contains(e.Text, w) {
					t.Errorf("%q does not name %q", e.Text, w)
				}
			}
			if strings.Contains(e.Text, "/proc/self/fd") {
				t.Errorf("%q names an fd path", e.Text)
			}
		})
	}
}

// In a user namespace a bind's flags inherited from the host are locked:
// asking to clear one ("suid" on a nosuid source) cannot be honoured, and
// the bind keeps it rather than failing the container (as runc), while
// the flags it may set still apply.
func TestPrivLockedFlagKept(t *testing.T) {
	src := t.TempDir()
	res := runPriv(t, job{Rootfs: newRootfs(t), Spec: newSpec(bindAt(src, "/z", "bind", "suid", "ro")), UserNS: true,
		Host: []step{mountStep(src, unix.MS_NOSUID)}})
	mustPrepare(t, res)
	checkMount(t, res.Mounts, mountWant{at: "/z", has: []string{"ro", "nosuid"}})
	// "rw" on a read-only source (containerd passes it for every writable
	// volume): the bind stays read-only rather than failing.
	ro := t.TempDir()
	res = runPriv(t, job{Rootfs: newRootfs(t), Spec: newSpec(bindAt(ro, "/w", "bind", "rw")), UserNS: true,
		Host: []step{mountStep(ro, unix.MS_RDONLY)}})
	mustPrepare(t, res)
	checkMount(t, res.Mounts, mountWant{at: "/w", has: []string{"ro"}})
	// Without a user namespace "rw" does clear it, and an unlisted flag
	// keeps it: "nosuid" alone does not make a read-only source writable.
	res = runPriv(t, job{Rootfs: newRootfs(t), Spec: newSpec(bindAt(ro, "/w", "bind", "rw"), bindAt(ro, "/n", "bind", "nosuid")),
		Host: []step{mountStep(ro, unix.MS_RDONLY)}})
	mustPrepare(t, res)
	checkMount(t, res.Mounts, mountWant{at: "/w", has: []string{"rw"}})
	checkMount(t, res.Mounts, mountWant{at: "/n", has: []string{"ro", "nosuid"}})
}
