package console

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// Listener is a --console-socket: a unix socket a runtime connects to,
// to send the pty master of a container or process.
type Listener struct {
	l *net.UnixListener
}

// Listen creates the socket at path (which must not exist).
func Listen(path string) (*Listener, error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", path, err)
	}
	return &Listener{l: l}, nil
}

// Accept waits for a runtime to connect and returns the descriptor it
// sends (one SCM_RIGHTS message, as Send and runc send).
func (l *Listener) Accept() (*os.File, error) {
	conn, err := l.l.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	name, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(name, oob)
	if err != nil {
		return nil, fmt.Errorf("receive terminal: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("receive terminal: %w", err)
	}
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds[1:] {
			unix.Close(fd)
		}
		if len(fds) > 0 {
			unix.CloseOnExec(fds[0])
			return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
		}
	}
	return nil, fmt.Errorf("receive terminal: the message carried no descriptor")
}

// Close removes the socket.
func (l *Listener) Close() error { return l.l.Close() }
