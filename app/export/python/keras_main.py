

def load_weights(model, path=WEIGHTS_FILE):
    """Sets each layer's weights from the .npz Strata wrote (arrays named "<layer>/<weight>")."""
    arrays = np.load(path)
    for layer_name, weight_names in WEIGHTS.items():
        model.get_layer(layer_name).set_weights([arrays[f'{layer_name}/{name}'] for name in weight_names])


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--x', nargs='+', help='one .npy file per model input: ' + ', '.join(name for name, _ in INPUTS))
    parser.add_argument('--y', nargs='+', help='one .npy file per model output: ' + ', '.join(OUTPUTS))
    parser.add_argument('--data', help='an .npz holding x and y, or x_train and y_train (one input and output), or x_<input> and y_<output>')
    parser.add_argument('--epochs', type=int, default=EPOCHS)
    parser.add_argument('--batch-size', type=int, default=BATCH_SIZE, help='the global batch size, split over the replicas (default %(default)s)')
    parser.add_argument('--validation-split', type=float, default=0.0)
    parser.add_argument('--no-shuffle', dest='shuffle', action='store_false', help='keep the data in order')
    parser.add_argument('--strategy', choices=['default', 'mirrored'], default='default',
                        help='mirrored: tf.distribute.MirroredStrategy, one replica per local GPU')
    parser.add_argument('--fresh', action='store_true', help="start from the layers' initializers instead of weights.npz")
    parser.add_argument('--out', default='trained.keras', help='where to save the trained model (default %(default)s)')
    return parser.parse_args()


def main():
    args = parse_args()
    strategy = tf.distribute.MirroredStrategy() if args.strategy == 'mirrored' else tf.distribute.get_strategy()
    print(f'{strategy.num_replicas_in_sync} replica(s)')
    with strategy.scope():
        model = build_model()
        if not args.fresh:
            load_weights(model)
        compile_model(model)
    inputs, targets = load_arrays(args.data, args.x, args.y, [name for name, _ in INPUTS], OUTPUTS)
    x = [model_input(array, dtype) for array, (_, dtype) in zip(inputs, INPUTS)]
    model.fit(x if len(x) > 1 else x[0], targets if len(targets) > 1 else targets[0], batch_size=args.batch_size, epochs=args.epochs,
              shuffle=args.shuffle, validation_split=args.validation_split)
    model.save(args.out)
    print(f'saved {args.out}')


if __name__ == '__main__':
    main()
