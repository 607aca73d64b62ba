package rootfs

import (
	"fmt"
	"strings"
)

// MountError is a failed mount(2): what was mounted where, with which
// flags, and the kernel's answer. Target is the path as the host sees it,
// never the /proc/self/fd/N handle the mount went through.
type MountError struct {
	Op     string // "mount", "bind", "remount", "propagate", "move"
	Source string
	Target string
	Type   string
	Flags  uintptr
	Data   string
	Err    error
}

func (e *MountError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Source != "" {
		fmt.Fprintf(&b, " %s on", e.Source)
	}
	fmt.Fprintf(&b, " %s", e.Target)
	var details []string
	if e.Type != "" {
		details = append(details, "type "+e.Type)
	}
	if e.Flags != 0 {
		details = append(details, "flags "+FlagString(e.Flags))
	}
	if e.Data != "" {
		details = append(details, "data "+e.Data)
	}
	if len(details) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(details, ", "))
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *MountError) Unwrap() error { return e.Err }
