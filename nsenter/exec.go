package nsenter

import (
	"encoding/binary"
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// EnvMode set to "exec" tells the pre-init stage that no parent listens:
// see Exec.
const EnvMode = "_HAKO_NSENTER_MODE"

// CanExec tells whether Exec can carry out r: it needs a program, and no
// new user namespace (whose id maps a parent must write).
func (r *Request) CanExec() bool {
	return len(r.Exec) > 0 && !r.creates(User) && !r.UseHelpers
}

// Exec replaces the calling process with its own binary (which must import
// hako.dev/nsenter/preinit), whose pre-init stage carries out r and
// executes r.Exec, the way nsenter(1) execs its program: no Go parent stays
// behind. Where a pid or time namespace needs a child, the stage itself
// stays as its parent, passes signals on and exits with its status. Errors
// the stage meets are printed to stderr as "NAME: what: cause" (NAME is
// argv0) and it exits 1. Exec returns only if it could not exec.
func Exec(r *Request, argv0 string) error {
	if !r.CanExec() {
		return errors.New("nsenter exec: needs a program and no new user namespace")
	}
	wire, err := r.Encode()
	if err != nil {
		return err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socketpair", err)
	}
	// The request waits in the socket for the stage to read it.
	msg := append(binary.LittleEndian.AppendUint32(nil, msgRequest), wire...)
	err = unix.Sendmsg(fds[0], msg, nil, nil, 0)
	unix.Close(fds[0])
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fds[1]), unix.F_SETFD, 0)
	}
	if err != nil {
		unix.Close(fds[1])
		return os.NewSyscallError("send namespace request", err)
	}
	env := append(os.Environ(), EnvFD+"="+strconv.Itoa(fds[1]), EnvMode+"=exec")
	err = unix.Exec("/proc/self/exe", []string{argv0}, env)
	unix.Close(fds[1])
	return &os.PathError{Op: "exec", Path: "/proc/self/exe", Err: err}
}
