package rootfs_test

// The privileged tests' fixtures: rootfs trees, specs, and checks of
// what the helper saw.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// mountAt is the top mount at mountpoint p in ms (the one no other mount
// at p is stacked on), or nil.
func mountAt(ms []*mountinfo.Info, p string) *mountinfo.Info {
	var top *mountinfo.Info
	for _, m := range ms {
		if m.Mountpoint == p && (top == nil || m.Parent == top.ID) {
			top = m
		}
	}
	return top
}

// checkMount checks the mount at want.at. Each expected option is a
// per-mount option (mountinfo field 6: "ro", "nosuid", "idmapped"),
// "super:X" a superblock option (field 11: "sync", "size=1024k"), or
// "prop:X" an optional field starting with X ("shared:", "master:").
func checkMount(t *testing.T, ms []*mountinfo.Info, w mountWant) {
	t.Helper()
	m := mountAt(ms, w.at)
	if w.absent {
		if m != nil {
			t.Errorf("%s: unexpected mount %s %s", w.at, m.FSType, m.Options)
		}
		return
	}
	if m == nil {
		t.Errorf("%s: no mount there; mounts: %s", w.at, mountList(ms))
		return
	}
	if w.fstype != "" && m.FSType != w.fstype {
		t.Errorf("%s: fstype %s, want %s", w.at, m.FSType, w.fstype)
	}
	for _, o := range w.has {
		if !hasOpt(m, o) {
			t.Errorf("%s: %q missing: options %q, super %q, optional %q", w.at, o, m.Options, m.VFSOptions, m.Optional)
		}
	}
	for _, o := range w.not {
		if hasOpt(m, o) {
			t.Errorf("%s: %q unexpected: options %q, super %q, optional %q", w.at, o, m.Options, m.VFSOptions, m.Optional)
		}
	}
}

type mountWant struct {
	at     string
	fstype string
	has    []string
	not    []string
	absent bool
}

func hasOpt(m *mountinfo.Info, o string) bool {
	list, sep, prefix := m.Options, ",", false
	if s, ok := strings.CutPrefix(o, "super:"); ok {
		list, o = m.VFSOptions, s
	} else if s, ok := strings.CutPrefix(o, "prop:"); ok {
		list, sep, o, prefix = m.Optional, " ", s, true
	}
	for _, f := range strings.Split(list, sep) {
		if f == o || prefix && strings.HasPrefix(f, o) {
			return true
		}
	}
	return false
}

func mountList(ms []*mountinfo.Info) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "\n  %s %s %s %s", m.Mountpoint, m.FSType, m.Options, m.Optional)
	}
	return b.String()
}

// entry is a file writeTree makes: data "" is a directory, "->x" a
// symlink to x (replacing whatever the path held), anything else a file.
// Mode 0 means 0755 or 0644; owner 0:0 is left as is.
type entry struct {
	path     string
	data     string
	mode     os.FileMode
	uid, gid int
}

func writeTree(t *testing.T, dir string, entries ...entry) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(dir, e.path)
		err := os.MkdirAll(filepath.Dir(p), 0o755)
		switch link, isLink := strings.CutPrefix(e.data, "->"); {
		case err != nil:
		case isLink:
			if err = os.RemoveAll(p); err == nil {
				err = os.Symlink(link, p)
			}
		case e.data == "":
			if err = os.Mkdir(p, 0o755); errors.Is(err, os.ErrExist) {
				err = nil // chown and chmod it
			}
		default:
			err = os.WriteFile(p, []byte(e.data), 0o644)
		}
		if err == nil && (e.uid != 0 || e.gid != 0) {
			err = os.Lchown(p, e.uid, e.gid)
		}
		if err == nil && e.mode != 0 {
			err = os.Chmod(p, e.mode) // after chown, which drops set-id bits
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// newRootfs makes a small image: the directories a container expects and
// one file, plus entries. No binary: the helper is already running.
func newRootfs(t *testing.T, entries ...entry) string {
	t.Helper()
	r := t.TempDir()
	writeTree(t, r, entry{path: "proc"}, entry{path: "dev"}, entry{path: "sys"}, entry{path: "tmp"},
		entry{path: "run"}, entry{path: "etc/hostname", data: "hako\n"})
	writeTree(t, r, entries...)
	return r
}

func newSpec(mounts ...specs.Mount) *specs.Spec {
	return &specs.Spec{Root: &specs.Root{Path: "rootfs"}, Mounts: mounts,
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}}}}
}

func tmpfsAt(dest string, opts ...string) specs.Mount {
	return specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: opts}
}

func bindAt(src, dest string, opts ...string) specs.Mount {
	return specs.Mount{Destination: dest, Type: "bind", Source: src, Options: opts}
}

func procAt(dest string) specs.Mount {
	return specs.Mount{Destination: dest, Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}}
}

// mountStep mounts a tmpfs at target with flags: a submount to find
// under a bind source, or a mount to make shared.
func mountStep(target string, flags uintptr) step {
	return step{Source: "tmpfs", Target: target, FSType: "tmpfs", Flags: flags}
}

func propStep(target string, flags uintptr) step { return step{Target: target, Flags: flags} }
