package preinit

/*
#cgo CFLAGS: -Wall -Wextra -O2
#include <stdlib.h>
#include "preinit.h"
*/
import "C"

import (
	"errors"
)

// parse runs the C parser on b, for the tests that hold it to the Go one.
//go:generate sh -c "GOWORK=off go run ../../hack/errnotext/main.go > errnotext.h"

// cause is the C stage's wording of errno e, for the tests.
func cause(e int) string { return C.GoString(C.hako_preinit_cause(C.int(e))) }

func parse(b []byte) error {
	var r C.struct_hako_request
	var msg [128]C.char
	p := C.CBytes(b)
	defer C.free(p)
	if C.hako_parse_request((*C.uint8_t)(p), C.size_t(len(b)), &r, &msg[0], C.size_t(len(msg))) != 0 {
		return errors.New(C.GoString(&msg[0]))
	}
	return nil
}
