package main

import (
	"os"
	"slices"
	"strings"
)

// Terraform reads every line a provider writes to its log and keeps only those at or above its
// provider log level: TF_LOG_PROVIDER, else TF_LOG, and none at all when both are unset. The
// plugin SDK's loggers, left alone, write everything at TRACE: at a refresh of a hundred
// machines the framework's trace lines alone took a third of the provider's CPU, for lines
// Terraform then parsed and dropped.
//
// matchTerraformLogLevel sets the level of the provider's own root logger and of the SDK's
// (framework, protocol) to Terraform's provider level, where the user has not set them, so
// the provider writes what Terraform keeps and nothing else. A level set explicitly
// (TF_LOG_PROVIDER_NEOCLOUD, TF_LOG_SDK, ...) is left as it is.
func matchTerraformLogLevel() {
	level := terraformProviderLogLevel(os.Getenv("TF_LOG_PROVIDER"), os.Getenv("TF_LOG"))
	for _, name := range providerLogLevelVars {
		if os.Getenv(name) == "" {
			_ = os.Setenv(name, level)
		}
	}
}

// providerLogLevelVars are the variables the loggers of this provider read their level from:
// its root logger (terraform-plugin-go names it after the provider), the SDK root logger and
// the SDK's subsystems. The cloud subsystems (TF_LOG_PROVIDER_NEOCLOUD_LAMBDA, ...) follow the
// provider's root logger when unset.
var providerLogLevelVars = []string{
	"TF_LOG_PROVIDER_NEOCLOUD",
	"TF_LOG_SDK",
	"TF_LOG_SDK_FRAMEWORK",
	"TF_LOG_SDK_PROTO",
}

// terraformProviderLogLevel is the level Terraform keeps a provider's log lines at, as Terraform
// reads it: provider over global, unset is off, JSON and anything it does not recognise are
// TRACE.
func terraformProviderLogLevel(provider, global string) string {
	level := strings.ToUpper(provider)
	if level == "" {
		level = strings.ToUpper(global)
	}
	switch {
	case level == "":
		return "OFF"
	case slices.Contains([]string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF"}, level):
		return level
	default:
		return "TRACE"
	}
}
