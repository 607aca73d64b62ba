package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// slackOf reads a thread's or process's timer slack, in ns.
func slackOf(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// The CLI gives the Go runtime's monitor thread a millisecond of timer
// slack (runtime/timerslack), and nothing it starts inherits that: the
// container's init waiting for start, its program in a run, an exec's
// process and the hooks hako runs all get the slack hako was started
// with.
func TestTimerSlack(t *testing.T) {
	e := newEnv(t)
	// hako starts from a thread of this process with a slack of its own:
	// each subtest's goroutine locks its thread and sets it.
	const own = "77777"
	ownSlack := func(t *testing.T) {
		runtime.LockOSThread()
		old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 77777, 0, 0, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0)
			runtime.UnlockOSThread()
		})
	}

	probe := []string{"cat", "/proc/self/timerslack_ns"}
	hooked := filepath.Join(t.TempDir(), "prestart")
	withHook := func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Prestart: []specs.Hook{hook("cat /proc/self/timerslack_ns > " + hooked)}}
	}
	t.Run("run", func(t *testing.T) {
		ownSlack(t)
		r := e.hako("run", "--bundle", e.bundle(probe, withHook), e.id("slack-run"))
		if r.code != 0 || strings.TrimSpace(r.stdout) != own {
			t.Errorf("run: %+v, want the program's slack %s", r, own)
		}
		if got := slackOf(t, hooked); got != own {
			t.Errorf("prestart hook: slack %s, want %s", got, own)
		}
	})
	t.Run("create_exec", func(t *testing.T) {
		ownSlack(t)
		id := e.id("slack-exec")
		e.mustHako("create", "--bundle", e.bundle([]string{"sleep", "30"}, nil), id)
		defer e.hako("delete", "-f", id)
		if got := slackOf(t, "/proc/"+strconv.Itoa(e.state(id).Pid)+"/timerslack_ns"); got != own {
			t.Errorf("waiting init: slack %s, want %s", got, own)
		}
		e.mustHako("start", id)
		if out := strings.TrimSpace(e.mustHako(append([]string{"exec", id}, probe...)...)); out != own {
			t.Errorf("exec: slack %s, want %s", out, own)
		}
	})
	t.Run("monitor_relaxed", func(t *testing.T) {
		if runtime.GOMAXPROCS(0) < 2 {
			// hako's, from the same CPUs and environment.
			t.Skip("GOMAXPROCS is 1: hako's monitor keeps its slack")
		}
		ownSlack(t)
		// A foreground run stays while its program sleeps: its threads.
		id := e.id("slack-monitor")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, hakoBin, "--root", e.root, "run", "--bundle", e.bundle([]string{"sleep", "30"}, nil), id)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		defer e.hako("kill", id, "KILL")
		e.waitStatus(id, "running")
		hako := strconv.Itoa(cmd.Process.Pid)
		tasks, err := os.ReadDir("/proc/" + hako + "/task")
		if err != nil {
			t.Fatal(err)
		}
		relaxed := 0
		for _, task := range tasks {
			s := slackOf(t, "/proc/"+task.Name()+"/timerslack_ns")
			switch {
			case task.Name() == hako && s != own:
				t.Errorf("hako's main thread: slack %s, want %s", s, own)
			case s == "1000000":
				relaxed++
			case s != own:
				t.Errorf("hako's thread %s: slack %s, want %s or the monitor's 1000000", task.Name(), s, own)
			}
		}
		if relaxed == 0 {
			t.Errorf("none of hako's %d threads has a slack of 1 ms: the monitor kept its own", len(tasks))
		}
	})
}
