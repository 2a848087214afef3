// Package testutil holds the test helpers that several of megane's
// packages repeat: the goroutine-leak check that tolerates disgo's REST
// rate limiter, and a log sink safe for concurrent use.
//
// It is imported only by _test.go files; nothing in it starts a goroutine.
package testutil
