package coreweave

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"

	cksv1beta1 "buf.build/gen/go/coreweave/cks/protocolbuffers/go/coreweave/cks/v1beta1"
	networkingv1beta1 "buf.build/gen/go/coreweave/networking/protocolbuffers/go/coreweave/networking/v1beta1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// connectFront lets the fake (written as the REST form of the API: JSON maps on
// /v1beta1/... paths) answer the client's Connect calls: each unary call (application/proto) is
// handed to the fake as the REST request its google.api.http annotation names, and the fake's
// JSON answer goes back as the response message. Connect errors are JSON with an HTTP status in
// both forms, so they pass through as they are, and so do dropped connections. The fake's
// recorder and its before hooks see the REST requests.
func connectFront(rest http.Handler) http.Handler {
	type route struct {
		method, path string
		withID       bool
		req, resp    func() proto.Message
	}
	const cks, net = "/coreweave.cks.v1beta1.ClusterService/", "/coreweave.networking.v1beta1.VPCService/"
	routes := map[string]route{
		cks + "ListClusters":  {"GET", "/v1beta1/cks/clusters", false, func() proto.Message { return &cksv1beta1.ListClustersRequest{} }, func() proto.Message { return &cksv1beta1.ListClustersResponse{} }},
		cks + "GetCluster":    {"GET", "/v1beta1/cks/clusters", true, func() proto.Message { return &cksv1beta1.GetClusterRequest{} }, func() proto.Message { return &cksv1beta1.GetClusterResponse{} }},
		cks + "CreateCluster": {"POST", "/v1beta1/cks/clusters", false, func() proto.Message { return &cksv1beta1.CreateClusterRequest{} }, func() proto.Message { return &cksv1beta1.CreateClusterResponse{} }},
		cks + "UpdateCluster": {"PATCH", "/v1beta1/cks/clusters", true, func() proto.Message { return &cksv1beta1.UpdateClusterRequest{} }, func() proto.Message { return &cksv1beta1.UpdateClusterResponse{} }},
		cks + "DeleteCluster": {"DELETE", "/v1beta1/cks/clusters", true, func() proto.Message { return &cksv1beta1.DeleteClusterRequest{} }, func() proto.Message { return &cksv1beta1.DeleteClusterResponse{} }},
		net + "ListVPCs":      {"GET", "/v1beta1/networking/vpcs", false, func() proto.Message { return &networkingv1beta1.ListVPCsRequest{} }, func() proto.Message { return &networkingv1beta1.ListVPCsResponse{} }},
		net + "GetVPC":        {"GET", "/v1beta1/networking/vpcs", true, func() proto.Message { return &networkingv1beta1.GetVPCRequest{} }, func() proto.Message { return &networkingv1beta1.GetVPCResponse{} }},
		net + "CreateVPC":     {"POST", "/v1beta1/networking/vpcs", false, func() proto.Message { return &networkingv1beta1.CreateVPCRequest{} }, func() proto.Message { return &networkingv1beta1.CreateVPCResponse{} }},
		net + "UpdateVPC":     {"PATCH", "/v1beta1/networking/vpcs", true, func() proto.Message { return &networkingv1beta1.UpdateVPCRequest{} }, func() proto.Message { return &networkingv1beta1.UpdateVPCResponse{} }},
		net + "DeleteVPC":     {"DELETE", "/v1beta1/networking/vpcs", true, func() proto.Message { return &networkingv1beta1.DeleteVPCRequest{} }, func() proto.Message { return &networkingv1beta1.DeleteVPCResponse{} }},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := routes[r.URL.Path]
		if !ok || r.Method != http.MethodPost {
			rest.ServeHTTP(w, r)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		in := rt.req()
		if err := proto.Unmarshal(raw, in); err != nil {
			connectErr(w, http.StatusBadRequest, "invalid_argument", "not a "+string(in.ProtoReflect().Descriptor().FullName()), nil)
			return
		}
		path := rt.path
		if rt.withID {
			path += "/" + in.ProtoReflect().Get(in.ProtoReflect().Descriptor().Fields().ByName("id")).String()
		}
		var body []byte
		if rt.method == http.MethodPost || rt.method == http.MethodPatch {
			body, _ = protojson.Marshal(in)
		}
		r2 := r.Clone(r.Context())
		r2.Method, r2.URL.Path, r2.RequestURI = rt.method, path, ""
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.ContentLength = int64(len(body))
		r2.Header.Del("Content-Type")
		if body != nil {
			r2.Header.Set("Content-Type", "application/json")
		}
		bw := &bufferedWriter{w: w, header: http.Header{}}
		rest.ServeHTTP(bw, r2)
		if bw.hijacked {
			return
		}
		if bw.status == 0 {
			bw.status = http.StatusOK
		}
		if bw.status != http.StatusOK {
			for k, v := range bw.header {
				w.Header()[k] = v
			}
			w.WriteHeader(bw.status)
			_, _ = w.Write(bw.buf.Bytes())
			return
		}
		out := rt.resp()
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(bw.buf.Bytes(), out); err != nil {
			connectErr(w, http.StatusInternalServerError, "internal", "fake answer does not fit "+string(out.ProtoReflect().Descriptor().FullName())+": "+err.Error(), nil)
			return
		}
		b, _ := proto.Marshal(out)
		w.Header().Set("Content-Type", "application/proto")
		_, _ = w.Write(b)
	})
}

// bufferedWriter keeps an answer for connectFront, but lets a handler take the connection over.
type bufferedWriter struct {
	w        http.ResponseWriter
	header   http.Header
	status   int
	buf      bytes.Buffer
	hijacked bool
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(s int) {
	if b.status == 0 {
		b.status = s
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufferedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	b.hijacked = true
	hj, ok := b.w.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return hj.Hijack()
}
