package wire

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimestampReadsEveryLayoutVendorsWrite(t *testing.T) {
	want := time.Date(2026, 12, 2, 21, 54, 22, 500_000_000, time.UTC)
	for _, in := range []string{
		`"2026-12-02T21:54:22.5Z"`, `"2026-12-02T22:54:22.5+01:00"`,
		`"2026-12-02T21:54:22.5"`, `"2026-12-02 21:54:22.5Z"`, `"2026-12-02 21:54:22.5"`,
	} {
		var ts Timestamp
		if err := json.Unmarshal([]byte(in), &ts); err != nil || !ts.Equal(want) {
			t.Errorf("%s: got %v, %v; want %v", in, ts.Time, err, want)
		}
	}
}

// One odd value leaves that time zero and the rest of the list readable.
func TestTimestampNeverFailsAList(t *testing.T) {
	var list []struct {
		At Timestamp `json:"at"`
	}
	if err := json.Unmarshal([]byte(`[{"at":null},{"at":12345},{"at":"yesterday"},{"at":"2026-01-02T03:04:05Z"}]`), &list); err != nil {
		t.Fatal(err)
	}
	for i, e := range list[:3] {
		if !e.At.IsZero() {
			t.Errorf("entry %d: %v, want zero", i, e.At)
		}
	}
	if list[3].At.Year() != 2026 {
		t.Errorf("the good entry was not read: %v", list[3].At)
	}
}

func TestTimestampRoundTrip(t *testing.T) {
	b, _ := json.Marshal(struct{ A, B Timestamp }{A: Timestamp{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}})
	if string(b) != `{"A":"2026-01-02T03:04:05Z","B":null}` {
		t.Errorf("encoded %s", b)
	}
}
