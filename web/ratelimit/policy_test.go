package ratelimit

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    Policy
		wantErr string
	}{
		{in: "100/1m", want: Policy{Limit: 100, Window: time.Minute}},
		{in: "5/10s", want: Policy{Limit: 5, Window: 10 * time.Second}},
		{in: "10/500ms", want: Policy{Limit: 10, Window: 500 * time.Millisecond}},
		{in: " 30 / 1h ", want: Policy{Limit: 30, Window: time.Hour}},
		{in: "100/m", want: Policy{Limit: 100, Window: time.Minute}},
		{in: "off", want: Policy{Off: true}},
		{in: "OFF", want: Policy{Off: true}},
		{in: "", wantErr: "not of the form N/DURATION"},
		{in: "100", wantErr: "not of the form N/DURATION"},
		{in: "0/1m", wantErr: "at least 1"},
		{in: "-5/1m", wantErr: "at least 1"},
		{in: "ten/1m", wantErr: "whole number"},
		{in: "10/1 minute", wantErr: "not a duration"},
		{in: "10/100us", wantErr: "at least 1ms"},
		{in: "10/-1s", wantErr: "not a duration"},
		{in: "10/9000h", wantErr: "at most 366 days"},
	}
	for _, tt := range tests {
		got, err := ParsePolicy(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePolicy(%q) error = %v, want one saying %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePolicy(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParsePolicy(%q) (-want +got):\n%s", tt.in, diff)
		}
		if round, err := ParsePolicy(got.String()); err != nil || round != got {
			t.Errorf("ParsePolicy(%q.String() = %q) = %v, %v", tt.in, got.String(), round, err)
		}
	}
}

func TestLoadPolicies(t *testing.T) {
	env := map[string]string{
		"RATE_LIMIT_READ":          "1000/1m",
		"RATE_LIMIT_BATCHES_WRITE": "off",
	}
	got, err := LoadPolicies(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultPolicies()
	want[PolicyRead] = Policy{Name: PolicyRead, Limit: 1000, Window: time.Minute}
	want[PolicyBatchesWrite] = Policy{Name: PolicyBatchesWrite, Off: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}

	env["RATE_LIMIT_CONSUME"] = "lots"
	if _, err := LoadPolicies(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "RATE_LIMIT_CONSUME") {
		t.Fatalf("error %v does not name the variable", err)
	}
}

func TestDefaultPoliciesMatchTheContract(t *testing.T) {
	want := map[string]string{
		"RATE_LIMIT_READ":          "100/1m0s",
		"RATE_LIMIT_EVENTS_WRITE":  "30/1m0s",
		"RATE_LIMIT_BATCHES_WRITE": "20/1m0s",
		"RATE_LIMIT_MASTER_WRITE":  "20/1m0s",
		"RATE_LIMIT_CONSUME":       "30/1m0s",
		"RATE_LIMIT_LOGIN_ACCOUNT": "10/15m0s",
		"RATE_LIMIT_LOGIN_IP":      "30/15m0s",
	}
	got := map[string]string{}
	for name, p := range DefaultPolicies() {
		if p.Name != name {
			t.Errorf("policy %q is named %q", name, p.Name)
		}
		got[EnvVar(name)] = p.String()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}
