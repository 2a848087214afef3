package megane_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
)

func ExampleManager_SetMaintenance() {
	fake := startFake(2)
	defer fake.Close()
	ready := make(chan struct{})
	m := newManager(fake, 2, ready)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	<-ready
	// Cluster 1 only: its worker's listeners pause, its events are held.
	if err := m.SetMaintenance(ctx, true, 1); err != nil {
		fmt.Println(err)
	}
	for _, c := range m.Clusters() {
		fmt.Println("cluster", c.ID, "maintenance", c.Maintenance)
	}
	_, err := bus.Request[string](ctx, m.Bus(), bus.Manager(), bus.Cluster(1), "ping", nil)
	fmt.Println("command to cluster 1:", errors.Is(err, cluster.ErrMaintenance))
	fmt.Println(m.SetMaintenance(ctx, true, 7))
	// Leaving delivers the held events in order.
	if err := m.SetMaintenance(ctx, false); err != nil {
		fmt.Println(err)
	}
	fmt.Println("cluster 1 maintenance", m.Clusters()[1].Maintenance)
	cancel()
	fmt.Println("Run:", <-done)
	// Output:
	// cluster 0 maintenance false
	// cluster 1 maintenance true
	// command to cluster 1: true
	// megane: no cluster 7
	// cluster 1 maintenance false
	// Run: <nil>
}
