// Package wire holds JSON wire types that more than one vendor API shares.
package wire

import (
	"bytes"
	"encoding/json"
	"time"
)

// Timestamp is an ISO 8601 / RFC 3339 date-time as vendor APIs write it: with or without a zone,
// with a "T" or a space between date and time, or null. Decoding never fails on an unexpected
// layout or a non-string value (the time is left zero instead), so that one odd timestamp cannot
// make a whole list of machines unreadable. It encodes as RFC 3339, or null for the zero time.
type Timestamp struct{ time.Time }

var layouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// UnmarshalJSON reads a date-time string, or null.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) || json.Unmarshal(b, &s) != nil {
		return nil //nolint:nilerr // lenient by design: a value that is not a string reads as no time
	}
	for _, layout := range layouts {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return nil
}

// MarshalJSON writes RFC 3339, or null for the zero time.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Format(time.RFC3339Nano))
}
