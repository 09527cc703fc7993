// What a build says about the model it asks for: a deprecation or routing the catalogue knows of (at the
// start), and an answer that came from another model than the one requested (once per pair, as it happens).
import { CATALOGUE_AS_OF, DEFAULT_MODEL, lifecycle, modelInfo } from '../cost/models.js';

/** A warning for a model that is deprecated, routed or shut down on `today`; null for a current one. */
export function modelWarning(model: string, today: string): string | null {
  const l = lifecycle(model, today);
  const instead = (name: string | null) => `Set the rule's model to ${name ?? DEFAULT_MODEL}${name && name !== DEFAULT_MODEL ? ` (or ${DEFAULT_MODEL})` : ''} to choose what answers.`;
  switch (l.kind) {
    case 'current':
      return modelInfo(model)?.preview ? `${model} is a preview model: Google may change or remove it at short notice.` : null;
    case 'deprecated': {
      const then = l.routedTo ? `its requests are answered by ${l.routedTo}, billed at that model's prices` : 'requests for it fail';
      return `${model} is deprecated: Google shuts it down on ${l.on}; from then ${then} (ocrmake's model list of ${CATALOGUE_AS_OF}). ${instead(l.replacement)}`;
    }
    case 'routed':
      return `${model} was retired on ${l.since}: Google answers its requests with ${l.to}, billed at that model's prices, while outputs and fingerprints name ${model}. ${instead(l.to)}`;
    case 'shut-down':
      return `${model} was shut down on ${l.since} (ocrmake's model list of ${CATALOGUE_AS_OF}); requests for it fail. ${instead(l.replacement)}`;
  }
}

/** The warning when replies for `requested` came from `answered`. */
export function routingWarning(requested: string, answered: string, today: string): string {
  const l = lifecycle(requested, today);
  const why = l.kind === 'routed' && l.to === answered ? ` (Google routes ${requested} to it since ${l.since})` : '';
  return (
    `requests for ${requested} were answered by ${answered}${why}: outputs record both names (ocrmake explain shows them) and the cost ` +
    `is counted at ${answered}'s prices. Set the rule's model to ${answered} to ask for it by name, or to another current model.`
  );
}
