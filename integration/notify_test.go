package integration

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// A profile with SCMP_ACT_NOTIFY: the listener at listenerPath gets the
// notify fd and the container's state, and answers the container's mkdir
// itself ("success", without making anything).
func TestSeccompNotifyListener(t *testing.T) {
	e := newEnv(t)
	sock := filepath.Join(t.TempDir(), "listener.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type got struct {
		state specs.ContainerProcessState
		name  string
		err   error
	}
	done := make(chan got, 1)
	go func() {
		var g got
		defer func() { done <- g }()
		c, err := l.AcceptUnix()
		if err != nil {
			g.err = err
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			g.err = err
			return
		}
		if g.err = json.Unmarshal(buf[:n], &g.state); g.err != nil {
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		fds, _ := unix.ParseUnixRights(&msgs[0])
		fd := libseccomp.ScmpFd(fds[0])
		defer unix.Close(fds[0])
		req, err := libseccomp.NotifReceive(fd)
		if err != nil {
			g.err = err
			return
		}
		g.name, _ = req.Data.Syscall.GetName()
		g.err = libseccomp.NotifRespond(fd, &libseccomp.ScmpNotifResp{ID: req.ID, Val: 0})
	}()
	id := e.id("notify")
	r := e.hako("run", "--bundle", e.bundle([]string{"sh", "-c", "mkdir /dev/shm/n && echo made; ls /dev/shm | wc -l"}, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction:    specs.ActAllow,
			ListenerPath:     sock,
			ListenerMetadata: "hello-agent",
			Syscalls:         []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}},
		}
	}), id)
	g := <-done
	if g.err != nil {
		t.Fatalf("listener: %v", g.err)
	}
	if r.code != 0 || r.stdout != "made\n0\n" {
		t.Errorf("run: %+v (want mkdir answered by the listener, nothing made)", r)
	}
	if !strings.HasPrefix(g.name, "mkdir") || g.state.Metadata != "hello-agent" || g.state.State.ID != id ||
		len(g.state.Fds) != 1 || g.state.Fds[0] != "seccompFd" || g.state.Pid <= 0 {
		t.Errorf("listener got syscall %q, state %+v", g.name, g.state)
	}
}
