package timerslack

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const relaxed = 3 * time.Millisecond

// relax has RelaxMonitor give the monitor its coarse slack, or skips
// where it cannot.
func relax(t *testing.T) {
	t.Helper()
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("GOMAXPROCS is 1: RelaxMonitor leaves the monitor alone")
	}
	if err := RelaxMonitor(relaxed); errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		t.Skipf("the kernel refuses to change another thread's slack: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
}

func slackOf(t *testing.T, tid string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + tid + "/timerslack_ns")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRelaxMonitor(t *testing.T) {
	relax(t)
	tid, err := monitorThread()
	if err != nil {
		t.Fatal(err)
	}
	if got := slackOf(t, tid); got != relaxed.Nanoseconds() {
		t.Errorf("thread %s: slack %d ns, want %d", tid, got, relaxed.Nanoseconds())
	}
	if got := slackOf(t, "self"); got != own.Load() {
		t.Errorf("main thread: slack %d ns, want the process's %d", got, own.Load())
	}
	// It is the monitor: the thread that naps in nanosleep (the runtime's
	// usleep on Linux) nearly all the time.
	nap := strconv.Itoa(unix.SYS_NANOSLEEP) + " "
	for i := 0; ; i++ {
		b, err := os.ReadFile("/proc/self/task/" + tid + "/syscall")
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(string(b), nap) {
			break
		}
		if i == 200 {
			t.Fatalf("thread %s never seen in nanosleep (last: %q): not the runtime's monitor", tid, b)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSpawn(t *testing.T) {
	relax(t)
	// A thread the monitor may have started carries its slack.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const inherited = 2 * time.Millisecond
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(inherited.Nanoseconds()), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(own.Load()), 0, 0, 0)
	child := func() int64 {
		out, err := exec.Command("cat", "/proc/self/timerslack_ns").Output()
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := child(); got != inherited.Nanoseconds() {
		t.Fatalf("a child of the thread has slack %d ns, want its %d (what Spawn is for)", got, inherited.Nanoseconds())
	}
	var got int64
	if err := Spawn(func() error { got = child(); return nil }); err != nil {
		t.Fatal(err)
	}
	if got != own.Load() {
		t.Errorf("a child started through Spawn has slack %d ns, want the process's %d", got, own.Load())
	}
}

func TestSpawnUnrelaxed(t *testing.T) {
	// Before RelaxMonitor (another process: this one may have run it),
	// Spawn is start itself.
	if os.Getenv("TIMERSLACK_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSpawnUnrelaxed$")
		cmd.Env = append(os.Environ(), "TIMERSLACK_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return
	}
	called := false
	want := errors.New("start's error")
	if err := Spawn(func() error { called = true; return want }); err != want || !called {
		t.Fatalf("Spawn = %v, called %v; want start called and its error", err, called)
	}
	if own.Load() != 0 {
		t.Fatal("slack recorded without RelaxMonitor")
	}
}
