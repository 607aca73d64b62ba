package sigrelay

import (
	"os"
	"os/signal"
	"slices"
	"testing"
	"time"

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
		{unix.SIGPROF, false}, {unix.SIGSEGV, false}, {unix.SIGSYS, false}, {32, false}, {33, false},
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
	// Stopped, the signal is the Go runtime's again: os/signal gets it
	// (had the relay's handler stayed, it would not, and without
	// os/signal SIGUSR1 would end the test binary).
	c := make(chan os.Signal, 1)
	signal.Notify(c, unix.SIGUSR1)
	defer signal.Stop(c)
	unix.Kill(os.Getpid(), unix.SIGUSR1)
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatal("os/signal got no SIGUSR1 after Stop")
	}
	select {
	case s, ok := <-r.C:
		if ok {
			t.Errorf("relayed %v after Stop", s)
		}
	default:
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
