package capset

import (
	"fmt"
	"slices"
	"strings"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
)

// Credential is who the process becomes.
type Credential struct {
	UID, GID uint32
	// Groups are the supplementary groups; nil clears them.
	Groups []uint32
}

// Apply makes s the calling thread's capability sets and, when cred is not
// nil, switches the thread to cred in between, in the only order in which
// every step stays allowed:
//
//  1. drop from the bounding set what s.Bounding lacks (needs CAP_SETPCAP,
//     which is gone after step 3 unless kept);
//  2. set PR_SET_KEEPCAPS so the uid change keeps the permitted set
//     (capabilities(7): a switch from uid 0 to non-zero clears it);
//  3. setgroups, setresgid, setresuid (gid first: after the uid change
//     CAP_SETGID may be gone);
//  4. capset the effective, permitted and inheritable sets, then raise the
//     ambient ones (the kernel raises only caps that are both permitted and
//     inheritable; others are left out, as runc leaves them with a warning).
//
// A capability asked for in the permitted set that this process itself
// does not have cannot be granted; Apply names it instead of returning the
// kernel's bare EPERM.
func Apply(s Sets, cred *Credential) error {
	missing, err := Missing(s)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("apply capabilities: %s not in the runtime's own bounding set, so it cannot be granted",
			strings.Join(missing, ", "))
	}

	want, err := capability.NewPid2(0)
	if err != nil {
		return err
	}
	want.Clear(capability.CAPS | capability.BOUNDS | capability.AMBIENT)
	want.Set(capability.BOUNDING, s.Bounding...)
	want.Set(capability.EFFECTIVE, s.Effective...)
	want.Set(capability.PERMITTED, s.Permitted...)
	want.Set(capability.INHERITABLE, s.Inheritable...)
	if err := want.Apply(capability.BOUNDS); err != nil {
		return fmt.Errorf("drop bounding capabilities: %w", err)
	}

	if cred != nil {
		if err := setCred(cred); err != nil {
			return err
		}
	}

	if err := want.Apply(capability.CAPS); err != nil {
		return fmt.Errorf("apply capabilities: %w", err)
	}
	if err := capability.ResetAmbient(); err != nil && err != unix.EINVAL {
		return fmt.Errorf("reset ambient capabilities: %w", err)
	}
	for _, c := range s.Ambient {
		if !slices.Contains(s.Permitted, c) || !slices.Contains(s.Inheritable, c) {
			continue
		}
		if err := capability.SetAmbient(true, c); err != nil {
			return fmt.Errorf("raise ambient capability %s: %w", Name(c), err)
		}
	}
	return nil
}

// Missing names the capabilities s asks to be permitted that the calling
// thread lacks in its permitted or bounding set: Apply could not grant them.
func Missing(s Sets) ([]string, error) {
	cur, err := capability.NewPid2(0)
	if err != nil {
		return nil, err
	}
	if err := cur.Load(); err != nil {
		return nil, fmt.Errorf("read capabilities: %w", err)
	}
	var missing []string
	for _, c := range s.Permitted {
		if !cur.Get(capability.PERMITTED, c) || !cur.Get(capability.BOUNDING, c) {
			missing = append(missing, Name(c))
		}
	}
	return missing, nil
}

// setCred switches the calling thread's credentials, keeping its permitted
// capabilities across the uid change.
func setCred(c *Credential) error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set keepcaps: %w", err)
	}
	// RawSyscall: the x/sys wrappers of these apply to every thread of a Go
	// program via the runtime; the thread that will execve is all we need.
	if err := rawSetgroups(c.Groups); err != nil {
		return fmt.Errorf("setgroups %v: %w", c.Groups, err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(c.GID), uintptr(c.GID), uintptr(c.GID)); e != 0 {
		return fmt.Errorf("setresgid %d: %w", c.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(c.UID), uintptr(c.UID), uintptr(c.UID)); e != 0 {
		return fmt.Errorf("setresuid %d: %w", c.UID, e)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clear keepcaps: %w", err)
	}
	return nil
}
