package nsenter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// The request travels from the Go parent to the C pre-init stage as bytes
// in this format, little-endian, defined here and parsed by preinit.c:
//
//	offset size
//	0      4    magic "HKNS"
//	4      2    version (1)
//	6      2    number of attributes
//	8      ...  attributes, each:
//	            2  type
//	            2  value length L
//	            L  value
//	            0-3 zero padding to a multiple of 4
//
//	type          value
//	1 attrNew     u32: CLONE_NEW* flags of the namespaces to create
//	2 attrJoin    u32: the CLONE_NEW* flag of the kind, then the path (L-4 bytes, no NUL)
//	3 attrTime    u32 clock id (CLOCK_MONOTONIC 1, CLOCK_BOOTTIME 7), i64 seconds, i64 nanoseconds
//	4 attrOOMAdj  i32: oom_score_adj
//	5 attrExec    the program's argv, each argument NUL-terminated
//	6 attrFlags   u32: flagFork 1 (fork even without a pid/time namespace),
//	                   flagMountProc 2 (make / private, mount /proc)
//	7 attrCgroup  an absolute path (no NUL) to write "0" to before anything
//	              else: one per cgroup v1 hierarchy joined
//
// Maps and setgroups are not in it: the parent writes those itself.
const (
	wireMagic   = "HKNS"
	wireVersion = 1
	// maxWire bounds a request; the C side refuses longer ones, and more
	// joins or time offsets than its fixed arrays hold (one per kind and
	// two clocks would do; these leave room).
	maxWire  = 1 << 16
	maxJoins = 8
	maxTimes = 4
	maxArgs  = 1024
	// maxCgroups: one tasks file per v1 hierarchy (there are 14 kinds of
	// controller, and named ones).
	maxCgroups = 32

	attrNew    = 1
	attrJoin   = 2
	attrTime   = 3
	attrOOMAdj = 4
	attrExec   = 5
	attrFlags  = 6
	attrCgroup = 7

	flagFork      = 1
	flagMountProc = 2
)

var le = binary.LittleEndian

var clockIDs = map[Clock]uint32{Monotonic: unix.CLOCK_MONOTONIC, Boottime: unix.CLOCK_BOOTTIME}

// Encode renders r in the wire format.
func (r *Request) Encode() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b := []byte(wireMagic)
	b = le.AppendUint16(b, wireVersion)
	b = le.AppendUint16(b, 0) // count, filled in below
	n := 0
	attr := func(typ uint16, val []byte) {
		b = le.AppendUint16(b, typ)
		b = le.AppendUint16(b, uint16(len(val)))
		b = append(b, val...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		n++
	}
	var flags uint32
	for _, k := range r.New {
		flags |= k.Flag()
	}
	if flags != 0 {
		attr(attrNew, le.AppendUint32(nil, flags))
	}
	for _, k := range Kinds { // join order, whatever the caller's order
		for _, j := range r.Join {
			if j.Kind != k {
				continue
			}
			if len(j.Path) >= unix.PathMax || strings.IndexByte(j.Path, 0) >= 0 {
				return nil, fmt.Errorf("join %s namespace: bad path %q", j.Kind, j.Path)
			}
			attr(attrJoin, append(le.AppendUint32(nil, k.Flag()), j.Path...))
		}
	}
	for _, o := range r.TimeOffsets {
		v := le.AppendUint32(nil, clockIDs[o.Clock])
		v = le.AppendUint64(v, uint64(o.Seconds))
		v = le.AppendUint64(v, uint64(o.Nanos))
		attr(attrTime, v)
	}
	for _, c := range r.Cgroups {
		attr(attrCgroup, []byte(c))
	}
	if r.OOMScoreAdj != nil {
		attr(attrOOMAdj, le.AppendUint32(nil, uint32(int32(*r.OOMScoreAdj))))
	}
	if len(r.Exec) > 0 {
		var v []byte
		for _, a := range r.Exec {
			v = append(append(v, a...), 0)
		}
		if len(v) > 0xffff {
			return nil, errors.New("encode namespace request: exec arguments too long")
		}
		attr(attrExec, v)
	}
	var flags2 uint32
	if r.Fork {
		flags2 |= flagFork
	}
	if r.MountProc {
		flags2 |= flagMountProc
	}
	if flags2 != 0 {
		attr(attrFlags, le.AppendUint32(nil, flags2))
	}
	if len(b) > maxWire {
		return nil, errors.New("encode namespace request: too long")
	}
	le.PutUint16(b[6:], uint16(n))
	return b, nil
}

// Decode parses the wire format back into a Request (without maps). It is
// the Go twin of the C parser, and what the fuzz tests compare it with.
func Decode(b []byte) (*Request, error) {
	if len(b) < 8 || string(b[:4]) != wireMagic {
		return nil, errors.New("decode namespace request: bad magic")
	}
	if v := le.Uint16(b[4:]); v != wireVersion {
		return nil, fmt.Errorf("decode namespace request: version %d, want %d", v, wireVersion)
	}
	if len(b) > maxWire {
		return nil, errors.New("decode namespace request: too long")
	}
	count := int(le.Uint16(b[6:]))
	r := &Request{}
	seenNew, seenFlags := false, false
	off := 8
	for i := 0; i < count; i++ {
		if off+4 > len(b) {
			return nil, errors.New("decode namespace request: truncated attribute header")
		}
		typ, n := le.Uint16(b[off:]), int(le.Uint16(b[off+2:]))
		off += 4
		if off+n > len(b) {
			return nil, errors.New("decode namespace request: truncated attribute")
		}
		v := b[off : off+n]
		off += (n + 3) &^ 3
		switch typ {
		case attrNew:
			if n != 4 || seenNew {
				return nil, errors.New("decode namespace request: bad new-namespaces attribute")
			}
			seenNew = true
			flags := le.Uint32(v)
			for _, k := range Kinds {
				if flags&k.Flag() != 0 {
					r.New = append(r.New, k)
					flags &^= k.Flag()
				}
			}
			if flags != 0 {
				return nil, fmt.Errorf("decode namespace request: unknown flags %#x", flags)
			}
		case attrJoin:
			if n < 5 {
				return nil, errors.New("decode namespace request: bad join attribute")
			}
			k, ok := kindFromFlag(le.Uint32(v))
			if !ok {
				return nil, fmt.Errorf("decode namespace request: unknown namespace flag %#x", le.Uint32(v))
			}
			if len(r.Join) == maxJoins || n-4 >= unix.PathMax || bytes.IndexByte(v[4:], 0) >= 0 {
				return nil, errors.New("decode namespace request: bad join attribute")
			}
			r.Join = append(r.Join, Join{Kind: k, Path: string(v[4:])})
		case attrTime:
			if n != 20 {
				return nil, errors.New("decode namespace request: bad time offset attribute")
			}
			var c Clock
			for name, id := range clockIDs {
				if id == le.Uint32(v) {
					c = name
				}
			}
			if c == "" {
				return nil, fmt.Errorf("decode namespace request: unknown clock %d", le.Uint32(v))
			}
			if len(r.TimeOffsets) == maxTimes {
				return nil, errors.New("decode namespace request: too many time offsets")
			}
			r.TimeOffsets = append(r.TimeOffsets, TimeOffset{Clock: c, Seconds: int64(le.Uint64(v[4:])), Nanos: int64(le.Uint64(v[12:]))})
		case attrOOMAdj:
			if n != 4 || r.OOMScoreAdj != nil {
				return nil, errors.New("decode namespace request: bad oom_score_adj attribute")
			}
			adj := int(int32(le.Uint32(v)))
			r.OOMScoreAdj = &adj
		case attrExec:
			if n == 0 || v[n-1] != 0 || r.Exec != nil {
				return nil, errors.New("decode namespace request: bad exec attribute")
			}
			r.Exec = strings.Split(string(v[:n-1]), "\x00")
			if len(r.Exec) > maxArgs || r.Exec[0] == "" {
				return nil, errors.New("decode namespace request: bad exec attribute")
			}
		case attrCgroup:
			if n == 0 || n >= unix.PathMax || v[0] != '/' || bytes.IndexByte(v, 0) >= 0 || len(r.Cgroups) >= maxCgroups {
				return nil, errors.New("decode namespace request: bad cgroup attribute")
			}
			r.Cgroups = append(r.Cgroups, string(v))
		case attrFlags:
			if n != 4 || seenFlags || le.Uint32(v)&^(flagFork|flagMountProc) != 0 {
				return nil, errors.New("decode namespace request: bad flags attribute")
			}
			seenFlags = true
			r.Fork = le.Uint32(v)&flagFork != 0
			r.MountProc = le.Uint32(v)&flagMountProc != 0
		default:
			return nil, fmt.Errorf("decode namespace request: unknown attribute type %d", typ)
		}
	}
	if off > len(b)+3 || off < len(b) {
		return nil, errors.New("decode namespace request: trailing bytes")
	}
	return r, nil
}
