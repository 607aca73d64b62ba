package cgctl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// write is one value for one control file of one controller's hierarchy.
type write struct {
	controller string
	file       string
	value      string
	// optional writes are skipped where the kernel has no such file.
	optional bool
	// alt is the file written instead where file does not exist (v1's
	// blkio.weight is blkio.bfq.weight under the BFQ scheduler).
	alt string
}

func wr(controller, file, value string) write {
	return write{controller: controller, file: file, value: value}
}

// Set writes r's limits. Each controller's files are written in the format
// of the hierarchy that holds that controller on this host, so on a hybrid
// host memory goes to v1's memory.limit_in_bytes while hugetlb may go to
// cgroup2's hugetlb.2MB.max. A controller a cgroup2 write needs is first
// enabled in cgroup.subtree_control of every ancestor, and only those
// (the kernel's no-internal-process rule keeps the leaf itself free).
func (m *manager) Set(r *specs.LinuxResources) (err error) {
	if r == nil {
		return nil
	}
	ws, err := m.plan(r)
	if err != nil {
		return err
	}
	if err := m.checkBeforeUpdate(r.Memory); err != nil {
		return err
	}
	if len(r.Devices) > 0 && m.isV2("devices") {
		dir, _, ok := m.unified()
		if !ok {
			return errors.New("set device rules: no devices controller and no cgroup2 hierarchy")
		}
		if err := m.createIn(dir); err != nil {
			return err
		}
		if err := setDevicesBPF(dir, r.Devices); err != nil {
			return err
		}
	}
	var fw fileWriter
	defer func() {
		if cerr := fw.close(); err == nil {
			err = cerr
		}
	}()
	enabled := map[string]bool{}
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		dir, h, ok := m.dir(w.controller)
		if w.controller == "cgroup" { // cgroup.* core files of cgroup2 need no controller
			dir, h, ok = m.unified()
		}
		if !ok {
			return fmt.Errorf("set %s: controller %s is not available on this host", w.file, w.controller)
		}
		// On a hybrid host too: its cgroup2 holds controllers (hugetlb
		// here) that must be enabled down the path like on a unified one.
		if h.Unified && !enabled[w.controller] && w.controller != "cgroup" {
			if err := m.enable(h.Dir, w.controller); err != nil {
				return err
			}
			enabled[w.controller] = true
		}
		err := fw.write(dir, w.file, w.value)
		if w.alt != "" && errors.Is(err, os.ErrNotExist) {
			err = fw.write(dir, w.alt, w.value)
		}
		if w.optional && errors.Is(err, os.ErrNotExist) {
			continue
		}
		// v1 refuses a memory limit above the current memory+swap limit:
		// when raising both, memsw must go first.
		if errors.Is(err, unix.EINVAL) && w.file == "memory.limit_in_bytes" &&
			i+1 < len(ws) && ws[i+1].file == "memory.memsw.limit_in_bytes" {
			if err = fw.write(dir, ws[i+1].file, ws[i+1].value); err == nil {
				err = fw.write(dir, w.file, w.value)
			}
			i++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkBeforeUpdate refuses, when the config asks for it, a memory limit
// below what the cgroup already uses: the kernel would reclaim or OOM-kill
// to get there.
func (m *manager) checkBeforeUpdate(mem *specs.LinuxMemory) error {
	if mem == nil || mem.CheckBeforeUpdate == nil || !*mem.CheckBeforeUpdate || mem.Limit == nil || *mem.Limit < 0 {
		return nil
	}
	dir, h, ok := m.dir("memory")
	if !ok {
		return nil
	}
	usage := "memory.usage_in_bytes"
	if h.Unified {
		usage = "memory.current"
	}
	v, err := readTrim(filepath.Join(dir, usage))
	if err != nil {
		return nil // a cgroup not created yet uses nothing
	}
	if cur, err := strconv.ParseInt(v, 10, 64); err == nil && *mem.Limit < cur {
		return fmt.Errorf("set memory limit %d on %s: below current usage %d (checkBeforeUpdate)", *mem.Limit, m.path, cur)
	}
	return nil
}

func (m *manager) unified() (string, *Hierarchy, bool) {
	for i := range m.hier {
		if m.hier[i].Unified {
			return filepath.Join(m.hier[i].Dir, m.path), &m.hier[i], true
		}
	}
	return "", nil, false
}

// enable writes "+controller" to cgroup.subtree_control from the root down
// to the cgroup's parent, creating the ancestors if needed.
func (m *manager) enable(root, controller string) error {
	dir := root
	parts := strings.Split(strings.TrimPrefix(m.path, "/"), "/")
	for i, part := range parts {
		if err := writeFile(dir, "cgroup.subtree_control", "+"+controller); err != nil {
			return err
		}
		if i == len(parts)-1 {
			break
		}
		dir = filepath.Join(dir, part)
	}
	return nil
}

// plan turns r into the writes for this host, in the order they must be
// done. It does no I/O beyond what m already knows.
func (m *manager) plan(r *specs.LinuxResources) ([]write, error) {
	var ws []write
	add := func(more []write, err error) error {
		ws = append(ws, more...)
		return err
	}
	if err := add(memoryWrites(r.Memory, m.isV2("memory"))); err != nil {
		return nil, err
	}
	if err := add(cpuWrites(r.CPU, m.isV2("cpu"))); err != nil {
		return nil, err
	}
	if err := add(pidsWrites(r.Pids)); err != nil {
		return nil, err
	}
	if err := add(blkioWrites(r.BlockIO, m.isV2("io"))); err != nil {
		return nil, err
	}
	if err := add(hugetlbWrites(r.HugepageLimits, m.isV2("hugetlb"))); err != nil {
		return nil, err
	}
	if err := add(rdmaWrites(r.Rdma)); err != nil {
		return nil, err
	}
	if err := add(networkWrites(r.Network)); err != nil {
		return nil, err
	}
	if err := add(deviceWrites(r.Devices, m.isV2("devices"))); err != nil {
		return nil, err
	}
	if len(r.Unified) > 0 {
		if m.mode == Legacy {
			return nil, fmt.Errorf("set linux.resources.unified: no cgroup v2 hierarchy on this host")
		}
		for k, v := range r.Unified {
			ctrl, _, ok := strings.Cut(k, ".")
			if !ok || strings.Contains(k, "/") {
				return nil, fmt.Errorf("set linux.resources.unified: bad key %q", k)
			}
			ws = append(ws, write{controller: ctrl, file: k, value: v})
		}
	}
	return ws, nil
}

// isV2 tells whether controller is served by the cgroup2 hierarchy. The io
// controller of v2 is blkio on v1, and v2 has no devices controller at all
// (device access is an eBPF program there).
func (m *manager) isV2(controller string) bool {
	switch controller {
	case "io":
		if _, h, ok := m.dir("blkio"); ok && !h.Unified {
			return false
		}
		return m.mode != Legacy
	case "devices":
		_, h, ok := m.dir("devices")
		return !ok || h.Unified
	}
	_, h, ok := m.dir(controller)
	return ok && h.Unified
}

func itoa(v int64) string  { return strconv.FormatInt(v, 10) }
func utoa(v uint64) string { return strconv.FormatUint(v, 10) }
func maxOr(v int64) string {
	if v < 0 {
		return "max"
	}
	return itoa(v)
}
