//go:build !linux

package main

import (
	"context"
	"errors"
	"time"
)

// readReactor is Linux only: it reads raw sockets through epoll.
func readReactor(context.Context, readerSpec, time.Duration) (readerResult, error) {
	return readerResult{}, errors.New("reactor readers need Linux")
}
