package clients

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestDockerResources: cgroup limits as docker run, docker update, docker
// stats and docker top set and read them (cgroup v1 controllers here).
func TestDockerResources(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "default_limits", run: func(t *testing.T, d *dk) string {
			// Docker sends cpu.shares 0 and blkio weight 0 for "unset":
			// the kernel defaults must stay.
			n := d.runD(img, "testinit", "sleep")
			obs := cgFiles(d, n, "cpu/cpu.shares", "cpu/cpu.cfs_quota_us", "memory/memory.limit_in_bytes",
				"pids/pids.max", "cpuset/cpuset.cpus", "blkio/blkio.bfq.weight", "devices/devices.list")
			for _, w := range []string{"cpu/cpu.shares=1024", "cpu/cpu.cfs_quota_us=-1", "pids/pids.max=max"} {
				if !strings.Contains(obs, w+"\n") {
					t.Errorf("want %s:\n%s", w, obs)
				}
			}
			return obs
		}},
		{name: "memory", run: func(t *testing.T, d *dk) string {
			n := d.runD("--memory", "64m", "--memory-reservation", "32m", "--memory-swap", "96m", "--memory-swappiness", "10", img, "testinit", "sleep")
			obs := cgFiles(d, n, "memory/memory.limit_in_bytes", "memory/memory.soft_limit_in_bytes",
				"memory/memory.memsw.limit_in_bytes", "memory/memory.swappiness")
			want := "memory/memory.limit_in_bytes=67108864\nmemory/memory.soft_limit_in_bytes=33554432\n" +
				"memory/memory.memsw.limit_in_bytes=100663296\nmemory/memory.swappiness=10\n"
			if obs != want {
				t.Errorf("memory limits:\n%s\nwant:\n%s", obs, want)
			}
			if in := d.must("exec", n, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"); in != "67108864\n" {
				t.Errorf("inside: %q", in)
			}
			return obs
		}},
		{name: "oom_kill", timeout: 60 * time.Second, run: func(t *testing.T, d *dk) string {
			// tail keeps the one endless line of /dev/zero in memory.
			r := d.run("--memory", "32m", "--memory-swap", "32m", img, "tail", "/dev/zero")
			n := d.names[len(d.names)-1]
			oom := d.inspect(n, "{{.State.OOMKilled}} {{.State.ExitCode}}")
			if r.code != 137 || oom != "true 137" {
				t.Errorf("OOM: %s\ninspect OOMKilled, ExitCode: %s", r, oom)
			}
			return fmt.Sprintf("exit %d, %s", r.code, oom)
		}},
		{name: "cpu", run: func(t *testing.T, d *dk) string {
			n := d.runD("--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "1", img, "testinit", "sleep")
			obs := cgFiles(d, n, "cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us", "cpu/cpu.shares", "cpuset/cpuset.cpus")
			want := "cpu/cpu.cfs_quota_us=50000\ncpu/cpu.cfs_period_us=100000\ncpu/cpu.shares=512\ncpuset/cpuset.cpus=1\n"
			if obs != want {
				t.Errorf("cpu limits:\n%s\nwant:\n%s", obs, want)
			}
			sched := d.must("exec", n, "sh", "-c", "testinit sched | grep cpus")
			if sched != "cpus=1\n" {
				t.Errorf("exec's affinity: %q", sched)
			}
			m := d.runD("--cpu-period", "50000", "--cpu-quota", "20000", img, "testinit", "sleep")
			obs2 := cgFiles(d, m, "cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us")
			if obs2 != "cpu/cpu.cfs_quota_us=20000\ncpu/cpu.cfs_period_us=50000\n" {
				t.Errorf("--cpu-period/--cpu-quota:\n%s", obs2)
			}
			return obs + sched + obs2
		}},
		{name: "pids_limit", run: func(t *testing.T, d *dk) string {
			// The sleeps fork in a subshell of a pipeline, whose failure
			// is the subshell's; a short pause first lets the runtime's
			// own exiting threads leave the pids count (runc's too).
			out := d.runOK("--rm", "--pids-limit", "10", img, "sh", "-c",
				"cat /sys/fs/cgroup/pids/pids.max; sleep 0.3; i=0; while [ $i -lt 15 ]; do sleep 2 & i=$((i+1)); done 2>&1 | grep -q fork && echo fork-refused; true")
			if out != "10\nfork-refused\n" {
				t.Errorf("--pids-limit 10: %q", out)
			}
			return out
		}},
		{name: "blkio_throttle", run: func(t *testing.T, d *dk) string {
			dev, mm := rootDevice(t)
			n := d.runD("--device-read-bps", dev+":1mb", "--device-write-iops", dev+":100", img, "testinit", "sleep")
			obs := cgFiles(d, n, "blkio/blkio.throttle.read_bps_device", "blkio/blkio.throttle.write_iops_device")
			want := fmt.Sprintf("blkio/blkio.throttle.read_bps_device=%s 1048576\nblkio/blkio.throttle.write_iops_device=%s 100\n", mm, mm)
			if obs != want {
				t.Errorf("throttles:\n%s\nwant:\n%s", obs, want)
			}
			return obs
		}},
		{name: "blkio_weight", run: func(t *testing.T, d *dk) string {
			r := d.run("--rm", "--blkio-weight", "300", img, "cat", "/sys/fs/cgroup/blkio/blkio.bfq.weight")
			if strings.Contains(r.err, "Weight discarded") {
				t.Skipf("environment: docker discards --blkio-weight here (no blkio.weight file, only BFQ's): %s", strings.TrimSpace(r.err))
			}
			if r.code != 0 || r.out != "300\n" {
				t.Errorf("--blkio-weight 300: %s", r)
			}
			return r.out
		}},
		{name: "update_running", run: func(t *testing.T, d *dk) string {
			n := d.runD("--memory", "64m", img, "testinit", "sleep")
			d.must("update", "--memory", "128m", "--memory-swap", "256m", "--cpus", "0.25", "--cpu-shares", "256",
				"--pids-limit", "30", "--cpuset-cpus", "0", n)
			obs := cgFiles(d, n, "memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes", "cpu/cpu.cfs_quota_us",
				"cpu/cpu.shares", "pids/pids.max", "cpuset/cpuset.cpus")
			want := "memory/memory.limit_in_bytes=134217728\nmemory/memory.memsw.limit_in_bytes=268435456\ncpu/cpu.cfs_quota_us=25000\n" +
				"cpu/cpu.shares=256\npids/pids.max=30\ncpuset/cpuset.cpus=0\n"
			if obs != want {
				t.Errorf("after docker update:\n%s\nwant:\n%s", obs, want)
			}
			if hc := d.inspect(n, "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}"); hc != "134217728 30" {
				t.Errorf("inspect after update: %s", hc)
			}
			if out := d.must("exec", n, "echo", "alive"); out != "alive\n" {
				t.Errorf("exec after update: %q", out)
			}
			return obs
		}},
		{name: "stats_no_stream", run: func(t *testing.T, d *dk) string {
			n := d.runD("--memory", "64m", img, "sh", "-c", "sleep 1000 & exec sleep 1001")
			time.Sleep(300 * time.Millisecond)
			out := strings.TrimSpace(d.must("stats", "--no-stream", "--format", "{{.PIDs}}|{{.MemUsage}}|{{.CPUPerc}}", n))
			f := strings.Split(out, "|")
			if len(f) != 3 {
				t.Fatalf("docker stats: %q", out)
			}
			if f[0] != "2" || !strings.HasSuffix(f[1], "/ 64MiB") || strings.HasPrefix(f[1], "0B") || !strings.HasSuffix(f[2], "%") {
				t.Errorf("docker stats: %q, want 2 pids, usage of 64MiB", out)
			}
			_, limit, _ := strings.Cut(f[1], "/")
			return f[0] + " pids, limit" + limit
		}},
		{name: "top", run: func(t *testing.T, d *dk) string {
			n := d.runD(img, "sh", "-c", "sleep 1000 & exec sleep 1001")
			time.Sleep(300 * time.Millisecond)
			out := d.must("top", n)
			var cmds []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
				f := strings.Fields(l)
				cmds = append(cmds, strings.Join(f[len(f)-2:], " "))
			}
			sort.Strings(cmds)
			if got := strings.Join(cmds, ","); got != "sleep 1000,sleep 1001" {
				t.Errorf("docker top:\n%s", out)
			}
			return strings.Join(cmds, "\n")
		}},
	})
}

// cgFiles reads cgroup files ("controller/file") of a container from the
// host and returns them as "controller/file=value" lines.
func cgFiles(d *dk, name string, files ...string) string {
	d.t.Helper()
	var b strings.Builder
	for _, f := range files {
		ctrl, file, _ := strings.Cut(f, "/")
		lines := strings.Split(d.cgFile(name, ctrl, file), "\n")
		if file == "devices.list" {
			sort.Strings(lines) // the kernel's order follows the writes
		}
		v := strings.Join(lines, ";")
		fmt.Fprintf(&b, "%s=%s\n", f, v)
	}
	return b.String()
}

// rootDevice returns the block device of / and its "major:minor".
func rootDevice(t *testing.T) (string, string) {
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	mm := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	b, err := os.ReadFile(filepath.Join("/sys/dev/block", mm, "uevent"))
	if err != nil {
		t.Skipf("environment: / is not on a block device (%v)", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(l, "DEVNAME="); ok {
			return "/dev/" + name, mm
		}
	}
	t.Skipf("environment: no DEVNAME for block device %s", mm)
	return "", ""
}
