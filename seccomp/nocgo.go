//go:build !cgo

package seccomp

import (
	"errors"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Filter is a compiled profile. Without cgo there is no libseccomp, so
// nothing compiles: Compile says so.
type Filter struct{}

var errNoCgo = errors.New("seccomp: this binary was built without cgo, so without libseccomp")

func Compile(*specs.LinuxSeccomp, bool) (*Filter, []string, error) { return nil, nil, errNoCgo }
func (*Filter) Load() (*os.File, error)                            { return nil, errNoCgo }
func (*Filter) Program() ([]byte, uint32, error)                   { return nil, 0, errNoCgo }
func (*Filter) Notify() bool                                       { return false }
func (*Filter) Release()                                           {}
func (*Filter) PFC() (string, error)                               { return "", errNoCgo }
func (*Filter) Check(string, ...uint64) (string, error)            { return "", errNoCgo }
func (*Filter) MarshalBinary() ([]byte, error)                     { return nil, errNoCgo }
func UnmarshalFilter([]byte) (*Filter, error)                      { return nil, errNoCgo }
func Supported() (actions, operators, archs, flags []string)       { return nil, nil, nil, nil }

// Cache is the compiled filters' cache; without cgo nothing compiles.
type Cache struct{ Dir string }

func (Cache) Compile(*specs.LinuxSeccomp, bool) (*Filter, []string, error) { return nil, nil, errNoCgo }
func (Cache) Get(*specs.LinuxSeccomp, bool) (*Filter, []string, func(), error) {
	return nil, nil, func() {}, errNoCgo
}

// LibraryVersion is empty: without cgo there is no libseccomp.
func LibraryVersion() string { return "" }
