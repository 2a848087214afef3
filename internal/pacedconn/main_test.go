package pacedconn

import (
	"testing"

	"github.com/megane-go/megane/internal/testutil"
)

// Every pacer goroutine must have exited once the tests' conns are closed.
func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }
