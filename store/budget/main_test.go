package budget

import (
	"testing"

	"github.com/openclaw/openclaw-trace/testkit/reap"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(reap.Watch(m)) }
