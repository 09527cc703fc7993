// The ocrfile equivalent to an original pipeline's config.yaml: its fixed layout under its folders, the
// course-catalog rule with the original's prompt, model and generation config, its filters and limits.
import type { SeedConfig } from './config-yaml.js';

const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const under = (folder: string, rest: string) => (folder === '.' ? rest : `${folder}/${rest}`);

export function seedOcrfile(c: SeedConfig, ruleImport: string): string {
  const filters: string[] = [];
  if (c.states) filters.push(`state: [${c.states.map(q).join(', ')}]`);
  if (c.years) filters.push(`year: { from: ${c.years.from}, to: ${c.years.to} }`);
  const gc = Object.entries(c.generationConfig).map(([k, v]) => `${k}: ${v}`).join(', ');
  return `// Written by ocrmake import-seed from config.yaml, the settings of the original course-catalog pipeline.
// Each line says which setting it comes from. README "Coming from the original pipeline" says what else
// was imported (outputs, failure counts and logs) and what differs.
import { defineOcrfile } from 'ocrmake';
import pageOcr from ${q(ruleImport)};

export default defineOcrfile({
  pages: {
    allowList: ${q(under(c.labels, '{state}/{school}/{year}/{page}.json'))}, // paths.label_source_dir
    image: ${q(under(c.images, '{state}/{school}/{year}/{page}.jpg'))}, // paths.image_source_dir
  },
  target: ${q(under(c.outputs, '{state}/{school}/{year}/{page}.json'))}, // paths.output_dir
  rule: {
    ...pageOcr, // the original's output model and its context for the next page
    prompt: ${q(c.prompt)}, // prompt: registry_dir/name/template_file
    model: ${q(c.model)}, // model.name
    thinking: undefined, // the original sent no thinking settings: the model's own default
    generationConfig: ${gc ? `{ ${gc} }` : '{}'}, // model.generation_config
  },${filters.length ? `\n  filters: { ${filters.join(', ')} }, // filters` : ''}
  engine: 'gemini-batch', // the original used the Batch API only
  execution: { maxAttempts: ${c.maxAttempts}, batchSize: ${c.batchSize}, maxConcurrentBatches: ${c.maxConcurrentBatches}, pollSeconds: ${c.pollSeconds} }, // execution, batch.poll_interval_seconds
});
`;
}
