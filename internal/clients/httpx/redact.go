package httpx

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

const masked = "***"

// secretKey matches the names of JSON members whose whole value is a secret: keys, tokens,
// passwords, kubeconfigs.
var secretKey = regexp.MustCompile(secretName)

// sensitiveMember mentions, in a body that is not valid JSON (cut off, say), a member that
// carries user secrets: such a body is not logged at all, as it cannot be masked reliably.
var sensitiveMember = regexp.MustCompile(`(?i)"(env|environment|user_?data)"\s*:`)

// redactBody is a request or response body as it may be logged. In JSON, secret members
// (secretKey) and user data are masked whole, and environment maps keep their names with every
// value masked: the user's env carries tokens under any name (HF_TOKEN, WANDB_API_KEY, MY_VAR),
// so no pattern on values could catch them all. Other bodies are logged as they are (the
// subsystem's regex masks still apply), unless they mention such a member.
func redactBody(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		if sensitiveMember.Match(body) {
			return "(body not logged: it is not valid JSON and may hold environment variables or user data)"
		}
		return string(body)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(redactValue(v)); err != nil {
		return "(body not logged: " + err.Error() + ")"
	}
	return strings.TrimSuffix(out.String(), "\n")
}

func redactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			v[k] = redactMember(k, child)
		}
		return v
	case []any:
		for i, child := range v {
			v[i] = redactValue(child)
		}
		return v
	}
	return v
}

func redactMember(key string, v any) any {
	if v == nil {
		return nil
	}
	norm := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(key))
	switch {
	case secretKey.MatchString(key), norm == "userdata":
		return masked
	case norm == "env" || norm == "environment":
		if m, ok := v.(map[string]any); ok {
			for name := range m {
				m[name] = masked
			}
			return m
		}
		return masked
	}
	return redactValue(v)
}
