package container

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// sd_notify(3) relay, as runc's: a container created while NOTIFY_SOCKET
// is set gets a socket of its own, bound from the state directory at
// notifyDir, and NOTIFY_SOCKET naming it; start (or run) listens there and
// passes the container's READY=1 on to the host's socket, with MAINPID set
// to the container's init, so a systemd unit of Type=notify can run a
// container.
const (
	notifyDir    = "/run/notify"
	notifySocket = "notify.sock"
)

// setupNotify prepares the container's side: the directory in the state
// directory and the spec's mount and environment.
func setupNotify(spec *specs.Spec, stateDir string) error {
	dir := filepath.Join(stateDir, "notify")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: notifyDir, Type: "bind", Source: dir,
		Options: []string{"bind", "nosuid", "noexec", "nodev", "ro"}})
	spec.Process.Env = append(spec.Process.Env, "NOTIFY_SOCKET="+filepath.Join(notifyDir, notifySocket))
	return nil
}

// notifyRelay is the listening end in the state directory.
type notifyRelay struct {
	conn *net.UnixConn
	path string
}

// listenNotify binds the container's notify socket, if it was created
// with one. Any uid may send to it: the container's may be any.
func (c *Container) listenNotify() (*notifyRelay, error) {
	dir := filepath.Join(c.dir(), "notify")
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	path := filepath.Join(dir, notifySocket)
	os.Remove(path) // a previous start's, if it failed
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	if err := os.Chmod(path, 0o777); err != nil {
		conn.Close()
		return nil, err
	}
	return &notifyRelay{conn: conn, path: path}, nil
}

// forward waits for the container's READY=1 and sends it to the host's
// socket, prefixed with MAINPID=pid. It gives up when the init exits
// (pidfd readable) or the relay is closed.
func (n *notifyRelay) forward(host string, pid, pidfd int) error {
	defer n.close()
	buf := make([]byte, 4096)
	for {
		n.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		k, err := n.conn.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if exited(pidfd) {
					return errors.New("the container exited before it notified READY=1")
				}
				continue
			}
			return err
		}
		msg := buf[:k]
		if !bytes.Contains(append([]byte("\n"), msg...), []byte("\nREADY=1")) {
			continue
		}
		out, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: host, Net: "unixgram"})
		if err != nil {
			return fmt.Errorf("NOTIFY_SOCKET %s: %w", host, err)
		}
		// Only READY=1, with our MAINPID: the rest of the container's
		// message (STOPPING=1, NOTIFYACCESS=...) is not for it to say to
		// systemd through a privileged sender.
		_, err = out.Write([]byte("MAINPID=" + strconv.Itoa(pid) + "\nREADY=1\n"))
		out.Close()
		return err
	}
}

func (n *notifyRelay) close() {
	n.conn.Close()
	os.Remove(n.path)
}

// exited tells whether the process behind pidfd has ended.
func exited(pidfd int) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, _ := unix.Poll(fds, 0)
	return n > 0
}
