package execstage

/*
#cgo CFLAGS: -Wall -Wextra -O2
#include <stdlib.h>
#include "execstage.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Linked tells whether this build carries the C stage (it needs cgo).
const Linked = true

// The Go and C sides agree on the layout.
var _ = [1]struct{}{}[C.sizeof_struct_hako_plan_hdr-hdrLen]
var _ = [1]struct{}{}[C.HAKO_PLAN_MAX_BPF-maxBPF]
var _ = [1]struct{}{}[C.HAKO_PLAN_MAX-maxPlan]
var _ = [1]struct{}{}[C.HAKO_PLAN_NNP-flagNNP]

// parse runs the C parser on b, for the tests that hold Encode to it.
func parse(b []byte) (args, env []string, err error) {
	var p C.struct_hako_plan
	var msg [128]C.char
	cb := C.CBytes(b)
	defer C.free(cb)
	if C.hako_parse_plan((*C.uint8_t)(cb), C.size_t(len(b)), &p, &msg[0], C.size_t(len(msg))) != 0 {
		return nil, nil, errors.New(C.GoString(&msg[0]))
	}
	defer C.free(unsafe.Pointer(p.argv))
	defer C.free(unsafe.Pointer(p.envp))
	for _, v := range unsafe.Slice(p.argv, p.h.argc) {
		args = append(args, C.GoString(v))
	}
	for _, v := range unsafe.Slice(p.envp, p.h.envc) {
		env = append(env, C.GoString(v))
	}
	return args, env, nil
}
