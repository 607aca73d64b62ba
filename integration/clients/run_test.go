package clients

import (
	"crypto/md5"
	"crypto/rand"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDockerRun: the process side of `docker run` and `docker exec` —
// output, exit statuses, the process's settings, stdin, terminals.
func TestDockerRun(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "run_rm", run: func(t *testing.T, d *dk) string {
			r := d.run("--rm", img, "echo", "hello")
			if r.code != 0 || r.out != "hello\n" {
				t.Fatalf("docker run --rm echo hello: %s", r)
			}
			n := d.names[len(d.names)-1]
			if r := d.docker("inspect", n); r.code == 0 {
				t.Errorf("container %s still there after --rm", n)
			}
			return r.out
		}},
		{name: "exit_codes", run: func(t *testing.T, d *dk) string {
			var obs []string
			for _, c := range []struct {
				name string
				args []string
				want int
			}{
				{"exit_42", []string{img, "sh", "-c", "exit 42"}, 42},
				{"command_not_found", []string{img, "nosuchcmd"}, 127},
				{"path_not_found", []string{img, "/no/such/file"}, 127},
				{"not_executable", []string{img, "/etc/passwd"}, 126},
				{"sigkill_self_init", []string{"--init", img, "sh", "-c", "kill -9 $$"}, 137},
				{"sigterm_self_pid_host", []string{"--pid", "host", img, "testinit", "kill-self", "15"}, 143},
				{"exit_status_of_pid1", []string{img, "testinit", "exit", "3"}, 3},
			} {
				r := d.run(append([]string{"--rm"}, c.args...)...)
				if r.code != c.want {
					t.Errorf("%s: docker run %s: %s\nwant exit %d", c.name, strings.Join(c.args, " "), r, c.want)
				}
				obs = append(obs, fmt.Sprintf("%s=%d", c.name, r.code))
			}
			return strings.Join(obs, "\n")
		}},
		{name: "env_workdir_user", run: func(t *testing.T, d *dk) string {
			out := d.runOK("--rm", "-e", "FOO=bar baz", "-e", "EMPTY=", "-w", "/tmp/work",
				"--user", "1000:1000", "--group-add", "2000", img,
				"testinit", "env", "--", "cwd", "--", "ids")
			var env []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if !strings.HasPrefix(l, "HOSTNAME=") {
					env = append(env, l)
				}
			}
			sort.Strings(env)
			got := strings.Join(env, "\n")
			for _, want := range []string{"FOO=bar baz", "EMPTY=", "cwd=/tmp/work", "uid=1000 gid=1000 groups=[1000 2000]", "HOME=/home/app"} {
				if !strings.Contains(got+"\n", want+"\n") {
					t.Errorf("missing %q in:\n%s", want, got)
				}
			}
			named := d.runOK("--rm", "--user", "app", img, "testinit", "ids")
			if named != "uid=1000 gid=1000 groups=[1000 2000]\n" {
				t.Errorf("--user app: %q", named)
			}
			return got + "\n" + named
		}},
		{name: "stdin_pipe", run: func(t *testing.T, d *dk) string {
			data := make([]byte, 3<<20)
			rand.Read(data)
			r := d.runIn(data, "--rm", "-i", img, "sh", "-c", "md5sum; echo done >&2")
			want := fmt.Sprintf("%x  -\n", md5.Sum(data))
			if r.code != 0 || r.out != want || r.err != "done\n" {
				t.Errorf("docker run -i, 3 MiB in: %s\nwant stdout %q", r, want)
			}
			return fmt.Sprintf("md5 ok=%t", r.out == want)
		}},
		{name: "tty", run: func(t *testing.T, d *dk) string {
			// The size reaches the pty through the shim's resize after
			// start: wait for it.
			r := d.script(nil, d.runArgs(d.newName(), []string{"-t", "--rm", img, "sh", "-c", "testinit isatty; sleep 0.5; stty size"})...)
			if r.code != 0 || r.out != "0=true\n1=true\n2=true\n30 100\n" {
				t.Errorf("docker run -t under script (want a tty of 30x100): %s", r)
			}
			it := d.script([]byte("echo in-tty; tty; exit 3\n"), d.runArgs(d.newName(), []string{"-it", "--rm", img, "sh"})...)
			if it.code != 3 || !strings.Contains(it.out, "in-tty\n/dev/pts/0\n") {
				t.Errorf("docker run -it sh, fed by script: %s", it)
			}
			return r.out + fmt.Sprintf("it: exit %d", it.code)
		}},
		{name: "detach_logs", run: func(t *testing.T, d *dk) string {
			n := d.runD(img, "sh", "-c", "echo out; echo err >&2; exec testinit sleep")
			var r res
			for i := 0; i < 50; i++ {
				if r = d.docker("logs", n); strings.Contains(r.out, "sleeping") {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if r.out != "out\nsleeping\n" || r.err != "err\n" {
				t.Errorf("docker logs: %s", r)
			}
			if st := d.inspect(n, "{{.State.Status}} {{.State.Running}}"); st != "running true" {
				t.Errorf("state %q", st)
			}
			return r.out + r.err
		}},
		{name: "exec", run: func(t *testing.T, d *dk) string {
			n := d.runD("-e", "FROMRUN=1", img, "testinit", "sleep")
			var obs []string
			for _, c := range []struct {
				args []string
				code int
				out  string
			}{
				{[]string{n, "testinit", "ids"}, 0, "uid=0 gid=0 groups=[0]\n"},
				{[]string{n, "sh", "-c", "echo $HOME"}, 0, "/root\n"}, // from /etc/passwd, as runc sets it
				{[]string{"-u", "1000", "-w", "/tmp", "-e", "X=1", n, "sh", "-c", "id -u; pwd; echo $X$FROMRUN"}, 0, "1000\n/tmp\n11\n"},
				{[]string{n, "sh", "-c", "exit 5"}, 5, ""},
				{[]string{n, "nosuchcmd"}, 126, ""},
				{[]string{"-i", n, "cat"}, 0, "piped\n"},
				{[]string{n, "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline"}, 0, "testinit sleep "},
			} {
				var stdin []byte
				if c.args[0] == "-i" {
					stdin = []byte("piped\n")
				}
				r := d.dockerIn(stdin, append([]string{"exec"}, c.args...)...)
				if r.code != c.code || c.out != "" && r.out != c.out {
					t.Errorf("docker exec %s: %s\nwant exit %d, stdout %q", strings.Join(c.args, " "), r, c.code, c.out)
				}
				if r.code != 0 {
					r.out = "" // an error text: the runtimes word it differently
				}
				obs = append(obs, fmt.Sprintf("exit=%d %s", r.code, r.out))
			}
			d.must("exec", "-d", n, "sh", "-c", "echo detached > /tmp/d")
			time.Sleep(300 * time.Millisecond)
			if out := d.must("exec", n, "cat", "/tmp/d"); out != "detached\n" {
				t.Errorf("exec -d left %q", out)
			}
			// The exec'd process is in the init's namespaces.
			pid := d.inspect(n, "{{.State.Pid}}")
			out := d.must("exec", n, "testinit", "ns")
			for _, ns := range []string{"pid", "mnt", "net", "uts", "ipc", "cgroup"} {
				want, err := os.Readlink("/proc/" + pid + "/ns/" + ns)
				if err != nil || !strings.Contains(out, ns+"="+want+"\n") {
					t.Errorf("exec's %s namespace is not the init's %s (%v):\n%s", ns, want, err, out)
				}
			}
			return strings.Join(obs, "\n")
		}},
		{name: "exec_tty", run: func(t *testing.T, d *dk) string {
			n := d.runD(img, "testinit", "sleep")
			r := d.script(nil, "exec", "-it", n, "sh", "-c", "testinit isatty; sleep 0.5; stty size")
			if r.code != 0 || r.out != "0=true\n1=true\n2=true\n30 100\n" {
				t.Errorf("docker exec -it under script (want a tty of 30x100): %s", r)
			}
			r2 := d.script([]byte("echo hi-exec; exit 4\n"), "exec", "-it", n, "sh")
			if r2.code != 4 || !strings.Contains(r2.out, "hi-exec\n") {
				t.Errorf("docker exec -it sh, fed by script: %s", r2)
			}
			return r.out + fmt.Sprintf("exit %d", r2.code)
		}},
		{name: "large_output", timeout: 60 * time.Second, run: func(t *testing.T, d *dk) string {
			const size = 8 << 20
			r := d.run("--rm", img, "sh", "-c", fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x; head -c %d /dev/zero | tr '\\0' y >&2", size, size/4))
			if r.code != 0 || len(r.out) != size || len(r.err) != size/4 ||
				strings.Trim(r.out, "x") != "" || strings.Trim(r.err, "y") != "" {
				t.Errorf("8 MiB stdout + 2 MiB stderr: exit %d, %d + %d bytes, stderr starts %q", r.code, len(r.out), len(r.err), clip(r.err[:min(len(r.err), 200)]))
			}
			n := d.runD(img, "sh", "-c", fmt.Sprintf("head -c %d /dev/zero | tr '\\0' z", size/2))
			if code := strings.TrimSpace(d.must("wait", n)); code != "0" {
				t.Errorf("docker wait: %s", code)
			}
			logs := d.must("logs", n)
			if len(logs) != size/2 {
				t.Errorf("docker logs of 4 MiB: %d bytes", len(logs))
			}
			return strconv.Itoa(len(r.out)) + " " + strconv.Itoa(len(r.err)) + " " + strconv.Itoa(len(logs))
		}},
		{name: "concurrent_runs", timeout: 120 * time.Second, run: func(t *testing.T, d *dk) string {
			return concurrently(t, 20, "run", func(i int) res {
				return d.run("--rm", img, "sh", "-c", fmt.Sprintf("echo run-%d", i))
			})
		}},
		{name: "concurrent_execs", timeout: 90 * time.Second, run: func(t *testing.T, d *dk) string {
			c := d.runD(img, "testinit", "sleep")
			return concurrently(t, 20, "exec", func(i int) res {
				return d.docker("exec", c, "sh", "-c", fmt.Sprintf("echo exec-%d", i))
			})
		}},
	})
}

// concurrently runs n commands at once; command i must print "what-i".
func concurrently(t *testing.T, n int, what string, run func(i int) res) string {
	rs := make([]res, n)
	var wg sync.WaitGroup
	for i := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs[i] = run(i)
		}()
	}
	wg.Wait()
	ok := 0
	for i, r := range rs {
		if r.code == 0 && r.out == fmt.Sprintf("%s-%d\n", what, i) {
			ok++
		} else {
			t.Errorf("%s %d of %d concurrent: %s", what, i, n, r)
		}
	}
	return fmt.Sprintf("%d/%d ok", ok, n)
}
