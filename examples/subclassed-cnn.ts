// A model defined by subclassing, as Keras's `class SmallCnn(keras.Model)`: layers are
// fields, call() wires them; build() traces call() into the same graph Sequential and
// Functional models have.
//   npx strata summary examples/subclassed-cnn.ts
import { Conv2D, Dense, Flatten, MaxPooling2D, Model, type CallOptions, type SymbolicTensor } from 'strata';

class SmallCnn extends Model {
  conv = new Conv2D(32, [3, 3], { activation: 'relu' });
  pool = new MaxPooling2D([2, 2]);
  flatten = new Flatten();
  out = new Dense(10, { activation: 'softmax' });

  override call(inputs: SymbolicTensor, _options: CallOptions): SymbolicTensor {
    return this.out.apply(this.flatten.apply(this.pool.apply(this.conv.apply(inputs))));
  }
}

const model = new SmallCnn({ name: 'small_cnn' });
model.build([null, 28, 28, 1]);
model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });

export default model;
