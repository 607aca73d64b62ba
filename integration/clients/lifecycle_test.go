package clients

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// trapLoop is a pid 1 that exits with CODE on SIGNAL (pid 1 gets only the
// signals it has a handler for) and says it is ready once the trap is set.
func trapLoop(signal string, code int) []string {
	return []string{"sh", "-c", fmt.Sprintf("trap 'echo got %s; exit %d' %s; echo ready; while :; do sleep 0.1; done", signal, code, signal)}
}

// TestDockerLifecycle: create/start, stop, kill, pause, restart, rm, --init,
// healthchecks — the runtime's create, start, kill, pause, resume, delete
// and exec as dockerd sequences them.
func TestDockerLifecycle(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "create_start_attach", run: func(t *testing.T, d *dk) string {
			n := d.newName()
			d.must("create", "--runtime", d.rt, "--network", "none", "--name", n, img, "sh", "-c", "echo run; exit 3")
			if st := d.inspect(n, "{{.State.Status}}"); st != "created" {
				t.Errorf("after docker create: %s", st)
			}
			var obs []string
			for i := 0; i < 2; i++ { // the second start restarts a stopped container
				r := d.docker("start", "-a", n)
				if r.code != 3 || r.out != "run\n" {
					t.Errorf("docker start -a (%d): %s", i+1, r)
				}
				obs = append(obs, fmt.Sprintf("exit %d %q", r.code, r.out))
			}
			return strings.Join(obs, "\n")
		}},
		{name: "stop_graceful", run: func(t *testing.T, d *dk) string {
			n := d.runD(append([]string{img}, trapLoop("TERM", 3)...)...)
			d.waitLog(n, "ready")
			start := time.Now()
			d.must("stop", "-t", "10", n)
			took := time.Since(start)
			st := d.inspect(n, "{{.State.Status}} {{.State.ExitCode}}")
			if st != "exited 3" || took > 5*time.Second {
				t.Errorf("docker stop of a pid 1 that traps TERM: %s after %s", st, took)
			}
			return st
		}},
		{name: "stop_timeout_sigkill", run: func(t *testing.T, d *dk) string {
			n := d.runD(img, "sleep", "1000") // pid 1 without a handler ignores TERM (Go's testinit has one)
			start := time.Now()
			d.must("stop", "-t", "1", n)
			took := time.Since(start)
			st := d.inspect(n, "{{.State.Status}} {{.State.ExitCode}}")
			if st != "exited 137" || took < time.Second || took > 8*time.Second {
				t.Errorf("docker stop -t 1 of a pid 1 that ignores TERM: %s after %s", st, took)
			}
			return st
		}},
		{name: "stop_signal", run: func(t *testing.T, d *dk) string {
			n := d.runD(append([]string{"--stop-signal", "USR1", img}, trapLoop("USR1", 7)...)...)
			d.waitLog(n, "ready")
			d.must("stop", "-t", "10", n)
			st := d.inspect(n, "{{.State.ExitCode}}")
			if st != "7" {
				t.Errorf("--stop-signal USR1: exit %s", st)
			}
			return st
		}},
		{name: "kill_signals", run: func(t *testing.T, d *dk) string {
			n := d.runD(append([]string{img}, trapLoop("USR2", 9)...)...)
			d.waitLog(n, "ready")
			d.must("kill", "-s", "USR2", n)
			c1 := strings.TrimSpace(d.must("wait", n))
			m := d.runD(img, "testinit", "sleep")
			d.must("kill", m)
			c2 := strings.TrimSpace(d.must("wait", m))
			if c1 != "9" || c2 != "137" {
				t.Errorf("docker kill -s USR2 (trapped, exit 9): %s; docker kill (KILL): %s", c1, c2)
			}
			if r := d.docker("kill", m); r.code == 0 || !strings.Contains(r.err, "is not running") {
				t.Errorf("docker kill of a stopped container: %s", r)
			}
			return c1 + " " + c2
		}},
		{name: "pause_unpause", run: func(t *testing.T, d *dk) string {
			n := d.runD(img, "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/tick; sleep 0.05; done")
			d.must("pause", n)
			st := d.inspect(n, "{{.State.Status}} {{.State.Paused}}")
			frozen := d.cgFile(n, "freezer", "freezer.state")
			r := d.docker("exec", n, "true")
			if st != "paused true" || frozen != "FROZEN" || r.code == 0 || !strings.Contains(r.err, "is paused") {
				t.Errorf("paused: inspect %q, freezer.state %q, exec: %s", st, frozen, r)
			}
			d.must("unpause", n)
			st2 := d.inspect(n, "{{.State.Status}} {{.State.Paused}}")
			a := d.must("exec", n, "cat", "/tmp/tick")
			time.Sleep(300 * time.Millisecond)
			b := d.must("exec", n, "cat", "/tmp/tick")
			if st2 != "running false" || a == b {
				t.Errorf("unpaused: inspect %q, counter %q then %q", st2, a, b)
			}
			return st + "\n" + frozen + "\n" + st2
		}},
		{name: "kill_and_rm_paused", run: func(t *testing.T, d *dk) string {
			n := d.runD(img, "testinit", "sleep")
			d.must("pause", n)
			d.must("kill", n) // SIGKILL reaches a frozen init
			code := strings.TrimSpace(d.must("wait", n))
			m := d.runD(img, "testinit", "sleep")
			d.must("pause", m)
			r := d.docker("rm", "-f", m)
			if code != "137" || r.code != 0 {
				t.Errorf("docker kill of a paused container: exit %s; docker rm -f of a paused one: %s", code, r)
			}
			return code
		}},
		{name: "restart_running", run: func(t *testing.T, d *dk) string {
			n := d.runD(img, "sh", "-c", "echo started; exec testinit sleep")
			d.waitLog(n, "sleeping")
			pid1 := d.inspect(n, "{{.State.Pid}}")
			d.must("restart", "-t", "1", n)
			d.waitFor(n, "{{.State.Running}}", "true", 10*time.Second)
			pid2 := d.inspect(n, "{{.State.Pid}}")
			d.waitLog(n, "started\nsleeping\nstarted\nsleeping")
			if pid1 == pid2 {
				t.Errorf("docker restart: same pid %s", pid1)
			}
			return d.must("logs", n)
		}},
		{name: "restart_policy", run: func(t *testing.T, d *dk) string {
			n := d.runD("--restart", "on-failure:2", img, "sh", "-c", "echo try; exit 3")
			d.waitFor(n, "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", "2 exited 3", 20*time.Second)
			logs := d.must("logs", n)
			if logs != "try\ntry\ntry\n" {
				t.Errorf("on-failure:2 ran %q", logs)
			}
			return logs
		}},
		{name: "rm_force_running", run: func(t *testing.T, d *dk) string {
			n := d.runD(img, "testinit", "sleep")
			pid := d.inspect(n, "{{.State.Pid}}")
			d.must("rm", "-f", n)
			if r := d.docker("inspect", n); r.code == 0 {
				t.Errorf("still there after rm -f")
			}
			if _, err := os.Stat("/proc/" + pid); err == nil {
				t.Errorf("init %s still alive after rm -f", pid)
			}
			return "removed"
		}},
		{name: "init", run: func(t *testing.T, d *dk) string {
			out := d.runOK("--rm", "--init", img, "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline; echo; testinit pid")
			if !strings.HasPrefix(out, "/sbin/docker-init -- sh -c") || !strings.Contains(out, " ppid=") {
				t.Errorf("--init:\n%s", out)
			}
			n := d.runD("--init", img, "testinit", "sleep")
			d.must("stop", "-t", "5", n) // docker-init forwards TERM to testinit
			st := d.inspect(n, "{{.State.ExitCode}}")
			if st != "143" {
				t.Errorf("docker stop of an --init container: exit %s, want 143", st)
			}
			return firstLines(out, 1) + st
		}},
		{name: "healthcheck", timeout: 60 * time.Second, run: func(t *testing.T, d *dk) string {
			n := d.runD("--health-cmd", "test -e /tmp/ok", "--health-interval", "300ms", "--health-retries", "1", "--health-timeout", "5s",
				img, "sh", "-c", "touch /tmp/ok; exec testinit sleep")
			d.waitFor(n, "{{.State.Health.Status}}", "healthy", 20*time.Second)
			d.must("exec", n, "rm", "/tmp/ok")
			d.waitFor(n, "{{.State.Health.Status}}", "unhealthy", 20*time.Second)
			return "healthy, then unhealthy"
		}},
	})
}

// waitLog waits until `docker logs` of a container holds want.
func (d *dk) waitLog(name, want string) {
	d.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var r res
	for time.Now().Before(deadline) && d.ctx.Err() == nil {
		if r = d.docker("logs", name); strings.Contains(r.out, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("%s: logs never showed %q: %s", name, want, r)
}
