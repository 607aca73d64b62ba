//go:build cgo

package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A Filter's stored form keeps what Load, Program, Notify and Check use,
// without libseccomp's state: a profile compiled once (hako's CLI does it
// to check the config) goes to the container's init, or into a Cache, as
// bytes, and is never compiled again.
//
//	"hsf1"   magic and format version
//	u32      SECCOMP_FILTER_FLAG_* to load with
//	u8       bit 0: set no_new_privs first; bit 1: the profile notifies
//	u32      n, the number of instructions (at most BPF_MAXINSNS)
//	n × 8    struct sock_filter, in the machine's byte order
//
// Byte order and instruction set are the machine's: a stored filter is
// for this machine only.
const (
	storedMagic  = "hsf1"
	storedHeader = 4 + 4 + 1 + 4
	maxInsns     = 4096 // BPF_MAXINSNS: the kernel loads no longer program
)

// MarshalBinary is the filter's stored form (see UnmarshalFilter).
func (f *Filter) MarshalBinary() ([]byte, error) {
	prog, _, err := f.Program()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, storedHeader+len(prog))
	b = append(b, storedMagic...)
	b = binary.NativeEndian.AppendUint32(b, uint32(f.flags))
	var bits byte
	if f.nnp {
		bits |= 1
	}
	if f.notify {
		bits |= 2
	}
	b = append(b, bits)
	b = binary.NativeEndian.AppendUint32(b, uint32(len(prog)/8))
	return append(b, prog...), nil
}

// UnmarshalFilter is the Filter whose stored form b is: it loads, checks
// and exports the same program as the one stored, with no libseccomp
// compilation (PFC, which needs libseccomp's state, refuses it).
func UnmarshalFilter(b []byte) (*Filter, error) {
	if len(b) < storedHeader || string(b[:4]) != storedMagic {
		return nil, errors.New("stored seccomp filter: bad header")
	}
	f := &Filter{
		flags:  uintptr(binary.NativeEndian.Uint32(b[4:])),
		nnp:    b[8]&1 != 0,
		notify: b[8]&2 != 0,
	}
	n := binary.NativeEndian.Uint32(b[9:])
	if n == 0 || n > maxInsns || uint64(len(b)) != storedHeader+8*uint64(n) {
		return nil, fmt.Errorf("stored seccomp filter: %d instructions in %d bytes", n, len(b))
	}
	prog, err := parseProgram(b[storedHeader:])
	if err != nil {
		return nil, fmt.Errorf("stored seccomp filter: %w", err)
	}
	f.prog = prog
	return f, nil
}
