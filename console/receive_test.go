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
	buf := make([]byte, 16)
	n, err := got.Read(buf)
	if err != nil || string(buf[:n]) != "hi\r\n" {
		t.Errorf("read %q, %v; want the slave's output", buf[:n], err)
	}
}
