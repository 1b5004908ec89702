//go:build !linux

package listener

import (
	"errors"
	"syscall"
)

// Outside Linux (macOS builds for development) there is no
// max_dgram_qlen sysctl, no SO_RXQ_OVFL and no /proc/net/udp: the
// listeners work, and the kernel drop count stays unknown.
const (
	maxDgramQlenPath = ""
	procRoot         = ""
)

var errUnsupported = errors.New("not supported on this platform")

func readIntFile(string) (int, error)           { return 0, errUnsupported }
func receiveBuffer(syscall.Conn) (int, error)   { return 0, errUnsupported }
func enableDropCount(syscall.Conn) error        { return errUnsupported }
func socketInode(syscall.Conn) (uint64, error)  { return 0, errUnsupported }
func parseDropCount([]byte) (uint32, bool)      { return 0, false }
func procUDPDrops(string, uint64) (int64, bool) { return 0, false }
