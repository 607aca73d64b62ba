package cgctl

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeTree lays out a cgroup root like a host of the given mode, with the
// cgroup path's directories and control files already present (cgroupfs
// would create the files on mkdir; a plain directory does not).
func fakeTree(t *testing.T, mode Mode, path string, files ...string) string {
	t.Helper()
	root := t.TempDir()
	touch := func(dir string, names ...string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := append([]string{"cgroup.procs"}, files...)
	switch mode {
	case Unified:
		touch(root, append(all, "cgroup.subtree_control")...)
		os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("cpuset cpu io memory hugetlb pids\n"), 0o644)
		for d := filepath.Dir(path); d != "/"; d = filepath.Dir(d) {
			touch(filepath.Join(root, d), "cgroup.subtree_control", "cgroup.procs")
		}
		touch(filepath.Join(root, path), all...)
	default:
		for _, c := range []string{"memory", "pids", "cpu,cpuacct", "cpuset", "devices", "blkio", "systemd"} {
			touch(filepath.Join(root, c), all...)
			touch(filepath.Join(root, c, path), all...)
		}
		if err := os.Symlink("cpu,cpuacct", filepath.Join(root, "cpu")); err != nil {
			t.Fatal(err)
		}
		if mode == Hybrid {
			touch(filepath.Join(root, "unified"), append(all, "cgroup.subtree_control")...)
			os.WriteFile(filepath.Join(root, "unified", "cgroup.controllers"), []byte("hugetlb\n"), 0o644)
			for d := filepath.Dir(path); d != "/"; d = filepath.Dir(d) {
				touch(filepath.Join(root, "unified", d), "cgroup.subtree_control", "cgroup.procs")
			}
			touch(filepath.Join(root, "unified", path), all...)
		}
	}
	return root
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNewFindsHierarchies(t *testing.T) {
	root := fakeTree(t, Hybrid, "/hako/a")
	m, err := New(Config{Root: root, Path: "hako/a", Mode: Hybrid})
	if err != nil {
		t.Fatal(err)
	}
	if m.Path() != "/hako/a" {
		t.Errorf("Path() = %q", m.Path())
	}
	var got []string
	for _, h := range m.Hierarchies() {
		got = append(got, filepath.Base(h.Dir)+"="+strings.Join(h.Controllers, ","))
	}
	sort.Strings(got)
	want := []string{"blkio=blkio", "cpu,cpuacct=cpu,cpuacct", "cpuset=cpuset", "devices=devices",
		"memory=memory", "pids=pids", "systemd=name=systemd", "unified=hugetlb"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hierarchies = %v, want %v", got, want)
	}
}

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"hako/x", "/hako/x"}, {"/a/b/", "/a/b"}, {"/../../x", "/x"},
		{"", ""}, {"/", ""}, {"..", ""},
	} {
		got, err := cleanPath(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("cleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func u16(v uint16) *uint16 { return &v }

func TestSetWritesFiles(t *testing.T) {
	res := &specs.LinuxResources{
		Memory:         &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(128 << 20), Reservation: i64(32 << 20)},
		CPU:            &specs.LinuxCPU{Shares: u64(512), Quota: i64(50000), Period: u64(100000), Cpus: "0"},
		Pids:           &specs.LinuxPids{Limit: i64(32)},
		BlockIO:        &specs.LinuxBlockIO{Weight: u16(500)},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
	}
	tests := []struct {
		mode Mode
		want map[string]string // file below root -> content
	}{
		{Hybrid, map[string]string{
			"memory/hako/a/memory.limit_in_bytes":       "67108864",
			"memory/hako/a/memory.memsw.limit_in_bytes": "134217728",
			"memory/hako/a/memory.soft_limit_in_bytes":  "33554432",
			"cpu,cpuacct/hako/a/cpu.shares":             "512",
			"cpu,cpuacct/hako/a/cpu.cfs_quota_us":       "50000",
			"cpu,cpuacct/hako/a/cpu.cfs_period_us":      "100000",
			"cpuset/hako/a/cpuset.cpus":                 "0",
			"pids/hako/a/pids.max":                      "32",
			"blkio/hako/a/blkio.weight":                 "500",
			"unified/hako/a/hugetlb.2MB.max":            "4194304",
			"unified/cgroup.subtree_control":            "+hugetlb",
			"unified/hako/cgroup.subtree_control":       "+hugetlb",
		}},
		{Unified, map[string]string{
			"hako/a/memory.max":           "67108864",
			"hako/a/memory.swap.max":      "67108864",
			"hako/a/memory.low":           "33554432",
			"hako/a/cpu.weight":           "20",
			"hako/a/cpu.max":              "50000 100000",
			"hako/a/cpuset.cpus":          "0",
			"hako/a/pids.max":             "32",
			"hako/a/io.weight":            "4950",
			"hako/a/hugetlb.2MB.max":      "4194304",
			"cgroup.subtree_control":      "+hugetlb", // last one written wins in a fake file
			"hako/cgroup.subtree_control": "+hugetlb",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.mode.String(), func(t *testing.T) {
			var files []string
			for f := range tc.want {
				files = append(files, filepath.Base(f))
			}
			root := fakeTree(t, tc.mode, "/hako/a", files...)
			m, err := New(Config{Root: root, Path: "/hako/a", Mode: tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Set(res); err != nil {
				t.Fatal(err)
			}
			for f, want := range tc.want {
				if got := read(t, filepath.Join(root, f)); got != want {
					t.Errorf("%s = %q, want %q", f, got, want)
				}
			}
		})
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		res  *specs.LinuxResources
		want string
	}{
		{"v2 swappiness", Unified, &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(10)}}, "no per-cgroup swappiness"},
		{"v2 swap below limit", Unified, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swap: i64(50)}}, "below the memory limit"},
		{"v1 unified keys", Legacy, &specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}, "no cgroup v2 hierarchy"},
		{"missing controller", Hybrid, &specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: new(uint32)}}, "controller net_cls is not available"},
		{"bad device type", Hybrid, &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x"}}}, `unknown type "x"`},
		{"bad pagesize", Hybrid, &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "../x"}}}, `bad page size "../x"`},
		{"v1 idle", Hybrid, &specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: i64(1)}}, "no cpu.idle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := fakeTree(t, tc.mode, "/x")
			m, err := New(Config{Root: root, Path: "/x", Mode: tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			err = m.Set(tc.res)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Set() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestDevicesV1(t *testing.T) {
	root := fakeTree(t, Legacy, "/d", "devices.allow", "devices.deny")
	m, err := New(Config{Root: root, Path: "/d", Mode: Legacy})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := m.(*manager).plan(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},
		{Allow: true, Type: "c", Major: i64(136), Access: "rw"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []write{
		wr("devices", "devices.deny", "a"),
		wr("devices", "devices.deny", "a *:* rwm"),
		wr("devices", "devices.allow", "c 1:3 rwm"),
		wr("devices", "devices.allow", "c 136:* rw"),
	}
	if !reflect.DeepEqual(plan, want) {
		t.Errorf("plan = %v, want %v", plan, want)
	}
}

// cpusetTree is a hybrid fake tree for path whose cpuset root has CPUs
// and memory nodes and whose /hako parent has empty ones, as the kernel
// leaves a new v1 cpuset cgroup.
func cpusetTree(t *testing.T, path string) string {
	root := fakeTree(t, Hybrid, path, "cpuset.cpus", "cpuset.mems")
	os.WriteFile(filepath.Join(root, "cpuset", "cpuset.cpus"), []byte("0-1\n"), 0o644)
	os.WriteFile(filepath.Join(root, "cpuset", "cpuset.mems"), []byte("0\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "cpuset", "hako"), 0o755)
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		os.WriteFile(filepath.Join(root, "cpuset", "hako", f), nil, 0o644)
	}
	return root
}

// TestEntry: a v1 tasks file per v1 hierarchy, the unified directory
// opened for clone3, and the cgroup made (cpuset inherited) as by Apply.
func TestEntry(t *testing.T) {
	root := cpusetTree(t, "/hako/e")
	m, err := New(Config{Root: root, Path: "/hako/e", Mode: Hybrid})
	if err != nil {
		t.Fatal(err)
	}
	e, err := m.Entry()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var want []string
	for _, h := range m.Hierarchies() {
		if !h.Unified {
			want = append(want, filepath.Join(h.Dir, "hako/e/tasks"))
		}
	}
	if len(want) == 0 || !reflect.DeepEqual(e.Tasks, want) {
		t.Errorf("Tasks = %v, want %v", e.Tasks, want)
	}
	if e.Unified == nil || e.Unified.Name() != filepath.Join(root, "unified/hako/e") {
		t.Errorf("Unified = %v", e.Unified)
	}
	if got := read(t, filepath.Join(root, "cpuset/hako/e/cpuset.cpus")); got != "0-1" {
		t.Errorf("cpuset.cpus not inherited: %q", got)
	}
}

func TestApplyAndDestroy(t *testing.T) {
	root := cpusetTree(t, "/hako/a")
	m, err := New(Config{Root: root, Path: "/hako/a", Mode: Hybrid})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(42); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "memory/hako/a/cgroup.procs")); got != "42" {
		t.Errorf("memory cgroup.procs = %q", got)
	}
	if got := read(t, filepath.Join(root, "cpuset/hako/a/cpuset.cpus")); got != "0-1" {
		t.Errorf("cpuset.cpus not inherited: %q", got)
	}
	pids, err := m.Pids()
	if err != nil || !reflect.DeepEqual(pids, []int{42}) {
		t.Errorf("Pids() = %v, %v", pids, err)
	}
	// A live process in it: Destroy refuses at once, naming it.
	os.WriteFile(filepath.Join(root, "pids/hako/a/cgroup.procs"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	if err := m.Destroy(); err == nil || !strings.Contains(err.Error(), "processes still inside: "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("Destroy() with a live process = %v", err)
	}
	// Emptied, as the kernel empties it when its processes exit.
	os.WriteFile(filepath.Join(root, "pids/hako/a/cgroup.procs"), nil, 0o644)
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, h := range m.Hierarchies() {
		if _, err := os.Stat(filepath.Join(h.Dir, "hako/a")); !os.IsNotExist(err) {
			t.Errorf("%s/hako/a still there: %v", h.Dir, err)
		}
	}
}

func TestSharesToWeight(t *testing.T) {
	for in, want := range map[uint64]uint64{2: 1, 1024: 39, 262144: 10000, 1: 1, 1 << 20: 10000} {
		if got := SharesToWeight(in); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestSetMoreFields(t *testing.T) {
	root := fakeTree(t, Hybrid, "/m", "memory.kmem.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes",
		"memory.use_hierarchy", "memory.usage_in_bytes", "memory.limit_in_bytes", "hugetlb.1GB.max")
	os.WriteFile(filepath.Join(root, "memory/m/memory.usage_in_bytes"), []byte("5000\n"), 0o644)
	m, err := New(Config{Root: root, Path: "/m", Mode: Hybrid})
	if err != nil {
		t.Fatal(err)
	}
	k, tcp, yes := int64(1<<20), int64(2<<20), true
	err = m.Set(&specs.LinuxResources{
		Memory:         &specs.LinuxMemory{Kernel: &k, KernelTCP: &tcp, UseHierarchy: &yes},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "1GB", Limit: 1 << 30}}, // no .rsvd file: skipped
	})
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{
		"memory/m/memory.kmem.limit_in_bytes":     "1048576",
		"memory/m/memory.kmem.tcp.limit_in_bytes": "2097152",
		"memory/m/memory.use_hierarchy":           "1",
		"unified/m/hugetlb.1GB.max":               "1073741824",
	} {
		if got := read(t, filepath.Join(root, f)); got != want {
			t.Errorf("%s = %q, want %q", f, got, want)
		}
	}
	// checkBeforeUpdate: a limit under the 5000 bytes in use is refused
	// before anything is written.
	low := int64(4096)
	err = m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &low, CheckBeforeUpdate: &yes}})
	if err == nil || !strings.Contains(err.Error(), "below current usage 5000") {
		t.Errorf("checkBeforeUpdate: %v", err)
	}
	if got := read(t, filepath.Join(root, "memory/m/memory.limit_in_bytes")); got != "" {
		t.Errorf("limit written despite the check: %q", got)
	}
}

func TestRdmaLines(t *testing.T) {
	h, o := uint32(2), uint32(2000)
	ws, err := rdmaWrites(map[string]specs.LinuxRdma{"mlx4_0": {HcaHandles: &h, HcaObjects: &o}, "mlx5_1": {HcaHandles: &h}})
	if err != nil {
		t.Fatal(err)
	}
	want := []write{wr("rdma", "rdma.max", "mlx4_0 hca_handle=2 hca_object=2000"), wr("rdma", "rdma.max", "mlx5_1 hca_handle=2")}
	if !reflect.DeepEqual(ws, want) {
		t.Errorf("rdma writes = %v", ws)
	}
	if _, err := rdmaWrites(map[string]specs.LinuxRdma{"bad name": {HcaHandles: &h}}); err == nil {
		t.Error("device name with a space accepted")
	}
}

func TestPidsLimitSemantics(t *testing.T) {
	for in, want := range map[int64]string{-1: "max", -5: "max", 0: "0", 32: "32"} {
		ws, _ := pidsWrites(&specs.LinuxPids{Limit: &in})
		if len(ws) != 1 || ws[0].value != want {
			t.Errorf("pids limit %d -> %v, want %s", in, ws, want)
		}
	}
	if ws, _ := pidsWrites(&specs.LinuxPids{}); ws != nil {
		t.Errorf("nil limit wrote %v", ws)
	}
}

// Docker sends 0 for an unset CPU share and block I/O weight: nothing is
// written (cpu.shares=0 would become 2). Under the BFQ scheduler v1's
// weight file is blkio.bfq.weight.
func TestZeroMeansUnsetAndBFQ(t *testing.T) {
	root := fakeTree(t, Legacy, "/hako/a", "cpu.shares", "blkio.bfq.weight")
	m, err := New(Config{Root: root, Path: "/hako/a", Mode: Legacy})
	if err != nil {
		t.Fatal(err)
	}
	zero, w := uint64(0), uint16(0)
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: &zero}, BlockIO: &specs.LinuxBlockIO{Weight: &w, LeafWeight: &w}}); err != nil {
		t.Fatalf("Set with zeros: %v", err)
	}
	if got := read(t, filepath.Join(root, "cpu,cpuacct/hako/a/cpu.shares")); got != "" {
		t.Errorf("cpu.shares written with 0: %q", got)
	}
	w = 300
	if err := m.Set(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: &w}}); err != nil {
		t.Fatalf("Set weight: %v", err)
	}
	if got := read(t, filepath.Join(root, "blkio/hako/a/blkio.bfq.weight")); got != "300" {
		t.Errorf("blkio.bfq.weight = %q, want 300", got)
	}
}

func TestValidPagesize(t *testing.T) {
	for s, ok := range map[string]bool{
		"2MB": true, "1GB": true, "64KB": true, "16GB": true,
		"": false, "MB": false, "2M": false, "2mB": false, "2Mb": false, "2MBB": false, "2TB": false, "x2MB": false, "../x": false,
	} {
		if validPagesize(s) != ok {
			t.Errorf("validPagesize(%q) = %v, want %v", s, !ok, ok)
		}
	}
}

// fileWriter keeps the last file open: values for the same file go to
// it as separate writes (appended, in a regular file; each taken on its
// own by a control file), another file closes it.
func TestFileWriter(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var w fileWriter
	write := func(file, value string) {
		if err := w.write(dir, file, value); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "1")
	write("a", "2")
	if b, _ := os.ReadFile(filepath.Join(dir, "a")); string(b) != "12" {
		t.Errorf("a = %q after two values, want both written through one open (%q)", b, "12")
	}
	write("b", "3")
	write("a", "4")
	if err := w.write(dir, "missing", "5"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("write to a missing file: %v, want ErrNotExist", err)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{"a": "4", "b": "3"} {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); string(b) != want {
			t.Errorf("%s = %q, want %q", f, b, want)
		}
	}
}
