package runpod

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"time"
)

// Template categories (schema TemplateCategory) and catalog slices (listPublicTemplates'
// source).
const (
	categoryNVIDIA = "NVIDIA"

	sourceOfficial  = "official"
	sourceVerified  = "verified"
	sourceCommunity = "community"
)

// template is a container-configuration preset (schema Template): one of the account's own
// (owned, in Emulator.templates) or one of the public catalog (catalogTemplates, with a source).
type template struct {
	id, name     string
	image, args  string
	disk         int
	ports        []string
	env          map[string]string
	registry     *string
	persistent   *persistentMount
	serverless   bool
	public       bool
	category     string
	startSSH     bool
	startJupyter bool
	cudas        []string

	owned     bool
	source    string // catalog templates only
	createdAt time.Time
}

// clone copies a template so that applying it never shares its slices and maps.
func (t *template) clone() *template {
	c := *t
	c.ports, c.cudas, c.env = slices.Clone(t.ports), slices.Clone(t.cudas), maps.Clone(t.env)
	if t.registry != nil {
		c.registry = ptr(*t.registry)
	}
	if t.persistent != nil {
		c.persistent = ptr(*t.persistent)
	}
	return &c
}

// catalogTemplates is the public template catalog: RunPod-curated (official), verified community
// and other community templates, pod and serverless ones, as GET /v2/catalog/templates lists
// them. Their ids are readable, like RunPod's own official template ids.
var catalogTemplates = []*template{
	{
		id: "runpod-torch-v240", name: "Runpod Pytorch 2.4.0", source: sourceOfficial,
		image: "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04", disk: 50,
		ports: []string{"8888/http", "22/tcp"}, env: map[string]string{},
		persistent: &persistentMount{Size: 20, Path: "/workspace"},
		public:     true, category: categoryNVIDIA, startSSH: true, startJupyter: true, cudas: []string{},
	},
	{
		id: "runpod-ubuntu", name: "Runpod Ubuntu", source: sourceOfficial,
		image: "runpod/base:0.6.2-cuda12.4.1", disk: 20,
		ports: []string{"22/tcp"}, env: map[string]string{},
		public: true, category: categoryNVIDIA, startSSH: true, cudas: []string{},
	},
	{
		id: "runpod-worker-vllm", name: "Runpod vLLM worker", source: sourceOfficial, serverless: true,
		image: "runpod/worker-v1-vllm:v2.4.0", disk: 20, ports: []string{},
		env:    map[string]string{"MODEL_NAME": "meta-llama/Llama-3.1-8B-Instruct"},
		public: true, category: categoryNVIDIA, cudas: []string{"12.4", "12.6", "12.8"},
	},
	{
		id: "axolotl-finetune", name: "Axolotl fine-tuning", source: sourceVerified,
		image: "axolotlai/axolotl-cloud:main-latest", disk: 100,
		ports: []string{"8888/http", "22/tcp"}, env: map[string]string{"WANDB_MODE": "offline"},
		persistent: &persistentMount{Size: 200, Path: "/workspace"},
		public:     true, category: categoryNVIDIA, startSSH: true, startJupyter: true, cudas: []string{"12.4", "12.6", "12.8"},
	},
	{
		id: "comfyui-community", name: "ComfyUI", source: sourceCommunity,
		image: "comfyanonymous/comfyui:latest", disk: 40,
		ports: []string{"8188/http"}, env: map[string]string{},
		public: true, category: categoryNVIDIA, startJupyter: false, cudas: []string{},
	},
}

// lookupTemplate finds a template the account can read: one of its own or a catalog one. The
// copy is the caller's. Called with e.mu held.
func (e *Emulator) lookupTemplate(id string) *template {
	if t := e.templates[id]; t != nil {
		return t.clone()
	}
	for _, t := range catalogTemplates {
		if t.id == id {
			return t.clone()
		}
	}
	return nil
}

type templateMountsJSON struct {
	Persistent *persistentMount `json:"persistent,omitempty"`
}

// templateJSON is schema Template; every field is required there, so none is omitted.
type templateJSON struct {
	ID                  string             `json:"id"`
	Name                string             `json:"name"`
	Image               string             `json:"image"`
	Args                string             `json:"args"`
	Disk                int                `json:"disk"`
	Mounts              templateMountsJSON `json:"mounts"`
	Ports               []string           `json:"ports"`
	Env                 map[string]string  `json:"env"`
	Registry            *string            `json:"registry"`
	Serverless          bool               `json:"serverless"`
	Public              bool               `json:"public"`
	Category            string             `json:"category"`
	StartSSH            bool               `json:"startSsh"`
	StartJupyter        bool               `json:"startJupyter"`
	AllowedCudaVersions []string           `json:"allowedCudaVersions"`
}

func (t *template) json() templateJSON {
	out := templateJSON{
		ID: t.id, Name: t.name, Image: t.image, Args: t.args, Disk: t.disk,
		Mounts: templateMountsJSON{Persistent: t.persistent},
		Ports:  nonNil(slices.Clone(t.ports)), Env: maps.Clone(t.env),
		Serverless: t.serverless, Public: t.public, Category: t.category,
		StartSSH: t.startSSH, StartJupyter: t.startJupyter, AllowedCudaVersions: nonNil(slices.Clone(t.cudas)),
	}
	if out.Env == nil {
		out.Env = map[string]string{}
	}
	// "registry is always null for templates you don't own."
	if t.owned {
		out.Registry = t.registry
	}
	return out
}

// templateMountsSchema is TemplateMounts: a single persistent mount; a network mount is a 422.
var templateMountsSchema = object(map[string]*schema{
	"persistent": object(map[string]*schema{"size": integer(10), "path": str()}, "size", "path"),
})

// templateProps are the properties of CreateTemplateRequest and UpdateTemplateRequest.
func templateProps() map[string]*schema {
	return containerProps(map[string]*schema{
		"registry":            str().orNull(),
		"name":                nonEmpty(),
		"allowedCudaVersions": arrayOf(matching(cudaPattern)),
		"category":            enum("CPU", "NVIDIA", "AMD"),
		"mounts":              templateMountsSchema,
		"public":              boolean(),
		"serverless":          boolean(),
		"startJupyter":        boolean(),
		"startSsh":            boolean(),
	})
}

var (
	createTemplateSchema = object(templateProps(), "name", "image")
	updateTemplateSchema = object(templateProps())
)

// templateRequest is the body of createTemplate and updateTemplate; pointers tell an absent
// field from a zero one (an explicit null registry is told apart with the raw body).
type templateRequest struct {
	Name                *string           `json:"name"`
	Image               *string           `json:"image"`
	Args                *string           `json:"args"`
	Disk                *int              `json:"disk"`
	Env                 map[string]string `json:"env"`
	Ports               []string          `json:"ports"`
	Registry            *string           `json:"registry"`
	AllowedCudaVersions []string          `json:"allowedCudaVersions"`
	Category            *string           `json:"category"`
	Mounts              *struct {
		Persistent *persistentMount `json:"persistent"`
	} `json:"mounts"`
	Public       *bool `json:"public"`
	Serverless   *bool `json:"serverless"`
	StartJupyter *bool `json:"startJupyter"`
	StartSSH     *bool `json:"startSsh"`
}

// apply sets the fields present in a create or update body. Called with e.mu held, after
// validation.
func (t *template) apply(req *templateRequest, raw map[string]any) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&t.name, req.Name)
	set(&t.image, req.Image)
	set(&t.args, req.Args)
	set(&t.category, req.Category)
	if req.Disk != nil {
		t.disk = *req.Disk
	}
	if _, ok := raw["env"]; ok {
		t.env = maps.Clone(req.Env)
	}
	if _, ok := raw["ports"]; ok {
		t.ports = slices.Clone(req.Ports)
	}
	if _, ok := raw["registry"]; ok {
		t.registry = req.Registry // an explicit null clears it
	}
	if _, ok := raw["allowedCudaVersions"]; ok {
		t.cudas = slices.Clone(req.AllowedCudaVersions) // [] clears the constraint
	}
	// Omitted mounts, or {}, leave the mount as it is.
	if req.Mounts != nil && req.Mounts.Persistent != nil {
		t.persistent = ptr(*req.Mounts.Persistent)
	}
	for dst, v := range map[*bool]*bool{&t.public: req.Public, &t.serverless: req.Serverless, &t.startJupyter: req.StartJupyter, &t.startSSH: req.StartSSH} {
		if v != nil {
			*dst = *v
		}
	}
}

// checkTemplateBody enforces the rules the schema does not state: the port format and a
// credential that exists. Called with e.mu held.
func (e *Emulator) checkTemplateBody(req *templateRequest) error {
	if err := checkPorts(req.Ports); err != nil {
		return err
	}
	return e.checkRegistry(req.Registry, http.StatusBadRequest)
}

// sortedTemplates returns the account's templates oldest first. Called with e.mu held.
func (e *Emulator) sortedTemplates() []*template {
	ts := slices.Collect(maps.Values(e.templates))
	slices.SortFunc(ts, func(a, b *template) int {
		return cmp.Or(a.createdAt.Compare(b.createdAt), cmp.Compare(a.id, b.id))
	})
	return ts
}

// listTemplates lists the account's own templates, public or private.
func (e *Emulator) listTemplates(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []templateJSON{}
	for _, t := range e.sortedTemplates() {
		out = append(out, t.json())
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": out})
}

// createTemplate stores a template with the document's defaults for what the body leaves out:
// category NVIDIA, private, for pods, startSsh and startJupyter true, any CUDA version.
func (e *Emulator) createTemplate(w http.ResponseWriter, r *http.Request) {
	var req templateRequest
	raw, err := decodeBody(r, createTemplateSchema, &req)
	if err != nil {
		writeErr(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.checkTemplateBody(&req); err != nil {
		writeErr(w, err)
		return
	}
	t := &template{
		id: newID(10), disk: defaultDisk, category: categoryNVIDIA, startSSH: true, startJupyter: true,
		ports: []string{}, env: map[string]string{}, cudas: []string{}, owned: true, createdAt: time.Now(),
	}
	t.apply(&req, raw)
	e.templates[t.id] = t
	writeJSON(w, http.StatusCreated, t.json())
}

// getTemplate reads any template the account can read: its own or a catalog one.
func (e *Emulator) getTemplate(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.lookupTemplate(r.PathValue("id"))
	if t == nil {
		writeProblem(w, http.StatusNotFound, "template not found")
		return
	}
	writeJSON(w, http.StatusOK, t.json())
}

// updateTemplate patches one of the account's templates; catalog templates are readable but
// answer 404 here. Pods made from the template earlier are not changed.
func (e *Emulator) updateTemplate(w http.ResponseWriter, r *http.Request) {
	var req templateRequest
	raw, err := decodeBody(r, updateTemplateSchema, &req)
	if err != nil {
		writeErr(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.templates[r.PathValue("id")]
	if t == nil {
		writeProblem(w, http.StatusNotFound, "template not found")
		return
	}
	if err := e.checkTemplateBody(&req); err != nil {
		writeErr(w, err)
		return
	}
	t.apply(&req, raw)
	writeJSON(w, http.StatusOK, t.json())
}

// deleteTemplate deletes one of the account's templates. The document refuses it while a pod's
// template field or a serverless endpoint references it; pods here never keep a link (template
// stays null) and endpoints are not emulated, so nothing refuses it.
func (e *Emulator) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := r.PathValue("id")
	if e.templates[id] == nil {
		writeProblem(w, http.StatusNotFound, "template not found")
		return
	}
	delete(e.templates, id)
	w.WriteHeader(http.StatusNoContent)
}

// maxCatalogTemplates is the most templates listPublicTemplates returns (no pagination yet).
const maxCatalogTemplates = 100

// listPublicTemplates lists one slice of the public catalog (source, default official).
func (e *Emulator) listPublicTemplates(w http.ResponseWriter, r *http.Request) {
	source := sourceOfficial
	if v := r.URL.Query(); v.Has("source") {
		source = v.Get("source")
		if !slices.Contains([]string{sourceOfficial, sourceVerified, sourceCommunity}, source) {
			writeProblem(w, http.StatusUnprocessableEntity, validationDetail, "query.source: value must be one of 'official', 'verified', 'community'")
			return
		}
	}
	out := []templateJSON{}
	for _, t := range catalogTemplates {
		if t.source == source && len(out) < maxCatalogTemplates {
			out = append(out, t.json())
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": out})
}

// podTemplate resolves the templateId of a pod create or update: a template the account can
// read (404 otherwise) that is not a serverless one (422). Called with e.mu held.
func (e *Emulator) podTemplate(id string) (*template, error) {
	t := e.lookupTemplate(id)
	switch {
	case t == nil:
		return nil, errorf(http.StatusNotFound, "template %q not found; see GET /v2/templates and GET /v2/catalog/templates", id)
	case t.serverless:
		return nil, &httpError{status: http.StatusUnprocessableEntity, detail: validationDetail,
			errs: []string{"$.templateId: template " + id + " is a serverless template; a pod needs a pod template"}}
	}
	return t, nil
}

// applyToCreate spreads the template into a pod create: every container setting the body leaves
// out comes from the template (image, args, disk, ports, registry, persistent mount, startSsh,
// startJupyter), env is merged per key with the body winning, and the template's CUDA versions
// seed the GPU's unless the body sends either CUDA field. CPU pods take neither the persistent
// mount nor the CUDA constraint.
func (t *template) applyToCreate(req *createPodRequest, raw map[string]any) {
	absent := func(k string) bool { _, ok := raw[k]; return !ok }
	if absent("image") {
		req.Image = t.image
	}
	if absent("args") {
		req.Args = t.args
	}
	if absent("disk") {
		req.Disk = ptr(t.disk)
	}
	if absent("ports") {
		req.Ports = slices.Clone(t.ports)
	}
	if absent("registry") {
		req.Registry = t.registry
	}
	if absent("startSsh") {
		req.StartSSH = t.startSSH
	}
	if absent("startJupyter") {
		req.StartJupyter = t.startJupyter
	}
	env := maps.Clone(t.env)
	if env == nil {
		env = map[string]string{}
	}
	maps.Copy(env, req.Env)
	req.Env = env
	if req.GPU == nil {
		return
	}
	if absent("mounts") && t.persistent != nil {
		req.Mounts = &mountsRequest{Persistent: ptr(*t.persistent)}
	}
	gpu, _ := raw["gpu"].(map[string]any)
	_, hasIn := gpu["allowedCudaVersions"]
	_, hasMin := gpu["minCudaVersion"]
	if !hasIn && !hasMin && len(t.cudas) > 0 {
		req.GPU.AllowedCudaVersions = slices.Clone(t.cudas)
	}
}

// applyToUpdate spreads the template into a pod PATCH as if its container settings (image, args,
// disk, ports, env, registry; never mounts) were in the body: fields of the body win, env merges
// the template's and the body's per key and, as any PATCH of env, replaces the pod's. raw is
// updated to match, since the PATCH logic reads field presence from it.
func (t *template) applyToUpdate(req *updatePodRequest, raw map[string]any) {
	absent := func(k string) bool { _, ok := raw[k]; return !ok }
	if absent("image") {
		req.Image, raw["image"] = ptr(t.image), t.image
	}
	if absent("args") {
		req.Args, raw["args"] = ptr(t.args), t.args
	}
	if absent("disk") {
		req.Disk, raw["disk"] = ptr(t.disk), t.disk
	}
	if absent("ports") {
		req.Ports, raw["ports"] = slices.Clone(t.ports), t.ports
	}
	if absent("registry") {
		req.Registry, raw["registry"] = t.registry, t.registry
	}
	env := maps.Clone(t.env)
	if env == nil {
		env = map[string]string{}
	}
	maps.Copy(env, req.Env)
	req.Env, raw["env"] = env, env
}
