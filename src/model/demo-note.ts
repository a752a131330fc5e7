// The words every output uses for a demo model trained on the synthetic line (provenance kind
// synthetic-trained): the log at start, infer, eval, calibrate, doctor, the dashboard's banner and
// detail pages, and events and results (model.training.note). The note itself comes from the
// training record (models/train/train.py), through the manifest.
import type { Manifest } from './manifest.js';

/** The note of a synthetic-trained bundle, or undefined for any other kind. */
export function demoNoteOf(provenance: Manifest['provenance']): string | undefined {
  return provenance.kind === 'synthetic-trained' ? provenance.training?.note : undefined;
}

/** "Demo model: <note>", as the dashboard's banner and the CLIs say it. */
export function demoModelLine(note: string): string {
  return `Demo model: ${note}`;
}

/** One line on what a synthetic-trained bundle was trained on (kinds, seeds, steps, time). */
export function trainingSummary(t: NonNullable<Manifest['provenance']['training']>): string {
  return (
    `trained on ${t.kinds.join(', ')} (synth seeds ${t.trainSeeds.join(', ')}), ` +
    `${t.steps} steps in ${Math.round(t.seconds.training)} s`
  );
}
