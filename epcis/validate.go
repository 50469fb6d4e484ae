package epcis

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"batchtrack/epcis/eventhash"
	"batchtrack/gs1"
)

// The fields each standard event type may have besides the common ones,
// as the EPCIS 2.0 JSON schema lists them.
var eventFields = map[string][]string{
	"ObjectEvent": {"action", "epcList", "quantityList", "bizStep", "disposition", "persistentDisposition",
		"readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList", "ilmd"},
	"AggregationEvent": {"parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition",
		"readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList"},
	"TransactionEvent": {"bizTransactionList", "parentID", "epcList", "quantityList", "action", "bizStep", "disposition",
		"readPoint", "bizLocation", "sourceList", "destinationList", "sensorElementList"},
	"TransformationEvent": {"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID",
		"bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList",
		"sourceList", "destinationList", "sensorElementList", "ilmd"},
	"AssociationEvent": {"parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition",
		"readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList"},
}

var commonFields = []string{"@context", "type", "eventTime", "recordTime", "eventTimeZoneOffset", "eventID",
	"certificationInfo", "errorDeclaration"}

// builtinPrefix gives the prefixes the EPCIS 2.0 JSON-LD context
// declares, which every document has.
func builtinPrefix(p string) (string, bool) {
	switch p {
	case "epcis":
		return "https://ref.gs1.org/epcis/", true
	case "cbv":
		return "https://ref.gs1.org/cbv/", true
	case "cbvmda":
		return "urn:epcglobal:cbv:mda:", true
	case "gs1":
		return "https://gs1.org/voc/", true
	case "rdfs":
		return "http://www.w3.org/2000/01/rdf-schema#", true
	case "owl":
		return "http://www.w3.org/2002/07/owl#", true
	case "xsd":
		return "http://www.w3.org/2001/XMLSchema#", true
	case "dcterms":
		return "http://purl.org/dc/terms/", true
	}
	return "", false
}

// checker checks one event, collecting its errors, the edits that put
// its CBV values in bare form and its projection.
type checker struct {
	index int
	base  string            // JSON pointer of the event in the document
	ctx   map[string]string // prefixes declared by the document and the event
	used  map[string]bool   // declared prefixes the event uses
	errs  []EventError
	edits []edit
	ev    Event
}

func (c *checker) fail(path, format string, args ...any) {
	c.errs = append(c.errs, EventError{Index: c.index, Path: c.base + path, Message: fmt.Sprintf(format, args...)})
}

// pointer appends a JSON pointer token to path.
func pointer(path string, token any) string {
	s := fmt.Sprint(token)
	s = strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
	return path + "/" + s
}

func isURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs()
}

// prefixIRI is the IRI a declared prefix stands for.
func (c *checker) prefixIRI(p string) (string, bool) {
	if iri, ok := c.ctx[p]; ok {
		return iri, true
	}
	return builtinPrefix(p)
}

// usePrefix looks a prefix up and notes the event uses it.
func (c *checker) usePrefix(p string) (string, bool) {
	iri, ok := c.prefixIRI(p)
	if ok {
		if _, user := c.ctx[p]; user {
			c.used[p] = true
		}
	}
	return iri, ok
}

// extensionName checks the name of a field a standard structure does not
// define: it must be namespaced, by a prefix declared in @context or as
// an absolute URI.
func (c *checker) extensionName(path, name, where string) {
	prefix, _, ok := strings.Cut(name, ":")
	if !ok || prefix == "" || !isURI(name) {
		c.fail(pointer(path, name), "%q is not a field of %s; an extension field must be namespaced (prefix:name with the prefix declared in @context, or an absolute URI)", name, where)
		return
	}
	if _, ok := c.usePrefix(prefix); ok {
		return
	}
	if u, _ := url.Parse(name); u.Host == "" && u.Scheme != "urn" {
		c.fail(pointer(path, name), "the namespace prefix %q of %q is not declared in @context", prefix, name)
	}
}

func (c *checker) str(path string, n *node) (string, bool) {
	if n.kind != '"' {
		c.fail(path, "must be a string")
		return "", false
	}
	return n.str, true
}

func (c *checker) uri(path string, n *node) (string, bool) {
	s, ok := c.str(path, n)
	if !ok {
		return "", false
	}
	if !isURI(s) {
		c.fail(path, "must be an absolute URI, not %q", s)
		return "", false
	}
	return s, true
}

// epcURI checks an identifier: an absolute URI and, when it names an EPC
// URN scheme of TDS 2.0 that Key reads, a well-formed one (the schema
// asks only for a URI, but a malformed URN would key to itself and
// silently break tracing).
func (c *checker) epcURI(path string, n *node) (string, bool) {
	s, ok := c.uri(path, n)
	if !ok {
		return "", false
	}
	if scheme, ok := epcURNScheme(s); ok && Key(s) == s {
		c.fail(path, "%q is not a valid %s EPC URN (GS1 Tag Data Standard 2.0)", s, scheme)
		return "", false
	}
	return s, true
}

// epcURNScheme is the scheme of an EPC URN that Key knows ("sgtin").
func epcURNScheme(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, "urn:epc:")
	if !ok {
		return "", false
	}
	kind, rest, _ := strings.Cut(rest, ":")
	scheme, _, _ := strings.Cut(rest, ":")
	switch kind + ":" + scheme {
	case "id:sgtin", "id:sscc", "id:sgln", "id:pgln", "id:grai", "id:giai", "id:gsrn", "id:gsrnp", "id:gdti",
		"id:sgcn", "id:cpi", "id:ginc", "id:gsin", "id:itip", "id:upui", "class:lgtin":
		return scheme, true
	}
	return "", false
}

func (c *checker) time(path string, n *node) (time.Time, bool) {
	s, ok := c.str(path, n)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || len(s) < 20 || s[10] != 'T' {
		c.fail(path, "must be a date and time with its offset, such as 2026-07-22T06:45:00.000+02:00, not %q", s)
		return time.Time{}, false
	}
	return t, true
}

func validTimeZoneOffset(s string) bool {
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !allDigits(s[1:3]) || !allDigits(s[4:]) {
		return false
	}
	if s[1:] == "14:00" {
		return true
	}
	return s[1:3] <= "13" && s[4] <= '5'
}

func (c *checker) object(path string, n *node) bool {
	if n.kind != '{' {
		c.fail(path, "must be an object")
		return false
	}
	return true
}

func (c *checker) array(path string, n *node, minItems int) bool {
	if n.kind != '[' {
		c.fail(path, "must be an array")
		return false
	}
	if len(n.items) < minItems {
		c.fail(path, "must have at least %d item(s)", minItems)
		return false
	}
	return true
}

// vocabulary checks a CBV value and puts it in bare form in Raw. A
// compact IRI (cbv:BizStep-shipping) of a declared prefix is expanded
// first; one that is no CBV value stays as it is, an extension.
func (c *checker) vocabulary(path string, n *node, voc gs1.Vocabulary) string {
	v, ok := c.str(path, n)
	if !ok {
		return ""
	}
	if prefix, local, ok := strings.Cut(v, ":"); ok && prefix != "urn" && prefix != "http" && prefix != "https" {
		if iri, ok := c.usePrefix(prefix); ok {
			if bare, err := voc.Normalize(iri + local); err == nil && slices.Contains(voc.Values, bare) {
				c.edits = append(c.edits, edit{n.start, n.end, quote(bare)})
				return bare
			}
			if isURI(v) {
				return v
			}
		}
	}
	bare, err := voc.Normalize(v)
	if prefix, _, ok := strings.Cut(v, ":"); err != nil && ok && isURI(v) && !strings.Contains(v, "//") && prefix != "urn" {
		c.fail(path, "the namespace prefix %q of %q is not declared in @context", prefix, v)
		return ""
	}
	if err != nil {
		c.fail(path, "%q %s", v, err.Error())
		return ""
	}
	if bare != v {
		c.edits = append(c.edits, edit{n.start, n.end, quote(bare)})
	}
	return bare
}

// checkEvent checks one event against the EPCIS 2.0 schema and the CBV
// and projects it. docCtx holds the document's prefixes.
func checkEvent(raw []byte, docCtx map[string]string, index int, base string) (Event, []EventError) {
	c := &checker{index: index, base: base, ctx: docCtx, used: map[string]bool{}}
	root, err := parseTree(raw)
	if err != nil {
		c.fail("", "is not valid JSON: %v", err)
		return Event{}, c.errs
	}
	if !c.object("", root) {
		return Event{}, c.errs
	}
	if n := root.get("@context"); n != nil {
		if own, ok := c.context("/@context", n); ok && len(own) > 0 {
			c.ctx = maps.Clone(docCtx)
			if c.ctx == nil {
				c.ctx = map[string]string{}
			}
			maps.Copy(c.ctx, own)
		}
	}
	typ := ""
	if n := root.get("type"); n == nil {
		c.fail("", "type is required")
	} else if s, ok := c.str("/type", n); ok {
		typ = s
	}
	c.ev.Type = typ
	fields, standard := eventFields[typ]
	if !standard && typ != "" && !isURI(typ) {
		c.fail("/type", "%q is not an EPCIS event type (ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent) nor an absolute URI", typ)
	}
	for i, m := range root.members {
		path := pointer("", m.name)
		switch {
		case m.name == "recordTime":
			c.time(path, m.value)
			c.edits = append(c.edits, removeMember(root, i))
		case slices.Contains(commonFields, m.name):
			c.common(path, m.name, m.value)
		case slices.Contains(fields, m.name):
			c.field(path, m.name, m.value)
		case standard:
			c.extensionName("", m.name, "an "+typ)
		}
	}
	if root.get("eventTime") == nil {
		c.fail("", "eventTime is required")
	}
	if root.get("eventTimeZoneOffset") == nil {
		c.fail("", "eventTimeZoneOffset is required")
	}
	if standard {
		c.required(root, typ)
	}
	if len(c.errs) > 0 {
		return Event{}, c.errs
	}
	c.ev.Raw = applyEdits(raw, c.edits) // a copy: raw may be the decoder's buffer
	for p := range c.used {
		if c.ev.Context == nil {
			c.ev.Context = map[string]string{}
		}
		c.ev.Context[p] = c.ctx[p]
	}
	hash, err := eventhash.HashID(c.ev.Raw, c.ev.Context)
	if err != nil {
		c.fail("", "cannot compute the event's hash ID: %v", err)
		return Event{}, c.errs
	}
	c.ev.HashID = hash
	return c.ev, nil
}

// nonEmpty says whether an event has a non-empty array under name.
func nonEmpty(root *node, name string) bool {
	n := root.get(name)
	return n != nil && n.kind == '[' && len(n.items) > 0
}

// required checks what each event type must have.
func (c *checker) required(root *node, typ string) {
	action := c.ev.Action
	if typ != "TransformationEvent" && root.get("action") == nil {
		c.fail("", "action is required on an %s", typ)
	}
	switch typ {
	case "ObjectEvent":
		sensors := nonEmpty(root, "sensorElementList") && root.get("readPoint") != nil
		if root.get("epcList") == nil && !nonEmpty(root, "quantityList") && !sensors {
			c.fail("", "an ObjectEvent must have an epcList, a quantityList, or a sensorElementList with a readPoint")
		}
		if root.get("ilmd") != nil && action != "" && action != "ADD" {
			c.fail("/ilmd", "ilmd is allowed only when action is ADD")
		}
	case "AggregationEvent", "AssociationEvent":
		if typ == "AssociationEvent" && root.get("parentID") == nil {
			c.fail("", "parentID is required on an AssociationEvent")
		}
		if !nonEmpty(root, "childEPCs") && !nonEmpty(root, "childQuantityList") && action != "DELETE" {
			c.fail("", "an %s must have childEPCs or a childQuantityList unless its action is DELETE", typ)
		}
	case "TransactionEvent":
		if root.get("bizTransactionList") == nil {
			c.fail("", "bizTransactionList is required on a TransactionEvent")
		}
		if root.get("epcList") == nil && !nonEmpty(root, "quantityList") && action != "DELETE" {
			c.fail("", "a TransactionEvent must have an epcList or a quantityList unless its action is DELETE")
		}
	case "TransformationEvent":
		in := nonEmpty(root, "inputEPCList") || nonEmpty(root, "inputQuantityList")
		out := nonEmpty(root, "outputEPCList") || nonEmpty(root, "outputQuantityList")
		if !(in && out) && !((in || out) && root.get("transformationID") != nil) {
			c.fail("", "a TransformationEvent must have inputs and outputs, or inputs or outputs and a transformationID")
		}
	}
}

func (c *checker) common(path, name string, n *node) {
	switch name {
	case "@context", "type": // checked first
	case "eventTime":
		if t, ok := c.time(path, n); ok {
			c.ev.EventTime = t.UTC()
		}
	case "eventTimeZoneOffset":
		if s, ok := c.str(path, n); ok {
			if !validTimeZoneOffset(s) {
				c.fail(path, "must be an offset from -14:00 to +14:00 such as +02:00, not %q", s)
			}
			c.ev.TimeZoneOffset = s
		}
	case "eventID":
		if s, ok := c.uri(path, n); ok {
			c.ev.EventID = s
		}
	case "certificationInfo":
		if n.kind == '[' {
			for i, it := range n.items {
				c.uri(pointer(path, i), it)
			}
		} else if n.kind != '"' {
			c.fail(path, "must be a URI or an array of URIs")
		} else {
			c.uri(path, n)
		}
	case "errorDeclaration":
		c.errorDeclaration(path, n)
	}
}

func (c *checker) errorDeclaration(path string, n *node) {
	if !c.object(path, n) {
		return
	}
	decl := &ErrorDeclaration{}
	for _, m := range n.members {
		p := pointer(path, m.name)
		switch m.name {
		case "declarationTime":
			if t, ok := c.time(p, m.value); ok {
				decl.DeclarationTime = t.UTC()
			}
		case "reason":
			decl.Reason = c.vocabulary(p, m.value, gs1.ErrorReasonVocabulary)
		case "correctiveEventIDs":
			if c.array(p, m.value, 0) {
				for i, it := range m.value.items {
					if s, ok := c.uri(pointer(p, i), it); ok {
						decl.CorrectiveEventIDs = append(decl.CorrectiveEventIDs, s)
					}
				}
			}
		default:
			c.extensionName(path, m.name, "an errorDeclaration")
		}
	}
	if n.get("declarationTime") == nil {
		c.fail(path, "declarationTime is required")
	}
	c.ev.Error = decl
}

func (c *checker) field(path, name string, n *node) {
	switch name {
	case "action":
		if s, ok := c.str(path, n); ok {
			if !slices.Contains(gs1.Actions, s) {
				c.fail(path, "must be ADD, OBSERVE or DELETE, not %q", s)
			}
			c.ev.Action = s
		}
	case "epcList":
		c.epcs(path, n, RoleEPC, c.ev.Type == "ObjectEvent")
	case "childEPCs":
		c.epcs(path, n, RoleChild, false)
	case "inputEPCList":
		c.epcs(path, n, RoleInput, true)
	case "outputEPCList":
		c.epcs(path, n, RoleOutput, true)
	case "quantityList":
		c.quantities(path, n, RoleEPC)
	case "childQuantityList":
		c.quantities(path, n, RoleChild)
	case "inputQuantityList":
		c.quantities(path, n, RoleInput)
	case "outputQuantityList":
		c.quantities(path, n, RoleOutput)
	case "parentID":
		if s, ok := c.epcURI(path, n); ok {
			c.ev.Identifiers = append(c.ev.Identifiers, Identifier{Role: RoleParent, Key: Key(s), URI: s})
		}
	case "bizStep":
		c.ev.BizStep = c.vocabulary(path, n, gs1.BizStepVocabulary)
	case "disposition":
		c.ev.Disposition = c.vocabulary(path, n, gs1.DispositionVocabulary)
	case "persistentDisposition":
		c.persistentDisposition(path, n)
	case "readPoint":
		c.ev.ReadPoint = c.location(path, n)
	case "bizLocation":
		c.ev.BizLocation = c.location(path, n)
	case "bizTransactionList":
		minItems := 0
		if c.ev.Type == "TransactionEvent" {
			minItems = 1
		}
		c.ev.BizTransactions = c.typedList(path, n, minItems, "bizTransaction", false, gs1.BizTransactionTypeVocabulary)
	case "sourceList":
		c.ev.Sources = c.typedList(path, n, 0, "source", true, gs1.SourceDestTypeVocabulary)
	case "destinationList":
		c.ev.Destinations = c.typedList(path, n, 0, "destination", true, gs1.SourceDestTypeVocabulary)
	case "sensorElementList":
		if c.array(path, n, 0) {
			for i, it := range n.items {
				c.sensorElement(pointer(path, i), it)
			}
		}
	case "ilmd":
		if c.object(path, n) {
			for _, m := range n.members {
				c.extensionName(path, m.name, "ilmd, which holds only namespaced extension fields")
			}
		}
	case "transformationID":
		if s, ok := c.uri(path, n); ok {
			c.ev.TransformationID = s
		}
	}
}

func (c *checker) epcs(path string, n *node, role string, unique bool) {
	if !c.array(path, n, 0) {
		return
	}
	seen := map[string]bool{}
	for i, it := range n.items {
		s, ok := c.epcURI(pointer(path, i), it)
		if !ok {
			continue
		}
		if unique && seen[s] {
			c.fail(pointer(path, i), "%q is listed twice", s)
		}
		seen[s] = true
		c.ev.Identifiers = append(c.ev.Identifiers, Identifier{Role: role, Key: Key(s), URI: s})
	}
}

func (c *checker) quantities(path string, n *node, role string) {
	if !c.array(path, n, 0) {
		return
	}
	for i, it := range n.items {
		p := pointer(path, i)
		if !c.object(p, it) {
			continue
		}
		id := Identifier{Role: role, Class: true}
		for _, m := range it.members {
			mp := pointer(p, m.name)
			switch m.name {
			case "epcClass":
				if s, ok := c.epcURI(mp, m.value); ok {
					id.URI, id.Key = s, Key(s)
				}
			case "quantity":
				if m.value.kind != '0' {
					c.fail(mp, "must be a number")
				} else {
					id.Quantity = string(m.value.raw)
				}
			case "uom":
				if s, ok := c.str(mp, m.value); ok {
					if !validUOM(s) {
						c.fail(mp, "must be a UN/ECE Recommendation 20 code of 2 or 3 capital letters or digits (such as KGM), not %q", s)
					}
					id.UOM = s
				}
			default:
				c.fail(mp, "%q is not a field of a quantity element (epcClass, quantity, uom)", m.name)
			}
		}
		if it.get("epcClass") == nil {
			c.fail(p, "epcClass is required")
		}
		c.ev.Identifiers = append(c.ev.Identifiers, id)
	}
}

func validUOM(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('A' <= s[i] && s[i] <= 'Z' || '0' <= s[i] && s[i] <= '9') {
			return false
		}
	}
	return true
}

func (c *checker) persistentDisposition(path string, n *node) {
	if !c.object(path, n) {
		return
	}
	for _, m := range n.members {
		p := pointer(path, m.name)
		if m.name != "set" && m.name != "unset" {
			c.fail(p, "%q is not a field of persistentDisposition (set, unset)", m.name)
			continue
		}
		if !c.array(p, m.value, 1) {
			continue
		}
		var values []string
		for i, it := range m.value.items {
			v := c.vocabulary(pointer(p, i), it, gs1.DispositionVocabulary)
			if v != "" && slices.Contains(values, v) {
				c.fail(pointer(p, i), "%q is listed twice", v)
			}
			values = append(values, v)
		}
		if m.name == "set" {
			c.ev.PersistentDispositionSet = values
		} else {
			c.ev.PersistentDispositionUnset = values
		}
	}
	if n.get("set") == nil && n.get("unset") == nil {
		c.fail(path, "persistentDisposition must have set or unset")
	}
}

func (c *checker) location(path string, n *node) string {
	if !c.object(path, n) {
		return ""
	}
	id := n.get("id")
	if id == nil {
		c.fail(path, "id is required")
		return ""
	}
	s, ok := c.epcURI(pointer(path, "id"), id)
	if !ok {
		return ""
	}
	return Key(s)
}

// typedList checks a bizTransactionList, sourceList or destinationList:
// objects of a type and an identifier under idField, nothing else.
func (c *checker) typedList(path string, n *node, minItems int, idField string, typeRequired bool, voc gs1.Vocabulary) []Typed {
	if !c.array(path, n, minItems) {
		return nil
	}
	var list []Typed
	for i, it := range n.items {
		p := pointer(path, i)
		if !c.object(p, it) {
			continue
		}
		var t Typed
		for _, m := range it.members {
			mp := pointer(p, m.name)
			switch m.name {
			case "type":
				t.Type = c.vocabulary(mp, m.value, voc)
			case idField:
				if s, ok := c.epcURI(mp, m.value); ok {
					t.ID, t.Key = s, Key(s)
				}
			default:
				c.fail(mp, "%q is not a field here (type, %s)", m.name, idField)
			}
		}
		if it.get(idField) == nil {
			c.fail(p, "%s is required", idField)
		}
		if typeRequired && it.get("type") == nil {
			c.fail(p, "type is required")
		}
		list = append(list, t)
	}
	return list
}

var measurementTypes = []string{"AbsoluteHumidity", "AbsorbedDose", "AbsorbedDoseRate", "Acceleration", "Radioactivity",
	"Altitude", "AmountOfSubstance", "AmountOfSubstancePerUnitVolume", "Angle", "AngularAcceleration", "AngularMomentum",
	"AngularVelocity", "Area", "Capacitance", "Conductance", "Conductivity", "Count", "Density", "Dimensionless",
	"DoseEquivalent", "DoseEquivalentRate", "DynamicViscosity", "ElectricCharge", "ElectricCurrent",
	"ElectricCurrentDensity", "ElectricFieldStrength", "Energy", "Exposure", "Force", "Frequency", "Illuminance",
	"Inductance", "Irradiance", "KinematicViscosity", "Length", "LinearMomentum", "Luminance", "LuminousFlux",
	"LuminousIntensity", "MagneticFlux", "MagneticFluxDensity", "MagneticVectorPotential", "Mass", "MassConcentration",
	"MassFlowRate", "MassPerAreaTime", "MemoryCapacity", "MolalityOfSolute", "MolarEnergy", "MolarMass", "MolarVolume",
	"Power", "Pressure", "RadiantFlux", "RadiantIntensity", "RelativeHumidity", "Resistance", "Resistivity", "SolidAngle",
	"SpecificVolume", "Speed", "SurfaceDensity", "SurfaceTension", "Temperature", "Time", "Torque", "Voltage", "Volume",
	"VolumeFlowRate", "VolumeFraction", "VolumetricFlux", "Wavenumber"}

var components = []string{"x", "y", "z", "axial_distance", "azimuth", "height", "spherical_radius", "polar_angle",
	"elevation_angle", "easting", "northing", "latitude", "longitude", "altitude"}

// enumOrURI checks a sensor vocabulary value: one of values, or an
// absolute URI outside the namespace the schema reserves for them.
func (c *checker) enumOrURI(path string, n *node, values []string, reserved ...string) {
	s, ok := c.str(path, n)
	if !ok || slices.Contains(values, s) {
		return
	}
	for _, r := range reserved {
		if strings.HasPrefix(s, r) {
			c.fail(path, "%q is in the GS1 namespace but is not one of its values", s)
			return
		}
	}
	if !isURI(s) {
		c.fail(path, "%q must be one of %s or an absolute URI", s, strings.Join(values[:min(3, len(values))], ", ")+", ...")
	}
}

var gs1VocNamespaces = []string{"http://gs1.org/voc/", "https://gs1.org/voc/", "http://www.gs1.org/voc/", "https://www.gs1.org/voc/"}

var schemaCBVNamespaces = []string{"urn:epcglobal:cbv", "http://ns.gs1.org/cbv/", "https://ns.gs1.org/cbv/"}

func (c *checker) sensorElement(path string, n *node) {
	if !c.object(path, n) {
		return
	}
	for _, m := range n.members {
		p := pointer(path, m.name)
		switch m.name {
		case "sensorMetadata":
			if !c.object(p, m.value) {
				continue
			}
			for _, f := range m.value.members {
				fp := pointer(p, f.name)
				switch f.name {
				case "time", "startTime", "endTime":
					c.time(fp, f.value)
				case "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules":
					c.uri(fp, f.value)
				default:
					c.extensionName(p, f.name, "sensorMetadata")
				}
			}
		case "sensorReport":
			if !c.array(p, m.value, 1) {
				continue
			}
			for i, r := range m.value.items {
				c.sensorReport(pointer(p, i), r)
			}
		default:
			c.extensionName(path, m.name, "a sensorElement")
		}
	}
	if n.get("sensorReport") == nil {
		c.fail(path, "sensorReport is required")
	}
}

func (c *checker) sensorReport(path string, n *node) {
	if !c.object(path, n) {
		return
	}
	c.ev.SensorReports++
	for _, m := range n.members {
		p := pointer(path, m.name)
		switch m.name {
		case "type":
			c.enumOrURI(p, m.value, measurementTypes, gs1VocNamespaces...)
		case "exception":
			c.enumOrURI(p, m.value, []string{"ALARM_CONDITION", "ERROR_CONDITION"}, gs1VocNamespaces...)
		case "component":
			c.enumOrURI(p, m.value, components, schemaCBVNamespaces...)
		case "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules", "microorganism",
			"chemicalSubstance", "coordinateReferenceSystem", "uriValue":
			c.uri(p, m.value)
		case "time":
			c.time(p, m.value)
		case "value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue":
			if m.value.kind != '0' {
				c.fail(p, "must be a number")
			}
		case "stringValue", "uom":
			c.str(p, m.value)
		case "booleanValue":
			if m.value.kind != 't' && m.value.kind != 'f' {
				c.fail(p, "must be true or false")
			}
		case "hexBinaryValue":
			if s, ok := c.str(p, m.value); ok && (s == "" || strings.Trim(s, "0123456789abcdefABCDEF") != "") {
				c.fail(p, "must be hexadecimal digits")
			}
		default:
			c.extensionName(path, m.name, "a sensorReport")
		}
	}
	if n.get("type") == nil {
		c.fail(path, "type is required")
	}
}

// context reads an @context: a URI, an object of term definitions, or
// an array of these. It returns the prefixes the objects declare.
func (c *checker) context(path string, n *node) (map[string]string, bool) {
	prefixes := map[string]string{}
	ok := true
	addObject := func(p string, o *node) {
		for _, m := range o.members {
			if strings.HasPrefix(m.name, "@") {
				continue
			}
			switch m.value.kind {
			case '"':
				prefixes[m.name] = m.value.str
			case '{':
				if id := m.value.get("@id"); id != nil && id.kind == '"' {
					prefixes[m.name] = id.str
				}
			}
		}
	}
	switch n.kind {
	case '"':
		_, ok = c.uri(path, n)
	case '{':
		addObject(path, n)
	case '[':
		seen := map[string]bool{}
		for i, it := range n.items {
			p := pointer(path, i)
			switch it.kind {
			case '"':
				if _, good := c.uri(p, it); !good {
					ok = false
				}
			case '{':
				addObject(p, it)
			default:
				c.fail(p, "must be a URI or an object")
				ok = false
			}
			if seen[string(it.raw)] {
				c.fail(p, "is listed twice")
				ok = false
			}
			seen[string(it.raw)] = true
		}
	default:
		c.fail(path, "must be a URI, an object or an array of them")
		ok = false
	}
	return prefixes, ok
}
