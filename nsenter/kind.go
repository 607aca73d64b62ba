package nsenter

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Kind is a namespace kind, named as in /proc/<pid>/ns/.
type Kind string

const (
	Mount  Kind = "mnt"
	UTS    Kind = "uts"
	IPC    Kind = "ipc"
	Net    Kind = "net"
	PID    Kind = "pid"
	User   Kind = "user"
	Cgroup Kind = "cgroup"
	Time   Kind = "time"
)

// Kinds lists every kind in the order namespaces are joined: user first
// (joining it is what grants the capabilities the other setns(2) calls
// need when the target is owned by another user), mnt last but one so
// that paths of the others were opened before the root may change.
var Kinds = []Kind{User, IPC, UTS, Net, PID, Cgroup, Time, Mount}

var cloneFlags = map[Kind]uint32{
	Mount: unix.CLONE_NEWNS, UTS: unix.CLONE_NEWUTS, IPC: unix.CLONE_NEWIPC, Net: unix.CLONE_NEWNET,
	PID: unix.CLONE_NEWPID, User: unix.CLONE_NEWUSER, Cgroup: unix.CLONE_NEWCGROUP, Time: unix.CLONE_NEWTIME,
}

// Flag is the kind's CLONE_NEW* flag.
func (k Kind) Flag() uint32 { return cloneFlags[k] }

// ParseKind reads a kind by its /proc name or its OCI name ("mount",
// "network").
func ParseKind(s string) (Kind, error) {
	switch s {
	case "mount":
		return Mount, nil
	case "network":
		return Net, nil
	}
	k := Kind(s)
	if _, ok := cloneFlags[k]; !ok {
		return "", fmt.Errorf("unknown namespace kind %q (want one of %s)", s, kindList())
	}
	return k, nil
}

func kindFromFlag(f uint32) (Kind, bool) {
	for k, v := range cloneFlags {
		if v == f {
			return k, true
		}
	}
	return "", false
}

func kindList() string {
	var s []string
	for _, k := range Kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ",")
}
