package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako.dev/capset"
	"hako.dev/rootfs"
)

// LoadSpec reads <bundle>/config.json. A syntax error names its line and
// column, which encoding/json alone reports only as a byte offset.
func LoadSpec(bundle string) (*specs.Spec, error) {
	p := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&s); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		off := int64(-1)
		switch {
		case errors.As(err, &se):
			off = se.Offset
		case errors.As(err, &te):
			off = te.Offset
		}
		if off < 0 {
			return nil, fmt.Errorf("parse %s: %w", p, err)
		}
		line, col := position(b, off+jsonOffsetShift)
		return nil, fmt.Errorf("parse %s: line %d, column %d: %w", p, line, col, err)
	}
	return &s, nil
}

// position turns a byte offset into a 1-based line and column.
func position(b []byte, off int64) (line, col int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}

// validate refuses configs hako cannot run, before anything is created.
func validate(s *specs.Spec) error {
	switch {
	case s.Root == nil || s.Root.Path == "":
		return errors.New("config: root.path is required")
	case s.Process == nil:
		return errors.New("config: process is required")
	case len(s.Process.Args) == 0:
		return errors.New("config: process.args must not be empty")
	case s.Process.Cwd != "" && !filepath.IsAbs(s.Process.Cwd):
		return fmt.Errorf("config: process.cwd %q is not absolute", s.Process.Cwd)
	case s.Linux == nil:
		return errors.New("config: linux section is required")
	}
	if err := unsupported(s); err != nil {
		return err
	}
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range s.Linux.Namespaces {
		if _, ok := nsKinds[ns.Type]; !ok {
			return fmt.Errorf("config: unknown namespace type %q", ns.Type)
		}
		if seen[ns.Type] {
			return fmt.Errorf("config: namespace %q listed twice", ns.Type)
		}
		seen[ns.Type] = true
	}
	// No mount namespace listed: the container shares the host's (the
	// spec's rule), its mounts made on the rootfs in place and removed at
	// delete (rootfs.UnmountUnder).
	newUser := newNS(s, specs.UserNamespace)
	if (len(s.Linux.UIDMappings) > 0 || len(s.Linux.GIDMappings) > 0) && !newUser {
		return errors.New("config: uidMappings/gidMappings need a new user namespace (a joined one has its maps)")
	}
	if newUser && (len(s.Linux.UIDMappings) == 0 || len(s.Linux.GIDMappings) == 0) {
		return errors.New("config: a new user namespace needs uidMappings and gidMappings")
	}
	if len(s.Linux.TimeOffsets) > 0 && !seen[specs.TimeNamespace] {
		return errors.New("config: timeOffsets need a time namespace")
	}
	for clock := range s.Linux.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return fmt.Errorf("config: timeOffsets: unknown clock %q (want monotonic or boottime)", clock)
		}
	}
	if err := checkSysctls(s); err != nil {
		return err
	}
	// A label the host cannot apply is an error, never silently dropped.
	if s.Process.ApparmorProfile != "" && !capset.AppArmorEnabled() {
		return fmt.Errorf("config: apparmor profile %q requested, but AppArmor is not enabled on this host", s.Process.ApparmorProfile)
	}
	if s.Process.SelinuxLabel != "" && !capset.SELinuxEnabled() {
		return fmt.Errorf("config: selinux label %q requested, but SELinux is not enabled on this host", s.Process.SelinuxLabel)
	}
	if s.Hostname != "" && !seen[specs.UTSNamespace] {
		return errors.New("config: hostname needs a uts namespace")
	}
	// The mounts' options, planned once here to refuse a bad one before
	// anything exists (the rootfs path does not matter to that).
	ops, err := rootfs.Plan(rootfs.Config{Spec: s, Rootfs: "/"})
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	for _, op := range ops {
		if op.IDMap != nil && len(op.IDMap.UIDs)+len(op.IDMap.GIDs) == 0 && !seen[specs.UserNamespace] {
			return fmt.Errorf("config: mount %s: idmap without uidMappings needs the container to have a user namespace", op.Target)
		}
	}
	return nil
}

// unsupported refuses settings this hako cannot honour yet. Running a
// container without a label or setting it asked for would be silently
// weaker than asked, so such a config fails instead.
func unsupported(s *specs.Spec) error {
	var fields []string
	add := func(cond bool, name string) {
		if cond {
			fields = append(fields, name)
		}
	}
	l := s.Linux
	add(l.IntelRdt != nil, "linux.intelRdt")
	add(l.MountLabel != "", "linux.mountLabel")
	add(len(l.NetDevices) > 0, "linux.netDevices")
	if len(fields) > 0 {
		return fmt.Errorf("config: %s not supported by this hako yet; refusing rather than running the container without it",
			strings.Join(fields, ", "))
	}
	return nil
}
