package container

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/runtime/timerslack"
)

// A hook gets the process's own timer slack, whichever thread the
// goroutine starting it runs on: one the runtime's monitor started carries
// the monitor's coarse slack (timerslack.Spawn). Root: changing another
// thread's slack takes CAP_SYS_NICE.
func TestHookTimerSlack(t *testing.T) {
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
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 2000000, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(own)
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(n), 0, 0, 0)
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
