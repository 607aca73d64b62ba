package container

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
	return &Container{rec: record{ID: "x", Pid: os.Getpid(), Spec: spec}}, p
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
			plan, err := c.execPlan(p, 0, tc.late)
			if err != nil {
				t.Fatal(err)
			}
			if (plan != nil) != tc.plan {
				t.Fatalf("plan %v, want one: %v", plan != nil, tc.plan)
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
		plan, err := c.execPlan(p, 0, false)
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
	plan, err := c.execPlan(p, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := withHome([]string{"PATH=/usr/bin:/bin"}, 0); !slices.Equal(plan.Env, want) {
		t.Errorf("env %q, want %q", plan.Env, want)
	}
}
