package clients

// The containerd (ctr) scenarios: each runs under runc, then under hako, and
// hako must see what runc saw.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

var ctrScenarios = []ctrScenario[*ctrCase]{
	{name: "run_rm", run: func(c *ctrCase) string {
		id := c.id("a")
		out := c.ok(c.run(id, []string{"--rm"}, "testinit", "ids", "--", "cwd", "--", "isatty"))
		if !strings.Contains(out, "uid=0 gid=0") || !strings.Contains(out, "0=false") {
			c.t.Errorf("unexpected output:\n%s", out)
		}
		c.gone(id)
		return out
	}},

	{name: "exit_codes", run: func(c *ctrCase) string {
		var obs []string
		for _, sc := range []struct {
			argv     []string
			code     int
			inStderr string
		}{
			{[]string{"sh", "-c", "exit 3"}, 3, ""},
			{[]string{"sh", "-c", "exit 255"}, 255, ""},
			{[]string{"testinit", "exit", "0"}, 0, ""},
			{[]string{"nosuchcmd"}, 1, "executable file not found in $PATH"},
			{[]string{"/etc/passwd"}, 1, "permission denied"},
		} {
			id := c.id(fmt.Sprint(len(obs)))
			r := c.run(id, []string{"--rm"}, sc.argv...)
			if r.code != sc.code || !strings.Contains(r.err, sc.inStderr) {
				c.t.Errorf("want exit %d and %q in stderr, got %v", sc.code, sc.inStderr, r)
			}
			obs = append(obs, fmt.Sprintf("%v: %d", sc.argv, r.code))
			c.gone(id)
		}
		return strings.Join(obs, "\n")
	}},

	{name: "env_cwd_user", run: func(c *ctrCase) string {
		id := c.id("a")
		out := c.ok(c.run(id, []string{"--rm", "--env", "FOO=bar baz", "--cwd", "/tmp"}, "testinit", "env", "--", "cwd", "--", "ids"))
		init := ctrLines(out, `^(FOO|PATH|HOME)=|^cwd=|^uid=`)
		if !strings.Contains(init, "FOO=bar baz") || !strings.Contains(init, "cwd=/tmp") {
			c.t.Errorf("init: env or cwd not applied:\n%s", out)
		}
		id = c.id("b")
		c.runDetached(id)
		out = c.ok(c.exec(id, []string{"--user", "app", "--cwd", "/home/app"}, "testinit", "ids", "--", "cwd", "--", "env"))
		ex := ctrLines(out, `^(PATH|HOME)=|^cwd=|^uid=`)
		if !strings.Contains(ex, "uid=1000 gid=1000") || !strings.Contains(ex, "cwd=/home/app") {
			c.t.Errorf("exec --user app --cwd /home/app:\n%s", out)
		}
		out = c.ok(c.exec(id, []string{"--user", "65534:65534"}, "testinit", "ids"))
		if !strings.Contains(out, "uid=65534 gid=65534") {
			c.t.Errorf("exec --user 65534:65534: %s", out)
		}
		return init + "\n--- exec:\n" + ex + "\n" + out
	}},

	{name: "detach_exec_kill_delete", run: func(c *ctrCase) string {
		id := c.id("a")
		pid := c.runDetached(id)
		var obs []string
		_, st := c.task(id)
		obs = append(obs, "after run -d: "+st)
		out := c.ok(c.exec(id, nil, "testinit", "pid"))
		if !strings.Contains(out, "ppid=0") {
			c.t.Errorf("exec: want a process of the container's pid namespace (ppid=0), got %s", out)
		}
		obs = append(obs, "exec: "+regexp.MustCompile(`pid=\d+ `).ReplaceAllString(strings.TrimSpace(out), ""))
		r := c.exec(id, nil, "sh", "-c", "exit 5")
		obs = append(obs, fmt.Sprintf("exec exit 5: %d", r.code))
		if r.code != 5 {
			c.t.Errorf("exec exit 5: %v", r)
		}
		ps := c.ok(c.ctr("task", "ps", id))
		if !strings.Contains(ps, strconv.Itoa(pid)) {
			c.t.Errorf("task ps lacks the init %d:\n%s", pid, ps)
		}
		if err := ctrWaitCaught(c.ctx, pid, unix.SIGTERM); err != nil {
			c.t.Fatal(err)
		}
		c.ok(c.ctr("task", "kill", "-s", "SIGTERM", id))
		c.waitStatus(id, "STOPPED")
		obs = append(obs, "after SIGTERM: STOPPED")
		// ctr task delete prints the exit status as a warning when non-zero:
		// Go's default SIGTERM handling as pid 1 ends in exit(2).
		r = c.ctr("task", "delete", id)
		obs = append(obs, fmt.Sprintf("task delete: exit %d, %s", r.code, regexp.MustCompile(`exit code \d+`).FindString(r.err)))
		c.ok(r)
		c.ok(c.ctr("container", "delete", id))
		c.gone(id)
		return strings.Join(obs, "\n")
	}},

	{name: "exec_kill_and_kill_all", run: func(c *ctrCase) string {
		id := c.id("a")
		c.runDetached(id)
		// A detached exec, killed alone (the shim signals it itself).
		c.ok(c.ctr("task", "exec", "--detach", "--fifo-dir", c.d.fifoDir, "--exec-id", "bg", id, "testinit", "sleep", "600"))
		ps := c.ok(c.ctr("task", "ps", id))
		n := len(strings.Split(strings.TrimSpace(ps), "\n")) - 1
		c.ok(c.ctr("task", "kill", "--exec-id", "bg", "-s", "SIGKILL", id))
		_, st := c.task(id)
		obs := []string{fmt.Sprintf("processes with the exec: %d; after killing the exec: %s", n, st)}
		if n != 2 || st != "RUNNING" {
			c.t.Errorf("exec --detach then kill --exec-id: %d processes, then %s\n%s", n, st, ps)
		}
		// kill --all: the runtime's `kill --all`, every process of the cgroup.
		c.ok(c.ctr("task", "exec", "--detach", "--fifo-dir", c.d.fifoDir, "--exec-id", "bg2", id, "testinit", "sleep", "600"))
		c.ok(c.ctr("task", "kill", "--all", "-s", "SIGKILL", id))
		c.waitStatus(id, "STOPPED")
		obs = append(obs, "kill --all SIGKILL: STOPPED")
		c.ok(c.ctr("task", "rm", id))
		c.ok(c.ctr("container", "rm", id))
		c.gone(id)
		return strings.Join(obs, "\n")
	}},

	{name: "namespaces_join_and_host", run: func(c *ctrCase) string {
		id := c.id("a")
		pid := c.runDetached(id)
		netA, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			c.t.Fatal(err)
		}
		hostNet, _ := os.Readlink("/proc/self/ns/net")
		joined := c.ok(c.run(c.id("b"), []string{"--rm", "--with-ns", fmt.Sprintf("network:/proc/%d/ns/net", pid)}, "testinit", "ns"))
		host := c.ok(c.run(c.id("c"), []string{"--rm", "--net-host"}, "testinit", "ns"))
		own := c.ok(c.run(c.id("d"), []string{"--rm"}, "testinit", "ns"))
		obs := fmt.Sprintf("--with-ns joins the other's: %t\n--net-host is the host's: %t\nown differs from both: %t",
			strings.Contains(joined, "net="+netA), strings.Contains(host, "net="+hostNet),
			!strings.Contains(own, "net="+netA) && !strings.Contains(own, "net="+hostNet))
		if strings.Contains(obs, "false") {
			c.t.Errorf("%s\nA: %s, host: %s\njoined:\n%s\nhost:\n%s\nown:\n%s", obs, netA, hostNet, joined, host, own)
		}
		return obs
	}},

	{name: "cpu_limits_and_caps", run: func(c *ctrCase) string {
		id := c.id("a")
		pid := c.runDetached(id, "--cpus", "0.5", "--cpu-shares", "512", "--cap-drop", "CAP_CHOWN", "--cap-add", "CAP_SYS_ADMIN")
		var obs []string
		for _, f := range []string{"cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares"} {
			v, err := ctrCgroupFile(pid, "cpu", f)
			if err != nil {
				c.t.Error(err)
			}
			obs = append(obs, f+"="+v)
		}
		if got := strings.Join(obs, " "); got != "cpu.cfs_quota_us=50000 cpu.cfs_period_us=100000 cpu.shares=512" {
			c.t.Errorf("cpu limits: %s", got)
		}
		caps := ctrLines(c.ok(c.exec(id, nil, "testinit", "caps")), `^Cap(Eff|Bnd)`)
		eff, _ := strconv.ParseUint(strings.Fields(caps)[1], 16, 64)
		if eff&1 != 0 || eff&(1<<21) == 0 {
			c.t.Errorf("--cap-drop CAP_CHOWN --cap-add CAP_SYS_ADMIN:\n%s", caps)
		}
		return strings.Join(obs, " ") + "\n" + caps
	}},

	{name: "pause_resume", run: func(c *ctrCase) string {
		id := c.id("a")
		pid := c.runDetached(id)
		c.ok(c.ctr("task", "pause", id))
		_, st := c.task(id)
		fr, err := ctrCgroupFile(pid, "freezer", "freezer.state")
		if err != nil {
			c.t.Fatal(err)
		}
		obs := []string{"paused: " + st + " " + fr}
		if st != "PAUSED" || fr != "FROZEN" {
			c.t.Errorf("after pause: status %s, freezer %s", st, fr)
		}
		c.ok(c.ctr("task", "resume", id))
		_, st = c.task(id)
		fr, _ = ctrCgroupFile(pid, "freezer", "freezer.state")
		obs = append(obs, "resumed: "+st+" "+fr)
		if st != "RUNNING" || fr != "THAWED" {
			c.t.Errorf("after resume: status %s, freezer %s", st, fr)
		}
		out := c.ok(c.exec(id, nil, "echo", "alive"))
		obs = append(obs, "exec after resume: "+strings.TrimSpace(out))
		// A paused task killed with SIGKILL must die (the runtime thaws it).
		c.ok(c.ctr("task", "pause", id))
		c.ok(c.ctr("task", "kill", "-s", "SIGKILL", id))
		c.waitStatus(id, "STOPPED")
		obs = append(obs, "paused + SIGKILL: STOPPED")
		c.ok(c.ctr("task", "rm", id))
		c.ok(c.ctr("container", "rm", id))
		c.gone(id)
		return strings.Join(obs, "\n")
	}},

	{name: "metrics", run: func(c *ctrCase) string {
		id := c.id("a")
		c.runDetached(id, "--memory-limit", "67108864")
		out := c.ok(c.ctr("task", "metrics", "--format", "json", id))
		// The shim reads the cgroup itself (containerd/cgroups v1 stats).
		var m struct {
			Memory struct {
				Usage struct{ Usage, Limit uint64 }
			}
			Pids struct{ Current uint64 }
			CPU  struct{ Usage struct{ Total uint64 } }
		}
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			c.t.Fatalf("metrics: %v\n%s", err, out)
		}
		obs := fmt.Sprintf("memory usage>0: %t, limit: %d, pids>0: %t, cpu>0: %t",
			m.Memory.Usage.Usage > 0, m.Memory.Usage.Limit, m.Pids.Current > 0, m.CPU.Usage.Total > 0)
		if m.Memory.Usage.Usage == 0 || m.Memory.Usage.Limit != 67108864 || m.Pids.Current == 0 {
			c.t.Errorf("metrics: %s\n%s", obs, out)
		}
		return obs
	}},

	{name: "tty", run: func(c *ctrCase) string {
		id := c.id("a")
		r := ctrScript(c.ctx, nil, append([]string{"ctr", "--address", c.d.sock, "--namespace", c.d.ns},
			c.runArgs(id, []string{"--rm", "-t"}, "sh", "-c", "testinit isatty; exit 4")...)...)
		obs := []string{fmt.Sprintf("run -t: exit %d %s", r.code, ctrTTYLines(r.out))}
		if r.code != 4 || !strings.Contains(r.out, "0=true\n1=true\n2=true") {
			c.t.Errorf("run -t: %v", r)
		}
		id = c.id("b")
		c.runDetached(id)
		r = ctrScript(c.ctx, nil, "ctr", "--address", c.d.sock, "--namespace", c.d.ns, "task", "exec", "-t",
			"--fifo-dir", c.d.fifoDir, "--exec-id", "tty", id, "sh", "-c", "testinit isatty; tty; exit 6")
		obs = append(obs, fmt.Sprintf("exec -t: exit %d %s", r.code, ctrTTYLines(r.out)))
		if r.code != 6 || !strings.Contains(r.out, "0=true\n1=true\n2=true") || !strings.Contains(r.out, "/dev/pts/") {
			c.t.Errorf("exec -t: %v", r)
		}
		return strings.Join(obs, "\n")
	}},

	{name: "memory_limit", run: func(c *ctrCase) string {
		id := c.id("a")
		pid := c.runDetached(id, "--memory-limit", "33554432")
		lim, err := ctrCgroupFile(pid, "memory", "memory.limit_in_bytes")
		if err != nil || lim != "33554432" {
			c.t.Errorf("memory.limit_in_bytes: %q, %v", lim, err)
		}
		id = c.id("b")
		r := c.run(id, []string{"--rm", "--memory-limit", "33554432"}, "tail", "/dev/zero")
		if r.code != 137 {
			c.t.Errorf("tail /dev/zero under 32 MiB: want exit 137 (OOM kill), got %v", r)
		}
		c.gone(id)
		return fmt.Sprintf("limit %s, oom exit %d", lim, r.code)
	}},

	{name: "readonly_rootfs_and_mounts", run: func(c *ctrCase) string {
		ro, rw := filepath.Join(c.d.dir, c.prefix+"-ro"), filepath.Join(c.d.dir, c.prefix+"-rw")
		for _, d := range []string{ro, rw} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				c.t.Fatal(err)
			}
		}
		id := c.id("a")
		r := c.run(id, []string{"--rm", "--read-only",
			"--mount", "type=bind,src=" + ro + ",dst=/data,options=rbind:ro",
			"--mount", "type=bind,src=" + rw + ",dst=/rw,options=rbind:rw"},
			"sh", "-c", `for f in /x /data/x /rw/x; do touch $f 2>/dev/null; echo "$f: $?"; done; cat /proc/self/mountinfo`)
		c.ok(r)
		obs := ctrLines(r.out, `^/.*: \d$`) + "\n" + ctrMountOpts(r.out, "/", "/data", "/rw")
		if !strings.Contains(obs, "/x: 1") || !strings.Contains(obs, "/data/x: 1") || !strings.Contains(obs, "/rw/x: 0") {
			c.t.Errorf("writes: %s", obs)
		}
		if _, err := os.Stat(filepath.Join(rw, "x")); err != nil {
			c.t.Errorf("the rw mount's file is not on the host: %v", err)
		}
		return obs
	}},

	{name: "seccomp", run: func(c *ctrCase) string {
		prof := filepath.Join(c.d.dir, c.prefix+"-seccomp.json")
		if err := os.WriteFile(prof, []byte(ctrSeccompDenyMkdir), 0o644); err != nil {
			c.t.Fatal(err)
		}
		none := c.ok(c.run(c.id("a"), []string{"--rm"}, "testinit", "seccomp"))
		def := c.ok(c.run(c.id("b"), []string{"--rm", "--seccomp"}, "testinit", "seccomp"))
		r := c.run(c.id("c"), []string{"--rm", "--seccomp", "--seccomp-profile", prof}, "sh", "-c", "mkdir /tmp/d; echo $?; touch /tmp/f; echo $?")
		c.ok(r)
		if !strings.Contains(none, "Seccomp:\t0") || !strings.Contains(def, "Seccomp:\t2") {
			c.t.Errorf("no profile:\n%s\n--seccomp:\n%s", none, def)
		}
		if !strings.Contains(r.err, "Operation not permitted") || !strings.Contains(r.out, "1\n0") {
			c.t.Errorf("profile denying mkdir: %v", r)
		}
		return none + def + r.out + r.err
	}},

	{name: "privileged", run: func(c *ctrCase) string {
		r := c.run(c.id("a"), []string{"--rm", "--privileged"}, "sh", "-c", "testinit caps; grep -c . /proc/self/mountinfo; ls /dev | wc -l")
		if r.code != 0 && strings.Contains(r.err, "caps") {
			if lacks, bnd := ctrBoundingLacks(24); lacks {
				c.t.Skipf("environment: the bounding set here lacks CAP_SYS_RESOURCE (%s), so no runtime can grant all capabilities: %v", bnd, r)
			}
		}
		c.ok(r)
		caps := ctrLines(r.out, `^Cap`)
		_, bnd := ctrBoundingLacks(24)
		if !strings.Contains(caps, "CapEff:\t"+strings.Fields(bnd)[1]) {
			c.t.Errorf("privileged: want every capability of the bounding set (%s), got\n%s", bnd, caps)
		}
		return caps
	}},

	{name: "user_namespace", run: func(c *ctrCase) string {
		c.useRuncFromPath()
		id := c.id("a")
		pid := c.runDetached(id, "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536")
		host := ctrHostIDs(pid)
		out := c.ok(c.exec(id, nil, "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; testinit ids; stat -c '%u:%g' /bin/busybox /home/app; touch /root/f && echo wrote"))
		obs := host + "\n" + out
		if !strings.Contains(host, "Uid:\t100000\t100000") || !strings.Contains(out, "0     100000      65536") ||
			!strings.Contains(out, "uid=0 gid=0") || !strings.Contains(out, "0:0\n1000:1000") || !strings.Contains(out, "wrote") {
			c.t.Errorf("user namespace:\n%s", obs)
		}
		return obs
	}},

	{name: "concurrent_10", timeout: 90 * time.Second, run: func(c *ctrCase) string {
		const n = 10
		var wg sync.WaitGroup
		res := make([]ctrRes, n)
		ids := make([]string, n)
		for i := range n {
			ids[i] = c.id(strconv.Itoa(i))
		}
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i] = c.run(ids[i], []string{"--rm"}, "sh", "-c", fmt.Sprintf("echo %d; exit %d", i, i))
			}()
		}
		wg.Wait()
		good := 0
		for i, r := range res {
			if r.code == i && strings.TrimSpace(r.out) == strconv.Itoa(i) {
				good++
			} else {
				c.t.Errorf("container %d: %v", i, r)
			}
		}
		for _, id := range ids {
			c.gone(id)
		}
		return fmt.Sprintf("%d/%d", good, n)
	}},
}
