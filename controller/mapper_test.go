package controller

import (
	"reflect"
	"testing"
)

func TestLabelMapper(t *testing.T) {
	m := LabelMapper("swarmrun.dev/testrun", "TestRun")
	tests := []struct {
		name   string
		labels map[string]string
		want   []Request
	}{
		{name: "owned", labels: map[string]string{"swarmrun.dev/testrun": "disc-pr4", "other": "x"},
			want: []Request{{Kind: "TestRun", Name: "disc-pr4"}}},
		{name: "unlabelled", labels: map[string]string{"com.docker.stack.namespace": "traefik"}},
		{name: "empty value", labels: map[string]string{"swarmrun.dev/testrun": ""}},
		{name: "no labels", labels: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m(tt.labels); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEventMapperHandler(t *testing.T) {
	var got []Request
	handle := LabelMapper("swarmrun.dev/warm", "Recipe").Handler(func(r Request) { got = append(got, r) })
	handle(map[string]string{"swarmrun.dev/warm": "discourse"})
	handle(map[string]string{"swarmrun.dev/testrun": "disc-pr4"})
	want := []Request{{Kind: "Recipe", Name: "discourse"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("enqueued %v, want %v", got, want)
	}
}
