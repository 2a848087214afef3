package engine

// Dispatched returns the running attempt's number (0 between attempts) and
// how many events its event loop has handed to the worker so far. The
// count starts from 0 with each attempt; a worker-only reload keeps the
// attempt, and its count. It costs two atomic loads and takes no lock, so
// it may be polled (the Manager's rolling restart samples it to measure a
// cluster's event rate).
func (c *Cluster) Dispatched() (attempt int, n uint64) {
	a := c.view.Load().att
	if a == nil {
		return 0, 0
	}
	return a.no, a.exec.progress.Load()
}
