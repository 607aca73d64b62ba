package capset

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var mpolModes = map[specs.MemoryPolicyModeType]uintptr{
	"MPOL_DEFAULT": 0, "MPOL_PREFERRED": 1, "MPOL_BIND": 2, "MPOL_INTERLEAVE": 3,
	"MPOL_LOCAL": 4, "MPOL_PREFERRED_MANY": 5, "MPOL_WEIGHTED_INTERLEAVE": 6,
}

var mpolFlags = map[specs.MemoryPolicyFlagType]uintptr{
	"MPOL_F_STATIC_NODES": 1 << 15, "MPOL_F_RELATIVE_NODES": 1 << 14, "MPOL_F_NUMA_BALANCING": 1 << 13,
}

// SetMemoryPolicy sets the calling thread's NUMA memory policy
// (set_mempolicy(2)); execve keeps it.
func SetMemoryPolicy(p *specs.LinuxMemoryPolicy) error {
	mode, ok := mpolModes[p.Mode]
	if !ok {
		return fmt.Errorf("memoryPolicy: unknown mode %q", p.Mode)
	}
	for _, f := range p.Flags {
		v, ok := mpolFlags[f]
		if !ok {
			return fmt.Errorf("memoryPolicy: unknown flag %q", f)
		}
		mode |= v
	}
	var mask [16]uint64 // 1024 nodes
	maxNode := 0
	if p.Nodes != "" {
		for _, part := range strings.Split(p.Nodes, ",") {
			lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
			a, err1 := strconv.Atoi(lo)
			b, err2 := a, error(nil)
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || a < 0 || b < a || b >= len(mask)*64 {
				return fmt.Errorf("memoryPolicy: bad nodes %q", p.Nodes)
			}
			for n := a; n <= b; n++ {
				mask[n/64] |= 1 << (n % 64)
			}
			maxNode = max(maxNode, b+1)
		}
	}
	var maskPtr uintptr
	if maxNode > 0 {
		maskPtr = uintptr(unsafe.Pointer(&mask[0]))
		maxNode++ // the kernel reads maxnode-1 bits
	}
	if _, _, e := unix.Syscall(unix.SYS_SET_MEMPOLICY, mode, maskPtr, uintptr(maxNode)); e != 0 {
		return fmt.Errorf("memoryPolicy %s %q: %w", p.Mode, p.Nodes, e)
	}
	return nil
}

// MemoryPolicyModes and MemoryPolicyFlags list what SetMemoryPolicy takes.
func MemoryPolicyModes() []string { return sortedKeys(mpolModes) }
func MemoryPolicyFlags() []string { return sortedKeys(mpolFlags) }

func sortedKeys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}
