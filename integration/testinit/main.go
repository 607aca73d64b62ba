// Command testinit is the probe that runs inside test containers. It is
// static (CGO_ENABLED=0) so it needs nothing from the image, and each
// sub-command prints one thing the container sees, as key=value lines or
// the raw kernel file, for tests to compare with what the config asked for.
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

var probes = map[string]func(args []string) error{
	"ids":      ids,
	"caps":     statusLines("Cap"),
	"seccomp":  statusLines("Seccomp", "NoNewPrivs"),
	"cgroup":   catFile("/proc/self/cgroup"),
	"mounts":   catFile("/proc/self/mountinfo"),
	"ns":       namespaces,
	"fds":      fds,
	"isatty":   isatty,
	"rlimits":  rlimits,
	"hostname": hostname,
	"env":      env,
	"cwd":      cwd,
	"pid":      func([]string) error { fmt.Printf("pid=%d ppid=%d\n", os.Getpid(), os.Getppid()); return nil },
	"cat":      func(a []string) error { return catFile(a[0])(nil) },
	"sleep":    sleep,
	"signals":  signals,
	"sched":    sched,
	"keyring":  keyring,
	"mempolicy": func([]string) error {
		var mode int
		var mask [16]uint64
		if _, _, e := unix.Syscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&mode)),
			uintptr(unsafe.Pointer(&mask[0])), 1024, 0, 0, 0); e != 0 {
			return e
		}
		fmt.Printf("mempolicy_mode=%d nodes=%#x\n", mode&0xff, mask[0])
		return nil
	},
	"exit": exit,
	// notify MSG sends MSG to $NOTIFY_SOCKET, as sd_notify(3) does.
	"notify": func(a []string) error {
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: os.Getenv("NOTIFY_SOCKET"), Net: "unixgram"})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte(strings.Join(a, "\n")))
		return err
	},
	"kill-self": func(a []string) error {
		n, err := strconv.Atoi(a[0])
		if err != nil {
			return err
		}
		return unix.Kill(os.Getpid(), unix.Signal(n))
	},
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testinit PROBE [ARGS] [-- PROBE ...]")
		os.Exit(2)
	}
	// Several probes may run in one go, separated by "--".
	args := os.Args[1:]
	for len(args) > 0 {
		n := len(args)
		for i, a := range args {
			if a == "--" {
				n = i
				break
			}
		}
		name, rest := args[0], args[1:n]
		p, ok := probes[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "testinit: unknown probe %q\n", name)
			os.Exit(2)
		}
		if err := p(rest); err != nil {
			fmt.Fprintf(os.Stderr, "testinit %s: %v\n", name, err)
			os.Exit(1)
		}
		if n == len(args) {
			break
		}
		args = args[n+1:]
	}
}

func ids([]string) error {
	groups, err := unix.Getgroups()
	if err != nil {
		return err
	}
	fmt.Printf("uid=%d gid=%d groups=%v\n", unix.Getuid(), unix.Getgid(), groups)
	return nil
}

func statusLines(prefixes ...string) func([]string) error {
	return func([]string) error {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(b), "\n") {
			for _, p := range prefixes {
				if strings.HasPrefix(l, p) {
					fmt.Println(l)
				}
			}
		}
		return nil
	}
}

func catFile(p string) func([]string) error {
	return func([]string) error {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		os.Stdout.Write(b)
		return nil
	}
}

func namespaces([]string) error {
	ents, err := os.ReadDir("/proc/self/ns")
	if err != nil {
		return err
	}
	for _, e := range ents {
		l, err := os.Readlink("/proc/self/ns/" + e.Name())
		if err != nil {
			return err
		}
		fmt.Printf("%s=%s\n", e.Name(), l)
	}
	return nil
}

// fds lists the descriptors this process inherited. Anything that crossed
// execve(2) lacks FD_CLOEXEC (or it would have been closed), while what the
// Go runtime opens at start-up (epoll, cgroup files) has it: so the flag
// tells the two apart.
func fds([]string) error {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd == int(d.Fd()) {
			continue
		}
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC != 0 {
			continue
		}
		l, _ := os.Readlink("/proc/self/fd/" + n)
		fmt.Printf("%s=%s\n", n, l)
	}
	return nil
}

func isatty([]string) error {
	for fd := 0; fd <= 2; fd++ {
		_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		fmt.Printf("%d=%t\n", fd, err == nil)
	}
	return nil
}

var rlimitNames = map[string]int{
	"AS": unix.RLIMIT_AS, "CORE": unix.RLIMIT_CORE, "CPU": unix.RLIMIT_CPU, "DATA": unix.RLIMIT_DATA,
	"FSIZE": unix.RLIMIT_FSIZE, "LOCKS": unix.RLIMIT_LOCKS, "MEMLOCK": unix.RLIMIT_MEMLOCK,
	"MSGQUEUE": unix.RLIMIT_MSGQUEUE, "NICE": unix.RLIMIT_NICE, "NOFILE": unix.RLIMIT_NOFILE,
	"NPROC": unix.RLIMIT_NPROC, "RSS": unix.RLIMIT_RSS, "RTPRIO": unix.RLIMIT_RTPRIO,
	"RTTIME": unix.RLIMIT_RTTIME, "SIGPENDING": unix.RLIMIT_SIGPENDING, "STACK": unix.RLIMIT_STACK,
}

func rlimits([]string) error {
	var names []string
	for n := range rlimitNames {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var r unix.Rlimit
		if err := unix.Getrlimit(rlimitNames[n], &r); err != nil {
			return err
		}
		fmt.Printf("RLIMIT_%s=%d:%d\n", n, r.Cur, r.Max)
	}
	return nil
}

func hostname([]string) error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return err
	}
	fmt.Printf("hostname=%s\n", unix.ByteSliceToString(u.Nodename[:]))
	return nil
}

func env([]string) error {
	for _, e := range os.Environ() {
		fmt.Println(e)
	}
	return nil
}

func cwd([]string) error {
	d, err := os.Getwd()
	if err != nil {
		return err
	}
	fmt.Printf("cwd=%s\n", d)
	return nil
}

func sleep(a []string) error {
	d := time.Hour
	if len(a) > 0 {
		s, err := strconv.ParseFloat(a[0], 64)
		if err != nil {
			return err
		}
		d = time.Duration(s * float64(time.Second))
	}
	fmt.Println("sleeping")
	time.Sleep(d)
	return nil
}

// signals prints "ready", then "got N" for each signal it receives (all
// but those the Go runtime keeps), and exits 3 after SIGTERM: what a
// runtime forwards to its program shows.
func signals([]string) error {
	c := make(chan os.Signal, 64)
	var list []os.Signal
	for s := unix.Signal(1); s <= 64; s++ {
		switch s {
		case unix.SIGKILL, unix.SIGSTOP, unix.SIGURG, unix.SIGCHLD, unix.SIGPROF, 32, 33:
			continue
		}
		list = append(list, s)
	}
	signal.Notify(c, list...)
	fmt.Println("ready")
	for s := range c {
		fmt.Printf("got %d\n", int(s.(unix.Signal)))
		if s == unix.SIGTERM {
			os.Exit(3)
		}
	}
	return nil
}

func exit(a []string) error {
	n, err := strconv.Atoi(a[0])
	if err != nil {
		return err
	}
	os.Exit(n)
	return nil
}

// sched prints what the process-attribute settings set: scheduler policy,
// nice and priority, I/O priority, personality and CPU affinity.
func sched([]string) error {
	a, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		return err
	}
	fmt.Printf("policy=%d nice=%d priority=%d\n", a.Policy, a.Nice, a.Priority)
	const whoProcess = 1
	prio, _, e := unix.RawSyscall(unix.SYS_IOPRIO_GET, whoProcess, 0, 0)
	if e != 0 {
		return e
	}
	fmt.Printf("ioprio_class=%d ioprio_level=%d\n", prio>>13, prio&7)
	pers, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	if e != 0 {
		return e
	}
	fmt.Printf("personality=%#x\n", pers)
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return err
	}
	var cpus []string
	for c := 0; c < 1024; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, strconv.Itoa(c))
		}
	}
	fmt.Printf("cpus=%s\n", strings.Join(cpus, ","))
	return nil
}

// keyring prints the description of the session keyring.
func keyring([]string) error {
	id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	if err != nil {
		return err
	}
	d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		return err
	}
	fmt.Printf("session_keyring=%s\n", d[strings.LastIndexByte(d, ';')+1:])
	return nil
}
