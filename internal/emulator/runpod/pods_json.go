package runpod

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// The JSON shapes of a pod (schema Pod and its parts) and how the emulator renders one.

type gpuConfigJSON struct {
	ID    string `json:"id"`
	Count int    `json:"count"`
}

type cpuConfigJSON struct {
	ID        string `json:"id"`
	VCPUCount int    `json:"vcpuCount"`
	Memory    int    `json:"memory"`
}

type mountsJSON struct {
	Persistent *persistentMount `json:"persistent,omitempty"`
	Network    []networkMount   `json:"network,omitempty"`
}

type sshEndpointJSON struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username"`
	Command  string `json:"command"`
}

type sshJSON struct {
	Proxy  *sshEndpointJSON `json:"proxy"`
	Direct *sshEndpointJSON `json:"direct"`
}

type podClusterJSON struct {
	ID   string `json:"id"`
	Rank *int   `json:"rank"`
	Role string `json:"role,omitempty"`
	IP   string `json:"ip,omitempty"`
}

type globalNetworkingJSON struct {
	Enabled     bool   `json:"enabled"`
	IP          string `json:"ip,omitempty"`
	InternalDNS string `json:"internalDns,omitempty"`
}

type utilJSON struct {
	Util int `json:"util"`
}

type gpuUtilJSON struct {
	Util       int `json:"util"`
	MemoryUtil int `json:"memoryUtil"`
}

type runtimePortJSON struct {
	Private int     `json:"private"`
	Public  *int    `json:"public"`
	Type    string  `json:"type"`
	IP      *string `json:"ip"`
}

type runtimeJSON struct {
	Uptime int               `json:"uptime"`
	GPUs   []gpuUtilJSON     `json:"gpus,omitempty"`
	CPU    utilJSON          `json:"cpu"`
	Memory utilJSON          `json:"memory"`
	Ports  []runtimePortJSON `json:"ports"`
}

type podJSON struct {
	ID               string               `json:"id"`
	Name             string               `json:"name"`
	Image            string               `json:"image"`
	Args             string               `json:"args"`
	Disk             int                  `json:"disk"`
	Ports            []string             `json:"ports"`
	Env              map[string]string    `json:"env"`
	Registry         *string              `json:"registry"`
	Status           string               `json:"status"`
	Actions          []string             `json:"actions"`
	Mounts           mountsJSON           `json:"mounts"`
	GPU              *gpuConfigJSON       `json:"gpu,omitempty"`
	CPU              *cpuConfigJSON       `json:"cpu,omitempty"`
	Cloud            string               `json:"cloud"`
	DataCenterID     *string              `json:"dataCenterId"`
	CudaVersion      *string              `json:"cudaVersion"`
	SSH              sshJSON              `json:"ssh"`
	Cluster          *podClusterJSON      `json:"cluster,omitempty"`
	Template         *string              `json:"template"`
	Cost             float64              `json:"cost"`
	Locked           bool                 `json:"locked"`
	GlobalNetworking globalNetworkingJSON `json:"globalNetworking"`
	Runtime          *runtimeJSON         `json:"runtime"`
	CreatedAt        string               `json:"createdAt"`
	StartedAt        *string              `json:"startedAt"`
}

func ptr[T any](v T) *T { return &v }

// equalPtr reports whether two optional values are both absent or equal.
func equalPtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// podJSON renders p as the API shows it at now. Called with e.mu held.
func (e *Emulator) podJSON(p *pod, now time.Time) podJSON {
	status := p.status(now)
	ready := e.portsReady(p, now)
	out := podJSON{
		ID: p.id, Name: p.name, Image: p.image, Args: p.args, Disk: p.disk,
		Ports:    slices.Clone(p.ports),
		Env:      maps.Clone(p.env),
		Registry: p.registry,
		Status:   status,
		Actions:  p.actions(now),
		Mounts:   mountsJSON{Persistent: p.persistent, Network: p.network},
		Cloud:    p.cloud,
		Locked:   p.locked,
		// Templates are applied once at create; the pod never keeps a link (always null).
		Template:  nil,
		CreatedAt: timestamp(p.createdAt),
	}
	if out.Ports == nil {
		out.Ports = []string{}
	}
	if out.Env == nil {
		out.Env = map[string]string{}
	}
	if p.gpu != nil {
		out.GPU = &gpuConfigJSON{ID: p.gpu.ID, Count: p.gpuCount}
	}
	if p.cpu != nil {
		out.CPU = &cpuConfigJSON{ID: p.cpu.ID, VCPUCount: p.vcpu, Memory: p.vcpu * p.cpu.MemPerVCPU}
	}
	if p.dc != nil {
		out.DataCenterID = ptr(p.dc.ID)
	}
	if p.cuda != "" {
		out.CudaVersion = ptr(p.cuda)
	}
	if status != statusExited && status != statusTerminated {
		out.Cost = p.hourlyCost()
	}
	if status != statusTerminated {
		// The proxy works as soon as the pod has a machine, which placement gives it at create.
		user := p.id + "-" + p.sshToken
		out.SSH.Proxy = &sshEndpointJSON{Host: "ssh.runpod.io", Port: 22, Username: user, Command: "ssh " + user + "@ssh.runpod.io"}
	}
	if pub, ok := p.publicPorts[22]; ok && ready && slices.Contains(p.ports, "22/tcp") {
		out.SSH.Direct = &sshEndpointJSON{Host: p.publicIP, Port: pub, Username: "root", Command: fmt.Sprintf("ssh root@%s -p %d", p.publicIP, pub)}
	}
	if p.clusterID != "" {
		out.Cluster = &podClusterJSON{ID: p.clusterID, Rank: ptr(p.rank), Role: p.role, IP: p.clusterIP}
	}
	if p.globalIP != "" {
		out.GlobalNetworking = globalNetworkingJSON{Enabled: true, IP: p.globalIP, InternalDNS: p.id + ".runpod.internal"}
	}
	if status == statusRunning {
		since := p.runningSince()
		out.StartedAt = ptr(timestamp(since))
		rt := &runtimeJSON{Uptime: int(now.Sub(since) / time.Second), Ports: []runtimePortJSON{}}
		for range p.gpuCount {
			rt.GPUs = append(rt.GPUs, gpuUtilJSON{})
		}
		// Port mappings are published only PortsDelay after RUNNING: readiness needs both.
		if ready {
			for _, spec := range p.ports {
				port, proto := splitPort(spec)
				rp := runtimePortJSON{Private: port, Type: proto}
				if pub, ok := p.publicPorts[port]; ok && proto == "tcp" {
					rp.Public, rp.IP = ptr(pub), ptr(p.publicIP)
				}
				rt.Ports = append(rt.Ports, rp)
			}
		}
		out.Runtime = rt
	}
	return out
}
