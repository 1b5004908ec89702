package price

import (
	"os"
	"testing"

	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// TestMain: the run's temp dirs are its own, removed even if it is killed.
func TestMain(m *testing.M) { os.Exit(reap.Watch(m).Run()) }
