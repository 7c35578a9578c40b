package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	_ "github.com/neocloud/terraform-provider-neocloud/internal/clients/all" // registers every cloud
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
)

// The GPU tables of the provider page: which GPU each cloud sells, in how many GPUs per machine
// and per cluster node. They come from the GPU catalog (internal/clients/gpus) and from each
// cloud adapter's own plan-time rules (ResolveInstanceType, the instance and cluster
// validators, ClusterRules), so they say exactly what `terraform plan` accepts. No API is
// called: CoreWeave's list prices come from the adapter's static price list.

const (
	// maxCount is the largest GPU count per machine tried against each cloud.
	maxCount = 16
	// staticPriceCloud is the cloud whose Offers reads a static list price table and calls no
	// API (CoreWeave publishes no price API).
	staticPriceCloud = "coreweave"
)

// preferredOrder is the column order; clouds registered later are appended.
var preferredOrder = []string{"lambda", "runpod", "coreweave"}

type cloud struct {
	name, title string
	api         clients.Cloud
}

func loadClouds() ([]cloud, error) {
	names := slices.Clone(preferredOrder)
	for _, n := range clients.Names() {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var out []cloud
	for _, n := range names {
		info, ok := clients.Lookup(n)
		if !ok {
			continue
		}
		// A placeholder key: building an adapter calls no API, and neither do the plan-time
		// checks used here.
		api, err := info.New(clients.Settings{APIKey: "gen-gpu-matrix"})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		out = append(out, cloud{name: n, title: info.DisplayName, api: api})
	}
	return out, nil
}

// shape is one GPU count a cloud sells a GPU in, and the cloud's id for it.
type shape struct {
	count  int
	native string
}

// resolvedShapes lists the counts ResolveInstanceType accepts for a GPU name or native id.
func resolvedShapes(c cloud, gpu string) []shape {
	var out []shape
	for n := 1; n <= maxCount; n++ {
		it, err := c.api.ResolveInstanceType(gpu, n)
		if err == nil && it.GPUCount == n {
			out = append(out, shape{count: n, native: it.Name})
		}
	}
	return out
}

// refuses reports whether plan-time objections include one on the GPU type or count.
func refuses(errs []clients.FieldError) bool {
	for _, fe := range errs {
		switch fe.Field {
		case "gpu_type", "gpu_count", "gpus_per_node":
			return true
		}
	}
	return false
}

// machineShapes lists the counts a neocloud_gpu_instance of the GPU can have on the cloud: what
// ResolveInstanceType accepts and the cloud's instance validator does not refuse (CoreWeave's
// rack-scale types, for one, are clusters only).
func machineShapes(c cloud, gpu string) []shape {
	validator, _ := c.api.(clients.InstanceValidator)
	var out []shape
	for _, s := range resolvedShapes(c, gpu) {
		if validator != nil && refuses(validator.ValidateInstanceSpec(clients.InstanceSpec{Name: "matrix", GPUType: gpu, GPUCount: s.count})) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// clusterShapes lists the GPUs per node a cluster of the GPU can have on the cloud, by the same
// checks the provider runs at plan time: the cloud's rules and its cluster validator.
func clusterShapes(c cloud, gpu string) []shape {
	cc, ok := c.api.(clients.ClusterCloud)
	if !ok {
		return nil
	}
	rules := cc.ClusterRules()
	var out []shape
	for _, s := range resolvedShapes(c, gpu) {
		if len(rules.GPUsPerNode) > 0 && !slices.Contains(rules.GPUsPerNode, s.count) {
			continue
		}
		if clusterNodes(c, gpu, s.count) == 0 {
			continue
		}
		out = append(out, s)
	}
	return out
}

// clusterNodes is the smallest node count the cloud's cluster validator accepts for a cluster
// of the GPU with perNode GPUs per node (larger than the cloud's minimum for types sold by the
// rack), or 0 when it refuses the GPU type or count whatever the node count.
func clusterNodes(c cloud, gpu string, perNode int) int {
	cc, ok := c.api.(clients.ClusterCloud)
	if !ok {
		return 0
	}
	rules := cc.ClusterRules()
	validator, ok := c.api.(clients.ClusterValidator)
	if !ok {
		return rules.MinNodes
	}
	for n := rules.MinNodes; n <= rules.MaxNodes; n++ {
		errs := validator.ValidateClusterSpec(clients.ClusterSpec{Name: "matrix", GPUType: gpu, GPUsPerNode: perNode, NodeCount: n})
		if refuses(errs) {
			return 0
		}
		nodeCountOK := true
		for _, fe := range errs {
			if fe.Field == "node_count" {
				nodeCountOK = false
			}
		}
		if nodeCountOK {
			return n
		}
	}
	return 0
}

// counts spells counts as "1, 2, 4, 8", or "1–8" for a run of three or more.
func counts(shapes []shape) string {
	ns := make([]int, len(shapes))
	for i, s := range shapes {
		ns[i] = s.count
	}
	contiguous := len(ns) >= 3 && ns[len(ns)-1]-ns[0] == len(ns)-1
	if contiguous {
		return fmt.Sprintf("%d–%d", ns[0], ns[len(ns)-1])
	}
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

// natives names the cloud's ids of the shapes: one id when they share it, a pattern with <n>
// for the count when they differ only by it, else every id.
func natives(shapes []shape) string {
	var ids, patterns []string
	for _, s := range shapes {
		if !slices.Contains(ids, s.native) {
			ids = append(ids, s.native)
		}
		p := strings.Replace(s.native, strconv.Itoa(s.count)+"x", "<n>x", 1)
		if !slices.Contains(patterns, p) {
			patterns = append(patterns, p)
		}
	}
	switch {
	case len(ids) == 1:
		return "`" + ids[0] + "`"
	case len(patterns) == 1:
		return "`" + patterns[0] + "`"
	}
	return "`" + strings.Join(ids, "`, `") + "`"
}

// gpuMatrix renders the tables.
func gpuMatrix() (string, error) {
	clouds, err := loadClouds()
	if err != nil {
		return "", err
	}
	return render(clouds)
}

func render(clouds []cloud) (string, error) {
	prices, extra, err := listPrices(clouds)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	// header writes a table's header: the leading columns, then one column per cloud.
	header := func(leading []string, title func(cloud) string) {
		b.WriteString("|")
		for _, l := range leading {
			b.WriteString(" " + l + " |")
		}
		for _, c := range clouds {
			b.WriteString(" " + title(c) + " |")
		}
		b.WriteString("\n|" + strings.Repeat("---|", len(leading)+len(clouds)) + "\n")
	}

	b.WriteString("**Machines** (`neocloud_gpu_instance`): the `gpu_count` values each cloud sells a GPU in, and the cloud's own id")
	b.WriteString(" (`<n>` stands for the count).\n\n")
	header([]string{"`gpu_type`", "GPU"}, func(c cloud) string { return c.title })
	for _, g := range gpus.All() {
		fmt.Fprintf(&b, "| `%s` | %s |", g.Name, g.Description)
		for _, c := range clouds {
			shapes := machineShapes(c, g.Name)
			if len(shapes) == 0 {
				b.WriteString(" — |")
				continue
			}
			cell := counts(shapes) + " (" + natives(shapes)
			if len(shapes) == 1 {
				if p, ok := prices[c.name][shapes[0].native]; ok {
					cell += fmt.Sprintf(", $%.2f/h list", p)
				}
			}
			b.WriteString(" " + cell + ") |")
		}
		b.WriteString("\n")
	}

	b.WriteString("\n**Clusters** (`neocloud_gpu_cluster`): the `gpus_per_node` values a cluster of each GPU can have.\n\n")
	header([]string{"`gpu_type`"}, func(c cloud) string {
		cc, ok := c.api.(clients.ClusterCloud)
		if !ok {
			return c.title
		}
		r := cc.ClusterRules()
		return fmt.Sprintf("%s, %d–%d nodes", c.title, r.MinNodes, r.MaxNodes)
	})
	for _, g := range gpus.All() {
		fmt.Fprintf(&b, "| `%s` |", g.Name)
		for _, c := range clouds {
			shapes := clusterShapes(c, g.Name)
			if len(shapes) == 0 {
				b.WriteString(" — |")
				continue
			}
			b.WriteString(" " + counts(shapes) + " |")
		}
		b.WriteString("\n")
	}
	var inPlace, replaced []string
	for _, c := range clouds {
		if cc, ok := c.api.(clients.ClusterCloud); ok {
			if cc.ClusterRules().Resizable {
				inPlace = append(inPlace, c.title)
			} else {
				replaced = append(replaced, c.title)
			}
		}
	}
	b.WriteString("\n")
	if len(inPlace) > 0 {
		fmt.Fprintf(&b, "A `node_count` change is made in place on %s", strings.Join(inPlace, " and "))
		if len(replaced) > 0 {
			fmt.Fprintf(&b, "; on %s it replaces the cluster", strings.Join(replaced, " and "))
		}
		b.WriteString(".\n")
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, "\nCoreWeave node types outside the catalog, usable by their own id as `gpu_type`: %s.\n", strings.Join(extra, ", "))
	}
	return b.String(), nil
}

// listPrices reads the static list prices (USD per node-hour by instance type) of the cloud
// that has them, and describes its node types that no catalog entry resolves to.
func listPrices(clouds []cloud) (map[string]map[string]float64, []string, error) {
	prices := map[string]map[string]float64{}
	var extra []string
	for _, c := range clouds {
		if c.name != staticPriceCloud {
			continue
		}
		offers, err := c.api.Offers(context.Background(), clients.OfferFilter{})
		if err != nil {
			return nil, nil, fmt.Errorf("%s list prices: %w", c.name, err)
		}
		known := map[string]bool{}
		for _, g := range gpus.All() {
			for _, s := range resolvedShapes(c, g.Name) {
				known[s.native] = true
			}
		}
		prices[c.name] = map[string]float64{}
		slices.SortStableFunc(offers, func(a, b clients.Offer) int { return strings.Compare(a.InstanceType, b.InstanceType) })
		for _, o := range offers {
			prices[c.name][o.InstanceType] = o.PricePerHour
			if known[o.InstanceType] {
				continue
			}
			machines, clusters := len(machineShapes(c, o.InstanceType)) > 0, len(clusterShapes(c, o.InstanceType)) > 0
			var how string
			switch {
			case machines && clusters:
				how = "machines and clusters"
			case machines:
				how = "machines only"
			case clusters:
				how = "clusters only"
			default:
				how = "refused at plan time"
			}
			if clusters {
				nodes := clusterNodes(c, o.InstanceType, o.GPUCount)
				if cc, ok := c.api.(clients.ClusterCloud); ok && nodes > cc.ClusterRules().MinNodes {
					how += fmt.Sprintf(", sold by the rack: %d nodes per rack", nodes)
				}
			}
			extra = append(extra, fmt.Sprintf("`%s` (%d× %s, $%.2f/h list; %s)", o.InstanceType, o.GPUCount, o.GPUType, o.PricePerHour, how))
		}
	}
	return prices, extra, nil
}
