package metrics

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Version is the release twinid was built as, set at link time
// (-ldflags "-X github.com/twinid/twinid/server/metrics.Version=v1.2.3"; make build does).
// Empty: the module version the Go toolchain recorded ("(devel)" for a local build).
var Version string

// Build describes the running binary: its version, the VCS revision it was built from
// ("unknown" without one) and the Go version.
type Build struct {
	Version, Revision, GoVersion string
}

// BuildInfo reads the Build of this binary.
func BuildInfo() Build {
	b := Build{Version: Version, Revision: "unknown", GoVersion: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				b.Revision = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	return b
}

// buildInfo is the twinid_build_info series: 1, labelled with the binary's Build.
func buildInfo() prometheus.Collector {
	b := BuildInfo()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "twinid_build_info", Help: "Always 1; its labels name the running binary's version, VCS revision and Go version.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion},
	})
	g.Set(1)
	return g
}
