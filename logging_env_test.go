package main

import (
	"os"
	"testing"
)

func TestTerraformProviderLogLevel(t *testing.T) {
	for _, c := range []struct{ provider, global, want string }{
		{"", "", "OFF"},           // Terraform keeps no provider line
		{"", "debug", "DEBUG"},    // TF_LOG alone
		{"info", "trace", "INFO"}, // TF_LOG_PROVIDER wins over TF_LOG
		{"", "json", "TRACE"},     // TF_LOG=JSON is TRACE in JSON
		{"", "verbose", "TRACE"},  // Terraform warns and keeps everything
		{"off", "trace", "OFF"},   // providers silenced on purpose
		{"WARN", "", "WARN"},
	} {
		if got := terraformProviderLogLevel(c.provider, c.global); got != c.want {
			t.Errorf("TF_LOG_PROVIDER=%q TF_LOG=%q: level %q, want %q", c.provider, c.global, got, c.want)
		}
	}
}

func TestMatchTerraformLogLevel(t *testing.T) {
	t.Setenv("TF_LOG", "")
	t.Setenv("TF_LOG_PROVIDER", "info")
	t.Setenv("TF_LOG_SDK", "")
	t.Setenv("TF_LOG_SDK_FRAMEWORK", "")
	t.Setenv("TF_LOG_SDK_PROTO", "")
	t.Setenv("TF_LOG_PROVIDER_NEOCLOUD", "trace") // set by the user: kept
	matchTerraformLogLevel()
	for name, want := range map[string]string{
		"TF_LOG_SDK": "INFO", "TF_LOG_SDK_FRAMEWORK": "INFO", "TF_LOG_SDK_PROTO": "INFO", "TF_LOG_PROVIDER_NEOCLOUD": "trace",
	} {
		if got := os.Getenv(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}
