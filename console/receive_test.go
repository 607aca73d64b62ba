package console

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/console"
)

// A pty master sent with Send arrives through Listen/Accept as the same
// terminal: what is written on its slave is read from the received master.
func TestSendReceive(t *testing.T) {
	master, slavePath, err := console.NewPty()
	if err != nil {
		t.Skipf("no pty here: %v", err)
	}
	defer master.Close()
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	m := os.NewFile(master.Fd(), "/dev/ptmx")
	sent := make(chan error, 1)
	go func() { sent <- Send(sock, m) }()
	got, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got.Name() != "/dev/ptmx" {
		t.Errorf("name %q, want the sender's", got.Name())
	}
	slave, err := os.OpenFile(slavePath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	if _, err := slave.WriteString("hi\n"); err != nil {
		t.Fatal(err)
	}
	// The tty layer may hand the line over in pieces ("hi", then the
	// "\r\n" of its output processing): read until all of it came.
	var read []byte
	buf := make([]byte, 16)
	for len(read) < len("hi\r\n") {
		n, err := got.Read(buf)
		read = append(read, buf[:n]...)
		if err != nil {
			t.Fatalf("read %q, %v; want the slave's output", read, err)
		}
	}
	if string(read) != "hi\r\n" {
		t.Errorf("read %q; want the slave's output", read)
	}
}
