// What "New" starts from: the seed models and a few well-known small networks, each an
// example file in examples/ (the form every model file has), loaded in the engine process as
// the CLI loads a model file. Each load gives a fresh model, with freshly initialised weights.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TemplateInfo } from '../contract/api.ts';
import { ValueError } from '../model/errors.ts';
import type { Model } from '../model/model.ts';

/** Strata's seed models, shown on the start page. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

interface Template {
  id: string;
  file: string;
  title: string;
  description: string;
}

export const TEMPLATES: readonly Template[] = [
  { id: 'seed-cnn', file: 'product-image-classifier.ts', title: 'Seed CNN', description: "Keras's Sequential example: 64x64 RGB images, two convolutions, 10 classes." },
  { id: 'purchase-predictor', file: 'purchase-predictor.ts', title: 'Purchase predictor', description: "Keras's Functional example: image and text features in two branches, joined." },
  { id: 'lenet5', file: 'lenet5.ts', title: 'LeNet-5', description: 'LeCun et al. (1998): two convolutions with average pooling, three dense layers; 28x28 grayscale.' },
  { id: 'resnet-block', file: 'resnet-block.ts', title: 'Small ResNet block', description: 'A stem convolution and one residual block (two convolutions, an Add), for 32x32 RGB images.' },
  { id: 'mlp', file: 'mlp.ts', title: 'MLP', description: 'Flatten, one hidden Dense layer, Dropout, 10 classes; 28x28 grayscale.' },
];

/** A template's model, freshly built. */
export async function templateModel(id: string): Promise<{ template: Template; model: Model; file: string }> {
  const template = TEMPLATES.find((candidate) => candidate.id === id);
  if (!template) throw new ValueError(`no template "${id}"; templates: ${TEMPLATES.map((t) => t.id).join(', ')}`);
  // Imported here: the workbench imports this module for EXAMPLES_DIR and needs no model loader.
  const { loadModel } = await import('../cli/load_model.ts');
  const file = path.join(EXAMPLES_DIR, template.file);
  return { template, model: await loadModel(file), file };
}

let described: Promise<TemplateInfo[]> | undefined;

/** Every template with its summary (built once per process: the files do not change while it runs). */
export function templateInfos(): Promise<TemplateInfo[]> {
  described ??= Promise.all(
    TEMPLATES.map(async ({ id }) => {
      const { template, model } = await templateModel(id);
      return { id, title: template.title, description: template.description, summary: model.summary(), params: model.countParams() };
    }),
  );
  described.catch(() => (described = undefined));
  return described;
}
