package logtail

import (
	"testing"

	"github.com/openclaw/openclaw-trace/testkit/reap"
	"go.uber.org/goleak"
)

// TestMain fails the package if a Run or any helper left a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(reap.Watch(m))
}
