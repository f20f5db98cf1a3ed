package checks

import (
	"strings"
	"testing"

	"github.com/swarmrun/swarmrun/internal/mask"
)

func TestMaskedTailMasksBeforeCutting(t *testing.T) {
	m := mask.New("s3cr3t-value-9876")
	out := "connecting with s3cr3t-value-9876"
	for max := 1; max <= len(out); max++ {
		got := maskedTail(m, out, max)
		for i := 4; i < len("s3cr3t-value-9876"); i++ {
			if suffix := "s3cr3t-value-9876"[i:]; len(suffix) >= 4 && strings.Contains(got, suffix) {
				t.Fatalf("max %d: %q carries the secret's suffix %q", max, got, suffix)
			}
		}
	}
	if got := maskedTail(m, out, 100); got != "connecting with "+mask.Masked {
		t.Errorf("maskedTail = %q", got)
	}
}
