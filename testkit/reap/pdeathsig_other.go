//go:build !linux

package reap

import "syscall"

// setPdeathsig: only Linux has a parent-death signal; elsewhere the
// watchdog alone kills what a killed run left.
func setPdeathsig(*syscall.SysProcAttr) {}
