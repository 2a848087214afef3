package cluster_test

import (
	"testing"

	"github.com/megane-go/megane/internal/testutil"
)

// TestMain checks that the examples leave no goroutine behind.
func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }
