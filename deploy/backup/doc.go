// Package backup does for swarmrun's backup and restore tiers what backup-bot-two would do
// for a stack, from the same labels, and copies volume data between stacks for warm runs.
//
// What it relies on. The labels and their meaning come from the Co-op Cloud backup
// specification, whose text was verified (docs.coopcloud.tech Specification.md and the
// backupbot-two specification draft): backupbot.backup=true on a service enables backups;
// every volume is backed up unless backupbot.backup.volumes.<volume>=false;
// backupbot.backup.volumes.<volume>.path limits a volume to comma-separated paths relative to
// its root; backupbot.backup.pre-hook and post-hook run in the service's running container
// before and after the files are copied, backupbot.restore.pre-hook and post-hook before and
// after they are put back, with the container's environment; a .tar.gz backup holds each
// volume under /var/lib/docker/volumes/<stack>_<volume>. What backup-bot-two's own code does
// is remembered, not verified: that it reads deploy labels only (container labels are
// ignored, with a note), that it takes the volumes from the labelled service's mounts, that
// the older backupbot.backup.path label lists absolute container paths, that hooks run as
// bash -c 'set -o pipefail;…', and that restore writes into the live volumes while the app
// runs. Where the two differ from a strict reading (several services labelled, as bonfire
// does; an absolute .path), the plan says so in its notes rather than refusing.
//
// How. Files move through the engine's archive API (CopyFromContainer, CopyToContainer)
// rather than through a tar program in the container, so that images without a shell or tar
// (the FROM scratch probe the tests deploy, many distroless apps) can be backed up; the
// markers that prove a restore are written and read the same way. Hooks need what their
// command needs: bash or sh when the container has one, the command's words otherwise.
// Archives are bounded (MaxArchive) because the files come from a head's containers.
//
// backup decides no policy: whether a tier runs, and what its failure means, belong to the
// reconciler; a Runner keeps no state between calls.
package backup
