package clients

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDockerIsolation: what a container sees of the host — mounts, masked
// paths, capabilities, seccomp, devices, sysctls, rlimits, namespaces.
func TestDockerIsolation(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "read_only_rootfs", run: func(t *testing.T, d *dk) string {
			out := d.runOK("--rm", "--read-only", "--tmpfs", "/run", img, "sh", "-c",
				"touch /x 2>&1; touch /run/y && echo run-writable; testinit mounts")
			if !strings.Contains(out, "Read-only file system") || !strings.Contains(out, "run-writable") {
				t.Errorf("--read-only:\n%s", out)
			}
			if m := mountSummary(out, "/"); !strings.Contains(m, " ro,") && !strings.Contains(m, " ro ") {
				t.Errorf("root not read-only: %s", m)
			}
			return firstLines(out, 2) + mountSummary(out, "/", "/run")
		}},
		{name: "tmpfs", run: func(t *testing.T, d *dk) string {
			// /scratch is not in the image: the runtime makes the mount
			// point, and the tmpfs keeps its own default mode, 1777.
			out := d.runOK("--rm", "--tmpfs", "/data:rw,size=1m,mode=1770", "--tmpfs", "/scratch", img, "sh", "-c",
				"stat -c %a /data /scratch; head -c 2000000 /dev/zero 2>/dev/null >/data/f || echo full; testinit mounts")
			if !strings.HasPrefix(out, "1770\n1777\nfull\n") {
				t.Errorf("--tmpfs /data:size=1m,mode=1770 --tmpfs /scratch (want modes 1770, 1777, /data full at 1 MiB):\n%s", out)
			}
			m := mountSummary(out, "/data")
			if !strings.Contains(m, "tmpfs") || !strings.Contains(m, "size=1024k") {
				t.Errorf("/data mount: %s", m)
			}
			return firstLines(out, 3) + m + mountSummary(out, "/scratch")
		}},
		{name: "bind_mounts_rw_ro", run: func(t *testing.T, d *dk) string {
			src := t.TempDir()
			os.WriteFile(filepath.Join(src, "host"), []byte("from host\n"), 0o644)
			out := d.runOK("--rm", "-v", src+":/rw", "--mount", "type=bind,src="+src+",dst=/ro,readonly", img, "sh", "-c",
				"cat /rw/host; echo from ctr > /rw/ctr; touch /ro/x 2>&1; testinit mounts")
			if b, err := os.ReadFile(filepath.Join(src, "ctr")); err != nil || string(b) != "from ctr\n" {
				t.Errorf("write through the rw bind: %q %v", b, err)
			}
			if !strings.HasPrefix(out, "from host\ntouch: /ro/x: Read-only file system\n") {
				t.Errorf("bind mounts:\n%s", out)
			}
			return firstLines(out, 2) + mountSummary(out, "/rw", "/ro")
		}},
		{name: "bind_propagation", run: func(t *testing.T, d *dk) string {
			// A shared host mount: what is mounted below it later reaches
			// an rslave bind in the container, not an rprivate one.
			src := t.TempDir()
			if err := unix.Mount(src, src, "", unix.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Unmount(src, unix.MNT_DETACH) })
			if err := unix.Mount("", src, "", unix.MS_SHARED, ""); err != nil {
				t.Fatal(err)
			}
			os.Mkdir(filepath.Join(src, "sub"), 0o755)
			n := d.runD("-v", src+":/slave:rslave", "--mount", "type=bind,src="+src+",dst=/private,bind-propagation=rprivate", img, "testinit", "sleep")
			sub := filepath.Join(src, "sub")
			if err := unix.Mount("tmpfs", sub, "tmpfs", 0, "size=1m"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Unmount(sub, unix.MNT_DETACH) })
			os.WriteFile(filepath.Join(sub, "later"), []byte("later\n"), 0o644)
			out := d.must("exec", n, "sh", "-c", "cat /slave/sub/later; ls /private/sub; testinit mounts")
			if !strings.HasPrefix(out, "later\n") || strings.Contains(out, " /private/sub ") {
				t.Errorf("propagation into rslave (want /slave/sub) and rprivate (want no /private/sub):\n%s", out)
			}
			m := mountSummary(out, "/slave", "/slave/sub", "/private", "/private/sub")
			if !regexp.MustCompile(`(?m)^/slave .*master`).MatchString(m) {
				t.Errorf("/slave is no slave mount:\n%s", m)
			}
			return m
		}},
		{name: "bind_propagation_rshared", run: func(t *testing.T, d *dk) string {
			// What the container mounts below an rshared bind reaches the
			// host (the host mount must be shared: docker checks).
			src := t.TempDir()
			if err := unix.Mount(src, src, "", unix.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Unmount(src, unix.MNT_DETACH) }) // takes what came back too
			if err := unix.Mount("", src, "", unix.MS_SHARED, ""); err != nil {
				t.Fatal(err)
			}
			os.Mkdir(filepath.Join(src, "sub"), 0o755)
			out := d.runOK("--rm", "--cap-add", "SYS_ADMIN", "-v", src+":/shared:rshared", img, "sh", "-c",
				"mount -t tmpfs -o size=1m ctrtmpfs /shared/sub && echo mounted")
			mi, _ := os.ReadFile("/proc/self/mountinfo")
			back := strings.Contains(string(mi), " "+filepath.Join(src, "sub")+" ")
			if out != "mounted\n" || !back {
				t.Errorf("mount in an rshared bind: %q, seen on the host: %t", out, back)
			}
			return fmt.Sprintf("%sback on the host: %t", out, back)
		}},
		{name: "named_volume", run: func(t *testing.T, d *dk) string {
			v := fmt.Sprintf("hcvol%d-%s", seq.Add(1), d.rt)
			d.vols = append(d.vols, v)
			d.must("volume", "create", v)
			d.runOK("--rm", "-v", v+":/vol", img, "sh", "-c", "echo kept > /vol/f")
			out := d.runOK("--rm", "-v", v+":/vol:ro", img, "sh", "-c", "cat /vol/f; touch /vol/g 2>&1; true")
			if out != "kept\ntouch: /vol/g: Read-only file system\n" {
				t.Errorf("named volume, second container:\n%s", out)
			}
			anon := d.runOK("--rm", "-v", "/anon", img, "sh", "-c", "echo x > /anon/f && cat /anon/f")
			return out + anon
		}},
		{name: "shm_size", run: func(t *testing.T, d *dk) string {
			out := d.runOK("--rm", "--shm-size", "96m", img, "testinit", "mounts")
			m := mountSummary(out, "/dev/shm")
			if !strings.Contains(m, "size=98304k") {
				t.Errorf("--shm-size 96m: %s", m)
			}
			return m
		}},
		{name: "masked_and_readonly_paths", run: func(t *testing.T, d *dk) string {
			out := d.runOK("--rm", img, "sh", "-c",
				"wc -c </proc/keys; wc -c </proc/timer_list; ls -A /sys/firmware | wc -l; ls -A /proc/acpi | wc -l; (echo x > /proc/sys/kernel/domainname) 2>&1; testinit mounts")
			// (/proc/kcore, latency_stats, sched_debug and scsi do not exist
			// on this kernel: runtimes mask only what exists.)
			want := "0\n0\n0\n0\nsh: can't create /proc/sys/kernel/domainname: Read-only file system\n"
			if !strings.HasPrefix(out, want) {
				t.Errorf("masked /proc/keys, /proc/timer_list, /sys/firmware, /proc/acpi, read-only /proc/sys:\n%s\nwant first lines:\n%s", out, want)
			}
			return firstLines(out, 5) + mountSummary(out, "/proc", "/proc/*", "/sys", "/sys/firmware", "/dev", "/dev/*")
		}},
		{name: "sys_fs_cgroup", run: func(t *testing.T, d *dk) string {
			// Each v1 controller shows the container's own cgroup, read-only.
			// Not compared line by line: hako also mounts the hybrid host's
			// cgroup2 (the container's own part of it) at /unified, and
			// leaves the tmpfs above read-only where runc leaves it rw.
			n := d.runD("--cgroupns", "host", img, "testinit", "sleep")
			out := d.must("exec", n, "testinit", "mounts")
			want := dd.cgParent + "/" + d.id(n)
			var obs []string
			for _, ctrl := range []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"} {
				var line []string
				for _, l := range strings.Split(out, "\n") {
					if f := strings.Fields(l); len(f) > 5 && f[4] == "/sys/fs/cgroup/"+ctrl {
						line = f
					}
				}
				if line == nil || line[3] != want || !strings.HasPrefix(line[5], "ro,") {
					t.Errorf("/sys/fs/cgroup/%s: %q, want root %s, read-only", ctrl, strings.Join(line, " "), want)
				}
				obs = append(obs, ctrl)
			}
			if r := d.docker("exec", n, "mkdir", "/sys/fs/cgroup/memory/x"); r.code == 0 {
				t.Errorf("mkdir in the container's memory cgroup succeeded")
			}
			return strings.Join(obs, " ")
		}},
		{name: "etc_files", run: func(t *testing.T, d *dk) string {
			out := d.runOK("--rm", "--hostname", "box1", "--domainname", "dom.test", "--add-host", "extra.test:10.1.2.3", "--dns", "192.0.2.53", img, "sh", "-c",
				"hostname; cat /etc/hostname /proc/sys/kernel/domainname; grep extra.test /etc/hosts; grep nameserver /etc/resolv.conf; echo x >> /etc/hosts && echo hosts-writable; testinit mounts")
			want := "box1\nbox1\ndom.test\n10.1.2.3\textra.test\nnameserver 192.0.2.53\nhosts-writable\n"
			if !strings.HasPrefix(out, want) {
				t.Errorf("/etc files:\n%s\nwant first lines:\n%s", out, want)
			}
			n := d.runD(img, "testinit", "sleep")
			short := d.id(n)[:12]
			if h := d.must("exec", n, "hostname"); h != short+"\n" {
				t.Errorf("default hostname %q, want the short id %s", h, short)
			}
			return firstLines(out, 6) + mountSummary(out, "/etc/hostname", "/etc/hosts", "/etc/resolv.conf")
		}},
		{name: "capabilities", run: func(t *testing.T, d *dk) string {
			var obs []string
			for _, c := range []struct {
				args   []string
				capEff string
			}{
				{nil, "00000000a80425fb"},
				{[]string{"--cap-drop", "ALL"}, "0000000000000000"},
				{[]string{"--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--cap-add", "CHOWN"}, "0000000000000401"},
				{[]string{"--cap-add", "SYS_ADMIN", "--cap-drop", "MKNOD"}, "00000000a02425fb"},
				{[]string{"--user", "1000"}, "0000000000000000"},
			} {
				out := d.runOK(append(append([]string{"--rm"}, c.args...), img, "testinit", "caps")...)
				if !strings.Contains(out, "CapEff:\t"+c.capEff+"\n") {
					t.Errorf("%v: want CapEff %s:\n%s", c.args, c.capEff, out)
				}
				obs = append(obs, fmt.Sprintf("%v\n%s", c.args, out))
			}
			n := d.runD("--cap-drop", "ALL", "--cap-add", "KILL", img, "testinit", "sleep")
			ex := d.must("exec", n, "testinit", "caps")
			if !strings.Contains(ex, "CapEff:\t0000000000000020\n") {
				t.Errorf("exec in a --cap-drop ALL --cap-add KILL container:\n%s", ex)
			}
			return strings.Join(obs, "") + "exec\n" + ex
		}},
		{name: "privileged", run: func(t *testing.T, d *dk) string {
			r := d.run("--rm", "--privileged", img, "testinit", "caps")
			// runc: "unable to apply caps: operation not permitted";
			// hako: "CAP_SYS_RESOURCE not in the runtime's own bounding set".
			if r.code != 0 && (strings.Contains(r.err, "unable to apply caps: operation not permitted") ||
				strings.Contains(r.err, "CAP_SYS_RESOURCE not in the runtime's own bounding set")) {
				t.Skipf("environment: the bounding set here lacks CAP_SYS_RESOURCE, so --privileged cannot be granted (shared/CLIENTS.md): %s", strings.TrimSpace(r.err))
			}
			if r.code != 0 {
				t.Fatalf("docker run --privileged: %s", r)
			}
			return r.out
		}},
		{name: "no_new_privileges", run: func(t *testing.T, d *dk) string {
			out := d.runOK("--rm", "--security-opt", "no-new-privileges", img, "testinit", "seccomp")
			n := d.runD("--security-opt", "no-new-privileges", img, "testinit", "sleep")
			ex := d.must("exec", n, "testinit", "seccomp")
			for _, o := range []string{out, ex} {
				if !strings.Contains(o, "NoNewPrivs:\t1\n") {
					t.Errorf("no-new-privileges not set:\n%s", o)
				}
			}
			return out + ex
		}},
		{name: "seccomp_profiles", run: func(t *testing.T, d *dk) string {
			prof := filepath.Join(t.TempDir(), "profile.json")
			os.WriteFile(prof, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644)
			probe := "testinit seccomp; unshare -U true 2>&1 && echo unshare-ok; mkdir /tmp/d 2>&1 && echo mkdir-ok; true"
			var obs []string
			for _, c := range []struct{ opt, want string }{
				{"", "Seccomp:\t2\n"},
				{"seccomp=unconfined", "Seccomp:\t0\n"},
				{"seccomp=" + prof, "Seccomp:\t2\n"},
			} {
				args := []string{"--rm"}
				if c.opt != "" {
					args = append(args, "--security-opt", c.opt)
				}
				out := d.runOK(append(args, img, "sh", "-c", probe)...)
				if !strings.Contains(out, c.want) {
					t.Errorf("--security-opt %q: want %q:\n%s", c.opt, c.want, out)
				}
				obs = append(obs, strings.ReplaceAll(out, prof, "PROFILE"))
			}
			// Docker's default profile refuses unshare(CLONE_NEWUSER);
			// the custom one refuses mkdir.
			if !strings.Contains(obs[0], "unshare: unshare(0x10000000): Operation not permitted") || !strings.Contains(obs[1], "unshare-ok") ||
				!strings.Contains(obs[2], "mkdir: can't create directory '/tmp/d': Operation not permitted") {
				t.Errorf("profiles not enforced:\n%s", strings.Join(obs, "---\n"))
			}
			n := d.runD(img, "testinit", "sleep")
			ex := d.must("exec", n, "testinit", "seccomp")
			if !strings.Contains(ex, "Seccomp:\t2\n") {
				t.Errorf("exec without the container's profile:\n%s", ex)
			}
			return strings.Join(obs, "---\n") + ex
		}},
		{name: "devices", run: func(t *testing.T, d *dk) string {
			out := d.runOK("--rm", "--device", "/dev/zero:/dev/myzero:rw", "--device-cgroup-rule", "c 1:7 rw", img, "sh", "-c",
				"head -c 5 /dev/myzero | wc -c; mknod /tmp/full c 1 7; (echo x > /tmp/full) 2>&1; mknod /tmp/mem c 1 1; head -c 1 /tmp/mem 2>&1; cat /sys/fs/cgroup/devices/devices.list; true")
			want := "5\nsh: write error: No space left on device\nhead: /tmp/mem: Operation not permitted\n"
			if !strings.HasPrefix(out, want) {
				t.Errorf("--device and --device-cgroup-rule:\n%s\nwant first lines\n%s", out, want)
			}
			ls := strings.Split(strings.TrimSpace(out), "\n")
			sort.Strings(ls[min(3, len(ls)):]) // devices.list: the kernel's order follows the writes
			return strings.Join(ls, "\n")
		}},
		{name: "sysctls", run: func(t *testing.T, d *dk) string {
			out := d.runOK("--rm", "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.msgmax=12345", "--sysctl", "net.ipv4.tcp_syncookies=0", img, "sh", "-c",
				"cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax /proc/sys/net/ipv4/tcp_syncookies")
			if out != "1\n12345\n0\n" {
				t.Errorf("--sysctl: %q", out)
			}
			return out
		}},
		{name: "ulimits", run: func(t *testing.T, d *dk) string {
			// busybox's ulimit, not testinit: Go raises its own soft
			// RLIMIT_NOFILE at start-up.
			out := d.runOK("--rm", "--ulimit", "nofile=1000:2000", "--ulimit", "nproc=300:400", "--ulimit", "core=0", img, "sh", "-c",
				"ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu; ulimit -c; testinit rlimits | grep -v NOFILE")
			if !strings.HasPrefix(out, "1000\n2000\n300\n400\n0\n") {
				t.Errorf("--ulimit nofile=1000:2000 nproc=300:400 core=0:\n%s", out)
			}
			return out
		}},
		{name: "oom_score_adj", run: func(t *testing.T, d *dk) string {
			n := d.runD("--oom-score-adj", "300", img, "testinit", "sleep")
			in := d.must("exec", n, "cat", "/proc/1/oom_score_adj", "/proc/self/oom_score_adj")
			if in != "300\n300\n" {
				t.Errorf("--oom-score-adj 300: init and exec have %q", in)
			}
			return in
		}},
		{name: "host_namespaces", run: func(t *testing.T, d *dk) string {
			out := d.runOK("--rm", "--pid", "host", "--ipc", "host", "--uts", "host", "--network", "host", img, "sh", "-c", "testinit ns; hostname")
			host, _ := os.Hostname()
			var obs []string
			for _, ns := range []string{"pid", "ipc", "uts", "net"} {
				mine, _ := os.Readlink("/proc/self/ns/" + ns)
				same := strings.Contains(out, ns+"="+mine+"\n")
				if !same {
					t.Errorf("--%s host: not the host's %s:\n%s", ns, mine, out)
				}
				obs = append(obs, fmt.Sprintf("%s host=%t", ns, same))
			}
			if !strings.HasSuffix(out, "\n"+host+"\n") {
				t.Errorf("--uts host: hostname is not %q:\n%s", host, out)
			}
			return strings.Join(obs, "\n")
		}},
		{name: "container_namespaces", run: func(t *testing.T, d *dk) string {
			a := d.runD("--ipc", "shareable", img, "testinit", "sleep")
			pid := d.inspect(a, "{{.State.Pid}}")
			out := d.runOK("--rm", "--pid", "container:"+a, "--ipc", "container:"+a, "--network", "container:"+a, img, "sh", "-c",
				"testinit ns; tr '\\0' ' ' </proc/1/cmdline")
			var obs []string
			for _, ns := range []string{"pid", "ipc", "net"} {
				want, _ := os.Readlink("/proc/" + pid + "/ns/" + ns)
				same := strings.Contains(out, ns+"="+want+"\n")
				if !same {
					t.Errorf("--%s container:A is not A's %s:\n%s", ns, want, out)
				}
				obs = append(obs, fmt.Sprintf("%s shared=%t", ns, same))
			}
			if !strings.HasSuffix(out, "testinit sleep ") {
				t.Errorf("pid 1 is not A's init:\n%s", out)
			}
			return strings.Join(obs, "\n")
		}},
		{name: "cgroupns", run: func(t *testing.T, d *dk) string {
			priv := d.runOK("--rm", "--cgroupns", "private", img, "sh", "-c", "grep -E ':(memory|pids|cpu,cpuacct|cpu):' /proc/self/cgroup | sort")
			host := d.runOK("--rm", "--cgroupns", "host", img, "sh", "-c", "grep -c "+dd.cgParent+" /proc/self/cgroup")
			for _, l := range strings.Split(strings.TrimSpace(priv), "\n") {
				if !strings.HasSuffix(l, ":/") {
					t.Errorf("--cgroupns private: %q is not the root", l)
				}
			}
			if host == "0\n" {
				t.Errorf("--cgroupns host: /proc/self/cgroup does not show %s", dd.cgParent)
			}
			return priv + host
		}},
	})
}

// mountSummary picks the sorted mountinfo lines of the given mount points ("/x/*"
// matches below /x) and keeps what two runtimes can agree on: the point,
// the per-mount options, propagation without peer numbers, the fs type and
// its options (overlay's layer paths dropped).
func mountSummary(mountinfo string, points ...string) string {
	var out []string
	peer := regexp.MustCompile(`(shared|master|propagate_from):\d+`)
	for _, l := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(l)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 6 || len(f) < sep+3 {
			continue
		}
		match := false
		for _, p := range points {
			if f[4] == p || strings.HasSuffix(p, "/*") && strings.HasPrefix(f[4], strings.TrimSuffix(p, "*")) {
				match = true
			}
		}
		if !match {
			continue
		}
		opt := strings.Join(f[6:sep], " ")
		super := f[sep+3]
		if f[sep+1] == "overlay" {
			super = "-"
		}
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s %s %s", f[4], f[5], peer.ReplaceAllString(opt, "$1"), f[sep+1], super)))
	}
	// Sorted: dockerd's own sort of the mounts is not stable, so sibling
	// mounts come in either order.
	sort.Strings(out)
	return strings.Join(out, "\n") + "\n"
}

// firstLines returns the first n lines of s, each with its newline.
func firstLines(s string, n int) string {
	ls := strings.SplitAfter(s, "\n")
	return strings.Join(ls[:min(n, len(ls))], "")
}
