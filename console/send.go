package console

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// Send connects to the unix socket at path and sends master over it as
// SCM_RIGHTS, the protocol of the OCI runtime's --console-socket: the
// listener (containerd's shim, `console recv`) then owns the terminal.
func Send(path string, master *os.File) error {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("connect to console socket %s: %w", path, err)
	}
	defer conn.Close()
	// The payload names the fd, as runc sends it; receivers ignore it.
	_, _, err = conn.WriteMsgUnix([]byte(master.Name()), unix.UnixRights(int(master.Fd())), nil)
	if err != nil {
		return fmt.Errorf("send terminal to %s: %w", path, err)
	}
	return nil
}
