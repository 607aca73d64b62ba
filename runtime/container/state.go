package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/cgctl"
)

// Status is a container's state as the OCI runtime spec names it.
type Status string

const (
	Creating Status = "creating"
	Created  Status = "created"
	Running  Status = "running"
	Paused   Status = "paused"
	Stopped  Status = "stopped"
)

// State is what `hako state` prints: the OCI state plus the keys runc adds
// (rootfs, created, owner), which clients parse.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      Status            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

// record is state.json: what a later hako process needs to find the
// container again.
type record struct {
	ID  string `json:"id"`
	Pid int    `json:"pid"`
	// StartTime is field 22 of /proc/<pid>/stat when the init was created:
	// a pid that now belongs to another process has another start time.
	StartTime   uint64            `json:"startTime"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
	CgroupPath  string            `json:"cgroupPath"`
	// PidNS is true when the container created its own pid namespace, so
	// that killing its init kills every process in it.
	PidNS bool `json:"pidNamespace"`
	// Creator and CreatorStart name the `hako create` process while it is
	// at work (Pid is 0 then): if it dies half-way, the record it left
	// still lets `delete` find and remove what it made.
	Creator      int    `json:"creator,omitempty"`
	CreatorStart uint64 `json:"creatorStart,omitempty"`
	// Spec is the container's config: start and delete run its hooks,
	// exec applies its seccomp profile and other process settings.
	Spec *lazySpec `json:"spec,omitempty"`
	// NoNewKeyring: create kept the caller's session keyring, and so do
	// the container's execs.
	NoNewKeyring bool `json:"noNewKeyring,omitempty"`
	// HostMounts: the container shares the host's mount namespace, its
	// mounts are under Rootfs there, for delete to remove. In the first
	// record already: a create that dies half-way may have made some.
	HostMounts bool `json:"hostMounts,omitempty"`
	// KeepMounts are the ids of the mounts under Rootfs that were there
	// before the container's: delete leaves them.
	KeepMounts []int `json:"keepMounts,omitempty"`
}

const (
	stateFile = "state.json"
	fifoName  = "exec.fifo"
)

// Container is one container under a root directory.
type Container struct {
	root string
	rec  record
	// proc is set in the process that created the container: only it can
	// reap the init (Wait).
	proc *child
	// mgr is the cgroup's manager once made (cgroup), for the record's
	// cgroup path: finding the host's hierarchies takes a dozen syscalls.
	mgr cgctl.Manager
	// held is what a Create that started the program keeps for Run to
	// release (releaseHeld): in the foreground once the program has ended.
	held
}

// held are the last references to what the container's init leaves to
// tear down: the sealed binary (overlay) it was launched from, and its
// mount namespace. Let go of after the init's end, by this process, their
// teardowns (an expedited RCU grace period each; the namespace's mounts)
// happen on another goroutine while the delete goes on, instead of in the
// init's execve of its program and in its exit, which the run waits for.
type held struct {
	seal  *sealedExe
	mntNS *nsHandle
	// mntGone is closed once the namespace's handle is: its teardown is
	// over (waitMntGone).
	mntGone chan struct{}
}

// releaseHeld lets go of what Create kept, if anything.
func (h *held) releaseHeld() {
	if h.seal != nil {
		h.seal.closeLater()
		h.seal = nil
	}
	if ns := h.mntNS; ns != nil {
		h.mntNS = nil
		gone := make(chan struct{})
		h.mntGone = gone
		go func() {
			unix.Close(ns.fd) // the last reference: returns once the mounts are gone
			close(gone)
		}()
	}
}

// waitMntGone waits for a released mount namespace's teardown: poststop
// hooks expect the container's mounts gone (a volume to remove, say).
func (h *held) waitMntGone() {
	if h.mntGone != nil {
		<-h.mntGone
		h.mntGone = nil
	}
}

// nsHandle is an open namespace file (/proc/PID/ns/KIND): it keeps the
// namespace alive.
type nsHandle struct{ fd int }

// holdNS opens the namespace of kind (mnt, net...) of process pid, or
// returns nil where that fails (the process gone, say): holding it is
// only ever an optimisation.
func holdNS(pid int, kind string) *nsHandle {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/"+kind, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	return &nsHandle{fd}
}

// ID is the container's id.
func (c *Container) ID() string { return c.rec.ID }

func (c *Container) dir() string { return filepath.Join(c.root, c.rec.ID) }

// validID is runc's rule, ^[\w+.-]+$: ids become directory names. (A
// loop, not a regexp compiled at every start of hako.)
func validID(id string) bool {
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_+.-", c) >= 0) {
			return false
		}
	}
	return id != ""
}

func checkID(id string) error {
	if !validID(id) || id == "." || id == ".." {
		return fmt.Errorf("invalid container id %q", id)
	}
	return nil
}

// Load finds the container id under root.
func Load(root, id string) (*Container, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(root, id, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	c := &Container{root: root}
	if err := json.Unmarshal(b, &c.rec); err != nil {
		return nil, fmt.Errorf("read state of %s: %w", id, err)
	}
	return c, nil
}

// RemoveStale removes the directory of id if it holds no state file: what
// a create killed in the moment between making the directory and writing
// its first record leaves (delete --force of an id that does not exist).
func RemoveStale(root, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	c := &Container{root: root, rec: record{ID: id}}
	unlock, err := c.lock() // a create that holds it is still at work
	if err != nil {
		if errors.Is(err, ErrNotExist) {
			return nil
		}
		return err
	}
	defer unlock()
	dir := c.dir()
	if _, err := os.Stat(filepath.Join(dir, stateFile)); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// List loads every container under root, sorted by id. A directory
// without a state file (the moment a create is making its first record,
// or one killed right then) is skipped; a create in progress otherwise
// shows as "creating".
func List(root string) ([]*Container, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Container
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		c, err := Load(root, e.Name())
		if err != nil {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// save writes state.json atomically: a reader sees the old or the new file,
// never half of one.
func (c *Container) save() error {
	b, err := json.Marshal(c.rec)
	if err != nil {
		return err
	}
	return c.write(b)
}

// write replaces state.json with b, c.rec encoded, at once.
func (c *Container) write(b []byte) error {
	tmp, err := os.CreateTemp(c.dir(), ".state-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(c.dir(), stateFile))
}

// Status derives the container's status from its init process: gone, a
// zombie, or a pid reused by another process (other start time) all mean
// stopped; alive with the exec fifo still present means created; a frozen
// cgroup means paused.
func (c *Container) Status() Status {
	if c.rec.Pid == 0 && c.rec.Creator != 0 {
		if start, state, err := procStat(c.rec.Creator); err == nil && start == c.rec.CreatorStart && state != 'Z' {
			return Creating
		}
		return Stopped // its creator died half-way
	}
	if !c.initAlive() {
		return Stopped
	}
	// Frozen first: a created container can be paused too (as runc).
	if mgr, err := c.cgroup(); err == nil {
		if frozen, err := mgr.Frozen(); err == nil && frozen {
			return Paused
		}
	}
	if _, err := os.Lstat(filepath.Join(c.dir(), fifoName)); err == nil {
		return Created
	}
	return Running
}

func (c *Container) cgroup() (cgctl.Manager, error) {
	if c.mgr != nil && c.mgr.Path() == c.rec.CgroupPath {
		return c.mgr, nil
	}
	mgr, err := cgctl.New(cgctl.Config{Path: c.rec.CgroupPath})
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", c.rec.CgroupPath, err)
	}
	c.mgr = mgr
	return mgr, nil
}

func (c *Container) initAlive() bool {
	if c.rec.Pid <= 0 {
		return false
	}
	start, state, err := procStat(c.rec.Pid)
	return err == nil && start == c.rec.StartTime && state != 'Z' && state != 'X'
}

// State reports the container's state as `hako state` prints it.
func (c *Container) State() State {
	st := c.Status()
	pid := c.rec.Pid
	if st == Stopped {
		pid = 0
	}
	return State{
		OCIVersion:  specs.Version,
		ID:          c.rec.ID,
		Pid:         pid,
		Status:      st,
		Bundle:      c.rec.Bundle,
		Rootfs:      c.rec.Rootfs,
		Created:     c.rec.Created,
		Annotations: c.rec.Annotations,
		Owner:       c.rec.Owner,
	}
}

// procStat reads a process's start time (in clock ticks since boot) and
// its state letter from /proc/<pid>/stat. The command name (field 2) may
// hold spaces and parentheses, so fields are counted after its last ')'.
//
// It reads through a plain descriptor: an os.File would put the procfs
// file into the Go runtime's epoll set, which wakes the poller's thread
// for nothing (one context switch or two, several times per create).
func procStat(pid int) (start uint64, state byte, err error) {
	p := "/proc/" + strconv.Itoa(pid) + "/stat"
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	// One read: the kernel makes the whole line at once (comm is at most
	// 64 bytes, the other 51 fields are numbers).
	var b [2048]byte
	n, err := unix.Read(fd, b[:])
	if err != nil {
		return 0, 0, &os.PathError{Op: "read", Path: p, Err: err}
	}
	return parseStat(string(b[:n]))
}

func parseStat(s string) (start uint64, state byte, err error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("parse /proc stat: no command field")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); field 22 (starttime) is f[19].
	if len(f) < 20 {
		return 0, 0, errors.New("parse /proc stat: too few fields")
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc stat starttime: %w", err)
	}
	return start, f[0][0], nil
}

func (c *Container) hooks() *specs.Hooks {
	if c.rec.Spec == nil || !c.rec.Spec.mentions("hooks") {
		return nil
	}
	if s := c.rec.Spec.get(); s != nil {
		return s.Hooks
	}
	return nil
}

// Spec is the container's config as create read it (nil for a container
// whose create died half-way). Exec takes its process as the template.
func (c *Container) Spec() *specs.Spec {
	if c.rec.Spec == nil {
		return nil
	}
	return c.rec.Spec.get()
}

// Process is the container's own process from its config (nil for a
// container whose create died half-way): exec takes it as the template.
// It decodes less of the config than Spec does.
func (c *Container) Process() *specs.Process {
	if c.rec.Spec == nil {
		return nil
	}
	if v := c.rec.Spec.exec(); v != nil {
		return v.Process
	}
	return nil
}

// execView is the part of the config an exec reads (nil without one).
func (c *Container) execView() *execView {
	if c.rec.Spec == nil {
		return nil
	}
	return c.rec.Spec.exec()
}

// lazySpec is the config as state.json holds it, decoded the first time a
// command asks for it: encoding/json's reflection over the config's ~60
// types is half a millisecond of a command that never looks at it
// (state, list, kill, start and delete without hooks).
type lazySpec struct {
	raw  json.RawMessage
	spec *specs.Spec
	view *execView
}

// execView is what an exec reads of the config. Decoding only these
// fields leaves out the reflection over the rest of the config's types.
type execView struct {
	Process *specs.Process `json:"process,omitempty"`
	Linux   struct {
		// Seccomp is the profile as state.json has it: an exec mostly
		// loads the filter create stored (seccomp.filter) and never needs
		// the profile's ~16 KB of JSON decoded (seccompProfile does it).
		Seccomp      json.RawMessage          `json:"seccomp,omitempty"`
		Personality  *specs.LinuxPersonality  `json:"personality,omitempty"`
		MemoryPolicy *specs.LinuxMemoryPolicy `json:"memoryPolicy,omitempty"`
	} `json:"linux"`
	seccomp *specs.LinuxSeccomp
}

// hasSeccomp tells whether the config has a seccomp profile.
func (v *execView) hasSeccomp() bool {
	return v.seccomp != nil || (len(v.Linux.Seccomp) > 0 && string(v.Linux.Seccomp) != "null")
}

// seccompProfile is the config's seccomp profile (nil: none), decoded
// the first time it is asked for. One that does not decode is an error
// (hasSeccomp still says there is one: never read as none).
func (v *execView) seccompProfile() (*specs.LinuxSeccomp, error) {
	if v.seccomp == nil && v.hasSeccomp() {
		var p specs.LinuxSeccomp
		if err := json.Unmarshal(v.Linux.Seccomp, &p); err != nil {
			return nil, fmt.Errorf("decode seccomp profile from state: %w", err)
		}
		v.seccomp, v.Linux.Seccomp = &p, nil
	}
	return v.seccomp, nil
}

// exec is the config's execView (nil where there is no config).
func (l *lazySpec) exec() *execView {
	if l.view != nil {
		return l.view
	}
	var v execView
	switch {
	case l.spec != nil:
		v.Process = l.spec.Process
		if lx := l.spec.Linux; lx != nil {
			v.seccomp, v.Linux.Personality, v.Linux.MemoryPolicy = lx.Seccomp, lx.Personality, lx.MemoryPolicy
		}
	case len(l.raw) > 0 && json.Unmarshal(l.raw, &v) == nil && v.Process != nil:
	default:
		return nil
	}
	l.view = &v
	return l.view
}

func specOf(s *specs.Spec) *lazySpec {
	if s == nil {
		return nil
	}
	return &lazySpec{spec: s}
}

func (l *lazySpec) UnmarshalJSON(b []byte) error {
	l.raw, l.spec = append(json.RawMessage(nil), b...), nil
	return nil
}

func (l *lazySpec) MarshalJSON() ([]byte, error) {
	if l.spec != nil {
		return json.Marshal(l.spec)
	}
	if len(l.raw) == 0 {
		return []byte("null"), nil
	}
	return l.raw, nil
}

// get decodes the config once; one that does not decode (state.json is
// hako's own, written whole) reads as none.
func (l *lazySpec) get() *specs.Spec {
	if l.spec == nil && len(l.raw) > 0 {
		var s specs.Spec
		if json.Unmarshal(l.raw, &s) == nil {
			l.spec = &s
		}
		l.raw = nil
	}
	return l.spec
}

// mentions tells whether key may be in the config without decoding it: a
// false answer is sure (hako wrote the file, keys as json.Marshal spells
// them).
func (l *lazySpec) mentions(key string) bool {
	return l.spec != nil || bytes.Contains(l.raw, []byte(`"`+key+`"`))
}
