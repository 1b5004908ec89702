package listener

import (
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

// TestProcUDPDrops reads the drops column of one socket from a fixture
// /proc: IPv4 first, then IPv6; an unknown inode is not found.
func TestProcUDPDrops(t *testing.T) {
	cases := []struct {
		name      string
		ino       uint64
		want      int64
		wantFound bool
	}{
		{"udp, no drops", 81537, 0, true},
		{"udp, drops", 146181, 1834, true},
		{"udp6", 150002, 42, true},
		{"unknown inode", 5, 0, false},
	}
	for _, tc := range cases {
		got, found := procUDPDrops("testdata/proc", tc.ino)
		if got != tc.want || found != tc.wantFound {
			t.Errorf("%s: got (%d, %v), want (%d, %v)", tc.name, got, found, tc.want, tc.wantFound)
		}
	}
	if _, found := procUDPDrops("testdata/no-such-proc", 81537); found {
		t.Error("found a socket under a missing root")
	}
}

// TestProcUDPDropsFindsOpenSocket: the real /proc lists an open UDP
// socket under the inode Open recorded, so KernelDrops is current rather
// than the SO_RXQ_OVFL fallback.
func TestProcUDPDropsFindsOpenSocket(t *testing.T) {
	u := openUDP(t, codec.NewQueue(1), 0)
	n, found := procUDPDrops(procRoot, u.ino)
	if !found || n != 0 {
		t.Errorf("procUDPDrops(%s, %d) = (%d, %v), want (0, true)", procRoot, u.ino, n, found)
	}
}
