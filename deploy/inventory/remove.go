package inventory

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/swarmrun/swarmrun/deploy"
)

// RemoveStack removes a whole stack through deploy's Remove: services first, then, once their
// tasks are gone, secrets, configs and networks, and volumes only when asked.
func RemoveStack(ctx context.Context, d *deploy.Deployer, stack string, volumes bool) (*deploy.Removal, error) {
	r, err := d.Remove(ctx, stack, deploy.RemoveOptions{Volumes: volumes})
	if err != nil {
		return r, fmt.Errorf("inventory: %w", err)
	}
	return r, nil
}

// RemoveObject removes one object outside any stack by its ID (a volume by its name). An
// object that is already gone counts as removed; one still in use is the engine's error.
// Predefined networks are refused without asking the engine.
func RemoveObject(ctx context.Context, e deploy.Engine, o Object) error {
	var err error
	switch o.Kind {
	case KindService:
		err = e.ServiceRemove(ctx, o.ID)
	case KindNetwork:
		if o.Predefined {
			return fmt.Errorf("inventory: remove network %s: predefined networks cannot be removed", o.Name)
		}
		err = e.NetworkRemove(ctx, o.ID)
	case KindSecret:
		err = e.SecretRemove(ctx, o.ID)
	case KindConfig:
		err = e.ConfigRemove(ctx, o.ID)
	case KindVolume:
		err = e.VolumeRemove(ctx, o.Name, false)
	default:
		return fmt.Errorf("inventory: remove %s %s: unknown kind", o.Kind, o.Name)
	}
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inventory: remove %s %s: %w", o.Kind, o.Name, err)
	}
	return nil
}
