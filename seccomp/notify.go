package seccomp

import (
	"encoding/json"
	"fmt"
	"net"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SendListener hands a seccomp listener descriptor to the agent at path,
// as the runtime spec says: one message on a unix socket whose payload is
// the container process state as JSON, naming the descriptor
// ("seccompFd") sent along with SCM_RIGHTS.
func SendListener(path string, listener *os.File, st specs.ContainerProcessState) error {
	st.Fds = []string{specs.SeccompFdName}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("connect to seccomp listener %s: %w", path, err)
	}
	defer conn.Close()
	if _, _, err := conn.WriteMsgUnix(b, unix.UnixRights(int(listener.Fd())), nil); err != nil {
		return fmt.Errorf("send seccomp listener to %s: %w", path, err)
	}
	return nil
}
