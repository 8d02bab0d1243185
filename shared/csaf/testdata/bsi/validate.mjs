// Runs BSI's CSAF 2.0 validator over the documents named on the command
// line and prints one JSON object: {file: [{name, kind, isValid, errors,
// warnings, infos}]}. kind is schema, mandatory, optional or informative.
//
// Left out: informative tests 6.3.6 and 6.3.7 (they fetch every URL in the
// document over the network) and 6.3.8 (spell check through a hunspell
// binary).
import { readFile } from 'node:fs/promises'
import validateStrict from '@secvisogram/csaf-validator-lib/validateStrict.js'
import { csaf_2_0_strict } from '@secvisogram/csaf-validator-lib/schemaTests.js'
import * as mandatory from '@secvisogram/csaf-validator-lib/mandatoryTests.js'
import * as optional from '@secvisogram/csaf-validator-lib/optionalTests.js'
import * as informative from '@secvisogram/csaf-validator-lib/informativeTests.js'

const skipped = new Set(['informativeTest_6_3_6', 'informativeTest_6_3_7', 'informativeTest_6_3_8'])
const kinds = [
  ['schema', [csaf_2_0_strict]],
  ['mandatory', Object.values(mandatory)],
  ['optional', Object.values(optional)],
  ['informative', Object.values(informative).filter((t) => !skipped.has(t.name))],
]

const out = {}
for (const file of process.argv.slice(2)) {
  const doc = JSON.parse(await readFile(file, 'utf8'))
  const results = []
  for (const [kind, tests] of kinds) {
    const res = await validateStrict(tests, doc)
    for (const t of res.tests) {
      results.push({ name: t.name, kind, isValid: t.isValid, errors: t.errors, warnings: t.warnings, infos: t.infos })
    }
  }
  out[file] = results
}
process.stdout.write(JSON.stringify(out))
