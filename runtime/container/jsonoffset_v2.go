//go:build goexperiment.jsonv2

package container

// jsonOffsetShift turns a decoding error's Offset into what position
// takes (v1's: the bytes through the byte at fault). On the v2 engine
// the Offset counts the bytes before the token at fault.
const jsonOffsetShift = 1
