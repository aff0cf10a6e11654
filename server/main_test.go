package server_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves goroutines behind: every
// session a client opens must be torn down when it ends or the server closes.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
