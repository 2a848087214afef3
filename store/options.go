package store

import (
	"fmt"
	"time"
)

// DefaultSweepInterval is how often the janitor of a [Store] made without
// [WithSweepInterval] looks for expired entries.
const DefaultSweepInterval = time.Second

// DefaultWatchBuffer is the channel capacity of a watcher made without
// [WithWatchBuffer].
const DefaultWatchBuffer = 64

type config struct {
	sweepInterval time.Duration
}

func defaultConfig() config {
	return config{sweepInterval: DefaultSweepInterval}
}

// Option configures a [Store] made by [New].
type Option func(*config)

// WithSweepInterval sets how often the store's janitor goroutine sweeps the
// buckets that hold TTL entries, deleting expired entries and reporting them
// to watchers as [KindExpire] changes. A sweep costs O(n) in the size of each
// bucket that holds at least one TTL entry; buckets without TTL entries are
// skipped at the cost of one atomic load.
//
// d <= 0 disables the janitor: expired entries are then reclaimed only
// lazily, when Get, Has, Range, Compute, Delete or a write finds them. They
// are never returned either way.
func WithSweepInterval(d time.Duration) Option {
	return func(c *config) { c.sweepInterval = d }
}

type watchConfig struct {
	buffer int
}

func defaultWatchConfig() watchConfig {
	return watchConfig{buffer: DefaultWatchBuffer}
}

func (c watchConfig) validate() error {
	if c.buffer < 1 {
		return fmt.Errorf("%w: watch buffer %d, want at least 1", ErrInvalidOption, c.buffer)
	}
	return nil
}

// WatchOption configures one watcher made by [Bucket.Watch].
type WatchOption func(*watchConfig)

// WithWatchBuffer sets the capacity of the watcher's channel (default
// [DefaultWatchBuffer]). Changes beyond it are dropped and counted, as
// [Bucket.Watch] describes. n must be at least 1; Watch returns an error
// matching [ErrInvalidOption] otherwise.
func WithWatchBuffer(n int) WatchOption {
	return func(c *watchConfig) { c.buffer = n }
}
