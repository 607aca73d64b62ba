package cgctl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultRoot is where the cgroup filesystems are mounted on a normal host.
const DefaultRoot = "/sys/fs/cgroup"

// Config says which cgroup a Manager manages. Its zero value (plus a Path)
// means: the host's cgroup mounts at /sys/fs/cgroup, layout detected.
type Config struct {
	// Root is where the cgroup filesystems are mounted; "" means DefaultRoot.
	// Tests point it at a fake tree in t.TempDir().
	Root string
	// Path is the cgroup, the same in every hierarchy, e.g. "/hako/web1".
	// It is taken as absolute from each hierarchy's root.
	Path string
	// Mode is the layout under Root; 0 means DetectMode(Root).
	Mode Mode
}

// Hierarchy is one mounted cgroup filesystem.
type Hierarchy struct {
	// Dir is the mount point, e.g. /sys/fs/cgroup/memory.
	Dir string
	// Controllers are the controllers bound to it. On v1 these are also its
	// mount options ("cpu", "cpuacct", "name=systemd"); on v2, the contents
	// of its root's cgroup.controllers.
	Controllers []string
	// Unified is true for the cgroup2 hierarchy.
	Unified bool
}

// Manager manages one cgroup across every hierarchy of the host.
type Manager interface {
	// Create makes the cgroup in every hierarchy, where it does not exist.
	Create() error
	// Apply creates the cgroup where it does not exist and moves pid into it.
	Apply(pid int) error
	// Entry creates the cgroup where it does not exist and says how a
	// process about to start gets in by itself, without Apply's cost.
	Entry() (*Entry, error)
	// Set writes the given resource limits; fields left nil are not touched.
	Set(r *specs.LinuxResources) error
	// Pids lists the processes in the cgroup and its descendants.
	Pids() ([]int, error)
	// Freeze stops every process in the cgroup; Thaw resumes them;
	// Frozen tells which it is.
	Freeze() error
	Thaw() error
	Frozen() (bool, error)
	// Kill signals every process in the cgroup.
	Kill(sig unix.Signal) error
	// Stats reads the cgroup's usage counters.
	Stats() (*Stats, error)
	// Destroy removes the cgroup (and any child cgroups) from every
	// hierarchy. It fails if processes are still inside.
	Destroy() error
	// Path is the cgroup path within each hierarchy.
	Path() string
	// Mode is the host's layout.
	Mode() Mode
	// Hierarchies lists the mounted hierarchies the cgroup lives in.
	Hierarchies() []Hierarchy
}

// knownV1 lists the kernel's v1 controller names; any other directory name
// under the root is a named hierarchy (name=systemd).
var knownV1 = map[string]bool{
	"cpuset": true, "cpu": true, "cpuacct": true, "blkio": true, "memory": true,
	"devices": true, "freezer": true, "net_cls": true, "perf_event": true,
	"net_prio": true, "hugetlb": true, "pids": true, "rdma": true, "misc": true,
}

type manager struct {
	path string
	mode Mode
	hier []Hierarchy
}

// New returns the Manager for c.Path. It looks at the mounted hierarchies
// (statfs of the root when the mode is not given, and one directory listing)
// but creates nothing: Apply does.
func New(c Config) (Manager, error) {
	root := c.Root
	if root == "" {
		root = DefaultRoot
	}
	p, err := cleanPath(c.Path)
	if err != nil {
		return nil, err
	}
	mode := c.Mode
	if mode == 0 {
		if mode, err = DetectMode(root); err != nil {
			return nil, err
		}
	}
	m := &manager{path: p, mode: mode}
	if mode == Unified {
		h, err := unifiedAt(root)
		if err != nil {
			return nil, err
		}
		m.hier = []Hierarchy{h}
		return m, nil
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !e.IsDir() { // symlinks such as cpu -> cpu,cpuacct are skipped
			continue
		}
		dir := filepath.Join(root, e.Name())
		if e.Name() == "unified" && mode == Hybrid {
			h, err := unifiedAt(dir)
			if err != nil {
				return nil, err
			}
			m.hier = append(m.hier, h)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err != nil {
			continue // not a cgroup mount
		}
		var ctrls []string
		for _, n := range strings.Split(e.Name(), ",") {
			if !knownV1[n] {
				n = "name=" + n
			}
			ctrls = append(ctrls, n)
		}
		m.hier = append(m.hier, Hierarchy{Dir: dir, Controllers: ctrls})
	}
	if len(m.hier) == 0 {
		return nil, fmt.Errorf("find cgroup hierarchies under %s: none mounted", root)
	}
	return m, nil
}

func unifiedAt(dir string) (Hierarchy, error) {
	b, err := readFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return Hierarchy{}, err
	}
	return Hierarchy{Dir: dir, Controllers: strings.Fields(string(b)), Unified: true}, nil
}

// cleanPath makes p absolute and refuses paths that would leave the
// hierarchy root ("/../../etc" cleans to "/etc", which is inside, so only
// the empty path and the root itself are refused).
func cleanPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("cgroup path is empty")
	}
	c := filepath.Clean("/" + p)
	if c == "/" {
		return "", fmt.Errorf("cgroup path %q: the root cgroup cannot be managed", p)
	}
	return c, nil
}

func (m *manager) Path() string             { return m.path }
func (m *manager) Mode() Mode               { return m.mode }
func (m *manager) Hierarchies() []Hierarchy { return m.hier }

// dir returns this cgroup's directory in the hierarchy holding controller,
// preferring v1 on a hybrid host (that is where the kernel binds a
// controller that is mounted on v1: it cannot be on both).
func (m *manager) dir(controller string) (string, *Hierarchy, bool) {
	var v2 *Hierarchy
	for i := range m.hier {
		h := &m.hier[i]
		if h.Unified {
			if contains(h.Controllers, controller) {
				v2 = h
			}
			continue
		}
		if contains(h.Controllers, controller) {
			return filepath.Join(h.Dir, m.path), h, true
		}
	}
	if v2 != nil {
		return filepath.Join(v2.Dir, m.path), v2, true
	}
	return "", nil, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
