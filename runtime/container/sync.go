package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/rootfs"
	"hako.dev/seccomp"
)

// The parent (hako create) and the container's init talk over a
// SOCK_SEQPACKET socketpair: one JSON message per packet, so no framing,
// and a pty master travels as SCM_RIGHTS on the "ready" packet.
//
//	parent (hako create)                     init (hako, re-executed)
//	--------------------                     ------------------------
//	start it (the sealed binary);
//	nsenter's C stage waits
//	set rlimits; write pid to cgroup.procs
//	nsenter request                   ---->  C stage: setns/unshare every
//	                                         namespace (a new cgroup one is
//	                                         rooted at the cgroups just joined),
//	                                         fork into a new pid namespace
//	                                         Go runtime starts, blocks reading
//	send initConfig [+ idmapped
//	mount trees]                      ---->  mounts, /dev
//	                                  <----  "hooks" (if any prestart or
//	run prestart, createRuntime hooks          createRuntime hooks)
//	                                  ---->  "hooks-done"; createContainer
//	                                         hooks; pivot_root, hostname,
//	                                         console, masked paths, caps, user,
//	                                         look up the program
//	                                  <----  "listener" + seccomp listener fd
//	hand it to listenerPath           ---->  "listener-done"   (notify profiles)
//	                                         re-exec its sealed binary into
//	                                         the C exec stage (execstage; the
//	                                         Go init goes on itself where the
//	                                         stage cannot, see stage.go)
//	                                  <----  "ready" [+ pty master fd]
//	                                         or "error" and exit
//	write cgroup limits, state.json,
//	send --pidfd-socket's pidfd
//	send "ok"                         ---->  open exec.fifo for writing:
//	exit (the CLI writes the pid file)       blocks until `hako start` reads it,
//	                                         then execve(2) the program
//
// `hako run` starts the program at once: it sends "start" instead, the init
// goes on to execve(2) without the fifo, and its end of the socket, closed
// by the exec, reads as EOF: the program runs (or the init died trying).
//
// If the parent dies before "ok", the init reads EOF and exits, so a failed
// create never leaves a waiting init behind.
const (
	msgReady        = "ready"
	msgError        = "error"
	msgOK           = "ok"
	msgStart        = "start"         // parent: as "ok", and run the program now
	msgHooks        = "hooks"         // init: mounts done, run prestart and createRuntime hooks
	msgHooksDone    = "hooks-done"    // parent: they ran
	msgListener     = "listener"      // init: a seccomp listener fd comes with this
	msgListenerDone = "listener-done" // parent: it went to listenerPath
)

type syncMsg struct {
	Type  string `json:"type"`
	Error string `json:"error,omitempty"`
}

// initConfig is everything the init needs; it has no other input.
type initConfig struct {
	Spec    *specs.Spec          `json:"spec"`
	Rootfs  string               `json:"rootfs"`
	Bundle  string               `json:"bundle"`
	Cgroups []rootfs.CgroupMount `json:"cgroups"`
	NoPivot bool                 `json:"noPivot,omitempty"`
	// NoNewKeyring keeps the caller's session keyring (--no-new-keyring).
	NoNewKeyring bool `json:"noNewKeyring,omitempty"`
	// PreserveFDs descriptors from 5 on go to the program as 3 on.
	PreserveFDs int `json:"preserveFds,omitempty"`
	// IDMapped are the indexes in Spec.Mounts of the idmapped mount trees
	// whose descriptors come with this config, in that order.
	IDMapped []int `json:"idmapped,omitempty"`
	// ID and Pid (as the host sees it) are for hooks' state.
	ID  string `json:"id"`
	Pid int    `json:"pid"`
	// Exe is the sealed binary's device and inode: the init re-executes
	// itself into the exec stage only through a file that is it (a /proc
	// of a joined mount namespace may be the container's own).
	Exe [2]uint64 `json:"exe"`
	// Seccomp is the config's seccomp profile compiled by the parent, in
	// its stored form (seccomp.UnmarshalFilter): the init never compiles.
	Seccomp []byte `json:"seccomp,omitempty"`
	// HugePages: the parent launched the init with transparent huge
	// pages disabled; the program gets them back (thp.go).
	HugePages bool `json:"hugePages,omitempty"`
}

// initSpec is the config as the init gets it: without what only the
// parent uses (the cgroup resources; the seccomp profile, which comes
// compiled as initConfig.Seccomp), which the init would decode for
// nothing (a container engine's seccomp profile is ~16 KB of JSON).
func initSpec(spec *specs.Spec) *specs.Spec {
	s, l := *spec, *spec.Linux
	l.Resources, l.Seccomp = nil, nil
	s.Linux = &l
	return &s
}

// sockBuf is the socket buffer both ends ask for: a config with many mounts
// must still fit one packet.
const sockBuf = 4 << 20

func socketpair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	for _, fd := range fds {
		// SO_SNDBUFFORCE passes the net.core.wmem_max cap (we are root);
		// fall back to the capped size if it is refused.
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, sockBuf) != nil {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sockBuf)
		}
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

func send(f *os.File, v any, fds ...int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(f.Fd()), b, oob, nil, 0); err != nil {
		return os.NewSyscallError("sendmsg", err)
	}
	return nil
}

// errEOF is what recv returns when the other end closed the socket.
var errEOF = errors.New("peer closed the sync socket")

// recv reads one packet into v and returns the fds that came with it.
func recv(f *os.File, v any) ([]int, error) {
	// MSG_PEEK|MSG_TRUNC returns the packet's full length without
	// consuming it, so the buffer can be sized exactly.
	n, _, err := unix.Recvfrom(int(f.Fd()), nil, unix.MSG_PEEK|unix.MSG_TRUNC)
	if err != nil {
		return nil, os.NewSyscallError("recvmsg", err)
	}
	if n == 0 {
		return nil, errEOF
	}
	buf := make([]byte, n)
	// Room for as many descriptors as one message can carry (SCM_MAX_FD):
	// a config may bring one idmapped mount tree per volume.
	oob := make([]byte, unix.CmsgSpace(4*253))
	n, oobn, flags, _, err := unix.Recvmsg(int(f.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("recvmsg", err)
	}
	if flags&unix.MSG_CTRUNC != 0 {
		return nil, errors.New("recvmsg: descriptors truncated")
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			rights, err := unix.ParseUnixRights(&m)
			if err != nil {
				return nil, err
			}
			fds = append(fds, rights...)
		}
	}
	if err := json.Unmarshal(buf[:n], v); err != nil {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("decode sync message: %w", err)
	}
	return fds, nil
}

// handoffListener is the child's side of a seccomp listener's hand-off.
func handoffListener(sock *os.File) func(*os.File) error {
	return func(l *os.File) error {
		if err := send(sock, syncMsg{Type: msgListener}, int(l.Fd())); err != nil {
			return err
		}
		var msg syncMsg
		if _, err := recv(sock, &msg); err != nil || msg.Type != msgListenerDone {
			os.Exit(1) // the parent failed it, or is gone: it reports
		}
		return nil
	}
}

// serveListener is the parent's side: send the fd that came with a
// "listener" message to the profile's listenerPath, then answer.
func serveListener(sock *os.File, fds []int, seccompCfg *specs.LinuxSeccomp, st specs.State, pid int) error {
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return fmt.Errorf("seccomp listener: %d descriptors, want 1", len(fds))
	}
	l := os.NewFile(uintptr(fds[0]), "seccomp-listener")
	err := seccomp.SendListener(seccompCfg.ListenerPath, l, specs.ContainerProcessState{
		Version: specs.Version, Pid: pid, Metadata: seccompCfg.ListenerMetadata, State: st,
	})
	l.Close()
	if err != nil {
		return err
	}
	return send(sock, syncMsg{Type: msgListenerDone})
}
