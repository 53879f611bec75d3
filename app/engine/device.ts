// The engine's device for --device cpu|cuda|auto: cuda where it is asked for and a usable GPU
// is there (else an error saying why), auto the GPU when one is usable and the CPU otherwise,
// with one line saying why where this build has the CUDA backend (no GPU, a driver too old).
import { EngineSetupError, type NativeEngine } from './binding.ts';

export type DeviceRequest = 'cpu' | 'cuda' | 'auto';

export interface DeviceChoice {
  backend: 'cpu' | 'cuda';
  /** For the user: why auto trains on the CPU in a build with the CUDA backend; null otherwise. */
  note: string | null;
}

/** loadEngine is called only when the request needs it (cpu does not load the addon). */
export function chooseDevice(request: DeviceRequest, loadEngine: () => Pick<NativeEngine, 'backends' | 'cudaStatus'>): DeviceChoice {
  if (request === 'cpu') return { backend: 'cpu', note: null };
  const engine = loadEngine();
  const status = engine.cudaStatus();
  if (status.available) return { backend: 'cuda', note: null };
  if (request === 'cuda') throw new EngineSetupError(`--device cuda: ${status.reason}`);
  return { backend: 'cpu', note: engine.backends().includes('cuda') ? `training on the CPU: ${status.reason}` : null };
}
