// Package metrics holds swarmrun's own Prometheus metrics: what runs, warm stacks, garbage
// collection and webhooks did, as counters and histograms on a registry its caller builds.
// (The controllers' metrics, under controller-runtime's names, are the controller package's.)
//
//	swarmrun_testruns_finished_total{reason}       runs that got their verdict, by the reason of
//	                                               their Succeeded condition (Succeeded, CheckFailed,
//	                                               ImagePullFailed, ConvergenceTimeout, ...)
//	swarmrun_testrun_level                         histogram of finished runs' levels, 0..5
//	swarmrun_deploy_convergence_seconds{role}      histogram of the time from a deploy's apply to
//	                                               its convergence; role base or head (a run's
//	                                               phases) or warm (a warm stack)
//	swarmrun_services_pruned_total{role}           services removed because the deploy no longer
//	                                               declares them; role head (a run) or warm
//	swarmrun_promotions_total{result}              promotion decisions of finished runs of warm
//	                                               recipes; result promoted or refused
//	swarmrun_gc_removed_total{kind}                stale stacks and objects garbage collection
//	                                               removed, by kind (stack, secret, config,
//	                                               network)
//	swarmrun_gc_failures_total{kind}               removals that failed (tried again next pass)
//	swarmrun_webhook_deliveries_total{event,result}  forge webhook deliveries, as the forge
//	                                               handler reports them
//
// The packages that do these things do not import this one, nor Prometheus: each defines the
// small interface it calls (reconcile.Observer, warm.Observer), and the wiring in cmd passes a
// *Metrics. Every method is safe on a nil *Metrics and then does nothing, so that code run
// without metrics (swarmrun run, tests) needs no stand-in.
//
// Label values are closed sets chosen by swarmrun (reasons, roles, kinds), never names of
// objects, so that the number of series stays bounded whatever operators create.
//
// metrics must not hold global state: no collector is registered anywhere but on the
// registry given to New.
package metrics
