package services

import "errors"

// ErrAlreadyServed means Serve was called twice. The other errors of a
// Registry are the public ones of package service (service.ErrNotFound,
// ...), which the Manager's callers match.
var ErrAlreadyServed = errors.New("service: registry already served")
