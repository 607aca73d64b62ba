package integration

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/console"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// readAllTimeout reads r until EOF or EIO (a pty master whose slave side
// is all closed), or until the timeout.
func readAllTimeout(t *testing.T, r io.Reader, d time.Duration) string {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, r)
		done <- b.String()
	}()
	select {
	case s := <-done:
		return s
	case <-time.After(d):
		t.Fatal("terminal output did not end")
		return ""
	}
}

// `hako run` with process.terminal in the foreground gives the container
// a pty of its own and relays it to the caller's terminal.
func TestRunWithTerminal(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle([]string{"sh", "-c", "testinit isatty; ls -l /dev/console; echo TTY=$(tty)"},
		func(s *specs.Spec) { s.Process.Terminal = true })
	master, slavePath, err := console.NewPty()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	slave, err := os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hakoBin, "--root", e.root, "run", "--bundle", bundle, e.id("tty"))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	out := readAllTimeout(t, master, 20*time.Second)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	out = strings.ReplaceAll(out, "\r", "")
	for _, want := range []string{"0=true\n1=true\n2=true", "TTY=/dev/pts/0", " 136,   0 "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// With --console-socket the pty master goes to whoever listens there, as
// containerd's shim listens.
func TestConsoleSocket(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle([]string{"sh", "-c", "echo TTY=$(tty); testinit isatty"},
		func(s *specs.Spec) {
			s.Process.Terminal = true
			s.Process.ConsoleSize = &specs.Box{Height: 40, Width: 123}
		})
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan *os.File, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			got <- nil
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) != 1 {
			got <- nil
			return
		}
		fds, _ := unix.ParseUnixRights(&msgs[0])
		got <- os.NewFile(uintptr(fds[0]), "master")
	}()
	id := e.id("sock")
	e.mustHako("create", "--bundle", bundle, "--console-socket", sock, id)
	master := <-got
	if master == nil {
		t.Fatal("no pty master received on the console socket")
	}
	defer master.Close()
	if c, err := console.ConsoleFromFile(master); err != nil {
		t.Errorf("received fd is not a terminal: %v", err)
	} else if ws, err := c.Size(); err != nil || ws.Height != 40 || ws.Width != 123 {
		t.Errorf("consoleSize not applied: %+v, %v", ws, err)
	}
	e.mustHako("start", id)
	out := strings.ReplaceAll(readAllTimeout(t, master, 20*time.Second), "\r", "")
	if !strings.Contains(out, "TTY=/dev/pts/0") || !strings.Contains(out, "0=true\n1=true\n2=true") {
		t.Errorf("container output on the pty:\n%s", out)
	}
	e.waitStatus(id, "stopped")
	e.mustHako("delete", id)
}

// The console CLI: `console recv` takes the pty master hako sends to
// --console-socket and relays it (here to pipes); `console run` gives a
// command a new pty and returns its status.
func TestConsoleCLI(t *testing.T) {
	e := newEnv(t)
	consoleBin := filepath.Join(filepath.Dir(hakoBin), "console")
	sock := filepath.Join(t.TempDir(), "c.sock")
	recv := exec.Command(consoleBin, "recv", sock)
	recv.Stdin = strings.NewReader("echo typed-$((6*7))\nexit 5\n")
	out := e.tempFile()
	recv.Stdout, recv.Stderr = out, out
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		recv.Process.Kill()
		recv.Wait()
	}()
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	id := e.id("recv")
	bundle := e.bundle([]string{"sh"}, func(s *specs.Spec) { s.Process.Terminal = true })
	e.mustHako("run", "-d", "--console-socket", sock, "--bundle", bundle, id)
	done := make(chan error, 1)
	go func() { done <- recv.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("console recv did not end with the container")
	}
	if got := readAll(t, out); !strings.Contains(got, "typed-42") {
		t.Errorf("console recv relayed:\n%s", got)
	}
	e.waitStatus(id, "stopped")
	e.mustHako("delete", id)

	r := runBin(t, consoleBin, "run", "--", "sh", "-c", "tty; exit 4")
	if r.code != 4 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "/dev/pts/") {
		t.Errorf("console run: %+v", r)
	}
}
