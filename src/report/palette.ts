// One look per state, shared by the HTML report and the graph renderers. Colours are the Okabe–Ito palette
// (distinguishable with the common colour-vision deficiencies); a mark (letter, hatch, dot, outline) makes
// sure colour is never the only cue.
import type { State } from '../plan/types.js';

export interface StateLook {
  /** Fill colour. */
  fill: string;
  /** Border colour (also the outline of hollow states). */
  stroke: string;
  /** Text colour on `fill`. */
  text: string;
  /** The non-colour cue, for the legend and the graph labels. */
  mark: 'none' | 'corner' | 'outline' | 'dot' | 'letter' | 'hatch';
  /** A letter shown in the cell for `mark: 'letter'`. */
  letter: string;
  /** One line for legends and tooltips. */
  meaning: string;
}

export const LOOK: Record<State, StateLook> = {
  fresh: { fill: '#009E73', stroke: '#00704f', text: '#ffffff', mark: 'none', letter: '', meaning: 'the output is what ocrmake wrote for the current request' },
  edited: { fill: '#56B4E9', stroke: '#2f8fc4', text: '#0b2533', mark: 'corner', letter: '', meaning: 'a person edited the output: kept, treated as fresh' },
  stale: { fill: '#E69F00', stroke: '#b37b00', text: '#2b1d00', mark: 'none', letter: '', meaning: 'will be built (see its reasons)' },
  waiting: { fill: '#FFF7E3', stroke: '#E69F00', text: '#5c4000', mark: 'outline', letter: '', meaning: 'its predecessor is being rebuilt; may turn fresh with no call' },
  inflight: { fill: '#0072B2', stroke: '#00527f', text: '#ffffff', mark: 'dot', letter: '', meaning: 'in a running batch with its current request' },
  failed: { fill: '#D55E00', stroke: '#9c4500', text: '#ffffff', mark: 'letter', letter: 'F', meaning: 'the last attempt failed; it will be retried' },
  dead: { fill: '#262626', stroke: '#000000', text: '#ffffff', mark: 'letter', letter: 'D', meaning: 'failed maxAttempts times; a changed request (or ocrmake retry) gives a new chance' },
  blocked: { fill: '#CC79A7', stroke: '#9e4f7c', text: '#2e0d1f', mark: 'hatch', letter: '', meaning: 'its predecessor is dead or missing its input' },
  'missing-input': { fill: '#8C8C8C', stroke: '#5e5e5e', text: '#ffffff', mark: 'letter', letter: 'M', meaning: 'no image, two images, or an image that cannot be read' },
};
