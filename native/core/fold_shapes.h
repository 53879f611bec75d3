// fold_shapes.h: constant folding of integer shape computations at load time.
#pragma once
#include "graph.h"

namespace strata {

// Replaces each node of ConstantOfShape (an int64 fill), Concat, Reshape, Slice, Transpose,
// Cast, Squeeze, Unsqueeze or Identity whose inputs are all int64 initializers (Constants
// included) by an initializer holding its result, in graph order, so chains fold whole. Such
// values are pads, shapes and axes that kernels read when they plan. Nodes on float data, and
// those whose outputs are graph outputs, are left as they are.
void fold_integer_constants(Graph& g);

}  // namespace strata
