package epcis

import (
	"net/url"
	"strings"

	"batchtrack/gs1"
)

// Key returns the canonical key of an EPC, EPC class, location, party or
// business transaction identifier: the GS1 Digital Link path without host
// ("01/00614141073467/21/2017"), primary key and key qualifiers only,
// canonically escaped, the same for the EPC URN and any Digital Link host.
// Anything that is not a GS1 identifier (urn:uuid:..., a purchase order
// URL, a CBV urn:epcglobal:cbv:bt:{GLN}:{id} which has no GS1 key) keys to
// itself.
func Key(uri string) string {
	if rest, ok := strings.CutPrefix(uri, "urn:epc:"); ok {
		if k, ok := urnKey(rest); ok {
			return k
		}
		return uri
	}
	if k, ok := digitalLinkKey(uri); ok {
		return k
	}
	return uri
}

// IsPattern says whether s is an EPC pattern URN (urn:epc:idpat:...).
func IsPattern(s string) bool { return strings.HasPrefix(s, "urn:epc:idpat:") }

// MatchKey is the key an EPCIS query MATCH_* value selects, and whether
// it selects every key that starts with it followed by "/" (an idpat
// with any serial, or a class matching its instances).
func MatchKey(value string) (key string, prefix bool) {
	if rest, ok := strings.CutPrefix(value, "urn:epc:idpat:"); ok {
		scheme, body, _ := strings.Cut(rest, ":")
		parts := strings.Split(body, ".")
		switch {
		case scheme == "sgtin" && len(parts) == 3 && parts[2] == "*":
			if gtin, ok := gtinFromParts(parts[0], parts[1]); ok {
				return "01/" + gtin, true
			}
		case (scheme == "sgtin" || scheme == "lgtin") && len(parts) == 3 && parts[2] != "*":
			return Key("urn:epc:" + map[string]string{"sgtin": "id", "lgtin": "class"}[scheme] + ":" + rest), false
		}
		return value, false
	}
	k := Key(value)
	// A class (GTIN alone, or GTIN with a lot) matches its instances.
	if segs := strings.Split(k, "/"); segs[0] == "01" && (len(segs) == 2 || len(segs) == 4 && segs[2] == "10") {
		return k, true
	}
	return k, false
}

// DigitalLink is the GS1 Digital Link URI (https://id.gs1.org/) of a GS1
// key; anything else is returned as it is.
func DigitalLink(key string) string {
	if isGS1Key(key) {
		return "https://id.gs1.org/" + key
	}
	return key
}

// URN gives the EPC URN of uri when one can be made: a URN is kept as it
// is; a Digital Link cannot be turned into one without the length of the
// GS1 Company Prefix, which the link does not carry, so it reports false.
func URN(uri string) (string, bool) {
	if strings.HasPrefix(uri, "urn:") {
		return uri, true
	}
	return "", false
}

// Primary key AIs of the Digital Link, with the key qualifiers each may
// have, in their canonical order.
var primaryKeys = map[string][]string{
	"00": nil, "01": {"22", "10", "21", "235"}, "253": nil, "255": nil, "401": nil, "402": nil,
	"414": {"254", "7040"}, "417": {"7040"}, "8003": nil, "8004": nil, "8006": {"22", "10", "21"},
	"8010": {"8011"}, "8013": nil, "8017": {"8019"}, "8018": {"8019"},
}

func isGS1Key(key string) bool {
	segs := strings.Split(key, "/")
	if len(segs)%2 != 0 || len(segs) == 0 {
		return false
	}
	_, ok := primaryKeys[segs[0]]
	return ok
}

// digitalLinkKey reads a GS1 Digital Link URI: a path, possibly after a
// prefix of the resolver's, that ends in a primary key and its qualifiers.
func digitalLinkKey(uri string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	for i := 0; i+1 < len(segs); i++ {
		quals, ok := primaryKeys[segs[i]]
		if !ok || (len(segs)-i)%2 != 0 {
			continue
		}
		values := map[string]string{}
		for j := i; j < len(segs); j += 2 {
			v, err := url.PathUnescape(segs[j+1])
			if err != nil || v == "" {
				return "", false
			}
			if _, dup := values[segs[j]]; dup {
				return "", false
			}
			values[segs[j]] = v
		}
		primary := segs[i]
		v := values[primary]
		if primary == "01" {
			g, err := gs1.NormalizeGTIN(v)
			if err != nil {
				return "", false
			}
			v = g
		}
		if fixed := checkedLength[primary]; fixed > 0 && (len(v) < fixed || !gs1.ValidCheckDigit(v[:fixed])) {
			return "", false
		}
		key := primary + "/" + gs1.EscapeDigitalLink(v, false)
		for _, q := range quals {
			if qv, ok := values[q]; ok {
				key += "/" + q + "/" + gs1.EscapeDigitalLink(qv, false)
				delete(values, q)
			}
		}
		if len(values) != 1 { // a qualifier this key does not take
			return "", false
		}
		return key, true
	}
	return "", false
}

// checkedLength is how many leading digits of a key's value end in a
// check digit.
var checkedLength = map[string]int{
	"00": 18, "253": 13, "255": 13, "402": 17, "414": 13, "417": 13, "8003": 14, "8006": 14, "8017": 18, "8018": 18,
}

// gtinFromParts makes a GTIN-14 from the company prefix and the
// indicator+item reference of an EPC URN.
func gtinFromParts(companyPrefix, indicatorItemRef string) (string, bool) {
	if !allDigits(companyPrefix) || !allDigits(indicatorItemRef) || len(companyPrefix)+len(indicatorItemRef) != 13 || indicatorItemRef == "" {
		return "", false
	}
	body := indicatorItemRef[:1] + companyPrefix + indicatorItemRef[1:]
	return body + string(gs1.CheckDigit(body)), true
}

// withCheckDigit joins digit parts and appends their check digit.
func withCheckDigit(total int, parts ...string) (string, bool) {
	body := strings.Join(parts, "")
	if !allDigits(body) || len(body) != total-1 {
		return "", false
	}
	return body + string(gs1.CheckDigit(body)), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// urnKey reads the part of an EPC URN after "urn:epc:" (TDS 2.0).
func urnKey(rest string) (string, bool) {
	kind, rest, _ := strings.Cut(rest, ":")
	scheme, body, ok := strings.Cut(rest, ":")
	if !ok || (kind != "id" && kind != "class" && kind != "idpat") {
		return "", false
	}
	if kind == "idpat" {
		k, _ := MatchKey("urn:epc:idpat:" + rest)
		return k, k != "urn:epc:idpat:"+rest
	}
	p := strings.Split(body, ".")
	esc := func(s string) (string, bool) {
		v, err := url.PathUnescape(s)
		if err != nil || v == "" {
			return "", false
		}
		return gs1.EscapeDigitalLink(v, false), true
	}
	key := func(parts ...string) (string, bool) { return strings.Join(parts, "/"), true }
	switch kind + ":" + scheme {
	case "id:sgtin", "class:lgtin", "id:upui":
		if len(p) != 3 {
			return "", false
		}
		gtin, ok := gtinFromParts(p[0], p[1])
		s, ok2 := esc(p[2])
		if !ok || !ok2 {
			return "", false
		}
		return key("01", gtin, map[string]string{"sgtin": "21", "lgtin": "10", "upui": "235"}[scheme], s)
	case "id:sscc":
		if len(p) != 2 || len(p[1]) == 0 {
			return "", false
		}
		v, ok := withCheckDigit(18, p[1][:1], p[0], p[1][1:])
		if !ok {
			return "", false
		}
		return key("00", v)
	case "id:sgln":
		if len(p) != 3 {
			return "", false
		}
		gln, ok := withCheckDigit(13, p[0], p[1])
		if !ok {
			return "", false
		}
		if p[2] == "0" {
			return key("414", gln)
		}
		ext, ok := esc(p[2])
		if !ok {
			return "", false
		}
		return key("414", gln, "254", ext)
	case "id:pgln":
		if len(p) != 2 {
			return "", false
		}
		gln, ok := withCheckDigit(13, p[0], p[1])
		if !ok {
			return "", false
		}
		return key("417", gln)
	case "id:grai", "id:gdti", "id:sgcn":
		if len(p) != 3 {
			return "", false
		}
		base, ok := withCheckDigit(13, p[0], p[1])
		serial, err := url.PathUnescape(p[2])
		if !ok || err != nil || (serial == "" && scheme == "grai") {
			return "", false
		}
		ai := map[string]string{"grai": "8003", "gdti": "253", "sgcn": "255"}[scheme]
		if scheme == "grai" {
			base = "0" + base
		}
		return key(ai, gs1.EscapeDigitalLink(base+serial, false))
	case "id:giai":
		if len(p) != 2 || !allDigits(p[0]) {
			return "", false
		}
		ref, ok := esc(p[1])
		if !ok {
			return "", false
		}
		return key("8004", p[0]+ref)
	case "id:gsrn", "id:gsrnp":
		if len(p) != 2 {
			return "", false
		}
		v, ok := withCheckDigit(18, p[0], p[1])
		if !ok {
			return "", false
		}
		return key(map[string]string{"gsrn": "8018", "gsrnp": "8017"}[scheme], v)
	case "id:cpi":
		if len(p) != 3 || !allDigits(p[0]) || !allDigits(p[2]) {
			return "", false
		}
		ref, ok := esc(p[1])
		if !ok {
			return "", false
		}
		return key("8010", p[0]+ref, "8011", p[2])
	case "id:ginc":
		if len(p) != 2 || !allDigits(p[0]) {
			return "", false
		}
		ref, ok := esc(p[1])
		if !ok {
			return "", false
		}
		return key("401", p[0]+ref)
	case "id:gsin":
		if len(p) != 2 {
			return "", false
		}
		v, ok := withCheckDigit(17, p[0], p[1])
		if !ok {
			return "", false
		}
		return key("402", v)
	case "id:itip":
		if len(p) != 5 || !allDigits(p[2]) || !allDigits(p[3]) || len(p[2]) != 2 || len(p[3]) != 2 {
			return "", false
		}
		gtin, ok := gtinFromParts(p[0], p[1])
		s, ok2 := esc(p[4])
		if !ok || !ok2 {
			return "", false
		}
		return key("8006", gtin+p[2]+p[3], "21", s)
	}
	return "", false
}
