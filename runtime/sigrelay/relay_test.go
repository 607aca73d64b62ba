package sigrelay

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		sig unix.Signal
		ok  bool
	}{
		{unix.SIGTERM, true}, {unix.SIGINT, true}, {unix.SIGWINCH, true}, {unix.SIGPIPE, true},
		{unix.SIGTSTP, true}, {unix.SIGCONT, true}, {37, true}, {64, true},
		{unix.SIGKILL, false}, {unix.SIGSTOP, false}, {unix.SIGURG, false}, {unix.SIGCHLD, false},
		{unix.SIGPROF, false}, {unix.SIGSEGV, false}, {unix.SIGSYS, true}, {32, false}, {33, false},
		{34, true}, {35, true}, // 34: glibc's SIGRTMIN, musl's own but caught
		{0, false}, {65, false},
	} {
		if got := refused(tc.sig) == nil; got != tc.ok {
			t.Errorf("signal %d: catchable %v, want %v", int(tc.sig), got, tc.ok)
		}
		if in := slices.Contains(Forwardable(), tc.sig); in != tc.ok {
			t.Errorf("signal %d: in Forwardable %v, want %v", int(tc.sig), in, tc.ok)
		}
	}
	if _, err := Catch([]unix.Signal{unix.SIGTERM, unix.SIGURG}, 1); err == nil {
		t.Error("Catch(SIGURG) succeeded")
	}
}

func recvSig(t *testing.T, c <-chan unix.Signal) unix.Signal {
	t.Helper()
	select {
	case s := <-c:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no signal relayed in 5s")
		return 0
	}
}

func TestCatchAndStop(t *testing.T) {
	r, err := Catch([]unix.Signal{unix.SIGUSR1, unix.SIGUSR2, 40}, 16)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []unix.Signal{unix.SIGUSR2, 40, unix.SIGUSR1} {
		if err := unix.Kill(os.Getpid(), s); err != nil {
			t.Fatal(err)
		}
		if got := recvSig(t, r.C); got != s {
			t.Fatalf("relayed %v, want %v", got, s)
		}
	}
	r.Stop()
	givenBack(t, unix.SIGUSR1)
	select {
	case s, ok := <-r.C:
		if ok {
			t.Errorf("relayed %v after Stop", s)
		}
	default:
	}
}

// Signal 34 (glibc's SIGRTMIN, which musl keeps for itself and its
// sigaction refuses) is caught and relayed with either C library, and
// can be caught again after Stop. (os/signal never gets it: the Go
// runtime leaves 34 to musl.)
func TestSignal34(t *testing.T) {
	for range 2 {
		r, err := Catch([]unix.Signal{34}, 4)
		if err != nil {
			t.Fatal(err)
		}
		unix.Kill(os.Getpid(), 34)
		if s := recvSig(t, r.C); s != 34 {
			t.Fatalf("relayed %v, want 34", s)
		}
		r.Stop()
	}
}

// A burst of queued real-time signals from another thread arrives: each
// of them with the C handler, at least one through os/signal (which
// coalesces a signal pending twice); none as another signal.
func TestBurst(t *testing.T) {
	const n = 200
	r, err := Catch([]unix.Signal{41}, n)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n {
			unix.Kill(os.Getpid(), 41)
		}
	}()
	<-done
	want := n
	if !everyQueued {
		want = 1
	}
	got := 0
	deadline := time.After(5 * time.Second)
	for got < want {
		select {
		case s := <-r.C:
			if s != 41 {
				t.Fatalf("relayed %v, want signal 41", s)
			}
			got++
		case <-deadline:
			t.Fatalf("%d of %d queued signals relayed, want %d", got, n, want)
		}
	}
	r.Stop()
}

// Two Relays catching one signal both get it; once both stopped, it is
// the Go runtime's again.
func TestCatchTwice(t *testing.T) {
	a, err := Catch([]unix.Signal{unix.SIGUSR1, unix.SIGUSR2}, 4)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Catch([]unix.Signal{unix.SIGUSR1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	unix.Kill(os.Getpid(), unix.SIGUSR1)
	if recvSig(t, a.C) != unix.SIGUSR1 || recvSig(t, b.C) != unix.SIGUSR1 {
		t.Fatal("not both Relays got SIGUSR1")
	}
	a.Stop()
	a.Stop() // twice: no panic
	unix.Kill(os.Getpid(), unix.SIGUSR1)
	if recvSig(t, b.C) != unix.SIGUSR1 {
		t.Fatal("the remaining Relay lost SIGUSR1")
	}
	b.Stop()
	givenBack(t, unix.SIGUSR1)
}

// givenBack checks that s is the Go runtime's again: os/signal gets it
// (had a relay's handler stayed, it would not, and without os/signal the
// signal would end the test binary).
func givenBack(t *testing.T, s unix.Signal) {
	t.Helper()
	c := make(chan os.Signal, 1)
	signal.Notify(c, s)
	defer signal.Stop(c)
	unix.Kill(os.Getpid(), s)
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatalf("os/signal got no %v after Stop", s)
	}
}

// SIGPIPE, caught by the C handler while the runtime has it ignored, is
// dropped after Stop (the process lives on) and relayed again by a new
// Relay.
func TestSIGPIPEHeld(t *testing.T) {
	if !cHandler {
		t.Skip("no C handler in this build")
	}
	r, err := Catch([]unix.Signal{unix.SIGPIPE}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !signal.Ignored(unix.SIGPIPE) {
		t.Error("SIGPIPE not ignored by the runtime while the C handler catches it")
	}
	unix.Kill(os.Getpid(), unix.SIGPIPE)
	if s := recvSig(t, r.C); s != unix.SIGPIPE {
		t.Fatalf("relayed %v", s)
	}
	// A child starts with SIGPIPE's default action, not ignored.
	out, err := exec.Command("sh", "-c", "grep SigIgn /proc/$$/status").Output()
	if err != nil {
		t.Fatal(err)
	}
	ign, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(string(out), "SigIgn:")), 16, 64)
	if err != nil || ign&(1<<(unix.SIGPIPE-1)) != 0 {
		t.Errorf("child's %s (%v): SIGPIPE ignored", strings.TrimSpace(string(out)), err)
	}
	r.Stop()
	unix.Kill(os.Getpid(), unix.SIGPIPE) // dropped: the test goes on
	r, err = Catch([]unix.Signal{unix.SIGPIPE}, 4)
	if err != nil {
		t.Fatal(err)
	}
	unix.Kill(os.Getpid(), unix.SIGPIPE)
	if s := recvSig(t, r.C); s != unix.SIGPIPE {
		t.Fatalf("relayed %v by a second Relay", s)
	}
	r.Stop()
}

// A write to a broken stdout does not end a process whose Relay catches
// SIGPIPE (the Go runtime would, were SIGPIPE not os/signal's), and the
// Relay gets it: in a child, whose stdout is a pipe closed at the other end.
func TestBrokenStdout(t *testing.T) {
	if os.Getenv("SIGRELAY_TEST_CHILD") != "" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStdoutChild$")
	cmd.Env = append(os.Environ(), "SIGRELAY_TEST_CHILD=1")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd.Stdout = w
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	w.Close()
	if err != nil || !strings.Contains(stderr.String(), "relayed SIGPIPE") {
		t.Errorf("child: %v; stderr %q", err, stderr.String())
	}
}

func TestBrokenStdoutChild(t *testing.T) {
	if os.Getenv("SIGRELAY_TEST_CHILD") == "" {
		t.Skip("runs as TestBrokenStdout's child")
	}
	r, err := Catch(Forwardable(), 8)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.Write([]byte("into a broken pipe\n"))
	if s := recvSig(t, r.C); s == unix.SIGPIPE {
		fmt.Fprintln(os.Stderr, "relayed SIGPIPE")
	}
	r.Stop()
	os.Exit(0) // before the test framework writes to the broken stdout
}

// SIGSYS sent by a process (kill, sigqueue) is relayed; raised by the
// kernel for a seccomp filter's SECCOMP_RET_TRAP in this very process it
// still crashes it as the Go runtime does ("SIGSYS: bad system call"):
// in a child, whose thread loads such a filter for getppid(2).
func TestSIGSYS(t *testing.T) {
	if os.Getenv("SIGRELAY_TEST_CHILD") != "" {
		return
	}
	r, err := Catch([]unix.Signal{unix.SIGSYS}, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	unix.Kill(os.Getpid(), unix.SIGSYS)
	if s := recvSig(t, r.C); s != unix.SIGSYS {
		t.Fatalf("relayed %v", s)
	}
	if cHandler {
		// os/signal takes a sigqueue'd SIGSYS for a fault and crashes.
		info := unix.Siginfo{Signo: int32(unix.SIGSYS), Code: -1} // SI_QUEUE
		if _, _, e := unix.Syscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(os.Getpid()), uintptr(unix.SIGSYS), uintptr(unsafe.Pointer(&info))); e != 0 {
			t.Fatal(e)
		}
		if s := recvSig(t, r.C); s != unix.SIGSYS {
			t.Fatalf("relayed %v after sigqueue", s)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSIGSYSTrapChild$", "-test.v")
	cmd.Env = append(os.Environ(), "SIGRELAY_TEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil && strings.Contains(string(out), "--- SKIP") {
		t.Skipf("child: %s", out)
	}
	if err == nil || !strings.Contains(string(out), "SIGSYS: bad system call") {
		t.Errorf("trapped child: %v, output %q; want the runtime's crash on SIGSYS", err, out)
	}
}

func TestSIGSYSTrapChild(t *testing.T) {
	if os.Getenv("SIGRELAY_TEST_CHILD") == "" {
		t.Skip("runs as TestSIGSYS's child")
	}
	if _, err := Catch([]unix.Signal{unix.SIGSYS}, 4); err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread() // the filter is this thread's: never unlocked
	const (
		retAllow = 0x7fff0000 // SECCOMP_RET_ALLOW
		retTrap  = 0x00030000 // SECCOMP_RET_TRAP
	)
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_GETPPID},
		{Code: unix.BPF_RET | unix.BPF_K, K: retTrap},
		{Code: unix.BPF_RET | unix.BPF_K, K: retAllow},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0); err != nil {
		t.Skipf("the kernel refuses a seccomp filter: %v", err)
	}
	unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
	t.Fatal("getppid trapped, and the process lives on")
}
