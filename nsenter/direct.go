package nsenter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileOrNil: stdio the direct path can hand over as they are (anything
// else needs os/exec's copying goroutines, which its Release would leak).
func fileOrNil(v any) bool {
	switch f := v.(type) {
	case nil:
		return true
	case *os.File:
		return f != nil
	}
	return false
}

// direct tells whether r can skip the pre-init stage: it only creates
// namespaces that clone(2) itself can create, with id maps os/exec writes,
// and names the program. Then one clone with the namespace flags and one
// execve of the program do it all (as unshare --fork does): no re-exec of
// the caller's binary, no exchange on a socket. Joining (setns of a user
// or mount namespace needs a single-threaded process), time offsets (they
// are written before the first process enters), /proc mounts, newuidmap
// and oom_score_adj still take the C stage.
func direct(r *Request) bool {
	if len(r.Exec) == 0 || len(r.Join) > 0 || len(r.TimeOffsets) > 0 || r.UseHelpers || r.MountProc || r.OOMScoreAdj != nil {
		return false
	}
	if r.creates(Time) {
		return false // CLONE_NEWTIME has no place in clone(2)'s flags word
	}
	// The stage becomes root of a new user namespace where the maps allow
	// it and stays who it is otherwise; os/exec can only do the former.
	if r.creates(User) && !(mapsRoot(r.UIDMap) && mapsRoot(r.GIDMap)) {
		return false
	}
	// --fork without a pid namespace keeps its extra process.
	return !r.Fork || r.creates(PID)
}

// startDirect runs r.Exec in r's new namespaces with cmd's stdio,
// descriptors, environment and directory, and returns its pid: pid 1 of
// the new pid namespace when there is one.
func startDirect(cmd *exec.Cmd, r *Request) (int, error) {
	if err := r.Validate(); err != nil {
		return 0, err
	}
	path, err := lookPathIn(r.Exec[0], cmd.Env)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			err = unix.ENOENT
		}
		return 0, fmt.Errorf("exec %s: %w", r.Exec[0], unwrapPath(err))
	}
	attr := &syscall.SysProcAttr{}
	if cmd.SysProcAttr != nil {
		*attr = *cmd.SysProcAttr
	}
	for _, k := range r.New {
		attr.Cloneflags |= uintptr(k.Flag())
	}
	attr.UidMappings, attr.GidMappings = procIDMaps(r.UIDMap), procIDMaps(r.GIDMap)
	attr.GidMappingsEnableSetgroups = !r.DenySetgroups
	if r.creates(User) {
		// Root of the new namespace, as the stage makes itself: an
		// unmapped uid would lose every capability at execve.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: r.DenySetgroups}
	}
	c := &exec.Cmd{
		Path: path, Args: r.Exec, Env: cmd.Env, Dir: cmd.Dir,
		Stdin: cmd.Stdin, Stdout: cmd.Stdout, Stderr: cmd.Stderr, ExtraFiles: cmd.ExtraFiles,
		SysProcAttr: attr,
	}
	if err := c.Start(); err != nil {
		return 0, fmt.Errorf("exec %s: %w", r.Exec[0], unwrapPath(err))
	}
	pid := c.Process.Pid
	// The caller waits by pid, as for the C stage's processes.
	c.Process.Release()
	return pid, nil
}

// mapsRoot tells whether id 0 inside is mapped.
func mapsRoot(ms []IDMap) bool {
	for _, m := range ms {
		if m.Inside == 0 && m.Size > 0 {
			return true
		}
	}
	return false
}

// lookPathIn is exec.LookPath with the PATH of env (the program's, as the
// C stage's execvp would use), ours when env is nil.
func lookPathIn(name string, env []string) (string, error) {
	if env == nil || strings.Contains(name, "/") {
		return exec.LookPath(name)
	}
	path := ""
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

func procIDMaps(ms []IDMap) []syscall.SysProcIDMap {
	if len(ms) == 0 {
		return nil
	}
	out := make([]syscall.SysProcIDMap, len(ms))
	for i, m := range ms {
		out[i] = syscall.SysProcIDMap{ContainerID: int(m.Inside), HostID: int(m.Outside), Size: int(m.Size)}
	}
	return out
}
