package clients

// The podman scenarios: each runs under runc, then under hako, and
// hako must see what runc saw.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

var podScenarios = []ctrScenario[*podCase]{
	{name: "run_rm", run: func(c *podCase) string {
		n := c.name("a")
		out := c.ok(c.run([]string{"--rm", "--name", n}, "testinit", "ids", "--", "cwd", "--", "isatty", "--", "hostname"))
		if !strings.Contains(out, "uid=0 gid=0") || !strings.Contains(out, "0=false") {
			c.t.Errorf("unexpected output:\n%s", out)
		}
		c.gone(n, "")
		return regexp.MustCompile(`hostname=\S+`).ReplaceAllString(out, "hostname=…")
	}},

	{name: "runtime_by_name", run: func(c *podCase) string {
		// containers.conf's [engine.runtimes] names the runtime: `--runtime hako`.
		n := c.name("a")
		a := append(append([]string{}, c.p.global...), "--runtime", c.rt.name, "run", "-d", "--name", n,
			"--network", "none", "--cgroup-parent", c.p.cgParent, ctrImage, "testinit", "sleep", "600")
		c.ok(ctrCommand(c.ctx, c.p.env, nil, "podman", a...))
		rt := c.inspect(n, "{{.OCIRuntime}}")
		id := c.inspect(n, "{{.Id}}")
		if rt != c.rt.name {
			c.t.Errorf("OCIRuntime %q, want %q", rt, c.rt.name)
		}
		if _, err := os.Stat(filepath.Join(podStateRoots[c.rt.name], id)); err != nil {
			c.t.Errorf("no state in %s's default root: %v", c.rt.name, err)
		}
		return "by name: ok"
	}},

	{name: "exit_codes", run: func(c *podCase) string {
		var obs []string
		for _, sc := range []struct {
			argv     []string
			code     int
			inStderr string
		}{
			{[]string{"sh", "-c", "exit 7"}, 7, ""},
			{[]string{"sh", "-c", "exit 255"}, 255, ""},
			{[]string{"testinit", "exit", "0"}, 0, ""},
			{[]string{"nosuchcmd"}, 127, "executable file not found in $PATH"},
			{[]string{"/etc/passwd"}, 126, "permission denied"},
		} {
			r := c.run([]string{"--rm"}, sc.argv...)
			if r.code != sc.code || !strings.Contains(r.err, sc.inStderr) {
				c.t.Errorf("want exit %d and %q in stderr, got %v", sc.code, sc.inStderr, r)
			}
			obs = append(obs, fmt.Sprintf("%v: %d", sc.argv, r.code))
		}
		return strings.Join(obs, "\n")
	}},

	{name: "env_user_hostname_sysctl", run: func(c *podCase) string {
		out := c.ok(c.run([]string{"--rm", "--user", "app", "--group-add", "extra", "--workdir", "/home/app",
			"--env", "FOO=bar baz", "--hostname", "h1", "--sysctl", "net.ipv4.ip_forward=1"},
			"sh", "-c", `testinit ids -- cwd -- hostname; echo "FOO=$FOO HOME=$HOME"; cat /proc/sys/net/ipv4/ip_forward`))
		for _, want := range []string{"uid=1000 gid=1000 groups=[1000 2000]", "cwd=/home/app", "hostname=h1", "FOO=bar baz HOME=/home/app", "\n1\n"} {
			if !strings.Contains(out, want) {
				c.t.Errorf("want %q in:\n%s", want, out)
			}
		}
		return out
	}},

	{name: "detach_exec_stop", run: func(c *podCase) string {
		n := c.name("a")
		pid := c.runD(n, nil)
		id := c.inspect(n, "{{.Id}}")
		var obs []string
		obs = append(obs, "exec: "+strings.TrimSpace(c.ok(c.podman("exec", n, "testinit", "ids"))))
		out := c.ok(c.podman("exec", "--user", "app", "--workdir", "/home/app", "--env", "FOO=bar", n, "testinit", "ids", "--", "cwd", "--", "env"))
		ex := ctrLines(out, `^(FOO|HOME)=|^cwd=|^uid=`)
		if !strings.Contains(ex, "uid=1000 gid=1000") || !strings.Contains(ex, "cwd=/home/app") || !strings.Contains(ex, "FOO=bar") {
			c.t.Errorf("exec --user app --workdir /home/app --env FOO=bar:\n%s", out)
		}
		obs = append(obs, "exec as app:\n"+ex)
		r := c.podman("exec", n, "sh", "-c", "exit 3")
		obs = append(obs, fmt.Sprintf("exec exit 3: %d", r.code))
		if r.code != 3 {
			c.t.Errorf("exec exit 3: %v", r)
		}
		if r := c.podman("exec", n, "nosuchcmd"); r.code != 127 {
			c.t.Errorf("exec nosuchcmd: want 127, got %v", r)
		} else {
			obs = append(obs, "exec nosuchcmd: 127")
		}
		if err := ctrWaitCaught(c.ctx, pid, unix.SIGTERM); err != nil {
			c.t.Fatal(err)
		}
		start := time.Now()
		c.ok(c.podman("stop", n))
		took := time.Since(start)
		// Go's default SIGTERM handling as pid 1 ends in exit(2).
		st := c.inspect(n, "{{.State.Status}} {{.State.ExitCode}}")
		obs = append(obs, "stopped: "+st)
		if took > 5*time.Second {
			c.t.Errorf("podman stop took %s: SIGTERM was not delivered?", took)
		}
		c.ok(c.podman("rm", n))
		c.gone(n, id)
		return strings.Join(obs, "\n")
	}},

	{name: "stop_timeout", run: func(c *podCase) string {
		n := c.name("a")
		c.runD(n, nil, "sh", "-c", `trap "" TERM; while :; do sleep 0.2; done`)
		start := time.Now()
		r := c.podman("stop", "--time", "2", n)
		took := time.Since(start)
		c.ok(r)
		st := c.inspect(n, "{{.State.Status}} {{.State.ExitCode}}")
		if took < 1900*time.Millisecond || took > 8*time.Second || st != "exited 137" {
			c.t.Errorf("stop -t 2 of a container ignoring SIGTERM: took %s, state %s", took, st)
		}
		return fmt.Sprintf("state %s, waited ~2s: %t", st, took >= 1900*time.Millisecond && took < 8*time.Second)
	}},

	{name: "tty", run: func(c *podCase) string {
		g := append(append(append([]string{"podman"}, c.p.global...), "--runtime", c.rt.bin), "run", "-it", "--rm",
			"--network", "none", "--cgroup-parent", c.p.cgParent, ctrImage, "sh", "-c", "testinit isatty; tty; exit 4")
		r := ctrScript(c.ctx, c.p.env, g...)
		if r.code == 4 && strings.TrimSpace(r.out) == "" {
			// podman's attach lost all of a short-lived container's
			// output (seen once, with runc): asked again, once.
			c.t.Logf("run -it: exit 4 with no output (podman's attach lost it?): again")
			r = ctrScript(c.ctx, c.p.env, g...)
		}
		obs := []string{fmt.Sprintf("run -it: exit %d %s", r.code, ctrTTYLines(r.out))}
		if r.code != 4 || !strings.Contains(r.out, "0=true\n1=true\n2=true") {
			c.t.Errorf("run -it: %v", r)
		}
		n := c.name("a")
		c.runD(n, nil)
		g = append(append(append([]string{"podman"}, c.p.global...), "--runtime", c.rt.bin), "exec", "-it", n,
			"sh", "-c", "testinit isatty; tty; exit 6")
		r = ctrScript(c.ctx, c.p.env, g...)
		obs = append(obs, fmt.Sprintf("exec -it: exit %d %s", r.code, ctrTTYLines(r.out)))
		if r.code != 6 || !strings.Contains(r.out, "0=true\n1=true\n2=true") || !strings.Contains(r.out, "/dev/pts/") {
			c.t.Errorf("exec -it: %v", r)
		}
		return strings.Join(obs, "\n")
	}},

	{name: "kill", run: func(c *podCase) string {
		n := c.name("a")
		pid := c.runD(n, nil, "sh", "-c", `trap "echo got USR1; exit 9" USR1; while :; do sleep 0.1; done`)
		if err := ctrWaitCaught(c.ctx, pid, unix.SIGUSR1); err != nil {
			c.t.Fatal(err)
		}
		c.ok(c.podman("kill", "--signal", "USR1", n))
		code := strings.TrimSpace(c.ok(c.podman("wait", n)))
		logs := c.ok(c.podman("logs", n))
		if code != "9" || !strings.Contains(logs, "got USR1") {
			c.t.Errorf("kill -s USR1: exit %s, logs %q", code, logs)
		}
		m := c.name("b")
		c.runD(m, nil)
		c.ok(c.podman("kill", m))
		code2 := strings.TrimSpace(c.ok(c.podman("wait", m)))
		if code2 != "137" {
			c.t.Errorf("kill (SIGKILL): exit %s", code2)
		}
		return fmt.Sprintf("USR1: exit %s %q; KILL: exit %s", code, strings.TrimSpace(logs), code2)
	}},

	{name: "pause_unpause", run: func(c *podCase) string {
		n := c.name("a")
		pid := c.runD(n, nil)
		id := c.inspect(n, "{{.Id}}")
		c.ok(c.podman("pause", n))
		st := c.inspect(n, "{{.State.Status}}")
		fr, err := ctrCgroupFile(pid, "freezer", "freezer.state")
		if err != nil {
			c.t.Fatal(err)
		}
		obs := []string{"paused: " + st + " " + fr}
		if st != "paused" || fr != "FROZEN" {
			c.t.Errorf("after pause: %s, freezer %s", st, fr)
		}
		c.ok(c.podman("unpause", n))
		st = c.inspect(n, "{{.State.Status}}")
		fr, _ = ctrCgroupFile(pid, "freezer", "freezer.state")
		obs = append(obs, "unpaused: "+st+" "+fr)
		if st != "running" || fr != "THAWED" {
			c.t.Errorf("after unpause: %s, freezer %s", st, fr)
		}
		obs = append(obs, "exec: "+strings.TrimSpace(c.ok(c.podman("exec", n, "echo", "alive"))))
		// rm --force of a paused container: the runtime must kill it.
		c.ok(c.podman("pause", n))
		c.ok(c.podman("rm", "--force", "--time", "0", n))
		if !waitGone(pid, 10*time.Second) {
			c.t.Errorf("the paused container's process %d survived rm --force", pid)
		}
		c.gone(n, id)
		return strings.Join(obs, "\n")
	}},

	{name: "update", run: func(c *podCase) string {
		n := c.name("a")
		pid := c.runD(n, []string{"--memory", "64m", "--cpu-shares", "1024"})
		read := func() string {
			var vs []string
			for _, f := range [][2]string{{"memory", "memory.limit_in_bytes"}, {"cpu", "cpu.shares"}, {"cpu", "cpu.cfs_quota_us"}} {
				v, err := ctrCgroupFile(pid, f[0], f[1])
				if err != nil {
					c.t.Error(err)
				}
				vs = append(vs, f[1]+"="+v)
			}
			return strings.Join(vs, " ")
		}
		before := read()
		// podman update hands the new resources to the runtime's update.
		c.ok(c.podman("update", "--memory", "128m", "--cpu-shares", "512", "--cpus", "0.5", n))
		after := read()
		if before != "memory.limit_in_bytes=67108864 cpu.shares=1024 cpu.cfs_quota_us=-1" ||
			after != "memory.limit_in_bytes=134217728 cpu.shares=512 cpu.cfs_quota_us=50000" {
			c.t.Errorf("before: %s\nafter:  %s", before, after)
		}
		return before + "\n" + after
	}},

	{name: "healthcheck", run: func(c *podCase) string {
		// podman healthcheck run is an exec of the health command.
		n := c.name("a")
		c.runD(n, []string{"--health-cmd", "testinit ids", "--health-interval", "disable"})
		good := c.podman("healthcheck", "run", n)
		m := c.name("b")
		c.runD(m, []string{"--health-cmd", "sh -c 'exit 1'", "--health-interval", "disable", "--health-retries", "1"})
		bad := c.podman("healthcheck", "run", m)
		if good.code != 0 || bad.code != 1 {
			c.t.Errorf("healthy: %v\nunhealthy: %v", good, bad)
		}
		return fmt.Sprintf("healthy: %d %s\nunhealthy: %d %s", good.code, strings.TrimSpace(good.out), bad.code, strings.TrimSpace(bad.out))
	}},

	{name: "memory_oom", run: func(c *podCase) string {
		n := c.name("a")
		r := c.run([]string{"--name", n, "--memory", "32m"}, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; tail /dev/zero")
		oom := c.inspect(n, "{{.State.OOMKilled}} {{.State.ExitCode}}")
		// .State.OOMKilled is conmon's reading of the cgroup's OOM events;
		// on this hybrid host it says false under runc too: compared, not
		// required.
		if r.code != 137 || !strings.Contains(r.out, "33554432") || !strings.HasSuffix(oom, " 137") {
			c.t.Errorf("32m and tail /dev/zero: want 137, OOMKilled: got %v\ninspect: %s", r, oom)
		}
		return fmt.Sprintf("exit %d, limit %s, inspect OOMKilled+code: %s", r.code, strings.TrimSpace(r.out), oom)
	}},

	{name: "read_only", run: func(c *podCase) string {
		probe := `for f in /x /tmp/x /var/tmp/x /run/x; do touch $f 2>/dev/null; echo "$f: $?"; done; cat /proc/self/mountinfo`
		r := c.run([]string{"--rm", "--read-only"}, "sh", "-c", probe)
		c.ok(r)
		a := ctrLines(r.out, `^/.*: \d$`) + "\n" + ctrMountOpts(r.out, "/", "/tmp")
		if !strings.Contains(a, "/x: 1") || !strings.Contains(a, "/tmp/x: 0") {
			c.t.Errorf("--read-only: %s", a)
		}
		r = c.run([]string{"--rm", "--read-only", "--read-only-tmpfs=false"}, "sh", "-c", probe)
		c.ok(r)
		b := ctrLines(r.out, `^/.*: \d$`)
		if !strings.Contains(b, "/tmp/x: 1") {
			c.t.Errorf("--read-only --read-only-tmpfs=false: %s", b)
		}
		return a + "\n--- without tmpfs:\n" + b
	}},

	{name: "volumes", run: func(c *podCase) string {
		host := filepath.Join(c.p.dir, c.prefix+"-vol")
		if err := os.MkdirAll(host, 0o755); err != nil {
			c.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(host, "f"), []byte("from host\n"), 0o644); err != nil {
			c.t.Fatal(err)
		}
		vol := c.prefix + "-v"
		c.vols = append(c.vols, vol)
		c.ok(c.podman("volume", "create", vol))
		r := c.run([]string{"--rm", "-v", host + ":/data", "-v", host + ":/ro:ro", "-v", vol + ":/vol"}, "sh", "-c",
			`cat /data/f; echo w > /data/g; echo "/data/g: $?"; touch /ro/z 2>/dev/null; echo "/ro/z: $?"; echo v > /vol/v; echo "/vol/v: $?"; cat /proc/self/mountinfo`)
		c.ok(r)
		obs := ctrLines(r.out, `^from host$|^/.*: \d$`) + "\n" + ctrMountOpts(r.out, "/data", "/ro", "/vol")
		if !strings.Contains(obs, "from host\n/data/g: 0\n/ro/z: 1\n/vol/v: 0") {
			c.t.Errorf("volumes: %s", obs)
		}
		if b, err := os.ReadFile(filepath.Join(host, "g")); err != nil || string(b) != "w\n" {
			c.t.Errorf("the bind mount's write is not on the host: %q, %v", b, err)
		}
		// The named volume outlives the container.
		out := c.ok(c.run([]string{"--rm", "-v", vol + ":/vol"}, "cat", "/vol/v"))
		if out != "v\n" {
			c.t.Errorf("named volume in a second container: %q", out)
		}
		return obs
	}},

	{name: "tmpfs", run: func(c *podCase) string {
		r := c.run([]string{"--rm", "--tmpfs", "/scratch", "--tmpfs", "/private:mode=0700,size=1m"}, "sh", "-c",
			`stat -c "%n %a" /scratch /private; su -s /bin/sh nobody -c "touch /scratch/f" 2>/dev/null; echo "nobody writes /scratch: $?"; cat /proc/self/mountinfo`)
		c.ok(r)
		obs := ctrLines(r.out, `^/(scratch|private) \d+$|^nobody`) + "\n" + ctrMountOpts(r.out, "/scratch", "/private")
		if !strings.Contains(obs, "/private 700") {
			c.t.Errorf("tmpfs mode=0700 not applied: %s", obs)
		}
		return obs
	}},

	{name: "caps_seccomp", run: func(c *podCase) string {
		prof := filepath.Join(c.p.dir, c.prefix+"-seccomp.json")
		if err := os.WriteFile(prof, []byte(ctrSeccompDenyMkdir), 0o644); err != nil {
			c.t.Fatal(err)
		}
		caps := c.ok(c.run([]string{"--rm", "--cap-drop", "all", "--cap-add", "NET_ADMIN"}, "testinit", "caps"))
		if !strings.Contains(caps, "CapEff:\t0000000000001000") || !strings.Contains(caps, "CapBnd:\t0000000000001000") {
			c.t.Errorf("--cap-drop all --cap-add NET_ADMIN:\n%s", caps)
		}
		def := c.ok(c.run([]string{"--rm"}, "sh", "-c", "testinit seccomp; testinit caps"))
		if !strings.Contains(def, "Seccomp:\t2") {
			c.t.Errorf("default profile:\n%s", def)
		}
		unc := c.ok(c.run([]string{"--rm", "--security-opt", "seccomp=unconfined"}, "testinit", "seccomp"))
		if !strings.Contains(unc, "Seccomp:\t0") {
			c.t.Errorf("seccomp=unconfined:\n%s", unc)
		}
		r := c.run([]string{"--rm", "--security-opt", "seccomp=" + prof}, "sh", "-c", "mkdir /tmp/d; echo $?; touch /tmp/f; echo $?")
		c.ok(r)
		if !strings.Contains(r.err, "Operation not permitted") || !strings.Contains(r.out, "1\n0") {
			c.t.Errorf("profile denying mkdir: %v", r)
		}
		// Reaching a capability the container lacks: chown needs CAP_CHOWN.
		r2 := c.run([]string{"--rm", "--cap-drop", "CHOWN"}, "sh", "-c", "chown 1000 /tmp; echo $?")
		if !strings.Contains(r2.out, "1") || !strings.Contains(r2.err, "Operation not permitted") {
			c.t.Errorf("chown without CAP_CHOWN: %v", r2)
		}
		return caps + def + unc + r.out + r.err + r2.out + r2.err
	}},

	{name: "ulimits_pids", run: func(c *podCase) string {
		def := c.ok(c.run([]string{"--rm"}, "testinit", "rlimits"))
		def = ctrLines(def, `NOFILE|NPROC`)
		if !strings.Contains(def, "RLIMIT_NOFILE=1024:1024") || !strings.Contains(def, "RLIMIT_NPROC=4096:4096") {
			c.t.Errorf("containers.conf default_ulimits not applied:\n%s", def)
		}
		r := c.run([]string{"--rm", "--ulimit", "nofile=512:512", "--ulimit", "nproc=300:300", "--pids-limit", "20"}, "sh", "-c",
			`testinit rlimits; cat /sys/fs/cgroup/pids/pids.max; i=0; (while [ $i -lt 30 ]; do sleep 2 & i=$((i+1)); done) 2>/dev/null; while read l; do echo "events: $l"; done </sys/fs/cgroup/pids/pids.events`)
		c.ok(r)
		set := ctrLines(r.out, `NOFILE|NPROC|^\d+$`)
		// Forks refused at pids.max, counted by the kernel (read without a fork).
		refused := ctrLines(r.out, `^events: max`)
		if !strings.Contains(set, "RLIMIT_NOFILE=512:512") || !strings.Contains(set, "RLIMIT_NPROC=300:300") || !strings.Contains(set, "\n20") {
			c.t.Errorf("--ulimit, --pids-limit:\n%s", r.out)
		}
		if n, _ := strconv.Atoi(strings.TrimPrefix(refused, "events: max ")); n == 0 {
			c.t.Errorf("pids.max 20 refused no fork of 30: %q\n%s", refused, r.out)
		}
		return def + "\n" + set
	}},

	{name: "init", run: func(c *podCase) string {
		out := c.ok(c.run([]string{"--rm", "--init"}, "testinit", "pid", "--", "cat", "/proc/1/cmdline"))
		out = regexp.MustCompile(`pid=\d+ `).ReplaceAllString(strings.ReplaceAll(out, "\x00", " "), "")
		if !strings.Contains(out, "ppid=1\n") || !strings.HasPrefix(ctrLines(out, "podman-init"), "/run/podman-init -- testinit") {
			c.t.Errorf("--init: %q", out)
		}
		// catatonit forwards SIGTERM: stop is quick, and the program dies of it.
		n := c.name("a")
		pid := c.runD(n, []string{"--init"})
		if err := ctrWaitCaught(c.ctx, pid, unix.SIGTERM); err != nil {
			c.t.Fatal(err)
		}
		start := time.Now()
		c.ok(c.podman("stop", n))
		st := c.inspect(n, "{{.State.ExitCode}}")
		if took := time.Since(start); took > 5*time.Second {
			c.t.Errorf("stop of an --init container took %s", took)
		}
		return out + "stop: exit " + st
	}},

	{name: "restart", timeout: 60 * time.Second, run: func(c *podCase) string {
		n := c.name("a")
		pid := c.runD(n, nil)
		c.ok(c.podman("restart", "--time", "1", n))
		c.waitState(n, "running")
		pid2, _ := strconv.Atoi(c.inspect(n, "{{.State.Pid}}"))
		if pid2 == pid || pid2 <= 0 || !waitGone(pid, 5*time.Second) {
			c.t.Errorf("restart: pid %d, then %d", pid, pid2)
		}
		obs := []string{"restart: " + c.inspect(n, "{{.State.Status}}") + ", exec " + strings.TrimSpace(c.ok(c.podman("exec", n, "echo", "ok")))}
		// on-failure:2: podman's clean-up process (conmon's exit command)
		// starts it twice more through the runtime.
		m := c.name("b")
		c.ok(c.run([]string{"-d", "--name", m, "--restart", "on-failure:2"}, "sh", "-c", "sleep 0.3; exit 1"))
		for {
			st := c.inspect(m, "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}")
			if st == "exited 1 2" {
				obs = append(obs, "on-failure:2: "+st)
				break
			}
			if c.ctx.Err() != nil {
				c.t.Fatalf("on-failure:2: %s", st)
			}
			time.Sleep(100 * time.Millisecond)
		}
		return strings.Join(obs, "\n")
	}},

	{name: "user_namespace", run: func(c *podCase) string {
		n := c.name("a")
		pid := c.runD(n, []string{"--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"})
		host := ctrHostIDs(pid)
		out := c.ok(c.podman("exec", n, "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; testinit ids; stat -c '%u:%g' /bin/busybox /home/app; touch /root/f && echo wrote"))
		obs := host + "\n" + out
		if !strings.Contains(host, "Uid:\t100000\t100000") || !strings.Contains(out, "0     100000      65536") ||
			!strings.Contains(out, "uid=0 gid=0") || !strings.Contains(out, "0:0\n1000:1000") || !strings.Contains(out, "wrote") {
			c.t.Errorf("user namespace:\n%s", obs)
		}
		return obs
	}},

	{name: "userns_auto", run: func(c *podCase) string {
		r := c.run([]string{"--rm", "--userns", "auto:size=65536"}, "sh", "-c", "cat /proc/self/uid_map; testinit ids")
		if r.code != 0 {
			b, _ := os.ReadFile("/etc/subuid")
			if !regexp.MustCompile(`(?m)^containers:`).Match(b) {
				c.t.Skipf("environment: --userns=auto takes ranges of the user \"containers\" in /etc/subuid, which has none here: %v", r)
			}
		}
		c.ok(r)
		return r.out
	}},

	{name: "pod", run: func(c *podCase) string {
		pod := c.prefix
		c.pods = append(c.pods, pod)
		c.ok(c.podman("pod", "create", "--name", pod, "--network", "none", "--cgroup-parent", c.p.cgParent, "--share", "net,ipc,uts,pid"))
		a := c.name("a")
		c.ok(c.podman("run", "-d", "--pod", pod, "--name", a, ctrImage, "testinit", "sleep", "600"))
		nsA := c.ok(c.podman("exec", a, "testinit", "ns"))
		r := c.podman("run", "--rm", "--pod", pod, ctrImage, "sh", "-c", "testinit ns; ps -o comm")
		c.ok(r)
		shared := func(ns string) string { return ctrLines(ns, `^(net|ipc|uts|pid)=`) }
		if shared(nsA) != shared(r.out) || shared(nsA) == "" {
			c.t.Errorf("the pod's containers do not share net, ipc, uts, pid:\n%s\n---\n%s", nsA, r.out)
		}
		if ctrLines(nsA, `^mnt=`) == ctrLines(r.out, `^mnt=`) {
			c.t.Errorf("the pod's containers share a mount namespace")
		}
		procs := ctrLines(r.out, `^(catatonit|testinit|ps|sh)$`)
		if !strings.Contains(procs, "catatonit") || !strings.Contains(procs, "testinit") {
			c.t.Errorf("the shared pid namespace does not show the infra and the first container:\n%s", r.out)
		}
		st := strings.TrimSpace(c.ok(c.podman("pod", "inspect", "--format", "{{.State}}", pod)))
		c.ok(c.podman("pod", "stop", "--time", "1", pod))
		st2 := strings.TrimSpace(c.ok(c.podman("pod", "inspect", "--format", "{{.State}}", pod)))
		return fmt.Sprintf("same net/ipc/uts/pid: %t\nprocesses:\n%s\npod: %s, after stop: %s", shared(nsA) == shared(r.out), procs, st, st2)
	}},

	{name: "privileged", run: func(c *podCase) string {
		r := c.run([]string{"--rm", "--privileged"}, "testinit", "caps")
		if r.code != 0 && strings.Contains(r.err, "caps") {
			if lacks, bnd := ctrBoundingLacks(24); lacks {
				c.t.Skipf("environment: podman --privileged asks for every capability, and the bounding set here lacks CAP_SYS_RESOURCE (%s): %v", bnd, r)
			}
		}
		c.ok(r)
		return ctrLines(r.out, `^Cap`)
	}},
}
