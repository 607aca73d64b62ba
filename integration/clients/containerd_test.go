package clients

// containerd through ctr: a private containerd (its own config, root,
// state and sockets in a temporary directory), the busybox + testinit
// image imported from a tarball, and every scenario run by containerd's
// runc shim with --runc-binary runc, then hako.
//
// Run alone: go test -count=1 -v -run Ctr ./clients/

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ctrDaemon is the private containerd.
type ctrDaemon struct {
	dir      string // everything it owns
	sock     string
	ns       string // the containerd namespace; ctr's cgroups go to /<ns>/<id>
	log      string
	cmd      *exec.Cmd
	exited   chan struct{}
	host     ctrHostPaths
	fifoDir  string
	pathDir  string // first in the shims' $PATH
	rts      []ctrRuntime
	imageTar string
}

// ctrHostPathsContainerd are what containerd 1.6 and its shims create
// outside the configured root and state: the shims' sockets
// (/run/containerd/s/<hash of address, namespace and id>, whatever the
// state directory) and ctr's default fifo directory (we pass --fifo-dir).
var ctrHostPathsContainerd = []string{"/run/containerd/s", "/run/containerd/fifo", ctrShimDefaultRoot, "/run/containerd"}

// ctrShimDefaultRoot is the runc shim's --root when the task's options
// name none.
const ctrShimDefaultRoot = "/run/containerd/runc"

func TestCtr(t *testing.T) {
	ctrNeedRoot(t, "containerd")
	rts, probe := ctrRuntimes(t)
	d := ctrStart(t, probe, rts)

	ctrRunTable(t, rts, ctrScenarios, func(t *testing.T, ctx context.Context, rt ctrRuntime, prefix string) *ctrCase {
		c := &ctrCase{d: d, t: t, ctx: ctx, rt: rt, prefix: prefix, root: filepath.Join(d.dir, "root-"+rt.name)}
		t.Cleanup(c.cleanup)
		return c
	})
}

// ctrStart starts containerd and imports the image; t.Cleanup stops it
// and removes everything it made.
func ctrStart(t *testing.T, probe string, rts []ctrRuntime) *ctrDaemon {
	dir, err := os.MkdirTemp("", "hako-ctr-")
	if err != nil {
		t.Fatal(err)
	}
	d := &ctrDaemon{
		dir:     dir,
		sock:    filepath.Join(dir, "containerd.sock"),
		ns:      fmt.Sprintf("hako-ctr-%d", os.Getpid()),
		log:     filepath.Join(dir, "containerd.log"),
		fifoDir: filepath.Join(dir, "fifo"),
		rts:     rts,
	}
	// Traversable: a container in a user namespace (uid 100000 here) must
	// reach its bundle's rootfs below it.
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	// The shims' cleanup of a dead shim, and tasks created with --uidmap
	// (below), use the runc shim's default root: /run/containerd/runc/<ns>.
	d.host.dirs = append([]string{filepath.Join(ctrShimDefaultRoot, d.ns)}, ctrMissing(ctrHostPathsContainerd...)...)
	t.Cleanup(func() { d.stop(t) })

	conf := filepath.Join(dir, "config.toml")
	// The CRI plugin is off (it would want CNI and /etc/cni); the opt
	// plugin would otherwise make /opt/containerd.
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "lib"), filepath.Join(dir, "run"), d.sock, d.sock+".ttrpc", filepath.Join(dir, "opt"))), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	d.cmd = exec.Command("containerd", "--config", conf, "--log-level", "info")
	// The shims inherit this PATH: a "runc" in d.pathDir comes first (see
	// ctrCase.useRuncFromPath).
	d.pathDir = filepath.Join(dir, "path")
	if err := os.Mkdir(d.pathDir, 0o755); err != nil {
		t.Fatal(err)
	}
	d.cmd.Env = append(os.Environ(), "PATH="+d.pathDir+":"+os.Getenv("PATH"))
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.Dir = dir
	// Pdeathsig: if the test binary dies, so does containerd (Go never
	// ends the threads of goroutines that did not lock one).
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := d.cmd.Start(); err != nil {
		d.cmd = nil
		t.Fatalf("start containerd: %v", err)
	}
	d.exited = make(chan struct{})
	go func() { d.cmd.Wait(); close(d.exited) }()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		select {
		case <-d.exited:
			t.Fatalf("containerd exited at start-up:\n%s", tail(d.log, 30))
		case <-ctx.Done():
			t.Fatalf("containerd does not answer after 60 s:\n%s", tail(d.log, 30))
		case <-time.After(100 * time.Millisecond):
		}
		if r := d.ctr(ctx, "version"); r.code == 0 {
			break
		}
	}
	d.imageTar, err = ctrBuildImage(dir, probe)
	if err != nil {
		t.Fatalf("build image: %v", err)
	}
	if r := d.ctr(ctx, "image", "import", d.imageTar); r.code != 0 {
		t.Fatalf("import image: %v", r)
	}
	return d
}

func (d *ctrDaemon) ctr(ctx context.Context, args ...string) ctrRes {
	return ctrCommand(ctx, nil, nil, "ctr", append([]string{"--address", d.sock, "--namespace", d.ns}, args...)...)
}

// stop removes what is left in the namespace, stops containerd by its
// pid, kills shims that outlived it, and removes mounts, cgroups, the
// temporary directory and the host paths containerd made.
func (d *ctrDaemon) stop(t *testing.T) {
	if d.cmd != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if r := d.ctr(ctx, "task", "ls", "-q"); r.code == 0 {
			for _, id := range strings.Fields(r.out) {
				d.ctr(ctx, "task", "kill", "-s", "SIGKILL", id)
				d.ctr(ctx, "task", "rm", "-f", id)
			}
		}
		if r := d.ctr(ctx, "container", "ls", "-q"); r.code == 0 {
			for _, id := range strings.Fields(r.out) {
				d.ctr(ctx, "container", "rm", id)
			}
		}
		d.ctr(ctx, "image", "rm", "--sync", ctrImage)
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(30 * time.Second):
			t.Logf("clean-up: containerd %d ignored SIGTERM for 30 s: SIGKILL", d.cmd.Process.Pid)
			d.cmd.Process.Kill()
			<-d.exited
		}
	}
	// Shims name our socket on their command line.
	ctrKillLeftovers(t, d.dir)
	// Containers a runtime still knows (a shim killed above, or a task whose
	// delete failed): each runtime deletes its own.
	for _, rt := range d.rts {
		for _, root := range []string{filepath.Join(d.dir, "root-"+rt.name, d.ns), filepath.Join(ctrShimDefaultRoot, d.ns)} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			r := ctrCommand(ctx, nil, nil, rt.bin, "--root", root, "list", "-q")
			for _, id := range strings.Fields(r.out) {
				t.Logf("clean-up: %s still has container %s in %s: delete --force", rt.name, id, root)
				ctrCommand(ctx, nil, nil, rt.bin, "--root", root, "delete", "--force", id)
			}
			cancel()
		}
	}
	ctrUnmountUnder(d.dir)
	for _, c := range removeCgroups("/" + d.ns) {
		t.Errorf("clean-up: cannot remove cgroup %s", c)
	}
	if err := os.RemoveAll(d.dir); err != nil {
		t.Errorf("clean-up: %v", err)
	}
	d.host.remove(t)
}

// ctrCase is one scenario's run under one runtime.
type ctrCase struct {
	d      *ctrDaemon
	t      *testing.T
	ctx    context.Context
	rt     ctrRuntime
	prefix string
	root   string // the runtime's --root (the shim adds /<namespace>)
	ids    []string
	// pathLink is the "runc" in the shims' $PATH that useRuncFromPath made.
	pathLink string
}

// id names a container of this run (and remembers it for clean-up).
func (c *ctrCase) id(s string) string {
	id := c.prefix + "-" + s
	c.ids = append(c.ids, id)
	return id
}

func (c *ctrCase) ctr(args ...string) ctrRes { return c.d.ctr(c.ctx, args...) }

// runArgs is `ctr run` with this run's runtime, its options, the image, id and command.
func (c *ctrCase) runArgs(id string, opts []string, argv ...string) []string {
	a := []string{"run", "--runtime", "io.containerd.runc.v2", "--runc-binary", c.rt.bin,
		"--runc-root", c.root, "--fifo-dir", c.d.fifoDir}
	a = append(a, opts...)
	return append(append(a, ctrImage, id), argv...)
}

func (c *ctrCase) run(id string, opts []string, argv ...string) ctrRes {
	return c.ctr(c.runArgs(id, opts, argv...)...)
}

// ok fails the test unless r exited 0, and returns its output.
func (c *ctrCase) ok(r ctrRes) string {
	c.t.Helper()
	if r.code != 0 {
		c.t.Fatalf("%v", r)
	}
	return r.out
}

// exec runs a process in the task id.
func (c *ctrCase) exec(id string, opts []string, argv ...string) ctrRes {
	a := append([]string{"task", "exec", "--fifo-dir", c.d.fifoDir, "--exec-id", fmt.Sprintf("x%d", time.Now().UnixNano())}, opts...)
	return c.ctr(append(append(a, id), argv...)...)
}

// runDetached starts a task that sleeps and returns its host pid.
func (c *ctrCase) runDetached(id string, opts ...string) int {
	c.t.Helper()
	c.ok(c.run(id, append([]string{"-d", "--null-io"}, opts...), "testinit", "sleep", "600"))
	pid, _ := c.task(id)
	if pid <= 0 {
		c.t.Fatalf("task %s has no pid after run -d", id)
	}
	// The shim ran this runtime (not a runc from $PATH): its state is here.
	if _, err := os.Stat(c.stateDir(id)); err != nil {
		c.t.Fatalf("%s's state for %s: %v", c.rt.name, id, err)
	}
	return pid
}

// task reads the pid and status of task id from `ctr task ls`.
func (c *ctrCase) task(id string) (int, string) {
	c.t.Helper()
	out := c.ok(c.ctr("task", "ls"))
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == id {
			pid, _ := strconv.Atoi(f[1])
			return pid, f[2]
		}
	}
	return 0, "(absent)"
}

// waitStatus polls `ctr task ls` until the task has the status.
func (c *ctrCase) waitStatus(id, want string) {
	c.t.Helper()
	for {
		if _, st := c.task(id); st == want {
			return
		} else if c.ctx.Err() != nil {
			c.t.Fatalf("task %s: status %s, want %s", id, st, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stateDir is where the runtime keeps the container's state.
func (c *ctrCase) stateDir(id string) string { return filepath.Join(c.root, c.d.ns, id) }

// useRuncFromPath makes this run's runtime the "runc" the shims find in
// their $PATH, for tasks whose options lose --runc-binary: ctr 1.6's
// --uidmap adds containerd.WithUIDOwner to the new task, which replaces
// the task's runtime options by a fresh runc Options{IoUid}, so the shim
// runs plain `runc` with its default root. Proven by the check in
// runDetached: without this, the state lands in /run/containerd/runc
// and is runc's whatever --runc-binary said.
func (c *ctrCase) useRuncFromPath() {
	link := filepath.Join(c.d.pathDir, "runc")
	os.Remove(link)
	if err := os.Symlink(c.rt.bin, link); err != nil {
		c.t.Fatal(err)
	}
	c.pathLink = link // removed by cleanup, after the task is gone
	c.root = ctrShimDefaultRoot
}

// gone checks that nothing of container id is left: not in containerd,
// not in the runtime's state, not as a cgroup.
func (c *ctrCase) gone(id string) {
	c.t.Helper()
	if out := c.ok(c.ctr("container", "ls", "-q")); strings.Contains(" "+strings.Join(strings.Fields(out), " ")+" ", " "+id+" ") {
		c.t.Errorf("container %s still listed", id)
	}
	if _, err := os.Stat(c.stateDir(id)); err == nil {
		c.t.Errorf("%s: state directory %s left behind", c.rt.name, c.stateDir(id))
	}
	cgs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup/*", c.d.ns, id))
	for _, cg := range cgs {
		c.t.Errorf("%s: cgroup %s left behind", c.rt.name, cg)
	}
}

// cleanup removes this run's containers; when the run failed it first
// shows what the runtime logged (the shim's --log <bundle>/log.json).
func (c *ctrCase) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range c.ids {
		if c.t.Failed() {
			log := filepath.Join(c.d.dir, "run", "io.containerd.runtime.v2.task", c.d.ns, id, "log.json")
			if b, err := os.ReadFile(log); err == nil && len(b) > 0 {
				c.t.Logf("%s: %s:\n%s", c.rt.name, log, ctrClip(string(b)))
			}
		}
		if _, st := c.taskQuiet(ctx, id); st != "(absent)" {
			c.d.ctr(ctx, "task", "kill", "-s", "SIGKILL", id)
			c.d.ctr(ctx, "task", "rm", "-f", id)
		}
		c.d.ctr(ctx, "container", "rm", id)
	}
	if c.pathLink != "" {
		os.Remove(c.pathLink)
	}
	if c.t.Failed() {
		if l := ctrLines(tail(c.d.log, 200), `level=(warning|error)`); l != "" {
			c.t.Logf("containerd's recent warnings and errors:\n%s", ctrClip(l))
		}
	}
}

func (c *ctrCase) taskQuiet(ctx context.Context, id string) (int, string) {
	r := c.d.ctr(ctx, "task", "ls")
	for _, l := range strings.Split(r.out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == id {
			pid, _ := strconv.Atoi(f[1])
			return pid, f[2]
		}
	}
	return 0, "(absent)"
}
