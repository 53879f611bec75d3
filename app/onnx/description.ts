// What `strata inspect` and the app's Inspect view show of an ONNX model: plain,
// JSON-serializable types with no Node or DOM dependency, so the views and the contract
// between the processes share them. inspect.ts fills them from a file.

/** A dimension: a size, a symbolic name, or null when the model leaves it unknown. */
export type Dim = number | string | null;

export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

export interface ValueDescription {
  name: string;
  /** Element type of a tensor ('float32'), or a composed type ('sequence<float32>', 'map<int64,float32>'). */
  type: string;
  /** Tensor dims; null when the rank is unknown or the value is not a tensor. */
  shape: Dim[] | null;
  docString?: string;
}

export interface TensorSummary {
  name: string;
  type: string;
  shape: number[];
  elements: number;
  bytes: number;
  /** The first few elements, where they are stored in the model and readable. */
  values?: (number | string | boolean)[];
  external?: ExternalDataReference;
  /** Set when the dims and the stored data cannot both be right (tensor.ts's tensorProblem): elements and bytes are then not sizes. */
  invalid?: string;
}

export interface ExternalDataReference {
  tensor: string;
  location: string;
  offset: number | null;
  length: number | null;
  /** Whether the file exists beside the model; null when the model was not read from a file, or the location leads out of its folder. */
  exists: boolean | null;
  /** The location is absolute or leads out of the model's folder: nothing reads it. */
  outside?: boolean;
}

export interface AttributeDescription {
  name: string;
  /** ONNX's AttributeType name: 'INT', 'FLOATS', 'TENSOR', 'GRAPH', ... */
  type: string;
  value: JSONValue;
  /** Set in functions: the attribute takes the value of the caller's attribute of this name. */
  refAttrName?: string;
}

export interface NodeDescription {
  name: string;
  opType: string;
  /** '' for the default ONNX operator set. */
  domain: string;
  /** Input names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: AttributeDescription[];
  docString?: string;
}

export interface GraphDescription {
  name: string;
  docString?: string;
  /** Graph inputs that are fed at run time (inputs that are also initializers are left out). */
  inputs: ValueDescription[];
  outputs: ValueDescription[];
  nodes: NodeDescription[];
  initializers: TensorSummary[];
  sparseInitializers: TensorSummary[];
  valueInfo: ValueDescription[];
}

export interface OperatorUse {
  domain: string;
  opType: string;
  count: number;
  /** In a domain of the ONNX standard ('', 'ai.onnx', 'ai.onnx.ml', ...). */
  standard: boolean;
  /** Defined by a FunctionProto inside the model. */
  localFunction: boolean;
}

export interface FunctionDescription {
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: string[];
  opsetImports: { domain: string; version: number | string }[];
  nodes: NodeDescription[];
}

export interface ModelDescription {
  file: string | null;
  fileBytes: number;
  irVersion: number | string;
  producer: { name: string; version: string };
  domain: string;
  modelVersion: number | string | null;
  docString: string;
  opsetImports: { domain: string; version: number | string }[];
  graph: GraphDescription;
  functions: FunctionDescription[];
  metadata: { key: string; value: string }[];
  externalData: ExternalDataReference[];
  /** Every operator used, in the main graph, its subgraphs and functions, most used first. */
  operators: OperatorUse[];
}
