// The graph the views draw, whatever it came from (a Keras-style layer graph or an ONNX
// graph): boxes with a title, a name and rows of label/value text, and edges between them.
// Plain data, so the layout worker, the SVG renderer and the tests share it.

/** Decides a node's header colour (Netron's palette: layers blue, activations red, ...). */
export type NodeCategory = 'layer' | 'activation' | 'pool' | 'normalization' | 'dropout' | 'shape' | 'tensor' | 'merge' | 'constant' | 'io' | 'other';

export interface NodeRow {
  label: string;
  value: string;
}

export interface ViewNode {
  /** Unique in the graph; what selection and search report. */
  id: string;
  /** The layer's class or the ONNX op type, in the header. */
  title: string;
  /** The layer or node name ('' when the file gives none): what find and screen readers use. */
  name: string;
  /** Whether the header shows the name (Keras layer names read well; ONNX node names are often long paths). */
  showName: boolean;
  category: NodeCategory;
  rows: NodeRow[];
  /** Other words search should find the node by (ONNX value and initializer names). */
  keywords?: string[];
}

export interface ViewEdge {
  id: string;
  from: string;
  to: string;
  /** Text drawn beside the edge (the tensor's shape); '' for none. */
  label: string;
}

export interface ViewGraph {
  nodes: ViewNode[];
  edges: ViewEdge[];
}

export interface Point {
  x: number;
  y: number;
}

/** A box's size and where its texts go (geometry.ts). */
export interface NodeGeometry {
  width: number;
  height: number;
  /** x of the name in the header, from the box's left. */
  nameX: number;
  /** x of the row values, from the box's left. */
  valueX: number;
}

export interface PlacedNode extends Point {
  node: ViewNode;
  geometry: NodeGeometry;
}

/** Text beside an edge (its tensor's shape), anchored at its baseline's start. */
export interface EdgeLabel extends Point {
  text: string;
}

export interface PlacedEdge {
  edge: ViewEdge;
  /** From the source's border to the target's border, bends in between. */
  points: Point[];
  label: EdgeLabel | null;
}

export interface GraphLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}
