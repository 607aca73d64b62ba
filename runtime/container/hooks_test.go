package container

import (
	"errors"
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

	_ "hako.dev/nsenter/preinit" // the launched test binary's stage
	"hako.dev/runtime/timerslack"
)

// coarseThread has the runtime's monitor relaxed (timerslack.RelaxMonitor)
// and locks the test's goroutine to its thread, given another slack than
// the process's, as a thread the monitor started would carry; it returns
// the process's own, as /proc shows it. Root: changing another thread's
// slack takes CAP_SYS_NICE.
func coarseThread(t *testing.T) string {
	t.Helper()
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("GOMAXPROCS is 1: the monitor keeps its slack")
	}
	if err := timerslack.RelaxMonitor(3 * time.Millisecond); errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		t.Skipf("the kernel refuses to change another thread's slack: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/timerslack_ns") // the main thread's
	if err != nil {
		t.Fatal(err)
	}
	own := strings.TrimSpace(string(b))
	n, err := strconv.Atoi(own)
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 2000000, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(n), 0, 0, 0)
		runtime.UnlockOSThread()
	})
	return own
}

// A hook gets the process's own timer slack, whichever thread the
// goroutine starting it runs on: one the runtime's monitor started carries
// the monitor's coarse slack (timerslack.Spawn).
func TestHookTimerSlack(t *testing.T) {
	own := coarseThread(t)
	out := filepath.Join(t.TempDir(), "slack")
	h := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat /proc/self/timerslack_ns > " + out}}
	if err := runHook(h, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(string(got)); s != own {
		t.Errorf("hook: timer slack %s ns, want the process's %s (its starting thread's: 2000000)", s, own)
	}
}

// So does the container's init (and an exec's process): the C stage,
// still waiting for its request, has the process's own.
func TestLaunchTimerSlack(t *testing.T) {
	own := coarseThread(t)
	// This test binary, through the pre-init stage (imported above).
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{"container.test"}}
	l, seal, _, err := launchSealed(cmd, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer seal.closeLater()
	defer l.Kill()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(l.Pid()) + "/timerslack_ns")
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(string(b)); s != own {
		t.Errorf("launched stage: timer slack %s ns, want the process's %s (the launching thread's: 2000000)", s, own)
	}
}
