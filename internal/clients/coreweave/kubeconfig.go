package coreweave

import (
	"sigs.k8s.io/yaml"
)

// kubeconfig types: the fields of clientcmd's v1 Config that a token kubeconfig uses, so that
// the YAML is produced by a marshaller (quoting is never hand-made) without importing
// clientcmd and its dependencies.
type kubeconfigFile struct {
	APIVersion     string            `json:"apiVersion"`
	Kind           string            `json:"kind"`
	Clusters       []kubeconfigNamed `json:"clusters"`
	Contexts       []kubeconfigNamed `json:"contexts"`
	CurrentContext string            `json:"current-context"`
	Users          []kubeconfigNamed `json:"users"`
	Preferences    map[string]any    `json:"preferences"`
}

type kubeconfigNamed struct {
	Name    string         `json:"name"`
	Cluster map[string]any `json:"cluster,omitempty"`
	Context map[string]any `json:"context,omitempty"`
	User    map[string]any `json:"user,omitempty"`
}

// Kubeconfig builds a kubeconfig for a CKS cluster: its API server endpoint and the CoreWeave
// token as bearer token (CKS accepts the platform token). It holds the token: it is a secret
// (the provider marks it Sensitive) and must never be logged.
func Kubeconfig(clusterName, endpoint, token string) string {
	name := "coreweave-" + clusterName
	cfg := kubeconfigFile{
		APIVersion: "v1",
		Kind:       "Config",
		Clusters:   []kubeconfigNamed{{Name: name, Cluster: map[string]any{"server": endpoint}}},
		Contexts: []kubeconfigNamed{{Name: name, Context: map[string]any{
			"cluster": name, "user": name,
		}}},
		CurrentContext: name,
		Users:          []kubeconfigNamed{{Name: name, User: map[string]any{"token": token}}},
		Preferences:    map[string]any{},
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return "" // cannot happen: the value is made of strings and maps
	}
	return string(b)
}
