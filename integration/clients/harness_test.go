package clients

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runtimes in the order each scenario runs under them: runc's result is
// the reference hako's is compared with.
var runtimes = []string{"runc", "hako"}

// scenario is one row of a table: run drives docker through d, checks what
// must hold whatever the runtime, and returns what it saw in a form that
// must be the same under hako as under runc ("" compares nothing).
type scenario struct {
	name    string
	timeout time.Duration // for the whole scenario; 0 means 30 s
	run     func(t *testing.T, d *dk) string
}

// runScenarios runs each scenario as a subtest, once per runtime
// (TestX/<scenario>/runc, then TestX/<scenario>/hako); hako's observation
// must equal runc's when runc's run passed.
func runScenarios(t *testing.T, table []scenario) {
	if dd == nil {
		t.Fatal("no dockerd: TestMain did not start one (see its output)")
	}
	for _, sc := range table {
		t.Run(sc.name, func(t *testing.T) {
			var ref string
			refOK := false
			for _, rt := range runtimes {
				returned := false
				var obs string
				ok := t.Run(rt, func(t *testing.T) {
					obs = runOne(t, sc, rt)
					returned = true
					if rt != "runc" && refOK && obs != ref {
						t.Errorf("%s saw something else than runc:\n--- runc:\n%s\n--- %s:\n%s", rt, ref, rt, obs)
					}
				})
				if rt == "runc" {
					ref, refOK = obs, ok && returned
				}
			}
		})
	}
}

// runOne runs sc under runtime rt and returns its normalised observation.
func runOne(t *testing.T, sc scenario, rt string) string {
	t.Cleanup(func() { tally.add(rt, t) }) // registered first: runs last
	timeout := sc.timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	d := &dk{t: t, ctx: ctx, rt: rt, before: leftoverSet()}
	if st, err := os.Stat(dd.log); err == nil {
		d.logOff = st.Size()
	}
	t.Cleanup(func() { cancel(); d.cleanup() })
	obs := sc.run(t, d)
	if ctx.Err() != nil {
		t.Errorf("scenario timed out after %s", timeout)
	}
	return d.norm(obs)
}

// tally counts the leaf subtests for TestMain's summary line.
var tally = &counts{per: map[string]*[3]int{}}

type counts struct {
	mu  sync.Mutex
	per map[string]*[3]int // runtime -> passed, failed, skipped
}

func (c *counts) add(rt string, t *testing.T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.per[rt]
	if n == nil {
		n = new([3]int)
		c.per[rt] = n
	}
	switch {
	case t.Failed():
		n[1]++
	case t.Skipped():
		n[2]++
	default:
		n[0]++
	}
}

func printSummary(took time.Duration) {
	tally.mu.Lock()
	defer tally.mu.Unlock()
	var all [3]int
	for _, rt := range runtimes {
		if c := tally.per[rt]; c != nil {
			fmt.Printf("clients: %s: %d passed, %d failed, %d skipped\n", rt, c[0], c[1], c[2])
			for i := range all {
				all[i] += c[i]
			}
		}
	}
	fmt.Printf("clients: %d passed, %d failed, %d skipped (%s)\n", all[0], all[1], all[2], took.Round(time.Second))
}

// res is what one docker command did.
type res struct {
	out, err string
	code     int
}

func (r res) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, clip(r.out), clip(r.err))
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

var seq atomic.Int64

// dk drives docker for one scenario under one runtime and removes what
// it made at the end.
type dk struct {
	t      *testing.T
	ctx    context.Context
	rt     string
	mu     sync.Mutex
	names  []string // containers, removed at the end
	vols   []string // volumes, removed at the end
	ids    map[string]string
	before map[string]bool // leftoverSet before the scenario
	logOff int64           // dockerd.log size before the scenario
}

// newName returns a fresh container name, removed at the end.
func (d *dk) newName() string {
	n := fmt.Sprintf("hc%d-%s", seq.Add(1), d.rt)
	d.mu.Lock()
	d.names = append(d.names, n)
	d.mu.Unlock()
	return n
}

// docker runs the client with the scenario's deadline.
func (d *dk) docker(args ...string) res { return d.dockerIn(nil, args...) }

func (d *dk) dockerIn(stdin []byte, args ...string) res {
	return d.command(stdin, dockerCLI, args...)
}

func (d *dk) command(stdin []byte, bin string, args ...string) res {
	cmd := exec.CommandContext(d.ctx, bin, args...)
	cmd.Env = append(os.Environ(), dd.cliEnv...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := res{out: o.String(), err: e.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		r.code = ee.ExitCode()
	default:
		r.code = -1
		r.err += fmt.Sprintf("\n[%s %s: %v (%v)]", filepath.Base(bin), strings.Join(args, " "), err, d.ctx.Err())
	}
	return r
}

// must runs docker and fails the test unless it exits 0.
func (d *dk) must(args ...string) string {
	d.t.Helper()
	r := d.docker(args...)
	if r.code != 0 {
		d.t.Fatalf("docker %s: %s", strings.Join(args, " "), r)
	}
	return r.out
}

// run is `docker run --runtime RT --name NEW [--network none] ARGS...`
// (no bridge here: --network none unless ARGS choose a network).
func (d *dk) run(args ...string) res { return d.runIn(nil, args...) }

func (d *dk) runIn(stdin []byte, args ...string) res {
	return d.dockerIn(stdin, d.runArgs(d.newName(), args)...)
}

func (d *dk) runArgs(name string, args []string) []string {
	pre := []string{"run", "--runtime", d.rt, "--name", name}
	net := false
	for _, a := range args {
		net = net || a == "--network" || strings.HasPrefix(a, "--network=") || a == "--net"
	}
	if !net {
		pre = append(pre, "--network", "none")
	}
	return append(pre, args...)
}

// runOK runs a container and returns its stdout; it must exit 0.
func (d *dk) runOK(args ...string) string {
	d.t.Helper()
	r := d.run(args...)
	if r.code != 0 {
		d.t.Fatalf("docker run %s: %s", strings.Join(args, " "), r)
	}
	return r.out
}

// runD starts a detached container and returns its name.
func (d *dk) runD(args ...string) string {
	d.t.Helper()
	n := d.newName()
	a := d.runArgs(n, append([]string{"-d"}, args...))
	if r := d.docker(a...); r.code != 0 {
		d.t.Fatalf("docker %s: %s", strings.Join(a, " "), r)
	}
	return n
}

// script runs `docker ARGS` under script(1), on a real pty of 30 rows
// and 100 columns.
func (d *dk) script(stdin []byte, args ...string) res {
	q := []string{"stty rows 30 cols 100; exec", dockerCLI}
	for _, a := range args {
		q = append(q, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	r := d.command(stdin, "script", "-qec", strings.Join(q, " "), "/dev/null")
	// script(1) passes the EOF of its stdin on as the terminal's EOF
	// character, which the container's pty echoes (^@ or ^D): not output.
	r.out = strings.NewReplacer("\r", "", "^@", "", "^D", "").Replace(r.out)
	return r
}

// id is the full container id of a name.
func (d *dk) id(name string) string {
	d.t.Helper()
	d.mu.Lock()
	id, ok := d.ids[name]
	d.mu.Unlock()
	if ok {
		return id
	}
	id = strings.TrimSpace(d.must("inspect", "-f", "{{.Id}}", name))
	d.mu.Lock()
	if d.ids == nil {
		d.ids = map[string]string{}
	}
	d.ids[name] = id
	d.mu.Unlock()
	return id
}

func (d *dk) inspect(name, format string) string {
	d.t.Helper()
	return strings.TrimSpace(d.must("inspect", "-f", format, name))
}

// waitFor polls `docker inspect -f FORMAT` until it prints want.
func (d *dk) waitFor(name, format, want string, timeout time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	var got string
	for time.Now().Before(deadline) && d.ctx.Err() == nil {
		r := d.docker("inspect", "-f", format, name)
		if got = strings.TrimSpace(r.out); r.code == 0 && got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.t.Fatalf("%s: inspect %s = %q after %s, want %q", name, format, got, timeout, want)
}

// cgFile reads a container's cgroup v1 file from the host.
func (d *dk) cgFile(name, ctrl, file string) string {
	d.t.Helper()
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctrl, dd.cgParent, d.id(name), file))
	if err != nil {
		d.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// norm replaces the scenario's container ids and names, which differ
// between the runtimes, with <ctr>.
func (d *dk) norm(s string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, id := range d.ids {
		s = strings.ReplaceAll(s, id, "<ctr>")
		s = strings.ReplaceAll(s, id[:12], "<ctr>")
		s = strings.ReplaceAll(s, name, "<ctr>")
	}
	return s
}

// cleanup shows, for a failed scenario, the runtime's log.json of the
// containers still there and dockerd's error lines; then it removes the
// containers and volumes and reports what they left behind.
func (d *dk) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	saved := d.ctx
	d.ctx = ctx
	defer func() { d.ctx = saved }()
	if d.t.Failed() {
		for _, n := range d.names {
			r := d.docker("inspect", "-f", "{{.Id}}", n)
			if r.code != 0 {
				continue
			}
			lj := filepath.Join(dd.execRoot, "containerd/daemon/io.containerd.runtime.v2.task/moby", strings.TrimSpace(r.out), "log.json")
			if b, err := os.ReadFile(lj); err == nil && len(b) > 0 {
				d.t.Logf("%s log.json of %s:\n%s", d.rt, n, clip(string(b)))
			}
		}
		if ls := dockerdErrors(d.logOff); ls != "" {
			d.t.Logf("dockerd errors during the scenario:\n%s", ls)
		}
	}
	if len(d.names) > 0 {
		d.docker(append([]string{"rm", "-f", "-v"}, d.names...)...)
	}
	for _, v := range d.vols {
		d.docker("volume", "rm", "-f", v)
	}
	after := leftoverSet()
	var left []string
	for p := range after {
		if !d.before[p] {
			left = append(left, p)
		}
	}
	sort.Strings(left)
	for _, p := range left {
		d.t.Errorf("left behind after docker rm: %s", p)
	}
}

// leftoverSet lists what a runtime keeps per container and must remove
// with it: its state directories (docker 20.10 gives every runtime the
// --root <exec-root>/runtime-runc/moby) and the containers' cgroups.
func leftoverSet() map[string]bool {
	set := map[string]bool{}
	state, _ := filepath.Glob(filepath.Join(dd.execRoot, "runtime-*", "moby", "*"))
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*" + dd.cgParent + "/*")
	for _, p := range append(state, cgs...) {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			set[p] = true
		}
	}
	return set
}

// dockerdErrors returns dockerd's and containerd's error lines
// written after offset off.
func dockerdErrors(off int64) string {
	b, err := os.ReadFile(dd.log)
	if err != nil || int64(len(b)) < off {
		return ""
	}
	var out []string
	for _, l := range strings.Split(string(b[off:]), "\n") {
		if strings.Contains(l, "level=error") && !strings.Contains(l, "stream copy error") {
			out = append(out, l)
		}
	}
	return clip(strings.Join(out, "\n"))
}
