package nsenter

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// A launched process whose parent goes away before sending the request
// (the parent's end of the socket closes with it) exits by itself.
func TestLaunchedExitsWhenParentGoes(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NSENTER_TEST_HELPER=1")
	l, err := Launch(cmd)
	if err != nil {
		t.Fatal(err)
	}
	l.sock.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || cmd.ProcessState.ExitCode() != 1 {
			t.Errorf("launched process ended with %v, want exit status 1", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("launched process still waiting after its parent's socket closed")
	}
}
