// What every view's Shell shows around the view's own parts: the app's toolbar buttons, the
// banners and the app's side of the status bar (App.svelte provides them, Shell draws them).
import { getContext, setContext, type Snippet } from 'svelte';

export interface Frame {
  appTools: Snippet;
  banners: Snippet;
  appStatus: Snippet;
}

const KEY = Symbol('strata-frame');

export const provideFrame = (frame: Frame) => setContext(KEY, frame);
export const useFrame = () => getContext<Frame | undefined>(KEY);
