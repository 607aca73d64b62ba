// Package preinit is the C stage that runs before the Go runtime starts: a
// constructor (see preinit.c) compiled into every binary that imports this
// package with
//
//	import _ "hako.dev/nsenter/preinit"
//
// At that moment the process is still single-threaded, the only time it
// may setns(2) into a user or mount namespace, and the right time to
// unshare(2) the rest before Go's threads exist. It returns at once unless
// _HAKO_NSENTER_FD is set (one getenv per start: nothing measurable), and is
// driven by hako.dev/nsenter's Start, which defines the request format.
//
// A binary importing it needs cgo (CGO_ENABLED=1, a C compiler).
package preinit
