package eventhash

import (
	"regexp"
	"strconv"
	"strings"

	"batchtrack/gs1"
)

// The patterns below are those of the reference implementation's
// dl_normaliser (epcis-event-hash-generator), so that exactly the same
// identifiers are converted and the rest are left as they were.
const (
	epcChar = `(%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]|[!')(*+,.0-9:;=A-Za-z_-])`
	cpiChar = `(%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])`
	// company prefix and the reference after it, 13 digits in all
	cp13 = `((\d{6}\.\d{7})|(\d{7}\.\d{6})|(\d{8}\.\d{5})|(\d{9}\.\d{4})|(\d{10}\.\d{3})|(\d{11}\.\d{2})|(\d{12}\.\d{1}))`
	// 12 digits in all
	cp12 = `((\d{6}\.\d{6})|(\d{7}\.\d{5})|(\d{8}\.\d{4})|(\d{9}\.\d{3})|(\d{10}\.\d{2})|(\d{11}\.\d{1})|(\d{12}\.))`
	// 12 digits, the 12-digit prefix written with two dots (GRAI, GDTI)
	cp12dots = `((\d{6}\.\d{6})|(\d{7}\.\d{5})|(\d{8}\.\d{4})|(\d{9}\.\d{3})|(\d{10}\.\d{2})|(\d{11}\.\d{1})|(\d{12}\.\.))`
	cp17     = `((\d{6}\.\d{11})|(\d{7}\.\d{10})|(\d{8}\.\d{9})|(\d{9}\.\d{8})|(\d{10}\.\d{7})|(\d{11}\.\d{6})|(\d{12}\.\d{5}))`
	cp16     = `((\d{6}\.\d{10})|(\d{7}\.\d{9})|(\d{8}\.\d{8})|(\d{9}\.\d{7})|(\d{10}\.\d{6})|(\d{11}\.\d{5})|(\d{12}\.\d{4}))`
	dlChar   = `[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]`
)

// cpAndReference matches a 6 to 12 digit company prefix, a dot and a
// reference of class characters, at most total characters in all.
func cpAndReference(class string, total int) string {
	var alts []string
	for cp := 6; cp <= 12; cp++ {
		alts = append(alts, `(\d{`+strconv.Itoa(cp)+`}\.`+class+`{1,`+strconv.Itoa(total-cp)+`})`)
	}
	return "(" + strings.Join(alts, "|") + ")"
}

// epcScheme converts one EPC URI scheme: convert gets the company prefix
// and the text after the dot that ends it.
type epcScheme struct {
	prefix  string
	pattern *regexp.Regexp
	convert func(cp, rest string) string
}

func withCheck(digits string) string { return digits + string(gs1.CheckDigit(digits)) }

// gtinOf builds the GTIN body from a company prefix and an item reference
// whose first digit is the indicator.
func gtinOf(cp, rest string) string {
	ref := rest[:13-len(cp)]
	return withCheck(ref[:1] + cp + ref[1:])
}

func scheme(prefix, body string, convert func(cp, rest string) string) epcScheme {
	return epcScheme{prefix: prefix, pattern: regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + body + `$`), convert: convert}
}

// Serials are copied as they are: EPC URIs are already percent-encoded and
// TDS Table I.3.1-1 allows ! ( ) * + , : literally in a Digital Link.
var epcSchemes = []epcScheme{
	scheme("urn:epc:id:sgtin:", cp13+`\.`+epcChar+`{1,20}`, func(cp, rest string) string {
		return "https://id.gs1.org/01/" + gtinOf(cp, rest) + "/21/" + rest[14-len(cp):]
	}),
	scheme("urn:epc:id:sscc:", cp17, func(cp, rest string) string {
		return "https://id.gs1.org/00/" + withCheck(rest[:1]+cp+rest[1:])
	}),
	scheme("urn:epc:id:sgln:", cp12+`\.`+epcChar+`{1,20}`, func(cp, rest string) string {
		gln := withCheck(cp + rest[:12-len(cp)])
		ext := rest[13-len(cp):]
		if ext == "0" {
			return "https://id.gs1.org/414/" + gln
		}
		return "https://id.gs1.org/414/" + gln + "/254/" + ext
	}),
	scheme("urn:epc:id:grai:", cp12dots+`\.`+epcChar+`{1,16}`, func(cp, rest string) string {
		return "https://id.gs1.org/8003/" + withCheck("0"+cp+rest[:12-len(cp)]) + rest[13-len(cp):]
	}),
	scheme("urn:epc:id:giai:", cpAndReference(epcChar, 30), func(cp, rest string) string {
		return "https://id.gs1.org/8004/" + cp + rest
	}),
	scheme("urn:epc:id:gsrn:", cp17, func(cp, rest string) string {
		return "https://id.gs1.org/8018/" + withCheck(cp+rest)
	}),
	scheme("urn:epc:id:gsrnp:", cp17, func(cp, rest string) string {
		return "https://id.gs1.org/8017/" + withCheck(cp+rest)
	}),
	scheme("urn:epc:id:gdti:", cp12dots+epcChar+`{1,20}`, func(cp, rest string) string {
		return "https://id.gs1.org/253/" + withCheck(cp+rest[:12-len(cp)]) + rest[13-len(cp):]
	}),
	scheme("urn:epc:id:cpi:", cpAndReference(cpiChar, 30)+`\.\d{1,12}`, func(cp, rest string) string {
		dot := strings.LastIndexByte(rest, '.')
		return "https://id.gs1.org/8010/" + cp + rest[:dot] + "/8011/" + rest[dot+1:]
	}),
	scheme("urn:epc:id:sgcn:", cp12+`\.\d{1,12}`, func(cp, rest string) string {
		return "https://id.gs1.org/255/" + withCheck(cp+rest[:12-len(cp)]) + rest[13-len(cp):]
	}),
	scheme("urn:epc:id:ginc:", cpAndReference(epcChar, 30), func(cp, rest string) string {
		return "https://id.gs1.org/401/" + cp + rest
	}),
	scheme("urn:epc:id:gsin:", cp16, func(cp, rest string) string {
		return "https://id.gs1.org/402/" + withCheck(cp+rest)
	}),
	scheme("urn:epc:id:itip:", cp13+`\.\d{2}\.\d{2}\.`+epcChar+`{1,20}`, func(cp, rest string) string {
		n := 14 - len(cp)
		return "https://id.gs1.org/8006/" + gtinOf(cp, rest) + rest[n:n+2] + rest[n+3:n+5] + "/21/" + rest[n+6:]
	}),
	scheme("urn:epc:id:upui:", cp13+`\.`+epcChar+`{1,28}`, func(cp, rest string) string {
		return "https://id.gs1.org/01/" + gtinOf(cp, rest) + "/235/" + rest[14-len(cp):]
	}),
	scheme("urn:epc:id:pgln:", cp12, func(cp, rest string) string {
		return "https://id.gs1.org/417/" + withCheck(cp+rest[:12-len(cp)])
	}),
	scheme("urn:epc:class:lgtin:", cp13+`\.`+epcChar+`{1,20}`, func(cp, rest string) string {
		return "https://id.gs1.org/01/" + gtinOf(cp, rest) + "/10/" + rest[14-len(cp):]
	}),
	scheme("urn:epc:idpat:sgtin:", cp13+`\.\*`, func(cp, rest string) string {
		return "https://id.gs1.org/01/" + gtinOf(cp, rest)
	}),
	scheme("urn:epc:idpat:grai:", cp12dots+`\.\*`, func(cp, rest string) string {
		return "https://id.gs1.org/8003/" + withCheck("0"+cp+rest[:12-len(cp)])
	}),
	scheme("urn:epc:idpat:gdti:", cp12dots+`\.\*`, func(cp, rest string) string {
		return "https://id.gs1.org/253/" + withCheck(cp+rest[:12-len(cp)])
	}),
	scheme("urn:epc:idpat:sgcn:", cp12dots+`\.\*`, func(cp, rest string) string {
		return "https://id.gs1.org/255/" + withCheck(cp+rest[:12-len(cp)])
	}),
	scheme("urn:epc:idpat:cpi:", cpAndReference(cpiChar, 30)+`\.\*`, func(cp, rest string) string {
		return "https://id.gs1.org/8010/" + cp + rest[:strings.LastIndexByte(rest, '.')]
	}),
	scheme("urn:epc:idpat:itip:", cp13+`\.\d{2}\.\d{2}\.\*`, func(cp, rest string) string {
		n := 14 - len(cp)
		return "https://id.gs1.org/8006/" + gtinOf(cp, rest) + rest[n:n+2] + rest[n+3:n+5]
	}),
	scheme("urn:epc:idpat:upui:", cp13+`\.\*`, func(cp, rest string) string {
		return "https://id.gs1.org/01/" + gtinOf(cp, rest)
	}),
}

var (
	anyDigitalLink = regexp.MustCompile(`^https?:(//((([^/?#]*)@)?([^/?#:]*)(:([^/?#]*))?))?((([^?#]*)(/(01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai)/)(\d{4}[^/]+)(/[^/]+/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?)|(/[A-Za-z_-]{10}$))`)
	canonicalHost  = regexp.MustCompile(`^https://id.gs1.org/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)/(\d{4}[^/]+)(/[^/]+/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?|^(/[A-Za-z_-]{10}$)`)
	keyPaths       = []string{"/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/", "/417/", "/8003/", "/8004/", "/8006/", "/8010/", "/8017/", "/8018/"}
	gtin14         = regexp.MustCompile(`^https://id.gs1.org/01/\d{14}`)
	gtin13         = regexp.MustCompile(`^https://id.gs1.org/01/\d{13}`)
	gtin12         = regexp.MustCompile(`^https://id.gs1.org/01/\d{12}`)
	gtin8          = regexp.MustCompile(`^https://id.gs1.org/01/\d{8}`)
	cpvLast        = regexp.MustCompile(`^https://id.gs1.org/(8006/\d{18}|01/\d{14})/22/` + dlChar + `{0,20}$`)
	cpvMiddle      = regexp.MustCompile(`^https://id.gs1.org/(8006/\d{18}|01/\d{14})/22/[\x2F\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20}$`)
	lotAndSerial   = regexp.MustCompile(`^https://id.gs1.org/(8006/\d{18}|01/\d{14})/10/` + dlChar + `{0,20}/21/` + dlChar + `{0,20}$`)
	validDL        = regexp.MustCompile(`^https://id.gs1.org/(` + strings.Join([]string{
		`00/\d{18}`,
		`01/\d{14}/21/` + dlChar + `{0,20}`,
		`01/\d{14}/10/` + dlChar + `{0,20}`,
		`01/\d{14}`,
		`01/\d{14}/235/` + dlChar + `{0,28}`,
		`253/\d{13}` + dlChar + `{0,17}`,
		`255/\d{13}\d{0,12}`,
		`401/` + dlChar + `{0,30}`,
		`402/\d{17}`,
		`414/\d{13}`,
		`414/\d{13}/254/` + dlChar + `{0,20}`,
		`417/\d{13}`,
		`8003/\d{14}` + dlChar + `{0,16}`,
		`8004/` + dlChar + `{0,30}`,
		`8006/\d{18}/21/` + dlChar + `{0,20}`,
		`8006/\d{18}/10/` + dlChar + `{0,20}`,
		`8006/\d{18}`,
		`8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}/8011/\d{0,12}`,
		`8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}`,
		`8017/\d{18}`,
		`8018/\d{18}`,
	}, "|") + `)$`)
)

var shortNameToAI = [][2]string{
	{"/gtin/", "/01/"}, {"/itip/", "/8006/"}, {"/cpid/", "/8010/"}, {"/gln/", "/414/"},
	{"/party/", "/417/"}, {"/gsrnp/", "/8017/"}, {"/gsrn/", "/8018/"}, {"/gcn/", "/255/"},
	{"/sscc/", "/00/"}, {"/gdti/", "/253/"}, {"/ginc/", "/401/"}, {"/gsin/", "/402/"},
	{"/grai/", "/8003/"}, {"/giai/", "/8004/"}, {"/cpv/", "/22/"}, {"/lot/", "/10/"}, {"/ser/", "/21/"},
}

// digitalLink returns the constrained canonical GS1 Digital Link URI for an
// EPC URI, EPC class or pattern URI or GS1 Digital Link URI, and false for
// anything else.
func digitalLink(uri string) (string, bool) {
	dot := strings.IndexByte(uri, '.')
	if dot < 0 {
		return "", false
	}
	for _, s := range epcSchemes {
		if strings.HasPrefix(uri, s.prefix) && s.pattern.MatchString(uri) {
			cp := uri[len(s.prefix):dot]
			return s.convert(cp, uri[dot+1:]), true
		}
	}
	if !anyDigitalLink.MatchString(uri) {
		return "", false
	}
	if q := strings.IndexByte(uri, '?'); q >= 0 {
		uri = uri[:q]
	}
	for _, r := range shortNameToAI {
		uri = strings.ReplaceAll(uri, r[0], r[1])
	}
	if !canonicalHost.MatchString(uri) {
		for _, p := range keyPaths {
			if i := strings.Index(uri, p); i >= 0 {
				uri = "https://id.gs1.org" + uri[i:]
				break
			}
		}
	}
	if !gtin14.MatchString(uri) {
		switch {
		case gtin13.MatchString(uri):
			uri = strings.ReplaceAll(uri, "/01/", "/01/0")
		case gtin12.MatchString(uri):
			uri = strings.ReplaceAll(uri, "/01/", "/01/00")
		case gtin8.MatchString(uri):
			uri = strings.ReplaceAll(uri, "/01/", "/01/000000")
		}
	}
	// The consumer product variant (22) is not part of the identifier.
	if cpvLast.MatchString(uri) {
		uri = uri[:strings.Index(uri, "/22/")]
	}
	if cpvMiddle.MatchString(uri) {
		i := strings.Index(uri, "/22/")
		rest := uri[i+4:]
		switch j := strings.IndexByte(rest, '/'); {
		case j >= 0:
			uri = uri[:i] + rest[j:]
		case rest != "":
			uri = uri[:i] + rest[len(rest)-1:] // Python's rest[-1:]
		default:
			uri = uri[:i]
		}
	}
	// A serial is finer than a lot: keep only the serial.
	if lotAndSerial.MatchString(uri) {
		i := strings.Index(uri, "/10/")
		rest := uri[i+4:]
		uri = uri[:i] + rest[strings.IndexByte(rest, '/'):]
	}
	if validDL.MatchString(uri) {
		return uri, true
	}
	return "", false
}
