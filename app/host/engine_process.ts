// The engine process: where models are loaded (a .ts model file's code runs here, not in the
// app's main process), ONNX files parsed, weights' statistics computed and exports made, and
// where the native engine trains (training.ts). It serves the contract's document methods
// (engine_api.ts) over its channel to the app; a crash here (SIGSEGV in native code, an
// abort, running out of memory) ends this process only, and the supervisor reports it.
//
// Started by forkEngine() (Node, with tsx) or Electron's utilityProcess.fork.
import { serve } from '../contract/rpc.ts';
import { DocumentStore } from './documents.ts';
import { engineApi, withCliErrors } from './engine_api.ts';
import { parentChannel } from './engine_channel.ts';
import { TrainingService } from './training.ts';

const documents = new DocumentStore();
// Training's events go out on the same channel, once serve() has given the way to send them.
let emit: ReturnType<typeof serve> | null = null;
const training = new TrainingService(documents, (event) => emit?.('training', event));
emit = serve(parentChannel(), withCliErrors(engineApi(documents, training)));
// Node's fork: the app has gone, nothing is left to serve.
process.on('disconnect', () => process.exit(0));
emit('engineState', { state: 'ready' });
