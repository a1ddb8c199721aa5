package foldhash_test

import (
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/foldhash"
)

func TestFold(t *testing.T) {
	if foldhash.String("Microsoft.NETCore.App") != foldhash.String("microsoft.netcore.app") {
		t.Error("case must not change the hash")
	}
	if foldhash.String("a.b") == foldhash.String("ab") {
		t.Error("dots count in String")
	}
	prop := foldhash.Add(foldhash.Add(foldhash.Start, "Microsoft.NET-Sdk", true), "PackageVersion", false)
	if prop != foldhash.String("microsoftnetsdkpackageversion") {
		t.Error("Add with skipDotDash must hash like the property name")
	}
	for _, tc := range []struct {
		name, dep, suffix string
		want              bool
	}{
		{"MicrosoftNETSdkPackageVersion", "Microsoft.NET.Sdk", "PackageVersion", true},
		{"microsoftnetsdkversion", "Microsoft.NET-Sdk", "Version", true},
		{"MicrosoftNETSdkVersion", "Microsoft.NET.Sdk", "PackageVersion", false},
		{"MicrosoftNETSdkPackageVersionX", "Microsoft.NET.Sdk", "PackageVersion", false},
		{"Micro", "Microsoft", "", false},
	} {
		if got := foldhash.EqualPropertyName(tc.name, tc.dep, tc.suffix); got != tc.want {
			t.Errorf("EqualPropertyName(%s, %s, %s) = %v", tc.name, tc.dep, tc.suffix, got)
		}
	}
	if !foldhash.Equal("System.Text.Json", "SYSTEM.TEXT.JSON") || foldhash.Equal("a", "ab") {
		t.Error("Equal")
	}
}
