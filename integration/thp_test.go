package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// thpEnabled reads THP_enabled from a process's status: 0 while
// PR_SET_THP_DISABLE holds for it.
func thpEnabled(t *testing.T, status string) string {
	t.Helper()
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "THP_enabled:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Skip("the kernel shows no THP_enabled in /proc/PID/status")
	return ""
}

// The stage runs with transparent huge pages disabled (a waiting init's
// memory stays in small pages where the host has them "always"), and
// every program gets them back: through the C stage and the Go init, for
// run and exec, and where a filter loaded early (no no_new_privs) would
// kill the prctl that gives them back. A hako run with them disabled
// passes that on, as runc does.
func TestHugePagesGivenBack(t *testing.T) {
	e := newEnv(t)
	self, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	if thpEnabled(t, string(self)) != "1" {
		t.Skip("this test runs with transparent huge pages disabled")
	}
	probe := []string{"sh", "-c", "grep THP_enabled /proc/self/status"}
	goInit := func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux} }
	killer := func(nnp bool) func(*specs.Spec) { return prctlKiller(unix.PR_SET_THP_DISABLE, nnp) }
	// A Go init that waits for start itself, its hooks in the container
	// recording what they get: the createContainer one on the host's
	// paths (before pivot_root), the startContainer one in the
	// container's /dev, read by an exec.
	hooked := filepath.Join(t.TempDir(), "create-hook")
	hooks := func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			CreateContainer: []specs.Hook{hook("grep THP_enabled /proc/self/status > " + hooked)},
			StartContainer:  []specs.Hook{hook("grep THP_enabled /proc/self/status > /dev/start-hook")},
		}
	}
	// waiting: the waiting init's THP_enabled. Where the filter loaded
	// early would refuse the giving back, the Go init (such a filter
	// keeps the C stage out) gives them back before it, so before the
	// wait.
	for _, tc := range []struct {
		name, waiting string
		edit          func(*specs.Spec)
	}{
		{"stage", "0", nil},
		{"go-init", "0", goInit},
		{"go-init-hooks", "0", hooks},
		{"early-filter", "1", killer(false)},
		{"early-filter-go-init", "1", func(s *specs.Spec) { killer(false)(s); goInit(s) }},
		{"late-filter", "0", killer(true)},
		{"late-filter-go-init", "0", func(s *specs.Spec) { killer(true)(s); goInit(s) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := e.id("thp-" + tc.name)
			bundle := e.bundle([]string{"sleep", "30"}, tc.edit)
			e.mustHako("create", "--bundle", bundle, id)
			defer e.hako("delete", "-f", id)
			var st runcState
			if err := json.Unmarshal([]byte(e.mustHako("state", id)), &st); err != nil {
				t.Fatal(err)
			}
			status, err := os.ReadFile("/proc/" + strconv.Itoa(st.Pid) + "/status")
			if err != nil {
				t.Fatal(err)
			}
			if got := thpEnabled(t, string(status)); got != tc.waiting {
				t.Errorf("waiting init: THP_enabled %s, want %s", got, tc.waiting)
			}
			e.mustHako("start", id)
			if out := e.mustHako(append([]string{"exec", id}, probe...)...); thpEnabled(t, out) != "1" {
				t.Errorf("exec: %q, want THP_enabled 1", out)
			}
			run := e.bundle(probe, tc.edit)
			if out := e.mustHako("run", "--bundle", run, id+"-run"); thpEnabled(t, out) != "1" {
				t.Errorf("run: %q, want THP_enabled 1", out)
			}
			if tc.name == "go-init-hooks" {
				b, err := os.ReadFile(hooked)
				if err != nil || thpEnabled(t, string(b)) != "1" {
					t.Errorf("createContainer hook: %q (%v), want THP_enabled 1", b, err)
				}
				out := e.mustHako("exec", id, "cat", "/dev/start-hook")
				if thpEnabled(t, out) != "1" {
					t.Errorf("startContainer hook: %q, want THP_enabled 1", out)
				}
			}
		})
	}
	t.Run("inherited", func(t *testing.T) {
		// The flag is this whole test process's while hako runs.
		if err := unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0); err != nil {
			t.Skipf("the kernel refuses: %v", err)
		}
		out := e.hako("run", "--bundle", e.bundle(probe, nil), e.id("thp-inherited"))
		unix.Prctl(unix.PR_SET_THP_DISABLE, 0, 0, 0, 0)
		if out.code != 0 || thpEnabled(t, out.stdout) != "0" {
			t.Errorf("run under PR_SET_THP_DISABLE: exit %d, %q, want THP_enabled 0", out.code, out.stdout)
		}
	})
}

// prctlKiller gives a config a filter that kills any prctl(option, ...):
// loaded before the credentials change without no_new_privs (nnp false),
// right before the program's execve with it.
func prctlKiller(option uint64, nnp bool) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Process.NoNewPrivileges = nnp
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
			Names: []string{"prctl"}, Action: specs.ActKillProcess,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: option, Op: specs.OpEqualTo}},
		}}}
	}
}
