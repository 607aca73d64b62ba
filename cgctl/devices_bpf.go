package cgctl

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cgroup v2 has no devices controller: device access is decided by a
// BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup, which the
// kernel runs on every open and mknod of a device node with
//
//	struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; };
//
// access_type is the device type (1 block, 2 char) in its low 16 bits and
// the access (1 mknod, 2 read, 4 write) in its high 16 bits. The program
// returns 1 to allow, 0 to deny.
const (
	devBlock = 1
	devChar  = 2
	accMknod = 1
	accRead  = 2
	accWrite = 4
)

// deviceProgram compiles rules into the program: the rules are checked
// last first, the first that matches decides, and nothing matching means
// deny. An allow rule matches an access it fully covers, a deny rule one
// it covers any part of.
func deviceProgram(rules []specs.LinuxDeviceCgroup) (asm.Instructions, error) {
	insns := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // access_type
		asm.Mov.Reg32(asm.R3, asm.R2),
		asm.And.Imm32(asm.R3, 0xffff),            // R3: type
		asm.RSh.Imm32(asm.R2, 16),                // R2: access
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word), // R4: major
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word), // R5: minor
	}
	conditional := true
	for i := len(rules) - 1; i >= 0 && conditional; i-- {
		r := rules[i]
		next := fmt.Sprintf("rule%d", i-1)
		var block asm.Instructions
		switch r.Type {
		case "", "a":
		case "c":
			block = append(block, asm.JNE.Imm(asm.R3, devChar, next))
		case "b":
			block = append(block, asm.JNE.Imm(asm.R3, devBlock, next))
		default:
			return nil, fmt.Errorf("device rule: unknown type %q", r.Type)
		}
		if r.Major != nil && *r.Major >= 0 {
			block = append(block, asm.JNE.Imm(asm.R4, int32(*r.Major), next))
		}
		if r.Minor != nil && *r.Minor >= 0 {
			block = append(block, asm.JNE.Imm(asm.R5, int32(*r.Minor), next))
		}
		acc, err := accessBits(r.Access)
		if err != nil {
			return nil, err
		}
		if r.Allow {
			if acc != accMknod|accRead|accWrite {
				block = append(block, asm.Mov.Reg32(asm.R6, asm.R2), asm.And.Imm32(asm.R6, ^int32(acc)), asm.JNE.Imm(asm.R6, 0, next))
			}
			block = append(block, asm.Mov.Imm(asm.R0, 1), asm.Return())
		} else {
			if acc != accMknod|accRead|accWrite {
				block = append(block, asm.Mov.Reg32(asm.R6, asm.R2), asm.And.Imm32(asm.R6, int32(acc)), asm.JEq.Imm(asm.R6, 0, next))
			}
			block = append(block, asm.Mov.Imm(asm.R0, 0), asm.Return())
		}
		// A rule that matches everything ends the program: the verifier
		// refuses code after it, which could never run.
		conditional = len(block) > 2
		block[0] = block[0].WithSymbol(fmt.Sprintf("rule%d", i))
		insns = append(insns, block...)
	}
	if conditional {
		insns = append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol("rule-1"), asm.Return())
	}
	return insns, nil
}

func accessBits(s string) (int32, error) {
	if s == "" {
		s = "rwm"
	}
	var a int32
	for _, c := range s {
		switch c {
		case 'r':
			a |= accRead
		case 'w':
			a |= accWrite
		case 'm':
			a |= accMknod
		default:
			return 0, fmt.Errorf("device rule: bad access %q", s)
		}
	}
	return a, nil
}

// setDevicesBPF loads the program for rules and attaches it to the cgroup
// at dir with BPF_F_ALLOW_MULTI, then detaches the programs that were
// there before: an update replaces, never stacks, and at no moment is the
// cgroup without one.
func setDevicesBPF(dir string, rules []specs.LinuxDeviceCgroup) error {
	insns, err := deviceProgram(rules)
	if err != nil {
		return err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.CGroupDevice,
		Instructions: insns,
		License:      "Apache-2.0",
	})
	if err != nil {
		return fmt.Errorf("load device filter for %s: %w", dir, err)
	}
	defer prog.Close()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	// Query, attach, detach as one step against other updaters of this
	// cgroup (hako update racing itself): the lock goes with the fd.
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		return &os.PathError{Op: "flock", Path: dir, Err: err}
	}
	old, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		return fmt.Errorf("query device filters of %s: %w", dir, err)
	}
	attach := link.RawAttachProgramOptions{Target: fd, Program: prog, Attach: ebpf.AttachCGroupDevice, Flags: unix.BPF_F_ALLOW_MULTI}
	if err := link.RawAttachProgram(attach); err != nil {
		return fmt.Errorf("attach device filter to %s: %w", dir, err)
	}
	for _, p := range old.Programs {
		o, err := ebpf.NewProgramFromID(p.ID)
		if errors.Is(err, os.ErrNotExist) {
			continue // gone meanwhile
		}
		if err == nil {
			err = link.RawDetachProgram(link.RawDetachProgramOptions{Target: fd, Program: o, Attach: ebpf.AttachCGroupDevice})
			o.Close()
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			// Both stacked would allow only what both allow: put the
			// previous state back rather than leave that.
			link.RawDetachProgram(link.RawDetachProgramOptions{Target: fd, Program: prog, Attach: ebpf.AttachCGroupDevice})
			return fmt.Errorf("replace the device filter of %s: detach program %d: %w", dir, p.ID, err)
		}
	}
	return nil
}
