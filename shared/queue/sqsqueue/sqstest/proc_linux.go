//go:build linux

package sqstest

import (
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
)

// startProcess starts cmd in its own process group, with SIGKILL as its
// parent-death signal. Linux sends that signal when the thread that forked
// the child exits, not the process, so a goroutine holds that thread locked
// until release is called; the server is stopped before that.
func startProcess(cmd *exec.Cmd) (release func(), err error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err != nil {
			runtime.UnlockOSThread()
			return
		}
		<-done
		// Returning while locked ends the thread, which is what we want.
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	return func() { close(done) }, nil
}

// killGroup kills the server and anything it started.
func killGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
