package runpod

import (
	"cmp"
	"net"
	"slices"
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// A pod as the neutral contract sees it: status, SSH endpoint, addresses and settings.

// neutralStatus maps a pod status onto the neutral one.
func neutralStatus(s string) string {
	switch s {
	case PodProvisioning, PodStarting:
		return clients.StatusPending
	case PodRunning:
		return clients.StatusRunning
	case PodExited:
		return clients.StatusStopped
	case PodError:
		return clients.StatusError
	case PodTerminated:
		return clients.StatusTerminated
	}
	// An unknown status is most likely a new transitional one: keep waiting rather than
	// declare the pod gone.
	return clients.StatusPending
}

// sshEndpoint is where to SSH into a pod, if known yet. A pod publishing 22/tcp is reached
// directly (ssh.direct, or the runtime mapping of port 22), which supports scp and port
// forwarding; such a pod is RUNNING before its mapping exists, and only the mapping makes it
// usable. A pod without 22/tcp can only be reached through RunPod's SSH proxy, whose user name
// is a routing token.
func sshEndpoint(p Pod) (host string, port int, user string, ok bool) {
	if p.SSH != nil && p.SSH.Direct != nil && p.SSH.Direct.Host != "" && p.SSH.Direct.Port > 0 {
		d := p.SSH.Direct
		return d.Host, d.Port, cmp.Or(d.Username, sshUser), true
	}
	if rp, ok := sshMapping(p); ok {
		return rp.IP, rp.Public, sshUser, true
	}
	if !slices.Contains(p.Ports, sshPortSpec) && p.SSH != nil && p.SSH.Proxy != nil && p.SSH.Proxy.Host != "" {
		x := p.SSH.Proxy
		return x.Host, cmp.Or(x.Port, 22), x.Username, true
	}
	return "", 0, "", false
}

// sshMapping is the runtime mapping of the pod's port 22/tcp, once it has a public port and IP.
func sshMapping(p Pod) (PodRuntimePort, bool) {
	if p.Runtime == nil {
		return PodRuntimePort{}, false
	}
	for _, rp := range p.Runtime.Ports {
		if rp.Private == 22 && strings.EqualFold(rp.Type, "tcp") && rp.Public > 0 && rp.IP != "" {
			return rp, true
		}
	}
	return PodRuntimePort{}, false
}

// publicIP is the pod's public address: the IP of its port mappings (22 first), else the
// direct SSH host when that is an address.
func publicIP(p Pod) string {
	if rp, ok := sshMapping(p); ok {
		return rp.IP
	}
	if p.Runtime != nil {
		for _, rp := range p.Runtime.Ports {
			if rp.IP != "" && rp.Public > 0 {
				return rp.IP
			}
		}
	}
	if p.SSH != nil && p.SSH.Direct != nil && net.ParseIP(p.SSH.Direct.Host) != nil {
		return p.SSH.Direct.Host
	}
	return ""
}

// InstanceFromPod maps a pod onto the neutral instance (also for cluster member pods). Ready
// means RUNNING with the SSH endpoint known (see sshEndpoint).
func InstanceFromPod(p Pod) *clients.Instance {
	inst := &clients.Instance{
		ID:           p.ID,
		Cloud:        cloudName,
		Name:         p.Name,
		Region:       p.DataCenterID,
		Status:       neutralStatus(p.Status),
		NativeStatus: p.Status,
		PublicIP:     publicIP(p),
		PricePerHour: p.Cost,
		CreatedAt:    p.CreatedAt.Time,
		Image:        p.Image,
		Options:      optionsFromPod(p),
	}
	if p.GPU != nil {
		inst.InstanceType = p.GPU.ID
		inst.GPUType = gpuName(p.GPU.ID)
		inst.GPUCount = max(p.GPU.Count, 1)
	}
	switch {
	case p.GlobalNetworking.IP != "":
		inst.PrivateIP = p.GlobalNetworking.IP
	case p.Cluster != nil:
		inst.PrivateIP = p.Cluster.IP
	}
	if host, port, user, ok := sshEndpoint(p); ok {
		inst.SSHHost, inst.SSHPort, inst.SSHUser = host, port, user
		inst.Ready = p.Status == PodRunning
	} else if slices.Contains(p.Ports, sshPortSpec) {
		inst.SSHUser = sshUser // known before the port is
	}
	if ids := p.Env[EnvSSHKeyIDs]; ids != "" {
		inst.SSHKeyIDs = strings.Split(ids, ",")
	}
	return inst
}

// managedEnv are the names of a pod's environment that the adapter manages or that came from
// its template: hidden when read, carried over when the environment is replaced.
func managedEnv(env map[string]string) []string {
	names := slices.Clone(reservedEnv)
	for _, k := range strings.Split(env[EnvTemplateKeys], ",") {
		if k != "" {
			names = append(names, k)
		}
	}
	return names
}

// optionsFromPod reads the RunPod options back from a pod. TemplateID stays empty unless
// RunPod reports it (a pod created from a template keeps no link to it) and StartSSH is never
// reported.
func optionsFromPod(p Pod) *InstanceOptions {
	o := &InstanceOptions{
		Image:           p.Image,
		CloudType:       p.Cloud,
		TemplateID:      p.Template,
		Ports:           slices.Clone(p.Ports),
		ContainerDiskGB: p.Disk,
	}
	if p.Registry != nil {
		o.RegistryCredentialID = *p.Registry
	}
	managed := managedEnv(p.Env)
	for k, v := range p.Env {
		if slices.Contains(managed, k) {
			continue
		}
		if o.Env == nil {
			o.Env = map[string]string{}
		}
		o.Env[k] = v
	}
	if m := p.Mounts.Persistent; m != nil {
		o.VolumeGB, o.VolumeMountPath = m.Size, m.Path
	}
	if len(p.Mounts.Network) > 0 {
		o.NetworkVolumeID, o.VolumeMountPath = p.Mounts.Network[0].VolumeID, p.Mounts.Network[0].Path
	}
	return o
}
