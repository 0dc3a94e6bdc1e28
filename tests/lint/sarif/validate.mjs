// Validates the SARIF log on stdin against the SARIF 2.1.0 JSON schema
// (draft-04), printing each violation; exit status 1 when there is one.
import { createRequire } from 'module';
import { readFileSync } from 'fs';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');

const ajv = new Ajv({ schemaId: 'id', allErrors: true, logger: false });
ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-04.json'));
const validate = ajv.compile(schema);
const log = JSON.parse(readFileSync(0, 'utf8'));
if (!validate(log)) {
  for (const e of validate.errors) console.error(`sarif: ${e.dataPath || '/'} ${e.message}`);
  process.exit(1);
}
console.log(`sarif: valid (${log.runs[0].results.length} results, ${schema.title})`);
