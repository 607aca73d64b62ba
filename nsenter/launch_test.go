package nsenter

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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
	done := make(chan unix.WaitStatus, 1)
	go func() { done <- reap(l.pid) }()
	select {
	case ws := <-done:
		if !ws.Exited() || ws.ExitStatus() != 1 {
			t.Errorf("launched process ended with %s, want exit status 1", statusText(ws))
		}
	case <-time.After(10 * time.Second):
		l.kill()
		t.Fatal("launched process still waiting after its parent's socket closed")
	}
}

// Launch starts the process itself (forkExec): stdio that are not files
// are refused before anything starts, a missing binary reads as os/exec
// would say it.
func TestLaunchRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  *exec.Cmd
		want string
	}{
		{"stdout a buffer", &exec.Cmd{Path: os.Args[0], Stdout: new(bytes.Buffer)}, "stdin, stdout and stderr must be files or nil"},
		{"no binary", &exec.Cmd{Path: "/nonexistent/hako"}, "fork/exec /nonexistent/hako: no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Launch(tc.cmd)
			if err == nil {
				l.Kill()
				t.Fatal("launched")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// forkExec hands the child its files by number: nil stdio become
// /dev/null, a nil extra file a closed descriptor.
func TestForkExecFiles(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	pid, err := forkExec(&exec.Cmd{Path: "/bin/sleep", Args: []string{"sleep", "60"}, ExtraFiles: []*os.File{nil, w}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		unix.Kill(pid, unix.SIGKILL)
		reap(pid)
	}()
	pipe, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(w.Fd())))
	for fd, want := range []string{"/dev/null", "/dev/null", "/dev/null", "", pipe} {
		got, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(fd))
		if want == "" && !errors.Is(err, os.ErrNotExist) || want != "" && got != want {
			t.Errorf("child's fd %d: %q (%v), want %q", fd, got, err, want)
		}
	}
}
