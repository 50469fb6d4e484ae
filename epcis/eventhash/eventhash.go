// Package eventhash computes the CBV 2.0 event hash ID (GS1 CBV 2.0
// section 8.9) of an EPCIS 2.0 JSON/JSON-LD event: the same event gets the
// same ID whoever captured it and however it was serialised.
//
// The canonical pre-hash string follows the reference implementation,
// github.com/RalphTro/epcis-event-hash-generator, in its CBV 2.0 mode, and
// is checked against that project's published examples (testdata/). Where
// the reference relies on a JSON-LD processor we approximate it:
//   - bare CBV values ("shipping") are expanded for the properties the
//     EPCIS context types as vocabulary, and other strings equal to one of
//     them are expanded as the reference does, but within the event rather
//     than the whole document;
//   - code lists of the GS1 Web Vocabulary outside EPCIS and CBV (master
//     data such as locationRoleType) are not expanded;
//   - a date-time without a time zone is read as UTC, not as the machine's
//     local time;
//   - an event's own @context is not hashed (the reference would hash it
//     like a user extension).
package eventhash

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"batchtrack/gs1"
)

var (
	ErrNotObject = errors.New("eventhash: the event is not a JSON object")
	ErrNoType    = errors.New("eventhash: the event has no type")
)

// HashID returns the event hash ID, ni:///sha-256;<hex>?ver=CBV2.0, of one
// EPCIS 2.0 event. context maps the namespace prefixes of the document's
// @context (see ContextPrefixes) to their IRIs.
func HashID(event json.RawMessage, context map[string]string) (string, error) {
	pre, err := PreHash(event, context)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(pre))
	return "ni:///sha-256;" + hex.EncodeToString(sum[:]) + "?ver=CBV2.0", nil
}

// PreHash returns the canonical string that HashID hashes.
func PreHash(event json.RawMessage, context map[string]string) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("eventhash: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("eventhash: data after the event's JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", ErrNotObject
	}
	eventType, ok := obj["type"].(string)
	if !ok || eventType == "" {
		return "", ErrNoType
	}

	// An event's own @context only binds prefixes (the caller passes them
	// in context); the reference would hash it as if it were an extension.
	delete(obj, "@context")
	expandBareVocabulary(obj)

	ns := namespaces{
		"gs1":    "https://ref.gs1.org/voc/",
		"cbv":    "https://ref.gs1.org/cbv/",
		"epcis":  "https://ref.gs1.org/epcis/",
		"cbvmda": "urn:epcglobal:cbv:mda",
	}
	maps.Copy(ns, context)
	ns["gs1"] = "https://ref.gs1.org/voc/" // EPCIS 2.0 always binds gs1
	ns.collectXMLNS(obj)

	value, children := ns.build(obj)
	root := &node{name: eventType, value: value, children: children}
	correct(root)
	return preHash(eventType, root), nil
}

// ContextPrefixes returns the prefix to IRI bindings of an EPCIS document's
// (or event's) @context: the string-valued entries of its objects, whether
// @context is one object or a list. Context URLs bind no prefix.
func ContextPrefixes(atContext json.RawMessage) (map[string]string, error) {
	var v any
	if err := json.Unmarshal(atContext, &v); err != nil {
		return nil, fmt.Errorf("eventhash: @context: %w", err)
	}
	prefixes := map[string]string{}
	add := func(v any) {
		if m, ok := v.(map[string]any); ok {
			for k, iri := range m {
				if s, ok := iri.(string); ok {
					prefixes[k] = s
				}
			}
		}
	}
	if list, ok := v.([]any); ok {
		for _, c := range list {
			add(c)
		}
	} else {
		add(v)
	}
	return prefixes, nil
}

// CBV code list values may be written bare ("shipping"): the EPCIS 2.0
// JSON-LD context maps these terms, property by property, to web URIs.
// Bare values outside these lists are not expanded, as JSON-LD would not.
type codeList struct {
	prefix string
	terms  []string
}

var (
	bizSteps     = codeList{"https://ref.gs1.org/cbv/BizStep-", gs1.BizSteps}
	dispositions = codeList{"https://ref.gs1.org/cbv/Disp-", gs1.Dispositions}
	bizTxTypes   = codeList{"https://ref.gs1.org/cbv/BTT-", []string{"bol", "cert", "desadv", "inv", "pedigree", "po",
		"poc", "prodorder", "recadv", "rma", "testprd", "testres", "upevt"}}
	srcDestTypes = codeList{"https://ref.gs1.org/cbv/SDT-", []string{"owning_party", "possessing_party", "location"}}
	errorReasons = codeList{"https://ref.gs1.org/cbv/ER-", []string{"did_not_occur", "incorrect_data"}}
	components   = codeList{"https://ref.gs1.org/cbv/Comp-", []string{"x", "y", "z", "axial_distance", "azimuth",
		"height", "spherical_radius", "polar_angle", "elevation_angle", "easting", "northing", "latitude",
		"longitude", "altitude"}}
	sensorExceptions = codeList{"https://ref.gs1.org/voc/", []string{"ALARM_CONDITION", "ERROR_CONDITION"}}
	measurementTypes = codeList{"https://ref.gs1.org/voc/", []string{"AbsoluteHumidity", "AbsorbedDose",
		"AbsorbedDoseRate", "Acceleration", "Radioactivity", "Altitude", "AmountOfSubstance",
		"AmountOfSubstancePerUnitVolume", "Angle", "AngularAcceleration", "AngularMomentum", "AngularVelocity",
		"Area", "Capacitance", "Conductance", "Conductivity", "Count", "Density", "Dimensionless",
		"DoseEquivalent", "DoseEquivalentRate", "DynamicViscosity", "ElectricCharge", "ElectricCurrent",
		"ElectricCurrentDensity", "ElectricFieldStrength", "Energy", "Exposure", "Force", "Frequency",
		"Illuminance", "Inductance", "Irradiance", "KinematicViscosity", "Length", "LinearMomentum", "Luminance",
		"LuminousFlux", "LuminousIntensity", "MagneticFlux", "MagneticFluxDensity", "MagneticVectorPotential",
		"Mass", "MassConcentration", "MassFlowRate", "MassPerAreaTime", "MemoryCapacity", "MolalityOfSolute",
		"MolarEnergy", "MolarMass", "MolarVolume", "Power", "Pressure", "RadiantFlux", "RadiantIntensity",
		"RelativeHumidity", "Resistance", "Resistivity", "SolidAngle", "SpecificVolume", "Speed",
		"SurfaceDensity", "SurfaceTension", "Temperature", "Time", "Torque", "Voltage", "Volume",
		"VolumeFlowRate", "VolumeFraction", "VolumetricFlux", "Wavenumber"}}
)

// expand returns the web URI a value of this code list stands for: a term
// of the list, or a CURIE in the context's protected cbv and gs1 prefixes.
func (l codeList) expand(v any) (string, bool) {
	s, ok := v.(string)
	switch {
	case !ok:
		return "", false
	case slices.Contains(l.terms, s):
		return l.prefix + s, true
	case strings.HasPrefix(s, "cbv:"):
		return "https://ref.gs1.org/cbv/" + s[len("cbv:"):], true
	case strings.HasPrefix(s, "gs1:"):
		return "https://ref.gs1.org/voc/" + s[len("gs1:"):], true
	}
	return "", false
}

var expandedPrefixes = []string{"https://ref.gs1.org/cbv", "https://gs1.org/voc", "https://ref.gs1.org/voc"}

// expandBareVocabulary does what the reference does with the expanded
// document: any string equal to the last segment of exactly one expanded
// vocabulary value is replaced by that value.
func expandBareVocabulary(event map[string]any) {
	expanded := map[string]bool{}
	add := func(v any, l codeList) {
		if uri, ok := l.expand(v); ok {
			expanded[uri] = true
		}
	}
	each := func(v any, f func(any)) {
		if list, ok := v.([]any); ok {
			for _, x := range list {
				f(x)
			}
			return
		}
		f(v)
	}
	field := func(v any, key string) any {
		if m, ok := v.(map[string]any); ok {
			return m[key]
		}
		return nil
	}
	add(event["bizStep"], bizSteps)
	add(event["disposition"], dispositions)
	for _, k := range []string{"set", "unset"} {
		each(field(event["persistentDisposition"], k), func(v any) { add(v, dispositions) })
	}
	each(event["bizTransactionList"], func(v any) { add(field(v, "type"), bizTxTypes) })
	each(event["sourceList"], func(v any) { add(field(v, "type"), srcDestTypes) })
	each(event["destinationList"], func(v any) { add(field(v, "type"), srcDestTypes) })
	add(field(event["errorDeclaration"], "reason"), errorReasons)
	each(event["sensorElementList"], func(el any) {
		each(field(el, "sensorReport"), func(r any) {
			add(field(r, "type"), measurementTypes)
			add(field(r, "exception"), sensorExceptions)
			add(field(r, "component"), components)
		})
	})
	var walkValues func(v any)
	walkValues = func(v any) {
		switch v := v.(type) {
		case string:
			for _, p := range expandedPrefixes {
				if strings.HasPrefix(v, p) {
					expanded[v] = true
				}
			}
		case map[string]any:
			for _, c := range v {
				walkValues(c)
			}
		case []any:
			for _, c := range v {
				walkValues(c)
			}
		}
	}
	walkValues(event)
	for s := range expanded {
		if !slices.ContainsFunc(expandedPrefixes, func(p string) bool { return strings.HasPrefix(s, p) }) {
			delete(expanded, s)
		}
	}
	candidates := slices.Sorted(maps.Keys(expanded))
	replace := func(s string) string {
		var match string
		n := 0
		for _, x := range candidates {
			if strings.HasSuffix(x, "-"+s) || strings.HasSuffix(x, "/"+s) {
				match = x
				n++
			}
		}
		if n == 1 {
			return match
		}
		return s
	}
	var rewrite func(v any) any
	rewrite = func(v any) any {
		switch v := v.(type) {
		case string:
			return replace(v)
		case map[string]any:
			for k, c := range v {
				v[k] = rewrite(c)
			}
		case []any:
			for i, c := range v {
				v[i] = rewrite(c)
			}
		}
		return v
	}
	rewrite(event)
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
