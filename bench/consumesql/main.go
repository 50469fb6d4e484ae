// Command consumesql prints the app's consume transaction as a pgbench
// script: the same statements db.ConsumePipelined sends, in one pipeline
// (one implicit transaction),
// with the batch id given (a literal uuid or a pgbench :variable).
package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"batchtrack/db"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: consumesql BATCH_ID|:var")
		os.Exit(2)
	}
	id := os.Args[1]
	if !strings.HasPrefix(id, ":") {
		id = "'" + id + "'"
	}
	// Parameters in the generated code's order ($1 idempotency caller, $2
	// key, $3 quantity, $4 batch, $5 allow pending...); no key, as wrk's
	// plain consumes send none. The lock statement has only the batch, as $1.
	consumeArgs := map[string]string{"$1": "NULL", "$2": "NULL", "$3": "0.001", "$4": id + "::uuid", "$5": "false",
		"$6": "current_date", "$7": "NULL", "$8": "'+00:00'", "$9": "'pgbench'", "$10": "''", "$11": "NULL"}
	lockArgs := map[string]string{"$1": id + "::uuid"}
	// pgbench reads :name as a variable even inside a string literal
	// ('urn:uuid:'), so a literal's colons are spelt chr(58).
	literal := regexp.MustCompile(`'[^']*'`)
	colons := func(sql string) string {
		return literal.ReplaceAllStringFunc(sql, func(l string) string {
			if !strings.Contains(l, ":") {
				return l
			}
			return "(" + strings.ReplaceAll(l, ":", "' || chr(58) || '") + ")"
		})
	}
	fill := func(sql string, args map[string]string) string {
		sql = regexp.MustCompile(`(?m)--.*$`).ReplaceAllString(sql, "")
		sql = colons(sql)
		sql = regexp.MustCompile(`\$[0-9]+`).ReplaceAllStringFunc(sql, func(p string) string { return args[p] })
		return strings.Join(strings.Fields(sql), " ")
	}
	fmt.Println(`\startpipeline`)
	fmt.Println("SELECT set_config('lock_timeout', '2000ms', true), set_config('plan_cache_mode', 'force_generic_plan', true);")
	fmt.Println(fill(db.LockBatchForConsumeSQL, lockArgs) + ";")
	fmt.Println(fill(db.ConsumeBatchSQL, consumeArgs) + ";")
	fmt.Println(`\endpipeline`)
}
