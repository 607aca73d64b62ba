package capset

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawSetgroups is setgroups(2) on the calling thread only.
func rawSetgroups(gids []uint32) error {
	var p unsafe.Pointer
	if len(gids) > 0 {
		p = unsafe.Pointer(&gids[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), uintptr(p), 0); e != 0 {
		return e
	}
	return nil
}
