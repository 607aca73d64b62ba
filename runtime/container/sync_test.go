package container

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// A config brings one idmapped mount tree per volume: more descriptors
// than a small control buffer holds must all arrive, or recv must fail.
func TestSendRecvManyFDs(t *testing.T) {
	a, b, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	var fds []int
	for i := 0; i < 40; i++ {
		f, err := os.Open("/dev/null")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fds = append(fds, int(f.Fd()))
	}
	if err := send(a, syncMsg{Type: msgOK}, fds...); err != nil {
		t.Fatal(err)
	}
	var msg syncMsg
	got, err := recv(b, &msg)
	if err != nil || msg.Type != msgOK || len(got) != len(fds) {
		t.Fatalf("recv: %d descriptors, %+v, %v; want %d", len(got), msg, err, len(fds))
	}
	for _, fd := range got {
		unix.Close(fd)
	}
}
