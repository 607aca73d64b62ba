package capset

import (
	"bytes"
	"fmt"
	"os"
)

// AppArmorEnabled tells whether the kernel runs AppArmor.
func AppArmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && bytes.HasPrefix(b, []byte("Y"))
}

// SELinuxEnabled tells whether the kernel runs SELinux (its filesystem is
// mounted where userspace expects it).
func SELinuxEnabled() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}

// SetAppArmorOnExec makes the next execve(2) of the calling thread enter
// profile (change_onexec, as aa_change_onexec(3) does).
func SetAppArmorOnExec(profile string) error {
	if !AppArmorEnabled() {
		return fmt.Errorf("apparmor profile %q: AppArmor is not enabled on this host", profile)
	}
	err := writeAttr("/proc/thread-self/attr/apparmor/exec", "exec "+profile)
	if os.IsNotExist(err) { // kernels before the per-LSM attr directories
		err = writeAttr("/proc/thread-self/attr/exec", "exec "+profile)
	}
	if err != nil {
		return fmt.Errorf("apparmor profile %q: %w", profile, err)
	}
	return nil
}

// SetSELinuxOnExec makes the next execve(2) of the calling thread run with
// label (setexeccon(3)).
func SetSELinuxOnExec(label string) error {
	if !SELinuxEnabled() {
		return fmt.Errorf("selinux label %q: SELinux is not enabled on this host", label)
	}
	if err := writeAttr("/proc/thread-self/attr/exec", label); err != nil {
		return fmt.Errorf("selinux label %q: %w", label, err)
	}
	return nil
}

func writeAttr(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
