package gs1

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestVocabularyNormalize(t *testing.T) {
	tests := []struct {
		voc        Vocabulary
		in, want   string
		wantErrMsg string
	}{
		{BizStepVocabulary, "receiving", "receiving", ""},
		{BizStepVocabulary, "urn:epcglobal:cbv:bizstep:receiving", "receiving", ""},
		{BizStepVocabulary, "https://ref.gs1.org/cbv/BizStep-receiving", "receiving", ""},
		{BizStepVocabulary, "urn:epcglobal:cbv:bizstep:teleporting", "", "is in the CBV's namespace"},
		{BizStepVocabulary, "https://ref.gs1.org/cbv/BizStep-teleporting", "", "is in the CBV's namespace"},
		{BizStepVocabulary, "urn:epcglobal:cbv:disp:in_transit", "", "is in the CBV's namespace"},
		{BizStepVocabulary, "https://example.com/steps/roasting", "https://example.com/steps/roasting", ""},
		{BizStepVocabulary, "urn:example:step:roasting", "urn:example:step:roasting", ""},
		{BizStepVocabulary, "teleporting", "", "must be a CBV 2.0 business step"},
		{BizStepVocabulary, "Receiving", "", "must be a CBV 2.0 business step"},
		{DispositionVocabulary, "urn:epcglobal:cbv:disp:in_transit", "in_transit", ""},
		{DispositionVocabulary, "https://ref.gs1.org/cbv/Disp-active", "active", ""},
		{DispositionVocabulary, "https://ref.gs1.org/cbv/BizStep-shipping", "", "is in the CBV's namespace"},
		{DispositionVocabulary, "lost", "", "must be a CBV 2.0 disposition"},
		{DispositionVocabulary, "https://ns.gs1.org/cbv/Disp-active", "", "is in the CBV's namespace"},
		{BizTransactionTypeVocabulary, "urn:epcglobal:cbv:btt:desadv", "desadv", ""},
		{BizTransactionTypeVocabulary, "https://ref.gs1.org/cbv/BTT-po", "po", ""},
		{BizTransactionTypeVocabulary, "urn:epcglobal:cbv:btt:invoice", "", "is in the CBV's namespace"},
		{SourceDestTypeVocabulary, "urn:epcglobal:cbv:sdt:owning_party", "owning_party", ""},
		{SourceDestTypeVocabulary, "https://ref.gs1.org/cbv/SDT-location", "location", ""},
		{SourceDestTypeVocabulary, "place", "", "must be a CBV 2.0 source/destination type"},
		{ErrorReasonVocabulary, "urn:epcglobal:cbv:er:did_not_occur", "did_not_occur", ""},
		{ErrorReasonVocabulary, "https://ref.gs1.org/cbv/ER-incorrect_data", "incorrect_data", ""},
		{ErrorReasonVocabulary, "https://example.com/reasons/typo", "https://example.com/reasons/typo", ""},
	}
	for _, tt := range tests {
		got, err := tt.voc.Normalize(tt.in)
		switch {
		case tt.wantErrMsg == "" && (err != nil || got != tt.want):
			t.Errorf("%s %q: %q, %v; want %q", tt.voc.Name, tt.in, got, err, tt.want)
		case tt.wantErrMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErrMsg)):
			t.Errorf("%s %q: %q, %v; want an error saying %q", tt.voc.Name, tt.in, got, err, tt.wantErrMsg)
		}
	}
}

// The vocabularies are exactly the CBV 2.0 ones, as GS1's JSON-LD
// contexts in ../shared/gs1 define them, in both URI forms.
func TestVocabulariesMatchTheCBV(t *testing.T) {
	for _, tt := range []struct {
		file, prefix string
		voc          Vocabulary
	}{
		{"cbv-context-bizstep.jsonld", "cbv:BizStep-", BizStepVocabulary},
		{"cbv-context-disposition.jsonld", "cbv:Disp-", DispositionVocabulary},
		{"cbv-context-biztransaction-type.jsonld", "cbv:BTT-", BizTransactionTypeVocabulary},
		{"cbv-context-sourcedest-type.jsonld", "cbv:SDT-", SourceDestTypeVocabulary},
		{"cbv-context-error-reason.jsonld", "cbv:ER-", ErrorReasonVocabulary},
	} {
		path := filepath.Join("..", "..", "shared", "gs1", "cbv", tt.file)
		raw, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			t.Skipf("GS1 CBV context not found at %s (the shared/gs1 folder beside the checkout): skipped", path)
		}
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Context map[string]any `json:"@context"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		var official []string
		for term, iri := range doc.Context {
			if s, ok := iri.(string); ok && strings.HasPrefix(s, tt.prefix) {
				official = append(official, term)
				web := "https://ref.gs1.org/cbv/" + strings.TrimPrefix(s, "cbv:")
				if got, err := tt.voc.Normalize(web); err != nil || got != term {
					t.Errorf("%s: %s normalises to %q, %v", tt.file, web, got, err)
				}
			}
		}
		slices.Sort(official)
		ours := slices.Sorted(slices.Values(tt.voc.Values))
		if !slices.Equal(official, ours) {
			t.Errorf("%s: the CBV has %v,\nwe have %v", tt.file, official, ours)
		}
	}
}
