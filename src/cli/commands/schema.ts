// `vioctl schema`: prints the JSON Schema of scenario files; `vioctl schema >
// schema/scenario.schema.json` refreshes the committed copy (a test checks it is fresh).
import { scenarioSchema } from '../scenario-schema.js';

export function schemaCommand(): number {
  process.stdout.write(JSON.stringify(scenarioSchema(), null, 2) + '\n');
  return 0;
}
