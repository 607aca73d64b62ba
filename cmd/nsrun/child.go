package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"hako.dev/nsenter"
)

// The re-executed nsrun, inside the namespaces, is told what to do by
// these variables; none of them reaches CMD.
const (
	childEnv     = "_NSRUN_CHILD"
	mountProcEnv = "_NSRUN_MOUNT_PROC"
	forkEnv      = "_NSRUN_FORK"
)

func child() int {
	mountProc, fork := os.Getenv(mountProcEnv) != "", os.Getenv(forkEnv) != ""
	var env []string
	for _, e := range os.Environ() {
		switch k, _, _ := strings.Cut(e, "="); k {
		case childEnv, mountProcEnv, forkEnv, nsenter.EnvFD:
		default:
			env = append(env, e)
		}
	}
	if mountProc {
		// Private first, or the new /proc would propagate to the host.
		if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			return fail("make / private: %v", err)
		}
		if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fail("mount proc on /proc: %v", err)
		}
	}
	args := os.Args[1:]
	path, err := exec.LookPath(args[0])
	if err != nil {
		return fail("%v", err)
	}
	if fork {
		return reap(path, args, env)
	}
	err = syscall.Exec(path, args, env)
	return fail("exec %s: %v", path, err)
}

// reap runs CMD as our child and stays as its init: forwards signals,
// reaps every orphan the namespace hands us, and exits with CMD's status.
func reap(path string, args, env []string) int {
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	p, err := os.StartProcess(path, args, &os.ProcAttr{Env: env, Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
	if err != nil {
		return fail("start %s: %v", path, err)
	}
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == nil && wpid == p.Pid {
			if ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ws.ExitStatus()
		}
		if err == nil && wpid > 0 {
			continue
		}
		s := <-sigs
		if s != unix.SIGCHLD && s != unix.SIGURG {
			p.Signal(s)
		}
	}
}

func fail(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "nsrun: "+format+"\n", a...)
	return 127
}
