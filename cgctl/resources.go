package cgctl

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// memoryWrites: v1 memory.* files take bytes or -1; v2 takes bytes or "max",
// and its swap limit is swap alone where the OCI (and v1) value is
// memory+swap.
func memoryWrites(m *specs.LinuxMemory, v2 bool) ([]write, error) {
	if m == nil {
		return nil, nil
	}
	var ws []write
	w := func(f, v string) { ws = append(ws, wr("memory", f, v)) }
	if !v2 {
		if m.Limit != nil {
			w("memory.limit_in_bytes", itoa(*m.Limit))
		}
		if m.Swap != nil { // memsw must stay >= limit: written after it
			w("memory.memsw.limit_in_bytes", itoa(*m.Swap))
		}
		if m.Reservation != nil {
			w("memory.soft_limit_in_bytes", itoa(*m.Reservation))
		}
		if m.Swappiness != nil {
			w("memory.swappiness", utoa(*m.Swappiness))
		}
		if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
			w("memory.oom_control", "1")
		}
		if m.Kernel != nil {
			w("memory.kmem.limit_in_bytes", itoa(*m.Kernel))
		}
		if m.KernelTCP != nil {
			w("memory.kmem.tcp.limit_in_bytes", itoa(*m.KernelTCP))
		}
		if m.UseHierarchy != nil {
			v := "0"
			if *m.UseHierarchy {
				v = "1"
			}
			w("memory.use_hierarchy", v)
		}
		return ws, nil
	}
	if m.Limit != nil {
		w("memory.max", maxOr(*m.Limit))
	}
	if m.Swap != nil {
		switch {
		case *m.Swap < 0:
			w("memory.swap.max", "max")
		case m.Limit == nil || *m.Limit < 0:
			return nil, errors.New("set memory.swap.max: a swap limit needs a memory limit on cgroup v2 (OCI swap is memory+swap)")
		case *m.Swap < *m.Limit:
			return nil, fmt.Errorf("set memory.swap.max: memory+swap limit %d is below the memory limit %d", *m.Swap, *m.Limit)
		default:
			w("memory.swap.max", itoa(*m.Swap-*m.Limit))
		}
	}
	if m.Reservation != nil {
		w("memory.low", maxOr(*m.Reservation))
	}
	if m.Swappiness != nil {
		return nil, errors.New("set memory swappiness: cgroup v2 has no per-cgroup swappiness")
	}
	if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
		return nil, errors.New("set memory disableOOMKiller: cgroup v2 cannot disable the OOM killer")
	}
	if m.Kernel != nil || m.KernelTCP != nil {
		return nil, errors.New("set kernel memory limits: cgroup v2 has none (kernel memory counts in memory.max)")
	}
	return ws, nil
}

// cpuWrites: v2's cpu.weight (1..10000) is derived from v1 shares (2..262144)
// by the same linear map runc and the kernel documentation use.
func cpuWrites(c *specs.LinuxCPU, v2 bool) ([]write, error) {
	if c == nil {
		return nil, nil
	}
	var ws []write
	w := func(ctrl, f, v string) { ws = append(ws, wr(ctrl, f, v)) }
	if c.Cpus != "" {
		w("cpuset", "cpuset.cpus", c.Cpus)
	}
	if c.Mems != "" {
		w("cpuset", "cpuset.mems", c.Mems)
	}
	if !v2 {
		// 0 means unset (Docker sends it so): the kernel would make it 2.
		if c.Shares != nil && *c.Shares != 0 {
			w("cpu", "cpu.shares", utoa(*c.Shares))
		}
		if c.Period != nil {
			w("cpu", "cpu.cfs_period_us", utoa(*c.Period))
		}
		if c.Quota != nil {
			w("cpu", "cpu.cfs_quota_us", itoa(*c.Quota))
		}
		if c.Burst != nil {
			w("cpu", "cpu.cfs_burst_us", utoa(*c.Burst))
		}
		if c.RealtimePeriod != nil {
			w("cpu", "cpu.rt_period_us", utoa(*c.RealtimePeriod))
		}
		if c.RealtimeRuntime != nil {
			w("cpu", "cpu.rt_runtime_us", itoa(*c.RealtimeRuntime))
		}
		if c.Idle != nil {
			return nil, errors.New("set cpu idle: cgroup v1 has no cpu.idle")
		}
		return ws, nil
	}
	if c.Shares != nil && *c.Shares != 0 {
		w("cpu", "cpu.weight", utoa(SharesToWeight(*c.Shares)))
	}
	if c.Quota != nil || c.Period != nil {
		// cpu.max takes "QUOTA [PERIOD]": a quota alone keeps the period.
		quota := "max"
		if c.Quota != nil && *c.Quota > 0 {
			quota = itoa(*c.Quota)
		}
		if c.Period != nil && *c.Period != 0 {
			w("cpu", "cpu.max", quota+" "+utoa(*c.Period))
		} else {
			w("cpu", "cpu.max", quota)
		}
	}
	if c.Burst != nil {
		w("cpu", "cpu.max.burst", utoa(*c.Burst))
	}
	if c.Idle != nil {
		w("cpu", "cpu.idle", itoa(*c.Idle))
	}
	if c.RealtimePeriod != nil || c.RealtimeRuntime != nil {
		return nil, errors.New("set cpu realtime limits: cgroup v2 has no cpu.rt_* files")
	}
	return ws, nil
}

// SharesToWeight maps v1 cpu.shares to v2 cpu.weight: 2 → 1, 1024 → 39,
// 262144 → 10000.
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	shares = min(max(shares, 2), 262144)
	return 1 + ((shares-2)*9999)/262142
}

// pidsWrites follows runtime-spec 1.3: a nil limit leaves pids.max alone,
// a negative one means no limit ("max"), and 0 is a real limit of zero
// (no new tasks at all), as runc 1.4 reads it too.
func pidsWrites(p *specs.LinuxPids) ([]write, error) {
	if p == nil || p.Limit == nil {
		return nil, nil
	}
	v := maxOr(*p.Limit)
	return []write{wr("pids", "pids.max", v)}, nil
}

// blkioWrites: v1 blkio.weight (10..1000) vs v2 io.weight (1..10000) scaled
// as runc does; throttles become blkio.throttle.* lines or io.max keys.
func blkioWrites(b *specs.LinuxBlockIO, v2 bool) ([]write, error) {
	if b == nil {
		return nil, nil
	}
	var ws []write
	if !v2 {
		w := func(f, v string) { ws = append(ws, wr("blkio", f, v)) }
		// 0 means unset (Docker sends it so). Under the BFQ I/O scheduler
		// the weight is blkio.bfq.weight, and there is no leaf weight.
		if b.Weight != nil && *b.Weight != 0 {
			ws = append(ws, write{controller: "blkio", file: "blkio.weight", value: utoa(uint64(*b.Weight)), alt: "blkio.bfq.weight"})
		}
		if b.LeafWeight != nil && *b.LeafWeight != 0 {
			w("blkio.leaf_weight", utoa(uint64(*b.LeafWeight)))
		}
		for _, d := range b.WeightDevice {
			if d.Weight != nil {
				w("blkio.weight_device", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.Weight))
			}
			if d.LeafWeight != nil {
				w("blkio.leaf_weight_device", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.LeafWeight))
			}
		}
		for _, t := range []struct {
			file string
			devs []specs.LinuxThrottleDevice
		}{
			{"blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
			{"blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
			{"blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
			{"blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
		} {
			for _, d := range t.devs {
				w(t.file, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate))
			}
		}
		return ws, nil
	}
	w := func(f, v string) { ws = append(ws, wr("io", f, v)) }
	if b.Weight != nil && *b.Weight != 0 {
		w("io.weight", utoa(blkioToIOWeight(uint64(*b.Weight))))
	}
	if b.LeafWeight != nil {
		return nil, errors.New("set blockIO leafWeight: cgroup v2 has no leaf weight")
	}
	for _, d := range b.WeightDevice {
		if d.Weight != nil {
			w("io.weight", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, blkioToIOWeight(uint64(*d.Weight))))
		}
	}
	for _, t := range []struct {
		key  string
		devs []specs.LinuxThrottleDevice
	}{
		{"rbps", b.ThrottleReadBpsDevice},
		{"wbps", b.ThrottleWriteBpsDevice},
		{"riops", b.ThrottleReadIOPSDevice},
		{"wiops", b.ThrottleWriteIOPSDevice},
	} {
		for _, d := range t.devs {
			w("io.max", fmt.Sprintf("%d:%d %s=%d", d.Major, d.Minor, t.key, d.Rate))
		}
	}
	return ws, nil
}

// blkioToIOWeight maps 10..1000 onto 1..10000 (values outside clamp).
func blkioToIOWeight(w uint64) uint64 {
	w = min(max(w, 10), 1000)
	return 1 + (w-10)*9999/990
}

// validPagesize is a hugetlb size as the kernel names its files, 2MB,
// 1GB: ^[0-9]+[KMG]B$ (a loop, not a regexp compiled at every start).
func validPagesize(s string) bool {
	n := len(s) - 2
	if n < 1 || s[n+1] != 'B' || strings.IndexByte("KMG", s[n]) < 0 {
		return false
	}
	for _, c := range []byte(s[:n]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func hugetlbWrites(hs []specs.LinuxHugepageLimit, v2 bool) ([]write, error) {
	var ws []write
	for _, h := range hs {
		if !validPagesize(h.Pagesize) {
			return nil, fmt.Errorf("set hugepage limit: bad page size %q (want e.g. 2MB, 1GB)", h.Pagesize)
		}
		// The limit applies to reservations too where the kernel counts
		// them (5.11+: the .rsvd files), as runc sets both.
		if v2 {
			ws = append(ws, write{controller: "hugetlb", file: "hugetlb." + h.Pagesize + ".max", value: utoa(h.Limit), optional: false},
				write{controller: "hugetlb", file: "hugetlb." + h.Pagesize + ".rsvd.max", value: utoa(h.Limit), optional: true})
		} else {
			ws = append(ws, write{controller: "hugetlb", file: "hugetlb." + h.Pagesize + ".limit_in_bytes", value: utoa(h.Limit), optional: false},
				write{controller: "hugetlb", file: "hugetlb." + h.Pagesize + ".rsvd.limit_in_bytes", value: utoa(h.Limit), optional: true})
		}
	}
	return ws, nil
}

// rdmaWrites: the same rdma.max line format on v1 and v2.
func rdmaWrites(rd map[string]specs.LinuxRdma) ([]write, error) {
	var devs []string
	for d := range rd {
		devs = append(devs, d)
	}
	sort.Strings(devs)
	var ws []write
	for _, d := range devs {
		l := rd[d]
		if strings.ContainsAny(d, " \n=") {
			return nil, fmt.Errorf("set rdma: bad device name %q", d)
		}
		line := d
		if l.HcaHandles != nil {
			line += " hca_handle=" + utoa(uint64(*l.HcaHandles))
		}
		if l.HcaObjects != nil {
			line += " hca_object=" + utoa(uint64(*l.HcaObjects))
		}
		if line != d {
			ws = append(ws, write{controller: "rdma", file: "rdma.max", value: line})
		}
	}
	return ws, nil
}

func networkWrites(n *specs.LinuxNetwork) ([]write, error) {
	if n == nil {
		return nil, nil
	}
	var ws []write
	if n.ClassID != nil {
		ws = append(ws, wr("net_cls", "net_cls.classid", fmt.Sprint(*n.ClassID)))
	}
	for _, p := range n.Priorities {
		ws = append(ws, wr("net_prio", "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority)))
	}
	return ws, nil
}
