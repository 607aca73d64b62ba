package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// (Byte order: libseccomp exports sock_filter in the machine's own, and
// the kernel lays seccomp_data out in it too.)
//
// A small interpreter of classic BPF as seccomp runs it, so that a
// filter's answer to one syscall can be read without loading it:
// `seccomp check`. It knows the instructions libseccomp emits.
type sockFilter struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

// seccompData is what the filter reads: struct seccomp_data.
type seccompData struct {
	nr   int32
	arch uint32
	ip   uint64
	args [6]uint64
}

func (d *seccompData) word(off uint32) (uint32, error) {
	var b [64]byte
	binary.NativeEndian.PutUint32(b[0:], uint32(d.nr))
	binary.NativeEndian.PutUint32(b[4:], d.arch)
	binary.NativeEndian.PutUint64(b[8:], d.ip)
	for i, a := range d.args {
		binary.NativeEndian.PutUint64(b[16+8*i:], a)
	}
	if off%4 != 0 || off+4 > uint32(len(b)) {
		return 0, fmt.Errorf("bpf: load at offset %d", off)
	}
	return binary.NativeEndian.Uint32(b[off:]), nil
}

func parseProgram(raw []byte) ([]sockFilter, error) {
	if len(raw)%8 != 0 {
		return nil, errors.New("bpf: program length not a multiple of 8")
	}
	prog := make([]sockFilter, len(raw)/8)
	for i := range prog {
		b := raw[8*i:]
		prog[i] = sockFilter{binary.NativeEndian.Uint16(b), b[2], b[3], binary.NativeEndian.Uint32(b[4:])}
	}
	return prog, nil
}

// run executes prog on d and returns the filter's return value.
func run(prog []sockFilter, d *seccompData) (uint32, error) {
	var a, x uint32
	var mem [16]uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		src := in.k
		if in.code&0x08 != 0 && in.code&0x07 >= 4 { // BPF_X on ALU/JMP
			src = x
		}
		switch in.code {
		case 0x20: // ld w abs
			v, err := d.word(in.k)
			if err != nil {
				return 0, err
			}
			a = v
		case 0x00: // ld imm
			a = in.k
		case 0x01: // ldx imm
			x = in.k
		case 0x60: // ld mem
			a = mem[in.k%16]
		case 0x61: // ldx mem
			x = mem[in.k%16]
		case 0x02: // st
			mem[in.k%16] = a
		case 0x03: // stx
			mem[in.k%16] = x
		case 0x07: // tax
			x = a
		case 0x87: // txa
			a = x
		case 0x04, 0x0c: // add
			a += src
		case 0x14, 0x1c: // sub
			a -= src
		case 0x44, 0x4c: // or
			a |= src
		case 0x54, 0x5c: // and
			a &= src
		case 0x64, 0x6c: // lsh
			a <<= src
		case 0x74, 0x7c: // rsh
			a >>= src
		case 0x05: // ja
			pc += int(in.k)
		case 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d: // jeq jgt jge jset
			var cond bool
			switch in.code &^ 0x08 {
			case 0x15:
				cond = a == src
			case 0x25:
				cond = a > src
			case 0x35:
				cond = a >= src
			case 0x45:
				cond = a&src != 0
			}
			if cond {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case 0x06: // ret k
			return in.k, nil
		case 0x16: // ret a
			return a, nil
		default:
			return 0, fmt.Errorf("bpf: instruction %#04x at %d not known to this interpreter", in.code, pc)
		}
	}
	return 0, errors.New("bpf: program ran off its end")
}

// describe names a seccomp return value as the OCI action it stands for.
func describe(ret uint32) string {
	data := ret & 0xffff
	switch ret & 0xffff0000 {
	case 0x80000000:
		return "SCMP_ACT_KILL_PROCESS"
	case 0x00000000:
		return "SCMP_ACT_KILL_THREAD"
	case 0x00030000:
		return "SCMP_ACT_TRAP"
	case 0x00050000:
		return fmt.Sprintf("SCMP_ACT_ERRNO(%d)", data)
	case 0x7fc00000:
		return "SCMP_ACT_NOTIFY"
	case 0x7ff00000:
		return fmt.Sprintf("SCMP_ACT_TRACE(%d)", data)
	case 0x7ffc0000:
		return "SCMP_ACT_LOG"
	case 0x7fff0000:
		return "SCMP_ACT_ALLOW"
	}
	return fmt.Sprintf("unknown action %#x", ret)
}
