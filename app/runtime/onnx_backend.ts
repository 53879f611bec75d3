// model.predict() on onnxruntime-node: the model is translated to ONNX once, and the session
// is kept until the model's weights change (setWeights, training, loading).
import type { NdArray } from '../data/ndarray.ts';
import { weightsGeneration, type ArrayData, type InferenceBackend, type Model, type PredictOptions } from '../model/index.ts';
import { exportOnnx } from '../translate/to_onnx.ts';
import type { OnnxSession } from './session.ts';

interface CachedSession {
  session: OnnxSession;
  weightsVersion: number;
}

export class OnnxRuntimeBackend implements InferenceBackend {
  readonly name = 'onnxruntime';
  /** How many sessions were created (tests use it to see that sessions are reused). */
  sessionsCreated = 0;
  private readonly sessions = new WeakMap<Model, CachedSession>();

  async predict(model: Model, inputs: ArrayData[], options: PredictOptions): Promise<ArrayData[]> {
    const session = await this.sessionFor(model);
    const feeds: Record<string, NdArray> = {};
    session.inputs.forEach((spec, i) => (feeds[spec.name] = inputs[i] as NdArray));
    const outputs = await session.run(feeds, options.batchSize === undefined ? {} : { batchSize: options.batchSize });
    return session.outputs.map((spec) => outputs[spec.name] as ArrayData);
  }

  private async sessionFor(model: Model): Promise<OnnxSession> {
    const version = weightsGeneration(model);
    const cached = this.sessions.get(model);
    if (cached && cached.weightsVersion === version) return cached.session;
    if (cached) await cached.session.release();
    const { OnnxSession } = await import('./session.ts'); // onnxruntime loads only when first needed
    const session = await OnnxSession.create(exportOnnx(model), { name: model.name });
    this.sessionsCreated++;
    this.sessions.set(model, { session, weightsVersion: version });
    return session;
  }
}
