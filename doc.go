// Package megane runs a large Discord bot as one Go binary.
//
// Megane splits the bot's gateway shards into clusters. Each cluster is a
// supervised group of goroutines with its own disgo client, and any one
// cluster can be restarted while the others keep serving. Clusters and
// services share a typed in-process message bus (package bus), a lock-free
// central store (package store) and automatic statistics (package stats).
package megane
