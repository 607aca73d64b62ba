package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/runtime/execstage"
	"hako.dev/seccomp"
)

// planFor is execPlan for a container whose init is this test process
// (so its root is the host's /).
func planFor(t *testing.T, edit func(*specs.Spec, *specs.Process), late bool) (*Container, *specs.Process) {
	t.Helper()
	spec := Example()
	p := &specs.Process{Args: []string{"sh"}, Env: []string{"PATH=/usr/bin:/bin"}, Cwd: "/"}
	if edit != nil {
		edit(spec, p)
	}
	return &Container{rec: record{ID: "x", Pid: os.Getpid(), Spec: specOf(spec)}}, p
}

// TestExecPlanFallsBack: what the C exec stage does not carry keeps an
// exec in Go (no plan); the rest gets one.
func TestExecPlanFallsBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec, *specs.Process)
		late bool
		plan bool
	}{
		{"plain", nil, false, true},
		{"seccomp", func(s *specs.Spec, _ *specs.Process) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}
		}, false, true},
		{"paused", nil, true, false},
		{"terminal", func(_ *specs.Spec, p *specs.Process) { p.Terminal = true }, false, false},
		{"host mounts", nil, false, false},
		{"personality", func(s *specs.Spec, _ *specs.Process) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX"} }, false, false},
		{"scheduler", func(_ *specs.Spec, p *specs.Process) { p.Scheduler = &specs.Scheduler{Policy: specs.SchedOther} }, false, false},
		{"ioprio", func(_ *specs.Spec, p *specs.Process) {
			p.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE}
		}, false, false},
		{"mempolicy", func(s *specs.Spec, _ *specs.Process) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "MPOL_DEFAULT"}
		}, false, false},
		{"apparmor", func(_ *specs.Spec, p *specs.Process) { p.ApparmorProfile = "x" }, false, false},
		{"selinux", func(_ *specs.Spec, p *specs.Process) { p.SelinuxLabel = "x" }, false, false},
		{"notify", func(s *specs.Spec, _ *specs.Process) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x",
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}}
		}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p := planFor(t, tc.edit, tc.late)
			c.rec.HostMounts = tc.name == "host mounts"
			var filter *seccomp.Filter
			if sc, _ := c.execView().seccompProfile(); sc != nil {
				f, _, err := seccomp.Compile(sc, p.NoNewPrivileges)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Release()
				filter = f
			}
			plan, err := c.execPlan(p, filter, 0, tc.late)
			if err != nil {
				t.Fatal(err)
			}
			if (plan != nil) != tc.plan {
				t.Fatalf("plan %v, want one: %v", plan != nil, tc.plan)
			}
			if plan != nil && (len(plan.BPF) > 0) != (filter != nil) {
				t.Errorf("plan has %d bytes of filter, want some: %v", len(plan.BPF), filter != nil)
			}
		})
	}
}

// TestExecPlanLooksUp: the program and HOME, looked up from outside, are
// what exec.LookPath and the Go init find, error texts included.
func TestExecPlanLooksUp(t *testing.T) {
	t.Setenv("PATH", "/usr/bin:/bin")
	for _, name := range []string{"sh", "/bin/sh", "nosuch", "/nosuch", "/etc", "/etc/passwd"} {
		c, p := planFor(t, func(_ *specs.Spec, p *specs.Process) { p.Args = []string{name} }, false)
		plan, err := c.execPlan(p, nil, 0, false)
		want, wantErr := exec.LookPath(name)
		switch {
		case wantErr != nil:
			if err == nil || err.Error() != wantErr.Error() {
				t.Errorf("%s: error %v, want %v", name, err, wantErr)
			}
		case err != nil || plan.Path != want:
			t.Errorf("%s: path %v (%v), want %s", name, plan, err, want)
		}
	}
	c, p := planFor(t, nil, false)
	plan, err := c.execPlan(p, nil, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := withHome([]string{"PATH=/usr/bin:/bin"}, 0); !slices.Equal(plan.Env, want) {
		t.Errorf("env %q, want %q", plan.Env, want)
	}
}

// TestPlanFileSealed: a plan's memfd is sealed against any change before
// it is handed over, as the C stage requires.
func TestPlanFileSealed(t *testing.T) {
	fd, err := planFile(&execstage.Plan{Path: "/x", Args: []string{"x"}}, unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	want := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if err != nil || seals&want != want {
		t.Fatalf("seals %#x, %v; want %#x", seals, err, want)
	}
	if _, err := unix.Pwrite(fd, []byte("y"), 0); err == nil {
		t.Error("a sealed plan was written to")
	}
}

// TestIsExe: only the very file (device and inode) counts as the binary.
func TestIsExe(t *testing.T) {
	fd, err := unix.Open("/proc/self/exe", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   [2]uint64
		want bool
	}{{[2]uint64{st.Dev, st.Ino}, true}, {[2]uint64{st.Dev, st.Ino + 1}, false}, {[2]uint64{}, false}} {
		if got := isExe(fd, tc.id); got != tc.want {
			t.Errorf("isExe(%v) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

// TestExecutableInNoexec: a program on a noexec mount is not one, as
// access(X_OK) says, even with its execute bits.
func TestExecutableInNoexec(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	// In a mount namespace of this thread's own (it ends with the test,
	// locked): other packages' tests, running meanwhile, check that the
	// host's mount table gains nothing while they run.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		t.Skipf("unshare mount namespace: %v", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOEXEC, ""); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	if err := os.WriteFile(dir+"/prog", []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := executableIn(root, dir+"/prog"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("noexec: %v, want permission denied", err)
	}
	if err := executableIn(root, "/bin/sh"); err != nil {
		t.Errorf("/bin/sh: %v", err)
	}
}

// TestLazySpec: state.json's config survives a save and a load whole,
// undecoded until asked for; hooks are looked for without decoding it.
func TestLazySpec(t *testing.T) {
	spec := Example()
	rec := record{ID: "x", Spec: specOf(spec)}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var back record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Spec == nil || back.Spec.spec != nil {
		t.Fatalf("config decoded on load: %+v", back.Spec)
	}
	c := &Container{rec: back}
	if c.hooks() != nil || c.rec.Spec.spec != nil {
		t.Error("no hooks: the config was decoded to find none")
	}
	again, _ := json.Marshal(back) // saved again, still undecoded
	if !bytes.Equal(again, b) {
		t.Errorf("re-saved state differs:\n%s\n%s", again, b)
	}
	if got := c.Spec(); got == nil || got.Hostname != spec.Hostname || len(got.Mounts) != len(spec.Mounts) {
		t.Errorf("Spec() = %+v", got)
	}
	spec.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}}
	b, _ = json.Marshal(record{ID: "x", Spec: specOf(spec)})
	var withHooks record
	json.Unmarshal(b, &withHooks)
	if h := (&Container{rec: withHooks}).hooks(); h == nil || len(h.Poststop) != 1 {
		t.Errorf("hooks() = %+v", h)
	}
	var none record
	json.Unmarshal([]byte(`{"id":"x"}`), &none)
	if c := (&Container{rec: none}); c.Spec() != nil || c.hooks() != nil {
		t.Error("a record without a config has one")
	}
}

// TestExecView: an exec's part of the config, decoded alone from the
// state or taken from a decoded config, is the config's.
func TestExecView(t *testing.T) {
	spec := Example()
	spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	spec.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX32"}
	b, _ := json.Marshal(record{ID: "x", Spec: specOf(spec)})
	for _, decoded := range []bool{false, true} {
		var rec record
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		c := &Container{rec: rec}
		if decoded {
			c.Spec()
		}
		v := c.execView()
		if v == nil || !reflect.DeepEqual(v.Process, spec.Process) || !v.hasSeccomp() || must(v.seccompProfile()).DefaultAction != specs.ActAllow ||
			v.Linux.Personality.Domain != "LINUX32" || v.Linux.MemoryPolicy != nil {
			t.Errorf("decoded %v: view %+v", decoded, v)
		}
		if !reflect.DeepEqual(c.Process(), spec.Process) {
			t.Errorf("decoded %v: Process() differs", decoded)
		}
	}
	if (&Container{}).execView() != nil || (&Container{}).Process() != nil {
		t.Error("no config, yet a view")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A profile in the state that does not decode is an error, never none.
func TestSeccompProfileUndecodable(t *testing.T) {
	v := &execView{}
	v.Linux.Seccomp = json.RawMessage(`{"defaultAction": 7}`)
	for range 2 {
		if p, err := v.seccompProfile(); err == nil || p != nil {
			t.Fatalf("seccompProfile() = %v, %v; want an error", p, err)
		}
		if !v.hasSeccomp() {
			t.Fatal("after a failed decode, the view says there is no profile")
		}
	}
}
