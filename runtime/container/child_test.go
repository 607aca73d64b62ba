package container

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestStatusText(t *testing.T) {
	for _, tc := range []struct {
		ws    unix.WaitStatus
		text  string
		shell int
	}{
		{0, "exit status 0", 0},
		{3 << 8, "exit status 3", 3},
		{unix.WaitStatus(unix.SIGKILL), "signal: killed", 128 + 9},
		{unix.WaitStatus(unix.SIGSEGV) | 0x80, "signal: segmentation fault (core dumped)", 128 + 11},
	} {
		if got := statusText(tc.ws); got != tc.text {
			t.Errorf("statusText(%#x) = %q, want %q", uint32(tc.ws), got, tc.text)
		}
		if got := shellStatus(tc.ws); got != tc.shell {
			t.Errorf("shellStatus(%#x) = %d, want %d", uint32(tc.ws), got, tc.shell)
		}
	}
}

// A child is signalled until it is reaped and not after; Wait reaps it
// once and tells every caller the same end.
func TestChild(t *testing.T) {
	pid, err := syscall.ForkExec("/bin/sleep", []string{"sleep", "60"}, &syscall.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	p := newChild(pid)
	defer func() {
		if !p.reaped {
			unix.Kill(pid, unix.SIGKILL)
			unix.Wait4(pid, nil, 0, nil)
		}
	}()
	done := make(chan unix.WaitStatus, 2)
	for range 2 {
		go func() {
			ws, err := p.Wait()
			if err != nil {
				t.Error(err)
			}
			done <- ws
		}()
	}
	if err := p.Signal(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if ws := <-done; statusText(ws) != "signal: terminated" {
			t.Errorf("Wait: %s, want signal: terminated", statusText(ws))
		}
	}
	if err := p.Kill(); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("Kill after the reap: %v, want %v", err, os.ErrProcessDone)
	}
	if ws, err := p.Wait(); err != nil || !ws.Signaled() {
		t.Errorf("Wait again: %s, %v", statusText(ws), err)
	}
}
