//go:build !goexperiment.jsonv2

package container

// jsonOffsetShift turns a decoding error's Offset into what position
// takes: on the v1 engine it is that already (through the byte at
// fault for a syntax error, through the value for a type error).
const jsonOffsetShift = 0
