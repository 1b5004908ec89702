package listener

import (
	"testing"

	"go.uber.org/goleak"
)

// Every listener owns its goroutines; Close must leave none behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
