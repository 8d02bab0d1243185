//go:build !linux

package sqstest

import (
	"fmt"
	"os/exec"
)

// startProcess starts cmd. Outside Linux there is no parent-death signal, so
// a server outlives a test binary that dies without running its cleanups.
func startProcess(cmd *exec.Cmd) (release func(), err error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	return func() {}, nil
}

// killGroup kills the server.
func killGroup(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
}
