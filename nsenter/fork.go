package nsenter

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// forkExec starts cmd as cmd.Start would, stdio being files or nil, but
// through syscall.ForkExec: os.StartProcess first checks, once per
// process, that pidfds work, by cloning a child and reaping it (0.1-0.4
// ms of every container start here; docs/performance.md in hako). The
// process is this one's child, waited for by pid (reap). Unlike
// cmd.Start, it passes cmd.Env as it is (nil: no environment; a name
// given twice stays twice) and reports a bad cmd.Dir as the execve's
// error.
func forkExec(cmd *exec.Cmd) (int, error) {
	if cmd.Err != nil {
		return 0, cmd.Err // exec.Command's lookup failed
	}
	var devNull *os.File
	defer func() {
		if devNull != nil {
			devNull.Close()
		}
	}()
	files := make([]uintptr, 0, 3+len(cmd.ExtraFiles))
	for _, s := range []any{cmd.Stdin, cmd.Stdout, cmd.Stderr} {
		f, _ := s.(*os.File)
		if f == nil {
			if devNull == nil {
				var err error
				if devNull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
					return 0, err
				}
			}
			f = devNull
		}
		files = append(files, f.Fd())
	}
	for _, f := range cmd.ExtraFiles {
		if f == nil {
			files = append(files, ^uintptr(0)) // closed in the child, as os/exec does
		} else {
			files = append(files, f.Fd())
		}
	}
	args := cmd.Args
	if len(args) == 0 {
		args = []string{cmd.Path}
	}
	pid, err := syscall.ForkExec(cmd.Path, args, &syscall.ProcAttr{Dir: cmd.Dir, Env: cmd.Env, Files: files, Sys: cmd.SysProcAttr})
	// The files were passed by number: no finalizer may close them
	// before the child has its copies.
	runtime.KeepAlive(cmd)
	if err != nil {
		return 0, &os.PathError{Op: "fork/exec", Path: cmd.Path, Err: err}
	}
	return pid, nil
}

// reap waits for our child pid to end and reaps it.
func reap(pid int) unix.WaitStatus {
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
			return ws
		}
	}
}

// statusText says how a process ended, in os.ProcessState's words.
func statusText(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "signal: " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ws.ExitStatus())
}
