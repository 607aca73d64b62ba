package cgctl

import (
	"bufio"
	"bytes"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// Stats are a cgroup's usage counters, in the JSON shape of runc's
// `events --stats` data, which clients parse. Counters a host does not
// have stay zero.
type Stats struct {
	CPU     CPUStats                `json:"cpu"`
	Memory  MemoryStats             `json:"memory"`
	Pids    PidsStats               `json:"pids"`
	Blkio   BlkioStats              `json:"blkio"`
	Hugetlb map[string]HugetlbStats `json:"hugetlb"`
}

type CPUStats struct {
	Usage      CPUUsage   `json:"usage,omitempty"`
	Throttling Throttling `json:"throttling,omitempty"`
}

// CPUUsage is in nanoseconds.
type CPUUsage struct {
	Total  uint64   `json:"total,omitempty"`
	Percpu []uint64 `json:"percpu,omitempty"`
	Kernel uint64   `json:"kernel"`
	User   uint64   `json:"user"`
}

type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

type MemoryStats struct {
	Cache  uint64            `json:"cache,omitempty"`
	Usage  MemoryEntry       `json:"usage,omitempty"`
	Swap   MemoryEntry       `json:"swap,omitempty"`
	Kernel MemoryEntry       `json:"kernel,omitempty"`
	Raw    map[string]uint64 `json:"raw,omitempty"`
	// OOM counts times the limit was hit, OOMKill processes killed for it.
	OOM     uint64 `json:"oom,omitempty"`
	OOMKill uint64 `json:"oomKill,omitempty"`
}

type PidsStats struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

type BlkioStats struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
}

type HugetlbStats struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// Stats reads every counter the host has, each from the hierarchy of its
// controller. A controller the host lacks is skipped, not an error.
func (m *manager) Stats() (*Stats, error) {
	s := &Stats{Hugetlb: map[string]HugetlbStats{}}
	if dir, h, ok := m.dir("memory"); ok {
		if err := memoryStats(dir, h.Unified, &s.Memory); err != nil {
			return nil, err
		}
	}
	if dir, h, ok := m.dir("cpu"); ok && h.Unified {
		cpuStatsV2(dir, &s.CPU)
	} else {
		if dir, _, ok := m.dir("cpuacct"); ok {
			cpuacctStats(dir, &s.CPU)
		}
		if ok {
			s.CPU.Throttling = throttlingV1(dir)
		}
	}
	if dir, _, ok := m.dir("pids"); ok {
		s.Pids.Current = readUint(filepath.Join(dir, "pids.current"))
		// runc's shape says 0 for no limit.
		if s.Pids.Limit = readUint(filepath.Join(dir, "pids.max")); s.Pids.Limit == math.MaxUint64 {
			s.Pids.Limit = 0
		}
	}
	if dir, h, ok := m.dir("blkio"); ok && !h.Unified {
		s.Blkio.IoServiceBytesRecursive = blkioEntries(filepath.Join(dir, "blkio.throttle.io_service_bytes_recursive"))
		s.Blkio.IoServicedRecursive = blkioEntries(filepath.Join(dir, "blkio.throttle.io_serviced_recursive"))
	} else if dir, _, ok := m.dir("io"); ok {
		s.Blkio.IoServiceBytesRecursive, s.Blkio.IoServicedRecursive = ioStat(filepath.Join(dir, "io.stat"))
	}
	if dir, h, ok := m.dir("hugetlb"); ok {
		hugetlbStats(dir, h.Unified, s.Hugetlb)
	}
	return s, nil
}

// readUint reads a one-number file; "max" (no limit) reads as MaxUint64,
// a missing file as 0.
func readUint(p string) uint64 {
	v, err := readTrim(p)
	if err != nil {
		return 0
	}
	if v == "max" {
		return math.MaxUint64
	}
	n, _ := strconv.ParseUint(v, 10, 64)
	return n
}

// keyValues reads "key value" lines (memory.stat, cpu.stat, ...).
func keyValues(p string) map[string]uint64 {
	b, err := readFile(p)
	if err != nil {
		return nil
	}
	m := map[string]uint64{}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			m[k] = n
		}
	}
	return m
}

func memoryStats(dir string, v2 bool, s *MemoryStats) error {
	f := func(name string) uint64 { return readUint(filepath.Join(dir, name)) }
	if v2 {
		s.Raw = keyValues(filepath.Join(dir, "memory.stat"))
		s.Cache = s.Raw["file"]
		s.Usage = MemoryEntry{Usage: f("memory.current"), Max: f("memory.peak"), Limit: f("memory.max")}
		s.Swap = MemoryEntry{Usage: f("memory.swap.current"), Max: f("memory.swap.peak"), Limit: f("memory.swap.max")}
		ev := keyValues(filepath.Join(dir, "memory.events"))
		s.OOM, s.OOMKill = ev["oom"], ev["oom_kill"]
		s.Usage.Failcnt = ev["max"]
		return nil
	}
	s.Raw = keyValues(filepath.Join(dir, "memory.stat"))
	s.Cache = s.Raw["cache"]
	entry := func(prefix string) MemoryEntry {
		return MemoryEntry{
			Usage: f(prefix + "usage_in_bytes"), Max: f(prefix + "max_usage_in_bytes"),
			Limit: f(prefix + "limit_in_bytes"), Failcnt: f(prefix + "failcnt"),
		}
	}
	s.Usage, s.Swap, s.Kernel = entry("memory."), entry("memory.memsw."), entry("memory.kmem.")
	oc := keyValues(filepath.Join(dir, "memory.oom_control"))
	s.OOMKill = oc["oom_kill"]
	s.OOM = s.Usage.Failcnt
	return nil
}

func cpuStatsV2(dir string, s *CPUStats) {
	st := keyValues(filepath.Join(dir, "cpu.stat"))
	s.Usage.Total = st["usage_usec"] * 1000
	s.Usage.User = st["user_usec"] * 1000
	s.Usage.Kernel = st["system_usec"] * 1000
	s.Throttling = Throttling{Periods: st["nr_periods"], ThrottledPeriods: st["nr_throttled"], ThrottledTime: st["throttled_usec"] * 1000}
}

// cpuacctStats: cpuacct.stat counts USER_HZ ticks (100 a second on every
// Linux architecture's ABI); usage files count nanoseconds.
func cpuacctStats(dir string, s *CPUStats) {
	const nsPerTick = 1e9 / 100
	s.Usage.Total = readUint(filepath.Join(dir, "cpuacct.usage"))
	if v, err := readTrim(filepath.Join(dir, "cpuacct.usage_percpu")); err == nil {
		for _, f := range strings.Fields(v) {
			n, _ := strconv.ParseUint(f, 10, 64)
			s.Usage.Percpu = append(s.Usage.Percpu, n)
		}
	}
	st := keyValues(filepath.Join(dir, "cpuacct.stat"))
	s.Usage.User, s.Usage.Kernel = st["user"]*nsPerTick, st["system"]*nsPerTick
}

func throttlingV1(dir string) Throttling {
	st := keyValues(filepath.Join(dir, "cpu.stat"))
	return Throttling{Periods: st["nr_periods"], ThrottledPeriods: st["nr_throttled"], ThrottledTime: st["throttled_time"]}
}

// blkioEntries reads v1 "8:0 Read 4096" lines.
func blkioEntries(p string) []BlkioEntry {
	b, err := readFile(p)
	if err != nil {
		return nil
	}
	var out []BlkioEntry
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		maj, min, ok := parseDev(f[0])
		v, err := strconv.ParseUint(f[2], 10, 64)
		if !ok || err != nil {
			continue
		}
		out = append(out, BlkioEntry{Major: maj, Minor: min, Op: f[1], Value: v})
	}
	return out
}

// ioStat reads v2 "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." lines into
// v1-shaped entries (Read/Write bytes and operations).
func ioStat(p string) (bytes, ios []BlkioEntry) {
	b, err := readFile(p)
	if err != nil {
		return nil, nil
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		maj, min, ok := parseDev(f[0])
		if !ok {
			continue
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			e := BlkioEntry{Major: maj, Minor: min, Value: n}
			switch k {
			case "rbytes":
				e.Op = "Read"
				bytes = append(bytes, e)
			case "wbytes":
				e.Op = "Write"
				bytes = append(bytes, e)
			case "rios":
				e.Op = "Read"
				ios = append(ios, e)
			case "wios":
				e.Op = "Write"
				ios = append(ios, e)
			}
		}
	}
	return bytes, ios
}

func parseDev(s string) (maj, min uint64, ok bool) {
	a, b, found := strings.Cut(s, ":")
	if !found {
		return 0, 0, false
	}
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return x, y, err1 == nil && err2 == nil
}

func hugetlbStats(dir string, v2 bool, out map[string]HugetlbStats) {
	suffix := ".limit_in_bytes"
	if v2 {
		suffix = ".max"
	}
	files, _ := filepath.Glob(filepath.Join(dir, "hugetlb.*"+suffix))
	for _, f := range files {
		size := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "hugetlb."), suffix)
		if strings.Contains(size, ".") { // hugetlb.2MB.rsvd.max
			continue
		}
		p := filepath.Join(dir, "hugetlb."+size)
		if v2 {
			ev := keyValues(p + ".events")
			out[size] = HugetlbStats{Usage: readUint(p + ".current"), Failcnt: ev["max"]}
		} else {
			out[size] = HugetlbStats{Usage: readUint(p + ".usage_in_bytes"), Max: readUint(p + ".max_usage_in_bytes"), Failcnt: readUint(p + ".failcnt")}
		}
	}
}
