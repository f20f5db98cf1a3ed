package client

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
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
	return follow(ctx, resp.Body, func(b []byte) (store.WatchEvent, bool) { return decodeLine(kind, b) },
		func(ev store.WatchEvent) bool { return ev.Type == store.Relist }), nil
}

// follow reads a stream of JSON lines into a channel, a value a line, until a line does not
// decode, last says a value ends the stream (a RELIST), ctx ends or the stream ends; then it
// closes the body and the channel.
func follow[T any](ctx context.Context, body io.ReadCloser, decode func([]byte) (T, bool), last func(T) bool) <-chan T {
	ch := make(chan T, 64)
	go func() {
		defer close(ch)
		defer body.Close()
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			v, ok := decode(sc.Bytes())
			if !ok {
				return
			}
			select {
			case ch <- v:
			case <-ctx.Done():
				return
			}
			if last(v) {
				return
			}
		}
	}()
	return ch
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

// WatchEvents streams the events recorded from now on, on the object of kind named name, or
// on every object when kind and name are empty, like store.Store.WatchEvents. The channel
// closes after a Relist change, when ctx ends, or when the stream breaks; an unknown object
// is an error (store.ErrNotFound).
func (c *Client) WatchEvents(ctx context.Context, kind, name string) (<-chan store.EventChange, error) {
	path := server.EventsPath
	if kind != "" || name != "" {
		if _, err := store.NewObject(kind); err != nil {
			return nil, err
		}
		path = server.Path(kind, name, "events")
	}
	resp, err := c.send(ctx, http.MethodGet, path+"?watch=1", "", nil)
	if err != nil {
		return nil, err
	}
	return follow(ctx, resp.Body, decodeEventLine, func(ev store.EventChange) bool { return ev.Type == store.Relist }), nil
}

func decodeEventLine(b []byte) (store.EventChange, bool) {
	var line server.WatchLine
	if json.Unmarshal(b, &line) != nil {
		return store.EventChange{}, false
	}
	ev := store.EventChange{Type: store.EventType(line.Type)}
	if ev.Type != store.Relist && json.Unmarshal(line.Object, &ev.Event) != nil {
		return store.EventChange{}, false
	}
	return ev, true
}
