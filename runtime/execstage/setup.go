package execstage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Setup is a container init's own setup, carried out by the stage (a
// plan of kind Init) right after nsenter's pre-init entered the new
// namespaces: the root filesystem's steps, the host settings, the
// program's lookup. The caller plans all of it; the stage only executes,
// resolving every target inside the root (openat2 RESOLVE_IN_ROOT, no
// magic links) and creating what is missing one component at a time
// with O_NOFOLLOW, links followed inside the root. A failure (a program
// not found, a refused mount) goes to the caller, which redoes the setup
// with the Go init for its error texts.
type Setup struct {
	// Steps are the root filesystem's steps, in order.
	Steps []Step
	// Hostname and Domainname are set when not "" (at the HostSettings
	// step), with Sysctls: a path under /proc/sys and its value each.
	Hostname, Domainname string
	Sysctls              [][2]string
	// Candidates are the paths the program may be at, in the order of
	// the search (the PATH lookup done): the first that is an executable
	// file is run.
	Candidates []string
	// Quoted is the program's name (Args[0]) as strconv.Quote writes it:
	// the stage's errors for a program not found are exec.LookPath's.
	Quoted string
	// Home adds HOME to the environment from the user's /etc/passwd
	// entry in the container ("/" when none).
	Home bool
}

// StepKind is what one step of a Setup does.
type StepKind uint32

const (
	// RootPropagation sets the propagation (Flags) of "/".
	RootPropagation StepKind = iota
	// BindRootfs binds Source onto itself (Flags) and makes it the root
	// targets are resolved in.
	BindRootfs
	// Mount mounts a filesystem (Type, Source, Flags, Data) at Target,
	// made as a directory. A tmpfs over a directory the image has takes
	// its mode; proc and sysfs go on no symlink.
	Mount
	// Bind binds the host path Source onto Target (Flags), made as a
	// directory or a file to match Source.
	Bind
	// Remount changes the flags of the mount at Target: Flags set, Clear
	// cleared, the mount's own others kept.
	Remount
	// SetAttr applies mount_setattr(2) AttrSet and AttrClr to the mount
	// at Target and those below.
	SetAttr
	// Propagate sets the propagation (Flags) of the mount at Target.
	Propagate
	// Mknod makes the node Target (DevMode, DevMajor, DevMinor, UID and
	// GID when not -1).
	Mknod
	// BindDevice binds the host's node Target onto the same path.
	BindDevice
	// Symlink makes Target a link to Link unless something is there.
	Symlink
	// PivotRoot switches the root to Source and detaches the old one.
	PivotRoot
	// HostSettings sets the hostname, domainname and sysctls, and checks
	// /proc is procfs when steps follow.
	HostSettings
	// ReadonlyPath binds Target onto itself read-only (if it exists).
	ReadonlyPath
	// MaskPath hides Target (if it exists) under /dev/null or an empty
	// read-only tmpfs.
	MaskPath
	// Hooks says "hooks" to the parent and waits for "hooks-done": the
	// parent runs the prestart and createRuntime hooks there, every
	// mount made and the root not yet switched.
	Hooks
	stepKinds
)

// Step is one step of a Setup; which fields count depends on Kind.
type Step struct {
	Kind                           StepKind
	Source, Target, Type, Data     string
	Link                           string
	Flags, Clear, AttrSet, AttrClr uint64
	DevMode, DevMajor, DevMinor    uint32
	UID, GID                       int64
}

// The setup section's layout (execstage.h).
const (
	setupHdrLen = 20
	stepLen     = 72
	maxSteps    = 1 << 16
	flagHome    = 1
)

// encode lays the setup section out: its header, the steps, then the
// strings (hostname, domainname, the quoted program name; per step
// source, target, type, data, link; per sysctl path and value; the
// candidates).
func (s *Setup) encode() ([]byte, error) {
	if len(s.Steps) > maxSteps || len(s.Sysctls) > maxSteps || len(s.Candidates) > maxSteps {
		return nil, errors.New("exec plan: setup too large")
	}
	if len(s.Candidates) == 0 {
		return nil, errors.New("exec plan: no program candidates")
	}
	strs := []string{s.Hostname, s.Domainname, s.Quoted}
	for _, m := range s.Steps {
		if m.Kind >= stepKinds {
			return nil, fmt.Errorf("exec plan: unknown mount step %d", m.Kind)
		}
		strs = append(strs, m.Source, m.Target, m.Type, m.Data, m.Link)
	}
	for _, kv := range s.Sysctls {
		strs = append(strs, kv[0], kv[1])
	}
	strs = append(strs, s.Candidates...)
	var sb bytes.Buffer
	for _, v := range strs {
		if strings.IndexByte(v, 0) >= 0 {
			return nil, fmt.Errorf("exec plan: NUL in %q", v)
		}
		sb.WriteString(v)
		sb.WriteByte(0)
	}
	var flags uint32
	if s.Home {
		flags |= flagHome
	}
	ne := binary.NativeEndian
	out := make([]byte, 0, setupHdrLen+stepLen*len(s.Steps)+sb.Len())
	for _, v := range []uint32{uint32(len(s.Steps)), uint32(len(s.Sysctls)), uint32(len(s.Candidates)), flags, uint32(sb.Len())} {
		out = ne.AppendUint32(out, v)
	}
	for _, m := range s.Steps {
		out = ne.AppendUint32(out, uint32(m.Kind))
		out = ne.AppendUint32(out, 0)
		for _, v := range []uint64{m.Flags, m.Clear, m.AttrSet, m.AttrClr} {
			out = ne.AppendUint64(out, v)
		}
		for _, v := range []uint32{m.DevMode, m.DevMajor, m.DevMinor, 0} {
			out = ne.AppendUint32(out, v)
		}
		out = ne.AppendUint64(out, uint64(m.UID))
		out = ne.AppendUint64(out, uint64(m.GID))
	}
	return append(out, sb.Bytes()...), nil
}
