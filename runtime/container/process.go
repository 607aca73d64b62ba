package container

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/capset"
	"hako.dev/seccomp"
)

// applyProcess applies what the config asks of the process itself, on the
// calling (locked) thread, for the container's init and for exec alike;
// filter is the config's seccomp profile as the parent compiled it (nil:
// none). It returns the program's path and the seccomp filter still to
// load right before execve (nil if loaded already). beforeLoad, if set, sees a
// filter about to be loaded here: from then on it filters every syscall
// to execve, the Go runtime's own included (a cgo call that needs a new
// thread, say), so whatever must look at it does so before. A profile with a listener
// (SCMP_ACT_NOTIFY) is loaded here, as late as it can be, and its
// descriptor goes to handoff at once: from the load on, a notified
// syscall waits until someone listens.
func applyProcess(spec *specs.Spec, proc *specs.Process, filter *seccomp.Filter, keyring string, handoff func(*os.File) error, beforeLoad func(*seccomp.Filter)) (path string, _ *seccomp.Filter, err error) {
	// Per-process settings, in this order (rlimits and the initial CPU
	// affinity were set by the parent already): keyring, personality,
	// scheduler, I/O priority (the last two may need CAP_SYS_NICE, which
	// the capabilities below may drop), memory policy, LSM labels; then
	// seccomp, credentials and capabilities, cwd, umask, no_new_privs.
	if keyring != "" {
		if err := capset.JoinSessionKeyring(keyring); err != nil {
			return "", nil, err
		}
	}
	if spec.Linux.Personality != nil {
		if err := capset.SetPersonality(spec.Linux.Personality); err != nil {
			return "", nil, err
		}
	}
	if proc.Scheduler != nil {
		if err := capset.SetScheduler(proc.Scheduler); err != nil {
			return "", nil, err
		}
	}
	if proc.IOPriority != nil {
		if err := capset.SetIOPriority(proc.IOPriority); err != nil {
			return "", nil, err
		}
	}
	if spec.Linux.MemoryPolicy != nil {
		if err := capset.SetMemoryPolicy(spec.Linux.MemoryPolicy); err != nil {
			return "", nil, err
		}
	}
	// LSM labels take effect at execve; set on the thread that will exec.
	if proc.ApparmorProfile != "" {
		if err := capset.SetAppArmorOnExec(proc.ApparmorProfile); err != nil {
			return "", nil, err
		}
	}
	if proc.SelinuxLabel != "" {
		if err := capset.SetSELinuxOnExec(proc.SelinuxLabel); err != nil {
			return "", nil, err
		}
	}
	proc.Env = withHome(proc.Env, proc.User.UID)
	path, err = lookPath(proc)
	if err != nil {
		return "", nil, err
	}
	// Seccomp as late as possible, so that hako's own steps are not
	// filtered: right before execve when no_new_privs is set; otherwise
	// loading needs CAP_SYS_ADMIN, so before the capabilities are dropped.
	// A profile with a listener is loaded before this function returns,
	// at the end when no_new_privs allows.
	if filter != nil {
		if !proc.NoNewPrivileges {
			if beforeLoad != nil {
				beforeLoad(filter)
			}
			if err := loadFilter(filter, handoff); err != nil {
				return "", nil, err
			}
			filter = nil
		}
	}
	sets, _, err := capset.FromSpec(proc.Capabilities)
	if err != nil {
		return "", nil, err
	}
	cred := &capset.Credential{UID: proc.User.UID, GID: proc.User.GID, Groups: proc.User.AdditionalGids}
	if err := capset.Apply(sets, cred); err != nil {
		return "", nil, err
	}
	if err := unix.Chdir(cwd(proc)); err != nil {
		return "", nil, &os.PathError{Op: "chdir", Path: cwd(proc), Err: err}
	}
	umask := 0o022
	if proc.User.Umask != nil {
		umask = int(*proc.User.Umask)
	}
	unix.Umask(umask)
	if proc.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return "", nil, os.NewSyscallError("prctl no_new_privs", err)
		}
	}
	if filter != nil && filter.Notify() {
		if beforeLoad != nil {
			beforeLoad(filter)
		}
		if err := loadFilter(filter, handoff); err != nil {
			return "", nil, err
		}
		filter = nil
	}
	return path, filter, nil
}

// storedFilter is the filter the parent compiled, from its stored form;
// nil for none.
func storedFilter(b []byte) (*seccomp.Filter, error) {
	if b == nil {
		return nil, nil
	}
	f, err := seccomp.UnmarshalFilter(b)
	if err != nil {
		return nil, fmt.Errorf("seccomp filter from hako: %w", err)
	}
	return f, nil
}

// loadFilter loads f and hands its listener, if any, over at once.
func loadFilter(f *seccomp.Filter, handoff func(*os.File) error) error {
	listener, err := f.Load()
	if err != nil || listener == nil {
		return err
	}
	defer listener.Close()
	return handoff(listener)
}

// withHome adds HOME when env has none, as runc does: the user's home in
// the container's /etc/passwd, or "/". (Docker and podman always set it;
// ctr and bare bundles rely on the runtime.) The file is the image's:
// opened without blocking (a fifo there must not hang the init), read
// only if regular.
func withHome(env []string, uid uint32) []string {
	return withHomeFrom(env, uid, func() (*os.File, error) {
		fd, err := unix.Open("/etc/passwd", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		f := os.NewFile(uintptr(fd), "/etc/passwd")
		if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
			f.Close()
			return nil, os.ErrInvalid
		}
		return f, nil
	})
}
