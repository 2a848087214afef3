// Package status is Megane's HTTP surface: one [http.Handler] with health
// and readiness probes, a JSON report, a status page for people, optional
// Prometheus metrics, and guarded actions (restart a cluster, rolling
// restart).
//
// Mount it on any mux, or let the Manager serve it while Run runs:
//
//	http.Handle("/megane/", http.StripPrefix("/megane", m.StatusHandler(status.WithToken(tok))))
//	// or
//	m, _ := megane.New(token, megane.WithStatusAddr(":8080", status.WithToken(tok)))
//
// # Endpoints
//
//   - GET /healthz: 200 while the process is alive and its supervisors
//     answer within a short deadline ([Source.Health]), 503 otherwise.
//   - GET /readyz: 200 once every cluster is ready (or the share that
//     [WithReadyThreshold] sets), 503 before.
//   - GET /status.json: the [Report] as JSON.
//   - GET /: the status page (HTML, JavaScript and CSS embedded in the
//     binary; no CDN), which polls /status.json every second.
//   - GET /metrics: Prometheus metrics, only with [WithMetrics].
//   - POST /clusters/{id}/restart?kind=full|resume|worker: restart one
//     cluster and wait until it is ready again.
//   - POST /rolling-restart?kind=full|resume|worker: restart every
//     cluster in turn.
//
// # Actions and the admin token
//
// An action needs the admin token of [WithToken], sent as
// "Authorization: Bearer TOKEN" and compared in constant time. Without a
// configured token every action is refused with 403, so a handler mounted
// without one is read-only. A missing or wrong token gets 401 and nothing
// happens. Bad input gets 400 (bad kind, bad cluster ID) or 404 (unknown
// cluster); a re-shard in progress 409; a Manager that is not running
// 503. Every error is a JSON object {"error": "..."}. Every action and
// every refused one is logged with slog ([WithLogger]); the token never
// is. Browsers do not add the Authorization header on their own, so a
// page of another site cannot trigger an action (no CSRF).
//
// An action's request waits for its result: a restart returns once the
// cluster is ready again. If the client goes away, the wait ends with
// it; a rolling restart then stops after the cluster it is restarting.
package status
