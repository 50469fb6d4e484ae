package eventhash

import (
	"maps"
	"slices"
	"strings"

	"batchtrack/gs1"
)

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
