package stack

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/mount"

	"github.com/swarmrun/swarmrun/deploy/backup"
)

// The backup side of a live stack (package backup), under the names reconcile uses.
type (
	// BackupPlan is what a stack's backupbot labels ask to back up (backup.Plan).
	BackupPlan = backup.Plan
	// BackupResult is what a backup or a restore did, step by step (backup.Result).
	BackupResult = backup.Result
	// BackupStep is one step of it (backup.Step).
	BackupStep = backup.Step
	// VolumeCopied is what one volume copy moved (backup.Copied).
	VolumeCopied = backup.Copied
)

// BackupPlan reads the backupbot labels of the render's services (backup.PlanOf). A render
// without them gives a plan that is not Applicable; labels that cannot be followed are an
// error naming them, with the plan of the rest.
func (pr *Prepared) BackupPlan() (BackupPlan, error) {
	return backup.PlanOf(pr.Stack, pr.render.Services)
}

// Backup backs up the live stack as plan says (backup.Runner.Backup), into the .tar.gz file
// archive, with markers of nonce.
func (p *Pipeline) Backup(ctx context.Context, plan BackupPlan, archive, nonce string) *BackupResult {
	return backup.NewRunner(backup.Options{Engine: p.engine, Now: p.now}).Backup(ctx,
		backup.BackupRequest{Plan: plan, Archive: archive, Nonce: nonce})
}

// Restore puts the backup in archive, whose digest must be sha256, back into the live stack
// as plan says, and proves it with the markers of nonce (backup.Runner.Restore).
func (p *Pipeline) Restore(ctx context.Context, plan BackupPlan, archive, sha256, nonce string) *BackupResult {
	return backup.NewRunner(backup.Options{Engine: p.engine, Now: p.now}).Restore(ctx,
		backup.RestoreRequest{Plan: plan, Archive: archive, SHA256: sha256, Nonce: nonce})
}

// CopyVolumes fills the named volumes of pr's stack with the content of the same volumes
// (by compose key) of the stack from, before anything of pr is applied: a warm run's stack
// starts from a copy of the warm stack's data. Each volume is made as the engine would make
// it for the render (its compose labels and the stack's namespace) plus pr's ownership
// labels, so that the run's teardown knows it as the run's. The helper container uses the
// image of a service that mounts the volume, which the from stack runs (so it is local).
func (p *Pipeline) CopyVolumes(ctx context.Context, from string, pr *Prepared) ([]VolumeCopied, error) {
	req := backup.CopyRequest{Name: copyHelper(pr.Stack), Labels: maps.Clone(pr.labels)}
	for _, vol := range pr.render.Volumes {
		key, ok := strings.CutPrefix(vol, pr.Stack+"_")
		if !ok {
			continue
		}
		c := backup.VolumeCopy{From: from + "_" + key, To: vol, Labels: maps.Clone(pr.labels)}
		for _, name := range slices.Sorted(maps.Keys(pr.render.Services)) {
			cs := pr.render.Services[name].TaskTemplate.ContainerSpec
			if cs == nil {
				continue
			}
			for _, m := range cs.Mounts {
				if m.Type != mount.TypeVolume || m.Source != vol {
					continue
				}
				if req.Image == "" {
					req.Image = cs.Image
				}
				if m.VolumeOptions != nil {
					maps.Copy(c.Labels, m.VolumeOptions.Labels)
				}
			}
		}
		req.Copies = append(req.Copies, c)
	}
	if len(req.Copies) == 0 {
		return nil, nil
	}
	if req.Image == "" {
		return nil, fmt.Errorf("copy volumes of %s: no service mounts them", pr.Stack)
	}
	out, err := backup.NewRunner(backup.Options{Engine: p.engine, Now: p.now}).CopyVolumes(ctx, req)
	if err != nil {
		return out, fmt.Errorf("copy the volumes of %s into %s: %w", from, pr.Stack, err)
	}
	return out, nil
}

// copyHelper names the helper container of a copy into stack.
func copyHelper(stack string) string { return stack + "_swarmrun-copy" }

// RemoveCopyHelper removes the helper container that a copy into stack cut short left behind
// (backup.Runner.RemoveHelper), so that the stack's volumes can be removed with it.
func (p *Pipeline) RemoveCopyHelper(ctx context.Context, stack string) error {
	return backup.NewRunner(backup.Options{Engine: p.engine, Now: p.now}).RemoveHelper(ctx, copyHelper(stack))
}
