package status

import (
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/stats"
)

// jsonReport is a Report as /status.json writes it.
type jsonReport struct {
	Time     time.Time            `json:"time"`
	Running  bool                 `json:"running"`
	Clusters []stats.ClusterStats `json:"clusters"`
	Services []stats.ServiceStats `json:"services"`
	Queue    IdentifyQueue        `json:"identify_queue"`
	Events   []jsonEvent          `json:"events"`
}

// jsonEvent is a cluster.Event as /status.json writes it: the kinds as
// text and the error as its message.
type jsonEvent struct {
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"`
	Cluster    int       `json:"cluster"`
	Shard      int       `json:"shard"`
	Restart    string    `json:"restart,omitempty"`
	Service    string    `json:"service,omitempty"`
	State      string    `json:"state,omitempty"`
	Generation int       `json:"generation,omitempty"`
	Standby    bool      `json:"standby,omitempty"`
	Error      string    `json:"error,omitempty"`
	Panic      bool      `json:"panic,omitempty"`
}

func toJSON(r Report) jsonReport {
	out := jsonReport{Time: r.Time, Running: r.Running, Clusters: r.Clusters, Services: r.Services, Queue: r.Queue,
		Events: make([]jsonEvent, len(r.Events))}
	if out.Clusters == nil {
		out.Clusters = []stats.ClusterStats{}
	}
	if out.Services == nil {
		out.Services = []stats.ServiceStats{}
	}
	for i, e := range r.Events {
		je := jsonEvent{At: e.At, Kind: e.Kind.String(), Cluster: e.Cluster, Shard: e.Shard, Service: e.Service,
			State: e.State, Generation: e.Generation, Standby: e.Standby, Panic: e.Panic != nil}
		if e.Restart != 0 {
			je.Restart = e.Restart.String()
		}
		if e.Err != nil {
			je.Error = e.Err.Error()
		}
		out.Events[i] = je
	}
	return out
}

// restartKinds are the kinds an action may name, by their String.
var restartKinds = []cluster.RestartKind{cluster.RestartFull, cluster.RestartResume, cluster.RestartWorker}

// parseKind returns the restart kind named s ("full", "resume", "worker").
func parseKind(s string) (cluster.RestartKind, bool) {
	for _, k := range restartKinds {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}
