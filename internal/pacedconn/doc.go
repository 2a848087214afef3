// Package pacedconn dials TCP connections whose reads are woken in batches.
//
// A net.Conn from the standard library sits in Go's netpoller, which wakes
// a reader for every TCP segment that arrives. At paced traffic (a Discord
// gateway sends one small frame at a time, a few hundred a second per
// connection) each frame then costs a netpoller wake-up, a goroutine switch
// and a read, and those wake-ups are most of a shard's CPU.
//
// A Conn from this package is a raw non-blocking socket that Go's netpoller
// never sees. One pacer goroutine per coalescing period watches every such
// socket with an epoll set of its own: it blocks in epoll_wait until a
// socket is ready, wakes the readers that have data, then sleeps for the
// period before it waits again. At steady traffic, one wake-up then serves
// every segment that arrived during the period, on every connection.
//
// The trade-off is latency: a segment that arrives while the pacer sleeps
// is delivered when the sleep ends, so each read may be late by up to the
// period (1 to 5 ms is a good range for a gateway connection, whose events
// are not latency-critical at that scale). A period of 0 gives no added
// latency and one wake-up per ready batch again, like the netpoller. Writes
// and connects are not paced: a writer that finds the socket buffer full
// ends the pacer's sleep.
//
// Only Linux is supported; elsewhere Dialer falls back to net.Dialer and
// the period is ignored.
package pacedconn
