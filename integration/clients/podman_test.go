package clients

// podman: private storage (--root, --runroot), a private containers.conf
// (CONTAINERS_CONF: the cgroupfs manager, file events, file locks, lower
// default ulimits, its own tmp, volume and network directories), the
// busybox + testinit image loaded from a tarball, and every scenario run
// with `podman --runtime /usr/sbin/runc`, then `--runtime .../bin/hako`.
// Containers get --network none (or share a pod's) and a cgroup parent
// of their own, /hako-pod-<pid>.
//
// podman calls start, kill, pause, resume and delete without --root: hako
// keeps its state in the default /run/hako, runc in /run/runc.
//
// Run alone: go test -count=1 -v -run Pod ./clients/

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// podEnv is the private podman set-up.
type podEnv struct {
	dir      string
	env      []string // CONTAINERS_CONF
	global   []string // --root, --runroot, --storage-driver
	cgParent string   // /hako-pod-<pid>
	host     ctrHostPaths
}

// podHostPaths are what podman 4.3 creates outside its configured
// directories whatever it is told: the blob-info cache of image copies
// (`podman load`), /var/lib/containers/cache when root.
var podHostPaths = []string{
	"/var/lib/containers/cache/blob-info-cache-v1.boltdb",
	"/var/lib/containers/cache",
	"/var/lib/containers",
}

// podStateRoots are the runtimes' default state directories, which podman
// relies on (no --root on start, kill, delete).
var podStateRoots = map[string]string{"runc": "/run/runc", "hako": "/run/hako"}

func TestPod(t *testing.T) {
	ctrNeedRoot(t, "podman", "catatonit")
	rts, probe := ctrRuntimes(t)
	p := podStart(t, probe, rts[0])
	ctrRunTable(t, rts, podScenarios, func(t *testing.T, ctx context.Context, rt ctrRuntime, prefix string) *podCase {
		c := &podCase{p: p, t: t, ctx: ctx, rt: rt, prefix: prefix}
		t.Cleanup(c.cleanup)
		return c
	})
}

// podStart writes the configuration and loads the image; t.Cleanup
// removes every container, pod, volume and image, then the directory.
func podStart(t *testing.T, probe string, ref ctrRuntime) *podEnv {
	dir, err := os.MkdirTemp("", "hako-pod-")
	if err != nil {
		t.Fatal(err)
	}
	// Traversable: containers in a user namespace reach their rootfs below.
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	p := &podEnv{dir: dir, cgParent: fmt.Sprintf("/hako-pod-%d", os.Getpid())}
	var missingFiles, missingDirs []string
	for _, m := range ctrMissing(podHostPaths...) {
		if strings.HasSuffix(m, ".boltdb") {
			missingFiles = append(missingFiles, m)
		} else {
			missingDirs = append(missingDirs, m)
		}
	}
	p.host = ctrHostPaths{dirs: missingDirs, files: missingFiles}
	t.Cleanup(func() { p.stop(t, ref) })

	conf := filepath.Join(dir, "containers.conf")
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`# hako's podman tests: nothing outside %[1]s but the host's
# cgroups under %[2]s and the runtimes' state.
[containers]
# podman asks for 1048576 open files and processes as root: more than
# the hard limits here allow.
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
init_path = "/usr/bin/catatonit"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "%[1]s/events.log"
tmp_dir = "%[1]s/tmp"
volume_path = "%[1]s/volumes"
lock_type = "file"
# conmon runs the runtime with this environment only: hako's seccomp
# cache is the tests' own (see TestMain).
conmon_env_vars = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HAKO_SECCOMP_CACHE=%[4]s"]

[engine.runtimes]
hako = [%[3]q]

[network]
network_config_dir = "%[1]s/networks"
`, dir, p.cgParent, filepath.Join(filepath.Dir(probe), "hako"), os.Getenv("HAKO_SECCOMP_CACHE"))), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.env = []string{"CONTAINERS_CONF=" + conf}
	p.global = []string{"--root", filepath.Join(dir, "storage"), "--runroot", filepath.Join(dir, "runroot"),
		"--storage-driver", "overlay"}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tarball, err := ctrBuildImage(dir, probe)
	if err != nil {
		t.Fatalf("build image: %v", err)
	}
	if r := p.podman(ctx, ref, "load", "-i", tarball); r.code != 0 {
		t.Fatalf("podman load: %v", r)
	}
	os.Remove(tarball)
	return p
}

func (p *podEnv) podman(ctx context.Context, rt ctrRuntime, args ...string) ctrRes {
	a := append(append(append([]string{}, p.global...), "--runtime", rt.bin), args...)
	return ctrCommand(ctx, p.env, nil, "podman", a...)
}

// stop removes what the scenarios left, then everything podman made.
func (p *podEnv) stop(t *testing.T, ref ctrRuntime) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if _, err := os.Stat(filepath.Join(p.dir, "storage")); err == nil {
		for _, args := range [][]string{
			{"pod", "rm", "--all", "--force", "--time", "0"},
			{"rm", "--all", "--force", "--time", "0"},
			{"volume", "rm", "--all", "--force"},
			{"rmi", "--all", "--force"},
		} {
			if r := p.podman(ctx, ref, args...); r.code != 0 {
				t.Logf("clean-up: %v", r)
			}
		}
	}
	// conmon (and anything it left) names our runroot on its command line.
	ctrKillLeftovers(t, p.dir)
	ctrUnmountUnder(p.dir)
	for _, c := range removeCgroups(p.cgParent) {
		t.Errorf("clean-up: cannot remove cgroup %s", c)
	}
	if err := os.RemoveAll(p.dir); err != nil {
		t.Errorf("clean-up: %v", err)
	}
	p.host.remove(t)
}

// podCase is one scenario's run under one runtime.
type podCase struct {
	p      *podEnv
	t      *testing.T
	ctx    context.Context
	rt     ctrRuntime
	prefix string
	names  []string // containers
	pods   []string
	vols   []string
}

func (c *podCase) podman(args ...string) ctrRes { return c.p.podman(c.ctx, c.rt, args...) }

// name names a container of this run (and remembers it for clean-up).
func (c *podCase) name(s string) string {
	n := c.prefix + "-" + s
	c.names = append(c.names, n)
	return n
}

// run is `podman run` with no network and our cgroup parent.
func (c *podCase) run(opts []string, argv ...string) ctrRes {
	a := append([]string{"run", "--network", "none", "--cgroup-parent", c.p.cgParent}, opts...)
	return c.podman(append(append(a, ctrImage), argv...)...)
}

// runD starts a detached container that sleeps (or runs argv) and
// returns its host pid.
func (c *podCase) runD(name string, opts []string, argv ...string) int {
	c.t.Helper()
	if len(argv) == 0 {
		argv = []string{"testinit", "sleep", "600"}
	}
	c.ok(c.run(append([]string{"-d", "--name", name}, opts...), argv...))
	pid, err := strconv.Atoi(c.inspect(name, "{{.State.Pid}}"))
	if err != nil || pid <= 0 {
		c.t.Fatalf("%s: no pid: %v", name, err)
	}
	return pid
}

func (c *podCase) ok(r ctrRes) string {
	c.t.Helper()
	if r.code != 0 {
		c.t.Fatalf("%v", r)
	}
	return r.out
}

func (c *podCase) inspect(name, format string) string {
	c.t.Helper()
	return strings.TrimSpace(c.ok(c.podman("inspect", "--format", format, name)))
}

// waitState polls until the container's .State.Status is want.
func (c *podCase) waitState(name, want string) {
	c.t.Helper()
	for {
		st := c.inspect(name, "{{.State.Status}}")
		if st == want {
			return
		}
		if c.ctx.Err() != nil {
			c.t.Fatalf("%s: status %s, want %s", name, st, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gone checks that the container is unknown to podman and that the
// runtime kept no state for it.
func (c *podCase) gone(name, id string) {
	c.t.Helper()
	if r := c.podman("container", "exists", name); r.code == 0 {
		c.t.Errorf("container %s still exists", name)
	}
	if id != "" {
		if _, err := os.Stat(filepath.Join(podStateRoots[c.rt.name], id)); err == nil {
			c.t.Errorf("%s: state of %s (%s) left behind in %s", c.rt.name, name, id, podStateRoots[c.rt.name])
		}
	}
}

// cleanup removes this run's containers, pods and volumes, and checks
// that the runtime dropped their state.
func (c *podCase) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var ids []string
	for _, n := range append(append([]string{}, c.names...), c.pods...) {
		if r := c.p.podman(ctx, c.rt, "container", "inspect", "--format", "{{.Id}}", n); r.code == 0 {
			ids = append(ids, strings.TrimSpace(r.out))
		}
	}
	if len(c.pods) > 0 {
		for _, pod := range c.pods {
			if r := c.p.podman(ctx, c.rt, "pod", "inspect", "--format", "{{.InfraContainerID}}", pod); r.code == 0 {
				ids = append(ids, strings.TrimSpace(r.out))
			}
		}
		c.p.podman(ctx, c.rt, append([]string{"pod", "rm", "--force", "--time", "0"}, c.pods...)...)
	}
	if len(c.names) > 0 {
		c.p.podman(ctx, c.rt, append([]string{"rm", "--force", "--ignore", "--time", "0"}, c.names...)...)
	}
	if len(c.vols) > 0 {
		c.p.podman(ctx, c.rt, append([]string{"volume", "rm", "--force"}, c.vols...)...)
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(podStateRoots[c.rt.name], id)); err == nil {
			c.t.Errorf("%s: state of container %s left behind in %s after podman rm", c.rt.name, id, podStateRoots[c.rt.name])
		}
	}
}
