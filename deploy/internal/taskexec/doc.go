// Package taskexec runs commands in the running container of a swarm service's task, for the
// checks (exec checks) and the backup tiers (backupbot hooks): find a running container of
// the service on the node swarmrun talks to, exec the command in it, and read its output and
// exit code. It decides nothing about what a failure means.
package taskexec
