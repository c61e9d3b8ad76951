// Package platform reports the OCI platform this binary was built for, such
// as "linux/arm64" or "linux/arm/v7".
package platform

import (
	"runtime"
	"runtime/debug"
)

// Current is the platform of the running binary. The arm variant is not in
// the ELF header, so it comes from the GOARM build setting that the Go
// toolchain records in the binary.
func Current() string {
	return Format(runtime.GOOS, runtime.GOARCH, buildSetting("GOARM"))
}

// Format spells a platform the OCI way: arm carries its variant ("v7"),
// other architectures carry none.
func Format(goos, goarch, goarm string) string {
	p := goos + "/" + goarch
	if goarch == "arm" && goarm != "" {
		p += "/v" + goarm
	}
	return p
}

func buildSetting(key string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}
