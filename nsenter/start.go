package nsenter

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// EnvFD names the pre-init stage's sync socket in the child's
// environment; its presence is what wakes the C stage up.
const EnvFD = "_HAKO_NSENTER_FD"

// Messages on the sync socket (SOCK_SEQPACKET: one message per packet, a
// u32 type then the payload). See preinit.c for the exchange.
const (
	msgRequest  = 1
	msgMaps     = 2
	msgMapsDone = 3
	msgPid      = 4
	msgError    = 5
	msgHello    = 6
)

// Launched is a command started through the pre-init stage and waiting
// for its Request, its execve complete: the moment to place it in
// cgroups or set its rlimits, say.
type Launched struct {
	pid    int
	reaped bool // pid is no longer ours: never signalled again
	sock   *os.File
}

// Launch starts cmd, whose binary must import hako.dev/nsenter/preinit,
// with the pre-init stage armed. cmd.Env must be set by the caller if the
// child's environment matters (nil inherits ours, as exec does). Its
// stdio must be files or nil (/dev/null): cmd only describes the
// process, which Launch starts itself (forkExec), and the caller waits
// for by pid; cmd.Start, cmd.Wait and cmd.Process are not for it.
func Launch(cmd *exec.Cmd) (*Launched, error) {
	if !fileOrNil(cmd.Stdin) || !fileOrNil(cmd.Stdout) || !fileOrNil(cmd.Stderr) {
		return nil, fmt.Errorf("start %s: stdin, stdout and stderr must be files or nil", cmd.Path)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socketpair", err)
	}
	parent, child := os.NewFile(uintptr(fds[0]), "nsenter-parent"), os.NewFile(uintptr(fds[1]), "nsenter-child")
	defer child.Close()
	cmd.ExtraFiles = append(cmd.ExtraFiles, child)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	// An inherited exec-mode marker would make the stage skip HELLO.
	env := cmd.Env[:0:0]
	for _, e := range cmd.Env {
		if !strings.HasPrefix(e, EnvMode+"=") && !strings.HasPrefix(e, EnvFD+"=") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, EnvFD+"="+strconv.Itoa(2+len(cmd.ExtraFiles)))
	pid, err := forkExec(cmd)
	if err != nil {
		parent.Close()
		return nil, err
	}
	l := &Launched{pid: pid, sock: parent}
	// Wait for HELLO: until its execve has fully ended, the kernel may
	// still rewrite state the caller means to change (RLIMIT_STACK).
	buf := make([]byte, 16)
	n, _, err := unix.Recvfrom(int(parent.Fd()), buf, 0)
	if err != nil || n < 4 || binary.LittleEndian.Uint32(buf) != msgHello {
		l.Kill()
		if err == nil {
			err = fmt.Errorf("no hello (%d bytes): does %s import hako.dev/nsenter/preinit?", n, cmd.Path)
		}
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return l, nil
}

// Pid is the launched process, before any fork into a pid namespace.
func (l *Launched) Pid() int { return l.pid }

// Kill ends the launched process and reaps it, for a caller that gives up.
func (l *Launched) Kill() {
	l.kill()
	l.sock.Close()
}

// kill ends and reaps the launched process, unless reaped already: until
// then it is our child, and its pid its own.
func (l *Launched) kill() {
	if !l.reaped {
		unix.Kill(l.pid, unix.SIGKILL)
		l.reap()
	}
}

// reap waits for the launched process to end and reaps it.
func (l *Launched) reap() unix.WaitStatus {
	l.reaped = true
	return reap(l.pid)
}

// Enter sends r and serves the stage until it reports the final process:
// the launched one, or — when a pid or time namespace had to be entered —
// its child, made with CLONE_PARENT so that it is the caller's child too
// (wait for it by pid: wait4, or os.FindProcess(pid).Wait()); the
// launched process has then exited and been reaped. On error the launched
// process is gone.
func (l *Launched) Enter(r *Request) (pid int, err error) {
	defer l.sock.Close()
	defer func() {
		if err != nil {
			l.kill()
		}
	}()
	wire, err := r.Encode()
	if err != nil {
		return 0, err
	}
	if err := l.send(msgRequest, wire); err != nil {
		return 0, err
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(int(l.sock.Fd()), buf, 0)
		if err != nil {
			return 0, os.NewSyscallError("recv", err)
		}
		if n == 0 {
			return 0, fmt.Errorf("namespace setup: process exited (%s) without a word", statusText(l.reap()))
		}
		if n < 4 {
			return 0, errors.New("namespace setup: short message")
		}
		typ, payload := binary.LittleEndian.Uint32(buf), buf[4:n]
		switch typ {
		case msgMaps:
			if err := writeMaps(l.Pid(), r); err != nil {
				return 0, err
			}
			if err := l.send(msgMapsDone, nil); err != nil {
				return 0, err
			}
		case msgPid:
			if len(payload) != 4 {
				return 0, errors.New("namespace setup: bad pid message")
			}
			pid := int(binary.LittleEndian.Uint32(payload))
			if pid != l.pid {
				l.reap() // it exits once its child exists
			}
			if len(r.Exec) > 0 {
				return pid, l.waitExec(pid, buf)
			}
			return pid, nil
		case msgError:
			return 0, stageError(payload)
		default:
			return 0, fmt.Errorf("namespace setup: unknown message %d", typ)
		}
	}
}

// waitExec waits until the stage has executed r.Exec (the socket closes
// on exec) or reports why it could not.
func (l *Launched) waitExec(pid int, buf []byte) error {
	n, _, err := unix.Recvfrom(int(l.sock.Fd()), buf, 0)
	switch {
	case err != nil:
		err = os.NewSyscallError("recv", err)
	case n == 0:
		return nil
	case n >= 4 && binary.LittleEndian.Uint32(buf) == msgError:
		err = stageError(buf[4:n]) // and it exits
	default:
		err = errors.New("namespace setup: unexpected message after the pid")
	}
	// Our child until reaped here (the launched one, or its child made
	// with CLONE_PARENT): none of it is left behind.
	unix.Kill(pid, unix.SIGKILL)
	if pid == l.pid {
		l.reap()
	} else {
		reap(pid)
	}
	return err
}

// Start is Launch and Enter in one, for callers with nothing to do in
// between. A request that only creates namespaces and names its program
// (r.Exec) skips the pre-init stage: cmd then only lends its stdio, extra
// files, environment and directory to that program.
func Start(cmd *exec.Cmd, r *Request) (int, error) {
	if direct(r) && fileOrNil(cmd.Stdin) && fileOrNil(cmd.Stdout) && fileOrNil(cmd.Stderr) {
		return startDirect(cmd, r)
	}
	l, err := Launch(cmd)
	if err != nil {
		return 0, err
	}
	return l.Enter(r)
}

func (l *Launched) send(typ uint32, payload []byte) error {
	msg := binary.LittleEndian.AppendUint32(nil, typ)
	if err := unix.Sendmsg(int(l.sock.Fd()), append(msg, payload...), nil, nil, 0); err != nil {
		return os.NewSyscallError("send to namespace stage", err)
	}
	return nil
}

// stageError turns the C stage's JSON log line into a Go error: its
// message, wrapping the errno (so errors.Is(err, unix.EPERM) works).
func stageError(line []byte) error {
	var m struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
		Errno int    `json:"errno"`
	}
	if err := json.Unmarshal(line, &m); err != nil {
		return fmt.Errorf("namespace setup failed: %q", line)
	}
	if m.Errno == 0 {
		return errors.New(m.Msg)
	}
	return fmt.Errorf("%s: %w", m.Msg, syscall.Errno(m.Errno))
}

// writeMaps writes the id maps of the launched process's new user
// namespace: directly (a privileged parent may write any ranges) or with
// newuidmap/newgidmap, which check /etc/subuid and /etc/subgid for an
// unprivileged one.
func writeMaps(pid int, r *Request) error {
	if r.UseHelpers {
		for _, h := range []struct {
			tool string
			maps []IDMap
		}{{"newuidmap", r.UIDMap}, {"newgidmap", r.GIDMap}} {
			if len(h.maps) == 0 {
				continue
			}
			args := []string{strconv.Itoa(pid)}
			for _, m := range h.maps {
				args = append(args, fmt.Sprint(m.Inside), fmt.Sprint(m.Outside), fmt.Sprint(m.Size))
			}
			if out, err := exec.Command(h.tool, args...).CombinedOutput(); err != nil {
				return fmt.Errorf("%s %s: %w: %s", h.tool, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
			}
		}
		return nil
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	write := func(file, data string) error {
		if err := os.WriteFile(dir+file, []byte(data), 0); err != nil {
			return fmt.Errorf("write %s of %d: %w", file, pid, unwrapPath(err))
		}
		return nil
	}
	if len(r.UIDMap) > 0 {
		if err := write("uid_map", mapText(r.UIDMap)); err != nil {
			return err
		}
	}
	if r.DenySetgroups {
		if err := write("setgroups", "deny"); err != nil {
			return err
		}
	}
	if len(r.GIDMap) > 0 {
		if err := write("gid_map", mapText(r.GIDMap)); err != nil {
			return err
		}
	}
	return nil
}

func mapText(ms []IDMap) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%d %d %d\n", m.Inside, m.Outside, m.Size)
	}
	return b.String()
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
