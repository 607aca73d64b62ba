package cgctl

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStatsV1(t *testing.T) {
	root := fakeTree(t, Hybrid, "/s")
	writeFiles(t, filepath.Join(root, "memory/s"), map[string]string{
		"memory.usage_in_bytes": "1000\n", "memory.max_usage_in_bytes": "2000\n", "memory.limit_in_bytes": "4096\n",
		"memory.failcnt": "3\n", "memory.stat": "cache 77\nrss 11\n", "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
	})
	writeFiles(t, filepath.Join(root, "cpu,cpuacct/s"), map[string]string{
		"cpuacct.usage": "123456\n", "cpuacct.usage_percpu": "100 200 \n", "cpuacct.stat": "user 5\nsystem 7\n",
		"cpu.stat": "nr_periods 10\nnr_throttled 4\nthrottled_time 999\n",
	})
	writeFiles(t, filepath.Join(root, "pids/s"), map[string]string{"pids.current": "3\n", "pids.max": "max\n"})
	writeFiles(t, filepath.Join(root, "blkio/s"), map[string]string{
		"blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 512\nTotal 4608\n",
	})
	writeFiles(t, filepath.Join(root, "unified/s"), map[string]string{"hugetlb.2MB.max": "max\n", "hugetlb.2MB.current": "0\n", "hugetlb.2MB.events": "max 1\n"})
	os.WriteFile(filepath.Join(root, "unified/cgroup.controllers"), []byte("hugetlb\n"), 0o644)
	m, err := New(Config{Root: root, Path: "/s", Mode: Hybrid})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Memory.Usage != (MemoryEntry{Usage: 1000, Max: 2000, Limit: 4096, Failcnt: 3}) || s.Memory.Cache != 77 || s.Memory.OOMKill != 2 {
		t.Errorf("memory = %+v", s.Memory)
	}
	// cpuacct.stat counts 1/100 s ticks.
	if s.CPU.Throttling != (Throttling{10, 4, 999}) || s.CPU.Usage.Total != 123456 ||
		!reflect.DeepEqual(s.CPU.Usage.Percpu, []uint64{100, 200}) || s.CPU.Usage.User != 5e7 || s.CPU.Usage.Kernel != 7e7 {
		t.Errorf("cpu = %+v", s.CPU)
	}
	if s.Pids != (PidsStats{Current: 3, Limit: 0}) {
		t.Errorf("pids = %+v", s.Pids)
	}
	want := []BlkioEntry{{8, 0, "Read", 4096}, {8, 0, "Write", 512}}
	if !reflect.DeepEqual(s.Blkio.IoServiceBytesRecursive, want) {
		t.Errorf("blkio = %+v", s.Blkio.IoServiceBytesRecursive)
	}
	if s.Hugetlb["2MB"] != (HugetlbStats{Usage: 0, Failcnt: 1}) {
		t.Errorf("hugetlb = %+v", s.Hugetlb)
	}
}

func TestStatsV2(t *testing.T) {
	root := fakeTree(t, Unified, "/s")
	writeFiles(t, filepath.Join(root, "s"), map[string]string{
		"memory.current": "100\n", "memory.peak": "150\n", "memory.max": "200\n", "memory.stat": "file 9\nanon 5\n",
		"memory.events": "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n", "memory.swap.current": "0\n", "memory.swap.max": "max\n",
		"cpu.stat":     "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 2\nnr_throttled 1\nthrottled_usec 3\n",
		"pids.current": "1\n", "pids.max": "32\n",
		"io.stat": "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
	})
	m, err := New(Config{Root: root, Path: "/s", Mode: Unified})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Memory.Usage != (MemoryEntry{Usage: 100, Max: 150, Limit: 200, Failcnt: 4}) || s.Memory.Cache != 9 ||
		s.Memory.OOM != 2 || s.Memory.OOMKill != 1 || s.Memory.Swap.Limit != math.MaxUint64 {
		t.Errorf("memory = %+v", s.Memory)
	}
	if s.CPU.Usage.Total != 10000 || s.CPU.Usage.User != 6000 || s.CPU.Usage.Kernel != 4000 || s.CPU.Throttling != (Throttling{2, 1, 3000}) {
		t.Errorf("cpu = %+v", s.CPU)
	}
	if s.Pids != (PidsStats{1, 32}) {
		t.Errorf("pids = %+v", s.Pids)
	}
	if !reflect.DeepEqual(s.Blkio.IoServicedRecursive, []BlkioEntry{{8, 0, "Read", 1}, {8, 0, "Write", 0}}) {
		t.Errorf("io ops = %+v", s.Blkio.IoServicedRecursive)
	}
}

func TestFreezeV1FakeTree(t *testing.T) {
	root := fakeTree(t, Legacy, "/f")
	os.MkdirAll(filepath.Join(root, "freezer/f"), 0o755)
	writeFiles(t, filepath.Join(root, "freezer"), map[string]string{"cgroup.procs": ""})
	writeFiles(t, filepath.Join(root, "freezer/f"), map[string]string{"freezer.state": "THAWED\n"})
	m, err := New(Config{Root: root, Path: "/f", Mode: Legacy})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if f, err := m.Frozen(); !f || err != nil {
		t.Errorf("Frozen() = %v, %v", f, err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "freezer/f/freezer.state")); got != "THAWED" {
		t.Errorf("freezer.state = %q", got)
	}
}

// On v2, Frozen counts a requested freeze (cgroup.freeze) and an effective
// one (cgroup.events, e.g. from a frozen parent): a signal to a frozen task
// briefly clears "frozen" in cgroup.events while cgroup.freeze stays 1.
func TestFrozenV2FakeTree(t *testing.T) {
	for _, tc := range []struct {
		freeze, events string
		want           bool
	}{
		{"1\n", "populated 1\nfrozen 1\n", true},
		{"1\n", "populated 1\nfrozen 0\n", true}, // woken by a signal
		{"0\n", "populated 1\nfrozen 1\n", true}, // parent frozen
		{"0\n", "populated 1\nfrozen 0\n", false},
	} {
		root := fakeTree(t, Unified, "/z")
		writeFiles(t, filepath.Join(root, "z"), map[string]string{"cgroup.freeze": tc.freeze, "cgroup.events": tc.events})
		m, err := New(Config{Root: root, Path: "/z", Mode: Unified})
		if err != nil {
			t.Fatal(err)
		}
		if f, err := m.Frozen(); f != tc.want || err != nil {
			t.Errorf("freeze %q events %q: Frozen() = %v, %v; want %v", tc.freeze, tc.events, f, err, tc.want)
		}
	}
}
