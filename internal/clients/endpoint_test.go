package clients

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint string
		insecure bool
		// want: "" accepted, "insecure" refused as ErrInsecureEndpoint, "invalid" refused otherwise.
		want string
	}{
		{endpoint: "https://cloud.lambda.ai/api/v1"},
		{endpoint: "https://emulator.invalid/api/v1"},
		{endpoint: "http://127.0.0.1:8800/api/v1"},
		{endpoint: "http://127.8.9.10/api/v1"},
		{endpoint: "http://localhost:8800/v2"},
		{endpoint: "http://LOCALHOST./v2"},
		{endpoint: "http://[::1]:8800"},
		{endpoint: "HTTP://127.0.0.1"},
		{endpoint: "http://emulator.invalid/api/v1", want: "insecure"},
		{endpoint: "http://emulator.invalid/api/v1", insecure: true},
		{endpoint: "http://10.0.0.5:8800/v2", want: "insecure"},
		{endpoint: "http://[fe80::1]/v2", want: "insecure"},
		{endpoint: "http://0.0.0.0:8800/v2", want: "insecure"},
		{endpoint: "http://localhost.emulator.invalid/v2", want: "insecure"},
		{endpoint: "http://127.0.0.1.emulator.invalid/v2", want: "insecure"},
		{endpoint: "http://user:hunter2@emulator.invalid/v2", want: "insecure"},
		{endpoint: "ftp://emulator.invalid/v2", want: "invalid"},
		{endpoint: "ftp://emulator.invalid/v2", insecure: true, want: "invalid"},
		{endpoint: "ws://127.0.0.1/v2", want: "invalid"},
		{endpoint: "emulator.invalid/v2", want: "invalid"},
		{endpoint: "", want: "invalid"},
	}
	for _, tt := range tests {
		err := CheckEndpoint(tt.endpoint, tt.insecure)
		got := ""
		switch {
		case errors.Is(err, ErrInsecureEndpoint):
			got = "insecure"
		case err != nil:
			got = "invalid"
		}
		if got != tt.want {
			t.Errorf("CheckEndpoint(%q, insecure=%v) = %v, want %q", tt.endpoint, tt.insecure, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("CheckEndpoint(%q) repeats the password: %v", tt.endpoint, err)
		}
	}
}
