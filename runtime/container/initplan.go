package container

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/rootfs"
	"hako.dev/runtime/execstage"
)

// A container's init runs no Go at all when its config allows: the C
// exec stage (kind Init), right after nsenter's pre-init made the
// namespaces, carries out the mount plan computed here (rootfs.Plan, as
// the Go init would), sets the host settings, finds the program and
// HOME, applies the process settings as for an exec, and waits for
// start. That saves a Go runtime's start, the config's JSON and a
// re-execution per create. Should it fail before any hook ran, Create
// redoes the setup with the Go init in a new init process, whose error
// (with the Go init's texts, which clients match) is the one reported.

// initFilter is what initPlan needs of the config's compiled seccomp
// filter.
type initFilter struct {
	bpf    []byte
	flags  uint32
	notify bool
	// stageOK: it lets every syscall of the stage through (a filter
	// loaded before the credentials change filters them); thpOK: the
	// prctl that gives transparent huge pages back too (thp.go).
	stageOK, thpOK bool
}

// initPlan returns the C stage's plan for the container's init, or nil
// when the config needs the Go init: createContainer or startContainer
// hooks (they run in the container), a terminal, --no-pivot, a mount
// namespace joined or shared, idmapped mounts, tmpcopyup, a rootfs
// propagation other than rslave or rprivate (its parent goes private,
// found in mountinfo), a sysfs that may need the host's bind (a joined
// network namespace), LSM labels, a seccomp listener, personality,
// scheduler, I/O priority, memory policy, a filter loaded early that
// refuses the stage's syscalls, or a capability this host lacks (the Go
// init names it).
func initPlan(spec *specs.Spec, rc rootfs.Config, o CreateOpts, id string, f *initFilter) (*execstage.Plan, error) {
	p, l := spec.Process, spec.Linux
	if !execstage.Linked || p.Terminal || o.NoPivot || !newNS(spec, specs.MountNamespace) ||
		l.Personality != nil || p.Scheduler != nil || p.IOPriority != nil || l.MemoryPolicy != nil ||
		p.ApparmorProfile != "" || p.SelinuxLabel != "" || len(p.Args) == 0 {
		return nil, nil
	}
	// Prestart and createRuntime hooks are run by the parent, asked at
	// the right moment (a Hooks step); createContainer and startContainer
	// ones run in the container, by the Go init.
	if h := spec.Hooks; h != nil {
		if len(h.CreateContainer)+len(h.StartContainer) > 0 {
			return nil, nil
		}
		if len(h.Prestart)+len(h.CreateRuntime) > 0 {
			rc.BeforePivot = func() error { return nil } // planned as a step, run by the parent
		}
	}
	if f != nil && (f.notify || !p.NoNewPrivileges && !f.stageOK) {
		return nil, nil
	}
	ops, err := rootfs.Plan(rc)
	if err != nil {
		return nil, nil // the Go init reports it
	}
	setup := &execstage.Setup{Hostname: spec.Hostname, Domainname: spec.Domainname, Candidates: candidates(p),
		Quoted: strconv.Quote(p.Args[0])}
	if len(setup.Candidates) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(l.Sysctl))
	for k := range l.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the Go init's order
	for _, k := range keys {
		setup.Sysctls = append(setup.Sysctls, [2]string{"/proc/sys/" + strings.ReplaceAll(k, ".", "/"), l.Sysctl[k]})
	}
	// The host settings go right after the root switch (and the root's
	// propagation, if the config sets one): what the Go init does between
	// rootfs.Prepare and rootfs.Finish.
	at := -1
	for i, op := range ops {
		if op.Kind == rootfs.OpPivotRoot {
			at = i
			if i+1 < len(ops) && ops[i+1].Kind == rootfs.OpRootPropagation {
				at = i + 1
			}
		}
	}
	if at < 0 {
		return nil, nil
	}
	netNew := newNS(spec, specs.NetworkNamespace)
	for i, op := range ops {
		m, ok := mountStep(op, netNew)
		if !ok {
			return nil, nil
		}
		setup.Steps = append(setup.Steps, m)
		if i == at {
			setup.Steps = append(setup.Steps, execstage.Step{Kind: execstage.HostSettings})
		}
	}
	plan, err := processPlan(p)
	if plan == nil || err != nil {
		return nil, err
	}
	plan.Kind, plan.Sync, plan.Fifo, plan.Master = execstage.Init, initSockFd, initFifoFd, -1
	plan.PreserveFrom, plan.Preserve = initFifoFd+1, o.PreserveFDs
	plan.Env, plan.Setup = p.Env, setup
	if !o.NoNewKeyring {
		plan.Keyring = "_ses." + id
	}
	setup.Home = true
	for _, e := range p.Env {
		if strings.HasPrefix(e, "HOME=") {
			setup.Home = false
		}
	}
	if f != nil {
		plan.BPF, plan.SeccompFlags, plan.SeccompEarly = f.bpf, f.flags, !p.NoNewPrivileges
	}
	planHugePages(plan, f == nil || f.thpOK)
	return plan, nil
}

// sameSteps are the rootfs plan's steps the stage carries as they are.
var sameSteps = map[rootfs.OpKind]execstage.StepKind{
	rootfs.OpRootPropagation: execstage.RootPropagation, rootfs.OpBindRootfs: execstage.BindRootfs,
	rootfs.OpRemount: execstage.Remount, rootfs.OpSetAttr: execstage.SetAttr, rootfs.OpPropagate: execstage.Propagate,
	rootfs.OpSymlink: execstage.Symlink, rootfs.OpPivotRoot: execstage.PivotRoot,
	rootfs.OpReadonlyPath: execstage.ReadonlyPath, rootfs.OpMaskPath: execstage.MaskPath,
	rootfs.OpHooks: execstage.Hooks,
}

// mountStep is the stage's form of a rootfs plan step; false for one it
// does not carry (parent-private, move-root, chroot, an idmapped bind,
// tmpcopyup). netNew: the container has a network namespace of its
// own making, where a new sysfs is never refused.
func mountStep(op rootfs.Op, netNew bool) (execstage.Step, bool) {
	m := execstage.Step{Source: op.Source, Target: op.Target, Type: op.Type, Data: op.Data, Link: op.Link,
		Flags: uint64(op.Flags), Clear: uint64(op.Clear), AttrSet: op.AttrSet, AttrClr: op.AttrClr, UID: -1, GID: -1}
	switch op.Kind {
	case rootfs.OpMount:
		m.Kind = execstage.Mount
		return m, !op.CopyUp && (!op.FallbackBind || netNew)
	case rootfs.OpBind:
		m.Kind = execstage.Bind
		return m, op.IDMap == nil
	case rootfs.OpBindDevice:
		m.Kind, m.Target = execstage.BindDevice, op.Device.Path
		return m, true
	case rootfs.OpMknod:
		return mknodStep(m, op.Device)
	}
	k, ok := sameSteps[op.Kind]
	m.Kind = k
	return m, ok
}

// mknodStep fills in a device node's step; false for a type the Go init
// refuses by name.
func mknodStep(m execstage.Step, d *specs.LinuxDevice) (execstage.Step, bool) {
	typ := map[string]uint32{"c": unix.S_IFCHR, "u": unix.S_IFCHR, "b": unix.S_IFBLK, "p": unix.S_IFIFO}[d.Type]
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	m.Kind, m.Target, m.DevMode, m.DevMajor, m.DevMinor = execstage.Mknod, d.Path, typ|perm, uint32(d.Major), uint32(d.Minor)
	if d.UID != nil {
		m.UID = int64(*d.UID)
	}
	if d.GID != nil {
		m.GID = int64(*d.GID)
	}
	return m, typ != 0
}

// candidates are the paths exec.LookPath tries for p's program, in its
// order, with p's PATH; none for a name it refuses without a search ("",
// ".", ".."), which the Go init reports.
func candidates(p *specs.Process) []string {
	file := p.Args[0]
	if file == "" || file == "." || file == ".." {
		return nil
	}
	if strings.Contains(file, "/") {
		return []string{file}
	}
	var out []string
	for _, dir := range filepath.SplitList(pathOf(p.Env)) {
		if dir == "" {
			dir = "."
		}
		out = append(out, filepath.Join(dir, file))
	}
	return out
}
