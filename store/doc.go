// Package store is Megane's central in-process store: named, typed buckets of
// key/value pairs built on [xsync.MapOf], shared by every cluster and service
// of one process.
//
// A [Store] holds buckets by name; [Open] returns the [Bucket] for a name and
// a pair of key and value types, creating it on first use. Buckets support
// lock-free reads, atomic read-modify-write ([Bucket.Compute],
// [CompareAndSwap]), per-entry time-to-live ([Bucket.SetTTL]) and change
// notification ([Bucket.Watch]).
//
// # Values are shared, not copied
//
// A bucket stores exactly the value it is given. A pointer, slice or map
// stored in a bucket is the same pointer, slice or map that every reader gets
// back, so a caller that mutates a value after storing it races with every
// reader. Store immutable values, or replace them whole (copy, modify, Set or
// Compute) rather than mutating them in place.
//
// # Zero values are values
//
// Zero, false, "" and nil are valid values: after Set(k, 0), Get(k) returns
// (0, true). Presence is reported by the boolean results only.
//
// # Time to live
//
// An entry written with [Bucket.SetTTL] (or created by [Bucket.ComputeTTL])
// expires once its TTL has elapsed.
// Expired entries are never returned by Get, Has, Range, Len, Compute or
// CompareAndSwap: every read checks the deadline. They are reclaimed without
// a goroutine per key, either lazily by the first access that finds them
// expired or by the store's single janitor goroutine, which sweeps every
// bucket that holds TTL entries on the interval set by [WithSweepInterval].
// Each reclaimed entry is reported to watchers as a [KindExpire] change.
// Deadlines use the monotonic clock from package time, so tests can drive
// expiry inside testing/synctest.
//
// # Watching
//
// [Bucket.Watch] returns a bounded channel of [Change] values. Writers never
// block on a watcher: when a watcher's buffer is full its changes are dropped
// and counted, and as soon as the watcher makes room it receives a
// [KindOverflow] change carrying the count, after which it should re-read the
// bucket with [Bucket.Range]. See [Bucket.Watch] for the full contract.
package store
