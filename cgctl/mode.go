package cgctl

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Mode is the cgroup layout of a host.
type Mode int

const (
	// Legacy is cgroup v1 only: one hierarchy per controller group.
	Legacy Mode = iota + 1
	// Hybrid is cgroup v1 hierarchies plus cgroup2 at <root>/unified.
	Hybrid
	// Unified is a single cgroup2 hierarchy at the root.
	Unified
)

func (m Mode) String() string {
	switch m {
	case Legacy:
		return "legacy"
	case Hybrid:
		return "hybrid"
	case Unified:
		return "unified"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// DetectMode tells the layout of the cgroup filesystems mounted at root
// (normally /sys/fs/cgroup) from the filesystem magic of root and of
// root/unified: two statfs(2) calls, no mountinfo parsing.
func DetectMode(root string) (Mode, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return 0, &os.PathError{Op: "statfs", Path: root, Err: err}
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Unified, nil
	}
	unified := filepath.Join(root, "unified")
	if err := unix.Statfs(unified, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Hybrid, nil
	}
	return Legacy, nil
}
