// The renderer's summary view, compiled with Svelte's compiler and rendered on the server:
// the same rows and totals as Keras's summary() text.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compile } from 'svelte/compiler';
import { render } from 'svelte/server';
import type { Component } from 'svelte';
import { summaryData, type SummaryData } from '../../app/model/index.ts';
import productImageClassifier from '../../examples/product-image-classifier.ts';
import purchasePredictor from '../../examples/purchase-predictor.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Compiles the component for the server into build/test-renderer/components/: inside the
 * project, so 'svelte' resolves, and as deep as renderer/src/components/, so the component's
 * relative imports of app/ stay valid.
 */
async function loadComponent() {
  const file = path.join(root, 'renderer/src/components/ModelSummary.svelte');
  const { js } = compile(readFileSync(file, 'utf8'), { generate: 'server', filename: file });
  const out = path.join(root, 'build/test-renderer/components/ModelSummary.ts');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, js.code);
  return ((await import(pathToFileURL(out).href)) as { default: Component<{ summary: SummaryData }> }).default;
}

test('the summary view shows Keras\'s rows and totals for both seed models', async () => {
  const ModelSummary = await loadComponent();
  const sequential = render(ModelSummary, { props: { summary: summaryData(productImageClassifier) } }).body;
  assert.match(sequential, /Model: "product_image_classifier_sequential"/);
  assert.match(sequential, /dense1 <span class="type[^"]*">\(Dense\)<\/span><\/td>\s*<td class="shape[^"]*">\(None, 64\)<\/td>\s*<td class="number[^"]*">802,880<\/td>/);
  assert.match(sequential, /822,922 \(3\.14 MB\)/);
  assert.ok(!sequential.includes('Connected to'));
  const functional = render(ModelSummary, { props: { summary: summaryData(purchasePredictor) } }).body;
  assert.match(functional, /Connected to/);
  assert.match(functional, /dense_image_2\[0\]\[0\], dense_text_2\[0\]\[0\]/);
  assert.match(functional, /799,233 \(3\.05 MB\)/);
  assert.equal((functional.match(/<tr>/g) ?? []).length, 1 + 12);
});
