#!/usr/bin/env node
// The `strata` command. Strata's sources and users' model files are TypeScript; tsx compiles
// them on the fly, so there is no build step between editing a model and running it.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
