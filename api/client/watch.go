package client

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
)

// Watch streams the changes to objects of kind after resourceVersion since ("" for from now),
// like store.Store.Watch. The channel closes after a Relist event, when ctx ends, or when the
// stream breaks; in every case but ctx's end, list again and watch from the list's
// resourceVersion.
func (c *Client) Watch(ctx context.Context, kind, since string) (<-chan store.WatchEvent, error) {
	if _, err := store.NewObject(kind); err != nil {
		return nil, err
	}
	q := url.Values{"watch": {"1"}}
	if since != "" {
		q.Set("resourceVersion", since)
	}
	resp, err := c.send(ctx, http.MethodGet, server.Path(kind, "", "")+"?"+q.Encode(), "", nil)
	if err != nil {
		return nil, err
	}
	ch := make(chan store.WatchEvent, 64)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			ev, ok := decodeLine(kind, sc.Bytes())
			if !ok {
				return
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
			if ev.Type == store.Relist {
				return
			}
		}
	}()
	return ch, nil
}

func decodeLine(kind string, b []byte) (store.WatchEvent, bool) {
	var line server.WatchLine
	if err := json.Unmarshal(b, &line); err != nil {
		return store.WatchEvent{}, false
	}
	ev := store.WatchEvent{Type: store.EventType(line.Type)}
	if ev.Type == store.Relist {
		return ev, true
	}
	obj, err := store.NewObject(kind)
	if err != nil {
		return store.WatchEvent{}, false
	}
	if err := json.Unmarshal(line.Object, obj); err != nil {
		return store.WatchEvent{}, false
	}
	ev.Object = obj
	return ev, true
}
