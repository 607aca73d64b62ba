package container

import (
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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

// The init's copy of the config leaves out only what the parent uses,
// and the caller's config is untouched.
func TestInitSpec(t *testing.T) {
	spec := &specs.Spec{Hostname: "h", Process: &specs.Process{Args: []string{"x"}}, Linux: &specs.Linux{
		Resources:   &specs.LinuxResources{Pids: &specs.LinuxPids{}},
		Seccomp:     &specs.LinuxSeccomp{DefaultAction: specs.ActAllow},
		MaskedPaths: []string{"/proc/kcore"},
	}}
	s := initSpec(spec)
	if s.Linux.Resources != nil || s.Linux.Seccomp != nil {
		t.Error("resources or seccomp profile sent to the init")
	}
	if s.Hostname != "h" || s.Process != spec.Process || len(s.Linux.MaskedPaths) != 1 {
		t.Error("initSpec dropped more than resources and seccomp")
	}
	if spec.Linux.Resources == nil || spec.Linux.Seccomp == nil {
		t.Error("initSpec changed the caller's config")
	}
}
