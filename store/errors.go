package store

import (
	"errors"
	"reflect"
	"strconv"
)

// Sentinel errors. Errors returned by this package are, or wrap, one of these,
// so callers match them with [errors.Is].
var (
	// ErrClosed means the [Store] has been closed: [Open] and [Bucket.Watch]
	// refuse to start anything new.
	ErrClosed = errors.New("store: closed")
	// ErrTypeMismatch means a bucket name is already in use with other key or
	// value types. The concrete error is a [*TypeMismatchError].
	ErrTypeMismatch = errors.New("store: bucket type mismatch")
	// ErrInvalidOption means an option was given a value it cannot take, such
	// as a watch buffer smaller than one.
	ErrInvalidOption = errors.New("store: invalid option")
)

// TypeMismatchError is returned by [Open] when the named bucket already exists
// with a different key or value type. It matches [ErrTypeMismatch].
type TypeMismatchError struct {
	// Name is the bucket name that was asked for.
	Name string
	// Have is the type of the existing bucket, e.g. *store.Bucket[string,int].
	Have reflect.Type
	// Want is the type the caller asked for.
	Want reflect.Type
}

// Error describes the two bucket types.
func (e *TypeMismatchError) Error() string {
	return "store: bucket " + strconv.Quote(e.Name) + " is " + e.Have.String() +
		", not " + e.Want.String()
}

// Unwrap returns [ErrTypeMismatch].
func (e *TypeMismatchError) Unwrap() error { return ErrTypeMismatch }
