package listener

import (
	"testing"

	"github.com/openclaw/openclaw-trace/testkit/reap"
	"go.uber.org/goleak"
)

// Every listener owns its goroutines; Close must leave none behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(reap.Watch(m)) }
