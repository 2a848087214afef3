// Package clusterlink joins the public cluster package to the engine that
// runs clusters (internal/engine). A worker sees a *cluster.Cluster, a
// handle whose fields only package cluster can set; the engine, which
// imports package cluster, asks for one through Wrap.
package clusterlink

// Wrap returns the public *cluster.Cluster (as any) that reads engine, an
// *engine.Cluster. Package cluster sets it when it is initialised, which is
// before the engine (which imports it) can run.
var Wrap func(engine any) any
