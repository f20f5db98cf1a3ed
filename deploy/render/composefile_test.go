package render

import (
	"slices"
	"testing"
)

func TestComposeFiles(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{"compose.yml"}},
		{"  ", []string{"compose.yml"}},
		{":", []string{"compose.yml"}},
		{"compose.yml", []string{"compose.yml"}},
		{"compose.yml:compose.smtp.yml", []string{"compose.yml", "compose.smtp.yml"}},
		{"compose.yml::compose.smtp.yml:", []string{"compose.yml", "compose.smtp.yml"}},
		{" compose.yml : compose.x.yml ", []string{"compose.yml", "compose.x.yml"}},
		{"compose.b.yml:compose.a.yml", []string{"compose.b.yml", "compose.a.yml"}},
	}
	for _, tt := range tests {
		if got := ComposeFiles(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("ComposeFiles(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
