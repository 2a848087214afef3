package cluster

import "github.com/megane-go/megane/internal/clusterlink"

// ReservedTopicPrefix starts every topic that Megane's clusters answer
// themselves (stats, fetches); any other topic goes to the worker, if it
// is a bus.Handler. Workers must not register topics that start with it.
const ReservedTopicPrefix = clusterlink.ReservedTopicPrefix
