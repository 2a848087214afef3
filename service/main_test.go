package service_test

import (
	"testing"

	"github.com/megane-go/megane/internal/testutil"
)

// The package's example runs a Manager: it must leave no goroutine behind
// (but disgo's REST rate limiter's, which nothing can stop).
func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }
