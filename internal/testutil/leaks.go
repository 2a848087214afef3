package testutil

import (
	"testing"

	"go.uber.org/goleak"
)

// disgoRateLimiterCleanup is the function of the goroutine that disgo
// v0.19.6's REST rate limiter (rest.NewRateLimiter) starts and that nothing
// ever stops: its Close does not, and the goroutine may even sit on the
// mutex Close leaves locked.
const disgoRateLimiterCleanup = "github.com/disgoorg/disgo/rest.(*rateLimiterImpl).cleanup"

// IgnoreDisgoRateLimiter is the goleak option that ignores the cleanup
// goroutine of disgo's REST rate limiter, one per REST client built (each
// disgo client, cluster or megane.Manager run without a shared REST
// client builds one). Every other goroutine still counts as a leak.
func IgnoreDisgoRateLimiter() goleak.Option {
	return goleak.IgnoreAnyFunction(disgoRateLimiterCleanup)
}

// VerifyNoLeaks runs the package's tests, then fails the run if a goroutine
// outlives them, except disgo's REST rate limiter cleanup
// (IgnoreDisgoRateLimiter) and what opts ignore. Call it as the whole body
// of TestMain. It does not return (goleak.VerifyTestMain exits).
func VerifyNoLeaks(m *testing.M, opts ...goleak.Option) {
	goleak.VerifyTestMain(m, append([]goleak.Option{IgnoreDisgoRateLimiter()}, opts...)...)
}
