package reap

import "syscall"

// setPdeathsig has the kernel SIGKILL the child when its starting thread
// ends.
func setPdeathsig(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
