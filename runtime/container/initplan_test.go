package container

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/rootfs"
	"hako.dev/runtime/execstage"
)

func initPlanFor(t *testing.T, edit func(*specs.Spec, *CreateOpts), f *initFilter) *execstage.Plan {
	t.Helper()
	spec := Example()
	spec.Process.Terminal = false // Example's, as runc's
	o := CreateOpts{}
	if edit != nil {
		edit(spec, &o)
	}
	rc := rootfs.Config{Spec: spec, Rootfs: "/b/rootfs", Bundle: "/b", NoPivot: o.NoPivot}
	plan, err := initPlan(spec, rc, o, "id", f)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestInitPlanFallsBack: what the C stage does not carry keeps the init
// in Go (no plan); the rest gets one.
func TestInitPlanFallsBack(t *testing.T) {
	hook := specs.Hook{Path: "/bin/true"}
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec, *CreateOpts)
		f    *initFilter
		plan bool
	}{
		{"plain", nil, nil, true},
		{"seccomp with no_new_privs", nil, &initFilter{bpf: make([]byte, 8)}, true},
		{"seccomp loaded early, stage allowed", func(s *specs.Spec, _ *CreateOpts) { s.Process.NoNewPrivileges = false },
			&initFilter{bpf: make([]byte, 8), stageOK: true}, true},
		{"seccomp loaded early, stage refused", func(s *specs.Spec, _ *CreateOpts) { s.Process.NoNewPrivileges = false },
			&initFilter{bpf: make([]byte, 8)}, false},
		{"seccomp listener", nil, &initFilter{bpf: make([]byte, 8), notify: true, stageOK: true}, false},
		{"terminal", func(s *specs.Spec, _ *CreateOpts) { s.Process.Terminal = true }, nil, false},
		{"no pivot", func(_ *specs.Spec, o *CreateOpts) { o.NoPivot = true }, nil, false},
		{"prestart hook", func(s *specs.Spec, _ *CreateOpts) { s.Hooks = &specs.Hooks{Prestart: []specs.Hook{hook}} }, nil, true},
		{"createRuntime hook", func(s *specs.Spec, _ *CreateOpts) { s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{hook}} }, nil, true},
		{"createContainer hook", func(s *specs.Spec, _ *CreateOpts) { s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{hook}} }, nil, false},
		{"startContainer hook", func(s *specs.Spec, _ *CreateOpts) { s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{hook}} }, nil, false},
		{"poststop hook", func(s *specs.Spec, _ *CreateOpts) { s.Hooks = &specs.Hooks{Poststop: []specs.Hook{hook}} }, nil, true},
		{"no mount namespace", func(s *specs.Spec, _ *CreateOpts) { s.Linux.Namespaces = nil }, nil, false},
		{"joined mount namespace", func(s *specs.Spec, _ *CreateOpts) {
			setNS(s, specs.MountNamespace, "/proc/1/ns/mnt")
		}, nil, false},
		{"joined network namespace, sysfs", func(s *specs.Spec, _ *CreateOpts) {
			setNS(s, specs.NetworkNamespace, "/proc/1/ns/net")
		}, nil, false},
		{"shared propagation", func(s *specs.Spec, _ *CreateOpts) { s.Linux.RootfsPropagation = "shared" }, nil, false},
		{"idmap", func(s *specs.Spec, _ *CreateOpts) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/m", Type: "bind", Source: "/x", Options: []string{"bind", "idmap"}})
		}, nil, false},
		{"tmpcopyup", func(s *specs.Spec, _ *CreateOpts) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/m", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}})
		}, nil, false},
		{"unknown device type", func(s *specs.Spec, _ *CreateOpts) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "q"}}
		}, nil, false},
		{"personality", func(s *specs.Spec, _ *CreateOpts) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX"} }, nil, false},
		{"scheduler", func(s *specs.Spec, _ *CreateOpts) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther} }, nil, false},
		{"apparmor", func(s *specs.Spec, _ *CreateOpts) { s.Process.ApparmorProfile = "x" }, nil, false},
		{"empty PATH", func(s *specs.Spec, _ *CreateOpts) { s.Process.Env = nil }, nil, false},
		{"program ..", func(s *specs.Spec, _ *CreateOpts) { s.Process.Args = []string{".."} }, nil, false},
		{"unknown capability here", func(s *specs.Spec, _ *CreateOpts) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_CHECKPOINT_RESTORE_X")
		}, nil, true}, // unknown names are skipped (a warning), as by the Go init
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := initPlanFor(t, tc.edit, tc.f) != nil; got != tc.plan {
				t.Errorf("plan: %v, want %v", got, tc.plan)
			}
		})
	}
}

func setNS(s *specs.Spec, typ specs.LinuxNamespaceType, path string) {
	for i := range s.Linux.Namespaces {
		if s.Linux.Namespaces[i].Type == typ {
			s.Linux.Namespaces[i].Path = path
			return
		}
	}
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
}

// TestInitPlanSteps: the plan's steps are rootfs.Plan's, with the host
// settings right after the root switch (and the root's propagation), the
// process settings as an exec's, and the program's candidates in
// exec.LookPath's order.
func TestInitPlanSteps(t *testing.T) {
	plan := initPlanFor(t, func(s *specs.Spec, o *CreateOpts) {
		s.Linux.RootfsPropagation = "rslave"
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192"}
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, UID: u32p(7)}}
		s.Hostname = "h"
		s.Process.Args = []string{"sh", "-c", "true"}
		s.Process.Env = []string{"PATH=/usr/bin::/bin", "HOME=/root"}
		o.PreserveFDs, o.NoNewKeyring = 2, true
	}, nil)
	if plan == nil {
		t.Fatal("no plan")
	}
	su := plan.Setup
	var kinds []execstage.StepKind
	host := -1
	for i, st := range su.Steps {
		kinds = append(kinds, st.Kind)
		if st.Kind == execstage.HostSettings {
			host = i
		}
		if st.Kind == execstage.Mknod && st.Target == "/dev/fuse" &&
			(st.DevMode != unix.S_IFCHR|0o666 || st.DevMajor != 10 || st.DevMinor != 229 || st.UID != 7 || st.GID != -1) {
			t.Errorf("device step %+v", st)
		}
	}
	if host < 2 || kinds[host-2] != execstage.PivotRoot || kinds[host-1] != execstage.RootPropagation {
		t.Errorf("host settings at %d in %v, want after pivot_root and the root's propagation", host, kinds)
	}
	if kinds[0] != execstage.RootPropagation || kinds[1] != execstage.BindRootfs {
		t.Errorf("steps start %v", kinds[:2])
	}
	wantSysctls := [][2]string{{"/proc/sys/kernel/msgmax", "8192"}, {"/proc/sys/net/ipv4/ip_forward", "1"}}
	if !reflect.DeepEqual(su.Sysctls, wantSysctls) || su.Hostname != "h" {
		t.Errorf("sysctls %v, hostname %q", su.Sysctls, su.Hostname)
	}
	if want := []string{"/usr/bin/sh", "sh", "/bin/sh"}; !reflect.DeepEqual(su.Candidates, want) {
		t.Errorf("candidates %v, want %v", su.Candidates, want)
	}
	if su.Home || plan.Keyring != "" || plan.Kind != execstage.Init || plan.Path != "" ||
		plan.Sync != initSockFd || plan.Fifo != initFifoFd || plan.PreserveFrom != initFifoFd+1 || plan.Preserve != 2 {
		t.Errorf("plan %+v", plan)
	}
	if _, err := plan.Encode(); err != nil {
		t.Errorf("encode: %v", err)
	}
	for _, st := range su.Steps {
		if st.Kind == execstage.Hooks {
			t.Errorf("a hooks step without hooks: %v", kinds)
		}
	}
	// Prestart hooks: asked for right before pivot_root, every mount made.
	hooked := initPlanFor(t, func(s *specs.Spec, _ *CreateOpts) {
		s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/true"}}}
	}, nil)
	if n := len(hooked.Setup.Steps); n < 3 || hooked.Setup.Steps[n-1].Kind == execstage.Hooks {
		t.Fatalf("hooked steps %+v", hooked.Setup.Steps)
	}
	for i, st := range hooked.Setup.Steps {
		if st.Kind == execstage.PivotRoot && hooked.Setup.Steps[i-1].Kind != execstage.Hooks {
			t.Errorf("step before pivot_root: %v, want hooks", hooked.Setup.Steps[i-1].Kind)
		}
	}
	if hooked.Setup.Quoted != `"sh"` {
		t.Errorf("quoted program %s", hooked.Setup.Quoted)
	}
	if p := initPlanFor(t, func(s *specs.Spec, _ *CreateOpts) { s.Process.Args = []string{"./x"} }, nil); !p.Setup.Home ||
		!reflect.DeepEqual(p.Setup.Candidates, []string{"./x"}) || p.Keyring != "_ses.id" {
		t.Errorf("relative program: home %v, candidates %v, keyring %q", p.Setup.Home, p.Setup.Candidates, p.Keyring)
	}
}

func u32p(v uint32) *uint32 { return &v }
